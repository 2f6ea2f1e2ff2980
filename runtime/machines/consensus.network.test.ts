/**
 * Whole networks of consensus machines on one virtual clock (see consensus.harness.ts): they agree
 * on one chain, rotate the proposer by power, survive a silent proposer and a partition, change
 * validator set at an epoch boundary, and replay exactly from a seed.
 */
import { describe, expect, it } from "vitest"
import { blockHash } from "../core/consensus/block.ts"
import { proposer } from "../core/consensus/proposer.ts"
import { ZERO_HASH } from "../core/consensus/types.ts"
import type { ValidatorSet } from "../core/consensus/validator-set.ts"
import { type SimNet, SimNet as Net, type SimNode } from "../../sim/harness/consensus.ts"

/** Run until every node of `nodes` has decided `height` (or the time limit passes). */
const runTo = (net: SimNet, height: number, nodes: readonly SimNode[] = net.honestNodes(), limit = 120_000) => {
  net.run(limit, () => nodes.every((n) => n.decidedHeight >= height))
  return net
}

/** The power behind a decision's precommits under `set`. */
const signedPower = (set: ValidatorSet, precommits: readonly { validator: string }[]) =>
  [...new Set(precommits.map((v) => v.validator))].reduce((s, a) => s + set.power(a), 0n)

/** Every honest node holds the same chain up to `height`, linked by parent hashes, each block with a valid certificate. */
const expectOneChain = (net: SimNet, height: number) => {
  expect(net.safetyViolations).toEqual([])
  const [first, ...rest] = net.honestNodes()
  let parent = ZERO_HASH
  for (let h = 1; h <= height; h++) {
    const entry = first!.chain.get(h)!
    expect(entry, `height ${h}`).toBeDefined()
    expect(entry.block.height).toBe(h)
    expect(entry.block.parentHash).toBe(parent)
    const set = net.validatorsAt(h)
    expect(signedPower(set, entry.precommits)).toBeGreaterThanOrEqual(set.quorum)
    expect(entry.precommits.every((v) => v.blockHash === blockHash(entry.block) && v.type === "precommit")).toBe(true)
    for (const n of rest) expect(blockHash(n.chain.get(h)!.block), `${n.name} at ${h}`).toBe(blockHash(entry.block))
    parent = blockHash(entry.block)
  }
}

describe("consensus network", () => {
  it("4 honest validators commit 20 heights, all the same blocks", () => {
    const net = runTo(new Net({ seed: 1, powers: [1n, 1n, 1n, 1n] }).start(), 20)
    expect(net.honestNodes().map((n) => n.decidedHeight >= 20)).toEqual([true, true, true, true])
    expectOneChain(net, 20)
  })

  it("rotates the proposer over heights in proportion to power", () => {
    const powers = [1n, 2n, 3n, 4n]
    const net = runTo(new Net({ seed: 2, powers }).start(), 40)
    expectOneChain(net, 40)
    const set = net.validatorsAt(1)
    const counts = new Map<string, number>()
    for (let h = 1; h <= 40; h++) {
      const { block, precommits } = net.nodes[0]!.chain.get(h)!
      // Blocks decided in round 0 were proposed by the height's round-0 proposer.
      if (precommits[0]!.round === 0) expect(block.proposer).toBe(proposer(set, h, 0))
      counts.set(block.proposer, (counts.get(block.proposer) ?? 0) + 1)
    }
    net.nodes.forEach((n, i) => {
      const expected = (40 * Number(powers[i]!)) / 10
      expect(Math.abs((counts.get(n.address) ?? 0) - expected), `${n.name}`).toBeLessThanOrEqual(2)
    })
  })

  it("moves past a silent proposer by a round change and still commits", () => {
    const net = new Net({ seed: 3, powers: [1n, 1n, 1n, 1n], silent: [2] }).start()
    const honest = net.nodes.filter((n) => !n.silent)
    runTo(net, 12, honest)
    const set = net.validatorsAt(1)
    const node = honest[0]!
    let skipped = 0
    for (let h = 1; h <= 12; h++) {
      const round = node.chain.get(h)!.precommits[0]!.round
      if (proposer(set, h, 0) === net.nodes[2]!.address) {
        expect(round, `height ${h}`).toBeGreaterThanOrEqual(1)
        skipped++
      }
      expect(node.chain.get(h)!.block.proposer).not.toBe(net.nodes[2]!.address)
    }
    expect(skipped).toBeGreaterThan(0)
    for (const n of honest.slice(1)) for (let h = 1; h <= 12; h++) expect(blockHash(n.chain.get(h)!.block)).toBe(blockHash(node.chain.get(h)!.block))
  })

  it("a partitioned minority catches up through commit certificates after the heal", () => {
    const net = new Net({ seed: 4, powers: [1n, 1n, 1n, 1n], partition: [[0], [1, 2, 3]], healAt: 3_000 }).start()
    net.run(3_000)
    const behind = net.nodes[0]!.decidedHeight
    const ahead = Math.min(...net.nodes.slice(1).map((n) => n.decidedHeight))
    expect(ahead).toBeGreaterThan(behind + 3)
    runTo(net, ahead + 2)
    expectOneChain(net, ahead + 2)
  })

  it("switches to a new validator set at an epoch boundary", () => {
    const net = new Net({ seed: 5, powers: [1n, 1n, 1n, 1n], nextSet: { at: 6, powers: [5n, 1n, 1n, 1n] } }).start()
    runTo(net, 14)
    expectOneChain(net, 14)
    const next = net.validatorsAt(6)
    expect(next.startHeight).toBe(6)
    const byV0 = [...Array(9).keys()].map((i) => net.nodes[1]!.chain.get(6 + i)!.block.proposer).filter((a) => a === net.nodes[0]!.address)
    expect(byV0.length).toBeGreaterThanOrEqual(4) // 5/8 of the power proposes about 5/8 of the blocks
  })

  it("replays bit for bit from its seed", () => {
    const once = (seed: number) => {
      const net = runTo(new Net({ seed, powers: [1n, 2n, 3n, 1n], drop: { num: 1, den: 5 }, healAt: 2_000, byzantine: [3] }).start(), 8)
      return { time: net.scheduler.now, messages: net.messages, chain: [...net.nodes[0]!.chain.values()].map((e) => blockHash(e.block)) }
    }
    const a = once(6)
    expect(once(6)).toEqual(a)
    expect(once(7)).not.toEqual(a)
  })

  it("decides exactly as with one event per vote when only threshold events reach the machine", () => {
    // Same seed, same network: counting votes at the node and telling the machine only of crossed
    // thresholds (core/consensus/intake.ts) must not change a single decision, its time, or the
    // evidence reported — equivocators, loss and a partition included.
    const once = (seed: number, thresholdEvents: boolean) => {
      const net = new Net({
        seed, powers: [1n, 2n, 3n, 1n, 2n], drop: { num: 1, den: 6 }, healAt: 3_000, partition: [[0, 1], [2, 3, 4]], byzantine: [3], thresholdEvents,
      }).start()
      net.run(60_000, () => net.honestNodes().every((n) => n.decidedHeight >= 8))
      return {
        summary: {
          time: net.scheduler.now, messages: net.messages,
          chains: net.nodes.map((n) => [...n.chain.entries()].map(([h, e]) => `${h}:${blockHash(e.block)}:${e.precommits.length}`)),
          evidence: net.nodes.map((n) => n.evidence.length), violations: net.safetyViolations,
        },
        events: net.machineEvents,
      }
    }
    for (const seed of [1, 2, 3]) {
      const perVote = once(seed, false)
      const threshold = once(seed, true)
      expect(threshold.summary, `seed ${seed}`).toEqual(perVote.summary)
      expect(perVote.summary.chains[0]!.length).toBeGreaterThanOrEqual(8)
      expect(threshold.events, `seed ${seed}: ${threshold.events} events against ${perVote.events}`).toBeLessThan(perVote.events / 2)
    }
  })
})

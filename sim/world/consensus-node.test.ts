/**
 * The consensus node over the simulated backends (same code as a real node, virtual time): evidence
 * submitted from outside goes into a block and slashes; a proposer never proposes a block it would
 * itself refuse; a decided block that does not execute halts the node with a reason naming the
 * height instead of throwing out of the machine; the TUI's per-block telemetry is there.
 */
import { describe, expect, it } from "vitest"
import { duplicateVoteEvidence } from "../../runtime/core/consensus/evidence.ts"
import { signVote } from "../../runtime/core/consensus/signing.ts"
import { decodeMessage } from "../../runtime/core/consensus/codec.ts"
import { blockKey } from "../../runtime/core/consensus/store-keys.ts"
import type { Vote } from "../../runtime/core/consensus/types.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { simPrivateKey } from "../adapters/keys.ts"
import { parseScenario } from "../scenario/load.ts"
import { ConsensusWorld } from "./world.ts"

const SEED = 3
const scenario = (validators: number, params = "") => parseScenario(
  `name: node-test\nnetwork:\n  validators: ${validators}\n  stake: 1000\nuntil: { height: 30 }\n${params}`, "node-test.yaml",
)

const world = (validators: number, params = "") => {
  const events: TelemetryEvent[] = []
  const w = new ConsensusWorld({ scenario: scenario(validators, params), seed: SEED, signatures: "secp256k1", observe: (e) => events.push(e), traceDeliveries: false })
  w.startAll()
  const runTo = (height: number, node = "v0") => {
    w.scheduler.runUntil({ time: w.scheduler.now + 600_000, predicate: () => (w.app(node)?.height ?? 0) >= height })
    expect(w.app(node)?.height, `${node} reached height ${height}`).toBeGreaterThanOrEqual(height)
  }
  return { w, events, runTo }
}

describe("consensus node", () => {
  it("puts the precommits that arrive after the decision into the next block's last-commit, each signer once", () => {
    // Honest, no loss, latency far below timeoutCommit: every validator's precommit reaches the next proposer in time.
    const w = new ConsensusWorld({
      scenario: parseScenario(`name: late\nnetwork:\n  validators: 10\n  stake: 1000\n  latency: { min: 10ms, max: 80ms }\nuntil: { height: 12 }\n`, "late.yaml"),
      seed: SEED, signatures: "simulated", traceDeliveries: false,
    })
    w.startAll()
    w.scheduler.runUntil({ time: 600_000, predicate: () => (w.app("v0")?.height ?? 0) >= 12 })
    expect(w.errors).toEqual([])
    const block = (h: number) => {
      const m = decodeMessage(w.slots.get("v0")!.store.get(blockKey(h))!)
      if (m._tag !== "Success" || m.success.kind !== "commit") throw new Error(`no commit certificate stored at height ${h}`)
      return m.success.block
    }
    const set = w.app("v0")!.validatorSet(1).validators.map((v) => v.address)
    for (let h = 2; h <= 12; h++) {
      const tx = block(h).txs[0]!
      expect(tx.type).toBe("last-commit")
      const signers = (tx.precommits as unknown as Vote[]).map((v) => v.validator)
      expect([...signers].sort(), `last-commit of block ${h}`).toEqual([...set].sort())
    }
  })

  it("takes submitted double-sign evidence: a block includes it, the validator leaves the set and the ledger slashes and tombstones it", () => {
    const { w, events, runTo } = world(4)
    runTo(3)
    const node = w.slots.get("v0")!.node!
    const key = simPrivateKey(SEED, "v3")
    const h = w.app("v0")!.height
    const vote = (hash: string) => signVote(key, w.genesis.chainId, { type: "prevote", height: h, round: 0, blockHash: `0x${hash.repeat(64)}` })
    const evidence = duplicateVoteEvidence(vote("a"), vote("b"))
    // Refusals say why and change nothing.
    expect(node.submitEvidence({ voteA: evidence.voteA, voteB: { ...evidence.voteB, signature: evidence.voteA.signature } })).toMatch(/^invalid evidence: voteB's signature/)
    expect(node.submitEvidence({ voteA: { ...evidence.voteA, height: h + 9 }, voteB: { ...evidence.voteB, height: h + 9 } })).toMatch(/not a known height/)
    expect(events.filter((e) => e.kind === "evidence.found")).toEqual([])

    expect(node.submitEvidence(evidence)).toBeUndefined()
    expect(events.filter((e) => e.kind === "evidence.found")).toEqual([expect.objectContaining({ node: "v0", data: { validator: evidence.voteA.validator, height: h, round: 0, source: "submitted" } })])
    runTo(h + 8)
    // The committee convicted it; the slash is on the one ledger every node shares.
    const pool = w.ledger.economy.pool("v3")!
    expect(pool.tombstoned).toBe(true)
    expect(pool.tokens).toBeLessThan(1000n * 10n ** 18n)
    expect(events.some((e) => e.kind === "stake.slashed" && e.data["pool"] === "v3" && e.data["infraction"] === "doubleSign")).toBe(true)
    expect(w.app("v1")!.validatorSet().has(evidence.voteA.validator)).toBe(false)
    // A changed table is reported: v3 out of the set, jailed.
    const table = events.filter((e) => e.kind === "validators" && e.node === "v0").at(-1)!.data["validators"] as { name: string; power: string; jailed: boolean }[]
    expect(table.find((r) => r.name === "v3")).toMatchObject({ power: "0", jailed: true })
    // Included once: a second submission of the same equivocation is refused now.
    expect(node.submitEvidence(evidence)).toMatch(/tombstoned already/)
    expect(events.filter((e) => e.kind === "node.error")).toEqual([])
  })

  it("reports the step, the validator table and its stake position (rewards once an epoch's report is settled)", () => {
    const { events, runTo } = world(4, "params: { consensus.epochLength: 2 }\n")
    runTo(6)
    const mine = (kind: string) => events.filter((e) => e.kind === kind && e.node === "v0")
    expect(mine("consensus.step").map((e) => e.data["step"])).toEqual(expect.arrayContaining(["propose", "prevote", "precommit", "commit"]))
    // The table is state: reported after the node's first block, then only when it changed.
    const blocks = mine("block.committed")
    const tables = mine("validators")
    expect(tables.length).toBeGreaterThanOrEqual(1)
    expect(tables.length).toBeLessThan(blocks.length)
    expect(tables[0]!.at).toBe(blocks[0]!.at)
    for (let i = 1; i < tables.length; i++) expect(tables[i]!.data["validators"]).not.toEqual(tables[i - 1]!.data["validators"])
    const rows = tables.at(-1)!.data["validators"] as { name: string; power: string; stake: string; missed: number; jailed: boolean }[]
    expect(rows.map((r) => r.name)).toEqual(["v0", "v1", "v2", "v3"])
    for (const r of rows) expect(r).toMatchObject({ power: expect.stringMatching(/^[1-9]\d*$/), stake: (1000n * 10n ** 18n).toString(), missed: 0, jailed: false })
    const position = mine("stake.position").at(-1)!.data
    expect(BigInt(position["stake"] as string)).toBe(1000n * 10n ** 18n)
    expect(BigInt(position["rewards"] as string)).toBeGreaterThan(0n)
    expect(position["apr"]).toBeGreaterThan(0)
  })

  it("a decided block that does not execute halts the node with the height, instead of throwing", () => {
    const { w, events, runTo } = world(4)
    runTo(2)
    // Fault injection: v2's replica refuses the next block, as a replica that diverged would.
    const app = w.app("v2")!
    const next = app.height + 1
    app.execute = () => {
      throw new Error(`cannot execute block ${next}: injected`)
    }
    runTo(next + 3)
    const node = w.slots.get("v2")!.node!
    expect(node.halted).toBe(`consensus halted at height ${next}: cannot execute block ${next}: injected`)
    expect(events.filter((e) => e.kind === "node.error" && e.node === "v2")).toEqual([
      expect.objectContaining({ data: { action: "execute", height: next, error: node.halted } }),
    ])
    expect(node.actor.getSnapshot().status).toBe("stopped")
    // The simulator ends such a run as a crash, with the node's reason.
    expect(w.errors).toEqual([`v2: ${node.halted}`])
  })
})

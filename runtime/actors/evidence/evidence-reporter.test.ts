/**
 * The evidence reporter on virtual time, over the simulated ledger: evidence the node holds (its
 * pool at start, a block's evidence, the pool after a block) goes to `slashDoubleSign` once; of two
 * reporters the first slashes and the second is told it was settled already; a refusal by a rule is
 * final; an unavailable chain is tried again on the node's clock, with a growing wait and one log
 * line; a failure never reaches the node; `stop` cancels what is waiting.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { makeSimChain } from "../../../sim/adapters/chain.ts"
import { Scheduler, SimClock } from "../../../sim/kernel/index.ts"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { duplicateVoteEvidence } from "../../core/consensus/evidence.ts"
import { signVote } from "../../core/consensus/signing.ts"
import type { Block, DuplicateVoteEvidence } from "../../core/consensus/types.ts"
import { Economy } from "../../core/econ/index.ts"
import { DEFAULT_PARAMS } from "../../core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { type Chain, ChainUnavailable } from "../../services/chain.ts"
import type { ExecutedBlock } from "../context.ts"
import { doubleSignEvidenceId } from "../../core/consensus/double-sign.ts"
import { startEvidenceReporter, type EvidenceReporterOptions } from "./evidence-reporter.ts"

const CHAIN_ID = 7
const keyOf = (name: string) => keccak256(utf8ToBytes(`dai-test/reporter/${name}`))
const hash = (label: string) => toHex(keccak256(utf8ToBytes(label)))
const V0 = keyOf("v0")
const V1 = keyOf("v1")

/** A double sign of `key` at `height` (two prevotes for different blocks). */
const doubleSign = (key: Uint8Array, height = 4): DuplicateVoteEvidence =>
  duplicateVoteEvidence(
    signVote(key, CHAIN_ID, { type: "prevote", height, round: 0, blockHash: hash(`a/${height}`) }),
    signVote(key, CHAIN_ID, { type: "prevote", height, round: 0, blockHash: hash(`b/${height}`) }),
  )

/** One simulated ledger (validators v0, v1 keyed by their addresses) on one virtual clock. */
const world = () => {
  const operators = [V0, V1].map(addressOfPrivateKey)
  const economy = Result.getOrThrow(Economy.genesis([
    ...operators.map((address) => ({ address, amount: 1_000_000n * TOKEN })),
    { address: "reserve", amount: TOTAL_SUPPLY - 2_000_000n * TOKEN },
  ], DEFAULT_PARAMS, 0))
  for (const operator of operators) Result.getOrThrow(economy.apply({ type: "registerValidator", operator, amount: 100_000n * TOKEN, tier: 0, commission: 0n }, 0))
  const scheduler = new Scheduler(1_000)
  const chain = makeSimChain(economy, () => scheduler.now, undefined, { consensusChainId: CHAIN_ID })
  return { economy, scheduler, chain, operators }
}

type World = ReturnType<typeof world>

/** A node of `w`: its pool, its executed blocks, its telemetry; effects run synchronously as in the simulator. */
const node = (w: World, name: string, options: Partial<EvidenceReporterOptions> = {}) => {
  const pool: DuplicateVoteEvidence[] = []
  const listeners: Array<(b: ExecutedBlock) => void> = []
  const events: Array<{ at: number; kind: string; data: Record<string, unknown> }> = []
  const calls: number[] = []
  const counted: Pick<Chain["Service"], "slashDoubleSign"> = {
    slashDoubleSign: (a, b, submitter) => Effect.suspend(() => (calls.push(w.scheduler.now), (options.chain ?? w.chain).slashDoubleSign(a, b, submitter))),
  }
  const start = () =>
    startEvidenceReporter({
      clock: new SimClock(w.scheduler),
      run: (e) => Effect.runSync(e),
      emit: (kind, data) => void events.push({ at: w.scheduler.now, kind, data }),
      executed: { subscribe: (l) => (listeners.push(l), () => void listeners.splice(listeners.indexOf(l), 1)), publish: (b) => listeners.forEach((l) => l(b)) },
      evidence: { pending: () => [...pool] },
      keys: { address: name },
      app: { chainId: CHAIN_ID },
    }, { ...options, chain: counted })
  /** Execute a block carrying `evidence` (and then the pool is read). */
  const block = (...evidence: DuplicateVoteEvidence[]) => {
    const b = { height: 1, txs: evidence.map((e) => ({ type: "evidence", voteA: e.voteA, voteB: e.voteB })) } as unknown as Block
    for (const l of [...listeners]) l({ block: b, execution: undefined as never })
  }
  const kinds = (kind: string) => events.filter((e) => e.kind === kind).map((e) => e.data)
  return { pool, start, block, events, kinds, calls }
}

describe("evidence reporter", () => {
  it("submits what the pool holds at start, and what blocks and the pool bring later, once per equivocation", () => {
    const w = world()
    const n = node(w, "node0")
    const first = doubleSign(V0)
    n.pool.push(first)
    const reporter = n.start()
    expect(n.calls).toHaveLength(1)
    const [v0] = w.operators
    expect(n.kinds("evidence.settled")).toEqual([expect.objectContaining({
      validator: v0, height: 4, round: 0, type: "prevote", pool: v0, tombstoned: true, submitter: "node0",
      evidenceId: doubleSignEvidenceId(v0!, BigInt(CHAIN_ID), 4n, 0n, 1),
    })])
    expect(w.economy.pool(v0!)?.tombstoned).toBe(true)

    // The same equivocation in a block, or as another pair of votes: nothing more is sent.
    const again = duplicateVoteEvidence(first.voteA, signVote(V0, CHAIN_ID, { type: "prevote", height: 4, round: 0, blockHash: hash("c/4") }))
    n.block(first, again)
    expect(n.calls).toHaveLength(1)
    // A new equivocation (v1's) in the pool after a block is sent.
    n.pool.push(doubleSign(V1, 9))
    n.block()
    expect(n.calls).toHaveLength(2)
    expect(w.economy.pool(w.operators[1]!)?.tombstoned).toBe(true)
    expect([...reporter.statuses().values()]).toEqual(["settled", "settled"])
    expect(n.kinds("evidence.refused")).toEqual([])
    reporter.stop()
  })

  it("of two nodes holding the same evidence, the first slashes and the second is refused as already settled; the ledger slashes once", () => {
    const w = world()
    const [a, b] = [node(w, "node0"), node(w, "node1")]
    const ra = a.start()
    const rb = b.start()
    const evidence = doubleSign(V0)
    const supply = w.economy.supply()
    a.block(evidence)
    const burntOnce = w.economy.supply().burnt - supply.burnt
    expect(burntOnce).toBeGreaterThan(0n)
    const afterFirst = w.economy.snapshot()
    b.block(evidence)
    expect(a.kinds("evidence.settled")).toHaveLength(1)
    expect(b.kinds("evidence.settled")).toEqual([])
    expect(b.kinds("evidence.refused")).toEqual([expect.objectContaining({ reason: "StakingInfractionAlreadySlashed", already: true, validator: w.operators[0] })])
    expect(w.economy.snapshot()).toEqual(afterFirst)
    // Done: no retry, however long the node runs.
    w.scheduler.runUntil({ time: w.scheduler.now + 3_600_000 })
    b.block(evidence)
    expect(b.calls).toHaveLength(1)
    expect(rb.statuses().get(`${evidence.voteA.validator}/4/0/prevote`)).toBe("refused")
    ra.stop()
    rb.stop()
  })

  it("a refusal by a rule is final and says why", () => {
    const w = world()
    const n = node(w, "node0")
    const reporter = n.start()
    const stranger = doubleSign(keyOf("stranger"))
    n.block(stranger)
    expect(n.kinds("evidence.refused")).toEqual([expect.objectContaining({
      reason: "StakingInvalidEvidence", already: false, message: expect.stringContaining("the signer is not a registered validator key"),
    })])
    w.scheduler.runUntil({ time: w.scheduler.now + 3_600_000 })
    n.block(stranger)
    expect(n.calls).toHaveLength(1)
    reporter.stop()
  })

  it("tries an unavailable chain again on the node's clock, waiting longer each time up to the cap, with one log line", () => {
    const w = world()
    let down = 4
    const flaky: Pick<Chain["Service"], "slashDoubleSign"> = {
      slashDoubleSign: (a, b, s) => (down-- > 0 ? Effect.fail(new ChainUnavailable({ operation: "slashDoubleSign", reason: "connection refused" })) : w.chain.slashDoubleSign(a, b, s)),
    }
    const n = node(w, "node0", { chain: flaky, retryMs: 1_000, maxRetryMs: 3_000 })
    const reporter = n.start()
    const t0 = w.scheduler.now
    n.block(doubleSign(V0))
    expect(n.calls).toEqual([t0])
    w.scheduler.runUntil({ time: t0 + 999 })
    expect(n.calls).toHaveLength(1)
    w.scheduler.runUntil({ time: t0 + 60_000 })
    // Waits of 1 s, 2 s, then the 3 s cap.
    expect(n.calls.map((t) => t - t0)).toEqual([0, 1_000, 3_000, 6_000, 9_000])
    expect(n.kinds("evidence.settled")).toHaveLength(1)
    expect(n.kinds("log")).toEqual([expect.objectContaining({ level: "warn", message: expect.stringContaining("connection refused") })])
    expect([...reporter.statuses().values()]).toEqual(["settled"])
    reporter.stop()
  })

  it("a chain that throws does not reach the node: the evidence waits for another try", () => {
    const w = world()
    let broken = true
    const throwing: Pick<Chain["Service"], "slashDoubleSign"> = {
      slashDoubleSign: (a, b, s) => {
        if (broken) throw new Error("adapter bug")
        return w.chain.slashDoubleSign(a, b, s)
      },
    }
    const n = node(w, "node0", { chain: throwing })
    const reporter = n.start()
    expect(() => n.block(doubleSign(V0))).not.toThrow()
    expect([...reporter.statuses().values()]).toEqual(["waiting"])
    broken = false
    w.scheduler.runUntil({ time: w.scheduler.now + 1_000 })
    expect(n.kinds("evidence.settled")).toHaveLength(1)
    reporter.stop()
  })

  it("evidence whose votes cannot be encoded for the chain is refused without a call, and the next one still goes", () => {
    const w = world()
    const n = node(w, "node0")
    const reporter = n.start()
    const good = doubleSign(V0)
    const broken = { voteA: { ...good.voteA, height: 1.5 }, voteB: { ...good.voteB, height: 1.5 } } as DuplicateVoteEvidence
    expect(() => n.block(broken, good)).not.toThrow()
    expect(n.kinds("evidence.refused")).toEqual([expect.objectContaining({ reason: "EvidenceMalformed", already: false })])
    expect(n.calls).toHaveLength(1)
    expect(n.kinds("evidence.settled")).toHaveLength(1)
    reporter.stop()
  })

  it("stop cancels the waits: nothing is sent after it", () => {
    const w = world()
    const down: Pick<Chain["Service"], "slashDoubleSign"> = { slashDoubleSign: () => Effect.fail(new ChainUnavailable({ operation: "slashDoubleSign", reason: "timeout" })) }
    const n = node(w, "node0", { chain: down })
    const reporter = n.start()
    n.block(doubleSign(V0))
    reporter.stop()
    w.scheduler.runUntil({ time: w.scheduler.now + 3_600_000 })
    n.block(doubleSign(V1))
    expect(n.calls).toHaveLength(1)
    expect(reporter.offer(doubleSign(V1, 12))).toBe(false)
  })
})

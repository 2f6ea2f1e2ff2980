/**
 * A dispute bisected in the simulated market (runtime/actors/market/bisect.ts over the world's
 * network, ledger and validators): a provider that computes the simulator's layered model right up to
 * layer k and wrong from there (its word commits to that trace, and it defends it honestly) is caught
 * by the referee asked to resolve at exactly layer k, after ⌈log2(L + 1)⌉ hash queries and one query
 * of the agreed input; its fraud proof travels with its signature, and every co-signer re-executes
 * that one layer (Verde), not its own trace; the committee's verdict slashes the provider and refunds
 * the requester. One that does not answer the bisection's queries is refuted once they time out, one
 * that answers with a hash not of its commitment is caught by that answer; the same job done right by
 * an honest provider is never disputed, and a proof forged against it (its own layers k − 1 and k with
 * their true paths) is refused by every validator as its sender's fault: they judge it themselves and
 * the committee finds it right.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { attachSimNetwork } from "../adapters/network.ts"
import { seededRandom } from "../adapters/random.ts"
import { Prng } from "../kernel/index.ts"
import { parseScenario } from "../scenario/load.ts"
import { runScenario } from "../scenario/run.ts"
import type { ConsensusWorld } from "./world.ts"
import { REMAINDER_ACCOUNT } from "../../runtime/core/app/genesis.ts"
import { traceDepth, traceRoot, traceTree } from "../../runtime/core/market/bisection.ts"
import { leafPath } from "../../runtime/core/market/fraud-proof.ts"
import type { PostJobReceipt } from "../../runtime/core/market/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import type { MarketContext } from "../../runtime/actors/market/context.ts"
import { marketKey } from "../../runtime/actors/market/context.ts"
import { startProvider } from "../../runtime/actors/market/provider.ts"
import { startRequester, type RequesterActor } from "../../runtime/actors/market/requester.ts"
import { BISECTION_TIMEOUT_MS } from "../../runtime/actors/market/bisect.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC } from "../../runtime/actors/market/wire.ts"
import { encodeProofVote, PROOF_TOPIC } from "../../runtime/actors/market/verdicts.ts"
import { UNIT_LAYERS, unitProviderTrace, unitTrace, unitWord, type MarketWork } from "../../runtime/actors/market/work.ts"

const scenario = parseScenario(`name: market-bisection
seed: 11
network:
  validators: 4
  stake: 10000
  providers: 1
  providerPrice: 10
  providerSpeed: 200ms
  requesters: 1
  jobRate: 1/100s
  jobDeadline: 20s
params:
  market.disputeWindow: 10s
  market.noShowTimeout: 5s
  market.verificationRate: 1
until: { time: 60s }
`, "market-bisection.yaml")

const FAULT_LAYER = 5
const BOND = 1_000n * TOKEN
const PRICE = 10n * TOKEN

/** A provider's work: the layered model, wrong from layer `fault` on when given (its word commits to that trace). */
const layeredWork = (fault: number | undefined): MarketWork => (task) => {
  const trace = unitTrace(task, fault)
  return { ms: 100 * task.units, resultHash: unitWord(task, traceRoot(trace.hashes)), trace }
}

interface Seen {
  world: ConsensusWorld
  lines: Array<Record<string, unknown>>
  jobs: Map<string, Promise<PostJobReceipt>>
  requester: RequesterActor
  framer: RequesterActor
}

/** A world where `pz` (wrong from FAULT_LAYER) and `ph` (honest) each serve a kind only they serve, and `uz` submits one job to each. */
const runBisection = (): Seen => {
  const seen = { lines: [] as Array<Record<string, unknown>>, jobs: new Map<string, Promise<PostJobReceipt>>() } as Partial<Seen> & { lines: Array<Record<string, unknown>>; jobs: Map<string, Promise<PostJobReceipt>> }
  runScenario(scenario, {
    sink: (line) => {
      if (line.includes("market.bisection") || line.includes("market.referee.judged") || line.includes("market.resolved") || line.includes("market.verdict") || line.includes("net.invalid")) seen.lines.push(JSON.parse(line) as Record<string, unknown>)
    },
    onWorld: (world) => {
      seen.world = world
      const economy = world.ledger.economy
      let lies = 0
      const ctxOf = (id: string, answers: "honest" | "mute" | "lie" = "honest"): MarketContext => {
        const network = attachSimNetwork(world.net, id).network
        return {
          name: id, clock: world.clock, now: () => world.scheduler.now, run: (e) => Effect.runSync(e),
          random: seededRandom(Prng.fromSeed(3).child(id)), ledger: world.ledger,
          // `mute`: its bisection answers never leave it (a provider that stalls its disputes);
          // `lie`: its second tree answer has a hash changed (not what it committed to).
          network: answers === "honest" ? network : { ...network, send: (to, topic, data) => {
            const m = decodeMarketMessage(data)
            if (topic !== MARKET_TOPIC || Result.isFailure(m) || !m.success.t.startsWith("trace-")) return network.send(to, topic, data)
            if (answers === "mute") return Effect.void
            const a = m.success
            if (a.t !== "trace-answer" || ++lies !== 2) return network.send(to, topic, data)
            return network.send(to, topic, encodeMarketMessage({ ...a, left: `0x${"ee".repeat(32)}` }))
          } },
          params: () => economy.params, emit: () => {}, fault: () => {},
        }
      }
      const fund = (id: string, amount: bigint) => {
        const r = economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: id, amount }, world.scheduler.now)
        if (Result.isFailure(r)) throw new Error(r.failure.message)
      }
      world.clock.setTimeout(() => {
        fund("pz", BOND + TOKEN)
        fund("ph", BOND + TOKEN)
        fund("ps", BOND + TOKEN)
        fund("pl", BOND + TOKEN)
        startProvider(ctxOf("pl", "lie"), { kind: "infer:liar", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(7) })
        fund("uz", 1_000n * TOKEN)
        startProvider(ctxOf("ps", "mute"), { kind: "infer:silent", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(2) })
        startProvider(ctxOf("pz"), { kind: "infer:faulty", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(FAULT_LAYER) })
        startProvider(ctxOf("ph"), { kind: "infer:honest", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(undefined), trace: unitProviderTrace })
        seen.requester = startRequester(ctxOf("uz"), {})
        // `pf` honest, its requester `uf` never confirms: its note stays pending for the framing below.
        fund("pf", BOND + TOKEN)
        fund("uf", 1_000n * TOKEN)
        startProvider(ctxOf("pf"), { kind: "infer:framed", bond: BOND, pricePerUnit: PRICE, capacity: 2, chunk: 5, work: layeredWork(undefined), trace: unitProviderTrace })
        seen.framer = startRequester(ctxOf("uf"), { confirms: () => false })
      }, 2_000)
      // The framing: `uf` disputes pf's honest note, `fx` publishes a refuting "signature" with a proof forged from
      // pf's own layers FAULT_LAYER − 1 and FAULT_LAYER and their true paths, then `uf` asks v0 to resolve.
      world.clock.setTimeout(() => {
        {
          const job = economy.jobs().find((j) => j.requester === "uf")!
          const receipt = { job: job.id }
          const note = job.notes[0]!
          Effect.runSync(world.ledger.marketOp({ type: "dispute", job: job.id, by: "uf" }))
          const trace = unitTrace({ job: receipt.job, kind: "infer:framed", from: 0, units: Number(note.units) })
          const tree = traceTree(trace.hashes)
          const k = FAULT_LAYER
          const bytes = encodeProofVote({
            vote: { v: 1, job: receipt.job, snapshotId: 1, providerRight: false, signer: `0x${"f1".repeat(20)}`, signature: `0x${"f2".repeat(65)}` },
            proof: { note: note.id, proof: { layer: k, input: trace.activation(k - 1), inputHash: trace.hashes[k - 1]!, outputHash: trace.hashes[k]!, inputPath: leafPath(tree, k - 1), outputPath: leafPath(tree, k) } },
          })!
          Effect.runSync(attachSimNetwork(world.net, "fx").network.publish(PROOF_TOPIC, bytes))
          world.clock.setTimeout(() => Effect.runSync(Effect.ignore(attachSimNetwork(world.net, "uf2").network.send("v0", MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job: receipt.job })))), 500)
        }
      }, 8_000)
      world.clock.setTimeout(() => {
        for (const kind of ["infer:faulty", "infer:honest", "infer:silent", "infer:liar"]) {
          seen.jobs.set(kind, seen.requester!.submit({ kind, units: 5, maxPricePerUnit: 20n * TOKEN, deadline: world.scheduler.now + 25_000 }))
        }
        seen.jobs.set("infer:framed", seen.framer!.submit({ kind: "infer:framed", units: 5, maxPricePerUnit: 20n * TOKEN, deadline: world.scheduler.now + 25_000 }))
      }, 4_000)
    },
  })
  return seen as Seen
}

describe("a dispute bisected in the simulated market", () => {
  const seen = runBisection()
  const economy = seen.world.ledger.economy

  it("catches a provider wrong from layer k at exactly layer k, slashes it and refunds the requester", async () => {
    const receipt = await seen.jobs.get("infer:faulty")!
    const job = economy.job(receipt.job)!
    // Its note was refuted by the committee's verdict; it was paid nothing for it.
    expect(job.notes.length).toBeGreaterThan(0)
    expect(job.notes.every((n) => n.provider !== "pz" || n.state === "refuted")).toBe(true)
    expect(economy.provider("pz")!.bond).toBe(0n) // market.wrongResultSlash 1: the whole bond
    // The requester got its budget back and was compensated from the slash (the job had no other provider).
    expect(job.paid).toBe(0n)
    expect(job.returned).toBe(receipt.budget)
    expect(job.compensation).toBeGreaterThan(0n)
    // The referee asked to resolve found the fault at layer k, after ⌈log2(L + 1)⌉ hash queries and one input query,
    // computing its own trace (L layers) and the one layer; it alone bisected, and its record holds a fraud proof.
    const bisections = seen.lines.filter((l) => l.kind === "market.bisection" && l.job === receipt.job)
    expect(bisections).toHaveLength(1)
    expect(bisections[0]).toMatchObject({ provider: "pz", outcome: "wrong", layer: FAULT_LAYER, queries: traceDepth(UNIT_LAYERS + 1), inputQueries: 1, reexecuted: UNIT_LAYERS + 1, proof: true })
    const judged = seen.lines.filter((l) => l.kind === "market.referee.judged" && l.job === receipt.job && l.providerRight !== undefined)
    for (const j of judged) expect(j).toMatchObject({ providerRight: false, layer: FAULT_LAYER })
    // Every other validator judged by the proof: exactly one layer re-executed each, no trace of its own.
    const byProof = judged.filter((j) => j.node !== bisections[0]!.node)
    for (const j of byProof) expect(j).toMatchObject({ proof: true, reexecuted: 1 })
    const checks = seen.lines.filter((l) => l.kind === "market.verdict.proof" && l.job === receipt.job)
    expect(checks.map((c) => c.node).sort()).toEqual(byProof.map((j) => j.node).sort())
    for (const c of checks) expect(c).toMatchObject({ accepted: true, layer: FAULT_LAYER })
    // Enough of them co-signed for the quorum (3 of the 4 equal validators): the verdict stands on the one bisection.
    const resolved = seen.lines.find((l) => l.kind === "market.resolved" && l.job === receipt.job)
    expect(resolved).toMatchObject({ providerRight: false, provider: "pz" })
    expect(byProof.length).toBeGreaterThanOrEqual(Number(resolved!.signers) - 1)
    expect(Number(resolved!.signers)).toBeGreaterThanOrEqual(3)
    // The whole committee computed 9 + 1 per co-signer layers, where each computed 9 before.
    const layers = judged.reduce((n, j) => n + Number(j.reexecuted), 0)
    expect(layers).toBe(UNIT_LAYERS + 1 + byProof.length)
  })

  it("refuses a proof forged against an honest provider as its sender's fault; the committee judges it itself and finds it right", async () => {
    const receipt = await seen.jobs.get("infer:framed")!
    const job = economy.job(receipt.job)!
    // Every validator refused the proof (its own layer k re-executed from its own input gives its own hash) and faulted its sender.
    const checks = seen.lines.filter((l) => l.kind === "market.verdict.proof" && l.job === receipt.job)
    expect(checks.length).toBe(4)
    for (const c of checks) expect(c).toMatchObject({ accepted: false, layer: FAULT_LAYER, reason: expect.stringMatching(/computed it right/) })
    const faults = seen.lines.filter((l) => l.kind === "net.invalid" && l.from === "fx")
    expect(faults.map((f) => f.node).sort()).toEqual(checks.map((c) => c.node).sort())
    for (const f of faults) expect(String(f.reason)).toMatch(/^fraud proof on job \d+ note \d+ refused: layer 5 re-executed from the committed input gives the committed output/)
    // Then each judged it by its own bisection: the provider agrees with every trace; none signed the forger's refutation.
    const judged = seen.lines.filter((l) => l.kind === "market.referee.judged" && l.job === receipt.job)
    expect(judged.length).toBeGreaterThanOrEqual(3)
    for (const j of judged) expect(j).toMatchObject({ providerRight: true })
    expect(seen.lines.some((l) => l.kind === "market.verdict.signed" && l.job === receipt.job && l.providerRight === false)).toBe(false)
    expect(seen.lines.find((l) => l.kind === "market.resolved" && l.job === receipt.job)).toMatchObject({ providerRight: true, provider: "pf" })
    expect(economy.provider("pf")!.bond).toBe(BOND)
    expect(job.notes.every((n) => n.state === "paid")).toBe(true)
  })

  it("refutes a provider that does not answer the bisection's queries once they time out", async () => {
    const receipt = await seen.jobs.get("infer:silent")!
    const job = economy.job(receipt.job)!
    expect(job.notes.every((n) => n.provider !== "ps" || n.state === "refuted")).toBe(true)
    expect(economy.provider("ps")!.bond).toBe(0n)
    const bisections = seen.lines.filter((l) => l.kind === "market.bisection" && l.job === receipt.job && l.outcome !== "moot")
    expect(bisections.length).toBeGreaterThanOrEqual(3)
    for (const b of bisections) expect(b).toMatchObject({ provider: "ps", outcome: "silent", queries: 0 })
    // Refuted only once the queries timed out: no referee gave up before BISECTION_TIMEOUT_MS after the job was disputed.
    const disputedAt = job.notes.find((n) => n.provider === "ps")!.deliveredAt
    for (const b of bisections) expect(Number(b.t) - disputedAt).toBeGreaterThanOrEqual(BISECTION_TIMEOUT_MS)
    expect(seen.lines.find((l) => l.kind === "market.resolved" && l.job === receipt.job)).toMatchObject({ providerRight: false, provider: "ps" })
  })

  it("catches a provider whose answer is not its commitment", async () => {
    const receipt = await seen.jobs.get("infer:liar")!
    const job = economy.job(receipt.job)!
    expect(job.notes.every((n) => n.provider !== "pl" || n.state === "refuted")).toBe(true)
    expect(economy.provider("pl")!.bond).toBe(0n)
    const records = seen.lines.filter((l) => l.kind === "market.bisection" && l.job === receipt.job && l.outcome !== "moot")
    // The one referee it lied to records it; the others find layer 7.
    expect(records.filter((r) => r.outcome === "lied")).toHaveLength(1)
    expect(records.filter((r) => r.outcome === "lied")[0]).toMatchObject({ provider: "pl", queries: 2 })
    for (const r of records.filter((x) => x.outcome !== "lied")) expect(r).toMatchObject({ outcome: "wrong", layer: 7 })
  })

  it("never disputes the same work done right: the honest provider is paid and keeps its bond", async () => {
    const receipt = await seen.jobs.get("infer:honest")!
    const job = economy.job(receipt.job)!
    expect(job.state).toBe("settled")
    expect(job.notes.every((n) => n.state === "paid")).toBe(true)
    expect(economy.provider("ph")!.bond).toBe(BOND)
    expect(seen.lines.some((l) => l.job === receipt.job)).toBe(false)
    expect(marketKey("infer:honest")).toBe("market/infer:honest")
  })
})

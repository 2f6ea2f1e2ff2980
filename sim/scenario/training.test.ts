/** Training rounds in the simulator: on chain, deterministic, with faults, triggers and checkers. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { attestationDigest } from "../../runtime/core/app/round-attestation.ts"
import { roundScoresCommitment, signTx } from "../../runtime/core/app/txs.ts"
import { toHex } from "../../runtime/core/crypto.ts"
import { makeSimKeys } from "../adapters/keys.ts"
import { FileError } from "./decode-file.ts"
import { parseScenario } from "./load.ts"
import { runScenario } from "./run.ts"
import { startTraining } from "./training-run.ts"
import { prepareTraining } from "./training-setup.ts"
import { ConsensusWorld, SIM_CHAIN_ID } from "../world/world.ts"

const BASE = `
network: { validators: 4, trainers: 10, stake: 10000 }
params:
  training.dataset: synthetic
  training.cohort: 0.6
  training.roundDeadline: 10s
  consensus.epochLength: 10
`
const scenario = (extra: string, name = "train-test") => parseScenario(`name: ${name}\n${BASE}${extra}`, `${name}.yaml`)

const traced = (s: ReturnType<typeof scenario>, seed?: number) => {
  const lines: string[] = []
  const report = runScenario(s, { sink: (l) => lines.push(l), ...(seed === undefined ? {} : { seed }) })
  return { report, events: lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

describe("training rounds in the simulator", () => {
  it("commits every round's result through consensus, reveals the scores later, and replays bit for bit", () => {
    const s = scenario("until: { rounds: 6, maxTime: 10m }\nexpect: { safety: true, minAccuracy: 0.5 }\n")
    const { report, events } = traced(s)
    expect(report.errors).toEqual([])
    expect(report.outcome).toBe("passed")
    expect(report.metrics.rounds).toBe(6)
    const done = events.filter((e) => e.kind === "round.done")
    expect(done.map((e) => e.round)).toEqual([1, 2, 3, 4, 5, 6])
    // Each round's cohort is the seeded 60% of the trainers, and the result names who took part.
    for (const e of events.filter((x) => x.kind === "round.opened")) expect((e.cohort as string[]).length).toBe(6)
    expect(report.metrics.training?.modelHash).toBe(done.at(-1)!.model)
    expect(runScenario(s).traceHash).toBe(report.traceHash)
    expect(runScenario(s, { seed: 99 }).traceHash).not.toBe(report.traceHash)
  })

  it("every replica holds the same round results and credits the revealed scores to the participants", () => {
    const s = scenario("until: { rounds: 3, maxTime: 10m }\n")
    const world = new ConsensusWorld({ scenario: s, seed: 4, traceDeliveries: false, observe: (e) => { if (e.kind === "block.committed") run?.world.onBlock() } })
    world.startAll()
    const run = startTraining(world, s, 4, undefined)!
    world.scheduler.runUntil({ time: 600_000, predicate: () => run.world.completed >= 3 })
    run.world.stop()
    world.scheduler.runUntil({ time: world.scheduler.now + 10_000 }) // the last reveal lands
    const apps = s.validators.map((id) => world.app(id)!)
    const done = run.world.outcomes.filter((o) => o.status === "done")
    expect(done.map((o) => o.round)).toEqual([1, 2, 3])
    for (const app of apps) {
      expect(app.lastRound).toBe(3)
      for (const o of done) {
        const r = app.rounds().get(o.round)!
        expect(r).toMatchObject({ modelHash: o.modelHash, accuracy: Math.round(o.accuracy! * 1e6), participants: o.participants, coordinator: o.coordinator })
        expect([...r.scores!.keys()].sort()).toEqual([...o.participants])
      }
      // Scores add up per account in the epoch each result was committed in.
      const epochs = new Set(done.map((o) => app.rounds().get(o.round)!.epoch))
      const credited = [...epochs].flatMap((e) => [...app.roundScores(e).values()])
      expect(credited.some((x) => x > 0)).toBe(true)
    }
    expect(new Set(apps.map((a) => a.appHash)).size).toBe(1)
    expect(run.world.globalHash).toBe(done.at(-1)!.modelHash)
  })

  it("fires `at: { round }` events as that round opens, and a trainer's fault applies from then on", () => {
    const s = scenario("until: { rounds: 4, maxTime: 10m }\nevents:\n  - at: { round: 3 }\n    byzantine: { nodes: [t1, t2], behavior: dropout }\n")
    const { report, events } = traced(s)
    expect(report.errors).toEqual([])
    const fired = events.findIndex((e) => e.kind === "scenario.event" && e.action === "train-fault")
    const opened3 = events.findIndex((e) => e.kind === "round.opened" && e.round === 3)
    const done2 = events.findIndex((e) => e.kind === "round.done" && e.round === 2)
    expect(fired).toBeGreaterThan(done2)
    expect(fired).toBeLessThan(opened3)
    const left = events.filter((e) => e.kind === "trainer.left")
    expect(left.length).toBeGreaterThan(0)
    expect(left.every((e) => (e.round as number) >= 3 && (e.node === "t1" || e.node === "t2"))).toBe(true)
    // Dropouts are tolerated: the rounds they left still completed without them.
    for (const e of events.filter((x) => x.kind === "round.done" && (x.round as number) >= 3)) {
      expect(e.participants as string[]).not.toContain("t1")
      expect(e.participants as string[]).not.toContain("t2")
    }
    expect(report.metrics.rounds).toBe(4)
  })

  it("aborts a round that gets too few updates, and says why", () => {
    const s = scenario("until: { time: 2m }\nevents:\n  - at: { round: 0 }\n    byzantine: { nodes: [t0, t1, t2, t3, t4, t5, t6, t7], behavior: dropout }\n")
    const { report } = traced(s)
    expect(report.metrics.rounds).toBe(0)
    expect(report.metrics.training?.roundsAborted).toBeGreaterThan(0)
    expect(report.metrics.training?.abortReasons[0]).toMatch(/too few updates by the deadline: [0-2] of 6 \(need 3\)/)
  })

  it("checks minAccuracy and maxAccuracy against the final model", () => {
    const pass = runScenario(scenario("until: { rounds: 8, maxTime: 10m }\nexpect: { minAccuracy: 0.5 }\n"))
    expect(pass.expectations).toEqual([
      expect.objectContaining({ name: "until", kind: "liveness", passed: true }),
      expect.objectContaining({ name: "minAccuracy", kind: "correctness", passed: true }),
    ])
    const fail = runScenario(scenario("until: { rounds: 2, maxTime: 10m }\nexpect: { minAccuracy: 0.999, maxAccuracy: 0.1 }\n"))
    expect(fail.outcome).toBe("correctness")
    expect(fail.expectations.map((x) => [x.name, x.passed])).toEqual([["until", true], ["minAccuracy", false], ["maxAccuracy", false]])
    expect(fail.expectations[1]!.detail).toMatch(/final accuracy 0\.\d+ after 2 round\(s\), expected at least 0\.999/)
    // No committed round leaves no accuracy to judge: missing progress, not a wrong model.
    const none = runScenario(scenario("until: { time: 1s }\nexpect: { minAccuracy: 0.1 }\n"))
    expect(none.expectations[0]).toMatchObject({ kind: "liveness", passed: false, detail: "no training round was committed (expected accuracy at least 0.1)" })
    expect(none.outcome).toBe("liveness")
  })

  it("runs secure aggregation as messages and recovers a trainer that drops out after sharing its keys", () => {
    const s = scenario("  training.secureAggregation: true\nuntil: { rounds: 3, maxTime: 1m }\nevents:\n  - at: { round: 2 }\n    byzantine: { nodes: [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9], behavior: dropout }\n")
    const solo = scenario("  training.secureAggregation: true\nuntil: { rounds: 3, maxTime: 10m }\nevents:\n  - at: { round: 2 }\n    byzantine: { nodes: [t4], behavior: dropout }\n")
    const { report, events } = traced(solo)
    expect(report.errors).toEqual([])
    expect(report.metrics.rounds).toBe(3)
    const unmask = events.filter((e) => e.kind === "round.unmask")
    expect(unmask).toHaveLength(3)
    // t4 left in every round it was drawn for from round 2 on, after its keys were shared: the sum is still recovered.
    const dropped = unmask.filter((e) => (e.dropped as string[]).length > 0)
    expect(dropped.length).toBeGreaterThan(0)
    expect(dropped.every((e) => (e.dropped as string[]).join() === "t4")).toBe(true)
    expect(report.metrics.training?.invalidMessages).toBe(0)
    // With everyone leaving, too few answer and the protocol's threshold ends the round.
    const all = runScenario(s)
    expect(all.metrics.rounds).toBe(1)
    expect(all.metrics.training?.abortReasons[0]).toMatch(/round 2: too few updates by the deadline: 0 of 6/)
  })

  it("reports the DP epsilon when noise is added, and none without", () => {
    const dp = runScenario(scenario("  training.dp.noiseMultiplier: 1.1\n  training.dp.clipNorm: 5\nuntil: { rounds: 4, maxTime: 10m }\n"))
    expect(dp.metrics.rounds).toBe(4)
    expect(dp.metrics.epsilon).toBeGreaterThan(0)
    expect(Number.isFinite(dp.metrics.epsilon)).toBe(true)
    const more = runScenario(scenario("  training.dp.noiseMultiplier: 1.1\n  training.dp.clipNorm: 5\nuntil: { rounds: 8, maxTime: 10m }\n"))
    expect(more.metrics.epsilon).toBeGreaterThan(dp.metrics.epsilon!)
    expect(runScenario(scenario("until: { rounds: 2, maxTime: 10m }\n")).metrics.epsilon).toBeUndefined()
  })

  it("a crashed coordinator aborts its round; the next round has another", () => {
    const s = scenario("until: { rounds: 3, maxTime: 10m }\nevents:\n  - at: { round: 1 }\n    crash: v0\n")
    const { report, events } = traced(s)
    expect(report.errors).toEqual([])
    expect(events.filter((e) => e.kind === "round.opened").every((e) => e.node !== "v0")).toBe(true)
    expect(report.metrics.rounds).toBe(3)
  })
})

describe("training on MNIST with TensorFlow.js", () => {
  it("trains for real, and the same seed gives the same trace hash (model hashes included)", async () => {
    const s = parseScenario(`name: tiny-mnist
network: { validators: 4, trainers: 3, stake: 10000, samplesPerTrainer: 120 }
params: { training.dataset: mnist, training.cohort: 1, training.learningRate: 0.2, training.roundDeadline: 20s }
until: { rounds: 2, maxTime: 10m }
`, "tiny-mnist.yaml")
    const training = await prepareTraining(s, s.seed)
    const lines: string[] = []
    const a = runScenario(s, { training: training!, sink: (l) => lines.push(l) })
    expect(a.errors).toEqual([])
    expect(a.metrics.rounds).toBe(2)
    expect(a.metrics.training?.backend).not.toBe("statistical")
    expect(a.metrics.accuracy).toBeGreaterThan(a.metrics.training!.initialAccuracy + 0.2)
    expect(lines.filter((l) => l.includes('"round.done"'))).toHaveLength(2)
    const b = runScenario(s, { training: (await prepareTraining(s, s.seed))! })
    expect(b.traceHash).toBe(a.traceHash)
    expect(b.metrics.training?.modelHash).toBe(a.metrics.training?.modelHash)
  })
})

describe("round-result and round-scores transactions", () => {
  it("refuse a result from a non-validator, an old round, a reveal that does not match, and a reveal by another validator", () => {
    const s = parseScenario("name: tx\nnetwork: { validators: 4 }\nuntil: { time: 1m }\n", "tx.yaml")
    const w = new ConsensusWorld({ scenario: s, seed: 3, traceDeliveries: false })
    w.startAll()
    const SALT = `0x${"cd".repeat(32)}`
    const HASH = `0x${"ef".repeat(32)}`
    // Validators train too: v1 and v2 are the participants, each signing its update commitment.
    const scores = [{ account: "v1", score: 700 }, { account: "v2", score: 0 }]
    const keys = (id: string) => w.slots.get(id)!.keys
    const UPDATE = `0x${"ab".repeat(32)}`
    const attest = (round: number, id: string) => ({ updateHash: UPDATE, signature: toHex(Effect.runSync(keys(id).sign(attestationDigest(SIM_CHAIN_ID, round, id, UPDATE)))) })
    const nonces = new Map<string, number>()
    const submit = (id: string, body: Record<string, unknown>, k = keys(id)) => {
      const signer = k.address.toLowerCase()
      const nonce = nonces.get(signer) ?? 0
      nonces.set(signer, nonce + 1)
      return w.slots.get(id)!.node!.submitTx(signTx(SIM_CHAIN_ID, { ...body, signer, nonce } as never, (d) => Effect.runSync(k.sign(d))))
    }
    const result = (round: number, commitment = roundScoresCommitment(round, scores, SALT)) =>
      ({ type: "round-result", round, modelHash: HASH, accuracy: 900_000, participants: ["v1", "v2"], attestations: [attest(round, "v1"), attest(round, "v2")], scoresCommitment: commitment })
    const outsider = makeSimKeys(3, "t9", w.oracle)
    expect(submit("v0", result(1), outsider)).toMatch(/is not a validator/) // a valid signature, refused at the pool: not a validator
    expect(submit("v0", result(2))).toBeUndefined()
    expect(submit("v1", result(2))).toBeUndefined() // round 2 already has a result
    w.scheduler.runUntil({ time: 8_000 })
    expect(submit("v1", { type: "round-scores", round: 2, scores, salt: SALT })).toBeUndefined() // not v1's round
    expect(submit("v0", { type: "round-scores", round: 2, scores: [{ account: "v1", score: 999 }, { account: "v2", score: 0 }], salt: SALT })).toBeUndefined()
    expect(submit("v0", { type: "round-scores", round: 2, scores, salt: SALT })).toBeUndefined()
    w.scheduler.runUntil({ time: 16_000 })
    for (const id of s.validators) {
      const app = w.app(id)!
      expect([...app.rounds().keys()]).toEqual([2])
      expect(app.rounds().get(2)).toMatchObject({ coordinator: "v0", accuracy: 900_000 })
      expect(app.rounds().get(2)!.scores).toEqual(new Map([["v1", 700], ["v2", 0]]))
      expect(app.roundScores(app.rounds().get(2)!.epoch).get("v1")).toBe(700)
    }
  })
})

describe("training scenario files", () => {
  const bad = (text: string) => {
    try {
      parseScenario(text, "bad.yaml")
    } catch (e) {
      return e as FileError
    }
    throw new Error("expected a FileError")
  }
  it("refuses training behaviours on validators, consensus ones on trainers, and round triggers without trainers", () => {
    expect(bad(`name: b\n${BASE}until: { rounds: 2 }\nevents:\n  - at: { round: 1 }\n    byzantine: { nodes: [v1], behavior: signflip }\n`).message)
      .toBe('bad.yaml: events[0].byzantine.nodes[0]: "signflip" is a training behaviour, and v1 is not a trainer (t0, t1, ...)')
    expect(bad(`name: b\n${BASE}until: { rounds: 2 }\nevents:\n  - at: { round: 1 }\n    byzantine: { nodes: [t1], behavior: silent }\n`).key)
      .toBe("events[0].byzantine.nodes[0]")
    expect(bad("name: b\nnetwork: { validators: 4 }\nuntil: { height: 3 }\nevents:\n  - at: { round: 1 }\n    crash: v1\n").message)
      .toBe("bad.yaml: events[0].at.round: round triggers need trainers (network.trainers)")
    expect(bad(`name: b\n${BASE}until: { rounds: 2 }\nevents:\n  - at: { round: 1 }\n    byzantine: { nodes: [t1], behavior: sulk }\n`).reason).toMatch(/unknown behaviour "sulk"/)
  })
})

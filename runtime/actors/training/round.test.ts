/**
 * A round as both worlds run it (round-coordinator.ts + round-trainer.ts) over an in-memory
 * Network with a manual clock: trainers answer, the coordinator aggregates and commits; bad messages
 * (garbage, wrong sizes, non-finite numbers, another round, a forged secure-aggregation step) are
 * refused with a reason and change nothing the round computes.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { attestationDigest, forgedParticipants } from "../../core/app/round-attestation.ts"
import type { SignedTx } from "../../core/app/txs.ts"
import { keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { seededRandomBytes } from "../../core/training/secagg/index.ts"
import type { TrainingRoundOutput } from "../../machines/training.ts"
import type { Envelope, Network } from "../../services/network.ts"
import { RoundCoordinator, type RoundParams, type UnsignedRoundTx } from "./round-coordinator.ts"
import { RoundTrainer } from "./round-trainer.ts"
import { encodeTrain, floatBytes, TRAIN_TOPIC } from "./wire.ts"

/** Timers in virtual ms, run in order by `settle`. */
class ManualClock {
  now = 0
  #next = 0
  readonly #queue = new Map<number, { at: number; fn: () => void }>()
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++
    this.#queue.set(id, { at: this.now + Math.max(0, ms), fn })
    return id
  }
  clearTimeout(id: unknown): void {
    this.#queue.delete(id as number)
  }
  settle(until = Infinity): void {
    for (;;) {
      const first = [...this.#queue].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
      if (first === undefined || first[1].at > until) return
      this.#queue.delete(first[0])
      this.now = first[1].at
      first[1].fn()
    }
  }
}

/** Peers on one in-memory bus: a message arrives 1 ms after it is sent. */
const makeBus = (clock: ManualClock) => {
  const handlers = new Map<string, Map<string, Set<(e: Envelope) => void>>>()
  const network = (self: string): Network["Service"] => ({
    self,
    publish: () => Effect.void,
    report: () => Effect.void,
    send: (to, topic, data) => Effect.sync(() => {
      clock.setTimeout(() => {
        for (const h of handlers.get(to)?.get(topic) ?? []) h({ from: self, topic, data })
      }, 1)
    }),
    subscribe: (topic, handler) => Effect.sync(() => {
      const byTopic = handlers.get(self) ?? new Map<string, Set<(e: Envelope) => void>>()
      handlers.set(self, byTopic)
      const set = byTopic.get(topic) ?? new Set()
      byTopic.set(topic, set)
      set.add(handler)
      return Effect.sync(() => void set.delete(handler))
    }),
    peers: Effect.succeed([]),
    provide: () => Effect.void,
    unprovide: () => Effect.void,
    findProviders: () => Effect.succeed([]),
  })
  return network
}

const run = (e: Effect.Effect<void>) => Effect.runSync(e)
const params = (secure: boolean): RoundParams => ({
  cohortSize: 3, minParticipants: 3, deadline: 10_000, stepTimeout: 5_000, secureAggregation: secure, secAggThreshold: 2,
  aggregator: "fedavg", trimFraction: 0.1, clipNorm: 100, noiseMultiplier: 0,
})

/** A stand-in signature scheme: keccak256(key ‖ digest), 65 bytes; each trainer's key is its id. */
const sign = (key: string, digest: Uint8Array): string => {
  const h = keccak256(utf8ToBytes(`${key}/${toHex(digest)}`))
  return toHex(new Uint8Array([...h, ...h, 0]))
}
const CHAIN = 5

const setup = (secure: boolean, signed = false) => {
  const clock = new ManualClock()
  const network = makeBus(clock)
  const deltas: Record<string, number[]> = { t0: [1, 1], t1: [2, 2], t2: [3, 3] }
  const trainers = Object.keys(deltas).map((id) => {
    const t = new RoundTrainer({
      id, network: () => network(id), run, timers: { now: () => clock.now, after: (ms, fn) => void clock.setTimeout(fn, ms) }, modelLength: 2,
      localUpdate: () => ({ delta: Float32Array.from(deltas[id]!), samples: 1, loss: 0.5 }),
      secAgg: (round) => ({ threshold: 2, clip: 100, clipOwn: false, randomBytes: seededRandomBytes(`${id}/${round}`) }),
      ...(signed ? { attest: (round: number, hash: string) => sign(id, attestationDigest(CHAIN, round, id, hash)) } : {}),
    })
    run(Effect.asVoid(network(id).subscribe(TRAIN_TOPIC, (e) => t.handle(e))))
    return t
  })
  const submitted: UnsignedRoundTx[] = []
  const finished: Array<{ out: TrainingRoundOutput; candidate: Float32Array | undefined }> = []
  let committedAt: number | undefined
  const coordinator = new RoundCoordinator({
    round: 4, coordinator: "v0", network: network("v0"), run, clock, trainers: ["t0", "t1", "t2"], params: params(secure),
    random: () => 0.5, global: Float32Array.from([10, 20]), globalHash: "0x" + "0".repeat(64), lastChange: undefined,
    evaluate: (w) => ({ accuracy: Math.min(1, w[0]! / 20), loss: 1, samples: 1 }),
    normal: () => () => 0, salt: () => "0x" + "5".repeat(64), submit: (b) => void submitted.push(b),
    committed: () => (committedAt === undefined ? undefined : { height: committedAt }),
    onFinished: (out, candidate) => void finished.push({ out, candidate }),
    ...(signed ? { verifyAttestation: (id: string, round: number, hash: string, signature: string) => sign(id, attestationDigest(CHAIN, round, id, hash)) === signature } : {}),
  })
  return { clock, network, coordinator, trainers, submitted, finished, commit: (h: number) => (committedAt = h) }
}

describe("a training round over the Network port", () => {
  it("aggregates the cohort's updates, commits, reveals; bad messages are refused and change nothing", () => {
    const s = setup(false)
    const attacker = s.network("t1") // a peer claiming to be cohort member t1, sending junk first
    s.coordinator.start()
    for (const bytes of [
      new Uint8Array([9, 9, 9]),
      encodeTrain({ kind: "update", round: 4, samples: 1 }, floatBytes(Float32Array.from([1, 2, 3]))),
      encodeTrain({ kind: "update", round: 4, samples: 1 }, floatBytes(Float32Array.from([Number.NaN, 0]))),
      encodeTrain({ kind: "update", round: 3, samples: 1 }, floatBytes(Float32Array.from([1e9, 1e9]))),
    ]) run(Effect.ignore(attacker.send("v0", TRAIN_TOPIC, bytes)))
    s.clock.settle(1_000) // well before any timeout: every answer is in
    expect(s.coordinator.invalid).toBe(3)
    const result = s.submitted[0] as Extract<UnsignedRoundTx, { type: "round-result" }>
    expect(result).toMatchObject({ type: "round-result", round: 4, participants: ["t0", "t1", "t2"], accuracy: 600_000 })
    expect(s.finished).toEqual([]) // waiting for a block to hold the result
    s.commit(17)
    s.coordinator.onBlock()
    expect(s.finished[0]!.out).toMatchObject({ status: "done", round: 4, height: 17, participants: ["t0", "t1", "t2"] })
    expect([...s.finished[0]!.candidate!]).toEqual([12, 22]) // the global model plus the mean update
    expect(s.submitted[1]).toMatchObject({ type: "round-scores", round: 4, salt: "0x" + "5".repeat(64) })
  })

  it("runs secure aggregation through the trainers' sides; a forged step is refused", () => {
    const s = setup(true)
    s.coordinator.start()
    // An advert on behalf of another trainer: refused by the protocol check, not counted.
    run(Effect.ignore(s.network("t2").send("v0", TRAIN_TOPIC, encodeTrain({ kind: "advert", round: 4, body: { id: "t0", encryptionKey: { $b: "00" }, maskKey: { $b: "00" } } }))))
    s.clock.settle(1_000)
    expect(s.coordinator.invalid).toBe(1)
    s.commit(3)
    s.coordinator.onBlock()
    expect(s.finished[0]!.out).toMatchObject({ status: "done", participants: ["t0", "t1", "t2"] })
    s.finished[0]!.candidate!.forEach((w, i) => expect(w).toBeCloseTo([12, 22][i]!, 3))
  })

  it("aborts at the deadline with too few updates, and says why", () => {
    const lonely = setup(false)
    // A round whose cohort never answers: a coordinator on a bus with no trainers.
    const c = new RoundCoordinator({
      round: 1, coordinator: "v9", network: lonely.network("v9"), run, clock: lonely.clock, trainers: ["x0", "x1", "x2"], params: params(false),
      random: () => 0, global: Float32Array.from([0, 0]), globalHash: "0x" + "0".repeat(64), lastChange: undefined,
      evaluate: () => ({ accuracy: 0, loss: 0, samples: 0 }), normal: () => () => 0, salt: () => "0x" + "1".repeat(64),
      submit: () => {}, committed: () => undefined, onFinished: (out) => void lonely.finished.push({ out, candidate: undefined }),
    })
    c.start()
    lonely.clock.settle()
    expect(lonely.finished[0]!.out).toMatchObject({ status: "aborted", reason: "too few updates by the deadline: 0 of 3 (need 3)" })
  })

  it.each([false, true])("carries every participant's signature over its update in the result (secure aggregation: %s); an update signed by another key is refused", (secure) => {
    const s = setup(secure, true)
    s.coordinator.start()
    // Before t1's own update: an update as t1, signed with t0's key (t0 could not train as t1).
    const payload = floatBytes(Float32Array.from([50, 50]))
    if (!secure) run(Effect.ignore(s.network("t1").send("v0", TRAIN_TOPIC, encodeTrain({ kind: "update", round: 4, samples: 1, signature: sign("t0", new Uint8Array(32)) }, payload))))
    s.clock.settle(1_000)
    expect(s.coordinator.invalid).toBe(secure ? 0 : 1)
    const result = s.submitted[0] as unknown as Extract<SignedTx, { type: "round-result" }>
    expect(result.participants).toEqual(["t0", "t1", "t2"])
    const ledger = { chainId: CHAIN, trainerKey: (a: string) => a, verify: (key: string, d: Uint8Array, sig: Uint8Array) => sign(key, d) === toHex(sig) }
    expect(forgedParticipants(ledger, 4, result.participants, result.attestations)).toBeUndefined()
    // The same signatures do not hold for another round, nor for a participant that did not sign.
    expect(forgedParticipants(ledger, 5, result.participants, result.attestations)).toMatch(/^the signature of t0 /)
    expect(forgedParticipants(ledger, 4, ["t0", "t1", "v0"], result.attestations)).toMatch(/^the signature of v0 /)
  })
})

/**
 * A trainer's side of training rounds, in either world: it answers a coordinator's `model` with an
 * update trained on its own data (or, with secure aggregation, takes part in the key steps and sends
 * its masked update), and nothing of its data leaves it.
 *
 * What differs between the worlds comes in as options: how the update is made (the simulator's
 * byzantine behaviours corrupt it there), how long local compute "takes" (virtual time in the
 * simulator; nothing extra for real, where training took real time), timers, randomness for secure
 * aggregation, and whether a model's sender is accepted (a real node takes rounds only from the
 * coordinator the chain names).
 */
import { Effect, Result } from "effect"
import { updateHash } from "../../core/app/round-attestation.ts"
import type { RandomBytes, SecAggGraph } from "../../core/training/secagg/index.ts"
import { clipL2 } from "../../core/training/dp.ts"
import type { Envelope, Network, PeerId } from "../../services/network.ts"
import type { LocalUpdate } from "../../services/trainer.ts"
import { SecAggTrainer } from "./secagg-wire.ts"
import { bytesFloat, decodeTrain, encodeTrain, floatBytes, TRAIN_TOPIC, u32Bytes, type TrainHeader } from "./wire.ts"

/** A trainer's timers: now and "call `fn` in `ms`". */
export interface TrainerTimers {
  now(): number
  after(ms: number, fn: () => void): void
}

/** What the trainer side reports (the simulator traces `left`; a real node emits telemetry). */
export type TrainerEvent =
  | { readonly type: "trained"; readonly round: number; readonly samples: number; readonly loss: number; readonly coordinator: PeerId }
  | { readonly type: "left"; readonly round: number }
  | { readonly type: "invalid"; readonly from: PeerId; readonly reason: string }
  | { readonly type: "failed"; readonly round: number; readonly reason: string }

export interface RoundTrainerOptions {
  readonly id: string
  /** The trainer's network now (undefined while it is down: replies are lost). */
  readonly network: () => Network["Service"] | undefined
  readonly run: (effect: Effect.Effect<void>) => void
  readonly timers: TrainerTimers
  /** Parameters count of the model (a model or request of another size is refused). */
  readonly modelLength: number
  /**
   * Train from `global` for `round` and return what to send (throws, or rejects, when training
   * fails): synchronously in the simulator, as a promise on a real node whose updates run in a
   * worker thread (consensus and the network keep running meanwhile).
   */
  readonly localUpdate: (global: Float32Array, round: number) => LocalUpdate | PromiseLike<LocalUpdate>
  /** Extra time before the update goes out, given what was trained (virtual compute time in the simulator). */
  readonly computeDelay?: (samples: number) => number
  /** True when the trainer walks away after taking the model (the simulator's `dropout`). */
  readonly leaves?: () => boolean
  /** Secure aggregation's parameters for a round, and the randomness of its keys. */
  readonly secAgg: (round: number) => { readonly threshold: number; readonly clip: number; readonly clipOwn: boolean; readonly graph?: SecAggGraph; readonly randomBytes: RandomBytes }
  /** Whether to take part in `round` for the sender of its model (default: always). */
  readonly accept?: (from: PeerId, round: number) => boolean
  /**
   * Sign the update commitment of `round` for the update whose keccak256 is `hash`
   * (`attestationDigest` of runtime/core/app/round-attestation.ts, with this trainer's key): the
   * signature goes with the update, and a result without it is refused by every replica.
   */
  readonly attest?: (round: number, hash: string) => string
  readonly onEvent?: (event: TrainerEvent) => void
}

/** One trainer's side: feed it every message on the `train` topic. */
export class RoundTrainer {
  readonly #o: RoundTrainerOptions
  /** Its side of the current round's secure aggregation, and the update it will mask. */
  #secagg: { readonly round: number; readonly side: SecAggTrainer; readonly delta: Float32Array; readonly samples: number; readonly ready: number } | undefined
  /** Invalid messages received. */
  invalid = 0

  constructor(options: RoundTrainerOptions) {
    this.#o = options
  }

  #invalid(from: PeerId, reason: string): void {
    this.invalid++
    this.#o.onEvent?.({ type: "invalid", from, reason })
  }

  #send(to: PeerId, header: TrainHeader, payload?: Uint8Array): void {
    const bytes = encodeTrain(header, payload)
    const network = this.#o.network()
    if (network !== undefined) this.#o.run(Effect.ignore(network.send(to, TRAIN_TOPIC, bytes)))
  }

  /** A message on the `train` topic. */
  handle(env: Envelope): void {
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return this.#invalid(env.from, m.failure)
    const { header, payload } = m.success
    if (header.kind !== "model") {
      try {
        return this.#onSecAgg(env.from, header)
      } catch (e) {
        return this.#invalid(env.from, `${header.kind}: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    const global = bytesFloat(payload, this.#o.modelLength)
    if (global === undefined) return this.#invalid(env.from, `model of ${payload.length} bytes, expected ${this.#o.modelLength * 4}`)
    if (this.#o.accept !== undefined && !this.#o.accept(env.from, header.round)) return this.#invalid(env.from, `model of round ${header.round} from a peer that does not coordinate it`)
    const failed = (e: unknown) => this.#o.onEvent?.({ type: "failed", round: header.round, reason: e instanceof Error ? e.message : String(e) })
    let update: LocalUpdate | PromiseLike<LocalUpdate>
    try {
      update = this.#o.localUpdate(global, header.round)
    } catch (e) {
      return failed(e)
    }
    if (isPromiseLike(update)) {
      update.then((u) => this.#trained(env, header, u), failed)
      return
    }
    this.#trained(env, header, update)
  }

  /** What follows a local update: the update (or secure aggregation's advert) to the coordinator. */
  #trained(env: Envelope, header: TrainHeader, update: LocalUpdate): void {
    const compute = this.#o.computeDelay?.(update.samples) ?? 0
    this.#o.onEvent?.({ type: "trained", round: header.round, samples: update.samples, loss: update.loss, coordinator: env.from })
    if (header.secure === true) {
      const s = this.#o.secAgg(header.round)
      // Under secure aggregation nobody can clip for the trainer: with DP it clips its own update.
      const delta = s.clipOwn ? clipL2(update.delta, s.clip).clipped : update.delta
      const side = new SecAggTrainer(this.#o.id, { round: header.round, threshold: s.threshold, length: delta.length, clip: s.clip, graph: s.graph }, s.randomBytes)
      this.#secagg = { round: header.round, side, delta, samples: update.samples, ready: this.#o.timers.now() + compute }
      return this.#send(env.from, { kind: "advert", round: header.round, body: side.advertise() })
    }
    if (this.#o.leaves?.() === true) return this.#o.onEvent?.({ type: "left", round: header.round })
    const bytes = this.#signed({ kind: "update", round: header.round, samples: update.samples }, floatBytes(update.delta))
    this.#o.timers.after(compute, () => {
      const network = this.#o.network()
      if (network !== undefined) this.#o.run(Effect.ignore(network.send(env.from, TRAIN_TOPIC, bytes)))
    })
  }

  /** An update (or masked input) framed with this trainer's signature over its commitment. */
  #signed(header: TrainHeader, payload: Uint8Array): Uint8Array {
    const signature = this.#o.attest?.(header.round, updateHash(payload))
    return encodeTrain(signature === undefined ? header : { ...header, signature }, payload)
  }

  /** Secure aggregation's steps: key steps at once, the masked input once trained. */
  #onSecAgg(from: PeerId, header: TrainHeader): void {
    const a = this.#secagg
    if (a === undefined || a.round !== header.round) return
    switch (header.kind) {
      case "shares.request":
        return this.#send(from, { kind: "shares", round: a.round, body: a.side.shareKeys(header.body) })
      case "masked.request": {
        a.side.receiveShares(header.body)
        // Left after sharing its keys: its masks are in the others' inputs, and the survivors' shares remove them.
        if (this.#o.leaves?.() === true) return this.#o.onEvent?.({ type: "left", round: a.round })
        const bytes = this.#signed({ kind: "masked", round: a.round, samples: a.samples }, u32Bytes(a.side.masked(a.delta)))
        this.#o.timers.after(Math.max(0, a.ready - this.#o.timers.now()), () => {
          const network = this.#o.network()
          if (network !== undefined) this.#o.run(Effect.ignore(network.send(from, TRAIN_TOPIC, bytes)))
        })
        return
      }
      case "unmask.request":
        return this.#send(from, { kind: "unmask", round: a.round, body: a.side.unmask(header.body) })
      default:
        return
    }
  }
}

const isPromiseLike = <A>(x: A | PromiseLike<A>): x is PromiseLike<A> =>
  typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function"

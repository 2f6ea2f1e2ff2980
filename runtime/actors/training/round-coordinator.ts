/**
 * One training round as its coordinator runs it, in either world: the round machine
 * (runtime/machines/training.ts) wired to the Network port, aggregation, DP, evaluation, scores and
 * the two transactions.
 *
 *   open → model to the cohort (with secure aggregation: the key steps, relayed) → updates (or masked
 *   inputs) until all are in or the deadline → aggregate (`training.aggregator`, clipping each update
 *   and noising the aggregate when `training.dp.noiseMultiplier` > 0; with secure aggregation only
 *   the sum exists) → evaluate on held-out data, score the participants → `round-result` (model
 *   hash, accuracy, participants, a commitment to the scores) → once a block holds it: done, and the
 *   scores are revealed (`round-scores`) in a later block.
 *
 * What differs between the worlds comes in as options: the clock the machine runs on, how effects
 * run (synchronously in the simulator, as fibers in a real node), where randomness comes from, how a
 * transaction is signed and pooled, how the chain is read, and how trainer ids map to peers (the
 * same in the simulator; operator names ↔ libp2p peer ids in a real node).
 */
import { Effect, Result } from "effect"
import { createActor, type Actor } from "xstate"
import { updateHash, type RoundAttestation } from "../../core/app/round-attestation.ts"
import { roundScoresCommitment, type SignedTx } from "../../core/app/txs.ts"
import { aggregate } from "../../core/training/aggregators.ts"
import { addGaussianNoise, clipL2, noisyMean } from "../../core/training/dp.ts"
import { modelHash } from "../../core/training/hash.ts"
import { cohortScores, robustContributionScores } from "../../core/training/scores.ts"
import type { AggregatorName, ClientUpdate } from "../../core/training/types.ts"
import { trainingRoundMachine, type RoundResult, type TrainingRoundInput, type TrainingRoundOutput } from "../../machines/training.ts"
import type { Envelope, Network, PeerId } from "../../services/network.ts"
import type { Evaluation } from "../../services/trainer.ts"
import type { TimerClock } from "../../services/clock.ts"
import type { PendingRound } from "./pending-round.ts"
import { SecAggCoordinator } from "./secagg-wire.ts"
import type { SecAggGraph } from "../../core/training/secagg/index.ts"
import { bytesFloat, bytesU32, decodeTrain, encodeTrain, floatBytes, TRAIN_TOPIC, type TrainHeader } from "./wire.ts"

/** The round's parameters (from `training.*`, fixed when it opens). */
export interface RoundParams extends Pick<TrainingRoundInput, "cohortSize" | "minParticipants" | "deadline" | "stepTimeout" | "secureAggregation" | "secAggThreshold"> {
  readonly aggregator: AggregatorName
  readonly trimFraction: number
  readonly clipNorm: number
  readonly noiseMultiplier: number
  /** `training.secAggGraph`: "full" (every pair) or "sparse" (SecAgg+); "full" when absent. */
  readonly secAggGraph?: SecAggGraph
}

/** A transaction body before the signer, nonce and signature are added. */
export type UnsignedRoundTx = Omit<SignedTx, "signature" | "signer" | "nonce">

/** What a round reports as it goes (the simulator traces some, a real node emits telemetry). */
export type RoundEvent =
  | { readonly type: "opened"; readonly round: number; readonly cohort: readonly string[]; readonly model: string }
  | { readonly type: "update"; readonly round: number; readonly from: string; readonly received: number; readonly cohort: number }
  | { readonly type: "unmask"; readonly round: number; readonly survivors: readonly string[]; readonly dropped: readonly string[] }
  | { readonly type: "invalid"; readonly round: number; readonly from: string; readonly reason: string }

export interface RoundCoordinatorOptions {
  readonly round: number
  /** The coordinator's id (a validator). */
  readonly coordinator: string
  /** The coordinator's network. */
  readonly network: Network["Service"]
  /** Runs an effect: synchronously in the simulator, as a fiber in a real node. */
  readonly run: (effect: Effect.Effect<void>) => void
  /** The machine's clock (virtual or wall). */
  readonly clock: TimerClock
  /** Trainer ids that may be picked. */
  readonly trainers: readonly string[]
  /** The peer a trainer id is reached at, and the trainer id a peer trains as (default: the same string). */
  readonly peerOf?: (id: string) => PeerId | undefined
  readonly idOf?: (peer: PeerId) => string | undefined
  readonly params: RoundParams
  /** Uniform draws in [0, 1) for the cohort. */
  readonly random: () => number
  /** The global model the round starts from, and the last committed round's change of it. */
  readonly global: Float32Array
  readonly globalHash: string
  readonly lastChange: Float32Array | undefined
  /** Test accuracy and loss of weights on held-out data. */
  readonly evaluate: (weights: Float32Array) => Evaluation
  /** Standard normal draws for DP noise (asked for once, when the round aggregates). */
  readonly normal: () => () => number
  /** A fresh 32-byte salt (0x-hex) for the scores commitment. */
  readonly salt: () => string
  /** Sign a transaction as the coordinator and hand it to its consensus pool. */
  readonly submit: (body: UnsignedRoundTx) => void
  /**
   * Keep what the round's result commits to (the new model, the salt and the scores) durably; the
   * `round-result` is submitted once it has run (a real node: its store, so that a restart can serve
   * the model and reveal the scores). Without it the result is submitted at once.
   */
  readonly keep?: (pending: PendingRound) => Effect.Effect<void>
  /** The committed result of a round in the coordinator's chain, if any. */
  readonly committed: (round: number) => { readonly height: number } | undefined
  /**
   * Whether `signature` is trainer `id`'s over its update commitment of this round for the update
   * hashing to `hash` (round-attestation.ts, with the key the chain knows for `id`). With it, an
   * update without a valid signature is refused (an honest coordinator must not carry one: every
   * replica would find its result forged), and the result carries every participant's signature.
   */
  readonly verifyAttestation?: (id: string, round: number, hash: string, signature: string) => boolean
  readonly onEvent?: (event: RoundEvent) => void
  /** The round ended; `candidate` is the new global model when it is done. */
  readonly onFinished: (output: TrainingRoundOutput, candidate: Float32Array | undefined, loss: number | undefined) => void
}

/** One round, coordinated: create it, then `start()`; feed it `onBlock()` after every committed block. */
export class RoundCoordinator {
  readonly round: number
  readonly coordinator: string
  /** Invalid messages received. */
  invalid = 0
  readonly #o: RoundCoordinatorOptions
  readonly #actor: Actor<typeof trainingRoundMachine>
  readonly #updates = new Map<string, ClientUpdate>()
  /** Each counted trainer's signature over its update commitment. */
  readonly #attestations = new Map<string, RoundAttestation>()
  readonly #unsubscribe: Effect.Effect<void>
  readonly #secagg: SecAggCoordinator | undefined
  #cohort = 0
  #candidate: Float32Array | undefined
  #loss: number | undefined
  #commit: { readonly result: RoundResult; readonly salt: string } | undefined

  constructor(options: RoundCoordinatorOptions) {
    this.#o = options
    const { round, params: p } = options
    this.round = round
    this.coordinator = options.coordinator
    const length = options.global.length
    this.#secagg = p.secureAggregation ? new SecAggCoordinator({ round, threshold: p.secAggThreshold, length, clip: p.clipNorm, graph: p.secAggGraph }) : undefined
    const secagg = this.#secagg
    const peerOf = options.peerOf ?? ((id: string) => id)
    const sendTo = (ids: readonly string[], header: TrainHeader, payload?: Uint8Array) => {
      const bytes = encodeTrain(header, payload)
      for (const id of ids) {
        const peer = peerOf(id)
        if (peer !== undefined) options.run(Effect.ignore(options.network.send(peer, TRAIN_TOPIC, bytes)))
      }
    }
    /** A secure-aggregation step that cannot close ends the round, with the protocol's reason. */
    const step = (what: () => void) => {
      try {
        what()
      } catch (e) {
        this.#actor.send({ type: "round.abort", reason: `secure aggregation: ${e instanceof Error ? e.message : String(e)}` })
      }
    }
    const machine = trainingRoundMachine.provide({
      actions: {
        announce: (_, a) => {
          this.#cohort = a.cohort.length
          options.onEvent?.({ type: "opened", round, cohort: [...a.cohort], model: options.globalHash })
          sendTo(a.cohort, { kind: "model", round, secure: p.secureAggregation }, floatBytes(options.global))
        },
        requestShares: (_, a) => step(() => sendTo(a.participants, { kind: "shares.request", round, body: secagg!.closeAdvertise() })),
        requestMasked: () => step(() => {
          for (const [id, body] of secagg!.closeShareKeys()) sendTo([id], { kind: "masked.request", round, body })
        }),
        requestUnmask: () => step(() => {
          const { request, body } = secagg!.closeMasked()
          options.onEvent?.({ type: "unmask", round, survivors: [...request.survivors], dropped: [...request.dropped] })
          sendTo(request.survivors, { kind: "unmask.request", round, body })
        }),
        // Whatever these throw ends the round with the reason (on a real node's timers, a throw would end the process).
        aggregate: (_, a) => this.#guard("aggregate.failed", () => this.#aggregate(a.participants)),
        evaluate: (_, a) => this.#guard("evaluation.failed", () => this.#evaluate(a.participants)),
        commit: (_, r) => this.#submitResult(r),
        finished: (_, out) => {
          options.run(this.#unsubscribe)
          options.onFinished(out, out.status === "done" ? this.#candidate : undefined, this.#loss)
        },
      },
    })
    this.#unsubscribe = Effect.runSync(options.network.subscribe(TRAIN_TOPIC, (env) => this.#onMessage(env)))
    this.#actor = createActor(machine, {
      clock: options.clock as never,
      input: {
        round, trainers: options.trainers, cohortSize: p.cohortSize, deadline: p.deadline, minParticipants: p.minParticipants,
        stepTimeout: p.stepTimeout, secureAggregation: p.secureAggregation, secAggThreshold: p.secAggThreshold, random: options.random,
      },
    })
  }

  /** Open the round: draw the cohort and send it the model. */
  start(): void {
    this.#actor.start()
    this.#actor.send({ type: "round.open" })
  }

  /** End the round now (the coordinator is going away). */
  abort(reason: string): void {
    this.#actor.send({ type: "round.abort", reason })
  }

  /** After every committed block: is the pending round result in the coordinator's chain yet? */
  onBlock(): void {
    if (this.#commit === undefined) return
    const record = this.#o.committed(this.round)
    if (record === undefined) return
    const { result, salt } = this.#commit
    this.#commit = undefined
    this.#actor.send({ type: "commit.done", height: record.height })
    // The reveal goes in a later block than the commitment (the app refuses it in the same one).
    const scores = result.participants.map((id) => ({ account: id, score: result.scores[id] ?? 0 }))
    this.#o.submit({ type: "round-scores", round: this.round, scores, salt } as UnsignedRoundTx)
  }

  #guard(failed: "aggregate.failed" | "evaluation.failed", what: () => void): void {
    try {
      what()
    } catch (e) {
      this.#actor.send({ type: failed, reason: e instanceof Error ? e.message : String(e) })
    }
  }

  #invalid(from: string, reason: string): void {
    this.invalid++
    this.#o.onEvent?.({ type: "invalid", round: this.round, from, reason })
  }

  #onMessage(env: Envelope): void {
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return this.#invalid(env.from, m.failure)
    const { header, payload } = m.success
    if (header.round !== this.round) return
    const from = (this.#o.idOf ?? ((peer: string) => peer))(env.from)
    if (from === undefined) return this.#invalid(env.from, `${header.kind} from a peer that trains for no known validator`)
    if ((header.kind === "update" || header.kind === "masked") && !this.#attested(from, header, payload)) return
    if (this.#secagg !== undefined) return this.#onSecAggMessage(from, header, payload)
    if (header.kind !== "update") return
    const delta = bytesFloat(payload, this.#o.global.length)
    if (delta === undefined) return this.#invalid(from, `update of ${payload.length} bytes, expected ${this.#o.global.length * 4}`)
    if (!delta.every(Number.isFinite)) return this.#invalid(from, "update holds a non-finite number")
    this.#updates.set(from, { id: from, delta, samples: Math.max(1, header.samples ?? 1) })
    this.#actor.send({ type: "update.received", from })
    this.#progress(from)
  }

  /** Keep the signature of an update (or masked input); false, reported, when it has none or it is not the trainer's. */
  #attested(from: string, header: TrainHeader, payload: Uint8Array): boolean {
    const verify = this.#o.verifyAttestation
    if (verify === undefined) return true
    const hash = updateHash(payload)
    const why = header.signature === undefined ? `${header.kind} without its signature`
      : verify(from, this.round, hash, header.signature) ? undefined : `${header.kind} with a signature that is not ${from}'s over its update of round ${this.round}`
    if (why !== undefined) {
      this.#invalid(from, why)
      return false
    }
    this.#attestations.set(from, { updateHash: hash, signature: header.signature! })
    return true
  }

  #progress(from: string): void {
    if (this.#o.onEvent !== undefined) this.#o.onEvent({ type: "update", round: this.round, from, received: this.#updates.size, cohort: this.#cohort })
  }

  /** A step of secure aggregation reaching the coordinator: the protocol checks it before the machine counts it. */
  #onSecAggMessage(from: string, header: TrainHeader, payload: Uint8Array): void {
    const s = this.#secagg!
    try {
      switch (header.kind) {
        case "advert":
          s.receiveAdvert(from, header.body)
          return void this.#actor.send({ type: "advert.received", from })
        case "shares":
          s.receiveShares(from, header.body)
          return void this.#actor.send({ type: "shares.received", from })
        case "masked": {
          const masked = bytesU32(payload, this.#o.global.length)
          if (masked === undefined) return this.#invalid(from, `masked input of ${payload.length} bytes, expected ${this.#o.global.length * 4}`)
          s.receiveMasked(from, masked)
          this.#updates.set(from, { id: from, delta: new Float32Array(0), samples: Math.max(1, header.samples ?? 1) })
          this.#actor.send({ type: "update.received", from })
          return this.#progress(from)
        }
        case "unmask":
          s.receiveUnmask(from, header.body)
          return void this.#actor.send({ type: "unmask.received", from })
        default:
          return
      }
    } catch (e) {
      this.#invalid(from, `${header.kind}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  #aggregate(participants: readonly string[]): void {
    const { params: p, global } = this.#o
    const noise = p.noiseMultiplier
    const clip = p.clipNorm
    if (this.#secagg !== undefined) {
      // Only the sum of the survivors' (clipped, quantized) updates exists: its mean, noised with DP.
      let sum: Float32Array
      try {
        sum = this.#secagg.finish(participants.length)
      } catch (e) {
        return void this.#actor.send({ type: "aggregate.failed", reason: `secure aggregation: ${e instanceof Error ? e.message : String(e)}` })
      }
      const mean = noisyMean(sum, participants.length, clip, noise, this.#o.normal())
      this.#candidate = global.map((w, i) => w + mean[i]!)
      return void this.#actor.send({ type: "aggregate.done", modelHash: modelHash(this.#candidate) })
    }
    let updates = participants.map((id) => this.#updates.get(id)!)
    if (noise > 0) updates = updates.map((u) => ({ ...u, delta: clipL2(u.delta, clip).clipped }))
    let combined: Float32Array
    try {
      combined = aggregate(p.aggregator, updates, { trimFraction: p.trimFraction })
    } catch (e) {
      return void this.#actor.send({ type: "aggregate.failed", reason: e instanceof Error ? e.message : String(e) })
    }
    // Gaussian mechanism on the mean of clipped updates: each one moves it by at most clip / n.
    if (noise > 0) combined = addGaussianNoise(combined, (noise * clip) / updates.length, this.#o.normal())
    const next = global.map((w, i) => w + combined[i]!)
    this.#candidate = next
    this.#actor.send({ type: "aggregate.done", modelHash: modelHash(next) })
  }

  #evaluate(participants: readonly string[]): void {
    const candidate = this.#candidate!
    let evaluation: Evaluation
    try {
      evaluation = this.#o.evaluate(candidate)
    } catch (e) {
      return void this.#actor.send({ type: "evaluation.failed", reason: e instanceof Error ? e.message : String(e) })
    }
    this.#loss = evaluation.loss
    if (this.#secagg !== undefined || participants.length < 2) {
      // No single update is visible (or none to compare it with): the cohort shares one score, from
      // what the round did to the loss.
      const scores = cohortScores(participants, this.#o.evaluate(this.#o.global).loss, evaluation.loss)
      return void this.#actor.send({ type: "evaluation.done", accuracy: evaluation.accuracy, scores: Object.fromEntries(participants.map((id) => [id, scores.get(id) ?? 0])) })
    }
    // Each update against the median of the others (a minority cannot move it), with stale replays of
    // the last round's change scoring 0.
    const last = this.#o.lastChange
    const scores = robustContributionScores(participants.map((id) => this.#updates.get(id)!), last === undefined ? {} : { previous: last })
    this.#actor.send({ type: "evaluation.done", accuracy: evaluation.accuracy, scores: Object.fromEntries(participants.map((id) => [id, scores.get(id) ?? 0])) })
  }

  #submitResult(result: RoundResult): void {
    const salt = this.#o.salt()
    const scores = result.participants.map((id) => ({ account: id, score: result.scores[id] ?? 0 }))
    this.#commit = { result, salt }
    const submit = () => this.#o.submit({
      type: "round-result", round: this.round, modelHash: result.modelHash, accuracy: Math.round(result.accuracy * 1_000_000),
      ...(this.#loss === undefined || !Number.isFinite(this.#loss) ? {} : { loss: Math.min(1e12, Math.round(this.#loss * 1_000_000)) }),
      participants: [...result.participants], scoresCommitment: roundScoresCommitment(this.round, scores, salt),
      ...(this.#o.verifyAttestation === undefined ? {} : { attestations: result.participants.map((id) => this.#attestations.get(id)!) }),
    } as UnsignedRoundTx)
    const keep = this.#o.keep
    if (keep === undefined) return submit()
    // Kept before it is submitted: once the result may commit, a crash must not lose the model or the salt.
    this.#o.run(Effect.andThen(keep({ round: this.round, modelHash: result.modelHash, salt, scores, weights: this.#candidate! }), Effect.sync(submit)))
  }
}

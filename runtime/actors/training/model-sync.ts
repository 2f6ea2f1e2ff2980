/**
 * Which global model a training node holds, kept in step with the chain: the chain's last committed
 * round names a model hash; a node adopts a gossiped (or answered) model only when its weights hash
 * to that, else it asks the round's coordinator for it, at most every few seconds. The adopted
 * model is kept in the node's store, so a restart resumes from it if the chain still names it; and
 * a node answers a peer's `global.request` for a model it has.
 */
import { Effect, Result } from "effect"
import type { App } from "../../core/app/app.ts"
import { modelHash } from "../../core/training/hash.ts"
import type { Envelope, Network } from "../../services/network.ts"
import type { Store } from "../../services/store.ts"
import type { Roster } from "./roster.ts"
import { bytesFloat, decodeTrain, encodeTrain, floatBytes, TRAIN_TOPIC } from "./wire.ts"

/** Store key of the last adopted global model (a `global` message: header + weights). */
const GLOBAL_KEY = "training/global"
/** Ask for a missing model at most this often. */
const ASK_EVERY_MS = 3_000
/** Gossiped models kept until the chain names one of them. */
const MAX_CANDIDATES = 4
/** How long a fetch by hash (a validator checking a round result) waits for an answer. */
export const FETCH_TIMEOUT_MS = 10_000

/** A global model: its weights, their hash, and the round that made it (0: the initial model). */
export interface GlobalModel {
  readonly weights: Float32Array
  readonly hash: string
  readonly round: number
}

export interface ModelSyncOptions {
  readonly app: App
  readonly network: Network["Service"]
  readonly store: Store["Service"]
  /** Who coordinated a round, as a peer to ask. */
  readonly roster: Roster
  readonly initialWeights: Float32Array
  readonly now: () => number
  readonly run: (effect: Effect.Effect<void>) => void
  /** A peer sent a model that is not what it claims. */
  readonly invalid: (from: string, reason: string) => void
  /** A new candidate model arrived (the chain may name it now). */
  readonly onCandidate: () => void
  /** Call `fn` in `ms` (the node's timers): a fetch by hash gives up after FETCH_TIMEOUT_MS. */
  readonly after?: (ms: number, fn: () => void) => void
}

/** The node's global model and the candidates it may adopt. */
export class ModelSync {
  readonly initial: GlobalModel
  #global: GlobalModel
  #lastChange: Float32Array | undefined
  readonly #candidates = new Map<string, Float32Array>()
  #lastAsk = 0
  /** The model being asked for, and how many asks it has had (which peer is next). */
  #asking: string | undefined
  #asks = 0
  /** Fetches by hash waiting for their model. */
  readonly #fetching = new Map<string, Array<(weights: Float32Array | undefined) => void>>()
  readonly #o: ModelSyncOptions

  constructor(o: ModelSyncOptions) {
    this.#o = o
    this.initial = { weights: o.initialWeights, hash: modelHash(o.initialWeights), round: 0 }
    this.#global = this.initial
  }

  /** The model this node holds. */
  get global(): GlobalModel {
    return this.#global
  }

  /** How the last adoption changed the weights (a robust aggregator's reference), if the shapes matched. */
  get lastChange(): Float32Array | undefined {
    return this.#lastChange
  }

  /** The model the chain's last round committed (the initial model before any). */
  chainModel(): string {
    const { app } = this.#o
    return app.rounds().get(app.lastRound)?.modelHash ?? this.initial.hash
  }

  /** Keep a model this node made (its own round's aggregate) until the chain names it. */
  offer(hash: string, weights: Float32Array): void {
    this.#candidates.set(hash, weights)
  }

  /**
   * Take the chain's model from the candidates, or ask for it; true when held. The coordinator that
   * committed it is asked first, then every other known trainer in turn (any node that adopted it
   * answers), so a coordinator that died after its round committed does not hold the others up.
   */
  sync(): boolean {
    const { app, roster, network, run } = this.#o
    const want = this.chainModel()
    if (this.#global.hash === want) return true
    const weights = this.#candidates.get(want)
    if (weights !== undefined) {
      this.#adopt(weights, want, app.lastRound)
      return true
    }
    if (this.#asking !== want) {
      this.#asking = want
      this.#asks = 0
    }
    const record = app.rounds().get(app.lastRound)
    const first = record === undefined ? undefined : roster.peerOf(record.coordinator)
    const others = roster.operators.map((op) => roster.peerOf(op)).filter((p) => p !== undefined && p !== first && p !== network.self)
    const peers = [...(first === undefined ? [] : [first]), ...others]
    if (peers.length > 0 && this.#o.now() - this.#lastAsk >= ASK_EVERY_MS) {
      this.#lastAsk = this.#o.now()
      const peer = peers[this.#asks++ % peers.length]!
      run(Effect.ignore(network.send(peer, TRAIN_TOPIC, encodeTrain({ kind: "global.request", round: app.lastRound, body: { modelHash: want } }))))
    }
    return false
  }

  /**
   * The weights hashing to `hash`, from this node or asked of every known trainer (the coordinator
   * that made them holds them before its result commits); `done(undefined)` after FETCH_TIMEOUT_MS
   * without an answer. A validator checking a round result's claimed accuracy fetches so.
   */
  fetch(hash: string, round: number, done: (weights: Float32Array | undefined) => void): void {
    const held = this.#global.hash === hash ? this.#global.weights : this.#candidates.get(hash)
    if (held !== undefined) return done(held)
    const waiting = this.#fetching.get(hash)
    if (waiting !== undefined) return void waiting.push(done)
    this.#fetching.set(hash, [done])
    const { roster, network, run } = this.#o
    const request = encodeTrain({ kind: "global.request", round, body: { modelHash: hash } })
    for (const op of roster.operators) {
      const peer = roster.peerOf(op)
      if (peer !== undefined && peer !== network.self) run(Effect.ignore(network.send(peer, TRAIN_TOPIC, request)))
    }
    this.#o.after?.(FETCH_TIMEOUT_MS, () => this.#settle(hash, undefined))
  }

  #settle(hash: string, weights: Float32Array | undefined): void {
    const waiting = this.#fetching.get(hash)
    if (waiting === undefined) return
    this.#fetching.delete(hash)
    for (const done of waiting) done(weights)
  }

  /** A model that arrived (gossip or an answer): kept if it is what it says it is. */
  receive(env: Envelope, round: number, claimed: string, payload: Uint8Array): void {
    const size = this.initial.weights.length
    const weights = bytesFloat(payload, size)
    if (weights === undefined) return this.#o.invalid(env.from, `global model of ${payload.length} bytes, expected ${size * 4}`)
    if (modelHash(weights) !== claimed) return this.#o.invalid(env.from, `global model of round ${round} does not hash to ${claimed}`)
    if (claimed === this.#global.hash) return
    this.#settle(claimed, weights)
    this.#candidates.set(claimed, weights)
    while (this.#candidates.size > MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!)
    this.#o.onCandidate()
  }

  /** Answer a peer's request for a model this node holds (silence otherwise). */
  answer(env: Envelope, round: number, wanted: string): void {
    const weights = this.#global.hash === wanted ? this.#global.weights : this.#candidates.get(wanted)
    if (weights === undefined) return
    this.#o.run(Effect.ignore(this.#o.network.send(env.from, TRAIN_TOPIC, encodeTrain({ kind: "global", round, body: { modelHash: wanted } }, floatBytes(weights)))))
  }

  /** Offer the model kept from before a restart (adopted if the chain still names it). */
  restore(): void {
    const { store, run } = this.#o
    const size = this.initial.weights.length
    const candidates = this.#candidates
    run(Effect.gen(function*() {
      const bytes = yield* store.get(GLOBAL_KEY)
      if (bytes === undefined) return
      const m = decodeTrain(bytes)
      if (Result.isFailure(m) || m.success.header.kind !== "global") return
      const weights = bytesFloat(m.success.payload, size)
      if (weights !== undefined && modelHash(weights) === (m.success.header.body as { modelHash: string }).modelHash) {
        candidates.set(modelHash(weights), weights)
      }
    }).pipe(Effect.ignore))
  }

  #adopt(weights: Float32Array, hash: string, round: number): void {
    const global = this.#global
    if (global.hash === hash) return
    this.#lastChange = weights.length === global.weights.length ? weights.map((w, i) => w - global.weights[i]!) : undefined
    this.#global = { weights, hash, round }
    this.#candidates.delete(hash)
    this.#o.run(Effect.ignore(this.#o.store.put(GLOBAL_KEY, encodeTrain({ kind: "global", round, body: { modelHash: hash } }, floatBytes(weights)))))
  }
}

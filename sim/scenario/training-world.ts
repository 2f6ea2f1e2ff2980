/**
 * Federated training rounds in the simulated network, beside the consensus world.
 *
 * Trainers t0..tn are nodes of the same simulated network (latency, loss, partitions and crashes
 * apply to them), each with its own Trainer on its own data (training-setup.ts). Each round is
 * coordinated by a validator drawn from the seed among the running ones; it runs the round machine
 * (runtime/machines/training.ts) on the simulator's clock. The global model and the updates travel
 * as network messages (training-wire.ts); the coordinator aggregates with `training.aggregator`
 * (clipping each update and adding Gaussian noise to the aggregate when
 * `training.dp.noiseMultiplier` > 0), evaluates the result on held-out data, scores the
 * participants, and submits a `round-result` transaction (model hash, accuracy, participants and a
 * commitment to the scores) through its consensus node. Once a block holds it, the round is done,
 * the aggregate becomes the global model, and the coordinator reveals the scores (`round-scores`) in
 * a later block; every replica credits them to the trainers' accounts.
 *
 * The weights themselves stay off-chain: the next coordinator starts from the model whose hash the
 * chain holds (the simulation keeps one copy and checks its hash before each round).
 */
import { Effect, Result } from "effect"
import { createActor, type Actor } from "xstate"
import { roundScoresCommitment, signTx, type SignedTx } from "../../runtime/core/app/txs.ts"
import { toHex } from "../../runtime/core/crypto.ts"
import { aggregate } from "../../runtime/core/training/aggregators.ts"
import { addGaussianNoise, clipL2, noisyMean } from "../../runtime/core/training/dp.ts"
import { modelHash } from "../../runtime/core/training/hash.ts"
import { RdpAccountant } from "../../runtime/core/training/rdp.ts"
import { cohortScores, robustContributionScores } from "../../runtime/core/training/scores.ts"
import type { ClientUpdate } from "../../runtime/core/training/types.ts"
import { trainingRoundMachine, type RoundResult, type TrainingRoundOutput } from "../../runtime/machines/training.ts"
import type { Envelope } from "../../runtime/services/network.ts"
import { attachSimNetwork, type SimNetworkPort } from "../adapters/network.ts"
import { gaussian } from "../adapters/trainer.ts"
import { trainingFault, type TrainingFault } from "../faults/training.ts"
import { Prng } from "../kernel/prng.ts"
import type { Scenario, TrainingBehavior } from "./load.ts"
import { SecAggCoordinator, SecAggTrainer } from "./training-secagg.ts"
import { bytesFloat, bytesU32, decodeTrain, encodeTrain, floatBytes, TRAIN_TOPIC, u32Bytes, type TrainHeader } from "./training-wire.ts"
import type { TrainingSetup } from "./training-setup.ts"
import { SIM_CHAIN_ID, type ConsensusWorld } from "./world.ts"

/** Pause between the end of a round and the opening of the next. */
export const ROUND_GAP = 1_000
/** DP's δ at which epsilon is reported. */
export const DP_DELTA = 1e-5

export interface RoundOutcome extends TrainingRoundOutput {
  readonly coordinator: string
  readonly openedAt: number
  readonly endedAt: number
}

export interface TrainingWorldOptions {
  readonly world: ConsensusWorld
  readonly scenario: Scenario
  readonly seed: number
  readonly setup: TrainingSetup
  /** Called as round `round` is about to open (the runner fires `at: { round }` events here). */
  readonly beforeRound?: (round: number) => void
}

interface TrainerNode {
  readonly id: string
  readonly prng: Prng
  port: SimNetworkPort | undefined
  unsubscribe: Effect.Effect<void> | undefined
  fault: TrainingFault | undefined
  /** Its side of the current round's secure aggregation, and the update it will mask. */
  secagg: { readonly round: number; readonly side: SecAggTrainer; readonly delta: Float32Array; readonly samples: number; readonly ready: number } | undefined
}

interface CurrentRound {
  readonly round: number
  readonly coordinator: string
  readonly openedAt: number
  readonly actor: Actor<typeof trainingRoundMachine>
  readonly updates: Map<string, ClientUpdate>
  readonly unsubscribe: Effect.Effect<void>
  /** The coordinator's side of secure aggregation (when `training.secureAggregation`). */
  readonly secagg: SecAggCoordinator | undefined
  candidate: Float32Array | undefined
  commit: { readonly result: RoundResult; readonly salt: string } | undefined
}

const hex32 = (prng: Prng) => {
  const b = new Uint8Array(32)
  for (let i = 0; i < 32; i += 4) new DataView(b.buffer).setUint32(i, prng.u32(), true)
  return toHex(b)
}

export class TrainingWorld {
  readonly outcomes: RoundOutcome[] = []
  /** Rounds whose result a block holds. */
  completed = 0
  /** Test accuracy of the global model (of the last committed round). */
  accuracy: number | undefined
  readonly initialAccuracy: number
  /** Invalid training messages (undecodable, wrong size), by receiver. */
  invalid = 0
  readonly #o: TrainingWorldOptions
  readonly #trainers = new Map<string, TrainerNode>()
  readonly #prng: Prng
  readonly #accountant = new RdpAccountant()
  #dpRounds = 0
  #global: Float32Array
  #globalHash: string
  /** The global change of the last committed round (what a stale free rider re-sends). */
  #lastChange: Float32Array | undefined
  #next = 1
  #current: CurrentRound | undefined
  #stopped = false
  readonly #nonces = new Map<string, number>()

  constructor(options: TrainingWorldOptions) {
    this.#o = options
    this.#prng = Prng.fromSeed(options.seed).child("training")
    this.#global = options.setup.initialWeights
    this.#globalHash = modelHash(this.#global)
    this.initialAccuracy = options.setup.evaluate(this.#global).accuracy
    for (const id of options.scenario.trainers) {
      this.#trainers.set(id, { id, prng: this.#prng.child(`trainer/${id}`), port: undefined, unsubscribe: undefined, fault: undefined, secagg: undefined })
    }
  }

  /** Which backend trains (`statistical` or a TensorFlow.js backend). */
  get backend(): string {
    return this.#o.setup.backend
  }

  get globalHash(): string {
    return this.#globalHash
  }

  /** Total DP epsilon at δ = 1e-5 over the rounds with noise (undefined when DP is off). */
  get epsilon(): number | undefined {
    return this.#dpRounds === 0 ? undefined : this.#accountant.epsilon(DP_DELTA).epsilon
  }

  /** Attach every trainer and open the first round at `at`. */
  start(at: number): void {
    for (const id of this.#trainers.keys()) this.restart(id)
    this.#o.world.scheduler.at(at, () => this.#open())
  }

  /** Stop opening rounds (the run ends). */
  stop(): void {
    this.#stopped = true
  }

  /** Make trainers behave as `behavior` from now on. */
  setFault(ids: readonly string[], behavior: TrainingBehavior): void {
    for (const id of ids) this.#trainers.get(id)!.fault = trainingFault(behavior)
  }

  isTrainer(id: string): boolean {
    return this.#trainers.has(id)
  }

  /** A trainer crashes: it is cut off and forgets the round it was in. */
  crash(id: string): void {
    const t = this.#trainers.get(id)!
    if (t.unsubscribe !== undefined) Effect.runSync(t.unsubscribe)
    t.port?.detach()
    t.port = undefined
    t.unsubscribe = undefined
    this.#o.world.net.setDown(id, true)
  }

  /** A trainer (re)joins the network. */
  restart(id: string): void {
    const t = this.#trainers.get(id)!
    if (t.port !== undefined) return
    t.port = attachSimNetwork(this.#o.world.net, id, {
      onDrop: (reason, from, topic) => {
        if (reason === "handler-error") this.#o.world.errors.push(`${id}: a handler threw on a message from ${from} on ${topic}`)
      },
    })
    this.#o.world.net.setDown(id, false)
    t.unsubscribe = Effect.runSync(t.port.network.subscribe(TRAIN_TOPIC, (env) => this.#onTrainerMessage(t, env)))
  }

  /** A validator crashed: a round it coordinates is aborted. */
  validatorCrashed(id: string): void {
    if (this.#current?.coordinator === id) this.#current.actor.send({ type: "round.abort", reason: `coordinator ${id} crashed` })
  }

  /** After every committed block: is the pending round result in the coordinator's chain yet? */
  onBlock(): void {
    const c = this.#current
    if (c?.commit === undefined) return
    const record = this.#o.world.app(c.coordinator)?.rounds().get(c.round)
    if (record === undefined) return
    const { result, salt } = c.commit
    c.commit = undefined
    c.actor.send({ type: "commit.done", height: record.height })
    // The reveal goes in a later block than the commitment (the app refuses it in the same one).
    const scores = result.participants.map((id) => ({ account: id, score: result.scores[id] ?? 0 }))
    this.#submit(c.coordinator, { type: "round-scores", round: c.round, scores, salt } as Omit<SignedTx, "signature" | "signer" | "nonce">)
  }

  #trace(kind: string, data: Record<string, unknown>, node?: string): void {
    this.#o.world.trace.record({ t: this.#o.world.scheduler.now, kind, ...(node === undefined ? {} : { node }), ...(data as Record<string, never>) })
  }

  #open(): void {
    if (this.#stopped) return
    const round = this.#next++
    this.#o.beforeRound?.(round)
    const { world, scenario } = this.#o
    const p = scenario.params
    const running = scenario.validators.filter((id) => world.slots.get(id)?.node !== undefined && world.slots.get(id)?.port !== undefined)
    if (running.length === 0) {
      this.#trace("round.aborted", { round, reason: "no running validator to coordinate" })
      world.scheduler.after(ROUND_GAP, () => this.#open())
      return
    }
    const pick = this.#prng.child(`round/${round}`)
    const coordinator = running[pick.int(running.length)]!
    const port = world.slots.get(coordinator)!.port!
    const updates = new Map<string, ClientUpdate>()
    const cohortSize = Math.max(1, Math.ceil(p["training.cohort"] * scenario.trainers.length))
    const deadline = p["training.roundDeadline"]
    const secure = p["training.secureAggregation"]
    const secAggThreshold = Math.max(2, Math.ceil(p["training.secAggThreshold"] * cohortSize))
    const secagg = secure ? new SecAggCoordinator({ round, threshold: secAggThreshold, length: this.#global.length, clip: p["training.dp.clipNorm"] }) : undefined
    const sendTo = (ids: readonly string[], header: TrainHeader, payload?: Uint8Array) => {
      const bytes = encodeTrain(header, payload)
      for (const id of ids) Effect.runSync(Effect.ignore(port.network.send(id, TRAIN_TOPIC, bytes)))
    }
    /** A secure-aggregation step that cannot close ends the round, with the protocol's reason. */
    const step = (what: () => void) => {
      try {
        what()
      } catch (e) {
        this.#current?.actor.send({ type: "round.abort", reason: `secure aggregation: ${e instanceof Error ? e.message : String(e)}` })
      }
    }
    const machine = trainingRoundMachine.provide({
      actions: {
        announce: (_, a) => {
          this.#trace("round.opened", { round, cohort: [...a.cohort], model: this.#globalHash }, coordinator)
          sendTo(a.cohort, { kind: "model", round, secure }, floatBytes(this.#global))
        },
        requestShares: (_, a) => step(() => sendTo(a.participants, { kind: "shares.request", round, body: secagg!.closeAdvertise() })),
        requestMasked: () => step(() => {
          for (const [id, body] of secagg!.closeShareKeys()) sendTo([id], { kind: "masked.request", round, body })
        }),
        requestUnmask: () => step(() => {
          const { request, body } = secagg!.closeMasked()
          this.#trace("round.unmask", { round, survivors: [...request.survivors], dropped: [...request.dropped] }, coordinator)
          sendTo(request.survivors, { kind: "unmask.request", round, body })
        }),
        aggregate: (_, a) => this.#aggregate(a.participants),
        evaluate: (_, a) => this.#evaluate(a.participants),
        commit: (_, r) => this.#commit(r),
        finished: (_, out) => this.#finished(out),
      },
    })
    const unsubscribe = Effect.runSync(port.network.subscribe(TRAIN_TOPIC, (env) => this.#onCoordinatorMessage(round, env)))
    const actor = createActor(machine, {
      clock: world.clock as never,
      input: {
        round, trainers: scenario.trainers, cohortSize, deadline,
        minParticipants: Math.max(1, Math.ceil(p["training.minParticipants"] * cohortSize)),
        stepTimeout: Math.max(5_000, Math.round(deadline / 3)),
        secureAggregation: secure,
        secAggThreshold,
        random: () => pick.u32() / 4_294_967_296,
      },
    })
    this.#current = { round, coordinator, openedAt: world.scheduler.now, actor, updates, unsubscribe, secagg, candidate: undefined, commit: undefined }
    actor.start()
    actor.send({ type: "round.open" })
  }

  #onCoordinatorMessage(round: number, env: Envelope): void {
    const c = this.#current
    if (c === undefined || c.round !== round) return
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return void this.invalid++
    const { header, payload } = m.success
    if (header.round !== round) return
    if (c.secagg !== undefined) return this.#onSecAggMessage(c, env.from, header, payload)
    if (header.kind !== "update") return
    const delta = bytesFloat(payload, this.#global.length)
    if (delta === undefined || !delta.every(Number.isFinite)) return void this.invalid++
    c.updates.set(env.from, { id: env.from, delta, samples: Math.max(1, header.samples ?? 1) })
    c.actor.send({ type: "update.received", from: env.from })
  }

  /** A step of secure aggregation reaching the coordinator: the protocol checks it before the machine counts it. */
  #onSecAggMessage(c: CurrentRound, from: string, header: TrainHeader, payload: Uint8Array): void {
    const s = c.secagg!
    try {
      switch (header.kind) {
        case "advert":
          s.receiveAdvert(from, header.body)
          return void c.actor.send({ type: "advert.received", from })
        case "shares":
          s.receiveShares(from, header.body)
          return void c.actor.send({ type: "shares.received", from })
        case "masked": {
          const masked = bytesU32(payload, this.#global.length)
          if (masked === undefined) return void this.invalid++
          s.receiveMasked(from, masked)
          c.updates.set(from, { id: from, delta: new Float32Array(0), samples: Math.max(1, header.samples ?? 1) })
          return void c.actor.send({ type: "update.received", from })
        }
        case "unmask":
          s.receiveUnmask(from, header.body)
          return void c.actor.send({ type: "unmask.received", from })
        default:
          return
      }
    } catch {
      this.invalid++
    }
  }

  /** A trainer's side of secure aggregation: key steps at once, the masked input once trained. */
  #onTrainerSecAgg(t: TrainerNode, from: string, header: TrainHeader): void {
    const a = t.secagg
    if (a === undefined || a.round !== header.round) return
    const reply = (h: TrainHeader, payload?: Uint8Array) => {
      if (t.port !== undefined) Effect.runSync(Effect.ignore(t.port.network.send(from, TRAIN_TOPIC, encodeTrain(h, payload))))
    }
    switch (header.kind) {
      case "shares.request":
        return reply({ kind: "shares", round: a.round, body: a.side.shareKeys(header.body) })
      case "masked.request": {
        a.side.receiveShares(header.body)
        // Left after sharing its keys: its masks are in the others' inputs, and the survivors' shares remove them.
        if (t.fault?.leavesMidRound === true) return this.#trace("trainer.left", { round: a.round }, t.id)
        const bytes = u32Bytes(a.side.masked(a.delta))
        const now = this.#o.world.scheduler.now
        this.#o.world.scheduler.at(Math.max(now, a.ready), () => reply({ kind: "masked", round: a.round, samples: a.samples }, bytes))
        return
      }
      case "unmask.request":
        return reply({ kind: "unmask", round: a.round, body: a.side.unmask(header.body) })
      default:
        return
    }
  }

  #onTrainerMessage(t: TrainerNode, env: Envelope): void {
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return void this.invalid++
    const { header, payload } = m.success
    if (header.kind !== "model") {
      try {
        return this.#onTrainerSecAgg(t, env.from, header)
      } catch {
        return void this.invalid++
      }
    }
    const global = bytesFloat(payload, this.#global.length)
    if (global === undefined) return void this.invalid++
    const p = this.#o.scenario.params
    const trainer = this.#o.setup.trainer(t.id, t.fault?.flipsLabels === true)
    const update = Effect.runSync(trainer.train(global, {
      round: header.round, localEpochs: p["training.localEpochs"], batchSize: p["training.batchSize"], learningRate: p["training.learningRate"],
    }))
    const corrupted = t.fault === undefined ? update.delta : t.fault.corrupt(update.delta, this.#lastChange, () => gaussian(t.prng))
    // Local compute takes virtual time, in proportion to the work, with some jitter.
    const compute = 500 + update.samples * p["training.localEpochs"] * 2 + t.prng.int(1_000)
    if (header.secure === true) {
      // Under secure aggregation nobody can clip for the trainer: with DP it clips its own update.
      const delta = p["training.dp.noiseMultiplier"] > 0 ? clipL2(corrupted, p["training.dp.clipNorm"]).clipped : corrupted
      const threshold = Math.max(2, Math.ceil(p["training.secAggThreshold"] * Math.max(1, Math.ceil(p["training.cohort"] * this.#o.scenario.trainers.length))))
      const side = new SecAggTrainer(t.id, { round: header.round, threshold, length: delta.length, clip: p["training.dp.clipNorm"] }, `${this.#o.seed}/${t.id}/${header.round}`)
      t.secagg = { round: header.round, side, delta, samples: update.samples, ready: this.#o.world.scheduler.now + compute }
      const advert = side.advertise()
      if (t.port !== undefined) Effect.runSync(Effect.ignore(t.port.network.send(env.from, TRAIN_TOPIC, encodeTrain({ kind: "advert", round: header.round, body: advert }))))
      return
    }
    if (t.fault?.leavesMidRound === true) return this.#trace("trainer.left", { round: header.round }, t.id)
    const delta = corrupted
    const reply: TrainHeader = { kind: "update", round: header.round, samples: update.samples }
    const bytes = encodeTrain(reply, floatBytes(delta))
    this.#o.world.scheduler.after(compute, () => {
      if (t.port !== undefined) Effect.runSync(Effect.ignore(t.port.network.send(env.from, TRAIN_TOPIC, bytes)))
    })
  }

  #aggregate(participants: readonly string[]): void {
    const c = this.#current!
    const p = this.#o.scenario.params
    const noise = p["training.dp.noiseMultiplier"]
    const clip = p["training.dp.clipNorm"]
    if (c.secagg !== undefined) {
      // Only the sum of the survivors' (clipped, quantized) updates exists: its mean, noised with DP.
      let sum: Float32Array
      try {
        sum = c.secagg.finish(participants.length)
      } catch (e) {
        return void c.actor.send({ type: "aggregate.failed", reason: `secure aggregation: ${e instanceof Error ? e.message : String(e)}` })
      }
      const rng = this.#prng.child(`dp/${c.round}`)
      const mean = noisyMean(sum, participants.length, clip, noise, () => gaussian(rng))
      c.candidate = this.#global.map((w, i) => w + mean[i]!)
      return void c.actor.send({ type: "aggregate.done", modelHash: modelHash(c.candidate) })
    }
    let updates = participants.map((id) => c.updates.get(id)!)
    if (noise > 0) updates = updates.map((u) => ({ ...u, delta: clipL2(u.delta, clip).clipped }))
    let combined: Float32Array
    try {
      combined = aggregate(p["training.aggregator"], updates, { trimFraction: p["training.trimFraction"] })
    } catch (e) {
      return void c.actor.send({ type: "aggregate.failed", reason: e instanceof Error ? e.message : String(e) })
    }
    if (noise > 0) {
      // Gaussian mechanism on the mean of clipped updates: each one moves it by at most clip / n.
      const rng = this.#prng.child(`dp/${c.round}`)
      combined = addGaussianNoise(combined, (noise * clip) / updates.length, () => gaussian(rng))
    }
    const next = this.#global.map((w, i) => w + combined[i]!)
    c.candidate = next
    c.actor.send({ type: "aggregate.done", modelHash: modelHash(next) })
  }

  #evaluate(participants: readonly string[]): void {
    const c = this.#current!
    const candidate = c.candidate!
    const evaluation = this.#o.setup.evaluate(candidate)
    if (c.secagg !== undefined) {
      // No single update is visible: the cohort shares one score, from what the round did to the loss.
      const scores = cohortScores(participants, this.#o.setup.evaluate(this.#global).loss, evaluation.loss)
      return void c.actor.send({ type: "evaluation.done", accuracy: evaluation.accuracy, scores: Object.fromEntries(participants.map((id) => [id, scores.get(id) ?? 0])) })
    }
    // Each update against the median of the others (a minority cannot move it), with stale replays of
    // the last round's change scoring 0.
    const scores = robustContributionScores(participants.map((id) => c.updates.get(id)!), this.#lastChange === undefined ? {} : { previous: this.#lastChange })
    c.actor.send({ type: "evaluation.done", accuracy: evaluation.accuracy, scores: Object.fromEntries(participants.map((id) => [id, scores.get(id) ?? 0])) })
  }

  #commit(result: RoundResult): void {
    const c = this.#current!
    const salt = hex32(this.#prng.child(`salt/${c.round}`))
    const scores = result.participants.map((id) => ({ account: id, score: result.scores[id] ?? 0 }))
    c.commit = { result, salt }
    this.#submit(c.coordinator, {
      type: "round-result", round: c.round, modelHash: result.modelHash, accuracy: Math.round(result.accuracy * 1_000_000),
      participants: [...result.participants], scoresCommitment: roundScoresCommitment(c.round, scores, salt),
    } as Omit<SignedTx, "signature" | "signer" | "nonce">)
  }

  /** Sign a transaction with a validator's key and hand it to its consensus node's pool. */
  #submit(validator: string, body: Omit<SignedTx, "signature" | "signer" | "nonce">): void {
    const slot = this.#o.world.slots.get(validator)!
    const app = slot.app
    if (slot.node === undefined || app === undefined) return
    const signer = slot.keys.address.toLowerCase()
    const nonce = Math.max(app.nextNonce(signer), this.#nonces.get(signer) ?? 0)
    const tx = signTx(SIM_CHAIN_ID, { ...body, signer, nonce } as Omit<SignedTx, "signature">, (d) => Effect.runSync(slot.keys.sign(d)))
    const refused = slot.node.submitTx(tx)
    if (refused !== undefined) return this.#trace("round.tx-refused", { type: body.type, reason: refused }, validator)
    this.#nonces.set(signer, nonce + 1)
  }

  #finished(out: TrainingRoundOutput): void {
    const c = this.#current!
    const { world, scenario } = this.#o
    Effect.runSync(c.unsubscribe)
    this.#current = undefined
    this.outcomes.push({ ...out, coordinator: c.coordinator, openedAt: c.openedAt, endedAt: world.scheduler.now })
    if (out.status === "done") {
      const candidate = c.candidate!
      this.#lastChange = candidate.map((w, i) => w - this.#global[i]!)
      this.#global = candidate
      this.#globalHash = out.modelHash!
      this.completed++
      this.accuracy = out.accuracy
      const noise = scenario.params["training.dp.noiseMultiplier"]
      if (noise > 0) {
        this.#accountant.step(out.cohort.length / scenario.trainers.length, noise)
        this.#dpRounds++
      }
      this.#trace("round.done", {
        round: out.round, model: out.modelHash!, accuracy: Math.round(out.accuracy! * 1_000_000), participants: [...out.participants], height: out.height!,
      }, c.coordinator)
    } else {
      this.#trace("round.aborted", { round: out.round, reason: out.reason ?? "" }, c.coordinator)
    }
    world.scheduler.after(ROUND_GAP, () => this.#open())
  }
}

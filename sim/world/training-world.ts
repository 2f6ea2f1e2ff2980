/**
 * Federated training rounds in the simulated network, beside the consensus world.
 *
 * Trainers t0..tn are nodes of the same simulated network (latency, loss, partitions and crashes
 * apply to them), each with its own Trainer on its own data (training-setup.ts). Each round is
 * coordinated by a validator drawn from the seed among the running ones. Coordinator and trainers
 * run the real node's round code (runtime/actors/training/round-coordinator.ts, round-trainer.ts, round-params.ts:
 * the round machine on the simulator's clock, the messages of wire.ts over the simulated network),
 * given the seeded streams, virtual compute time and the byzantine behaviours (sim/faults/training.ts)
 * here. The coordinator aggregates with `training.aggregator`
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
import { Effect } from "effect"
import { attestationDigest, forgedParticipants } from "../../runtime/core/app/round-attestation.ts"
import { signTx, type SignedTx } from "../../runtime/core/app/txs.ts"
import { fromHex, toHex } from "../../runtime/core/crypto.ts"
import { modelHash } from "../../runtime/core/training/hash.ts"
import { RdpAccountant } from "../../runtime/core/training/rdp.ts"
import { seededRandomBytes } from "../../runtime/core/training/secagg/index.ts"
import type { TrainingRoundOutput } from "../../runtime/machines/training.ts"
import { RoundCoordinator, type RoundEvent, type UnsignedRoundTx } from "../../runtime/actors/training/round-coordinator.ts"
import { roundParams, trainerSecAggParams } from "../../runtime/actors/training/round-params.ts"
import { ResultCheck } from "../../runtime/actors/training/result-check.ts"
import { RoundTrainer } from "../../runtime/actors/training/round-trainer.ts"
import { TRAIN_TOPIC } from "../../runtime/actors/training/wire.ts"
import type { Keys } from "../../runtime/services/keys.ts"
import { makeSimKeys } from "../adapters/keys.ts"
import { attachSimNetwork, type SimNetworkPort } from "../adapters/network.ts"
import { gaussian } from "../adapters/trainer.ts"
import {
  COORDINATOR_BEHAVIORS, forgeClaim, trainingFault, type CoordinatorBehavior, type RoundResultClaim, type TrainingBehavior, type TrainingFault,
} from "../faults/training.ts"
import { Prng } from "../kernel/prng.ts"
import type { Scenario } from "../scenario/load.ts"
import type { TrainingSetup } from "../scenario/training-setup.ts"
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

/** A round whose coordinator had a byzantine behaviour when it submitted the result. */
export interface ByzantineRound {
  readonly round: number
  readonly coordinator: string
  readonly behavior: CoordinatorBehavior
}

/** Models kept for the validators' checks (the aggregates of the last rounds, by hash). */
const MAX_CANDIDATES = 16

interface TrainerNode {
  readonly id: string
  readonly prng: Prng
  /** Its key (the one its genesis entry names): it signs its updates with it. */
  readonly keys: Keys["Service"]
  port: SimNetworkPort | undefined
  unsubscribe: Effect.Effect<void> | undefined
  fault: TrainingFault | undefined
  /** Its side of the rounds (runtime/actors/training/round-trainer.ts, as a real node runs it). */
  side: RoundTrainer
}

interface CurrentRound {
  readonly coordinator: RoundCoordinator
  readonly openedAt: number
}

const hex32 = (prng: Prng) => {
  const b = new Uint8Array(32)
  for (let i = 0; i < 32; i += 4) new DataView(b.buffer).setUint32(i, prng.u32(), true)
  return toHex(b)
}

const run = (effect: Effect.Effect<void>): void => Effect.runSync(effect)

export class TrainingWorld {
  readonly outcomes: RoundOutcome[] = []
  /** Rounds whose result a block holds. */
  completed = 0
  /** Test accuracy of the global model (of the last committed round). */
  accuracy: number | undefined
  readonly initialAccuracy: number
  readonly #o: TrainingWorldOptions
  readonly #trainers = new Map<string, TrainerNode>()
  readonly #prng: Prng
  readonly #accountant = new RdpAccountant()
  /** Invalid messages of finished rounds (the current round counts its own). */
  #invalidBefore = 0
  #dpRounds = 0
  #global: Float32Array
  #globalHash: string
  /** The global change of the last committed round (what a stale free rider re-sends). */
  #lastChange: Float32Array | undefined
  #next = 1
  #current: CurrentRound | undefined
  #stopped = false
  readonly #nonces = new Map<string, number>()
  /** Validators coordinating as a byzantine behaviour, and the rounds they submitted so. */
  readonly #coordinatorFaults = new Map<string, CoordinatorBehavior>()
  readonly byzantineRounds: ByzantineRound[] = []
  /** Each round's aggregate as its coordinator submitted it, for the validators to fetch by hash. */
  readonly #candidates = new Map<string, Float32Array>()
  /** Each validator's check of claimed accuracies (kept across its restarts: a measurement does not change). */
  readonly #checks = new Map<string, ResultCheck>()
  /** Accuracy and loss of each model fetched, measured once for all validators (every one would compute the same). */
  readonly #measured = new WeakMap<Float32Array, { readonly accuracy: number; readonly loss: number }>()

  constructor(options: TrainingWorldOptions) {
    this.#o = options
    this.#prng = Prng.fromSeed(options.seed).child("training")
    this.#global = options.setup.initialWeights
    this.#globalHash = modelHash(this.#global)
    this.initialAccuracy = options.setup.evaluate(this.#global).accuracy
    for (const id of options.scenario.trainers) {
      const keys = makeSimKeys(options.seed, id, options.world.oracle)
      const t: TrainerNode = { id, prng: this.#prng.child(`trainer/${id}`), keys, port: undefined, unsubscribe: undefined, fault: undefined, side: undefined as never }
      t.side = this.#trainerSide(t)
      this.#trainers.set(id, t)
    }
    options.world.proposalCheck = (id) => this.#check(id)
  }

  /** Which backend trains (`statistical` or a TensorFlow.js backend). */
  get backend(): string {
    return this.#o.setup.backend
  }

  get globalHash(): string {
    return this.#globalHash
  }

  /** Invalid training messages (undecodable, wrong size), by any receiver. */
  get invalid(): number {
    let n = this.#invalidBefore + (this.#current?.coordinator.invalid ?? 0)
    for (const t of this.#trainers.values()) n += t.side.invalid
    return n
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

  /** Make trainers (or, with a coordinator behaviour, validators) behave as `behavior` from now on. */
  setFault(ids: readonly string[], behavior: TrainingBehavior | CoordinatorBehavior): void {
    for (const id of ids) {
      if ((COORDINATOR_BEHAVIORS as readonly string[]).includes(behavior)) this.#coordinatorFaults.set(id, behavior as CoordinatorBehavior)
      else this.#trainers.get(id)!.fault = trainingFault(behavior as TrainingBehavior)
    }
  }

  /**
   * Validator `id`'s check of the accuracy a round result claims (runtime/actors/training/result-check.ts):
   * the model is fetched by hash from what coordinators submitted (at once: the simulation holds one
   * copy), and evaluated on the scenario's held-out data, the evaluation set its seed fixes.
   */
  #check(id: string): ResultCheck {
    let c = this.#checks.get(id)
    if (c !== undefined) return c
    const { world, scenario, setup } = this.#o
    c = new ResultCheck({
      tolerance: () => (world.app(id)?.params() ?? scenario.params)["training.accuracyTolerance"],
      forged: (tx) => {
        const app = world.app(id)
        if (app === undefined) return undefined
        const verify = world.slots.get(id)!.keys.verify
        return forgedParticipants({ chainId: app.chainId, trainerKey: (a) => app.trainerKey(a), verify }, tx.round, tx.participants, tx.attestations)
      },
      fetch: (hash, _round, done) => done(this.#candidates.get(hash)),
      evaluate: (weights) => {
        let e = this.#measured.get(weights)
        if (e === undefined) this.#measured.set(weights, e = setup.evaluate(weights))
        // The language model's fine-tuning is judged by its validation loss too.
        return scenario.params["training.model"] === "gpt" ? { accuracy: e.accuracy, loss: e.loss } : e.accuracy
      },
      checkLoss: () => scenario.params["training.model"] === "gpt",
      onMeasured: (m) => {
        if (m.refused !== undefined) this.#trace("round.refused", { round: m.round, claimed: m.claimed, measured: m.measured ?? -1, reason: m.refused }, id)
      },
    })
    this.#checks.set(id, c)
    return c
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
    t.unsubscribe = Effect.runSync(t.port.network.subscribe(TRAIN_TOPIC, (env) => t.side.handle(env)))
  }

  /** A validator crashed: a round it coordinates is aborted. */
  validatorCrashed(id: string): void {
    if (this.#current?.coordinator.coordinator === id) this.#current.coordinator.abort(`coordinator ${id} crashed`)
  }

  /** After every committed block: is the pending round result in the coordinator's chain yet? */
  onBlock(): void {
    this.#current?.coordinator.onBlock()
  }

  #trace(kind: string, data: Record<string, unknown>, node?: string): void {
    this.#o.world.trace.record({ t: this.#o.world.scheduler.now, kind, ...(node === undefined ? {} : { node }), ...(data as Record<string, never>) })
  }

  /** A trainer's side of the rounds, with the simulator's virtual compute time and its behaviours. */
  #trainerSide(t: TrainerNode): RoundTrainer {
    const { world, scenario, setup, seed } = this.#o
    const p = scenario.params
    return new RoundTrainer({
      id: t.id,
      network: () => t.port?.network,
      run,
      timers: { now: () => world.scheduler.now, after: (ms, fn) => void world.scheduler.after(ms, fn) },
      modelLength: this.#global.length,
      localUpdate: (global, round) => {
        const update = Effect.runSync(setup.trainer(t.id, t.fault?.flipsLabels === true).train(global, {
          round, localEpochs: p["training.localEpochs"], batchSize: p["training.batchSize"], learningRate: p["training.learningRate"],
        }))
        return t.fault === undefined ? update : { ...update, delta: t.fault.corrupt(update.delta, this.#lastChange, () => gaussian(t.prng)) }
      },
      // Local compute takes virtual time, in proportion to the work, with some jitter.
      computeDelay: (samples) => 500 + samples * p["training.localEpochs"] * 2 + t.prng.int(1_000),
      leaves: () => t.fault?.leavesMidRound === true,
      secAgg: (round) => ({ ...trainerSecAggParams(p, scenario.trainers.length), randomBytes: seededRandomBytes(`${seed}/${t.id}/${round}`) }),
      attest: (round, hash) => toHex(Effect.runSync(t.keys.sign(attestationDigest(SIM_CHAIN_ID, round, t.id, hash)))),
      onEvent: (e) => {
        if (e.type === "left") this.#trace("trainer.left", { round: e.round }, t.id)
      },
    })
  }

  #open(): void {
    if (this.#stopped) return
    const round = this.#next++
    this.#o.beforeRound?.(round)
    const { world, scenario } = this.#o
    const running = scenario.validators.filter((id) => world.slots.get(id)?.node !== undefined && world.slots.get(id)?.port !== undefined)
    if (running.length === 0) {
      this.#trace("round.aborted", { round, reason: "no running validator to coordinate" })
      world.scheduler.after(ROUND_GAP, () => this.#open())
      return
    }
    const pick = this.#prng.child(`round/${round}`)
    const coordinator = running[pick.int(running.length)]!
    const port = world.slots.get(coordinator)!.port!
    const c = new RoundCoordinator({
      round, coordinator, network: port.network, run, clock: world.clock, trainers: scenario.trainers,
      params: roundParams(scenario.params, scenario.trainers.length),
      random: () => pick.u32() / 4_294_967_296,
      global: this.#global, globalHash: this.#globalHash, lastChange: this.#lastChange,
      evaluate: (w) => this.#o.setup.evaluate(w),
      normal: () => {
        const rng = this.#prng.child(`dp/${round}`)
        return () => gaussian(rng)
      },
      salt: () => hex32(this.#prng.child(`salt/${round}`)),
      submit: (body) => this.#submit(coordinator, body),
      // The aggregate is kept before its result is submitted: the validators fetch it by hash to check the claim.
      keep: (pending) => Effect.sync(() => {
        if (this.#candidates.size >= MAX_CANDIDATES) this.#candidates.delete(this.#candidates.keys().next().value!)
        this.#candidates.set(pending.modelHash, pending.weights)
      }),
      committed: (r) => world.app(coordinator)?.rounds().get(r),
      verifyAttestation: (id, r, hash, signature) => {
        const key = world.app(coordinator)?.trainerKey(id)
        return key !== undefined && world.slots.get(coordinator)!.keys.verify(key, attestationDigest(SIM_CHAIN_ID, r, id, hash), fromHex(signature))
      },
      onEvent: (e) => this.#onRoundEvent(coordinator, e),
      onFinished: (out, candidate, loss) => this.#finished(out, candidate, loss),
    })
    this.#current = { coordinator: c, openedAt: world.scheduler.now }
    c.start()
  }

  #onRoundEvent(coordinator: string, e: RoundEvent): void {
    if (e.type === "opened") this.#trace("round.opened", { round: e.round, cohort: [...e.cohort], model: e.model }, coordinator)
    else if (e.type === "unmask") this.#trace("round.unmask", { round: e.round, survivors: [...e.survivors], dropped: [...e.dropped] }, coordinator)
  }

  /** Sign a transaction with a validator's key and hand it to its consensus node's pool (a byzantine coordinator forges its result first). */
  #submit(validator: string, honest: UnsignedRoundTx): void {
    const behavior = this.#coordinatorFaults.get(validator)
    let body = honest
    if (behavior !== undefined && honest.type === "round-result") {
      body = forgeClaim(behavior, honest as unknown as RoundResultClaim, validator, this.#o.scenario.trainers) as unknown as UnsignedRoundTx
      const round = (honest as unknown as { round: number }).round
      this.byzantineRounds.push({ round, coordinator: validator, behavior })
      this.#trace("round.forged", { round, behavior }, validator)
    }
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

  #finished(out: TrainingRoundOutput, candidate: Float32Array | undefined, loss: number | undefined): void {
    const c = this.#current!
    const { world, scenario } = this.#o
    this.#invalidBefore += c.coordinator.invalid
    this.#current = undefined
    this.outcomes.push({ ...out, coordinator: c.coordinator.coordinator, openedAt: c.openedAt, endedAt: world.scheduler.now })
    if (out.status === "done") {
      this.#lastChange = candidate!.map((w, i) => w - this.#global[i]!)
      this.#global = candidate!
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
        ...(loss === undefined || !Number.isFinite(loss) ? {} : { loss: Math.round(loss * 1_000_000) }),
        ...(this.#dpRounds > 0 ? { epsilon: this.#accountant.epsilon(DP_DELTA).epsilon, delta: DP_DELTA } : {}),
      }, c.coordinator.coordinator)
    } else {
      this.#trace("round.aborted", { round: out.round, reason: out.reason ?? "" }, c.coordinator.coordinator)
    }
    world.scheduler.after(ROUND_GAP, () => this.#open())
  }
}

/**
 * Federated training in a real node: every validator is a trainer on its own shard (local-data.ts),
 * and the coordinator of each round is named by the committed chain (schedule.ts). The pieces the
 * simulator runs too — the round coordinator and the trainer side — are wired here to the node's
 * ports:
 *
 *  - topics: `train` (direct: model, updates, secure-aggregation steps, global.request/global),
 *    `train/hello` (gossip: peer id ↔ validator, roster.ts), `train/global` (gossip: a committed model);
 *  - the coordinator opens its round when the chain says it is its turn and it holds the model the
 *    chain's last round committed; the result and the revealed scores go through the consensus pool
 *    as `round-result` / `round-scores`, signed with the validator key; the new model is gossiped;
 *  - a node adopts a gossiped model only when its hash is the one the chain committed (else it asks
 *    the round's coordinator for it, then every other trainer in turn), and keeps it in its store to
 *    resume after a restart (model-sync.ts);
 *  - surviving crashes: a coordinator keeps the new model, the salt and the scores in its store
 *    (synced) before its `round-result` leaves it (pending-round.ts), so after a restart it serves
 *    the model and reveals the scores (again, if a reveal got lost); the schedule is anchored on the
 *    time of the block that committed the last round (read back from the store after a restart), so
 *    it advances by chain time even when a round never commits; and a model the chain names that
 *    nobody sends is waited for one slot, after which the scheduled coordinator goes on from the
 *    model it holds (`training.model.missing`);
 *  - telemetry: `training.round.opened|progress|completed|aborted` (docs/telemetry.md) — every node
 *    reports `completed` for each round its chain commits (and again with `myScore` once revealed),
 *    so the TUI's training screen and the API's /rounds fill on every node.
 *
 * Timers run on the node's clock; DP noise and salts come from the node's randomness (both from
 * its NodeContext). Nothing here blocks on the network: sends go through the context's runner.
 */
import { Effect, Result } from "effect"
import { attestationDigest, forgedParticipants } from "../../core/app/round-attestation.ts"
import { signTx, type SignedTx } from "../../core/app/txs.ts"
import { decodeMessage } from "../../core/consensus/codec.ts"
import { blockKey } from "../../core/consensus/store-keys.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import { RdpAccountant } from "../../core/training/rdp.ts"
import type { Envelope } from "../../services/network.ts"
import type { ProposalCheck } from "../consensus/consensus-node.ts"
import type { NodeContext } from "../context.ts"
import type { LocalTraining } from "./local-training.ts"
import { ModelSync } from "./model-sync.ts"
import { deletePending, loadPending, savePending, type PendingRound } from "./pending-round.ts"
import { ResultCheck } from "./result-check.ts"
import { RoundCoordinator, type RoundEvent, type UnsignedRoundTx } from "./round-coordinator.ts"
import { roundParams, stepTimeoutOf, trainerSecAggParams } from "./round-params.ts"
import { RoundTrainer, type TrainerEvent } from "./round-trainer.ts"
import { makeHello, Roster } from "./roster.ts"
import { chainRandom, scheduledRound, slotMs } from "./schedule.ts"
import { decodeTrain, encodeTrain, floatBytes, TRAIN_GLOBAL_TOPIC, TRAIN_HELLO_TOPIC, TRAIN_TOPIC } from "./wire.ts"

/** Re-send the hello this often while some validator is not known yet, and this often after. */
const HELLO_FAST_MS = 1_000
const HELLO_SLOW_MS = 30_000
/** Open a round with the trainers known after this long, even if some validator never said hello. */
const HELLO_GRACE_MS = 5_000
/** Re-check the schedule this often between blocks. */
const TICK_MS = 1_000
/** Chain time between a committed round and the next one's opening (a single validator would otherwise train flat out). */
const ROUND_GAP_MS = 2_000
/** Send a round's reveal again when this many blocks after the last one have not revealed it. */
const REVEAL_RESEND_BLOCKS = 10
export const DP_DELTA = 1e-5

export interface TrainingOptions {
  /** The node's trainer on its own shard, the shared initial weights, and the held-out evaluation. */
  readonly local: LocalTraining
}

export interface TrainingNode {
  /** Rounds committed on this node's chain. */
  readonly committed: number
  /** Accuracy (0..1) of the last committed round, if any. */
  readonly accuracy: number | undefined
  /**
   * This validator's check of the accuracy a proposed round result claims (result-check.ts): the
   * consensus actor's `precheck` (its model fetched by hash through model-sync, evaluated on the
   * node's held-out evaluation set). Optional: a node that follows without training has none.
   */
  readonly check?: ProposalCheck
  stop(): void
}

/** Start training on a node (its consensus runs already); it follows the node's executed blocks; stop() ends it. */
export const startTraining = (o: NodeContext, { local }: TrainingOptions): TrainingNode => {
  const { app, keys, network, clock, run, emit } = o
  const address = keys.address.toLowerCase()
  const operator = app.operatorOf(address) ?? address
  const p = () => app.params()
  const startedAt = o.now()
  const roster = new Roster({ chainId: app.chainId, verify: keys.verify, operatorOf: (a) => app.operatorOf(a) })
  roster.self(operator, network.self)
  const invalid = (from: string, reason: string) => emit("training.invalid", { from, reason })
  const models = new ModelSync({
    app, network, store: o.store, roster, initialWeights: local.initialWeights, now: o.now, run, invalid, onCandidate: () => check(),
    after: (ms, fn) => after(ms, fn),
  })
  const resultCheck = new ResultCheck({
    tolerance: () => p()["training.accuracyTolerance"],
    forged: (tx) => forgedParticipants({ chainId: app.chainId, trainerKey: (a) => app.trainerKey(a), verify: keys.verify }, tx.round, tx.participants, tx.attestations),
    fetch: (hash, round, done) => models.fetch(hash, round, done),
    // The language model's fine-tuning (training.model gpt) is judged by its validation loss too.
    evaluate: (weights) => {
      const e = local.evaluate(weights)
      return p()["training.model"] === "gpt" ? { accuracy: e.accuracy, loss: e.loss } : e.accuracy
    },
    checkLoss: () => p()["training.model"] === "gpt",
    onMeasured: (m) => {
      if (m.refused !== undefined) emit("training.result.refused", { round: m.round, claimed: m.claimed / 1_000_000, ...(m.measured === undefined ? {} : { measured: m.measured / 1_000_000 }), reason: m.refused })
    },
  })
  let current: RoundCoordinator | undefined
  const attempted = new Set<number>()
  /**
   * The schedule's anchor: the time of the block that committed the last round (every node reads the
   * same one, from the executed block or, after a restart, from its store), app.lastTime until known.
   */
  let anchorTime = app.lastTime
  let anchoredRound = app.lastRound
  let seenRound = app.lastRound
  /** Rounds this node submitted whose scores the chain has not revealed yet (kept in its store), and when each reveal was last sent. */
  const pending = new Map<number, PendingRound>()
  const revealSentAt = new Map<number, number>()
  /** The chain's model this node could not get from anyone, reported once. */
  let missingReported: string | undefined
  /** When each peer's hello was last answered directly. */
  const answeredHello = new Map<string, number>()
  const unrevealed = new Set<number>()
  const accountant = new RdpAccountant()
  let dpRounds = 0
  let nonce = 0
  let stopped = false
  const timers: unknown[] = []
  /** On a real node's timers a throw would end the process: report it instead. */
  const guarded = (action: string, fn: () => void) => {
    try {
      fn()
    } catch (e) {
      emit("node.error", { action, error: e instanceof Error ? e.message : String(e) })
    }
  }
  const after = (ms: number, fn: () => void) => {
    const id = clock.setTimeout(() => {
      timers.splice(timers.indexOf(id), 1)
      if (!stopped) guarded("training", fn)
    }, ms)
    timers.push(id)
  }

  const submit = (body: UnsignedRoundTx) => {
    const next = Math.max(app.nextNonce(address), nonce)
    run(Effect.gen(function*() {
      const tx = signTx(app.chainId, { ...body, signer: address, nonce: next } as Omit<SignedTx, "signature">, (d) => Effect.runSync(keys.sign(d)))
      const refused = o.submitTx(tx)
      if (refused !== undefined) return emit("training.tx.refused", { type: body.type, reason: refused })
      nonce = next + 1
    }).pipe(Effect.catchCause((cause) => Effect.sync(() => emit("node.error", { action: `submit ${body.type}`, error: String(cause) })))))
  }

  const roundEvent = (e: RoundEvent) => {
    switch (e.type) {
      case "opened": return emit("training.round.opened", { round: e.round, cohort: e.cohort.length, trainers: [...e.cohort], coordinator: operator, model: e.model })
      case "update": return emit("training.round.progress", { round: e.round, received: e.received, cohort: e.cohort, from: e.from })
      case "unmask": return emit("training.round.unmask", { round: e.round, survivors: [...e.survivors], dropped: [...e.dropped] })
      case "invalid": return invalid(e.from, e.reason)
    }
  }

  const open = (round: number) => {
    attempted.add(round)
    const trainers = roster.operators
    const base = models.global
    current = new RoundCoordinator({
      round, coordinator: operator, network, run, clock, trainers,
      peerOf: (id) => roster.peerOf(id), idOf: (peer) => roster.operatorOf(peer),
      params: roundParams(p(), trainers.length),
      random: chainRandom(`${app.lastBlockHash}/${round}`),
      global: base.weights, globalHash: base.hash, lastChange: models.lastChange,
      evaluate: local.evaluate,
      normal: () => o.random.normal,
      salt: () => toHex(o.random.bytes(32)),
      submit,
      // Kept (and served by hash: the validators fetch it to check the claimed accuracy) before the result leaves.
      keep: (p) => savePending(o.store, p).pipe(
        Effect.andThen(Effect.sync(() => {
          pending.set(p.round, p)
          models.offer(p.modelHash, p.weights)
        })),
        Effect.catchCause((cause) => Effect.sync(() => emit("node.error", { action: `keep round ${p.round}`, error: String(cause) }))),
      ),
      committed: (r) => app.rounds().get(r),
      // Only updates signed by the key the chain knows for their trainer: a result is refused otherwise.
      verifyAttestation: (id, r, hash, signature) => {
        const key = app.trainerKey(id)
        return key !== undefined && keys.verify(key, attestationDigest(app.chainId, r, id, hash), fromHex(signature))
      },
      onEvent: roundEvent,
      onFinished: (out, candidate) => {
        current = undefined
        // The coordinator sends the reveal as the round ends (round-coordinator.ts onBlock).
        if (out.status === "done") revealSentAt.set(out.round, app.height)
        if (out.status === "done" && candidate !== undefined) {
          // Others adopt it once their chain holds the same hash; the coordinator has it already.
          const message = encodeTrain({ kind: "global", round: out.round, body: { modelHash: out.modelHash! } }, floatBytes(candidate))
          run(Effect.ignore(network.publish(TRAIN_GLOBAL_TOPIC, message)))
          models.offer(out.modelHash!, candidate)
          models.sync()
        } else {
          emit("training.round.aborted", { round: out.round, reason: out.reason ?? "", coordinator: operator })
        }
      },
    })
    current.start()
  }

  /** Report rounds the chain committed (and scores it revealed) since the last look. */
  const reportCommitted = () => {
    if (app.lastRound > seenRound) {
      if (app.lastRound > anchoredRound) anchor(app.lastRound, app.lastTime)
      for (const r of [...app.rounds().values()].filter((x) => x.round > seenRound).sort((a, b) => a.round - b.round)) {
        const noise = p()["training.dp.noiseMultiplier"]
        if (noise > 0) {
          accountant.step(Math.min(1, r.participants.length / Math.max(1, app.validatorSet().validators.length)), noise)
          dpRounds++
        }
        emit("training.round.completed", {
          round: r.round, received: r.participants.length, accuracy: r.accuracy / 1_000_000, coordinator: r.coordinator, height: r.height,
          participants: [...r.participants],
          ...(r.loss === undefined ? {} : { loss: r.loss / 1_000_000 }),
          // The language model's rounds are read by their validation loss (cli/progress.ts).
          ...(p()["training.model"] === "gpt" ? { model: "gpt" } : {}),
          ...(dpRounds > 0 ? { epsilon: accountant.epsilon(DP_DELTA).epsilon, delta: DP_DELTA } : {}),
        })
        unrevealed.add(r.round)
      }
      seenRound = app.lastRound
    }
    for (const round of [...unrevealed]) {
      const r = app.rounds().get(round)
      if (r?.scores === undefined) continue
      unrevealed.delete(round)
      const mine = r.scores.get(operator)
      emit("training.round.completed", {
        round, received: r.participants.length, accuracy: r.accuracy / 1_000_000, revealed: true,
        ...(mine === undefined ? {} : { myScore: mine / 1_000_000 }),
      })
    }
    // A reveal that never comes must not keep the set growing.
    if (unrevealed.size > 16) unrevealed.delete(Math.min(...unrevealed))
  }

  /** The last round was committed at `time` (chain time): the schedule counts missed slots from there. */
  const anchor = (round: number, time: number) => {
    anchoredRound = round
    anchorTime = time
  }

  /** Forget a pending round: its scores are revealed, or it will never commit. */
  const forget = (round: number) => {
    pending.delete(round)
    revealSentAt.delete(round)
    run(Effect.ignore(deletePending(o.store, round)))
  }

  /**
   * A round this node submitted (perhaps before a restart): serve its model once the chain names it,
   * and reveal its scores once a block holds its result — again if a reveal got lost.
   */
  const resumePending = () => {
    for (const x of [...pending.values()]) {
      const r = app.rounds().get(x.round)
      if (r === undefined) {
        if (app.lastRound >= x.round) forget(x.round) // the chain went past it: it never committed
        continue
      }
      if (r.coordinator !== operator || r.modelHash !== x.modelHash || r.scores !== undefined) {
        forget(x.round)
        continue
      }
      if (r.round === app.lastRound && models.global.hash !== x.modelHash) models.offer(x.modelHash, x.weights)
      if (current?.round === x.round || app.height <= r.height) continue
      const sent = revealSentAt.get(x.round)
      if (sent !== undefined && app.height - sent < REVEAL_RESEND_BLOCKS) continue
      revealSentAt.set(x.round, app.height)
      submit({ type: "round-scores", round: x.round, scores: [...x.scores], salt: x.salt } as UnsignedRoundTx)
    }
  }

  const check = () => {
    if (stopped) return
    reportCommitted()
    current?.onBlock()
    resumePending()
    for (const r of attempted) if (r <= app.lastRound) attempted.delete(r)
    const held = models.sync()
    if (current !== undefined || app.lastTime - anchorTime < ROUND_GAP_MS) return
    const validators = app.validatorSet().validators.map((v) => v.address)
    const deadline = p()["training.roundDeadline"]
    const slot = slotMs(deadline, stepTimeoutOf(deadline))
    if (!held) {
      // The chain names a model nobody has sent (its coordinator died before gossiping it, and no one
      // answers for it): wait one slot, then go on from the model this node holds.
      if (app.lastTime - anchorTime < slot) return
      const want = models.chainModel()
      if (missingReported !== want) {
        missingReported = want
        emit("training.model.missing", { round: app.lastRound, modelHash: want, using: models.global.hash })
      }
    }
    const s = scheduledRound({ lastRound: app.lastRound, validators, chainTime: app.lastTime, anchorTime, slotMs: slot })
    if (s === undefined || s.coordinator !== address || attempted.has(s.round)) return
    const everyone = validators.every((a) => roster.peerOf(app.operatorOf(a) ?? "") !== undefined)
    if (!everyone && o.now() - startedAt < HELLO_GRACE_MS) return
    open(s.round)
  }

  const trainer = new RoundTrainer({
    id: operator,
    network: () => network,
    run,
    timers: { now: o.now, after: (ms, fn) => after(ms, fn) },
    modelLength: models.initial.weights.length,
    localUpdate: (weights, round) => {
      const params = p()
      // A promise: on a real node the update runs in a worker thread (runtime/adapters/tfjs/pool.ts) or in this one.
      return Effect.runPromise(local.trainer.train(weights, {
        round, localEpochs: params["training.localEpochs"], batchSize: params["training.batchSize"], learningRate: params["training.learningRate"],
      }))
    },
    secAgg: () => ({ ...trainerSecAggParams(p(), roster.operators.length), randomBytes: (n) => o.random.bytes(n) }),
    // Rounds only from a validator's node, and only rounds the chain has not closed.
    accept: (from, round) => roster.operatorOf(from) !== undefined && round > app.lastRound,
    // The update's commitment, signed with the validator key (the key the chain knows for this operator).
    attest: (round, hash) => toHex(Effect.runSync(keys.sign(attestationDigest(app.chainId, round, operator, hash)))),
    onEvent: (e: TrainerEvent) => {
      switch (e.type) {
        case "trained": return emit("training.update.sent", { round: e.round, samples: e.samples, loss: e.loss, coordinator: roster.operatorOf(e.coordinator) ?? e.coordinator })
        case "left": return
        case "invalid": return invalid(e.from, e.reason)
        case "failed": return emit("node.error", { action: `train round ${e.round}`, error: e.reason })
      }
    },
  })

  /** Direct messages besides the round's own: a model asked for, or sent. */
  const onDirect = (env: Envelope) => {
    trainer.handle(env)
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return
    const { header, payload } = m.success
    if (header.kind === "global") return models.receive(env, header.round, (header.body as { modelHash: string }).modelHash, payload)
    if (header.kind === "global.request") models.answer(env, header.round, (header.body as { modelHash: string }).modelHash)
  }
  const onHello = (env: Envelope) => {
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return invalid(env.from, m.failure)
    if (m.success.header.kind !== "hello") return invalid(env.from, `${m.success.header.kind} on ${TRAIN_HELLO_TOPIC}`)
    const refused = roster.accept(env.from, m.success.header.body as { address: string; signature: string })
    if (refused !== undefined) return invalid(env.from, refused)
    // The peer may not know us: it is new, or it restarted (same peer id, empty roster) and says hello
    // again. Answer it directly (gossip reaches only known subscribers), at most once per grace period
    // per peer (so two nodes' answers do not bounce for ever).
    const last = answeredHello.get(env.from)
    if (last !== undefined && o.now() - last < HELLO_GRACE_MS) return
    answeredHello.set(env.from, o.now())
    run(Effect.ignore(network.send(env.from, TRAIN_HELLO_TOPIC, helloMessage())))
  }
  const onGossipGlobal = (env: Envelope) => {
    const m = decodeTrain(env.data)
    if (Result.isFailure(m)) return invalid(env.from, m.failure)
    if (m.success.header.kind !== "global") return invalid(env.from, `${m.success.header.kind} on ${TRAIN_GLOBAL_TOPIC}`)
    models.receive(env, m.success.header.round, (m.success.header.body as { modelHash: string }).modelHash, m.success.payload)
  }

  const unsubscribe = [
    Effect.runSync(network.subscribe(TRAIN_TOPIC, onDirect)),
    Effect.runSync(network.subscribe(TRAIN_HELLO_TOPIC, onHello)),
    Effect.runSync(network.subscribe(TRAIN_GLOBAL_TOPIC, onGossipGlobal)),
  ]

  // A model kept from before a restart, if the chain still names it; the rounds it submitted and
  // has not seen revealed; and the time of the block that committed the last round.
  models.restore()
  run(Effect.gen(function*() {
    for (const x of yield* loadPending(o.store, models.initial.weights.length)) pending.set(x.round, x)
  }).pipe(Effect.catchCause((cause) => Effect.sync(() => emit("node.error", { action: "load pending rounds", error: String(cause) })))))
  const lastRecord = app.rounds().get(app.lastRound)
  if (lastRecord !== undefined) {
    run(Effect.gen(function*() {
      const bytes = yield* o.store.get(blockKey(lastRecord.height))
      const m = bytes === undefined ? undefined : decodeMessage(bytes)
      if (m !== undefined && Result.isSuccess(m) && m.success.kind === "commit" && anchoredRound === lastRecord.round) anchor(lastRecord.round, m.success.block.time)
    }).pipe(Effect.ignore))
  }

  let helloBytes: Uint8Array | undefined
  /** This node's hello (signed once: the peer id and key do not change while it runs). */
  const helloMessage = () =>
    helloBytes ??= encodeTrain({ kind: "hello", round: 0, body: makeHello(app.chainId, network.self, address, (d) => Effect.runSync(keys.sign(d))) })
  const hello = () => {
    run(Effect.ignore(network.publish(TRAIN_HELLO_TOPIC, helloMessage())))
    const known = app.validatorSet().validators.every((v) => roster.peerOf(app.operatorOf(v.address) ?? "") !== undefined)
    after(known && o.now() - startedAt > HELLO_GRACE_MS ? HELLO_SLOW_MS : HELLO_FAST_MS, hello)
  }
  hello()
  const tick = () => {
    check()
    after(TICK_MS, tick)
  }
  after(TICK_MS, tick)
  // After each executed block, once the consensus action that executed it has returned.
  const offBlocks = o.executed.subscribe(({ block }) => {
    // The block that committed a round anchors the schedule (the same block time on every node).
    if (app.lastRound > anchoredRound) anchor(app.lastRound, block.time)
    after(0, check)
  })

  return {
    get committed() {
      return app.rounds().size
    },
    get accuracy() {
      const r = app.rounds().get(app.lastRound)
      return r === undefined ? undefined : r.accuracy / 1_000_000
    },
    check: resultCheck,
    stop: () => {
      if (stopped) return
      stopped = true
      offBlocks()
      current?.abort("the node is stopping")
      for (const id of timers) clock.clearTimeout(id)
      for (const u of unsubscribe) run(u)
    },
  }
}

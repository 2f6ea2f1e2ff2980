/**
 * A validator's consensus, assembled: the pure consensus machine, wired to the node's ports.
 *
 *  - inbound: every message on the `consensus` topic is decoded with Schema and its signature
 *    checked with the Keys scheme before the machine sees it; a bad message is dropped and counted
 *    against its sender, never thrown;
 *  - outbound: proposals and votes are signed only after the slashing-protection record is synced
 *    to the Store; blocks are built from the application state (deferred execution) with the last
 *    commit and pending evidence;
 *  - decisions: the commit certificate is stored and synced, then the block is executed by the App;
 *    a decided block that does not execute halts this node's consensus (`node.error`, `onHalt`):
 *    going on over a replica that differs from the network's would only spread the damage;
 *  - evidence: double signing the machine sees, or evidence submitted from outside (the API), is
 *    verified and goes into the context's evidence pool, which the blocks this node proposes carry;
 *  - telemetry: step changes, peer count, and once per block the validator table and this node's
 *    stake position (block-report.ts), besides `block.committed`;
 *  - executed blocks go to the context's block stream, which the followers (staking, training) feed on;
 *  - liveness: the node re-sends its latest messages periodically (lossy links, healed partitions),
 *    with the prevote quorums behind its lock and valid value once the height is past their rounds
 *    (others' votes: core/consensus/relay.ts), and a node that sees it is behind tells block sync
 *    (runtime/actors/sync), which asks the sender for the certificates it misses.
 *
 * The same code runs a real node (libp2p, sqlite, wall clock) and a simulated one: each world hands it
 * a NodeContext (context.ts) and its block sync. Its neighbours are not its own (CometBFT's habit):
 * the transaction pool and the evidence pool are the context's, block sync is its own actor; consensus
 * reaches each through a small interface.
 */
import { Effect, Result } from "effect"
import { createActor, type ActorRefFrom, type AnyActorRef } from "xstate"
import { App, type Execution } from "../../core/app/app.ts"
import { signerFlags } from "../../core/app/tx/last-commit.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import { blockHash } from "../../core/consensus/block.ts"
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, type ConsensusMessage } from "../../core/consensus/codec.ts"
import { certificateVotes, decodeShared, encodeCommitParts } from "../../core/consensus/codec.ts"
import { VotePool, type VoteRouting } from "../../core/consensus/aggregation.ts"
import { proposer } from "../../core/consensus/proposer.ts"
import { voteEvent, voteRunEvent } from "../../core/consensus/intake.ts"
import { FULL_RELAY_EVERY, votesToRelay } from "../../core/consensus/relay.ts"
import { acceptedBy, proposalDigest, voteDigest } from "../../core/consensus/signing.ts"
import { BLOCK_KEY_PREFIX, blockKey } from "../../core/consensus/store-keys.ts"
import type { AppTx, Block, DuplicateVoteEvidence, Json, Proposal, Vote } from "../../core/consensus/types.ts"
import type { ValidatorSet } from "../../core/consensus/validator-set.ts"
import {
  consensusMachine, timeoutsFromParams, type BroadcastVoteParams, type DecideParams, type LogParams, type ProposeParams, type ReportEvidenceParams,
} from "../../machines/consensus.ts"
import type { Envelope } from "../../services/network.ts"
import type { Store } from "../../services/store.ts"
import { decodeTx, txDigest, type SignedTx } from "../../core/app/txs.ts"
import { SnapshotAbsent, type CommitteeCache } from "../../services/committee-cache.ts"
import { MAX_TX_BYTES, TX_TOPIC, type NodeContext } from "../context.ts"
import { guardSigning, signedAtHeight } from "../protection/slashing-protection.ts"
import { makeBlockReporter } from "./block-report.ts"
import { CONSENSUS_TOPIC } from "./topics.ts"

export { CONSENSUS_TOPIC, SYNC_TOPIC } from "./topics.ts"

/**
 * Where outgoing consensus messages go. Honest nodes send each message once; the simulator's
 * byzantine behaviours (sim/faults) replace this to stay silent, withhold, delay or equivocate.
 */
export type Outbound = (message: ConsensusMessage, send: (message: ConsensusMessage) => void) => void

export const honest: Outbound = (message, send) => send(message)

/** What consensus asks of block sync (runtime/actors/sync): it takes it as this, and never holds its state. */
export interface PeerSync {
  /** This node saw `peer` ahead of it (a message of a later height): catch up from that peer. */
  behind(peer: string): void
}

/**
 * A node's own judgement of a proposed block, beyond the App's rules (training: re-measure a round
 * result's claimed accuracy, runtime/actors/training/result-check.ts). It never runs on execution:
 * a decided block holds whatever +2/3 of the power judged valid.
 */
export interface ProposalCheck {
  /** Why `block` gets no vote from this node, or undefined; answered through `verdict`, at once or later (a model to fetch). */
  judge(block: Block, verdict: (why: string | undefined) => void): void
  /** Whether this node puts `tx` in a block it proposes now. */
  admits(tx: AppTx): boolean
}

export interface ConsensusOptions {
  /** The node's block sync (started by the world beside consensus: `startSync(ctx)`). */
  readonly sync: PeerSync
  /** Judges proposals before the machine sees them, and filters this node's own (default: none). */
  readonly precheck?: ProposalCheck
  readonly outbound?: Outbound
  /** Re-send own latest messages this often (default: consensus.timeoutPropose). */
  readonly resendEvery?: number
  /**
   * How votes travel (core/consensus/aggregation.ts): "aggregated" (default) sends each vote to the
   * round's proposer, which publishes certificates (O(n) messages per height); "gossip" publishes
   * every vote to every node (O(n²)).
   */
  readonly votes?: VoteRouting
  /**
   * Aggregated votes: a voter that has not counted +2/3 of its step's votes this long after voting
   * publishes its vote to all (default: consensus.timeoutPrevote of the height).
   */
  readonly aggregationFallback?: number
  /**
   * Consensus stopped because a decided block did not execute (the reason names the height). The
   * node has already emitted `node.error` and stopped; a real node exits non-zero.
   */
  readonly onHalt?: (reason: string) => void
}

export interface ConsensusNode {
  readonly actor: ActorRefFrom<typeof consensusMachine>
  readonly address: string
  /** Invalid messages by sender (the context's: every actor of the node counts there). */
  readonly faults: ReadonlyMap<string, number>
  /** Transactions waiting for a block (the context's pool). */
  readonly pending: number
  /** Gossip a signed transaction and keep it for this node's own proposals; a refusal says why (the context's `submitTx`). */
  submitTx(tx: SignedTx): string | undefined
  /** Verify double-sign evidence and put it in the blocks this node proposes; a refusal says why. */
  submitEvidence(evidence: DuplicateVoteEvidence): string | undefined
  /** Why consensus halted (a decided block did not execute), or undefined while it runs. */
  readonly halted: string | undefined
  stop(): void
}

/** What one node does for its consensus machine's actions. */
interface NodeActions {
  propose(p: ProposeParams): void
  broadcastVote(p: BroadcastVoteParams): void
  decide(p: DecideParams): void
  reportEvidence(p: ReportEvidenceParams): void
  log(p: LogParams): void
}

// `provide` builds a whole new machine (its state tree: ~120 µs and many objects), and the simulator
// starts every node of every run; so the machine is wired once, and each action finds the
// implementation of the node it runs in through its actor (`self`).
const nodeActions = new WeakMap<AnyActorRef, NodeActions>()
const actionsOf = (self: AnyActorRef): NodeActions => nodeActions.get(self)!
const nodeMachine = consensusMachine.provide({
  actions: {
    propose: ({ self }, p) => actionsOf(self).propose(p),
    broadcastVote: ({ self }, p) => actionsOf(self).broadcastVote(p),
    decide: ({ self }, p) => actionsOf(self).decide(p),
    reportEvidence: ({ self }, p) => actionsOf(self).reportEvidence(p),
    log: ({ self }, p) => actionsOf(self).log(p),
  },
})

/** The pooled transactions this node proposes: those `check` admits, and none of a signer after one it left out (its nonces must follow). */
const admissible = (txs: readonly AppTx[], check: ProposalCheck | undefined): AppTx[] => {
  if (check === undefined) return [...txs]
  const cut = new Set<unknown>()
  return txs.filter((tx) => {
    if (cut.has(tx.signer)) return false
    if (check.admits(tx)) return true
    cut.add(tx.signer)
    return false
  })
}

/**
 * Rebuild the application state from the certificates a node stored (after a restart), loading
 * the snapshots their epoch txs name from the ledger as it goes. A replay stops at a block whose
 * snapshot the ledger does not answer for (the node catches up from there once it answers); a
 * snapshot the ledger answers it does not have fails with `SnapshotAbsent` (that block can never
 * be replayed on this ledger: waiting would be for ever).
 */
export const recoverApp = (fresh: App, store: Store["Service"], committees: CommitteeCache): Effect.Effect<App, SnapshotAbsent> =>
  Effect.gen(function* () {
    const keys = yield* Effect.orDie(store.keys(BLOCK_KEY_PREFIX))
    for (const key of keys) {
      const bytes = yield* Effect.orDie(store.get(key))
      const m = bytes === undefined ? undefined : decodeMessage(bytes)
      if (m === undefined || Result.isFailure(m) || m.success.kind !== "commit") break
      if (m.success.block.height !== fresh.height + 1) break
      const missing = fresh.missingSnapshot(m.success.block)
      if (missing !== undefined) {
        // undefined: the ledger did not answer (stop here, catch up later); false: it has no such snapshot.
        const found = yield* Effect.orElseSucceed(committees.load(missing), () => undefined)
        if (found === undefined) break
        if (!found) return yield* new SnapshotAbsent({ height: m.success.block.height, snapshot: missing })
      }
      fresh.execute(m.success.block)
    }
    return fresh
  })

/** The precommits of the stored certificate of `height` (none before height 1 or without one). */
const storedPrecommits = (store: Store["Service"], height: number): Effect.Effect<readonly Vote[]> =>
  Effect.gen(function* () {
    if (height < 1) return []
    const bytes = yield* Effect.orElseSucceed(store.get(blockKey(height)), () => undefined)
    const m = bytes === undefined ? undefined : decodeMessage(bytes)
    return m !== undefined && Result.isSuccess(m) && m.success.kind === "commit" ? m.success.precommits : []
  })

/** How long a proposer waits for the ledger's newest snapshot before naming the one in force. */
const SNAPSHOT_READ_MS = 2_000

/** Start consensus for this node over its context (the other actors follow its executed blocks). */
export const startConsensus = (ctx: NodeContext, options: ConsensusOptions) =>
  Effect.gen(function* () {
    const { app, clock, run, network, keys, store, mempool, evidence, emit, fault, ledger, committees } = ctx
    const { sync } = options
    const chainId = app.chainId
    const address = keys.address.toLowerCase()
    const outbound = options.outbound ?? honest
    /** Own messages of the current height, re-sent periodically. */
    let latest: ConsensusMessage[] = []
    // The precommits that decided the last executed height go into the next block's last-commit;
    // after a restart they come from its stored certificate (else this node's proposals are invalid).
    let lastCommit: readonly Vote[] = yield* storedPrecommits(store, app.height)
    /** Who signed `lastCommit` (1 by index in `set`): made at the first late precommit after it was set, then kept up to date. */
    let lastCommitSigners: { readonly set: ValidatorSet; readonly flags: Uint8Array } | undefined
    /**
     * `lastCommit` itself while no block holds it (this node's own copy): late precommits are pushed
     * onto it instead of copying it for each one. Undefined after it is set or put into a block.
     */
    let appendable: Vote[] | undefined
    const setLastCommit = (votes: readonly Vote[]): void => {
      lastCommit = votes
      lastCommitSigners = undefined
      appendable = undefined
    }
    let stopped = false
    /** Proposals for the height after the next: checked and handed over once the node gets there. */
    let early: Proposal[] = []
    const MAX_EARLY = 64
    /**
     * The snapshot a proposer names in the epoch tx of a height: the ledger's newest (taken after
     * each settled epoch report, so stake, registrations and parameters changed on the ledger reach
     * the committee), loaded first; without the ledger, the one already in force (always loaded).
     */
    const snapshotFor = (_height: number) =>
      ledger.latestSnapshot.pipe(
        // A proposer does not wait on a slow ledger (a loaded machine's in-process chain took longer than
        // a round, so every proposal of an epoch's first height came too late and the chain stalled there):
        // past the bound it names the snapshot in force, which every validator holds. The simulator's
        // ledger answers at once on virtual time, so its runs do not change.
        Effect.timeout(SNAPSHOT_READ_MS),
        Effect.map((s) => {
          if (s === undefined) return app.lastSnapshot
          committees.remember(s)
          return s.id
        }),
        Effect.orElseSucceed(() => app.lastSnapshot),
      )

    let halted: string | undefined
    /**
     * A decided block failed to execute: this replica can no longer follow the network. Report it,
     * stop consensus (from outside the machine's own action) and tell the node's owner.
     */
    const halt = (height: number, e: unknown) => {
      const reason = `consensus halted at height ${height}: ${e instanceof Error ? e.message : String(e)}`
      halted = reason
      emit("node.error", { action: "execute", height, error: reason })
      clock.setTimeout(() => {
        node.stop()
        options.onHalt?.(reason)
      }, 0)
    }
    /** True when `votes` are precommits for the last executed block (what the next block's last-commit needs). */
    const commitsParent = (votes: readonly Vote[]) => votes.length > 0 && votes[0]!.height === app.height && votes[0]!.blockHash === app.lastBlockHash
    /** Pending evidence (seen by the machine, or submitted): in every block this node proposes until one includes it. */
    const addEvidence = (e: DuplicateVoteEvidence, source: "seen" | "submitted"): string | undefined => {
      if (!evidence.add(e)) return undefined
      emit("evidence.found", { validator: e.voteA.validator, height: e.voteA.height, round: e.voteA.round, ...(source === "submitted" ? { source } : {}) })
      return undefined
    }
    const reporter = makeBlockReporter(app, address, emit, ctx.ledger, run)
    let peerCount = -1
    /** The peer count, when it changed since the last report (once per block at most). */
    const reportPeers = () => run(Effect.map(network.peers, (peers) => {
      if (peers.length !== peerCount) emit("peers", { count: (peerCount = peers.length) })
    }))
    const send = (message: ConsensusMessage) => run(Effect.ignore(network.publish(CONSENSUS_TOPIC, encodeMessage(message))))

    // ── vote aggregation (core/consensus/aggregation.ts) ──
    const routing: VoteRouting = options.votes ?? "aggregated"
    /** The peer each verified proposal of the next heights came from, by "height/round": where that round's votes go. */
    const proposalPeer = new Map<string, string>()
    /**
     * The votes this node aggregates (it proposes their round), by height: the height it decides and
     * the one it decided last (late precommits still go out: the next block's last-commit records
     * who signed).
     */
    const pools = new Map<number, VotePool>()
    /** Follow-up batches waiting, by "round/type", and the fallbacks of own votes: cleared at each decision. */
    const followUps = new Map<string, unknown>()
    let voteTimers: unknown[] = []
    const timeoutPrevote = () => app.params(app.height + 1)["consensus.timeoutPrevote"]
    const aggregatorAt = (height: number, round: number): string => proposer(app.validatorSet(height), height, round)
    /** The aggregator pools a verified vote of a round it proposes, and publishes what +2/3 (then stragglers, batched) make ready. */
    const collect = (v: Vote) => {
      if (routing !== "aggregated" || stopped || v.height > app.height + 1 || v.height < app.height || v.height < 1) return
      const context = actor.getSnapshot().context
      if ((v.height === context.height && v.round > context.round + 2) || aggregatorAt(v.height, v.round) !== address) return
      let pool = pools.get(v.height)
      if (pool === undefined) {
        if (v.height !== app.height + 1) return
        pools.set(v.height, (pool = new VotePool(v.height, app.validatorSet(v.height))))
      }
      if (!pool.add(v)) return
      if (!pool.opened(v.round, v.type)) return flush(pool, v.round, v.type)
      const k = `${v.height}/${v.round}/${v.type}`
      if (followUps.has(k)) return
      // Stragglers after the first batch: one more certificate per hash after a short wait, not one message per vote.
      // Late prevotes of a height already decided help nobody (this node reported any double vote among
      // them itself): only late precommits go out then, for the next block's last-commit.
      followUps.set(k, clock.setTimeout(() => {
        followUps.delete(k)
        if (stopped || pools.get(v.height) !== pool || (v.type === "prevote" && v.height <= app.height)) return
        flush(pool, v.round, v.type)
      }, Math.max(1, Math.floor(timeoutPrevote() / 10))))
    }
    const flush = (pool: VotePool, round: number, type: Vote["type"]) => {
      for (const c of pool.take(round, type).certificates) outbound(c, send)
    }
    /**
     * How a message of this node leaves it: a vote to its round's aggregator when this node knows
     * its peer (it got the round's proposal from it) — to its own pool when it is the aggregator —
     * else, and every other message, to all.
     */
    const route = (message: ConsensusMessage) => {
      if (routing === "gossip" || message.kind !== "vote") return send(message)
      const v = message.vote
      if (v.height === app.height + 1 && aggregatorAt(v.height, v.round) === address) return collect(v)
      const peer = proposalPeer.get(`${v.height}/${v.round}`)
      if (peer === undefined) return send(message)
      run(Effect.ignore(network.send(peer, CONSENSUS_TOPIC, encodeMessage(message))))
    }
    /** The aggregator did not deliver +2/3 of `v`'s step in time: publish `v` to all (a faulty aggregator costs time, not liveness). */
    const fallback = (message: ConsensusMessage & { kind: "vote" }) => {
      const v = message.vote
      voteTimers.push(clock.setTimeout(() => {
        if (stopped || v.height !== app.height + 1) return
        const state = actor.getSnapshot().context.heightState
        const set = v.type === "prevote" ? state?.votes.prevotes(v.round) : state?.votes.precommits(v.round)
        if (state?.height === v.height && set?.hasQuorumAny() === true) return
        outbound(message, send)
      }, options.aggregationFallback ?? timeoutPrevote()))
    }
    /** Send one of this node's own messages, and remember it (what it signed, not what a fault made of it) for resending. */
    const speak = (message: ConsensusMessage) => {
      if (!stopped) latest = [...latest.filter((m) => !sameSlot(m, message)), message]
      outbound(message, route)
      if (routing === "aggregated" && message.kind === "vote" && !stopped) fallback(message)
    }

    const actions: NodeActions = {
      propose: (p) => {
        run(Effect.gen(function* () {
          // The last commit must be the one that decided the parent; if this node lacks it (a
          // store read failed at start), read the stored certificate again rather than propose
          // a block nobody can accept.
          if (p.validValue === undefined && p.height > 1 && !commitsParent(lastCommit)) setLastCommit(yield* storedPrecommits(store, app.height))
          const epochTx = p.validValue === undefined && p.height === app.height + 1 && app.isEpochStart(p.height) ? app.epochTx(p.height, yield* snapshotFor(p.height)) : undefined
          const block: Block = p.validValue ?? {
            height: p.height,
            round: p.round,
            proposer: address,
            parentHash: app.lastBlockHash,
            time: Math.max(ctx.now(), app.lastTime),
            txs: [
              ...(p.height > 1 ? [{ type: "last-commit", height: p.height - 1, precommits: lastCommit as unknown as Json }] : []),
              ...(epochTx === undefined ? [] : [epochTx]),
              ...evidence.pending().map((e): AppTx => ({ type: "evidence", voteA: e.voteA, voteB: e.voteB })),
              ...admissible(mempool.includable(), options.precheck),
            ],
            appHash: app.appHash,
          }
          appendable = undefined // the block may hold lastCommit now: a late precommit copies it first
          // A proposer judges its own block as every other validator will: it feeds the block back
          // to its machine as valid, so with enough power of its own (a single validator) an
          // invalid block would be decided here and then fail to execute. Stay silent instead;
          // the round times out and the next proposer takes over.
          const invalid = p.height === app.height + 1 ? app.checkBlock(block) : `height ${p.height} is not the next (${app.height + 1})`
          if (invalid !== undefined) return emit("node.error", { action: "propose", height: p.height, round: p.round, error: `own block is invalid: ${invalid}` })
          const hash = blockHash(block)
          const polRound = p.validValue === undefined ? -1 : p.validRound
          const verdict = yield* guardSigning(store, { height: p.height, round: p.round, step: "proposal", value: hash })
          if (!verdict.ok) return emit("protect.refused", { reason: verdict.reason })
          const signature = yield* keys.sign(proposalDigest(chainId, p.height, p.round, polRound, hash))
          const proposal: Proposal = { height: p.height, round: p.round, polRound, block, proposer: address, signature: toHex(signature) }
          speak({ kind: "proposal", proposal })
          actor.send({ type: "proposal.received", proposal, valid: true })
        }).pipe(Effect.catch((e) => Effect.sync(() => emit("node.error", { action: "propose", error: String(e) })))))
      },
      broadcastVote: (p) => {
        // Every vote of every node passes here: chained with flatMap rather than a generator (cheaper
        // on the simulator's synchronous runner); the same steps in the same order.
        const cast = (blockHash: string | null) =>
          Effect.map(keys.sign(voteDigest(chainId, p.type, p.height, p.round, blockHash)), (signature) => {
            const vote: Vote = { type: p.type, height: p.height, round: p.round, blockHash, validator: address, signature: toHex(signature) }
            speak({ kind: "vote", vote })
            actor.send({ type: "vote.received", vote })
          })
        run(Effect.flatMap(guardSigning(store, { height: p.height, round: p.round, step: p.type, value: p.blockHash }), (verdict) => {
          if (verdict.ok) return cast(p.blockHash)
          emit("protect.refused", { reason: verdict.reason })
          // After a restart the machine may want another value in a slot it had signed before:
          // vote what it did sign (the same vote again, no conflict). Staying silent would leave
          // peers short of the precommits that arm their round timeouts, and the height stuck.
          return Effect.flatMap(signedAtHeight(store, p.height), (records) => {
            const signed = records.find((r) => r.round === p.round && r.step === p.type)
            return signed === undefined ? Effect.void : cast(signed.value)
          })
        }).pipe(Effect.catch((e) => Effect.sync(() => emit("node.error", { action: "broadcastVote", error: String(e) })))))
      },
      decide: (p) => {
        if (p.height !== app.height + 1 || halted !== undefined) return
        const cert = { kind: "commit", block: p.block, precommits: p.precommits } as const
        // Durable before it counts: a restart replays stored certificates into the App. (The store
        // copies what it is given, or keeps the sealed parts: shared with the nodes that stored the
        // same certificate, or one that differs in a vote or two.)
        run(Effect.andThen(Effect.suspend(() => store.putParts(blockKey(p.height), encodeCommitParts(cert))), store.sync).pipe(Effect.catch((e) => Effect.sync(() => emit("node.error", { action: "decide", error: String(e) })))))
        let exec: Execution
        try {
          exec = app.execute(p.block)
        } catch (e) {
          return halt(p.height, e)
        }
        setLastCommit(p.precommits)
        latest = []
        for (const h of pools.keys()) if (h < p.height) pools.delete(h)
        for (const t of voteTimers) clock.clearTimeout(t)
        voteTimers = []
        for (const k of proposalPeer.keys()) if (Number(k.slice(0, k.indexOf("/"))) <= p.height) proposalPeer.delete(k)
        evidence.removeIncluded(p.block.txs)
        mempool.prune()
        emit("block.committed", {
          height: p.height, round: p.round, hash: blockHash(p.block), proposer: p.block.proposer, txs: p.block.txs.length,
          appHash: exec.appHash, slashed: exec.slashes.map((s) => s.pool),
        })
        for (const s of exec.slashes) emit("validator.convicted", { pool: s.pool, infraction: s.infraction })
        reporter.onBlock(p.block)
        ctx.executed.publish({ block: p.block, execution: exec })
        reportPeers()
        if (app.stalled !== undefined) return halt(p.height, new Error(app.stalled))
        actor.send({ type: "height.start", height: app.height + 1, validators: app.validatorSet(app.height + 1), timeouts: timeoutsFromParams(app.params(app.height + 1)) })
        const held = early
        early = []
        for (const proposal of held) if (proposal.height === app.height + 1) onProposal(proposal)
      },
      reportEvidence: (p) => void addEvidence(p.evidence, "seen"),
      log: (p) => {
        if (p.level === "warn") emit("consensus.log", { level: p.level, message: p.message })
      },
    }
    const actor = createActor(nodeMachine, { clock: clock as never, input: { self: address, timeouts: timeoutsFromParams(app.params()) } })
    nodeActions.set(actor, actions)

    /**
     * A verified proposal for the next height: the App judges the block (then the precheck, if
     * any), the machine does the rest. A block naming a snapshot this node has not loaded is held
     * until the snapshot is loaded from the ledger, then judged: the machine never prevotes a block
     * whose set it cannot know. (The alternative, prevoting nil at once, would cost a round at every
     * epoch start on a real chain, where loading takes a request; if the ledger cannot answer, the
     * block is judged invalid and the machine prevotes nil, and the next round tries again.)
     */
    const onProposal = (p: Proposal) => {
      const missing = app.missingSnapshot(p.block)
      if (missing !== undefined) {
        return run(committees.load(missing).pipe(
          Effect.orElseSucceed(() => false),
          Effect.map(() => {
            if (!stopped && p.height === app.height + 1) judge(p)
          }),
        ))
      }
      judge(p)
    }
    const judge = (p: Proposal) => {
      const judged = (invalid: string | undefined) => {
        if (invalid !== undefined) emit("proposal.invalid", { height: p.height, round: p.round, proposer: p.proposer, reason: invalid })
        actor.send({ type: "proposal.received", proposal: p, valid: invalid === undefined })
      }
      const invalid = app.checkBlock(p.block)
      if (invalid !== undefined || options.precheck === undefined) return judged(invalid)
      // A verdict that comes later counts only while the node still decides that height.
      options.precheck.judge(p.block, (why) => {
        if (!stopped && p.height === app.height + 1) judged(why)
      })
    }

    /** Messages (decoded objects: votes, proposals, and certificates all of whose votes were) that a verifier like this node's accepted on this chain. */
    const accepted = acceptedBy(keys.verify, chainId)
    /** `check()`, once per decoded message object for all nodes that verify alike (a simulated world shares them). */
    const authentic = (m: Vote | Proposal, check: () => boolean): boolean => {
      if (accepted.has(m)) return true
      if (!check()) return false
      accepted.add(m)
      return true
    }
    /** `authentic` for a vote (no check closure made for a vote accepted already: a certificate is ≈ 2n/3 of them). */
    const authenticVote = (v: Vote): boolean =>
      accepted.has(v) || authentic(v, () => keys.verify(v.validator, voteDigest(chainId, v.type, v.height, v.round, v.blockHash), fromHex(v.signature)))

    /** A verified vote (alone, or `list[i]`: out of a certificate, whose voters' positions a set remembers). */
    const onVote = (v: Vote, from: string, list?: readonly Vote[], i = 0): void => {
      const next = app.height + 1
      // Precommits for the block just decided that arrive after the decision still go in the next
      // block's last-commit: who signed is what downtime is judged on, not who was fastest.
      if (v.type === "precommit" && v.height === app.height && v.blockHash === app.lastBlockHash && v.round === lastCommit[0]?.round) {
        const set = app.validatorSet(app.height)
        // A copy: this node adds late signers to it, and signerFlags' flags may be shared.
        if (lastCommitSigners?.set !== set) lastCommitSigners = { set, flags: signerFlags(set, lastCommit).slice() }
        const at = list === undefined ? set.indexOf(v.validator) : set.positions(list)[i]!
        if (at >= 0 && lastCommitSigners.flags[at] === 0) {
          if (appendable === undefined) lastCommit = appendable = [...lastCommit]
          appendable.push(v)
          lastCommitSigners.flags[at] = 1
        }
        return
      }
      // The machine ignores votes of heights it decided (neither its height's nor the next): no event.
      if (v.height < next) return
      // A vote from a height ahead means this node is behind: ask the sender for what it decided.
      // The machine keeps votes for the height after its own; further ones are of no use yet.
      if (v.height > next) sync.behind(from)
      if (v.height > next + 1) return
      // Counted straight into the height's state; the machine hears only of a crossed threshold.
      const event = voteEvent(actor.getSnapshot().context, v)
      if (event !== undefined) actor.send(event)
    }

    /**
     * A certificate's verified votes (one height), as `onVote` of each in turn: the votes of the height
     * being decided are counted in runs up to the next one the machine must hear of (intake.ts), the
     * others go through `onVote`. The machine's context is read afresh after each event it is sent.
     */
    const onVotes = (votes: readonly Vote[], from: string): void => {
      let i = 0
      while (i < votes.length) {
        const v = votes[i]!
        if (v.height !== app.height + 1) {
          onVote(v, from, votes, i)
          i++
          continue
        }
        const { event, next } = voteRunEvent(actor.getSnapshot().context, votes, i)
        i = next
        if (event !== undefined) actor.send(event)
      }
    }

    const onConsensus = (env: Envelope) => {
      if (stopped) return
      const decoded = decodeShared(env.data)
      if (Result.isFailure(decoded)) return fault(env.from, `${decoded.failure.field}: ${decoded.failure.reason}`)
      const m = decoded.success
      const next = app.height + 1
      switch (m.kind) {
        case "proposal": {
          const p = m.proposal
          if (!authentic(p, () => keys.verify(p.proposer, proposalDigest(chainId, p.height, p.round, p.polRound, blockHash(p.block)), fromHex(p.signature)))) {
            return fault(env.from, `proposal ${p.height}/${p.round}: bad signature`)
          }
          // Where this round's votes go (aggregation): the peer that sent the round's proposal, if it came from its proposer.
          if (routing === "aggregated" && p.height === next && p.proposer === aggregatorAt(p.height, p.round) && proposalPeer.size < 256) {
            proposalPeer.set(`${p.height}/${p.round}`, env.from)
          }
          if (p.height === next + 1) {
            // A peer is one height ahead: it has the certificate of `next`; keep its proposal until
            // this node has executed `next`.
            if (early.length < MAX_EARLY) early.push(p)
            return sync.behind(env.from)
          }
          if (p.height > next) return sync.behind(env.from)
          if (p.height < next) return
          return onProposal(p)
        }
        case "vote": {
          const v = m.vote
          if (!authenticVote(v)) {
            return fault(env.from, `vote ${v.height}/${v.round}: bad signature`)
          }
          onVote(v, env.from)
          collect(v)
          return
        }
        case "certificate": {
          // Every signature is checked, as for single votes; one bad signature spoils the certificate.
          // A certificate object whose votes were all accepted is remembered as such (a simulated
          // world's nodes share it: one lookup per node instead of one per vote).
          const votes = certificateVotes(m)
          if (!accepted.has(m)) {
            for (const v of votes) {
              if (!authenticVote(v)) {
                return fault(env.from, `certificate ${m.height}/${m.round}/${m.type}: bad signature of ${v.validator}`)
              }
            }
            accepted.add(m)
          }
          onVotes(votes, env.from)
          return
        }
        case "commit": {
          if (m.block.height > next) return sync.behind(env.from)
          if (m.block.height < next) return
          const set = app.validatorSet(next)
          for (const v of m.precommits) {
            if (!set.has(v.validator) || !authenticVote(v)) {
              return fault(env.from, `commit ${m.block.height}: bad precommit of ${v.validator}`)
            }
          }
          const commit = () => {
            if (stopped || m.block.height !== app.height + 1) return
            // A snapshot this node's ledger cannot give yet is no fault of the peer: the certificate
            // comes again (resends, block sync) once the ledger has it.
            if (app.missingSnapshot(m.block) !== undefined) return
            if (app.checkBlock(m.block) !== undefined) return fault(env.from, `commit ${m.block.height}: invalid block`)
            actor.send({ type: "commit.received", block: m.block, precommits: m.precommits })
          }
          const missing = app.missingSnapshot(m.block)
          if (missing === undefined) return commit()
          return run(Effect.map(Effect.orElseSucceed(committees.load(missing), () => false), commit))
        }
      }
    }

    const onTx = (env: Envelope) => {
      if (stopped) return
      let value: unknown
      try {
        value = JSON.parse(new TextDecoder().decode(env.data))
      } catch {
        return fault(env.from, "tx: not JSON")
      }
      const decoded = decodeTx(value)
      if (Result.isFailure(decoded)) return fault(env.from, `tx: ${decoded.failure}`)
      const tx = decoded.success
      // What the pool would refuse anyway (a used nonce, a sender with no standing or too far ahead)
      // is dropped before the costly signature check, so a flood costs little; it is no fault of
      // the peer, which may have relayed it while it was still acceptable.
      if (mempool.check(tx) !== undefined) return
      if (!keys.verify(tx.signer, txDigest(chainId, tx), fromHex(tx.signature))) return fault(env.from, `tx of ${tx.signer}: bad signature`)
      mempool.add(tx)
    }

    const unsubscribe = [
      // Sizes are checked before anything is decoded; a peer that keeps sending what fails is cut off.
      yield* network.subscribe(CONSENSUS_TOPIC, onConsensus, { maxBytes: MAX_MESSAGE_BYTES }),
      yield* network.subscribe(TX_TOPIC, onTx, { maxBytes: MAX_TX_BYTES }),
    ]

    // Re-send own messages of the current height until it is decided (lossy links, healed partitions),
    // and relay the prevote quorums behind this node's lock and valid value once the height has gone
    // past their rounds (core/consensus/relay.ts): a silent validator's vote that completed them
    // reaches the peers that missed it only this way. Mostly only the votes of signers silent since
    // (live ones re-send their own), the whole quorums every FULL_RELAY_EVERY re-sends. Relayed
    // votes take the node's outbound path too (a silent node relays nothing).
    const resendEvery = options.resendEvery ?? app.params()["consensus.timeoutPropose"]
    let resendTimer: unknown
    let resends = 0
    const resend = () => {
      if (stopped) return
      const snapshot = actor.getSnapshot()
      if (routing === "gossip") for (const m of latest) outbound(m, send)
      if (snapshot.matches("height")) {
        const all = resends++ % FULL_RELAY_EVERY === FULL_RELAY_EVERY - 1
        for (const vote of votesToRelay(snapshot.context.heightState, snapshot.context, address, all)) outbound({ kind: "vote", vote }, send)
      }
      resendTimer = clock.setTimeout(resend, resendEvery)
    }
    // Aggregated votes: own messages go out to all again only once this node's height has lasted a
    // block interval and a re-send period (timeoutCommit + resendEvery) without a decision, then every
    // resendEvery until it decides. A height that decides in time needs nothing re-sent, and re-sending
    // on every tick would cost n² messages again. The watch is on the height, not the step: rounds
    // move on timeouts whether or not votes arrive, so with "not moved since the last tick" a node
    // whose round timed out between two ticks counted as moving and re-sent nothing; a height where
    // every round lost a needed vote (5 of 6 honest votes needed, 5 % loss) stalled from 123 s to the
    // end of the run at 150 s (docs/consensus.md, "Vote aggregation").
    let stuckTimer: unknown
    const stuck = () => {
      stuckTimer = undefined
      if (stopped) return
      for (const m of latest) outbound(m, send)
      stuckTimer = clock.setTimeout(stuck, resendEvery)
    }
    let watchedHeight = -1
    const watchHeight = (height: number) => {
      if (routing === "gossip" || stopped || height === watchedHeight) return
      watchedHeight = height
      if (stuckTimer !== undefined) clock.clearTimeout(stuckTimer)
      stuckTimer = clock.setTimeout(stuck, app.params(height)["consensus.timeoutCommit"] + resendEvery)
    }
    resendTimer = clock.setTimeout(resend, resendEvery)

    // The TUI's round and step: one event per change of (height, round, step), a few per height.
    let shown = { height: -1, round: -1, step: "" }
    actor.subscribe((snapshot) => {
      const c = snapshot.context
      if (c.height === 0 || (c.height === shown.height && c.round === shown.round && c.step === shown.step)) return
      shown = { height: c.height, round: c.round, step: c.step }
      watchHeight(c.height)
      emit("consensus.step", { height: c.height, round: c.round, step: c.step })
    })
    actor.start()
    actor.send({ type: "height.start", height: app.height + 1, validators: app.validatorSet(app.height + 1), timeouts: timeoutsFromParams(app.params(app.height + 1)) })
    emit("node.started", { address, height: app.height })
    // After a restart: send again the votes already signed at this height (the same signatures; the
    // record says what they were), so peers waiting for them are not stuck on a vote we can't redo.
    run(Effect.gen(function* () {
      for (const r of yield* signedAtHeight(store, app.height + 1)) {
        if (r.step === "proposal") continue
        const signature = yield* keys.sign(voteDigest(chainId, r.step, r.height, r.round, r.value))
        const vote: Vote = { type: r.step, height: r.height, round: r.round, blockHash: r.value, validator: address, signature: toHex(signature) }
        speak({ kind: "vote", vote })
        actor.send({ type: "vote.received", vote })
      }
    }).pipe(Effect.catch((e) => Effect.sync(() => emit("node.error", { action: "resume", error: String(e) })))))

    const node: ConsensusNode = {
      actor,
      address,
      faults: ctx.faults,
      get pending() {
        return mempool.size
      },
      get halted() {
        return halted
      },
      submitEvidence: (submitted) => {
        if (stopped) return "consensus is stopped"
        return evidence.check(submitted) ?? addEvidence(submitted, "submitted")
      },
      submitTx: ctx.submitTx,
      stop: () => {
        if (stopped) return
        stopped = true
        clock.clearTimeout(resendTimer)
        if (stuckTimer !== undefined) clock.clearTimeout(stuckTimer)
        actor.stop()
        for (const u of unsubscribe) run(u)
      },
    }
    return node
  })

/** Two messages for the same (kind, height, round, vote type) slot: the newer replaces the older. */
const sameSlot = (a: ConsensusMessage, b: ConsensusMessage): boolean => {
  if (a.kind === "vote" && b.kind === "vote") return a.vote.type === b.vote.type && a.vote.height === b.vote.height && a.vote.round === b.vote.round
  if (a.kind === "proposal" && b.kind === "proposal") return a.proposal.height === b.proposal.height && a.proposal.round === b.proposal.round
  return false
}


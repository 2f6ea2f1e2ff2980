/**
 * One validator's consensus, as an XState machine: Algorithm 1 of "The latest gossip on BFT
 * consensus" (Buchman, Kwon, Milosevic 2018), the Tendermint algorithm, with voting power in place
 * of process counts (2f+1 = more than 2/3 of the power, f+1 = more than 1/3).
 *
 *   idle ──height.start──▶ height ──decision──▶ committed ──timeoutCommit──▶ ready ──height.start──▶ height …
 *                          └ round (re-entered by StartRound), two parallel regions:
 *                              step:           propose → prevote (waiting → timing) → precommit
 *                              precommitTimer: idle → armed (2f+1 precommits of any kind arrived)
 *
 * Every upon-rule of the paper is a guarded eventless transition, named after its line number, so
 * that it fires as soon as its condition holds, whichever event made it hold:
 *   L22/L28  proposal (fresh, or with a proof-of-lock round vr < r)  step propose  → prevote
 *   L34      2f+1 prevotes of any kind                               step prevote  → timeoutPrevote
 *   L36      proposal + 2f+1 prevotes for it: lock, precommit it    step prevote  → precommit
 *            (in step precommit only validValue/validRound move)
 *   L44      2f+1 prevotes for nil                                   step prevote  → precommit nil
 *   L47      2f+1 precommits of any kind                             timeoutPrecommit armed
 *   L49      a block with 2f+1 precommits in any round               → committed (decide)
 *   L55      f+1 power in a higher round                             StartRound(that round)
 * Timeouts: OnTimeoutPropose / OnTimeoutPrevote / OnTimeoutPrecommit as `after` transitions of the
 * states they belong to, so leaving the state (a new round, a new step) cancels them; their length
 * is base + round × delta (consensus.timeoutX, consensus.timeoutDelta). Each timer state has an
 * explicit `id`, so XState names its delayed event `xstate.after.<delay>.<id>` (never a random id).
 *
 * Purity: the machine acts only through the actions declared in `setup` and supplied by the node
 * with `.provide()`: `propose` (build, sign, broadcast a block and feed the proposal back),
 * `broadcastVote` (sign after checking the slashing-protection record, broadcast, feed back),
 * `decide` (commit), `reportEvidence`, `log`. It receives messages whose signatures the node has
 * already checked, and reads time only through XState's clock.
 *
 * Threshold events: a node may count a verified vote of the height being decided into `heightState`
 * itself (core/consensus/intake.ts) and send `votes.counted` only when it crossed a threshold a guard
 * reads (+2/3 for anything or for one hash, +1/3 in a higher round) or brought evidence: the guards
 * still decide everything, they are just not re-evaluated after votes that cannot change them.
 *
 * Mutability: the votes, proposals and blocks of the current height live in one `HeightState`
 * object in context (`heightState`) that the machine's own actions mutate in place. Copying vote maps on every vote
 * would make a round of n votes cost O(n²); in place, each vote is O(1) and each rule's guard O(1).
 * This is safe because the object never leaves the actor: the actions given to the node receive
 * plain values (blocks, votes, arrays), and a new height gets a new object. The price is that a
 * snapshot of this machine is not a persistable value; a restarted node re-enters consensus at its
 * next height, and its slashing-protection record (not this machine) keeps it from double signing.
 *
 * Buffering: messages for the next height (peers that decided before us) wait in a bounded buffer
 * until the node starts that height with its validator set; older and further heights are dropped.
 * After a decision the machine waits consensus.timeoutCommit (the block interval) — unless it is
 * behind (it decided from a peer's certificate, or validators with more than 1/3 of the power have
 * already sent messages of the next height), in which case it starts the next height at once:
 * otherwise a node that fell behind would pay a timeoutCommit per height and might never catch up.
 * Catch-up: a node that is behind receives a `commit.received` certificate from a peer (the node
 * verifies its signatures); the machine checks its quorum and decides with it.
 */
import { and, assign, setup } from "xstate"
import { HeightBuffer } from "../core/consensus/buffer.ts"
import { HeightState } from "../core/consensus/height-state.ts"
import type {
  BroadcastVoteParams, ConsensusEvent, ConsensusInput, ConsensusTimeouts, DecideParams, HeightStartEvent, LogParams,
  MessageEvent, ProposeParams, ReportEvidenceParams, Step, VotesCountedEvent,
} from "../core/consensus/node-interface.ts"
import type { Address, Block, Hash, VoteType } from "../core/consensus/types.ts"

export { timeoutsFromParams } from "../core/consensus/node-interface.ts"
export type {
  BroadcastVoteParams, CommitReceivedEvent, ConsensusEvent, ConsensusInput, ConsensusTimeouts, DecideParams, HeightStartEvent,
  LogParams, ProposalReceivedEvent, ProposeParams, ReportEvidenceParams, Step, VoteReceivedEvent, VotesCountedEvent,
} from "../core/consensus/node-interface.ts"

export interface ConsensusContext {
  readonly self: Address
  readonly timeouts: ConsensusTimeouts
  readonly maxRoundsAhead: number
  readonly maxFutureRounds: number
  /** The height being decided (or just decided); 0 before the first `height.start`. */
  readonly height: number
  readonly round: number
  readonly step: Step
  /** Everything known about `height` (mutable, owned by this actor); undefined before the first height. */
  readonly heightState: HeightState | undefined
  readonly lockedValue: Block | null
  readonly lockedHash: Hash | null
  readonly lockedRound: number
  readonly validValue: Block | null
  readonly validHash: Hash | null
  readonly validRound: number
  readonly lastDecision: { readonly height: number; readonly round: number; readonly blockHash: Hash; readonly certified: boolean } | undefined
  /** A `height.start` that arrived while waiting out timeoutCommit. */
  readonly pendingStart: HeightStartEvent | undefined
  /** Messages for the next height (mutable, owned by this actor). */
  readonly buffer: HeightBuffer<{ readonly height: number; readonly event: MessageEvent }>
}

const heightOf = (e: MessageEvent | VotesCountedEvent): number =>
  e.type === "vote.received" ? e.vote.height : e.type === "proposal.received" ? e.proposal.height : e.type === "votes.counted" ? e.height : e.block.height

const signersOf = (e: MessageEvent): readonly string[] =>
  e.type === "vote.received" ? [e.vote.validator] : e.type === "proposal.received" ? [e.proposal.proposer] : e.precommits.map((v) => v.validator)

/** The current height's state; the machine only asks for it in states where it exists. */
const hs = (c: ConsensusContext): HeightState => c.heightState!

const timeout = (base: number, c: ConsensusContext) => base + c.round * c.timeouts.delta

/** L36's condition: the round's proposal is valid and 2f+1 prevoted for it. */
const polkaForProposal = (c: ConsensusContext): boolean => {
  const p = hs(c).proposal(c.round)
  return p !== undefined && p.valid && hs(c).votes.prevotes(c.round)?.quorumFor(p.blockHash) === true
}

const base = setup({
  types: {
    input: {} as ConsensusInput,
    context: {} as ConsensusContext,
    events: {} as ConsensusEvent,
  },
  actions: {
    /** Build (or re-propose `validValue`), sign and broadcast a proposal, and feed it back. */
    propose: (_, _params: ProposeParams) => {},
    /** Sign (after the slashing-protection check) and broadcast a vote, and feed it back. */
    broadcastVote: (_, _params: BroadcastVoteParams) => {},
    /** Commit `block` at `height` with its certificate. */
    decide: (_, _params: DecideParams) => {},
    /** Double signing seen: put the evidence in a block. */
    reportEvidence: (_, _params: ReportEvidenceParams) => {},
    log: (_, _params: LogParams) => {},
  },
  guards: {
    isNewerHeight: ({ context, event }) => event.type === "height.start" && event.height > context.height,
    hasPendingStart: ({ context }) => context.pendingStart !== undefined,
    /**
     * This node is behind, so waiting out timeoutCommit would only keep it behind: it decided from
     * a peer's commit certificate, or validators with more than 1/3 of the power (weighed by the
     * decided height's set) already sent messages of the next height.
     */
    behind: ({ context }) => {
      if (context.lastDecision?.certified === true) return true
      const set = hs(context).validators
      let power = 0n
      for (const a of context.buffer.senders(context.height + 1)) power += set.power(a)
      return power >= set.fPlusOne
    },
    forThisHeight: ({ context, event }) => event.type !== "height.start" && heightOf(event) === context.height,
    // Before the first height any height may be next; afterwards only the next one is kept.
    bufferable: ({ context, event }) =>
      event.type !== "height.start" && (context.height === 0 ? heightOf(event) >= 1 : heightOf(event) === context.height + 1),
    /** L22 / L28: the round's proposal, fresh (vr = −1) or with 2f+1 prevotes for it in round vr < r. */
    proposalReady: ({ context }) => {
      const p = hs(context).proposal(context.round)
      if (p === undefined) return false
      const vr = p.proposal.polRound
      return vr === -1 || (vr < context.round && hs(context).votes.prevotes(vr)?.quorumFor(p.blockHash) === true)
    },
    /** L36: the round's proposal is valid and has 2f+1 prevotes. */
    polkaForProposal: ({ context }) => polkaForProposal(context),
    /** L36 in step precommit: as above, the first time in this round. */
    polkaForProposalUnrecorded: ({ context }) => context.validRound < context.round && polkaForProposal(context),
    /** L44 */
    polkaForNil: ({ context }) => hs(context).votes.prevotes(context.round)?.quorumFor(null) === true,
    /** L34 */
    anyPrevoteQuorum: ({ context }) => hs(context).votes.prevotes(context.round)?.hasQuorumAny() === true,
    /** L47 */
    anyPrecommitQuorum: ({ context }) => hs(context).votes.precommits(context.round)?.hasQuorumAny() === true,
    /** L49 */
    decidable: ({ context }) => hs(context).hasDecision(),
    /** L55 */
    canSkipRound: ({ context }) => hs(context).votes.highestFPlusOneRound() > context.round,
  },
  delays: {
    timeoutPropose: ({ context }) => timeout(context.timeouts.propose, context),
    timeoutPrevote: ({ context }) => timeout(context.timeouts.prevote, context),
    timeoutPrecommit: ({ context }) => timeout(context.timeouts.precommit, context),
    timeoutCommit: ({ context }) => context.timeouts.commit,
  },
})

/** A vote of this height and round for the node to sign and send; nothing when not a validator. */
const castVote = (c: ConsensusContext, type: VoteType, blockHash: Hash | null): Enqueued[] =>
  hs(c).validators.has(c.self) ? [{ type: "broadcastVote", params: { type, height: c.height, round: c.round, blockHash } }] : []

const rules = base.extend({
  actions: {
    /** Start a height: fresh state, no lock, round 0; replay what was buffered for it. */
    beginHeight: base.enqueueActions(({ context, event, enqueue }) => {
      const start = event.type === "height.start" ? event : context.pendingStart!
      const state = new HeightState(start.height, start.validators, { maxRoundsAhead: context.maxRoundsAhead, maxFutureRounds: context.maxFutureRounds })
      for (const { event: e } of context.buffer.take(start.height)) {
        for (const action of record(state, e)) enqueue(action)
      }
      enqueue.assign({
        ...(start.timeouts === undefined ? {} : { timeouts: start.timeouts }),
        height: start.height, round: 0, heightState: state, pendingStart: undefined,
        lockedValue: null, lockedHash: null, lockedRound: -1, validValue: null, validHash: null, validRound: -1,
      })
    }),
    bufferMessage: base.enqueueActions(({ context, event, enqueue }) => {
      if (event.type === "height.start" || event.type === "votes.counted") return
      if (!context.buffer.push({ height: heightOf(event), event })) {
        enqueue({ type: "log", params: { level: "warn", message: `buffer full (${context.buffer.capacity}): dropped a message for height ${heightOf(event)}` } })
      }
    }),
    recordMessage: base.enqueueActions(({ context, event, enqueue }) => {
      if (event.type === "height.start" || event.type === "votes.counted") return
      for (const action of record(hs(context), event)) enqueue(action)
    }),
    /** The node counted votes itself (core/consensus/intake.ts); the guards re-read the state. */
    reportCounted: base.enqueueActions(({ event, enqueue }) => {
      if (event.type === "votes.counted" && event.evidence !== undefined) enqueue({ type: "reportEvidence", params: { evidence: event.evidence } })
    }),
    /** StartRound(round): the proposer proposes (its valid value, if it has one). */
    startRound: base.enqueueActions(({ context, enqueue }) => {
      const state = hs(context)
      state.setRound(context.round)
      if (state.proposer(context.round) === context.self) {
        enqueue({
          type: "propose",
          params: { height: context.height, round: context.round, validValue: context.validValue ?? undefined, validRound: context.validRound },
        })
      }
    }),
    /** OnTimeoutPropose */
    prevoteNil: base.enqueueActions(({ context, enqueue }) => castVote(context, "prevote", null).forEach((a) => enqueue(a))),
    /** L44, OnTimeoutPrevote */
    precommitNil: base.enqueueActions(({ context, enqueue }) => castVote(context, "precommit", null).forEach((a) => enqueue(a))),
    /** L22 / L28: prevote the proposal if it is valid and we are not locked on something else since before vr. */
    prevoteProposal: base.enqueueActions(({ context, enqueue }) => {
      const p = hs(context).proposal(context.round)!
      const acceptable = p.valid && (context.lockedRound <= p.proposal.polRound || context.lockedHash === p.blockHash)
      for (const a of castVote(context, "prevote", acceptable ? p.blockHash : null)) enqueue(a)
    }),
    /** L36 in step prevote: lock on the proposal, precommit it, and remember it as the valid value. */
    lockAndPrecommit: base.enqueueActions(({ context, enqueue }) => {
      const p = hs(context).proposal(context.round)!
      enqueue.assign({
        lockedValue: p.proposal.block, lockedHash: p.blockHash, lockedRound: context.round,
        validValue: p.proposal.block, validHash: p.blockHash, validRound: context.round,
      })
      for (const a of castVote(context, "precommit", p.blockHash)) enqueue(a)
    }),
    /** L36 in step precommit: only remember the valid value. */
    recordValid: assign(({ context }) => {
      const p = hs(context).proposal(context.round)!
      return { validValue: p.proposal.block, validHash: p.blockHash, validRound: context.round }
    }),
    /** L49 */
    commitDecision: base.enqueueActions(({ context, enqueue }) => {
      const d = hs(context).decision()!
      enqueue({ type: "decide", params: { height: context.height, round: d.round, block: d.block, precommits: d.precommits } })
      enqueue({ type: "log", params: { level: "info", message: `decided height ${context.height} in round ${d.round} (${d.source}): ${d.blockHash}` } })
      enqueue.assign({ lastDecision: { height: context.height, round: d.round, blockHash: d.blockHash, certified: d.source === "certificate" } })
    }),
    /** L55 */
    skipRound: base.enqueueActions(({ context, enqueue }) => {
      const round = hs(context).votes.highestFPlusOneRound()
      enqueue.assign({ round })
      enqueue({ type: "log", params: { level: "info", message: `height ${context.height}: skipping from round ${context.round} to ${round}, where +1/3 of the power is` } })
    }),
    /** OnTimeoutPrecommit */
    nextRound: base.enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ round: context.round + 1 })
      enqueue({ type: "log", params: { level: "debug", message: `height ${context.height}: round ${context.round} ended without a decision` } })
    }),
  },
})

type Enqueued =
  | { readonly type: "broadcastVote"; readonly params: BroadcastVoteParams }
  | { readonly type: "reportEvidence"; readonly params: ReportEvidenceParams }
  | { readonly type: "log"; readonly params: LogParams }

/** Put a message into the height's state; what the node should hear about it. */
const record = (state: HeightState, e: MessageEvent): Enqueued[] => {
  switch (e.type) {
    case "vote.received": {
      const r = state.addVote(e.vote)
      if (r.kind === "conflict" && r.first) return [{ type: "reportEvidence", params: { evidence: r.evidence } }]
      if (r.kind === "rejected") return [{ type: "log", params: { level: "debug", message: `vote ignored: ${r.reason}` } }]
      return []
    }
    case "proposal.received": {
      const r = state.addProposal(e.proposal, e.valid)
      return r.kind === "ignored" ? [{ type: "log", params: { level: "debug", message: `proposal ignored: ${r.reason}` } }] : []
    }
    case "commit.received": {
      const why = state.addCertificate(e.block, e.precommits)
      return why === undefined ? [] : [{ type: "log", params: { level: "warn", message: `commit certificate refused: ${why}` } }]
    }
  }
}

export const consensusMachine = rules.createMachine({
  id: "consensus",
  context: ({ input }) => ({
    self: input.self.toLowerCase(),
    timeouts: input.timeouts,
    maxRoundsAhead: input.maxRoundsAhead ?? 32,
    maxFutureRounds: input.maxFutureRounds ?? 2,
    height: 0,
    round: 0,
    step: "propose",
    heightState: undefined,
    lockedValue: null,
    lockedHash: null,
    lockedRound: -1,
    validValue: null,
    validHash: null,
    validRound: -1,
    lastDecision: undefined,
    pendingStart: undefined,
    buffer: new HeightBuffer(input.maxBuffered ?? 4096, ({ event }) => signersOf(event)),
  }),
  initial: "idle",
  // Reached only when no state below handled the message: keep it if it is for the next height.
  on: {
    "proposal.received": { guard: "bufferable", actions: "bufferMessage" },
    "vote.received": { guard: "bufferable", actions: "bufferMessage" },
    "commit.received": { guard: "bufferable", actions: "bufferMessage" },
  },
  states: {
    idle: {
      on: { "height.start": { target: "height", actions: "beginHeight" } },
    },
    height: {
      id: "height",
      initial: "round",
      on: {
        "height.start": { guard: "isNewerHeight", target: "height", reenter: true, actions: "beginHeight" },
        "proposal.received": { guard: "forThisHeight", actions: "recordMessage" },
        "vote.received": { guard: "forThisHeight", actions: "recordMessage" },
        "votes.counted": { guard: "forThisHeight", actions: "reportCounted" },
        "commit.received": { guard: "forThisHeight", actions: "recordMessage" },
      },
      states: {
        round: {
          id: "round",
          type: "parallel",
          entry: "startRound",
          always: [
            { guard: "decidable", target: "#committed", actions: "commitDecision" },
            { guard: "canSkipRound", target: "round", reenter: true, actions: "skipRound" },
          ],
          states: {
            step: {
              initial: "propose",
              states: {
                propose: {
                  id: "propose",
                  entry: assign({ step: "propose" }),
                  always: { guard: "proposalReady", target: "prevote", actions: "prevoteProposal" },
                  after: { timeoutPropose: { target: "prevote", actions: "prevoteNil" } },
                },
                prevote: {
                  initial: "waiting",
                  entry: assign({ step: "prevote" }),
                  always: [
                    { guard: "polkaForProposal", target: "precommit", actions: "lockAndPrecommit" },
                    { guard: "polkaForNil", target: "precommit", actions: "precommitNil" },
                  ],
                  states: {
                    waiting: { always: { guard: "anyPrevoteQuorum", target: "timing" } },
                    timing: {
                      id: "prevoteTimer",
                      after: { timeoutPrevote: { target: "#precommit", actions: "precommitNil" } },
                    },
                  },
                },
                precommit: {
                  id: "precommit",
                  entry: assign({ step: "precommit" }),
                  always: { guard: "polkaForProposalUnrecorded", actions: "recordValid" },
                },
              },
            },
            precommitTimer: {
              initial: "idle",
              states: {
                idle: { always: { guard: "anyPrecommitQuorum", target: "armed" } },
                armed: {
                  id: "precommitTimer",
                  after: { timeoutPrecommit: { target: "#round", reenter: true, actions: "nextRound" } },
                },
              },
            },
          },
        },
      },
    },
    committed: {
      id: "committed",
      entry: assign({ step: "commit" }),
      on: { "height.start": { guard: "isNewerHeight", actions: assign({ pendingStart: ({ event }) => event }) } },
      always: [
        { guard: and(["behind", "hasPendingStart"]), target: "height", actions: "beginHeight" },
        { guard: "behind", target: "ready" },
      ],
      after: {
        timeoutCommit: [{ guard: "hasPendingStart", target: "height", actions: "beginHeight" }, { target: "ready" }],
      },
    },
    ready: {
      on: { "height.start": { guard: "isNewerHeight", target: "height", actions: "beginHeight" } },
    },
  },
})

/**
 * Governance rules, in bigint, mirroring contracts/Governance.sol: proposals to change a parameter
 * (within the constitution's bounds), amend a parameter's bounds, or spend from the treasury; votes
 * are the voter's bonded stake, or its square root with `governance.quadratic` (off by default:
 * without costly identities √stake rewards splitting stake over identities), and a voter needs
 * `governance.minVoterBond`. The stake counted is what the voter had bonded when the proposal was made
 * and has kept bonded since (positions opened at or before its start, worth what they are worth at
 * the vote: `Staking.bondedSince`), and the minimum bond is the one in force then; a proposal passes with quorum (stake that voted, abstentions included, ≥ quorum × stake bonded
 * when it was made) and more than `threshold` of the votes cast in favour, then waits
 * `governance.timelock` (amendments: `amendmentThreshold` and `amendmentDelay`) before anyone may
 * execute it. States and error names are the contract's.
 */
import { Data, Result } from "effect"
import { isParamName, REGISTRY, type Params } from "../params.ts"
import { sqrt, tokens, toWad, WAD } from "../units.ts"
import { Constitution, ConstitutionInvalidBounds, ConstitutionUnknownParameter, type ConstitutionError } from "./constitution.ts"

export type ProposalState = "None" | "Active" | "Defeated" | "Queued" | "Executable" | "Executed"

export type ProposalAction =
  | { readonly kind: "param"; readonly name: string; readonly value: number | string | boolean }
  | { readonly kind: "amendment"; readonly name: string; readonly min: number; readonly max: number }
  | { readonly kind: "spend"; readonly to: string; readonly amount: bigint }

export interface Proposal {
  readonly id: number
  readonly proposer: string
  readonly action: ProposalAction
  readonly createdAt: number
  readonly votingEnds: number
  readonly delay: number
  readonly quorum: bigint
  readonly threshold: bigint
  readonly bondedAtStart: bigint
  /** governance.minVoterBond when proposed (base units): the minimum for every vote on it. */
  readonly minVoterBond: bigint
  forVotes: bigint
  againstVotes: bigint
  /** Abstentions: they count toward quorum (their stake is in stakeVoted), never toward approval. */
  abstainVotes: bigint
  stakeVoted: bigint
  executed: boolean
}

/** A vote's side, as OpenZeppelin's GovernorCountingSimple counts it: abstain counts toward quorum only. */
export type Support = "for" | "against" | "abstain"
export const SUPPORTS: ReadonlyArray<Support> = ["for", "against", "abstain"]
/** Governance.sol's castVote `support` (uint8): 0 against, 1 for, 2 abstain. */
export const SUPPORT_CODE: Readonly<Record<Support, number>> = { against: 0, for: 1, abstain: 2 }
export const supportOfCode = (code: number): Support | undefined => SUPPORTS.find((s) => SUPPORT_CODE[s] === code)

export class GovernanceUnknownProposal extends Data.TaggedError("GovernanceUnknownProposal")<{ readonly id: number }> {
  override get message() { return `no proposal ${this.id}` }
}
export class GovernanceBelowMinimumBond extends Data.TaggedError("GovernanceBelowMinimumBond")<{ readonly voter: string; readonly bonded: bigint; readonly minimum: bigint }> {
  override get message() { return `${this.voter} has ${this.bonded} bonded, below the ${this.minimum} a voter needs (governance.minVoterBond)` }
}
export class GovernanceVotingClosed extends Data.TaggedError("GovernanceVotingClosed")<{ readonly id: number; readonly votingEnds: number }> {
  override get message() { return `voting on proposal ${this.id} closed at ${this.votingEnds}` }
}
export class GovernanceAlreadyVoted extends Data.TaggedError("GovernanceAlreadyVoted")<{ readonly id: number; readonly voter: string }> {
  override get message() { return `${this.voter} already voted on proposal ${this.id}` }
}
export class GovernanceInvalidSupport extends Data.TaggedError("GovernanceInvalidSupport")<{ readonly support: string | number }> {
  override get message() { return `invalid support ${String(this.support)}: a vote is for, against or abstain (1, 0 or 2)` }
}
export class GovernanceVotingOpen extends Data.TaggedError("GovernanceVotingOpen")<{ readonly id: number; readonly votingEnds: number }> {
  override get message() { return `proposal ${this.id} is open for votes until ${this.votingEnds}` }
}
export class GovernanceNotPassed extends Data.TaggedError("GovernanceNotPassed")<{ readonly id: number; readonly state: ProposalState }> {
  override get message() { return `proposal ${this.id} did not pass (${this.state})` }
}
export class GovernanceTimelockNotExpired extends Data.TaggedError("GovernanceTimelockNotExpired")<{ readonly id: number; readonly executableAt: number }> {
  override get message() { return `proposal ${this.id} may be executed from ${this.executableAt}` }
}
export class GovernanceAlreadyExecuted extends Data.TaggedError("GovernanceAlreadyExecuted")<{ readonly id: number }> {
  override get message() { return `proposal ${this.id} was executed already` }
}
export class GovernanceInvalidProposal extends Data.TaggedError("GovernanceInvalidProposal")<{ readonly reason: string }> {
  override get message() { return `invalid proposal: ${this.reason}` }
}
export type GovernanceError =
  | GovernanceUnknownProposal | GovernanceBelowMinimumBond | GovernanceVotingClosed | GovernanceAlreadyVoted | GovernanceInvalidSupport | GovernanceVotingOpen
  | GovernanceNotPassed | GovernanceTimelockNotExpired | GovernanceAlreadyExecuted | GovernanceInvalidProposal | ConstitutionError

/** The counts a tally needs (a proposal, or a machine's copy of one). */
export interface TallyInput {
  readonly forVotes: bigint
  readonly againstVotes: bigint
  readonly stakeVoted: bigint
  readonly quorum: bigint
  readonly threshold: bigint
  readonly bondedAtStart: bigint
}

/** After voting: quorum (stake that voted vs stake bonded at the start) and a majority above the threshold. */
export const passes = (p: TallyInput): boolean => {
  const cast = p.forVotes + p.againstVotes
  return p.stakeVoted * WAD >= p.quorum * p.bondedAtStart && cast > 0n && p.forVotes * WAD > p.threshold * cast
}

/** What the chain reads from staking for governance. */
export interface StakeView {
  /** What `account`'s open positions opened at or before `since` (all of them when omitted) are worth now (`Staking.bondedSince`). */
  bondedOf(account: string, since?: number): bigint
  readonly totalBonded: bigint
}

export class Governance {
  readonly constitution: Constitution
  readonly #proposals = new Map<number, Proposal>()
  readonly #voted = new Map<number, Set<string>>()
  #count = 0

  constructor(constitution: Constitution = new Constitution()) {
    this.constitution = constitution
  }

  get params(): Params {
    return this.constitution.params
  }

  proposal(id: number): Readonly<Proposal> | undefined {
    return this.#proposals.get(id)
  }

  /** Votes `voter` would cast on a proposal made now, and the stake behind them (refused below the minimum bond). */
  votesOf(voter: string, stake: StakeView): Result.Result<{ votes: bigint; stake: bigint }, GovernanceError> {
    return this.#votes(voter, stake.bondedOf(voter), tokens(this.params["governance.minVoterBond"]))
  }

  /** Votes `voter` would cast on proposal `id` now: its stake since the proposal's start, against the proposal's minimum bond. */
  votesOn(id: number, voter: string, stake: StakeView): Result.Result<{ votes: bigint; stake: bigint }, GovernanceError> {
    const p = this.#proposals.get(id)
    if (p === undefined) return Result.fail(new GovernanceUnknownProposal({ id }))
    return this.#votes(voter, stake.bondedOf(voter, p.createdAt), p.minVoterBond)
  }

  #votes(voter: string, bonded: bigint, minimum: bigint): Result.Result<{ votes: bigint; stake: bigint }, GovernanceError> {
    if (bonded < minimum || bonded === 0n) return Result.fail(new GovernanceBelowMinimumBond({ voter, bonded, minimum }))
    return Result.succeed({ votes: this.params["governance.quadratic"] ? sqrt(bonded) : bonded, stake: bonded })
  }

  /** Open a proposal; the proposer must be able to vote and the action must be valid now. */
  propose(proposer: string, action: ProposalAction, stake: StakeView, now: number): Result.Result<Proposal, GovernanceError> {
    // The contract's order: the action is checked first, then whether the proposer can vote.
    const bad = this.#checkAction(action)
    if (bad !== undefined) return Result.fail(bad)
    const voter = this.votesOf(proposer, stake)
    if (Result.isFailure(voter)) return Result.fail(voter.failure)
    const p = this.params
    const amend = action.kind === "amendment"
    const proposal: Proposal = {
      id: ++this.#count,
      proposer,
      action,
      createdAt: now,
      votingEnds: now + p["governance.votingPeriod"],
      delay: amend ? p["governance.amendmentDelay"] : p["governance.timelock"],
      quorum: toWad(p["governance.quorum"]),
      threshold: toWad(amend ? p["governance.amendmentThreshold"] : p["governance.threshold"]),
      bondedAtStart: stake.totalBonded,
      minVoterBond: tokens(p["governance.minVoterBond"]),
      forVotes: 0n,
      againstVotes: 0n,
      abstainVotes: 0n,
      stakeVoted: 0n,
      executed: false,
    }
    this.#proposals.set(proposal.id, proposal)
    this.#voted.set(proposal.id, new Set())
    return Result.succeed(proposal)
  }

  #checkAction(action: ProposalAction): GovernanceError | undefined {
    switch (action.kind) {
      case "param": {
        // As Governance.proposeParam → Constitution.checkValue: only constitutional (numeric)
        // parameters change by proposal; switches and choices are fixed at genesis / deployment.
        if (!isParamName(action.name) || !("min" in REGISTRY[action.name])) return new ConstitutionUnknownParameter({ name: action.name })
        const r = this.constitution.check(action.name, action.value)
        return Result.isFailure(r) ? r.failure : undefined
      }
      case "amendment": {
        // As Governance.proposeAmendment: the parameter must be a constitutional (numeric) one and
        // min ≤ max; whether the current value fits the new bounds is checked at execution.
        if (!isParamName(action.name) || !("min" in REGISTRY[action.name])) return new ConstitutionUnknownParameter({ name: action.name })
        if (!(Number.isFinite(action.min) && Number.isFinite(action.max))) return new ConstitutionInvalidBounds({ name: action.name, min: action.min, max: action.max, reason: "need finite numbers" })
        return action.min > action.max ? new GovernanceInvalidProposal({ reason: "min exceeds max" }) : undefined
      }
      case "spend":
        return action.amount > 0n && action.to.length > 0 ? undefined : new GovernanceInvalidProposal({ reason: "a spend needs a recipient and a positive amount" })
    }
  }

  /** Vote for, against or abstain on proposal `id` (abstain counts toward quorum only). */
  castVote(id: number, voter: string, support: Support, stake: StakeView, now: number): Result.Result<bigint, GovernanceError> {
    // The contract's order: the support is checked before anything else.
    if (!SUPPORTS.includes(support)) return Result.fail(new GovernanceInvalidSupport({ support }))
    const p = this.#proposals.get(id)
    if (p === undefined) return Result.fail(new GovernanceUnknownProposal({ id }))
    if (now >= p.votingEnds) return Result.fail(new GovernanceVotingClosed({ id, votingEnds: p.votingEnds }))
    if (this.#voted.get(id)!.has(voter)) return Result.fail(new GovernanceAlreadyVoted({ id, voter }))
    const v = this.votesOn(id, voter, stake)
    if (Result.isFailure(v)) return Result.fail(v.failure)
    this.#voted.get(id)!.add(voter)
    if (support === "for") p.forVotes += v.success.votes
    else if (support === "against") p.againstVotes += v.success.votes
    else p.abstainVotes += v.success.votes
    p.stakeVoted += v.success.stake
    return Result.succeed(v.success.votes)
  }

  /** A proposal's state at `now`. */
  state(id: number, now: number): ProposalState {
    const p = this.#proposals.get(id)
    if (p === undefined) return "None"
    if (p.executed) return "Executed"
    if (now < p.votingEnds) return "Active"
    if (!passes(p)) return "Defeated"
    return now < p.votingEnds + p.delay ? "Queued" : "Executable"
  }

  /**
   * Execute a passed proposal after its timelock: a parameter or bound changes in the constitution;
   * a spend calls `spend` (the treasury transfer), whose refusal refuses the execution. Nothing
   * changes on failure.
   */
  execute<E = never>(
    id: number,
    now: number,
    spend: (to: string, amount: bigint) => Result.Result<unknown, E> = () => Result.succeed(undefined),
  ): Result.Result<ProposalAction, GovernanceError | E> {
    const p = this.#proposals.get(id)
    const s = this.state(id, now)
    if (p === undefined) return Result.fail(new GovernanceUnknownProposal({ id }))
    if (s === "Executed") return Result.fail(new GovernanceAlreadyExecuted({ id }))
    if (s === "Active") return Result.fail(new GovernanceVotingOpen({ id, votingEnds: p.votingEnds }))
    if (s === "Defeated") return Result.fail(new GovernanceNotPassed({ id, state: s }))
    if (s === "Queued") return Result.fail(new GovernanceTimelockNotExpired({ id, executableAt: p.votingEnds + p.delay }))
    // The constitution is checked again at execution: other proposals may have moved things since.
    const a = p.action
    if (a.kind === "param") {
      const r = this.constitution.setValue(a.name, a.value)
      if (Result.isFailure(r)) return Result.fail(r.failure)
    } else if (a.kind === "amendment") {
      const bad = this.constitution.amendBounds(a.name, a.min, a.max)
      if (bad !== undefined) return Result.fail(bad)
    } else {
      const r = spend(a.to, a.amount)
      if (Result.isFailure(r)) return Result.fail(r.failure)
    }
    p.executed = true
    return Result.succeed(a)
  }
}

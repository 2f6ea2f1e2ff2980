/**
 * What a validator is waiting for, in words an operator can act on: the height, round and step it
 * is in, the voting power it has heard in that step against what a quorum needs, and which
 * validators of the set it has not heard from in the round. A chain that halts because too much
 * power is silent (correct: safety first) then says so instead of sitting at "round 0 step prevote".
 *
 * Pure: it reads the consensus machine's view of the height (HeightState).
 */
import type { HeightState } from "./height-state.ts"
import type { Step } from "./node-interface.ts"
import type { Address } from "./types.ts"

export interface Waiting {
  readonly height: number
  readonly round: number
  readonly step: Step
  /** What the step needs next, as a phrase ("prevotes from validators with more than 2/3 of the power"). */
  readonly needs: string
  /** The round's proposer. */
  readonly proposer: Address
  /** Whether this node holds the round's proposal. */
  readonly proposal: boolean
  /** Power of the votes of this step's kind held for the round (prevotes in `propose`/`prevote`, precommits after). */
  readonly seen: bigint
  /** The smallest power strictly above 2/3 of the total. */
  readonly quorum: bigint
  readonly total: bigint
  /** Validators of the set with no prevote and no precommit in this round, in the set's order. */
  readonly silent: readonly Address[]
}

/** What a validator at (height, round, step) is waiting for; undefined before its first height. */
export const waitingFor = (o: {
  readonly height: number
  readonly round: number
  readonly step: Step
  readonly heightState: HeightState | undefined
}): Waiting | undefined => {
  const hs = o.heightState
  if (hs === undefined || o.height === 0) return undefined
  const set = hs.validators
  const prevotes = hs.votes.prevotes(o.round)
  const precommits = hs.votes.precommits(o.round)
  const counted = o.step === "precommit" || o.step === "commit" ? precommits : prevotes
  const heard = new Set<Address>([...(prevotes?.votes() ?? []), ...(precommits?.votes() ?? [])].map((v) => v.validator))
  const proposer = hs.proposer(o.round)
  const needs = o.step === "propose"
    ? `the proposal of round ${o.round} from ${proposer}`
    : o.step === "prevote"
      ? "prevotes from validators with more than 2/3 of the power"
      : o.step === "precommit"
        ? "precommits from validators with more than 2/3 of the power"
        : "the commit of the decided block"
  return {
    height: o.height,
    round: o.round,
    step: o.step,
    needs,
    proposer,
    proposal: hs.proposal(o.round) !== undefined,
    seen: counted?.sum ?? 0n,
    quorum: set.quorum,
    total: set.totalPower,
    silent: set.validators.map((v) => v.address).filter((a) => !heard.has(a)),
  }
}

/** The one-line form: `height 12 round 3 prevote: waiting for prevotes …; heard 667 of 1001 power (quorum 668); silent: 0xab…`. */
export const waitingLine = (w: Waiting): string => {
  const silent = w.silent.length === 0 ? "" : `; not heard from this round: ${w.silent.join(", ")}`
  return `height ${w.height} round ${w.round} ${w.step}: waiting for ${w.needs}; heard ${w.seen} of ${w.total} power (quorum ${w.quorum})${silent}`
}

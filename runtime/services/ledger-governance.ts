/**
 * The Chain port's governance members over a `Governance` kept beside an in-memory ledger: what the
 * simulator's Chain (`sim/adapters/chain.ts`) and a node's in-memory ledger (`committee.ts`) share.
 * Voting stake is the ledger's; an executed parameter change is pushed into the ledger; a spend is a
 * transfer from the account "treasury".
 */
import { Effect, Result } from "effect"
import type { EconError } from "../core/econ/index.ts"
import type { Governance } from "../core/governance/governance.ts"
import type { StakeView } from "../core/governance/governance.ts"
import type { Params } from "../core/params.ts"
import type { Chain } from "./chain.ts"

export interface LedgerGovernanceOptions {
  readonly governance: Governance
  readonly stake: StakeView
  readonly now: () => number
  /** When an execution happens (default `now`): a ledger whose clock may run ahead takes the later. */
  readonly executeAt?: () => number
  /** Pay a passed spend from "treasury" at time `t`. */
  readonly transfer: (to: string, amount: bigint, t: number) => Result.Result<unknown, EconError>
  /** Put the parameters governance now holds into force on the ledger. */
  readonly setParams: (params: Params) => void
}

const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure))

/** propose, castVote, executeProposal and proposal of the Chain port, over `o.governance`. */
export const ledgerGovernance = (o: LedgerGovernanceOptions): Pick<Chain["Service"], "propose" | "castVote" | "executeProposal" | "proposal"> => {
  const { governance, stake, now } = o
  return {
    propose: (proposer, action) => Effect.suspend(() => fromResult(Result.map(governance.propose(proposer, action, stake, now()), (p) => p.id))),
    castVote: (id, voter, support) => Effect.suspend(() => fromResult(governance.castVote(id, voter, support, stake, now()))),
    executeProposal: (id) =>
      Effect.suspend(() => {
        const t = (o.executeAt ?? now)()
        const r = governance.execute(id, t, (to, amount) => o.transfer(to, amount, t))
        if (Result.isSuccess(r) && r.success.kind === "param") o.setParams(governance.params)
        return fromResult(r)
      }),
    proposal: (id) =>
      Effect.sync(() => {
        const p = governance.proposal(id)
        if (p === undefined) return undefined
        return {
          id: p.id, proposer: p.proposer, action: p.action, state: governance.state(id, now()), votingEnds: p.votingEnds,
          executableAt: p.votingEnds + p.delay, forVotes: p.forVotes, againstVotes: p.againstVotes, abstainVotes: p.abstainVotes, stakeVoted: p.stakeVoted,
          quorum: p.quorum, threshold: p.threshold, bondedAtStart: p.bondedAtStart,
        }
      }),
  }
}

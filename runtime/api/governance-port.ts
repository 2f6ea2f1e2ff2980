/**
 * Governance as the API sees it, over the Chain port (runtime/services/chain.ts): proposals and
 * votes live on the chain every node agrees on (the contracts, or the simulated ledger), not in one
 * node's memory. Refusals keep the chain's error names and messages.
 */
import { Cause, Effect, Exit } from "effect"
import type { ProposalAction, Support } from "../core/governance/governance.ts"
import type { Params } from "../core/params.ts"
import type { Chain, ProposalView as ChainProposal } from "../services/chain.ts"
import { membershipOverChain, type MembershipPort } from "./membership-port.ts"
import { ApiRefusal } from "./node-api.ts"
import type { ExecuteResult, ProposalView } from "./schemas.ts"

/** Most proposals listed (the newest ones). */
const MAX_LISTED = 1_000

export interface GovernancePort extends Partial<MembershipPort> {
  proposals(): Promise<readonly ProposalView[]>
  propose(proposer: string, action: ProposalAction): Promise<number>
  castVote(id: number, voter: string, support: Support): Promise<bigint>
  /** Execute a passed proposal whose timelock is over; a refusal names the proposal and why (404 unknown, 409 not executable now). */
  execute(id: number): Promise<ExecuteResult>
  /** The parameters in force on the chain (what executed proposals changed). */
  params(): Promise<Params>
}

/** A chain proposal as JSON: bigints as decimal strings. */
export const proposalJson = (p: ChainProposal): ProposalView => ({
  id: p.id,
  proposer: p.proposer,
  action: p.action.kind === "spend" ? { ...p.action, amount: p.action.amount.toString() } : p.action,
  state: p.state,
  votingEnds: p.votingEnds,
  executableAt: p.executableAt,
  forVotes: p.forVotes.toString(),
  againstVotes: p.againstVotes.toString(),
  abstainVotes: p.abstainVotes.toString(),
  stakeVoted: p.stakeVoted.toString(),
})

/** Run a chain effect: a rule's refusal becomes a 422 naming the rule, an unreachable chain a 503. */
const run = async <A>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw Cause.squash(exit.cause)
  const e = error.value
  throw new ApiRefusal({ status: e._tag === "ChainUnavailable" ? 503 : 422, reason: `${e._tag}: ${e.message}` })
}

/** A time as people read it: the ISO instant and how far from now. */
const when = (ms: number, now: number): string => {
  const s = Math.round((ms - now) / 1000)
  return `${new Date(ms).toISOString()} (${s > 0 ? `in ${s} s` : `${-s} s ago`})`
}

/**
 * Why proposal `id` cannot be executed, from the chain's refusal: 404 when the chain has no such
 * proposal, 409 when its state forbids it now (voting open, defeated, timelock running, executed).
 */
export const executeRefusal = (id: number, e: { readonly _tag: string; readonly message: string }, now: number = Date.now()): ApiRefusal => {
  const f = e as unknown as { readonly votingEnds?: number; readonly executableAt?: number; readonly state?: string }
  const refuse = (status: number, why: string) => new ApiRefusal({ status, reason: `${e._tag}: proposal ${id} ${why}` })
  switch (e._tag) {
    case "GovernanceUnknownProposal": return refuse(404, "does not exist on the chain")
    case "GovernanceVotingOpen": return refuse(409, `is still open for votes until ${when(f.votingEnds ?? 0, now)}; it can be executed once it has passed and its timelock is over`)
    case "GovernanceNotPassed": return refuse(409, `did not pass (${f.state ?? "Defeated"}): there is nothing to execute`)
    case "GovernanceTimelockNotExpired": return refuse(409, `passed, but its timelock runs until ${when(f.executableAt ?? 0, now)}`)
    case "GovernanceAlreadyExecuted": return refuse(409, "was executed already")
    case "ChainUnavailable": return new ApiRefusal({ status: 503, reason: `ChainUnavailable: proposal ${id} was not executed: ${e.message}` })
    default: return refuse(422, `was refused by the chain: ${e.message}`)
  }
}

/** Governance over a Chain service (and joining it: membership-port.ts). */
export const governanceOverChain = (chain: Chain["Service"]): GovernancePort => ({
  ...membershipOverChain(chain),
  proposals: async () => {
    // The chain numbers proposals from 1 without gaps; read until the first id it does not know.
    const out: ProposalView[] = []
    for (let id = 1; ; id++) {
      const p = await run(chain.proposal(id))
      if (p === undefined) break
      out.push(proposalJson(p))
      if (out.length > MAX_LISTED) out.shift()
    }
    return out
  },
  propose: (proposer, action) => run(chain.propose(proposer, action)),
  castVote: (id, voter, support) => run(chain.castVote(id, voter, support)),
  params: () => run(chain.params),
  execute: async (id) => {
    const exit = await Effect.runPromiseExit(chain.executeProposal(id))
    if (Exit.isFailure(exit)) {
      const error = Cause.findErrorOption(exit.cause)
      if (error._tag === "None") throw Cause.squash(exit.cause)
      throw executeRefusal(id, error.value)
    }
    const a = exit.value
    return { id, action: a.kind === "spend" ? { ...a, amount: a.amount.toString() } : a, state: "Executed" }
  },
})

/**
 * The governance port with this node's votes reported as `governance.vote`: `voter` is the node's
 * name (the TUI's "self"), with its signing address and chain account, and the proposal's tallies
 * after the vote, read from the chain (so N reports of it count once in the TUI).
 */
export const reportingVotes = (
  port: GovernancePort,
  node: { readonly name: string; readonly address: string },
  chain: Pick<Chain["Service"], "proposal">,
  emit: (kind: string, data: Record<string, unknown>) => void,
): GovernancePort => ({
  ...port,
  castVote: async (id, account, support) => {
    const votes = await port.castVote(id, account, support)
    const after = await Effect.runPromise(Effect.orElseSucceed(chain.proposal(id), () => undefined))
    emit("governance.vote", {
      id, voter: node.name, address: node.address, account, choice: support === "for" ? "yes" : support === "against" ? "no" : "abstain", votes: votes.toString(),
      ...(after === undefined ? {} : { forVotes: after.forVotes.toString(), againstVotes: after.againstVotes.toString(), abstainVotes: after.abstainVotes.toString(), state: after.state }),
    })
    return votes
  },
})

/**
 * Governance as the API sees it, over the Chain port (runtime/services/chain.ts): proposals and
 * votes live on the chain every node agrees on (the contracts, or the simulated ledger), not in one
 * node's memory. Refusals keep the chain's error names and messages.
 */
import { Cause, Effect, Exit } from "effect"
import type { ProposalAction } from "../core/governance/governance.ts"
import type { Chain, ProposalView as ChainProposal } from "../services/chain.ts"
import { ApiRefusal } from "./node-api.ts"
import type { ProposalView } from "./schemas.ts"

/** Most proposals listed (the newest ones). */
const MAX_LISTED = 1_000

export interface GovernancePort {
  proposals(): Promise<readonly ProposalView[]>
  propose(proposer: string, action: ProposalAction): Promise<number>
  castVote(id: number, voter: string, support: boolean): Promise<bigint>
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

/** Governance over a Chain service. */
export const governanceOverChain = (chain: Chain["Service"]): GovernancePort => ({
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
      id, voter: node.name, address: node.address, account, choice: support ? "yes" : "no", votes: votes.toString(),
      ...(after === undefined ? {} : { forVotes: after.forVotes.toString(), againstVotes: after.againstVotes.toString(), state: after.state }),
    })
    return votes
  },
})

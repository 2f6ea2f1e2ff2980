/**
 * Simulated Chain: the in-memory `Economy`, at the time the run's clock says. Operations apply
 * synchronously, so the order of a run's events alone decides the ledger — replayable bit for bit.
 * Governance is a `Governance` next to the economy: voting stake is the economy's (the tokens of
 * the voter's positions, the total bonded), an executed parameter change is pushed into the
 * economy, and a spend is a transfer from the account "treasury".
 */
import { Effect, Layer, Result } from "effect"
import type { Economy } from "../../runtime/core/econ/index.ts"
import { Governance } from "../../runtime/core/governance/governance.ts"
import { economyStake } from "../../runtime/core/governance/stake.ts"
import { Constitution } from "../../runtime/core/governance/constitution.ts"
import { Chain } from "../../runtime/services/chain.ts"

export const makeSimChain = (economy: Economy, now: () => number, governance: Governance = new Governance(new Constitution(economy.params))): Chain["Service"] => {
  const stake = economyStake(economy)
  const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure))
  return Chain.of({
    submit: (op) =>
      Effect.suspend(() => {
        const r = economy.apply(op, now())
        return Result.isSuccess(r) ? Effect.succeed(r.success as never) : Effect.fail(r.failure)
      }),
    balanceOf: (a) => Effect.sync(() => economy.balanceOf(a)),
    supply: Effect.sync(() => economy.supply()),
    pools: Effect.sync(() => economy.pools()),
    positions: (owner) => Effect.sync(() => economy.positions(owner)),
    unbonding: (owner) => Effect.sync(() => economy.unbonding(owner)),
    pendingRewards: (owner) => Effect.sync(() => economy.pendingRewards(owner)),
    params: Effect.sync(() => economy.params),
    propose: (proposer, action) => Effect.suspend(() => fromResult(Result.map(governance.propose(proposer, action, stake, now()), (p) => p.id))),
    castVote: (id, voter, support) => Effect.suspend(() => fromResult(governance.castVote(id, voter, support, stake, now()))),
    executeProposal: (id) =>
      Effect.suspend(() => {
        const t = now()
        const r = governance.execute(id, t, (to, amount) => economy.apply({ type: "transfer", from: "treasury", to, amount }, t))
        if (Result.isSuccess(r) && r.success.kind === "param") economy.setParams(governance.params)
        return fromResult(r)
      }),
    proposal: (id) =>
      Effect.sync(() => {
        const p = governance.proposal(id)
        if (p === undefined) return undefined
        return {
          id: p.id, proposer: p.proposer, action: p.action, state: governance.state(id, now()), votingEnds: p.votingEnds,
          executableAt: p.votingEnds + p.delay, forVotes: p.forVotes, againstVotes: p.againstVotes, stakeVoted: p.stakeVoted,
          quorum: p.quorum, threshold: p.threshold, bondedAtStart: p.bondedAtStart,
        }
      }),
  })
}

export const layerSimChain = (economy: Economy, now: () => number) => Layer.succeed(Chain, makeSimChain(economy, now))

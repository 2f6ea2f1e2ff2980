/**
 * Joining the network, as the API sees it: a node's account registers a validator on the chain
 * (Staking.registerValidator: its self-bond, lock tier and commission, with the node's consensus key
 * as the signing key that signs its votes) or bonds as a trainer that is not a validator (a
 * contributor bond). Both go to the Chain port's `submit`, the one ledger: the validator joins the
 * committee at the next epoch boundary, the trainer the cohorts drawn from the registered trainers.
 * Refusals keep the chain's error names; the reason says what to do (the minimum bond, for one).
 */
import { Cause, Effect, Exit } from "effect"
import type { EconOp, LockTier, ReceiptOf } from "../core/econ/index.ts"
import type { Chain } from "../services/chain.ts"
import { ApiRefusal } from "./node-api.ts"
import type { BondResult, RegisterResult } from "./schemas.ts"

export interface MembershipPort {
  /** Register `operator` as a validator on the chain, its votes signed by `signingKey` (a 0x address). */
  registerValidator(operator: string, signingKey: string, req: { readonly amount: bigint; readonly tier: LockTier; readonly commission: bigint }): Promise<RegisterResult>
  /** Bond `owner` as a trainer (a contributor bond in its own pool). */
  bondTrainer(owner: string, req: { readonly amount: bigint; readonly tier: LockTier }): Promise<BondResult>
}

/** The HTTP status of a chain refusal: 409 for what is already so, 503 for an unreachable chain, else 422 (a rule). */
const statusOf = (tag: string): number =>
  tag === "ChainUnavailable" ? 503 : tag === "StakingValidatorExists" ? 409 : 422

const hint = (tag: string): string =>
  tag === "StakingValidatorExists" ? " (this node is registered already: add stake with POST /stake, or see GET /validators)"
    : tag === "TokenInsufficientBalance" ? " (the node's account holds too few tokens on the chain: transfer some to it first)"
    : ""

/** Submit `op` on the chain; a refusal becomes an ApiRefusal naming the rule and what to do. */
const submit = async <O extends EconOp>(chain: Chain["Service"], op: O, what: string): Promise<ReceiptOf<O["type"]>> => {
  const exit = await Effect.runPromiseExit(chain.submit(op))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw Cause.squash(exit.cause)
  const e = error.value
  throw new ApiRefusal({ status: statusOf(e._tag), reason: `${e._tag}: ${what} refused: ${e.message}${hint(e._tag)}` })
}

/** Membership over a Chain service. */
export const membershipOverChain = (chain: Chain["Service"]): MembershipPort => ({
  registerValidator: async (operator, signingKey, req) => {
    const r = await submit(chain, { type: "registerValidator", operator, amount: req.amount, tier: req.tier, commission: req.commission, signingKey }, `registering ${operator} as a validator`)
    return {
      operator, signingKey, pool: r.pool, position: r.position, amount: r.amount.toString(), tier: r.tier, commission: r.commission.toString(), unlockAt: r.unlockAt,
    }
  },
  bondTrainer: async (owner, req) => {
    const r = await submit(chain, { type: "bondContributor", owner, amount: req.amount, tier: req.tier }, `bonding ${owner} as a trainer`)
    return { owner, pool: r.pool, position: r.position, amount: r.amount.toString(), tier: r.tier, unlockAt: r.unlockAt }
  },
})

/**
 * Governance's view of staking over the TS economy, as Governance.sol reads Staking: an identity's
 * voting stake is what its open positions are worth now (`Staking.bondedOf`), the total is the
 * bonded total (`Staking.totalBonded`).
 */
import type { Economy } from "../econ/index.ts"
import type { StakeView } from "./governance.ts"

/** The voting stake of the economy's accounts, read live. */
export const economyStake = (economy: Economy): StakeView => ({
  bondedOf: (owner) => economy.positions(owner).reduce((sum, p) => sum + p.tokens, 0n),
  get totalBonded() {
    return economy.supply().bonded
  },
})

/**
 * Governance's view of staking over the TS economy, as Governance.sol reads Staking: an identity's
 * voting stake on a proposal is what its open positions opened at or before the proposal's start are
 * worth now (`Staking.bondedSince`), the total is the bonded total (`Staking.totalBonded`).
 */
import type { Economy } from "../econ/index.ts"
import type { StakeView } from "./governance.ts"

/** The voting stake of the economy's accounts, read live. */
export const economyStake = (economy: Economy): StakeView => ({
  bondedOf: (owner, since = Infinity) => economy.positions(owner).reduce((sum, p) => (p.createdAt <= since ? sum + p.tokens : sum), 0n),
  get totalBonded() {
    return economy.supply().bonded
  },
})

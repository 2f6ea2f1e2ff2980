/**
 * The Chain port's compute-market members over an in-memory `Economy` (runtime/core/econ/market.ts):
 * what the simulator's Chain (`sim/adapters/chain.ts`) and a node's in-memory ledger (`committee.ts`)
 * share. The EVM adapter's are H-contract's (ComputeMarket.sol through runtime/adapters/evm/market.ts).
 */
import { Effect, Result } from "effect"
import type { Economy } from "../core/econ/index.ts"
import { matchesJob } from "../core/market/index.ts"
import type { Chain } from "./chain.ts"

export interface LedgerMarketOptions {
  readonly economy: Economy
  /** When an operation happens: a ledger whose clock may run ahead passes the later of its time and the caller's. */
  readonly now: () => number
}

/** The market members of the Chain port. */
export type LedgerMarket = Pick<Chain["Service"], "marketOp" | "marketProvider" | "marketProviders" | "marketJob" | "marketJobs">

/** marketOp, marketProvider, marketProviders, marketJob and marketJobs of the Chain port, over `o.economy`. */
export const ledgerMarket = (o: LedgerMarketOptions): LedgerMarket => {
  const { economy, now } = o
  return {
    marketOp: (op) =>
      Effect.suspend(() => {
        const r = economy.marketOp(op, now())
        return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
      }),
    marketProvider: (address) => Effect.sync(() => economy.provider(address)),
    marketProviders: Effect.sync(() => economy.providers()),
    marketJob: (id) => Effect.sync(() => economy.job(id)),
    marketJobs: (filter) => Effect.sync(() => economy.jobs().filter((j) => matchesJob(j, filter))),
  }
}

/**
 * The Chain port's compute-market members over an in-memory `Economy` (runtime/core/econ/market.ts):
 * what the simulator's Chain (`sim/adapters/chain.ts`) and a node's in-memory ledger (`committee.ts`)
 * share. The EVM adapter's are H-contract's (ComputeMarket.sol through runtime/adapters/evm/market.ts).
 *
 * A verdict (`resolveDispute`) is checked against the ledger's own committee snapshot with its
 * consensus chain id and signature check, as an epoch report is; the ledger's address in the verdict
 * digest is the zero address (as the in-memory Committee's).
 */
import { Effect, Result } from "effect"
import { ZERO_ADDRESS } from "../core/committee/digest.ts"
import type { ReportVerifier } from "../core/committee/verify.ts"
import type { CommitteeError } from "../core/committee/errors.ts"
import type { EconError, Economy } from "../core/econ/index.ts"
import {
  frozenNotes, matchesJob, MarketNotDisputed, MarketUnknownJob, verdictDigest, type MarketError, type MarketOp, type MarketReceiptOf,
} from "../core/market/index.ts"
import { ChainUnavailable, type Chain } from "./chain.ts"

export interface LedgerMarketOptions {
  readonly economy: Economy
  /** When an operation happens: a ledger whose clock may run ahead passes the later of its time and the caller's. */
  readonly now: () => number
  /** The consensus chain id a verdict's signatures are over (without it no verdict is accepted: `ChainUnavailable`). */
  readonly consensusChainId?: bigint | number
  /** How a verdict's signatures are checked (secp256k1 recovery, or the simulator's oracle). */
  readonly verify?: ReportVerifier
}

/** The market members of the Chain port. */
export type LedgerMarket = Pick<Chain["Service"], "marketOp" | "marketVerdictDigest" | "marketProvider" | "marketProviders" | "marketJob" | "marketJobs">

const noVerifier = (operation: string) =>
  new ChainUnavailable({ operation, reason: "this in-memory ledger was made without a consensus chain id and verifier, so it cannot check a verdict's committee signatures" })

/** marketOp, marketVerdictDigest, marketProvider, marketProviders, marketJob and marketJobs of the Chain port, over `o.economy`. */
export const ledgerMarket = (o: LedgerMarketOptions): LedgerMarket => {
  const { economy, now } = o
  const ctx = o.consensusChainId === undefined || o.verify === undefined ? undefined : { chainId: o.consensusChainId, verify: o.verify, ledger: ZERO_ADDRESS }
  return {
    marketOp: <O extends MarketOp>(op: O) =>
      Effect.suspend((): Effect.Effect<MarketReceiptOf<O["type"]>, MarketError | CommitteeError | EconError | ChainUnavailable> => {
        if (op.type === "resolveDispute" && ctx === undefined) return Effect.fail(noVerifier("marketOp resolveDispute"))
        const r = economy.marketOp(op, now(), ctx)
        return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
      }),
    marketVerdictDigest: (verdict) =>
      Effect.suspend((): Effect.Effect<Uint8Array, MarketError | ChainUnavailable> => {
        if (ctx === undefined) return Effect.fail(noVerifier("marketVerdictDigest"))
        const j = economy.job(verdict.job)
        if (j === undefined) return Effect.fail(new MarketUnknownJob({ job: verdict.job }))
        if (j.state !== "disputed") return Effect.fail(new MarketNotDisputed({ job: j.id, state: j.state }))
        try {
          return Effect.succeed(verdictDigest(ctx.chainId, ZERO_ADDRESS, verdict, frozenNotes(j)))
        } catch (e) {
          return Effect.fail(new ChainUnavailable({ operation: "marketVerdictDigest", reason: (e as Error).message }))
        }
      }),
    marketProvider: (address) => Effect.sync(() => economy.provider(address)),
    marketProviders: Effect.sync(() => economy.providers()),
    marketJob: (id) => Effect.sync(() => economy.job(id)),
    marketJobs: (filter) => Effect.sync(() => economy.jobs().filter((j) => matchesJob(j, filter))),
  }
}

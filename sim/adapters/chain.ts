/**
 * Simulated Chain: the in-memory `Economy`, at the time the run's clock says. Operations apply
 * synchronously, so the order of a run's events alone decides the ledger — replayable bit for bit.
 * Governance is a `Governance` next to the economy: voting stake is the economy's (the tokens of
 * the voter's positions, the total bonded), an executed parameter change is pushed into the
 * economy, and a spend is a transfer from the account "treasury".
 * The committee (snapshots, fee deposits, epoch reports) is the economy's (runtime/core/econ/committee.ts);
 * report signatures are checked with the `verify` option (the run's signature oracle when it uses
 * the cheap scheme, else secp256k1) over the digest with the `consensusChainId` option and the zero
 * ledger address.
 */
import { Effect, Layer, Result } from "effect"
import { checkDoubleSign } from "../../runtime/actors/evidence/signed-votes.ts"
import type { SignatureVerifier } from "../../runtime/core/consensus/signing.ts"
import { verifySignature } from "../../runtime/core/crypto.ts"
import {
  StakingInvalidEvidence, type EconError, type Economy, type PoolView, type ReportContext, type SlashReceipt,
} from "../../runtime/core/econ/index.ts"
import { Governance } from "../../runtime/core/governance/governance.ts"
import { economyStake } from "../../runtime/core/governance/stake.ts"
import { Constitution } from "../../runtime/core/governance/constitution.ts"
import { Chain, ChainUnavailable, type SignedVote } from "../../runtime/services/chain.ts"
import { ledgerGovernance } from "../../runtime/services/ledger-governance.ts"
import { ledgerMarket } from "../../runtime/services/ledger-market.ts"

/** What the simulated ledger needs beyond the economy to check double-sign evidence as Staking.sol does. */
export interface SimChainOptions {
  /** The consensus chain id whose votes this ledger accepts as evidence (Staking's `consensusChainId`). */
  readonly consensusChainId?: bigint | number
  /** Checks a vote signature (default secp256k1; a run with the cheap signature scheme passes its oracle's `verify`). */
  readonly verify?: SignatureVerifier
}

/** The validator pool whose registered signing key is `signer` (registerValidator's `signingKey`, by default the operator's own address). */
const validatorOfKey = (economy: Economy, signer: string): PoolView | undefined =>
  economy.pools().find((p) => p.kind === "validator" && (economy.signingKeyOf(p.operator) ?? p.operator).toLowerCase() === signer)

const noChainId = (operation: string) =>
  new ChainUnavailable({ operation, reason: "this simulated ledger was made without a consensus chain id (makeSimChain's consensusChainId option), so it cannot check epoch-report signatures" })

/** Staking.slashDoubleSign over the economy: the contract's checks (signed-votes.ts), then a doubleSign slash at `time`, once per evidence id. */
const slashDoubleSign = (economy: Economy, options: SimChainOptions, a: SignedVote, b: SignedVote, time: number): Effect.Effect<SlashReceipt, EconError | ChainUnavailable> => {
  if (options.consensusChainId === undefined) {
    return Effect.fail(new ChainUnavailable({ operation: "slashDoubleSign", reason: "this simulated ledger was made without a consensus chain id (makeSimChain's consensusChainId option), so it accepts no votes as evidence" }))
  }
  const check = checkDoubleSign(a, b, BigInt(options.consensusChainId), options.verify)
  if (!check.valid) return Effect.fail(new StakingInvalidEvidence({ evidenceId: check.evidenceId, reason: check.reason }))
  const pool = validatorOfKey(economy, check.signer)
  if (pool === undefined) return Effect.fail(new StakingInvalidEvidence({ evidenceId: check.evidenceId, reason: "the signer is not a registered validator key" }))
  // The votes carry no time: as on chain, the infraction is the submission (the slash base is the stake now).
  const r = economy.apply({ type: "slash", pool: pool.id, infraction: "doubleSign", infractionTime: time, evidenceId: check.evidenceId }, time)
  return Result.isSuccess(r) ? Effect.succeed(r.success as SlashReceipt) : Effect.fail(r.failure)
}

export const makeSimChain = (
  economy: Economy,
  now: () => number,
  governance: Governance = new Governance(new Constitution(economy.params)),
  options: SimChainOptions = {},
): Chain["Service"] => {
  const stake = economyStake(economy)
  const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure))
  /** Run a report operation with the chain id and verifier it checks signatures with. */
  const withReportContext = <A, E>(operation: string, f: (ctx: ReportContext) => Result.Result<A, E>): Effect.Effect<A, E | ChainUnavailable> =>
    options.consensusChainId === undefined
      ? Effect.fail(noChainId(operation))
      : fromResult(f({ chainId: options.consensusChainId, verify: options.verify ?? verifySignature }))
  return Chain.of({
    submit: (op) =>
      Effect.suspend(() => {
        const r = economy.apply(op, now())
        return Result.isSuccess(r) ? Effect.succeed(r.success as never) : Effect.fail(r.failure)
      }),
    slashDoubleSign: (a, b) => Effect.suspend(() => slashDoubleSign(economy, options, a, b, now())),
    snapshot: (caller) => Effect.suspend(() => fromResult(economy.takeSnapshot(caller, now()))),
    latestSnapshot: Effect.sync(() => economy.latestSnapshot()),
    committee: (id) => Effect.sync(() => economy.committeeSnapshot(id)),
    depositFees: (account, amount) => Effect.suspend(() => fromResult(economy.depositFees(account, amount, now()))),
    feeDeposit: (account) => Effect.sync(() => economy.feeDeposit(account)),
    submitEpochReport: (report, signatures, submitter) =>
      Effect.suspend(() => withReportContext("submitEpochReport", (ctx) => economy.submitEpochReport(report, signatures, submitter, ctx, now()))),
    epochReport: (epoch) => Effect.sync(() => economy.epochReport(epoch)),
    reportConflict: (report, signatures, submitter) =>
      Effect.suspend(() => withReportContext("reportConflict", (ctx) => economy.reportConflict(report, signatures, submitter, ctx, now()))),
    balanceOf: (a) => Effect.sync(() => economy.balanceOf(a)),
    supply: Effect.sync(() => economy.supply()),
    pools: Effect.sync(() => economy.pools()),
    positions: (owner) => Effect.sync(() => economy.positions(owner)),
    unbonding: (owner) => Effect.sync(() => economy.unbonding(owner)),
    pendingRewards: (owner) => Effect.sync(() => economy.pendingRewards(owner)),
    params: Effect.sync(() => economy.params),
    ...ledgerGovernance({
      governance, stake, now,
      transfer: (to, amount, t) => economy.apply({ type: "transfer", from: "treasury", to, amount }, t),
      setParams: (p) => economy.setParams(p),
    }),
    ...ledgerMarket({ economy, now }),
  })
}

export const layerSimChain = (economy: Economy, now: () => number, options: SimChainOptions = {}) =>
  Layer.succeed(Chain, makeSimChain(economy, now, undefined, options))

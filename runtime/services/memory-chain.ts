/**
 * The in-memory Chain: the one ledger of value and rules without an EVM chain — the `Economy` of
 * runtime/core/econ (token, stake, slashing, rewards, insurance, and the committee side of
 * contracts/Committee.sol: snapshots, fee deposits, epoch reports) with governance beside it, at
 * the time the caller's clock says. The simulator's world shares one between all its nodes (as the
 * nodes of a real network share the contracts); a real node without a chain keeps its own.
 *
 * Operations apply synchronously, so the order of a run's events alone decides the ledger —
 * replayable bit for bit. Voting stake is the economy's (the tokens of the voter's positions, the
 * total bonded), an executed parameter change is pushed into the economy, and a spend is a
 * transfer from the account "treasury". Report signatures are checked with the `verify` option
 * (the run's signature oracle when it uses the cheap scheme, else secp256k1) over the digest with
 * the `consensusChainId` option and the zero ledger address; double-sign evidence as Staking.sol
 * checks it (core/consensus/double-sign.ts), the claimed signer's signature through `verify`.
 *
 * Unlike a contract, it tells what happened: every receipt of an operation, and every slash a
 * settlement or evidence made, goes to the `receipts` listeners in order (the nodes' staking
 * followers, the simulator's trace and checkers), and `slashes` keeps the slashes.
 */
import { Effect, Result } from "effect"
import { checkDoubleSign, type SignedVote } from "../core/consensus/double-sign.ts"
import type { SignatureVerifier } from "../core/consensus/signing.ts"
import { reportDigest, ZERO_ADDRESS } from "../core/committee/index.ts"
import { verifySignature } from "../core/crypto.ts"
import {
  StakingInvalidEvidence, type EconError, type Economy, type EpochSettlementReceipt, type PoolView, type Receipt, type ReportContext, type SlashReceipt,
} from "../core/econ/index.ts"
import { Constitution } from "../core/governance/constitution.ts"
import { Governance } from "../core/governance/governance.ts"
import { economyStake } from "../core/governance/stake.ts"
import { Chain, ChainUnavailable } from "./chain.ts"
import { ledgerGovernance } from "./ledger-governance.ts"
import { ledgerMarket } from "./ledger-market.ts"
import { receiptFeed, type ReceiptFeed } from "./receipt-feed.ts"

export type { ReceiptFeed } from "./receipt-feed.ts"

/** What the in-memory ledger needs beyond the economy to check signatures as the contracts do. */
export interface MemoryChainOptions {
  /** The consensus chain id whose votes and reports this ledger accepts (Staking's and Committee's `consensusChainId`). */
  readonly consensusChainId?: bigint | number
  /** Checks a signature (default secp256k1; a run with the cheap signature scheme passes its oracle's `verify`). */
  readonly verify?: SignatureVerifier
}

/** The in-memory Chain, with what only an in-memory ledger can show. */
export type MemoryChain = Chain["Service"] & {
  readonly economy: Economy
  readonly governance: Governance
  /** Every slash the ledger made, in order. */
  readonly slashes: readonly SlashReceipt[]
  /** The receipt of every accepted epoch report, in order (what each settlement moved). */
  readonly settlements: readonly EpochSettlementReceipt[]
  /** What the accepted reports paid `account` from the contributors' pot so far (to its balance). */
  contributorPaid(account: string): bigint
  /** Every receipt (operations; the slashes of settlements and evidence), in order. */
  readonly receipts: ReceiptFeed
}

/** The validator pool whose registered signing key is `signer` (registerValidator's `signingKey`, by default the operator's own address). */
const validatorOfKey = (economy: Economy, signer: string): PoolView | undefined =>
  economy.pools().find((p) => p.kind === "validator" && (economy.signingKeyOf(p.operator) ?? p.operator).toLowerCase() === signer)

const noChainId = (operation: string) =>
  new ChainUnavailable({ operation, reason: "this in-memory ledger was made without a consensus chain id (its consensusChainId option), so it cannot check the committee's signatures" })

/** The in-memory Chain over `economy`, at the time `now` says. */
export const makeMemoryChain = (
  economy: Economy,
  now: () => number,
  governance: Governance = new Governance(new Constitution(economy.params)),
  options: MemoryChainOptions = {},
): MemoryChain => {
  const stake = economyStake(economy)
  const feed = receiptFeed()
  const slashes: SlashReceipt[] = []
  const settlements: EpochSettlementReceipt[] = []
  const paid = new Map<string, bigint>()
  // An operation at a time before the ledger's last is refused (LedgerTimeWentBackwards), as a block cannot go back.
  const time = now
  const publish = (r: Receipt): void => {
    if (r.type === "slash") slashes.push(r)
    feed.publish(r)
  }
  /** A result as an effect, its receipts published first when it succeeded. */
  const settled = <A, E>(r: Result.Result<A, E>, receipts: (a: A) => readonly Receipt[]): Effect.Effect<A, E> => {
    if (Result.isFailure(r)) return Effect.fail(r.failure)
    for (const x of receipts(r.success)) publish(x)
    return Effect.succeed(r.success)
  }
  const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => settled(r, () => [])
  const verify = options.verify ?? verifySignature
  /** Run a report operation with the chain id and verifier it checks signatures with. */
  const withReportContext = <A, E>(operation: string, f: (ctx: ReportContext) => Effect.Effect<A, E>): Effect.Effect<A, E | ChainUnavailable> =>
    options.consensusChainId === undefined ? Effect.fail(noChainId(operation)) : f({ chainId: options.consensusChainId, verify })

  /** Staking.slashDoubleSign: the contract's checks, then a doubleSign slash now, once per evidence id. */
  const slashDoubleSign = (a: SignedVote, b: SignedVote): Effect.Effect<SlashReceipt, EconError | ChainUnavailable> => {
    if (options.consensusChainId === undefined) return Effect.fail(noChainId("slashDoubleSign"))
    const check = checkDoubleSign(a, b, BigInt(options.consensusChainId), verify)
    if (!check.valid) return Effect.fail(new StakingInvalidEvidence({ evidenceId: check.evidenceId, reason: check.reason }))
    const pool = validatorOfKey(economy, check.signer)
    if (pool === undefined) return Effect.fail(new StakingInvalidEvidence({ evidenceId: check.evidenceId, reason: "the signer is not a registered validator key" }))
    // The votes carry no time: as on chain, the infraction is the submission (the slash base is the stake now).
    const t = time()
    const r = economy.apply({ type: "slash", pool: pool.id, infraction: "doubleSign", infractionTime: t, evidenceId: check.evidenceId }, t)
    return settled(r as Result.Result<SlashReceipt, EconError>, (s) => [s])
  }

  const chain = Chain.of({
    submit: (op) => Effect.suspend(() => settled(economy.apply(op, time()), (r) => [r]) as never),
    slashDoubleSign: (a, b) => Effect.suspend(() => slashDoubleSign(a, b)),
    snapshot: (caller) => Effect.suspend(() => fromResult(economy.takeSnapshot(caller, time()))),
    latestSnapshot: Effect.sync(() => economy.latestSnapshot()),
    committee: (id) => Effect.sync(() => economy.committeeSnapshot(id)),
    reportDigest: (report) =>
      Effect.suspend(() => withReportContext("reportDigest", (ctx) => Effect.succeed(reportDigest(ctx.chainId, ZERO_ADDRESS, report)))),
    depositFees: (account, amount) => Effect.suspend(() => fromResult(economy.depositFees(account, amount, time()))),
    feeDeposit: (account) => Effect.sync(() => economy.feeDeposit(account)),
    submitEpochReport: (report, signatures, submitter) =>
      Effect.suspend(() => withReportContext("submitEpochReport", (ctx) => settled(economy.submitEpochReport(report, signatures, submitter, ctx, time()), (r) => {
        settlements.push(r)
        for (const p of r.settlement.emission.payouts) if (p.amount > 0n) paid.set(p.account, (paid.get(p.account) ?? 0n) + p.amount)
        return r.slashes
      }))),
    epochReport: (epoch) => Effect.sync(() => economy.epochReport(epoch)),
    reportConflict: (report, signatures, submitter) =>
      Effect.suspend(() => withReportContext("reportConflict", (ctx) => settled(economy.reportConflict(report, signatures, submitter, ctx, time()), (r) => r.slashes))),
    balanceOf: (a) => Effect.sync(() => economy.balanceOf(a)),
    supply: Effect.sync(() => economy.supply()),
    pools: Effect.sync(() => economy.pools()),
    positions: (owner) => Effect.sync(() => economy.positions(owner)),
    unbonding: (owner) => Effect.sync(() => economy.unbonding(owner)),
    pendingRewards: (owner) => Effect.sync(() => economy.pendingRewards(owner)),
    params: Effect.sync(() => economy.params),
    ...ledgerGovernance({
      governance, stake, now,
      transfer: (to, amount, t) => Result.map(economy.apply({ type: "transfer", from: "treasury", to, amount }, t), (r) => (publish(r), r)),
      setParams: (p) => economy.setParams(p),
    }),
    // The compute market (runtime/core/econ/market.ts), as ComputeMarket.sol on chain.
    ...ledgerMarket({ economy, now, ...(options.consensusChainId === undefined ? {} : { consensusChainId: options.consensusChainId }), verify }),
  })
  return Object.assign(chain, {
    economy,
    governance,
    slashes,
    settlements,
    contributorPaid: (account: string) => paid.get(account) ?? 0n,
    receipts: feed.feed,
  })
}

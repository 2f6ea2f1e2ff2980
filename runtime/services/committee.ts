/**
 * The committee's side of the ledger (issue 12 plan §1, §4): snapshots of the active set and the
 * settlement of epoch reports, what contracts/Committee.sol does on a real chain. A node reaches
 * it as `CommitteePort` and keeps the snapshots it loaded in a `CommitteeCache`, which is what its
 * App reads (an App never waits: its node loads a snapshot a block names before judging the block).
 *
 * `memoryLedgerPorts` serves both this port and the Chain port from one in-memory
 * `CommitteeLedger` (the simulator's shared ledger; a real node without an EVM chain).
 */
import { Effect, Result } from "effect"
import type { CommitteeSnapshot, CommitteeSource } from "../core/app/committee.ts"
import { reportDigest, type EpochReport, type ReportSignature } from "../core/app/epoch-report.ts"
import type { CommitteeLedger, LedgerRefusal, Settlement } from "../core/app/ledger.ts"
import type { EconError, Receipt, SlashReceipt } from "../core/econ/index.ts"
import { economyStake } from "../core/governance/stake.ts"
import { Chain, ChainUnavailable } from "./chain.ts"
import { ledgerGovernance } from "./ledger-governance.ts"

export interface CommitteePort {
  /** Record the active set and the parameters now; the new snapshot's id (anyone may). */
  readonly snapshot: Effect.Effect<number, ChainUnavailable>
  /** The newest snapshot's id. */
  readonly latestSnapshot: Effect.Effect<number, ChainUnavailable>
  /** Snapshot `id`, or undefined when there is none. */
  committee(id: number): Effect.Effect<CommitteeSnapshot | undefined, ChainUnavailable>
  /** Settle a report signed by ≥ 2/3 of its snapshot's power; the first one of an epoch wins. */
  submitEpochReport(report: EpochReport, signatures: readonly ReportSignature[]): Effect.Effect<Settlement, LedgerRefusal | ChainUnavailable>
  /** The report settled for `epoch`, or undefined. */
  epochReport(epoch: number): Effect.Effect<EpochReport | undefined, ChainUnavailable>
  /** Slash and tombstone a double signer whose votes the node verified; first one wins, a repeat is refused. */
  convict(operator: string, evidenceId: string, infractionTime: number): Effect.Effect<SlashReceipt, EconError | ChainUnavailable>
  /** Hear the ledger's receipts (stake operations, slashes) as they happen; a ledger that cannot tell never calls. */
  receipts(listener: (r: Receipt) => void): () => void
}

/** The snapshots a node has loaded, read synchronously by its App. */
export interface CommitteeCache extends CommitteeSource {
  /** Load snapshot `id` from the port into the cache; whether it exists. */
  load(id: number): Effect.Effect<boolean, ChainUnavailable>
}

/** A cache over `port`. */
export const committeeCache = (port: CommitteePort): CommitteeCache => {
  const known = new Map<number, CommitteeSnapshot>()
  return {
    committee: (id) => known.get(id),
    load: (id) =>
      known.has(id) ? Effect.succeed(true) : Effect.map(port.committee(id), (s) => {
        if (s !== undefined) known.set(id, s)
        return s !== undefined
      }),
  }
}

const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure))

/** The Chain port and the committee port over one in-memory ledger, at the time `now` says. */
export const memoryLedgerPorts = (ledger: CommitteeLedger, now: () => number): { readonly chain: Chain["Service"]; readonly committee: CommitteePort } => {
  const { economy, governance } = ledger
  const stake = economyStake(economy)
  const reportContext = { chainId: ledger.chainId, verify: ledger.verify }
  const chain = Chain.of({
    submit: (op) => Effect.suspend(() => fromResult(ledger.apply(op, now())) as never),
    slashDoubleSign: () => Effect.fail(new ChainUnavailable({ operation: "slashDoubleSign", reason: "the in-memory ledger takes verified evidence through the committee port (convict)" })),
    // The economy's own committee (runtime/core/econ), beside this ledger's (the committee port):
    // the App reads the committee port's snapshots.
    snapshot: (caller) => Effect.suspend(() => fromResult(economy.takeSnapshot(caller, now()))),
    latestSnapshot: Effect.sync(() => economy.latestSnapshot()),
    committee: (id) => Effect.sync(() => economy.committeeSnapshot(id)),
    reportDigest: (report) => Effect.sync(() => reportDigest(ledger.chainId, report)),
    depositFees: (account, amount) => Effect.suspend(() => fromResult(economy.depositFees(account, amount, now()))),
    feeDeposit: (account) => Effect.sync(() => economy.feeDeposit(account)),
    submitEpochReport: (report, signatures, submitter) => Effect.suspend(() => fromResult(economy.submitEpochReport(report, signatures, submitter, reportContext, now()))),
    epochReport: (epoch) => Effect.sync(() => economy.epochReport(epoch)),
    reportConflict: (report, signatures, submitter) => Effect.suspend(() => fromResult(economy.reportConflict(report, signatures, submitter, reportContext, now()))),
    balanceOf: (a) => Effect.sync(() => economy.balanceOf(a)),
    supply: Effect.sync(() => economy.supply()),
    pools: Effect.sync(() => economy.pools()),
    positions: (owner) => Effect.sync(() => economy.positions(owner)),
    unbonding: (owner) => Effect.sync(() => economy.unbonding(owner)),
    pendingRewards: (owner) => Effect.sync(() => economy.pendingRewards(owner)),
    params: Effect.sync(() => economy.params),
    ...ledgerGovernance({
      governance, stake, now,
      // The ledger's clock may have run ahead of the caller's (a settlement at a later block time).
      executeAt: () => Math.max(now(), economy.now),
      transfer: (to, amount, t) => ledger.apply({ type: "transfer", from: "treasury", to, amount }, t),
      setParams: (p) => economy.setParams(p),
    }),
  })
  const committee: CommitteePort = {
    snapshot: Effect.sync(() => ledger.snapshot(now())),
    latestSnapshot: Effect.sync(() => ledger.latestSnapshot),
    committee: (id) => Effect.sync(() => ledger.committee(id)),
    submitEpochReport: (report, signatures) => Effect.suspend(() => fromResult(ledger.submitEpochReport(report, signatures, now()))),
    epochReport: (epoch) => Effect.sync(() => ledger.epochReport(epoch)),
    convict: (operator, evidenceId, infractionTime) => Effect.suspend(() => fromResult(ledger.convict(operator, evidenceId, infractionTime, now()))),
    receipts: (listener) => ledger.subscribe(listener),
  }
  return { chain, committee }
}

/** A cache that is the in-memory ledger itself (every snapshot it holds is loaded). */
export const ledgerCache = (ledger: CommitteeLedger): CommitteeCache => ({
  committee: (id) => ledger.committee(id),
  load: (id) => Effect.sync(() => ledger.committee(id) !== undefined),
})

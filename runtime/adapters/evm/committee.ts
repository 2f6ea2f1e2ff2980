/**
 * The committee members of the Chain port over contracts/Committee.sol: snapshots of the validator
 * set, fee deposits, epoch reports and conflicting reports.
 *
 * Accounts: a report's accounts go on chain as addresses (an id the account book maps becomes its
 * address; a 0x id is itself), and the contract hashes those, so on a real chain the committee signs
 * reports whose accounts are addresses (core/committee `reportDigest` with the Committee's address as
 * the ledger). Read back, addresses become account ids through the book; signing keys stay lowercase
 * 0x addresses. Times: the contract keeps seconds, the port ms (× 1000 on the way out, ⌊/1000⌋ in).
 *
 * Refusals read as the simulated ledger's: before sending a report, the adapter checks its form
 * (core `checkReport`) and its signatures against the snapshot it reads (core `verifyReport`, with
 * secp256k1 recovery), so a bad signature is `CommitteeBadSignature` for the signer it claims, as in
 * the simulator; what passes those is sent and the contract checks it all again (its reverts map to
 * the same tagged errors: `toCommitteeError`). A refused report sends nothing and changes nothing.
 */
import { Contract, Interface, type Provider, type Signer, type TransactionReceipt } from "ethers"
import { Effect, Result } from "effect"
import {
  CommitteeBadReport, CommitteeBadSignature, CommitteeDuplicateSigner, CommitteeEpochReported, CommitteeInsufficientDeposit, CommitteeInsufficientPower,
  CommitteeNoWithdrawal, CommitteeNotConflicting, CommitteeStaleEpoch, CommitteeStaleSnapshot, CommitteeUnknownSigner, CommitteeUnknownSnapshot,
  CommitteeWithdrawalNotReady,
  checkReport, reportDigest, settlement, verifyReport,
  type AcceptedReportView, type CommitteeError, type EpochReport, type ReportSignature, type Snapshot,
} from "../../core/committee/index.ts"
import { fromHex, recoverAddress, toHex } from "../../core/crypto.ts"
import type { Address, ConflictReceipt, EconError, EpochSettlementReceipt, FeeDepositReceipt, SlashReceipt } from "../../core/econ/index.ts"
import { TokenInvalidAmount } from "../../core/econ/index.ts"
import type { ParamName, Params } from "../../core/params.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import { COMMITTEE_ABI } from "./abi.ts"
import type { AccountBook } from "./accounts.ts"
import { describeFailure, PARAM_BY_KEY, revertDataOf, toChainError } from "./errors.ts"
import { chainParams } from "./params.ts"
import { minedWith, signerOf } from "./tx.ts"
import { readGateOf } from "./read-gate.ts"

type Any = any // ethers contracts without typechain

const IFACE = new Interface(COMMITTEE_ABI)

/** What the committee members need of the adapter (chain.ts hands its own). */
export interface CommitteeContext {
  /** The Committee contract's address (the `ledger` of the report digest). */
  readonly address: string
  readonly provider: Provider
  readonly token: Any
  readonly staking: Any
  readonly book: AccountBook
  /** Where the chain is (for errors). */
  readonly where: string
  /** Parameters that never go on chain (booleans, choices, patterns). */
  readonly base: Params
  readonly timeoutMs: number
  readonly signerFor: (account: Address) => Signer | undefined
  /** The block to read at (never below one the adapter has seen). */
  readonly latest: () => Promise<number>
  /** Run `f` after the adapter's other transactions (nonces in order). */
  readonly serialized: <A>(f: () => Promise<A>) => Promise<A>
  readonly sawBlock: (block: number) => void
  /** The receipt of a Slashed event (`slashed`: its parsed args) of `receipt`. */
  readonly slashReceipt: (receipt: TransactionReceipt, evidenceId: string, slashed: Any) => Promise<SlashReceipt>
}

/** The committee members of the Chain port. */
export interface CommitteePort {
  snapshot(caller: Address): Effect.Effect<Snapshot, EconError | ChainUnavailable>
  readonly latestSnapshot: Effect.Effect<Snapshot | undefined, ChainUnavailable>
  committee(id: number): Effect.Effect<Snapshot | undefined, ChainUnavailable>
  reportDigest(report: EpochReport): Effect.Effect<Uint8Array, CommitteeError | ChainUnavailable>
  depositFees(account: Address, amount: bigint): Effect.Effect<FeeDepositReceipt, EconError | ChainUnavailable>
  feeDeposit(account: Address): Effect.Effect<bigint, ChainUnavailable>
  submitEpochReport(report: EpochReport, signatures: readonly ReportSignature[], submitter: Address): Effect.Effect<EpochSettlementReceipt, CommitteeError | EconError | ChainUnavailable>
  epochReport(epoch: number): Effect.Effect<AcceptedReportView | undefined, ChainUnavailable>
  reportConflict(report: EpochReport, signatures: readonly ReportSignature[], submitter: Address): Effect.Effect<ConflictReceipt, CommitteeError | EconError | ChainUnavailable>
}

const COMMITTEE_TAGS = new Set([
  "CommitteeUnknownSnapshot", "CommitteeBadReport", "CommitteeEpochReported", "CommitteeStaleEpoch", "CommitteeStaleSnapshot",
  "CommitteeUnknownSigner", "CommitteeDuplicateSigner", "CommitteeBadSignature", "CommitteeInsufficientPower", "CommitteeNotConflicting",
  "CommitteeInsufficientDeposit", "CommitteeNoWithdrawal", "CommitteeWithdrawalNotReady",
])
const isCommitteeError = (e: unknown): e is CommitteeError =>
  e !== null && typeof e === "object" && COMMITTEE_TAGS.has(String((e as { _tag?: unknown })._tag))

const num = (x: unknown): number => Number(x as bigint)
const big = (x: unknown): bigint => x as bigint
const str = (x: unknown): string => String(x)

/**
 * A Committee revert as the tagged error of core/committee (the form refusals are `CommitteeBadReport`
 * with the contract's reason); else as `toChainError` (token refusals, `ChainUnavailable`).
 */
export const toCommitteeError = (
  operation: string, e: unknown, book: AccountBook, where: string, about: { readonly report?: EpochReport; readonly signatures?: readonly ReportSignature[] } = {},
): CommitteeError | EconError | ChainUnavailable => {
  if (isCommitteeError(e)) return e
  const data = revertDataOf(e)
  let parsed: ReturnType<Interface["parseError"]> = null
  try {
    parsed = data === undefined ? null : IFACE.parseError(data)
  } catch {
    parsed = null
  }
  const a = parsed?.args
  const epoch = about.report?.epoch
  const bad = (reason: string) => new CommitteeBadReport({ epoch, reason })
  switch (parsed?.name) {
    case "CommitteeUnknownSnapshot": return new CommitteeUnknownSnapshot({ snapshotId: num(a![0]), latest: num(a![1]) })
    case "CommitteeStaleSnapshot": return new CommitteeStaleSnapshot({ snapshotId: num(a![0]), latest: num(a![1]) })
    case "CommitteeEpochReported": return new CommitteeEpochReported({ epoch: num(a![0]), same: Boolean(a![1]) })
    case "CommitteeStaleEpoch": return num(a![0]) === 0 ? bad("the epoch must be a whole number ≥ 1") : new CommitteeStaleEpoch({ epoch: num(a![0]), latest: num(a![1]) })
    case "CommitteeTimesOutOfOrder": return bad(`times ${num(a![0])}..${num(a![1])} s are out of order or after the ledger's time ${num(a![2])} s`)
    case "CommitteeLengthMismatch": return bad(`${str(a![0])} have lengths ${num(a![1])} and ${num(a![2])}`)
    case "CommitteeDuplicateAccount": return bad(`${book.accountOf(str(a![1]))} appears twice in ${str(a![0])}`)
    case "CommitteeNotInSnapshot": return bad(`downtime names ${book.accountOf(str(a![0]))}, which is not a validator of snapshot ${num(a![1])}`)
    case "CommitteeScoresTooLarge": return bad(`the scores sum to ${big(a![0])}, at least the ledger's bound ${big(a![1])}`)
    case "CommitteeBadSignature": return new CommitteeBadSignature({ signer: about.signatures?.[num(a![0])]?.signer ?? `#${num(a![0])}`, reason: str(a![1]) })
    case "CommitteeUnknownSigner": return new CommitteeUnknownSigner({ signer: str(a![0]).toLowerCase(), snapshotId: num(a![1]) })
    case "CommitteeDuplicateSigner": return new CommitteeDuplicateSigner({ signer: str(a![0]).toLowerCase() })
    case "CommitteeInsufficientPower":
      return new CommitteeInsufficientPower({ snapshotId: num(a![0]), power: big(a![1]), quorum: big(a![2]), total: big(a![3]), signers: num(a![4]) })
    case "CommitteeNotConflicting": return new CommitteeNotConflicting({ epoch: num(a![0]), reason: str(a![1]) })
    case "CommitteeZeroAmount": return new TokenInvalidAmount({ op: str(a![0]), amount: 0n })
    case "CommitteeInsufficientDeposit": return new CommitteeInsufficientDeposit({ account: book.accountOf(str(a![0])), deposit: big(a![1]), needed: big(a![2]) })
    case "CommitteeNoWithdrawal": return new CommitteeNoWithdrawal({ account: book.accountOf(str(a![0])) })
    case "CommitteeWithdrawalNotReady": return new CommitteeWithdrawalNotReady({ account: book.accountOf(str(a![0])), readyAt: num(a![1]) * 1000, now: num(a![2]) * 1000 })
    default: return toChainError(operation, e, book, {}, where)
  }
}

/** The committee members over the Committee contract at `ctx.address`. */
export const makeCommitteePort = (ctx: CommitteeContext): CommitteePort => {
  const { book, provider, where } = ctx
  const committee: Any = new Contract(ctx.address, COMMITTEE_ABI, provider)
  const ledger = ctx.address.toLowerCase()
  let chainId: bigint | undefined
  const consensusChainId = async (): Promise<bigint> => (chainId ??= (await committee.consensusChainId()) as bigint)

  const timedOut = (operation: string) => Effect.fail(new ChainUnavailable({ operation, reason: `no answer from ${where} within ${ctx.timeoutMs} ms` }))
  const query = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, ChainUnavailable> =>
    Effect.tryPromise({ try: (signal) => readGateOf(ctx.provider).limit(signal, f), catch: (e) => (e instanceof ChainUnavailable ? e : new ChainUnavailable({ operation, reason: describeFailure(e, where) })) }).pipe(
      Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut(operation) }),
    )
  const operate = <A>(operation: string, f: () => Promise<A>, about: Parameters<typeof toCommitteeError>[4] = {}) =>
    Effect.tryPromise({ try: () => ctx.serialized(f), catch: (e) => toCommitteeError(operation, e, book, where, about) }).pipe(
      Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut(operation) }),
    )

  const mined = minedWith(ctx.sawBlock)
  const logsOf = (receipt: TransactionReceipt, contract: Any): Any[] => {
    const at = String(contract.target).toLowerCase()
    return receipt.logs.filter((l) => l.address.toLowerCase() === at).map((l) => contract.interface.parseLog(l)).filter((e: Any) => e !== null)
  }

  // ------------------------------------------------------------------ snapshots

  const readSnapshot = async (id: number, block: number): Promise<Snapshot | undefined> => {
    const latest = Number(await committee.latestSnapshotId({ blockTag: block }))
    if (!Number.isSafeInteger(id) || id < 1 || id > latest) return undefined
    const [info, members, trainers, [keys, values]]: [Any, Any[], Any[], [string[], bigint[]]] = await Promise.all([
      committee.snapshotInfo(id, { blockTag: block }), committee.snapshotValidators(id, { blockTag: block }),
      committee.snapshotTrainers(id, { blockTag: block }), committee.snapshotParams(id, { blockTag: block }),
    ])
    const named = new Map<ParamName, bigint>()
    keys.forEach((k, i) => {
      const name = PARAM_BY_KEY.get(String(k).toLowerCase())
      if (name !== undefined) named.set(name, values[i]!)
    })
    return {
      id, time: Number(info.time) * 1000, params: chainParams(ctx.base, named, undefined),
      totalPower: BigInt(info.totalPower), quorum: BigInt(info.quorum),
      validators: members.map((m) => ({
        operator: book.accountOf(String(m.operator)), signingKey: String(m.signingKey).toLowerCase(), stake: big(m.stake),
        multiplierWad: big(m.multiplierWad), contribution: big(m.contribution), power: big(m.power),
      })),
      trainers: trainers.map((t) => ({ owner: book.accountOf(String(t.owner)), stake: big(t.stake) })),
    }
  }

  // ------------------------------------------------------------------ reports

  /** The report with its accounts as lowercase addresses (what the contract hashes); an unknown id is a bad report. */
  const onChain = (r: EpochReport): EpochReport => {
    const addr = (id: Address, list: string): string => {
      const a = typeof id === "string" ? book.addressOf(id) : undefined
      if (a === undefined) throw new CommitteeBadReport({ epoch: r.epoch, reason: `${list} names ${String(id)}, which has no chain address` })
      return a.toLowerCase()
    }
    return {
      ...r, downtime: r.downtime.map((a) => addr(a, "downtime")), scored: r.scored.map((a) => addr(a, "scored")),
      feePayers: r.feePayers.map((a) => addr(a, "feePayers")),
    }
  }
  const solidity = (r: EpochReport) => ({
    epoch: BigInt(r.epoch), snapshotId: BigInt(r.snapshotId), fromTime: BigInt(Math.floor(r.fromTime / 1000)), toTime: BigInt(Math.floor(r.toTime / 1000)),
    downtime: r.downtime, scored: r.scored, scores: r.scores, feePayers: r.feePayers, fees: r.fees,
  })
  const fromChain = (r: Any): EpochReport => ({
    epoch: num(r.epoch), snapshotId: num(r.snapshotId), fromTime: num(r.fromTime) * 1000, toTime: num(r.toTime) * 1000,
    downtime: [...r.downtime].map((a: string) => book.accountOf(a)), scored: [...r.scored].map((a: string) => book.accountOf(a)),
    scores: [...r.scores].map(big), feePayers: [...r.feePayers].map((a: string) => book.accountOf(a)), fees: [...r.fees].map(big),
  })
  const recovering = (address: string, digest: Uint8Array, signature: Uint8Array) => recoverAddress(digest, signature) === address.toLowerCase()
  const blockMs = async (block: number) => ((await provider.getBlock(block))?.timestamp ?? 0) * 1000

  /** Check form and signatures as the simulated ledger does; the snapshot and the digest of the on-chain report. */
  const precheck = async (report: EpochReport) => {
    const block = await ctx.latest()
    const now = await blockMs(block)
    // The transaction lands in a later block: times up to a minute ahead are left to the contract.
    const malformed = checkReport(report, undefined, now + 60_000)
    if (malformed !== undefined) throw malformed
    const r = onChain(report)
    const snapshot = await readSnapshot(r.snapshotId, block)
    if (snapshot === undefined) throw new CommitteeUnknownSnapshot({ snapshotId: r.snapshotId, latest: Number(await committee.latestSnapshotId({ blockTag: block })) })
    const digest = reportDigest(await consensusChainId(), ledger, r)
    return { r, block, snapshot, digest }
  }

  const submitReport = async (report: EpochReport, signatures: readonly ReportSignature[], submitter: Address): Promise<EpochSettlementReceipt> => {
    const { r, block, snapshot, digest } = await precheck(report)
    const verified = verifyReport(snapshot, digest, signatures, recovering)
    if (Result.isFailure(verified)) throw verified.failure
    // The rule's numbers from the state the report meets (checked against the contract's events below).
    const payers = [...new Set(r.feePayers)]
    const [reserve, emittedUntil, deposits] = await Promise.all([
      committee.reserve({ blockTag: block }) as Promise<bigint>, committee.emittedUntil({ blockTag: block }) as Promise<bigint>,
      Promise.all(payers.map((p) => committee.feeDeposit(p, { blockTag: block }) as Promise<bigint>)),
    ])
    const signer = signerOf(ctx, "submitEpochReport", submitter)
    const receipt = await mined(() => committee.connect(signer).submitEpochReport(solidity(r), signatures.map((s) => s.signature)))
    // Params and state at the block before the one it landed in (other transactions may have moved them since `block`).
    const before = receipt.blockNumber - 1
    const [reserveThen, untilThen, depositsThen] = before === block ? [reserve, emittedUntil, deposits] : await Promise.all([
      committee.reserve({ blockTag: before }) as Promise<bigint>, committee.emittedUntil({ blockTag: before }) as Promise<bigint>,
      Promise.all(payers.map((p) => committee.feeDeposit(p, { blockTag: before }) as Promise<bigint>)),
    ])
    const params = await liveParams(before)
    const plan = settlement({
      snapshot, report: r, params, reserve: reserveThen, emittedUntil: untilThen,
      deposit: (a) => depositsThen[payers.indexOf(a)] ?? 0n,
    })
    const slashEvents = logsOf(receipt, ctx.staking).filter((e) => e.name === "Slashed")
    const settled = logsOf(receipt, committee).filter((e) => e.name === "DowntimeSettled")
    const slashes: SlashReceipt[] = []
    const skipped: Array<{ operator: Address; reason: string }> = []
    for (const d of settled) {
      const operator = book.accountOf(String(d.args.operator))
      if (!d.args.slashed) {
        // Named as the simulated ledger names the refused slash.
        const pool: Any = await ctx.staking.getPool(BigInt(String(d.args.operator)), { blockTag: before })
        skipped.push({ operator, reason: pool.tombstoned ? "StakingTombstoned" : pool.jailed ? "StakingValidatorJailed" : "StakingInfractionAlreadySlashed" })
        continue
      }
      const ev = slashEvents.find((s) => s.args.evidenceId === d.args.evidenceId)
      slashes.push(await ctx.slashReceipt(receipt, String(d.args.evidenceId), ev.args))
    }
    const rSettle = {
      ...plan,
      emission: { ...plan.emission, payouts: plan.emission.payouts.map((p, i) => ({ ...p, account: report.scored[i] ?? p.account })) },
      fees: { ...plan.fees, payments: plan.fees.payments.map((p, i) => ({ ...p, payer: report.feePayers[i] ?? p.payer })) },
      downtime: plan.downtime.map((d, i) => ({ ...d, operator: report.downtime[i] ?? d.operator })),
    }
    return {
      type: "epochReport", epoch: report.epoch, snapshotId: report.snapshotId, digest: toHex(digest),
      signers: verified.success.signers, power: verified.success.power, quorum: snapshot.quorum, totalPower: snapshot.totalPower,
      settlement: rSettle, slashes, skipped,
    }
  }

  /** The money parameters at `block` from the Constitution, as `Params` (a settlement uses the live ones, as the contract does). */
  const liveParams = async (block: number): Promise<Params> => {
    const constitutionAt = String(await committee.constitution({ blockTag: block }))
    const c: Any = new Contract(constitutionAt, ["function paramValue(bytes32 key) view returns (uint256)"], provider)
    const names = ["rewards.annualEmission", "rewards.contributorShare", "fees.burnFraction"] as const
    const values = await Promise.all(names.map((n) => [...PARAM_BY_KEY].find(([, name]) => name === n)![0]).map((k) => c.paramValue(k, { blockTag: block }) as Promise<bigint>))
    return chainParams(ctx.base, new Map(names.map((n, i) => [n, values[i]!])), undefined)
  }

  const conflict = async (report: EpochReport, signatures: readonly ReportSignature[], submitter: Address): Promise<ConflictReceipt> => {
    const { r, digest } = await precheck(report)
    const signer = signerOf(ctx, "reportConflict", submitter)
    const receipt = await mined(() => committee.connect(signer).reportConflict(solidity(r), signatures.map((s) => s.signature)))
    const slashEvents = logsOf(receipt, ctx.staking).filter((e) => e.name === "Slashed")
    const slashes: SlashReceipt[] = []
    for (const c of logsOf(receipt, committee).filter((e) => e.name === "ConflictSlashed")) {
      const ev = slashEvents.find((s) => s.args.evidenceId === c.args.evidenceId)
      slashes.push(await ctx.slashReceipt(receipt, String(c.args.evidenceId), ev.args))
    }
    return { type: "reportConflict", epoch: report.epoch, digest: toHex(digest), slashes, skipped: [] }
  }

  const accepted = async (epoch: number): Promise<AcceptedReportView | undefined> => {
    if (!Number.isSafeInteger(epoch) || epoch < 1) return undefined
    const block = await ctx.latest()
    const rec: Any = await committee.epochRecord(epoch, { blockTag: block })
    if (/^0x0+$/.test(String(rec.digest))) return undefined
    const logs = await committee.queryFilter(committee.filters.EpochReported(epoch), Number(rec.blockNumber), Number(rec.blockNumber))
    const log: Any = logs[0]
    if (log === undefined) throw new Error(`epoch ${epoch} is reported, but its EpochReported event is not in block ${rec.blockNumber}`)
    const tx = await provider.getTransaction(log.transactionHash)
    if (tx === null || tx.to?.toLowerCase() !== ledger) throw new Error(`epoch ${epoch} was reported through another contract (${tx?.to ?? "?"}): its lists are not in the transaction`)
    const call = IFACE.parseTransaction({ data: tx.data })
    if (call === null || call.name !== "submitEpochReport") throw new Error(`the transaction of epoch ${epoch}'s report is not a submitEpochReport call`)
    const onChainReport = call.args[0]
    const digest = fromHex(String(rec.digest))
    const snapshot = await readSnapshot(Number(rec.snapshotId), block)
    const byKey = new Map((snapshot?.validators ?? []).map((v) => [v.signingKey, v]))
    const signers = [...call.args[1]].map((s: string) => byKey.get(recoverAddress(digest, fromHex(s)) ?? "")?.operator ?? "?")
    return { report: fromChain(onChainReport), digest: String(rec.digest), signers, power: big(rec.power), acceptedAt: await blockMs(Number(rec.blockNumber)) }
  }

  return {
    snapshot: (caller) =>
      operate("snapshot", async () => {
        const receipt = await mined(() => committee.connect(signerOf(ctx, "snapshot", caller)).snapshot())
        const ev = logsOf(receipt, committee).find((e) => e.name === "SnapshotTaken")
        const s = await readSnapshot(Number(ev.args.id), receipt.blockNumber)
        if (s === undefined) throw new Error(`snapshot ${ev.args.id} is not readable at block ${receipt.blockNumber}`)
        return s
      }) as Effect.Effect<Snapshot, EconError | ChainUnavailable>,
    latestSnapshot: query("latestSnapshot", async () => {
      const block = await ctx.latest()
      const id = Number(await committee.latestSnapshotId({ blockTag: block }))
      return id === 0 ? undefined : readSnapshot(id, block)
    }),
    committee: (id) => query("committee", async () => readSnapshot(id, await ctx.latest())),
    reportDigest: (report) =>
      Effect.tryPromise({
        try: async () => {
          const malformed = checkReport(report, undefined, Number.MAX_SAFE_INTEGER)
          if (malformed !== undefined) throw malformed
          return reportDigest(await consensusChainId(), ledger, onChain(report))
        },
        catch: (e) => (isCommitteeError(e) ? e : new ChainUnavailable({ operation: "reportDigest", reason: describeFailure(e, where) })),
      }).pipe(Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut("reportDigest") })),
    depositFees: (account, amount) =>
      operate("depositFees", async () => {
        if (typeof amount !== "bigint" || amount <= 0n) throw new TokenInvalidAmount({ op: "depositFees", amount })
        const signer = signerOf(ctx, "depositFees", account)
        const from = book.addressOf(account)!
        const allowance: bigint = await ctx.token.allowance(from, ctx.address)
        if (allowance < amount) await mined(() => ctx.token.connect(signer).approve(ctx.address, amount))
        const receipt = await mined(() => committee.connect(signer).depositFees(amount))
        const ev = logsOf(receipt, committee).find((e) => e.name === "FeesDeposited")
        return { type: "depositFees" as const, account, amount: big(ev.args.amount), deposit: big(ev.args.deposit) }
      }) as Effect.Effect<FeeDepositReceipt, EconError | ChainUnavailable>,
    feeDeposit: (account) =>
      query("feeDeposit", async () => {
        const a = book.addressOf(account)
        return a === undefined ? 0n : ((await committee.feeDeposit(a, { blockTag: await ctx.latest() })) as bigint)
      }),
    submitEpochReport: (report, signatures, submitter) => operate("submitEpochReport", () => submitReport(report, signatures, submitter), { report, signatures }),
    epochReport: (epoch) => query("epochReport", () => accepted(epoch)),
    reportConflict: (report, signatures, submitter) => operate("reportConflict", () => conflict(report, signatures, submitter), { report, signatures }),
  }
}

/**
 * The market members of the Chain port over contracts/ComputeMarket.sol: `marketOp(op)` sends the
 * operation as the account it names (`provider`, `requester` or `by`; `settle` and `refund`, which
 * anyone may send, go as the adapter's own account) and returns the economy's receipt of it, built from
 * the contract's events; `marketProvider`, `marketProviders`, `marketJob`, `marketJobs` read the contract's records.
 *
 * Units: amounts and units are base units either way; times are seconds on chain and ms in the port
 * (× 1000 out, ⌈/1000⌉ in for a deadline, so a job is never due earlier than asked). Accounts go on
 * chain as addresses and come back as account ids through the book. A revert becomes the tagged error
 * of runtime/core/market/errors.ts of the same name (`toMarketError`), else as `toChainError` (the
 * token's refusals, `ChainUnavailable`). A token approval the operation needs is sent first.
 *
 * A verdict (`resolveDispute`) goes with the committee's signatures; the contract checks them through
 * `Committee.verifySignatures`, so its refusals are the Committee's errors (`toCommitteeError`).
 * `marketVerdictDigest` is the contract's `verdictDigest` (the bytes core/market/verdict.ts computes).
 */
import { Contract, getBytes, Interface, type Provider, type Signer, type TransactionReceipt } from "ethers"
import { Effect } from "effect"
import type { Address, EconError } from "../../core/econ/index.ts"
import { TokenInvalidAddress } from "../../core/econ/index.ts"
import type { CommitteeError } from "../../core/committee/errors.ts"
import type { ReportSignature } from "../../core/committee/types.ts"
import type { MarketVerdict } from "../../core/market/verdict.ts"
import {
  MarketBeforeDeadline, MarketDisputeWindowClosed, MarketDisputeWindowOpen, MarketInsufficientBond, MarketInvalidDelivery, MarketInvalidJob,
  MarketInvalidProvider, MarketJobDisputed, MarketJobFinal, MarketJobNotAssigned, MarketJobNotOpen, MarketKindNotServed, MarketNoShowNotDue,
  MarketNotDisputed, MarketNotesPending, MarketNoteTooLarge, MarketNothingToDispute, MarketNothingToPay, MarketNotProvider, MarketNotReferee, MarketNotRequester,
  MarketOverDelivery, MarketPastDeadline, MarketPriceTooHigh, MarketProviderBusy, MarketProviderExcluded, MarketProviderExists, MarketProviderFull,
  MarketProviderNotRetired, MarketProviderRetired, MarketUnknownJob, MarketUnknownProvider, MARKET_ERROR_TAGS, type MarketError,
} from "../../core/market/errors.ts"
import { LIVE_JOB_STATES, matchesJob, type JobFilter, type JobState, type JobView, type MarketOp, type MarketReceipt, type MarketReceiptOf, type NotePayment, type NoteState, type ProviderView } from "../../core/market/types.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import type { AccountBook } from "./accounts.ts"
import { toCommitteeError } from "./committee.ts"
import { describeFailure, revertDataOf } from "./errors.ts"
import { minedWith, signerOf as txSignerOf } from "./tx.ts"
import { readGateOf } from "./read-gate.ts"

type Any = any // ethers contracts without typechain

/** Jobs read at once by `marketJobs` (calls in flight to the RPC node). */
const READ_BATCH = 8

const PROVIDER_TUPLE = "tuple(uint128 bond, uint128 penalized, uint128 pricePerUnit, uint32 capacity, uint32 openJobs, uint48 registeredAt, bool retired, bool exists, string[] kinds)"
const NOTE_TUPLE = "tuple(address provider, uint8 state, uint40 deliveredAt, uint128 units, uint128 pricePerUnit, bytes32 resultHash)"
const JOB_TUPLE =
  "tuple(address requester, uint8 state, uint40 deadline, uint40 postedAt, address provider, uint40 assignedAt, uint40 lastActivity, uint128 units, " +
  "uint128 maxPricePerUnit, uint128 pricePerUnit, uint128 delivered, uint128 paidUnits, uint128 budget, uint128 escrow, uint128 paid, uint128 feeBurnt, " +
  `uint128 feeToStakers, uint128 returned, uint128 compensation, uint64 firstOpen, uint64 disputeSnapshot, string kind, ${NOTE_TUPLE}[] notes, address[] excluded)`

/** The argument lists of the market's custom errors (the contract's, in its order). */
const ERROR_ARGS: Readonly<Record<(typeof MARKET_ERROR_TAGS)[number], string>> = {
  MarketProviderExists: "(address provider)",
  MarketUnknownProvider: "(address provider)",
  MarketInsufficientBond: "(address provider, uint256 bond, uint256 minimum)",
  MarketInvalidProvider: "(address provider, string reason)",
  MarketProviderRetired: "(address provider)",
  MarketProviderNotRetired: "(address provider)",
  MarketProviderBusy: "(address provider, uint256 openJobs)",
  MarketProviderFull: "(address provider, uint256 capacity)",
  MarketKindNotServed: "(address provider, string kind)",
  MarketPriceTooHigh: "(uint256 job, address provider, uint256 price, uint256 maxPrice)",
  MarketProviderExcluded: "(uint256 job, address provider)",
  MarketInvalidJob: "(string reason)",
  MarketUnknownJob: "(uint256 job)",
  MarketNotRequester: "(uint256 job, address caller, address requester)",
  MarketNotProvider: "(uint256 job, address caller, address provider)",
  MarketNotReferee: "(uint256 job, address caller)",
  MarketJobNotOpen: "(uint256 job, uint8 state)",
  MarketJobNotAssigned: "(uint256 job, uint8 state)",
  MarketJobDisputed: "(uint256 job)",
  MarketJobFinal: "(uint256 job, uint8 state)",
  MarketNotDisputed: "(uint256 job, uint8 state)",
  MarketPastDeadline: "(uint256 job, uint256 deadline, uint256 now)",
  MarketBeforeDeadline: "(uint256 job, uint256 deadline, uint256 now)",
  MarketDisputeWindowClosed: "(uint256 job, uint256 closedAt, uint256 now)",
  MarketDisputeWindowOpen: "(uint256 job, uint256 closesAt, uint256 now)",
  MarketNoShowNotDue: "(uint256 job, uint256 dueAt, uint256 now)",
  MarketInvalidDelivery: "(uint256 job, string reason)",
  MarketOverDelivery: "(uint256 job, uint256 units, uint256 delivered, uint256 total)",
  MarketNoteTooLarge: "(uint256 job, uint256 amount, uint256 maxAmount)",
  MarketNothingToPay: "(uint256 job)",
  MarketNothingToDispute: "(uint256 job)",
  MarketNotesPending: "(uint256 job, uint256 notes)",
}

/** The parts of ComputeMarket's ABI the adapter uses. */
export const MARKET_ABI = [
  "function registerProvider(uint256 bond, string[] kinds, uint256 pricePerUnit, uint256 capacity)",
  "function updateProvider(uint256 pricePerUnit, uint256 capacity)",
  "function addBond(uint256 amount)",
  "function retireProvider()",
  "function withdrawBond() returns (uint256)",
  "function postJob(string kind, uint256 units, uint256 maxPricePerUnit, uint64 deadline) returns (uint256)",
  "function assignJob(uint256 id, address provider)",
  "function deliver(uint256 id, uint256 units, bytes32 resultHash) returns (uint256)",
  "function confirm(uint256 id)",
  "function settle(uint256 id)",
  "function dispute(uint256 id)",
  "function resolveDispute(uint256 id, bool providerRight, uint64 snapshotId, bytes[] signatures)",
  "function verdictDigest(uint256 id, bool providerRight, uint64 snapshotId) view returns (bytes32)",
  "function committee() view returns (address)",
  "function reclaimNoShow(uint256 id)",
  "function refund(uint256 id)",
  `function getProvider(address provider) view returns (${PROVIDER_TUPLE})`,
  "function providerList() view returns (address[])",
  `function getJob(uint256 id) view returns (${JOB_TUPLE})`,
  "function jobCount() view returns (uint256)",
  "function totalEscrow() view returns (uint256)",
  "function totalBonds() view returns (uint256)",
  "function COMMITTEE_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "event ProviderRegistered(address indexed provider, uint256 bond, string[] kinds, uint256 pricePerUnit, uint256 capacity)",
  "event ProviderUpdated(address indexed provider, uint256 pricePerUnit, uint256 capacity)",
  "event BondAdded(address indexed provider, uint256 amount, uint256 bond)",
  "event ProviderRetired(address indexed provider)",
  "event BondWithdrawn(address indexed provider, uint256 amount)",
  "event JobPosted(uint256 indexed job, address indexed requester, string kind, uint256 units, uint256 maxPricePerUnit, uint256 budget, uint64 deadline)",
  "event JobAssigned(uint256 indexed job, address indexed provider, uint256 pricePerUnit)",
  "event Delivered(uint256 indexed job, uint256 indexed note, address indexed provider, uint256 units, uint256 amount, bytes32 resultHash, uint256 delivered)",
  "event Paid(uint256 indexed job, uint256 indexed note, address indexed provider, uint256 units, uint256 amount, uint256 toProvider, uint256 burnt, uint256 toStakers)",
  "event Disputed(uint256 indexed job, address indexed by, uint256 notes, uint256 amount)",
  "event Resolved(uint256 indexed job, address indexed provider, bool providerRight, address by, uint64 snapshotId, uint256 power)",
  "event ProviderSlashed(uint256 indexed job, address indexed provider, uint256 slashed, uint256 toRequester, uint256 burnt)",
  "event NoShow(uint256 indexed job, address indexed provider, uint256 penalty)",
  "event Refunded(uint256 indexed job, address indexed requester, uint256 returned, uint8 state)",
  ...MARKET_ERROR_TAGS.map((t) => `error ${t}${ERROR_ARGS[t]}`),
  "error TokenInsufficientBalance(address account, uint256 balance, uint256 needed)",
  "error MarketInvalidSetup(string reason)",
] as const

/** The Committee's view of a snapshot's validators (a verdict receipt names its signers' operators). */
const COMMITTEE_VALIDATORS_ABI = [
  "function snapshotValidators(uint64 id) view returns (tuple(address operator, address signingKey, uint256 stake, uint256 multiplierWad, uint256 contribution, uint256 power)[])",
] as const

/** The contract's `JobState` and `NoteState` enums, in order (index 0: none). */
export const JOB_STATES: readonly (JobState | "none")[] = ["none", "open", "assigned", "disputed", "settled", "expired"]
export const NOTE_STATES: readonly (NoteState | "none")[] = ["none", "pending", "disputed", "paid", "refuted"]

const IFACE = new Interface(MARKET_ABI as unknown as string[])
const num = (x: unknown): number => Number(x as bigint)
const big = (x: unknown): bigint => BigInt(x as bigint)
const str = (x: unknown): string => String(x)
const ms = (s: unknown): number => num(s) * 1000
const ZERO = "0x0000000000000000000000000000000000000000"
const jobState = (x: unknown): JobState => (JOB_STATES[num(x)] ?? "open") as JobState

/** A provider record of the contract as the port's view (undefined: never registered). */
export const providerFromChain = (address: Address, p: Any): ProviderView | undefined =>
  !p.exists ? undefined : {
    address, bond: big(p.bond), kinds: [...p.kinds].map(str), pricePerUnit: big(p.pricePerUnit), capacity: num(p.capacity), openJobs: num(p.openJobs),
    retired: Boolean(p.retired), registeredAt: ms(p.registeredAt), penalized: big(p.penalized),
  }

/** A job record of the contract as the port's view (undefined: no such job). */
export const jobFromChain = (id: number, j: Any, book: AccountBook): JobView | undefined => {
  if (num(j.state) === 0) return undefined
  const provider = str(j.provider) === ZERO ? undefined : book.accountOf(str(j.provider))
  return {
    id, requester: book.accountOf(str(j.requester)), kind: str(j.kind), units: big(j.units), maxPricePerUnit: big(j.maxPricePerUnit), budget: big(j.budget),
    deadline: ms(j.deadline), postedAt: ms(j.postedAt), state: jobState(j.state), provider, pricePerUnit: big(j.pricePerUnit),
    assignedAt: ms(j.assignedAt), lastActivity: ms(j.lastActivity), delivered: big(j.delivered), paidUnits: big(j.paidUnits), escrow: big(j.escrow),
    paid: big(j.paid), feeBurnt: big(j.feeBurnt), feeToStakers: big(j.feeToStakers), returned: big(j.returned), compensation: big(j.compensation),
    disputeSnapshot: num(j.disputeSnapshot),
    notes: [...j.notes].map((n: Any, i: number) => ({
      id: i + 1, provider: book.accountOf(str(n.provider)), units: big(n.units), pricePerUnit: big(n.pricePerUnit), amount: big(n.units) * big(n.pricePerUnit),
      resultHash: str(n.resultHash).toLowerCase(), deliveredAt: ms(n.deliveredAt), state: (NOTE_STATES[num(n.state)] ?? "pending") as NoteState,
    })),
    excluded: [...j.excluded].map((a: string) => book.accountOf(a)),
  }
}

/**
 * A ComputeMarket revert as the market's tagged error of the same name (times in ms, accounts as ids); a
 * Committee error (a verdict's signatures, `CommitteeStaleSnapshot`) as `toCommitteeError`; else as `toChainError`.
 */
export const toMarketError = (
  operation: string, e: unknown, book: AccountBook, where?: string, signatures?: readonly ReportSignature[],
): MarketError | CommitteeError | EconError | ChainUnavailable => {
  if (e !== null && typeof e === "object" && (MARKET_ERROR_TAGS as readonly string[]).includes(String((e as { _tag?: unknown })._tag))) return e as MarketError
  const data = revertDataOf(e)
  let parsed: ReturnType<Interface["parseError"]> = null
  try {
    parsed = data === undefined ? null : IFACE.parseError(data)
  } catch {
    parsed = null
  }
  const a = parsed?.args as Any
  const acct = (x: unknown) => book.accountOf(str(x))
  switch (parsed?.name) {
    case "MarketProviderExists": return new MarketProviderExists({ provider: acct(a[0]) })
    case "MarketUnknownProvider": return new MarketUnknownProvider({ provider: acct(a[0]) })
    case "MarketInsufficientBond": return new MarketInsufficientBond({ provider: acct(a[0]), bond: big(a[1]), minimum: big(a[2]) })
    case "MarketInvalidProvider": return new MarketInvalidProvider({ provider: acct(a[0]), reason: str(a[1]) })
    case "MarketProviderRetired": return new MarketProviderRetired({ provider: acct(a[0]) })
    case "MarketProviderNotRetired": return new MarketProviderNotRetired({ provider: acct(a[0]) })
    case "MarketProviderBusy": return new MarketProviderBusy({ provider: acct(a[0]), openJobs: num(a[1]) })
    case "MarketProviderFull": return new MarketProviderFull({ provider: acct(a[0]), capacity: num(a[1]) })
    case "MarketKindNotServed": return new MarketKindNotServed({ provider: acct(a[0]), kind: str(a[1]) })
    case "MarketPriceTooHigh": return new MarketPriceTooHigh({ job: num(a[0]), provider: acct(a[1]), price: big(a[2]), maxPrice: big(a[3]) })
    case "MarketProviderExcluded": return new MarketProviderExcluded({ job: num(a[0]), provider: acct(a[1]) })
    case "MarketInvalidJob": return new MarketInvalidJob({ reason: str(a[0]) })
    case "MarketUnknownJob": return new MarketUnknownJob({ job: num(a[0]) })
    case "MarketNotRequester": return new MarketNotRequester({ job: num(a[0]), caller: acct(a[1]), requester: acct(a[2]) })
    case "MarketNotProvider": return new MarketNotProvider({ job: num(a[0]), caller: acct(a[1]), provider: str(a[2]) === ZERO ? undefined : acct(a[2]) })
    case "MarketNotReferee": return new MarketNotReferee({ job: num(a[0]), caller: acct(a[1]) })
    case "MarketJobNotOpen": return new MarketJobNotOpen({ job: num(a[0]), state: jobState(a[1]) })
    case "MarketJobNotAssigned": return new MarketJobNotAssigned({ job: num(a[0]), state: jobState(a[1]) })
    case "MarketJobDisputed": return new MarketJobDisputed({ job: num(a[0]) })
    case "MarketJobFinal": return new MarketJobFinal({ job: num(a[0]), state: jobState(a[1]) })
    case "MarketNotDisputed": return new MarketNotDisputed({ job: num(a[0]), state: jobState(a[1]) })
    case "MarketPastDeadline": return new MarketPastDeadline({ job: num(a[0]), deadline: ms(a[1]), now: ms(a[2]) })
    case "MarketBeforeDeadline": return new MarketBeforeDeadline({ job: num(a[0]), deadline: ms(a[1]), now: ms(a[2]) })
    case "MarketDisputeWindowClosed": return new MarketDisputeWindowClosed({ job: num(a[0]), closedAt: ms(a[1]), now: ms(a[2]) })
    case "MarketDisputeWindowOpen": return new MarketDisputeWindowOpen({ job: num(a[0]), closesAt: ms(a[1]), now: ms(a[2]) })
    case "MarketNoShowNotDue": return new MarketNoShowNotDue({ job: num(a[0]), dueAt: ms(a[1]), now: ms(a[2]) })
    case "MarketInvalidDelivery": return new MarketInvalidDelivery({ job: num(a[0]), reason: str(a[1]) })
    case "MarketOverDelivery": return new MarketOverDelivery({ job: num(a[0]), units: big(a[1]), delivered: big(a[2]), total: big(a[3]) })
    case "MarketNoteTooLarge": return new MarketNoteTooLarge({ job: num(a[0]), amount: big(a[1]), maxAmount: big(a[2]) })
    case "MarketNothingToPay": return new MarketNothingToPay({ job: num(a[0]) })
    case "MarketNothingToDispute": return new MarketNothingToDispute({ job: num(a[0]) })
    case "MarketNotesPending": return new MarketNotesPending({ job: num(a[0]), notes: num(a[1]) })
    // The Committee's errors, TokenInsufficientBalance and every other revert: their mappings (same error names), else ChainUnavailable.
    default: return toCommitteeError(operation, e, book, where ?? "the chain", signatures === undefined ? {} : { signatures })
  }
}

/** What the market members need of the adapter (chain.ts hands its own, as for the committee). */
export interface MarketContext {
  /** The ComputeMarket contract's address. */
  readonly address: string
  readonly provider: Provider
  /** The DAIToken contract (approvals). */
  readonly token: Any
  readonly book: AccountBook
  /** Where the chain is (for errors). */
  readonly where: string
  readonly timeoutMs: number
  readonly signerFor: (account: Address) => Signer | undefined
  /** The account that sends `settle` and `refund` (anyone may). */
  readonly anyone: Address
  /** Run `f` after the adapter's other transactions (nonces in order). */
  readonly serialized: <A>(f: () => Promise<A>) => Promise<A>
  readonly sawBlock: (block: number) => void
  /** The block to read at (never below one the adapter has seen). */
  readonly latest: () => Promise<number>
}

/** The market members of the Chain port. */
export interface MarketPort {
  marketOp<O extends MarketOp>(op: O): Effect.Effect<MarketReceiptOf<O["type"]>, MarketError | CommitteeError | EconError | ChainUnavailable>
  marketVerdictDigest(verdict: MarketVerdict): Effect.Effect<Uint8Array, MarketError | ChainUnavailable>
  marketProvider(address: Address): Effect.Effect<ProviderView | undefined, ChainUnavailable>
  readonly marketProviders: Effect.Effect<readonly ProviderView[], ChainUnavailable>
  marketJob(id: number): Effect.Effect<JobView | undefined, ChainUnavailable>
  marketJobs(filter?: JobFilter): Effect.Effect<readonly JobView[], ChainUnavailable>
}

/** The market members over the ComputeMarket contract at `ctx.address`. */
export const makeMarketPort = (ctx: MarketContext): MarketPort => {
  const { book, provider, where } = ctx
  const market: Any = new Contract(ctx.address, MARKET_ABI as unknown as string[], provider)
  const timedOut = (operation: string) => Effect.fail(new ChainUnavailable({ operation, reason: `no answer from ${where} within ${ctx.timeoutMs} ms` }))
  const query = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, ChainUnavailable> =>
    Effect.tryPromise({ try: (signal) => readGateOf(provider).limit(signal, f), catch: (e) => (e instanceof ChainUnavailable ? e : new ChainUnavailable({ operation, reason: describeFailure(e, where) })) }).pipe(
      Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut(operation) }),
    )

  const addressOf = (account: Address, role: "sender" | "recipient"): string => {
    const a = typeof account === "string" ? book.addressOf(account) : undefined
    if (a === undefined) throw new TokenInvalidAddress({ role, address: String(account) })
    return a
  }
  const signerOf = (operation: string, account: Address): Signer => txSignerOf({ provider, book, signerFor: ctx.signerFor }, operation, account)
  const mined = minedWith(ctx.sawBlock)
  const events = (receipt: TransactionReceipt): Any[] => {
    const at = ctx.address.toLowerCase()
    return receipt.logs.filter((l) => l.address.toLowerCase() === at).map((l) => market.interface.parseLog(l)).filter((e: Any) => e !== null)
  }
  const approve = async (signer: Signer, owner: Address, amount: bigint) => {
    const allowance: bigint = await ctx.token.allowance(addressOf(owner, "sender"), ctx.address)
    if (allowance < amount) await mined(() => ctx.token.connect(signer).approve(ctx.address, amount))
  }
  const jobAt = async (id: number, block: number): Promise<JobView | undefined> => jobFromChain(id, await market.getJob(id, { blockTag: block }), book)
  /** The payments, returned escrow and final state of a paying operation, from its events and the job after it. */
  const payout = async (id: number, receipt: TransactionReceipt) => {
    const evs = events(receipt)
    const payments: NotePayment[] = evs.filter((e) => e.name === "Paid").map((e) => ({
      note: num(e.args.note), provider: book.accountOf(str(e.args.provider)), units: big(e.args.units), amount: big(e.args.amount),
      toProvider: big(e.args.toProvider), fee: big(e.args.burnt) + big(e.args.toStakers), burnt: big(e.args.burnt), toStakers: big(e.args.toStakers),
    }))
    const refunded = evs.find((e) => e.name === "Refunded")
    const after = await jobAt(id, receipt.blockNumber)
    return { job: id, payments, returned: refunded === undefined ? 0n : big(refunded.args.returned), state: after!.state }
  }

  /** The operators of a verdict's signers (by their signing keys in the Committee's snapshot), in the order given. */
  const signersOf = async (snapshotId: number, signatures: readonly ReportSignature[], block: number): Promise<string[]> => {
    const committee: Any = new Contract(str(await market.committee({ blockTag: block })), COMMITTEE_VALIDATORS_ABI as unknown as string[], provider)
    const members: Any[] = [...(await committee.snapshotValidators(snapshotId, { blockTag: block }))]
    const byKey = new Map(members.map((m) => [str(m.signingKey).toLowerCase(), book.accountOf(str(m.operator))]))
    return signatures.map((x) => byKey.get(x.signer.toLowerCase()) ?? x.signer.toLowerCase())
  }

  const send = async (op: MarketOp): Promise<MarketReceipt> => {
    const as = (account: Address) => market.connect(signerOf(op.type, account))
    switch (op.type) {
      case "registerProvider": {
        const signer = signerOf(op.type, op.provider)
        if (typeof op.bond === "bigint" && op.bond > 0n) await approve(signer, op.provider, op.bond)
        const r = await mined(() => market.connect(signer).registerProvider(op.bond, op.kinds, op.pricePerUnit, BigInt(op.capacity)))
        const ev = events(r).find((e) => e.name === "ProviderRegistered")
        return { type: "registerProvider", provider: op.provider, bond: big(ev.args.bond) }
      }
      case "updateProvider": {
        await mined(() => as(op.provider).updateProvider(op.pricePerUnit, BigInt(op.capacity)))
        return { type: "updateProvider", provider: op.provider, pricePerUnit: op.pricePerUnit, capacity: op.capacity }
      }
      case "addBond": {
        const signer = signerOf(op.type, op.provider)
        if (typeof op.amount === "bigint" && op.amount > 0n) await approve(signer, op.provider, op.amount)
        const ev = events(await mined(() => market.connect(signer).addBond(op.amount))).find((e) => e.name === "BondAdded")
        return { type: "addBond", provider: op.provider, amount: big(ev.args.amount), bond: big(ev.args.bond) }
      }
      case "retireProvider": {
        await mined(() => as(op.provider).retireProvider())
        return { type: "retireProvider", provider: op.provider }
      }
      case "withdrawBond": {
        const ev = events(await mined(() => as(op.provider).withdrawBond())).find((e) => e.name === "BondWithdrawn")
        return { type: "withdrawBond", provider: op.provider, amount: big(ev.args.amount) }
      }
      case "postJob": {
        const signer = signerOf(op.type, op.requester)
        const budget = typeof op.units === "bigint" && typeof op.maxPricePerUnit === "bigint" ? op.units * op.maxPricePerUnit : 0n
        if (budget > 0n) await approve(signer, op.requester, budget)
        const deadline = typeof op.deadline === "number" && Number.isFinite(op.deadline) ? BigInt(Math.max(0, Math.ceil(op.deadline / 1000))) : 0n
        const ev = events(await mined(() => market.connect(signer).postJob(op.kind, op.units, op.maxPricePerUnit, deadline))).find((e) => e.name === "JobPosted")
        return { type: "postJob", job: num(ev.args.job), requester: op.requester, kind: op.kind, budget: big(ev.args.budget), deadline: ms(ev.args.deadline) }
      }
      case "assignJob": {
        const ev = events(await mined(() => as(op.by).assignJob(op.job, addressOf(op.provider, "recipient")))).find((e) => e.name === "JobAssigned")
        return { type: "assignJob", job: op.job, provider: op.provider, pricePerUnit: big(ev.args.pricePerUnit) }
      }
      case "deliver": {
        const ev = events(await mined(() => as(op.provider).deliver(op.job, op.units, op.resultHash))).find((e) => e.name === "Delivered")
        return { type: "deliver", job: op.job, provider: op.provider, note: num(ev.args.note), units: big(ev.args.units), amount: big(ev.args.amount), delivered: big(ev.args.delivered) }
      }
      case "confirm": return { type: "confirm", ...(await payout(op.job, await mined(() => as(op.by).confirm(op.job)))) }
      case "settle": return { type: "settle", ...(await payout(op.job, await mined(() => as(ctx.anyone).settle(op.job)))) }
      case "refund": return { type: "refund", ...(await payout(op.job, await mined(() => as(ctx.anyone).refund(op.job)))) }
      case "dispute": {
        const r = await mined(() => as(op.by).dispute(op.job))
        const ev = events(r).find((e) => e.name === "Disputed")
        const after = await jobAt(op.job, r.blockNumber)
        return { type: "dispute", job: op.job, by: op.by, notes: after!.notes.filter((n) => n.state === "disputed").map((n) => n.id), amount: big(ev.args.amount) }
      }
      case "resolveDispute": {
        const before = await jobAt(op.job, await ctx.latest())
        const sigs = Array.isArray(op.signatures) ? op.signatures.map((x) => x.signature) : op.signatures
        const r = await mined(() => as(op.by).resolveDispute(op.job, op.providerRight, op.snapshotId, sigs))
        const resolved = events(r).find((e) => e.name === "Resolved")
        const provider = book.accountOf(str(resolved.args.provider))
        const signed = { snapshotId: num(resolved.args.snapshotId), signers: await signersOf(num(resolved.args.snapshotId), op.signatures, r.blockNumber), power: big(resolved.args.power) }
        if (op.providerRight) return { type: "resolveDispute", providerRight: true, provider, refuted: [], slash: undefined, ...signed, ...(await payout(op.job, r)) }
        const s = events(r).find((e) => e.name === "ProviderSlashed")
        const refuted = (before?.notes ?? []).filter((n) => n.state === "disputed").map((n) => n.id)
        return {
          type: "resolveDispute", providerRight: false, provider, refuted,
          slash: { provider, slashed: big(s.args.slashed), toRequester: big(s.args.toRequester), burnt: big(s.args.burnt) }, ...signed,
          job: op.job, payments: [], returned: 0n, state: "open",
        }
      }
      case "reclaimNoShow": {
        const ev = events(await mined(() => as(op.by).reclaimNoShow(op.job))).find((e) => e.name === "NoShow")
        return { type: "reclaimNoShow", job: op.job, provider: book.accountOf(str(ev.args.provider)), penalty: big(ev.args.penalty) }
      }
      default:
        throw new ChainUnavailable({ operation: "marketOp", reason: `unknown market operation ${JSON.stringify((op as { type?: unknown }).type)}` })
    }
  }

  // A poll of `marketJobs` must not cost one call per job ever posted (a node polls for its whole life):
  // a final job (settled, expired) never changes and a job's requester never does, so both are kept
  // from the first read; a poll reads only the jobs still live, and none of another requester's when
  // the filter names one.
  const finals = new Map<number, JobView>()
  const requesterOf = new Map<number, string>()
  let counted = 0
  const readJobs = async (filter: JobFilter = {}): Promise<JobView[]> => {
    const block = await ctx.latest()
    const n = num(await market.jobCount({ blockTag: block }))
    if (n < counted) {
      // Fewer jobs than seen: the chain was reset (a test's evm_revert); nothing known holds.
      finals.clear()
      requesterOf.clear()
    }
    counted = n
    const wanted = (id: number) => {
      const r = requesterOf.get(id)
      return filter.requester === undefined || r === undefined || r === filter.requester
    }
    const live: number[] = []
    for (let id = 1; id <= n; id++) if (!finals.has(id) && wanted(id)) live.push(id)
    const read = new Map<number, JobView>()
    for (let i = 0; i < live.length; i += READ_BATCH) {
      const views = await Promise.all(live.slice(i, i + READ_BATCH).map((id) => jobAt(id, block)))
      for (const j of views) {
        if (j === undefined) continue
        read.set(j.id, j)
        requesterOf.set(j.id, j.requester)
        if (!LIVE_JOB_STATES.includes(j.state)) finals.set(j.id, j)
      }
    }
    const out: JobView[] = []
    for (let id = 1; id <= n; id++) {
      const j = read.get(id) ?? finals.get(id)
      if (j !== undefined && matchesJob(j, filter)) out.push(j)
    }
    return out
  }

  return {
    marketOp: <O extends MarketOp>(op: O) =>
      Effect.tryPromise({
        try: () => ctx.serialized(() => send(op)),
        catch: (e) => toMarketError(`marketOp ${op.type}`, e, book, where, op.type === "resolveDispute" ? op.signatures : undefined),
      }).pipe(
        Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut(`marketOp ${op.type}`) }),
      ) as Effect.Effect<MarketReceiptOf<O["type"]>, MarketError | CommitteeError | EconError | ChainUnavailable>,
    marketVerdictDigest: (verdict) =>
      Effect.tryPromise({
        try: async () => getBytes(await market.verdictDigest(verdict.job, verdict.providerRight, verdict.snapshotId, { blockTag: await ctx.latest() })),
        catch: (e) => {
          const err = toMarketError("marketVerdictDigest", e, book, where)
          return err._tag.startsWith("Market") ? (err as MarketError) : new ChainUnavailable({ operation: "marketVerdictDigest", reason: describeFailure(e, where) })
        },
      }).pipe(Effect.timeoutOrElse({ duration: ctx.timeoutMs, orElse: () => timedOut("marketVerdictDigest") })),
    marketProvider: (address) =>
      query("marketProvider", async () => {
        const a = typeof address === "string" ? book.addressOf(address) : undefined
        if (a === undefined) return undefined
        return providerFromChain(address, await market.getProvider(a, { blockTag: await ctx.latest() }))
      }),
    marketProviders: query("marketProviders", async () => {
      const block = await ctx.latest()
      const list: string[] = [...(await market.providerList({ blockTag: block }))]
      const out: ProviderView[] = []
      for (const a of list) {
        const p = providerFromChain(book.accountOf(a), await market.getProvider(a, { blockTag: block }))
        if (p !== undefined) out.push(p)
      }
      return out
    }),
    marketJob: (id) =>
      query("marketJob", async () => (Number.isSafeInteger(id) && id >= 1 ? jobAt(id, await ctx.latest()) : undefined)),
    marketJobs: (filter) => query("marketJobs", () => readJobs(filter)),
  }
}

/**
 * Properties of the compute market on the ledger over random operation sequences (right and wrong
 * callers, jobs and amounts; time jumps around dispute windows, no-show timeouts and deadlines;
 * random market parameters; economic operations mixed in, slashes jailing the referees):
 *  - per job, budget = paid to providers + fees (burnt + to stakers) + returned + escrow left, to the wei,
 *    with every term counted from the receipts, independently of the ledger's own fields;
 *  - the supply identity and every structural invariant of the economy hold after every step; the escrow
 *    and bonds accounts hold exactly the jobs' escrows and the providers' bonds;
 *  - nobody is paid for units not delivered, and no note (so no unit) is paid twice;
 *  - a provider is slashed only by a verdict against it, and a verdict against it only follows a
 *    re-execution that refutes one of the frozen results (referees here re-execute honestly): a provider
 *    whose results are confirmed is never slashed;
 *  - a verdict takes effect only when signed by ≥ 2/3 of a committee snapshot's power, a snapshot no
 *    older than the dispute's (verdicts signed by a quorum, by one validator alone or by nobody, under
 *    snapshots taken during the run as slashes jail and stake moves);
 *  - every market participant's balance and every bond move exactly as the receipts say;
 *  - a refused operation changes nothing (the whole state is deep-equal before and after);
 *  - no debit note is accepted above what its provider's bond answers for (`noteTooLarge`, market/math.ts),
 *    nor from a provider whose bond fell below market.minProviderBond; a delivery refused as too large was;
 *  - a provider sizing its notes with `maxNoteUnits` is never refused for it, at any bond, price and rates.
 * Runs: DAI_MARKET_RUNS sequences (CI default 40, about 5 s; `npm run soak` runs 5,000), seed
 * DAI_MARKET_SEED (printed as SEED=…), path DAI_MARKET_PATH (scripts/property-env.ts).
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import type { CommitteeError } from "../committee/errors.ts"
import { quorumSigners } from "../committee/testkit.ts"
import type { MarketError } from "../market/errors.ts"
import { marketConfig, maxNoteAmount, maxNoteUnits, noteTooLarge } from "../market/math.ts"
import { TEST_VERDICT_CTX, toyVerdictSignatures } from "../market/testkit.ts"
import { frozenNotes } from "../market/verdict.ts"
import type { JobState, MarketOp, MarketReceipt, NotePayment } from "../market/types.ts"
import { resolveParams, type Params } from "../params.ts"
import { TOKEN } from "../units.ts"
import type { Economy } from "./economy.ts"
import type { EconError } from "./errors.ts"
import { MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT } from "./market.ts"
import type { EconOp } from "./ops.ts"
import { invariantViolations, ok, SETUP, snapshotKey, testEconomy } from "./testkit.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const ENV = propertyEnv("MARKET", 300)
const TIMEOUT = ENV.timeout(150)
const T = TOKEN

const PROVIDERS = ["p0", "p1", "p2"] as const
const REQUESTERS = ["r0", "r1"] as const
/** Market participants: only market operations touch their balances, so the test can follow them to the wei. */
const PARTICIPANTS: readonly string[] = [...PROVIDERS, ...REQUESTERS]
const KINDS = ["infer:mnist", "finetune:mnist"] as const
const WRONG_HASH = `0x${"ee".repeat(32)}`
/** The result a faithful re-execution of job `id` gives. */
const rightHash = (id: number): string => `0x${id.toString(16).padStart(64, "0")}`

const marketParamsArb: fc.Arbitrary<Params> = fc
  .record({
    "market.minProviderBond": fc.constantFrom(0, 10, 1_000),
    "market.protocolFee": fc.constantFrom(0, 0.05, 0.333, 0.5),
    "fees.burnFraction": fc.constantFrom(0, 0.3, 0.9),
    "market.disputeWindow": fc.constantFrom("5s", "60s", "10m"),
    "market.noShowTimeout": fc.constantFrom("1s", "30s", "5m"),
    "market.noShowPenalty": fc.constantFrom(0, 0.05, 0.777, 1),
    "market.wrongResultSlash": fc.constantFrom(0, 0.2, 0.999, 1),
    "market.verificationRate": fc.constantFrom(0, 0.02, 0.1, 0.1, 0.5, 1),
    "slashing.downtimeFraction": fc.constantFrom(0, 0.05),
  })
  .map((p) => Result.getOrThrow(resolveParams(p)))

/** Amounts of tokens: whole, odd wei, zero or negative now and then. */
const priceArb = fc.oneof(
  { weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 50n }).map((t) => t * T) },
  { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 19n }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n) },
)
const bondArb = fc.oneof(
  { weight: 5, arbitrary: fc.bigInt({ min: 1_000n, max: 20_000n }).map((t) => t * T) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 2_000n * T }) },
  { weight: 1, arbitrary: fc.constantFrom(-1n, 10n ** 30n) },
)
const provider = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...PROVIDERS) }, { weight: 1, arbitrary: fc.constantFrom("r0", "nobody") })
const requester = fc.constantFrom(...REQUESTERS, ...REQUESTERS, "p0")
/** Which job: the `pick`-th existing one, or (rarely) one that does not exist. */
const pick = fc.oneof({ weight: 19, arbitrary: fc.nat(80) }, { weight: 1, arbitrary: fc.constant(-1) })
/** Whether the caller is the one the rule wants (mostly) or someone else. */
const rightCaller = fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) })

type Action =
  | { readonly t: "register"; readonly who: string; readonly bond: bigint; readonly kinds: readonly string[]; readonly price: bigint; readonly capacity: number }
  | { readonly t: "update"; readonly who: string; readonly price: bigint; readonly capacity: number }
  | { readonly t: "addBond"; readonly who: string; readonly amount: bigint }
  | { readonly t: "retire"; readonly who: string }
  | { readonly t: "withdrawBond"; readonly who: string }
  | { readonly t: "post"; readonly who: string; readonly kind: string; readonly units: bigint; readonly maxPrice: bigint; readonly deadlineIn: number }
  /** `provider`: the n-th provider still taking jobs, or a name. */
  | { readonly t: "assign"; readonly pick: number; readonly provider: number | string; readonly right: boolean }
  | { readonly t: "deliver"; readonly pick: number; readonly units: "rest" | "one" | bigint; readonly honest: boolean; readonly right: boolean }
  | { readonly t: "confirm"; readonly pick: number; readonly right: boolean }
  | { readonly t: "settle"; readonly pick: number }
  | { readonly t: "dispute"; readonly pick: number; readonly by: "requester" | "referee" | "stranger" }
  | { readonly t: "resolve"; readonly pick: number; readonly by: string; readonly signers: "quorum" | "v0" | "v1" | "none"; readonly snapshot: "latest" | "first" }
  | { readonly t: "snapshot" }
  | { readonly t: "noShow"; readonly pick: number; readonly right: boolean }
  | { readonly t: "refund"; readonly pick: number }
  | { readonly t: "econ"; readonly op: EconOp }

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      who: provider, bond: bondArb, price: priceArb, capacity: fc.constantFrom(1, 2, 3, 1, 2, 0),
      kinds: fc.constantFrom<readonly string[]>(["infer:mnist"], ["finetune:mnist"], [...KINDS], [...KINDS], [...KINDS], [], ["infer:mnist", "infer:mnist"]),
    }).map((a) => ({ t: "register" as const, ...a })),
  },
  { weight: 1, arbitrary: fc.record({ who: provider, price: priceArb, capacity: fc.constantFrom(1, 2, 0) }).map((a) => ({ t: "update" as const, ...a })) },
  { weight: 1, arbitrary: fc.record({ who: provider, amount: bondArb }).map((a) => ({ t: "addBond" as const, ...a })) },
  // Retiring is for good: mostly the provider that joins during the run.
  { weight: 1, arbitrary: fc.constantFrom("p2", "p2", "p2", "p1", "nobody").map((who) => ({ t: "retire" as const, who })) },
  { weight: 1, arbitrary: fc.constantFrom("p2", "p2", "p1", "nobody").map((who) => ({ t: "withdrawBond" as const, who })) },
  {
    weight: 5,
    arbitrary: fc.record({
      who: requester, kind: fc.constantFrom(...KINDS, ...KINDS, ""), units: fc.oneof(
        { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 12n }) },
        // Big jobs, delivered whole ("rest"), make notes around what the provider's bond answers for.
        { weight: 4, arbitrary: fc.bigInt({ min: 13n, max: 600n }) },
        { weight: 1, arbitrary: fc.constantFrom(0n, 1_000n) },
      ),
      maxPrice: priceArb, deadlineIn: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 10_000, max: 60 * 60_000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -5) }),
    }).map((a) => ({ t: "post" as const, ...a })),
  },
  {
    weight: 6,
    arbitrary: fc.record({ pick, provider: fc.oneof({ weight: 4, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: provider }), right: rightCaller })
      .map((a) => ({ t: "assign" as const, ...a })),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      pick, right: rightCaller, honest: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      units: fc.oneof(fc.constant<"rest">("rest"), fc.constant<"one">("one"), fc.bigInt({ min: -1n, max: 13n }), fc.bigInt({ min: 50n, max: 600n })),
    }).map((a) => ({ t: "deliver" as const, ...a })),
  },
  { weight: 3, arbitrary: fc.record({ pick, right: rightCaller }).map((a) => ({ t: "confirm" as const, ...a })) },
  { weight: 3, arbitrary: pick.map((p) => ({ t: "settle" as const, pick: p })) },
  { weight: 6, arbitrary: fc.record({ pick, by: fc.constantFrom("requester" as const, "requester" as const, "referee" as const, "stranger" as const) }).map((a) => ({ t: "dispute" as const, ...a })) },
  {
    weight: 5,
    arbitrary: fc.record({
      pick, by: fc.constantFrom("v0", "v1", "r0", "p0"), signers: fc.constantFrom("quorum" as const, "quorum" as const, "quorum" as const, "v0" as const, "v1" as const, "none" as const),
      snapshot: fc.constantFrom("latest" as const, "latest" as const, "latest" as const, "first" as const),
    }).map((a) => ({ t: "resolve" as const, ...a })),
  },
  { weight: 1, arbitrary: fc.constant({ t: "snapshot" as const }) },
  { weight: 2, arbitrary: fc.record({ pick, right: rightCaller }).map((a) => ({ t: "noShow" as const, ...a })) },
  { weight: 2, arbitrary: pick.map((p) => ({ t: "refund" as const, pick: p })) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.record({ from: fc.constantFrom("d0", "d1", "c1"), to: fc.constantFrom("d2", "c0"), amount: fc.bigInt({ min: 1n, max: 1_000n * T }) }).map((o): EconOp => ({ type: "transfer", ...o })),
      fc.record({ payer: fc.constantFrom("d0", "c1"), amount: fc.bigInt({ min: 1n, max: 100n * T }) }).map((o): EconOp => ({ type: "payFee", ...o })),
      fc.record({ pool: fc.constantFrom("v0", "v1"), evidenceId: fc.constantFrom("a", "b", "c") }).map((o): EconOp => ({ type: "slash", infraction: "downtime", infractionTime: -1, ...o })),
      fc.constantFrom("v0", "v1").map((operator): EconOp => ({ type: "unjail", operator })),
    ).map((op) => ({ t: "econ" as const, op })),
  },
)

/** Time steps: none, a moment, around the windows and timeouts, past deadlines. */
const dtArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 10_000 }) },
  { weight: 2, arbitrary: fc.constantFrom(4_999, 5_000, 29_999, 30_000, 59_999, 60_000, 300_000) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }).map((m) => m * 60_000) },
)
const stepArb = fc.record({ dt: dtArb, action: actionArb })

/** The test's own books: everything here is counted from receipts alone. */
interface Books {
  readonly balance: Map<string, bigint>
  readonly bond: Map<string, bigint>
  readonly jobs: Map<number, { requester: string; budget: bigint; units: bigint; paid: bigint; fees: bigint; returned: bigint; paidUnits: bigint }>
  /** "job/note" → what was delivered. */
  readonly notes: Map<string, { readonly provider: string; readonly units: bigint; readonly amount: bigint; readonly hash: string }>
  readonly paidNotes: Set<string>
  /** "job/note" frozen by the open dispute of each job. */
  readonly frozen: Map<number, readonly number[]>
}

type JobOf = ReturnType<Economy["jobs"]>[number]
type Want = (j: JobOf, now: number) => boolean
const state = (...states: readonly JobState[]): Want => (j) => states.includes(j.state)
const running = (s: JobState): Want => (j, now) => j.state === s && now < j.deadline
const withPending: Want = (j) => j.state === "assigned" && j.notes.some((n) => n.state === "pending")
/** The jobs an action wants (it picks among those 3 times out of 4, else among all). */
const WANTS: Partial<Record<Action["t"], Want>> = {
  assign: running("open"), deliver: running("assigned"), confirm: withPending, settle: withPending, dispute: withPending,
  resolve: state("disputed"), noShow: state("assigned"), refund: state("open", "assigned"),
}

const jobIdOf = (e: Economy, p: number, want: Want | undefined, now: number): number => {
  const all = e.jobs()
  const wanted = want === undefined || p % 4 === 3 ? all : all.filter((j) => want(j, now))
  const ids = (wanted.length > 0 ? wanted : all).map((j) => j.id)
  return p < 0 || ids.length === 0 ? 999 : ids[Math.floor(p / 4) % ids.length]!
}

/** Turn an action into an operation against the current state (the right caller, or a wrong one). */
const resolveAction = (e: Economy, a: Action, now: number): { readonly market: MarketOp } | { readonly econ: EconOp } | { readonly snapshot: true } => {
  switch (a.t) {
    case "register": return { market: { type: "registerProvider", provider: a.who, bond: a.bond, kinds: a.kinds, pricePerUnit: a.price, capacity: a.capacity } }
    case "update": return { market: { type: "updateProvider", provider: a.who, pricePerUnit: a.price, capacity: a.capacity } }
    case "addBond": return { market: { type: "addBond", provider: a.who, amount: a.amount } }
    case "retire": return { market: { type: "retireProvider", provider: a.who } }
    case "withdrawBond": return { market: { type: "withdrawBond", provider: a.who } }
    case "post": return { market: { type: "postJob", requester: a.who, kind: a.kind, units: a.units, maxPricePerUnit: a.maxPrice, deadline: now + a.deadlineIn } }
    case "econ": return { econ: a.op.type === "slash" ? { ...a.op, infractionTime: now } : a.op }
    case "snapshot": return { snapshot: true }
    default: break
  }
  const id = jobIdOf(e, a.pick, WANTS[a.t], now)
  const j = e.job(id)
  const requester = j?.requester ?? "r0"
  const other = requester === "r0" ? "r1" : "r0"
  switch (a.t) {
    case "assign": {
      const taking = e.providers().filter((p) => !p.retired)
      const who = typeof a.provider === "string" ? a.provider : taking[a.provider % Math.max(1, taking.length)]?.address ?? "p2"
      return { market: { type: "assignJob", job: id, provider: who, by: a.right ? requester : other } }
    }
    case "deliver": {
      const units = a.units === "rest" ? (j === undefined ? 1n : j.units - j.delivered) : a.units === "one" ? 1n : a.units
      const who = j?.provider ?? "p0"
      return { market: { type: "deliver", job: id, provider: a.right ? who : who === "p0" ? "p1" : "p0", units, resultHash: a.honest ? rightHash(id) : WRONG_HASH } }
    }
    case "confirm": return { market: { type: "confirm", job: id, by: a.right ? requester : other } }
    case "settle": return { market: { type: "settle", job: id } }
    case "dispute": return { market: { type: "dispute", job: id, by: a.by === "requester" ? requester : a.by === "referee" ? "v1" : other } }
    case "resolve": {
      // The referees re-execute: the provider is right iff every frozen result is the faithful one.
      const right = j === undefined || j.notes.filter((n) => n.state === "disputed").every((n) => n.resultHash === rightHash(id))
      const snap = a.snapshot === "first" ? e.committeeSnapshot(1)! : e.latestSnapshot()!
      const operators = a.signers === "quorum" ? quorumSigners(snap) : a.signers === "none" ? [] : snap.validators.some((v) => v.operator === a.signers) ? [a.signers] : []
      const signatures = j !== undefined && frozenNotes(j).length > 0 ? toyVerdictSignatures(snap, j, right, operators) : []
      return { market: { type: "resolveDispute", job: id, providerRight: right, snapshotId: snap.id, signatures, by: a.by } }
    }
    case "noShow": return { market: { type: "reclaimNoShow", job: id, by: a.right ? requester : other } }
    case "refund": return { market: { type: "refund", job: id } }
  }
}

const add = (m: Map<string, bigint>, k: string, d: bigint): void => void m.set(k, (m.get(k) ?? 0n) + d)

/** Book the payments of a receipt: each pays a delivered, unpaid note exactly its amount, split to the wei. */
const bookPayments = (b: Books, job: number, payments: readonly NotePayment[]): void => {
  const bj = b.jobs.get(job)!
  for (const p of payments) {
    const key = `${job}/${p.note}`
    const delivered = b.notes.get(key)
    expect(delivered, `job ${job} paid note ${p.note} that was never delivered`).toBeDefined()
    expect(b.paidNotes.has(key), `job ${job} note ${p.note} paid twice`).toBe(false)
    expect({ provider: p.provider, units: p.units, amount: p.amount }).toEqual({ provider: delivered!.provider, units: delivered!.units, amount: delivered!.amount })
    expect(p.toProvider + p.burnt + p.toStakers).toBe(p.amount)
    expect(p.fee).toBe(p.burnt + p.toStakers)
    b.paidNotes.add(key)
    add(b.balance, p.provider, p.toProvider)
    bj.paid += p.toProvider
    bj.fees += p.fee
    bj.paidUnits += p.units
  }
  expect(bj.paidUnits <= bj.units, `job ${job}: ${bj.paidUnits} units paid of ${bj.units}`).toBe(true)
}

/** Book one accepted receipt, checking what it claims against the books. */
const book = (b: Books, r: MarketReceipt, e: Economy): void => {
  switch (r.type) {
    case "registerProvider": add(b.balance, r.provider, -r.bond); add(b.bond, r.provider, r.bond); break
    case "addBond": add(b.balance, r.provider, -r.amount); add(b.bond, r.provider, r.amount); break
    case "withdrawBond": add(b.balance, r.provider, r.amount); add(b.bond, r.provider, -r.amount); break
    case "postJob":
      add(b.balance, r.requester, -r.budget)
      b.jobs.set(r.job, { requester: r.requester, budget: r.budget, units: e.job(r.job)!.units, paid: 0n, fees: 0n, returned: 0n, paidUnits: 0n })
      break
    case "deliver": {
      const n = e.job(r.job)!.notes.find((x) => x.id === r.note)!
      // The bond answers for every accepted note: no note above the cap, no provider below the minimum.
      const bond = b.bond.get(r.provider) ?? 0n
      expect(noteTooLarge(r.amount, bond, e.params), `job ${r.job}: a note of ${r.amount} accepted on a bond of ${bond}`).toBe(false)
      expect(bond >= marketConfig(e.params).minProviderBond, `job ${r.job}: a note accepted from ${r.provider} with a bond of ${bond}`).toBe(true)
      b.notes.set(`${r.job}/${r.note}`, { provider: r.provider, units: r.units, amount: r.amount, hash: n.resultHash })
      break
    }
    case "dispute": b.frozen.set(r.job, r.notes); break
    case "reclaimNoShow": add(b.bond, r.provider, -r.penalty); add(b.balance, b.jobs.get(r.job)!.requester, r.penalty); break
    case "resolveDispute": {
      // Only a quorum of a snapshot no older than the dispute's decides.
      const snap = e.committeeSnapshot(r.snapshotId)!
      expect(r.power >= snap.quorum && snap.quorum > 0n, `job ${r.job}: a verdict with ${r.power} of ${snap.totalPower} power`).toBe(true)
      expect(r.snapshotId >= e.job(r.job)!.disputeSnapshot).toBe(true)
      const frozen = b.frozen.get(r.job) ?? []
      b.frozen.delete(r.job)
      const refutable = frozen.some((id) => b.notes.get(`${r.job}/${id}`)!.hash !== rightHash(r.job))
      if (r.providerRight) {
        expect(r.slash).toBeUndefined()
        expect(r.payments.map((p) => p.note)).toEqual(frozen)
      } else {
        // Slashed only when re-execution refutes a frozen result: a confirmed provider never is.
        expect(refutable, `job ${r.job}: ${r.provider} slashed though every frozen result re-executes the same`).toBe(true)
        expect(r.refuted).toEqual(frozen)
        add(b.bond, r.provider, -r.slash!.slashed)
        add(b.balance, b.jobs.get(r.job)!.requester, r.slash!.toRequester)
      }
      break
    }
    default: break
  }
  if ("payments" in r) {
    bookPayments(b, r.job, r.payments)
    const bj = b.jobs.get(r.job)!
    bj.returned += r.returned
    add(b.balance, bj.requester, r.returned)
  }
}

/** Everything the books and the ledger must agree on after a step. */
const check = (e: Economy, b: Books): void => {
  expect(invariantViolations(e)).toEqual([])
  for (const a of PARTICIPANTS) expect(e.balanceOf(a), `balance of ${a}`).toBe(b.balance.get(a)!)
  let bonds = 0n
  for (const p of e.providers()) {
    expect(p.bond, `bond of ${p.address}`).toBe(b.bond.get(p.address) ?? 0n)
    expect(p.openJobs).toBe(e.jobs().filter((j) => j.provider === p.address && (j.state === "assigned" || j.state === "disputed")).length)
    bonds += p.bond
  }
  expect(e.balanceOf(MARKET_BONDS_ACCOUNT)).toBe(bonds)
  let escrow = 0n
  for (const j of e.jobs()) {
    const bj = b.jobs.get(j.id)!
    // The budget identity, to the wei, from the receipts alone.
    expect(bj.paid + bj.fees + bj.returned + j.escrow, `job ${j.id}: budget`).toBe(bj.budget)
    expect([j.paid, j.feeBurnt + j.feeToStakers, j.returned, j.paidUnits]).toEqual([bj.paid, bj.fees, bj.returned, bj.paidUnits])
    const sum = (f: (n: (typeof j.notes)[number]) => boolean) => j.notes.filter(f).reduce((t, n) => t + n.units, 0n)
    expect(j.delivered).toBe(sum((n) => n.state !== "refuted"))
    expect(j.paidUnits).toBe(sum((n) => n.state === "paid"))
    expect(j.delivered <= j.units).toBe(true)
    // The escrow can always pay what is owed on the job.
    const owed = j.notes.filter((n) => n.state === "pending" || n.state === "disputed").reduce((t, n) => t + n.amount, 0n)
    expect(j.escrow >= owed, `job ${j.id}: escrow ${j.escrow} < owed ${owed}`).toBe(true)
    if (j.state === "settled" || j.state === "expired") expect(j.escrow).toBe(0n)
    escrow += j.escrow
  }
  expect(e.balanceOf(MARKET_ESCROW_ACCOUNT)).toBe(escrow)
}

const start = (params: Params): { readonly e: Economy; readonly b: Books } => {
  const e = testEconomy(params)
  for (const op of SETUP) ok(e.apply(op, 0))
  for (const a of PARTICIPANTS) ok(e.apply({ type: "transfer", from: "reserve", to: a, amount: 100_000n * T }, 0))
  ok(e.takeSnapshot("r0", 0))
  const b: Books = { balance: new Map(PARTICIPANTS.map((a) => [a, 100_000n * T])), bond: new Map(), jobs: new Map(), notes: new Map(), paidNotes: new Set(), frozen: new Map() }
  // Two providers from the start, so jobs find someone; p2 registers (or fails to) during the run.
  book(b, ok(e.marketOp({ type: "registerProvider", provider: "p0", bond: 2_000n * T, kinds: [...KINDS], pricePerUnit: 1n * T, capacity: 3 }, 0)), e)
  book(b, ok(e.marketOp({ type: "registerProvider", provider: "p1", bond: 5_000n * T + 7n, kinds: ["infer:mnist"], pricePerUnit: 2n * T + 1n, capacity: 2 }, 0)), e)
  book(b, ok(e.marketOp({ type: "postJob", requester: "r0", kind: "infer:mnist", units: 300n, maxPricePerUnit: 3n * T, deadline: 600_000 }, 0)), e)
  return { e, b }
}

describe("compute market on the ledger (properties)", () => {
  it("keeps every budget whole to the wei, pays only delivered units once, slashes only refuted providers, refuses without change", () => {
    let accepted = 0
    let refusedCount = 0
    const seen = new Map<string, number>()
    fc.assert(
      fc.property(marketParamsArb, fc.array(stepArb, { minLength: 20, maxLength: 80, size: "max" }), (params, steps) => {
        ENV.tick()
        const { e, b } = start(params)
        let now = 0
        for (const { dt, action } of steps) {
          now += dt
          const resolved = resolveAction(e, action, now)
          const before = snapshotKey(e.snapshot())
          const r: Result.Result<unknown, MarketError | EconError | CommitteeError> =
            "market" in resolved ? e.marketOp(resolved.market, now, TEST_VERDICT_CTX) : "econ" in resolved ? e.apply(resolved.econ, now) : e.takeSnapshot("r0", now)
          if (Result.isFailure(r)) {
            refusedCount++
            seen.set(r.failure._tag, (seen.get(r.failure._tag) ?? 0) + 1)
            if (r.failure._tag === "MarketNoteTooLarge" && "market" in resolved && resolved.market.type === "deliver") {
              // Refused as too large only when it is: the amount and the largest allowed are the rule's.
              const j = e.job(resolved.market.job)!
              const bond = e.provider(j.provider!)!.bond
              const f = r.failure as Extract<MarketError, { _tag: "MarketNoteTooLarge" }>
              expect([f.amount, f.maxAmount, noteTooLarge(f.amount, bond, e.params)]).toEqual([resolved.market.units * j.pricePerUnit, maxNoteAmount(bond, e.params), true])
            }
            expect(snapshotKey(e.snapshot()), `refused ${r.failure._tag} changed the state`).toBe(before)
          } else if ("market" in resolved) {
            accepted++
            seen.set(resolved.market.type, (seen.get(resolved.market.type) ?? 0) + 1)
            book(b, r.success as MarketReceipt, e)
          }
          check(e, b)
        }
      }),
      ENV.params,
    )
    // The generators reach the interesting paths (a weak guard against a generator that only makes refusals).
    console.info(`MARKET: ${[...seen].sort().map(([k, n]) => `${k} ${n}`).join(", ")}`)
    expect(accepted).toBeGreaterThan(0)
    expect(refusedCount).toBeGreaterThan(0)
    // Per 400 runs about 56 disputes, 30 verdicts and 57 settlements are accepted (seeds 1–3): at 40 runs a
    // seed drew no dispute at all (1109584978); at 300 the expected count of the rarest is ~22, so none is
    // a broken generator, not chance.
    if (ENV.runs >= 300) for (const t of ["deliver", "confirm", "settle", "dispute", "resolveDispute", "reclaimNoShow", "refund"]) expect(seen.get(t) ?? 0, t).toBeGreaterThan(0)
  }, TIMEOUT)

  it("never refuses a provider that sizes its notes with maxNoteUnits, and always refuses one unit more", () => {
    fc.assert(
      fc.property(
        fc.record({
          p: fc.constantFrom(0, 0.001, 0.02, 0.1, 0.333, 0.5, 0.999, 1), s: fc.constantFrom(0, 0.01, 0.2, 0.777, 1), min: fc.constantFrom(0, 10, 1_000),
          extra: fc.bigInt({ min: 0n, max: 50_000n * T }), price: priceArb.filter((x) => x > 0n), max: fc.bigInt({ min: 0n, max: 3n * T }),
          units: fc.bigInt({ min: 1n, max: 400n }), chunk: fc.integer({ min: 1, max: 50 }),
        }),
        ({ p, s, min, extra, price, max, units, chunk }) => {
          ENV.tick()
          const params = Result.getOrThrow(resolveParams({ "market.verificationRate": p, "market.wrongResultSlash": s, "market.minProviderBond": min }))
          const e = testEconomy(params)
          for (const op of SETUP) ok(e.apply(op, 0))
          for (const a of ["p0", "r0"]) ok(e.apply({ type: "transfer", from: "reserve", to: a, amount: 1_000_000n * T }, 0))
          const bond = marketConfig(params).minProviderBond + extra
          ok(e.marketOp({ type: "registerProvider", provider: "p0", bond, kinds: ["infer:mnist"], pricePerUnit: price, capacity: 1 }, 0))
          const job = ok(e.marketOp({ type: "postJob", requester: "r0", kind: "infer:mnist", units, maxPricePerUnit: price + max, deadline: 60_000 }, 0)).job
          ok(e.marketOp({ type: "assignJob", job, provider: "p0", by: "r0" }, 0))
          const cap = maxNoteUnits(bond, price, params)
          if (cap === 0n) {
            // The bond answers for not even one unit at this price: every delivery is refused, with the cap.
            expect(e.marketOp({ type: "deliver", job, provider: "p0", units: 1n, resultHash: rightHash(job) }, 1)).toMatchObject({ failure: { _tag: "MarketNoteTooLarge", amount: price, maxAmount: maxNoteAmount(bond, params) } })
            return
          }
          // One unit more than the cap is refused (when there is a cap and the job has that many units left).
          if (cap !== undefined && cap < units) {
            expect(e.marketOp({ type: "deliver", job, provider: "p0", units: cap + 1n, resultHash: rightHash(job) }, 1)).toMatchObject({ failure: { _tag: "MarketNoteTooLarge" } })
          }
          const size = cap === undefined || BigInt(chunk) < cap ? BigInt(chunk) : cap
          let delivered = 0n
          for (let t = 1; delivered < units; t++) {
            const n = units - delivered < size ? units - delivered : size
            ok(e.marketOp({ type: "deliver", job, provider: "p0", units: n, resultHash: rightHash(job) }, t))
            delivered += n
          }
          expect(e.job(job)!.delivered).toBe(units)
        },
      ),
      ENV.params,
    )
  }, TIMEOUT)
})

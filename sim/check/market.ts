/**
 * The compute market (`expect.market`), judged on the one ledger at the end of the run:
 *  - `minSettled` (liveness): at least this many jobs settled (every unit delivered and paid);
 *  - `lostJobs` (correctness): at most this many jobs neither settled nor refunded although their
 *    life (deadline + two dispute windows) is over by the end;
 *  - `slashed` (correctness): each listed provider lost bond (no-show penalty or wrong-result slash),
 *    and no provider without a behaviour ever did;
 *  - `unpaid` (correctness): each listed provider was paid nothing;
 *  - `wrongPaid` (correctness): at most this many paid debit notes carry a result a re-execution refutes;
 *  - `budget` (correctness, whenever the market is expected): every job's budget = paid to providers +
 *    fees burnt + fees to stakers + returned + escrow left, to the wei, and the custody accounts hold
 *    exactly the jobs' escrows and the providers' bonds.
 */
import type { Economy } from "../../runtime/core/econ/index.ts"
import { MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT } from "../../runtime/core/econ/market.ts"
import type { JobView } from "../../runtime/core/market/index.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { wrongNotes, type Reexecute } from "../../runtime/actors/market/work.ts"
import type { Checker, Expectation } from "./expectation.ts"

export interface MarketExpectation {
  readonly minSettled?: number | undefined
  readonly lostJobs?: number | undefined
  readonly slashed?: readonly string[] | undefined
  readonly unpaid?: readonly string[] | undefined
  readonly wrongPaid?: number | undefined
}

export interface MarketProbe {
  readonly economy: () => Economy
  readonly providers: readonly string[]
  /** Providers and requesters that had a byzantine behaviour. */
  readonly byzantine: () => ReadonlySet<string>
  readonly reexecute: Reexecute
  /** The price each provider announces (base units): what a provider is paid above it is unearned. */
  readonly announced?: ReadonlyMap<string, bigint> | undefined
}

/** What the market did, for `--json` (tokens as numbers, to a millionth). */
export interface MarketMetrics {
  readonly marketJobs: number
  readonly marketSettled: number
  readonly marketExpired: number
  readonly marketLost: number
  readonly marketInFlight: number
  /** Paid to providers (after fees). */
  readonly marketPaid: number
  readonly marketFeesBurnt: number
  readonly marketFeesToStakers: number
  /** Taken from provider bonds (no-show penalties and wrong-result slashes). */
  readonly marketPenalties: number
  /** Providers that lost bond. */
  readonly marketSlashed: readonly string[]
  readonly marketDisputes: number
  readonly marketRefuted: number
  readonly marketWrongPaid: number
  /** Per provider: revenue ROI, (paid − bond lost) ÷ bond (no compute cost counted: not a profit). */
  readonly marketProviderRoi: Readonly<Record<string, number>>
  /** Per byzantine provider or requester: the ROI of its cheating (`cheatBooks`). */
  readonly marketCheatRoi: Readonly<Record<string, number>>
  /** The best ROI of cheating among the byzantine participants (the designer's worst case), null without one. */
  readonly marketAttackerRoi: number | null
}

/**
 * What a participant's cheating earned it, what it cost it, and the capital it put at risk (base units).
 * A provider is paid `unearned` for work it did not do — notes whose result a re-execution refutes, and
 * whatever the ledger paid above the price it announced — and loses `lost` from its bond (no-show
 * penalties, wrong-result slashes); its capital at risk is its bond before any of them. A requester's
 * `unearned` is work delivered to it and never paid for on a finished job (refuted notes excluded);
 * its capital is the budgets it escrowed; it loses nothing on the ledger.
 * The ROI of cheating, (unearned − lost) ÷ capital, compares with an honest participant at 0: an honest
 * provider is paid only for work it did and loses nothing, and its pay covers its compute (its margin
 * is not modelled, which counts in the cheat's favour — the cheat forgoes no margin on the jobs it is
 * shut out of). So ROI < 0 means cheating loses money whatever honest work costs.
 */
export interface CheatBooks { readonly unearned: bigint; readonly lost: bigint; readonly capital: bigint }

/** `who`'s cheating books on `economy` (zeros for an account that is neither provider nor requester). */
export const cheatBooks = (economy: Economy, who: string, reexecute: Reexecute, announced?: ReadonlyMap<string, bigint>): CheatBooks => {
  const jobs = economy.jobs()
  const provider = economy.provider(who)
  let unearned = 0n
  let capital = 0n
  let lost = 0n
  if (provider !== undefined) {
    capital += provider.bond + provider.penalized
    lost += provider.penalized
    const price = announced?.get(who)
    for (const j of jobs) {
      const mine = j.notes.filter((n) => n.provider === who && n.state === "paid")
      if (mine.length === 0) continue
      const gross = j.notes.filter((n) => n.state === "paid").reduce((s, n) => s + n.amount, 0n)
      const net = (n: (typeof mine)[number]) => (j.paid * n.amount) / gross
      const wrong = new Set(wrongNotes(j, ["paid"], reexecute))
      for (const n of mine) {
        if (wrong.has(n.id)) unearned += net(n)
        else if (price !== undefined && n.pricePerUnit > price) unearned += (net(n) * (n.pricePerUnit - price)) / n.pricePerUnit
      }
    }
  }
  for (const j of jobs) {
    if (j.requester !== who) continue
    capital += j.budget
    if (FINAL.has(j.state)) unearned += j.notes.filter((n) => n.state === "pending" || n.state === "disputed").reduce((s, n) => s + n.amount, 0n)
  }
  return { unearned, lost, capital }
}

/** (unearned − lost) ÷ capital, 0 without capital. */
export const cheatRoi = (b: CheatBooks): number => (b.capital === 0n ? 0 : asTokens(((b.unearned - b.lost) * TOKEN) / b.capital))

const asTokens = (x: bigint): number => Number((x * 1_000_000n) / TOKEN) / 1e6
const FINAL = new Set(["settled", "expired"])

/** The books of the market on `economy` at `now`. */
export const marketMetrics = (probe: MarketProbe, now: number): MarketMetrics => {
  const economy = probe.economy()
  const jobs = economy.jobs()
  const window = economy.params["market.disputeWindow"]
  const over = (j: JobView) => j.deadline + 2 * window <= now
  const lost = jobs.filter((j) => !FINAL.has(j.state) && over(j)).length
  const earned = new Map<string, bigint>()
  let wrongPaid = 0
  let disputes = 0
  let refuted = 0
  for (const j of jobs) {
    const wrong = new Set(wrongNotes(j, ["paid"], probe.reexecute))
    wrongPaid += wrong.size
    if (j.notes.some((n) => n.state === "refuted")) refuted++
    if (j.notes.some((n) => n.state === "refuted" || n.state === "disputed")) disputes++
  }
  // A provider's earnings are what the ledger paid it: the jobs' payments net of fees, attributed by note.
  for (const j of jobs) {
    const gross = j.notes.filter((n) => n.state === "paid").reduce((s, n) => s + n.amount, 0n)
    if (gross === 0n) continue
    for (const n of j.notes) if (n.state === "paid") earned.set(n.provider, (earned.get(n.provider) ?? 0n) + (j.paid * n.amount) / gross)
  }
  const providers = economy.providers()
  const roi: Record<string, number> = {}
  for (const p of providers) {
    const start = p.bond + p.penalized
    roi[p.address] = start === 0n ? 0 : asTokens(((earned.get(p.address) ?? 0n) - p.penalized) * TOKEN / start)
  }
  const cheat: Record<string, number> = {}
  for (const who of [...probe.byzantine()].sort()) cheat[who] = cheatRoi(cheatBooks(economy, who, probe.reexecute, probe.announced))
  const attackers = Object.values(cheat)
  const totals = economy.marketTotals()
  return {
    marketJobs: jobs.length,
    marketSettled: jobs.filter((j) => j.state === "settled").length,
    marketExpired: jobs.filter((j) => j.state === "expired").length,
    marketLost: lost,
    marketInFlight: jobs.filter((j) => !FINAL.has(j.state) && !over(j)).length,
    marketPaid: asTokens(totals.paid),
    marketFeesBurnt: asTokens(totals.feeBurnt),
    marketFeesToStakers: asTokens(totals.feeToStakers),
    marketPenalties: asTokens(providers.reduce((s, p) => s + p.penalized, 0n)),
    marketSlashed: providers.filter((p) => p.penalized > 0n).map((p) => p.address).sort(),
    marketDisputes: disputes,
    marketRefuted: refuted,
    marketWrongPaid: wrongPaid,
    marketProviderRoi: roi,
    marketCheatRoi: cheat,
    marketAttackerRoi: attackers.length === 0 ? null : Math.max(...attackers),
  }
}

/** Budget identity per job and custody = Σ escrows / Σ bonds, to the wei; the first breach found, or undefined. */
export const marketBooksProblem = (economy: Economy): string | undefined => {
  const jobs = economy.jobs()
  for (const j of jobs) {
    const sum = j.paid + j.feeBurnt + j.feeToStakers + j.returned + j.escrow
    if (sum !== j.budget) return `job ${j.id}: budget ${j.budget} ≠ paid ${j.paid} + burnt ${j.feeBurnt} + to stakers ${j.feeToStakers} + returned ${j.returned} + escrow ${j.escrow} (= ${sum})`
  }
  const escrow = jobs.reduce((s, j) => s + j.escrow, 0n)
  if (economy.balanceOf(MARKET_ESCROW_ACCOUNT) !== escrow) return `${MARKET_ESCROW_ACCOUNT} holds ${economy.balanceOf(MARKET_ESCROW_ACCOUNT)}, the jobs' escrows sum to ${escrow}`
  const bonds = economy.providers().reduce((s, p) => s + p.bond, 0n)
  if (economy.balanceOf(MARKET_BONDS_ACCOUNT) !== bonds) return `${MARKET_BONDS_ACCOUNT} holds ${economy.balanceOf(MARKET_BONDS_ACCOUNT)}, the providers' bonds sum to ${bonds}`
  return undefined
}

/** The market checker (yields nothing when the scenario expects nothing of the market). */
export const marketChecker = (expected: MarketExpectation | undefined, probe: MarketProbe | undefined): Checker => ({
  expectations: (end) => {
    if (expected === undefined || probe === undefined) return []
    const m = marketMetrics(probe, end.time)
    const out: Expectation[] = []
    const books = marketBooksProblem(probe.economy())
    out.push({ name: "market.budget", kind: "correctness", passed: books === undefined, detail: books ?? `every job's budget accounted for to the wei over ${m.marketJobs} jobs; custody = escrows and bonds` })
    if (expected.minSettled !== undefined) {
      out.push({ name: "market.settled", kind: "liveness", passed: m.marketSettled >= expected.minSettled, detail: `${m.marketSettled} of ${m.marketJobs} jobs settled (expected at least ${expected.minSettled}); ${m.marketExpired} expired, ${m.marketInFlight} still running` })
    }
    if (expected.lostJobs !== undefined) {
      out.push({ name: "market.lost", kind: "correctness", passed: m.marketLost <= expected.lostJobs, detail: `${m.marketLost} jobs neither settled nor refunded after their deadline and windows (expected at most ${expected.lostJobs})` })
    }
    if (expected.slashed !== undefined) {
      const missing = expected.slashed.filter((p) => !m.marketSlashed.includes(p))
      const honest = m.marketSlashed.filter((p) => !probe.byzantine().has(p))
      const list = m.marketSlashed.join(", ") || "none"
      out.push({
        name: "market.slashed", kind: "correctness", passed: missing.length === 0 && honest.length === 0,
        detail: missing.length > 0 ? `providers not slashed: ${missing.join(", ")} (slashed: ${list})` : honest.length > 0 ? `honest providers lost bond: ${honest.join(", ")}` : `providers slashed: ${list}; no honest one`,
      })
    }
    if (expected.unpaid !== undefined) {
      const paid = expected.unpaid.filter((p) => probe.economy().jobs().some((j) => j.notes.some((n) => n.provider === p && n.state === "paid")))
      out.push({ name: "market.unpaid", kind: "correctness", passed: paid.length === 0, detail: paid.length === 0 ? `paid nothing: ${expected.unpaid.join(", ")}` : `paid although expected unpaid: ${paid.join(", ")}` })
    }
    if (expected.wrongPaid !== undefined) {
      out.push({ name: "market.wrongPaid", kind: "correctness", passed: m.marketWrongPaid <= expected.wrongPaid, detail: `${m.marketWrongPaid} paid notes carry a refuted result (expected at most ${expected.wrongPaid}); ${m.marketRefuted} jobs had a result refuted` })
    }
    return out
  },
})

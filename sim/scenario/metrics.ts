/**
 * Economic metrics of a scenario run, read from the world's one ledger (the production `Economy`
 * every node's Chain port shares) and the replicas' validator sets: what honest participants earned, what each attacker gained or lost, how
 * concentrated stake and voting power are, and where the supply went. The runner feeds the probe
 * its telemetry and the start of every byzantine behaviour, and merges `finish()` into the report's
 * `metrics`. Memory is bounded: the supply series is decimated as it grows.
 */
import type { App } from "../../runtime/core/app/app.ts"
import type { Economy } from "../../runtime/core/econ/index.ts"
import type { SlashReceipt } from "../../runtime/core/econ/index.ts"
import { DAY_MS, YEAR_MS } from "../../runtime/core/duration.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"

/** What one byzantine node gained or lost from the start of its behaviour to the end of the run. */
export interface AttackerOutcome {
  readonly node: string
  readonly behavior: string
  /** Virtual time (ms) the behaviour started. */
  readonly since: number
  /** Tokens it had staked when the behaviour started. */
  readonly stakeAtRisk: number
  /** Rewards it earned while byzantine (tokens). */
  readonly rewards: number
  /** Stake it lost while byzantine (tokens, slashes). */
  readonly stakeLost: number
  /** rewards − stakeLost. */
  readonly profit: number
  /** profit / stakeAtRisk (not annualised: the return of the attack over the run). */
  readonly roi: number
  /**
   * What honest peers in the same role (validators for a validator, bonded contributors for a
   * trainer) earned per token of stake over the same time (their rewards ÷ their stake); null
   * when it has no honest peer.
   */
  readonly peerReturn: number | null
  /** roi − peerReturn: what the attack earned beyond honest play with the same stake (its opportunity cost counted). */
  readonly excessRoi: number
}

/** One point of the supply series. */
export interface SupplyPoint {
  readonly t: number
  readonly height: number
  /** minted − burnt (tokens). */
  readonly supply: number
  readonly burnt: number
  readonly insurancePool: number
}

export interface EconomicMetrics {
  /** Virtual time (ms) the yields are measured over: the reference replica's last block. */
  readonly span: number
  /** Mean return of honest validators over the run, not annualised (rewards / genesis stake); null if none. */
  readonly honestReturn: number | null
  /** Mean rewards (tokens) an honest validator earned over the run; null if none. */
  readonly honestRewards: number | null
  /**
   * Mean annualised yield (rewards / stake × year / elapsed virtual time) of honest validators; null if none or no time passed.
   * An extrapolation when `span` < APR_MIN_SPAN_MS: the human report then gives `honestReturn` and `honestRewards` instead.
   */
  readonly honestApr: number | null
  /** The lowest honest validator's annualised yield. */
  readonly honestAprMin: number | null
  /** Mean annualised yield of honest contributors' bonds; null when no contributor bonded. */
  readonly contributorApr: number | null
  /** Mean return of honest contributors' bonds since each pool was created, not annualised; null when no contributor bonded. */
  readonly contributorReturn: number | null
  readonly attackers: readonly AttackerOutcome[]
  /** The best ROI among the attackers (the designer's worst case); null without attackers. */
  readonly attackerRoi: number | null
  /** The best excess ROI (beyond honest peers' return) among the attackers; null without attackers. */
  readonly attackerExcessRoi: number | null
  /** Sum of the attackers' profits (tokens); null without attackers. */
  readonly attackerProfit: number | null
  /** Gini coefficient of the bonded stake of the validator pools (0 = equal, → 1 = one holds all). */
  readonly stakeGini: number
  /** Fewest validators of the active set whose voting power can stop a quorum (> total − quorum). */
  readonly nakamoto: number
  /** minted − burnt at the end (tokens). */
  readonly supply: number
  readonly burnt: number
  readonly insurancePool: number
  /** Paid into the insurance pool by slashes, and paid out to delegators (tokens). */
  readonly insurancePaidIn: number
  readonly insurancePayouts: number
  readonly totalSlashed: number
  /** Rewards released to stakers over the run (tokens). */
  readonly rewardsFunded: number
  /** Supply, burnt and insurance pool over virtual time, at most SERIES_POINTS points. */
  readonly supplySeries: readonly SupplyPoint[]
}

const SERIES_POINTS = 64
const TOKEN_DIGITS = 10n ** 6n

/** Base units → tokens as a float (exact to 1e-12 tokens, enough for plots and ratios). */
export const toTokens = (amount: bigint): number => Number(amount / TOKEN_DIGITS) / 1e12

/** Gini coefficient of non-negative values (0 for an empty or all-zero list). */
export const gini = (values: readonly number[]): number => {
  const xs = values.filter((x) => x > 0).sort((a, b) => a - b)
  const n = values.length
  const total = xs.reduce((s, x) => s + x, 0)
  if (n === 0 || total === 0) return 0
  // Zeros sort first and contribute nothing to the weighted sum; they still count in n.
  const offset = n - xs.length
  const weighted = xs.reduce((s, x, i) => s + (offset + i + 1) * x, 0)
  return (2 * weighted) / (n * total) - (n + 1) / n
}

/** Fewest of `powers` (largest first) whose sum exceeds `total − quorum`, i.e. can withhold a quorum. */
export const nakamoto = (powers: readonly bigint[], quorum: bigint): number => {
  const total = powers.reduce((s, p) => s + p, 0n)
  const sorted = [...powers].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
  let sum = 0n
  for (const [i, p] of sorted.entries()) {
    sum += p
    if (sum > total - quorum) return i + 1
  }
  return sorted.length
}

/**
 * The shortest run whose yield is reported as an APR: 7 days of virtual time. Annualising multiplies
 * the run's return by a year ÷ its span: 52× at a week, but ~700,000× for a 45-second scenario, where
 * one block's rewards or a one-off (the first epoch, a slash's redistribution) is blown up into a
 * yearly rate no staker would see. A week is also the shortest span staking yields are quoted over.
 * Shorter runs report what was earned (tokens and the return over the run) instead.
 */
export const APR_MIN_SPAN_MS = 7 * DAY_MS

/** Whether a run of `spanMs` virtual time is long enough to report its yield as an APR. */
export const aprMeaningful = (spanMs: number): boolean => spanMs >= APR_MIN_SPAN_MS

/**
 * An attack pays when its ROI exceeds this fraction of the stake at risk. 1e-4 is the smallest
 * slash the defaults impose (`slashing.downtimeFraction`) and about nine hours of a 10 % yield:
 * a smaller return (the downtime sweep's +5.4e-7 is 2.6 minutes of yield before the judgement) is
 * break-even at that scale, not a reason to change a parameter.
 */
export const PAYS_TOLERANCE = 1e-4

/** Whether an attack with return `roi` (over the stake at risk) pays: more than PAYS_TOLERANCE. */
export const pays = (roi: number): boolean => roi > PAYS_TOLERANCE

/** Return on the stake at risk: (rewards − lost) / stake. */
export const roi = (rewards: number, stakeLost: number, stakeAtRisk: number): number =>
  stakeAtRisk > 0 ? (rewards - stakeLost) / stakeAtRisk : 0

/** a / b as a float, exact to 1e-18 (both in base units; b > 0). */
const ratio = (a: bigint, b: bigint): number => Number((a * 10n ** 18n) / b) / 1e18

/** Annualised yield of `earned` on `stake` over `elapsedMs` of virtual time. */
export const annualise = (earned: number, stake: number, elapsedMs: number): number | null =>
  stake > 0 && elapsedMs > 0 ? (earned / stake) * (YEAR_MS / elapsedMs) : null

/** Rewards an account has earned and not claimed (scenario accounts never claim). */
/** What an account earned: its rewards still to claim, and what epoch reports paid it from the contributors' pot (straight to its balance). */
const earnedOf = (view: EconomyView, id: string): bigint => view.economy.pendingRewards(id).total + (view.contributorPaid?.(id) ?? 0n)

/** Tokens an account has at stake: its positions plus what is still unbonding. */
const stakeOf = (economy: Economy, id: string): bigint =>
  economy.positions(id).reduce((s, p) => s + p.tokens, 0n) + economy.unbonding(id).reduce((s, u) => s + u.amount, 0n)

interface AttackStart {
  readonly node: string
  readonly behavior: string
  readonly since: number
  readonly earned: bigint
  readonly stake: bigint
  /** Every pool operator's earnings and stake at the start, by kind of pool (for peer returns). */
  readonly peers: ReadonlyMap<string, { readonly kind: "validator" | "contributor"; readonly earned: bigint; readonly stake: bigint }>
}

/** Where the probe reads: the node ids, their running replicas, and the ledger. */
export interface EconomyView {
  readonly ids: readonly string[]
  app(id: string): App | undefined
  readonly economy: Economy
  /** Every slash the ledger made so far. */
  readonly slashes: readonly SlashReceipt[]
  /** What epoch reports paid an account from the contributors' pot so far (the in-memory ledger's `contributorPaid`). */
  contributorPaid?(account: string): bigint
}

export class EconomicProbe {
  readonly #view: EconomyView
  readonly #starts: AttackStart[] = []
  readonly #genesisStake = new Map<string, bigint>()
  /** Slashed amounts by `height/pool/infraction`, counted once whichever replica reported them. */
  readonly #slashes = new Map<string, bigint>()
  readonly #heightOf = new Map<string, number>()
  #series: SupplyPoint[] = []
  #stride = 1
  #sampledHeight = 0

  constructor(view: EconomyView) {
    this.#view = view
  }

  /** The replica furthest ahead among `among` (default: every node), or undefined if none runs. */
  #reference(among: (id: string) => boolean = () => true): App | undefined {
    let best: App | undefined
    for (const id of this.#view.ids) {
      const app = this.#view.app(id)
      if (app !== undefined && among(id) && (best === undefined || app.height > best.height)) best = app
    }
    return best
  }

  /** Remember every validator's genesis stake (call once the nodes have started). */
  started(): void {
    const app = this.#reference()
    if (app === undefined) return
    for (const id of this.#view.ids) this.#genesisStake.set(id, stakeOf(this.#view.economy, id))
    this.#sample(app, 0)
  }

  /** The runner's telemetry: commits drive the supply series, slashes are counted once. */
  observe(e: TelemetryEvent): void {
    if (e.kind === "block.committed") {
      const h = e.data.height as number
      this.#heightOf.set(e.node, h)
      if (h > this.#sampledHeight) {
        this.#sampledHeight = h
        const app = this.#view.app(e.node)
        if (app !== undefined && h % this.#stride === 0) this.#sample(app, e.at)
      }
    } else if (e.kind === "stake.slashed") {
      const key = `${this.#heightOf.get(e.node) ?? 0}/${String(e.data.pool)}/${String(e.data.infraction)}`
      if (!this.#slashes.has(key)) this.#slashes.set(key, e.data.amount as bigint)
    }
  }

  #sample(app: App, t: number): void {
    const s = this.#view.economy.supply()
    this.#series.push({ t, height: app.height, supply: toTokens(s.minted - s.burnt), burnt: toTokens(s.burnt), insurancePool: toTokens(s.insurancePool) })
    if (this.#series.length >= 2 * SERIES_POINTS) {
      this.#series = this.#series.filter((_, i) => i % 2 === 0)
      this.#stride *= 2
    }
  }

  /** A byzantine behaviour starts on `nodes` at virtual time `at`: its profit is counted from here. */
  attackStarted(nodes: readonly string[], behavior: string, at: number): void {
    const app = this.#reference()
    if (app === undefined) return
    const peers = new Map(this.#view.economy.pools().map((p) => [p.operator, { kind: p.kind, earned: earnedOf(this.#view, p.operator), stake: stakeOf(this.#view.economy, p.operator) }] as const))
    for (const node of nodes) {
      if (this.#starts.some((s) => s.node === node && s.behavior === behavior)) continue
      this.#starts.push({ node, behavior, since: at, earned: earnedOf(this.#view, node), stake: stakeOf(this.#view.economy, node), peers })
    }
  }

  /** The metrics at the end of the run; `byzantine` are the nodes that misbehaved at some point. */
  finish(byzantine: ReadonlySet<string>, now: number): EconomicMetrics {
    const app = this.#reference((id) => !byzantine.has(id)) ?? this.#reference()
    if (app === undefined) return emptyMetrics()
    const economy = this.#view.economy
    const elapsed = app.lastTime
    const validatorPools = economy.pools().filter((p) => p.kind === "validator")

    const honest = validatorPools
      .filter((p) => !byzantine.has(p.operator))
      .map((p) => ({ earned: toTokens(earnedOf(this.#view, p.operator)), stake: toTokens(this.#genesisStake.get(p.operator) ?? stakeOf(this.#view.economy, p.operator)) }))
    const honestYields = honest.map((h) => annualise(h.earned, h.stake, elapsed)).filter((x): x is number => x !== null)
    const honestReturns = honest.filter((h) => h.stake > 0).map((h) => h.earned / h.stake)
    const contributors = economy.pools()
      .filter((p) => p.kind === "contributor" && !byzantine.has(p.operator))
      .map((p) => ({ earned: toTokens(earnedOf(this.#view, p.operator)), stake: toTokens(stakeOf(this.#view.economy, p.operator)), since: elapsed - p.createdAt }))
    const contributorYields = contributors.map((c) => annualise(c.earned, c.stake, c.since)).filter((x): x is number => x !== null)
    const contributorReturns = contributors.filter((c) => c.stake > 0 && c.since > 0).map((c) => c.earned / c.stake)

    const attackers = this.#starts.map((s): AttackerOutcome => {
      const rewards = toTokens(earnedOf(this.#view, s.node) - s.earned)
      const stakeLost = toTokens(s.stake - stakeOf(this.#view.economy, s.node))
      const stakeAtRisk = toTokens(s.stake)
      const kind = s.peers.get(s.node)?.kind ?? (economy.pool(s.node)?.kind === "validator" ? "validator" : "contributor")
      let peerEarned = 0n
      let peerStake = 0n
      for (const [id, p] of s.peers) {
        if (p.kind !== kind || byzantine.has(id) || p.stake === 0n) continue
        peerEarned += earnedOf(this.#view, id) - p.earned
        peerStake += p.stake
      }
      const peerReturn = peerStake === 0n ? null : ratio(peerEarned, peerStake)
      const r = roi(rewards, stakeLost, stakeAtRisk)
      // In base units, so that equal returns give exactly 0 (not float noise of either sign).
      const profit = earnedOf(this.#view, s.node) - s.earned - (s.stake - stakeOf(this.#view.economy, s.node))
      const excessRoi = s.stake === 0n ? -(peerReturn ?? 0) : peerStake === 0n ? r : ratio(profit * peerStake - peerEarned * s.stake, s.stake * peerStake)
      return { node: s.node, behavior: s.behavior, since: s.since, stakeAtRisk, rewards, stakeLost, profit: rewards - stakeLost, roi: r, peerReturn, excessRoi }
    })

    const set = app.validatorSet()
    const supply = economy.supply()
    const insurance = economy.insuranceTotals()
    const last = this.#series.at(-1)
    const series = last !== undefined && last.height === app.height ? this.#series : [...this.#series, {
      t: now, height: app.height, supply: toTokens(supply.minted - supply.burnt), burnt: toTokens(supply.burnt), insurancePool: toTokens(supply.insurancePool),
    }]
    const mean = (xs: readonly number[]) => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length)
    return {
      span: elapsed,
      honestReturn: mean(honestReturns),
      honestRewards: mean(honest.map((h) => h.earned)),
      honestApr: mean(honestYields),
      honestAprMin: honestYields.length === 0 ? null : Math.min(...honestYields),
      contributorApr: mean(contributorYields),
      contributorReturn: mean(contributorReturns),
      attackers,
      attackerRoi: attackers.length === 0 ? null : Math.max(...attackers.map((a) => a.roi)),
      attackerExcessRoi: attackers.length === 0 ? null : Math.max(...attackers.map((a) => a.excessRoi)),
      attackerProfit: attackers.length === 0 ? null : attackers.reduce((s, a) => s + a.profit, 0),
      stakeGini: gini(validatorPools.map((p) => toTokens(p.tokens))),
      nakamoto: nakamoto(set.validators.map((v) => v.power), set.quorum),
      supply: toTokens(supply.minted - supply.burnt),
      burnt: toTokens(supply.burnt),
      insurancePool: toTokens(supply.insurancePool),
      insurancePaidIn: toTokens(insurance.paidIn),
      insurancePayouts: toTokens(insurance.paidOut),
      totalSlashed: toTokens(this.#view.slashes.reduce((s, x) => s + x.totalSlashed, 0n)),
      rewardsFunded: toTokens(economy.rewardTotals().funded),
      supplySeries: series,
    }
  }
}

const emptyMetrics = (): EconomicMetrics => ({
  span: 0, honestReturn: null, honestRewards: null, honestApr: null, honestAprMin: null, contributorApr: null, contributorReturn: null, attackers: [], attackerRoi: null, attackerExcessRoi: null, attackerProfit: null, stakeGini: 0, nakamoto: 0,
  supply: 0, burnt: 0, insurancePool: 0, insurancePaidIn: 0, insurancePayouts: 0, totalSlashed: 0, rewardsFunded: 0, supplySeries: [],
})

const pct = (x: number | null): string => (x === null ? "–" : `${(x * 100).toPrecision(3)}%`)
const exp = (x: number | null): string => (x === null ? "–" : x === 0 ? "0" : x.toExponential(2))

/** A span of virtual time, short: 45.3s, 12.5min, 3.2h, 9.1d. */
const spanText = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : ms < 3_600_000 ? `${(ms / 60_000).toFixed(1)}min` : ms < DAY_MS ? `${(ms / 3_600_000).toFixed(1)}h` : `${(ms / DAY_MS).toFixed(1)}d`

/** The yields: an APR when the run lasted APR_MIN_SPAN_MS or more, else what was earned over the run. */
const yields = (m: EconomicMetrics): string[] => {
  if (aprMeaningful(m.span)) {
    return [`honest APR ${pct(m.honestApr)}`, ...(m.contributorApr !== null ? [`contributor APR ${pct(m.contributorApr)}`] : [])]
  }
  const rewards = m.honestRewards === null ? "" : `, ${m.honestRewards.toPrecision(3)} tokens each`
  return [
    `honest return ${exp(m.honestReturn)} of stake over ${spanText(m.span)}${rewards}`,
    ...(m.contributorReturn !== null ? [`contributor return ${exp(m.contributorReturn)}`] : []),
    `no APR: runs under ${APR_MIN_SPAN_MS / DAY_MS} days are not annualised`,
  ]
}

/** One line for the human report: yields, each attacker's ROI (and whether it pays), concentration, supply. */
export const formatEconomics = (m: EconomicMetrics): string =>
  [
    ...yields(m),
    ...m.attackers.map((a) => {
      const judged = a.peerReturn === null ? a.roi : a.excessRoi
      return `${a.node} (${a.behavior}) ROI ${a.roi.toExponential(2)}${a.peerReturn === null ? "" : ` (excess ${a.excessRoi.toExponential(2)})`} (profit ${a.profit.toFixed(2)}, ${pays(judged) ? "pays" : "does not pay"})`
    }),
    `stake Gini ${m.stakeGini.toFixed(3)}`, `Nakamoto ${m.nakamoto}`, `burnt ${m.burnt}`, `slashed ${m.totalSlashed}`, `insurance ${m.insurancePool}`,
  ].join(", ")

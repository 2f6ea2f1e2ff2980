/** What an economy run produced: supply, yields by lock tier, slashes, insurance, validators. */
import type { SnapshotFrom } from "xstate"
import { DAY_MS, YEAR_MS } from "../../runtime/core/duration.ts"
import type { Address, Economy, LockTier, PoolId, SlashReceipt, SupplyBreakdown } from "../../runtime/core/econ/index.ts"
import { WAD } from "../../runtime/core/units.ts"
import type { stakingMachine } from "../../runtime/machines/staking.ts"
import type { Trace } from "../kernel/trace.ts"
import type { EconomyRunConfig } from "./config.ts"

/** What the run's agents saw, for the report. */
export interface RunLedger {
  readonly applied: Record<string, number>
  readonly rejected: Record<string, number>
  /** Rewards and insurance claimed, by owner. */
  readonly claimed: Map<Address, bigint>
  readonly initialStake: Map<number, { owner: Address; pool: PoolId; amount: bigint; tier: LockTier; at: number }>
  /** Positions that unbonded (partly or fully) during the run. */
  readonly exited: Set<number>
  readonly slashes: SlashReceipt[]
  fees: bigint
  emitted: bigint
}

export interface TierYield {
  readonly tier: LockTier
  readonly owners: number
  /** Rewards over stake-years of delegations that stayed bonded to unslashed validators. */
  readonly apr: number
}

export interface EconomyReport {
  readonly seed: number
  readonly days: number
  readonly epochMs: number
  readonly traceHash: string
  readonly events: number
  readonly supply: SupplyBreakdown
  /** minted = balances + bonded + unbonding + rewardPool + insurancePool + burnt, to the wei. */
  readonly supplyConserved: boolean
  readonly fees: bigint
  readonly emitted: bigint
  readonly slashes: ReadonlyArray<{ readonly pool: PoolId; readonly infraction: string; readonly amount: bigint; readonly toInsurance: bigint; readonly insurancePaid: bigint; readonly tombstoned: boolean; readonly day: number }>
  readonly insurance: { readonly paidIn: bigint; readonly paidOut: bigint; readonly claimed: bigint; readonly available: bigint }
  readonly yields: readonly TierYield[]
  readonly validators: ReadonlyArray<{ readonly id: string; readonly status: string; readonly tokens: bigint; readonly delegators: number; readonly commission: number; readonly share: number }>
  readonly operations: { readonly applied: Record<string, number>; readonly rejected: Record<string, number> }
  /** Staking machines by top-level stake state at the end. */
  readonly positionStates: Record<string, number>
}

/** a / b as a number (0 when b is 0), to `scale` precision. */
export const ratio = (a: bigint, b: bigint, scale = 1_000_000n): number => (b === 0n ? 0 : Number((a * scale) / b) / Number(scale))

export const buildReport = (input: {
  config: EconomyRunConfig
  economy: Economy
  ledger: RunLedger
  trace: Trace
  machines: ReadonlyArray<SnapshotFrom<typeof stakingMachine>>
}): EconomyReport => {
  const { config, economy, ledger, trace } = input
  const supply = economy.supply()
  const sum = supply.balances + supply.bonded + supply.unbonding + supply.rewardPool + supply.insurancePool + supply.burnt
  const slashedPools = new Set(ledger.slashes.map((s) => s.pool))

  // Honest yield: owners whose delegations all have one lock tier, never unbonded and sit with
  // validators never slashed; APR = rewards earned / stake-years bonded.
  const end = config.days * DAY_MS
  const owners = new Map<Address, { tier: LockTier; stakeMs: bigint; honest: boolean }>()
  for (const [pos, s] of ledger.initialStake) {
    if (s.pool === s.owner || s.pool.startsWith("contrib:")) continue
    const o = owners.get(s.owner) ?? { tier: s.tier, stakeMs: 0n, honest: true }
    o.honest &&= o.tier === s.tier && !ledger.exited.has(pos) && !slashedPools.has(s.pool)
    o.stakeMs += s.amount * BigInt(end - s.at)
    owners.set(s.owner, o)
  }
  const byTier = new Map<LockTier, { stakeYears: bigint; earned: bigint; n: number }>()
  for (const [owner, o] of owners) {
    if (!o.honest) continue
    const earned = (ledger.claimed.get(owner) ?? 0n) + economy.pendingRewards(owner).rewards
    const t = byTier.get(o.tier) ?? { stakeYears: 0n, earned: 0n, n: 0 }
    byTier.set(o.tier, { stakeYears: t.stakeYears + o.stakeMs / BigInt(YEAR_MS), earned: t.earned + earned, n: t.n + 1 })
  }
  const yields = [...byTier.entries()].sort((a, b) => a[0] - b[0]).map(([tier, t]) => ({ tier, owners: t.n, apr: ratio(t.earned, t.stakeYears) }))

  const pools = economy.pools().filter((p) => p.kind === "validator")
  const bonded = pools.reduce((s, p) => s + (p.jailed || p.tombstoned ? 0n : p.tokens), 0n)
  const validators = pools.map((p) => ({
    id: p.id,
    status: p.tombstoned ? "tombstoned" : p.jailed ? "jailed" : "active",
    tokens: p.tokens,
    delegators: new Set(economy.positions().filter((x) => x.pool === p.id && x.owner !== p.operator).map((x) => x.owner)).size,
    commission: ratio(p.commission, WAD),
    share: p.jailed || p.tombstoned ? 0 : ratio(p.tokens, bonded),
  }))

  const positionStates: Record<string, number> = {}
  for (const snap of input.machines) {
    const v = snap.value as { stake: string | Record<string, string> }
    const state = typeof v.stake === "string" ? v.stake : Object.keys(v.stake)[0]!
    positionStates[state] = (positionStates[state] ?? 0) + 1
  }
  const ins = economy.insuranceTotals()
  return {
    seed: config.seed,
    days: config.days,
    epochMs: config.epochMs,
    traceHash: trace.hash(),
    events: trace.count,
    supply,
    supplyConserved: sum === supply.minted,
    fees: ledger.fees,
    emitted: ledger.emitted,
    slashes: ledger.slashes.map((s) => ({
      pool: s.pool, infraction: s.infraction, amount: s.totalSlashed, toInsurance: s.toInsurance, insurancePaid: s.insurancePaid,
      tombstoned: s.tombstoned, day: Math.floor(s.infractionTime / DAY_MS),
    })),
    insurance: { paidIn: ins.paidIn, paidOut: ins.paidOut, claimed: ins.claimed, available: ins.available },
    yields,
    validators,
    operations: { applied: ledger.applied, rejected: ledger.rejected },
    positionStates,
  }
}

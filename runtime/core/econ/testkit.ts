/**
 * Test support for the economy (used by the *.test.ts files beside it, and reusable by the
 * simulator's checkers): a small genesis, fast-check arbitraries of operation sequences with random
 * timing, and the structural invariants every reachable state must satisfy.
 */
import fc from "fast-check"
import { Result } from "effect"
import { DAY_MS } from "../duration.ts"
import { DEFAULT_PARAMS, resolveParams, type Params } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, mulWad } from "../units.ts"
import { econConfig } from "./config.ts"
import { Economy } from "./economy.ts"
import type { EconOp } from "./ops.ts"
import { poolWeightOf } from "./rewards.ts"
import { CONTRIBUTOR_PREFIX, type EconSnapshot, type LockTier } from "./state.ts"

export const RESERVE = "reserve"
export const VALIDATORS = ["v0", "v1", "v2"] as const
export const CONTRIBUTORS = ["c0", "c1"] as const
export const DELEGATORS = ["d0", "d1", "d2"] as const
export const ACTORS: readonly string[] = [...VALIDATORS, ...CONTRIBUTORS, ...DELEGATORS, RESERVE]
/** Each non-reserve actor's genesis balance. */
export const ACTOR_BALANCE = 1_000_000n * TOKEN

/** Genesis: every actor gets ACTOR_BALANCE, the reserve the rest of TOTAL_SUPPLY. */
export const testAllocations = (): Array<{ address: string; amount: bigint }> => {
  const others = ACTORS.filter((a) => a !== RESERVE)
  return [
    ...others.map((address) => ({ address, amount: ACTOR_BALANCE })),
    { address: RESERVE, amount: TOTAL_SUPPLY - ACTOR_BALANCE * BigInt(others.length) },
  ]
}

/** A fresh economy over `testAllocations()` at time `now`. */
export const testEconomy = (params: Params = DEFAULT_PARAMS, now = 0): Economy =>
  Result.getOrThrow(Economy.genesis(testAllocations(), params, now))

/** Unwrap a success, or throw the error's message (so a test failure says what was refused). */
export const ok = <A, E extends { message: string; _tag: string }>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`expected success, got ${r.failure._tag}: ${r.failure.message}`)
  return r.success
}

/** Unwrap a failure's tag (throws on success). */
export const failTag = <A, E extends { _tag: string }>(r: Result.Result<A, E>): string => {
  if (Result.isSuccess(r)) throw new Error(`expected a failure, got success: ${String(r.success)}`)
  return r.failure._tag
}

// ---------------------------------------------------------------- arbitraries

export const tierArb: fc.Arbitrary<LockTier> = fc.constantFrom<LockTier>(0, 30, 90, 180, 365)

/** Random but valid economic parameters (the ones the economy reads), within the constitution's bounds. */
export const paramsArb: fc.Arbitrary<Params> = fc
  .record({
    "slashing.doubleSignFraction": fc.constantFrom(0.01, 0.05, 0.333, 1),
    "slashing.downtimeFraction": fc.constantFrom(0, 0.0001, 0.01, 0.05),
    "slashing.downtimeJailDuration": fc.constantFrom("1m", "10m", "1d"),
    "staking.unbondingPeriod": fc.constantFrom("1h", "3d", "21d"),
    "staking.insuranceFraction": fc.constantFrom(0, 0.1, 0.37, 0.5),
    "staking.insuranceCoverage": fc.constantFrom(0, 0.5, 0.999, 1),
    "fees.burnFraction": fc.constantFrom(0, 0.3, 0.9),
    "staking.maxCommission": fc.constantFrom(0.1, 0.25, 0.5),
    mults: fc.constantFrom([1.1, 1.25, 1.5, 2], [1, 1, 1, 1], [1.5, 2, 2.5, 3], [1.01, 1.333, 1.777, 2.999]),
  })
  .map(({ mults, ...rest }) => Result.getOrThrow(resolveParams({
    ...rest,
    "staking.lockMultiplier30d": mults[0], "staking.lockMultiplier90d": mults[1],
    "staking.lockMultiplier180d": mults[2], "staking.lockMultiplier365d": mults[3],
  })))

/** Amounts: mostly sensible, sometimes zero, negative, dust, or more than anyone has. */
export const amountArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 30_000n }).map((t) => t * TOKEN) },
  { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 50_000n * TOKEN }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n, 1n, 7n, 5_000_000n * TOKEN) },
)

/** Time advances: none, a few ms, around jail durations, around unbonding periods, past a year's lock. */
export const dtArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 120_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 48 }).map((h) => h * 3_600_000) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }).map((d) => d * DAY_MS) },
  { weight: 1, arbitrary: fc.constantFrom(91 * DAY_MS, 181 * DAY_MS, 366 * DAY_MS) },
)

/** An unbond amount relative to the position: all of it, a part, or a raw amount. */
export type UnbondAmount = { readonly kind: "all" } | { readonly kind: "part"; readonly per: number } | { readonly kind: "raw"; readonly amount: bigint }

/** An operation as generated: unbond amounts and slash times are resolved against the state. */
export type OpSpec =
  | { readonly type: "op"; readonly op: EconOp }
  /** `owner: null` = the position's own owner; `position` picks among existing ids when `pick`. */
  | { readonly type: "unbond"; readonly owner: string | null; readonly position: number; readonly pick: boolean; readonly amount: UnbondAmount }
  /** `owner: null` = someone with unbonding entries (the `pick`-th). */
  | { readonly type: "withdraw"; readonly owner: string | null; readonly pick: number }
  /** `operator: null` = the operator of a jailed pool (the `pick`-th). */
  | { readonly type: "unjail"; readonly operator: string | null; readonly pick: number }
  | { readonly type: "slash"; readonly pool: string; readonly infraction: "doubleSign" | "downtime"; readonly ago: number; readonly evidenceId: string }

const actor = fc.constantFrom(...ACTORS, "")
/** `null` (resolve against the state) three times out of four. */
const mostlyNull = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: a })
const validator = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...VALIDATORS) }, { weight: 1, arbitrary: fc.constantFrom("nobody", "contrib:c0") })
const poolId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...VALIDATORS, ...VALIDATORS, ...CONTRIBUTORS.map((c) => CONTRIBUTOR_PREFIX + c)) },
  { weight: 1, arbitrary: fc.constant("nobody") },
)

export const opSpecArb: fc.Arbitrary<OpSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ from: actor, to: actor, amount: amountArb }).map((o) => ({ type: "op" as const, op: { type: "transfer" as const, ...o } })) },
  { weight: 1, arbitrary: fc.record({ from: actor, amount: amountArb }).map((o) => ({ type: "op" as const, op: { type: "burn" as const, ...o } })) },
  {
    weight: 1,
    arbitrary: fc.record({ operator: fc.constantFrom(...VALIDATORS, "d0", "contrib:x"), amount: amountArb, tier: tierArb, commission: fc.constantFrom(0n, 10n ** 17n, 25n * 10n ** 16n, 3n * 10n ** 17n, -1n) })
      .map((o) => ({ type: "op" as const, op: { type: "registerValidator" as const, ...o } })),
  },
  { weight: 2, arbitrary: fc.record({ owner: actor, amount: amountArb, tier: tierArb }).map((o) => ({ type: "op" as const, op: { type: "bondContributor" as const, ...o } })) },
  { weight: 6, arbitrary: fc.record({ owner: actor, validator, amount: amountArb, tier: tierArb }).map((o) => ({ type: "op" as const, op: { type: "delegate" as const, ...o } })) },
  {
    weight: 5,
    arbitrary: fc.record({
      owner: mostlyNull(actor),
      position: fc.integer({ min: 0, max: 16 }),
      pick: fc.boolean(),
      amount: fc.oneof(
        fc.constant<UnbondAmount>({ kind: "all" }),
        fc.integer({ min: 1, max: 99 }).map((per): UnbondAmount => ({ kind: "part", per })),
        amountArb.map((amount): UnbondAmount => ({ kind: "raw", amount })),
      ),
    }).map((o) => ({ type: "unbond" as const, ...o })),
  },
  { weight: 3, arbitrary: fc.record({ owner: mostlyNull(actor), pick: fc.nat(8) }).map((o) => ({ type: "withdraw" as const, ...o })) },
  { weight: 3, arbitrary: actor.map((owner) => ({ type: "op" as const, op: { type: "claimRewards" as const, owner } })) },
  { weight: 4, arbitrary: fc.record({ payer: actor, amount: amountArb }).map((o) => ({ type: "op" as const, op: { type: "payFee" as const, ...o } })) },
  { weight: 3, arbitrary: fc.record({ from: fc.constantFrom(RESERVE, RESERVE, "d0", ""), amount: amountArb }).map((o) => ({ type: "op" as const, op: { type: "fundRewards" as const, ...o } })) },
  {
    weight: 3,
    arbitrary: fc.record({
      pool: poolId,
      infraction: fc.constantFrom("doubleSign" as const, "downtime" as const),
      ago: fc.oneof(
        fc.constant(0), fc.constant(-1), fc.integer({ min: 1, max: 120_000 }),
        fc.integer({ min: 1, max: 72 }).map((h) => h * 3_600_000), fc.integer({ min: 1, max: 60 }).map((d) => d * DAY_MS),
      ),
      evidenceId: fc.constantFrom("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", ""),
    }).map((o) => ({ type: "slash" as const, ...o })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ operator: mostlyNull(fc.constantFrom(...VALIDATORS, ...CONTRIBUTORS, "d0", "")), pick: fc.nat(4) })
      .map((o) => ({ type: "unjail" as const, ...o })),
  },
)

export interface Step {
  readonly dt: number
  readonly spec: OpSpec
}
export const stepArb: fc.Arbitrary<Step> = fc.record({ dt: dtArb, spec: opSpecArb })

/** Ops that make a run interesting from its first step: validators, a contributor, delegations. */
export const SETUP: readonly EconOp[] = [
  { type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 10n ** 17n },
  { type: "registerValidator", operator: "v1", amount: 20_000n * TOKEN, tier: 90, commission: 0n },
  { type: "bondContributor", owner: "c0", amount: 500n * TOKEN, tier: 30 },
  { type: "delegate", owner: "d0", validator: "v0", amount: 5_000n * TOKEN, tier: 0 },
  { type: "delegate", owner: "d1", validator: "v0", amount: 7_000n * TOKEN + 3n, tier: 180 },
  { type: "delegate", owner: "d2", validator: "v1", amount: 1_234n * TOKEN, tier: 365 },
]

/** Turn a spec into a concrete op against the current state. */
export const resolveSpec = (e: Economy, spec: OpSpec, now: number): EconOp => {
  switch (spec.type) {
    case "op": return spec.op
    case "slash": return { type: "slash", pool: spec.pool, infraction: spec.infraction, infractionTime: now - spec.ago, evidenceId: spec.evidenceId }
    case "unbond": {
      const all = e.positions()
      const pos = spec.pick && all.length > 0 ? all[spec.position % all.length] : all.find((p) => p.id === spec.position)
      const position = pos?.id ?? spec.position
      const value = pos?.tokens ?? 0n
      const amount = spec.amount.kind === "all" ? value : spec.amount.kind === "part" ? (value * BigInt(spec.amount.per)) / 100n : spec.amount.amount
      return { type: "unbond", owner: spec.owner ?? pos?.owner ?? "d0", position, amount }
    }
    case "withdraw": {
      const owners = [...new Set(e.unbonding().map((u) => u.owner))]
      return { type: "withdraw", owner: spec.owner ?? owners[spec.pick % Math.max(1, owners.length)] ?? "d0" }
    }
    case "unjail": {
      const jailed = e.pools().filter((p) => p.jailed).map((p) => p.operator)
      return { type: "unjail", operator: spec.operator ?? jailed[spec.pick % Math.max(1, jailed.length)] ?? "v0" }
    }
  }
}

// ---------------------------------------------------------------- invariants

/** Every structural invariant of a state; returns the broken ones (empty when all hold). */
export const invariantViolations = (e: Economy): string[] => {
  const bad: string[] = []
  const s: EconSnapshot = e.snapshot()
  const sup = e.supply()
  const sum = (xs: Iterable<bigint>) => { let t = 0n; for (const x of xs) t += x; return t }

  if (sup.minted !== TOTAL_SUPPLY) bad.push(`minted ${sup.minted} ≠ TOTAL_SUPPLY`)
  const parts = sup.balances + sup.bonded + sup.unbonding + sup.rewardPool + sup.insurancePool + sup.burnt
  if (parts !== sup.minted) bad.push(`supply not conserved: parts ${parts} ≠ minted ${sup.minted} (diff ${parts - sup.minted})`)

  const balances = Object.values(s.balances)
  if (sum(balances) !== s.totalBalances) bad.push("Σ balances ≠ totalBalances")
  if (balances.some((b) => b <= 0n)) bad.push("a stored balance ≤ 0")
  const pools = Object.values(s.pools)
  if (sum(pools.map((p) => p.tokens)) !== s.totalBonded) bad.push("Σ pool tokens ≠ totalBonded")
  const entries = Object.values(s.unbonding)
  if (sum(entries.map((u) => u.amount)) !== s.totalUnbonding) bad.push("Σ unbonding ≠ totalUnbonding")
  if (entries.some((u) => u.amount < 0n || u.amount > u.initialAmount)) bad.push("an unbonding entry < 0 or > its initial amount")
  const positions = Object.values(s.positions)
  if (positions.some((p) => p.shares <= 0n || p.weightedShares < 0n)) bad.push("a position with shares ≤ 0")

  for (const p of pools) {
    const mine = positions.filter((x) => x.pool === p.id)
    if (p.tokens < 0n || p.shares < 0n || p.weightedShares < 0n || p.delegatorShares < 0n || p.weight < 0n || p.rewardCarry < 0n) bad.push(`pool ${p.id} has a negative field`)
    if (sum(mine.map((x) => x.shares)) !== p.shares) bad.push(`pool ${p.id}: Σ position shares ≠ pool shares`)
    if (sum(mine.map((x) => x.weightedShares)) !== p.weightedShares) bad.push(`pool ${p.id}: Σ weighted shares ≠ pool weightedShares`)
    if (sum(mine.filter((x) => x.owner !== p.operator).map((x) => x.shares)) !== p.delegatorShares) bad.push(`pool ${p.id}: delegatorShares wrong`)
    if (p.kind === "contributor" && p.delegatorShares !== 0n) bad.push(`contributor pool ${p.id} has delegators`)
    const expected = poolWeightOf({ ...p, unbondingIds: new Set() })
    if (p.weight !== expected) bad.push(`pool ${p.id}: weight ${p.weight} ≠ ${expected}`)
    if (p.tokens === 0n && p.shares === 0n && p.weight !== 0n) bad.push(`empty pool ${p.id} has weight`)
    if (p.tokens > p.shares) bad.push(`pool ${p.id}: a share is worth more than a token (${p.tokens} > ${p.shares})`)
  }
  if (sum(pools.map((p) => p.weight)) !== s.rewards.totalWeight) bad.push("Σ pool weights ≠ totalWeight")

  const r = s.rewards
  const ins = s.insurance
  if (r.claimed > r.funded) bad.push(`claimed ${r.claimed} > funded ${r.funded}`)
  if (r.carried < 0n || ins.available < 0n || ins.credited < 0n) bad.push("negative carried / insurance")
  if (ins.paidOut > ins.paidIn) bad.push(`insurance paid out ${ins.paidOut} > paid in ${ins.paidIn}`)
  if (ins.claimed > ins.paidOut) bad.push(`insurance claimed ${ins.claimed} > credited ${ins.paidOut}`)
  if (ins.available + ins.credited !== ins.paidIn - ins.claimed) bad.push("insurance accounting broken")
  // Everything owed or claimable is covered by what the pools hold.
  const owners = new Set([...ACTORS, ...Object.keys(s.owed), ...positions.map((p) => p.owner)])
  let claimable = 0n
  let insuranceClaimable = 0n
  for (const o of owners) {
    const p = e.pendingRewards(o)
    if (p.rewards < 0n || p.commission < 0n || p.insurance < 0n) bad.push(`negative pending for ${o}`)
    claimable += p.rewards + p.commission
    insuranceClaimable += p.insurance
  }
  const held = sup.rewardPool - r.carried - sum(pools.map((p) => p.rewardCarry))
  if (claimable > held) bad.push(`claimable rewards ${claimable} exceed the reward pool's distributed funds ${held}`)
  if (insuranceClaimable > ins.credited) bad.push(`claimable insurance ${insuranceClaimable} > credited ${ins.credited}`)
  return bad
}

/** The fraction a slash of `infraction` uses, as a wad. */
export const slashFraction = (params: Params, infraction: "doubleSign" | "downtime"): bigint =>
  infraction === "doubleSign" ? econConfig(params).doubleSignFraction : econConfig(params).downtimeFraction

/** A canonical string of a snapshot (key-sorted plain data; bigints tagged): equal iff the states are equal. */
export const snapshotKey = (s: EconSnapshot): string => JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))

/** mulWad re-exported for tests computing expected numbers. */
export { mulWad }

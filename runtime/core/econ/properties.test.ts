/**
 * Properties of the economy over random operation sequences with random timing and random
 * parameters. Runs: DAI_ECON_RUNS sequences per property (CI default 1,000, or DAI_PROPERTY_RUNS × 5;
 * `npm run soak` runs 10,000), seed DAI_ECON_SEED (printed as SEED=…); a failure prints fast-check's
 * seed and path: replay it with DAI_ECON_SEED=<seed> DAI_ECON_PATH=<path> and `-t` naming the property
 * (scripts/property-env.ts).
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, type Params } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../units.ts"
import { econConfig } from "./config.ts"
import type { Economy } from "./economy.ts"
import type { Receipt } from "./ops.ts"
import type { EconOp } from "./ops.ts"
import {
  ACTORS, invariantViolations, mulWad, ok, paramsArb, resolveSpec, SETUP, slashFraction, snapshotKey, stepArb, testEconomy, tierArb, type Step,
} from "./testkit.ts"
import type { LockTier, SupplyBreakdown } from "./state.ts"
import { propertyEnv } from "../../../scripts/property-env.ts"

const ECON = propertyEnv("ECON", Number(process.env.DAI_PROPERTY_RUNS ?? 200) * 5)
/** A sequence takes about 25 ms on a loaded 2-core machine; 100 ms leaves room for more load and for shrinking. */
const TIMEOUT = ECON.timeout(100)

/** The test's own bookkeeping, independent of the economy's internals. */
interface Model {
  /** Pool tokens observed after every step: [time, tokens], oldest first. */
  readonly history: Map<string, Array<[number, bigint]>>
  readonly usedEvidence: Set<string>
  funded: bigint
  claimed: bigint
  insuranceIn: bigint
  insuranceClaimed: bigint
  /** Owners that ever held a position in a validator pool they do not operate. */
  readonly delegatorsEver: Set<string>
  readonly entryStart: Map<number, number>
  /** Upper bound of permanent reward dust: 1 wei per pool settlement + 1 per position settlement. */
  dustBound: bigint
  slashes: number
  rejected: number
  /** Reward dust left after everyone claimed (set at the end of a run). */
  finalDust: bigint
  /** How often each op type ended how ("delegate:ok", "unbond:StakingPositionLocked", ...). */
  readonly outcomes: Map<string, number>
}

const newModel = (): Model => ({
  history: new Map(), usedEvidence: new Set(), funded: 0n, claimed: 0n, insuranceIn: 0n, insuranceClaimed: 0n,
  delegatorsEver: new Set(), entryStart: new Map(), dustBound: 0n, slashes: 0, rejected: 0, outcomes: new Map(), finalDust: 0n,
})

const record = (e: Economy, m: Model, now: number): void => {
  for (const p of e.pools()) {
    const h = m.history.get(p.id) ?? []
    const last = h[h.length - 1]
    if (last !== undefined && last[0] === now) last[1] = p.tokens
    else h.push([now, p.tokens])
    m.history.set(p.id, h)
  }
}

const stakeAt = (m: Model, pool: string, time: number): bigint => {
  let v = 0n
  for (const [t, tokens] of m.history.get(pool) ?? []) if (t <= time) v = tokens
  return v
}

/** Check one successful op's receipt against the model (properties 4, 5, 7, 9). */
const checkReceipt = (
  e: Economy, m: Model, params: Params, op: EconOp, r: Receipt, now: number, insuranceAvailableBefore: bigint, supplyBefore: SupplyBreakdown,
): void => {
  const cfg = econConfig(params)
  switch (r.type) {
    case "slash": {
      if (op.type !== "slash") throw new Error("receipt/op mismatch")
      const stake = stakeAt(m, r.pool, op.infractionTime)
      expect(r.stakeAtInfraction).toBe(stake)
      expect(r.totalSlashed).toBeLessThanOrEqual(mulWad(stake, slashFraction(params, op.infraction))) // 4
      expect(r.totalSlashed).toBe(r.slashedBonded + r.slashedUnbondingTotal)
      expect(r.toInsurance + r.burnt).toBe(r.totalSlashed)
      expect(r.slashedBonded).toBeGreaterThanOrEqual(0n)
      expect(r.slashedUnbonding.reduce((t, c) => t + c.amount, 0n)).toBe(r.slashedUnbondingTotal)
      expect(supplyBefore.bonded - e.supply().bonded).toBe(r.slashedBonded) // the receipt is what really happened
      expect(supplyBefore.unbonding - e.supply().unbonding).toBe(r.slashedUnbondingTotal)
      expect(e.supply().burnt - supplyBefore.burnt).toBe(r.burnt)
      expect(m.usedEvidence.has(op.evidenceId)).toBe(false) // 4: once per evidence
      m.usedEvidence.add(op.evidenceId)
      expect(r.insurancePaid).toBeLessThanOrEqual(insuranceAvailableBefore + r.toInsurance) // 9
      expect(r.insurancePaid).toBeLessThanOrEqual(r.insuranceCovered)
      if (r.operator === r.pool && e.pool(r.pool)?.kind === "contributor") expect(r.insurancePaid).toBe(0n)
      m.insuranceIn += r.toInsurance
      m.slashes++
      break
    }
    case "claimRewards": {
      m.claimed += r.rewards + r.commission
      m.insuranceClaimed += r.insurance
      expect(m.claimed).toBeLessThanOrEqual(m.funded) // 5
      if (r.insurance > 0n) expect(m.delegatorsEver.has(r.owner)).toBe(true) // 9: only delegators
      for (const x of r.settled) {
        const pool = e.pool(x.pool)!
        if (x.insurance > 0n) expect(pool.kind === "validator" && pool.operator !== r.owner).toBe(true) // 9: never the operator, never a contributor
      }
      if (r.commission > 0n) expect(e.pool(r.owner)?.operator).toBe(r.owner)
      expect(m.insuranceClaimed).toBeLessThanOrEqual(m.insuranceIn) // 9
      break
    }
    case "fundRewards": m.funded += r.amount; break
    case "payFee":
      expect(r.burnt).toBe(mulWad(r.amount, cfg.burnFraction))
      m.funded += r.toStakers
      break
    case "delegate": if (r.owner !== r.validator) m.delegatorsEver.add(r.owner); break
    case "unbond":
      expect(r.amount).toBeLessThanOrEqual(r.requested)
      if (r.settledInsurance > 0n) expect(e.pool(r.pool)!.operator).not.toBe(r.owner) // 9
      m.entryStart.set(r.entry, now)
      break
    case "withdraw":
      for (const x of r.entries) {
        expect(x.completesAt).toBeLessThanOrEqual(now) // 7
        expect(now - m.entryStart.get(x.id)!).toBeGreaterThanOrEqual(cfg.unbondingPeriod) // 7
      }
      break
    default: break
  }
}

/** Rarer outcomes worth counting in the coverage report. */
const notable = (r: Receipt): string[] => {
  const out: string[] = []
  if (r.type === "slash") {
    if (r.slashedUnbonding.length > 0) out.push("slash+unbondingEntries")
    if (r.insurancePaid > 0n) out.push("slash+insurancePaid")
    if (r.insurancePaid > 0n && r.insurancePaid < r.insuranceCovered) out.push("slash+insuranceExhausted")
    if (r.totalSlashed === r.maxSlash && r.maxSlash > 0n) out.push("slash+fullMax")
  }
  if (r.type === "claimRewards" && r.insurance > 0n) out.push("claim+insurance")
  if (r.type === "claimRewards" && r.commission > 0n) out.push("claim+commission")
  if (r.type === "unbond" && r.closed) out.push("unbond+closed")
  if (r.type === "withdraw" && r.entries.some((x) => x.amount < x.initialAmount)) out.push("withdraw+slashedEntry")
  if (r.type === "fundRewards" && !r.distributed) out.push("fund+carried")
  return out
}

interface Run {
  readonly params: Params
  readonly steps: ReadonlyArray<Step & { readonly late: boolean }>
}

const runArb: fc.Arbitrary<Run> = fc.record({
  params: fc.oneof(fc.constant(DEFAULT_PARAMS), paramsArb),
  steps: fc.array(fc.record({ dt: stepArb.map((s) => s.dt), spec: stepArb.map((s) => s.spec), late: fc.nat(24).map((x) => x === 0) }), { minLength: 1, maxLength: 120, size: "max" }),
})

const execute = ({ params, steps }: Run): Model => {
  const e = testEconomy(params)
  const m = newModel()
  let now = 0
  for (const op of SETUP) {
    const r = ok(e.apply(op, now))
    if (r.type === "delegate" && r.owner !== r.validator) m.delegatorsEver.add(r.owner)
  }
  record(e, m, now)
  for (const step of steps) {
    now += step.dt
    const at = step.late && e.now > 0 ? e.now - 1 : now
    const op = resolveSpec(e, step.spec, at)
    const before = e.snapshot()
    const insuranceBefore = e.insuranceTotals().available
    const supplyBefore = e.supply()
    const positionsBefore = BigInt(e.positions().length)
    const r = e.apply(op, at)
    const key = `${op.type}:${Result.isFailure(r) ? r.failure._tag : "ok"}`
    m.outcomes.set(key, (m.outcomes.get(key) ?? 0) + 1)
    if (Result.isSuccess(r)) for (const extra of notable(r.success)) m.outcomes.set(extra, (m.outcomes.get(extra) ?? 0) + 1)
    if (Result.isFailure(r)) {
      m.rejected++
      if (at < e.now) expect(r.failure._tag).toBe("LedgerTimeWentBackwards")
      if (snapshotKey(e.snapshot()) !== snapshotKey(before)) expect(e.snapshot()).toEqual(before) // 3 (toEqual gives the diff)
    } else {
      checkReceipt(e, m, params, op, r.success, at, insuranceBefore, supplyBefore)
      m.dustBound += 2n * positionsBefore + 2n
    }
    const broken = invariantViolations(e) // 1, 2, 8 and accounting
    if (broken.length > 0) throw new Error(`after ${JSON.stringify(op, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}: ${broken.join("; ")}`)
    record(e, m, e.now)
  }
  // Claim everything: what is left in the reward pool is carried amounts plus bounded dust (5).
  for (const a of ACTORS) {
    const positions = BigInt(e.positions().length)
    const supplyBefore = e.supply()
    const r = ok(e.apply({ type: "claimRewards", owner: a }, e.now))
    checkReceipt(e, m, params, { type: "claimRewards", owner: a }, r, e.now, 0n, supplyBefore)
    m.dustBound += 2n * positions + 2n
  }
  const snap = e.snapshot()
  const carried = snap.rewards.carried + Object.values(snap.pools).reduce((t, p) => t + p.rewardCarry, 0n)
  const dust = e.supply().rewardPool - carried
  expect(Object.keys(snap.owed)).toEqual([])
  expect(dust).toBeGreaterThanOrEqual(0n)
  expect(dust).toBeLessThanOrEqual(m.dustBound)
  m.finalDust = dust
  expect(m.claimed + e.supply().rewardPool).toBe(m.funded)
  expect(e.supply().minted).toBe(TOTAL_SUPPLY) // 8
  return m
}

describe("economy properties over random operation sequences", () => {
  it("conserve supply, never go negative, reject without change, slash within bounds once, pay ≤ funded, insure only delegators", () => {
    let slashes = 0
    let rejected = 0
    const outcomes = new Map<string, number>()
    let maxDust = 0n
    let maxDustBound = 0n
    fc.assert(fc.property(runArb, (run) => {
      ECON.tick()
      const m = execute(run)
      if (m.finalDust > maxDust) [maxDust, maxDustBound] = [m.finalDust, m.dustBound]
      slashes += m.slashes
      rejected += m.rejected
      for (const [k, n] of m.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + n)
    }), ECON.params)
    if (process.env.DAI_ECON_COVERAGE !== undefined) {
      console.log([...outcomes].sort().map(([k, n]) => `${k} ${n}`).join("\n"))
      console.log(`largest final reward dust: ${maxDust} wei (its run's bound: ${maxDustBound} wei)`)
    }
    // The generator must actually reach the interesting paths.
    expect(slashes).toBeGreaterThan(ECON.runs / 20)
    expect(rejected).toBeGreaterThan(ECON.runs / 5)
  }, TIMEOUT)

  it("a longer lock never earns less per token than a shorter one in the same pool", () => {
    const scenarioArb = fc.record({
      params: fc.oneof(fc.constant(DEFAULT_PARAMS), paramsArb),
      tiers: fc.tuple(tierArb, tierArb),
      amount: fc.bigInt({ min: 1n, max: 100_000n * TOKEN }),
      commission: fc.constantFrom(0n, 10n ** 17n),
      events: fc.array(fc.oneof(
        fc.record({ kind: fc.constant("fund" as const), amount: fc.bigInt({ min: 1n, max: 1_000_000n * TOKEN }), dt: fc.nat(1_000_000) }),
        fc.record({ kind: fc.constant("fee" as const), amount: fc.bigInt({ min: 1n, max: 1_000n * TOKEN }), dt: fc.nat(1_000_000) }),
        fc.record({ kind: fc.constant("other" as const), amount: fc.bigInt({ min: 1n, max: 100_000n * TOKEN }), tier: tierArb, dt: fc.nat(1_000_000) }),
        fc.record({ kind: fc.constant("slash" as const), infraction: fc.constantFrom("doubleSign" as const, "downtime" as const), dt: fc.nat(1_000_000) }),
        fc.record({ kind: fc.constant("unjail" as const), dt: fc.integer({ min: 0, max: 2 * 86_400_000 }) }),
      ), { maxLength: 25, size: "max" }),
    })
    fc.assert(fc.property(scenarioArb, ({ params, tiers, amount, commission, events }) => {
      const e = testEconomy(params)
      let now = 0
      const maxCommission = econConfig(params).maxCommission
      ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: commission > maxCommission ? maxCommission : commission }, now))
      ok(e.apply({ type: "registerValidator", operator: "v1", amount: 50_000n * TOKEN, tier: 365, commission: 0n }, now))
      const [ta, tb] = tiers[0] <= tiers[1] ? tiers : [tiers[1], tiers[0]]
      const short = ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount, tier: ta as LockTier }, now))
      const long = ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount, tier: tb as LockTier }, now))
      expect(long.shares).toBe(short.shares)
      let ev = 0
      for (const x of events) {
        now += x.dt
        switch (x.kind) {
          case "fund": e.apply({ type: "fundRewards", from: "reserve", amount: x.amount }, now); break
          case "fee": e.apply({ type: "payFee", payer: "c0", amount: x.amount }, now); break
          case "other": e.apply({ type: "delegate", owner: "d2", validator: "v0", amount: x.amount, tier: x.tier }, now); break
          case "slash": e.apply({ type: "slash", pool: "v0", infraction: x.infraction, infractionTime: now, evidenceId: `e${ev++}` }, now); break
          case "unjail": e.apply({ type: "unjail", operator: "v0" }, now); break
        }
        const a = e.pendingRewards("d0")
        const b = e.pendingRewards("d1")
        expect(b.rewards).toBeGreaterThanOrEqual(a.rewards)
      }
      const ra = ok(e.apply({ type: "claimRewards", owner: "d0" }, now))
      const rb = ok(e.apply({ type: "claimRewards", owner: "d1" }, now))
      expect(rb.rewards).toBeGreaterThanOrEqual(ra.rewards)
      expect(rb.insurance).toBe(ra.insurance) // insurance is pro rata by shares, not weight
    }), ECON.params)
  }, TIMEOUT)
})

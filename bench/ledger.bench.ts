/**
 * Ledger throughput: economic operations per second through `Economy.apply` for a realistic mix
 * (transfers, delegations, fee payments, claims, unbond/withdraw, emission funding, slashes and
 * unjails), against a baseline doing only the balance arithmetic of the same ops on a raw
 * `Map<string, bigint>` — so the ratio is the cost of the rules (validation, shares, accumulators,
 * checkpoints, receipts, Result values).
 *
 * The op stream is generated once by driving an economy (so unbonds name real positions and most
 * ops are valid), then replayed on fresh economies for timing: every replay applies the same ops
 * and gets the same results.
 *
 * Run: npx node bench/ledger.bench.ts        (OPS=50000 for a quicker run)
 */
import { Result } from "effect"
import { resolveParams } from "../runtime/core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../runtime/core/units.ts"
import { Economy, emissionFor, type EconOp, type LockTier } from "../runtime/core/econ/index.ts"

const OPS = Number(process.env.OPS ?? 200_000)
const REPEAT = 3
const VALIDATORS = 50
const ACCOUNTS = 2_000
const RESERVE = "reserve"

const params = Result.getOrThrow(resolveParams({ "staking.unbondingPeriod": "1h", "slashing.downtimeJailDuration": "1m" }))

/** xorshift32: the bench's own deterministic randomness (integers only). */
const rng = (seed: number) => {
  let x = seed | 0 || 1
  return (n: number): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) % n
  }
}

const account = (i: number): string => `acct${i}`
const validator = (i: number): string => `val${i}`

const genesis = (): Economy => {
  const allocs = [
    ...Array.from({ length: ACCOUNTS }, (_, i) => ({ address: account(i), amount: 100_000n * TOKEN })),
    ...Array.from({ length: VALIDATORS }, (_, i) => ({ address: validator(i), amount: 1_000_000n * TOKEN })),
  ]
  const used = allocs.reduce((t, a) => t + a.amount, 0n)
  return Result.getOrThrow(Economy.genesis([...allocs, { address: RESERVE, amount: TOTAL_SUPPLY - used }], params, 0))
}

interface Timed {
  readonly op: EconOp
  readonly now: number
}

/** Generate `count` ops (after a setup registering the validators), with 500 ms to 2 s between ops. */
const generate = (count: number): Timed[] => {
  const e = genesis()
  const r = rng(42)
  const out: Timed[] = []
  const push = (op: EconOp, now: number): void => {
    const res = e.apply(op, now)
    out.push({ op, now })
    if (Result.isFailure(res)) return
    const rc = res.success
    if (rc.type === "delegate" && rc.tier === 0) live.push({ owner: rc.owner, id: rc.position })
    if (rc.type === "unbond") unbonding.push(rc.owner)
    if (rc.type === "slash" && !rc.tombstoned) jailed.push(rc.operator)
  }
  const live: Array<{ owner: string; id: number }> = []
  const unbonding: string[] = []
  const jailed: string[] = []
  const takeRandom = <T>(xs: T[]): T | undefined => {
    if (xs.length === 0) return undefined
    const k = r(xs.length)
    const x = xs[k]!
    xs[k] = xs[xs.length - 1]!
    xs.pop()
    return x
  }
  const tiers: LockTier[] = [0, 0, 0, 30, 90, 180, 365]
  let now = 0
  for (let v = 0; v < VALIDATORS; v++) {
    push({ type: "registerValidator", operator: validator(v), amount: 10_000n * TOKEN + BigInt(r(100_000)) * TOKEN, tier: 0, commission: BigInt(r(26)) * 10n ** 16n }, now)
  }
  let lastFund = 0
  let evidence = 0
  while (out.length < count) {
    now += 500 + r(1_500)
    const a = account(r(ACCOUNTS))
    const roll = r(1_000)
    if (roll < 380) push({ type: "transfer", from: a, to: account(r(ACCOUNTS)), amount: BigInt(1 + r(1_000)) * TOKEN + BigInt(r(1_000_000)) }, now)
    else if (roll < 530) push({ type: "delegate", owner: a, validator: validator(r(VALIDATORS)), amount: BigInt(10 + r(2_000)) * TOKEN, tier: tiers[r(tiers.length)]! }, now)
    else if (roll < 730) push({ type: "payFee", payer: a, amount: BigInt(1 + r(100)) * TOKEN / 10n }, now)
    else if (roll < 830) push({ type: "claimRewards", owner: r(10) === 0 ? validator(r(VALIDATORS)) : a }, now)
    else if (roll < 890 && live.length > 0) {
      const p = takeRandom(live)!
      const pos = e.positions(p.owner).find((x) => x.id === p.id)
      if (pos !== undefined) push({ type: "unbond", owner: p.owner, position: p.id, amount: r(2) === 0 ? pos.tokens : pos.tokens / 2n }, now)
    } else if (roll < 940) push({ type: "withdraw", owner: r(4) === 0 ? a : (takeRandom(unbonding) ?? a) }, now) // mostly owners who unbonded
    else if (roll < 993) {
      const amount = emissionFor(params, lastFund, now)
      if (amount > 0n) push({ type: "fundRewards", from: RESERVE, amount }, now)
      lastFund = now
    } else if (roll < 996) {
      const v = validator(r(VALIDATORS))
      push({ type: "slash", pool: v, infraction: r(100) === 0 ? "doubleSign" : "downtime", infractionTime: Math.max(0, now - r(3_600_000)), evidenceId: `ev${evidence++}` }, now)
    } else {
      push({ type: "unjail", operator: takeRandom(jailed) ?? validator(r(VALIDATORS)) }, now) // mostly a jailed validator
    }
  }
  return out
}

const amountOf = (op: EconOp): bigint => ("amount" in op ? op.amount : 1n)
const primaryOf = (op: EconOp): string => {
  switch (op.type) {
    case "transfer": case "burn": case "fundRewards": return op.from
    case "payFee": return op.payer
    case "registerValidator": case "unjail": return op.operator
    case "slash": return op.pool
    default: return op.owner
  }
}
const secondaryOf = (op: EconOp): string =>
  op.type === "transfer" ? op.to : op.type === "delegate" ? op.validator : op.type === "registerValidator" ? op.operator : "pool"

/** Replay on a fresh economy; returns ops/s and the number of successes. */
const runLedger = (ops: readonly Timed[]): { rate: number; ok: number } => {
  const e = genesis()
  let okCount = 0
  const t0 = performance.now()
  for (let i = 0; i < ops.length; i++) {
    const x = ops[i]!
    if (Result.isSuccess(e.apply(x.op, x.now))) okCount++
  }
  const ms = performance.now() - t0
  const s = e.supply()
  if (s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt !== s.minted) throw new Error("supply not conserved")
  return { rate: ops.length / (ms / 1000), ok: okCount }
}

/** The balance arithmetic only: debit one key, credit another, in a Map<string, bigint> (with the balance check). */
const runBaseline = (ops: readonly Timed[]): number => {
  const m = new Map<string, bigint>()
  for (let i = 0; i < ACCOUNTS; i++) m.set(account(i), 100_000n * TOKEN)
  for (let i = 0; i < VALIDATORS; i++) m.set(validator(i), 1_000_000n * TOKEN)
  m.set(RESERVE, TOTAL_SUPPLY)
  let okCount = 0
  const t0 = performance.now()
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!.op
    const amount = amountOf(op)
    const from = primaryOf(op)
    const bal = m.get(from) ?? 0n
    if (amount > 0n && bal >= amount) {
      m.set(from, bal - amount)
      const to = secondaryOf(op)
      m.set(to, (m.get(to) ?? 0n) + amount)
      okCount++
    }
  }
  const ms = performance.now() - t0
  if (okCount < 0) console.log(okCount)
  return ops.length / (ms / 1000)
}

/** µs per op by type, from one instrumented replay (timer overhead included, ~0.05 µs). */
const perType = (ops: readonly Timed[]): Map<string, { n: number; ok: number; us: number }> => {
  const e = genesis()
  const stats = new Map<string, { n: number; ok: number; us: number }>()
  for (const x of ops) {
    const t0 = performance.now()
    const res = e.apply(x.op, x.now)
    const dt = performance.now() - t0
    const s = stats.get(x.op.type) ?? { n: 0, ok: 0, us: 0 }
    s.n++
    if (Result.isSuccess(res)) s.ok++
    s.us += dt * 1000
    stats.set(x.op.type, s)
  }
  return stats
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const fmt = (r: number): string => `${(r / 1e3).toFixed(0)} k ops/s`.padStart(14)

const tGen = performance.now()
const ops = generate(OPS)
console.log(`node ${process.version}, ${ops.length.toLocaleString("en")} ops (generated in ${((performance.now() - tGen) / 1000).toFixed(1)} s), median of ${REPEAT}\n`)

// Warm up both paths.
runLedger(ops.slice(0, 20_000))
runBaseline(ops.slice(0, 20_000))

const ledger = Array.from({ length: REPEAT }, () => runLedger(ops))
const baseline = median(Array.from({ length: REPEAT }, () => runBaseline(ops)))
const rate = median(ledger.map((x) => x.rate))
console.log(`baseline (Map<string, bigint> debit + credit)  ${fmt(baseline)}`)
console.log(`Economy.apply, realistic mix                   ${fmt(rate)}   ${(baseline / rate).toFixed(1)}× the baseline, ${(1e6 / rate).toFixed(2)} µs/op, ${ledger[0]!.ok.toLocaleString("en")} ops succeeded`)

console.log(`\nper op type (one instrumented replay):`)
for (const [type, s] of [...perType(ops)].sort((a, b) => b[1].n - a[1].n)) {
  console.log(`  ${type.padEnd(18)} ${String(s.n).padStart(7)} ops  ${String(s.ok).padStart(7)} ok  ${(s.us / s.n).toFixed(2).padStart(7)} µs/op`)
}

/**
 * Differential property test of the compute market: random sequences of market operations (providers
 * register, update, top up, retire and withdraw; requesters post, assign, confirm, dispute, reclaim;
 * providers deliver; anyone settles and refunds; the committee's verdicts resolve disputes both ways, signed
 * by a quorum of snapshot 2 (v0 and v1: neither alone holds 2/3) or by too few, a stranger, a signer twice,
 * under an older or unknown snapshot) with random
 * timing, applied to the TypeScript economy's market (runtime/core/econ/market.ts) and to ComputeMarket.sol
 * over DAIToken + Staking on Hardhat's in-process chain (`MarketWorld`). Operations are drawn against the
 * economy's state (a job's requester, its provider…) and sometimes by the wrong account or out of time,
 * so both refusals and successes are compared. After every step both must have accepted or refused it
 * alike (same error name) and hold identical providers, jobs (notes, escrow, payouts, fees, refunds),
 * custody, balances, burnt amount and staker rewards; the budget identity holds for every job.
 *
 * Each sequence runs under one of a few market parameter sets (in both worlds: the Constitution's values on chain),
 * some with a small cap on a debit note (market/math.ts noteTooLarge: wrongResultSlash × bond × p ÷ (1 − p)),
 * and a delivery is now and then sized at that cap, one unit below or one above, so both sides judge notes
 * around it alike (MarketNoteTooLarge; MarketInsufficientBond once a slash took a provider below the minimum).
 *
 * Runs: DAI_MARKET_DIFF_RUNS (default 40: each sequence reads the whole state back after every step,
 * ≈ 0.5–2 s a sequence on a loaded 2-core machine), seed DAI_MARKET_DIFF_SEED, replay DAI_MARKET_DIFF_PATH.
 */
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"
import type { MarketOp } from "../../runtime/core/market/types.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { maxNoteUnits } from "../../runtime/core/market/math.ts"
import { DEFAULT_PARAMS, resolveParams, type Params } from "../../runtime/core/params.ts"
import { Result } from "effect"
import { propertyEnv } from "../../scripts/property-env.ts"
import { connectChain } from "./chain.ts"
import { budgetProblems, MarketWorld, REFEREE, verdictOp } from "./market-world.ts"

const DIFF = propertyEnv("MARKET_DIFF", 40)
const MAX_OPS = 14

const PROVIDERS = ["c0", "c1", "d2"] as const
const REQUESTERS = ["d0", "d1"] as const
const KINDS = ["infer:mnist", "finetune:mnist"] as const

/** One step: a time advance (s) and an operation drawn with free choices `k`, resolved against the economy. */
interface Step {
  readonly dt: number
  readonly type: MarketOp["type"]
  readonly k: readonly number[]
}
const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 55, max: 700 }) }),
  type: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<MarketOp["type"]>("registerProvider", "postJob", "assignJob", "deliver") },
    { weight: 2, arbitrary: fc.constantFrom<MarketOp["type"]>("confirm", "settle", "reclaimNoShow", "refund") },
    { weight: 2, arbitrary: fc.constantFrom<MarketOp["type"]>("dispute", "resolveDispute") },
    { weight: 1, arbitrary: fc.constantFrom<MarketOp["type"]>("updateProvider", "addBond", "retireProvider", "withdrawBond") },
  ),
  k: fc.array(fc.nat({ max: 1_000 }), { minLength: 6, maxLength: 6 }),
})

const pick = <T>(xs: readonly T[], k: number): T => xs[k % xs.length]!

/**
 * The market parameters of a sequence: the defaults (a note may carry 111 tokens per 1,000 bonded), caps of
 * about one to three units at these prices (c0's 1,000 bond at 1 token a unit; c1's 3,000 at a third), and
 * p = 1 and p = 0 (no cap).
 */
const paramsArb: fc.Arbitrary<Params> = fc.constantFrom<Partial<Record<string, number>>>(
  {}, { "market.verificationRate": 0.1, "market.wrongResultSlash": 0.01 }, { "market.verificationRate": 0.02, "market.wrongResultSlash": 0.05 },
  { "market.verificationRate": 0.5, "market.wrongResultSlash": 0.002 }, { "market.verificationRate": 1 }, { "market.verificationRate": 0 },
).map((p) => (Object.keys(p).length === 0 ? DEFAULT_PARAMS : Result.getOrThrow(resolveParams(p))))

/** The job states an op can succeed on. */
const WANTS: Partial<Record<MarketOp["type"], readonly string[]>> = {
  assignJob: ["open"], deliver: ["assigned"], confirm: ["assigned"], settle: ["assigned"], dispute: ["assigned"],
  resolveDispute: ["disputed"], reclaimNoShow: ["assigned"], refund: ["open", "assigned"],
}

/** The operation of `s` against the economy's state at `nowSec` (the time the op runs). */
const resolve = (m: MarketWorld, s: Step, nowSec: bigint): MarketOp => {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = s.k
  const econ = m.w.econ
  const jobs = econ.jobs()
  // Mostly a job in the state the op needs (so successes are common), else any id (one past the last now and then).
  const wanted = WANTS[s.type]
  const fit = wanted === undefined ? [] : jobs.filter((x) => wanted.includes(x.state))
  const job = fit.length > 0 && a % 5 !== 0 ? pick(fit, a).id : jobs.length === 0 ? 1 : 1 + (a % (jobs.length + (a % 7 === 0 ? 1 : 0)))
  const j = econ.job(job)
  const provider = pick(PROVIDERS, b)
  const requester = j?.requester ?? pick(REQUESTERS, b)
  // Mostly the right account; now and then another one.
  const by = c % 6 === 0 ? pick([...REQUESTERS, REFEREE], d) : requester
  const price = pick([TOKEN, 2n * TOKEN, TOKEN / 3n, 7n * TOKEN / 11n], d)
  switch (s.type) {
    case "registerProvider":
      return {
        type: "registerProvider", provider, bond: pick([1_000n * TOKEN, 2_500n * TOKEN, 999n * TOKEN, 1_000n * TOKEN + 1n], c),
        kinds: e % 9 === 0 ? [] : e % 3 === 0 ? [...KINDS] : [pick(KINDS, e)], pricePerUnit: f % 13 === 0 ? 0n : price, capacity: f % 11 === 0 ? 0 : 1 + (f % 3),
      }
    case "updateProvider": return { type: "updateProvider", provider, pricePerUnit: price, capacity: 1 + (e % 3) }
    case "addBond": return { type: "addBond", provider, amount: e % 5 === 0 ? 0n : 100n * TOKEN }
    case "retireProvider": return { type: "retireProvider", provider }
    case "withdrawBond": return { type: "withdrawBond", provider }
    case "postJob":
      return {
        type: "postJob", requester: pick(REQUESTERS, b), kind: pick(KINDS, c), units: BigInt(e % 17), maxPricePerUnit: pick([2n * TOKEN, TOKEN, TOKEN + 7n], d),
        deadline: Number(nowSec + BigInt(pick([0, 45, 120, 600, 3_600], f))) * 1000,
      }
    case "assignJob": return { type: "assignJob", job, provider, by }
    case "deliver": {
      // Now and then at the cap of the provider's bond, one unit below or above it (never below 0: a
      // unit count is a uint on chain, and a cap of 0 — a bond that answers for no unit — is one to try).
      const bond = j?.provider === undefined ? undefined : econ.provider(j.provider)?.bond
      const cap = bond === undefined || j === undefined ? undefined : maxNoteUnits(bond, j.pricePerUnit, econ.params)
      const near = cap === undefined ? undefined : cap + BigInt(f % 3) - 1n
      const units = near !== undefined && e % 3 === 0 ? (near < 0n ? 0n : near) : BigInt(e % 7)
      return { type: "deliver", job, provider: c % 6 === 0 || j?.provider === undefined ? provider : j.provider, units, resultHash: `0x${(f % 256).toString(16).padStart(2, "0").repeat(32)}` }
    }
    case "confirm": return { type: "confirm", job, by }
    case "settle": return { type: "settle", job }
    case "dispute": return { type: "dispute", job, by: e % 3 === 0 ? REFEREE : by }
    case "resolveDispute": {
      const signers = pick([["v1", REFEREE], ["v1", REFEREE], [REFEREE, "v1"], [REFEREE], ["v1"], [], ["v1", "v1"], ["v1", REFEREE, "d0"]], f)
      return verdictOp(job, e % 2 === 0, pick([2, 2, 2, 2, 1, 3], d), signers, c % 6 === 0 ? requester : REFEREE)
    }
    case "reclaimNoShow": return { type: "reclaimNoShow", job, by }
    case "refund": return { type: "refund", job }
  }
}

/** A common start so that sequences meet live providers and jobs: two providers, two jobs, one of them assigned and delivered in part. */
const setup = (nowSec: bigint): MarketOp[] => [
  { type: "registerProvider", provider: "c0", bond: 1_000n * TOKEN, kinds: [...KINDS], pricePerUnit: TOKEN, capacity: 2 },
  { type: "registerProvider", provider: "c1", bond: 3_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: TOKEN / 3n, capacity: 1 },
  { type: "postJob", requester: "d0", kind: "infer:mnist", units: 10n, maxPricePerUnit: 2n * TOKEN, deadline: Number(nowSec + 600n) * 1000 },
  { type: "postJob", requester: "d1", kind: "finetune:mnist", units: 6n, maxPricePerUnit: TOKEN + 7n, deadline: Number(nowSec + 3_600n) * 1000 },
  { type: "assignJob", job: 1, provider: "c0", by: "d0" },
  // A delivery to dispute (verdicts are what most sequences should reach).
  { type: "deliver", job: 1, provider: "c0", units: 1n, resultHash: `0x${"5a".repeat(32)}` },
]

describe("ComputeMarket ≡ the economy's market (differential)", () => {
  let m: MarketWorld

  beforeAll(async () => {
    m = await MarketWorld.deploy((await connectChain()).ethers)
  }, 120_000)

  /** How often each op ended how ("deliver:ok", "refund:MarketBeforeDeadline", ...): shows what the runs exercised. */
  const outcomes = new Map<string, number>()

  /** ≈ 0.3 s a sequence alone; 4 s leaves room for a loaded machine and some shrinking. */
  const TIMEOUT = DIFF.timeout(4_000, 120_000)
  it(`agrees on every step of ${DIFF.runs} random sequences (≤ ${MAX_OPS} market ops)`, async () => {
    await fc.assert(
      fc.asyncProperty(paramsArb, fc.array(stepArb, { minLength: 4, maxLength: MAX_OPS }), async (params, steps) => {
        await m.fresh(params)
        // The committee of snapshot 2: v0 and v1, neither alone with 2/3 of the power.
        const v1 = await m.w.step(0n, { type: "registerValidator", operator: "v1", amount: 15_000n * TOKEN, tier: 0, commission: 0n })
        if (v1.ts === "skipped" || v1.chain === "skipped" || !v1.ts.ok || !v1.chain.ok) throw new Error(`v1's registration failed: ${JSON.stringify(v1)}`)
        await m.takeSnapshot()
        const log: string[] = []
        for (const op of setup(m.nowSec)) {
          const r = await m.op(op)
          if (!r.ts.ok || !r.chain.ok) throw new Error(`setup ${op.type} failed: ts=${JSON.stringify(r.ts)} chain=${JSON.stringify(r.chain)}`)
        }
        for (const [i, s] of steps.entries()) {
          const dt = BigInt(s.dt)
          const op = resolve(m, s, m.nowSec + dt)
          const r = await m.op(op, dt)
          const show = JSON.stringify(op, (_, v) => (typeof v === "bigint" ? `${v}` : v))
          log.push(`step ${i} +${s.dt}s ${show}: ts=${JSON.stringify(r.ts)} chain=${JSON.stringify(r.chain)}`)
          const kind = `${op.type}:${r.ts.ok ? "ok" : r.ts.error}`
          outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1)
          if (JSON.stringify(r.ts) !== JSON.stringify(r.chain)) throw new Error(`outcomes differ at step ${i}\nlog:\n${log.join("\n")}`)
          const d = await m.diff()
          if (d !== undefined) throw new Error(`state differs after step ${i}\n  first difference: ${d}\nlog:\n${log.join("\n")}`)
        }
        expect(budgetProblems(m.w.econ.jobs())).toEqual([])
        DIFF.tick()
      }),
      DIFF.within(TIMEOUT),
    )
    console.log([...outcomes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join("\n"))
  }, TIMEOUT)
})

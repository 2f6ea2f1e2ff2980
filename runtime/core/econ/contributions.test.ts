/** Contribution payouts: pro rata of score, floors only, supply conserved exactly (fast-check). */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TOKEN } from "../units.ts"
import { proRata, type ScoreEntry } from "./contributions.ts"
import { failTag, invariantViolations, ok, RESERVE, testEconomy } from "./testkit.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 200)

const scoresArb = fc.uniqueArray(
  fc.record({ account: fc.constantFrom("c0", "c1", "t0", "t1", "t2", "t3", "v0", "d0"), score: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })) }),
  { minLength: 1, maxLength: 8, selector: (x) => x.account },
)
const amountArb = fc.oneof(fc.bigInt({ min: 0n, max: 1_000n }), fc.bigInt({ min: 0n, max: 10_000_000n * TOKEN }))

describe("payContributors", () => {
  it("conserves the supply exactly, pays nothing to a zero score, and pays pro rata with floors only", () => {
    fc.assert(fc.property(amountArb, scoresArb, fc.boolean(), (amount, scores, claim) => {
      const e = testEconomy()
      const before = e.supply()
      const reserveBefore = e.balanceOf(RESERVE)
      const r = ok(e.payContributors(RESERVE, amount, scores, 10))
      expect(invariantViolations(e)).toEqual([])
      const after = e.supply()
      expect(after.balances + after.bonded + after.unbonding + after.rewardPool + after.insurancePool + after.burnt).toBe(after.minted)
      expect(after.rewardPool - before.rewardPool).toBe(r.paid)
      expect(reserveBefore - e.balanceOf(RESERVE)).toBe(r.paid)
      expect(r.paid + r.unpaid).toBe(amount)

      const total = scores.reduce((s, x) => s + BigInt(x.score), 0n)
      for (const [i, x] of scores.entries()) {
        const got = r.payouts[i]!.amount
        expect(e.pendingRewards(x.account).rewards).toBe(got)
        if (x.score === 0) expect(got).toBe(0n)
        else {
          // got = floor(amount × score / total): got × total ≤ amount × score < (got + 1) × total.
          expect(got * total <= amount * BigInt(x.score)).toBe(true)
          expect(amount * BigInt(x.score) < (got + 1n) * total).toBe(true)
        }
      }
      // Each floor loses less than one base unit; nothing is paid when nobody scored.
      if (total === 0n) expect(r.paid).toBe(0n)
      else expect(r.unpaid < BigInt(scores.filter((x) => x.score > 0).length) || r.unpaid === 0n).toBe(true)
      // Equal scores, equal pay; a larger score never earns less.
      for (const a of r.payouts) for (const b of r.payouts) if (a.score >= b.score) expect(a.amount >= b.amount).toBe(true)

      if (claim) {
        for (const x of scores) ok(e.apply({ type: "claimRewards", owner: x.account }, 20))
        expect(invariantViolations(e)).toEqual([])
        expect(e.supply().rewardPool).toBe(before.rewardPool)
      }
    }), { numRuns: RUNS })
  })

  it("splits exactly by score when the amount divides", () => {
    expect(proRata(1_000n, [{ account: "a", score: 1 }, { account: "b", score: 3 }, { account: "c", score: 0 }])).toEqual([250n, 750n, 0n])
    expect(proRata(10n, [{ account: "a", score: 1 }, { account: "b", score: 2 }])).toEqual([3n, 6n]) // 1 base unit left unpaid
    expect(proRata(10n, [{ account: "a", score: 0 }])).toEqual([0n])
  })

  it("refuses bad input and changes nothing", () => {
    const e = testEconomy()
    const before = JSON.stringify(e.supply(), (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))
    const bad: Array<[bigint, ScoreEntry[], string]> = [
      [-1n, [{ account: "c0", score: 1 }], "TokenInvalidAmount"],
      [1n, [{ account: "c0", score: -1 }], "TokenInvalidAmount"],
      [1n, [{ account: "c0", score: 1.5 }], "TokenInvalidAmount"],
      [1n, [{ account: "c0", score: 1 }, { account: "c0", score: 2 }], "TokenInvalidAmount"],
      [1n, [{ account: "", score: 1 }], "TokenInvalidAddress"],
      [e.balanceOf("c1") + 1n, [{ account: "c0", score: 1 }], "TokenInsufficientBalance"],
    ]
    for (const [amount, scores, tag] of bad) expect(failTag(e.payContributors(amount === e.balanceOf("c1") + 1n ? "c1" : RESERVE, amount, scores, 5))).toBe(tag)
    expect(failTag(e.payContributors(RESERVE, 1n, [{ account: "c0", score: 1 }], -1))).toBe("LedgerInvalidTime")
    expect(JSON.stringify(e.supply(), (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))).toBe(before)
  })
})

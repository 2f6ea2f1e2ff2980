/** The settlement rule's numbers: emission per second of the unpaid interval, capped; the pot pro rata; fees capped by deposits. */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, resolveParams } from "../params.ts"
import { TOKEN, WAD } from "../units.ts"
import { downtimeEvidenceId } from "./digest.ts"
import { settlement, YEAR_SECONDS } from "./settle.ts"
import { emptyReport } from "./testkit.ts"
import type { Snapshot } from "./types.ts"

const params = Result.getOrThrow(resolveParams({ "rewards.annualEmission": 31_536_000, "rewards.contributorShare": 0.25, "fees.burnFraction": 0.3 }))
const snapshot: Snapshot = { id: 1, time: 500, params: DEFAULT_PARAMS, totalPower: 1n, quorum: 1n, trainers: [], validators: [] }
const base = { snapshot, params, reserve: 10n ** 30n, emittedUntil: 0n, deposit: () => 0n }

describe("settlement", () => {
  it("releases annualEmission per second of [max(from, emittedUntil), to) and splits off the contributors' pot", () => {
    // 31,536,000 tokens a year = 1 token a second.
    const s = settlement({ ...base, report: { ...emptyReport(1, 1, 10_500, 110_999), scored: ["t0", "t1"], scores: [1n, 2n] } })
    expect(s.emission).toMatchObject({ from: 10n, to: 110n, due: 100n * TOKEN, capped: 100n * TOKEN, pot: 25n * TOKEN, toStakers: 75n * TOKEN })
    expect(s.emission.payouts.map((p) => p.amount)).toEqual([(25n * TOKEN) / 3n, (50n * TOKEN) / 3n])
    expect(s.emission.released).toBe(75n * TOKEN + s.emission.toContributors)
    expect(s.emittedUntil).toBe(110n)
    expect(YEAR_SECONDS).toBe(31_536_000n)
  })

  it("never pays a second twice, and caps by the reserve", () => {
    const again = settlement({ ...base, emittedUntil: 110n, report: emptyReport(2, 1, 10_000, 100_000) })
    expect(again.emission).toMatchObject({ due: 0n, released: 0n })
    expect(again.emittedUntil).toBe(110n)
    const poor = settlement({ ...base, reserve: 7n, report: emptyReport(2, 1, 0, 100_000) })
    expect(poor.emission).toMatchObject({ due: 100n * TOKEN, capped: 7n, pot: 1n, toStakers: 6n, toContributors: 0n, released: 6n })
  })

  it("keeps the pot in the reserve when nobody scored above 0", () => {
    const s = settlement({ ...base, report: { ...emptyReport(1, 1, 0, 4_000), scored: ["t0"], scores: [0n] } })
    expect(s.emission).toMatchObject({ pot: TOKEN, toContributors: 0n, toStakers: 3n * TOKEN, released: 3n * TOKEN })
  })

  it("debits each payer at most its deposit; burns fees.burnFraction of the total, once", () => {
    const deposits: Record<string, bigint> = { a: 5n, b: 100n }
    const s = settlement({ ...base, deposit: (x) => deposits[x] ?? 0n, report: { ...emptyReport(1, 1, 0, 0), feePayers: ["a", "b", "c"], fees: [7n, 7n, 7n] } })
    expect(s.fees.payments.map((p) => p.paid)).toEqual([5n, 7n, 0n])
    expect(s.fees).toMatchObject({ paid: 12n, unpaid: 9n, burnt: (12n * 3n * WAD) / 10n / WAD, toStakers: 12n - 3n })
  })

  it("slashes the downtime operators at the snapshot's time, one evidence id per epoch and operator", () => {
    const s = settlement({ ...base, report: { ...emptyReport(9, 1, 0, 1_000), downtime: ["v1"] } })
    expect(s.downtime).toEqual([{ operator: "v1", evidenceId: downtimeEvidenceId(9, "v1"), infractionTime: 500 }])
  })
})

import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { economyConfig } from "./config.ts"
import { runEconomy } from "./run.ts"

const config = (seed: number, days = 30, params: Record<string, unknown> = {}) =>
  Result.getOrThrow(economyConfig({ seed, days, validators: 5, delegators: 20, contributors: 4 }, params))

describe("economy run", () => {
  it("conserves supply to the wei, slashes the faulty and pays insurance to delegators", () => {
    const lines: string[] = []
    const r = runEconomy(config(11, 60), (l) => void lines.push(l))
    expect(r.supplyConserved).toBe(true)
    expect(r.supply.minted).toBe(1_000_000_000n * 10n ** 18n)
    expect(r.events).toBe(lines.length)
    expect(r.slashes.some((s) => s.infraction === "doubleSign" && s.tombstoned && s.pool === "v1")).toBe(true)
    expect(r.slashes.some((s) => s.infraction === "downtime" && s.pool === "v4")).toBe(true)
    expect(r.insurance.paidIn).toBeGreaterThan(0n)
    expect(r.insurance.paidOut).toBeGreaterThan(0n)
    expect(r.validators.find((v) => v.id === "v1")?.status).toBe("tombstoned")
    // Every downtime jail ended with the machine telling the operator, who then unjailed.
    const downtime = r.slashes.filter((s) => s.infraction === "downtime").length
    expect(r.operations.applied.unjail ?? 0).toBeGreaterThanOrEqual(downtime - 1)
    // Honest delegators earn.
    expect(r.yields.length).toBeGreaterThan(0)
    for (const y of r.yields) expect(y.apr).toBeGreaterThan(0)
  })

  it("follows positions through unbonding to withdrawal with the staking machines", () => {
    const lines: string[] = []
    const r = runEconomy(config(3, 120), (l) => void lines.push(l))
    const kinds = lines.map((l) => (JSON.parse(l) as { kind: string }).kind)
    expect(kinds).toContain("stake.withdrawable")
    expect(r.operations.applied.withdraw ?? 0).toBeGreaterThan(0)
    // A withdrawal only ever follows a withdrawable notice for that owner.
    const noticed = new Set<string>()
    for (const l of lines) {
      const e = JSON.parse(l) as { kind: string; node: string }
      if (e.kind === "stake.withdrawable") noticed.add(e.node)
      if (e.kind === "ledger.withdraw") expect(noticed.has(e.node)).toBe(true)
    }
  })

  it("property: the same seed gives the same trace hash; another seed another", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = runEconomy(config(seed, 10))
        const b = runEconomy(config(seed, 10))
        const c = runEconomy(config(seed + 1, 10))
        expect(b.traceHash).toBe(a.traceHash)
        expect(c.traceHash).not.toBe(a.traceHash)
      }),
      { numRuns: Math.max(10, Math.floor(Number(process.env.DAI_PROPERTY_RUNS ?? 200) / 4)) },
    )
  })

  it("changes outcomes with its parameters: a larger burn burns more", () => {
    const low = runEconomy(config(5, 20, { "fees.burnFraction": 0.1 }))
    const high = runEconomy(config(5, 20, { "fees.burnFraction": 0.8 }))
    expect(high.supply.burnt).toBeGreaterThan(low.supply.burnt)
    expect(high.supplyConserved && low.supplyConserved).toBe(true)
  })

  it("refuses parameters outside the constitution before running", () => {
    const r = economyConfig({ seed: 1 }, { "fees.burnFraction": 0.95 })
    expect(Result.isFailure(r) && r.failure.message).toMatch(/fees\.burnFraction: 0\.95 is outside the constitution's bounds \[0, 0\.9\]/)
  })
})

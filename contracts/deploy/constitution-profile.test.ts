/**
 * The named constitutions: production is the registry's table; the devnet's lowers the floors of
 * the two governance periods and nothing else, installs its periods, refuses values below its own
 * floors, and says what it changed.
 */
import { describe, expect, it } from "vitest"
import { REGISTRY } from "../../runtime/core/params.ts"
import { DEVNET_CONSTITUTION, PRODUCTION_CONSTITUTION, constitutionNamed, describeConstitution, withValues } from "./constitution-profile.ts"
import { constitutionTable } from "./constitution-table.ts"

describe("constitution profiles", () => {
  it("production installs the registry's table; devnet differs in the governance periods' floors and values only", () => {
    expect(constitutionTable(undefined, PRODUCTION_CONSTITUTION)).toEqual(constitutionTable())
    const prod = constitutionTable()
    const dev = constitutionTable(undefined, DEVNET_CONSTITUTION)
    const changed = dev.filter((r, i) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) !== JSON.stringify(prod[i], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)))
    expect(changed.map((r) => [r.name, r.min, r.max, r.value])).toEqual([
      ["governance.votingPeriod", 5_000n, BigInt(REGISTRY["governance.votingPeriod"].max), 120_000n],
      ["governance.timelock", 5_000n, BigInt(REGISTRY["governance.timelock"].max), 60_000n],
    ])
    // The production floors stay what the registry says.
    expect(REGISTRY["governance.votingPeriod"].min).toBe(3_600_000)
    expect(REGISTRY["governance.timelock"].min).toBe(3_600_000)
  })

  it("takes other periods within its floors and refuses the rest, naming the parameter and the bounds", () => {
    const short = withValues(DEVNET_CONSTITUTION, { "governance.votingPeriod": "10s", "governance.timelock": 5_000 })
    expect(short.values).toEqual({ "governance.votingPeriod": 10_000, "governance.timelock": 5_000 })
    expect(() => withValues(DEVNET_CONSTITUTION, { "governance.timelock": "1s" })).toThrow("governance.timelock: 1s is outside the devnet constitution's bounds [5s, 14d]")
    expect(() => withValues(DEVNET_CONSTITUTION, { "governance.quorum": "0.2" })).toThrow("does not lower its floor")
    expect(() => withValues(PRODUCTION_CONSTITUTION, { "governance.votingPeriod": "10s" })).toThrow("production constitution does not lower its floor")
    expect(() => withValues(DEVNET_CONSTITUTION, { "governance.votingPeriod": "soon" })).toThrow("is not a duration")
  })

  it("is found by name and described loudly; production has nothing to say", () => {
    expect(constitutionNamed("devnet")).toBe(DEVNET_CONSTITUTION)
    expect(constitutionNamed("toString")).toBeUndefined()
    expect(describeConstitution(PRODUCTION_CONSTITUTION)).toEqual([])
    const lines = describeConstitution(DEVNET_CONSTITUTION)
    expect(lines[0]).toContain("never for a network with value at stake")
    expect(lines.slice(1, 3)).toEqual([
      "  governance.votingPeriod  floor 5s (production 1h), installed 2m",
      "  governance.timelock      floor 5s (production 1h), installed 1m",
    ])
  })
})

import { describe, expect, it } from "vitest"
import { runCaptured } from "./dai.ts"

const dai = runCaptured

describe("dai command", () => {
  it("prints an overview for --help and exits 0", async () => {
    const r = await dai("--help")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/usage: dai <command>/)
    expect(r.out).toMatch(/params/)
    expect(r.out).toMatch(/sim economy/)
  })

  it("rejects an unknown command with usage and exit 2", async () => {
    const r = await dai("frobnicate")
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/unknown command "frobnicate"/)
  })

  it("rejects an unknown flag with the command's usage and exit 2", async () => {
    const r = await dai("params", "--bogus")
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/Unknown option '--bogus'/)
    expect(r.err).toMatch(/usage: dai params/)
  })

  it("lists the parameters as a table and as JSON", async () => {
    const table = await dai("params")
    expect(table.code).toBe(0)
    expect(table.out).toMatch(/slashing\.doubleSignFraction\s+0\.05\s+fraction\s+\[0\.01, 1\]/)
    const json = await dai("params", "--json")
    const rows = JSON.parse(json.out) as Array<{ name: string; default: unknown; bounds: string }>
    expect(rows.find((r) => r.name === "staking.unbondingPeriod")).toMatchObject({ default: 21 * 86_400_000, bounds: "[1h, 60d]" })
  })

  it("gives every command a --help", async () => {
    for (const argv of [["params"], ["sim", "economy"]]) {
      const r = await dai(...argv, "--help")
      expect(r.code, argv.join(" ")).toBe(0)
      expect(r.out).toMatch(/usage: dai/)
    }
  })
})

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCaptured } from "./dai.ts"

const dir = mkdtempSync(join(tmpdir(), "dai-main-"))
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string }

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

  it("prints the package's and Node's versions for --version and -V, and in --help", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await dai(flag)
      expect(r.code).toBe(0)
      expect(r.out.trim()).toBe(`dai ${pkg.version} (Node.js ${process.version})`)
    }
    const help = await dai("--help")
    expect(help.out).toContain(`dai ${pkg.version} (Node.js ${process.version})`)
    expect(help.out).toMatch(/-V, --version/)
    expect(help.out).toMatch(/^exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*$/m)
    expect(help.out).toMatch(/^ {2}141 {2}the reader of the output went away/m)
  })

  describe("prints usage for a malformed command line only; a bad file or value gets one line naming it (exit 2 both)", () => {
    const usage = /usage: dai/

    it.each([
      ["an unknown flag", ["sim", "economy", "--bogus"], /Unknown option '--bogus'/],
      ["a flag without its value", ["sim", "economy", "--days"], /--days/],
      ["a missing argument", ["sim", "run"], /missing the scenario FILE/],
      ["an extra argument", ["params", "extra"], /unexpected argument "extra"/],
      ["a malformed --param", ["sim", "economy", "--param", "nonsense"], /--param expects name=value/],
    ])("usage for %s", async (_what, argv, message) => {
      const r = await dai(...argv)
      expect(r.code).toBe(2)
      expect(r.err).toMatch(message)
      expect(r.err).toMatch(usage)
    })

    it.each([
      ["a scenario file that does not exist", ["sim", "run", join(dir, "missing.yaml")], `dai sim run: cannot read scenario ${join(dir, "missing.yaml")}: ENOENT`],
      ["a trace file that does not exist", ["sim", "replay", join(dir, "missing.jsonl")], `dai sim replay: cannot read trace ${join(dir, "missing.jsonl")}: ENOENT`],
      ["a sweep file that does not exist", ["sim", "sweep", join(dir, "missing.yaml")], `dai sim sweep: cannot read sweep ${join(dir, "missing.yaml")}: ENOENT`],
      ["a trace that cannot be written", ["sim", "economy", "--trace", join(dir, "no-dir", "t.jsonl")], `dai sim economy: cannot write the trace ${join(dir, "no-dir", "t.jsonl")}: ENOENT`],
      ["a parameter outside its bounds", ["sim", "economy", "--param", "fees.burnFraction=7"], "dai sim economy: parameter fees.burnFraction: 7 is outside the constitution's bounds [0, 0.9]"],
      ["an unknown parameter", ["sim", "economy", "--param", "fees.nope=1"], /^dai sim economy: .*fees\.nope/],
      ["a number out of range", ["sim", "economy", "--days", "0"], `dai sim economy: --days must be a whole number from 1 to 3650, got "0"`],
      ["a bad seed", ["sim", "economy", "--seed", "x"], /^dai sim economy: --seed: a seed must be a whole number/],
      ["a bad duration", ["sim", "replay", "scenarios/honest-4.yaml", "--from", "soon"], `dai sim replay: --from must be a duration such as 30s or 2m, got "soon"`],
    ])("one line for %s", async (_what, argv, message) => {
      const r = await dai(...argv)
      expect(r.code).toBe(2)
      expect(r.err.trimEnd().split("\n")).toHaveLength(1)
      if (typeof message === "string") expect(r.err.trimEnd()).toBe(message)
      else expect(r.err).toMatch(message)
      expect(r.out).toBe("")
    })

    it("one line for a scenario file that does not parse, naming the file and key", async () => {
      const path = join(dir, "bad.yaml")
      writeFileSync(path, "name: bad\nnetwork: { validators: 4 }\nuntil: { height: 3 }\nevents:\n  - at: { time: 1s }\n    crash: v7\n")
      const r = await dai("sim", "run", path)
      expect(r.code).toBe(2)
      expect(r.err).not.toMatch(usage)
      expect(r.err).toContain(`${path}: events[0].crash: unknown node "v7"`)
    })
  })

  it("gives every command a --help", async () => {
    for (const argv of [["params"], ["sim", "economy"]]) {
      const r = await dai(...argv, "--help")
      expect(r.code, argv.join(" ")).toBe(0)
      expect(r.out).toMatch(/usage: dai/)
    }
  })
})

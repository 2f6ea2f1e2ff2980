/**
 * What `dai` prints where a pipe expects it, checked on the real executable (bin/dai.ts in a child
 * process): a closed pipe ends it quietly with CLOSED_PIPE_EXIT, and each `--json` command writes
 * nothing but its JSON on stdout (`| jq` works; SEED=… and progress go to stderr).
 */
import { execFileSync, spawn } from "node:child_process"
import { closeSync, constants, copyFileSync, mkdtempSync, openSync, writeFileSync } from "node:fs"
import { Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { CLOSED_PIPE_EXIT } from "./command.ts"

const root = join(import.meta.dirname, "..")
const bin = join(root, "bin", "dai.ts")
const dir = mkdtempSync(join(tmpdir(), "dai-pipe-"))
let fifos = 0

interface Exit { readonly code: number | null; readonly out: string; readonly err: string }

/**
 * Run `dai` with stdout into a pipe, as a shell's `|` makes it (a FIFO: Node's own stdio pipes are
 * socket pairs, which `/dev/stdout` cannot be opened on). The reader reads `all`, closes its end
 * after the first line as `| head -1` does, or is gone (`none`) before dai starts, so that dai's
 * first write fails. The commands read `firstLine` print far more than the pipe holds plus one
 * chunk read (64 KiB each on Linux), so they are bound to write after the reader left.
 */
const dai = (argv: readonly string[], reader: "all" | "firstLine" | "none" = "all"): Promise<Exit> => {
  const fifo = join(dir, `fifo-${fifos++}`)
  execFileSync("mkfifo", [fifo])
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const writeFd = openSync(fifo, constants.O_WRONLY)
  return new Promise((resolve, reject) => {
    let out = ""
    let err = ""
    if (reader === "none") closeSync(readFd)
    else {
      const stdout = new Socket({ fd: readFd, readable: true, writable: false }).setEncoding("utf8")
      stdout.on("data", (chunk: string) => {
        out += chunk
        if (reader === "firstLine" && out.includes("\n")) {
          out = out.slice(0, out.indexOf("\n") + 1)
          stdout.destroy()
        }
      })
    }
    const child = spawn(process.execPath, [bin, ...argv], { cwd: root, stdio: ["ignore", writeFd, "pipe"] })
    closeSync(writeFd)
    // stdio[2] is "pipe", so stderr is a stream; an error rather than a silent "" if it were not.
    if (child.stderr === null) return reject(new Error("no stderr pipe"))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => void (err += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, out, err }))
  })
}

describe("a closed pipe ends dai quietly", () => {
  it(`dai params into a pipe nobody reads: no stack, exit ${CLOSED_PIPE_EXIT}`, { timeout: 60_000 }, async () => {
    const r = await dai(["params"], "none")
    expect(r.err).toBe("")
    expect(r.code).toBe(CLOSED_PIPE_EXIT)
  })

  it("dai sim replay TRACE | head -1: the first line, then a quiet exit", { timeout: 60_000 }, async () => {
    const trace = join(dir, "t.jsonl")
    expect((await dai(["sim", "run", "scenarios/honest-4.yaml", "--trace", trace])).code).toBe(0)
    const r = await dai(["sim", "replay", trace], "firstLine")
    expect(r.out).toMatch(/^.*t\.jsonl: \d+ events from/)
    expect(r.err).toBe("")
    expect(r.code).toBe(CLOSED_PIPE_EXIT)
  })

  it("dai sim run … --trace /dev/stdout | head -1: the trace writer stops quietly too", { timeout: 60_000 }, async () => {
    const r = await dai(["sim", "run", "scenarios/honest-4.yaml", "--trace", "/dev/stdout"], "firstLine")
    expect(r.out).toBe("SEED=1\n")
    expect(r.err).toBe("")
    expect(r.code).toBe(CLOSED_PIPE_EXIT)
  })
})

describe("--json prints only JSON on stdout", () => {
  const sweepDir = mkdtempSync(join(tmpdir(), "dai-pipe-sweep-"))
  copyFileSync(join(root, "sim", "sweep", "testdata", "tiny.yaml"), join(sweepDir, "tiny.yaml"))
  writeFileSync(join(sweepDir, "s.yaml"), "name: s\nscenario: tiny.yaml\nseeds: 1\ngrid: { slashing.doubleSignFraction: [0.05] }\nmetrics: [honestApr]\n")

  const commands: ReadonlyArray<readonly string[]> = [
    ["params", "--json"],
    ["sim", "economy", "--json", "--days", "3", "--validators", "3", "--delegators", "5", "--contributors", "1"],
    ["sim", "run", "scenarios/honest-4.yaml", "--json"],
    ["sim", "sweep", join(sweepDir, "s.yaml"), "--json", "--workers", "1", "--out", join(sweepDir, "out")],
    ["sim", "swarm", "--json", "--seeds", "1", "--workers", "1", "--out", join(sweepDir, "swarm")],
  ]
  for (const argv of commands) {
    it(`dai ${argv.slice(0, 2).join(" ")} --json`, { timeout: 120_000 }, async () => {
      const r = await dai(argv)
      expect(r.code, r.err).toBe(0)
      expect(() => JSON.parse(r.out) as unknown, r.out.slice(0, 200)).not.toThrow()
    })
  }

  it("puts SEED=… of sim economy on stderr with --json, on stdout without", { timeout: 60_000 }, async () => {
    const json = await dai(["sim", "economy", "--json", "--seed", "4", "--days", "2"])
    expect(json.err).toMatch(/^SEED=4$/m)
    const text = await dai(["sim", "economy", "--seed", "4", "--days", "2"])
    expect(text.out.split("\n")[0]).toBe("SEED=4")
  })
})

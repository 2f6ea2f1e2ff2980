/** Replaying a trace: the player's model at n is the prefix's; the replay TUI's keys; the CLI's --tui checks. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import { runCommand } from "../cli/command.ts"
import { simCommands } from "../cli/sim.ts"
import { parseTrace, traceLine, type TraceEvent, type TraceValue } from "../runtime/services/trace.ts"
import { parseScenario } from "../sim/scenario/load.ts"
import { runScenario } from "../sim/scenario/run.ts"
import { initialModel, reduceAll } from "./model.ts"
import { items } from "./ring.ts"
import { TracePlayer, traceToTelemetry } from "./player.ts"
import { defaultSpeed, startReplay, type Replay } from "./replay.ts"
import { headlessTerminal, sampleEvents } from "./testkit.ts"

/** The sample events written as a trace file and parsed back (bigints go through their tagged form). */
const traceText = sampleEvents().map((e) => traceLine({ t: e.at, kind: e.kind, node: e.node, ...(e.data as Record<string, TraceValue>) })).join("\n") + "\n"
const trace: TraceEvent[] = parseTrace(traceText)
const telemetry = trace.map(traceToTelemetry)

describe("TracePlayer", () => {
  it("maps a trace line back to the telemetry event it was recorded from", () => {
    expect(telemetry).toEqual(sampleEvents())
  })

  it("a simulator training trace fills the training screen: rounds, accuracy and loss per round", () => {
    const scenario = parseScenario(readFileSync(join(import.meta.dirname, "..", "scenarios", "train-synthetic.yaml"), "utf8"), "train-synthetic.yaml")
    const lines: string[] = []
    const report = runScenario(scenario, { sink: (l) => void lines.push(l) })
    const events = parseTrace(lines.join("\n") + "\n").map(traceToTelemetry)
    const completed = events.filter((e) => e.kind === "training.round.completed")
    expect(completed.length).toBe(report.metrics.rounds)
    const model = reduceAll(initialModel(), events)
    const history = items(model.training.history)
    expect(history.length).toBe(report.metrics.rounds)
    expect(history.at(-1)!.accuracy).toBeCloseTo(report.metrics.accuracy!, 6)
    expect(history.every((h) => typeof h.loss === "number" && h.loss > 0)).toBe(true)
  })

  it("a slash on the ledger is reported once and counts once (equivocation.yaml replayed)", () => {
    const scenario = parseScenario(readFileSync(join(import.meta.dirname, "..", "scenarios", "equivocation.yaml"), "utf8"), "equivocation.yaml")
    const lines: string[] = []
    const report = runScenario(scenario, { sink: (l) => void lines.push(l) })
    const events = parseTrace(lines.join("\n") + "\n").map(traceToTelemetry)
    // The ledger (one for the whole network) reports it; the replicas report their conviction.
    expect(events.filter((e) => e.kind === "stake.slashed").length).toBe(1)
    expect(events.filter((e) => e.kind === "validator.convicted").length).toBeGreaterThanOrEqual(7)
    const model = reduceAll(initialModel(), events)
    const slashed = model.validators.reduce((s, v) => s + v.slashed, 0n)
    expect(Number(slashed / 10n ** 18n)).toBe(report.metrics.totalSlashed)
    expect(model.validators.filter((v) => v.slashed > 0n).map((v) => v.name ?? v.id)).toEqual(["v0"])
    // The log (the newest 500 lines) just after the last report says it once.
    const upToLast = reduceAll(initialModel(), events.slice(0, events.findLastIndex((e) => e.kind === "stake.slashed") + 1))
    expect(items(upToLast.log).filter((l) => / slashed \(/.test(l.text))).toHaveLength(1)
  })

  it("any walk of seeks, steps forward and back gives the model of the prefix", () => {
    const prefix = (n: number) => reduceAll(initialModel(), telemetry.slice(0, n))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.oneof(fc.integer({ min: -40, max: 40 }).map((d) => ({ d })), fc.nat({ max: 40 }).map((to) => ({ to }))), { maxLength: 12 }), (every, moves) => {
        const p = new TracePlayer(telemetry, initialModel(), every)
        for (const m of moves) {
          if ("to" in m) p.seek(m.to)
          else if (m.d >= 0) p.forward(m.d)
          else p.back(-m.d)
          expect(p.position).toBe(Math.max(0, Math.min(telemetry.length, p.position)))
          expect(p.model).toEqual(prefix(p.position))
        }
      }),
      { numRuns: 100 },
    )
  })

  it("playUntil applies the events up to a time, at most max of them", () => {
    const p = new TracePlayer(telemetry, initialModel())
    expect(p.playUntil(1200, 1000)).toBe(telemetry.filter((e) => e.at <= 1200).length)
    expect(p.model.height).toBe(2)
    expect(p.playUntil(1e9, 3)).toBe(3)
    const rest = telemetry.length - p.position
    expect(p.playUntil(1e9, 1e6)).toBe(rest)
    expect(p.atEnd).toBe(true)
  })
})

describe("replay TUI", () => {
  let replays: Replay[] = []
  afterEach(() => {
    for (const r of replays) r.tui.destroy()
    replays = []
  })
  const open = (options: { self?: string; from?: number } = {}) => {
    const term = headlessTerminal()
    const r = startReplay(trace, { input: term.input, output: term.output, terminal: term.terminal, ...options })
    replays.push(r)
    const keys = async (...seq: string[]) => {
      for (const k of seq) {
        term.type(k)
        await new Promise((res) => setImmediate(res))
      }
      r.tui.render()
      return r.tui.text()
    }
    return { r, keys }
  }

  it("→ and ← step one event, End and Home jump; the screens show the model there", async () => {
    const { r, keys } = open()
    let rows = await keys("\x1b[C", "\x1b[C")
    expect(r.player.position).toBe(2)
    expect(r.tui.model).toEqual(reduceAll(initialModel(), telemetry.slice(0, 2)))
    expect(rows[0]).toMatch(new RegExp(`⏸ 2/${trace.length} `))
    rows = await keys("\x1b[F") // End
    expect(r.player.atEnd).toBe(true)
    expect(rows.find((x) => /Height/.test(x))).toMatch(/Height\s+2/)
    await keys("\x1b[D")
    expect(r.tui.model).toEqual(reduceAll(initialModel(), telemetry.slice(0, trace.length - 1)))
    await keys("\x1b[H") // Home
    expect(r.player.position).toBe(0)
  })

  it("space plays to the end and stops; + and - change the speed", async () => {
    const { r, keys } = open()
    const speed = r.speed
    await keys("+")
    expect(r.speed).toBeGreaterThan(speed)
    await keys("-", "-")
    expect(r.speed).toBeLessThan(speed)
    await keys("G", "+", "+", "+", "+", "+", "+")
    await keys(" ") // at the end: plays again from the start
    expect(r.playing).toBe(true)
    while (r.playing) await new Promise((res) => setTimeout(res, 50))
    expect(r.player.atEnd).toBe(true)
    expect(r.tui.model).toEqual(reduceAll(initialModel(), telemetry))
  })

  it("shows the chosen node's view, from the chosen time", async () => {
    const { r, keys } = open({ self: "v1", from: 7_000 })
    const rows = await keys()
    expect(r.tui.model.self).toBe("v1")
    expect(r.player.position).toBe(telemetry.findIndex((e) => e.at >= 7_000))
    expect(rows.find((x) => /^ Node/.test(x))).toMatch(/Node\s+v1 0x7152/)
  })

  it("q resolves done; staking is not offered", async () => {
    const { r, keys } = open()
    await keys("s")
    expect(r.tui.ui.status).toMatch(/not available/)
    await keys("q")
    await r.done
  })

  it("the default speed plays a trace in about a minute", () => {
    expect(defaultSpeed([{ t: 0, kind: "a" }, { t: 33_000, kind: "b" }])).toBe(1)
    expect(defaultSpeed([{ t: 0, kind: "a" }, { t: 3 * 86_400_000, kind: "b" }])).toBe(10_000)
  })
})

describe("dai sim replay --tui", () => {
  const dir = mkdtempSync(join(tmpdir(), "dai-tui-"))
  const file = join(dir, "trace.jsonl")
  writeFileSync(file, traceText)
  const replay = simCommands.find((c) => c.name === "replay")!
  const run = async (...args: string[]) => {
    const err: string[] = []
    const code = await runCommand("dai sim", replay, args, { out: () => {}, err: (t) => void err.push(t) })
    return { code, err: err.join("\n") }
  }

  it("refuses filters the TUI cannot honour, a node not in the trace, and a non-terminal", async () => {
    expect(await run(file, "--tui", "--kind", "block")).toMatchObject({ code: 2, err: expect.stringMatching(/--kind cannot be combined with --tui/) })
    expect(await run(file, "--tui", "--node", "v1", "--node", "v2")).toMatchObject({ code: 2, err: expect.stringMatching(/give --node once/) })
    expect(await run(file, "--tui", "--node", "v9")).toMatchObject({ code: 2, err: expect.stringMatching(/--node v9: .* has no event of that node/) })
    // Tests run without a terminal on stdin/stdout.
    expect(await run(file, "--tui")).toMatchObject({ code: 2, err: expect.stringMatching(/--tui needs an interactive terminal/) })
  })
})

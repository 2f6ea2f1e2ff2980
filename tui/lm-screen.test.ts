/**
 * The language-model view model (pure: served ranges with tokens per second from two reports, paid
 * generations with their rate, cost and route; other nodes' events and malformed fields ignored) and its
 * screen (7) drawn by blessed on an in-memory 80×24 terminal.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { startTui, type Tui } from "./app.ts"
import { generationRate, initialLm, LM_LIMITS, reduceLm } from "./lm-model.ts"
import { initialModel, reduce } from "./model.ts"
import { headlessTerminal, sampleEvents } from "./testkit.ts"

const ev = (at: number, kind: string, data: Record<string, unknown>, node = "v0"): TelemetryEvent => ({ at, node, kind, data })
const MILLI = 10n ** 15n

/** A generation of `n` tokens, one every 100 ms from t = 1000, through two stages. */
const generation = (id: string, n: number, done = true): TelemetryEvent[] => [
  ev(900, "lm.generate.started", { id, prompt: "hi" }),
  ev(950, "lm.generate.route", { id, stages: [{ from: 0, to: 1, peer: "p1" }, { from: 2, to: 3, peer: "p2" }] }),
  ...Array.from({ length: n }, (_, i) => ev(1000 + 100 * i, "lm.generate.token", { id, index: i, token: 97, text: "a", cost: String(3n * MILLI) })),
  ...(done ? [ev(1000 + 100 * n, "lm.generate.done", { id, tokens: n, text: "a".repeat(n), paid: String(BigInt(n) * 3n * MILLI), held: "0" })] : []),
]

describe("the LM view model", () => {
  it("served ranges: sessions, tokens, billed; tokens per second between two reports", () => {
    let v = reduceLm(initialLm, "lm.stage.stats", 10_000, { from: 2, to: 3, sessions: 1, served: 40, billed: 40, delivered: 32 })
    v = reduceLm(v, "lm.stage.stats", 10_000, { from: 0, to: 1, sessions: 0, served: 0, billed: 0, delivered: 0 })
    expect(v.ranges.map((r) => [r.from, r.to, r.perSecond])).toEqual([[0, 1, undefined], [2, 3, undefined]])
    v = reduceLm(v, "lm.stage.stats", 15_000, { from: 2, to: 3, sessions: 2, served: 90, billed: 90, delivered: 88 })
    expect(v.ranges[1]).toMatchObject({ sessions: 2, served: 90, billed: 90, delivered: 88, perSecond: 10 })
    // A malformed report changes nothing.
    expect(reduceLm(v, "lm.stage.stats", 16_000, { from: "x", to: 3 })).toBe(v)
  })

  it("generations: tokens, rate, cost per token, route, paid; bounded; other nodes' are not ours", () => {
    let m = initialModel("v0")
    for (const e of generation("g1", 11)) m = reduce(m, e)
    for (const e of generation("g2", 3, false)) m = reduce(m, { ...e, node: "v1" })
    expect(m.lm.generations).toHaveLength(1)
    const g = m.lm.generations[0]!
    expect(g).toMatchObject({ id: "g1", state: "done", tokens: 11, cost: 3n * MILLI, paid: 33n * MILLI, route: ["0-1@p1", "2-3@p2"], text: "a".repeat(11) })
    expect(generationRate(g)).toBe(10)
    // Tokens are not logged one by one; the start, route and end are.
    expect(m.log.old.length + m.log.recent.length).toBeLessThan(8)
    let v = initialLm
    for (let i = 0; i < LM_LIMITS.generations + 5; i++) v = reduceLm(v, "lm.generate.started", i, { id: `g${i}` })
    expect(v.generations).toHaveLength(LM_LIMITS.generations)
    expect(v.generations.at(-1)!.id).toBe(`g${LM_LIMITS.generations + 4}`)
  })
})

let open: Tui[] = []
afterEach(() => {
  for (const t of open) t.destroy()
  open = []
})

describe("LM screen (7)", () => {
  it("shows the served blocks with tokens per second, and the generations with rate, cost, paid and route", async () => {
    const term = headlessTerminal(80, 24)
    const tui = startTui({ input: term.input, output: term.output, terminal: term.terminal })
    open.push(tui)
    for (const e of sampleEvents()) tui.push(e)
    tui.push(ev(10_000, "lm.stage.stats", { from: 0, to: 1, sessions: 1, served: 10, billed: 10, delivered: 8 }))
    tui.push(ev(12_000, "lm.stage.stats", { from: 0, to: 1, sessions: 1, served: 30, billed: 30, delivered: 24 }))
    // A stage node's report relayed to this screen (the devnet's node0) names its server.
    tui.push(ev(12_500, "lm.stage.stats", { from: 2, to: 3, server: "node2", sessions: 2, served: 5, billed: 5, delivered: 0 }))
    for (const e of generation("0123456789abcdef", 11)) tui.push(e)
    term.type("7")
    await new Promise((r) => setImmediate(r))
    tui.render()
    const rows = tui.text()
    const row = (re: RegExp) => rows.find((r) => re.test(r)) ?? `(no row matches ${re})`
    expect(row(/Language model/)).toMatch(/serving blocks 0-1, blocks 2-3 on node2/)
    expect(row(/^\s*0-1\s/)).toMatch(/0-1\s+this\s+1\s+30\s+10\.0\s+30\s+24/)
    expect(row(/^\s*2-3\s/)).toMatch(/2-3\s+node2\s+2\s+5\s+—\s+5\s+0/)
    expect(row(/0123456789abcdef/)).toMatch(/0123456789abcdef\s+done\s+11\s+10\.0\s+0\.003\s+0\.033\s+0-1@p1 → 2-3@/)
  })
})

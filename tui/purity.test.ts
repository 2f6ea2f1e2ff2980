/**
 * The view model and the screens stay pure: only app.ts, replay.ts and startup.ts (the blessed shell
 * and its timers) may import blessed or touch timers, so everything else runs the same in a test, a replay
 * and a live node.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

const DIR = import.meta.dirname
const SHELL = new Set(["app.ts", "replay.ts", "startup.ts", "testkit.ts"])
const FORBIDDEN = [/from\s+["']blessed["']/, /\bsetTimeout\b/, /\bsetInterval\b/, /\bDate\s*\.\s*now\b/, /\bperformance\s*\./, /\bMath\s*\.\s*random\b/, /from\s+["']node:/]

const pure = readdirSync(DIR, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !SHELL.has(f))

describe("tui purity", () => {
  it("finds the pure files", () => {
    expect(pure).toEqual(expect.arrayContaining(["model.ts", "ring.ts", "fields.ts", "chart.ts", "controls.ts", "player.ts", join("screens", "overview.ts")]))
  })

  it.each(pure)("%s uses no blessed, timers, clock, randomness or node: modules", (file) => {
    const code = readFileSync(join(DIR, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")
    for (const re of FORBIDDEN) expect(code, `${file} matches ${re}`).not.toMatch(re)
  })
})

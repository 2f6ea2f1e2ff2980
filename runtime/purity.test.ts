/**
 * Keeps the pure layers pure: no source file under runtime/core or runtime/machines may read the
 * wall clock, draw host randomness or set host timers. Time and randomness reach them as arguments
 * or through XState's clock, so the same code runs for real and, deterministically, in the simulator.
 * Comments are ignored (a doc may say "never call Date.now"); strings and code are not.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"

const ROOT = join(import.meta.dirname, "..")
const PURE_DIRS = ["runtime/core", "runtime/machines"]

const FORBIDDEN: ReadonlyArray<readonly [string, RegExp]> = [
  ["Date.now", /\bDate\s*\.\s*now\b/],
  ["new Date(", /\bnew\s+Date\s*\(/],
  ["Math.random", /\bMath\s*\.\s*random\b/],
  ["performance.", /\bperformance\s*\./],
  ["setTimeout", /\bsetTimeout\b/],
  ["setInterval", /\bsetInterval\b/],
  ["setImmediate", /\bsetImmediate\b/],
  ["process.hrtime", /\bprocess\s*\.\s*hrtime\b/],
]

/** Every non-test .ts file under `dir` (relative to the repo root), recursively; none if it is missing. */
function sourceFiles(dir: string): string[] {
  let entries
  try {
    entries = readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort()
}

/**
 * `source` with comments blanked out (newlines kept, so line numbers hold). A small scanner rather
 * than a regex, so `//` inside a string or template is not mistaken for a comment (a template nested
 * inside `${}` or a regex literal containing a quote could confuse it; neither matters here).
 */
function stripComments(source: string): string {
  let out = ""
  let i = 0
  let quote: string | undefined // inside '...', "..." or `...`
  while (i < source.length) {
    const c = source[i]!
    const next = source[i + 1]
    if (quote !== undefined) {
      out += c
      if (c === "\\") out += source[++i] ?? ""
      else if (c === quote) quote = undefined
      i++
    } else if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2)
      const stop = end === -1 ? source.length : end + 2
      out += source.slice(i, stop).replace(/[^\n]/g, " ")
      i = stop
    } else {
      if (c === "'" || c === '"' || c === "`") quote = c
      out += c
      i++
    }
  }
  return out
}

/** Each forbidden use in `source`, as `file:line: what — the line`. */
function findImpurities(file: string, source: string): string[] {
  const hits: string[] = []
  const original = source.split("\n")
  stripComments(source)
    .split("\n")
    .forEach((line, i) => {
      for (const [what, re] of FORBIDDEN) {
        if (re.test(line)) hits.push(`${file}:${i + 1}: ${what} — ${original[i]!.trim()}`)
      }
    })
  return hits
}

describe("purity of runtime/core and runtime/machines", () => {
  const files = PURE_DIRS.flatMap(sourceFiles)

  it("scans the files that exist", () => {
    expect(files).toContain("runtime/core/params.ts")
    expect(files.some((f) => f.endsWith(".test.ts"))).toBe(false)
  })

  it("finds no wall clock, host randomness or host timers", () => {
    const hits = files.flatMap((f) => findImpurities(f, readFileSync(join(ROOT, f), "utf8")))
    expect(hits, `impure code (pass time and randomness in, or use XState delays):\n${hits.join("\n")}`).toEqual([])
  })

  it("catches each forbidden call, and ignores comments but not strings", () => {
    const src = [
      "const a = Date.now()", // 1
      "const b = new Date(0)", // 2
      "const c = Math.random()", // 3
      "const d = performance.now()", // 4
      "setTimeout(f, 1); setInterval(f, 1); setImmediate(f)", // 5
      "const e = process.hrtime.bigint()", // 6
      "// Date.now() in a line comment is fine", // 7
      "/* Math.random() in a block", // 8
      "   comment is fine */ const x = 1", // 9
      'const url = "http://example" ; Date.now()', // 10: `//` in a string is not a comment
      "const f = toUpdate(x) // mentions setTimeout", // 11
      "const g = myDate.nowish + dateNow", // 12
    ].join("\n")
    const lines = findImpurities("x.ts", src).map((h) => h.split(" — ")[0])
    expect(lines).toEqual([
      "x.ts:1: Date.now",
      "x.ts:2: new Date(",
      "x.ts:3: Math.random",
      "x.ts:4: performance.",
      "x.ts:5: setTimeout",
      "x.ts:5: setInterval",
      "x.ts:5: setImmediate",
      "x.ts:6: process.hrtime",
      "x.ts:10: Date.now",
    ])
  })
})

/**
 * The architecture as a test (docs/architecture.md draws it):
 *
 *  - purity: no source file under runtime/core or runtime/machines may read the wall clock, draw
 *    host randomness or set host timers. Time and randomness reach them as arguments or through
 *    XState's clock, so the same code runs for real and, deterministically, in the simulator;
 *  - import rules: each layer imports only what is below it (IMPORT_RULES); every broken rule is
 *    reported with the file and line that breaks it;
 *  - no import cycles among production files.
 *
 * Comments are ignored (a doc may say "never call Date.now"); strings and code are not.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, normalize, relative } from "node:path"
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

// ---------------------------------------------------------------------------------------------
// Import rules

/** Files that support tests only: they may import what tests may (fast-check, vitest, the sim). */
const isTestSupport = (file: string): boolean =>
  file.endsWith(".test.ts")
  || /(^|\/)(testkit|test-harness|test-node)\.ts$/.test(file)
  || file.endsWith(".suite.ts")
  || file.startsWith("runtime/services/compliance/")
  || file.startsWith("contracts/test/")
  || file.startsWith("sim/harness/")
  || file.startsWith("bench/")

/** One import: a relative one resolved to a repo path, or a package name. */
interface Import {
  readonly file: string
  readonly line: number
  /** Repo-relative path for a relative import, else undefined. */
  readonly path: string | undefined
  /** The specifier as written. */
  readonly spec: string
}

/** Every import, export-from and dynamic import() of a file (comments stripped). */
export function importsOf(file: string, source: string): Import[] {
  const code = stripComments(source)
  const out: Import[] = []
  const res = [
    /(?:^|[;\n}])\s*(?:import|export)\s[^;'"`]*?\bfrom\s*["']([^"']+)["']/g,
    /(?:^|[;\n])\s*import\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ]
  for (const re of res) {
    for (const m of code.matchAll(re)) {
      const spec = m[1]!
      const at = m.index! + m[0].lastIndexOf(spec)
      const line = code.slice(0, at).split("\n").length
      const path = spec.startsWith(".") ? normalize(join(dirname(file), spec)) : undefined
      out.push({ file, line, path, spec })
    }
  }
  return out
}

interface Rule {
  /** What the rule says, as a person reads it. */
  readonly name: string
  /** The files it applies to. */
  readonly applies: (file: string) => boolean
  /** Why an import breaks it, or undefined when it is allowed. */
  readonly check: (i: Import) => string | undefined
}

const under = (path: string | undefined, ...dirs: string[]) => path !== undefined && dirs.some((d) => path === d || path.startsWith(`${d}/`))
const pkg = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!)
const production = (prefix: string) => (file: string) => file.startsWith(prefix) && !isTestSupport(file)

/** Relative imports must stay inside `allowed`; packages must be among `packages` (a name or a prefix ending in "/"). */
const only = (allowed: readonly string[], packages: readonly string[]) => (i: Import): string | undefined => {
  if (i.path !== undefined) return under(i.path, ...allowed) ? undefined : `imports ${i.path} (allowed: ${allowed.join(", ")})`
  const name = pkg(i.spec)
  return packages.some((p) => (p.endsWith("/") ? name.startsWith(p) : name === p)) ? undefined : `imports the package ${i.spec} (allowed: ${packages.join(", ") || "none"})`
}
const never = (forbidden: readonly string[]) => (i: Import): string | undefined =>
  under(i.path, ...forbidden) ? `imports ${i.path}` : undefined

export const IMPORT_RULES: readonly Rule[] = [
  {
    name: "runtime/core imports nothing above it, and no package with I/O",
    applies: production("runtime/core/"),
    check: only(["runtime/core"], ["effect", "@noble/", "node:crypto"]),
  },
  {
    name: "runtime/machines import only core and xstate",
    applies: production("runtime/machines/"),
    check: only(["runtime/core", "runtime/machines"], ["xstate"]),
  },
  {
    name: "runtime/services (the ports) import only core and each other",
    applies: production("runtime/services/"),
    check: only(["runtime/core", "runtime/services"], ["effect"]),
  },
  {
    name: "runtime/actors import core, machines, services and actors: never adapters, node, api or sim",
    applies: production("runtime/actors/"),
    check: only(["runtime/core", "runtime/machines", "runtime/services", "runtime/actors"], ["effect", "xstate"]),
  },
  {
    name: "runtime/adapters never import actors, the node's root, the API, the CLI, the simulator or the TUI",
    applies: production("runtime/adapters/"),
    check: never(["runtime/actors", "runtime/node", "runtime/api", "runtime/cli", "cli", "sim", "tui"]),
  },
  {
    name: "nothing in runtime/ imports the simulator, the CLI or the TUI",
    applies: production("runtime/"),
    check: never(["sim", "cli", "runtime/cli", "tui"]),
  },
  {
    name: "sim never imports the real node's root, its API or the CLI; of the real adapters only tfjs and data (real training on small models)",
    applies: production("sim/"),
    check: (i) => {
      if (under(i.path, "runtime/node", "runtime/api", "runtime/cli", "cli")) return `imports ${i.path}`
      if (under(i.path, "runtime/adapters") && !under(i.path, "runtime/adapters/tfjs", "runtime/adapters/data")) return `imports ${i.path}`
      return undefined
    },
  },
  {
    name: "tui reads only the telemetry and trace ports (and token units)",
    applies: production("tui/"),
    check: (i) => (i.path === undefined || under(i.path, "tui", "runtime/services/telemetry.ts", "runtime/services/trace.ts", "runtime/core/units.ts") ? undefined : `imports ${i.path}`),
  },
  {
    name: "nothing in production imports contracts/test/ or a test file",
    applies: (file) => !isTestSupport(file),
    check: (i) => (under(i.path, "contracts/test") || i.path?.endsWith(".test.ts") === true ? `imports ${i.path}` : undefined),
  },
  {
    name: "runtime tests import of the simulator only its kernel and harness (sim/kernel, sim/harness, the simulated ports in sim/adapters)",
    applies: (file) => file.startsWith("runtime/") && isTestSupport(file),
    check: (i) => (under(i.path, "sim") && !under(i.path, "sim/kernel", "sim/harness", "sim/adapters") ? `imports ${i.path}` : undefined),
  },
]

/** Every .ts file of the repo that git would track (node_modules and build output aside). */
function repoFiles(): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "cache" || e.name === "artifacts") continue
      const path = dir === "" ? e.name : `${dir}/${e.name}`
      if (e.isDirectory()) walk(path)
      else if (e.name.endsWith(".ts")) out.push(path)
    }
  }
  walk("")
  return out.sort()
}

/** Each broken rule, as `file:line: rule — why`. */
export function ruleViolations(files: ReadonlyMap<string, string>, rules: readonly Rule[] = IMPORT_RULES): string[] {
  const hits: string[] = []
  for (const [file, source] of files) {
    const applicable = rules.filter((r) => r.applies(file))
    if (applicable.length === 0) continue
    for (const i of importsOf(file, source)) {
      for (const r of applicable) {
        const why = r.check(i)
        if (why !== undefined) hits.push(`${file}:${i.line}: ${r.name} — ${why}`)
      }
    }
  }
  return hits
}

/** Import cycles among production files (each as a → b → … → a), by Tarjan's strongly connected components. */
export function importCycles(files: ReadonlyMap<string, string>): string[][] {
  const graph = new Map<string, string[]>()
  for (const [file, source] of files) {
    if (isTestSupport(file)) continue
    graph.set(file, importsOf(file, source).map((i) => i.path).filter((p): p is string => p !== undefined && files.has(p) && !isTestSupport(p)))
  }
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    indices.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!))
    }
    if (low.get(v) === indices.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v)
  return out
}

describe("import rules", () => {
  const files = new Map(repoFiles().map((f) => [f, readFileSync(join(ROOT, f), "utf8")]))

  it("reads the layers that exist", () => {
    for (const dir of ["runtime/core", "runtime/machines", "runtime/services", "runtime/actors", "runtime/adapters", "runtime/node", "sim/kernel", "sim/world", "tui"]) {
      expect(existsSync(join(ROOT, dir)) && statSync(join(ROOT, dir)).isDirectory(), dir).toBe(true)
      expect([...files.keys()].some((f) => f.startsWith(`${dir}/`)), dir).toBe(true)
    }
  })

  it.each(IMPORT_RULES.map((r) => [r.name, r] as const))("%s", (_name, rule) => {
    const hits = ruleViolations(files, [rule])
    expect(hits, `files that break the rule:\n${hits.join("\n")}`).toEqual([])
  })

  it("no import cycles among production files", () => {
    const cycles = importCycles(files).map((c) => c.join(" ↔ "))
    expect(cycles, `import cycles:\n${cycles.join("\n")}`).toEqual([])
  })

  it("finds each kind of import and names the file and line that breaks a rule", () => {
    const src = [
      'import { a } from "../adapters/x.ts"', // 1
      'import type { B } from "../core/b.ts"', // 2
      "export { c } from './c.ts'", // 3
      'const d = await import("../../sim/world/world.ts")', // 4
      '// import { e } from "../adapters/e.ts"', // 5: a comment
      'const s = "from \'nowhere\'"', // 6: a string, not an import
      'import "libp2p"', // 7
    ].join("\n")
    const found = importsOf("runtime/actors/f.ts", src).map((i) => `${i.line}:${i.path ?? i.spec}`).sort()
    expect(found).toEqual(["1:runtime/adapters/x.ts", "2:runtime/core/b.ts", "3:runtime/actors/c.ts", "4:sim/world/world.ts", "7:libp2p"])
    const hits = ruleViolations(new Map([["runtime/actors/f.ts", src]]), IMPORT_RULES.filter((r) => r.name.startsWith("runtime/actors")))
    expect(hits.map((h) => h.split(":").slice(0, 2).join(":")).sort()).toEqual(["runtime/actors/f.ts:1", "runtime/actors/f.ts:4", "runtime/actors/f.ts:7"])
  })

  it("finds a cycle", () => {
    const files = new Map([["runtime/a.ts", 'import "./b.ts"'], ["runtime/b.ts", 'import "./c.ts"'], ["runtime/c.ts", 'import "./a.ts"'], ["runtime/d.ts", 'import "./a.ts"']])
    expect(importCycles(files)).toEqual([["runtime/a.ts", "runtime/b.ts", "runtime/c.ts"]])
  })
})

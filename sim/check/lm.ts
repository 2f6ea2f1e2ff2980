/**
 * The language-model pipeline (`expect.minTokens`, `expect.lm`), judged at the end of the run:
 *  - `minTokens` (liveness): at least this many tokens were generated (in generations that finished) and
 *    paid for at every stage — each token's step at each hop is covered by a paid debit note on the one
 *    ledger (read from the ledger's jobs, not from the clients' word);
 *  - `lm.minFailovers` (liveness): at least this many stages were replaced mid-generation, their
 *    session's inputs replayed to another server;
 *  - `lm.minRestarts` (liveness): at least this many generations were begun again after a referee
 *    refuted one of their stages;
 *  - `lm.maxShare` (correctness): each listed server computed at most this share of its block range's
 *    token steps (a slow stage is routed around).
 */
import type { Economy } from "../../runtime/core/econ/index.ts"
import { noteRanges } from "../../runtime/actors/market/work.ts"
import type { GenerationRecord, LmBooks } from "../world/lm-client.ts"
import type { Checker, Expectation } from "./expectation.ts"

export interface LmExpectation {
  readonly minTokens?: number | undefined
  readonly lm?: {
    readonly minFailovers?: number | undefined
    readonly minRestarts?: number | undefined
    readonly maxShare?: Readonly<Record<string, number>> | undefined
  } | undefined
}

export interface LmProbe {
  readonly economy: () => Economy
  readonly books: LmBooks
  /** Per provider: the block range it serves (`from-to`). */
  readonly rangeOf: ReadonlyMap<string, string>
  readonly served: () => ReadonlyMap<string, { readonly served: number; readonly wrong: number }>
  /** Whether `peer` returned a wrong output in `client`'s session `session`. */
  readonly spoiled: (peer: string, client: string, session: string) => boolean
}

/** What the pipeline did, for `--json`. */
export interface LmMetrics {
  /** Generations finished (every token asked for), failed (no route, or too many failovers), begun again (a stage refuted). */
  readonly lmGenerations: number
  readonly lmGenerationsFailed: number
  readonly lmRestarts: number
  /** Stages replaced mid-generation (inputs replayed). */
  readonly lmFailovers: number
  /** Tokens of the finished generations, and of them those paid for at every stage. */
  readonly lmTokens: number
  readonly lmTokensPaid: number
  /** Tokens of finished generations that came through a wrong stage (not caught while they ran). */
  readonly lmWrongTokens: number
  /** Virtual time from a generation's start to its first token, and per token after it (medians, ms). */
  readonly lmFirstTokenMs: number | null
  readonly lmMsPerToken: number | null
  /** Per server: token steps computed (billed), and their share of its block range's. */
  readonly lmServed: Readonly<Record<string, number>>
  readonly lmShare: Readonly<Record<string, number>>
}

const median = (xs: readonly number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Whether unit `unit` of ledger job `job` is covered by a paid note. */
const unitPaid = (economy: Economy, job: number, unit: number): boolean => {
  const j = economy.job(job)
  if (j === undefined) return false
  return noteRanges(j).some(({ note, from }) => note.state === "paid" && unit >= from && unit < from + Number(note.units))
}

/** Tokens of `g` paid for at every hop: the session serving token k at a hop is its last segment begun at or before k. */
export const tokensPaid = (economy: Economy, g: GenerationRecord): number => {
  let paid = 0
  for (let k = 0; k < g.tokens; k++) {
    const all = g.hops.every((h) => {
      const seg = h.segments.filter((s) => s.firstToken <= k).at(-1)
      return seg !== undefined && unitPaid(economy, seg.job, k - seg.firstToken)
    })
    if (all) paid++
  }
  return paid
}

/** The pipeline's books at the end. */
export const lmMetrics = (probe: LmProbe): LmMetrics => {
  const economy = probe.economy()
  const gens = probe.books.generations
  const done = gens.filter((g) => g.state === "done")
  const served = probe.served()
  const perRange = new Map<string, number>()
  for (const [p, s] of served) perRange.set(probe.rangeOf.get(p)!, (perRange.get(probe.rangeOf.get(p)!) ?? 0) + s.served)
  const spoiled = (g: GenerationRecord) => g.hops.some((h) => h.segments.some((s) => probe.spoiled(s.peer, g.requester, s.session)))
  return {
    lmGenerations: done.length,
    lmGenerationsFailed: gens.filter((g) => g.state === "failed").length,
    lmRestarts: gens.filter((g) => g.state === "restarted").length,
    lmFailovers: gens.reduce((s, g) => s + g.failovers, 0),
    lmTokens: done.reduce((s, g) => s + g.tokens, 0),
    lmTokensPaid: done.reduce((s, g) => s + tokensPaid(economy, g), 0),
    lmWrongTokens: done.filter(spoiled).reduce((s, g) => s + g.tokens, 0),
    lmFirstTokenMs: median(done.map((g) => g.firstTokenAt! - g.started)),
    lmMsPerToken: median(done.filter((g) => g.tokens > 1).map((g) => (g.finishedAt! - g.firstTokenAt!) / (g.tokens - 1))),
    lmServed: Object.fromEntries([...served].map(([p, s]) => [p, s.served])),
    lmShare: Object.fromEntries([...served].map(([p, s]) => [p, (perRange.get(probe.rangeOf.get(p)!) ?? 0) === 0 ? 0 : s.served / perRange.get(probe.rangeOf.get(p)!)!])),
  }
}

/** The pipeline checker (yields nothing when the scenario expects nothing of the pipeline). */
export const lmChecker = (expected: LmExpectation, probe: LmProbe | undefined): Checker => ({
  expectations: () => {
    if (probe === undefined || (expected.minTokens === undefined && expected.lm === undefined)) return []
    const m = lmMetrics(probe)
    const out: Expectation[] = []
    const summary = `${m.lmGenerations} generations finished, ${m.lmGenerationsFailed} failed, ${m.lmRestarts} begun again, ${m.lmFailovers} failovers`
    if (expected.minTokens !== undefined) {
      out.push({ name: "lm.tokens", kind: "liveness", passed: m.lmTokensPaid >= expected.minTokens, detail: `${m.lmTokensPaid} of ${m.lmTokens} tokens generated were paid for at every stage (expected at least ${expected.minTokens}); ${summary}` })
    }
    const lm = expected.lm ?? {}
    if (lm.minFailovers !== undefined) {
      out.push({ name: "lm.failovers", kind: "liveness", passed: m.lmFailovers >= lm.minFailovers, detail: `${m.lmFailovers} stages replaced mid-generation with their inputs replayed (expected at least ${lm.minFailovers})` })
    }
    if (lm.minRestarts !== undefined) {
      out.push({ name: "lm.restarts", kind: "liveness", passed: m.lmRestarts >= lm.minRestarts, detail: `${m.lmRestarts} generations begun again after a refuted stage (expected at least ${lm.minRestarts}); ${m.lmWrongTokens} tokens delivered through a wrong stage` })
    }
    if (lm.maxShare !== undefined) {
      const over = Object.entries(lm.maxShare).filter(([p, max]) => (m.lmShare[p] ?? 0) > max)
      const shares = Object.entries(lm.maxShare).map(([p, max]) => `${p} ${((m.lmShare[p] ?? 0) * 100).toFixed(1)} % (at most ${(max * 100).toFixed(1)} %)`).join(", ")
      out.push({ name: "lm.share", kind: "correctness", passed: over.length === 0, detail: `share of its block range's token steps: ${shares}` })
    }
    return out
  },
})

/**
 * The client's side of verifying paid pipeline inference (issue 14, item 6): it records every input it
 * sent a paid stage and every output it got back (with the middle leaves of the stage's trace each
 * result carried: a note's word must be the root it rebuilds, core/lm/trace.ts), per job and session, and before confirming a job's
 * new debit notes has a share of them (`market.verificationRate`, drawn from the node's randomness as
 * the market's requester draws its checks) re-executed by a referee (referee.ts), which runs that
 * stage's blocks only on the inputs the client gives it.
 *
 * A note the referee finds wrong is disputed (all the job's pending notes are frozen, as for any market
 * job) and the referee is asked to resolve it (it bisects the note against the stage server and
 * publishes a fraud proof the others check by running one block); every other active validator is
 * given the note's evidence to keep (`share`: it judges by the proof, or by the evidence if no proof
 * comes), since a validator signs only a verdict it judged itself and the verdict needs ≥ 2/3 of the
 * validators' power: the committee-signed verdict (runtime/actors/market/
 * verdicts.ts) refutes the notes, slashes the stage's provider and compensates the client; the rest of
 * the job's escrow comes back at its deadline (payment.ts `refund`). A note found right is confirmed as
 * before. A sampled note no referee answered about in time (a slow or unreachable referee) stays owed:
 * it is asked again, of a referee drawn anew, up to `attempts` times, and only then confirmed unchecked
 * (`lm.verify.unanswered`) — one slow re-execution does not pay a wrong stage.
 *
 * Referees are drawn among the active validators that announce the lm referee on the backend the note
 * names (its word binds it: core/lm/backend.ts; lm-referees.ts), all active validators when none does.
 */
import { Effect, Result } from "effect"
import type { JobView } from "../../core/market/index.ts"
import { lmNoteBackend } from "../../core/lm/backend.ts"
import { decodeVerifiedReply, encodeVerifyRequest, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, type LmInput, type VerifiedReply } from "../../core/lm/wire.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import { lmClientLeaves, type LmRows } from "../../core/lm/trace.ts"
import { traceRoot } from "../../core/market/bisection.ts"
import { call, chance, randomInt, reasonOf, type MarketContext } from "../market/context.ts"
import { encodeMarketMessage, MARKET_TOPIC } from "../market/wire.ts"
import { noteRanges } from "../market/work.ts"
import { lmRefereeFinder } from "./lm-referees.ts"
import { parseLmJobKind } from "./paid.ts"
import { inputRows } from "./stage-step.ts"

export interface LmAuditOptions {
  /** The paying account (the jobs' requester; it disputes). */
  readonly account: string
  /** Share of notes checked (default: the ledger's `market.verificationRate`). */
  readonly rate?: number
  /** Referees of a backend to ask, as network peers (default: the ledger's active validators' operators announcing the lm referee on it, else all of them: lm-referees.ts). */
  readonly referees?: (backend: string) => readonly string[]
  /** How long a referee has to answer (ms, default 10 s; never past the job's dispute window). */
  readonly timeoutMs?: number
  /** How many times a sampled note is asked before it is confirmed unchecked (default 3). */
  readonly attempts?: number
}

/** What reviewing a job's new notes decided. */
export type Review = "confirm" | "disputed"

export interface LmAudit {
  /** One forward answered on `job`'s session `session`: its input, and the result (its rows, and the middle leaves of the stage's trace it carried). */
  record(job: number, session: string, input: LmInput, output: Float32Array, result?: ForwardShape): void
  /** Check the sampled ones among `job`'s new pending notes; `disputed` when a referee refuted one (the job is then disputed on the ledger). */
  review(job: JobView): Promise<Review>
  /** Whether every pending note of `job` has been through the draw. */
  reviewed(job: JobView): boolean
  stop(): void
}

/**
 * How long the client waits between looks for the last replies of a note delivered before they
 * reached it (ms). It looks again until half the note's dispute window has passed (the other half is
 * the referee's): a fixed three looks (0.75 s) let a loaded machine's late reply confirm the last
 * stage's only note of a generation unchecked.
 */
const RECORDS_WAIT_MS = 250
/** How long a validator sent a disputed note's evidence has to re-execute it before the client stops waiting (ms). */
const SHARE_TIMEOUT_MS = 60_000
/**
 * How long after a dispute a validator that kept the evidence (`kept`: it judges by the first
 * referee's fraud proof, one block) is left before it is asked to resolve anyway (ms): then it judges
 * the note itself (bisecting, or re-executing the stage whole when the server is silent).
 */
export const FALLBACK_RESOLVE_MS = 30_000

/** A result's shape and the middle leaves it carried (core/lm/wire.ts `result`). */
export interface ForwardShape {
  readonly start: number
  readonly length: number
  readonly dim: number
  readonly output: "activations" | "logits"
  readonly trace?: readonly string[]
}

/** What a referee is given of one note: the session's inputs up to its end, which are the note's, the trace's leaves as the client rebuilt them. */
interface Evidence {
  readonly first: number
  readonly inputs: LmInput[]
  readonly leaves: readonly Uint8Array[]
}

interface SessionLog {
  readonly session: string
  readonly inputs: LmInput[]
  /** Each result as a trace row (undefined: recorded without its shape). */
  readonly outputs: Array<LmRows | undefined>
  /** The middle leaves each result carried. */
  readonly traces: Array<readonly string[]>
}

/** An audit of the paid stages of `o.account`'s generations. */
export const makeLmAudit = (ctx: MarketContext, o: LmAuditOptions): LmAudit => {
  const logs = new Map<number, SessionLog[]>()
  const seen = new Set<number>()
  /** Sampled notes not answered yet, with the number of questions asked about each. */
  const owed = new Map<number, number>()
  const attempts = Math.max(1, o.attempts ?? 3)
  /** Questions out, by nonce: the referee asked and who waits for its answer. */
  const waiting = new Map<number, { readonly referee: string; readonly done: (r: VerifiedReply | undefined) => void }>()
  let nonce = 0
  let stopped = false
  let unsubscribe: Effect.Effect<void> | undefined
  const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => new Promise((resolve, reject) => call(ctx, e, resolve, reject))

  ctx.run(Effect.map(ctx.network.subscribe(LM_VERIFIED_TOPIC, (env) => {
    const d = decodeVerifiedReply(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    const w = waiting.get(d.success.nonce)
    // Only the referee asked, about the note asked, is heard.
    if (w !== undefined && w.referee === env.from) w.done(d.success)
  }), (u) => {
    unsubscribe = u
    if (stopped) ctx.run(u)
  }))

  const referees = lmRefereeFinder(ctx, o.referees)

  /** The evidence of the note covering forwards [from, from + units) of `job` (a stage of `layers` blocks), or why the client cannot give it. */
  const evidence = (job: number, from: number, units: number, layers: number) => {
    let at = 0
    for (const log of logs.get(job) ?? []) {
      if (from < at + log.inputs.length) {
        const first = from - at
        // A note never spans sessions (the server delivers what is billed at a session's close).
        if (first + units > log.inputs.length) return { error: `forwards ${from}..${from + units - 1} pass the end of session ${log.session}`, recording: log === logs.get(job)!.at(-1) }
        const inputs = log.inputs.slice(0, first + units)
        // The note's trace: leaf 0 the inputs sent, leaf L the outputs received, the middle ones as the server's last result of the note gave them.
        const outputs = log.outputs.slice(0, first + units)
        const middle = log.traces[first + units - 1] ?? []
        if (outputs.some((r) => r === undefined) || middle.length !== layers - 1) return { first, inputs, leaves: [], root: undefined }
        const leaves = lmClientLeaves(inputs.map(inputRows), middle.map(fromHex), outputs as LmRows[])
        return { first, inputs, leaves, root: traceRoot(leaves) }
      }
      at += log.inputs.length
    }
    return { error: `the client answered only ${at} forwards of job ${job}` }
  }

  /** Send `referee` the evidence of `note`; `answered` gets its answer, or undefined when none came within `withinMs`. */
  const send = (referee: string, j: JobView, note: number, e: Evidence, range: { from: number; to: number }, withinMs: number, answered: (r: VerifiedReply | undefined) => void, defer = false) => {
    const n = ++nonce
    const timer = ctx.clock.setTimeout(() => done(undefined), withinMs)
    const done = (r: VerifiedReply | undefined) => {
      ctx.clock.clearTimeout(timer)
      waiting.delete(n)
      answered(r)
    }
    waiting.set(n, { referee, done: (r) => (r === undefined || (r.job === j.id && r.note === note)) && done(r) })
    const x0 = e.inputs[0]!
    const bytes = encodeVerifyRequest({ v: 1, t: "verify", nonce: n, job: j.id, note, from: range.from, to: range.to, first: e.first, input: x0.input, dim: x0.dim, inputs: e.inputs, leaves: e.leaves.map(toHex), ...(defer ? { defer: true as const } : {}) })
    ctx.run(Effect.catch(ctx.network.send(referee, LM_VERIFY_TOPIC, bytes), () => Effect.sync(() => done(undefined))))
  }

  /** Ask one referee about one note; undefined when none answered in time. */
  const ask = (referee: string, j: JobView, note: number, e: Evidence, range: { from: number; to: number }, withinMs: number) =>
    new Promise<VerifiedReply | undefined>((resolve) => {
      ctx.emit("lm.verify.asked", { job: j.id, note, referee, forwards: e.inputs.length })
      send(referee, j, note, e, range, withinMs, resolve)
    })

  const resolveBy = (validator: string, job: number) =>
    ctx.run(Effect.ignore(ctx.network.send(validator, MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job }))))

  /**
   * The committee's verdict needs ≥ 2/3 of the validators' power, and a validator signs only what it
   * judged itself: every other active validator gets the refuted note's evidence, to keep (`defer`: it
   * checks the evidence binds to the note's word and answers `kept` without re-executing). The first
   * referee bisects the note against the stage server and publishes a fraud proof with its signature;
   * a validator that hears it re-executes the one block the proof names and signs (verdicts.ts). One
   * that kept the evidence is asked to resolve after FALLBACK_RESOLVE_MS if the job is still disputed
   * (no proof came: a silent server, a first referee that lied or left): it then judges the note itself
   * from what it kept, so a lying first referee is outvoted. A validator that judged on receipt (`right`
   * / `wrong`) is asked at once.
   */
  const share = (validators: readonly string[], j: JobView, note: number, e: Evidence, range: { from: number; to: number }) => {
    for (const v of validators) {
      send(v, j, note, e, range, SHARE_TIMEOUT_MS, (r) => {
        ctx.emit("lm.verify.shared", { job: j.id, note, referee: v, outcome: r?.outcome ?? "timeout" })
        if (stopped) return
        // Judged (either way): it signs the verdict its own re-execution gives, so a lying first referee is outvoted.
        if (r?.outcome === "wrong" || r?.outcome === "right") return resolveBy(v, j.id)
        if (r?.outcome !== "kept") return
        ctx.clock.setTimeout(() => {
          if (stopped) return
          call(ctx, ctx.ledger.marketJob(j.id), (now) => {
            if (now?.state !== "disputed" || stopped) return
            ctx.emit("lm.verify.fallback-resolve", { job: j.id, note, referee: v })
            resolveBy(v, j.id)
          })
        }, FALLBACK_RESOLVE_MS)
      }, true)
    }
  }

  const review = async (j: JobView): Promise<Review> => {
    const range = parseLmJobKind(j.kind)
    if (range === undefined) return "confirm"
    const rate = o.rate ?? ctx.params()["market.verificationRate"]
    const sampled = noteRanges(j).filter(({ note }) =>
      note.state === "pending" && (owed.has(note.id) || (!seen.has(note.id) && (seen.add(note.id), chance(ctx, rate)) && owed.set(note.id, 0) !== undefined)))
    for (const { note, from } of sampled) {
      const e = evidence(j.id, from, Number(note.units), range.to - range.from + 1)
      if ("error" in e && e.recording === true && ctx.now() < note.deliveredAt + ctx.params()["market.disputeWindow"] / 2 && !stopped) {
        // The server delivers a note as it bills the forward that fills it, before that forward's reply reaches
        // this client: look again shortly rather than confirm it unchecked.
        await new Promise<void>((resolve) => ctx.clock.setTimeout(resolve, RECORDS_WAIT_MS))
        continue
      }
      if ("error" in e) {
        owed.delete(note.id)
        ctx.emit("lm.verify.skipped", { job: j.id, note: note.id, reason: e.error })
        continue
      }
      // The backend the note names, when the client's records give its word on one (core/lm/backend.ts).
      const backend = e.root === undefined ? undefined : lmNoteBackend(note.resultHash, e.root)
      if (backend === undefined) {
        // The stage committed to something else than what it sent, or a forward the client never read is in the note, or a backend no referee can name: nothing a referee can judge from these records.
        owed.delete(note.id)
        ctx.emit("lm.verify.unmatched", { job: j.id, note: note.id })
        continue
      }
      const all = await referees(backend)
      if (stopped) {
        owed.delete(note.id)
        continue
      }
      // A dispute is taken only while the job's newest pending note is in its window: no answer after that can be acted on.
      const windowLeft = Math.max(...j.notes.filter((n) => n.state === "pending").map((n) => n.deliveredAt)) + ctx.params()["market.disputeWindow"] - ctx.now()
      if (windowLeft <= 0) {
        ctx.emit("lm.verify.unanswered", { job: j.id, note: note.id, attempts: owed.get(note.id) ?? 0, reason: "the dispute window closed before a referee answered" })
        owed.delete(note.id)
        continue
      }
      const asked = (owed.get(note.id) ?? 0) + 1
      owed.set(note.id, asked)
      const referee = all.length === 0 ? undefined : all[randomInt(ctx, all.length)]!
      const r = referee === undefined ? undefined : await ask(referee, j, note.id, e, range, Math.min(o.timeoutMs ?? 10_000, windowLeft))
      if (referee !== undefined) ctx.emit("lm.verify.answered", { job: j.id, note: note.id, referee, outcome: r?.outcome ?? "timeout", attempt: asked })
      if (r === undefined) {
        // Unanswered: asked again at the next review, until the attempts are spent.
        if (asked < attempts) continue
        ctx.emit("lm.verify.unanswered", { job: j.id, note: note.id, attempts: asked, reason: referee === undefined ? "no active validator to referee" : "no referee answered in time" })
      }
      owed.delete(note.id)
      if (r?.outcome !== "wrong" || referee === undefined) continue
      // Refuted: freeze the job's pending notes and have the referee start the committee's verdict.
      const disputed = await run(ctx.ledger.marketOp({ type: "dispute", job: j.id, by: o.account })).then(() => true, (err: unknown) => {
        ctx.emit("lm.dispute-refused", { job: j.id, reason: reasonOf(err) })
        return false
      })
      if (!disputed) continue
      const others = all.filter((v) => v !== referee)
      ctx.emit("lm.disputed", { job: j.id, note: note.id, referee, shared: others.length, backend })
      resolveBy(referee, j.id)
      share(others, j, note.id, e, range)
      return "disputed"
    }
    return "confirm"
  }

  return {
    record: (job, session, input, output, result) => {
      let l = logs.get(job)
      if (l === undefined) logs.set(job, (l = []))
      let last = l[l.length - 1]
      if (last?.session !== session) l.push((last = { session, inputs: [], outputs: [], traces: [] }))
      last.inputs.push(input)
      last.outputs.push(result === undefined ? undefined : { kind: result.output, start: result.start, length: result.length, dim: result.dim, data: output })
      last.traces.push(result?.trace ?? [])
    },
    review,
    reviewed: (j) => j.notes.every((n) => n.state !== "pending" || (seen.has(n.id) && !owed.has(n.id))),
    stop: () => {
      stopped = true
      for (const w of [...waiting.values()]) w.done(undefined)
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}

/**
 * A paid stage server defends its notes in a dispute (docs/lm.md, "A dispute the committee decides").
 *
 * A dispute freezes every pending note of a job, and the committee signs "provider right" only when
 * each signer re-executed every frozen note; the client shares the evidence of the note it found wrong
 * only (or none, if it lies). So the server keeps, for each note it delivered and that is not settled
 * yet, the same evidence a client sends (the VerifyRequest: the session's inputs up to the note's end,
 * which of them are the note's, the leaves of the note's trace — what the note's word binds; the leaves
 * are kept with the evidence, since the server's store of whole traces for bisection, trace-work.ts,
 * holds only the last 256), and while the ledger shows one of its jobs disputed it sends the evidence
 * of every frozen note it holds to every referee of its backend (lm-referees.ts) to keep (`defer`: the
 * referee checks it binds to the note's word and answers `kept`, re-executing nothing yet).
 *
 * A dispute the client's referee started is judged by bisection: that referee publishes a fraud proof
 * and the others sign by running its one block (runtime/actors/market/verdicts.ts), so the stage's
 * evidence must not make every validator re-execute the whole stage at once. Only if the job is still
 * disputed `resolveAfterMs` after the server first saw it (no proof came: a client that disputed and
 * sent nothing, a first referee that lied or left) does the server ask each validator that kept the
 * evidence of every frozen note to resolve (the market's `resolve`): each then judges from what it
 * kept — its own re-execution of every frozen note, compared with the server's trace — and signs the
 * verdict it gives: "provider right" for an honest stage, which a lying client or referee cannot then
 * keep unpaid. A wrong stage gains nothing by it: its evidence binds to its word, and the re-execution
 * refutes it.
 *
 * Bounded: a note's evidence is dropped once the ledger shows it paid or refuted (or its job final),
 * and at most `maxNotes` are held (the oldest dropped first). The ledger is read every `pollMs` only
 * while something is held; the evidence is sent again, and the validators asked again to resolve,
 * every `resendMs` while the dispute stays open (a lost message, a validator that restarted, one that
 * was asked before it had every note's evidence).
 */
import { Effect, Result } from "effect"
import type { JobView } from "../../core/market/index.ts"
import { decodeVerifiedReply, encodeVerifyRequest, LM_VERIFIED_TOPIC, LM_VERIFY_TOPIC, MAX_LM_VERIFY_BYTES } from "../../core/lm/wire.ts"
import { call, type MarketContext } from "../market/context.ts"
import { encodeMarketMessage, MARKET_TOPIC } from "../market/wire.ts"
import { FALLBACK_RESOLVE_MS } from "./audit.ts"
import { lmRefereeFinder } from "./lm-referees.ts"
import type { NoteEvidence } from "./paid.ts"

export interface StageDefenseOptions {
  /** The stage's provider account (the jobs' provider). */
  readonly account: string
  /** The blocks it serves, and the backend its notes commit to. */
  readonly from: number
  readonly to: number
  readonly backend: string
  /** The validators to send evidence to (default: the active validators announcing the backend's referee, else every active one). */
  readonly referees?: (backend: string) => readonly string[]
  /** How often the ledger is read while notes are held (ms, default 2000). */
  readonly pollMs?: number
  /** How often the evidence of a dispute still open is sent again (ms, default 20 s). */
  readonly resendMs?: number
  /** How long after it first sees a dispute the server asks the validators to resolve it themselves (ms, default audit.ts FALLBACK_RESOLVE_MS: a fraud proof comes first). */
  readonly resolveAfterMs?: number
  /** Most notes' evidence held (default 1024). */
  readonly maxNotes?: number
}

export interface StageDefense {
  /** Keep the evidence of `note` of `job`, just delivered. */
  keep(job: number, note: number, evidence: NoteEvidence): void
  /** Notes whose evidence is held now. */
  readonly held: () => number
  stop(): void
}

/** Defense nonces start here: a node that is also a client (audit.ts, nonces from 1) never mistakes one's reply for the other's. */
const NONCE_BASE = 2 ** 52

/** Start keeping and defending `o.account`'s notes. */
export const startStageDefense = (ctx: MarketContext, o: StageDefenseOptions): StageDefense => {
  const pollMs = o.pollMs ?? 2_000
  const resendMs = o.resendMs ?? 20_000
  const resolveAfterMs = o.resolveAfterMs ?? FALLBACK_RESOLVE_MS
  const maxNotes = Math.max(1, o.maxNotes ?? 1_024)
  const referees = lmRefereeFinder(ctx, o.referees)
  /** By `job:note`, in delivery order. */
  const held = new Map<string, { readonly job: number; readonly note: number; readonly evidence: NoteEvidence }>()
  /** Open disputes defended, by `job:frozen note ids`: when first seen, when the evidence was last sent and the validators asked to resolve, which notes each validator kept. */
  const disputes = new Map<string, { readonly since: number; sentAt: number; resolvedAt: number; readonly answered: Map<string, Set<number>> }>()
  /** Questions out, by nonce. */
  const waiting = new Map<number, { readonly validator: string; readonly job: number; readonly note: number; readonly key: string }>()
  let nonce = NONCE_BASE
  let timer: unknown
  let stopped = false
  let unsubscribe: Effect.Effect<void> | undefined

  const resolveBy = (validator: string, job: number) =>
    ctx.run(Effect.ignore(ctx.network.send(validator, MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "resolve", job }))))

  /** Whether `validator` answered about every frozen note of dispute `key` this server holds. */
  const answeredAll = (key: string, validator: string, notes: readonly number[]) => {
    const got = disputes.get(key)?.answered.get(validator)
    return got !== undefined && notes.every((n) => got.has(n))
  }
  const mineOf = (key: string) => {
    const [job, ids] = key.split(":") as [string, string]
    return ids.split(",").map(Number).filter((n) => held.has(`${job}:${n}`))
  }

  ctx.run(Effect.map(ctx.network.subscribe(LM_VERIFIED_TOPIC, (env) => {
    const d = decodeVerifiedReply(env.data)
    if (Result.isFailure(d)) return // the audit on the same node (if any) reports it; a reply is never this server's to fault twice
    const w = waiting.get(d.success.nonce)
    if (w === undefined || w.validator !== env.from || w.job !== d.success.job || w.note !== d.success.note) return
    waiting.delete(d.success.nonce)
    const r = d.success
    ctx.emit("lm.stage.defended", { job: r.job, note: r.note, validator: w.validator, outcome: r.outcome, ...(r.reason === undefined ? {} : { reason: r.reason }) })
    // Kept (or judged already): the validator holds the note's evidence and can judge it when asked to resolve.
    if (r.outcome !== "kept" && r.outcome !== "right" && r.outcome !== "wrong") return
    const dispute = disputes.get(w.key)
    if (dispute === undefined) return
    let got = dispute.answered.get(w.validator)
    if (got === undefined) dispute.answered.set(w.validator, (got = new Set()))
    got.add(r.note)
  }, { maxBytes: MAX_LM_VERIFY_BYTES }), (u) => {
    unsubscribe = u
    if (stopped) ctx.run(u)
  }))

  const ask = (validator: string, j: JobView, note: number, key: string) => {
    const e = held.get(`${j.id}:${note}`)?.evidence
    if (e === undefined) return
    const n = nonce++
    waiting.set(n, { validator, job: j.id, note, key })
    if (waiting.size > 4 * maxNotes) waiting.delete(waiting.keys().next().value!)
    const x0 = e.inputs[0]!
    const bytes = encodeVerifyRequest({ v: 1, t: "verify", nonce: n, job: j.id, note, from: o.from, to: o.to, first: e.first, input: x0.input, dim: x0.dim, inputs: e.inputs, leaves: e.leaves, defer: true })
    ctx.run(Effect.ignore(ctx.network.send(validator, LM_VERIFY_TOPIC, bytes)))
  }

  /** `j` is disputed: send every validator the evidence of each frozen note held (again, every resendMs, to those that have not answered). */
  const defend = (j: JobView) => {
    const frozen = j.notes.filter((n) => n.state === "disputed").map((n) => n.id)
    const key = `${j.id}:${frozen.join(",")}`
    const mine = mineOf(key)
    if (mine.length === 0) return
    let d = disputes.get(key)
    if (d === undefined) disputes.set(key, (d = { since: ctx.now(), sentAt: -Infinity, resolvedAt: -Infinity, answered: new Map() }))
    const now = ctx.now()
    // No fraud proof settled it in time: every validator holding every frozen note's evidence judges it itself (again every resendMs while it stays open).
    if (now - d.since >= resolveAfterMs && now - d.resolvedAt >= resendMs) {
      const ready = [...d.answered.keys()].filter((v) => answeredAll(key, v, mine))
      if (ready.length > 0) {
        d.resolvedAt = now
        ctx.emit("lm.stage.resolve", { job: j.id, validators: ready.length })
        for (const v of ready) resolveBy(v, j.id)
      }
    }
    if (now - d.sentAt < resendMs) return
    d.sentAt = now
    const dispute = d
    void referees(o.backend).then((validators) => {
      if (stopped) return
      ctx.emit("lm.stage.defend", { job: j.id, frozen: frozen.length, held: mine.length, validators: validators.length })
      for (const v of validators) for (const note of mine) if (!(dispute.answered.get(v)?.has(note) ?? false)) ask(v, j, note, key)
    })
  }

  const forgetDisputes = (job: number) => {
    for (const k of [...disputes.keys()]) if (k.startsWith(`${job}:`)) disputes.delete(k)
    for (const [n, w] of [...waiting]) if (w.job === job) waiting.delete(n)
  }

  const look = () => {
    timer = undefined
    if (stopped || held.size === 0) return
    const jobs = [...new Set([...held.values()].map((h) => h.job))]
    let left = jobs.length
    const next = () => {
      if (--left === 0 && !stopped && held.size > 0 && timer === undefined) timer = ctx.clock.setTimeout(look, pollMs)
    }
    for (const job of jobs) {
      call(ctx, ctx.ledger.marketJob(job), (j) => {
        if (j === undefined || j.state === "settled" || j.state === "expired" || j.provider !== o.account) {
          for (const [k, h] of [...held]) if (h.job === job) held.delete(k)
          forgetDisputes(job)
        } else {
          for (const n of j.notes) if (n.state === "paid" || n.state === "refuted") held.delete(`${job}:${n.id}`)
          if (j.state === "disputed") defend(j)
          else forgetDisputes(job)
        }
        next()
      }, next)
    }
  }

  return {
    keep: (job, note, evidence) => {
      if (stopped) return
      held.set(`${job}:${note}`, { job, note, evidence })
      while (held.size > maxNotes) {
        const oldest = held.keys().next().value!
        held.delete(oldest)
        ctx.emit("lm.stage.evidence-dropped", { note: oldest, reason: `more than ${maxNotes} notes unsettled` })
      }
      if (timer === undefined) timer = ctx.clock.setTimeout(look, pollMs)
    },
    held: () => held.size,
    stop: () => {
      if (stopped) return
      stopped = true
      ctx.clock.clearTimeout(timer)
      held.clear()
      disputes.clear()
      waiting.clear()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}

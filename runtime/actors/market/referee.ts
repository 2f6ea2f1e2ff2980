/**
 * A referee: an active validator re-executes what a requester asks it to check, and on a disputed
 * job takes part in the committee's verdict (verdicts.ts): it signs the verdict its own
 * re-execution gives, gossips the signature, and whoever gathers ≥ 2/3 of a committee snapshot's
 * power submits it (`resolveDispute`, which the ledger accepts only with those signatures: no single
 * validator decides a slash). Its verdict is its own re-execution's, never the requester's claim: an
 * honest provider is never slashed for a result the re-execution reproduces. A validator that cannot
 * re-execute some frozen note (`reexecute` gives undefined: no model, or no evidence of a language-model
 * stage's note) and finds none wrong signs nothing, for either side: "provider right" needs every frozen
 * note reproduced. It judges again when asked again (a re-sent verdict signature), so one whose
 * re-execution comes late still signs.
 *
 * A referee started without `keys` (a node that holds no consensus key) still answers checks but
 * signs no verdict.
 *
 * A dispute is judged by bisection when the referee has the work's layered side (`trace`,
 * bisect.ts): for each frozen note it finds the first layer where the provider's committed trace
 * leaves its own and re-executes only that layer from the agreed input; the verdict's record names
 * the layer (telemetry `market.referee.judged {…, layers}`, `disputes()`). Without `trace` (a work
 * with no layers yet) it re-executes the frozen notes whole, as the check does. For kinds
 * `wholeWhenSilent` names (a language-model stage: docs/lm.md), a provider silent in the bisection is
 * not refuted for it: the note is judged by its whole re-execution instead.
 *
 * Verde's saving: a `wrong` note's bisection yields a fraud proof (core/market/fraud-proof.ts), which
 * this referee publishes with its refuting signature (verdicts.ts). A validator that hears one checks
 * it by re-executing that one layer (`market.verdict.proof`) and, when it holds, judges the job wrong
 * without computing its own trace (`market.referee.judged {…, proof: true, reexecuted: 1}`); a
 * judgement already under way is decided by it at once. A proof never makes the provider right: that
 * verdict still needs this referee's own bisection.
 */
import { Effect, Result } from "effect"
import { checkFraudProof } from "../../core/market/fraud-proof.ts"
import type { JobView } from "../../core/market/index.ts"
import { call, type MarketContext } from "./context.ts"
import { describeRecord, startBisector, type BisectionRecord, type Bisector } from "./bisect.ts"
import { startVerdicts, type HeldProof, type NoteProof, type ProofVerdict, type VerdictKeys, type Verdicts } from "./verdicts.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "./wire.ts"
import { noteRanges, wrongNotes, type Reexecute, type TraceWork } from "./work.ts"

export interface RefereeOptions {
  /** The validator's operator account on the ledger (default: the node's name). */
  readonly account?: string
  readonly reexecute: Reexecute
  /** The validator's consensus key, which the committee snapshots name: it signs verdicts. */
  readonly keys?: VerdictKeys
  /** The work's layered side: disputes are judged by bisection (bisect.ts) instead of whole re-execution. */
  readonly trace?: TraceWork
  /** Whether a job of `kind` is judged by bisection with `trace` (default: every kind); any other is judged by `reexecute` whole. */
  readonly bisects?: (kind: string) => boolean
  /** How long a provider has to answer a bisection query (ms, default bisect.ts BISECTION_TIMEOUT_MS). */
  readonly bisectionTimeout?: number
  /**
   * Whether a note of `kind` whose provider is silent in its bisection (no answer in time, or
   * `trace-none`) is judged by its whole re-execution (`reexecute`) instead of refuted for the silence
   * (default: refuted). A language-model stage's: its server may have restarted and kept no trace, and
   * the referee holds the evidence to re-execute the stage whole (docs/lm.md, "Verification").
   */
  readonly wholeWhenSilent?: (kind: string) => boolean
}

export interface RefereeActor {
  /** Checks answered, results refuted, verdicts this node signed and submitted (the ledger took). */
  readonly stats: () => { readonly checks: number; readonly refuted: number; readonly signed: number; readonly verdicts: number }
  /** The records of the notes this referee bisected (newest last, at most MAX_RECORDS). */
  readonly disputes: () => readonly BisectionRecord[]
  stop(): void
}

/** Bisection records a referee keeps. */
const MAX_RECORDS = 1_000

/** Start answering checks and disputes on `ctx`. */
export const startReferee = (ctx: MarketContext, o: RefereeOptions): RefereeActor => {
  const self = o.account ?? ctx.name
  const stats = { checks: 0, refuted: 0 }
  /** Own judgements of disputes, by job and frozen notes (a job disputed again freezes other notes). */
  const judged = new Map<string, boolean>()
  /** The proof a refuting judgement stands on (found by this referee's bisection, or a peer's it accepted), by the same key. */
  const proofs = new Map<string, HeldProof>()
  /** Judgements under way (a bisection takes messages), with who waits for them. */
  const judging = new Map<string, Array<(providerRight: boolean | undefined, proof?: HeldProof) => void>>()
  const records: BisectionRecord[] = []
  const bisector: Bisector | undefined = o.trace === undefined ? undefined : startBisector(ctx, o.trace, o.bisectionTimeout === undefined ? {} : { timeoutMs: o.bisectionTimeout })
  /** Bisect every frozen note of `j`; the provider is right unless one of them refutes it. */
  const bisectJob = (b: Bisector, j: JobView, done: (providerRight: boolean | undefined, layers: readonly BisectionRecord[]) => void) => {
    const frozen = noteRanges(j).filter(({ note }) => note.state === "disputed")
    const out: Array<BisectionRecord | undefined> = []
    let left = frozen.length
    if (left === 0) return done(undefined, [])
    frozen.forEach(({ note, from }, i) =>
      b.note(j, note, from, (r) => {
        out[i] = r
        if (r !== undefined) {
          records.push(r)
          if (records.length > MAX_RECORDS) records.shift()
        }
        if (--left > 0) return
        const got = out.filter((x): x is BisectionRecord => x !== undefined)
        // Refuted by any note it could not defend; `inconsistent` (this referee's own trace in error) refutes nothing;
        // a `moot` note (judged meanwhile by another verdict) leaves this referee nothing to sign.
        if (got.some((x) => x.outcome === "moot")) return done(undefined, got)
        // A silent provider of a kind judged whole when silent: the note's whole re-execution decides it (undefined: this node cannot).
        const whole = (x: BisectionRecord): boolean | undefined => {
          const at = frozen.find((f) => f.note.id === x.note)!
          const honest = o.reexecute({ job: j.id, kind: j.kind, from: at.from, units: Number(at.note.units) }, at.note.resultHash)
          ctx.emit("market.referee.silent-whole", { job: j.id, note: x.note, ...(honest === undefined ? {} : { providerRight: honest.toLowerCase() === at.note.resultHash.toLowerCase() }) })
          return honest === undefined ? undefined : honest.toLowerCase() === at.note.resultHash.toLowerCase()
        }
        const judgedWhole = o.wholeWhenSilent?.(j.kind) === true
        const rights = got.map((x) => (judgedWhole && x.outcome === "silent" ? whole(x) : x.outcome === "agree" || x.outcome === "inconsistent"))
        const wrong = rights.includes(false)
        // Right only when every frozen note was judged: a note this node could not compute (no trace of it) clears nobody.
        done(wrong ? false : got.length < frozen.length || rights.includes(undefined) ? undefined : true, got)
      }))
  }
  /** Disputes this node could not judge (emitted once each). */
  const unable = new Set<string>()
  /**
   * Whether the provider was right about `j`'s frozen notes, by this node's own re-execution: wrong as
   * soon as one note's re-execution differs; right only when every note was re-executed and matched;
   * undefined when some note could not be re-executed here (`reexecute` gave undefined: no model, no
   * evidence) and none was found wrong — a validator that cannot judge signs nothing, for either side.
   */
  const judgeFrozen = (j: JobView): boolean | undefined => {
    let unknown = false
    for (const { note, from } of noteRanges(j)) {
      if (note.state !== "disputed") continue
      const honest = o.reexecute({ job: j.id, kind: j.kind, from, units: Number(note.units) }, note.resultHash)
      if (honest === undefined) unknown = true
      else if (honest.toLowerCase() !== note.resultHash.toLowerCase()) return false
    }
    return unknown ? undefined : true
  }
  const keyOf = (j: JobView) => `${j.id}:${j.notes.filter((n) => n.state === "disputed").map((n) => n.id).join(",")}`
  /** Forget judgements of long-gone disputes (a bounded memory). */
  const remember = (key: string, right: boolean, proof?: HeldProof) => {
    judged.set(key, right)
    if (proof !== undefined) proofs.set(key, proof)
    if (judged.size > MAX_RECORDS) {
      const oldest = judged.keys().next().value!
      judged.delete(oldest)
      proofs.delete(oldest)
    }
  }
  /** Judge `j` wrong by an accepted proof: no own trace. Answers whoever waits for a judgement under way. */
  const byProof = (j: JobView, key: string, p: NoteProof) => {
    const held: HeldProof = { proof: p, found: false }
    remember(key, false, held)
    ctx.emit("market.referee.judged", { job: j.id, providerRight: false, layer: p.proof.layer, records: `note ${p.note}: fraud proof at layer ${p.proof.layer}`, reexecuted: 1, proof: true })
    const waiting = judging.get(key) ?? []
    judging.delete(key)
    for (const d of waiting) d(false, held)
  }
  /** A peer's fraud proof against a frozen note of `job`: checked by re-executing its one layer (core/market/fraud-proof.ts). */
  const checkProof = (job: number, p: NoteProof, done: (r: ProofVerdict) => void): void => {
    const work = o.trace
    if (work === undefined) return done({ kind: "unknown" })
    call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state !== "disputed") return done({ kind: "unknown" })
      const at = noteRanges(j).find(({ note }) => note.id === p.note && note.state === "disputed")
      // Not a frozen note of the job's dispute (judged meanwhile, or another dispute's): nothing to decide.
      if (at === undefined) return done({ kind: "unknown" })
      const key = keyOf(j)
      // Decided already (by this referee's own judgement or an earlier proof): nothing to check, no layer re-executed again.
      if (judged.has(key)) return done({ kind: "unknown" })
      const task = { job, kind: j.kind, from: at.from, units: Number(at.note.units) }
      const word = at.note.resultHash.toLowerCase()
      const layers = work.layers(task, word)
      if (layers === undefined) return done({ kind: "unknown" })
      const r = checkFraudProof(p.proof, {
        layers, bindsRoot: (root) => work.word(task, word, root) === word, reexecute: (layer, input) => work.layer(task, word, layer, input),
      })
      ctx.emit("market.verdict.proof", { job, note: p.note, layer: p.proof.layer, accepted: r.ok, ...(r.ok ? {} : { reason: r.reason }) })
      if (!r.ok) return done({ kind: "refused", reason: r.reason })
      byProof(j, key, p)
      done({ kind: "accepted" })
    }, () => done({ kind: "unknown" }))
  }
  const judge = (job: number, done: (providerRight: boolean | undefined, proof?: HeldProof) => void): void =>
    call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state !== "disputed") return done(undefined)
      const key = keyOf(j)
      const right = judged.get(key)
      if (right !== undefined) return done(right, proofs.get(key))
      const waiting = judging.get(key)
      if (waiting !== undefined) return void waiting.push(done)
      if (bisector === undefined || o.bisects?.(j.kind) === false) {
        const r = judgeFrozen(j)
        if (r === undefined) {
          // Nothing to sign: judged again when asked again (a verdict signature re-sent, the evidence arrived meanwhile).
          if (!unable.has(key)) ctx.emit("market.referee.unable", { job, notes: j.notes.filter((n) => n.state === "disputed").length })
          unable.add(key)
          if (unable.size > MAX_RECORDS) unable.delete(unable.values().next().value!)
          return done(undefined)
        }
        remember(key, r)
        ctx.emit("market.referee.judged", { job, providerRight: r })
        return done(r)
      }
      judging.set(key, [done])
      bisectJob(bisector, j, (r, got) => {
        // Decided meanwhile by a peer's proof (byProof answered the waiting): nothing more.
        if (judged.has(key)) return
        const all = judging.get(key) ?? []
        judging.delete(key)
        const found = got.find((x) => x.proof !== undefined)
        const proof: HeldProof | undefined = r === false && found !== undefined ? { proof: { note: found.note, proof: found.proof! }, found: true } : undefined
        if (r !== undefined) remember(key, r, proof)
        const layers = got.filter((x) => x.layer !== undefined && x.outcome !== "agree")
        ctx.emit("market.referee.judged", {
          job, ...(r === undefined ? {} : { providerRight: r }),
          ...(layers.length === 0 ? {} : { layer: layers[0]!.layer! }),
          records: got.map(describeRecord).join("; "),
          reexecuted: got.reduce((n, x) => n + x.reexecuted, 0),
        })
        for (const d of all) d(r, proof)
      })
    }, () => done(undefined))
  const verdicts: Verdicts | undefined = o.keys === undefined ? undefined : startVerdicts(ctx, { keys: o.keys, account: self, judge, ...(o.trace === undefined ? {} : { checkProof }) })
  let unsubscribe: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (m) => {
    const decoded = decodeMarketMessage(m.data)
    if (Result.isFailure(decoded)) return ctx.fault(m.from, decoded.failure)
    const msg = decoded.success
    if (bisector?.onMessage(m.from, msg) === true) return
    if (msg.t === "check") {
      call(ctx, ctx.ledger.marketJob(msg.job), (job) => {
        // Only the job's requester asks; anyone else's check is not this referee's work.
        if (job === undefined || job.requester !== m.from) return
        const wrong = wrongNotes(job, ["pending"], o.reexecute)
        stats.checks++
        if (wrong.length > 0) stats.refuted++
        ctx.emit("market.referee.checked", { job: msg.job, wrong: wrong.length })
        ctx.run(Effect.ignore(ctx.network.send(m.from, MARKET_TOPIC, encodeMarketMessage({ v: 1, t: "verdict", job: msg.job, nonce: msg.nonce, ok: wrong.length === 0 }))))
      })
    } else if (msg.t === "resolve") {
      // The committee's verdict: this node signs its own re-execution's and the others join (verdicts.ts).
      verdicts?.judge(msg.job)
    }
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))
  return {
    stats: () => ({ ...stats, signed: verdicts?.stats().signed ?? 0, verdicts: verdicts?.stats().submitted ?? 0 }),
    disputes: () => [...records],
    stop: () => {
      verdicts?.stop()
      bisector?.stop()
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
    },
  }
}

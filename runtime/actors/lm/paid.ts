/**
 * Pipeline inference paid per token through the market's escrow (issue 14, item 4) — the stage
 * server's side. A paid session is a market job: one job per stage (kind `infer:lm/<from>-<to>`,
 * units = tokens, assigned to that stage's server by the client), never one job split among stages,
 * because a ledger job has exactly one provider, one locked price and one bond answering for it; each
 * stage is a different provider, so each is its own job (docs/lm.md, "Paid per token").
 *
 * The server bills one unit per forward it answers in the session (a token step; the prefill of a
 * prompt is one step, since it yields one token; a replay after a failover is work too and is billed
 * at the replacement, whose job the client sized for it). It delivers a debit note per `chunk` units
 * (fewer when its bond answers for fewer at the job's price: maxNoteUnits) and the rest when the
 * session closes, each note's word committing to the layer trace of its session up to it — the inputs,
 * every block's outputs, the outputs it returned (core/lm/trace.ts) —, so a referee can re-execute it
 * (referee.ts) and bisect it to its first wrong block (trace-work.ts: the server keeps each note's
 * trace to answer). With each answered forward the server gives the client the middle leaves of the
 * trace so far (`bill`'s result), so the client checks a note's word binds what it sent and received.
 * The client confirms notes as they come; a note it leaves unconfirmed is settled by the server once
 * its dispute window is over.
 */
import { Effect } from "effect"
import { maxNoteUnits } from "../../core/market/index.ts"
import { toHex } from "../../core/crypto.ts"
import { DEFAULT_LM_BACKEND } from "../../core/lm/backend.ts"
import { lmLayerHash, type LmRows } from "../../core/lm/trace.ts"
import type { LmInput } from "../../core/lm/wire.ts"
import type { LayerTrace } from "../../core/market/bisection.ts"
import { call, reasonOf, type MarketContext } from "../market/context.ts"
import { inputRows } from "./stage-step.ts"
import { noteTraceOf, traceStore } from "./trace-work.ts"

import { lmJobKind } from "../../core/lm/job-kind.ts"

export { lmJobKind, parseLmJobKind } from "../../core/lm/job-kind.ts"

/** What a paid stage server needs: its ledger account and the node's market context. */
export interface StageMarket {
  readonly ctx: Pick<MarketContext, "ledger" | "params" | "run" | "clock" | "emit">
  /** The provider account the jobs must be assigned to. */
  readonly account: string
  /** Tokens per debit note (default 8). */
  readonly chunk?: number
  /** The backend the stage computes on, which its notes commit to (core/lm/backend.ts; default cpu). */
  readonly backend?: string
  /** A note delivered on the ledger, with its evidence (what a referee re-executes: defense.ts keeps it). */
  readonly onDelivered?: (job: number, note: number, evidence: NoteEvidence) => void
}

/** What a referee is given of one note (the VerifyRequest's content): the session's inputs up to the note's end, which are the note's, the leaves of its trace (0x hex, L + 1: core/lm/trace.ts). */
export interface NoteEvidence {
  readonly first: number
  readonly inputs: readonly LmInput[]
  readonly leaves: readonly string[]
}

/** The billing of one session (one job; a job may pay several sessions in turn: a restart at the context's end). */
export interface SessionBill {
  readonly job: number
  /**
   * Bill one answered forward with its input, output and every block's rows (`layers`: layer 1..L,
   * the last the output); delivers a note when a chunk is full. Returns the middle leaves (layers
   * 1..L − 1, 0x hex) of the session's trace so far, which the result carries to the client.
   */
  bill(input: LmInput, output: Float32Array, layers: readonly LmRows[]): readonly string[]
  /** Units this job may still bill here. */
  readonly left: () => number
  /** Deliver what is billed and not yet delivered (at close). */
  flush(): void
}

/** A paid stage server's ledger side: checks the job a session opens on, bills its forwards. */
export interface StageBilling {
  /** Checks `job` pays blocks from..to at this server for `client`; the session's bill, or why not. */
  open(job: number, client: string, from: number, to: number): Promise<SessionBill | string>
  /** Units billed since the start, and delivered in notes. */
  readonly billed: () => number
  readonly delivered: () => number
  /** The trace of a note this server delivered, by its word (kept for the bisection of a dispute). */
  readonly traceOf: (word: string) => LayerTrace | undefined
}

/** The billing of a paid stage server. */
export const stageBilling = (m: StageMarket): StageBilling => {
  const { ctx, account } = m
  const backend = m.backend ?? DEFAULT_LM_BACKEND
  // Per job: units billed at this server (across its sessions), so no session bills past the job's units.
  const used = new Map<number, { units: number; cap: number }>()
  let billed = 0
  let delivered = 0
  const traces = traceStore()

  const settleLater = (job: number) =>
    ctx.clock.setTimeout(() => call(ctx, ctx.ledger.marketOp({ type: "settle", job }), (r) => ctx.emit("lm.stage.settled", { job, notes: r.payments.length })), ctx.params()["market.disputeWindow"] + 1)

  return {
    billed: () => billed,
    delivered: () => delivered,
    traceOf: traces.get,
    open: (job, client, from, to) => new Promise((resolve) => {
      const kind = lmJobKind(from, to)
      ctx.run(Effect.match(Effect.all([ctx.ledger.marketJob(job), ctx.ledger.marketProvider(account)]), {
        onFailure: (e) => resolve(`cannot read job ${job} on the ledger: ${reasonOf(e)}`),
        onSuccess: ([j, me]) => {
          if (j === undefined) return resolve(`no job ${job} on the ledger`)
          if (j.kind !== kind || j.provider !== account || j.state !== "assigned" || j.requester !== client) {
            return resolve(`job ${job} is not a ${kind} job of ${client} assigned to ${account} (it is ${j.kind} of ${j.requester}, ${j.state}${j.provider === undefined ? "" : ` with ${j.provider}`})`)
          }
          const u = used.get(job) ?? { units: 0, cap: Number(j.units - j.delivered) }
          used.set(job, u)
          if (u.units >= u.cap) return resolve(`job ${job}'s ${j.units} tokens are used up`)
          const cap = me === undefined ? undefined : maxNoteUnits(me.bond, j.pricePerUnit, ctx.params())
          const wanted = m.chunk ?? 8
          const chunk = cap === undefined || BigInt(wanted) <= cap ? wanted : Math.max(1, Number(cap))
          let pending = 0
          // The session's rows of every layer so far (layer 0 the inputs): a note's trace covers its session up to its last forward (core/lm/trace.ts).
          let layers: LmRows[][] | undefined
          // Every input the session took (a note's evidence is a prefix of them; the inputs are shared, not copied).
          const taken: LmInput[] = []
          const flush = () => {
            if (pending === 0 || layers === undefined) return
            const units = pending
            pending = 0
            // The word names the stage's backend (core/lm/backend.ts).
            const { trace, word } = noteTraceOf(layers, backend)
            traces.keep(word, trace)
            // The evidence keeps the leaves, not the trace: it outlives the kept traces (defense.ts holds up to 1,024 notes).
            const evidence: NoteEvidence = { first: taken.length - units, inputs: taken.slice(), leaves: trace.hashes.map(toHex) }
            call(ctx, ctx.ledger.marketOp({ type: "deliver", job, provider: account, units: BigInt(units), resultHash: word }), (r) => {
              delivered += units
              ctx.emit("lm.stage.delivered", { job, note: r.note, units })
              m.onDelivered?.(job, r.note, evidence)
              settleLater(job)
            }, (e) => ctx.emit("lm.stage.deliver-refused", { job, units, reason: reasonOf(e) }))
          }
          resolve({
            job,
            left: () => u.cap - u.units,
            bill: (input, _output, rows) => {
              u.units++
              billed++
              layers ??= Array.from({ length: rows.length + 1 }, () => [])
              if (rows.length + 1 !== layers.length) throw new RangeError(`a forward of ${rows.length} layers in a session of ${layers.length - 1}`)
              layers[0]!.push(inputRows(input))
              rows.forEach((r, j) => layers![j + 1]!.push(r))
              taken.push(input)
              const mids = layers.slice(1, -1).map((l, j) => toHex(lmLayerHash(j + 1, l)))
              pending++
              if (pending >= chunk) flush()
              return mids
            },
            flush,
          })
        },
      }))
    }),
  }
}

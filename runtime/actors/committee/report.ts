/**
 * Epoch reports (issue 12 plan §4): after an epoch's last block every validator of the epoch's
 * snapshot builds the same report from its App (`epochReport`: downtime offenders, the scores to
 * pay, the fees ordered), signs its digest with its consensus key and gossips the signature; a
 * node that gathers signatures of ≥ 2/3 of the snapshot's power submits the report to the ledger,
 * which checks them against its own snapshot. The first report of an epoch wins; a node that
 * finds the epoch settled already does not submit. The submitter then takes a snapshot of the
 * ledger: proposers name the newest one at the next epoch boundary. Until the epoch is settled, each node re-sends
 * its signature once per block (lossy links, a peer that restarted).
 *
 * Everything goes through the node's Chain port (`ctx.ledger`): the digest signed is the ledger's
 * (`reportDigest`: the Committee contract's address and the accounts' addresses on chain), the
 * report is settled by `submitEpochReport`. A node whose report differs from the one the ledger
 * accepted for its epoch holds evidence: it submits its report with the signatures it gathered as
 * `reportConflict`, and the ledger slashes whoever signed both.
 */
import { Effect, Result, Schema } from "effect"
import type { EpochReport } from "../../core/committee/types.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import type { Envelope } from "../../services/network.ts"
import type { NodeContext } from "../context.ts"

/** Signatures of epoch reports. */
export const COMMITTEE_TOPIC = "committee"

const Hex = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]*$/.test(s) || "0x + lowercase hex"))
const ReportVote = Schema.Struct({ epoch: Schema.Number, signer: Hex, signature: Hex })
const decodeVote = Schema.decodeUnknownResult(Schema.fromJsonString(ReportVote))

export interface EpochReports {
  /** Epochs this node submitted and the ledger settled. */
  readonly submitted: readonly number[]
  stop(): void
}

interface Pending {
  readonly report: EpochReport
  readonly digest: Uint8Array
  readonly signatures: Map<string, string>
  own: string | undefined
  /** Submitted (or found settled): nothing more to send but its signature. */
  settled: boolean
  /** Its conflict with the accepted report was submitted. */
  contested: boolean
}

const utf8 = new TextEncoder()
const text = new TextDecoder()
/** Signatures kept for epochs this node has not finished yet (a peer may be a few blocks ahead). */
const MAX_EARLY = 256

/** Start building, signing, gathering and submitting this node's epoch reports. */
export const startEpochReports = (ctx: NodeContext) =>
  Effect.gen(function* () {
    const { app, keys, network, ledger, committees, run, emit } = ctx
    const address = keys.address.toLowerCase()
    const pending = new Map<number, Pending>()
    /** Epochs whose report is being prepared (its digest asked of the ledger) or is done with. */
    const started = new Set<number>()
    const early: Array<{ readonly epoch: number; readonly signer: string; readonly signature: string }> = []
    const submitted: number[] = []
    let stopped = false

    const publish = (epoch: number, signature: string) =>
      run(Effect.ignore(network.publish(COMMITTEE_TOPIC, utf8.encode(JSON.stringify({ epoch, signer: address, signature })))))

    const member = (p: Pending, signer: string) => committees.committee(p.report.snapshotId)?.validators.find((v) => v.signingKey === signer)

    /** Whether a report's signatures carry its snapshot's quorum. */
    const carried = (p: Pending): boolean => {
      const s = committees.committee(p.report.snapshotId)
      if (s === undefined) return false
      let power = 0n
      for (const signer of p.signatures.keys()) power += member(p, signer)?.power ?? 0n
      return power >= s.quorum
    }

    const add = (p: Pending, signer: string, signature: string): void => {
      if (p.signatures.has(signer) || member(p, signer) === undefined || !keys.verify(signer, p.digest, fromHex(signature))) return
      p.signatures.set(signer, signature)
    }

    const signaturesOf = (p: Pending) => [...p.signatures].map(([signer, signature]) => ({ signer, signature }))

    /** The ledger accepted another report for this epoch: ours, with its signatures, is evidence against whoever signed both. */
    const contest = (epoch: number, p: Pending, accepted: string) => {
      if (p.contested || p.signatures.size === 0) return
      p.contested = true
      run(Effect.gen(function* () {
        const r = yield* Effect.result(ledger.reportConflict(p.report, signaturesOf(p), address))
        if (Result.isSuccess(r)) emit("committee.conflict", { epoch, accepted, slashed: r.success.slashes.map((s) => s.pool) })
        else emit("committee.conflict.refused", { epoch, accepted, reason: r.failure._tag, message: r.failure.message })
      }))
    }

    const trySubmit = (epoch: number, p: Pending): void => {
      if (p.settled || !carried(p)) return
      p.settled = true
      const signatures = signaturesOf(p)
      run(Effect.gen(function* () {
        const settled = yield* ledger.epochReport(epoch)
        if (settled !== undefined) {
          if (settled.digest !== toHex(p.digest)) contest(epoch, p, settled.digest)
          return
        }
        const r = yield* Effect.result(ledger.submitEpochReport(p.report, signatures, address))
        if (Result.isSuccess(r)) {
          submitted.push(epoch)
          // The settled report changed stake (slashes, rewards) and contributions: the next
          // epoch's set comes from a snapshot taken now (with whatever else changed on the ledger).
          yield* Effect.ignore(ledger.snapshot(address))
          const s = r.success.settlement
          emit("committee.report", {
            epoch, snapshot: p.report.snapshotId, signers: signatures.length, downtime: [...p.report.downtime], scored: p.report.scored.length,
            toContributors: s.emission.toContributors.toString(), toStakers: s.emission.toStakers.toString(), fees: s.fees.paid.toString(),
          })
        } else {
          emit("committee.report.refused", { epoch, reason: r.failure._tag, message: r.failure.message })
          if (r.failure._tag === "CommitteeEpochReported" && !r.failure.same) {
            const other = yield* ledger.epochReport(epoch)
            if (other !== undefined) contest(epoch, p, other.digest)
          }
        }
      }).pipe(Effect.catch((e) => Effect.sync(() => emit("committee.report.refused", { epoch, reason: e._tag, message: e.message })))))
    }

    /** Sign and gather the report of `epoch` (once its last block is executed), with the ledger's digest. */
    const prepare = (epoch: number, report: EpochReport) => {
      started.add(epoch)
      run(Effect.gen(function* () {
        const digest = yield* ledger.reportDigest(report)
        if (stopped) return
        const p: Pending = { report, digest, signatures: new Map(), own: undefined, settled: false, contested: false }
        pending.set(epoch, p)
        for (const e of early.splice(0)) if (e.epoch === epoch) add(p, e.signer, e.signature)
        else early.push(e)
        if (committees.committee(report.snapshotId)?.validators.some((v) => v.signingKey === address) !== true) return trySubmit(epoch, p)
        const sig = yield* keys.sign(digest)
        p.own = toHex(sig)
        p.signatures.set(address, p.own)
        publish(epoch, p.own)
        trySubmit(epoch, p)
      }).pipe(Effect.catch((e) => Effect.sync(() => {
        // Tried again at the next block (the ledger may answer by then).
        started.delete(epoch)
        emit("node.error", { action: "sign epoch report", epoch, error: e.message })
      }))))
    }

    const onBlock = () => {
      if (stopped) return
      // The epoch that just ended (its report is due) and the one before (a digest the ledger could not give at once).
      const current = app.epochOf(app.height)
      for (const epoch of [current - 1, current]) {
        if (started.has(epoch)) continue
        const report = app.epochReport(epoch)
        if (report !== undefined) prepare(epoch, report)
      }
      // Re-send own signatures of epochs the ledger has not settled; forget the settled ones.
      for (const [e, p] of pending) {
        run(Effect.ignore(Effect.map(ledger.epochReport(e), (settled) => {
          if (settled === undefined) {
            if (p.own !== undefined) publish(e, p.own)
            return
          }
          pending.delete(e)
          if (settled.digest !== toHex(p.digest)) contest(e, p, settled.digest)
        })))
      }
    }

    const onVote = (env: Envelope) => {
      if (stopped) return
      const decoded = decodeVote(text.decode(env.data))
      if (Result.isFailure(decoded)) return ctx.fault(env.from, "committee: not a report signature")
      const v = decoded.success
      const p = pending.get(v.epoch)
      if (p === undefined) {
        if (v.epoch >= app.epochOf(app.height) - 1 && early.length < MAX_EARLY) early.push(v)
        return
      }
      add(p, v.signer, v.signature)
      trySubmit(v.epoch, p)
    }

    const unsubscribe = yield* network.subscribe(COMMITTEE_TOPIC, onVote)
    const unfollow = ctx.executed.subscribe(onBlock)
    return {
      submitted,
      stop: () => {
        if (stopped) return
        stopped = true
        unfollow()
        run(unsubscribe)
      },
    } satisfies EpochReports
  })

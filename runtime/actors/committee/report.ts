/**
 * Epoch reports (issue 12 plan §4): after an epoch's last block every validator of the epoch's
 * snapshot builds the same report from its App (`epochReport`: downtime offenders, the scores to
 * pay, the fees ordered), signs its digest with its consensus key and gossips the signature; a
 * node that gathers signatures of ≥ 2/3 of the snapshot's power submits the report to the ledger,
 * which checks them against its own snapshot. The first report of an epoch wins; a node that
 * finds the epoch settled already does not submit. The submitter then takes a snapshot of the
 * ledger: proposers name the newest one at the next epoch boundary. Until the epoch is settled, each node re-sends
 * its signature once per block (lossy links, a peer that restarted).
 */
import { Effect, Result, Schema } from "effect"
import { reportDigest, type EpochReport } from "../../core/app/epoch-report.ts"
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
  settled: boolean
}

const utf8 = new TextEncoder()
const text = new TextDecoder()
/** Signatures kept for epochs this node has not finished yet (a peer may be a few blocks ahead). */
const MAX_EARLY = 256

/** Start building, signing, gathering and submitting this node's epoch reports. */
export const startEpochReports = (ctx: NodeContext) =>
  Effect.gen(function* () {
    const { app, keys, network, committee, committees, run, emit } = ctx
    const address = keys.address.toLowerCase()
    const pending = new Map<number, Pending>()
    const early: Array<{ readonly epoch: number; readonly signer: string; readonly signature: string }> = []
    const submitted: number[] = []
    let stopped = false

    const publish = (epoch: number, signature: string) =>
      run(Effect.ignore(network.publish(COMMITTEE_TOPIC, utf8.encode(JSON.stringify({ epoch, signer: address, signature })))))

    /** The power behind a report's signatures against its snapshot's quorum. */
    const carried = (p: Pending): boolean => {
      const s = committees.committee(p.report.snapshotId)
      if (s === undefined) return false
      const total = s.validators.reduce((n, v) => n + v.power, 0n)
      let power = 0n
      for (const signer of p.signatures.keys()) power += s.validators.find((v) => v.address === signer)?.power ?? 0n
      return power >= (total * 2n) / 3n + 1n
    }

    const add = (p: Pending, signer: string, signature: string): void => {
      if (p.signatures.has(signer)) return
      const member = committees.committee(p.report.snapshotId)?.validators.some((v) => v.address === signer) === true
      if (!member || !keys.verify(signer, p.digest, fromHex(signature))) return
      p.signatures.set(signer, signature)
    }

    const trySubmit = (epoch: number, p: Pending): void => {
      if (p.settled || !carried(p)) return
      p.settled = true
      const signatures = [...p.signatures].map(([signer, signature]) => ({ signer, signature }))
      run(Effect.gen(function* () {
        if ((yield* committee.epochReport(epoch)) !== undefined) return
        const r = yield* Effect.result(committee.submitEpochReport(p.report, signatures))
        if (Result.isSuccess(r)) {
          submitted.push(epoch)
          // The settled report changed stake (slashes, rewards) and contributions: the next
          // epoch's set comes from a snapshot taken now (with whatever else changed on the ledger).
          yield* Effect.ignore(committee.snapshot)
          const s = r.success
          emit("committee.report", {
            epoch, snapshot: p.report.snapshotId, signers: signatures.length, downtime: [...p.report.downtime], scored: p.report.scored.length,
            toContributors: s.toContributors.toString(), toStakers: s.toStakers.toString(), fees: s.fees.toString(),
          })
        } else emit("committee.report.refused", { epoch, reason: r.failure.message })
      }).pipe(Effect.catch((e) => Effect.sync(() => emit("committee.report.refused", { epoch, reason: String(e) })))))
    }

    const onBlock = () => {
      if (stopped) return
      const epoch = app.epochOf(app.height)
      if (!pending.has(epoch)) {
        const report = app.epochReport(epoch)
        if (report !== undefined) {
          const p: Pending = { report, digest: reportDigest(app.chainId, report), signatures: new Map(), own: undefined, settled: false }
          pending.set(epoch, p)
          for (const e of early.splice(0)) if (e.epoch === epoch) add(p, e.signer, e.signature)
          else early.push(e)
          if (committees.committee(report.snapshotId)?.validators.some((v) => v.address === address) === true) {
            run(Effect.map(keys.sign(p.digest), (sig) => {
              p.own = toHex(sig)
              p.signatures.set(address, p.own)
              publish(epoch, p.own)
              trySubmit(epoch, p)
            }).pipe(Effect.catch((e) => Effect.sync(() => emit("node.error", { action: "sign epoch report", epoch, error: String(e) })))))
          } else trySubmit(epoch, p)
          return
        }
      }
      // Re-send own signatures of epochs the ledger has not settled; forget the settled ones.
      for (const [e, p] of pending) {
        run(Effect.ignore(Effect.map(committee.epochReport(e), (settled) => {
          if (settled !== undefined) return void pending.delete(e)
          if (p.own !== undefined) publish(e, p.own)
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
        if (v.epoch >= app.epochOf(app.height) && early.length < MAX_EARLY) early.push(v)
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

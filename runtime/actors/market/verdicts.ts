/**
 * The committee's verdicts on disputed market jobs, as epoch reports are settled
 * (runtime/actors/committee/report.ts): each validator that re-executes a disputed job's frozen notes
 * signs the verdict its own re-execution gives (core/market/verdict.ts, the digest asked of the
 * ledger: `marketVerdictDigest`) under the ledger's newest committee snapshot, and gossips its
 * signature on VERDICT_TOPIC; a validator that hears a signature for a job it has not judged
 * re-executes the job itself and, when it agrees, signs the same verdict (under the same snapshot,
 * if it is a member of it). Whoever gathers signatures of ≥ 2/3 of that snapshot's power submits
 * `resolveDispute`; the ledger checks them against its own snapshot. The first verdict wins: a
 * node that finds the job no longer disputed does not submit, and one that loses the race is
 * refused `MarketNotDisputed`, noted as late, never as a fault. Until the job is resolved each
 * signer re-sends its signatures every RESEND_MS (lossy links, a peer that restarted).
 *
 * Only signatures of the verdict this node's own re-execution gives are gathered: an honest node
 * never helps a verdict it has refuted. A signature that does not verify, or by a key outside the
 * snapshot, is dropped (and a malformed message is the sender's fault).
 *
 * Verde's fraud proof (core/market/fraud-proof.ts): a refuting signature whose signer holds a proof
 * of one frozen note's wrongness travels with it on PROOF_TOPIC (the vote and the proof in one
 * message, so the proof is there when the vote is). A validator that hears one checks the proof
 * (`checkProof`: one layer re-executed) before it judges, and then signs the refutation without its
 * own trace; a proof that does not check is the sender's fault, and the vote is judged as any other
 * (the validator's own full judgement). A signer forwards a proof it accepted with its own signature
 * when the message is at most MAX_FORWARDED_PROOF_BYTES (so every vote a peer hears first carries
 * what it needs); a larger one only its finder publishes.
 */
import { Effect, Result, Schema } from "effect"
import type { Snapshot } from "../../core/committee/types.ts"
import { fromHex, toHex } from "../../core/crypto.ts"
import type { Keys } from "../../services/keys.ts"
import type { Envelope } from "../../services/network.ts"
import type { FraudProof } from "../../core/market/fraud-proof.ts"
import { MAX_PROOF_DEPTH } from "../../core/market/fraud-proof.ts"
import { call, reasonOf, type MarketContext } from "./context.ts"
import { MAX_TRACE_MESSAGE_BYTES } from "./wire.ts"

/** Gossip topic of verdict signatures. */
export const VERDICT_TOPIC = "market/verdict/v1"
/** Largest verdict message taken off the wire (one signature and a few numbers fit in well under it). */
export const MAX_VERDICT_MESSAGE_BYTES = 512
/** How often a signer re-sends its signatures of verdicts not yet on the ledger (ms). */
export const RESEND_MS = 2_000

const Id = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 1) || "a whole number >= 1"))
const hex = (bytes: number) => Schema.String.check(Schema.makeFilter((s) => new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`).test(s) || `0x + ${bytes * 2} lowercase hex`))
const VerdictVote = Schema.Struct({
  v: Schema.Literal(1), job: Id, snapshotId: Id, providerRight: Schema.Boolean, signer: hex(20), signature: hex(65),
})
export type VerdictVote = typeof VerdictVote.Type
const decodeVote = Schema.decodeUnknownResult(Schema.fromJsonString(VerdictVote))
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The wire form of a verdict signature. */
export const encodeVerdictVote = (v: VerdictVote): Uint8Array => utf8.encode(JSON.stringify(v))

/** A JSON message of at most `limit` bytes, strict UTF-8, decoded by `decode` (no excess keys); the failure names `what` and says why. */
const decodeJson = <A>(
  bytes: Uint8Array, limit: number, what: string,
  decode: (text: string, o: { onExcessProperty: "error" }) => Result.Result<A, { readonly message: unknown }>,
): Result.Result<A, string> => {
  if (bytes.length > limit) return Result.fail(`oversized ${what}: ${bytes.length} bytes (limit ${limit})`)
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    return Result.fail(`malformed ${what}: not UTF-8`)
  }
  const r = decode(text, { onExcessProperty: "error" })
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(`malformed ${what}: ${String(r.failure.message).split("\n")[0]}`)
}

/** A verdict signature a peer sent, or why it is refused. Never throws. */
export const decodeVerdictVote = (bytes: Uint8Array): Result.Result<VerdictVote, string> =>
  decodeJson(bytes, MAX_VERDICT_MESSAGE_BYTES, "verdict message", decodeVote)

/** Gossip topic of refuting verdict signatures that carry a fraud proof. */
export const PROOF_TOPIC = "market/verdict-proof/v1"
/** Largest proof message taken off the wire (the agreed layer's bytes as base64: the layer-answer's cap). */
export const MAX_PROOF_MESSAGE_BYTES = MAX_TRACE_MESSAGE_BYTES
/** Largest proof message a co-signer forwards with its own signature (a larger one only its finder publishes). */
export const MAX_FORWARDED_PROOF_BYTES = 64 * 1024

/** A fraud proof against one frozen note of a disputed job. */
export interface NoteProof {
  readonly note: number
  readonly proof: FraudProof
}

/** A refuting verdict signature with the fraud proof it stands on. */
export interface ProofVote {
  readonly vote: VerdictVote & { readonly providerRight: false }
  readonly proof: NoteProof
}

const Layer = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 1 && n <= 1_023) || "a layer (1..1023)"))
const Hash32 = hex(32)
const Path = Schema.Array(Hash32).check(Schema.isMaxLength(MAX_PROOF_DEPTH))
const Base64 = Schema.String.check(Schema.makeFilter((s) => (/^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0) || "base64"))
const ProofVoteSchema = Schema.Struct({
  v: Schema.Literal(1), job: Id, snapshotId: Id, providerRight: Schema.Literal(false), signer: hex(20), signature: hex(65),
  note: Id, layer: Layer, input: Base64, inputHash: Hash32, outputHash: Hash32, inputPath: Path, outputPath: Path,
})
const decodeProof = Schema.decodeUnknownResult(Schema.fromJsonString(ProofVoteSchema))

/** The wire form of a refuting signature with its proof; undefined when it would exceed MAX_PROOF_MESSAGE_BYTES. */
export const encodeProofVote = (p: ProofVote): Uint8Array | undefined => {
  const f = p.proof.proof
  const bytes = utf8.encode(JSON.stringify({
    ...p.vote, note: p.proof.note, layer: f.layer, input: Buffer.from(f.input.buffer, f.input.byteOffset, f.input.byteLength).toString("base64"),
    inputHash: toHex(f.inputHash), outputHash: toHex(f.outputHash), inputPath: f.inputPath.map(toHex), outputPath: f.outputPath.map(toHex),
  }))
  return bytes.length > MAX_PROOF_MESSAGE_BYTES ? undefined : bytes
}

/** A refuting signature with its proof a peer sent, or why it is refused. Never throws. */
export const decodeProofVote = (bytes: Uint8Array): Result.Result<ProofVote, string> => {
  const r = decodeJson(bytes, MAX_PROOF_MESSAGE_BYTES, "verdict proof", decodeProof)
  if (Result.isFailure(r)) return Result.fail(r.failure)
  const m = r.success
  return Result.succeed({
    vote: { v: m.v, job: m.job, snapshotId: m.snapshotId, providerRight: false, signer: m.signer, signature: m.signature },
    proof: {
      note: m.note,
      proof: {
        layer: m.layer, input: new Uint8Array(Buffer.from(m.input, "base64")), inputHash: fromHex(m.inputHash), outputHash: fromHex(m.outputHash),
        inputPath: m.inputPath.map(fromHex), outputPath: m.outputPath.map(fromHex),
      },
    },
  })
}

/** What checking a peer's proof gave: accepted, refused (the sender's fault, with why), or not checked (the note is not frozen, the model not held, the job judged already). */
export type ProofVerdict = { readonly kind: "accepted" } | { readonly kind: "refused"; readonly reason: string } | { readonly kind: "unknown" }

/** A proof behind this node's own judgement: found by its own bisection, or a peer's it accepted. */
export interface HeldProof {
  readonly proof: NoteProof
  readonly found: boolean
}

/** The node's signing key (its consensus key: the one the committee snapshots name). */
export type VerdictKeys = Pick<Keys["Service"], "address" | "sign" | "verify">

interface Gathering {
  readonly job: number
  readonly providerRight: boolean
  readonly snapshot: Snapshot
  readonly digest: Uint8Array
  /** Signing key (lowercase) → signature, valid and of the snapshot's validators. */
  readonly signatures: Map<string, string>
  own: string | undefined
  /** The proof published with the own signature (PROOF_TOPIC), when there is one. */
  proof: HeldProof | undefined
  /** Submitted, or found resolved: nothing more to do but forget it. */
  done: boolean
}

export interface VerdictOptions {
  readonly keys: VerdictKeys
  /** The account that submits verdicts (the validator's operator). */
  readonly account: string
  /**
   * This node's own judgement of disputed `job`: whether the provider was right (undefined: not
   * disputed, or cannot tell), and the fraud proof it stands on when it refutes by one.
   */
  readonly judge: (job: number, done: (providerRight: boolean | undefined, proof?: HeldProof) => void) => void
  /** Check a peer's fraud proof against disputed `job`'s note; an accepted one decides this node's judgement of the job. Without it, proofs are judged as plain votes. */
  readonly checkProof?: (job: number, proof: NoteProof, done: (r: ProofVerdict) => void) => void
}

export interface Verdicts {
  /** Sign this node's verdict on disputed `job` (its own re-execution's) under the ledger's newest snapshot, gossip it, gather. */
  judge(job: number): void
  readonly stats: () => { readonly signed: number; readonly submitted: number; readonly late: number }
  stop(): void
}

/** Start signing, gossiping, gathering and submitting this node's verdicts on disputed jobs. */
export const startVerdicts = (ctx: MarketContext, o: VerdictOptions): Verdicts => {
  const address = o.keys.address.toLowerCase()
  const gatherings = new Map<string, Gathering>()
  /** Gatherings being opened (their digest asked of the ledger), with the signatures heard meanwhile. */
  const opening = new Map<string, Array<{ readonly signer: string; readonly signature: string }>>()
  const stats = { signed: 0, submitted: 0, late: 0 }
  let stopped = false
  let unsubscribe: Effect.Effect<void> | undefined
  let timer: unknown

  const keyOf = (job: number, snapshotId: number, providerRight: boolean) => `${job}/${snapshotId}/${providerRight}`
  const memberKey = (s: Snapshot, signer: string) => s.validators.find((v) => v.signingKey.toLowerCase() === signer)
  const publish = (g: Gathering) => {
    if (g.own === undefined) return
    const vote: VerdictVote = { v: 1, job: g.job, snapshotId: g.snapshot.id, providerRight: g.providerRight, signer: address, signature: g.own }
    if (g.proof !== undefined && !g.providerRight) {
      const bytes = encodeProofVote({ vote: { ...vote, providerRight: false }, proof: g.proof.proof })
      if (bytes !== undefined && (g.proof.found || bytes.length <= MAX_FORWARDED_PROOF_BYTES)) return ctx.run(Effect.ignore(ctx.network.publish(PROOF_TOPIC, bytes)))
    }
    ctx.run(Effect.ignore(ctx.network.publish(VERDICT_TOPIC, encodeVerdictVote(vote))))
  }

  const add = (g: Gathering, signer: string, signature: string): void => {
    if (g.signatures.has(signer) || memberKey(g.snapshot, signer) === undefined) return
    let bytes: Uint8Array
    try {
      bytes = fromHex(signature)
    } catch {
      return
    }
    if (o.keys.verify(signer, g.digest, bytes)) g.signatures.set(signer, signature)
  }

  const trySubmit = (g: Gathering): void => {
    if (g.done || stopped) return
    let power = 0n
    for (const signer of g.signatures.keys()) power += memberKey(g.snapshot, signer)?.power ?? 0n
    if (power < g.snapshot.quorum) return
    g.done = true
    const signatures = [...g.signatures].map(([signer, signature]) => ({ signer, signature }))
    call(ctx, ctx.ledger.marketJob(g.job), (job) => {
      // Resolved already (another node's verdict was first): nothing to submit.
      if (job === undefined || job.state !== "disputed") return
      call(ctx, ctx.ledger.marketOp({ type: "resolveDispute", job: g.job, providerRight: g.providerRight, snapshotId: g.snapshot.id, signatures, by: o.account }), (r) => {
        stats.submitted++
        ctx.emit("market.resolved", {
          job: g.job, providerRight: g.providerRight, provider: r.provider, slashed: String(r.slash?.slashed ?? 0n),
          snapshot: r.snapshotId, signers: r.signers.length, power: String(r.power),
        })
      }, (e) => {
        if (typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "MarketNotDisputed") {
          stats.late++
          ctx.emit("market.verdict.late", { job: g.job })
          return
        }
        // Not a race: tried again when another signature arrives.
        g.done = false
        ctx.emit("market.resolve-refused", { job: g.job, reason: reasonOf(e) })
      })
    })
  }

  /** Open (once) the gathering of `providerRight` on `job` under `snapshot`, sign it when a member, then `then` it. */
  const open = (job: number, providerRight: boolean, snapshot: Snapshot, then: (g: Gathering) => void = () => {}, proof?: HeldProof): void => {
    const key = keyOf(job, snapshot.id, providerRight)
    const known = gatherings.get(key)
    if (known !== undefined) return then(known)
    if (opening.has(key)) return
    opening.set(key, [])
    call(ctx, ctx.ledger.marketVerdictDigest({ job, providerRight, snapshotId: snapshot.id }), (digest) => {
      const early = opening.get(key) ?? []
      opening.delete(key)
      if (stopped) return
      const g: Gathering = { job, providerRight, snapshot, digest, signatures: new Map(), own: undefined, proof, done: false }
      gatherings.set(key, g)
      for (const e of early) add(g, e.signer, e.signature)
      arm()
      if (memberKey(snapshot, address) === undefined) {
        then(g)
        return trySubmit(g)
      }
      call(ctx, o.keys.sign(digest), (sig) => {
        g.own = toHex(sig)
        g.signatures.set(address, g.own)
        stats.signed++
        ctx.emit("market.verdict.signed", { job, providerRight, snapshot: snapshot.id })
        publish(g)
        then(g)
        trySubmit(g)
      }, (e) => ctx.emit("node.error", { action: "sign market verdict", job, error: reasonOf(e) }))
    }, (e) => {
      // The signatures heard meanwhile go with it: each signer re-sends its own every RESEND_MS, and the next one heard opens it again.
      opening.delete(key)
      ctx.emit("market.verdict.unopened", { job, providerRight, snapshot: snapshot.id, reason: reasonOf(e) })
    })
  }

  /** Re-send own signatures of verdicts whose job is still disputed; forget the rest. */
  const resend = (): void => {
    timer = undefined
    if (stopped) return
    for (const [key, g] of gatherings) {
      call(ctx, ctx.ledger.marketJob(g.job), (job) => {
        if (job === undefined || job.state !== "disputed" || job.disputeSnapshot > g.snapshot.id) gatherings.delete(key)
        else publish(g)
      })
    }
    arm()
  }
  const arm = (): void => {
    if (timer === undefined && !stopped && gatherings.size > 0) timer = ctx.clock.setTimeout(resend, RESEND_MS)
  }

  /** A vote of a gathering already open (or being opened): added, true; else false. */
  const known = (v: VerdictVote): boolean => {
    const key = keyOf(v.job, v.snapshotId, v.providerRight)
    const g = gatherings.get(key)
    if (g !== undefined) {
      add(g, v.signer, v.signature)
      trySubmit(g)
      return true
    }
    const early = opening.get(key)
    if (early !== undefined) {
      if (early.length < 256) early.push({ signer: v.signer, signature: v.signature })
      return true
    }
    return false
  }

  const heard = (v: VerdictVote): void => {
    if (known(v)) return
    // Not judged under this snapshot yet: judge (a proof accepted meanwhile decides it); sign and gather only when this node agrees.
    o.judge(v.job, (providerRight, proof) => {
      if (providerRight !== v.providerRight) return
      call(ctx, ctx.ledger.committee(v.snapshotId), (snapshot) => {
        if (snapshot === undefined) return
        open(v.job, providerRight, snapshot, (opened) => {
          add(opened, v.signer, v.signature)
          trySubmit(opened)
        }, proof)
      })
    })
  }

  const onVote = (env: Envelope): void => {
    if (stopped) return
    const decoded = decodeVerdictVote(env.data)
    if (Result.isFailure(decoded)) return ctx.fault(env.from, decoded.failure)
    heard(decoded.success)
  }

  const onProof = (env: Envelope): void => {
    if (stopped) return
    const decoded = decodeProofVote(env.data)
    if (Result.isFailure(decoded)) return ctx.fault(env.from, decoded.failure)
    const { vote, proof } = decoded.success
    // A gathering already open (this node judged the job): the signature is all that is new (re-sends cost no re-execution).
    if (known(vote)) return
    if (o.checkProof === undefined) return heard(vote)
    o.checkProof(vote.job, proof, (r) => {
      if (stopped) return
      if (r.kind === "refused") ctx.fault(env.from, `fraud proof on job ${vote.job} note ${proof.note} refused: ${r.reason}`)
      heard(vote)
    })
  }

  ctx.run(Effect.map(ctx.network.subscribe(VERDICT_TOPIC, onVote, { maxBytes: MAX_VERDICT_MESSAGE_BYTES }), (u) => void (unsubscribe = u)))
  let unsubscribeProofs: Effect.Effect<void> | undefined
  ctx.run(Effect.map(ctx.network.subscribe(PROOF_TOPIC, onProof, { maxBytes: MAX_PROOF_MESSAGE_BYTES }), (u) => void (unsubscribeProofs = u)))

  return {
    judge: (job) =>
      o.judge(job, (providerRight, proof) => {
        if (providerRight === undefined) return
        call(ctx, ctx.ledger.latestSnapshot, (snapshot) => {
          if (snapshot === undefined) return ctx.emit("market.resolve-refused", { job, reason: "the ledger has no committee snapshot to sign a verdict under" })
          open(job, providerRight, snapshot, undefined, proof)
        })
      }),
    stats: () => ({ ...stats }),
    stop: () => {
      if (stopped) return
      stopped = true
      if (timer !== undefined) ctx.clock.clearTimeout(timer as never)
      if (unsubscribe !== undefined) ctx.run(unsubscribe)
      if (unsubscribeProofs !== undefined) ctx.run(unsubscribeProofs)
    },
  }
}

/**
 * The consensus wire messages and their codec.
 *
 * Four messages travel on the consensus topic: a `proposal`, a `vote`, a `certificate` (the votes of
 * one (height, round, type, block hash) an aggregator collected: aggregation.ts), and a `commit` (a
 * block with the precommits that decided it), which nodes send to peers that are behind so they can
 * catch up.
 * On the wire a message is JSON in UTF-8, written canonically (sorted keys, no whitespace; see
 * block.ts), so one message has one byte string. Heights, rounds and times are JSON numbers (safe
 * integers); addresses, hashes and signatures are 0x-prefixed lowercase hex strings.
 *
 * Decoding never throws: bad UTF-8, bad JSON, a missing or ill-typed field, an unknown field or an
 * oversized message each give a {@link ConsensusDecodeError} naming the field (`vote.round`,
 * `proposal.block.txs[3].type`). Decoding checks form, not truth: signatures, proposers and block
 * validity are checked by the node afterwards.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { seal } from "../sealed-bytes.ts"
import { canonicalJson } from "./block.ts"
import type { Block, Json, Proposal, Vote } from "./types.ts"

/** A message on the consensus topic. */
export type ConsensusMessage =
  | { readonly kind: "proposal"; readonly proposal: Proposal }
  | { readonly kind: "vote"; readonly vote: Vote }
  | { readonly kind: "commit"; readonly block: Block; readonly precommits: readonly Vote[] }
  | VoteCertificate

/**
 * Votes of one (type, height, round, blockHash) by several validators, as one message: each signer
 * with its own signature over the same vote digest (aggregation.ts). `certificateVotes` expands it.
 */
export interface VoteCertificate {
  readonly kind: "certificate"
  readonly type: Vote["type"]
  readonly height: number
  readonly round: number
  readonly blockHash: Vote["blockHash"]
  readonly signers: readonly { readonly validator: string; readonly signature: string }[]
}

/** Largest message decoded by default (a block of transactions fits comfortably). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024
/** Most transactions in a block, and most precommits in a commit. */
export const MAX_TXS = 100_000
export const MAX_PRECOMMITS = 10_000

export class ConsensusDecodeError extends Schema.TaggedError<ConsensusDecodeError>()("ConsensusDecodeError", {
  /** The field at fault, as a path (`vote.round`), or `(message)` for the message as a whole. */
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `bad consensus message: ${this.field}: ${this.reason}`
  }
}

const hex = (bytes: number, what: string) =>
  Schema.String.check(Schema.isPattern(new RegExp(`^0x[0-9a-f]{${2 * bytes}}$`), { expected: `${what} (0x + ${2 * bytes} lowercase hex digits)` }))
const int = (minimum: number, what: string) =>
  Schema.Number.check(Schema.isInt({ expected: `${what} (an integer)` }), Schema.isBetween({ minimum, maximum: Number.MAX_SAFE_INTEGER }, { expected: `${what} (an integer from ${minimum})` }))

const AddressSchema = hex(20, "an address")
const HashSchema = hex(32, "a 32-byte hash")
const SignatureSchema = hex(65, "a 65-byte signature")
const HeightSchema = int(1, "a height")
const RoundSchema = int(0, "a round")

/** An application transaction: an object with a string `type` and any JSON fields. */
export const AppTxSchema = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [Schema.Record(Schema.String, Schema.Json)])

export const BlockSchema = Schema.Struct({
  height: HeightSchema,
  round: RoundSchema,
  proposer: AddressSchema,
  parentHash: HashSchema,
  time: int(0, "a time in ms"),
  txs: Schema.Array(AppTxSchema).check(Schema.isMaxLength(MAX_TXS)),
  appHash: HashSchema,
})

export const VoteSchema = Schema.Struct({
  type: Schema.Literals(["prevote", "precommit"]),
  height: HeightSchema,
  round: RoundSchema,
  blockHash: Schema.NullOr(HashSchema),
  validator: AddressSchema,
  signature: SignatureSchema,
})

export const ProposalSchema = Schema.Struct({
  height: HeightSchema,
  round: RoundSchema,
  polRound: int(-1, "a round or -1"),
  block: BlockSchema,
  proposer: AddressSchema,
  signature: SignatureSchema,
}).check(Schema.makeFilter((p) => (p.polRound < p.round ? undefined : { path: ["polRound"], issue: "must be below round (or -1)" })))

const CommitSchema = Schema.Struct({
  kind: Schema.Literal("commit"),
  block: BlockSchema,
  precommits: Schema.Array(VoteSchema).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_PRECOMMITS)),
}).check(
  Schema.makeFilter((c) => {
    const i = c.precommits.findIndex((v) => v.type !== "precommit" || v.height !== c.block.height || v.round !== c.precommits[0]!.round)
    return i === -1 ? undefined : { path: ["precommits", i], issue: "must be a precommit of the block's height, in the same round as the others" }
  }),
)

const CertificateSchema = Schema.Struct({
  kind: Schema.Literal("certificate"),
  type: Schema.Literals(["prevote", "precommit"]),
  height: HeightSchema,
  round: RoundSchema,
  blockHash: Schema.NullOr(HashSchema),
  signers: Schema.Array(Schema.Struct({ validator: AddressSchema, signature: SignatureSchema })).check(Schema.isMinLength(1), Schema.isMaxLength(MAX_PRECOMMITS)),
})

export const ConsensusMessageSchema = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("proposal"), proposal: ProposalSchema }),
  Schema.Struct({ kind: Schema.Literal("vote"), vote: VoteSchema }),
  CommitSchema,
  CertificateSchema,
])

// The schemas' types must be exactly the domain types (checked at compile time).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _sameMessage: Same<typeof ConsensusMessageSchema.Type, ConsensusMessage> = true
void _sameMessage

const decodeSchema = Schema.decodeUnknownResult(ConsensusMessageSchema)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const fieldOf = (path: ReadonlyArray<PropertyKey>): string => {
  if (path.length === 0) return "(message)"
  let out = ""
  for (const k of path) out += typeof k === "number" ? `[${k}]` : `${out === "" ? "" : "."}${String(k)}`
  return out
}

/** Decode a message already parsed from JSON. */
export const decodeMessageValue = (value: unknown): Result.Result<ConsensusMessage, ConsensusDecodeError> => {
  // Name the discriminator itself when it is wrong (the union's own error would blame the whole message).
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return Result.fail(new ConsensusDecodeError({ field: "(message)", reason: "expected a JSON object" }))
  }
  const kind = (value as { kind?: unknown }).kind
  if (kind !== "proposal" && kind !== "vote" && kind !== "commit" && kind !== "certificate") {
    return Result.fail(new ConsensusDecodeError({ field: "kind", reason: `expected "proposal", "vote", "commit" or "certificate", got ${JSON.stringify(kind) ?? "nothing"}` }))
  }
  try {
    const r = decodeSchema(value, { errors: "first", onExcessProperty: "error" })
    if (Result.isSuccess(r)) return Result.succeed(r.success)
    const first = formatter(r.failure.issue).issues[0]
    const path = (first?.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)) as PropertyKey[]
    return Result.fail(new ConsensusDecodeError({ field: fieldOf(path), reason: first?.message ?? "invalid" }))
  } catch (e) {
    // A schema library should not throw on any input, but a node must not crash on one either.
    return Result.fail(new ConsensusDecodeError({ field: "(message)", reason: `could not be decoded (${(e as Error).message})` }))
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Decode wire bytes; never throws. */
export const decodeMessage = (
  bytes: Uint8Array,
  options: { readonly maxBytes?: number } = {},
): Result.Result<ConsensusMessage, ConsensusDecodeError> => {
  const max = options.maxBytes ?? MAX_MESSAGE_BYTES
  if (bytes.length > max) return Result.fail(new ConsensusDecodeError({ field: "(message)", reason: `${bytes.length} bytes, more than the ${max} allowed` }))
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(bytes))
  } catch (e) {
    return Result.fail(new ConsensusDecodeError({ field: "(message)", reason: `not UTF-8 JSON (${(e as Error).message})` }))
  }
  return decodeMessageValue(value)
}

/**
 * Decoded messages by the byte array they came from. A simulated world hands the same bytes of a
 * published message to every receiver (sim/adapters/network.ts), so each message is decoded once
 * per world instead of once per receiver; on a real node every message has its own bytes and this
 * only costs a WeakMap entry. The result is shared: callers treat it as immutable (as every
 * consensus value is), and must not change the bytes after decoding them.
 */
const decodedByBytes = new WeakMap<Uint8Array, Result.Result<ConsensusMessage, ConsensusDecodeError>>()

/** `decodeMessage` (default size limit), remembered per byte array: the same bytes give the same (shared) result. */
export const decodeShared = (bytes: Uint8Array): Result.Result<ConsensusMessage, ConsensusDecodeError> => {
  let r = decodedByBytes.get(bytes)
  if (r === undefined) {
    r = decodeMessage(bytes)
    decodedByBytes.set(bytes, r)
  }
  return r
}

const utf8Encoder = new TextEncoder()

// Canonical JSON of blocks and votes, per object: every node stores a commit certificate per height
// (the block with its last-commit, and +2/3 precommits), built from the same decoded votes and
// block that all of a simulated world's nodes share, so each is written once, not once per node.
const jsonOf = new WeakMap<object, string>()
const memoJson = (value: Block | Vote): string => {
  let json = jsonOf.get(value)
  if (json === undefined) {
    json = canonicalJson(value as unknown as Json)
    jsonOf.set(value, json)
  }
  return json
}

/** The canonical JSON of a message other than a commit (= canonicalJson(message)), reusing a vote's. Commits: `encodeCommit`. */
const messageJson = (m: Exclude<ConsensusMessage, { kind: "commit" }>): string =>
  m.kind === "vote" ? `{"kind":"vote","vote":${memoJson(m.vote)}}` : canonicalJson(m as unknown as Json)

const votesOfCertificate = new WeakMap<VoteCertificate, readonly Vote[]>()

/**
 * The votes a certificate carries, one per signer (unverified: the receiver checks each signature
 * as for a vote), remembered per certificate object: a simulated world shares decoded messages, so
 * every receiver gets the same vote objects and their verdicts are shared too. The list is frozen.
 */
export const certificateVotes = (c: VoteCertificate): readonly Vote[] => {
  let votes = votesOfCertificate.get(c)
  if (votes === undefined) {
    // Frozen: counting remembers the voters' positions per list (height-votes.ts).
    votes = Object.freeze(c.signers.map((s) => ({ type: c.type, height: c.height, round: c.round, blockHash: c.blockHash, validator: s.validator, signature: s.signature })))
    votesOfCertificate.set(c, votes)
  }
  return votes
}

// The UTF-8 bytes of a block's or vote's canonical JSON, per object, sealed (runtime/core/sealed-bytes.ts:
// never handed out for writing). A commit certificate's bytes are these, joined: the UTF-8 of a
// concatenation of whole JSON values is the concatenation of their UTF-8.
const bytesOf = new WeakMap<object, Uint8Array>()
const memoBytes = (value: Block | Vote): Uint8Array => {
  let bytes = bytesOf.get(value)
  if (bytes === undefined) {
    bytes = seal(utf8Encoder.encode(memoJson(value)))
    bytesOf.set(value, bytes)
  }
  return bytes
}
const COMMIT_HEAD = seal(utf8Encoder.encode(`{"block":`))
const COMMIT_MIDDLE = seal(utf8Encoder.encode(`,"kind":"commit","precommits":[`))
const COMMA = seal(utf8Encoder.encode(","))
const COMMIT_TAIL = seal(utf8Encoder.encode("]}"))

/** A commit certificate's bytes, with where each precommit's bytes start in them. */
interface EncodedCommit {
  readonly bytes: Uint8Array
  /** `starts[i]`: the offset of precommit i's bytes; `starts[n]`: that of the closing `]}`. */
  readonly starts: Int32Array
}

/** `utf8(canonicalJson(m))` of a commit certificate, copied together from its block's and votes' remembered bytes. */
const encodeCommit = (m: ConsensusMessage & { kind: "commit" }): EncodedCommit => {
  const block = memoBytes(m.block)
  const n = m.precommits.length
  const votes: Uint8Array[] = new Array(n)
  let length = COMMIT_HEAD.length + block.length + COMMIT_MIDDLE.length + Math.max(0, n - 1) + COMMIT_TAIL.length
  for (let i = 0; i < n; i++) length += (votes[i] = memoBytes(m.precommits[i]!)).length
  const out = new Uint8Array(length)
  const starts = new Int32Array(n + 1)
  out.set(COMMIT_HEAD, 0)
  out.set(block, COMMIT_HEAD.length)
  let at = COMMIT_HEAD.length + block.length
  out.set(COMMIT_MIDDLE, at)
  at += COMMIT_MIDDLE.length
  for (let i = 0; i < n; i++) {
    if (i > 0) out[at++] = 0x2c // ","
    starts[i] = at
    out.set(votes[i]!, at)
    at += votes[i]!.length
  }
  starts[n] = at
  out.set(COMMIT_TAIL, at)
  return { bytes: out, starts }
}

/** Encode a message to its canonical wire bytes. */
export const encodeMessage = (message: ConsensusMessage): Uint8Array =>
  message.kind === "commit" ? encodeCommit(message).bytes : utf8Encoder.encode(messageJson(message))

/**
 * Commit certificates encoded lately, per block object (a few precommit lists each): every node of a
 * simulated world stores the certificate of each height it decides, of the same shared block and
 * mostly the same precommits — those of the aggregator's certificate, in validator-set order — plus,
 * for a node whose vote is not in that certificate, its own vote (an equal vote in another object).
 * At 1,000 validators a list is ≈ 437 kB and a third of the nodes have one of their own; encoded and
 * kept whole per node, those were ≈ 20 % of a run's CPU and 145 MB of new memory per height.
 */
const commitsEncoded = new WeakMap<Block, Array<{ readonly precommits: readonly Vote[]; readonly encoded: EncodedCommit }>>()
const MAX_COMMIT_VARIANTS = 4
/** A list that differs from a remembered one by more votes than this (left out or put in) is encoded whole. */
const MAX_EDITS = 8
/** Votes whose canonical JSON is the same (same object, or equal fields): the same bytes in a message. */
const sameVote = (a: Vote, b: Vote): boolean => a === b || memoJson(a) === memoJson(b)

/**
 * `list`'s bytes as views into `base`'s bytes and the bytes of the votes `list` has in addition, when
 * `list` is `base.precommits` with at most MAX_EDITS votes left out or put in; otherwise undefined.
 * A node whose vote is not in the aggregator's certificate decides with its own vote and as many of
 * the certificate's as make +2/3: the certificate's list less a vote or two, plus one. Walks both
 * lists once: where they differ, the next few votes of `base` are looked at for `list`'s (votes
 * left out), else `list`'s vote is one put in. Whatever the walk takes for what, every vote of `list`
 * is emitted in order from bytes equal to its own, so the parts always join to the right bytes.
 */
const partsOver = (base: { readonly precommits: readonly Vote[]; readonly encoded: EncodedCommit }, list: readonly Vote[]): Uint8Array[] | undefined => {
  const b = base.precommits
  if (b.length === 0 || Math.abs(list.length - b.length) > MAX_EDITS) return undefined
  const { bytes, starts } = base.encoded
  const parts: Uint8Array[] = [bytes.subarray(0, starts[0]!)] // the block and everything before the first precommit
  let edits = 0
  let j = 0 // next vote of base
  let run = -1 // first base vote of the current run of base votes, or -1
  const endRun = (): void => {
    if (run < 0) return
    if (parts.length > 1) parts.push(COMMA)
    // base votes run..j-1, with the commas between them: from run's first byte to the last one's end.
    parts.push(bytes.subarray(starts[run]!, starts[j]! - (j < b.length ? 1 : 0)))
    run = -1
  }
  for (let i = 0; i < list.length; i++) {
    const vote = list[i]!
    if (j < b.length && !sameVote(vote, b[j]!)) {
      let k = 1
      while (k <= MAX_EDITS - edits && j + k < b.length && !sameVote(vote, b[j + k]!)) k++
      if (k <= MAX_EDITS - edits && j + k < b.length) {
        endRun() // base votes j..j+k-1 are left out
        edits += k
        j += k
      }
    }
    if (j < b.length && sameVote(vote, b[j]!)) {
      if (run < 0) run = j
      j++
      continue
    }
    if (++edits > MAX_EDITS) return undefined
    endRun()
    if (parts.length > 1) parts.push(COMMA)
    parts.push(memoBytes(vote))
  }
  endRun()
  if ((edits += b.length - j) > MAX_EDITS) return undefined // base's last votes left out
  parts.push(COMMIT_TAIL)
  // Views into sealed bytes are never written either.
  for (let k = 0; k < parts.length; k++) seal(parts[k]!)
  return parts
}

/**
 * `encodeMessage` of a commit certificate, as parts to join (the Store port's `putParts`), shared:
 * equal certificates of one block object get the same single sealed part (runtime/core/sealed-bytes.ts),
 * and a certificate whose precommits differ from a remembered list by a few votes (left out or put in)
 * gets views into that list's bytes and the bytes of the votes it adds. Every part is sealed: for a caller that copies them or only
 * reads them (a Store port's `putParts` copies or keeps what it is given); never for bytes that
 * anyone could change.
 */
export const encodeCommitParts = (message: ConsensusMessage & { kind: "commit" }): readonly Uint8Array[] => {
  let variants = commitsEncoded.get(message.block)
  if (variants === undefined) commitsEncoded.set(message.block, (variants = []))
  const list = message.precommits
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i]!
    if (v.precommits.length !== list.length) continue
    let same = true
    for (let k = 0; k < list.length && same; k++) same = sameVote(v.precommits[k]!, list[k]!)
    if (!same) continue
    // Most recently used first: the list most nodes decide with (the aggregator's certificate) stays
    // while the lists only one node has (its own vote in, the certificate's last out) come and go.
    if (i > 0) variants.unshift(...variants.splice(i, 1))
    return [v.encoded.bytes]
  }
  for (const v of variants) {
    const parts = partsOver(v, list)
    if (parts !== undefined) return parts
  }
  const encoded = encodeCommit(message)
  seal(encoded.bytes)
  if (variants.length >= MAX_COMMIT_VARIANTS) variants.pop()
  variants.splice(Math.min(1, variants.length), 0, { precommits: [...list], encoded })
  return [encoded.bytes]
}


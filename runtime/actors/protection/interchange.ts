/**
 * The slashing-protection interchange format (docs/slashing-protection.md): EIP-3076 with heights,
 * rounds and steps in place of slots and epochs, and the chain id (and genesis hash) in place of the
 * genesis validators root. Pure: the strict decoder, the encoder, and the merge an import makes.
 *
 * A record set protects by its highest record alone (nothing is signed below it; at it, only the
 * same value), so merging is: take the highest record of both sides; where the two sides disagree
 * at that place, or either does not know the value, keep the place and forget the value, which
 * refuses every signature there. Importing never lowers the mark and is idempotent.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { compare, type Mark, type ProtectionRecord } from "./slashing-protection.ts"

export const INTERCHANGE_FORMAT = "dai-slashing-protection"
export const INTERCHANGE_VERSION = "1"

const Decimal = Schema.String.check(Schema.makeFilter((s) => (/^(0|[1-9]\d*)$/.test(s) && Number.isSafeInteger(Number(s))) || "a whole number as a decimal string, e.g. \"12\" (at most 2^53 - 1)"))
const Address = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || "a 0x address of 40 hex digits"))
const Hash = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{64}$/.test(s) || "a 0x hash of 64 hex digits"))

const SignedSchema = Schema.Struct({
  height: Decimal,
  round: Decimal,
  step: Schema.Literals(["proposal", "prevote", "precommit"]),
  value: Schema.optionalKey(Schema.NullOr(Hash)),
})

const InterchangeSchema = Schema.Struct({
  metadata: Schema.Struct({
    interchange_format: Schema.Literal(INTERCHANGE_FORMAT),
    interchange_format_version: Schema.Literal(INTERCHANGE_VERSION),
    chain_id: Decimal,
    genesis_hash: Schema.optionalKey(Hash),
  }),
  data: Schema.Array(Schema.Struct({ address: Address, signed: Schema.Array(SignedSchema) })),
})

/** The file as JSON. */
export type InterchangeJson = typeof InterchangeSchema.Type

/** The file as the node reads it: numbers, lower-case hex. */
export interface Interchange {
  readonly chainId: number
  readonly genesisHash?: string
  readonly validators: ReadonlyArray<{ readonly address: string; readonly signed: readonly Mark[] }>
}

/** A file that is not an interchange file; the message names the file and the key. */
export class InterchangeInvalid extends Schema.TaggedError<InterchangeInvalid>()("InterchangeInvalid", {
  file: Schema.String,
  key: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.key === "" ? "" : `${this.key}: `}${this.reason}`
  }
}

/** A valid file that this node must not import (another chain, or nothing for its validator). */
export class InterchangeRefused extends Schema.TaggedError<InterchangeRefused>()("InterchangeRefused", {
  file: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.reason}`
  }
}

/** Who the records are for: the node's chain and validator. */
export interface NodeIdentity {
  readonly chainId: number
  readonly genesisHash?: string
  readonly address: string
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownResult(InterchangeSchema)

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Decode a parsed interchange file strictly; `file` names it in errors. */
export const decodeInterchange = (value: unknown, file: string): Result.Result<Interchange, InterchangeInvalid> => {
  // An Ethereum file decodes to nothing useful here: say what it is rather than which key is missing.
  if (isObject(value) && isObject(value["metadata"]) && "genesis_validators_root" in value["metadata"]) {
    return Result.fail(new InterchangeInvalid({ file, key: "metadata.genesis_validators_root", reason: "an Ethereum EIP-3076 file (slots and epochs); a dai node reads the format of docs/slashing-protection.md (heights, rounds and steps)" }))
  }
  const r = decode(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isFailure(r)) {
    const issue = formatter(r.failure.issue).issues[0]
    const key = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
    return Result.fail(new InterchangeInvalid({ file, key, reason: issue?.message === "Expected no excess property" ? "unknown key" : (issue?.message ?? "invalid") }))
  }
  const { metadata, data } = r.success
  return Result.succeed({
    chainId: Number(metadata.chain_id),
    ...(metadata.genesis_hash === undefined ? {} : { genesisHash: metadata.genesis_hash.toLowerCase() }),
    validators: data.map((d) => ({
      address: d.address.toLowerCase(),
      signed: d.signed.map((s): Mark => ({
        height: Number(s.height),
        round: Number(s.round),
        step: s.step,
        ...(s.value === undefined ? {} : { value: s.value === null ? null : s.value.toLowerCase() }),
      })),
    })),
  })
}

/** Parse and decode the text of an interchange file. */
export const parseInterchange = (text: string, file: string): Result.Result<Interchange, InterchangeInvalid> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return Result.fail(new InterchangeInvalid({ file, key: "", reason: `not JSON (${(e as Error).message})` }))
  }
  return decodeInterchange(value, file)
}

/** The JSON of an interchange (what `decodeInterchange` reads back). */
export const encodeInterchange = (i: Interchange): InterchangeJson => ({
  metadata: {
    interchange_format: INTERCHANGE_FORMAT,
    interchange_format_version: INTERCHANGE_VERSION,
    chain_id: String(i.chainId),
    ...(i.genesisHash === undefined ? {} : { genesis_hash: i.genesisHash }),
  },
  data: i.validators.map((v) => ({
    address: v.address,
    signed: v.signed.map((s) => ({ height: String(s.height), round: String(s.round), step: s.step, ...(s.value === undefined ? {} : { value: s.value }) })),
  })),
})

const samePlace = (a: Mark, b: Mark): boolean => compare(a, b) === 0

/** The one value every record at a place agrees on, or undefined (unknown) when any lacks it or two differ. */
const agreed = (records: readonly Mark[]): { readonly value: string | null } | undefined => {
  const first = records[0]
  if (first === undefined || first.value === undefined) return undefined
  return records.every((r) => r.value === first.value) ? { value: first.value } : undefined
}

/**
 * The protection record of a set of signed records (any order, repeats and conflicts allowed): the
 * highest place is the mark; the records of the mark's height are kept, one per place, each with
 * its value where every record there agrees on it and without one (unknown) otherwise. So a place
 * once disputed stays disputed, and merging is idempotent, commutative and associative.
 */
export const protectionOf = (records: readonly Mark[]): ProtectionRecord => {
  const sorted = [...records].sort(compare)
  const top = sorted.at(-1)
  if (top === undefined) return { mark: undefined, atMarkHeight: [] }
  const places: Mark[][] = []
  for (const r of sorted) {
    if (r.height !== top.height) continue
    const last = places.at(-1)
    if (last !== undefined && samePlace(last[0]!, r)) last.push(r)
    else places.push([r])
  }
  const atMarkHeight = places.map((group): Mark => {
    const v = agreed(group)
    return { height: group[0]!.height, round: group[0]!.round, step: group[0]!.step, ...(v === undefined ? {} : { value: v.value }) }
  })
  return { mark: atMarkHeight.at(-1)!, atMarkHeight }
}

/** Every record a protection record holds, ascending (the mark last, once). */
export const recordsOf = (p: ProtectionRecord): readonly Mark[] => {
  if (p.mark === undefined) return []
  const below = p.atMarkHeight.filter((r) => compare(r, p.mark!) < 0)
  return [...below, p.mark]
}

/** The conservative merge of two protection records: refuses whatever either refuses. */
export const mergeProtection = (a: ProtectionRecord, b: ProtectionRecord): ProtectionRecord => protectionOf([...recordsOf(a), ...recordsOf(b)])

/** Do two protection records protect alike and hold the same records? */
export const sameProtection = (a: ProtectionRecord, b: ProtectionRecord): boolean =>
  JSON.stringify(recordsOf(protectionOf(recordsOf(a)))) === JSON.stringify(recordsOf(protectionOf(recordsOf(b))))

/** The interchange of one node's record. */
export const exportInterchange = (node: NodeIdentity, p: ProtectionRecord): Interchange => ({
  chainId: node.chainId,
  ...(node.genesisHash === undefined ? {} : { genesisHash: node.genesisHash }),
  validators: [{ address: node.address.toLowerCase(), signed: recordsOf(p) }],
})

export interface ImportPlan {
  /** The record to store. */
  readonly next: ProtectionRecord
  /** Whether it differs from the record stored now (false: the file adds nothing). */
  readonly changed: boolean
  /** Addresses in the file other than this node's validator, left alone. */
  readonly skipped: readonly string[]
}

/**
 * What importing `file` into a node whose record is `current` stores, or why it must not: records
 * for another chain (id, or genesis hash when both sides have one) are refused, as is a file with
 * nothing for this node's validator. Records of other validators are skipped and named.
 */
export const planImport = (file: Interchange, source: string, node: NodeIdentity, current: ProtectionRecord): Result.Result<ImportPlan, InterchangeRefused> => {
  if (file.chainId !== node.chainId) {
    return Result.fail(new InterchangeRefused({ file: source, reason: `records for chain id ${file.chainId}; this node is on chain id ${node.chainId} (nothing imported)` }))
  }
  if (file.genesisHash !== undefined && node.genesisHash !== undefined && file.genesisHash !== node.genesisHash.toLowerCase()) {
    return Result.fail(new InterchangeRefused({ file: source, reason: `records for genesis ${file.genesisHash}; this node's genesis is ${node.genesisHash.toLowerCase()} (another network with the same chain id; nothing imported)` }))
  }
  const self = node.address.toLowerCase()
  const mine = file.validators.filter((v) => v.address === self)
  const skipped = [...new Set(file.validators.filter((v) => v.address !== self).map((v) => v.address))]
  if (mine.length === 0) {
    const held = skipped.length === 0 ? "no validator at all" : skipped.join(", ")
    return Result.fail(new InterchangeRefused({ file: source, reason: `no records for this node's validator ${self} (the file holds ${held}; nothing imported)` }))
  }
  const next = protectionOf([...recordsOf(current), ...mine.flatMap((v) => v.signed)])
  return Result.succeed({ next, changed: !sameProtection(next, current), skipped })
}

/** A place and value, as a person reads them: `precommit 12/0 for 0x…`. */
export const describeMark = (m: Mark | undefined): string =>
  m === undefined ? "none" : `${m.step} ${m.height}/${m.round}${m.value === undefined ? " (value unknown)" : ` for ${m.value ?? "nil"}`}`

/** Keys of a JSON value sorted at every level, so equal content hashes alike whatever its layout. */
const canonical = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(canonical) : isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])])) : v

/** The genesis hash the interchange names: keccak-256 of the genesis file's JSON with sorted keys. */
export const genesisHashOf = (genesisJson: unknown): string => toHex(keccak256(utf8ToBytes(JSON.stringify(canonical(genesisJson)))))

/**
 * Signed application transactions: stake operations, contribution-score commits and reveals, and
 * training-round results (a round's model hash, accuracy, participants and a commitment to its
 * scores) with the later reveal of those scores.
 *
 * Each is a JSON object `{ type, signer, nonce, …, signature }`; the signature is the signer's over
 * `txDigest` (keccak256 of the canonical JSON of the transaction without its signature, bound to the
 * chain id), and `nonce` must be the signer's next one, so a transaction cannot be replayed or moved
 * to another chain. Amounts travel as decimal strings of base units.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { keccak256, utf8ToBytes } from "../crypto.ts"
import { canonicalJson } from "../consensus/block.ts"
import type { Json } from "../consensus/types.ts"
import type { EconOp } from "../econ/index.ts"

const Amount = Schema.BigIntFromString
const Account = Schema.String.check(Schema.makeFilter((s) => (s.length > 0 && s.length <= 100) || "an account id of 1 to 100 characters"))
const Tier = Schema.Literals([0, 30, 90, 180, 365])
const Hex = (bytes: number) => Schema.String.check(Schema.makeFilter((s) => new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`).test(s) || `0x + ${bytes * 2} lowercase hex digits`))
const Nonce = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))

/** The operations a signed transaction may carry (slashing only comes from evidence and downtime). */
export const StakeOp = Schema.Union([
  Schema.Struct({ type: Schema.Literal("transfer"), from: Account, to: Account, amount: Amount }),
  Schema.Struct({ type: Schema.Literal("burn"), from: Account, amount: Amount }),
  Schema.Struct({ type: Schema.Literal("registerValidator"), operator: Account, amount: Amount, tier: Tier, commission: Amount }),
  Schema.Struct({ type: Schema.Literal("bondContributor"), owner: Account, amount: Amount, tier: Tier }),
  Schema.Struct({ type: Schema.Literal("delegate"), owner: Account, validator: Account, amount: Amount, tier: Tier }),
  Schema.Struct({ type: Schema.Literal("unbond"), owner: Account, position: Nonce, amount: Amount }),
  Schema.Struct({ type: Schema.Literal("withdraw"), owner: Account }),
  Schema.Struct({ type: Schema.Literal("claimRewards"), owner: Account }),
  Schema.Struct({ type: Schema.Literal("payFee"), payer: Account, amount: Amount }),
  Schema.Struct({ type: Schema.Literal("fundRewards"), from: Account, amount: Amount }),
  Schema.Struct({ type: Schema.Literal("unjail"), operator: Account }),
])

const Signed = { signer: Hex(20), nonce: Nonce, signature: Hex(65) }
const Loss = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0 && n <= 1_000_000_000_000) || "a whole number from 0 to 1000000000000 (millionths)"))
const Score = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0 && n <= 1_000_000) || "a whole number from 0 to 1000000"))
/** Most participants one round may list. */
export const MAX_ROUND_PARTICIPANTS = 1_000
const Participants = <A, I, R>(item: Schema.Codec<A, I, R>) => Schema.Array(item).check(
  Schema.makeFilter((xs: ReadonlyArray<unknown>) => (xs.length >= 1 && xs.length <= MAX_ROUND_PARTICIPANTS) || `1 to ${MAX_ROUND_PARTICIPANTS} entries`),
)

export const SignedTx = Schema.Union([
  Schema.Struct({ type: Schema.Literal("stake"), op: StakeOp, ...Signed }),
  Schema.Struct({ type: Schema.Literal("score-commit"), epoch: Nonce, commitment: Hex(32), ...Signed }),
  Schema.Struct({
    type: Schema.Literal("score-reveal"), epoch: Nonce,
    score: Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0 && n <= 1_000_000) || "a whole number from 0 to 1000000")),
    salt: Hex(32), ...Signed,
  }),
  Schema.Struct({
    type: Schema.Literal("round-result"), round: Nonce, modelHash: Hex(32),
    /** Test accuracy of the aggregate, in millionths. */
    accuracy: Score,
    /** Test loss (cross-entropy) of the aggregate, in millionths (absent from older coordinators). */
    loss: Schema.optional(Loss),
    participants: Participants(Account),
    /**
     * Each participant's signature over its update commitment, in the order of `participants`
     * (round-attestation.ts). Optional only so that an older result still decodes: the executor
     * refuses a result without them.
     */
    attestations: Schema.optional(Participants(Schema.Struct({ updateHash: Hex(32), signature: Hex(65) }))),
    scoresCommitment: Hex(32), ...Signed,
  }),
  Schema.Struct({
    type: Schema.Literal("round-scores"), round: Nonce,
    scores: Participants(Schema.Struct({ account: Account, score: Score })),
    salt: Hex(32), ...Signed,
  }),
])
export type SignedTx = typeof SignedTx.Type

const decode = Schema.decodeUnknownResult(SignedTx)
const encode = Schema.encodeSync(SignedTx)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Decode a transaction from its JSON form; the error names the field. */
export const decodeTx = (value: unknown): Result.Result<SignedTx, string> => {
  const r = decode(value, { onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = formatter(r.failure.issue).issues[0]
  const path = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return Result.fail(`${path === "" ? "tx" : path}: ${issue?.message ?? "invalid"}`)
}

/** The JSON form carried in a block. */
export const encodeTx = (tx: SignedTx): Json => encode(tx) as unknown as Json

/** What the signer signs: the canonical JSON of the transaction without `signature`, bound to the chain. */
export const txDigest = (chainId: number, tx: Omit<SignedTx, "signature">): Uint8Array => {
  const { signature: _omit, ...rest } = encode({ ...tx, signature: `0x${"0".repeat(130)}` } as SignedTx) as Record<string, Json>
  return keccak256(utf8ToBytes(`dai/tx/v1/${chainId}/${canonicalJson(rest as Json)}`))
}

/** keccak256(abi-free: "dai/score/v1" ‖ epoch ‖ score ‖ salt) — what a score commitment hides. */
export const scoreCommitment = (epoch: number, score: number, salt: string): string => {
  const bytes = keccak256(utf8ToBytes(`dai/score/v1/${epoch}/${score}/${salt}`))
  return `0x${Buffer.from(bytes).toString("hex")}`
}

/** keccak256 of a round's scores (sorted by account) and a salt — what a `round-result` commits to. */
export const roundScoresCommitment = (round: number, scores: ReadonlyArray<{ readonly account: string; readonly score: number }>, salt: string): string => {
  const sorted = [...scores].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0)).map((x) => ({ account: x.account, score: x.score }))
  const bytes = keccak256(utf8ToBytes(`dai/round-scores/v1/${round}/${canonicalJson(sorted as unknown as Json)}/${salt}`))
  return `0x${Buffer.from(bytes).toString("hex")}`
}

/** The account an operation acts for (who must have signed it). */
export const actorOf = (op: EconOp): string => {
  switch (op.type) {
    case "transfer": case "burn": case "fundRewards": return op.from
    case "registerValidator": case "unjail": return op.operator
    case "bondContributor": case "delegate": case "unbond": case "withdraw": case "claimRewards": return op.owner
    case "payFee": return op.payer
    case "slash": return ""
  }
}

/** Sign a transaction with `sign` (the signer's key). */
export const signTx = (chainId: number, unsigned: Omit<SignedTx, "signature">, sign: (digest: Uint8Array) => Uint8Array): SignedTx =>
  ({ ...unsigned, signature: `0x${Buffer.from(sign(txDigest(chainId, unsigned))).toString("hex")}` }) as SignedTx

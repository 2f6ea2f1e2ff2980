/**
 * The genesis file every node of a network shares: consensus chain id, genesis time, parameter
 * overrides (the registry's defaults otherwise), token allocations and the genesis validators.
 * JSON, amounts as decimal strings of base units; decoded with a Schema, errors name file and field.
 */
import { readFileSync } from "node:fs"
import { Result, Schema, SchemaIssue } from "effect"
import type { AppGenesis } from "../core/app/app.ts"
import { buildGenesis, REWARD_RESERVE_TOKENS } from "../core/app/genesis.ts"
import { isLockTier, type LockTier } from "../core/econ/index.ts"
import { DEFAULT_PARAMS, resolveParams, type Params } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"

export const GENESIS_FORMAT = "dai-genesis/1"

const Uint = Schema.String.check(Schema.makeFilter((s) => /^\d+$/.test(s) || "a decimal string of a whole number (base units)"))
const Address = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || "a 0x address of 40 hex digits"))
const Int = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))

const GenesisSchema = Schema.Struct({
  format: Schema.Literal(GENESIS_FORMAT),
  chainId: Int,
  /** Unix ms. */
  time: Int,
  /** Parameter overrides, in the units of scenario files ("1s", 0.05). */
  params: Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Number, Schema.Boolean])),
  allocations: Schema.Array(Schema.Struct({ address: Schema.String, amount: Uint })).check(Schema.isMinLength(1)),
  validators: Schema.Array(Schema.Struct({
    operator: Schema.String,
    address: Address,
    amount: Uint,
    tier: Int.check(Schema.makeFilter((t) => isLockTier(t) || "a lock tier in days: 0, 30, 90, 180 or 365")),
    commission: Uint,
  })).check(Schema.isMinLength(1)),
  /** The account whose balance is released as staking rewards (`rewards.annualEmission`), block by block. */
  rewardReserve: Schema.optional(Schema.String),
})
export type GenesisFile = typeof GenesisSchema.Type

export class GenesisInvalid extends Schema.TaggedError<GenesisInvalid>()("GenesisInvalid", {
  file: Schema.String,
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.field === "" ? "" : `${this.field}: `}${this.reason}`
  }
}

/** The genesis file of an AppGenesis; `params` keeps only what differs from the registry's defaults. */
export const encodeGenesis = (g: AppGenesis, overrides: Readonly<Record<string, string | number | boolean>>): GenesisFile => ({
  format: GENESIS_FORMAT,
  chainId: g.chainId,
  time: g.time,
  params: { ...overrides },
  allocations: g.allocations.map((a) => ({ address: a.address, amount: String(a.amount) })),
  validators: g.validators.map((v) => ({ operator: v.operator, address: v.address, amount: String(v.amount), tier: v.tier, commission: String(v.commission) })),
  ...(g.rewardReserve === undefined ? {} : { rewardReserve: g.rewardReserve }),
})

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownResult(GenesisSchema)

/** Decode a parsed genesis file into the App's genesis; `file` names it in errors. */
export const decodeGenesis = (value: unknown, file: string): Result.Result<AppGenesis, GenesisInvalid> => {
  const r = decode(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isFailure(r)) {
    const issue = formatter(r.failure.issue).issues[0]
    const field = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
    return Result.fail(new GenesisInvalid({ file, field, reason: issue?.message === "Expected no excess property" ? "unknown key" : (issue?.message ?? "invalid") }))
  }
  const g = r.success
  const params = resolveParams(g.params)
  if (Result.isFailure(params)) return Result.fail(new GenesisInvalid({ file, field: "params", reason: params.failure.message }))
  const allocations = g.allocations.map((a) => ({ address: a.address, amount: BigInt(a.amount) }))
  const sum = allocations.reduce((s, a) => s + a.amount, 0n)
  if (sum !== TOTAL_SUPPLY) return Result.fail(new GenesisInvalid({ file, field: "allocations", reason: `sum to ${sum} base units, not the total supply ${TOTAL_SUPPLY}` }))
  if (g.rewardReserve !== undefined && !allocations.some((a) => a.address === g.rewardReserve)) {
    return Result.fail(new GenesisInvalid({ file, field: "rewardReserve", reason: `"${g.rewardReserve}" has no allocation to release rewards from` }))
  }
  return Result.succeed({
    chainId: g.chainId,
    time: g.time,
    params: params.success,
    allocations,
    validators: g.validators.map((v) => ({ operator: v.operator, address: v.address.toLowerCase(), amount: BigInt(v.amount), tier: v.tier as LockTier, commission: BigInt(v.commission) })),
    ...(g.rewardReserve === undefined ? {} : { rewardReserve: g.rewardReserve }),
  })
}

/** Read and decode the genesis file at `path`. */
export const readGenesis = (path: string): Result.Result<AppGenesis, GenesisInvalid> => {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return Result.fail(new GenesisInvalid({ file: path, field: "", reason: code === undefined ? `not JSON (${(e as Error).message})` : `cannot read it (${code})` }))
  }
  return decodeGenesis(value, path)
}

export interface GenesisValidatorSpec {
  readonly operator: string
  readonly address: string
}

/** Tokens bonded at genesis, shared equally by the validators (30% of the supply, as a young PoS network). */
export const GENESIS_STAKE_TOKENS = 300_000_000n * TOKEN

/**
 * A genesis with `validators` bonded equally (30% of the supply shared, tier 0, 5% commission), each
 * with 1,000 tokens spare, 30% of the supply in the reward reserve (released as
 * `rewards.annualEmission` per year, block by block: about 5% a year on that stake at the defaults)
 * and the rest to `remainder` (runtime/core/app/genesis.ts).
 */
export const equalStakeGenesis = (options: {
  readonly chainId: number
  readonly time: number
  readonly validators: readonly GenesisValidatorSpec[]
  readonly overrides?: Readonly<Record<string, string | number | boolean>>
  readonly remainder?: string
}): { genesis: AppGenesis; params: Params } => {
  const params = Result.getOrThrow(resolveParams(options.overrides ?? {}, DEFAULT_PARAMS))
  const share = GENESIS_STAKE_TOKENS / BigInt(Math.max(1, options.validators.length))
  const minimum = BigInt(params["staking.minValidatorBond"]) * TOKEN
  const stake = share > minimum ? share - (share % TOKEN) : minimum
  const validators = options.validators.map((v) => ({ operator: v.operator, address: v.address.toLowerCase(), amount: stake, tier: 0 as const, commission: WAD / 20n }))
  const genesis = Result.getOrThrow(buildGenesis({
    chainId: options.chainId, time: options.time, params, validators,
    allocations: validators.map((v) => ({ address: v.operator, amount: v.amount + 1_000n * TOKEN })),
    reserve: { kind: "exactly", amount: REWARD_RESERVE_TOKENS },
    ...(options.remainder === undefined ? {} : { remainder: options.remainder }),
  }))
  return { genesis, params }
}

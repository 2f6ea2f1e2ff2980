/**
 * The genesis file every node of a network shares: consensus chain id, genesis time, parameter
 * overrides (the registry's defaults otherwise), token allocations and the genesis validators —
 * each with its libp2p peer id and addresses when known, so every node finds the others — and,
 * optionally, the EVM chain (its RPC and the deployment `dai chain deploy` wrote), so a node joins
 * the network's chain without a separate file. JSON, amounts as decimal strings of base units;
 * decoded with a Schema, errors name file and field. `dai genesis …` (cli/genesis.ts) writes it.
 */
import { readFileSync } from "node:fs"
import { Result, Schema, SchemaIssue } from "effect"
import { decodeDeployment, type Deployment } from "../adapters/evm/deployment.ts"
import type { AppGenesis } from "../core/app/app.ts"
import { buildGenesis, REWARD_RESERVE_TOKENS } from "../core/app/genesis.ts"
import { isLockTier, type LockTier } from "../core/econ/index.ts"
import { DEFAULT_PARAMS, resolveParams, type Params } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"

export const GENESIS_FORMAT = "dai-genesis/1"

const Uint = Schema.String.check(Schema.makeFilter((s) => /^\d+$/.test(s) || "a decimal string of a whole number (base units)"))
const Address = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || "a 0x address of 40 hex digits"))
const Int = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))
/** A libp2p peer id as `dai node init` prints it (base58btc: 12D3KooW… for the Ed25519 keys it makes). */
export const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{46,60}$/
const PeerIdString = Schema.String.check(Schema.makeFilter((s) => PEER_ID.test(s) || "a libp2p peer id (base58, e.g. 12D3KooW…) as `dai node init` prints it"))
/** A dialable address of a peer: TCP, ending in its peer id. */
export const DIALABLE = /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/
const Dialable = Schema.String.check(Schema.makeFilter((s) => DIALABLE.test(s) || "a TCP multiaddr ending in /p2p/<peer id>, e.g. /ip4/10.0.0.2/tcp/9000/p2p/12D3KooW…"))
const RpcUrl = Schema.String.check(Schema.makeFilter((s) => s === "" || /^https?:\/\/./.test(s) || "an http(s) URL, or \"\" when every node names its own"))

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
    /** The validator's libp2p peer id, and addresses where the others can dial it (bootstrap peers). */
    peerId: Schema.optional(PeerIdString),
    addrs: Schema.optional(Schema.Array(Dialable)),
  })),
  /** The account whose balance is released as staking rewards (`rewards.annualEmission`), block by block. */
  rewardReserve: Schema.optional(Schema.String),
  /** The EVM chain of the network: an RPC every node may use ("" = each node names its own) and the deployment. */
  chain: Schema.optional(Schema.Struct({ rpc: RpcUrl, deployment: Schema.Unknown })),
})
export type GenesisFile = typeof GenesisSchema.Type

/** A genesis validator as the network finds it: its peer id and dialable addresses, when the genesis names them. */
export interface GenesisPeer {
  readonly operator: string
  readonly address: string
  readonly peerId?: string
  readonly addrs: readonly string[]
}

/** What a genesis file says besides the App's genesis: where its validators listen, and its EVM chain. */
export interface GenesisNetwork {
  readonly peers: readonly GenesisPeer[]
  readonly chain?: { readonly rpc: string; readonly deployment: Deployment }
}

/** The App's genesis of a file, with what the file says about the network (read by init and `dai genesis`). */
export type FileGenesis = AppGenesis & { readonly network?: GenesisNetwork }

/** The network part of a genesis, if it has one (a genesis built in code has none). */
export const networkOf = (g: AppGenesis): GenesisNetwork | undefined => (g as FileGenesis).network

export class GenesisInvalid extends Schema.TaggedError<GenesisInvalid>()("GenesisInvalid", {
  file: Schema.String,
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.field === "" ? "" : `${this.field}: `}${this.reason}`
  }
}

/**
 * The genesis file of an AppGenesis; `params` keeps only what differs from the registry's defaults.
 * A genesis read from a file keeps its peers and chain (`networkOf`).
 */
export const encodeGenesis = (g: AppGenesis, overrides: Readonly<Record<string, string | number | boolean>>): GenesisFile => {
  const network = networkOf(g)
  const peer = (operator: string) => network?.peers.find((p) => p.operator === operator)
  return {
    format: GENESIS_FORMAT,
    chainId: g.chainId,
    time: g.time,
    params: { ...overrides },
    allocations: g.allocations.map((a) => ({ address: a.address, amount: String(a.amount) })),
    validators: g.validators.map((v) => {
      const p = peer(v.operator)
      return {
        operator: v.operator, address: v.address, amount: String(v.amount), tier: v.tier, commission: String(v.commission),
        ...(p?.peerId === undefined ? {} : { peerId: p.peerId }),
        ...(p === undefined || p.addrs.length === 0 ? {} : { addrs: [...p.addrs] }),
      }
    }),
    ...(g.rewardReserve === undefined ? {} : { rewardReserve: g.rewardReserve }),
    ...(network?.chain === undefined ? {} : { chain: { rpc: network.chain.rpc, deployment: network.chain.deployment } }),
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownResult(GenesisSchema)

const pathOf = (path: ReadonlyArray<unknown> | undefined): string =>
  (path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")

/** Decode a parsed genesis file as its Schema says (no cross-field checks); `file` names it in errors. */
export const decodeGenesisFile = (value: unknown, file: string): Result.Result<GenesisFile, GenesisInvalid> => {
  const r = decode(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = formatter(r.failure.issue).issues[0]
  return Result.fail(new GenesisInvalid({ file, field: pathOf(issue?.path), reason: issue?.message === "Expected no excess property" ? "unknown key" : (issue?.message ?? "invalid") }))
}

/**
 * Decode a parsed genesis file into the App's genesis; `file` names it in errors. A `draft` (being
 * built by `dai genesis`) may have no validators yet; a node's genesis needs one at least.
 */
export const decodeGenesis = (value: unknown, file: string, options: { readonly draft?: boolean } = {}): Result.Result<FileGenesis, GenesisInvalid> => {
  const r = decodeGenesisFile(value, file)
  if (Result.isFailure(r)) return Result.fail(r.failure)
  const g = r.success
  if (g.validators.length === 0 && options.draft !== true) {
    return Result.fail(new GenesisInvalid({ file, field: "validators", reason: "none: a network needs at least one genesis validator (add them with `dai genesis add-validator`)" }))
  }
  const invalid = (field: string, reason: string) => Result.fail(new GenesisInvalid({ file, field, reason }))
  for (const [i, v] of g.validators.entries()) {
    const before = g.validators.slice(0, i)
    if (before.some((w) => w.operator === v.operator)) return invalid(`validators.${i}.operator`, `"${v.operator}" names an earlier validator too; each needs its own name`)
    if (before.some((w) => w.address.toLowerCase() === v.address.toLowerCase())) return invalid(`validators.${i}.address`, `${v.address} is an earlier validator's address too; each validator signs with its own key`)
    if (v.peerId !== undefined && before.some((w) => w.peerId === v.peerId)) return invalid(`validators.${i}.peerId`, `${v.peerId} is an earlier validator's peer id too; each node has its own`)
    for (const [j, a] of (v.addrs ?? []).entries()) {
      const id = a.split("/p2p/").at(-1)
      if (v.peerId === undefined) return invalid(`validators.${i}.addrs.${j}`, "an address needs the validator's peerId beside it")
      if (id !== v.peerId) return invalid(`validators.${i}.addrs.${j}`, `ends in /p2p/${id}, not the validator's peer id ${v.peerId}`)
    }
  }
  let chain: GenesisNetwork["chain"]
  if (g.chain !== undefined) {
    const d = decodeDeployment(g.chain.deployment, file)
    if (Result.isFailure(d)) return invalid(`chain.deployment${d.failure.field === "(file)" ? "" : `.${d.failure.field}`}`, d.failure.reason)
    if (d.success.consensusChainId !== String(g.chainId)) {
      return invalid("chain.deployment.consensusChainId", `${d.success.consensusChainId} is not the genesis chainId ${g.chainId}: the contracts would not take this network's votes as evidence`)
    }
    if (d.success.dryRun) return invalid("chain.deployment.dryRun", "a dry run's contracts exist nowhere: deploy with `dai chain deploy --rpc URL`")
    chain = { rpc: g.chain.rpc, deployment: d.success }
  }
  const params = resolveParams(g.params)
  if (Result.isFailure(params)) return Result.fail(new GenesisInvalid({ file, field: "params", reason: params.failure.message }))
  const allocations = g.allocations.map((a) => ({ address: a.address, amount: BigInt(a.amount) }))
  const sum = allocations.reduce((s, a) => s + a.amount, 0n)
  if (sum !== TOTAL_SUPPLY) return Result.fail(new GenesisInvalid({ file, field: "allocations", reason: `sum to ${sum} base units, not the total supply ${TOTAL_SUPPLY}` }))
  if (g.rewardReserve !== undefined && !allocations.some((a) => a.address === g.rewardReserve)) {
    return Result.fail(new GenesisInvalid({ file, field: "rewardReserve", reason: `"${g.rewardReserve}" has no allocation to release rewards from` }))
  }
  const peers = g.validators.map((v) => ({ operator: v.operator, address: v.address.toLowerCase(), ...(v.peerId === undefined ? {} : { peerId: v.peerId }), addrs: v.addrs ?? [] }))
  const known = peers.some((p) => p.peerId !== undefined)
  return Result.succeed({
    chainId: g.chainId,
    time: g.time,
    params: params.success,
    allocations,
    validators: g.validators.map((v) => ({ operator: v.operator, address: v.address.toLowerCase(), amount: BigInt(v.amount), tier: v.tier as LockTier, commission: BigInt(v.commission) })),
    ...(g.rewardReserve === undefined ? {} : { rewardReserve: g.rewardReserve }),
    ...(known || chain !== undefined ? { network: { peers, ...(chain === undefined ? {} : { chain }) } } : {}),
  })
}

/** Read a JSON file for `decode`; a file that cannot be read or parsed is a GenesisInvalid naming it. */
export const readGenesisJson = (path: string): Result.Result<unknown, GenesisInvalid> => {
  try {
    return Result.succeed(JSON.parse(readFileSync(path, "utf8")) as unknown)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return Result.fail(new GenesisInvalid({ file: path, field: "", reason: code === undefined ? `not JSON (${(e as Error).message})` : `cannot read it (${code})` }))
  }
}

/** Read and decode the genesis file at `path` (a draft may have no validators yet). */
export const readGenesis = (path: string, options: { readonly draft?: boolean } = {}): Result.Result<FileGenesis, GenesisInvalid> =>
  Result.flatMap(readGenesisJson(path), (value) => decodeGenesis(value, path, options))

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

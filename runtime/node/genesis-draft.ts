/**
 * Building a network's genesis by hand, one validator at a time, for nodes on separate machines
 * (`dai genesis new`, `dai genesis add-validator`): each operator runs `dai node init`, which keeps
 * the keys on its machine and exports only its public identity (`identity.json`: name, signing
 * address, peer id, dialable addresses); one person collects the identities into the genesis and
 * hands the file to everyone. Every step re-checks the whole file as a node would (the App's
 * genesis applies: bonds above the minimum, commissions within the bound), so a file that passes
 * here starts a network.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { AppError } from "../core/app/app.ts"
import { genesisReplica } from "../core/app/ledger-genesis.ts"
import { genesisAllocations, REMAINDER_ACCOUNT, REWARD_RESERVE_ACCOUNT, REWARD_RESERVE_TOKENS } from "../core/app/genesis.ts"
import { isLockTier } from "../core/econ/index.ts"
import { resolveParams } from "../core/params.ts"
import { formatTokens, TOKEN } from "../core/units.ts"
import { decodeGenesis, DIALABLE, GENESIS_FORMAT, GenesisInvalid, PEER_ID, type FileGenesis, type GenesisFile } from "./genesis-file.ts"

/** Consensus chain id of a genesis that names none and no deployment (the contracts' default). */
export const DEFAULT_CHAIN_ID = 7
/** Tokens a validator holds besides its bond when `--balance` is not given: enough for its first transactions. */
export const DEFAULT_SPARE_TOKENS = 1_000n * TOKEN

export const IDENTITY_FILE = "identity.json"
export const IDENTITY_FORMAT = "dai-identity/1"

const IdentitySchema = Schema.Struct({
  format: Schema.Literal(IDENTITY_FORMAT),
  name: Schema.String.check(Schema.makeFilter((s) => s.trim() !== "" || "a non-empty name")),
  address: Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || "a 0x address of 40 hex digits")),
  peerId: Schema.String.check(Schema.makeFilter((s) => PEER_ID.test(s) || "a libp2p peer id (base58, e.g. 12D3KooW…)")),
  addrs: Schema.Array(Schema.String.check(Schema.makeFilter((s) => DIALABLE.test(s) || "a TCP multiaddr ending in /p2p/<peer id>"))),
})
/** A node's public identity, as `dai node init` exports it: nothing secret. */
export type NodeIdentity = typeof IdentitySchema.Type

/** The identity of a node: its dialable addresses are its listen addresses with a concrete host and port. */
export const nodeIdentity = (o: { readonly name: string; readonly address: string; readonly peerId: string; readonly listen: readonly string[] }): NodeIdentity => ({
  format: IDENTITY_FORMAT,
  name: o.name,
  address: o.address,
  peerId: o.peerId,
  // 0.0.0.0 / :: and port 0 say where to listen, not where to dial: the operator names those with --addr.
  addrs: o.listen.filter((a) => !/^\/ip[46]\/(0\.0\.0\.0|::)\//.test(a) && !/\/tcp\/0$/.test(a)).map((a) => `${a}/p2p/${o.peerId}`),
})

/** Decode an identity file's JSON; `file` names it in errors. */
export const decodeIdentity = (value: unknown, file: string): Result.Result<NodeIdentity, GenesisInvalid> => {
  const r = Schema.decodeUnknownResult(IdentitySchema)(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = SchemaIssue.makeFormatterStandardSchemaV1()(r.failure.issue).issues[0]
  const field = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return Result.fail(new GenesisInvalid({ file, field, reason: issue?.message === "Expected no excess property" ? "unknown key" : (issue?.message ?? "invalid") }))
}

/**
 * The genesis applies on the ledger (and the App starts from its snapshot): every validator registers (bond at least `staking.minValidatorBond`,
 * commission at most `staking.maxCommission`, its allocation holds its bond). The failure names the validator.
 */
export const checkGenesisApplies = (g: FileGenesis, file: string): Result.Result<FileGenesis, GenesisInvalid> => {
  if (g.validators.length === 0) return Result.succeed(g) // a draft: nothing to register yet
  try {
    genesisReplica(g, () => false)
    return Result.succeed(g)
  } catch (e) {
    if (!(e instanceof AppError)) return Result.fail(new GenesisInvalid({ file, field: "", reason: `does not apply: ${e instanceof Error ? e.message : String(e)}` }))
    const operator = /^genesis (?:validator|contributor) (\S+?):/.exec(e.reason)?.[1]
    const i = g.validators.findIndex((v) => v.operator === operator)
    return Result.fail(new GenesisInvalid({ file, field: i < 0 ? "validators" : `validators.${i}`, reason: e.reason.replace(/^genesis (validator|contributor) \S+: /, "") }))
  }
}

/** Decode and check a genesis file's JSON as a node would (a `draft` may have no validators yet). */
export const checkGenesis = (value: unknown, file: string, options: { readonly draft?: boolean } = {}): Result.Result<FileGenesis, GenesisInvalid> =>
  Result.flatMap(decodeGenesis(value, file, options), (g) => checkGenesisApplies(g, file))

export interface NewGenesisOptions {
  /** Consensus chain id (default: the deployment's consensusChainId, else DEFAULT_CHAIN_ID). */
  readonly chainId?: number
  /** Genesis time, Unix ms. */
  readonly time: number
  /** Parameter overrides, in the units of scenario files ("500ms", 0.05). */
  readonly overrides: Readonly<Record<string, string | number | boolean>>
  /** The network's EVM chain: its RPC ("" = each node names its own) and the deployment file's JSON. */
  readonly chain?: { readonly rpc: string; readonly deployment: unknown }
}

/**
 * A genesis with no validators yet: the reward reserve (30 % of the supply) and the rest to the
 * remainder account (`community`), from which `addValidator` takes each validator's allocation.
 */
export const newGenesis = (o: NewGenesisOptions, file: string): Result.Result<GenesisFile, GenesisInvalid> => {
  const params = resolveParams(o.overrides)
  if (Result.isFailure(params)) return Result.fail(new GenesisInvalid({ file, field: "params", reason: params.failure.message }))
  const deployed = (o.chain?.deployment as { consensusChainId?: unknown } | undefined)?.consensusChainId
  const chainId = o.chainId ?? (typeof deployed === "string" && /^\d+$/.test(deployed) ? Number(deployed) : DEFAULT_CHAIN_ID)
  const allocations = Result.getOrThrow(genesisAllocations([], { kind: "exactly", amount: REWARD_RESERVE_TOKENS }))
  const draft: GenesisFile = {
    format: GENESIS_FORMAT,
    chainId,
    time: o.time,
    params: { ...o.overrides },
    allocations: allocations.allocations.map((a) => ({ address: a.address, amount: String(a.amount) })),
    validators: [],
    rewardReserve: REWARD_RESERVE_ACCOUNT,
    ...(o.chain === undefined ? {} : { chain: { rpc: o.chain.rpc, deployment: o.chain.deployment } }),
  }
  return Result.map(checkGenesis(draft, file, { draft: true }), () => draft)
}

export interface ValidatorSpec {
  /** Operator name: the validator's account in the App and its name in telemetry. */
  readonly name: string
  readonly address: string
  readonly peerId?: string
  readonly addrs: readonly string[]
  /** Bonded at genesis, base units. */
  readonly stake: bigint
  /** Lock tier in days (0, 30, 90, 180, 365). */
  readonly tier: number
  /** Commission on delegators' rewards, a WAD fraction. */
  readonly commission: bigint
  /** Tokens it holds besides its bond, base units. */
  readonly balance: bigint
}

/**
 * `genesis` with one more validator: its allocation (stake + balance) taken from the remainder
 * account, then the whole file checked again. The failure names the file and the field.
 */
export const addValidator = (genesis: GenesisFile, v: ValidatorSpec, file: string): Result.Result<GenesisFile, GenesisInvalid> => {
  const i = genesis.validators.length
  const fail = (field: string, reason: string) => Result.fail(new GenesisInvalid({ file, field, reason }))
  if (!isLockTier(v.tier)) return fail(`validators.${i}.tier`, `${v.tier} is not a lock tier: 0, 30, 90, 180 or 365 days`)
  if (v.stake <= 0n) return fail(`validators.${i}.amount`, "a validator bonds more than nothing")
  if (genesis.allocations.some((a) => a.address === v.name)) return fail(`validators.${i}.operator`, `"${v.name}" already has an allocation (a validator's or a reserved account); choose another --name`)
  const from = genesis.allocations.findIndex((a) => a.address === REMAINDER_ACCOUNT)
  const need = v.stake + v.balance
  if (from < 0) return fail("allocations", `no "${REMAINDER_ACCOUNT}" allocation to take the validator's ${formatTokens(need)} DAI from`)
  const left = BigInt(genesis.allocations[from]!.amount) - need
  if (left < 0n) return fail("allocations", `"${REMAINDER_ACCOUNT}" holds ${formatTokens(BigInt(genesis.allocations[from]!.amount))} DAI, less than the ${formatTokens(need)} DAI this validator needs (stake + balance)`)
  const allocations = genesis.allocations.flatMap((a, j) => (j !== from ? [a] : left === 0n ? [] : [{ address: a.address, amount: String(left) }]))
  const next: GenesisFile = {
    ...genesis,
    allocations: [...allocations, { address: v.name, amount: String(need) }],
    validators: [...genesis.validators, {
      operator: v.name, address: v.address.toLowerCase(), amount: String(v.stake), tier: v.tier, commission: String(v.commission),
      ...(v.peerId === undefined ? {} : { peerId: v.peerId }),
      ...(v.addrs.length === 0 ? {} : { addrs: [...v.addrs] }),
    }],
  }
  return Result.map(checkGenesis(next, file), () => next)
}

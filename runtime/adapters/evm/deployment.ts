/**
 * The deployment file `dai chain deploy` writes and the node and tools read: which chain, which
 * contract at which address, from which block, deployed by whom, with which parameter registry.
 * Decoded with a Schema at the boundary; an error names the field.
 */
import { readFile } from "node:fs/promises"
import { Data, Result, Schema, SchemaIssue } from "effect"
import { keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { PARAM_NAMES, REGISTRY, type ParamDef } from "../../core/params.ts"

/** The contracts of a deployment, by contract name. */
export const CONTRACT_NAMES = ["DAIToken", "Staking", "Constitution", "Governance", "Treasury", "ContributionRegistry", "Committee", "ComputeMarket"] as const
export type ContractName = (typeof CONTRACT_NAMES)[number]

/**
 * Version 4: the ComputeMarket contract (provider bonds, job escrows; its COMMITTEE_ROLE held by the
 * Committee contract, its admin role by Governance). Version 3: the Committee contract (snapshots, epoch
 * reports, fee deposits; it holds the reward reserve and Staking's COMMITTEE_ROLE), no downtime
 * reporter; every other role held by Governance (the deployer keeps none), its holders listed, the
 * Treasury funded.
 */
export const DEPLOYMENT_FORMAT = "dai-deployment/4"

const Address = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-fA-F]{40}$/.test(s) || "a 0x address of 40 hex digits"))
const Hash = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]{64}$/.test(s) || "0x + 64 lowercase hex digits"))
const Uint = Schema.String.check(Schema.makeFilter((s) => /^\d+$/.test(s) || "a decimal string of a whole number"))
const Int = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))

export const DeploymentSchema = Schema.Struct({
  format: Schema.Literal(DEPLOYMENT_FORMAT),
  /** EVM chain id, decimal. */
  chainId: Uint,
  /** "in-process" or the RPC URL deployed to. */
  network: Schema.String,
  /** True when deployed to a throw-away in-process chain: the addresses exist nowhere else. */
  dryRun: Schema.Boolean,
  deployer: Address,
  /** Block of the first deployment transaction (log scans start here). */
  deploymentBlock: Int,
  /** Unix seconds of the last deployment block. */
  deployedAt: Int,
  contracts: Schema.Struct({
    DAIToken: Address, Staking: Address, Constitution: Address, Governance: Address, Treasury: Address, ContributionRegistry: Address,
    Committee: Address,
    /** The compute market: provider bonds and job escrows in DAIToken. */
    ComputeMarket: Address,
  }),
  /** keccak256 of the parameter registry's definitions (`paramRegistryHash`). */
  paramRegistryHash: Hash,
  /** keccak256 of the Constitution table installed (keys, bounds, values). */
  constitutionHash: Hash,
  /** Chain id of the consensus network whose signed votes are double-sign evidence. */
  consensusChainId: Uint,
  roles: Schema.Struct({
    /** The Governance contract: every admin role, PARAMS_ROLE, the governance of the Constitution, Treasury and token. */
    governance: Address,
    /** The token's emergency pauser (zero address: none). */
    guardian: Address,
    guardianExpiry: Int,
    /** Every role of every contract and its holder, read back from the chain after the deploy. */
    holders: Schema.Array(Schema.Struct({
      contract: Schema.Literals(CONTRACT_NAMES),
      role: Schema.String,
      holder: Address,
      /** A deployment contract's name, "contract", "account" (an EOA) or "none". */
      kind: Schema.String,
    })),
  }),
  /** The Treasury's multisig and the tokens it got at genesis (base units, decimal: the community share). */
  treasury: Schema.Struct({ signers: Schema.Array(Address), threshold: Int, funded: Uint }),
  /** The Committee's reward reserve at genesis (base units, decimal: the genesis "reserve" allocation). */
  committee: Schema.Struct({ rewardReserve: Uint }),
  contributionRegistry: Schema.Struct({ genesis: Int, epochLength: Int, commitWindow: Int }),
  /** Genesis allocations; amounts in base units, decimal. */
  genesis: Schema.Array(Schema.Struct({ address: Address, amount: Uint })),
})
export type Deployment = typeof DeploymentSchema.Type

export class DeploymentInvalid extends Data.TaggedError("DeploymentInvalid")<{ readonly source: string; readonly field: string; readonly reason: string }> {
  override get message() {
    return `deployment ${this.source}: ${this.field}: ${this.reason} (write a new one with \`dai chain deploy --out FILE\`)`
  }
}

const decode = Schema.decodeUnknownResult(DeploymentSchema)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Decode a deployment already parsed from JSON; `source` names it in errors. */
export const decodeDeployment = (value: unknown, source = "file"): Result.Result<Deployment, DeploymentInvalid> => {
  const r = decode(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = formatter(r.failure.issue).issues[0]
  const path = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  return Result.fail(new DeploymentInvalid({ source, field: path === "" ? "(file)" : path, reason: issue?.message ?? "invalid" }))
}

/** Read and decode a deployment file. */
export const readDeployment = async (path: string): Promise<Result.Result<Deployment, DeploymentInvalid>> => {
  let text: string
  try {
    text = await readFile(path, "utf8")
  } catch (e) {
    return Result.fail(new DeploymentInvalid({ source: path, field: "(file)", reason: `cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})` }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Result.fail(new DeploymentInvalid({ source: path, field: "(file)", reason: `not JSON (${(e as Error).message})` }))
  }
  return decodeDeployment(json, path)
}

const defRow = (def: ParamDef): unknown[] => {
  switch (def.kind) {
    case "duration": case "fraction": case "number": case "integer": case "tokens": return [def.kind, def.min, def.max, def.default]
    case "boolean": return [def.kind, def.default]
    case "choice": return [def.kind, def.oneOf, def.default]
    case "pattern": return [def.kind, def.forms, def.default]
  }
}

/**
 * keccak256 of the registry's definitions (every name, kind, bounds and default, in registry order,
 * as JSON). A node compares it with its own build: a different hash means the chain's Constitution
 * was generated from another registry.
 */
export const paramRegistryHash = (): string =>
  toHex(keccak256(utf8ToBytes(JSON.stringify(PARAM_NAMES.map((name) => [name, ...defRow(REGISTRY[name])])))))

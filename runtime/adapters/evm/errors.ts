/**
 * Contract reverts → the economy's tagged errors of the same names, with their fields in the
 * economy's units (account ids, pool ids, ms). A custom error that has no economy twin (a
 * contract-only rule such as a missing role or a paused token) and every
 * failure that is not a revert (connection refused, timeout, bad response) become
 * `ChainUnavailable`, whose reason names what happened.
 */
import { Interface, type ErrorDescription } from "ethers"
import {
  StakingBelowMinimumBond, StakingCommissionTooHigh, StakingInfractionAlreadySlashed, StakingInfractionBeforePool,
  StakingInfractionInFuture, StakingInsufficientShares, StakingInvalidAmount, StakingInvalidCommission, StakingInvalidEvidence,
  StakingInvalidTier, StakingJailNotExpired, StakingNotJailed, StakingNotPositionOwner, StakingNotValidatorPool, StakingNothingUnbonding,
  StakingPoolFullySlashed, StakingPositionLocked, StakingTombstoned, StakingUnbondingNotMature, StakingUnknownPool, StakingUnknownPosition,
  StakingValidatorExists, StakingValidatorJailed, StakingValidatorTombstoned, TokenInsufficientBalance, TokenInvalidAddress, TokenInvalidAmount,
  StakingInvalidSigningKey, StakingSigningKeyInUse, type EconError,
} from "../../core/econ/index.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import {
  GovernanceAlreadyExecuted, GovernanceAlreadyVoted, GovernanceBelowMinimumBond, GovernanceInvalidSupport, GovernanceInvalidProposal, GovernanceNotPassed,
  GovernanceTimelockNotExpired, GovernanceUnknownProposal, GovernanceVotingClosed, GovernanceVotingOpen, type GovernanceError, type ProposalState,
} from "../../core/governance/governance.ts"
import { ConstitutionInvalidBounds, ConstitutionOutOfBounds, ConstitutionUnknownParameter } from "../../core/governance/constitution.ts"
import { PARAM_NAMES, ParamConstraintViolated, type ParamName } from "../../core/params.ts"
import { id as keccakText } from "ethers"
import { CONSTITUTION_ABI, GOVERNANCE_ABI, STAKING_ABI, TOKEN_ABI, TREASURY_ABI } from "./abi.ts"
import { fromChainValue } from "./params.ts"
import type { AccountBook } from "./accounts.ts"
import { msOf } from "./units.ts"

const IFACES = [new Interface(STAKING_ABI), new Interface(TOKEN_ABI), new Interface(CONSTITUTION_ABI), new Interface(GOVERNANCE_ABI), new Interface(TREASURY_ABI)]

/** What the op was about, for errors whose contract fields are hashes of the economy's values. */
export interface RevertContext {
  readonly evidenceId?: string
}

type Mapper = (a: ErrorDescription["args"], book: AccountBook, ctx: RevertContext) => EconError

const num = (x: unknown): number => Number(x as bigint)
const big = (x: unknown): bigint => x as bigint
const str = (x: unknown): string => String(x)
const evidence = (x: unknown, ctx: RevertContext) => ctx.evidenceId ?? str(x)

const MAPPERS: Readonly<Record<string, Mapper>> = {
  TokenInvalidAmount: (a) => new TokenInvalidAmount({ op: str(a[0]), amount: big(a[1]) }),
  TokenInsufficientBalance: (a, b) => new TokenInsufficientBalance({ address: b.accountOf(str(a[0])), balance: big(a[1]), needed: big(a[2]) }),
  // The token's own refusals of the same rules.
  ERC20InsufficientBalance: (a, b) => new TokenInsufficientBalance({ address: b.accountOf(str(a[0])), balance: big(a[1]), needed: big(a[2]) }),
  ERC20InvalidReceiver: (a) => new TokenInvalidAddress({ role: "recipient", address: str(a[0]) }),
  ERC20InvalidSender: (a) => new TokenInvalidAddress({ role: "sender", address: str(a[0]) }),
  StakingUnknownPool: (a, b) => new StakingUnknownPool({ pool: b.poolName(big(a[0])) }),
  StakingNotValidatorPool: (a, b) => new StakingNotValidatorPool({ pool: b.poolName(big(a[0])) }),
  StakingValidatorExists: (a, b) => new StakingValidatorExists({ operator: b.accountOf(str(a[0])) }),
  StakingBelowMinimumBond: (a) => new StakingBelowMinimumBond({ kind: num(a[0]) === 2 ? "contributor" : "validator", amount: big(a[1]), minimum: big(a[2]) }),
  StakingCommissionTooHigh: (a) => new StakingCommissionTooHigh({ commission: big(a[0]), maximum: big(a[1]) }),
  StakingInvalidCommission: (a) => new StakingInvalidCommission({ commission: big(a[0]) }),
  StakingInvalidTier: (a) => new StakingInvalidTier({ tier: num(a[0]) }),
  StakingInvalidAmount: (a) => new StakingInvalidAmount({ amount: big(a[0]), reason: str(a[1]) }),
  StakingValidatorJailed: (a, b) => new StakingValidatorJailed({ pool: b.poolName(big(a[0])), jailedUntil: msOf(big(a[1])) }),
  StakingValidatorTombstoned: (a, b) => new StakingValidatorTombstoned({ pool: b.poolName(big(a[0])) }),
  StakingPoolFullySlashed: (a, b) => new StakingPoolFullySlashed({ pool: b.poolName(big(a[0])) }),
  StakingUnknownPosition: (a) => new StakingUnknownPosition({ position: num(a[0]) }),
  StakingNotPositionOwner: (a, b) => new StakingNotPositionOwner({ position: num(a[0]), owner: b.accountOf(str(a[1])), caller: b.accountOf(str(a[2])) }),
  StakingPositionLocked: (a) => new StakingPositionLocked({ position: num(a[0]), unlockAt: msOf(big(a[1])), now: msOf(big(a[2])) }),
  StakingInsufficientShares: (a) => new StakingInsufficientShares({ position: num(a[0]), requested: big(a[1]), available: big(a[2]) }),
  StakingNothingUnbonding: (a, b) => new StakingNothingUnbonding({ owner: b.accountOf(str(a[0])) }),
  StakingUnbondingNotMature: (a, b) => new StakingUnbondingNotMature({ owner: b.accountOf(str(a[0])), maturesAt: msOf(big(a[1])), now: msOf(big(a[2])) }),
  StakingInfractionAlreadySlashed: (a, _b, ctx) => new StakingInfractionAlreadySlashed({ evidenceId: evidence(a[0], ctx) }),
  StakingInvalidEvidence: (a, _b, ctx) => new StakingInvalidEvidence({ evidenceId: evidence(a[0], ctx), reason: str(a[1]) }),
  StakingInfractionInFuture: (a) => new StakingInfractionInFuture({ infractionTime: msOf(big(a[0])), now: msOf(big(a[1])) }),
  StakingInfractionBeforePool: (a, b) => new StakingInfractionBeforePool({ pool: b.poolName(big(a[0])), infractionTime: msOf(big(a[1])), createdAt: msOf(big(a[2])) }),
  StakingNotJailed: (a, b) => new StakingNotJailed({ operator: b.accountOf(str(a[0])) }),
  StakingJailNotExpired: (a, b) => new StakingJailNotExpired({ operator: b.accountOf(str(a[0])), jailedUntil: msOf(big(a[1])), now: msOf(big(a[2])) }),
  StakingTombstoned: (a, b) => new StakingTombstoned({ pool: b.poolName(big(a[0])) }),
  // A validator's consensus signing key (Staking checks double-sign evidence against it): the economy keeps keys lowercase.
  StakingInvalidSigningKey: (a) => new StakingInvalidSigningKey({ key: str(a[0]) }),
  StakingSigningKeyInUse: (a, b) => new StakingSigningKeyInUse({ key: str(a[0]).toLowerCase(), operator: b.accountOf(str(a[1])) }),
}

/** The custom errors that have an economy twin (every other one becomes `ChainUnavailable`). */
export const MAPPED_ERRORS: readonly string[] = Object.keys(MAPPERS)

const isHexData = (x: unknown): x is string => typeof x === "string" && /^0x[0-9a-fA-F]{8,}$/.test(x) && x.length % 2 === 0

/** The revert data carried somewhere in an ethers / Hardhat / JSON-RPC error, if any. */
export const revertDataOf = (e: unknown, depth = 0): string | undefined => {
  if (depth > 5 || e === null || typeof e !== "object") return undefined
  const o = e as Record<string, unknown>
  if (isHexData(o.data)) return o.data
  if (o.data !== null && typeof o.data === "object" && isHexData((o.data as Record<string, unknown>).data)) return (o.data as { data: string }).data
  for (const k of ["error", "info", "cause", "revert"]) {
    const inner = revertDataOf(o[k], depth + 1)
    if (inner !== undefined) return inner
  }
  return undefined
}

/** A custom error decoded by name and arguments, or undefined for unknown data. */
export const parseRevert = (data: string): ErrorDescription | undefined => {
  for (const iface of IFACES) {
    try {
      const parsed = iface.parseError(data)
      if (parsed !== null) return parsed
    } catch {
      // data that is not this interface's error
    }
  }
  return undefined
}

const showArg = (x: unknown): string => (typeof x === "bigint" ? x.toString() : Array.isArray(x) ? `[${x.map(showArg).join(", ")}]` : String(x))

/** A one-line description of any failure (for `ChainUnavailable.reason`); `where` names the endpoint of a failure that is not a revert. */
export const describeFailure = (e: unknown, where?: string): string => {
  const data = revertDataOf(e)
  if (data !== undefined) {
    const parsed = parseRevert(data)
    if (parsed !== undefined) {
      const args = parsed.fragment.inputs.map((p, i) => `${p.name}=${showArg(parsed.args[i])}`).join(", ")
      return `the contract refused it with ${parsed.name}(${args}), a contract-only rule with no economy error`
    }
    return `the contract reverted with unknown data ${data.slice(0, 74)}${data.length > 74 ? "…" : ""}`
  }
  const o = (e ?? {}) as { code?: unknown; shortMessage?: unknown; message?: unknown }
  const text = typeof o.shortMessage === "string" ? o.shortMessage : typeof o.message === "string" ? o.message : String(e)
  return `${typeof o.code === "string" ? `${o.code}: ` : ""}${text.split("\n")[0]}${where === undefined ? "" : ` (at ${where})`}`
}

/** Map any failure of an operation to the economy's error of the same name, else `ChainUnavailable`. */
export const toChainError = (operation: string, e: unknown, book: AccountBook, ctx: RevertContext = {}, where?: string): EconError | ChainUnavailable => {
  if (e instanceof ChainUnavailable) return e
  if (isEconError(e)) return e
  const data = revertDataOf(e)
  const parsed = data === undefined ? undefined : parseRevert(data)
  const mapper = parsed === undefined ? undefined : MAPPERS[parsed.name]
  if (parsed !== undefined && mapper !== undefined) return mapper(parsed.args, book, ctx)
  return new ChainUnavailable({ operation, reason: describeFailure(e, where) })
}

const ECON_TAGS = new Set([
  ...Object.keys(MAPPERS).filter((n) => !n.startsWith("ERC20")),
  "TokenInvalidAllocation", "TokenInvalidAddress", "StakingInvalidOperator", "LedgerTimeWentBackwards", "LedgerInvalidTime", "LedgerUnknownOperation",
])

/** Whether `e` is one of the economy's tagged errors (raised by the adapter's own input checks). */
export const isEconError = (e: unknown): e is EconError =>
  e !== null && typeof e === "object" && typeof (e as { _tag?: unknown })._tag === "string" && ECON_TAGS.has((e as { _tag: string })._tag)

// ------------------------------------------------------------------ governance

/** Constitution key (keccak256 of the name) → parameter name. */
export const PARAM_BY_KEY: ReadonlyMap<string, ParamName> = new Map(PARAM_NAMES.map((n) => [keccakText(n).toLowerCase(), n]))
const paramOf = (key: unknown): string => PARAM_BY_KEY.get(str(key).toLowerCase()) ?? str(key)
const valueOf = (key: unknown, v: unknown): number => {
  const name = PARAM_BY_KEY.get(str(key).toLowerCase())
  return name === undefined ? Number(big(v)) : fromChainValue(name, big(v))
}

/** The contract's `State` enum, in order. */
export const STATES: readonly ProposalState[] = ["None", "Active", "Defeated", "Queued", "Executable", "Executed"]

type GovMapper = (a: ErrorDescription["args"], book: AccountBook) => GovernanceError | TokenInsufficientBalance

const GOV_MAPPERS: Readonly<Record<string, GovMapper>> = {
  GovernanceUnknownProposal: (a) => new GovernanceUnknownProposal({ id: num(a[0]) }),
  GovernanceBelowMinimumBond: (a, b) => new GovernanceBelowMinimumBond({ voter: b.accountOf(str(a[0])), bonded: big(a[1]), minimum: big(a[2]) }),
  GovernanceVotingClosed: (a) => new GovernanceVotingClosed({ id: num(a[0]), votingEnds: msOf(big(a[1])) }),
  GovernanceAlreadyVoted: (a, b) => new GovernanceAlreadyVoted({ id: num(a[0]), voter: b.accountOf(str(a[1])) }),
  GovernanceInvalidSupport: (a) => new GovernanceInvalidSupport({ support: num(a[0]) }),
  GovernanceVotingOpen: (a) => new GovernanceVotingOpen({ id: num(a[0]), votingEnds: msOf(big(a[1])) }),
  GovernanceNotPassed: (a) => new GovernanceNotPassed({ id: num(a[0]), state: STATES[num(a[1])] ?? "None" }),
  GovernanceTimelockNotExpired: (a) => new GovernanceTimelockNotExpired({ id: num(a[0]), executableAt: msOf(big(a[1])) }),
  GovernanceAlreadyExecuted: (a) => new GovernanceAlreadyExecuted({ id: num(a[0]) }),
  GovernanceInvalidProposal: (a) => new GovernanceInvalidProposal({ reason: str(a[0]) }),
  ConstitutionUnknownParameter: (a) => new ConstitutionUnknownParameter({ name: paramOf(a[0]) }),
  ConstitutionOutOfBounds: (a) => new ConstitutionOutOfBounds({ name: paramOf(a[0]), value: valueOf(a[0], a[1]), min: valueOf(a[0], a[2]), max: valueOf(a[0], a[3]) }),
  ConstitutionInvalidBounds: (a) => new ConstitutionInvalidBounds({ name: paramOf(a[0]), min: valueOf(a[0], a[1]), max: valueOf(a[0], a[2]), reason: "need min <= max" }),
  ConstitutionConstraintViolated: (a) => new ParamConstraintViolated({ names: [], rule: str(a[0]) }),
  // A spend the treasury cannot pay: the simulated chain's refused transfer from "treasury".
  TreasuryInsufficientFunds: (a) => new TokenInsufficientBalance({ address: "treasury", balance: big(a[0]), needed: big(a[1]) }),
}

const GOV_TAGS = new Set(Object.keys(GOV_MAPPERS).filter((n) => n.startsWith("Governance") || n.startsWith("Constitution")).concat(["ParamUnknown", "ParamInvalid", "ParamOutOfBounds", "ParamConstraintViolated"]))

/** Whether `e` is one of governance's tagged errors (raised by the adapter's own input checks). */
export const isGovernanceError = (e: unknown): e is GovernanceError =>
  e !== null && typeof e === "object" && typeof (e as { _tag?: unknown })._tag === "string" && GOV_TAGS.has((e as { _tag: string })._tag)

/** Map a failure of a governance call: governance/constitution reverts by name, else as `toChainError`. */
export const toGovernanceError = (operation: string, e: unknown, book: AccountBook, where?: string): GovernanceError | EconError | ChainUnavailable => {
  if (isGovernanceError(e)) return e
  const data = revertDataOf(e)
  const parsed = data === undefined ? undefined : parseRevert(data)
  const mapper = parsed === undefined ? undefined : GOV_MAPPERS[parsed.name]
  if (parsed !== undefined && mapper !== undefined) return mapper(parsed.args, book)
  return toChainError(operation, e, book, {}, where)
}

/**
 * Every way an economic operation can be refused. Names follow the Solidity custom errors the
 * contracts will raise (`<Contract><Problem>`), so a revert and a simulator rejection read alike.
 * A refused operation never changes the state.
 */
import { Data } from "effect"
import { formatDuration } from "../duration.ts"
import { formatTokens, WAD } from "../units.ts"

const tok = (amount: bigint): string => `${formatTokens(amount)} tokens`
const pct = (wad: bigint): string => `${formatTokens(wad * 100n)}%`
const at = (ms: number): string => `t=${ms}ms`
const wait = (from: number, to: number): string => formatDuration(Math.max(0, to - from))

// ---------------------------------------------------------------- Token

export class TokenInvalidAmount extends Data.TaggedError("TokenInvalidAmount")<{
  readonly op: string
  readonly amount: unknown
}> {
  override get message() {
    return `${this.op}: amount ${String(this.amount)} is not a positive whole number of base units (a bigint > 0)`
  }
}

export class TokenInsufficientBalance extends Data.TaggedError("TokenInsufficientBalance")<{
  readonly address: string
  readonly balance: bigint
  readonly needed: bigint
}> {
  override get message() {
    return `${this.address} holds ${tok(this.balance)} but needs ${tok(this.needed)}; it is short by ${tok(this.needed - this.balance)}`
  }
}

export class TokenInvalidAllocation extends Data.TaggedError("TokenInvalidAllocation")<{
  readonly reason: string
}> {
  override get message() {
    return `genesis allocation refused: ${this.reason}`
  }
}

/** A plain transfer, burn or fee out of an account that is a contract's custody (fee deposits, job escrow, provider bonds): on chain, no key can send from a contract's balance. */
export class TokenCustodyAccount extends Data.TaggedError("TokenCustodyAccount")<{
  readonly role: string
  readonly address: string
}> {
  override get message() {
    return `${this.role} ${this.address} is a custody account of the ledger (its balance moves only by the committee's or the market's rules), not an account anyone can send from`
  }
}

export class TokenInvalidAddress extends Data.TaggedError("TokenInvalidAddress")<{
  readonly role: string
  readonly address: unknown
}> {
  override get message() {
    return `${this.role} ${JSON.stringify(this.address)} is not an address (a non-empty string)`
  }
}

// ---------------------------------------------------------------- Staking: pools and bonds

export class StakingUnknownPool extends Data.TaggedError("StakingUnknownPool")<{ readonly pool: string }> {
  override get message() {
    return `no staking pool "${this.pool}" (a validator's pool id is its operator address; a contributor's is "contrib:<owner>")`
  }
}

export class StakingNotValidatorPool extends Data.TaggedError("StakingNotValidatorPool")<{ readonly pool: string }> {
  override get message() {
    return `pool "${this.pool}" is a contributor's own pool; only validator pools accept delegations`
  }
}

export class StakingInvalidOperator extends Data.TaggedError("StakingInvalidOperator")<{ readonly operator: string }> {
  override get message() {
    return `"${this.operator}" cannot operate a validator: addresses starting with "contrib:" are reserved for contributor pools`
  }
}

export class StakingValidatorExists extends Data.TaggedError("StakingValidatorExists")<{ readonly operator: string }> {
  override get message() {
    return `${this.operator} already has a validator pool; add stake to it with a delegation instead`
  }
}

export class StakingBelowMinimumBond extends Data.TaggedError("StakingBelowMinimumBond")<{
  readonly kind: "validator" | "contributor"
  readonly amount: bigint
  readonly minimum: bigint
}> {
  override get message() {
    return `a ${this.kind} bond of ${tok(this.amount)} is below the minimum of ${tok(this.minimum)} (staking.min${this.kind === "validator" ? "Validator" : "Contributor"}Bond)`
  }
}

export class StakingCommissionTooHigh extends Data.TaggedError("StakingCommissionTooHigh")<{
  readonly commission: bigint
  readonly maximum: bigint
}> {
  override get message() {
    return `commission ${pct(this.commission)} exceeds staking.maxCommission ${pct(this.maximum)} (commission is a wad: 1e18 = 100%)`
  }
}

export class StakingInvalidCommission extends Data.TaggedError("StakingInvalidCommission")<{ readonly commission: unknown }> {
  override get message() {
    return `commission ${String(this.commission)} is not a wad fraction (a bigint between 0 and ${WAD})`
  }
}

export class StakingInvalidTier extends Data.TaggedError("StakingInvalidTier")<{ readonly tier: unknown }> {
  override get message() {
    return `lock tier ${String(this.tier)} is not one of 0, 30, 90, 180, 365 (days)`
  }
}

export class StakingInvalidAmount extends Data.TaggedError("StakingInvalidAmount")<{
  readonly amount: unknown
  readonly reason: string
}> {
  override get message() {
    return `staking amount ${String(this.amount)}: ${this.reason}`
  }
}

export class StakingValidatorJailed extends Data.TaggedError("StakingValidatorJailed")<{
  readonly pool: string
  readonly jailedUntil: number
}> {
  override get message() {
    return `pool "${this.pool}" is jailed (until ${at(this.jailedUntil)} and an unjail); it accepts no new stake and no downtime evidence meanwhile`
  }
}

export class StakingValidatorTombstoned extends Data.TaggedError("StakingValidatorTombstoned")<{ readonly pool: string }> {
  override get message() {
    return `pool "${this.pool}" is tombstoned for double signing and accepts no new stake, ever`
  }
}

export class StakingPoolFullySlashed extends Data.TaggedError("StakingPoolFullySlashed")<{ readonly pool: string }> {
  override get message() {
    return `pool "${this.pool}" was slashed to 0 tokens while shares remain; new stake would be worthless`
  }
}

// ---------------------------------------------------------------- Staking: positions and unbonding

export class StakingUnknownPosition extends Data.TaggedError("StakingUnknownPosition")<{ readonly position: number }> {
  override get message() {
    return `no staking position #${this.position} (it never existed or was fully unbonded)`
  }
}

export class StakingNotPositionOwner extends Data.TaggedError("StakingNotPositionOwner")<{
  readonly position: number
  readonly owner: string
  readonly caller: string
}> {
  override get message() {
    return `position #${this.position} belongs to ${this.owner}, not ${this.caller}`
  }
}

export class StakingPositionLocked extends Data.TaggedError("StakingPositionLocked")<{
  readonly position: number
  readonly unlockAt: number
  readonly now: number
}> {
  override get message() {
    return `position #${this.position} is locked until ${at(this.unlockAt)} (now ${at(this.now)}, ${wait(this.now, this.unlockAt)} to go)`
  }
}

export class StakingInsufficientShares extends Data.TaggedError("StakingInsufficientShares")<{
  readonly position: number
  readonly requested: bigint
  readonly available: bigint
}> {
  override get message() {
    return `position #${this.position} is worth ${tok(this.available)}; cannot unbond ${tok(this.requested)}`
  }
}

export class StakingNothingUnbonding extends Data.TaggedError("StakingNothingUnbonding")<{ readonly owner: string }> {
  override get message() {
    return `${this.owner} has nothing unbonding; unbond a position first`
  }
}

export class StakingUnbondingNotMature extends Data.TaggedError("StakingUnbondingNotMature")<{
  readonly owner: string
  readonly maturesAt: number
  readonly now: number
}> {
  override get message() {
    return `no unbonding entry of ${this.owner} is mature yet; the first matures at ${at(this.maturesAt)} (in ${wait(this.now, this.maturesAt)})`
  }
}

export class StakingInvalidSigningKey extends Data.TaggedError("StakingInvalidSigningKey")<{ readonly key: unknown }> {
  override get message() {
    return `signing key ${JSON.stringify(this.key)} is not a non-zero 0x address (20 bytes of hex): the consensus key's address that signs votes and epoch reports`
  }
}

export class StakingSigningKeyInUse extends Data.TaggedError("StakingSigningKeyInUse")<{
  readonly key: string
  readonly operator: string
}> {
  override get message() {
    return `signing key ${this.key} is already registered by validator ${this.operator}; each validator signs with its own key`
  }
}

// ---------------------------------------------------------------- Staking: slashing and jail

export class StakingInfractionAlreadySlashed extends Data.TaggedError("StakingInfractionAlreadySlashed")<{
  readonly evidenceId: string
}> {
  override get message() {
    return `evidence "${this.evidenceId}" was already slashed; each piece of evidence is punished once`
  }
}

export class StakingInvalidEvidence extends Data.TaggedError("StakingInvalidEvidence")<{
  readonly evidenceId: unknown
  readonly reason: string
}> {
  override get message() {
    return `evidence ${JSON.stringify(this.evidenceId)}: ${this.reason}`
  }
}

export class StakingInfractionInFuture extends Data.TaggedError("StakingInfractionInFuture")<{
  readonly infractionTime: number
  readonly now: number
}> {
  override get message() {
    return `infraction time ${at(this.infractionTime)} is after now (${at(this.now)})`
  }
}

export class StakingInfractionBeforePool extends Data.TaggedError("StakingInfractionBeforePool")<{
  readonly pool: string
  readonly infractionTime: number
  readonly createdAt: number
}> {
  override get message() {
    return `infraction time ${at(this.infractionTime)} is before pool "${this.pool}" existed (created ${at(this.createdAt)})`
  }
}

export class StakingNotJailed extends Data.TaggedError("StakingNotJailed")<{ readonly operator: string }> {
  override get message() {
    return `${this.operator}'s pool is not jailed; there is nothing to unjail`
  }
}

export class StakingJailNotExpired extends Data.TaggedError("StakingJailNotExpired")<{
  readonly operator: string
  readonly jailedUntil: number
  readonly now: number
}> {
  override get message() {
    return `${this.operator} is jailed until ${at(this.jailedUntil)}; unjail again in ${wait(this.now, this.jailedUntil)}`
  }
}

export class StakingTombstoned extends Data.TaggedError("StakingTombstoned")<{ readonly pool: string }> {
  override get message() {
    return `pool "${this.pool}" is tombstoned for double signing: it can never be unjailed or slashed again`
  }
}

// ---------------------------------------------------------------- Ledger

export class LedgerTimeWentBackwards extends Data.TaggedError("LedgerTimeWentBackwards")<{
  readonly now: number
  readonly last: number
}> {
  override get message() {
    return `operation at ${at(this.now)} is earlier than the last operation (${at(this.last)}); time only moves forward`
  }
}

export class LedgerInvalidTime extends Data.TaggedError("LedgerInvalidTime")<{ readonly now: unknown }> {
  override get message() {
    return `time ${String(this.now)} is not a non-negative safe integer of virtual milliseconds`
  }
}

export class LedgerUnknownOperation extends Data.TaggedError("LedgerUnknownOperation")<{ readonly type: unknown }> {
  override get message() {
    return `unknown economic operation ${JSON.stringify(this.type)}`
  }
}

export type TokenError = TokenInvalidAmount | TokenInsufficientBalance | TokenInvalidAllocation | TokenInvalidAddress | TokenCustodyAccount
export type StakingError =
  | StakingUnknownPool | StakingNotValidatorPool | StakingInvalidOperator | StakingValidatorExists
  | StakingBelowMinimumBond | StakingCommissionTooHigh | StakingInvalidCommission | StakingInvalidTier
  | StakingInvalidAmount | StakingValidatorJailed | StakingValidatorTombstoned | StakingPoolFullySlashed
  | StakingUnknownPosition | StakingNotPositionOwner | StakingPositionLocked | StakingInsufficientShares
  | StakingNothingUnbonding | StakingUnbondingNotMature | StakingInfractionAlreadySlashed | StakingInvalidEvidence
  | StakingInfractionInFuture | StakingInfractionBeforePool | StakingNotJailed | StakingJailNotExpired
  | StakingTombstoned | StakingInvalidSigningKey | StakingSigningKeyInUse
export type LedgerError = LedgerTimeWentBackwards | LedgerInvalidTime | LedgerUnknownOperation
/** Every error an economic operation can return. */
export type EconError = TokenError | StakingError | LedgerError

/**
 * The genesis of a network, built one way in every world (a real node's genesis file, the
 * simulator's worlds, `dai sim economy`): the allocations handed out, the reward reserve (released
 * as `rewards.annualEmission` to the stakers) and the remainder to one account, summing to the
 * total supply exactly. Pure: the caller picks the validators, the time and the chain id.
 */
import { Data, Result } from "effect"
import type { Allocation } from "../econ/index.ts"
import type { Params } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../units.ts"
import type { AppGenesis, GenesisContributor, GenesisValidator } from "./app.ts"

/** The account that holds the reward reserve, in every world (the simulator's traces name it so). */
export const REWARD_RESERVE_ACCOUNT = "reserve"
/** The reserve's size at genesis: 30% of the supply. */
export const REWARD_RESERVE_TOKENS = 300_000_000n * TOKEN
/** The account that receives what the allocations and the reserve leave. */
export const REMAINDER_ACCOUNT = "community"

/** How large the reward reserve is, given what the allocations leave of the supply (`rest`). */
export type ReserveRule =
  /** Exactly `amount`; a genesis whose allocations leave less is refused. */
  | { readonly kind: "exactly"; readonly amount: bigint }
  /**
   * `amount`, or half of `rest` when that is less: a simulated world may hand out most of the
   * supply to its participants and still have a reserve (and a remainder as large).
   */
  | { readonly kind: "atMostHalfOfRest"; readonly amount: bigint }

/** The allocations and the reserve need more than the total supply (or leave nothing for the reserve). */
export class GenesisOverAllocated extends Data.TaggedError("GenesisOverAllocated")<{
  readonly given: bigint
  readonly reserve: bigint
}> {
  override get message() {
    return this.given > TOTAL_SUPPLY
      ? `the genesis allocations hand out ${this.given} base units, more than the total supply ${TOTAL_SUPPLY}; give less`
      : `the genesis allocations hand out ${this.given} base units and leave ${TOTAL_SUPPLY - this.given}, not enough for a reward reserve of ${this.reserve}; give less or choose a smaller reserve`
  }
}

/** An allocation names an account the genesis keeps for the reserve or the remainder. */
export class GenesisAccountTaken extends Data.TaggedError("GenesisAccountTaken")<{
  readonly account: string
  readonly role: "reward reserve" | "remainder"
}> {
  override get message() {
    return `the genesis allocations already give to "${this.account}", the ${this.role}'s account; merge it into the ${this.role} or rename it`
  }
}

export type GenesisError = GenesisOverAllocated | GenesisAccountTaken

/** The reserve's size under `rule` when the allocations leave `rest` of the supply (0 when there is none). */
export const reserveSize = (rule: ReserveRule, rest: bigint): bigint => {
  if (rule.kind === "exactly") return rule.amount <= rest ? rule.amount : 0n
  return rule.amount < rest / 2n ? rule.amount : rest / 2n
}

/**
 * The allocations of a genesis: `given`, then the reward reserve (`REWARD_RESERVE_ACCOUNT`) sized
 * by `rule`, then what is left to `remainder` (left out when nothing is); they sum to TOTAL_SUPPLY.
 */
export const genesisAllocations = (
  given: readonly Allocation[],
  rule: ReserveRule,
  remainder: string = REMAINDER_ACCOUNT,
): Result.Result<{ readonly allocations: readonly Allocation[]; readonly reserve: bigint }, GenesisError> => {
  for (const [account, role] of [[REWARD_RESERVE_ACCOUNT, "reward reserve"], [remainder, "remainder"]] as const) {
    if (given.some((a) => a.address === account)) return Result.fail(new GenesisAccountTaken({ account, role }))
  }
  const sum = given.reduce((s, a) => s + a.amount, 0n)
  const rest = TOTAL_SUPPLY - sum
  const reserve = rest > 0n ? reserveSize(rule, rest) : 0n
  if (reserve <= 0n) return Result.fail(new GenesisOverAllocated({ given: sum, reserve: rule.amount }))
  const left = rest - reserve
  return Result.succeed({
    allocations: [...given, { address: REWARD_RESERVE_ACCOUNT, amount: reserve }, ...(left > 0n ? [{ address: remainder, amount: left }] : [])],
    reserve,
  })
}

export interface GenesisSpec {
  readonly chainId: number
  /** Genesis time (ms; virtual time 0 in the simulator). */
  readonly time: number
  readonly params: Params
  readonly validators: readonly GenesisValidator[]
  /** Contributors bonded at genesis (left out of the genesis when not given). */
  readonly contributors?: readonly GenesisContributor[]
  /** What is handed out, the validators' and contributors' own allocations included. */
  readonly allocations: readonly Allocation[]
  readonly reserve: ReserveRule
  /** Who receives what is left (default `community`). */
  readonly remainder?: string
}

/** The App's genesis of `spec`, with the reward reserve released to the stakers and the remainder. */
export const buildGenesis = (spec: GenesisSpec): Result.Result<AppGenesis, GenesisError> =>
  Result.map(genesisAllocations(spec.allocations, spec.reserve, spec.remainder), ({ allocations }) => ({
    chainId: spec.chainId,
    time: spec.time,
    params: spec.params,
    validators: spec.validators,
    ...(spec.contributors === undefined ? {} : { contributors: spec.contributors }),
    allocations,
    rewardReserve: REWARD_RESERVE_ACCOUNT,
  }))

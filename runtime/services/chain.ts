/**
 * Chain port: the token, staking, slashing and governance state every node agrees on.
 *
 * Real backend: the Solidity contracts through ethers v6 (a Hardhat chain or any EVM JSON-RPC).
 * Simulated backend: the in-memory `Economy` of runtime/core/econ, which implements the same rules in
 * bigint. A refused operation fails with the economy's tagged error of the same name as the
 * contract's custom error (`StakingPositionLocked`, ...), so a revert and a simulator rejection read
 * alike; `ChainUnavailable` is the only failure that is not a rule.
 */
import { Context, type Effect, Schema } from "effect"
import type {
  Address, EconError, EconOp, PendingRewards, PoolView, PositionView, ReceiptOf, SupplyBreakdown, UnbondingView,
} from "../core/econ/index.ts"
import type { Params } from "../core/params.ts"

export class ChainUnavailable extends Schema.TaggedError<ChainUnavailable>()("ChainUnavailable", {
  operation: Schema.String,
  reason: Schema.String,
}) {}

export class Chain extends Context.Service<Chain, {
  /** Apply one operation; its receipt says exactly what moved. */
  submit<O extends EconOp>(op: O): Effect.Effect<ReceiptOf<O["type"]>, EconError | ChainUnavailable>
  balanceOf(address: Address): Effect.Effect<bigint, ChainUnavailable>
  readonly supply: Effect.Effect<SupplyBreakdown, ChainUnavailable>
  readonly pools: Effect.Effect<readonly PoolView[], ChainUnavailable>
  positions(owner?: Address): Effect.Effect<readonly PositionView[], ChainUnavailable>
  unbonding(owner?: Address): Effect.Effect<readonly UnbondingView[], ChainUnavailable>
  pendingRewards(owner: Address): Effect.Effect<PendingRewards, ChainUnavailable>
  /** The parameters in force. */
  readonly params: Effect.Effect<Params, ChainUnavailable>
}>()("dai/Chain") {}

/**
 * What the Chain suite's topics share: the harness a backend hands them and the helpers that submit
 * an operation expecting success or refusal, snapshot the state a refusal must leave alone, and check
 * that supply is conserved.
 *
 * A setup returns a fresh chain at genesis over testkit's allocations (actors v0..v2, c0, c1, d0..d2
 * with 1,000,000 tokens each, "reserve" the rest), with downtime slashes reported by an account the
 * backend configured, and an `advance(ms)` that moves the chain's time forward. No test assumes an
 * absolute time: the sim's clock and a chain's blocks differ, so times are checked against each other
 * (unlockAt vs the error's unlockAt, completesAt − startedAt = the unbonding period, ...).
 */
import { Effect, Result } from "effect"
import { expect } from "vitest"
import type { EconError, EconOp, ReceiptOf } from "../../../core/econ/index.ts"
import { ACTORS } from "../../../core/econ/testkit.ts"
import type { Params } from "../../../core/params.ts"
import { TOTAL_SUPPLY } from "../../../core/units.ts"
import type { Chain, ChainUnavailable } from "../../chain.ts"
import type { TestSetup } from "../test-setup.ts"

export interface ChainHarness {
  readonly chain: Chain["Service"]
  /** The parameters the chain was set up with (the suite reads the bonds, fractions and periods from them). */
  readonly params: Params
  /** Move the chain's time forward by `ms` (at least one whole second is a safe step on every backend). */
  advance(ms: number): Promise<void>
}

/** How the Chain suite gets a fresh chain at genesis. */
export type ChainSetup = TestSetup<ChainHarness>

/** Runs an effect of the port, as a promise. */
export const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)

/** Submit and expect success (a failure throws with the error's tag and message). */
export const ok = async <O extends EconOp>(chain: Chain["Service"], op: O): Promise<ReceiptOf<O["type"]>> => {
  const r = await run(Effect.result(chain.submit(op)))
  if (Result.isFailure(r)) throw new Error(`${op.type} refused: ${r.failure._tag}: ${r.failure.message}`)
  return r.success
}

/** Submit and expect a refusal; returns the error. */
export const refused = async (chain: Chain["Service"], op: EconOp): Promise<EconError | ChainUnavailable> => {
  const r = await run(Effect.result(chain.submit(op)))
  if (Result.isSuccess(r)) throw new Error(`expected ${op.type} to be refused, got ${JSON.stringify(r.success, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`)
  return r.failure
}

/** Everything a refused op must leave as it was. */
export const state = async (chain: Chain["Service"]) => ({
  balances: await Promise.all(ACTORS.map((a) => run(chain.balanceOf(a)))),
  supply: await run(chain.supply),
  pools: await run(chain.pools),
  positions: await run(chain.positions()),
  unbonding: await run(chain.unbonding()),
  pending: await Promise.all(ACTORS.map((a) => run(chain.pendingRewards(a)))),
})

/** minted = balances + bonded + unbonding + reward pool + insurance pool + burnt, and the actors hold all the balances. */
export const expectConserved = async (chain: Chain["Service"], step: string) => {
  const s = await run(chain.supply)
  expect(s.minted, step).toBe(TOTAL_SUPPLY)
  expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt, `${step}: supply identity`).toBe(s.minted)
  const held = (await Promise.all(ACTORS.map((a) => run(chain.balanceOf(a))))).reduce((x, y) => x + y, 0n)
  expect(held, `${step}: the genesis accounts hold every balance`).toBe(s.balances)
}

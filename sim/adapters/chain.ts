/**
 * Simulated Chain: the in-memory `Economy`, at the time the run's clock says. Operations apply
 * synchronously, so the order of a run's events alone decides the ledger — replayable bit for bit.
 */
import { Effect, Layer, Result } from "effect"
import type { Economy } from "../../runtime/core/econ/index.ts"
import { Chain } from "../../runtime/services/chain.ts"

export const makeSimChain = (economy: Economy, now: () => number): Chain["Service"] =>
  Chain.of({
    submit: (op) =>
      Effect.suspend(() => {
        const r = economy.apply(op, now())
        return Result.isSuccess(r) ? Effect.succeed(r.success as never) : Effect.fail(r.failure)
      }),
    balanceOf: (a) => Effect.sync(() => economy.balanceOf(a)),
    supply: Effect.sync(() => economy.supply()),
    pools: Effect.sync(() => economy.pools()),
    positions: (owner) => Effect.sync(() => economy.positions(owner)),
    unbonding: (owner) => Effect.sync(() => economy.unbonding(owner)),
    pendingRewards: (owner) => Effect.sync(() => economy.pendingRewards(owner)),
    params: Effect.sync(() => economy.params),
  })

export const layerSimChain = (economy: Economy, now: () => number) => Layer.succeed(Chain, makeSimChain(economy, now))

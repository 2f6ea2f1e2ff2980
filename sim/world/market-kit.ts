/**
 * What the simulator's market and pipeline worlds build their actors from: a `MarketContext` per
 * simulated node (the world's clock and ledger, a seeded random stream, emits into the trace),
 * a network port attached to the simulated network, and funding from the genesis remainder.
 */
import { Effect, Result } from "effect"
import type { MarketContext } from "../../runtime/actors/market/context.ts"
import { REMAINDER_ACCOUNT } from "../../runtime/core/app/genesis.ts"
import type { Params } from "../../runtime/core/params.ts"
import type { Network } from "../../runtime/services/network.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { attachSimNetwork, type SimNetworkPort } from "../adapters/network.ts"
import { seededRandom } from "../adapters/random.ts"
import type { Prng, TraceValue } from "../kernel/index.ts"
import type { ConsensusWorld } from "./world.ts"

export interface MarketKit {
  /** The context of node `id` on `network`; its random stream is `root.child(stream)` (default: the id). */
  contextOf(id: string, network: Network["Service"], stream?: string): MarketContext
  /** Attach node `id` to the simulated network (up), remembering its port. */
  attach(id: string): SimNetworkPort
  /** Fund `id` from the genesis remainder (the world's allocations are the consensus world's). */
  fund(id: string, amount: bigint): void
}

/** The kit of a world: `label` names it in funding errors ("market", "lm"). */
export const marketKit = (o: {
  readonly world: ConsensusWorld
  readonly root: Prng
  readonly ports: Map<string, SimNetworkPort>
  readonly params: () => Params
  readonly observe?: ((event: TelemetryEvent) => void) | undefined
  readonly label: string
}): MarketKit => {
  const { world } = o
  return {
    contextOf: (id, network, stream = id) => {
      const emit = (kind: string, data: Record<string, unknown>) => {
        const at = world.scheduler.now
        world.trace.record({ t: at, kind, node: id, ...(data as Record<string, TraceValue>) })
        o.observe?.({ at, node: id, kind, data })
      }
      return {
        name: id,
        clock: world.clock,
        now: () => world.scheduler.now,
        run: (effect) => {
          try {
            Effect.runSync(effect)
          } catch (e) {
            world.errors.push(`${id}: ${(e as Error).message}`)
          }
        },
        random: seededRandom(o.root.child(stream)),
        network,
        ledger: world.ledger,
        params: o.params,
        emit,
        fault: (from, reason) => {
          emit("net.invalid", { from, reason })
          Effect.runSync(network.report(from, reason))
        },
      }
    },
    attach: (id) => {
      const port = attachSimNetwork(world.net, id)
      world.net.setDown(id, false)
      o.ports.set(id, port)
      return port
    },
    fund: (id, amount) => {
      const r = world.ledger.economy.apply({ type: "transfer", from: REMAINDER_ACCOUNT, to: id, amount }, world.scheduler.now)
      if (Result.isFailure(r)) throw new Error(`${o.label}: cannot fund ${id} with ${amount} base units: ${r.failure.message}`)
    },
  }
}

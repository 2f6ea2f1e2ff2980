/**
 * The compute market in the simulated network, beside the consensus world: providers p0.. and
 * requesters r0.. are nodes of the same simulated network (latency, loss, partitions and crashes
 * apply), funded from the genesis remainder on the one ledger, each running the real node's market
 * actor (runtime/actors/market/) over its own port, the world's clock and a child stream of the
 * seed; every validator answers as a referee on its own port and signs the committee's verdicts on
 * disputes with its consensus key (≥ 2/3 of a snapshot's power decide), judging each dispute by bisecting
 * the provider's committed layer trace to its first diverging layer. Providers compute with the
 * statistical model of sim/faults/market.ts (`simWork`: time per unit from their speed, result hash
 * from the job and the unit range), whose byzantine behaviours the scenario switches on.
 */
import { Effect } from "effect"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { startProvider, type ProviderActor } from "../../runtime/actors/market/provider.ts"
import { startReferee, type RefereeActor } from "../../runtime/actors/market/referee.ts"
import { startRequester, type RequesterActor } from "../../runtime/actors/market/requester.ts"
import { unitProviderTrace, unitResultHash, unitTraceWork } from "../../runtime/actors/market/work.ts"
import type { SimNetworkPort } from "../adapters/network.ts"
import { OVERCHARGE_FACTOR, simWork, type MarketBehavior } from "../faults/market.ts"
import { Prng } from "../kernel/index.ts"
import type { Scenario } from "../scenario/load.ts"
import type { MarketSetup } from "../scenario/market-setup.ts"
import { marketKit } from "./market-kit.ts"
import type { ConsensusWorld } from "./world.ts"

export interface MarketWorldOptions {
  readonly world: ConsensusWorld
  readonly scenario: Scenario
  readonly seed: number
  /** Sees every telemetry event of the market's nodes (the runner's checkers). */
  readonly observe?: (event: TelemetryEvent) => void
}

export interface MarketWorld {
  readonly setup: MarketSetup
  /** Providers and requesters that had a byzantine behaviour at some point. */
  readonly byzantine: ReadonlySet<string>
  /** The price each provider announces, in base units. */
  readonly announced: ReadonlyMap<string, bigint>
  /** Whether `id` is one of the market's nodes. */
  has(id: string): boolean
  setBehavior(nodes: readonly string[], behavior: MarketBehavior): void
  crash(id: string): void
  restart(id: string): void
  /** A validator's node restarted: its referee listens on its new port. */
  validatorRestarted(id: string): void
  /** Jobs posted by the requesters. */
  posted(): number
}

/** Whole tokens → base units (to a millionth of a token). */
const tokens = (x: number): bigint => BigInt(Math.round(x * 1e6)) * (TOKEN / 1_000_000n)

/** Start the market of `scenario` (undefined when it has none). Call after the world's nodes started. */
export const startMarketWorld = (o: MarketWorldOptions): MarketWorld | undefined => {
  const setup = o.scenario.market
  if (setup === undefined) return undefined
  const { world } = o
  const root = Prng.fromSeed(o.seed).child("market")
  const behaviors = new Map<string, MarketBehavior>()
  const byzantine = new Set<string>()
  const ports = new Map<string, SimNetworkPort>()
  const providers = new Map<string, ProviderActor>()
  const requesters = new Map<string, RequesterActor>()
  const referees = new Map<string, RefereeActor>()
  const announced = new Map(setup.providers.map((p, i) => [p, tokens(setup.prices[i]!)] as const))
  const params = () => world.ledger.economy.params
  const end = o.scenario.until.time ?? o.scenario.until.maxTime
  const stopPostingAt = setup.stopPostingAt(params()["market.disputeWindow"], end)

  const { contextOf, attach, fund } = marketKit({ world, root, ports, params, observe: o.observe, label: "market" })

  const bond = tokens(Math.max(setup.bond, params()["market.minProviderBond"]))
  const maxPrice = tokens(setup.maxPrice)
  const startProviderNode = (id: string) => {
    const i = setup.providers.indexOf(id)
    providers.set(id, startProvider(contextOf(id, attach(id).network), {
      kind: setup.kind, bond, pricePerUnit: announced.get(id)!, capacity: setup.capacity,
      work: simWork(setup.speeds[i]!, () => behaviors.get(id)),
      // Its delivered word's layer trace, for a dispute's bisection (a made-up word has none: it loses the dispute).
      trace: unitProviderTrace,
      // An honest provider delivers well within the no-show timeout: at most 5 units per note.
      chunk: Math.max(1, Math.min(5, Math.floor(params()["market.noShowTimeout"] / (2 * setup.speeds[i]!)))),
    }))
  }
  const startRequesterNode = (id: string, firstAt: number) => {
    requesters.set(id, startRequester(contextOf(id, attach(id).network), {
      kind: setup.kind, units: setup.jobUnits, maxPricePerUnit: maxPrice, deadline: setup.jobDeadline, interval: setup.jobInterval,
      firstAt, stopPostingAt, confirms: () => behaviors.get(id) !== "never-confirm",
    }))
  }
  const startReferees = (id: string) => {
    const network = world.slots.get(id)?.port?.network
    if (network === undefined) return
    referees.get(id)?.stop()
    // The validator's consensus key signs its verdicts (the committee snapshots name it).
    // Disputes are bisected to the first diverging layer of the simulator's layered model (runtime/actors/market/work.ts unitTrace).
    referees.set(id, startReferee(contextOf(id, network), { reexecute: unitResultHash, keys: world.slots.get(id)!.keys, trace: unitTraceWork }))
  }

  for (const id of setup.providers) fund(id, bond + TOKEN)
  const jobs = BigInt(Math.max(0, Math.ceil(stopPostingAt / setup.jobInterval)) + 1)
  for (const id of setup.requesters) fund(id, jobs * BigInt(setup.jobUnits) * maxPrice)
  for (const id of world.slots.keys()) startReferees(id)
  for (const id of setup.providers) startProviderNode(id)
  // Requesters start spread over one interval, so their jobs do not all arrive at once.
  const now = world.scheduler.now
  setup.requesters.forEach((id, i) => startRequesterNode(id, now + 1_000 + Math.floor((setup.jobInterval * i) / setup.requesters.length)))

  const has = (id: string) => setup.providers.includes(id) || setup.requesters.includes(id)
  return {
    setup,
    byzantine,
    announced,
    has,
    setBehavior: (nodes, behavior) => {
      for (const id of nodes) {
        behaviors.set(id, behavior)
        byzantine.add(id)
        if (behavior === "overcharge") {
          // A bait: the ledger's price rises behind the price it keeps announcing.
          const i = setup.providers.indexOf(id)
          Effect.runSync(Effect.ignore(world.ledger.marketOp({ type: "updateProvider", provider: id, pricePerUnit: announced.get(id)! * OVERCHARGE_FACTOR, capacity: setup.capacity })))
          world.trace.record({ t: world.scheduler.now, kind: "market.fault", node: id, behavior, index: i })
        } else world.trace.record({ t: world.scheduler.now, kind: "market.fault", node: id, behavior })
      }
    },
    crash: (id) => {
      providers.get(id)?.stop()
      requesters.get(id)?.stop()
      providers.delete(id)
      requesters.delete(id)
      ports.get(id)?.detach()
      ports.delete(id)
      world.net.setDown(id, true)
    },
    restart: (id) => {
      if (ports.has(id)) return
      if (setup.providers.includes(id)) startProviderNode(id)
      else if (setup.requesters.includes(id)) startRequesterNode(id, world.scheduler.now + setup.jobInterval)
    },
    validatorRestarted: (id) => startReferees(id),
    posted: () => [...requesters.values()].reduce((s, r) => s + r.posted(), 0),
  }
}

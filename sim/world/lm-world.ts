/**
 * The language model in the simulated network (issue 14, item 7): the market's providers p0.. are
 * stage servers (p<i> holds block range i mod lmStages, sim/world/lm-server.ts), its requesters r0..
 * are pipeline clients (sim/world/lm-client.ts) generating at the market's `jobRate`, every validator
 * is a referee (the real runtime/actors/market/referee.ts, re-executing one stage from the inputs the
 * client recorded). All are nodes of the consensus world's simulated network (latency, loss,
 * partitions, crashes apply), funded from the genesis remainder on the one ledger, each with its own
 * child stream of the seed. Stages compute with the statistical model of lm-model.ts (no tensors; time
 * from bench/lm-stage.ts), so market + pipeline scenarios run deterministically at scale.
 */
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { startReferee, type RefereeActor } from "../../runtime/actors/market/referee.ts"
import type { Reexecute } from "../../runtime/actors/market/work.ts"
import type { SimNetworkPort } from "../adapters/network.ts"
import type { LmBehavior } from "../faults/lm.ts"
import { Prng } from "../kernel/index.ts"
import type { Scenario } from "../scenario/load.ts"
import type { LmSetup } from "../scenario/lm-setup.ts"
import type { MarketSetup } from "../scenario/market-setup.ts"
import { type LmBooks, type LmClient, startLmClient } from "./lm-client.ts"
import { noteHash, stageOutput } from "./lm-model.ts"
import { type LmServer, startLmServer } from "./lm-server.ts"
import { marketKit } from "./market-kit.ts"
import type { ConsensusWorld } from "./world.ts"

export interface LmWorldOptions {
  readonly world: ConsensusWorld
  readonly scenario: Scenario
  readonly seed: number
  /** Sees every telemetry event of the pipeline's nodes (the runner's checkers). */
  readonly observe?: (event: TelemetryEvent) => void
}

export interface LmWorld {
  readonly setup: LmSetup
  readonly market: MarketSetup
  readonly books: LmBooks
  /** Stage servers and clients that had a byzantine behaviour at some point. */
  readonly byzantine: ReadonlySet<string>
  /** The price each server announces, in base units. */
  readonly announced: ReadonlyMap<string, bigint>
  /** A referee's re-execution of one stage (from the inputs its client recorded). */
  readonly reexecute: Reexecute
  /** Billed token steps each server computed (over its restarts), and of them those with a wrong output. */
  served(): ReadonlyMap<string, { readonly served: number; readonly wrong: number }>
  /** Whether a server returned a wrong output in this session. */
  spoiled(peer: string, client: string, session: string): boolean
  has(id: string): boolean
  setBehavior(nodes: readonly string[], behavior: LmBehavior): void
  crash(id: string): void
  restart(id: string): void
  /** A validator's node restarted: its referee listens on its new port. */
  validatorRestarted(id: string): void
}

/** Whole tokens → base units (to a millionth of a token). */
const tokens = (x: number): bigint => BigInt(Math.round(x * 1e6)) * (TOKEN / 1_000_000n)

/** The referee's re-execution of units [from, from + units) of an lm job: that stage alone, on the inputs its client sent. */
export const lmReexecute = (books: LmBooks): Reexecute => (task) => {
  const job = books.jobs.get(task.job)
  if (job === undefined || job.inputs.length < task.from + task.units) return undefined // not an lm job, or inputs this referee was not given
  return noteHash(job.inputs.slice(task.from, task.from + task.units).map((x) => stageOutput(job.from, job.to, x)))
}

/** Start the pipeline of `scenario` (undefined when it has none). Call after the world's nodes started. */
export const startLmWorld = (o: LmWorldOptions): LmWorld | undefined => {
  const setup = o.scenario.lm
  const market = o.scenario.market
  if (setup === undefined || market === undefined) return undefined
  const { world } = o
  const root = Prng.fromSeed(o.seed).child("lm")
  const behaviors = new Map<string, LmBehavior>()
  const byzantine = new Set<string>()
  const ports = new Map<string, SimNetworkPort>()
  const servers = new Map<string, LmServer>()
  const sessionsOf = new Map<string, LmServer[]>()
  const clients = new Map<string, LmClient>()
  const referees = new Map<string, RefereeActor>()
  const books: LmBooks = { jobs: new Map(), generations: [] }
  const reexecute = lmReexecute(books)
  const announced = new Map(market.providers.map((p, i) => [p, tokens(market.prices[i]!)] as const))
  const params = () => world.ledger.economy.params
  const end = o.scenario.until.time ?? o.scenario.until.maxTime
  const stopPostingAt = market.stopPostingAt(params()["market.disputeWindow"], end)
  let restarts = 0

  const { contextOf, attach, fund } = marketKit({ world, root, ports, params, observe: o.observe, label: "lm" })

  const bond = tokens(Math.max(market.bond, params()["market.minProviderBond"]))
  const maxPrice = tokens(market.maxPrice)
  const startServer = (id: string) => {
    const i = market.providers.indexOf(id)
    const range = setup.ranges[setup.serves[i]!]!
    // A restarted server is a new process: a stream of its own, so its draws do not replay the first life's.
    const server = startLmServer(contextOf(id, attach(id).network, `${id}#${restarts++}`), {
      from: range.from, to: range.to, bond, pricePerUnit: announced.get(id)!, capacity: market.capacity, chunk: setup.chunk, behavior: () => behaviors.get(id),
    })
    servers.set(id, server)
    sessionsOf.set(id, [...(sessionsOf.get(id) ?? []), server])
  }
  const startClient = (id: string, firstAt: number) => {
    clients.set(id, startLmClient(contextOf(id, attach(id).network, `${id}#${restarts++}`), {
      setup, maxPricePerUnit: maxPrice, deadline: market.jobDeadline, interval: market.jobInterval, firstAt, stopPostingAt,
      confirms: () => behaviors.get(id) !== "never-confirm", books,
    }))
  }
  const startRefereeOf = (id: string) => {
    const network = world.slots.get(id)?.port?.network
    if (network === undefined) return
    referees.get(id)?.stop()
    // The validator's consensus key signs the committee's verdicts (≥ 2/3 of a snapshot's power decide a dispute).
    referees.set(id, startReferee(contextOf(id, network, `${id}#${restarts++}`), { reexecute, keys: world.slots.get(id)!.keys }))
  }

  for (const id of market.providers) fund(id, bond + TOKEN)
  // Enough for every generation's jobs, each hop placed up to three times (failovers and restarts).
  const generations = BigInt(Math.max(0, Math.ceil(stopPostingAt / market.jobInterval)) + 1)
  for (const id of market.requesters) fund(id, 3n * generations * BigInt(setup.stages * setup.tokens) * maxPrice)
  for (const id of world.slots.keys()) startRefereeOf(id)
  for (const id of market.providers) startServer(id)
  const now = world.scheduler.now
  market.requesters.forEach((id, i) => startClient(id, now + 1_000 + Math.floor((market.jobInterval * i) / market.requesters.length)))

  const has = (id: string) => market.providers.includes(id) || market.requesters.includes(id)
  return {
    setup,
    market,
    books,
    byzantine,
    announced,
    reexecute,
    served: () => {
      const out = new Map<string, { served: number; wrong: number }>()
      for (const [id, list] of sessionsOf) {
        const sum = list.reduce((s, x) => ({ served: s.served + x.stats().served, wrong: s.wrong + x.stats().wrong }), { served: 0, wrong: 0 })
        out.set(id, sum)
      }
      return out
    },
    spoiled: (peer, client, session) => (sessionsOf.get(peer) ?? []).some((s) => s.spoiled(client, session)),
    has,
    setBehavior: (nodes, behavior) => {
      for (const id of nodes) {
        behaviors.set(id, behavior)
        byzantine.add(id)
        world.trace.record({ t: world.scheduler.now, kind: "lm.fault", node: id, behavior })
      }
    },
    crash: (id) => {
      servers.get(id)?.stop()
      clients.get(id)?.stop()
      servers.delete(id)
      clients.delete(id)
      ports.get(id)?.detach()
      ports.delete(id)
      world.net.setDown(id, true)
    },
    restart: (id) => {
      if (ports.has(id)) return
      if (market.providers.includes(id)) startServer(id)
      else if (market.requesters.includes(id)) startClient(id, world.scheduler.now + market.jobInterval)
    },
    validatorRestarted: (id) => startRefereeOf(id),
  }
}

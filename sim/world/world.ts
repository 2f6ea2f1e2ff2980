/**
 * A simulated network of consensus nodes: every node runs the real node code (runtime/node) over
 * the simulated backends — its own attachment to the in-memory network, its own store (which loses
 * unsynced writes when the node crashes), its own keys and its own replica of the application —
 * and ONE shared ledger (`ledger`: the in-memory Chain of runtime/services/memory-chain.ts — token,
 * stake, slashing, rewards, governance, committee snapshots, fee deposits and epoch reports), which
 * every node sees as its Chain port, as the nodes of a real network all see the same contracts.
 * Stake moves only there; evidence and epoch reports settle there.
 * Crashes stop a node and drop its unsynced writes; a restart rebuilds its state from its store.
 */
import { Effect, Result } from "effect"
import { App, GENESIS_SNAPSHOT, type AppGenesis } from "../../runtime/core/app/app.ts"
import { GENESIS_FEE_DEPOSIT, ledgerAtGenesis } from "../../runtime/core/app/ledger-genesis.ts"
import { startEpochReports, type EpochReports } from "../../runtime/actors/committee/report.ts"
import { startEvidenceReporter, type EvidenceReporter } from "../../runtime/actors/evidence/evidence-reporter.ts"
import { committeeCache } from "../../runtime/services/committee-cache.ts"
import { makeMemoryChain, type MemoryChain } from "../../runtime/services/memory-chain.ts"
import { buildGenesis, REMAINDER_ACCOUNT, REWARD_RESERVE_ACCOUNT, REWARD_RESERVE_TOKENS } from "../../runtime/core/app/genesis.ts"
import { TOKEN, WAD } from "../../runtime/core/units.ts"
import { honest, recoverApp, startConsensus, type ConsensusNode, type Outbound, type ProposalCheck } from "../../runtime/actors/consensus/consensus-node.ts"
import { makeNodeContext } from "../../runtime/actors/context.ts"
import { startStaking, type StakeActors } from "../../runtime/actors/staking/stake-actors.ts"
import { startSync, type SyncActor } from "../../runtime/actors/sync/block-sync.ts"
import type { Keys } from "../../runtime/services/keys.ts"
import { Telemetry, type TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { makeSimKeys, SignatureOracle } from "../adapters/keys.ts"
import { attachSimNetwork, type SimNetworkPort } from "../adapters/network.ts"
import { SimNetwork } from "../adapters/sim-network.ts"
import { SimStore } from "../adapters/sim-store.ts"
import { seededRandom } from "../adapters/random.ts"
import { makeSimStorePort } from "../adapters/store.ts"
import { Prng, Scheduler, SimClock, toRatio, Trace, type TraceValue } from "../kernel/index.ts"
import type { Scenario } from "../scenario/load.ts"

export const SIM_CHAIN_ID = 7_777
/** The account of the genesis reward reserve (runtime/core/app/genesis.ts). */
export const REWARD_RESERVE = REWARD_RESERVE_ACCOUNT

export interface WorldOptions {
  readonly scenario: Scenario
  readonly seed: number
  /** Receives every trace line. */
  readonly sink?: (line: string) => void
  /** `simulated` (default) checks signatures through the run's oracle; `secp256k1` does real ECDSA. */
  readonly signatures?: "simulated" | "secp256k1"
  /** Sees every telemetry event (the runner's checkers). */
  readonly observe?: (event: TelemetryEvent) => void
  /** Record every network delivery in the trace (default true). */
  readonly traceDeliveries?: boolean
}

interface Slot {
  readonly id: string
  readonly store: SimStore
  readonly keys: Keys["Service"]
  port: SimNetworkPort | undefined
  node: ConsensusNode | undefined
  /** The operator's stake positions, followed by staking machines (while the node runs). */
  stake: StakeActors | undefined
  /** Block sync (while the node runs). */
  sync?: SyncActor | undefined
  /** Epoch reports and double-sign evidence sent to the ledger (while the node runs). */
  reports?: EpochReports | undefined
  evidence?: EvidenceReporter | undefined
  app: App | undefined
  outbound: Outbound | undefined
}

export class ConsensusWorld {
  readonly scheduler = new Scheduler(0)
  readonly clock: SimClock
  readonly trace: Trace
  readonly net: SimNetwork
  readonly genesis: AppGenesis
  /** The one ledger every node's Chain port reads and writes. */
  readonly ledger: MemoryChain
  readonly oracle: SignatureOracle | undefined
  readonly #prng: Prng
  readonly slots = new Map<string, Slot>()
  /** Exceptions thrown inside node code (a crash of the run, not of a node). */
  readonly errors: string[] = []
  /** A validator's own check of proposals beyond the App's (the training world's accuracy check), looked up per proposal. */
  proposalCheck: ((node: string) => ProposalCheck) | undefined
  readonly #options: WorldOptions

  constructor(options: WorldOptions) {
    this.#options = options
    const { scenario, seed } = options
    const root = Prng.fromSeed(seed)
    this.#prng = root
    this.clock = new SimClock(this.scheduler)
    this.trace = new Trace(options.sink)
    this.oracle = options.signatures === "secp256k1" ? undefined : new SignatureOracle()
    this.net = new SimNetwork(
      {
        scheduler: this.scheduler,
        prng: root.child("network"),
        observer: options.traceDeliveries === false ? undefined : (e) => {
          if (e.type === "deliver") this.trace.record({ t: e.time, kind: "net.deliver", node: e.to, from: e.from, topic: e.topic, bytes: e.data.length })
          else this.trace.record({ t: e.time, kind: "net.drop", node: e.to, from: e.from, topic: e.topic, reason: e.reason })
        },
      },
      {
        latency: scenario.latency,
        ...(scenario.drop > 0 ? { drop: toRatio(scenario.drop) } : {}),
        ...(scenario.duplicate > 0 ? { duplicate: toRatio(scenario.duplicate) } : {}),
      },
    )
    const validators = scenario.validators.map((id, i) => {
      const keys = makeSimKeys(seed, id, this.oracle)
      this.slots.set(id, { id, store: new SimStore(), keys, port: undefined, node: undefined, stake: undefined, app: undefined, outbound: undefined })
      return { operator: id, address: keys.address.toLowerCase(), amount: BigInt(Math.round(scenario.stake[i]! * 1e6)) * (TOKEN / 1_000_000n), tier: 0 as const, commission: WAD / 20n }
    })
    // Trainers bond `network.trainerStake` each in their contributor pools (their stake at risk), at
    // least `staking.minContributorBond`: only a bonded trainer's signed update counts in a round
    // (runtime/core/app/round-attestation.ts), with the key its genesis entry names.
    const tokens = Math.max(scenario.trainerStake, scenario.params["staking.minContributorBond"])
    const trainerStake = BigInt(Math.round(tokens * 1e6)) * (TOKEN / 1_000_000n)
    const contributors = scenario.trainers.map((owner) => ({ owner, amount: trainerStake, tier: 0 as const, address: makeSimKeys(seed, owner, this.oracle).address.toLowerCase() }))
    const allocations = [
      ...validators.map((v) => ({ address: v.operator, amount: v.amount + 1_000n * TOKEN })),
      ...contributors.map((c) => ({ address: c.owner, amount: c.amount })),
    ]
    // The reward reserve releases rewards.annualEmission per year to the stakers, block by block;
    // a world that hands out much of the supply keeps a reserve as large as what the community gets.
    this.genesis = Result.getOrThrow(buildGenesis({
      chainId: SIM_CHAIN_ID, params: scenario.params, validators, contributors, time: 0, allocations,
      reserve: { kind: "atMostHalfOfRest", amount: REWARD_RESERVE_TOKENS },
    }))
    const oracle = this.oracle
    const economy = Result.getOrThrow(ledgerAtGenesis(this.genesis))
    this.ledger = makeMemoryChain(economy, () => this.scheduler.now, undefined, {
      consensusChainId: SIM_CHAIN_ID,
      ...(oracle === undefined ? {} : { verify: (a: string, d: Uint8Array, sig: Uint8Array) => oracle.verify(a, d, sig) }),
    })
    // Slashes happen on the ledger: the run's trace and checkers hear them from there.
    this.ledger.receipts((r) => {
      if (r.type !== "slash") return
      const data = { pool: r.pool, infraction: r.infraction, amount: r.totalSlashed, tombstoned: r.tombstoned }
      this.trace.record({ t: this.scheduler.now, kind: "stake.slashed", node: "ledger", ...data })
      options.observe?.({ at: this.scheduler.now, node: "ledger", kind: "stake.slashed", data })
    })
  }

  /** Start every node, all attached to the network before the first one speaks. */
  startAll(): void {
    for (const id of this.slots.keys()) this.#attach(id)
    for (const id of this.slots.keys()) this.start(id)
  }

  #attach(id: string): SimNetworkPort {
    const slot = this.slots.get(id)!
    if (slot.port === undefined) {
      slot.port = attachSimNetwork(this.net, id, {
        onDrop: (reason, from, topic) => {
          if (reason === "handler-error") this.errors.push(`${id}: a handler threw on a message from ${from} on ${topic}`)
        },
      })
      this.net.setDown(id, false)
    }
    return slot.port
  }

  /** Start (or restart) a node: rebuild its App from its store, attach it, run consensus. */
  start(id: string): void {
    const slot = this.slots.get(id)!
    if (slot.node !== undefined) return
    const port = this.#attach(id)
    const telemetry = Telemetry.of({
      emit: (e) => Effect.sync(() => {
        // Every node's validator table, each block: the trace reuses the text of an equal table.
        this.trace.record({ t: e.at, kind: e.kind, node: e.node, ...(e.data as Record<string, TraceValue>) }, e.kind === "validators" ? "validators" : undefined)
        this.#options.observe?.(e)
      }),
    })
    const store = makeSimStorePort(slot.store)
    const committees = committeeCache(this.ledger)
    Effect.runSync(committees.load(GENESIS_SNAPSHOT))
    const app = Effect.runSync(recoverApp(App.genesis(this.genesis, slot.keys.verify, committees), store, committees))
    slot.app = app
    const run = (effect: Effect.Effect<void>) => {
      try {
        Effect.runSync(effect)
      } catch (e) {
        this.errors.push(`${id}: ${(e as Error).message}`)
      }
    }
    const ctx = makeNodeContext({
      name: id, clock: this.clock, now: () => this.scheduler.now, run, random: seededRandom(this.#prng.child(`node/${id}`)),
      network: port.network, store, keys: slot.keys, telemetry, ledger: this.ledger, receipts: this.ledger.receipts,
    }, app, committees)
    slot.stake = startStaking(ctx)
    slot.reports = Effect.runSync(startEpochReports(ctx))
    slot.evidence = startEvidenceReporter(ctx, { chain: this.ledger, submitter: slot.keys.address.toLowerCase() })
    slot.sync = Effect.runSync(startSync(ctx))
    slot.node = Effect.runSync(
      startConsensus(ctx, {
        sync: slot.sync,
        votes: this.#options.scenario.votes,
        // Looked up per message, so a node can turn byzantine mid-run.
        outbound: (m, send) => (slot.outbound ?? honest)(m, send),
        precheck: {
          judge: (block, verdict) => (this.proposalCheck === undefined ? verdict(undefined) : this.proposalCheck(id).judge(block, verdict)),
          admits: (tx) => this.proposalCheck?.(id).admits(tx) ?? true,
        },
        // A node that can no longer follow the chain ends the run as a crash, with its reason.
        onHalt: (reason) => void this.errors.push(`${id}: ${reason}`),
      }),
    )
  }

  /** Crash a node: it stops at once and its unsynced writes are lost. */
  crash(id: string): void {
    const slot = this.slots.get(id)!
    slot.node?.stop()
    slot.stake?.stop()
    slot.sync?.stop()
    slot.reports?.stop()
    slot.evidence?.stop()
    slot.reports = undefined
    slot.evidence = undefined
    slot.node = undefined
    slot.stake = undefined
    slot.sync = undefined
    slot.app = undefined
    slot.port?.detach()
    slot.port = undefined
    this.net.setDown(id, true)
    slot.store.crash()
  }

  /**
   * A new validator joins: its operator account `id` is funded from the genesis remainder, registers
   * on the ledger with `stake` (whole tokens) and its node's signing key, and its node starts (it
   * catches up by block sync and enters the set with the next snapshot an epoch names). Why not,
   * if the ledger refuses.
   */
  join(id: string, stake: number): string | undefined {
    const keys = makeSimKeys(this.#options.seed, id, this.oracle)
    const address = keys.address.toLowerCase()
    const amount = BigInt(Math.round(stake * 1e6)) * (TOKEN / 1_000_000n)
    const submit = <O extends Parameters<MemoryChain["submit"]>[0]>(op: O) => Effect.runSync(Effect.result(this.ledger.submit(op)))
    const funded = submit({ type: "transfer", from: REMAINDER_ACCOUNT, to: id, amount: amount + 1_000n * TOKEN })
    if (Result.isFailure(funded)) return funded.failure.message
    const registered = submit({ type: "registerValidator", operator: id, amount, tier: 0, commission: WAD / 20n, signingKey: address })
    if (Result.isFailure(registered)) return registered.failure.message
    // A fee deposit, as the genesis validators have.
    const deposited = Effect.runSync(Effect.result(this.ledger.depositFees(id, GENESIS_FEE_DEPOSIT)))
    if (Result.isFailure(deposited)) return deposited.failure.message
    this.slots.set(id, { id, store: new SimStore(), keys, port: undefined, node: undefined, stake: undefined, app: undefined, outbound: undefined })
    this.start(id)
    return undefined
  }

  /** A validator leaves: every position of its operator account is unbonded on the ledger; why not, if refused. */
  leave(id: string): string | undefined {
    for (const p of this.ledger.economy.positions(id)) {
      const r = Effect.runSync(Effect.result(this.ledger.submit({ type: "unbond", owner: id, position: p.id, amount: p.tokens })))
      if (Result.isFailure(r)) return r.failure.message
    }
    return undefined
  }

  /** Make a node byzantine from now on. */
  setOutbound(id: string, outbound: Outbound): void {
    this.slots.get(id)!.outbound = outbound
  }

  /** The application replica of a running node. */
  app(id: string): App | undefined {
    return this.slots.get(id)?.app
  }
}

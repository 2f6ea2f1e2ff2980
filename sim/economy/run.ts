/**
 * An economy run: validators, delegators, contributors and compute users acting on the ledger over
 * virtual time, each stake position followed by a staking machine on the virtual clock.
 *
 * It is the same code path a node uses — operations go through the Chain port, what happened goes
 * out through the Telemetry port — with the simulated backends: the in-memory `Economy`, the
 * scheduler's clock, the run's PRNG and its trace. Same seed, same trace hash.
 */
import { Context, Effect, Result } from "effect"
import { createActor, type ActorRefFrom } from "xstate"
import { genesisAllocations, REWARD_RESERVE_ACCOUNT, REWARD_RESERVE_TOKENS } from "../../runtime/core/app/genesis.ts"
import { DAY_MS } from "../../runtime/core/duration.ts"
import {
  Economy, emissionFor, LOCK_TIERS, type Address, type EconOp, type LockTier, type PoolId, type Receipt,
  type SlashReceipt,
} from "../../runtime/core/econ/index.ts"
import { TOKEN, WAD } from "../../runtime/core/units.ts"
import { stakingMachine } from "../../runtime/machines/staking.ts"
import { Chain } from "../../runtime/services/chain.ts"
import { Telemetry, type TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { makeSimChain } from "../adapters/chain.ts"
import { Prng, Scheduler, SimClock, Trace, type TraceValue } from "../kernel/index.ts"
import type { EconomyRunConfig } from "./config.ts"
import { buildReport, type EconomyReport, type RunLedger } from "./report.ts"

type PositionActor = ActorRefFrom<typeof stakingMachine>

/** Genesis allocations: treasury, participants, the reserve for emissions (genesis.ts); the rest to the community. */
const genesis = (c: EconomyRunConfig, prng: Prng) => {
  const allocations: Array<{ address: Address; amount: bigint }> = [
    { address: "treasury", amount: 100_000_000n * TOKEN },
  ]
  // Sizes give a young network's shape: about a seventh of the supply staked at the start.
  for (let i = 0; i < c.validators; i++) allocations.push({ address: `v${i}`, amount: BigInt(prng.range(5, 30)) * 1_000_000n * TOKEN })
  for (let i = 0; i < c.delegators; i++) allocations.push({ address: `d${i}`, amount: BigInt(prng.range(50, 2_000)) * 1_000n * TOKEN })
  for (let i = 0; i < c.contributors; i++) allocations.push({ address: `c${i}`, amount: BigInt(prng.range(10, 100)) * 1_000n * TOKEN })
  for (let i = 0; i < c.users; i++) allocations.push({ address: `u${i}`, amount: 1_000_000n * TOKEN })
  return Result.getOrThrow(genesisAllocations(allocations, { kind: "exactly", amount: REWARD_RESERVE_TOKENS })).allocations
}

/** Run the economy for `config.days` of virtual time; `sink` receives every trace line. */
export const runEconomy = (config: EconomyRunConfig, sink?: (line: string) => void): EconomyReport => {
  const { params } = config
  const end = config.days * DAY_MS
  const scheduler = new Scheduler(0)
  const clock = new SimClock(scheduler)
  const root = Prng.fromSeed(config.seed)
  const world = root.child("world")
  const trace = new Trace(sink)
  const economy = Result.getOrThrow(Economy.genesis(genesis(config, root.child("genesis")), params, 0))

  const emit = (event: TelemetryEvent) =>
    void trace.record({ t: event.at, kind: event.kind, node: event.node, ...(event.data as Record<string, TraceValue>) })
  const services = Context.make(Chain, makeSimChain(economy, () => scheduler.now)).pipe(
    Context.add(Telemetry, Telemetry.of({ emit: (e) => Effect.sync(() => emit(e)) })),
  )
  const runSync = Effect.runSyncWith(services)

  const ledger: RunLedger = { applied: {}, rejected: {}, claimed: new Map(), initialStake: new Map(), exited: new Set(), slashes: [], fees: 0n, emitted: 0n }
  const machines = new Map<number, PositionActor>()
  const positionsOfPool = new Map<PoolId, Set<number>>()
  const ownerOfPosition = new Map<number, Address>()
  const positionOfEntry = new Map<number, number>()
  const unlocked = new Set<number>()
  const pendingWithdraw = new Set<Address>()
  const validators = Array.from({ length: config.validators }, (_, i) => `v${i}`)
  const flaky = new Set(validators.slice(validators.length - config.flaky))
  const doubleSigners = validators.slice(1, 1 + config.doubleSigners)

  /** Submit through the Chain port, report through Telemetry, count the outcome. */
  const act = (actor: string, op: EconOp): Receipt | undefined => {
    const outcome = runSync(
      Effect.gen(function* () {
        const chain = yield* Chain
        const telemetry = yield* Telemetry
        const result = yield* Effect.result(chain.submit(op))
        const at = scheduler.now
        if (Result.isSuccess(result)) {
          yield* telemetry.emit({ at, node: actor, kind: `ledger.${op.type}`, data: result.success as unknown as Record<string, unknown> })
        } else {
          const e = result.failure
          yield* telemetry.emit({ at, node: actor, kind: "ledger.rejected", data: { op: op.type, error: e._tag, message: e.message } })
        }
        return result
      }),
    )
    if (Result.isFailure(outcome)) {
      ledger.rejected[outcome.failure._tag] = (ledger.rejected[outcome.failure._tag] ?? 0) + 1
      return undefined
    }
    ledger.applied[op.type] = (ledger.applied[op.type] ?? 0) + 1
    observe(outcome.success)
    return outcome.success
  }

  const note = (node: string, kind: string, data: Record<string, unknown>) => emit({ at: scheduler.now, node, kind, data })

  /** Tokens a position is worth now (0 once closed). */
  const tokensOf = (owner: Address, position: number): bigint =>
    economy.positions(owner).find((p) => p.id === position)?.tokens ?? 0n

  const spawn = (owner: Address, pool: PoolId, position: number, amount: bigint, unlockAt: number) => {
    const isOperator = pool === owner
    const actor = createActor(
      stakingMachine.provide({
        actions: {
          notifyUnlocked: (_, p) => {
            unlocked.add(p.positionId)
            note(owner, "stake.unlocked", { position: p.positionId })
            // A delegator of a tombstoned validator leaves as soon as its lock allows.
            if (!isOperator && economy.pool(pool)?.tombstoned === true) later(world.range(0, 3_600_000), () => unbondAll(owner, p.positionId))
          },
          notifyWithdrawable: (_, p) => {
            note(owner, "stake.withdrawable", { position: p.positionId, amount: p.amount })
            if (pendingWithdraw.has(owner)) return
            pendingWithdraw.add(owner)
            later(world.range(0, 6 * 3_600_000), () => {
              pendingWithdraw.delete(owner)
              act(owner, { type: "withdraw", owner })
            })
          },
          notifyUnjailable: (_, p) => {
            if (p.owner !== pool) return
            note(owner, "validator.unjailable", { pool: p.pool })
            later(world.range(0, 3_600_000), () => act(owner, { type: "unjail", operator: owner }))
          },
        },
      }),
      { clock, input: { positionId: position, owner, pool, isOperator, amount, unlockAt, now: scheduler.now } },
    )
    machines.set(position, actor)
    ownerOfPosition.set(position, owner)
    if (!positionsOfPool.has(pool)) positionsOfPool.set(pool, new Set())
    positionsOfPool.get(pool)!.add(position)
    ledger.initialStake.set(position, { owner, pool, amount, tier: economy.positions(owner).find((x) => x.id === position)?.tier ?? 0, at: scheduler.now })
    actor.start()
  }

  /** Turn a receipt into what the machines and the report need. */
  const observe = (r: Receipt) => {
    const at = scheduler.now
    switch (r.type) {
      case "registerValidator": return spawn(r.operator, r.pool, r.position, r.amount, r.unlockAt)
      case "bondContributor": return spawn(r.owner, r.pool, r.position, r.amount, r.unlockAt)
      case "delegate": return spawn(r.owner, r.pool, r.position, r.amount, r.unlockAt)
      case "unbond": {
        positionOfEntry.set(r.entry, r.position)
        ledger.exited.add(r.position)
        const remaining = r.closed ? 0n : tokensOf(r.owner, r.position)
        machines.get(r.position)?.send({ type: "position.unbonded", at, entryId: r.entry, amount: r.amount, completesAt: r.completesAt, remaining })
        return
      }
      case "withdraw": {
        const byPosition = new Map<number, number[]>()
        for (const e of r.entries) {
          const pos = positionOfEntry.get(e.id)
          if (pos !== undefined) byPosition.set(pos, [...(byPosition.get(pos) ?? []), e.id])
        }
        for (const [pos, entryIds] of byPosition) machines.get(pos)?.send({ type: "position.withdrawn", at, entryIds })
        return
      }
      case "claimRewards":
        ledger.claimed.set(r.owner, (ledger.claimed.get(r.owner) ?? 0n) + r.rewards + r.insurance)
        return
      case "payFee":
        ledger.fees += r.amount
        return
      case "fundRewards":
        ledger.emitted += r.amount
        return
      case "slash": return onSlash(r)
      case "unjail":
        for (const pos of positionsOfPool.get(r.pool) ?? []) machines.get(pos)?.send({ type: "validator.unjailed", at })
        return
      default:
        return
    }
  }

  const onSlash = (r: SlashReceipt) => {
    const at = scheduler.now
    ledger.slashes.push(r)
    for (const pos of positionsOfPool.get(r.pool) ?? []) {
      const m = machines.get(pos)
      const owner = ownerOfPosition.get(pos)!
      if (m === undefined || m.getSnapshot().status !== "active") continue
      const before = m.getSnapshot().context.bonded
      const remaining = tokensOf(owner, pos)
      if (before > 0n && remaining < before) m.send({ type: "position.slashed", at, amount: before - remaining, remaining })
      if (r.tombstoned) m.send({ type: "validator.tombstoned", at })
      else if (r.jailedUntil > at) m.send({ type: "validator.jailed", at, until: r.jailedUntil })
    }
  }

  const later = (delay: number, fn: () => void) => {
    if (scheduler.now + delay <= end) scheduler.after(delay, fn)
  }

  const unbondAll = (owner: Address, position: number) => {
    const tokens = tokensOf(owner, position)
    if (tokens > 0n) act(owner, { type: "unbond", owner, position, amount: tokens })
  }

  const tier = (prng: Prng): LockTier => prng.pick(LOCK_TIERS)
  // One stream per participant, kept for the whole run (a child stream restarts from its seed).
  const streams = new Map<string, Prng>()
  const rng = (id: string): Prng => {
    let p = streams.get(id)
    if (p === undefined) streams.set(id, (p = root.child(`agent:${id}`)))
    return p
  }
  const activeValidators = () => validators.filter((v) => { const p = economy.pool(v); return p !== undefined && !p.jailed && !p.tombstoned })

  // Day 0: validators register, contributors and delegators bond.
  const maxCommissionPct = Math.floor(params["staking.maxCommission"] * 100)
  for (const v of validators) {
    const p = rng(v)
    const amount = (economy.balanceOf(v) * BigInt(p.range(60, 90))) / 100n
    act(v, { type: "registerValidator", operator: v, amount, tier: tier(p), commission: (BigInt(p.range(0, maxCommissionPct)) * WAD) / 100n })
  }
  for (let i = 0; i < config.contributors; i++) {
    const c = `c${i}`
    const p = rng(c)
    act(c, { type: "bondContributor", owner: c, amount: (economy.balanceOf(c) * BigInt(p.range(50, 100))) / 100n, tier: tier(p) })
  }
  for (let i = 0; i < config.delegators; i++) {
    const d = `d${i}`
    const p = rng(d)
    act(d, { type: "delegate", owner: d, validator: p.pick(validators), amount: (economy.balanceOf(d) * BigInt(p.range(50, 100))) / 100n, tier: tier(p) })
  }

  // Every epoch: the reserve releases the emission; users pay fees for compute jobs.
  const epoch = (from: number) => {
    const to = scheduler.now
    const emission = emissionFor(params, from, to)
    if (emission > 0n) act(REWARD_RESERVE_ACCOUNT, { type: "fundRewards", from: REWARD_RESERVE_ACCOUNT, amount: emission })
    for (let i = 0; i < config.users; i++) {
      const u = `u${i}`
      const jobs = world.range(0, 4)
      for (let j = 0; j < jobs; j++) act(u, { type: "payFee", payer: u, amount: BigInt(world.range(100, 5_000)) * TOKEN })
    }
    later(config.epochMs, () => epoch(to))
  }
  later(config.epochMs, () => epoch(0))

  // Every day: each participant may claim, unbond an unlocked position, or bond more.
  const daily = () => {
    for (let i = 0; i < config.delegators; i++) {
      const d = `d${i}`
      const p = rng(d)
      if (p.chance(1, 20)) act(d, { type: "claimRewards", owner: d })
      const mine = economy.positions(d).filter((x) => unlocked.has(x.id) || x.unlockAt <= scheduler.now)
      if (mine.length > 0 && p.chance(1, 180)) {
        const pos = p.pick(mine)
        act(d, { type: "unbond", owner: d, position: pos.id, amount: p.chance(1, 2) ? pos.tokens : pos.tokens / 2n })
      }
      const balance = economy.balanceOf(d)
      const targets = activeValidators()
      if (balance >= 200n * TOKEN && targets.length > 0 && p.chance(1, 120)) {
        act(d, { type: "delegate", owner: d, validator: p.pick(targets), amount: balance / 4n, tier: tier(p) })
      }
    }
    for (const id of [...validators, ...Array.from({ length: config.contributors }, (_, i) => `c${i}`)]) {
      if (rng(id).chance(1, 7)) act(id, { type: "claimRewards", owner: id })
    }
    later(DAY_MS, daily)
  }
  later(DAY_MS / 2, daily)

  // Faults: flaky validators miss blocks now and then; double signers equivocate once.
  for (const v of flaky) {
    let n = 0
    const outage = () => {
      const pool = economy.pool(v)
      if (pool !== undefined && !pool.jailed && !pool.tombstoned) {
        n += 1
        note(v, "fault.downtime", { outage: n })
        act("evidence", { type: "slash", pool: v, infraction: "downtime", infractionTime: scheduler.now - world.range(0, 3_600_000), evidenceId: `downtime/${v}/${n}` })
      }
      later(world.range(10, 20) * DAY_MS, outage)
    }
    later(world.range(5, 15) * DAY_MS, outage)
  }
  for (const v of doubleSigners) {
    later(Math.floor(end / 3) + world.range(0, DAY_MS), () => {
      note(v, "fault.equivocate", {})
      act("evidence", { type: "slash", pool: v, infraction: "doubleSign", infractionTime: scheduler.now - world.range(0, 600_000), evidenceId: `double-sign/${v}` })
    })
  }

  scheduler.runUntil({ time: end })
  for (const m of machines.values()) m.stop()
  return buildReport({ config, economy, ledger, trace, machines: [...machines.values()].map((m) => m.getSnapshot()) })
}

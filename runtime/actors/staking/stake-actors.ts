/**
 * The node operator's stake positions as staking machines (runtime/machines/staking.ts) on the
 * node's clock: one actor per position of the node's account on the ledger, fed by the ledger's
 * receipts as they happen (bonds, unbonds, withdrawals, slashes, unjails; stake moves only on the
 * ledger, never in a block), so
 * that the operator is told when a lock ends, when unbonded tokens can be withdrawn, when its
 * validator may be unjailed — by the machine's own timers, between blocks too.
 *
 * Every change of a position's state is reported as `stake.position` with `position`, `pool`,
 * `state` (a phrase: "bonded, locked until …; unbonding 5 DAI until …") and the machine's regions;
 * it carries no `stake` field, so the per-block account total (block-report.ts) stays the TUI's "my
 * stake". The machines' notifications go out as `stake.unlocked`, `stake.withdrawable` and
 * `validator.unjailable`, the names the economy run uses.
 *
 * Started from the ledger as it is: positions, their unbonding entries, and their pool's jail.
 */
import { Effect } from "effect"
import { createActor, type ActorRefFrom, type AnyActorRef, type SnapshotFrom } from "xstate"
import type { PoolId, PositionView, Receipt, SlashReceipt } from "../../core/econ/index.ts"
import { formatTokens } from "../../core/units.ts"
import { stakingMachine } from "../../machines/staking.ts"
import type { Emit } from "../consensus/block-report.ts"
import type { NodeContext } from "../context.ts"
import { longTimers } from "../long-timers.ts"

type PositionActor = ActorRefFrom<typeof stakingMachine>
type PositionSnapshot = SnapshotFrom<typeof stakingMachine>

/** What one position's machine tells its operator. */
interface Notifications {
  unlocked(p: { positionId: number }): void
  withdrawable(p: { positionId: number; amount: bigint }): void
  unjailable(p: { pool: string }): void
}

// `provide` builds a whole new machine (~180 µs), once per position of every node of every
// simulated run; so the machine is wired once, and each action finds its position's notifications
// through its actor (`self`).
const notifications = new WeakMap<AnyActorRef, Notifications>()
const notificationsOf = (self: AnyActorRef): Notifications => notifications.get(self)!
const positionMachine = stakingMachine.provide({
  actions: {
    notifyUnlocked: ({ self }, p) => notificationsOf(self).unlocked(p),
    notifyWithdrawable: ({ self }, p) => notificationsOf(self).withdrawable(p),
    notifyUnjailable: ({ self }, p) => notificationsOf(self).unjailable(p),
  },
})

/** A position's state as the TUI and the API show it. */
export interface PositionState {
  /** "bonded.locked", "bonded.unlocked", "jailed.serving", "jailed.unjailable", "tombstoned", "exited", "closed". */
  readonly stake: string
  /** "idle", "unbonding", "withdrawable", "settled". */
  readonly funds: string
  readonly bonded: bigint
  /** Unbonded tokens still waiting out the unbonding period, and when the first of them matures. */
  readonly unbonding: bigint
  readonly maturesAt: number | undefined
  /** Unbonded tokens past the period: the owner may withdraw them. */
  readonly withdrawable: bigint
  /** One phrase: "bonded, locked until 2025-01-02T00:00:00.000Z; unbonding 5 DAI until …". */
  readonly text: string
}

const iso = (ms: number): string => new Date(ms).toISOString()
const dai = (amount: bigint): string => `${formatTokens(amount, 4)} DAI`

/** Flatten a region's value ("bonded" → { locked }) to "bonded.locked". */
const path = (value: unknown): string => {
  if (typeof value === "string") return value
  const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? ["?", undefined]
  return v === undefined ? k : `${k}.${path(v)}`
}

/** What a staking machine's snapshot says about its position. */
export const positionState = (snapshot: PositionSnapshot): PositionState => {
  const c = snapshot.context
  const value = snapshot.value as Record<string, unknown>
  const stake = path(value["stake"])
  const funds = path(value["funds"])
  let unbonding = 0n
  let withdrawable = 0n
  let maturesAt: number | undefined
  for (const e of c.entries) {
    if (e.matured) withdrawable += e.amount
    else {
      unbonding += e.amount
      if (maturesAt === undefined || e.completesAt < maturesAt) maturesAt = e.completesAt
    }
  }
  const parts: string[] = []
  switch (stake) {
    case "bonded.locked": parts.push(`bonded, locked until ${iso(c.unlockAt)}`); break
    case "bonded.unlocked": parts.push("bonded"); break
    case "jailed.serving": parts.push(`jailed until ${iso(c.jailedUntil)}`); break
    case "jailed.unjailable": parts.push("jailed, may unjail now"); break
    case "tombstoned": parts.push("tombstoned"); break
    case "exited": parts.push("fully unbonded"); break
    default: parts.push(stake)
  }
  if (unbonding > 0n) parts.push(`unbonding ${dai(unbonding)} until ${iso(maturesAt!)}`)
  if (withdrawable > 0n) parts.push(`${dai(withdrawable)} withdrawable`)
  return { stake, funds, bonded: c.bonded, unbonding, maturesAt, withdrawable, text: parts.join("; ") }
}

export interface StakeActors {
  /** The state of each followed position, by position id. */
  states(): ReadonlyMap<number, PositionState>
  stop(): void
}

/**
 * Follow the operator's positions (the account of the node's signing address) from the replica as it
 * is now, then from every block the node executes. The machines count from the node's clock.
 */
export const startStaking = (ctx: NodeContext): StakeActors => {
  const { app, emit } = ctx
  const account = app.accountOf(ctx.keys.address.toLowerCase())
  const clock = longTimers(ctx.clock)
  let stopped = false
  const actors = new Map<number, PositionActor>()
  const poolOf = new Map<number, PoolId>()
  const positionOfEntry = new Map<number, number>()
  const reported = new Map<number, string>()

  /** The account's positions on the ledger as last read (at start and at each receipt). */
  let positions: readonly PositionView[] = []
  const tokensOf = (position: number): bigint => positions.find((p) => p.id === position)?.tokens ?? 0n

  const spawn = (position: number, pool: PoolId, amount: bigint, unlockAt: number, now: number): PositionActor => {
    const actor = createActor(positionMachine, {
      clock: clock as never,
      input: { positionId: position, owner: account, pool, isOperator: pool === account, amount, unlockAt, now },
    })
    notifications.set(actor, {
      unlocked: (p) => emit("stake.unlocked", { account, position: p.positionId, pool }),
      withdrawable: (p) => emit("stake.withdrawable", { account, position: p.positionId, pool, amount: p.amount.toString() }),
      unjailable: (p) => emit("validator.unjailable", { account, pool: p.pool }),
    })
    actors.set(position, actor)
    poolOf.set(position, pool)
    actor.subscribe((snapshot) => {
      const s = positionState(snapshot)
      const key = `${s.stake}/${s.funds}/${s.bonded}/${s.text}`
      if (reported.get(position) === key) return
      reported.set(position, key)
      emit("stake.position", {
        account, position, pool, state: s.text, stakeState: s.stake, funds: s.funds, bonded: s.bonded.toString(),
        unbonding: s.unbonding.toString(), withdrawable: s.withdrawable.toString(), ...(s.maturesAt === undefined ? {} : { maturesAt: s.maturesAt }),
      })
      // A settled position is done: nothing will feed it again.
      if (snapshot.status === "done") {
        actors.delete(position)
        poolOf.delete(position)
      }
    })
    actor.start()
    return actor
  }

  /** What a slash does to the actors of its pool's positions (`remaining` read now, applied later). */
  const onSlash = (r: SlashReceipt, at: number): (() => void) => {
    const remaining = new Map([...poolOf].filter(([, pool]) => pool === r.pool).map(([position]) => [position, tokensOf(position)]))
    return () => {
      for (const [position, left] of remaining) {
        const actor = actors.get(position)
        if (actor === undefined || actor.getSnapshot().status !== "active") continue
        const before = actor.getSnapshot().context.bonded
        if (before > 0n && left < before) actor.send({ type: "position.slashed", at, amount: before - left, remaining: left })
        if (r.tombstoned) actor.send({ type: "validator.tombstoned", at })
        else if (r.jailedUntil > at) actor.send({ type: "validator.jailed", at, until: r.jailedUntil })
      }
    }
  }

  /** What a receipt does to the account's actors, or undefined when it does not concern them. */
  const onReceipt = (r: Receipt, at: number): (() => void) | undefined => {
    switch (r.type) {
      case "registerValidator":
        return r.operator === account ? () => void spawn(r.position, r.pool, r.amount, r.unlockAt, at) : undefined
      case "bondContributor":
      case "delegate":
        return r.owner === account ? () => void spawn(r.position, r.pool, r.amount, r.unlockAt, at) : undefined
      case "unbond": {
        if (r.owner !== account) return undefined
        positionOfEntry.set(r.entry, r.position)
        const remaining = r.closed ? 0n : tokensOf(r.position)
        return () => actors.get(r.position)?.send({ type: "position.unbonded", at, entryId: r.entry, amount: r.amount, completesAt: r.completesAt, remaining })
      }
      case "withdraw": {
        if (r.owner !== account) return undefined
        const byPosition = new Map<number, number[]>()
        for (const e of r.entries) {
          const position = positionOfEntry.get(e.id)
          if (position !== undefined) byPosition.set(position, [...(byPosition.get(position) ?? []), e.id])
        }
        return () => {
          for (const [position, entryIds] of byPosition) actors.get(position)?.send({ type: "position.withdrawn", at, entryIds })
        }
      }
      case "unjail":
        return () => {
          for (const [position, actor] of actors) if (poolOf.get(position) === r.pool) actor.send({ type: "validator.unjailed", at })
        }
      default:
        return undefined
    }
  }

  // The ledger as it is: every position, then the unbonding entries (attached to a position of
  // their pool; an entry of a position closed before this start gets an actor of its own, keyed by
  // minus its entry id), then the pools' jail.
  const { ledger } = ctx
  ctx.run(Effect.ignore(Effect.map(Effect.all([ledger.positions(account), ledger.unbonding(account), ledger.pools]), ([own, entries, pools]) => {
    if (stopped) return
    positions = own
    const now = ctx.now()
    for (const p of own) spawn(p.id, p.pool, p.tokens, p.unlockAt, now)
    for (const e of entries) {
      let position = [...poolOf].find(([, pool]) => pool === e.pool)?.[0]
      if (position === undefined) spawn((position = -e.id), e.pool, e.amount, now, now)
      positionOfEntry.set(e.id, position)
      const remaining = position < 0 ? 0n : tokensOf(position)
      actors.get(position)?.send({ type: "position.unbonded", at: now, entryId: e.id, amount: e.amount, completesAt: e.completesAt, remaining })
    }
    for (const [position, actor] of actors) {
      const pool = pools.find((p) => p.id === poolOf.get(position))
      if (pool?.tombstoned === true) actor.send({ type: "validator.tombstoned", at: now })
      else if (pool?.jailed === true) actor.send({ type: "validator.jailed", at: now, until: pool.jailedUntil })
    }
  })))

  const onLedger = (r: Receipt) => {
    // The machines count from the node's clock. What the op needs from the ledger (the positions
    // after the receipt) is read now; the op is applied after whatever action applied the
    // operation has returned (XState runs one actor's actions at a time).
    const at = ctx.now()
    ctx.run(Effect.ignore(Effect.map(ledger.positions(account), (own) => {
      positions = own
      const op = r.type === "slash" ? onSlash(r, at) : onReceipt(r, at)
      if (op !== undefined) clock.setTimeout(() => {
        if (!stopped) op()
      }, 0)
    })))
  }
  const unsubscribe = ctx.receipts(onLedger)

  return {
    states: () => new Map([...actors].map(([id, a]) => [id, positionState(a.getSnapshot())])),
    stop: () => {
      stopped = true
      unsubscribe()
      for (const a of actors.values()) a.stop()
      actors.clear()
    },
  }
}

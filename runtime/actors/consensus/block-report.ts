/**
 * What a validator reports about the chain once per executed block, for the TUI and the API's
 * telemetry stream (docs/telemetry.md): the validator table (`validators`) and this node's own stake
 * position (`stake.position`). The table is read from the node's application replica (the committee
 * snapshot in force), so every honest node reports the same table; the position is read from the
 * ledger. A simulated run reports the same lines for the same seed.
 *
 * The table is reported after the first block a node executes, then after each block that changed
 * it (a power, a stake, a missed-block count, a jailing): it is state, and the telemetry hub keeps the
 * latest for views that attach later (runtime/api/telemetry-hub.ts). (Every block, a trace of N nodes
 * got N copies of an unchanged table per height: at 100 validators 95 % of its bytes.)
 */
import { Effect } from "effect"
import type { App } from "../../core/app/app.ts"
import type { Snapshot } from "../../core/committee/types.ts"
import type { ValidatorSet } from "../../core/consensus/validator-set.ts"
import type { Block, Vote } from "../../core/consensus/types.ts"
import { signerFlags } from "../../core/app/tx/last-commit.ts"
import { RecentByObject } from "../../core/recent.ts"
import { YEAR_MS } from "../../core/duration.ts"
import type { Chain } from "../../services/chain.ts"
import type { EffectRunner } from "../../services/clock.ts"

export type Emit = (kind: string, data: Record<string, unknown>) => void

/** One row of the `validators` event. */
export interface ValidatorRow {
  readonly address: string
  readonly name: string
  /** Voting power in the next height's set ("0" when out of the set). */
  readonly power: string
  /** Bonded tokens of the pool (base units). */
  readonly stake: string
  /** Contribution (scores of the last settled epoch report) that counts in the next height's power. */
  readonly contribution: number
  /** Blocks of the last `slashing.downtimeWindow` whose last-commit lacks its precommit. */
  readonly missed: number
  readonly jailed: boolean
}

/** Heights missed per validator (oldest first) in the window after some block; never changed once made. */
interface MissedState {
  readonly missed: ReadonlyMap<string, readonly number[]>
}
const NONE_MISSED: MissedState = { missed: new Map() }

/**
 * Where each state went on a block's last-commit: the nodes of a simulated world observe the same
 * decoded blocks against the same sets (core/app/committee.ts), so they walk one chain of states,
 * made once per world instead of once per node (at 1,000 validators the table was 13 % of a run).
 * A node whose history differs (a restart, a fork) makes its own states.
 */
const missedAfter = new RecentByObject<MissedState, {
  readonly precommits: readonly Vote[]
  readonly set: ValidatorSet
  readonly height: number
  readonly window: number
  readonly next: MissedState
}>(4)

/**
 * Missed blocks per validator over a sliding window of heights, from the last-commit of each block
 * (the same signal the application judges downtime on).
 */
export class MissedBlocks {
  #state = NONE_MISSED

  /** Block `height` carries the precommits of `height - 1`: whoever of that set is not among them missed it. */
  observe(app: App, block: Block): void {
    const first = block.txs[0]
    if (block.height < 2 || first?.type !== "last-commit") return
    const precommits = (first.precommits ?? []) as unknown as readonly Vote[]
    const set = app.validatorSet(block.height - 1)
    const window = app.params()["slashing.downtimeWindow"]
    const known = missedAfter.find(this.#state, (k) => k.precommits === precommits && k.set === set && k.height === block.height && k.window === window)
    if (known !== undefined) return void (this.#state = known.next)
    const from = block.height - window
    const missed = new Map<string, readonly number[]>()
    for (const [address, list] of this.#state.missed) {
      let at = 0
      while (at < list.length && list[at]! < from) at++
      if (at < list.length) missed.set(address, at === 0 ? list : list.slice(at))
    }
    const signed = signerFlags(set, precommits)
    set.validators.forEach((v, i) => {
      if (signed[i] === 0) missed.set(v.address, [...(missed.get(v.address) ?? []), block.height - 1])
    })
    this.#state = missedAfter.add(this.#state, { precommits, set, height: block.height, window, next: { missed } }).next
  }

  count(address: string): number {
    return this.#state.missed.get(address)?.length ?? 0
  }

  /** The state after the last observed block (what the table is memoised on). */
  get state(): object {
    return this.#state
  }
}

/** Whether two tables hold the same rows in the same order. */
const sameRows = (a: readonly ValidatorRow[], b: readonly ValidatorRow[]): boolean =>
  a === b || (a.length === b.length && a.every((r, i) => {
    const o = b[i]!
    return r.address === o.address && r.name === o.name && r.power === o.power && r.stake === o.stake && r.contribution === o.contribution &&
      r.missed === o.missed && r.jailed === o.jailed
  }))

/** The table made last: a new one with the same rows is this object, so a reporter tells "unchanged" by identity. */
let lastMade: readonly ValidatorRow[] | undefined

/** Tables made lately, by missed-blocks state: the nodes of a simulated world share one per block. */
const tablesOf = new RecentByObject<object, { readonly snapshot: Snapshot; readonly set: ValidatorSet; readonly excluded: string; readonly rows: readonly ValidatorRow[] }>(4)

/**
 * The validator table after the last executed block: the members of the snapshot in force. The rows
 * are frozen: nodes in the same state share them.
 */
export const validatorRows = (app: App, missed: MissedBlocks): readonly ValidatorRow[] => {
  const next = app.height + 1
  const set = app.validatorSet(next)
  const snapshot = app.snapshotAt(next)
  let excluded = ""
  if (app.excludedCount > 0) for (const m of snapshot.validators) if (app.isExcluded(m.signingKey)) excluded += `${m.signingKey},`
  const known = tablesOf.find(missed.state, (k) => k.snapshot === snapshot && k.set === set && k.excluded === excluded)
  if (known !== undefined) return known.rows
  const made = Object.freeze(snapshot.validators.map((m) => Object.freeze({
    address: m.signingKey, name: m.operator, power: (set.has(m.signingKey) ? set.power(m.signingKey) : 0n).toString(), stake: m.stake.toString(),
    contribution: Number(m.contribution), missed: missed.count(m.signingKey), jailed: app.isExcluded(m.signingKey),
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
  const rows = lastMade !== undefined && sameRows(made, lastMade) ? lastMade : made
  lastMade = rows
  return tablesOf.add(missed.state, { snapshot, set, excluded, rows }).rows
}

/** This account's stake (every position), pending rewards, and what the rewards earned since `since` make per year. */
export interface StakePosition {
  readonly stake: bigint
  readonly rewards: bigint
}

/** This account's stake and pending rewards, read from the ledger. */
export const stakePosition = (ledger: Chain["Service"], account: string) =>
  // Read by every node after each block: chained rather than through Effect.all (the same two reads, in order).
  Effect.flatMap(ledger.positions(account), (positions) => Effect.map(ledger.pendingRewards(account), (pending): StakePosition => ({
    stake: positions.reduce((s, p) => s + p.tokens, 0n), rewards: pending.total,
  })))

/**
 * Reports the table when it changed (see above) and this node's position after each block. The APR
 * is the rewards this node's account earned since the reporter started, per year of block time,
 * over its stake: what the operator actually got, not a promise.
 */
export const makeBlockReporter = (app: App, address: string, emit: Emit, ledger: Chain["Service"], run: EffectRunner) => {
  const missed = new MissedBlocks()
  const account = app.accountOf(address)
  let earned = 0n
  let last: StakePosition | undefined
  let since: number | undefined
  // One read of the position at a time: blocks that commit while it is out ask for one more read after
  // it, not one each (a loaded chain that answers slower than blocks commit must not be asked faster).
  let reading = false
  let again = false
  const readPosition = (): void => {
    if (reading) return void (again = true)
    reading = true
    again = false
    const time = app.lastTime
    run(Effect.ensuring(Effect.ignore(Effect.map(stakePosition(ledger, account), (now) => {
      // Pending rewards fall when they are claimed: count only what was added.
      if (last !== undefined) earned += now.rewards >= last.rewards ? now.rewards - last.rewards : now.rewards
      since ??= time
      last = now
      const elapsed = time - since
      const apr = now.stake > 0n && elapsed > 0 ? (Number((earned * 1_000_000_000n) / now.stake) / 1e9) * (YEAR_MS / elapsed) : 0
      emit("stake.position", { account, stake: now.stake.toString(), rewards: now.rewards.toString(), apr })
    })), Effect.sync(() => {
      reading = false
      if (again) readPosition()
    })))
  }
  let reported: readonly ValidatorRow[] | undefined
  return {
    onBlock(block: Block): void {
      missed.observe(app, block)
      const rows = validatorRows(app, missed)
      if (reported === undefined || !sameRows(rows, reported)) emit("validators", { validators: rows })
      reported = rows
      readPosition()
    },
  }
}

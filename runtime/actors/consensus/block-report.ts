/**
 * What a validator reports about the chain once per executed block, for the TUI and the API's
 * telemetry stream (docs/telemetry.md): the validator table (`validators`) and this node's own stake
 * position (`stake.position`). Everything is read from the node's application replica, so every
 * honest node reports the same table, and a simulated run reports the same lines for the same seed.
 *
 * Once per block, never per message: a trace of N nodes gets N table lines per height.
 */
import type { App } from "../../core/app/app.ts"
import type { Block, Vote } from "../../core/consensus/types.ts"
import { YEAR_MS } from "../../core/duration.ts"

export type Emit = (kind: string, data: Record<string, unknown>) => void

/** One row of the `validators` event. */
export interface ValidatorRow {
  readonly address: string
  readonly name: string
  /** Voting power in the next height's set ("0" when out of the set). */
  readonly power: string
  /** Bonded tokens of the pool (base units). */
  readonly stake: string
  /** Revealed contribution score that counts in the next height's power. */
  readonly contribution: number
  /** Blocks of the last `slashing.downtimeWindow` whose last-commit lacks its precommit. */
  readonly missed: number
  readonly jailed: boolean
}

/**
 * Missed blocks per validator over a sliding window of heights, from the last-commit of each block
 * (the same signal the application judges downtime on).
 */
export class MissedBlocks {
  /** Heights missed, oldest first, by validator address. */
  readonly #missed = new Map<string, number[]>()

  /** Block `height` carries the precommits of `height - 1`: whoever of that set is not among them missed it. */
  observe(app: App, block: Block): void {
    const first = block.txs[0]
    if (block.height < 2 || first?.type !== "last-commit") return
    const signers = new Set(((first.precommits ?? []) as unknown as readonly Vote[]).map((v) => v.validator))
    for (const v of app.validatorSet(block.height - 1).validators) {
      if (signers.has(v.address)) continue
      const list = this.#missed.get(v.address) ?? []
      list.push(block.height - 1)
      this.#missed.set(v.address, list)
    }
    const from = block.height - app.economy.params["slashing.downtimeWindow"]
    for (const [address, list] of this.#missed) {
      while (list.length > 0 && list[0]! < from) list.shift()
      if (list.length === 0) this.#missed.delete(address)
    }
  }

  count(address: string): number {
    return this.#missed.get(address)?.length ?? 0
  }
}

/** The validator table after the last executed block. */
export const validatorRows = (app: App, missed: MissedBlocks): ValidatorRow[] => {
  const next = app.height + 1
  const set = app.validatorSet(next)
  const scores = app.scores(app.epochOf(next) - 2)
  const rows: ValidatorRow[] = []
  for (const p of app.economy.pools()) {
    if (p.kind !== "validator") continue
    const address = app.addressOf(p.operator)
    if (address === undefined) continue
    rows.push({
      address, name: p.operator, power: (set.has(address) ? set.power(address) : 0n).toString(), stake: p.tokens.toString(),
      contribution: scores.get(p.operator) ?? 0, missed: missed.count(address), jailed: p.jailed || p.tombstoned,
    })
  }
  return rows
}

/** This account's stake (every position), pending rewards, and what the rewards earned since `since` make per year. */
export interface StakePosition {
  readonly stake: bigint
  readonly rewards: bigint
}

export const stakePosition = (app: App, account: string): StakePosition => {
  let stake = 0n
  for (const p of app.economy.positions(account)) stake += p.tokens
  return { stake, rewards: app.economy.pendingRewards(account).total }
}

/**
 * Reports the table and this node's position after each block. The APR is the rewards this node's
 * account earned since the reporter started, per year of block time, over its stake: what the
 * operator actually got, not a promise.
 */
export const makeBlockReporter = (app: App, address: string, emit: Emit) => {
  const missed = new MissedBlocks()
  const account = app.accountOf(address)
  let earned = 0n
  let last: StakePosition | undefined
  let since: number | undefined
  return {
    onBlock(block: Block): void {
      missed.observe(app, block)
      emit("validators", { validators: validatorRows(app, missed) })
      const now = stakePosition(app, account)
      // Pending rewards fall when they are claimed: count only what was added.
      if (last !== undefined) earned += now.rewards >= last.rewards ? now.rewards - last.rewards : now.rewards
      since ??= app.lastTime
      last = now
      const elapsed = app.lastTime - since
      const apr = now.stake > 0n && elapsed > 0 ? (Number((earned * 1_000_000_000n) / now.stake) / 1e9) * (YEAR_MS / elapsed) : 0
      emit("stake.position", { account, stake: now.stake.toString(), rewards: now.rewards.toString(), apr })
    },
  }
}

/**
 * What a validator reports about the chain once per executed block, for the TUI and the API's
 * telemetry stream (docs/telemetry.md): the validator table (`validators`) and this node's own stake
 * position (`stake.position`). The table is read from the node's application replica (the committee
 * snapshot in force), so every honest node reports the same table; the position is read from the
 * ledger. A simulated run reports the same lines for the same seed.
 *
 * Once per block, never per message: a trace of N nodes gets N table lines per height.
 */
import { Effect } from "effect"
import type { App } from "../../core/app/app.ts"
import type { Block, Vote } from "../../core/consensus/types.ts"
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
    const from = block.height - app.params()["slashing.downtimeWindow"]
    for (const [address, list] of this.#missed) {
      while (list.length > 0 && list[0]! < from) list.shift()
      if (list.length === 0) this.#missed.delete(address)
    }
  }

  count(address: string): number {
    return this.#missed.get(address)?.length ?? 0
  }
}

/** The validator table after the last executed block: the members of the snapshot in force. */
export const validatorRows = (app: App, missed: MissedBlocks): ValidatorRow[] => {
  const next = app.height + 1
  const set = app.validatorSet(next)
  return app.snapshotAt(next).validators.map((m) => ({
    address: m.signingKey, name: m.operator, power: (set.has(m.signingKey) ? set.power(m.signingKey) : 0n).toString(), stake: m.stake.toString(),
    contribution: Number(m.contribution), missed: missed.count(m.signingKey), jailed: app.isExcluded(m.signingKey),
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
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
 * Reports the table and this node's position after each block. The APR is the rewards this node's
 * account earned since the reporter started, per year of block time, over its stake: what the
 * operator actually got, not a promise.
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
  return {
    onBlock(block: Block): void {
      missed.observe(app, block)
      emit("validators", { validators: validatorRows(app, missed) })
      readPosition()
    },
  }
}

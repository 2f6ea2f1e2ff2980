/**
 * Reads of the Staking and token contracts' views, in the economy's shapes (account ids, pool ids,
 * ms). Every read of one query happens at one block, so a view never mixes two states.
 *
 * Views the contracts do not have are rebuilt exactly from what they do have:
 * - the list of pools: every pool is created by a bond, so the `Bonded` logs since the deployment
 *   block name them all (in creation order);
 * - a pool's token checkpoints: replayed from its `Bonded`, `Unbonded` and `Slashed` logs with the
 *   contract's own rule (one checkpoint per block timestamp, a later change overwrites);
 * - pending rewards: the economy's `pendingOf` arithmetic over the contract's accumulators.
 * The log scan is incremental and assumes the chain is final (after a reorg, make a new adapter).
 */
import type { Contract, Provider } from "ethers"
import {
  PRECISION, type Checkpoint, type LockTier, type PendingRewards, type PoolView, type PositionView, type SupplyBreakdown, type UnbondingView,
} from "../../core/econ/index.ts"
import { mulWad } from "../../core/units.ts"
import type { AccountBook } from "./accounts.ts"
import { rawStakingParams, type RawStakingParams } from "./staking-params.ts"
import { msOf } from "./units.ts"

export type BlockTag = number

/** Staking.Pool as bigints. */
export interface RawPool {
  readonly kind: number
  readonly operator: string
  readonly createdAt: bigint
  readonly jailed: boolean
  readonly tombstoned: boolean
  readonly jailedUntil: bigint
  readonly commission: bigint
  readonly tokens: bigint
  readonly shares: bigint
  readonly weightedShares: bigint
  readonly delegatorShares: bigint
  readonly weight: bigint
  readonly globalSnapshot: bigint
  readonly rewardAcc: bigint
  readonly rewardCarry: bigint
  readonly insuranceAcc: bigint
  readonly unbondingHead: bigint
  readonly unbondingTail: bigint
}

export interface RawPosition {
  readonly owner: string
  readonly tier: number
  readonly createdAt: bigint
  readonly unlockAt: bigint
  readonly pool: bigint
  readonly multiplier: bigint
  readonly shares: bigint
  readonly weightedShares: bigint
  readonly rewardSnapshot: bigint
  readonly insuranceSnapshot: bigint
}

export interface RawUnbonding {
  readonly owner: string
  readonly startedAt: bigint
  readonly completesAt: bigint
  readonly pool: bigint
  readonly initialAmount: bigint
  readonly amount: bigint
  readonly prev: bigint
  readonly next: bigint
}

export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

type Any = any // ethers Result objects (named tuple fields)

const pick = <K extends string>(r: Any, keys: readonly K[]): Record<K, unknown> => Object.fromEntries(keys.map((k) => [k, r[k]])) as Record<K, unknown>

const POOL_KEYS = [
  "kind", "operator", "createdAt", "jailed", "tombstoned", "jailedUntil", "commission", "tokens", "shares", "weightedShares", "delegatorShares", "weight",
  "globalSnapshot", "rewardAcc", "rewardCarry", "insuranceAcc", "unbondingHead", "unbondingTail",
] as const
const POSITION_KEYS = ["owner", "tier", "createdAt", "unlockAt", "pool", "multiplier", "shares", "weightedShares", "rewardSnapshot", "insuranceSnapshot"] as const
const UNBONDING_KEYS = ["owner", "startedAt", "completesAt", "pool", "initialAmount", "amount", "prev", "next"] as const

const toPool = (r: Any): RawPool => ({ ...pick(r, POOL_KEYS), kind: Number(r.kind) }) as RawPool
const toPosition = (r: Any): RawPosition => ({ ...pick(r, POSITION_KEYS), tier: Number(r.tier) }) as RawPosition
const toUnbonding = (r: Any): RawUnbonding => pick(r, UNBONDING_KEYS) as unknown as RawUnbonding

/** What a contributor's or validator's pool is called in the economy. */
const KIND = ["none", "validator", "contributor"] as const

/** Typed view calls at a block. */
export class StakingReader {
  readonly #staking: Contract
  readonly #token: Contract
  readonly #provider: Provider
  readonly #book: AccountBook
  readonly #fromBlock: number
  readonly #stakingAddress: string
  // Incremental log scan: pools in creation order and their replayed checkpoints.
  #scannedTo = -1
  #scan: Promise<void> = Promise.resolve()
  readonly #pools: bigint[] = []
  readonly #checkpoints = new Map<bigint, Checkpoint[]>()
  readonly #blockTimes = new Map<number, number>()

  constructor(staking: Contract, token: Contract, provider: Provider, book: AccountBook, stakingAddress: string, fromBlock: number) {
    this.#staking = staking
    this.#token = token
    this.#provider = provider
    this.#book = book
    this.#stakingAddress = stakingAddress
    this.#fromBlock = fromBlock
  }

  latest = async (): Promise<BlockTag> => this.#provider.getBlockNumber()

  /** Unix seconds of a block. */
  blockTime = async (block: BlockTag): Promise<number> => {
    const hit = this.#blockTimes.get(block)
    if (hit !== undefined) return hit
    const b = await this.#provider.getBlock(block)
    if (b === null) throw new Error(`block ${block} not found`)
    this.#blockTimes.set(block, b.timestamp)
    return b.timestamp
  }

  pool = async (id: bigint, blockTag: BlockTag): Promise<RawPool> => toPool(await this.#staking.getPool!(id, { blockTag }))
  position = async (id: bigint | number, blockTag: BlockTag): Promise<RawPosition> => toPosition(await this.#staking.getPosition!(id, { blockTag }))
  unbondingEntry = async (id: bigint | number, blockTag: BlockTag): Promise<RawUnbonding> => toUnbonding(await this.#staking.getUnbonding!(id, { blockTag }))
  positionIds = async (owner: string, blockTag: BlockTag): Promise<bigint[]> => [...(await this.#staking.positionsOf!(owner, { blockTag }))].sort(cmp)
  unbondingIds = async (owner: string, blockTag: BlockTag): Promise<bigint[]> => [...(await this.#staking.unbondingOf!(owner, { blockTag }))].sort(cmp)
  owed = async (owner: string, blockTag: BlockTag) => {
    const o = await this.#staking.owedOf!(owner, { blockTag })
    return { rewards: o.rewards as bigint, commission: o.commission as bigint, insurance: o.insurance as bigint }
  }
  rewardAcc = async (blockTag: BlockTag): Promise<{ acc: bigint; totalWeight: bigint }> => {
    const r = await this.#staking.rewardState!({ blockTag })
    return { acc: r.acc, totalWeight: r.totalWeight }
  }
  params = async (blockTag: BlockTag): Promise<RawStakingParams> => rawStakingParams(await this.#staking.params!({ blockTag }))

  /** Where every minted token is, at one block. `balances` = total supply − what the Staking contract holds. */
  supply = async (blockTag: BlockTag): Promise<SupplyBreakdown> => {
    const t = { blockTag }
    const [minted, total, held, bonded, unbonding, rs, ins] = await Promise.all([
      this.#token.TOTAL_SUPPLY!(t), this.#token.totalSupply!(t), this.#token.balanceOf!(this.#stakingAddress, t), this.#staking.totalBonded!(t),
      this.#staking.totalUnbonding!(t), this.#staking.rewardState!(t), this.#staking.insuranceState!(t),
    ]) as [bigint, bigint, bigint, bigint, bigint, { funded: bigint; claimed: bigint }, { available: bigint; credited: bigint }]
    const rewardPool = rs.funded - rs.claimed
    const insurancePool = ins.available + ins.credited
    return { minted, balances: total - held, bonded, unbonding, rewardPool, insurancePool, burnt: minted - total }
  }

  /** Scan new staking logs up to `to` (serialized: concurrent callers wait for one scan). */
  #scanTo = (to: BlockTag): Promise<void> => {
    this.#scan = this.#scan.then(async () => {
      if (to <= this.#scannedTo) return
      const from = Math.max(this.#fromBlock, this.#scannedTo + 1)
      const iface = this.#staking.interface
      const topics = ["Bonded", "Unbonded", "Slashed"].map((n) => iface.getEvent(n)!.topicHash)
      const logs = from > to ? [] : await this.#provider.getLogs({ address: this.#stakingAddress, topics: [topics], fromBlock: from, toBlock: to })
      for (const log of logs) {
        const ev = iface.parseLog(log)
        if (ev === null) continue
        const pool: bigint = ev.args.pool
        const delta: bigint = ev.name === "Bonded" ? ev.args.amount : ev.name === "Unbonded" ? -ev.args.amount : -ev.args.outcome.slashedBonded
        let cps = this.#checkpoints.get(pool)
        if (cps === undefined) {
          cps = []
          this.#checkpoints.set(pool, cps)
          this.#pools.push(pool)
        }
        const time = (await this.blockTime(log.blockNumber)) * 1000
        const last = cps[cps.length - 1]
        const tokens = (last?.tokens ?? 0n) + delta
        if (last !== undefined && last.time === time) last.tokens = tokens
        else cps.push({ time, tokens })
      }
      this.#scannedTo = to
    })
    return this.#scan
  }

  /** Pool ids in creation order, as of `blockTag`. */
  poolIds = async (blockTag: BlockTag): Promise<bigint[]> => {
    await this.#scanTo(blockTag)
    return [...this.#pools]
  }

  /** The economy's view of a pool (checkpoints replayed from logs up to the last scan). */
  poolView = async (id: bigint, blockTag: BlockTag): Promise<PoolView> => {
    await this.#scanTo(blockTag)
    const p = await this.pool(id, blockTag)
    const unbondingIds: number[] = []
    for (let u = p.unbondingHead; u !== 0n; u = (await this.unbondingEntry(u, blockTag)).next) unbondingIds.push(Number(u))
    return {
      id: this.#book.poolName(id), kind: KIND[p.kind] === "contributor" ? "contributor" : "validator", operator: this.#book.accountOf(p.operator),
      commission: p.commission, createdAt: msOf(p.createdAt), tokens: p.tokens, shares: p.shares, weightedShares: p.weightedShares,
      delegatorShares: p.delegatorShares, jailed: p.jailed, jailedUntil: msOf(p.jailedUntil), tombstoned: p.tombstoned, weight: p.weight,
      globalSnapshot: p.globalSnapshot, rewardAcc: p.rewardAcc, rewardCarry: p.rewardCarry, insuranceAcc: p.insuranceAcc,
      checkpoints: (this.#checkpoints.get(id) ?? []).map((c) => ({ ...c })), unbondingIds: unbondingIds.sort((a, b) => a - b),
    }
  }

  positionView = (id: number, pos: RawPosition, pool: RawPool): PositionView => ({
    id, owner: this.#book.accountOf(pos.owner), pool: this.#book.poolName(pos.pool), tier: pos.tier as LockTier, multiplier: pos.multiplier,
    createdAt: msOf(pos.createdAt), unlockAt: msOf(pos.unlockAt), shares: pos.shares, weightedShares: pos.weightedShares,
    rewardSnapshot: pos.rewardSnapshot, insuranceSnapshot: pos.insuranceSnapshot, tokens: pool.shares === 0n ? 0n : (pos.shares * pool.tokens) / pool.shares,
  })

  unbondingView = (id: number, u: RawUnbonding): UnbondingView => ({
    id, owner: this.#book.accountOf(u.owner), pool: this.#book.poolName(u.pool), initialAmount: u.initialAmount, amount: u.amount,
    startedAt: msOf(u.startedAt), completesAt: msOf(u.completesAt),
  })

  /** Positions (of `owner`, or all) with their pools, by id, at one block. */
  positions = async (owner: string | undefined, blockTag: BlockTag): Promise<Array<{ id: number; pos: RawPosition; pool: RawPool }>> => {
    const ids = owner !== undefined
      ? await this.positionIds(owner, blockTag)
      : Array.from({ length: Number(await this.#staking.nextPositionId!({ blockTag })) - 1 }, (_, i) => BigInt(i + 1))
    const rows = await Promise.all(ids.map(async (id) => ({ id: Number(id), pos: await this.position(id, blockTag) })))
    const live = rows.filter((r) => r.pos.owner !== ZERO_ADDRESS)
    const pools = new Map<bigint, Promise<RawPool>>()
    for (const r of live) if (!pools.has(r.pos.pool)) pools.set(r.pos.pool, this.pool(r.pos.pool, blockTag))
    return Promise.all(live.map(async (r) => ({ ...r, pool: await pools.get(r.pos.pool)! })))
  }

  /** Unbonding entries (of `owner`, or all), by id, at one block. */
  unbonding = async (owner: string | undefined, blockTag: BlockTag): Promise<Array<{ id: number; entry: RawUnbonding }>> => {
    const ids = owner !== undefined
      ? await this.unbondingIds(owner, blockTag)
      : Array.from({ length: Number(await this.#staking.nextUnbondingId!({ blockTag })) - 1 }, (_, i) => BigInt(i + 1))
    const rows = await Promise.all(ids.map(async (id) => ({ id: Number(id), entry: await this.unbondingEntry(id, blockTag) })))
    return rows.filter((r) => r.entry.owner !== ZERO_ADDRESS)
  }

  /** What `claimRewards` would pay `owner` at `blockTag`, and what each position would settle. */
  pending = async (owner: string, blockTag: BlockTag): Promise<PendingRewards & { readonly settled: ReadonlyArray<{ position: number; pool: string; reward: bigint; insurance: bigint }> }> => {
    const [owed, global, rows, own] = await Promise.all([
      this.owed(owner, blockTag), this.rewardAcc(blockTag), this.positions(owner, blockTag), this.pool(BigInt(owner), blockTag),
    ])
    let rewards = owed.rewards
    let insurance = owed.insurance
    const settled = rows.map(({ id, pos, pool }) => {
      const reward = (pos.weightedShares * (viewRewardAcc(global.acc, pool) - pos.rewardSnapshot)) / PRECISION
      const ins = pos.owner === pool.operator ? 0n : (pos.shares * (pool.insuranceAcc - pos.insuranceSnapshot)) / PRECISION
      rewards += reward
      insurance += ins
      return { position: id, pool: this.#book.poolName(pos.pool), reward, insurance: ins }
    })
    const commission = owed.commission + (own.kind !== 0 && own.operator === owner ? mulWad(globalPending(global.acc, own), own.commission) : 0n)
    return { rewards, commission, insurance, total: rewards + commission + insurance, settled }
  }
}

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0)

/** A pool's global rewards not yet settled (rewards.ts `poolGlobalPending`). */
const globalPending = (acc: bigint, p: RawPool): bigint => (p.weight * (acc - p.globalSnapshot)) / PRECISION

/** The pool's `rewardAcc` as it would be after a settlement now (rewards.ts `viewRewardAcc`). */
const viewRewardAcc = (acc: bigint, p: RawPool): bigint => {
  const due = globalPending(acc, p)
  if (due === 0n || p.weightedShares === 0n) return p.rewardAcc
  const total = due - mulWad(due, p.commission) + p.rewardCarry
  return p.rewardAcc + (total * PRECISION) / p.weightedShares
}

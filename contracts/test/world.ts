/**
 * Two worlds side by side: the TypeScript `Economy` and the DAIToken + Staking contracts on Hardhat's
 * in-process chain, driven by the same operations at the same times (chain seconds × 1000 = economy
 * ms). `step` applies one operation to both and reports how each ended; `diff` reads the whole state
 * of both and returns the first differing field (or undefined).
 */
import { Result } from "effect"
import { isDeepStrictEqual } from "node:util"
import { Economy } from "../../runtime/core/econ/economy.ts"
import type { EconOp } from "../../runtime/core/econ/ops.ts"
import { FOREVER } from "../../runtime/core/econ/slashing.ts"
import { ACTORS, testAllocations } from "../../runtime/core/econ/testkit.ts"
import { CONTRIBUTOR_PREFIX } from "../../runtime/core/econ/state.ts"
import type { Params } from "../../runtime/core/params.ts"
import { TOTAL_SUPPLY } from "../../runtime/core/units.ts"
import { encodeStakingParams } from "../../runtime/adapters/evm/staking-params.ts"
import { constitutionArgs } from "../deploy/constitution-table.ts"
import { CONSENSUS_CHAIN_ID } from "./chain.ts"

type Any = any // ethers contracts from hardhat-ethers are untyped here (no typechain)

export const MAX_UINT = (1n << 256n) - 1n
const CONTRIBUTOR_FLAG = 1n << 160n
/** Staking.Infraction.Downtime. */
const DOWNTIME = 1

/** A slash as the differential test generates it (resolved against both worlds in `step`). */
export type SlashSpec = { readonly pool: string; readonly infraction: "doubleSign" | "downtime"; readonly agoSec: number; readonly evidenceId: string }

export type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: string }

/** What one world did with an op: success, an error name, or "skipped" (not representable there). */
export interface StepResult {
  readonly ts: Outcome | "skipped"
  readonly chain: Outcome | "skipped"
  readonly op: string
}

/** Chain error names that are the same refusal as a differently named TS error. */
const SAME_ERROR: Record<string, string> = {
  ERC20InsufficientBalance: "TokenInsufficientBalance",
}

export interface WorldParts {
  readonly ethers: Any
  readonly token: Any
  readonly staking: Any
  /** The Constitution whose bounds Staking checks (governance: the admin). */
  readonly constitution: Any
  readonly admin: Any
  readonly signer: Readonly<Record<string, Any>>
  readonly keys: Readonly<Record<string, Any>>
  /** An address that never holds a pool. */
  readonly nobody: string
}

export class World {
  readonly econ: Economy
  nowSec: bigint
  readonly ethers: Any
  readonly token: Any
  readonly staking: Any
  readonly admin: Any
  readonly signer: Readonly<Record<string, Any>>
  readonly keys: Readonly<Record<string, Any>>
  readonly nobody: string
  readonly parts: WorldParts

  private constructor(parts: WorldParts, econ: Economy, nowSec: bigint) {
    this.parts = parts
    this.ethers = parts.ethers
    this.token = parts.token
    this.staking = parts.staking
    this.admin = parts.admin
    this.signer = parts.signer
    this.keys = parts.keys
    this.nobody = parts.nobody
    this.econ = econ
    this.nowSec = nowSec
  }

  /** Deploy token + staking with the test genesis (testkit's allocations, actors = signers 1..9). */
  static async deploy(ethers: Any, params: Params): Promise<World> {
    const all = await ethers.getSigners()
    const admin = all[0]
    const signer: Record<string, Any> = {}
    const keys: Record<string, Any> = {}
    ACTORS.forEach((a, i) => {
      signer[a] = all[i + 1]
      keys[a] = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`dai-test-signing-key:${a}`)))
    })
    const allocs = testAllocations()
    const latest = BigInt((await ethers.provider.getBlock("latest")).timestamp)
    const token = await ethers.deployContract("DAIToken", [
      allocs.map((a) => signer[a.address].address), allocs.map((a) => a.amount), admin.address, latest + 86_400n * 100n, admin.address,
    ])
    const constitution = await ethers.deployContract("Constitution", constitutionArgs(admin.address))
    const staking = await ethers.deployContract("Staking", [await token.getAddress(), encodeStakingParams(params), CONSENSUS_CHAIN_ID, await constitution.getAddress(), admin.address])
    // The admin stands in for the Committee contract: it slashes downtime as a verified epoch report would.
    await (await staking.grantRole(await staking.COMMITTEE_ROLE(), admin.address)).wait()
    await (await staking.grantRole(await staking.PARAMS_ROLE(), admin.address)).wait()
    const at = await staking.getAddress()
    for (const a of ACTORS) await (await token.connect(signer[a]).approve(at, MAX_UINT)).wait()
    const now = BigInt((await ethers.provider.getBlock("latest")).timestamp) + 1n
    const econ = Result.getOrThrow(Economy.genesis(allocs, params, Number(now) * 1000))
    const nobody = ethers.Wallet.createRandom().address
    return new World({ ethers, token, staking, constitution, admin, signer, keys, nobody }, econ, now)
  }

  /** Same contracts, a new economy (after an `evm_revert` to the deployment snapshot), new params. */
  async reset(params: Params): Promise<World> {
    const now = BigInt((await this.ethers.provider.getBlock("latest")).timestamp) + 1n
    await this.ethers.provider.send("evm_setNextBlockTimestamp", [Number(now)])
    await (await this.staking.connect(this.admin).setParams(encodeStakingParams(params))).wait()
    const econ = Result.getOrThrow(Economy.genesis(testAllocations(), params, Number(now) * 1000))
    return new World(this.parts, econ, now)
  }

  addr(actor: string): string {
    const s = this.signer[actor]
    if (s === undefined) throw new Error(`no signer for actor ${JSON.stringify(actor)}`)
    return s.address
  }

  /** The contract pool id of an economy pool id ("v0", "contrib:c0", anything else → an empty address). */
  poolIdOf(pool: string): bigint {
    if (pool.startsWith(CONTRIBUTOR_PREFIX)) {
      const owner = pool.slice(CONTRIBUTOR_PREFIX.length)
      return CONTRIBUTOR_FLAG | BigInt(this.signer[owner]?.address ?? this.nobody)
    }
    return BigInt(this.signer[pool]?.address ?? this.nobody)
  }

  /** The economy pool id of a contract pool id. */
  poolName(id: bigint): string {
    const address = this.ethers.getAddress(`0x${(id & ((1n << 160n) - 1n)).toString(16).padStart(40, "0")}`)
    const actor = ACTORS.find((a) => this.signer[a].address === address) ?? address
    return (id & CONTRIBUTOR_FLAG) !== 0n ? CONTRIBUTOR_PREFIX + actor : actor
  }

  actorOf(address: string): string {
    return ACTORS.find((a) => this.signer[a].address === address) ?? address
  }

  /** Two conflicting votes of `actor`'s signing key (`same` = not conflicting: the same block). */
  votes(actor: string, height: bigint, same = false): [Any, Any] {
    const key = this.keys[actor]
    const vote = (blockHash: string) => {
      const digest = this.ethers.solidityPackedKeccak256(
        ["string", "uint256", "uint256", "uint256", "uint8", "bytes32"], ["dai/vote/v1", CONSENSUS_CHAIN_ID, height, 0n, 1, blockHash],
      )
      return { chainId: CONSENSUS_CHAIN_ID, height, round: 0n, voteType: 1, blockHash, signature: key.signingKey.sign(digest).serialized }
    }
    return [vote(this.ethers.id("block-a")), vote(this.ethers.id(same ? "block-a" : "block-b"))]
  }

  /** The contract's evidence id of a double sign by `actor` at `height` (round 0, type 1). */
  doubleSignEvidenceId(actor: string, height: bigint): string {
    return this.ethers.keccak256(this.ethers.AbiCoder.defaultAbiCoder().encode(
      ["address", "uint256", "uint256", "uint256", "uint8"], [this.keys[actor].address, CONSENSUS_CHAIN_ID, height, 0n, 1],
    ))
  }

  /** Send a transaction in a block at `nowSec`; a revert becomes its error name (decoded by the staking, token or `more` interfaces). */
  async send(f: () => Promise<Any>, more: readonly Any[] = []): Promise<Outcome> {
    await this.ethers.provider.send("evm_setNextBlockTimestamp", [Number(this.nowSec)])
    try {
      await (await f()).wait()
      return { ok: true }
    } catch (e) {
      const data = (e as { data?: string }).data
      const parsed = data === undefined ? null : [this.staking, this.token, ...more].reduce<Any>((found, c) => found ?? c.interface.parseError(data), null)
      if (parsed === null) throw e
      return { ok: false, error: SAME_ERROR[parsed.name] ?? parsed.name }
    }
  }

  private tsApply(op: EconOp): Outcome {
    const r = this.econ.apply(op, Number(this.nowSec) * 1000)
    return Result.isSuccess(r) ? { ok: true } : { ok: false, error: r.failure._tag }
  }

  /** Advance time by `dtSec` and apply `op` (or a slash spec) to both worlds. */
  async step(dtSec: bigint, op: EconOp | ({ type: "slashSpec" } & SlashSpec)): Promise<StepResult> {
    this.nowSec += dtSec
    const nowMs = Number(this.nowSec) * 1000
    const known = (a: string) => this.signer[a] !== undefined
    const amt = (x: bigint) => (x < 0n ? 0n : x)
    const st = this.staking
    const as = (a: string) => st.connect(this.signer[a])
    const name = JSON.stringify(op, (_, v) => (typeof v === "bigint" ? v.toString() : v))
    const skipped: StepResult = { ts: "skipped", chain: "skipped", op: name }
    switch (op.type) {
      case "transfer":
      case "burn": {
        const from = op.from
        const to = op.type === "transfer" ? op.to : from
        if (!known(from) || !known(to)) return skipped
        const ts = this.tsApply(op)
        // ERC-20 accepts zero amounts (a no-op); the economy refuses them: nothing changes either way.
        if (op.amount <= 0n) return { ts, chain: "skipped", op: name }
        const tok = this.token.connect(this.signer[from])
        const chain = await this.send(() => (op.type === "transfer" ? tok.transfer(this.addr(to), op.amount) : tok.burn(op.amount)))
        return { ts, chain, op: name }
      }
      case "registerValidator": {
        if (!known(op.operator)) return skipped
        const commission = op.commission < 0n ? MAX_UINT : op.commission
        const chain = await this.send(() => as(op.operator).registerValidator(amt(op.amount), op.tier, commission, this.keys[op.operator].address))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "bondContributor": {
        if (!known(op.owner)) return skipped
        const chain = await this.send(() => as(op.owner).bondContributor(amt(op.amount), op.tier))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "delegate": {
        if (!known(op.owner)) return skipped
        const chain = await this.send(() => as(op.owner).delegate(this.poolIdOf(op.validator), amt(op.amount), op.tier))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "unbond": {
        if (!known(op.owner)) return skipped
        const chain = await this.send(() => as(op.owner).unbond(op.position, amt(op.amount)))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "withdraw":
      case "claimRewards":
      case "unjail": {
        const who = op.type === "unjail" ? op.operator : op.owner
        if (!known(who)) return skipped
        const chain = await this.send(() => (op.type === "withdraw" ? as(who).withdraw() : op.type === "claimRewards" ? as(who).claimRewards() : as(who).unjail()))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "payFee":
      case "fundRewards": {
        const who = op.type === "payFee" ? op.payer : op.from
        if (!known(who)) return skipped
        const chain = await this.send(() => (op.type === "payFee" ? as(who).payFee(amt(op.amount)) : as(who).fundRewards(amt(op.amount))))
        return { ts: this.tsApply(op), chain, op: name }
      }
      case "slashSpec": {
        const pool = this.econ.pool(op.pool)
        // Double signing is proved by two signed votes of a registered validator, at submission time.
        if (op.infraction === "doubleSign" && pool !== undefined && pool.kind === "validator" && known(op.pool)) {
          const height = BigInt(Number(op.evidenceId.replace(/^e/, "") || "0"))
          const [a, b] = this.votes(op.pool, height, op.evidenceId === "")
          const evidenceId = op.evidenceId === "" ? "" : this.doubleSignEvidenceId(op.pool, height)
          const chain = await this.send(() => st.connect(this.admin).slashDoubleSign(a, b))
          const ts = this.tsApply({ type: "slash", pool: op.pool, infraction: "doubleSign", infractionTime: nowMs, evidenceId })
          return { ts, chain, op: `${name} (double sign at height ${height})` }
        }
        // Everything else is reported as downtime (a double sign of a contributor or unknown pool has no votes to prove it).
        const infractionTime = Number(this.nowSec) - op.agoSec
        const evidence = op.evidenceId === "" ? this.ethers.ZeroHash : this.ethers.id(op.evidenceId)
        const chain = await this.send(() => st.connect(this.admin).committeeSlash(this.poolIdOf(op.pool), DOWNTIME, BigInt(Math.max(0, infractionTime)), evidence))
        const ts = this.tsApply({
          type: "slash", pool: op.pool, infraction: "downtime", infractionTime: infractionTime * 1000,
          evidenceId: op.evidenceId === "" ? "" : `downtime:${op.evidenceId}`,
        })
        return { ts, chain, op: `${name} (downtime at ${infractionTime})` }
      }
    }
    throw new Error(`unknown op ${name}`)
  }

  // ---------------------------------------------------------------- comparison

  /** Both worlds' state in one comparable shape: [economy, chain]. */
  async views(): Promise<[Record<string, unknown>, Record<string, unknown>]> {
    const e = this.econ
    const snap = e.snapshot()
    const st = this.staking
    const ms = (s: bigint) => Number(s) * 1000
    const jail = (t: number | bigint, tomb: boolean) => (tomb ? (typeof t === "number" ? (t === FOREVER ? "forever" : t) : t === (1n << 64n) - 1n ? "forever" : ms(t)) : typeof t === "number" ? t : ms(t))

    const ts: Record<string, unknown> = {}
    const ch: Record<string, unknown> = {}
    const nextPos = await st.nextPositionId()
    const nextUnb = await st.nextUnbondingId()
    const [rs, ins, bonded, unbonding, supply, stakingBalance] = await Promise.all([
      st.rewardState(), st.insuranceState(), st.totalBonded(), st.totalUnbonding(), this.token.totalSupply(), this.token.balanceOf(await st.getAddress()),
    ])
    const sup = e.supply()
    ts.globals = {
      nextPositionId: BigInt(snap.nextPositionId), nextUnbondingId: BigInt(snap.nextUnbondingId), totalBonded: snap.totalBonded, totalUnbonding: snap.totalUnbonding,
      burnt: snap.burnt, rewards: { ...snap.rewards }, insurance: { ...snap.insurance },
      stakingHolds: sup.bonded + sup.unbonding + sup.rewardPool + sup.insurancePool, totalBalances: snap.totalBalances,
    }
    const balances = await Promise.all(ACTORS.map((a) => this.token.balanceOf(this.addr(a))))
    ch.globals = {
      nextPositionId: nextPos, nextUnbondingId: nextUnb, totalBonded: bonded, totalUnbonding: unbonding, burnt: TOTAL_SUPPLY - supply,
      rewards: { acc: rs.acc, totalWeight: rs.totalWeight, carried: rs.carried, funded: rs.funded, claimed: rs.claimed },
      insurance: { available: ins.available, credited: ins.credited, paidIn: ins.paidIn, paidOut: ins.paidOut, claimed: ins.claimed },
      stakingHolds: stakingBalance, totalBalances: balances.reduce((x: bigint, y: bigint) => x + y, 0n),
    }

    const actorViews = await Promise.all(ACTORS.map(async (a, i) => {
      const [o, pos, unb] = await Promise.all([st.owedOf(this.addr(a)), st.positionsOf(this.addr(a)), st.unbondingOf(this.addr(a))])
      return {
        balance: balances[i],
        owed: { rewards: o.rewards, commission: o.commission, insurance: o.insurance },
        positions: [...pos].map(Number).sort((x, y) => x - y),
        unbonding: [...unb].map(Number).sort((x, y) => x - y),
      }
    }))
    ts.actors = Object.fromEntries(ACTORS.map((a) => {
      const o = snap.owed[a] ?? { rewards: 0n, commission: 0n, insurance: 0n }
      return [a, {
        balance: snap.balances[a] ?? 0n,
        owed: { rewards: o.rewards, commission: o.commission, insurance: o.insurance },
        positions: [...(snap.positionsByOwner[a] ?? [])],
        unbonding: [...(snap.unbondingByOwner[a] ?? [])],
      }]
    }))
    ch.actors = Object.fromEntries(ACTORS.map((a, i) => [a, actorViews[i]]))

    const poolIds = Object.keys(snap.pools)
    ts.pools = Object.fromEntries(poolIds.map((id) => {
      const p = snap.pools[id]!
      const last = p.checkpoints[p.checkpoints.length - 1]
      return [id, {
        kind: p.kind, operator: p.operator, commission: p.commission, createdAt: p.createdAt, tokens: p.tokens, shares: p.shares,
        weightedShares: p.weightedShares, delegatorShares: p.delegatorShares, jailed: p.jailed, jailedUntil: jail(p.jailedUntil, p.tombstoned),
        tombstoned: p.tombstoned, weight: p.weight, globalSnapshot: p.globalSnapshot, rewardAcc: p.rewardAcc, rewardCarry: p.rewardCarry,
        insuranceAcc: p.insuranceAcc, checkpoints: p.checkpoints.length, lastCheckpointTokens: last?.tokens ?? 0n,
        unbondingIds: [...p.unbondingIds],
      }]
    }))
    ch.pools = Object.fromEntries(await Promise.all(poolIds.map(async (id) => {
      const pid = this.poolIdOf(id)
      const [p, count, latest] = await Promise.all([st.getPool(pid), st.checkpointCount(pid), st.tokensAt(pid, this.nowSec + 1_000_000n)])
      // Walk the pool's unbonding list (creation order).
      const ids: number[] = []
      for (let u = p.unbondingHead; u !== 0n; u = (await st.getUnbonding(u)).next) ids.push(Number(u))
      return [id, {
        kind: ["none", "validator", "contributor"][Number(p.kind)], operator: this.actorOf(p.operator), commission: p.commission, createdAt: ms(p.createdAt),
        tokens: p.tokens, shares: p.shares, weightedShares: p.weightedShares, delegatorShares: p.delegatorShares, jailed: p.jailed,
        jailedUntil: jail(p.jailedUntil, p.tombstoned), tombstoned: p.tombstoned, weight: p.weight, globalSnapshot: p.globalSnapshot,
        rewardAcc: p.rewardAcc, rewardCarry: p.rewardCarry, insuranceAcc: p.insuranceAcc, checkpoints: Number(count), lastCheckpointTokens: latest,
        unbondingIds: ids,
      }]
    })))

    const posIds = Array.from({ length: Number(nextPos) - 1 }, (_, i) => i + 1)
    ts.positions = Object.fromEntries(posIds.map((id) => {
      const p = snap.positions[String(id)]
      return [id, p === undefined ? null : {
        owner: p.owner, pool: p.pool, tier: p.tier, multiplier: p.multiplier, createdAt: p.createdAt, unlockAt: p.unlockAt,
        shares: p.shares, weightedShares: p.weightedShares, rewardSnapshot: p.rewardSnapshot, insuranceSnapshot: p.insuranceSnapshot,
      }]
    }))
    ch.positions = Object.fromEntries(await Promise.all(posIds.map(async (id) => {
      const p = await st.getPosition(id)
      return [id, p.owner === this.ethers.ZeroAddress ? null : {
        owner: this.actorOf(p.owner), pool: this.poolName(p.pool), tier: Number(p.tier), multiplier: p.multiplier, createdAt: ms(p.createdAt),
        unlockAt: ms(p.unlockAt), shares: p.shares, weightedShares: p.weightedShares, rewardSnapshot: p.rewardSnapshot, insuranceSnapshot: p.insuranceSnapshot,
      }]
    })))

    const unbIds = Array.from({ length: Number(nextUnb) - 1 }, (_, i) => i + 1)
    ts.unbonding = Object.fromEntries(unbIds.map((id) => {
      const u = snap.unbonding[String(id)]
      return [id, u === undefined ? null : { owner: u.owner, pool: u.pool, initialAmount: u.initialAmount, amount: u.amount, startedAt: u.startedAt, completesAt: u.completesAt }]
    }))
    ch.unbonding = Object.fromEntries(await Promise.all(unbIds.map(async (id) => {
      const u = await st.getUnbonding(id)
      return [id, u.owner === this.ethers.ZeroAddress ? null : {
        owner: this.actorOf(u.owner), pool: this.poolName(u.pool), initialAmount: u.initialAmount, amount: u.amount, startedAt: ms(u.startedAt), completesAt: ms(u.completesAt),
      }]
    })))
    return [ts, ch]
  }

  /** The first field where the two worlds differ, as "path: economy=… contract=…", or undefined. */
  async diff(): Promise<string | undefined> {
    const [ts, ch] = await this.views()
    return firstDifference(ts, ch, "")
  }
}

const show = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x))

/** The first path at which `a` and `b` differ. */
export const firstDifference = (a: unknown, b: unknown, path: string): string | undefined => {
  if (isDeepStrictEqual(a, b)) return undefined
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
      if (d !== undefined) return d
    }
  }
  return `${path}: economy=${show(a)} contract=${show(b)}`
}

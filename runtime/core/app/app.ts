/**
 * The application state machine that consensus replicates: every node executes the same committed
 * blocks over its own copy of the economy and reaches the same app hash.
 *
 * Transactions (JSON objects tagged by `type`):
 *  - `last-commit`: the precommits that decided the parent block (first tx of every block above 1).
 *    The app checks them and counts who signed, for downtime slashing over `slashing.downtimeWindow`.
 *  - `evidence`: two conflicting votes of one validator; the app verifies them and slashes the
 *    validator for double signing (and tombstones it).
 * Execution is deferred as in CometBFT: block h carries the app hash after block h−1.
 *
 * The validator set changes at epoch boundaries (heights h with (h − 1) % epochLength = 0), except
 * that a validator jailed or tombstoned leaves the set at the next height: keeping a known
 * misbehaver's power until the epoch ends would only help an attacker.
 */
import { Result } from "effect"
import { fromHex, keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import { blockHash as hashBlock } from "../consensus/block.ts"
import { verifyEvidence } from "../consensus/evidence.ts"
import { voteDigest } from "../consensus/signing.ts"
import type { ValidatorSet } from "../consensus/validator-set.ts"
import { ZERO_HASH, type AppTx, type Block, type DuplicateVoteEvidence, type Hash, type Vote } from "../consensus/types.ts"
import { Economy, type Allocation, type EconError, type LockTier, type Receipt, type SlashReceipt } from "../econ/index.ts"
import type { Params } from "../params.ts"
import { WAD } from "../units.ts"
import { powerParams, validatorSetFromCandidates, type Candidate } from "../consensus/power.ts"
import { DowntimeTracker } from "./downtime.ts"

/** The signature scheme's check: true when `signature` over `digest` is `address`'s. */
export type Verifier = (address: string, digest: Uint8Array, signature: Uint8Array) => boolean

export interface GenesisValidator {
  /** Account id of the operator in the economy ("v0"). */
  readonly operator: string
  /** Consensus signing address (0x…). */
  readonly address: string
  readonly amount: bigint
  readonly tier: LockTier
  readonly commission: bigint
}

export interface AppGenesis {
  readonly chainId: number
  readonly params: Params
  readonly allocations: readonly Allocation[]
  readonly validators: readonly GenesisValidator[]
  readonly time: number
}

export type TxResult =
  | { readonly ok: true; readonly type: string; readonly receipts: readonly Receipt[] }
  | { readonly ok: false; readonly type: string; readonly error: string }

export interface Execution {
  readonly height: number
  readonly appHash: Hash
  readonly results: readonly TxResult[]
  readonly slashes: readonly SlashReceipt[]
}

export class AppError extends Error {
  override readonly name = "AppError"
}

const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))

export class App {
  readonly chainId: number
  readonly economy: Economy
  readonly #verify: Verifier
  readonly #operatorOf = new Map<string, string>()
  readonly #addressOf = new Map<string, string>()
  /** Validator sets by the height they start at, newest last. */
  readonly #sets: ValidatorSet[] = []
  /** Block time by height (the slash base of an infraction at that height). */
  readonly #times: number[] = []
  readonly #downtime: DowntimeTracker
  #height = 0
  #appHash: Hash
  #lastBlockHash: Hash = ZERO_HASH
  #lastTime: number
  #setDirty = false

  private constructor(g: AppGenesis, economy: Economy, verify: Verifier) {
    this.chainId = g.chainId
    this.economy = economy
    this.#verify = verify
    this.#lastTime = g.time
    this.#downtime = new DowntimeTracker(g.params["slashing.downtimeWindow"])
    for (const v of g.validators) {
      this.#operatorOf.set(v.address, v.operator)
      this.#addressOf.set(v.operator, v.address)
    }
    this.#sets.push(this.#computeSet(1))
    this.#appHash = toHex(keccak256(utf8ToBytes(`dai/app/genesis/${g.chainId}/${json(economy.supply())}/${this.#sets[0]!.hash()}`)))
  }

  /** The economy at genesis with every genesis validator registered. */
  static genesis(g: AppGenesis, verify: Verifier): App {
    const economy = Result.getOrThrow(Economy.genesis(g.allocations, g.params, g.time))
    for (const v of g.validators) {
      const r = economy.apply({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission }, g.time)
      if (Result.isFailure(r)) throw new AppError(`genesis validator ${v.operator}: ${r.failure.message}`)
    }
    return new App(g, economy, verify)
  }

  /** Height of the last executed block (0 before the first). */
  get height(): number {
    return this.#height
  }
  /** App hash after the last executed block: what the next block must carry. */
  get appHash(): Hash {
    return this.#appHash
  }
  get lastBlockHash(): Hash {
    return this.#lastBlockHash
  }
  get lastTime(): number {
    return this.#lastTime
  }

  operatorOf(address: string): string | undefined {
    return this.#operatorOf.get(address)
  }
  addressOf(operator: string): string | undefined {
    return this.#addressOf.get(operator)
  }

  /** The validator set of `height` (any height from 1 up to the next one to execute). */
  validatorSet(height: number = this.#height + 1): ValidatorSet {
    if (height > this.#height + 1) throw new AppError(`validator set of height ${height} is not known yet (executed up to ${this.#height})`)
    for (let i = this.#sets.length - 1; i >= 0; i--) if (this.#sets[i]!.startHeight <= height) return this.#sets[i]!
    return this.#sets[0]!
  }

  /**
   * The set from the active validator pools: stake × average lock multiplier of the pool, mixed
   * with contribution and capped per validator by the voting-power formula (consensus/power.ts).
   */
  #computeSet(startHeight: number): ValidatorSet {
    const candidates: Candidate[] = []
    for (const p of this.economy.pools()) {
      const address = this.#addressOf.get(p.operator)
      if (p.kind !== "validator" || address === undefined || p.jailed || p.tombstoned || p.shares === 0n) continue
      candidates.push({ address, stake: p.tokens, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: 0n })
    }
    return validatorSetFromCandidates(candidates, powerParams(this.economy.params), startHeight)
  }

  /** Why `block` cannot be the next block, or undefined when it can (what a validator checks before voting for it). */
  checkBlock(block: Block): string | undefined {
    const next = this.#height + 1
    if (block.height !== next) return `height ${block.height}, expected ${next}`
    if (block.parentHash !== this.#lastBlockHash) return "parent hash is not the last committed block"
    if (block.appHash !== this.#appHash) return "app hash differs from this node's state"
    if (!Number.isSafeInteger(block.time) || block.time < this.#lastTime) return `time ${block.time} is before the parent's ${this.#lastTime}`
    if (!this.validatorSet(next).has(block.proposer)) return `proposer ${block.proposer} is not a validator`
    const [first, ...rest] = block.txs
    if (next > 1) {
      if (first === undefined || first.type !== "last-commit") return "the first tx must be the parent's last-commit"
      const why = this.#checkLastCommit(first)
      if (why !== undefined) return `last-commit: ${why}`
    }
    for (const tx of next > 1 ? rest : block.txs) {
      if (tx.type === "evidence") continue
      return `unknown tx type "${tx.type}"`
    }
    return undefined
  }

  #checkLastCommit(tx: AppTx): string | undefined {
    const height = tx.height
    const precommits = tx.precommits as unknown as readonly Vote[] | undefined
    if (height !== this.#height) return `for height ${String(height)}, expected ${this.#height}`
    if (!Array.isArray(precommits) || precommits.length === 0) return "no precommits"
    const set = this.validatorSet(this.#height)
    const round = precommits[0]!.round
    const seen = new Set<string>()
    let power = 0n
    for (const v of precommits) {
      if (v.type !== "precommit" || v.height !== height || v.round !== round || v.blockHash !== this.#lastBlockHash) return "a precommit is not for the parent block"
      if (seen.has(v.validator)) return `validator ${v.validator} appears twice`
      if (!set.has(v.validator)) return `${v.validator} is not a validator of height ${height}`
      if (!this.#verify(v.validator, voteDigest(this.chainId, "precommit", v.height, v.round, v.blockHash), fromHex(v.signature))) {
        return `bad signature of ${v.validator}`
      }
      seen.add(v.validator)
      power += set.power(v.validator)
    }
    return power >= set.quorum ? undefined : `precommits hold ${power} of ${set.totalPower} power, need ${set.quorum}`
  }

  /** Execute a committed block (it passed `checkBlock` on +2/3 of the power). */
  execute(block: Block): Execution {
    const why = this.checkBlock(block)
    if (why !== undefined) throw new AppError(`cannot execute block ${block.height}: ${why}`)
    const results: TxResult[] = []
    const slashes: SlashReceipt[] = []
    const params = this.economy.params
    this.#times[block.height] = block.time
    const txs = block.height > 1 ? block.txs.slice(1) : block.txs
    if (block.height > 1) {
      const signers = new Set((block.txs[0]!.precommits as unknown as Vote[]).map((v) => v.validator))
      this.#downtime.setWindow(params["slashing.downtimeWindow"])
      this.#downtime.observe(this.validatorSet(block.height - 1).validators.map((v) => v.address), signers)
      results.push({ ok: true, type: "last-commit", receipts: [] })
    }
    for (const tx of txs) {
      const r = this.#executeEvidence(tx as unknown as DuplicateVoteEvidence & AppTx, block.time)
      results.push(r)
      if (r.ok) for (const x of r.receipts) if (x.type === "slash") slashes.push(x)
    }
    for (const address of this.#downtime.offenders(params["slashing.minSignedPerWindow"])) {
      const operator = this.#operatorOf.get(address)!
      this.#downtime.reset(address)
      const r = this.economy.apply({ type: "slash", pool: operator, infraction: "downtime", infractionTime: block.time, evidenceId: `downtime/${operator}/${block.height}` }, block.time)
      if (Result.isSuccess(r) && r.success.type === "slash") {
        slashes.push(r.success)
        results.push({ ok: true, type: "downtime", receipts: [r.success] })
      }
    }
    if (slashes.length > 0) this.#setDirty = true

    const hash = hashBlock(block)
    this.#appHash = toHex(keccak256(utf8ToBytes(`${this.#appHash}/${hash}/${json(results)}/${json(this.economy.supply())}`)))
    this.#lastBlockHash = hash
    this.#lastTime = block.time
    this.#height = block.height
    const next = block.height + 1
    if (this.#setDirty || (next - 1) % params["consensus.epochLength"] === 0) {
      this.#sets.push(this.#computeSet(next))
      this.#setDirty = false
    }
    return { height: block.height, appHash: this.#appHash, results, slashes }
  }

  #executeEvidence(tx: DuplicateVoteEvidence & AppTx, time: number): TxResult {
    const { voteA } = tx
    if (voteA === undefined || tx.voteB === undefined) return { ok: false, type: "evidence", error: "evidence needs voteA and voteB" }
    if (!Number.isSafeInteger(voteA.height) || voteA.height < 1 || voteA.height > this.#height + 1) {
      return { ok: false, type: "evidence", error: `evidence height ${String(voteA.height)} is not a known height` }
    }
    const check = verifyEvidence(tx, this.chainId, this.validatorSet(voteA.height), this.#verify)
    if (!check.valid) return { ok: false, type: "evidence", error: check.reason }
    const operator = this.#operatorOf.get(voteA.validator)!
    const r = this.economy.apply({
      type: "slash", pool: operator, infraction: "doubleSign", infractionTime: this.#times[voteA.height] ?? time,
      evidenceId: `double-sign/${voteA.validator}/${voteA.height}/${voteA.round}/${voteA.type}`,
    }, time)
    if (Result.isFailure(r)) return { ok: false, type: "evidence", error: (r.failure as EconError).message }
    return { ok: true, type: "evidence", receipts: [r.success] }
  }
}

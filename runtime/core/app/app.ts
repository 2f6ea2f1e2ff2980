/**
 * The application state machine that consensus replicates: every node executes the same committed
 * blocks over its own copy of the economy and reaches the same app hash.
 *
 * Transactions (JSON objects tagged by `type`):
 *  - `last-commit`: the precommits that decided the parent block (first tx of every block above 1).
 *    The app checks them and counts who signed, for downtime slashing over `slashing.downtimeWindow`.
 *  - `evidence`: two conflicting votes of one validator; the app verifies them and slashes the
 *    validator for double signing (and tombstones it).
 *  - `stake`, `score-commit`, `score-reveal`: signed by an account (txs.ts). A stake operation runs on
 *    the economy for the signer's account (a validator's signing address acts for its operator id).
 *    Contribution scores are committed in an epoch and revealed in the next; a revealed score counts
 *    in the voting power of the validator set two epochs after the one it was committed in.
 *  - `round-result`, `round-scores`: signed by the validator that coordinated a training round. The
 *    result records the round's model hash, test accuracy, participants and a commitment to their
 *    contribution scores; the scores are revealed in a later block and must match it (so nobody can
 *    fit scores to what others revealed). Revealed round scores add up per account in the epoch the
 *    result was committed in and count in voting power like the scores above, and they are paid:
 *    `rewards.contributorShare` of every block's emission is set aside in a contributors' pot (it
 *    stays in the reserve), and each reveal pays the whole pot to the round's scored accounts pro
 *    rata of score (econ/contributions.ts; what rounding leaves waits for the next reveal).
 * A block whose signed transactions do not decode, are badly signed or skip a nonce is invalid; a
 * valid transaction whose rule refuses it (too little balance, say) is recorded as failed and still
 * uses its nonce, as a reverted transaction does.
 * Execution is deferred as in CometBFT: block h carries the app hash after block h−1.
 * Each transaction type has its executor (tx/, dispatched by the table in tx/table.ts); the training
 * records and scores live in their own ledger (training-ledger.ts).
 *
 * The validator set changes at epoch boundaries (heights h with (h − 1) % epochLength = 0), except
 * that a validator jailed or tombstoned leaves the set at the next height: keeping a known
 * misbehaver's power until the epoch ends would only help an attacker.
 */
import { Result, Schema } from "effect"
import { fromHex, keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import { blockHash as hashBlock } from "../consensus/block.ts"
import { voteDigest } from "../consensus/signing.ts"
import type { ValidatorSet } from "../consensus/validator-set.ts"
import { ZERO_HASH, type AppTx, type Block, type Hash, type Vote } from "../consensus/types.ts"
import { econConfig, Economy, emissionFor, type Allocation, type LockTier, type SlashReceipt } from "../econ/index.ts"
import type { Params } from "../params.ts"
import { mulWad, WAD } from "../units.ts"
import { powerParams, validatorSetFromCandidates, type Candidate } from "../consensus/power.ts"
import { DowntimeTracker } from "./downtime.ts"
import { TrainingLedger, type RoundRecord } from "./training-ledger.ts"
import type { TxContext, TxResult, TxState, Verifier } from "./tx/context.ts"
import type { EvidenceTx } from "./tx/evidence.ts"
import type { LastCommitTx } from "./tx/last-commit.ts"
import { executeTx, isSignedType } from "./tx/table.ts"
import { decodeTx, txDigest } from "./txs.ts"

export type { TxResult, Verifier } from "./tx/context.ts"
export type { RoundRecord } from "./training-ledger.ts"

export interface GenesisValidator {
  /** Account id of the operator in the economy ("v0"). */
  readonly operator: string
  /** Consensus signing address (0x…). */
  readonly address: string
  readonly amount: bigint
  readonly tier: LockTier
  readonly commission: bigint
}

/** A contributor (trainer) bonded at genesis in its own contributor pool. */
export interface GenesisContributor {
  readonly owner: string
  readonly amount: bigint
  readonly tier: LockTier
  /** The key it signs its training updates with (round-attestation.ts), when the owner is not an address itself. */
  readonly address?: string
}

export interface AppGenesis {
  readonly chainId: number
  readonly params: Params
  readonly allocations: readonly Allocation[]
  readonly validators: readonly GenesisValidator[]
  readonly time: number
  /**
   * Account holding the reward reserve: when set, every block releases `rewards.annualEmission`
   * pro rata of the block interval from it to the stakers (while it has funds).
   */
  readonly rewardReserve?: string
  /** Contributors bonded at genesis (their allocations must hold the amounts). */
  readonly contributors?: readonly GenesisContributor[]
}

export interface Execution {
  readonly height: number
  readonly appHash: Hash
  readonly results: readonly TxResult[]
  readonly slashes: readonly SlashReceipt[]
}

/** The replica cannot do what was asked: a genesis that does not apply, an unknown height, a block that does not execute. */
export class AppError extends Schema.TaggedError<AppError>()("AppError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))

export class App {
  readonly chainId: number
  readonly economy: Economy
  /** Training-round results, contribution scores and the contributors' pot. */
  readonly training = new TrainingLedger()
  readonly #verify: Verifier
  readonly #operatorOf = new Map<string, string>()
  readonly #addressOf = new Map<string, string>()
  /** Training keys of contributors bonded at genesis whose account is not an address. */
  readonly #trainerKeys = new Map<string, string>()
  /** Validator sets by the height they start at, newest last. */
  readonly #sets: ValidatorSet[] = []
  /** Block time by height (the slash base of an infraction at that height). */
  readonly #times: number[] = []
  readonly #downtime: DowntimeTracker
  readonly #reserve: string | undefined
  #height = 0
  #appHash: Hash
  #lastBlockHash: Hash = ZERO_HASH
  #lastTime: number
  #setDirty = false
  #stalled: string | undefined
  readonly #nonces = new Map<string, number>()
  /** What the executors change. */
  readonly #state: TxState

  private constructor(g: AppGenesis, economy: Economy, verify: Verifier) {
    this.chainId = g.chainId
    this.economy = economy
    this.#verify = verify
    this.#lastTime = g.time
    this.#reserve = g.rewardReserve
    this.#downtime = new DowntimeTracker(g.params["slashing.downtimeWindow"])
    this.#state = { economy, training: this.training, downtime: this.#downtime }
    for (const v of g.validators) {
      this.#operatorOf.set(v.address, v.operator)
      this.#addressOf.set(v.operator, v.address)
    }
    for (const c of g.contributors ?? []) if (c.address !== undefined) this.#trainerKeys.set(c.owner, c.address.toLowerCase())
    this.#sets.push(this.#computeSet(1))
    this.#appHash = toHex(keccak256(utf8ToBytes(`dai/app/genesis/${g.chainId}/${json(economy.supply())}/${this.#sets[0]!.hash()}`)))
  }

  /** The economy at genesis with every genesis validator registered. */
  static genesis(g: AppGenesis, verify: Verifier): App {
    const economy = Result.getOrThrow(Economy.genesis(g.allocations, g.params, g.time))
    for (const v of g.validators) {
      const r = economy.apply({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission }, g.time)
      if (Result.isFailure(r)) throw new AppError({ reason: `genesis validator ${v.operator}: ${r.failure.message}` })
    }
    for (const c of g.contributors ?? []) {
      const r = economy.apply({ type: "bondContributor", owner: c.owner, amount: c.amount, tier: c.tier }, g.time)
      if (Result.isFailure(r)) throw new AppError({ reason: `genesis contributor ${c.owner}: ${r.failure.message}` })
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

  /** The epoch of a height: heights 1..L are epoch 0, L+1..2L epoch 1, ... */
  epochOf(height: number): number {
    return Math.floor((height - 1) / this.economy.params["consensus.epochLength"])
  }

  /** The nonce the signer's next transaction must carry. */
  nextNonce(signer: string): number {
    return this.#nonces.get(signer) ?? 0
  }

  /** Revealed contribution scores of an epoch, by account. */
  scores(epoch: number): ReadonlyMap<string, number> {
    return this.training.scores(epoch)
  }

  /** Training-round results, by round. */
  rounds(): ReadonlyMap<number, RoundRecord> {
    return this.training.rounds()
  }

  /** The last round with a committed result (-1 before any). */
  get lastRound(): number {
    return this.training.lastRound
  }

  /** Revealed training-round scores of an epoch, summed by account. */
  roundScores(epoch: number): ReadonlyMap<string, number> {
    return this.training.roundScores(epoch)
  }

  /** Emission set aside for contributors, not yet paid by a round's revealed scores (base units). */
  get contributorPot(): bigint {
    return this.training.contributorPot
  }

  /** The economy account a signing address acts for: a validator's operator id, else the address itself. */
  accountOf(signer: string): string {
    return this.#operatorOf.get(signer) ?? signer
  }

  /** Why a signed transaction cannot go in the next block given the nonces so far, or undefined. */
  checkSignedTx(value: unknown, nonces: Map<string, number> = new Map()): string | undefined {
    const decoded = decodeTx(value)
    if (Result.isFailure(decoded)) return decoded.failure
    const tx = decoded.success
    const expected = nonces.get(tx.signer) ?? this.nextNonce(tx.signer)
    if (tx.nonce !== expected) return `nonce ${tx.nonce} of ${tx.signer}, expected ${expected}`
    if (!this.#verify(tx.signer, txDigest(this.chainId, tx), fromHex(tx.signature))) return `bad signature of ${tx.signer}`
    nonces.set(tx.signer, expected + 1)
    return undefined
  }

  operatorOf(address: string): string | undefined {
    return this.#operatorOf.get(address)
  }

  /**
   * The key a training participant signs with (round-attestation.ts): an active validator's signing
   * address, or a bonded contributor's key (its genesis key, else the owner itself when it is an
   * address); undefined for an account that is neither.
   */
  trainerKey(account: string): string | undefined {
    const validator = this.#addressOf.get(account)
    const own = validator === undefined ? undefined : this.economy.pool(account)
    if (own !== undefined && own.kind === "validator" && !own.jailed && !own.tombstoned && own.shares > 0n) return validator
    const pool = this.economy.pool(`contrib:${account}`)
    if (pool === undefined || pool.shares === 0n || pool.tombstoned) return undefined
    return this.#trainerKeys.get(account) ?? (/^0x[0-9a-f]{40}$/.test(account) ? account : undefined)
  }
  addressOf(operator: string): string | undefined {
    return this.#addressOf.get(operator)
  }

  /** The validator set of `height` (any height from 1 up to the next one to execute). */
  validatorSet(height: number = this.#height + 1): ValidatorSet {
    if (height > this.#height + 1) throw new AppError({ reason: `validator set of height ${height} is not known yet (executed up to ${this.#height})` })
    for (let i = this.#sets.length - 1; i >= 0; i--) if (this.#sets[i]!.startHeight <= height) return this.#sets[i]!
    return this.#sets[0]!
  }

  /**
   * The set from the active validator pools: stake × average lock multiplier of the pool, mixed
   * with contribution and capped per validator by the voting-power formula (consensus/power.ts).
   */
  #computeSet(startHeight: number): ValidatorSet {
    const epoch = this.epochOf(startHeight) - 2
    const candidates: Candidate[] = this.#activeCandidates().map(({ p, address }) => (
      { address, stake: p.tokens, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: BigInt(this.training.contribution(epoch, p.operator)) }
    ))
    return validatorSetFromCandidates(candidates, powerParams(this.economy.params), startHeight)
  }

  /** The validator pools that may sign: registered, not jailed, not tombstoned, with stake. */
  #activeCandidates() {
    const out = []
    for (const p of this.economy.pools()) {
      const address = this.#addressOf.get(p.operator)
      if (p.kind !== "validator" || address === undefined || p.jailed || p.tombstoned || p.shares === 0n) continue
      out.push({ p, address })
    }
    return out
  }

  /** Why the chain cannot continue after the last executed block (no active validator), if so. */
  get stalled(): string | undefined {
    return this.#stalled
  }

  /** Why `block` cannot be the next block, or undefined when it can (what a validator checks before voting for it). */
  checkBlock(block: Block): string | undefined {
    // The same block is checked when its proposal arrives and again when it is executed: the
    // verdict depends only on the block and on state that has not moved since, so keep it.
    const hash = hashBlock(block)
    if (this.#checked?.height === this.#height && this.#checked.hash === hash) return this.#checked.verdict
    const verdict = this.#checkBlock(block)
    this.#checked = { height: this.#height, hash, verdict }
    return verdict
  }

  #checked: { readonly height: number; readonly hash: Hash; readonly verdict: string | undefined } | undefined

  #checkBlock(block: Block): string | undefined {
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
    const nonces = new Map<string, number>()
    for (const [i, tx] of (next > 1 ? rest : block.txs).entries()) {
      if (tx.type === "evidence") continue
      if (isSignedType(tx.type)) {
        const why = this.checkSignedTx(tx, nonces)
        if (why !== undefined) return `tx ${i}: ${why}`
        continue
      }
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
    if (why !== undefined) throw new AppError({ reason: `cannot execute block ${block.height}: ${why}` })
    const results: TxResult[] = []
    const slashes: SlashReceipt[] = []
    const params = this.economy.params
    this.#times[block.height] = block.time
    const ctx = this.#txContext(block, params)
    for (const tx of block.txs) {
      const r = this.#executeTx(tx, ctx)
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
    // Emission after the slashes, so a validator slashed in this block no longer earns from it.
    // The contributors' share stays in the reserve, earmarked, until a round's scores are revealed.
    if (this.#reserve !== undefined) {
      const emission = emissionFor(params, this.#lastTime, block.time)
      const left = this.economy.balanceOf(this.#reserve) - this.training.contributorPot
      const due = left <= 0n ? 0n : emission < left ? emission : left
      const toContributors = mulWad(due, econConfig(params).contributorShare)
      this.training.setAside(toContributors)
      if (due - toContributors > 0n) this.economy.apply({ type: "fundRewards", from: this.#reserve, amount: due - toContributors }, block.time)
    }

    const hash = hashBlock(block)
    this.#appHash = toHex(keccak256(utf8ToBytes(`${this.#appHash}/${hash}/${json(results)}/${json(this.economy.supply())}`)))
    this.#lastBlockHash = hash
    this.#lastTime = block.time
    this.#height = block.height
    const next = block.height + 1
    if (this.#setDirty || (next - 1) % params["consensus.epochLength"] === 0) {
      // With every validator jailed or tombstoned no set can sign the next block: the block still
      // executes in full (state stays consistent) and the chain stops here, saying why.
      if (this.#activeCandidates().length === 0) this.#stalled = `no validator is active after height ${block.height} (every validator is jailed or tombstoned): the chain cannot go on`
      else this.#sets.push(this.#computeSet(next))
      this.#setDirty = false
    }
    return { height: block.height, appHash: this.#appHash, results, slashes }
  }

  /** The block `block` as its transactions' executors see it. */
  #txContext(block: Block, params: Params): TxContext {
    return {
      chainId: this.chainId, height: block.height, time: block.time, epoch: this.epochOf(block.height), params,
      reserve: this.#reserve, verify: this.#verify,
      accountOf: (signer) => this.accountOf(signer),
      operatorOf: (address) => this.#operatorOf.get(address),
      trainerKey: (account) => this.trainerKey(account),
      validatorSet: (height) => this.validatorSet(height),
      timeOf: (height) => this.#times[height],
    }
  }

  /** Dispatch one transaction of a checked block to the executor of its type. */
  #executeTx(tx: AppTx, ctx: TxContext): TxResult {
    if (tx.type === "last-commit") return executeTx(this.#state, tx as LastCommitTx, ctx)
    if (tx.type === "evidence") return executeTx(this.#state, tx as EvidenceTx, ctx)
    const signed = Result.getOrThrow(decodeTx(tx))
    // A signed transaction uses its nonce whatever its rule decides, as a reverted transaction does.
    this.#nonces.set(signed.signer, signed.nonce + 1)
    return executeTx(this.#state, signed, ctx)
  }
}

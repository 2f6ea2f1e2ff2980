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
import { econConfig, Economy, emissionFor, type Allocation, type EconError, type EconOp, type LockTier, type Receipt, type SlashReceipt } from "../econ/index.ts"
import type { Params } from "../params.ts"
import { mulWad, WAD } from "../units.ts"
import { powerParams, validatorSetFromCandidates, type Candidate } from "../consensus/power.ts"
import { DowntimeTracker } from "./downtime.ts"
import { actorOf, decodeTx, roundScoresCommitment, scoreCommitment, txDigest, type SignedTx } from "./txs.ts"

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

/** A contributor (trainer) bonded at genesis in its own contributor pool. */
export interface GenesisContributor {
  readonly owner: string
  readonly amount: bigint
  readonly tier: LockTier
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

export type TxResult =
  | { readonly ok: true; readonly type: string; readonly receipts: readonly Receipt[] }
  | { readonly ok: false; readonly type: string; readonly error: string }

export interface Execution {
  readonly height: number
  readonly appHash: Hash
  readonly results: readonly TxResult[]
  readonly slashes: readonly SlashReceipt[]
}

/** A training round's result as committed. */
export interface RoundRecord {
  readonly round: number
  readonly modelHash: string
  /** Millionths. */
  readonly accuracy: number
  /** Test loss of the aggregate, millionths (when the coordinator reported it). */
  readonly loss: number | undefined
  readonly participants: readonly string[]
  readonly coordinator: string
  readonly height: number
  readonly epoch: number
  readonly scoresCommitment: string
  /** Revealed scores by account, once the reveal is executed. */
  readonly scores: ReadonlyMap<string, number> | undefined
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
  readonly #reserve: string | undefined
  #height = 0
  #appHash: Hash
  #lastBlockHash: Hash = ZERO_HASH
  #lastTime: number
  #setDirty = false
  #stalled: string | undefined
  readonly #nonces = new Map<string, number>()
  readonly #commitments = new Map<number, Map<string, string>>()
  readonly #scores = new Map<number, Map<string, number>>()
  readonly #rounds = new Map<number, RoundRecord>()
  #lastRound = -1
  /** Emission set aside for contributors and not paid yet (still in the reserve's balance). */
  #contributorPot = 0n
  /** Revealed training-round scores, summed by account, by the epoch their result was committed in. */
  readonly #roundScores = new Map<number, Map<string, number>>()

  private constructor(g: AppGenesis, economy: Economy, verify: Verifier) {
    this.chainId = g.chainId
    this.economy = economy
    this.#verify = verify
    this.#lastTime = g.time
    this.#reserve = g.rewardReserve
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
    for (const c of g.contributors ?? []) {
      const r = economy.apply({ type: "bondContributor", owner: c.owner, amount: c.amount, tier: c.tier }, g.time)
      if (Result.isFailure(r)) throw new AppError(`genesis contributor ${c.owner}: ${r.failure.message}`)
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
    return this.#scores.get(epoch) ?? new Map()
  }

  /** Training-round results, by round. */
  rounds(): ReadonlyMap<number, RoundRecord> {
    return this.#rounds
  }

  /** The last round with a committed result (-1 before any). */
  get lastRound(): number {
    return this.#lastRound
  }

  /** Revealed training-round scores of an epoch, summed by account. */
  roundScores(epoch: number): ReadonlyMap<string, number> {
    return this.#roundScores.get(epoch) ?? new Map()
  }

  /** Emission set aside for contributors, not yet paid by a round's revealed scores (base units). */
  get contributorPot(): bigint {
    return this.#contributorPot
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
    const scores = this.#scores.get(this.epochOf(startHeight) - 2)
    const rounds = this.#roundScores.get(this.epochOf(startHeight) - 2)
    const candidates: Candidate[] = this.#activeCandidates().map(({ p, address }) => (
      { address, stake: p.tokens, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: BigInt((scores?.get(p.operator) ?? 0) + (rounds?.get(p.operator) ?? 0)) }
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
      if (tx.type === "stake" || tx.type === "score-commit" || tx.type === "score-reveal" || tx.type === "round-result" || tx.type === "round-scores") {
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
      const r = tx.type === "evidence"
        ? this.#executeEvidence(tx as unknown as DuplicateVoteEvidence & AppTx, block.time)
        : this.#executeSigned(Result.getOrThrow(decodeTx(tx)), block)
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
      const left = this.economy.balanceOf(this.#reserve) - this.#contributorPot
      const due = left <= 0n ? 0n : emission < left ? emission : left
      const toContributors = mulWad(due, econConfig(params).contributorShare)
      this.#contributorPot += toContributors
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

  #executeSigned(tx: SignedTx, block: Block): TxResult {
    this.#nonces.set(tx.signer, tx.nonce + 1)
    const account = this.accountOf(tx.signer)
    const fail = (error: string): TxResult => ({ ok: false, type: tx.type, error })
    switch (tx.type) {
      case "stake": {
        const op = tx.op as EconOp
        if (actorOf(op) !== account) return fail(`${tx.signer} (account ${account}) may not act for ${actorOf(op)}`)
        const r = this.economy.apply(op, block.time)
        return Result.isSuccess(r) ? { ok: true, type: "stake", receipts: [r.success] } : fail(r.failure.message)
      }
      case "score-commit": {
        const epoch = this.epochOf(block.height)
        if (tx.epoch !== epoch) return fail(`commitments for epoch ${tx.epoch} are not open (this is epoch ${epoch})`)
        const commits = this.#commitments.get(epoch) ?? new Map<string, string>()
        if (commits.has(account)) return fail(`${account} already committed a score for epoch ${epoch}`)
        this.#commitments.set(epoch, commits.set(account, tx.commitment))
        return { ok: true, type: tx.type, receipts: [] }
      }
      case "score-reveal": {
        const epoch = this.epochOf(block.height)
        if (tx.epoch !== epoch - 1) return fail(`scores of epoch ${tx.epoch} are revealed in epoch ${tx.epoch + 1}, this is ${epoch}`)
        const commitment = this.#commitments.get(tx.epoch)?.get(account)
        if (commitment === undefined) return fail(`${account} committed no score for epoch ${tx.epoch}`)
        if (scoreCommitment(tx.epoch, tx.score, tx.salt) !== commitment) return fail(`the reveal of ${account} does not match its commitment for epoch ${tx.epoch}`)
        const scores = this.#scores.get(tx.epoch) ?? new Map<string, number>()
        if (scores.has(account)) return fail(`${account} already revealed for epoch ${tx.epoch}`)
        this.#scores.set(tx.epoch, scores.set(account, tx.score))
        return { ok: true, type: tx.type, receipts: [] }
      }
      case "round-result": {
        if (this.#operatorOf.get(tx.signer) === undefined) return fail(`${tx.signer} is not a validator: only a validator coordinates a training round`)
        if (tx.round <= this.#lastRound) return fail(`round ${tx.round} is not after the last committed round ${this.#lastRound}`)
        if (new Set(tx.participants).size !== tx.participants.length) return fail(`round ${tx.round} lists a participant twice`)
        this.#lastRound = tx.round
        this.#rounds.set(tx.round, {
          round: tx.round, modelHash: tx.modelHash, accuracy: tx.accuracy, loss: tx.loss, participants: [...tx.participants], coordinator: account,
          height: block.height, epoch: this.epochOf(block.height), scoresCommitment: tx.scoresCommitment, scores: undefined,
        })
        return { ok: true, type: tx.type, receipts: [] }
      }
      case "round-scores": {
        const r = this.#rounds.get(tx.round)
        if (r === undefined) return fail(`round ${tx.round} has no committed result`)
        if (r.coordinator !== account) return fail(`the scores of round ${tx.round} are revealed by its coordinator ${r.coordinator}, not ${account}`)
        if (r.height >= block.height) return fail(`the scores of round ${tx.round} are revealed in a block after its result`)
        if (r.scores !== undefined) return fail(`the scores of round ${tx.round} were revealed already`)
        if (roundScoresCommitment(tx.round, tx.scores, tx.salt) !== r.scoresCommitment) return fail(`the scores of round ${tx.round} do not match its commitment`)
        const seen = new Set<string>()
        for (const x of tx.scores) {
          if (!r.participants.includes(x.account)) return fail(`${x.account} did not take part in round ${tx.round}`)
          if (seen.has(x.account)) return fail(`${x.account} is scored twice in round ${tx.round}`)
          seen.add(x.account)
        }
        const sums = this.#roundScores.get(r.epoch) ?? new Map<string, number>()
        for (const x of tx.scores) sums.set(x.account, (sums.get(x.account) ?? 0) + x.score)
        this.#roundScores.set(r.epoch, sums)
        this.#rounds.set(tx.round, { ...r, scores: new Map(tx.scores.map((x) => [x.account, x.score])) })
        if (this.#reserve !== undefined && this.#contributorPot > 0n) {
          // Scores were checked above and the pot is in the reserve: the payout cannot be refused.
          const paid = Result.getOrThrow(this.economy.payContributors(this.#reserve, this.#contributorPot, tx.scores, block.time))
          this.#contributorPot -= paid.paid
        }
        return { ok: true, type: tx.type, receipts: [] }
      }
    }
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

/**
 * The application state machine that consensus replicates: every node executes the same committed
 * blocks and reaches the same app hash. It holds no economy (issue 12, "one ledger"): value and
 * rules live on the Chain port; the App is the committee of that stake, ordering the AI network's
 * own events. Its validator set and its parameters are a committee snapshot of the ledger.
 *
 * Transactions (JSON objects tagged by `type`):
 *  - `last-commit`: the precommits that decided the parent block (first tx of every block above 1).
 *    The app checks them and counts who signed, for downtime over `slashing.downtimeWindow`.
 *  - `epoch`: `{ epoch, snapshot }`, right after the last-commit of the first block of every epoch
 *    e (at height 1, first): the ledger snapshot whose set and parameters govern epoch e + 1. It is
 *    named one epoch ahead because a height's set must be known before its proposals are judged.
 *    The snapshot is never older than the one before it, and every validator has loaded it (from
 *    its Chain port) before it votes for the block.
 *  - `evidence`: two conflicting votes of one validator; the app verifies them and drops the
 *    validator from the set at the next height (the slash itself is the ledger's: the node submits
 *    the evidence to the Chain port).
 *  - `score-commit`, `score-reveal`, `round-result`, `round-scores`: signed by an account (txs.ts);
 *    contribution scores and training-round results (training-ledger.ts). Revealed scores count in
 *    the epoch's report, which pays the contributors' share of the emission pro rata on the ledger.
 *  - `stake`: never in a block (a block carrying one is invalid): stake moves only on the ledger.
 * A validator whose window of signed blocks falls under `slashing.minSignedPerWindow` leaves the set
 * at the next height and is named for downtime in the epoch's report (the ledger slashes it).
 * Every signed transaction costs its signer `fees.txFee`, counted per epoch.
 * After an epoch's last block the app has its report (`epochReport`), the same on every replica:
 * validators sign it and the first to gather 2/3 of the power submits it to the ledger.
 * A block whose signed transactions do not decode, are badly signed, skip a nonce or come from a
 * signer without standing (standing.ts) is invalid; a valid transaction whose rule refuses it is
 * recorded as failed and still uses its nonce.
 * Execution is deferred as in CometBFT: block h carries the app hash after block h−1.
 */
import { Schema } from "effect"
import { fromHex, keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import { blockHash as hashBlock } from "../consensus/block.ts"
import { acceptedBy, voteDigest } from "../consensus/signing.ts"
import type { ValidatorSet } from "../consensus/validator-set.ts"
import { ZERO_HASH, type AppTx, type Block, type Hash, type Vote } from "../consensus/types.ts"
import type { Allocation, LockTier } from "../econ/index.ts"
import type { Params } from "../params.ts"
import { parseFixed } from "../units.ts"
import type { EpochReport, Snapshot } from "../committee/types.ts"
import { RecentByObject } from "../recent.ts"
import { setOfSnapshot, type CommitteeSource } from "./committee.ts"
import { DowntimeTracker } from "./downtime.ts"
import { senderRefusal } from "./standing.ts"
import { TrainingLedger, type RoundRecord } from "./training-ledger.ts"
import type { Conviction, TxContext, TxResult, TxState, Verifier } from "./tx/context.ts"
import type { EvidenceTx } from "./tx/evidence.ts"
import type { LastCommitTx } from "./tx/last-commit.ts"
import { executeTx, isSignedType } from "./tx/table.ts"
import { decodeTx, txDigest } from "./txs.ts"

export type { Conviction, TxResult, Verifier } from "./tx/context.ts"
export type { RoundRecord } from "./training-ledger.ts"

export interface GenesisValidator {
  /** Account id of the operator on the ledger ("v0"). */
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

/** The network's genesis: the ledger's (allocations, validators, contributors, reserve) and the chain id and time. */
export interface AppGenesis {
  readonly chainId: number
  readonly params: Params
  readonly allocations: readonly Allocation[]
  readonly validators: readonly GenesisValidator[]
  readonly time: number
  /** Account holding the reward reserve, released by epoch reports. */
  readonly rewardReserve?: string
  /** Contributors bonded at genesis (their allocations must hold the amounts). */
  readonly contributors?: readonly GenesisContributor[]
}

/** The snapshot that governs the first epoch (taken on the ledger at genesis). */
export const GENESIS_SNAPSHOT = 1
/**
 * The first epoch's number. Epochs count from 1, as the ledger numbers epoch reports (the Economy
 * and Committee.sol refuse epoch 0), so an epoch has one number in the App, its report and the chain.
 */
export const GENESIS_EPOCH = 1

export interface Execution {
  readonly height: number
  readonly appHash: Hash
  readonly results: readonly TxResult[]
  /** Validators convicted in this block (evidence or downtime): they left the set; the ledger slashes them. */
  readonly slashes: readonly Conviction[]
}

/**
 * App hashes of late blocks, by what they hash: the replicas of a simulated world compute the same
 * one for each block (the keccak in JavaScript was 2 % of a 1,000-validator run). A few entries,
 * oldest dropped first.
 */
const recentAppHashes = new Map<string, Hash>()
const appHashOf = (content: string): Hash => {
  let hash = recentAppHashes.get(content)
  if (hash === undefined) {
    hash = toHex(keccak256(utf8ToBytes(content)))
    if (recentAppHashes.size >= 8) recentAppHashes.delete(recentAppHashes.keys().next().value!)
    recentAppHashes.set(content, hash)
  }
  return hash
}

/**
 * Who signs for whom, as learned from the snapshots a replica has seen, in order: each validator's
 * signing key (lower case) to its operator and back, a later snapshot's entry replacing an earlier
 * one, none ever dropped. Never changed once made: replicas that learned the same snapshots in the
 * same order — a simulated world's, each epoch — share one instead of each building its own
 * (at 1,000 validators that was 4–7 % of a run's CPU).
 */
interface Roster {
  readonly operatorOf: ReadonlyMap<string, string>
  readonly addressOf: ReadonlyMap<string, string>
}
const NO_ROSTER: Roster = { operatorOf: new Map(), addressOf: new Map() }
const rostersLearned = new RecentByObject<Roster, { readonly snapshot: Snapshot; readonly roster: Roster }>(4)
/** `roster` with `s`'s validators learned. */
const learnRoster = (roster: Roster, s: Snapshot): Roster => {
  const known = rostersLearned.find(roster, (e) => e.snapshot === s)
  if (known !== undefined) return known.roster
  const operatorOf = new Map(roster.operatorOf)
  const addressOf = new Map(roster.addressOf)
  for (const v of s.validators) {
    const key = v.signingKey.toLowerCase()
    operatorOf.set(key, v.operator)
    addressOf.set(v.operator, key)
  }
  return rostersLearned.add(roster, { snapshot: s, roster: { operatorOf, addressOf } }).roster
}

/**
 * Verdicts on last-commits, by precommit list (see App.#checkLastCommit): a few (set, parent, chain,
 * verifier) per list. A list is never changed once it is in a block (a proposer appends late
 * precommits to a copy of the list its block holds: consensus-node.ts).
 */
const lastCommitVerdicts = new RecentByObject<readonly Vote[], {
  readonly set: ValidatorSet
  readonly height: number
  readonly parent: Hash
  readonly chainId: number
  readonly verify: Verifier
  readonly verdict: string | undefined
}>(4)

/** The replica cannot do what was asked: a genesis that does not apply, an unknown height, a block that does not execute. */
export class AppError extends Schema.TaggedError<AppError>()("AppError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** The epoch tx of a block, if it carries one. */
export const epochTxOf = (block: Block): { readonly epoch: number; readonly snapshot: number } | undefined => {
  const tx = block.txs.find((t) => t.type === "epoch")
  return tx === undefined ? undefined : { epoch: tx.epoch as number, snapshot: tx.snapshot as number }
}

const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

interface Epoch {
  readonly epoch: number
  readonly start: number
  readonly snapshot: Snapshot
}

/** What an epoch's report gathers as its blocks execute. */
interface ReportDraft {
  fromTime: number
  toTime: number
  readonly downtime: Set<string>
  readonly scores: Map<string, bigint>
  /** Fees ordered, by the ledger account of each signed transaction's signer. */
  readonly fees: Map<string, bigint>
}

export class App {
  readonly chainId: number
  /** Training-round results and contribution scores. */
  readonly training = new TrainingLedger()
  readonly #verify: Verifier
  readonly #committees: CommitteeSource
  /** Signing keys and operators of every validator of the snapshots learned so far (`#learn`). */
  #roster: Roster = NO_ROSTER
  /** Epochs whose snapshot is known, by epoch number. */
  readonly #epochs: Epoch[] = []
  /** Training keys of contributors bonded at genesis whose account is not an address. */
  readonly #trainerKeys = new Map<string, string>()
  /** Validator sets by the height they start at, newest last. */
  readonly #sets: ValidatorSet[] = []
  /** Validators dropped from the set (evidence, downtime) until a snapshot no longer lists them. */
  readonly #excluded = new Set<string>()
  /** Block time by height (the infraction time of evidence at that height). */
  readonly #times: number[] = []
  readonly #drafts = new Map<number, ReportDraft>()
  readonly #downtime: DowntimeTracker
  #height = 0
  #appHash: Hash
  #lastBlockHash: Hash = ZERO_HASH
  #lastTime: number
  #stalled: string | undefined
  readonly #nonces = new Map<string, number>()
  /** What the executors change. */
  readonly #state: TxState
  #convicted: Conviction[] = []
  /** Validators convicted of double signing (once is enough: the ledger tombstones them). */
  readonly #doubleSigners = new Set<string>()

  private constructor(g: AppGenesis, genesis: Snapshot, verify: Verifier, committees: CommitteeSource) {
    this.chainId = g.chainId
    this.#verify = verify
    this.#committees = committees
    this.#lastTime = g.time
    this.#downtime = new DowntimeTracker(genesis.params["slashing.downtimeWindow"])
    this.#state = {
      training: this.training, downtime: this.#downtime,
      convict: (c) => {
        if (this.#doubleSigners.has(c.address) || this.#convicted.some((x) => x.address === c.address && x.infraction === "doubleSign")) return `${c.address} was convicted of double signing already`
        this.#convicted.push(c)
        return undefined
      },
    }
    this.#learn(genesis)
    for (const c of g.contributors ?? []) if (c.address !== undefined) this.#trainerKeys.set(c.owner, c.address.toLowerCase())
    this.#epochs.push({ epoch: GENESIS_EPOCH, start: 1, snapshot: genesis })
    const set = setOfSnapshot(genesis, 1)
    if (set === undefined) throw new AppError({ reason: `genesis snapshot ${genesis.id} has no active validator` })
    this.#sets.push(set)
    this.#drafts.set(GENESIS_EPOCH, { fromTime: g.time, toTime: g.time, downtime: new Set(), scores: new Map(), fees: new Map() })
    this.#appHash = toHex(keccak256(utf8ToBytes(`dai/app/genesis/${g.chainId}/${genesis.id}/${set.hash()}`)))
  }

  /** A replica at genesis: the first epoch is governed by the ledger's genesis snapshot, which `committees` must hold. */
  static genesis(g: AppGenesis, verify: Verifier, committees: CommitteeSource): App {
    const s = committees.committee(GENESIS_SNAPSHOT)
    if (s === undefined) throw new AppError({ reason: `the ledger has no genesis snapshot (${GENESIS_SNAPSHOT}): take it when the ledger is deployed` })
    return new App(g, s, verify, committees)
  }

  #learn(s: Snapshot): void {
    this.#roster = learnRoster(this.#roster, s)
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

  #epochAt(height: number): Epoch {
    for (let i = this.#epochs.length - 1; i >= 0; i--) if (this.#epochs[i]!.start <= height) return this.#epochs[i]!
    return this.#epochs[0]!
  }

  /** The epoch of a height (epoch lengths come from each epoch's snapshot). */
  epochOf(height: number): number {
    const e = this.#epochAt(height)
    const length = e.snapshot.params["consensus.epochLength"]
    return e.epoch + Math.floor((height - e.start) / length)
  }

  /** The first height of epoch `epoch`, when its predecessor's snapshot is known. */
  epochStart(epoch: number): number | undefined {
    const known = this.#epochs.find((e) => e.epoch === epoch)
    if (known !== undefined) return known.start
    const prev = this.#epochs.find((e) => e.epoch === epoch - 1)
    return prev === undefined ? undefined : prev.start + prev.snapshot.params["consensus.epochLength"]
  }

  /** The snapshot governing `height` (the next one to execute by default). */
  snapshotAt(height: number = this.#height + 1): Snapshot {
    return this.#epochAt(height).snapshot
  }

  /** The parameters in force at `height` (the next one to execute by default): its epoch's snapshot's. */
  params(height: number = this.#height + 1): Params {
    return this.snapshotAt(height).params
  }

  /** The newest snapshot the chain has named so far (what an epoch tx may not go below). */
  get lastSnapshot(): number {
    return this.#epochs.at(-1)!.snapshot.id
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

  /** The ledger account a signing address acts for: a validator's operator id, else the address itself. */
  accountOf(signer: string): string {
    return this.#roster.operatorOf.get(signer) ?? signer
  }

  /** Whether `account` is a bonded trainer or a validator operator in the snapshot in force. */
  isMember(account: string): boolean {
    const s = this.snapshotAt()
    return s.trainers.some((t) => t.owner === account) || s.validators.some((v) => v.operator === account)
  }

  /** Whether a validator was dropped from the set for evidence or downtime. */
  isExcluded(address: string): boolean {
    return this.#excluded.has(address)
  }

  /** How many validators are dropped from the set for evidence or downtime (see `isExcluded`). */
  get excludedCount(): number {
    return this.#excluded.size
  }

  /**
   * Why a signed transaction cannot go in the next block given the nonces so far, or undefined. A
   * signer without standing (standing.ts, the pool's rule too) makes the block invalid: honest
   * validators prevote nil on it, so a byzantine proposer cannot spend block space on a key with no
   * stake (issue 16). Standing is read from the snapshot the block executes on, which nothing in a
   * block changes (a block's epoch tx names the next epoch's), so each transaction in order sees it.
   */
  checkSignedTx(value: unknown, nonces: Map<string, number> = new Map()): string | undefined {
    const decoded = decodeTx(value)
    if (decoded._tag === "Failure") return decoded.failure
    const tx = decoded.success
    const refused = senderRefusal(this, tx.signer, tx.type)
    if (refused !== undefined) return refused
    const expected = nonces.get(tx.signer) ?? this.nextNonce(tx.signer)
    if (tx.nonce !== expected) return `nonce ${tx.nonce} of ${tx.signer}, expected ${expected}`
    if (!this.#verify(tx.signer, txDigest(this.chainId, tx), fromHex(tx.signature))) return `bad signature of ${tx.signer}`
    nonces.set(tx.signer, expected + 1)
    return undefined
  }

  operatorOf(address: string): string | undefined {
    return this.#roster.operatorOf.get(address)
  }

  /**
   * The key a training participant signs with (round-attestation.ts): the signing address of a
   * validator of the snapshot in force (not convicted since), or a bonded trainer's key in that
   * snapshot (its genesis key, else the owner itself when it is an address); undefined for anyone else.
   */
  trainerKey(account: string): string | undefined {
    const s = this.snapshotAt()
    const validator = s.validators.find((v) => v.operator === account)
    if (validator !== undefined && !this.#excluded.has(validator.signingKey)) return validator.signingKey
    if (!s.trainers.some((t) => t.owner === account)) return undefined
    return this.#trainerKeys.get(account) ?? (/^0x[0-9a-f]{40}$/.test(account) ? account : undefined)
  }

  addressOf(operator: string): string | undefined {
    return this.#roster.addressOf.get(operator)
  }

  /** The validator set of `height` (any height from 1 up to the next one to execute). */
  validatorSet(height: number = this.#height + 1): ValidatorSet {
    if (height > this.#height + 1) throw new AppError({ reason: `validator set of height ${height} is not known yet (executed up to ${this.#height})` })
    for (let i = this.#sets.length - 1; i >= 0; i--) if (this.#sets[i]!.startHeight <= height) return this.#sets[i]!
    return this.#sets[0]!
  }

  /** Why the chain cannot continue after the last executed block (no active validator), if so. */
  get stalled(): string | undefined {
    return this.#stalled
  }

  /** Whether `height` is the first of an epoch. */
  isEpochStart(height: number): boolean {
    const e = this.#epochAt(height)
    return (height - e.start) % e.snapshot.params["consensus.epochLength"] === 0
  }

  /**
   * The epoch tx a proposer puts in block `height` (after its last-commit), naming the snapshot
   * `latest` (the newest the proposer sees on the ledger; never below the one named before), or
   * undefined when `height` does not start an epoch.
   */
  epochTx(height: number, latest: number): AppTx | undefined {
    if (height !== this.#height + 1 || !this.isEpochStart(height)) return undefined
    return { type: "epoch", epoch: this.epochOf(height) + 1, snapshot: Math.max(latest, this.lastSnapshot) }
  }

  /**
   * The snapshot a block names that this replica has not loaded yet (its node loads it from the
   * Chain port, then judges the block again), or undefined.
   */
  missingSnapshot(block: Block): number | undefined {
    const t = epochTxOf(block)
    return t !== undefined && Number.isSafeInteger(t.snapshot) && this.#committees.committee(t.snapshot) === undefined ? t.snapshot : undefined
  }

  /** Why `block` cannot be the next block, or undefined when it can (what a validator checks before voting for it). */
  checkBlock(block: Block): string | undefined {
    // The same block is checked when its proposal arrives and again when it is executed: the
    // verdict depends only on the block and on state that has not moved since, so keep it (but
    // not a verdict that only waited for a snapshot to load).
    const hash = hashBlock(block)
    if (this.#checked?.height === this.#height && this.#checked.hash === hash) return this.#checked.verdict
    const verdict = this.#checkBlock(block)
    if (this.missingSnapshot(block) === undefined) this.#checked = { height: this.#height, hash, verdict }
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
    let txs = block.txs
    if (next > 1) {
      const [first, ...rest] = txs
      if (first === undefined || first.type !== "last-commit") return "the first tx must be the parent's last-commit"
      const why = this.#checkLastCommit(first)
      if (why !== undefined) return `last-commit: ${why}`
      txs = rest
    }
    if (this.isEpochStart(next)) {
      const [first, ...rest] = txs
      if (first === undefined || first.type !== "epoch") return `height ${next} starts epoch ${this.epochOf(next)}: its ${next > 1 ? "second" : "first"} tx must name the next epoch's snapshot`
      const why = this.#checkEpochTx(first, next)
      if (why !== undefined) return `epoch: ${why}`
      txs = rest
    }
    const nonces = new Map<string, number>()
    for (const [i, tx] of txs.entries()) {
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

  #checkEpochTx(tx: AppTx, height: number): string | undefined {
    const epoch = this.epochOf(height) + 1
    if (tx.epoch !== epoch) return `names epoch ${String(tx.epoch)}, expected ${epoch}`
    const id = tx.snapshot
    if (typeof id !== "number" || !Number.isSafeInteger(id)) return "the snapshot must be a whole number"
    if (id < this.lastSnapshot) return `snapshot ${id} is older than the previous epoch's ${this.lastSnapshot}`
    const s = this.#committees.committee(id)
    if (s === undefined) return `snapshot ${id} is not loaded`
    if (s.validators.length === 0) return `snapshot ${id} has no active validator`
    return undefined
  }

  #checkLastCommit(tx: AppTx): string | undefined {
    const height = tx.height
    const precommits = tx.precommits as unknown as readonly Vote[] | undefined
    if (height !== this.#height) return `for height ${String(height)}, expected ${this.#height}`
    if (!Array.isArray(precommits) || precommits.length === 0) return "no precommits"
    const set = this.validatorSet(this.#height)
    // The verdict is a function of the list, the set, the parent, the chain and the verifier alone:
    // replicas of a simulated world check the same decoded list against the same set (committee.ts).
    const parent = this.#lastBlockHash
    const known = lastCommitVerdicts.find(precommits, (k) => k.set === set && k.height === height && k.parent === parent && k.chainId === this.chainId && k.verify === this.#verify)
    if (known !== undefined) return known.verdict
    const verdict = this.#lastCommitVerdict(precommits, set, height)
    lastCommitVerdicts.add(precommits, { set, height, parent, chainId: this.chainId, verify: this.#verify, verdict })
    return verdict
  }

  #lastCommitVerdict(precommits: readonly Vote[], set: ValidatorSet, height: number): string | undefined {
    const round = precommits[0]!.round
    const seen = new Set<string>()
    // Votes whose signature this verify function accepted already (on arrival at the consensus node,
    // or in another replica's check of the same block: a simulated world shares decoded objects).
    const accepted = acceptedBy(this.#verify, this.chainId)
    let power = 0n
    for (const v of precommits) {
      if (v.type !== "precommit" || v.height !== height || v.round !== round || v.blockHash !== this.#lastBlockHash) return "a precommit is not for the parent block"
      if (seen.has(v.validator)) return `validator ${v.validator} appears twice`
      if (!set.has(v.validator)) return `${v.validator} is not a validator of height ${height}`
      if (!accepted.has(v)) {
        if (!this.#verify(v.validator, voteDigest(this.chainId, "precommit", v.height, v.round, v.blockHash), fromHex(v.signature))) {
          return `bad signature of ${v.validator}`
        }
        accepted.add(v)
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
    this.#convicted = []
    const params = this.params(block.height)
    const epoch = this.epochOf(block.height)
    this.#times[block.height] = block.time
    const draft = this.#draft(epoch)
    draft.toTime = block.time
    const ctx = this.#txContext(block, params, epoch)
    const fee = parseFixed(String(params["fees.txFee"]))
    for (const tx of block.txs) {
      if (tx.type === "epoch") {
        results.push(this.#executeEpochTx(tx, block.height))
        continue
      }
      const r = this.#executeTx(tx, ctx)
      results.push(r)
      // Every signed transaction the committee orders costs its signer `fees.txFee`, failed or not
      // (it used block space and its nonce); the epoch's report has the ledger take it.
      if (fee > 0n && typeof tx.signer === "string" && isSignedType(tx.type)) {
        const payer = this.accountOf(tx.signer)
        draft.fees.set(payer, (draft.fees.get(payer) ?? 0n) + fee)
      }
      if (r.ok && r.type === "score-reveal") this.#addScore(draft, this.accountOf(String(tx.signer)), BigInt(tx.score as number))
      if (r.ok && r.type === "round-scores") for (const s of tx.scores as unknown as Array<{ account: string; score: number }>) this.#addScore(draft, s.account, BigInt(s.score))
    }
    for (const address of this.#downtime.offenders(params["slashing.minSignedPerWindow"])) {
      const operator = this.#roster.operatorOf.get(address)!
      this.#downtime.reset(address)
      if (this.#excluded.has(address)) continue
      draft.downtime.add(operator)
      this.#convicted.push({ pool: operator, address, infraction: "downtime", evidenceId: `downtime/${operator}/${epoch}` })
      results.push({ ok: true, type: "downtime", receipts: [] })
    }
    const convicted = this.#convicted
    for (const c of convicted) {
      this.#excluded.add(c.address)
      if (c.infraction === "doubleSign") this.#doubleSigners.add(c.address)
      // What no contract can check itself (a forged round) is slashed by the report the committee signs.
      if (c.inReport === true) draft.downtime.add(c.pool)
    }

    const hash = hashBlock(block)
    this.#appHash = appHashOf(`${this.#appHash}/${hash}/${json(results)}/${json(convicted)}`)
    this.#lastBlockHash = hash
    this.#lastTime = block.time
    this.#height = block.height
    const next = block.height + 1
    const starts = this.#epochs.find((e) => e.start === next)
    if (starts !== undefined) {
      // A new epoch: its snapshot's set; a validator the ledger no longer lists is forgiven its exclusion.
      for (const a of [...this.#excluded]) if (!starts.snapshot.validators.some((v) => v.signingKey === a)) this.#excluded.delete(a)
      this.#downtime.setWindow(starts.snapshot.params["slashing.downtimeWindow"])
      this.#pushSet(next, starts.snapshot)
      this.#drafts.set(starts.epoch, { fromTime: block.time, toTime: block.time, downtime: new Set(), scores: new Map(), fees: new Map() })
    } else if (convicted.length > 0) this.#pushSet(next, this.snapshotAt(next))
    return { height: block.height, appHash: this.#appHash, results, slashes: convicted }
  }

  #pushSet(start: number, snapshot: Snapshot): void {
    const set = setOfSnapshot(snapshot, start, this.#excluded)
    // With every validator excluded no set can sign the next block: the block still executed in
    // full and the chain stops here, saying why.
    if (set === undefined) this.#stalled = `no validator is active after height ${start - 1} (every validator of snapshot ${snapshot.id} was convicted or left): the chain cannot go on`
    else this.#sets.push(set)
  }

  #draft(epoch: number): ReportDraft {
    let d = this.#drafts.get(epoch)
    if (d === undefined) this.#drafts.set(epoch, (d = { fromTime: this.#lastTime, toTime: this.#lastTime, downtime: new Set(), scores: new Map(), fees: new Map() }))
    return d
  }

  #addScore(d: ReportDraft, account: string, score: bigint): void {
    if (score > 0n) d.scores.set(account, (d.scores.get(account) ?? 0n) + score)
  }

  #executeEpochTx(tx: AppTx, height: number): TxResult {
    const s = this.#committees.committee(tx.snapshot as number)!
    const epoch = tx.epoch as number
    this.#learn(s)
    this.#epochs.push({ epoch, start: this.epochStart(epoch)!, snapshot: s })
    return { ok: true, type: "epoch", receipts: [] }
  }

  /**
   * The report of `epoch` once its last block is executed (undefined before, or for an epoch this
   * replica never executed): the same on every replica.
   */
  epochReport(epoch: number): EpochReport | undefined {
    const e = this.#epochs.find((x) => x.epoch === epoch)
    const d = this.#drafts.get(epoch)
    if (e === undefined || d === undefined) return undefined
    const last = e.start + e.snapshot.params["consensus.epochLength"] - 1
    if (this.#height < last) return undefined
    const scored = [...d.scores.keys()].sort(byKey)
    const payers = [...d.fees.keys()].sort(byKey)
    return {
      epoch, snapshotId: e.snapshot.id, fromTime: d.fromTime, toTime: d.toTime,
      downtime: [...d.downtime].sort(byKey), scored, scores: scored.map((a) => d.scores.get(a)!), feePayers: payers, fees: payers.map((a) => d.fees.get(a)!),
    }
  }

  /** The block `block` as its transactions' executors see it. */
  #txContext(block: Block, params: Params, epoch: number): TxContext {
    return {
      chainId: this.chainId, height: block.height, time: block.time, epoch, params,
      verify: this.#verify,
      accountOf: (signer) => this.accountOf(signer),
      operatorOf: (address) => this.#roster.operatorOf.get(address),
      trainerKey: (account) => this.trainerKey(account),
      validatorSet: (height) => this.validatorSet(height),
      timeOf: (height) => this.#times[height],
    }
  }

  /** Dispatch one transaction of a checked block to the executor of its type. */
  #executeTx(tx: AppTx, ctx: TxContext): TxResult {
    if (tx.type === "last-commit") return executeTx(this.#state, tx as LastCommitTx, ctx)
    if (tx.type === "evidence") return executeTx(this.#state, tx as EvidenceTx, ctx)
    const decoded = decodeTx(tx)
    if (decoded._tag === "Failure") throw new AppError({ reason: `a checked tx does not decode: ${decoded.failure}` })
    const signed = decoded.success
    // A signed transaction uses its nonce whatever its rule decides, as a reverted transaction does.
    this.#nonces.set(signed.signer, signed.nonce + 1)
    return executeTx(this.#state, signed, ctx)
  }
}

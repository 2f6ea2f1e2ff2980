/**
 * The one ledger, in memory: the `Economy` (token, stake, slashing, rewards, insurance), governance
 * beside it, and the committee's side of the Committee contract — snapshots of the active set and
 * the settlement of epoch reports (issue 12 plan §1, §4). The simulator's world shares one of these
 * between all its nodes (their Chain port); a real node without an EVM chain keeps its own.
 * Deterministic: time is passed in.
 *
 * Settlement of a report signed by the quorum of its snapshot's power: the downtime offenders are
 * slashed (and jailed); the emission of the epoch (`rewards.annualEmission` × (toTime − fromTime)
 * / year, capped by what the reserve holds) is released: `rewards.contributorShare` of it pro rata
 * to the scored accounts, the rest to the stakers; the fees ordered are paid from each payer's
 * balance, as far as it holds them (burnt in part, the rest to stakers). The scores become the contribution of the validators in the next snapshots.
 * First report of an epoch wins; a different one for a reported epoch is refused, and every
 * validator that signed both is slashed as a double signer.
 */
import { Result } from "effect"
import { econConfig, Economy, emissionFor, type EconError, type Receipt, type SlashReceipt } from "../econ/index.ts"
import { Constitution } from "../governance/constitution.ts"
import { Governance } from "../governance/governance.ts"
import { mulWad } from "../units.ts"
import { App, AppError, type AppGenesis, type Verifier } from "./app.ts"
import { snapshotOfEconomy, type CommitteeSnapshot } from "./committee.ts"
import { reportKey, reportShortfall, type EpochReport, type ReportSignature } from "./epoch-report.ts"

/** What settling a report did. */
export interface Settlement {
  readonly epoch: number
  readonly slashes: readonly SlashReceipt[]
  /** Emission released: to the scored accounts, and to the stakers. */
  readonly toContributors: bigint
  readonly toStakers: bigint
  readonly fees: bigint
}

/** Why a report or a conviction was refused (nothing changed). */
export class LedgerRefusal {
  readonly _tag = "LedgerRefusal"
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
  get message(): string {
    return this.reason
  }
}

type Verify = (address: string, digest: Uint8Array, signature: Uint8Array) => boolean

export class CommitteeLedger {
  readonly economy: Economy
  readonly governance: Governance
  readonly chainId: number
  readonly reserve: string | undefined
  /** Checks a validator's signature (the network's scheme). */
  readonly verify: Verify
  readonly #signers = new Map<string, string>()
  readonly #snapshots: CommitteeSnapshot[] = []
  readonly #reports = new Map<number, { readonly key: string; readonly report: EpochReport; readonly signers: ReadonlySet<string> }>()
  #contribution = new Map<string, bigint>()
  /** Every slash the ledger made, in order (the simulator's checkers read it). */
  readonly slashes: SlashReceipt[] = []
  readonly #listeners: Array<(r: Receipt) => void> = []

  private constructor(g: AppGenesis, economy: Economy, verify: Verify) {
    this.economy = economy
    this.chainId = g.chainId
    this.reserve = g.rewardReserve
    this.verify = verify
    this.governance = new Governance(new Constitution(economy.params))
    for (const v of g.validators) this.#signers.set(v.operator, v.address.toLowerCase())
  }

  /** The ledger at genesis: allocations minted, genesis validators and contributors bonded, snapshot 1 taken. */
  static genesis(g: AppGenesis, verify: Verify): Result.Result<CommitteeLedger, string> {
    const e = Economy.genesis(g.allocations, g.params, g.time)
    if (Result.isFailure(e)) return Result.fail(`genesis: ${e.failure.message}`)
    const economy = e.success
    for (const v of g.validators) {
      const r = economy.apply({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission }, g.time)
      if (Result.isFailure(r)) return Result.fail(`genesis validator ${v.operator}: ${r.failure.message}`)
    }
    for (const c of g.contributors ?? []) {
      const r = economy.apply({ type: "bondContributor", owner: c.owner, amount: c.amount, tier: c.tier }, g.time)
      if (Result.isFailure(r)) return Result.fail(`genesis contributor ${c.owner}: ${r.failure.message}`)
    }
    const ledger = new CommitteeLedger(g, economy, verify)
    ledger.snapshot(g.time)
    return Result.succeed(ledger)
  }

  /** Register (or change) the consensus signing key of a validator operator (Staking's signer registry). */
  registerSigner(operator: string, address: string): void {
    this.#signers.set(operator, address.toLowerCase())
  }

  /** The signing key an operator registered. */
  signerOf(operator: string): string | undefined {
    return this.#signers.get(operator)
  }

  /** Record the active set and the parameters now, under the next id; the id. */
  snapshot(now: number): number {
    const id = this.#snapshots.length + 1
    this.#snapshots.push(snapshotOfEconomy(this.economy, id, Math.max(now, this.economy.now), (op) => this.#signers.get(op), (op) => this.#contribution.get(op) ?? 0n))
    return id
  }

  /** The newest snapshot's id. */
  get latestSnapshot(): number {
    return this.#snapshots.length
  }

  /** Snapshot `id`, or undefined. */
  committee(id: number): CommitteeSnapshot | undefined {
    return Number.isSafeInteger(id) && id >= 1 ? this.#snapshots[id - 1] : undefined
  }

  /** The report accepted for `epoch`, or undefined. */
  epochReport(epoch: number): EpochReport | undefined {
    return this.#reports.get(epoch)?.report
  }

  /** Hear every receipt of the ledger (operations, slashes, settlements' payouts excepted), in order. */
  subscribe(listener: (r: Receipt) => void): () => void {
    this.#listeners.push(listener)
    return () => {
      const i = this.#listeners.indexOf(listener)
      if (i >= 0) this.#listeners.splice(i, 1)
    }
  }

  #publish(r: Receipt): void {
    for (const l of [...this.#listeners]) l(r)
  }

  /** Apply one economy operation (at `now`, or the ledger's time if later); its receipt goes to the listeners. */
  apply(op: Parameters<Economy["apply"]>[0], now: number): Result.Result<Receipt, EconError> {
    const r = this.economy.apply(op, Math.max(now, this.economy.now))
    if (Result.isSuccess(r)) {
      if (r.success.type === "slash") this.slashes.push(r.success)
      this.#publish(r.success)
    }
    return r
  }

  #slashed(s: SlashReceipt): void {
    this.slashes.push(s)
    this.#publish(s)
  }

  /** Settle a report signed by the quorum of its snapshot's power; refused (nothing changes) otherwise. */
  submitEpochReport(report: EpochReport, signatures: readonly ReportSignature[], now: number): Result.Result<Settlement, LedgerRefusal> {
    const snapshot = this.committee(report.snapshotId)
    if (snapshot === undefined) return Result.fail(new LedgerRefusal(`snapshot ${report.snapshotId} does not exist`))
    const short = reportShortfall(this.chainId, report, snapshot, signatures, this.verify)
    if (short !== undefined) return Result.fail(new LedgerRefusal(`epoch ${report.epoch}: ${short}`))
    const key = reportKey(this.chainId, report)
    const earlier = this.#reports.get(report.epoch)
    if (earlier !== undefined) {
      if (earlier.key === key) return Result.fail(new LedgerRefusal(`epoch ${report.epoch} was reported already`))
      // Two different reports of one epoch: whoever signed both signed conflicting statements.
      for (const s of signatures) {
        const signer = s.signer.toLowerCase()
        const member = snapshot.validators.find((v) => v.address === signer)
        if (member === undefined || !earlier.signers.has(signer)) continue
        this.apply({ type: "slash", pool: member.operator, infraction: "doubleSign", infractionTime: Math.max(now, this.economy.now), evidenceId: `conflicting-report/${member.operator}/${report.epoch}` }, now)
      }
      return Result.fail(new LedgerRefusal(`epoch ${report.epoch} was reported already with another content: its signers of both are slashed`))
    }
    const t = Math.max(now, this.economy.now)
    const slashes: SlashReceipt[] = []
    for (const operator of report.downtime) {
      const r = this.economy.apply({ type: "slash", pool: operator, infraction: "downtime", infractionTime: Math.min(report.toTime, t), evidenceId: `downtime/${operator}/${report.epoch}` }, t)
      if (Result.isSuccess(r) && r.success.type === "slash") {
        slashes.push(r.success)
        this.#slashed(r.success)
      }
    }
    let toContributors = 0n
    let toStakers = 0n
    if (this.reserve !== undefined) {
      const params = this.economy.params
      const emission = emissionFor(params, report.fromTime, report.toTime)
      const left = this.economy.balanceOf(this.reserve)
      const due = emission < left ? emission : left
      // The contributors' share is released only as far as scores pay it: what nobody earned
      // (no round scored, rounding) stays in the reserve for later epochs.
      const share = mulWad(due, econConfig(params).contributorShare)
      if (share > 0n && report.scored.length > 0) {
        const scores = report.scored.map((account, i) => ({ account, score: Number(report.scores[i]!) }))
        const paid = this.economy.payContributors(this.reserve, share, scores, t)
        if (Result.isSuccess(paid)) toContributors = paid.success.paid
      }
      const rest = due - share
      if (rest > 0n && Result.isSuccess(this.economy.apply({ type: "fundRewards", from: this.reserve, amount: rest }, t))) toStakers = rest
    }
    let fees = 0n
    for (const [i, payer] of report.feePayers.entries()) {
      const amount = report.fees[i]!
      if (amount > 0n && Result.isSuccess(this.economy.apply({ type: "payFee", payer, amount }, t))) fees += amount
    }
    const operators = new Map(snapshot.validators.map((v) => [v.operator, v] as const))
    this.#contribution = new Map(report.scored.flatMap((a, i) => (operators.has(a) || this.#signers.has(a) ? [[a, report.scores[i]!] as const] : [])))
    this.#reports.set(report.epoch, { key, report, signers: new Set(signatures.map((s) => s.signer.toLowerCase())) })
    return Result.succeed({ epoch: report.epoch, slashes, toContributors, toStakers, fees })
  }

  /**
   * Slash and tombstone `operator` for double signing, once per `evidenceId` (the in-memory side of
   * `Staking.slashDoubleSign`, whose votes the node has verified): first one wins, a repeat is refused.
   */
  convict(operator: string, evidenceId: string, infractionTime: number, now: number): Result.Result<SlashReceipt, EconError> {
    const t = Math.max(now, this.economy.now)
    const r = this.economy.apply({ type: "slash", pool: operator, infraction: "doubleSign", infractionTime: Math.min(infractionTime, t), evidenceId }, t)
    if (Result.isFailure(r)) return Result.fail(r.failure)
    const s = r.success as SlashReceipt
    this.#slashed(s)
    return Result.succeed(s)
  }
}

/** A ledger at genesis and one replica over it (tests, genesis checks); throws an AppError naming what does not apply. */
export const genesisReplica = (g: AppGenesis, verify: Verifier): { readonly ledger: CommitteeLedger; readonly app: App } => {
  const r = CommitteeLedger.genesis(g, verify)
  if (Result.isFailure(r)) throw new AppError({ reason: r.failure })
  return { ledger: r.success, app: App.genesis(g, verify, r.success) }
}

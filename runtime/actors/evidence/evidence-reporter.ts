/**
 * Double-sign evidence settles on the chain: every equivocation this node holds — in its evidence
 * pool, or carried by a block it executed — is submitted once to the Chain port's
 * `slashDoubleSign` (Staking.slashDoubleSign on a real node: the contract checks the signatures
 * itself, so any node may submit and nobody is trusted). Every node does it; the first submission
 * slashes, the others are refused.
 *
 * One submission in flight at a time, in the order evidence was found. Outcomes:
 *  - slashed → `evidence.settled` (the receipt: pool, evidence id, what was slashed);
 *  - refused by a rule → `evidence.refused` with the error's tag and message, and `already: true`
 *    when someone settled it first (`StakingInfractionAlreadySlashed`, or `StakingTombstoned`: the
 *    validator was tombstoned by other evidence). Either way it is done: a rule does not change its
 *    mind, so it is never sent again;
 *  - `ChainUnavailable` (or any other failure) → sent again after a backoff on the node's clock
 *    (retryMs, doubled each time up to maxRetryMs), logged once per equivocation;
 *  - votes that cannot be encoded for the chain (a bug: consensus checked them) → `evidence.refused`
 *    with reason `EvidenceMalformed`, final.
 * Nothing here throws into the node: a failure is an outcome.
 *
 * Evidence is read after each executed block (the block's `evidence` txs, then the pool), and the
 * pool once at start. An equivocation is known by `evidenceKey` (validator, height, round, type), the
 * same identity as the ledger's evidence id, so two pairs of votes showing one offence go once.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { evidenceKey, type EvidencePool } from "../../core/consensus/evidence-pool.ts"
import type { AppTx, DuplicateVoteEvidence } from "../../core/consensus/types.ts"
import type { Address, EconError, SlashReceipt } from "../../core/econ/index.ts"
import type { Chain, ChainUnavailable, SignedVote } from "../../services/chain.ts"
import type { NodeContext } from "../context.ts"
import { signedVotes } from "../../core/consensus/double-sign.ts"

/** What the reporter needs of its node. */
export type EvidenceContext = Pick<NodeContext, "clock" | "run" | "emit" | "executed"> & {
  readonly app: Pick<NodeContext["app"], "chainId">
  readonly evidence: Pick<EvidencePool, "pending">
  readonly keys: Pick<NodeContext["keys"], "address">
}

export interface EvidenceReporterOptions {
  /** Where evidence settles (the node's Chain port). */
  readonly chain: Pick<Chain["Service"], "slashDoubleSign">
  /** The account that sends it (default: the node's signing address, whose key the node holds). */
  readonly submitter?: Address
  /** First wait before sending again after the chain was unavailable (default 1 s). */
  readonly retryMs?: number
  /** Longest wait between two attempts (default 60 s). */
  readonly maxRetryMs?: number
}

/** Where one equivocation stands. */
export type EvidenceStatus = "queued" | "submitting" | "waiting" | "settled" | "refused"

export interface EvidenceReporter {
  /** Each equivocation seen, by `evidenceKey`, and where it stands. */
  statuses(): ReadonlyMap<string, EvidenceStatus>
  /** Hand evidence to the reporter (what it reads itself comes through here too); false if already known. */
  offer(evidence: DuplicateVoteEvidence): boolean
  stop(): void
}

/** Refusals meaning the equivocation was punished already (by this or another submission). */
const ALREADY = new Set(["StakingInfractionAlreadySlashed", "StakingTombstoned"])

interface Entry {
  readonly evidence: DuplicateVoteEvidence
  status: EvidenceStatus
  attempts: number
  warned: boolean
  timer?: unknown
}

const isEvidenceTx = (tx: AppTx): tx is AppTx & DuplicateVoteEvidence =>
  tx.type === "evidence" && typeof (tx as Partial<DuplicateVoteEvidence>).voteA === "object" && typeof (tx as Partial<DuplicateVoteEvidence>).voteB === "object"

/** Start submitting the node's double-sign evidence to the chain; `stop` ends it (an answer still due is ignored). */
export const startEvidenceReporter = (ctx: EvidenceContext, options: EvidenceReporterOptions): EvidenceReporter => {
  const { chain } = options
  const submitter = options.submitter ?? ctx.keys.address
  const retryMs = Math.max(1, options.retryMs ?? 1_000)
  const maxRetryMs = Math.max(retryMs, options.maxRetryMs ?? 60_000)
  const entries = new Map<string, Entry>()
  const queue: string[] = []
  let busy = false
  let stopped = false

  const about = (e: DuplicateVoteEvidence) => ({ validator: e.voteA.validator, height: e.voteA.height, round: e.voteA.round, type: e.voteA.type })

  const settled = (entry: Entry, r: SlashReceipt) => {
    entry.status = "settled"
    ctx.emit("evidence.settled", {
      ...about(entry.evidence), evidenceId: r.evidenceId, pool: r.pool, operator: r.operator, submitter,
      slashed: r.totalSlashed.toString(), burnt: r.burnt.toString(), tombstoned: r.tombstoned,
    })
  }

  const refused = (entry: Entry, error: { readonly _tag: string; readonly message: string }) => {
    entry.status = "refused"
    const already = ALREADY.has(error._tag)
    ctx.emit("evidence.refused", { ...about(entry.evidence), reason: error._tag, message: error.message, already, submitter })
  }

  const retry = (key: string, entry: Entry, reason: string) => {
    entry.status = "waiting"
    const wait = Math.min(maxRetryMs, retryMs * 2 ** Math.min(entry.attempts - 1, 30))
    if (!entry.warned) {
      entry.warned = true
      const { validator, height } = entry.evidence.voteA
      ctx.emit("log", { level: "warn", message: `evidence: cannot submit the double sign of ${validator} at height ${height} to the chain (${reason}); trying again, every ${maxRetryMs / 1000} s at most` })
    }
    entry.timer = ctx.clock.setTimeout(() => {
      entry.timer = undefined
      if (stopped || entry.status !== "waiting") return
      entry.status = "queued"
      queue.push(key)
      pump()
    }, wait)
  }

  const outcome = (key: string, entry: Entry, exit: Exit.Exit<SlashReceipt, EconError | ChainUnavailable>) => {
    busy = false
    if (stopped) return
    if (Exit.isSuccess(exit)) settled(entry, exit.value)
    else {
      const error = Cause.findErrorOption(exit.cause)
      if (Option.isSome(error) && error.value._tag !== "ChainUnavailable") refused(entry, error.value as EconError)
      else retry(key, entry, Option.isSome(error) ? error.value.message : Cause.pretty(exit.cause).split("\n")[0] ?? "failed")
    }
    pump()
  }

  const pump = () => {
    if (busy || stopped) return
    const key = queue.shift()
    if (key === undefined) return
    const entry = entries.get(key)!
    let votes: readonly [SignedVote, SignedVote]
    try {
      votes = signedVotes(entry.evidence, ctx.app.chainId)
    } catch (e) {
      // Votes no chain could read (consensus checked them, so only a bug gets here): final, like a refusal.
      refused(entry, { _tag: "EvidenceMalformed", message: `the votes cannot be encoded for the chain: ${e instanceof Error ? e.message : String(e)}` })
      return pump()
    }
    const [a, b] = votes
    busy = true
    entry.status = "submitting"
    entry.attempts++
    // Any failure, a defect included, is an outcome: the node never sees it thrown.
    const submit = Effect.suspend(() => chain.slashDoubleSign(a, b, submitter))
    ctx.run(Effect.exit(submit).pipe(Effect.flatMap((exit) => Effect.sync(() => outcome(key, entry, exit)))))
  }

  const offer = (evidence: DuplicateVoteEvidence): boolean => {
    if (stopped) return false
    const key = evidenceKey(evidence)
    if (entries.has(key)) return false
    entries.set(key, { evidence, status: "queued", attempts: 0, warned: false })
    queue.push(key)
    pump()
    return true
  }

  const readPool = () => {
    for (const e of ctx.evidence.pending()) offer(e)
  }
  readPool()
  const unsubscribe = ctx.executed.subscribe(({ block }) => {
    for (const tx of block.txs) if (isEvidenceTx(tx)) offer({ voteA: tx.voteA, voteB: tx.voteB })
    readPool()
  })

  return {
    statuses: () => new Map([...entries].map(([k, e]) => [k, e.status])),
    offer,
    stop: () => {
      stopped = true
      unsubscribe()
      for (const e of entries.values()) if (e.timer !== undefined) ctx.clock.clearTimeout(e.timer)
    },
  }
}

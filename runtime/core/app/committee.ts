/**
 * Committee snapshots as the App reads them: the validator set and the parameters of an epoch, as
 * the ledger recorded them under a snapshot id (issue 12, plan §1). The App holds no economy: it
 * only ever sees snapshots, handed over by its node from the Chain port (the NodeContext's cache).
 * A snapshot never changes once taken, so every node that loads snapshot N sees the same set.
 */
import type { Params } from "../params.ts"
import { powerParams, votingPowers, type Candidate } from "../consensus/power.ts"
import { ValidatorSet } from "../consensus/validator-set.ts"
import type { Economy } from "../econ/index.ts"
import { WAD } from "../units.ts"

/** One active validator in a snapshot. */
export interface CommitteeMember {
  /** Account of the operator on the ledger ("v0", or a 0x address). */
  readonly operator: string
  /** Consensus signing address (0x…, lowercase). */
  readonly address: string
  readonly stake: bigint
  /** Lock multiplier of the pool, as a wad. */
  readonly multiplierWad: bigint
  /** Contribution: the operator's scores in the last accepted epoch report. */
  readonly contribution: bigint
  /** Voting power by the rule of consensus/power.ts. */
  readonly power: bigint
}

/** A bonded trainer (contributor pool) in a snapshot. */
export interface CommitteeTrainer {
  readonly owner: string
  readonly stake: bigint
}

/** What the ledger recorded under one snapshot id. */
export interface CommitteeSnapshot {
  readonly id: number
  /** Ledger time the snapshot was taken at (ms). */
  readonly time: number
  /** Validators with power, in validator-set order. */
  readonly validators: readonly CommitteeMember[]
  readonly trainers: readonly CommitteeTrainer[]
  /** The parameters in force on the ledger when it was taken. */
  readonly params: Params
}

/** Where the App finds a snapshot it has been told about (the node's cache of the Chain port). */
export interface CommitteeSource {
  committee(id: number): CommitteeSnapshot | undefined
}

/** The validator set of a snapshot from `startHeight`, without the validators in `excluded`; undefined when nobody is left. */
export const setOfSnapshot = (s: CommitteeSnapshot, startHeight: number, excluded: ReadonlySet<string> = new Set()): ValidatorSet | undefined => {
  const members = s.validators.filter((v) => !excluded.has(v.address) && v.power > 0n)
  return members.length === 0 ? undefined : ValidatorSet.from(members.map((v) => ({ address: v.address, power: v.power })), startHeight)
}

/**
 * A snapshot of an in-memory ledger: the active validator pools (registered signing key, not
 * jailed, not tombstoned, with stake), their voting power from stake × multiplier and
 * `contribution`, the bonded contributor pools, and the parameters in force.
 */
export const snapshotOfEconomy = (
  economy: Economy,
  id: number,
  time: number,
  signerOf: (operator: string) => string | undefined,
  contributionOf: (operator: string) => bigint,
): CommitteeSnapshot => {
  const params = economy.params
  const active: Array<{ operator: string; candidate: Candidate }> = []
  const trainers: CommitteeTrainer[] = []
  for (const p of economy.pools()) {
    if (p.kind === "contributor") {
      if (p.tokens > 0n && !p.jailed && !p.tombstoned) trainers.push({ owner: p.operator, stake: p.tokens })
      continue
    }
    const address = signerOf(p.operator)
    if (address === undefined || p.jailed || p.tombstoned || p.shares === 0n || p.tokens === 0n) continue
    active.push({ operator: p.operator, candidate: { address, stake: p.tokens, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: contributionOf(p.operator) } })
  }
  const byAddress = new Map(active.map((a) => [a.candidate.address, a]))
  const validators = active.length === 0 ? [] : votingPowers(active.map((a) => a.candidate), powerParams(params)).map((v) => {
    const a = byAddress.get(v.address)!
    return { operator: a.operator, address: v.address, stake: a.candidate.stake, multiplierWad: a.candidate.multiplierWad, contribution: a.candidate.contribution, power: v.power }
  })
  trainers.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))
  return { id, time, validators, trainers, params }
}

/**
 * Committee snapshots as the App reads them: the validator set and the parameters of an epoch, as
 * the ledger recorded them under a snapshot id (core/committee `Snapshot`: issue 12, plan §1). The
 * App holds no economy: it only ever sees snapshots, handed over by its node from the Chain port
 * (the NodeContext's cache). A snapshot never changes once taken, so every node that loads
 * snapshot N sees the same set.
 */
import type { Snapshot } from "../committee/types.ts"
import { ValidatorSet } from "../consensus/validator-set.ts"

/** Where the App finds a snapshot it has been told about (the node's cache of the Chain port). */
export interface CommitteeSource {
  committee(id: number): Snapshot | undefined
}

/**
 * Sets made from snapshots, by snapshot object, start height and who was left out: a snapshot never
 * changes, and a ValidatorSet never changes either, so the replicas of a simulated world (which read
 * the same snapshot objects from one ledger) share one set object per epoch — its lookups, its hash,
 * and what is memoised per set (the signer flags of a block's last-commit) — instead of each building
 * its own. A real node has one replica: it makes each set once, as before.
 */
const setsOf = new WeakMap<Snapshot, Map<string, ValidatorSet | undefined>>()

/** The validator set of a snapshot from `startHeight`, without the signing keys in `excluded`; undefined when nobody is left. */
export const setOfSnapshot = (s: Snapshot, startHeight: number, excluded: ReadonlySet<string> = new Set()): ValidatorSet | undefined => {
  let sets = setsOf.get(s)
  if (sets === undefined) setsOf.set(s, (sets = new Map()))
  let key = String(startHeight)
  if (excluded.size > 0) for (const v of s.validators) if (excluded.has(v.signingKey)) key += `,${v.signingKey}`
  if (sets.has(key)) return sets.get(key)
  const members = s.validators.filter((v) => !excluded.has(v.signingKey) && v.power > 0n)
  const set = members.length === 0 ? undefined : ValidatorSet.from(members.map((v) => ({ address: v.signingKey, power: v.power })), startHeight)
  sets.set(key, set)
  return set
}

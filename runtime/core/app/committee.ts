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

/** The validator set of a snapshot from `startHeight`, without the signing keys in `excluded`; undefined when nobody is left. */
export const setOfSnapshot = (s: Snapshot, startHeight: number, excluded: ReadonlySet<string> = new Set()): ValidatorSet | undefined => {
  const members = s.validators.filter((v) => !excluded.has(v.signingKey) && v.power > 0n)
  return members.length === 0 ? undefined : ValidatorSet.from(members.map((v) => ({ address: v.signingKey, power: v.power })), startHeight)
}

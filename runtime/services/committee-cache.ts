/**
 * The committee snapshots a node has loaded from its Chain port (`Chain.committee(id)`), read
 * synchronously by its App: an App never waits, so its node loads a snapshot a block names before
 * judging the block. Snapshots never change once taken, so a loaded one is kept for good.
 */
import { Effect, Schema } from "effect"
import type { Snapshot } from "../core/committee/types.ts"
import type { CommitteeSource } from "../core/app/committee.ts"
import type { Chain, ChainUnavailable } from "./chain.ts"

/**
 * A stored block names a committee snapshot the ledger answered it does not have (not: the ledger
 * did not answer). The store was built on a ledger that is gone — an in-memory ledger or an
 * in-process chain that did not survive a restart — or on another network's.
 */
export class SnapshotAbsent extends Schema.TaggedError<SnapshotAbsent>()("SnapshotAbsent", {
  height: Schema.Number,
  snapshot: Schema.Number,
}) {
  override get message(): string {
    return `the stored block at height ${this.height} names committee snapshot ${this.snapshot}, which the ledger does not have: ` +
      `this store was built on a ledger that did not survive a restart (an in-memory ledger not kept, a devnet's in-process chain) or on another network's; ` +
      `start from a fresh data dir, or on the ledger this store was built on`
  }
}

/** The snapshots a node has loaded, read synchronously by its App. */
export interface CommitteeCache extends CommitteeSource {
  /** Load snapshot `id` from the ledger into the cache; whether it exists. */
  load(id: number): Effect.Effect<boolean, ChainUnavailable>
  /** Keep a snapshot read otherwise (`Chain.latestSnapshot`). */
  remember(snapshot: Snapshot): void
}

/** A cache over the ledger's `committee(id)`. */
export const committeeCache = (ledger: Pick<Chain["Service"], "committee">): CommitteeCache => {
  const known = new Map<number, Snapshot>()
  return {
    committee: (id) => known.get(id),
    load: (id) =>
      known.has(id) ? Effect.succeed(true) : Effect.map(ledger.committee(id), (s) => {
        if (s !== undefined && s.id === id) known.set(id, s)
        return s !== undefined
      }),
    remember: (s) => void known.set(s.id, s),
  }
}

/**
 * The committee snapshots a node has loaded from its Chain port (`Chain.committee(id)`), read
 * synchronously by its App: an App never waits, so its node loads a snapshot a block names before
 * judging the block. Snapshots never change once taken, so a loaded one is kept for good.
 */
import { Effect } from "effect"
import type { Snapshot } from "../core/committee/types.ts"
import type { CommitteeSource } from "../core/app/committee.ts"
import type { Chain, ChainUnavailable } from "./chain.ts"

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

/**
 * What the Store suite's topics share. A setup returns a fresh, empty store and a `reopen` that
 * simulates a restart after a clean sync.
 */
import { Effect } from "effect"
import type { Store } from "../../store.ts"
import type { TestSetup } from "../test-setup.ts"

export interface StoreHarness {
  readonly store: Store["Service"]
  /** The same store as a restarted node sees it (everything synced must be there). */
  reopen(): Promise<Store["Service"]>
}

/** How the Store suite gets a fresh, empty store. */
export type StoreSetup = TestSetup<StoreHarness>

/** The UTF-8 bytes of `s`. */
export const bytes = (s: string) => new TextEncoder().encode(s)
/** Runs an effect of the port, as a promise. */
export const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

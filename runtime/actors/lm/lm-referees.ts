/**
 * Which validators to ask about a paid stage's note (docs/lm.md, "Who is asked"): the active validators
 * of the ledger that announce the lm referee on the note's backend (`lm/referee/<backend>`,
 * core/lm/backend.ts), so a validator that runs no language model — or runs it on another backend,
 * where it could only answer `unable` — is not drawn. When none announces it (a network whose
 * validators predate the announcement, or whose DHT has not answered yet), every active validator:
 * the old behaviour, where one that cannot judge stays silent or answers `unable`.
 *
 * Used by the client's audit (audit.ts) and by a stage server defending its notes (defense.ts).
 */
import { Effect } from "effect"
import { lmRefereeKey } from "../../core/lm/backend.ts"
import type { MarketContext } from "../market/context.ts"

/** How long a backend's referee list is kept before it is looked up again (ms). */
export const REFEREE_LIST_TTL_MS = 30_000

/** Finds the referees of a backend; `override` replaces the lookup (tests, a fixed committee). */
export const lmRefereeFinder = (ctx: Pick<MarketContext, "run" | "ledger" | "network" | "now">, override?: (backend: string) => readonly string[]) => {
  const cache = new Map<string, { readonly at: number; readonly peers: readonly string[] }>()
  const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => new Promise((resolve, reject) => ctx.run(Effect.matchEffect(e, { onFailure: (x) => Effect.sync(() => reject(x)), onSuccess: (a) => Effect.sync(() => resolve(a)) })))
  return async (backend: string): Promise<readonly string[]> => {
    if (override !== undefined) return override(backend)
    const hit = cache.get(backend)
    if (hit !== undefined && ctx.now() - hit.at < REFEREE_LIST_TTL_MS) return hit.peers
    const pools = await run(ctx.ledger.pools).catch(() => [])
    const active = pools.filter((p) => p.kind === "validator" && !p.jailed && !p.tombstoned && p.tokens > 0n).map((p) => p.operator).sort()
    const announced = new Set((await run(ctx.network.findProviders(lmRefereeKey(backend))).catch(() => [])).map((p) => p.peer))
    const running = active.filter((v) => announced.has(v))
    const peers = running.length > 0 ? running : active
    // A fallback is not kept: the announcements may arrive at the next look.
    if (running.length > 0) cache.set(backend, { at: ctx.now(), peers })
    return peers
  }
}

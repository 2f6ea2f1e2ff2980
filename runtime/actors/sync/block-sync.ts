/**
 * Block sync, as its own actor beside consensus: a node that sees a peer ahead (a proposal, vote or
 * certificate of a later height) asks that peer for the commit certificates it misses, and every
 * node answers such requests from its store. The certificates come back on the consensus topic,
 * where the consensus actor checks them as any other certificate; so sync never executes anything.
 *
 * Wire: a request is the JSON `{ "from": height }` sent to one peer on `consensus/sync`; the answer
 * is up to SYNC_BATCH stored certificates from that height on, each sent to the asker on `consensus`
 * with the bytes the store holds. A malformed request is counted against its sender, never thrown.
 */
import { Effect, Result, Schema } from "effect"
import { blockKey } from "../../core/consensus/store-keys.ts"
import type { Envelope } from "../../services/network.ts"
import { CONSENSUS_TOPIC, SYNC_TOPIC } from "../consensus/topics.ts"
import type { NodeContext } from "../context.ts"

/** Certificates sent per sync request. */
export const SYNC_BATCH = 32
/** A node asks one peer at most this often (ms): every message of a peer ahead would otherwise ask again. */
export const SYNC_ASK_EVERY = 1_000

/** The block sync of one node: what consensus asks of it, and how the world stops it. */
export interface SyncActor {
  /** This node saw `peer` ahead of it: ask `peer` for the certificates after this node's height (rate-limited per peer). */
  behind(peer: string): void
  stop(): void
}

const SyncRequest = Schema.Struct({ from: Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 1) || "a height >= 1")) })
const decodeSync = Schema.decodeUnknownResult(SyncRequest)
const utf8 = new TextEncoder()

/** Start answering sync requests from this node's store, and asking peers when consensus finds the node behind. */
export const startSync = (ctx: NodeContext) =>
  Effect.gen(function* () {
    const { app, run, network, store } = ctx
    let stopped = false
    const lastAsk = new Map<string, number>()

    const onSync = (env: Envelope) => {
      if (stopped) return
      let value: unknown
      try {
        value = JSON.parse(new TextDecoder().decode(env.data))
      } catch {
        return ctx.fault(env.from, "sync request: not JSON")
      }
      const req = decodeSync(value, { onExcessProperty: "error" })
      if (Result.isFailure(req)) return ctx.fault(env.from, "sync request: expected { from: height }")
      run(Effect.gen(function* () {
        for (let h = req.success.from; h < req.success.from + SYNC_BATCH && h <= app.height; h++) {
          const bytes = yield* store.get(blockKey(h))
          if (bytes !== undefined) yield* Effect.ignore(network.send(env.from, CONSENSUS_TOPIC, bytes))
        }
      }).pipe(Effect.ignore))
    }

    const unsubscribe = yield* network.subscribe(SYNC_TOPIC, onSync)

    const sync: SyncActor = {
      behind: (peer) => {
        if (stopped) return
        const now = ctx.now()
        if ((lastAsk.get(peer) ?? -Infinity) + SYNC_ASK_EVERY > now) return
        lastAsk.set(peer, now)
        run(Effect.ignore(network.send(peer, SYNC_TOPIC, utf8.encode(JSON.stringify({ from: app.height + 1 })))))
      },
      stop: () => {
        if (stopped) return
        stopped = true
        run(unsubscribe)
      },
    }
    return sync
  })

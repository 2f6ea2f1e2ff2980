/**
 * What the market actors take from a node (the parts of `NodeContext` they use, so a world may hand
 * them a full node context or just a market node's ports: the simulator's providers and requesters
 * are nodes of the network without a consensus replica). Every rule is on the ledger: the actors
 * reach it only through `ledger` (the Chain port's `market*` members).
 */
import { Effect, Result } from "effect"
import type { NodeContext } from "../context.ts"

export type MarketContext = Pick<NodeContext, "name" | "clock" | "now" | "run" | "random" | "network" | "ledger" | "params" | "emit" | "fault">

/** Uniform integers in [0, n) from the node's random bytes (routing's RandomSource). */
export const randomInt = (ctx: Pick<MarketContext, "random">, n: number): number => {
  if (!(Number.isSafeInteger(n) && n > 0)) throw new RangeError(`randomInt: n must be a whole number > 0, got ${n}`)
  // Rejection sampling over 32 bits: no modulo bias.
  const limit = Math.floor(0x1_0000_0000 / n) * n
  for (;;) {
    const b = ctx.random.bytes(4)
    const x = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0
    if (x < limit) return x % n
  }
}

/** True with probability `p` (0..1) drawn from the node's randomness (to 1e-6). */
export const chance = (ctx: Pick<MarketContext, "random">, p: number): boolean => p > 0 && (p >= 1 || randomInt(ctx, 1_000_000) < Math.round(p * 1_000_000))

/** Run `effect` in the node's world and hand its outcome to `ok` or `fail` (never throws into the runner). */
export const call = <A, E>(ctx: Pick<MarketContext, "run">, effect: Effect.Effect<A, E>, ok: (a: A) => void, fail: (e: E) => void = () => {}): void =>
  ctx.run(Effect.flatMap(Effect.result(effect), (r) => Effect.sync(() => (Result.isSuccess(r) ? ok(r.success) : fail(r.failure)))))

/** What went wrong, for telemetry and the machines' reasons. */
export const reasonOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e ? `${String((e as { _tag: unknown })._tag)}${"message" in e && typeof e.message === "string" && e.message !== "" ? `: ${e.message}` : ""}` : String(e)

/** The provider key of a job kind in the DHT. */
export const marketKey = (kind: string): string => `market/${kind}`

/**
 * The secure-aggregation bench's record of a server's work: every call the server got in one round,
 * in order, as plain data (so that it can be replayed into a fresh server, in this process or in
 * another one), and the replay itself. Bench code only.
 */
import { SecAggServer, type SecAggConfig } from "../runtime/core/training/secagg/index.ts"

/** The server's methods that take at most one message and are called while a round runs. */
export type ServerMethod = "receiveAdvert" | "closeAdvertise" | "receiveShares" | "closeShareKeys" | "receiveMaskedInput" | "closeMaskedInput" | "receiveUnmaskResponse"

/** One call: the method and its message (undefined for the `close…` calls). */
export type ServerStep = readonly [ServerMethod, unknown]

/** A fresh server fed `steps` in order, then `finish()`: the sum it returns. */
export const replay = (config: SecAggConfig, steps: readonly ServerStep[]): Uint32Array => {
  const server = new SecAggServer(config)
  for (const [method, arg] of steps) (server[method] as (a?: unknown) => unknown).call(server, arg)
  return server.finish()
}

/** The plain sum mod 2^32 of `vectors`, each `length` words: the baseline every server figure is divided by. */
export const plainSum = (vectors: readonly Uint32Array[], length: number): Uint32Array => {
  const s = new Uint32Array(length)
  for (const v of vectors) for (let i = 0; i < length; i++) s[i] = (s[i]! + v[i]!) >>> 0
  return s
}

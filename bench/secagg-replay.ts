/**
 * The secure-aggregation bench's record of a server's work: every call the server got in one round,
 * in order, as plain data (so that it can be replayed into a fresh server, in this process or in
 * another one), the replay itself, the plain sums it is measured against, and the timing helpers
 * both processes use. Bench code only.
 */
import { accumulate } from "../runtime/core/training/secagg/primitives.ts"
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

/** The plain sum mod 2^32 of `vectors`, each `length` words, as one simple loop per vector: the bench's first baseline. */
export const plainSum = (vectors: readonly Uint32Array[], length: number): Uint32Array => {
  const s = new Uint32Array(length)
  for (const v of vectors) for (let i = 0; i < length; i++) s[i] = (s[i]! + v[i]!) >>> 0
  return s
}

/**
 * The same sum by the server's own pass (`accumulate`) without masks: chunked so that the sum's
 * chunk stays in cache while every vector is added to it. The fastest plain sum we have (about 3×
 * the simple loop's speed here), so a ratio against it is the masking's whole cost and nothing else.
 */
export const chunkedPlainSum = (vectors: readonly Uint32Array[], length: number): Uint32Array => {
  const s = new Uint32Array(length)
  accumulate(s, vectors)
  return s
}

/** CPU milliseconds of this process so far (every thread: V8's GC threads count too). */
export const cpu = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** The median (the upper one of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!

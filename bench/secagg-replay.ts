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

/** What `timeReplay` measured: medians of process CPU ms, and whether every sum was the expected one. */
export interface ReplayTimes {
  readonly server: number
  readonly plain: number
  readonly chunked: number
  readonly correct: boolean
}

/**
 * The recorded round replayed into a fresh server `runs` times, each followed by both plain sums of
 * the survivors' vectors (the simple loop, the chunked pass); the first `warmup` of each are left out.
 */
export const timeReplay = (config: SecAggConfig, steps: readonly ServerStep[], survivors: readonly Uint32Array[], expected: Uint32Array, runs: number, warmup: number): ReplayTimes => {
  const server: number[] = []
  const plain: number[] = []
  const chunked: number[] = []
  let correct = true
  for (let r = 0; r < runs; r++) {
    let t0 = cpu()
    const out = replay(config, steps)
    const ts = cpu() - t0
    t0 = cpu()
    const sum = plainSum(survivors, config.length)
    const tp = cpu() - t0
    t0 = cpu()
    const fast = chunkedPlainSum(survivors, config.length)
    const tc = cpu() - t0
    if (r >= warmup) {
      server.push(ts)
      plain.push(tp)
      chunked.push(tc)
    }
    correct &&= out.length === expected.length && [out, sum, fast].every((v) => v.every((x, i) => x === expected[i]))
  }
  return { server: median(server), plain: median(plain), chunked: median(chunked), correct }
}

/**
 * How the EVM adapters on one provider send their reads (the Chain port's queries). A devnet's nodes
 * share one in-process chain; on a loaded machine it answered slower than their pollers asked, and
 * it never caught up: a caller's timeout (the adapter's 30 s) left its request queued in the chain,
 * which went on serving abandoned requests while new ones queued behind them.
 *
 * - Reads in flight on one provider are bounded (MAX_READS_IN_FLIGHT); the rest wait their turn in
 *   order, and a read whose caller gave up while it waited (its AbortSignal: the timeout interrupts
 *   the Effect) is never sent.
 * - The block number is single-flight: callers that ask for it while a request for it is out take
 *   that request's answer (asked no earlier than them, so no older than what they would have got).
 *
 * Every adapter on one provider shares one gate (`readGateOf`).
 */

/** Reads (queries of the Chain port) sent at once on one provider; more wait in order. */
export const MAX_READS_IN_FLIGHT = 16

export interface ReadGate {
  /** The provider's block number, one request at a time shared by every caller. */
  latest(read: () => Promise<number>): Promise<number>
  /** Run the read `f` when fewer than the bound are in flight; never, when `signal` aborts first. */
  limit<A>(signal: AbortSignal, f: () => Promise<A>): Promise<A>
  /** Reads running and waiting now. */
  readonly load: () => { readonly running: number; readonly waiting: number }
}

export const makeReadGate = (maxInFlight = MAX_READS_IN_FLIGHT): ReadGate => {
  let latestInFlight: Promise<number> | undefined
  let running = 0
  const waiting: Array<{ readonly signal: AbortSignal; readonly start: () => void }> = []
  const next = () => {
    while (running < maxInFlight && waiting.length > 0) {
      const w = waiting.shift()!
      if (!w.signal.aborted) w.start()
    }
  }
  return {
    load: () => ({ running, waiting: waiting.length }),
    latest: (read) => {
      if (latestInFlight !== undefined) return latestInFlight
      const p = read().finally(() => {
        if (latestInFlight === p) latestInFlight = undefined
      })
      latestInFlight = p
      return p
    },
    limit: <A>(signal: AbortSignal, f: () => Promise<A>): Promise<A> =>
      new Promise<A>((resolve, reject) => {
        const start = () => {
          running++
          let p: Promise<A>
          try {
            p = f()
          } catch (e) {
            p = Promise.reject(e)
          }
          p.then(resolve, reject).finally(() => {
            running--
            next()
          })
        }
        if (signal.aborted) return reject(signal.reason)
        if (running < maxInFlight) return start()
        const w = { signal, start }
        waiting.push(w)
        signal.addEventListener("abort", () => {
          const i = waiting.indexOf(w)
          if (i >= 0) waiting.splice(i, 1)
          reject(signal.reason)
        }, { once: true })
      }),
  }
}

const gates = new WeakMap<object, ReadGate>()

/** The gate every adapter on `provider` shares. */
export const readGateOf = (provider: object): ReadGate => {
  let g = gates.get(provider)
  if (g === undefined) gates.set(provider, (g = makeReadGate()))
  return g
}

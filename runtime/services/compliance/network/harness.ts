/**
 * What the Network suite's topics share. A setup starts `nodes` connected nodes of one fresh
 * network. `settle()` lets that world run for a while: the simulator runs its scheduler dry, libp2p
 * waits until subscriptions have spread and a little longer. The suite never assumes one `settle()`
 * is enough for a delivery (it retries, within a bound), but it does assume that after a delivery has
 * been seen, one more `settle()` lets any duplicate or stray copy surface — that is how "exactly
 * once" and "only the target" are checked.
 */
import { Effect } from "effect"
import { expect } from "vitest"
import type { Envelope, Network, PeerId } from "../../network.ts"
import type { TestSetup } from "../test-setup.ts"

export interface NetworkHarness {
  readonly networks: readonly Network["Service"][]
  /** Lets the world run: messages in flight are delivered, subscriptions propagate. */
  settle(): Promise<void>
  /** A well-formed id of a peer that is not on this network, if the backend has such a notion. */
  readonly unknownPeer?: PeerId
  /** Node `node` serves `bytes` as its record for `key`, unchecked (a byzantine provider). */
  provideRaw(node: number, key: string, bytes: Uint8Array): Promise<void>
  /** Stops node `node` (its port is released; the others keep running). */
  stop(node: number): Promise<void>
}

/** What a test asks for: how many connected nodes. */
export interface NetworkSetupArgs {
  readonly nodes: number
}

/** How the Network suite gets a fresh network of connected nodes. */
export type NetworkSetup = TestSetup<NetworkHarness, NetworkSetupArgs>

export interface NetworkSuiteOptions {
  /** Most `settle()` rounds to wait for an expected delivery before failing. Default 100. */
  readonly maxRounds?: number
}

/** Runs an effect of the port, as a promise. */
export const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
/** The UTF-8 bytes of `s`. */
export const bytes = (s: string) => new TextEncoder().encode(s)
/** `b` decoded as UTF-8. */
export const text = (b: Uint8Array) => new TextDecoder().decode(b)
/** `b` as hex, to compare payloads as strings. */
export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

/** Deterministic pseudo-random bytes (xorshift32), so a failure is the same on every run. */
export function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Subscribes a handler that records what it gets. */
export async function record(net: Network["Service"], topic: string) {
  const got: Envelope[] = []
  const unsubscribe = await run(net.subscribe(topic, (m) => got.push(m)))
  return { got, unsubscribe: () => run(unsubscribe) }
}

/** What every topic file gets: the setup, the suite's name and bound, and the two helpers built on them. */
export interface NetworkTopic {
  readonly common: NetworkSetup
  readonly name: string
  readonly maxRounds: number
  /** Settles until `done()` holds; fails after `maxRounds` with `what` and the state `show()` reports. */
  eventually(h: NetworkHarness, done: () => boolean, what: string, show?: () => unknown): Promise<void>
  /** Sets up `n` nodes and runs `body` on them (the topic's `afterEach` tears them down). */
  withNetworks(n: number, body: (h: NetworkHarness, nets: readonly Network["Service"][]) => Promise<void>): Promise<void>
}

/** The topic context for the suite `name` over `common`. */
export const networkTopic = (name: string, common: NetworkSetup, options: NetworkSuiteOptions = {}): NetworkTopic => {
  const maxRounds = options.maxRounds ?? 100
  return {
    common,
    name,
    maxRounds,
    eventually: async (h, done, what, show = () => "") => {
      for (let round = 0; round < maxRounds; round++) {
        await h.settle()
        if (done()) return
      }
      throw new Error(`${name}: ${what} did not happen within ${maxRounds} settle() rounds; state: ${JSON.stringify(show())}`)
    },
    withNetworks: async (n, body) => {
      const h = await common.setup({ nodes: n })
      expect(h.networks).toHaveLength(n)
      await body(h, h.networks)
    },
  }
}

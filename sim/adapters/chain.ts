/**
 * Simulated Chain: the in-memory ledger of runtime/services/memory-chain.ts, which a real node
 * without an EVM chain runs too — one implementation of the one ledger in both worlds.
 */
import { Layer } from "effect"
import type { Economy } from "../../runtime/core/econ/index.ts"
import { Chain } from "../../runtime/services/chain.ts"
import { makeMemoryChain, type MemoryChain, type MemoryChainOptions } from "../../runtime/services/memory-chain.ts"

export { makeMemoryChain, type MemoryChain, type MemoryChainOptions, type ReceiptFeed } from "../../runtime/services/memory-chain.ts"
/** The simulator's name of the in-memory ledger's options. */
export type SimChainOptions = MemoryChainOptions
/** The simulator's name of `makeMemoryChain`. */
export const makeSimChain: typeof makeMemoryChain = makeMemoryChain

/** The in-memory Chain as a layer. */
export const layerSimChain = (economy: Economy, now: () => number, options: SimChainOptions = {}): Layer.Layer<Chain> =>
  Layer.succeed(Chain, makeMemoryChain(economy, now, undefined, options) as Chain["Service"])
export type { MemoryChain as SimChain }

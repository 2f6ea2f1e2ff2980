/**
 * The provider-record protocol of the libp2p adapter against peers the compliance suite cannot
 * produce: a provider whose handler starts only after the request and its end have arrived (what a
 * busy machine does, and what hung the compliance case on CI), and a provider that accepts the
 * request and never answers. Either way `findProviders` returns; the first provider is found, the
 * second left out.
 */
import type { Stream } from "@libp2p/interface"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { ProviderRecord } from "../../core/provider-record.ts"
import type { Network, ProviderInfo } from "../../services/network.ts"
import { daiProtocols } from "./node.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "./test-harness.ts"

const KEY = "market/infer:mnist"
const PROVIDER_PROTOCOL = daiProtocols().provider
const offer = (price: bigint): ProviderRecord => ({ pricePerUnit: price, capacity: 1, queue: 0 })
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** Rounds of DHT propagation to wait for (each a findProviders and a short pause). */
const MAX_ROUNDS = 100

let h: Libp2pHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Asks `net` until `done` holds of the answer; every call must return for the loop to go on. */
async function findUntil(net: Network["Service"], done: (found: readonly ProviderInfo[]) => boolean, what: string): Promise<readonly ProviderInfo[]> {
  let last: readonly ProviderInfo[] = []
  for (let round = 0; round < MAX_ROUNDS; round++) {
    last = await run(net.findProviders(KEY))
    if (done(last)) return last
    await sleep(100)
  }
  throw new Error(`${what} did not happen within ${MAX_ROUNDS} rounds; last answer: ${JSON.stringify(last.map((p) => p.peer))}`)
}

describe("libp2p providers: peers that answer late or never", () => {
  it("finds a provider whose protocol handler starts only after the request and its end have arrived", async () => {
    h = await startLibp2pNetworks(2, { node: { sendTimeoutMs: 3_000 } })
    const [provider, asker] = h.transports
    // Middleware runs between protocol negotiation and the handler: hold each inbound request there
    // until the requester's FIN is in, so the handler always starts the way a loaded machine may start it.
    let late = 0
    provider!.node.use(PROVIDER_PROTOCOL, async (stream: Stream, connection, next) => {
      if (stream.direction === "inbound") {
        for (let i = 0; i < 400 && stream.remoteWriteStatus !== "closed" && stream.status === "open"; i++) await sleep(5)
        if (stream.remoteWriteStatus === "closed") late++
      }
      next(stream, connection)
    })
    await run(provider!.network.provide(KEY, offer(3n)))
    const found = await findUntil(asker!.network, (f) => f.length > 0, "finding the late provider")
    expect(found.map((p) => ({ peer: p.peer, record: p.record }))).toEqual([{ peer: provider!.network.self, record: offer(3n) }])
    expect(late).toBeGreaterThan(0)
  })

  it("returns without a provider that accepts the request and never answers, within providerRecordTimeoutMs", async () => {
    h = await startLibp2pNetworks(3, { node: { sendTimeoutMs: 3_000, providerRecordTimeoutMs: 1_000 } })
    const [honest, silent, asker] = h.transports
    const held: Stream[] = []
    await silent!.node.unhandle(PROVIDER_PROTOCOL)
    await silent!.node.handle(PROVIDER_PROTOCOL, (stream) => {
      held.push(stream) // read nothing, write nothing, close nothing
    }, { maxInboundStreams: 1_000 })
    await run(honest!.network.provide(KEY, offer(5n)))
    await run(silent!.network.provide(KEY, offer(1n)))
    // Until the silent provider has been asked at least once, and in every answer before and after: only the honest one.
    const found = await findUntil(asker!.network, (f) => {
      expect(f.map((p) => p.peer).filter((p) => p !== honest!.network.self)).toEqual([])
      return f.length === 1 && held.length > 0
    }, "asking the silent provider")
    expect(found.map((p) => ({ peer: p.peer, record: p.record }))).toEqual([{ peer: honest!.network.self, record: offer(5n) }])
    expect(await run(asker!.network.findProviders(KEY))).toHaveLength(1)
  })
})

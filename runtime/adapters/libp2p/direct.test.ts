/**
 * The direct-message receiver of the libp2p adapter against what the compliance suite cannot
 * produce: a handler that starts only after the message and the sender's end of stream have both
 * arrived (what a busy machine does). A peer accepts 64 inbound direct-message streams per
 * connection; a receiver that never noticed those ends kept each stream open until the connection
 * closed, so from the 65th message on the peer was refused. Every message must be delivered and
 * every such stream closed. And a stream the other end leaves open is reset after `directIdleMs`,
 * at either end.
 */
import type { Stream } from "@libp2p/interface"
import { peerIdFromString } from "@libp2p/peer-id"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { Envelope } from "../../services/network.ts"
import { encodeFrame } from "./frame.ts"
import { daiProtocols } from "./node.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "./test-harness.ts"

const DIRECT_PROTOCOL = daiProtocols().directMessage
/** More than the 64 inbound streams a peer accepts on one connection. */
const MESSAGES = 80
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let h: Libp2pHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Polls `check` until it holds; fails after `rounds` × 25 ms (a bound no passing run comes near) with `what`. */
async function until(check: () => boolean, what: () => string, rounds = 2_400): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (check()) return
    await sleep(25)
  }
  throw new Error(`${what()} after ${rounds} polls`)
}

describe("libp2p direct messages: a receiver whose handler starts late", () => {
  it(`delivers ${MESSAGES} messages from one peer and leaves none of their streams open`, async () => {
    h = await startLibp2pNetworks(2)
    const [sender, receiver] = h.transports
    // Middleware runs between protocol negotiation and the handler: hold each inbound stream there
    // until the sender's end of stream is in, so the handler always starts the way a loaded machine may start it.
    let late = 0
    receiver!.node.use(DIRECT_PROTOCOL, async (stream: Stream, connection, next) => {
      if (stream.direction === "inbound") {
        while (stream.remoteWriteStatus !== "closed" && stream.status === "open") await sleep(5)
        if (stream.remoteWriteStatus === "closed") late++
      }
      next(stream, connection)
    })
    const got: Envelope[] = []
    await run(receiver!.network.subscribe("d", (m) => got.push(m)))
    const from = peerIdFromString(sender!.network.self)
    const inbound = () =>
      receiver!.node.getConnections(from).flatMap((c) => c.streams).filter((s) => s.protocol === DIRECT_PROTOCOL && s.direction === "inbound")
    // One at a time, so each send's stream has ended on our side before the next one opens.
    const failures: string[] = []
    for (let i = 0; i < MESSAGES; i++) {
      await run(sender!.network.send(receiver!.network.self, "d", new TextEncoder().encode(`m${i}`))).catch((e) => failures.push(`m${i}: ${e}`))
    }
    expect(failures).toEqual([])
    await until(() => got.length >= MESSAGES, () => `${got.length} of ${MESSAGES} messages delivered`)
    expect(got.map((m) => [m.from, new TextDecoder().decode(m.data)])).toEqual(Array.from({ length: MESSAGES }, (_, i) => [sender!.network.self, `m${i}`]))
    expect(late).toBe(MESSAGES)
    await until(() => inbound().length === 0, () => `${inbound().length} inbound direct-message streams still open (${inbound().map((s) => `${s.status}/${s.readStatus}/${s.writeStatus}`).join(", ")})`)
    const stats = await run(receiver!.stats)
    expect(stats.received.direct).toBe(MESSAGES)
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true)
  })
})

describe("libp2p direct messages: a stream one end leaves open", () => {
  it("resets, after directIdleMs, an inbound stream whose sender never closes it, having delivered its message", async () => {
    h = await startLibp2pNetworks(2, { node: { directIdleMs: 300 } })
    const [sender, receiver] = h.transports
    // The handler (and its idle clock) starts once the frame is in, so the quiet spell timed is the sender's alone.
    receiver!.node.use(DIRECT_PROTOCOL, async (stream: Stream, connection, next) => {
      while (stream.readBufferLength === 0 && stream.status === "open") await sleep(5)
      next(stream, connection)
    })
    const got: Envelope[] = []
    await run(receiver!.network.subscribe("d", (m) => got.push(m)))
    const stream = await sender!.node.dialProtocol(peerIdFromString(receiver!.network.self), DIRECT_PROTOCOL)
    stream.send(encodeFrame("d", new TextEncoder().encode("left open"), { maxBodyBytes: 1024, maxTopicBytes: 256 }))
    // …and never closed by us: the receiver resets it, which closes it here too.
    await until(() => stream.status !== "open", () => `the sender's stream is still ${stream.status}`)
    expect(stream.status).toBe("reset")
    expect(got.map((m) => new TextDecoder().decode(m.data))).toEqual(["left open"])
  })

  it("resets, after directIdleMs, an outbound stream whose receiver never closes it; the send itself succeeds", async () => {
    h = await startLibp2pNetworks(2, { node: { directIdleMs: 300 } })
    const [sender, receiver] = h.transports
    const held: Stream[] = []
    await receiver!.node.unhandle(DIRECT_PROTOCOL)
    await receiver!.node.handle(DIRECT_PROTOCOL, (stream) => {
      held.push(stream) // read nothing, close nothing
    })
    await run(sender!.network.send(receiver!.network.self, "d", new TextEncoder().encode("x")))
    const to = peerIdFromString(receiver!.network.self)
    const outbound = () => sender!.node.getConnections(to).flatMap((c) => c.streams).filter((s) => s.protocol === DIRECT_PROTOCOL && s.direction === "outbound")
    await until(() => held.length === 1 && outbound().length === 0, () => `${held.length} held by the receiver, ${outbound().length} outbound still open`)
    await until(() => held[0]!.status !== "open", () => `the receiver's stream is still ${held[0]!.status}`)
  })
})

/**
 * readFirstFrame over real yamux streams between two loopback nodes: it returns the first frame even
 * when the peer's data and end arrived before the reader started (where a `for await` over the
 * stream waits forever), stops at that frame, refuses an oversized one from its header, and gives
 * up when its signal aborts on a peer that never writes or never closes; readFrames likewise hands
 * over every frame up to the end, stops at an oversized one, and gives up on a peer gone quiet.
 */
import type { Stream } from "@libp2p/interface"
import { peerIdFromString } from "@libp2p/peer-id"
import { afterEach, describe, expect, it } from "vitest"
import { encodeFrame, type Decoded, type FrameLimits } from "./frame.ts"
import { closedWithin, readFirstFrame, readFrames } from "./stream-read.ts"
import { startLibp2pNetworks, type Libp2pHarness } from "./test-harness.ts"

const PROTOCOL = "/dai-test/read-frame/1.0.0"
const LIMITS: FrameLimits = { maxBodyBytes: 256, maxTopicBytes: 64 }
const bytes = (s: string) => new TextEncoder().encode(s)
/** A read's result with the payload as text (libp2p hands out Buffers, the encoder Uint8Arrays). */
const shown = (d: Decoded | undefined) => (d?.type === "frame" ? { topic: d.topic, text: new TextDecoder().decode(d.data) } : d)
/** A bound no passing run comes near: reaching it means the reader did not return by itself. */
const GENEROUS = () => AbortSignal.timeout(60_000)

let h: Libp2pHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Two connected nodes; node 1 runs `serve` on each stream of PROTOCOL; returns a stream from node 0 to it. */
async function pair(serve: (stream: Stream) => void | Promise<void>): Promise<Stream> {
  h = await startLibp2pNetworks(2)
  const [client, server] = h.transports
  await server!.node.handle(PROTOCOL, (stream) => serve(stream))
  return client!.node.dialProtocol(peerIdFromString(server!.network.self), PROTOCOL)
}

/** Resolves once `check` holds, polling: the state we wait for has no event of its own. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe("readFirstFrame", () => {
  it("returns the frame whose data and end arrived before it started reading", async () => {
    const got = Promise.withResolvers<unknown>()
    const client = await pair(async (stream) => {
      // The condition libp2p can create on a busy machine: request and FIN both in before the handler reads.
      await until(() => stream.remoteWriteStatus === "closed")
      got.resolve(await readFirstFrame(stream, LIMITS, GENEROUS()).then(shown, (e) => `rejected: ${e}`))
      await stream.close()
    })
    client.send(encodeFrame("key", bytes("request"), LIMITS))
    await client.close()
    expect(await got.promise).toEqual({ topic: "key", text: "request" })
  })

  it("returns undefined for a stream that ends with no bytes, even when it ended before reading started", async () => {
    const got = Promise.withResolvers<unknown>()
    const client = await pair(async (stream) => {
      await until(() => stream.remoteWriteStatus === "closed")
      got.resolve(await readFirstFrame(stream, LIMITS, GENEROUS()).catch((e) => `rejected: ${e}`))
    })
    await client.close()
    expect(await got.promise).toBeUndefined()
  })

  it("stops at the first frame of a peer that keeps writing and never closes", async () => {
    const client = await pair((stream) => {
      stream.send(encodeFrame("first", bytes("1"), LIMITS))
      stream.send(encodeFrame("second", bytes("2"), LIMITS))
      // …and the stream is left open.
    })
    expect(shown(await readFirstFrame(client, LIMITS, GENEROUS()))).toEqual({ topic: "first", text: "1" })
  })

  it("refuses a frame over the limit from its header, without waiting for its body", async () => {
    const client = await pair((stream) => {
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, 1 << 30) // a 1 GiB body announced, never sent
      stream.send(header)
    })
    const answer = await readFirstFrame(client, LIMITS, GENEROUS())
    expect(answer).toMatchObject({ type: "drop", reason: "oversized" })
  })

  it("gives up when its signal aborts on a peer that opens the stream and never writes", async () => {
    const held: Stream[] = []
    const client = await pair((stream) => {
      held.push(stream)
    })
    client.send(encodeFrame("key", bytes("request"), LIMITS))
    await client.close()
    await expect(readFirstFrame(client, LIMITS, AbortSignal.timeout(200))).rejects.toThrow()
    expect(held).toHaveLength(1)
  })
})

describe("readFrames", () => {
  /** Reads every frame of the server's stream once `start` says so; what it got and how it stopped. */
  const readAll = (start: (stream: Stream) => Promise<void>, idleMs = 60_000) => {
    const frames: unknown[] = []
    const outcome = Promise.withResolvers<unknown>()
    const serve = async (stream: Stream) => {
      await start(stream)
      outcome.resolve(await readFrames(stream, LIMITS, (d) => frames.push(shown(d)), { idleMs, signal: GENEROUS() }).catch((e) => `rejected: ${e}`))
    }
    return { frames, outcome: outcome.promise, serve }
  }

  it("hands over every frame and ends when the frames and the end arrived before it started reading", async () => {
    const r = readAll((stream) => until(() => stream.remoteWriteStatus === "closed"))
    const client = await pair(r.serve)
    client.send(encodeFrame("a", bytes("1"), LIMITS))
    client.send(encodeFrame("b", bytes("2"), LIMITS))
    await client.close()
    expect(await r.outcome).toBe("ended")
    expect(r.frames).toEqual([{ topic: "a", text: "1" }, { topic: "b", text: "2" }])
  })

  it("ends on a stream that ended with no bytes before it started reading", async () => {
    const r = readAll((stream) => until(() => stream.remoteWriteStatus === "closed"))
    const client = await pair(r.serve)
    await client.close()
    expect(await r.outcome).toBe("ended")
    expect(r.frames).toEqual([])
  })

  it("stops as unframeable at an oversized frame, after the frames before it", async () => {
    const r = readAll(async () => undefined)
    const client = await pair(r.serve)
    client.send(encodeFrame("a", bytes("1"), LIMITS))
    const header = new Uint8Array(4)
    new DataView(header.buffer).setUint32(0, 1 << 30)
    client.send(header)
    expect(await r.outcome).toBe("unframeable")
    expect(r.frames).toEqual([{ topic: "a", text: "1" }, expect.objectContaining({ type: "drop", reason: "oversized" })])
  })

  it("gives up on a peer that goes quiet without closing, handing over what it sent and a frame it cut off as malformed", async () => {
    // Reading starts once all of it is in, so the quiet spell timed is the peer's, not the sender's start.
    const r = readAll((stream) => until(() => stream.readBufferLength >= 8 + 6), 200)
    const client = await pair(r.serve)
    client.send(encodeFrame("a", bytes("1"), LIMITS))
    client.send(encodeFrame("b", bytes("2"), LIMITS).subarray(0, 6))
    expect(await r.outcome).toMatch(/^rejected: .*no bytes from the peer for 200 ms/)
    expect(r.frames).toEqual([{ topic: "a", text: "1" }, expect.objectContaining({ type: "drop", reason: "malformed" })])
  })
})

describe("closedWithin", () => {
  it("aborts a stream the peer does not close by the deadline, and returns at once for a closed one", async () => {
    const client = await pair(() => undefined) // the server never closes its end
    await client.close()
    await closedWithin(client, AbortSignal.timeout(200))
    expect(client.status).not.toBe("open")
    await closedWithin(client, AbortSignal.timeout(60_000))
  })
})

/**
 * Bounded reads from a libp2p stream, for request/response protocols of one frame each way (the
 * provider-record protocol): at most one frame's worth of bytes, and nothing after a deadline.
 *
 * Why not `for await (const chunk of stream)`. The stream's async iterator (@libp2p/utils 7.4) ends
 * on a 'remoteCloseWrite' or 'close' event, and only if it is already listening when that event
 * fires. libp2p calls a protocol handler a few event-loop turns after it has acknowledged the
 * protocol (it first awaits a peer-store write that takes a per-peer lock), so on a busy machine the
 * requester's request and its end of stream (FIN) can both arrive before the handler starts: the
 * iterator then yields the request and waits forever for an end it has missed. Nothing else stops it:
 * yamux streams do not enforce `inactivityTimeout` in this libp2p version (the field is set, never
 * read). The same holds for a peer that simply never writes or never closes. So a reader here stops
 * at the first complete frame, also watches `readableEnded` (what libp2p documents for a consumer
 * that may attach late), and gives up when its signal aborts.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from "@libp2p/interface"
import { FRAME_HEADER_BYTES, FrameDecoder, type Decoded, type FrameLimits } from "./frame.ts"

/**
 * The first frame `stream` carries (or the decoder's drop, if it is malformed or over `limits`), or
 * undefined if the stream ends before any byte of one. Rejects if the stream is reset or `signal`
 * aborts first. Reading stops there: bytes the peer sends past that frame are never decoded, and
 * more than a frame's worth of them left unread resets the stream (its read buffer is capped).
 */
export function readFirstFrame(stream: Stream, limits: FrameLimits, signal: AbortSignal): Promise<Decoded | undefined> {
  stream.maxReadBufferLength = Math.min(stream.maxReadBufferLength, FRAME_HEADER_BYTES + limits.maxBodyBytes)
  const decoder = new FrameDecoder(limits)
  return new Promise((resolve, reject) => {
    let done = false
    const finish = (settle: () => void): void => {
      if (done) return
      done = true
      stream.removeEventListener("message", onMessage)
      stream.removeEventListener("end", onEnd)
      stream.removeEventListener("close", onClose)
      signal.removeEventListener("abort", onAbort)
      settle()
    }
    /** No more bytes will come: what is buffered has been delivered and the remote closed its end (or ours is closed). */
    const ended = (): boolean => stream.readBufferLength === 0 && (stream.readableEnded || stream.readStatus === "closed")
    const onEnd = (): void => finish(() => resolve(decoder.end()))
    const onMessage = (event: StreamMessageEvent): void => {
      const [first] = decoder.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())
      if (first !== undefined) return finish(() => resolve(first))
      // 'end' fires once; if it fired before we listened, the last buffered bytes arrive here after it.
      if (ended()) onEnd()
    }
    const onClose = (event: StreamCloseEvent): void =>
      finish(() => (event.error === undefined ? resolve(decoder.end()) : reject(event.error)))
    const onAbort = (): void => finish(() => reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))))
    if (signal.aborted) return onAbort()
    // Adding a 'message' listener makes the stream deliver what it buffered before we came (in a microtask).
    stream.addEventListener("message", onMessage)
    stream.addEventListener("end", onEnd)
    stream.addEventListener("close", onClose)
    signal.addEventListener("abort", onAbort, { once: true })
    if (ended()) onEnd()
  })
}

/** Resolves once `stream` is closed at both ends; if `signal` aborts first, aborts the stream (so a peer that never closes holds it no longer). */
export function closedWithin(stream: Stream, signal: AbortSignal): Promise<void> {
  if (stream.status !== "open") return Promise.resolve()
  return new Promise((resolve) => {
    const onClose = (): void => {
      signal.removeEventListener("abort", onAbort)
      resolve()
    }
    const onAbort = (): void => {
      stream.removeEventListener("close", onClose)
      stream.abort(new Error("the peer did not close the stream in time"))
      resolve()
    }
    if (signal.aborted) return onAbort()
    stream.addEventListener("close", onClose, { once: true })
    signal.addEventListener("abort", onAbort, { once: true })
  })
}

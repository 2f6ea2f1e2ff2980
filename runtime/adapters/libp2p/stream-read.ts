/**
 * Bounded reads from a libp2p stream of frames (frame.ts): one frame each way for the
 * provider-record protocol (`readFirstFrame`), every frame up to the peer's end of stream for direct
 * messages (`readFrames`). At most one frame's worth of bytes held, and nothing after a deadline or
 * an idle spell.
 *
 * Why not `for await (const chunk of stream)`. The stream's async iterator (@libp2p/utils 7.4) ends
 * on a 'remoteCloseWrite' or 'close' event, and only if it is already listening when that event
 * fires. libp2p calls a protocol handler a few event-loop turns after it has acknowledged the
 * protocol (it first awaits a peer-store write that takes a per-peer lock), so on a busy machine the
 * requester's request and its end of stream (FIN) can both arrive before the handler starts: the
 * iterator then yields the request and waits forever for an end it has missed. Nothing else stops it:
 * yamux streams do not enforce `inactivityTimeout` in this libp2p version (the field is set, never
 * read). The same holds for a peer that simply never writes or never closes. So a reader here stops
 * at the first complete frame (or at the end), also watches `readableEnded` and 'end' (what libp2p
 * documents for a consumer that may attach late), and gives up when its signal aborts or the peer
 * goes quiet.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from "@libp2p/interface"
import { FRAME_HEADER_BYTES, FrameDecoder, type Decoded, type FrameLimits } from "./frame.ts"

/**
 * The first frame `stream` carries (or the decoder's drop, if it is malformed or over `limits`), or
 * undefined if the stream ends before any byte of one. Rejects if the stream is reset or `signal`
 * aborts first. Reading stops there: bytes the peer sends past that frame are never decoded, and
 * more than a frame's worth of them left unread resets the stream (its read buffer is capped).
 */
export async function readFirstFrame(stream: Stream, limits: FrameLimits, signal: AbortSignal): Promise<Decoded | undefined> {
  let first: Decoded | undefined
  await decodeStream(stream, limits, (d) => {
    first ??= d
    return true
  }, { signal })
  return first
}

/** Why `readFrames` stopped without an error: the peer ended the stream, or sent a frame over the limit (after which nothing can be framed). */
export type FramesEnd = "ended" | "unframeable"

/** How long `readFrames` may read: `idleMs` with no byte arriving, and until `signal` (if any) aborts. */
export interface FramesBounds {
  readonly idleMs: number
  readonly signal?: AbortSignal
}

/**
 * Hands `onFrame` every frame `stream` carries, in order, each as soon as it is complete (and each
 * drop: a malformed frame, an oversized one, a stream that stops inside a frame), until the peer
 * ends the stream ("ended"), or right after an oversized frame ("unframeable": the caller resets
 * the stream). At most one frame's worth of bytes is held. Rejects if the stream is reset, no byte
 * arrives for `bounds.idleMs`, `bounds.signal` aborts, or `onFrame` throws; what was complete by
 * then has been handed over, and a frame cut off there is handed over as a malformed drop.
 */
export function readFrames(stream: Stream, limits: FrameLimits, onFrame: (d: Decoded) => void, bounds: FramesBounds): Promise<FramesEnd> {
  return decodeStream(stream, limits, (d) => {
    onFrame(d)
    return false
  }, bounds).then((end) => (end === "taken" ? "ended" : end))
}

/**
 * The reader both functions share: feeds `stream`'s bytes to a FrameDecoder and what it decodes, in
 * order, to `take`, until `take` returns true ("taken"), the decoder fails on an oversized frame
 * ("unframeable"), or the stream ends ("ended", after `take` has seen the decoder's tail). The end
 * is seen however late reading starts: by 'end', by `readableEnded` at the start, or after the
 * last buffered bytes (see the module doc).
 */
function decodeStream(stream: Stream, limits: FrameLimits, take: (d: Decoded) => boolean, bounds: { readonly idleMs?: number; readonly signal?: AbortSignal }): Promise<"taken" | FramesEnd> {
  stream.maxReadBufferLength = Math.min(stream.maxReadBufferLength, FRAME_HEADER_BYTES + limits.maxBodyBytes)
  const decoder = new FrameDecoder(limits)
  const { idleMs, signal } = bounds
  return new Promise((resolve, reject) => {
    let done = false
    let idle: ReturnType<typeof setTimeout> | undefined
    const finish = (settle: () => void): void => {
      if (done) return
      done = true
      clearTimeout(idle)
      stream.removeEventListener("message", onMessage)
      stream.removeEventListener("end", onEnd)
      stream.removeEventListener("close", onClose)
      signal?.removeEventListener("abort", onAbort)
      settle()
    }
    /** Hands over what the decoder has left (a frame cut off), then rejects. */
    const fail = (e: unknown): void => {
      if (done) return
      try {
        const tail = decoder.end()
        if (tail !== undefined) take(tail)
      } catch {
        // The first error is the one to report.
      }
      finish(() => reject(e instanceof Error ? e : new Error(String(e))))
    }
    /** No more bytes will come: what is buffered has been delivered and the remote closed its end (or ours is closed). */
    const ended = (): boolean => stream.readBufferLength === 0 && (stream.readableEnded || stream.readStatus === "closed")
    const onEnd = (): void => {
      if (done) return
      try {
        const tail = decoder.end()
        if (tail !== undefined) take(tail)
      } catch (e) {
        return finish(() => reject(e))
      }
      finish(() => resolve("ended"))
    }
    const onMessage = (event: StreamMessageEvent): void => {
      if (done) return
      let end: "taken" | "unframeable" | undefined
      try {
        for (const d of decoder.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())) {
          if (take(d)) {
            end = "taken"
            break
          }
        }
      } catch (e) {
        return fail(e)
      }
      end ??= decoder.failed ? "unframeable" : undefined
      if (end !== undefined) return finish(() => resolve(end))
      armIdle()
      // 'end' fires once; if it fired before we listened, the last buffered bytes arrive here after it.
      if (ended()) onEnd()
    }
    const onClose = (event: StreamCloseEvent): void => (event.error === undefined ? onEnd() : fail(event.error))
    const onAbort = (): void => fail(signal?.reason)
    const onIdle = (): void => fail(new Error(`no bytes from the peer for ${idleMs} ms`))
    const armIdle = (): void => {
      if (idleMs === undefined) return
      clearTimeout(idle)
      idle = setTimeout(onIdle, idleMs)
    }
    if (signal?.aborted === true) return onAbort()
    // Adding a 'message' listener makes the stream deliver what it buffered before we came (in a microtask).
    stream.addEventListener("message", onMessage)
    stream.addEventListener("end", onEnd)
    stream.addEventListener("close", onClose)
    signal?.addEventListener("abort", onAbort, { once: true })
    armIdle()
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

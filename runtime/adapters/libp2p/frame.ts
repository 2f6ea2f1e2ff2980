/**
 * The frame codec of the direct-message protocol (`/dai/msg/1.0.0`).
 *
 * A stream carries zero or more frames:
 *
 *   frame = u32 BE bodyLength, body
 *   body  = u16 BE topicLength, topic (UTF-8, 1..maxTopicBytes), payload (the rest)
 *
 * The decoder is incremental (chunks arrive in any split) and never throws on peer input: every
 * problem comes back as a drop with a reason, so a hostile peer can cost us at most one stream.
 * A body longer than the limit is rejected from its header alone, before any of it is buffered.
 */

/** Why a frame (or the rest of a stream) was dropped. */
export type FrameDropReason = "oversized" | "malformed"

export type Decoded =
  | { readonly type: "frame"; readonly topic: string; readonly data: Uint8Array }
  | { readonly type: "drop"; readonly reason: FrameDropReason; readonly detail: string }

export interface FrameLimits {
  /** Largest accepted body (topic header + topic + payload), in bytes. */
  readonly maxBodyBytes: number
  /** Largest accepted topic, in UTF-8 bytes (at most 65535: the header is a u16). */
  readonly maxTopicBytes: number
}

export const FRAME_HEADER_BYTES = 4
const TOPIC_HEADER_BYTES = 2

const utf8 = new TextEncoder()
// `fatal` so that a topic that is not valid UTF-8 is rejected instead of being mangled into U+FFFD.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** Encodes one frame. Throws a RangeError on a topic or payload over `limits` (a local bug, not peer input). */
export function encodeFrame(topic: string, data: Uint8Array, limits: FrameLimits): Uint8Array {
  const t = utf8.encode(topic)
  if (t.length === 0 || t.length > limits.maxTopicBytes || t.length > 0xffff) {
    throw new RangeError(`frame topic must be 1..${Math.min(limits.maxTopicBytes, 0xffff)} UTF-8 bytes, got ${t.length}`)
  }
  const bodyLength = TOPIC_HEADER_BYTES + t.length + data.length
  if (bodyLength > limits.maxBodyBytes) {
    throw new RangeError(`frame body of ${bodyLength} bytes is over the limit of ${limits.maxBodyBytes}`)
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + bodyLength)
  const view = new DataView(out.buffer)
  view.setUint32(0, bodyLength)
  view.setUint16(FRAME_HEADER_BYTES, t.length)
  out.set(t, FRAME_HEADER_BYTES + TOPIC_HEADER_BYTES)
  out.set(data, FRAME_HEADER_BYTES + TOPIC_HEADER_BYTES + t.length)
  return out
}

/** Parses one body (without its length header). */
export function decodeBody(body: Uint8Array, limits: FrameLimits): Decoded {
  if (body.length < TOPIC_HEADER_BYTES) return { type: "drop", reason: "malformed", detail: `body of ${body.length} bytes has no topic header` }
  const topicLength = (body[0]! << 8) | body[1]!
  if (topicLength === 0 || topicLength > limits.maxTopicBytes) {
    return { type: "drop", reason: "malformed", detail: `topic length ${topicLength} is outside 1..${limits.maxTopicBytes}` }
  }
  if (TOPIC_HEADER_BYTES + topicLength > body.length) {
    return { type: "drop", reason: "malformed", detail: `topic length ${topicLength} runs past the body of ${body.length} bytes` }
  }
  let topic: string
  try {
    topic = strictUtf8.decode(body.subarray(TOPIC_HEADER_BYTES, TOPIC_HEADER_BYTES + topicLength))
  } catch {
    return { type: "drop", reason: "malformed", detail: "topic is not valid UTF-8" }
  }
  // slice, not subarray: the handler may keep the payload, and it must not pin the stream's buffers.
  return { type: "frame", topic, data: body.slice(TOPIC_HEADER_BYTES + topicLength) }
}

/**
 * Incremental decoder for one stream. `push` returns what the new bytes completed; once it has
 * reported an oversized frame the stream is unframeable and `failed` is true (the caller aborts it).
 */
export class FrameDecoder {
  readonly #limits: FrameLimits
  #chunks: Uint8Array[] = []
  #buffered = 0
  /** Body length of the frame being read, once its header is in. */
  #need: number | undefined
  #failed = false

  constructor(limits: FrameLimits) {
    this.#limits = limits
  }

  /** True after an oversized header: nothing more can be decoded from this stream. */
  get failed(): boolean {
    return this.#failed
  }

  /** Feeds bytes; returns the frames and drops they complete, in order. */
  push(chunk: Uint8Array): Decoded[] {
    if (this.#failed) return []
    if (chunk.length > 0) {
      this.#chunks.push(chunk)
      this.#buffered += chunk.length
    }
    const out: Decoded[] = []
    for (;;) {
      if (this.#need === undefined) {
        if (this.#buffered < FRAME_HEADER_BYTES) return out
        const header = this.#take(FRAME_HEADER_BYTES)
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0)
        if (length > this.#limits.maxBodyBytes) {
          this.#failed = true
          this.#chunks = []
          this.#buffered = 0
          out.push({ type: "drop", reason: "oversized", detail: `frame of ${length} bytes is over the limit of ${this.#limits.maxBodyBytes}` })
          return out
        }
        this.#need = length
      }
      if (this.#buffered < this.#need) return out
      const body = this.#take(this.#need)
      this.#need = undefined
      out.push(decodeBody(body, this.#limits))
    }
  }

  /** Call at the end of the stream: a drop if it stopped inside a frame. */
  end(): Decoded | undefined {
    if (this.#failed || (this.#need === undefined && this.#buffered === 0)) return undefined
    const detail = this.#need === undefined
      ? `stream ended inside a frame header (${this.#buffered} of ${FRAME_HEADER_BYTES} bytes)`
      : `stream ended inside a frame (${this.#buffered} of ${this.#need} bytes)`
    this.#chunks = []
    this.#buffered = 0
    this.#need = undefined
    return { type: "drop", reason: "malformed", detail }
  }

  /** Removes the first `n` buffered bytes (n <= buffered), copying only when they span chunks. */
  #take(n: number): Uint8Array {
    this.#buffered -= n
    const first = this.#chunks[0]!
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[0]!
      const part = Math.min(chunk.length, n - filled)
      out.set(chunk.subarray(0, part), filled)
      filled += part
      if (part === chunk.length) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(part)
    }
    return out
  }
}

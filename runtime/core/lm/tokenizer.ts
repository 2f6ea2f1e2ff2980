/**
 * The language model's tokenizer: byte-level. A token is one byte of the text's UTF-8 encoding, so
 * the vocabulary is fixed (256, nothing to train or ship), every string encodes (no unknown token),
 * and decoding is the inverse of encoding. The price, longer sequences for non-ASCII text, is small
 * for the fortunes corpus (over 99.9 % ASCII). A character-level vocabulary would be a few dozen
 * symbols smaller but must be derived from the corpus, shipped with the checkpoint, and needs an
 * unknown token for characters it has not seen (a prompt typed by a person).
 */

/** Number of token ids: one per byte value. */
export const BYTE_VOCAB_SIZE = 256

const encoder = new TextEncoder()

/** The tokens of `text`: its UTF-8 bytes. */
export const encode = (text: string): number[] => Array.from(encoder.encode(text))

/** Whether `t` is a token id (an integer byte value). */
export const isToken = (t: number): boolean => Number.isInteger(t) && t >= 0 && t < BYTE_VOCAB_SIZE

const toBytes = (tokens: readonly number[]): Uint8Array => {
  const bad = tokens.findIndex((t) => !isToken(t))
  if (bad !== -1) throw new RangeError(`token ${tokens[bad]} at index ${bad} is not a byte (0..${BYTE_VOCAB_SIZE - 1})`)
  return Uint8Array.from(tokens)
}

/**
 * The text of `tokens`. A byte sequence that is not valid UTF-8 (a model may emit one) decodes with
 * U+FFFD in place of each bad sequence, as every UTF-8 decoder does; so decode(encode(s)) = s for
 * every well-formed string s, and encode(decode(t)) = t for every valid UTF-8 sequence t.
 */
export const decode = (tokens: readonly number[]): string => new TextDecoder("utf-8").decode(toBytes(tokens))

/** Decodes tokens one at a time (streaming generation): a character split over several bytes is printed once it is whole. */
export interface StreamDecoder {
  /** The text that `token` completes (often "" in the middle of a multi-byte character). */
  push(token: number): string
  /** The rest: U+FFFD for a character left incomplete. */
  end(): string
}

/** A fresh streaming decoder. */
export const streamDecoder = (): StreamDecoder => {
  const d = new TextDecoder("utf-8")
  return {
    push: (token) => d.decode(toBytes([token]), { stream: true }),
    end: () => d.decode(),
  }
}

/** Number of characters (Unicode code points) that `tokens` encode: the bytes that start a UTF-8 sequence. */
export const characterCount = (tokens: ArrayLike<number>): number => {
  let n = 0
  for (let i = 0; i < tokens.length; i++) if ((tokens[i]! & 0xc0) !== 0x80) n++
  return n
}

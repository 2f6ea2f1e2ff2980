/**
 * The text a federated fine-tuning of the language model runs on (docs/lm.md, "Federated
 * fine-tuning"): the corpus's validation split — whole fortunes the committed checkpoint never
 * trained on — cut by entry into a fixed evaluation set (every `EVAL_EVERY`-th entry) and one shard
 * per trainer (the other entries, dealt round-robin), so no two trainers hold the same text, no
 * trainer holds an evaluation entry, and every node derives the same cut from the same text.
 * Pure: the caller reads the corpus.
 */
import { ENTRY_END } from "../lm/corpus.ts"

/** Every this-many-th validation entry is in the evaluation set. */
export const EVAL_EVERY = 4

/** The entries of a split's text (each still ending with its `%` line, as in the split). */
export const splitEntries = (text: string): string[] => {
  const out: string[] = []
  let at = 0
  while (at < text.length) {
    const end = text.indexOf(`\n${ENTRY_END}`, at)
    const stop = end < 0 ? text.length : end + 1 + ENTRY_END.length
    out.push(text.slice(at, stop))
    at = stop
  }
  return out
}

/** The evaluation text and `clients` shards of `validation` (shard i: the i-th, (i+clients)-th, … of the non-evaluation entries). */
export const textShards = (validation: string, clients: number): { readonly evaluation: string; readonly shards: readonly string[] } => {
  if (!Number.isSafeInteger(clients) || clients < 1) throw new RangeError(`clients must be an integer ≥ 1, got ${clients}`)
  const evaluation: string[] = []
  const rest: string[] = []
  splitEntries(validation).forEach((e, i) => (i % EVAL_EVERY === EVAL_EVERY - 1 ? evaluation : rest).push(e))
  const shards = Array.from({ length: clients }, (_, c) => rest.filter((_, i) => i % clients === c).join(""))
  return { evaluation: evaluation.join(""), shards }
}

/** Training windows of a text: `window + 1` bytes each (inputs and next-byte targets), consecutive windows sharing one byte. */
export interface Windows {
  /** Token ids [count, window]. */
  readonly inputs: Int32Array
  /** Next-token ids [count, window]. */
  readonly targets: Int32Array
  readonly count: number
  readonly window: number
}

/** The first `most` whole windows of `tokens` (fewer when the text is shorter). */
export const textWindows = (tokens: Uint8Array, window: number, most: number): Windows => {
  if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`window must be an integer ≥ 1, got ${window}`)
  const count = Math.max(0, Math.min(most, Math.floor((tokens.length - 1) / window)))
  const inputs = new Int32Array(count * window)
  const targets = new Int32Array(count * window)
  for (let w = 0; w < count; w++) {
    for (let t = 0; t < window; t++) {
      inputs[w * window + t] = tokens[w * window + t]!
      targets[w * window + t] = tokens[w * window + t + 1]!
    }
  }
  return { inputs, targets, count, window }
}

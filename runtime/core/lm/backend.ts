/**
 * The backend a paid stage computes on is part of what its notes commit to (docs/lm.md, "Backends").
 *
 * Exact verification needs bit-identical floats, and two TensorFlow.js backends sum a dot product in
 * different orders: an honest stage on `wasm` re-executed on `cpu` differs in the last bits. So the
 * running input hash of a paid session starts from a value naming the stage's backend
 * (`lmInputsStart`), and a note's word (wire.ts `lmNoteWord`) therefore binds it: the stage says which
 * backend its outputs come from before anyone asks. A referee judges a note only when the note commits
 * to its own backend; a note bound to another known backend it answers `unable` (never `wrong`), one
 * bound to none `unbound`. A stage cannot be judged on another backend than the one it named, and one
 * that names a backend it does not run is judged by referees of the named one (its outputs differ: it
 * is wrong, as it claimed something false).
 *
 * Referees announce the backend they re-execute on (`lmRefereeKey`), so a client draws referees of the
 * note's backend only.
 */
import { keccak256 } from "../crypto.ts"
import { lmInputsHash, lmNoteWord, type LmInput } from "./wire.ts"

/** The TensorFlow.js backends a note can name (a stage on another backend is judged by nobody). */
export const LM_BACKENDS: readonly string[] = ["cpu", "wasm", "tensorflow", "webgl", "webgpu"]

/** The backend of a stage that does not say (the reference backend of exact verification). */
export const DEFAULT_LM_BACKEND = "cpu"

const utf8 = new TextEncoder()
const starts = new Map<string, Uint8Array>()

/** The running input hash of a paid session on `backend` before its first forward. */
export const lmInputsStart = (backend: string): Uint8Array => {
  let s = starts.get(backend)
  if (s === undefined) {
    if (!/^[a-z0-9-]{1,32}$/.test(backend)) throw new RangeError(`backend name ${JSON.stringify(backend)} is not 1 to 32 of [a-z0-9-]`)
    s = keccak256(utf8.encode(`dai/lm/inputs/v2/${backend}`))
    starts.set(backend, s)
  }
  return s
}

/** The word of a note whose session took `inputs` (up to the note's end) on `backend`, its outputs hashing to `outputs`. */
export const lmBackendNoteWord = (backend: string, inputs: readonly LmInput[], outputs: Uint8Array): string => {
  let chain = lmInputsStart(backend)
  for (const x of inputs) chain = lmInputsHash(chain, x)
  return lmNoteWord(chain, outputs)
}

/** Which of `candidates` a note's `word` names, given the session's inputs and the outputs' hash; undefined when none. */
export const lmNoteBackend = (word: string, inputs: readonly LmInput[], outputs: Uint8Array, candidates: readonly string[] = LM_BACKENDS): string | undefined =>
  candidates.find((b) => lmBackendNoteWord(b, inputs, outputs) === word.toLowerCase())

/** The network key a validator running the lm referee on `backend` announces. */
export const lmRefereeKey = (backend: string): string => `lm/referee/${backend}`

/**
 * The backend a paid stage computes on is part of what its notes commit to (docs/lm.md, "Backends").
 *
 * Exact verification needs bit-identical floats, and two TensorFlow.js backends sum a dot product in
 * different orders: an honest stage on `wasm` re-executed on `cpu` differs in the last bits. So a
 * note's word is its layer trace's root tagged with the stage's backend (core/lm/trace.ts
 * `lmTraceWord(root, backend)` = keccak256("dai/lm/trace/v1/<backend>" ‖ root)): the stage says which
 * backend its outputs come from before anyone asks. A referee judges a note only when the note commits
 * to its own backend; a note bound to another known backend it answers `unable` (never `wrong`), one
 * bound to none `unbound`; a co-signer checking a fraud proof on another backend finds the proof does
 * not bind and signs nothing. A stage cannot be judged on another backend than the one it named, and
 * one that names a backend it does not run is judged by referees of the named one (its outputs differ:
 * it is wrong, as it claimed something false).
 *
 * Referees announce the backend they re-execute on (`lmRefereeKey`), so a client draws referees of the
 * note's backend only.
 */
import { DEFAULT_LM_BACKEND, lmTraceWord } from "./trace.ts"

export { DEFAULT_LM_BACKEND }

/** The TensorFlow.js backends a note can name (a stage on another backend is judged by nobody). */
export const LM_BACKENDS: readonly string[] = ["cpu", "wasm", "tensorflow", "webgl", "webgpu"]

/** Which of `candidates` a note's `word` names, given its trace's root (as the client or a referee rebuilt it); undefined when none. */
export const lmNoteBackend = (word: string, root: Uint8Array, candidates: readonly string[] = LM_BACKENDS): string | undefined =>
  candidates.find((b) => lmTraceWord(root, b) === word.toLowerCase())

/** The network key a validator running the lm referee on `backend` announces. */
export const lmRefereeKey = (backend: string): string => `lm/referee/${backend}`

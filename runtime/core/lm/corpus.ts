/**
 * The text corpus as the language model sees it: fortune-cookie files (the `fortune` program's
 * format: entries separated by lines holding a single `%`) cut into entries, cleaned, and split into
 * a training and a validation part by entry (every 10th entry is validation), so the validation text
 * is whole fortunes the model never trained on. Pure: the files are read by the data adapter.
 */

/** One file of the corpus. */
export interface CorpusFile {
  readonly name: string
  readonly text: string
}

/** The training and validation texts, and what they came from. */
export interface CorpusSplit {
  readonly train: string
  readonly validation: string
  readonly entries: { readonly train: number; readonly validation: number }
}

/** The separator written after each entry, as in the files. */
export const ENTRY_END = "%\n"

/**
 * Removes terminal overstriking (`_\bX` underlines, `X\bX` bold: a character, a backspace, then the
 * character shown), and carriage returns, which a few entries carry.
 */
export const cleanEntry = (text: string): string => text.replace(/[^\n]\x08/g, "").replace(/\x08/g, "").replace(/\r/g, "")

/** The entries of one fortune file: the text between `%` lines, cleaned, empty ones dropped. */
export const entries = (text: string): string[] =>
  text
    .split(/^%[ \t]*$\n?/m)
    .map((e) => cleanEntry(e).replace(/^\n+/, "").trimEnd())
    .filter((e) => e.length > 0)

/**
 * Splits the corpus: the files in name order, their entries in file order, entry k goes to
 * validation when k mod `every` = every − 1. Each entry is written followed by a newline and `%\n`.
 */
export function splitCorpus(files: readonly CorpusFile[], every = 10): CorpusSplit {
  if (!Number.isInteger(every) || every < 2) throw new RangeError(`every must be an integer ≥ 2, got ${every}`)
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const train: string[] = []
  const validation: string[] = []
  let k = 0
  for (const f of sorted) {
    for (const e of entries(f.text)) {
      ;(k % every === every - 1 ? validation : train).push(`${e}\n${ENTRY_END}`)
      k++
    }
  }
  return { train: train.join(""), validation: validation.join(""), entries: { train: train.length, validation: validation.length } }
}

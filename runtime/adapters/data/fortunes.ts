/**
 * The language model's corpus: the fortune-cookie files of Debian's `fortunes` package (about 2.7 MB
 * of English quotations, jokes and poems, in /usr/share/games/fortunes). Read from disk only; never
 * fetched at run time.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { type CorpusFile, type CorpusSplit, splitCorpus } from "../../core/lm/corpus.ts"
import { DatasetError } from "./dataset.ts"

/** Where `apt-get install fortunes` puts the files. */
export const FORTUNES_DIR = "/usr/share/games/fortunes"

/**
 * The fortune files in `dir`: every regular file without an extension (the `.dat` indexes and `.u8`
 * links are the `fortune` program's, not text). DatasetError when the directory or its files are absent.
 */
export function readFortuneFiles(dir: string = FORTUNES_DIR): CorpusFile[] {
  const missing = `install Debian's package with \`apt-get install fortunes\` (it puts the files in ${FORTUNES_DIR}), or pass the directory of fortune files`
  if (!existsSync(dir)) throw new DatasetError({ dataset: "fortunes", file: dir, reason: `directory not found; ${missing}` })
  const files = readdirSync(dir)
    .filter((n) => !n.includes(".") && statSync(join(dir, n)).isFile())
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), "utf8") }))
  if (files.length === 0) throw new DatasetError({ dataset: "fortunes", file: dir, reason: `no fortune files in the directory; ${missing}` })
  return files
}

/** The corpus in `dir`, split into training and validation text (see core/lm/corpus.ts), and a line saying what it is. */
export function loadFortunes(dir: string = FORTUNES_DIR): CorpusSplit & { readonly source: string; readonly files: number } {
  const files = readFortuneFiles(dir)
  const split = splitCorpus(files)
  const source = `${files.length} fortune files in ${dir}: ${split.entries.train} training and ${split.entries.validation} validation entries`
  return { ...split, source, files: files.length }
}

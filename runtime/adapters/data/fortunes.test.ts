import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { DatasetError } from "./dataset.ts"
import { FORTUNES_DIR, loadFortunes, readFortuneFiles } from "./fortunes.ts"

const readable = (dir: string): boolean => {
  try {
    accessSync(join(dir, "fortunes"), constants.R_OK)
    return true
  } catch {
    return false
  }
}

describe("fortunes corpus", () => {
  it("reads the fortune files of a directory, skipping the fortune program's .dat and .u8 files", () => {
    const dir = mkdtempSync(join(tmpdir(), "dai-fortunes-"))
    try {
      writeFileSync(join(dir, "b"), "x\n%\ny\n")
      writeFileSync(join(dir, "a"), "one\n%\ntwo\n")
      writeFileSync(join(dir, "a.dat"), "\x00\x01")
      writeFileSync(join(dir, "a.u8"), "")
      expect(readFortuneFiles(dir).map((f) => f.name)).toEqual(["a", "b"])
      expect(loadFortunes(dir).entries).toEqual({ train: 4, validation: 0 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("says how to install the corpus when the directory is missing", () => {
    expect(() => readFortuneFiles("/nonexistent/fortunes")).toThrow(DatasetError)
    expect(() => readFortuneFiles("/nonexistent/fortunes")).toThrow(/apt-get install fortunes/)
  })

  it.skipIf(!readable(FORTUNES_DIR))("Debian's fortunes: thousands of entries, a tenth of them for validation (skipped without `apt-get install fortunes`)", () => {
    const c = loadFortunes()
    expect(c.entries.train).toBeGreaterThan(10_000)
    expect(Math.abs(c.entries.validation * 10 - (c.entries.train + c.entries.validation))).toBeLessThanOrEqual(10)
    expect(c.train).not.toMatch(/\x08/)
  })
})

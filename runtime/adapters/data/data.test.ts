import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { afterAll, describe, expect, it } from "vitest"
import { DatasetError, FASHION_MNIST_DIR, IMAGE_SIZE, loadDataset, loadFashionMnist, parseIdx, readIdxFile, subset } from "./index.ts"

const dir = mkdtempSync(join(tmpdir(), "dai-idx-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** An IDX ubyte file with the given dims and data. */
const idx = (dims: number[], data: number[]): Uint8Array => {
  const head = Buffer.alloc(4 + 4 * dims.length)
  head[2] = 0x08
  head[3] = dims.length
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i))
  return new Uint8Array(Buffer.concat([head, Buffer.from(data)]))
}

const errorOf = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    return e as Error
  }
  throw new Error("expected a throw")
}

describe("IDX reader", () => {
  it("decodes dims and data, plain or gzipped", () => {
    const bytes = idx([2, 3], [1, 2, 3, 4, 5, 6])
    expect(parseIdx(bytes, "x")).toEqual({ dims: [2, 3], data: Uint8Array.from([1, 2, 3, 4, 5, 6]) })
    writeFileSync(join(dir, "a.gz"), gzipSync(bytes))
    expect(readIdxFile(join(dir, "a.gz")).dims).toEqual([2, 3])
  })

  it("rejects bad magic, wrong type, truncation and garbage, naming the file", () => {
    const good = idx([2, 3], [1, 2, 3, 4, 5, 6])
    expect(errorOf(() => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), "f.idx")).message).toMatch(/f\.idx: not a valid IDX file: bad magic number 0x01020801/)
    const floats = good.slice()
    floats[2] = 0x0d
    expect(errorOf(() => parseIdx(floats, "f.idx")).message).toMatch(/element type 0x0d is not unsigned byte/)
    expect(errorOf(() => parseIdx(good.subarray(0, good.length - 1), "f.idx")).message).toMatch(/truncated: dims 2×3 need 18 bytes, file has 17/)
    expect(errorOf(() => parseIdx(good.subarray(0, 6), "f.idx")).message).toMatch(/truncated header/)
    writeFileSync(join(dir, "junk.gz"), "not gzip")
    expect(errorOf(() => readIdxFile(join(dir, "junk.gz"))).message).toMatch(/junk\.gz: not a valid gzip file/)
  })

  it("a bad Fashion-MNIST file is a DatasetError naming it; a missing one names the Debian package", () => {
    const bad = mkdtempSync(join(dir, "fm-"))
    for (const f of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      writeFileSync(join(bad, f), idx([1], [0]))
    }
    writeFileSync(join(bad, "train-images-idx3-ubyte"), idx([2, 28, 28], [1, 2, 3])) // truncated
    const e = errorOf(() => loadFashionMnist(bad))
    expect(e).toBeInstanceOf(DatasetError)
    expect(e.message).toContain(join(bad, "train-images-idx3-ubyte"))
    expect(e.message).toMatch(/truncated/)
    const missing = errorOf(() => loadFashionMnist(join(dir, "nowhere")))
    expect(missing).toBeInstanceOf(DatasetError)
    expect(missing.message).toContain("apt-get install dataset-fashion-mnist")
  })
})

describe("loadDataset", () => {
  it("mnist: a fixed 8,000 / 2,000 split in [0, 1], every class in both, cached", () => {
    const d = loadDataset("mnist")
    expect(d.train.labels.length + d.test.labels.length).toBe(10_000)
    expect(d.train.labels.length).toBeGreaterThan(7_900)
    expect(d.train.images.length).toBe(d.train.labels.length * IMAGE_SIZE)
    expect(d.test.images.length).toBe(d.test.labels.length * IMAGE_SIZE)
    for (const s of [d.train, d.test]) {
      expect(new Set(s.labels).size).toBe(10)
      expect(s.images.every((v) => v >= 0 && v <= 1)).toBe(true)
      // Interleaved, not sorted by class.
      expect(new Set(s.labels.subarray(0, 50)).size).toBeGreaterThan(5)
    }
    expect(loadDataset("mnist")).toBe(d)
    // Real digits: every image has ink.
    for (let i = 0; i < 100; i++) expect(d.train.images.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE).some((v) => v > 0.5)).toBe(true)
  })

  it.skipIf(!readable(FASHION_MNIST_DIR))("fashion-mnist: 60,000 / 10,000 from the Debian files", () => {
    const d = loadDataset("fashion-mnist")
    expect(d.train.labels.length).toBe(60_000)
    expect(d.test.labels.length).toBe(10_000)
    expect(d.train.images.length).toBe(60_000 * IMAGE_SIZE)
    expect(Math.max(...d.test.images.subarray(0, 10 * IMAGE_SIZE))).toBeLessThanOrEqual(1)
    expect(new Set(d.test.labels).size).toBe(10)
  })

  it("unknown names are a DatasetError listing the choices", () => {
    expect(errorOf(() => loadDataset("cifar")).message).toMatch(/dataset cifar: unknown dataset; expected one of mnist, fashion-mnist/)
  })

  it("subset copies the chosen samples in order and checks indices", () => {
    const d = loadDataset("mnist")
    const s = subset(d.train, [5, 2])
    expect(Array.from(s.labels)).toEqual([d.train.labels[5], d.train.labels[2]])
    expect(s.images.subarray(IMAGE_SIZE)).toEqual(d.train.images.subarray(2 * IMAGE_SIZE, 3 * IMAGE_SIZE))
    expect(() => subset(d.train, [d.train.labels.length])).toThrow(/out of range/)
  })
})

function readable(path: string): boolean {
  try {
    readIdxFile(join(path, "t10k-labels-idx1-ubyte.gz"))
    return true
  } catch {
    return false
  }
}

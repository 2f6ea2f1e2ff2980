/**
 * The IDX file format of (Fashion-)MNIST: magic `0x00 0x00 <type> <ndims>`, then ndims big-endian
 * uint32 sizes, then the data. Only unsigned bytes (type 0x08) occur in these datasets, so only
 * they are read. Gzipped files (`.gz`, as Debian ships them) are inflated first.
 */
import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"

export interface IdxArray {
  readonly dims: readonly number[]
  readonly data: Uint8Array
}

const UBYTE = 0x08

/** Decodes an IDX ubyte array; throws an Error naming `file` when the bytes are not one. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const bad = (why: string): Error => new Error(`${file}: not a valid IDX file: ${why}`)
  if (bytes.length < 4) throw bad(`only ${bytes.length} bytes`)
  if (bytes[0] !== 0 || bytes[1] !== 0) throw bad(`bad magic number 0x${hex(bytes.subarray(0, 4))} (expected 0x0000 then type and rank)`)
  if (bytes[2] !== UBYTE) throw bad(`element type 0x${bytes[2]!.toString(16).padStart(2, "0")} is not unsigned byte (0x08)`)
  const rank = bytes[3]!
  if (rank < 1 || rank > 4) throw bad(`rank ${rank} (expected 1 to 4)`)
  const header = 4 + 4 * rank
  if (bytes.length < header) throw bad(`truncated header (${bytes.length} of ${header} bytes)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false))
  const count = dims.reduce((a, b) => a * b, 1)
  if (bytes.length !== header + count) {
    throw bad(`${bytes.length < header + count ? "truncated" : "trailing bytes"}: dims ${dims.join("×")} need ${header + count} bytes, file has ${bytes.length}`)
  }
  return { dims, data: bytes.subarray(header) }
}

/** Reads and decodes an IDX file (gunzipping `.gz`). */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array = readFileSync(path)
  if (path.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes)
    } catch (e) {
      throw new Error(`${path}: not a valid gzip file (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  return parseIdx(bytes, path)
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

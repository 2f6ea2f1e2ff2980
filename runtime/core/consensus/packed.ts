/**
 * The subset of Solidity's `abi.encodePacked` that consensus digests use, so that a contract can
 * recompute a digest with `keccak256(abi.encodePacked(...))` and get the same 32 bytes:
 *  - `string` → its UTF-8 bytes, no length prefix;
 *  - `uint256` / `int256` → 32 bytes, big-endian, two's complement for negatives;
 *  - `uint8` → 1 byte; `address` → 20 bytes; `bytes32` → 32 bytes.
 */
import { uintWord as word } from "../committee/abi.ts"
import { concatBytes, fromHex, utf8ToBytes } from "../crypto.ts"

/** One packed argument, tagged with its Solidity type. */
export type Packed =
  | { readonly t: "string"; readonly v: string }
  | { readonly t: "uint256"; readonly v: bigint | number }
  | { readonly t: "int256"; readonly v: bigint | number }
  | { readonly t: "uint8"; readonly v: number }
  | { readonly t: "address"; readonly v: string }
  | { readonly t: "bytes32"; readonly v: string }

const TWO_256 = 1n << 256n

const toBigInt = (v: bigint | number, what: string): bigint => {
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`${what}: not a safe integer: ${v}`)
  return BigInt(v)
}

const fixedBytes = (hex: string, length: number, what: string): Uint8Array => {
  const bytes = fromHex(hex)
  if (bytes.length !== length) throw new RangeError(`${what}: expected ${length} bytes, got ${bytes.length}`)
  return bytes
}

/** The bytes of one packed argument; throws a RangeError on a value out of its type's range. */
export const packOne = (arg: Packed): Uint8Array => {
  switch (arg.t) {
    case "string": return utf8ToBytes(arg.v)
    case "uint256": {
      const v = toBigInt(arg.v, "uint256")
      if (v < 0n || v >= TWO_256) throw new RangeError(`uint256 out of range: ${v}`)
      return word(v)
    }
    case "int256": {
      const v = toBigInt(arg.v, "int256")
      if (v < -(TWO_256 >> 1n) || v >= TWO_256 >> 1n) throw new RangeError(`int256 out of range: ${v}`)
      return word(v < 0n ? TWO_256 + v : v)
    }
    case "uint8": {
      if (!Number.isInteger(arg.v) || arg.v < 0 || arg.v > 255) throw new RangeError(`uint8 out of range: ${arg.v}`)
      return Uint8Array.of(arg.v)
    }
    case "address": return fixedBytes(arg.v, 20, "address")
    case "bytes32": return fixedBytes(arg.v, 32, "bytes32")
  }
}

/** `abi.encodePacked(args...)`. */
export const encodePacked = (...args: readonly Packed[]): Uint8Array => {
  return concatBytes(...args.map(packOne))
}

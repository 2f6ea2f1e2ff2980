/**
 * The few pieces of Solidity's ABI encoding the epoch-report digest needs, written out so that
 * `runtime/core` stays free of ethers: `abi.encode` of static types (every value one 32-byte word,
 * big-endian, left-padded) and `abi.encodePacked` of an array (its elements each padded to a
 * 32-byte word, as Solidity pads array elements even when packing).
 */
import { fromHex, keccak256, utf8ToBytes } from "../crypto.ts"

const TWO_256 = 1n << 256n

/** One uint256 (or any uintN, or an address as a number) as a 32-byte big-endian word. */
export const uintWord = (x: bigint): Uint8Array => {
  if (x < 0n || x >= TWO_256) throw new RangeError(`uint256 out of range: ${x}`)
  const out = new Uint8Array(32)
  let v = x
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** A 20-byte address left-padded to a word. */
export const addressWord = (address: Uint8Array): Uint8Array => {
  if (address.length !== 20) throw new RangeError(`an address has 20 bytes, got ${address.length}`)
  const out = new Uint8Array(32)
  out.set(address, 12)
  return out
}

/** A bytes32 value as a word (exactly 32 bytes). */
export const bytes32Word = (b: Uint8Array): Uint8Array => {
  if (b.length !== 32) throw new RangeError(`a bytes32 has 32 bytes, got ${b.length}`)
  return b
}

/** The concatenation of words: `abi.encode` of static values, or `abi.encodePacked` of an array. */
export const concatWords = (words: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(words.length * 32)
  words.forEach((w, i) => {
    if (w.length !== 32) throw new RangeError(`word ${i} has ${w.length} bytes`)
    out.set(w, i * 32)
  })
  return out
}

/** keccak256(utf8(text)): Solidity's `keccak256("text")`. */
export const keccakText = (text: string): Uint8Array => keccak256(utf8ToBytes(text))

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** Whether `id` is itself a 0x address (20 bytes of hex, any case). */
export const isHexAddress = (id: string): boolean => HEX_ADDRESS.test(id)

/**
 * The 20-byte address an account id stands for on chain: a 0x address is itself; any other id
 * (the simulator's "v0", "t3") is the last 20 bytes of keccak256(utf8(id)).
 */
export const accountBytes = (id: string): Uint8Array =>
  isHexAddress(id) ? fromHex(id) : keccakText(id).subarray(12)

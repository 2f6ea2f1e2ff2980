/**
 * Block identity: the canonical encoding and hash of a block, and of its transactions.
 *
 * blockHash = keccak256(abi.encodePacked(
 *   "dai/block/v1", uint256 height, uint256 round, address proposer, bytes32 parentHash,
 *   uint256 time, bytes32 txsHash, bytes32 appHash))
 * txsHash   = keccak256(txHash(tx_0) ‖ txHash(tx_1) ‖ ...)      (keccak256 of no bytes when empty)
 * txHash    = keccak256(UTF-8 of the canonical JSON of tx)
 *
 * A header-style hash (fixed fields + a digest of the txs) rather than a hash of the whole JSON, so
 * that a contract or a light client can check a header without the transactions.
 */
import { keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import { encodePacked } from "./packed.ts"
import type { AppTx, Block, Hash, Json } from "./types.ts"

const BLOCK_TAG = "dai/block/v1"

/**
 * Canonical JSON: object keys in ascending UTF-16 code-unit order at every depth, no whitespace,
 * numbers as JavaScript prints them (shortest round trip; -0 as 0). Throws a TypeError on a value
 * that is not JSON (a non-finite number, undefined, a bigint), naming its path.
 */
export const canonicalJson = (value: Json): string => write(value, [])

// The path of the value being written, for errors only: kept as a stack of keys and indices and
// turned into text only when something throws (every node writes every message, so building a path
// string per value was a large share of what encoding allocated).
type Path = Array<string | number>
const pathText = (path: Path): string => path.reduce<string>((out, k) => (typeof k === "number" ? `${out}[${k}]` : `${out}.${k}`), "$")

const write = (value: Json, path: Path): string => {
  if (value === null) return "null"
  switch (typeof value) {
    case "boolean": return value ? "true" : "false"
    case "string": return JSON.stringify(value)
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${pathText(path)}: not a finite number`)
      return Object.is(value, -0) ? "0" : JSON.stringify(value)
    case "object": {
      let out = ""
      if (Array.isArray(value)) {
        const items = value as readonly Json[]
        for (let i = 0; i < items.length; i++) {
          path.push(i)
          out += (i === 0 ? "" : ",") + write(items[i] as Json, path)
          path.pop()
        }
        return `[${out}]`
      }
      const obj = value as { readonly [key: string]: Json }
      const keys = Object.keys(obj).sort()
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!
        path.push(k)
        out += `${i === 0 ? "" : ","}${JSON.stringify(k)}:${write(obj[k] as Json, path)}`
        path.pop()
      }
      return `{${out}}`
    }
    default: throw new TypeError(`${pathText(path)}: not a JSON value (${typeof value})`)
  }
}

/** keccak256 of a transaction's canonical JSON. */
export const txHash = (tx: AppTx): Hash => toHex(keccak256(utf8ToBytes(canonicalJson(tx))))

/** keccak256 of the concatenated tx hashes, in block order. */
export const txsHash = (txs: readonly AppTx[]): Hash => {
  const out = new Uint8Array(32 * txs.length)
  txs.forEach((tx, i) => out.set(keccak256(utf8ToBytes(canonicalJson(tx))), 32 * i))
  return toHex(keccak256(out))
}

/** The bytes `blockHash` hashes (see the module comment). */
export const blockHeaderBytes = (block: Block): Uint8Array =>
  encodePacked(
    { t: "string", v: BLOCK_TAG },
    { t: "uint256", v: block.height },
    { t: "uint256", v: block.round },
    { t: "address", v: block.proposer },
    { t: "bytes32", v: block.parentHash },
    { t: "uint256", v: block.time },
    { t: "bytes32", v: txsHash(block.txs) },
    { t: "bytes32", v: block.appHash },
  )

// Blocks are immutable values that every node hashes several times (proposal, votes, commit), so
// the hash is remembered per block object; a WeakMap lets a dropped block be collected.
const hashes = new WeakMap<Block, Hash>()

/** The identity of a block: keccak256 of its header bytes, as 0x-hex. */
export const blockHash = (block: Block): Hash => {
  let hash = hashes.get(block)
  if (hash === undefined) {
    hash = toHex(keccak256(blockHeaderBytes(block)))
    hashes.set(block, hash)
  }
  return hash
}

/**
 * Sending transactions, shared by the adapter's parts (submit.ts, committee.ts, market.ts): the
 * signer of an account, connected to the chain, and the wait for a transaction's receipt.
 */
import type { Provider, Signer, TransactionReceipt } from "ethers"
import { TokenInvalidAddress, type Address } from "../../core/econ/index.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import type { AccountBook } from "./accounts.ts"

type Any = any // an ethers contract call's result is untyped without typechain

/** Where signers come from: the node's keys, the chain they connect to, the account book. */
export interface SignerSource {
  readonly provider: Provider
  readonly book: AccountBook
  readonly signerFor: (account: Address) => Signer | undefined
}

/**
 * The signer this node holds for `account`, connected to the provider when it is not yet;
 * ChainUnavailable for `operation` when the node holds none (`address`, when given, is named in the reason).
 */
export const keyOf = (src: Pick<SignerSource, "provider" | "signerFor">, operation: string, account: Address, address?: string): Signer => {
  const s = src.signerFor(account)
  if (s === undefined) {
    const at = address === undefined ? "" : ` (${address})`
    throw new ChainUnavailable({ operation, reason: `no signer for account "${account}"${at}: this node holds no key for it; add it to signerFor` })
  }
  return s.provider === null ? s.connect(src.provider) : s
}

/** The connected signer of a sending `account`: TokenInvalidAddress (role "sender") when the book has no address for it, else as `keyOf`. */
export const signerOf = (src: SignerSource, operation: string, account: Address): Signer => {
  if ((typeof account === "string" ? src.book.addressOf(account) : undefined) === undefined) throw new TokenInvalidAddress({ role: "sender", address: account })
  return keyOf(src, operation, account)
}

/**
 * A function that sends a transaction (`send`), waits for its receipt and tells `sawBlock` the
 * receipt's block; a transaction dropped before it was mined is an error.
 */
export const minedWith = (sawBlock: (block: number) => void) => async (send: () => Promise<Any>): Promise<TransactionReceipt> => {
  const tx = await send()
  const receipt: TransactionReceipt | null = await tx.wait()
  if (receipt === null) throw new Error(`transaction ${tx.hash} was dropped`)
  sawBlock(receipt.blockNumber)
  return receipt
}

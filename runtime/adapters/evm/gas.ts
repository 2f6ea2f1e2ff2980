/**
 * Gas limits with headroom for the block's time.
 *
 * A transaction's gas is estimated against a pending block whose timestamp is "now", but it is mined
 * in a block whose timestamp may be a later second. Several of our calls cost more in a later
 * second: Staking's stake checkpoints are keyed by block time, so a second bond in the same second
 * rewrites the last checkpoint while one in the next second appends a new storage slot (~22k gas
 * more); withdraw and slashes walk the entries that matured or started by block time. With the
 * estimate as the exact limit (what ethers and Hardhat's automatic gas do), such a call runs out of
 * gas whenever a second boundary falls between estimating and mining — under load, often. Every
 * signer the EVM adapter sends with is wrapped so that its transactions carry the estimate plus
 * headroom (only the gas used is paid).
 */
import { AbstractSigner, type Provider, type Signer, type TransactionRequest, type TransactionResponse, type TypedDataDomain, type TypedDataField } from "ethers"

/** Fixed headroom: covers a new storage slot or two (22,100 gas each) when the block is a second later. */
export const GAS_HEADROOM_FIXED = 50_000n

/** The gas limit for an estimate: +25% and a fixed amount for time-dependent storage writes. */
export const gasWithHeadroom = (estimate: bigint): bigint => estimate + estimate / 4n + GAS_HEADROOM_FIXED

/** A signer that sends every transaction without a gas limit with the estimate plus headroom. */
class HeadroomSigner extends AbstractSigner {
  readonly #inner: Signer

  constructor(inner: Signer) {
    super(inner.provider)
    this.#inner = inner
  }

  override connect(provider: Provider | null): Signer {
    return new HeadroomSigner(this.#inner.connect(provider))
  }

  override getAddress(): Promise<string> {
    return this.#inner.getAddress()
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    if (tx.gasLimit !== undefined && tx.gasLimit !== null) return this.#inner.sendTransaction(tx)
    // A refused call fails here, at the estimate, with the revert data the error mapping reads.
    const estimate = await this.#inner.estimateGas(tx)
    return this.#inner.sendTransaction({ ...tx, gasLimit: gasWithHeadroom(estimate) })
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.#inner.signTransaction(tx)
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.#inner.signMessage(message)
  }

  override signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    return this.#inner.signTypedData(domain, types, value)
  }
}

/** `signer`, sending with gas headroom (see the module comment). */
export const withGasHeadroom = (signer: Signer): Signer => (signer instanceof HeadroomSigner ? signer : new HeadroomSigner(signer))

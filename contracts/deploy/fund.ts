/**
 * Fund an account on a deployed network from the deployer (`dai chain fund`): gas (the chain's
 * native coin) and DAI, checked first so that a payer holding too little sends nothing, then the
 * new balances read back from the chain.
 */
import { Contract, getAddress, type Signer } from "ethers"
import { formatTokens } from "../../runtime/core/units.ts"

const TOKEN_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function transfer(address to, uint256 amount) returns (bool)",
]

/** The payer holds less than it is asked to send; nothing was sent. */
export class FundShort extends Error {
  readonly what: "DAI" | "ETH"
  readonly held: bigint
  readonly wanted: bigint
  readonly payer: string
  constructor(what: "DAI" | "ETH", held: bigint, wanted: bigint, payer: string) {
    super(`${payer} holds ${formatTokens(held)} ${what}, less than the ${formatTokens(wanted)} ${what} asked${what === "ETH" ? " (plus gas)" : ""}; nothing was sent`)
    this.what = what
    this.held = held
    this.wanted = wanted
    this.payer = payer
  }
}

export interface FundResult {
  readonly payer: string
  readonly to: string
  readonly sentEth: bigint
  readonly sentDai: bigint
  /** The recipient's balances after, read back from the chain. */
  readonly eth: bigint
  readonly dai: bigint
}

/** Send `eth` (wei) and `dai` (base units) from `payer` to `to`; throws FundShort when the payer holds too little. */
export const fundAccount = async (payer: Signer, token: string, to: string, amounts: { readonly eth: bigint; readonly dai: bigint }): Promise<FundResult> => {
  const provider = payer.provider
  if (provider === null) throw new Error("fundAccount: the payer has no provider")
  const from = getAddress(await payer.getAddress())
  const recipient = getAddress(to)
  const dai = new Contract(token, TOKEN_ABI, payer)
  const [heldEth, heldDai] = await Promise.all([provider.getBalance(from), dai.getFunction("balanceOf")(from) as Promise<bigint>])
  if (heldDai < amounts.dai) throw new FundShort("DAI", heldDai, amounts.dai, from)
  if (heldEth <= amounts.eth) throw new FundShort("ETH", heldEth, amounts.eth, from)
  if (amounts.eth > 0n) await (await payer.sendTransaction({ to: recipient, value: amounts.eth })).wait()
  if (amounts.dai > 0n) await (await dai.getFunction("transfer")(recipient, amounts.dai)).wait()
  const [eth, daiAfter] = await Promise.all([provider.getBalance(recipient), dai.getFunction("balanceOf")(recipient) as Promise<bigint>])
  return { payer: from, to: recipient, sentEth: amounts.eth, sentDai: amounts.dai, eth, dai: daiAfter }
}

/**
 * The shared sending helpers (tx.ts) on Hardhat's in-process chain: the signer an account sends
 * with, the refusals when it has no address or this node no key, and a mined transaction's receipt.
 */
import { Wallet } from "ethers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ChainUnavailable } from "../../services/chain.ts"
import { TokenInvalidAddress } from "../../core/econ/index.ts"
import { accountBook } from "./accounts.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"
import { keyOf, minedWith, signerOf, type SignerSource } from "./tx.ts"

let world: EvmWorld
let src: SignerSource

beforeAll(async () => {
  world = await evmWorld()
  // "v0" is held by this node; "stranger" has an address but no key here.
  const stranger = Wallet.createRandom().address
  src = { provider: world.ethers.provider, book: accountBook({ ...world.accounts, stranger }), signerFor: (id) => world.signers[id] }
}, 120_000)
afterAll(async () => {
  await world.close()
})

describe("EVM sending helpers", () => {
  it("gives the account's own signer, on the chain's provider", async () => {
    const s = signerOf(src, "transfer", "v0")
    expect(await s.getAddress()).toBe(world.accounts.v0)
    expect(s.provider).not.toBeNull()
  })

  it("connects a signer that has no provider yet", async () => {
    const loose = Wallet.createRandom()
    const s = keyOf({ provider: src.provider, signerFor: () => loose }, "transfer", "loose")
    expect(s.provider).toBe(src.provider)
    expect(await s.getAddress()).toBe(loose.address)
  })

  it("refuses an account with no address as TokenInvalidAddress, one with no key here as ChainUnavailable", () => {
    expect(() => signerOf(src, "transfer", "nobody")).toThrow(TokenInvalidAddress)
    let refused: unknown
    try {
      signerOf(src, "transfer", "stranger")
    } catch (e) {
      refused = e
    }
    expect(refused).toBeInstanceOf(ChainUnavailable)
    expect((refused as ChainUnavailable).operation).toBe("transfer")
    expect((refused as ChainUnavailable).reason).toContain(`no signer for account "stranger"`)
    expect(() => keyOf(src, "burn", "stranger", "0xabc")).toThrow(/"stranger" \(0xabc\)/)
  })

  it("waits for a sent transaction's receipt and tells its block", async () => {
    const seen: number[] = []
    const mined = minedWith((block) => seen.push(block))
    const from = signerOf(src, "send", "v0")
    const receipt = await mined(() => from.sendTransaction({ to: world.accounts.v1, value: 1n }))
    expect(receipt.status).toBe(1)
    expect(seen).toEqual([receipt.blockNumber])
  })
})

/**
 * The devnet's chain after `startDevnetChain`: the genesis validators registered themselves on
 * Staking after the deploy handed every role to Governance (registering needs none), they are the
 * Treasury's signers (M = ⌈2N/3⌉) and the downtime reporters (the one trusted role left), the
 * Treasury holds the community share, and no other account holds a role.
 */
import { Contract, Wallet } from "ethers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { COMMUNITY_SHARE } from "../../contracts/deploy/deploy.ts"
import { REWARD_RESERVE_TOKENS } from "../core/app/genesis.ts"
import { readRoles, rolesHeldByAccounts } from "../../contracts/deploy/roles.ts"
import { fromHex } from "../core/crypto.ts"
import { DEFAULT_PARAMS } from "../core/params.ts"
import { TOKEN, WAD } from "../core/units.ts"
import { startDevnetChain, type DevnetChain, type DevnetValidator } from "./devnet-chain.ts"

describe("devnet chain: roles and treasury", () => {
  let chain: DevnetChain
  const wallets = [0, 1, 2, 3].map((i) => new Wallet(`0x${(i + 1).toString(16).padStart(64, "7")}`))
  const validators: DevnetValidator[] = wallets.map((w, i) => ({
    operator: `v${i}`, address: w.address, amount: 10_000n * TOKEN, tier: 0, commission: WAD / 20n, allocation: 11_000n * TOKEN, privateKey: fromHex(w.privateKey),
  }))

  beforeAll(async () => {
    chain = await startDevnetChain({ params: DEFAULT_PARAMS, consensusChainId: 7, validators })
  }, 120_000)
  afterAll(async () => {
    await chain?.close()
  })

  it("makes the validators the Treasury's 3-of-4 signers, and funds the Treasury and the Committee's reward reserve", async () => {
    const d = chain.deployment
    expect(d.treasury).toEqual({ signers: wallets.map((w) => w.address), threshold: 3, funded: COMMUNITY_SHARE.toString() })
    expect(d.committee.rewardReserve).toBe(REWARD_RESERVE_TOKENS.toString())
    const token = new Contract(d.contracts.DAIToken, ["function balanceOf(address) view returns (uint256)"], chain.provider)
    expect(await token.balanceOf!(d.contracts.Treasury)).toBe(COMMUNITY_SHARE)
  })

  it("leaves every role with Governance (the committee role with the Committee), after the validators registered", async () => {
    const d = chain.deployment
    const roles = await readRoles(chain.provider, d)
    expect(rolesHeldByAccounts(roles)).toEqual([])
    expect(roles.filter((r) => r.holder === d.deployer)).toEqual([])
    const staking = new Contract(d.contracts.Staking, ["function signingKeyOf(address) view returns (address)"], chain.provider)
    for (const w of wallets) expect(await staking.signingKeyOf!(w.address)).toBe(w.address)
  })
})

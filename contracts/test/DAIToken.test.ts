import { describe, expect, it, beforeAll } from "vitest"
import { connectChain } from "./chain.ts"

const TOTAL = 1_000_000_000n * 10n ** 18n
const DAY = 86_400n

describe("DAIToken", () => {
  let ethers: any
  let signers: any[]
  let now: () => Promise<bigint>
  const deploy = async (over: Partial<{ recipients: string[]; amounts: bigint[]; guardian: string; expiry: bigint; governance: string }> = {}) => {
    const t = await now()
    const [g, gov, a, b] = signers
    return ethers.deployContract("DAIToken", [
      over.recipients ?? [a.address, b.address],
      over.amounts ?? [TOTAL - 5n, 5n],
      over.guardian ?? g.address,
      over.expiry ?? t + 30n * DAY,
      over.governance ?? gov.address,
    ])
  }
  beforeAll(async () => {
    const conn = await connectChain()
    ethers = conn.ethers
    signers = await ethers.getSigners()
    now = async () => BigInt((await ethers.provider.getBlock("latest")).timestamp)
  })

  it("mints exactly the total supply over the allocations and has no mint function", async () => {
    const t = await deploy()
    expect(await t.totalSupply()).toBe(TOTAL)
    expect(await t.balanceOf(signers[2].address)).toBe(TOTAL - 5n)
    expect(await t.balanceOf(signers[3].address)).toBe(5n)
    expect(await t.TOTAL_SUPPLY()).toBe(TOTAL)
    expect(t.interface.getFunction("mint")).toBeNull()
    expect(await t.name()).toBe("dai")
    expect(await t.symbol()).toBe("DAI")
    expect(await t.decimals()).toBe(18n)
  })

  it("refuses allocations that do not sum exactly, repeat, are empty, zero or mismatched", async () => {
    const [, , a, b] = signers
    const F = await ethers.getContractFactory("DAIToken")
    const cases: Array<[Parameters<typeof deploy>[0], string]> = [
      [{ amounts: [TOTAL, 1n] }, "allocations do not sum to the total supply"],
      [{ amounts: [TOTAL - 6n, 5n] }, "allocations do not sum to the total supply"],
      [{ recipients: [a.address, a.address] }, "an address appears twice; merge its allocations"],
      [{ recipients: [], amounts: [] }, "no allocations"],
      [{ recipients: [a.address], amounts: [TOTAL, 0n] }, "recipients and amounts differ in length"],
      [{ recipients: [a.address, b.address], amounts: [TOTAL, 0n] }, "every amount must be > 0"],
      [{ recipients: [a.address, ethers.ZeroAddress], amounts: [TOTAL - 1n, 1n] }, "an allocation has the zero address"],
    ]
    for (const [over, reason] of cases) {
      await expect(deploy(over)).rejects.toSatisfy((e: any) => {
        const d = F.interface.parseError(e.data)
        return d?.name === "TokenInvalidAllocation" && d.args[0] === reason
      })
    }
  })

  it("bounds the guardian's term at deployment and needs a governance address", async () => {
    const F = await ethers.getContractFactory("DAIToken")
    const t = await now()
    const name = (e: any) => F.interface.parseError(e.data)?.name
    await expect(deploy({ expiry: t + 181n * DAY })).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidGuardianExpiry")
    await expect(deploy({ expiry: t })).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidGuardianExpiry")
    await expect(deploy({ governance: ethers.ZeroAddress })).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidAddress")
    const none = await deploy({ guardian: ethers.ZeroAddress, expiry: 0n })
    expect(await none.guardianActive()).toBe(false)
    expect(await none.guardianExpiry()).toBe(0n)
    const next = (await now()) + 10n
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(next)])
    const max = await deploy({ expiry: next + 180n * DAY })
    expect(await max.guardianActive()).toBe(true)
  })

  it("pauses every transfer while the guardian is active; only the guardian pauses and unpauses", async () => {
    const [g, gov, a, b] = signers
    const t = await deploy()
    await expect(t.connect(a).pause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotGuardian")
    await expect(t.connect(g).unpause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotPaused")
    await (await t.connect(g).pause()).wait()
    expect(await t.paused()).toBe(true)
    await expect(t.connect(a).transfer(b.address, 1n)).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenPaused")
    await expect(t.connect(a).burn(1n)).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenPaused")
    await expect(t.connect(gov).unpause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotGuardian")
    await expect(t.connect(g).unpause()).resolves.toBeTruthy()
    expect(await t.paused()).toBe(false)
    await (await t.connect(a).transfer(b.address, 1n)).wait()
    expect(await t.balanceOf(b.address)).toBe(6n)
  })

  it("ends the pause when the guardian expires, and then the guardian has no power", async () => {
    const [g, , a, b] = signers
    const t = await deploy()
    await (await t.connect(g).pause()).wait()
    await ethers.provider.send("evm_increaseTime", [Number(31n * DAY)])
    await ethers.provider.send("evm_mine", [])
    expect(await t.guardianActive()).toBe(false)
    expect(await t.paused()).toBe(false)
    await (await t.connect(a).transfer(b.address, 1n)).wait()
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenGuardianInactive")
  })

  it("lets governance revoke the guardian (ending a pause) and hand governance on", async () => {
    const [g, gov, a, b] = signers
    const t = await deploy()
    await (await t.connect(g).pause()).wait()
    await expect(t.connect(a).revokeGuardian()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotGovernance")
    await expect(t.connect(gov).revokeGuardian()).resolves.toBeTruthy()
    expect(await t.guardian()).toBe(ethers.ZeroAddress)
    expect(await t.paused()).toBe(false)
    await (await t.connect(a).transfer(b.address, 1n)).wait()
    await expect(t.connect(gov).revokeGuardian()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenGuardianInactive")
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotGuardian")
    await expect(t.connect(a).transferGovernance(a.address)).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenNotGovernance")
    await expect(t.connect(gov).transferGovernance(ethers.ZeroAddress)).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.name === "TokenInvalidAddress")
    await (await t.connect(gov).transferGovernance(a.address)).wait()
    expect(await t.governance()).toBe(a.address)
  })

  it("lets a pause lapse by itself after MAX_PAUSE_DURATION, and refuses the next one until as long again", async () => {
    const [g, , a, b] = signers
    const t = await deploy({ expiry: (await now()) + 60n * DAY })
    const week = await t.MAX_PAUSE_DURATION()
    expect(week).toBe(7n * DAY)
    const r = await (await t.connect(g).pause()).wait()
    const at = BigInt((await ethers.provider.getBlock(r.blockNumber)).timestamp)
    expect(t.interface.parseLog(r.logs[0])?.args.until).toBe(at + week)
    expect(await t.pausedUntil()).toBe(at + week)
    const name = (e: any) => t.interface.parseError(e.data)?.name
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => name(e) === "TokenPauseCooldown")
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(at + week)])
    await (await t.connect(a).transfer(b.address, 1n)).wait()
    expect(await t.paused()).toBe(false)
    await expect(t.connect(g).unpause()).rejects.toSatisfy((e: any) => name(e) === "TokenNotPaused")
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.args[0] === at + 2n * week)
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(at + 2n * week)])
    await (await t.connect(g).pause()).wait()
    expect(await t.paused()).toBe(true)
    // Lifting it early starts the wait from then.
    const u = await (await t.connect(g).unpause()).wait()
    const lifted = BigInt((await ethers.provider.getBlock(u.blockNumber)).timestamp)
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => t.interface.parseError(e.data)?.args[0] === lifted + week)
  })

  it("lets governance appoint a new guardian for a bounded term, ending the old one's pause", async () => {
    const [g, gov, a, b, next] = signers
    const t = await deploy()
    const name = (e: any) => t.interface.parseError(e.data)?.name
    await (await t.connect(g).pause()).wait()
    const term = (await now()) + 90n * DAY
    await expect(t.connect(a).appointGuardian(next.address, term)).rejects.toSatisfy((e: any) => name(e) === "TokenNotGovernance")
    await expect(t.connect(gov).appointGuardian(ethers.ZeroAddress, term)).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidAddress")
    await expect(t.connect(gov).appointGuardian(next.address, (await now()) + 181n * DAY)).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidGuardianExpiry")
    await expect(t.connect(gov).appointGuardian(next.address, await now())).rejects.toSatisfy((e: any) => name(e) === "TokenInvalidGuardianExpiry")
    const r = await (await t.connect(gov).appointGuardian(next.address, term)).wait()
    const ev = t.interface.parseLog(r.logs[0])
    expect([ev?.name, ev?.args.previous, ev?.args.next, ev?.args.expiry]).toEqual(["GuardianAppointed", g.address, next.address, term])
    expect([await t.guardian(), await t.guardianExpiry(), await t.paused()]).toEqual([next.address, term, false])
    await (await t.connect(a).transfer(b.address, 1n)).wait()
    await expect(t.connect(g).pause()).rejects.toSatisfy((e: any) => name(e) === "TokenNotGuardian")
    await (await t.connect(next).pause()).wait()
    expect(await t.paused()).toBe(true)
    // A revoked guardian can be replaced too.
    await (await t.connect(gov).revokeGuardian()).wait()
    expect([await t.guardian(), await t.guardianExpiry(), await t.paused()]).toEqual([ethers.ZeroAddress, 0n, false])
    await (await t.connect(gov).appointGuardian(g.address, (await now()) + DAY)).wait()
    expect(await t.guardianActive()).toBe(true)
  })

  it("supports votes (delegation checkpoints), burn, burnFrom and permit", async () => {
    const [, , a, b, c] = signers
    const t = await deploy()
    await (await t.connect(a).delegate(a.address)).wait()
    expect(await t.getVotes(a.address)).toBe(TOTAL - 5n)
    await (await t.connect(a).burn(10n)).wait()
    expect(await t.totalSupply()).toBe(TOTAL - 10n)
    expect(await t.getVotes(a.address)).toBe(TOTAL - 15n)
    // permit: a signs an approval for c, c spends it with burnFrom
    const deadline = (await now()) + 3600n
    const domain = { name: "dai", version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await t.getAddress() }
    const types = { Permit: [{ name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] }
    const sig = ethers.Signature.from(await a.signTypedData(domain, types, { owner: a.address, spender: c.address, value: 100n, nonce: 0n, deadline }))
    await (await t.connect(b).permit(a.address, c.address, 100n, deadline, sig.v, sig.r, sig.s)).wait()
    expect(await t.nonces(a.address)).toBe(1n)
    expect(await t.allowance(a.address, c.address)).toBe(100n)
    await (await t.connect(c).burnFrom(a.address, 40n)).wait()
    expect(await t.totalSupply()).toBe(TOTAL - 50n)
    expect(await t.allowance(a.address, c.address)).toBe(60n)
  })
})

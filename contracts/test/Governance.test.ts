/**
 * Constitution, Governance, Treasury and ContributionRegistry: the happy paths and every revert path.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest"
import { DEFAULT_PARAMS, PARAM_NAMES, REGISTRY } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { connectChain } from "./chain.ts"
import { constitutionArgs, constitutionTable, paramKey } from "../deploy/constitution-table.ts"
import { World } from "./world.ts"

const DAY = 86_400
let ethers: any
let w: World
let constitution: any
let treasury: any
let governance: any
let snapshot: string
let signers: any[]

const errorOf = async (p: Promise<unknown>, ...contracts: any[]): Promise<string> => {
  try {
    await p
  } catch (e) {
    const data = (e as { data?: string }).data
    for (const c of [...contracts, constitution, governance, treasury, w.staking, w.token]) {
      const parsed = c?.interface.parseError(data)
      if (parsed) return parsed.name
    }
    return String(e)
  }
  return "ok"
}
const wait = async (p: Promise<any>) => (await p).wait()
const later = async (seconds: number) => {
  await ethers.provider.send("evm_increaseTime", [seconds])
  await ethers.provider.send("evm_mine", [])
}

beforeAll(async () => {
  ethers = (await connectChain()).ethers
  w = await World.deploy(ethers, DEFAULT_PARAMS)
  signers = await ethers.getSigners()
  const admin = w.admin
  constitution = await ethers.deployContract("Constitution", constitutionArgs(admin.address))
  treasury = await ethers.deployContract("Treasury", [await w.token.getAddress(), [signers[11].address, signers[12].address, signers[13].address], 2])
  // Quadratic votes, set explicitly (the registry default is linear: see "counts linear votes" below).
  governance = await ethers.deployContract("Governance", [await constitution.getAddress(), await w.staking.getAddress(), await treasury.getAddress(), true])
  const g = await governance.getAddress()
  await wait(constitution.transferGovernance(g))
  await wait(treasury.setGovernance(g))
  await wait(w.staking.grantRole(await w.staking.PARAMS_ROLE(), g))
  // Stake: v0 validator 10k, d0 delegates 40k, d1 400, c0 contributor 100; d2 nothing.
  await wait(w.staking.connect(w.signer.v0).registerValidator(10_000n * TOKEN, 0, 0, w.keys.v0.address))
  await wait(w.staking.connect(w.signer.d0).delegate(BigInt(w.addr("v0")), 40_000n * TOKEN, 0))
  await wait(w.staking.connect(w.signer.d1).delegate(BigInt(w.addr("v0")), 400n * TOKEN, 0))
  await wait(w.staking.connect(w.signer.c0).bondContributor(99n * TOKEN + 10n ** 18n, 0))
  await wait(w.token.connect(w.signer.reserve).transfer(await treasury.getAddress(), 1_000_000n * TOKEN))
  snapshot = await ethers.provider.send("evm_snapshot", [])
})
beforeEach(async () => {
  await ethers.provider.send("evm_revert", [snapshot])
  snapshot = await ethers.provider.send("evm_snapshot", [])
})

describe("Constitution", () => {
  it("holds every numeric registry parameter with its bounds, generated from the registry", async () => {
    const rows = constitutionTable()
    const numeric = PARAM_NAMES.filter((n) => ["duration", "fraction", "number", "integer", "tokens"].includes(REGISTRY[n].kind))
    expect(rows.map((r) => r.name)).toEqual(numeric)
    expect(await constitution.count()).toBe(BigInt(numeric.length))
    const [min, max, value] = await constitution.entry(paramKey("fees.burnFraction"))
    expect([min, max, value]).toEqual([0n, 9n * 10n ** 17n, 3n * 10n ** 17n])
    const [dmin, , dval] = await constitution.entry(paramKey("consensus.timeoutPrevote"))
    expect([dmin, dval]).toEqual([100n, 1000n]) // ms
    expect((await constitution.entry(paramKey("staking.minValidatorBond")))[2]).toBe(1_000n * TOKEN)
    expect(await errorOf(constitution.entry(paramKey("training.model")))).toBe("ConstitutionUnknownParameter")
    await expect(constitution.checkValue(paramKey("fees.burnFraction"), 9n * 10n ** 17n)).resolves.toBeDefined()
    expect(await errorOf(constitution.checkValue(paramKey("fees.burnFraction"), 9n * 10n ** 17n + 1n))).toBe("ConstitutionOutOfBounds")
  })
  it("refuses changes from anyone but governance and bad tables", async () => {
    const k = paramKey("fees.burnFraction")
    expect(await errorOf(constitution.setValue(k, 1n))).toBe("ConstitutionNotGovernance")
    expect(await errorOf(constitution.amendBounds(k, 0n, 1n))).toBe("ConstitutionNotGovernance")
    expect(await errorOf(constitution.transferGovernance(w.admin.address))).toBe("ConstitutionNotGovernance")
    const F = await ethers.getContractFactory("Constitution")
    const [keys, mins, maxs, values, g] = constitutionArgs(w.admin.address)
    const deployErr = (args: unknown[]) => errorOf(F.deploy(...args), F)
    expect(await deployErr([keys, mins.slice(1), maxs, values, g])).toBe("ConstitutionInvalidTable")
    expect(await deployErr([keys, mins, maxs, values, ethers.ZeroAddress])).toBe("ConstitutionInvalidTable")
    expect(await deployErr([[keys[0], keys[0]], [0n, 0n], [1n, 1n], [0n, 0n], g])).toBe("ConstitutionDuplicateParameter")
    expect(await deployErr([[keys[0]], [2n], [1n], [1n], g])).toBe("ConstitutionInvalidBounds")
    expect(await deployErr([[keys[0]], [0n], [1n], [2n], g])).toBe("ConstitutionOutOfBounds")
    const i = constitutionTable().findIndex((r) => r.name === "staking.lockMultiplier30d")
    const bad = [...values]
    bad[i] = 15n * 10n ** 17n // 30d 1.5 > 90d 1.25
    expect(await deployErr([keys, mins, maxs, bad, g])).toBe("ConstitutionConstraintViolated")
  })
})

describe("Governance", () => {
  const burnKey = paramKey("fees.burnFraction")
  it("passes a parameter change by quadratic vote, waits the timelock, applies it to the Constitution and Staking", async () => {
    const gov = governance.connect(w.signer.d0)
    await wait(gov.proposeParam(burnKey, 5n * 10n ** 17n))
    const [votes, stake] = await governance.votesOf(w.addr("d0"))
    expect(stake).toBe(40_000n * TOKEN)
    expect(votes).toBe(200n * 10n ** 9n) // sqrt(4e22)
    await wait(gov.castVote(1, 1))
    await wait(governance.connect(w.signer.d1).castVote(1, 0))
    expect(await errorOf(gov.castVote(1, 1))).toBe("GovernanceAlreadyVoted")
    expect(await errorOf(governance.execute(1))).toBe("GovernanceVotingOpen")
    await later(3 * DAY)
    expect(await errorOf(governance.connect(w.signer.v0).castVote(1, 1))).toBe("GovernanceVotingClosed")
    expect(Number(await governance.state(1))).toBe(3) // Queued
    expect(await errorOf(governance.execute(1))).toBe("GovernanceTimelockNotExpired")
    await later(DAY)
    await wait(governance.execute(1))
    expect(await errorOf(governance.execute(1))).toBe("GovernanceAlreadyExecuted")
    expect(await constitution.paramValue(burnKey)).toBe(5n * 10n ** 17n)
    expect((await w.staking.params()).burnFraction).toBe(5n * 10n ** 17n)
    expect((await w.staking.params()).unbondingPeriod).toBe(21n * 86_400n)
  })
  it("counts linear votes (the stake itself) when deployed with governance.quadratic false, the registry default", async () => {
    expect(DEFAULT_PARAMS["governance.quadratic"]).toBe(false)
    const linear = await ethers.deployContract("Governance", [await constitution.getAddress(), await w.staking.getAddress(), await treasury.getAddress(), DEFAULT_PARAMS["governance.quadratic"]])
    expect([await linear.quadratic(), await governance.quadratic()]).toEqual([false, true])
    expect([...(await linear.votesOf(w.addr("d0")))]).toEqual([40_000n * TOKEN, 40_000n * TOKEN])
    await wait(linear.connect(w.signer.d1).proposeParam(burnKey, 5n * 10n ** 17n))
    expect(await linear.connect(w.signer.d1).castVote.staticCall(1, 1)).toBe(400n * TOKEN)
    await wait(linear.connect(w.signer.d1).castVote(1, 1))
    await wait(linear.connect(w.signer.d0).castVote(1, 0))
    const p = await linear.proposal(1)
    expect([p.forVotes, p.againstVotes, p.stakeVoted]).toEqual([400n * TOKEN, 40_000n * TOKEN, 40_400n * TOKEN])
    expect(await errorOf(linear.connect(w.signer.d2).castVote(1, 1), linear)).toBe("GovernanceBelowMinimumBond")
  })
  it("counts the stake bonded at the proposal's start and kept since (Staking.bondedSince), against the minimum bond of then", async () => {
    const linear = await ethers.deployContract("Governance", [await constitution.getAddress(), await w.staking.getAddress(), await treasury.getAddress(), false])
    const v0 = BigInt(w.addr("v0"))
    await wait(linear.connect(w.signer.d1).proposeParam(burnKey, 5n * 10n ** 17n))
    const start = (await ethers.provider.getBlock("latest")).timestamp
    const bonded = await w.staking.totalBonded()
    expect(await errorOf(linear.votesOn(2, w.addr("d0")), linear)).toBe("GovernanceUnknownProposal")
    // Bonded after the start's second (a position opened in that second counts: timestamps are whole
    // seconds), no vote on this proposal (a second identity cannot vote with moved stake either).
    await later(1)
    await wait(w.staking.connect(w.signer.d0).delegate(v0, 5_000n * TOKEN, 0))
    await wait(w.staking.connect(w.signer.d2).delegate(v0, 5_000n * TOKEN, 0))
    expect(await w.staking.bondedOf(w.addr("d0"))).toBe(45_000n * TOKEN)
    expect(await w.staking.bondedSince(w.addr("d0"), start)).toBe(40_000n * TOKEN)
    expect([...(await linear.votesOn(1, w.addr("d0")))]).toEqual([40_000n * TOKEN, 40_000n * TOKEN])
    expect(await errorOf(linear.connect(w.signer.d2).castVote(1, 1), linear)).toBe("GovernanceBelowMinimumBond")
    // Unbonded since the start: no longer counts (d1's 400 → 50, below the minimum bond of 100).
    const [d1Position] = await w.staking.positionsOf(w.addr("d1"))
    await wait(w.staking.connect(w.signer.d1).unbond(d1Position, 350n * TOKEN))
    expect(await errorOf(linear.connect(w.signer.d1).castVote(1, 1), linear)).toBe("GovernanceBelowMinimumBond")
    await wait(linear.connect(w.signer.d0).castVote(1, 1))
    const p = await linear.proposal(1)
    expect([p.forVotes, p.againstVotes, p.stakeVoted, p.bondedAtStart]).toEqual([40_000n * TOKEN, 0n, 40_000n * TOKEN, bonded])
    expect([p.kind, p.proposer, p.key, p.a, p.b, p.to, p.executed]).toEqual([0n, w.addr("d1"), burnKey, 5n * 10n ** 17n, 0n, ethers.ZeroAddress, false])
    expect([p.quorum, p.threshold, p.delay]).toEqual([10n ** 17n, 5n * 10n ** 17n, 86_400n])
  })
  it("refuses a value outside the bounds at proposal; a cross-parameter rule is enforced at execution", async () => {
    const gov = governance.connect(w.signer.d0)
    expect(await errorOf(gov.proposeParam(burnKey, 95n * 10n ** 16n))).toBe("ConstitutionOutOfBounds")
    expect(await errorOf(gov.proposeParam(paramKey("training.model"), 1n))).toBe("ConstitutionUnknownParameter")
    await wait(gov.proposeParam(paramKey("staking.lockMultiplier30d"), 15n * 10n ** 17n)) // > the 90d multiplier 1.25
    await wait(gov.castVote(1, 1))
    await later(4 * DAY)
    expect(await errorOf(governance.execute(1))).toBe("ConstitutionConstraintViolated")
  })
  it("defeats proposals without quorum or threshold, and refuses voters below the minimum bond", async () => {
    expect(await errorOf(governance.connect(w.signer.d2).proposeParam(burnKey, 1n))).toBe("GovernanceBelowMinimumBond")
    expect(await errorOf(governance.connect(w.signer.c0).castVote(1, 1))).toBe("GovernanceUnknownProposal")
    await wait(governance.connect(w.signer.d1).proposeParam(burnKey, 1n))
    await wait(governance.connect(w.signer.d1).castVote(1, 1)) // 400 of 50,499 bonded < 10% quorum
    expect(await errorOf(governance.connect(w.signer.d2).castVote(1, 1))).toBe("GovernanceBelowMinimumBond")
    await wait(governance.connect(w.signer.d0).proposeParam(burnKey, 2n))
    await wait(governance.connect(w.signer.d0).castVote(2, 0))
    await wait(governance.connect(w.signer.d1).castVote(2, 1))
    await later(5 * DAY)
    expect(Number(await governance.state(1))).toBe(2) // Defeated: quorum
    expect(Number(await governance.state(2))).toBe(2) // Defeated: threshold
    expect(await errorOf(governance.execute(1))).toBe("GovernanceNotPassed")
    expect(await errorOf(governance.execute(2))).toBe("GovernanceNotPassed")
    expect(await errorOf(governance.execute(9))).toBe("GovernanceUnknownProposal")
  })
  it("counts abstentions toward quorum only (OpenZeppelin's GovernorCountingSimple), and refuses a support other than 0, 1, 2", async () => {
    await wait(governance.connect(w.signer.d1).proposeParam(burnKey, 1n))
    expect(await errorOf(governance.connect(w.signer.d1).castVote(1, 3))).toBe("GovernanceInvalidSupport")
    await wait(governance.connect(w.signer.d1).castVote(1, 1)) // 400 for: alone below the 10% quorum
    await wait(governance.connect(w.signer.v0).castVote(1, 2)) // v0 abstains: quorum met, approval untouched
    const p = await governance.proposal(1)
    expect(p.againstVotes).toBe(0n)
    expect(p.abstainVotes).toBeGreaterThan(p.forVotes)
    expect(p.stakeVoted).toBeGreaterThan(400n * TOKEN)
    // Abstentions alone pass nothing: a proposal with only abstentions has no votes cast for or against.
    await wait(governance.connect(w.signer.d0).proposeParam(burnKey, 2n))
    await wait(governance.connect(w.signer.d0).castVote(2, 2))
    await later(5 * DAY)
    expect(Number(await governance.state(1))).toBe(4) // passed (Executable after its timelock): for > against, quorum with the abstentions
    expect(Number(await governance.state(2))).toBe(2) // Defeated: quorate but nobody for
  })
  it("amends a bound with the supermajority and the longer delay", async () => {
    const gov = governance.connect(w.signer.d0)
    expect(await errorOf(gov.proposeAmendment(burnKey, 2n, 1n))).toBe("GovernanceInvalidProposal")
    await wait(gov.proposeAmendment(burnKey, 0n, 95n * 10n ** 16n))
    expect((await governance.proposal(1)).threshold).toBe(667n * 10n ** 15n)
    await wait(gov.castVote(1, 1))
    await wait(governance.connect(w.signer.v0).castVote(1, 0)) // sqrt(40k) vs sqrt(10k): 2/3 for, just below 0.667
    await later(3 * DAY + 7 * DAY)
    expect(await errorOf(governance.execute(1))).toBe("GovernanceNotPassed")
    await wait(gov.proposeAmendment(burnKey, 0n, 95n * 10n ** 16n))
    await wait(gov.castVote(2, 1))
    await later(3 * DAY + DAY)
    expect(await errorOf(governance.execute(2))).toBe("GovernanceTimelockNotExpired")
    await later(6 * DAY)
    await wait(governance.execute(2))
    expect((await constitution.entry(burnKey))[1]).toBe(95n * 10n ** 16n)
  })
  it("spends from the treasury by a passed proposal", async () => {
    const gov = governance.connect(w.signer.d0)
    expect(await errorOf(gov.proposeSpend(ethers.ZeroAddress, 1n))).toBe("GovernanceInvalidProposal")
    await wait(gov.proposeSpend(w.addr("d2"), 1_000n * TOKEN))
    await wait(gov.castVote(1, 1))
    await later(4 * DAY)
    const before = await w.token.balanceOf(w.addr("d2"))
    await wait(governance.execute(1))
    expect(await w.token.balanceOf(w.addr("d2"))).toBe(before + 1_000n * TOKEN)
  })
})

describe("Treasury", () => {
  it("spends by M of N signers, once", async () => {
    const [s1, s2, s3] = [signers[11], signers[12], signers[13]]
    const t = treasury
    expect(await errorOf(t.connect(w.signer.d0).proposeSpend(w.addr("d0"), 1n))).toBe("TreasuryNotSigner")
    expect(await errorOf(t.connect(s1).proposeSpend(w.addr("d0"), 0n))).toBe("TreasuryInvalidSpend")
    await wait(t.connect(s1).proposeSpend(w.addr("d0"), 5n * TOKEN))
    expect(await errorOf(t.executeSpend(1))).toBe("TreasuryNotEnoughApprovals")
    expect(await errorOf(t.connect(s1).approveSpend(1))).toBe("TreasuryAlreadyApproved")
    expect(await errorOf(t.connect(w.signer.d0).approveSpend(1))).toBe("TreasuryNotSigner")
    expect(await errorOf(t.connect(s2).approveSpend(7))).toBe("TreasuryUnknownSpend")
    await wait(t.connect(s2).approveSpend(1))
    const before = await w.token.balanceOf(w.addr("d0"))
    await wait(t.executeSpend(1))
    expect(await w.token.balanceOf(w.addr("d0"))).toBe(before + 5n * TOKEN)
    expect(await errorOf(t.executeSpend(1))).toBe("TreasuryAlreadyExecuted")
    expect(await errorOf(t.connect(s3).approveSpend(1))).toBe("TreasuryAlreadyExecuted")
    expect(await errorOf(t.executeSpend(2))).toBe("TreasuryUnknownSpend")
    await wait(t.connect(s1).proposeSpend(w.addr("d0"), 10_000_000n * TOKEN))
    await wait(t.connect(s3).approveSpend(2))
    expect(await errorOf(t.executeSpend(2))).toBe("TreasuryInsufficientFunds")
  })
  it("lets only governance spend directly and checks its setup", async () => {
    expect(await errorOf(treasury.spend(w.addr("d0"), 1n))).toBe("TreasuryNotGovernance")
    expect(await errorOf(treasury.setGovernance(w.addr("d0")))).toBe("TreasuryGovernanceAlreadySet")
    expect(await errorOf(treasury.connect(w.signer.d0).setGovernance(w.addr("d0")))).toBe("TreasuryNotGovernance")
    const F = await ethers.getContractFactory("Treasury")
    const tok = await w.token.getAddress()
    const [a, b] = [signers[11].address, signers[12].address]
    expect(await errorOf(F.deploy(tok, [a, b], 3), F)).toBe("TreasuryInvalidSigners")
    expect(await errorOf(F.deploy(tok, [a, b], 0), F)).toBe("TreasuryInvalidSigners")
    expect(await errorOf(F.deploy(tok, [a, a], 1), F)).toBe("TreasuryInvalidSigners")
    expect(await errorOf(F.deploy(tok, [a, ethers.ZeroAddress], 1), F)).toBe("TreasuryInvalidSigners")
    const fresh = await F.deploy(tok, [a], 1)
    expect(await errorOf(fresh.setGovernance(ethers.ZeroAddress), F)).toBe("TreasuryInvalidSpend")
  })
})

describe("ContributionRegistry", () => {
  it("accepts a reveal matching its commitment and refuses every other", async () => {
    const now = (await ethers.provider.getBlock("latest")).timestamp
    const genesis = now + 10
    const r = await ethers.deployContract("ContributionRegistry", [genesis, 100, 40, w.admin.address])
    const F = await ethers.getContractFactory("ContributionRegistry")
    expect(await errorOf(F.deploy(genesis, 100, 100, w.admin.address), F)).toBe("ContributionRegistryInvalidSchedule")
    const scorer = w.signer.v0
    const other = w.signer.v1
    const c = w.addr("c0")
    await wait(r.grantRole(await r.SCORER_ROLE(), scorer.address))
    await wait(r.grantRole(await r.SCORER_ROLE(), other.address))
    const salt = ethers.id("salt")
    const commitment = await r.commitmentOf(0, scorer.address, c, 42n, salt)
    expect(await errorOf(r.connect(scorer).commit(0, c, commitment), r)).toBe("ContributionRegistryNotCommitPhase") // before genesis
    await ethers.provider.send("evm_setNextBlockTimestamp", [genesis])
    await wait(r.connect(scorer).commit(0, c, commitment))
    expect(await errorOf(r.connect(w.signer.d0).commit(0, c, commitment), r)).toBe("AccessControlUnauthorizedAccount")
    expect(await errorOf(r.connect(scorer).commit(0, c, commitment), r)).toBe("ContributionRegistryAlreadyCommitted")
    expect(await errorOf(r.connect(other).commit(0, c, ethers.ZeroHash), r)).toBe("ContributionRegistryInvalidCommitment")
    expect(await errorOf(r.connect(other).commit(1, c, commitment), r)).toBe("ContributionRegistryNotCommitPhase")
    await wait(r.connect(other).commit(0, c, await r.commitmentOf(0, other.address, c, 50n, salt)))
    expect(await errorOf(r.connect(scorer).reveal(0, c, 42n, salt), r)).toBe("ContributionRegistryNotRevealPhase")
    await ethers.provider.send("evm_setNextBlockTimestamp", [genesis + 40])
    await ethers.provider.send("evm_mine", [])
    expect(await errorOf(r.connect(scorer).reveal(0, c, 43n, salt), r)).toBe("ContributionRegistryRevealMismatch")
    expect(await errorOf(r.connect(w.signer.d0).reveal(0, c, 42n, salt), r)).toBe("ContributionRegistryNoCommitment")
    expect(await errorOf(r.connect(scorer).commit(0, c, commitment), r)).toBe("ContributionRegistryNotCommitPhase")
    await wait(r.connect(scorer).reveal(0, c, 42n, salt))
    await wait(r.connect(other).reveal(0, c, 50n, salt))
    expect(await errorOf(r.connect(scorer).reveal(0, c, 42n, salt), r)).toBe("ContributionRegistryAlreadyRevealed")
    expect(await r.scoreSum(0, c)).toBe(92n)
    expect(await r.scoreCount(0, c)).toBe(2n)
    expect(await r.scoreOf(0, scorer.address, c)).toBe(42n)
    await ethers.provider.send("evm_setNextBlockTimestamp", [genesis + 100])
    await ethers.provider.send("evm_mine", [])
    expect((await r.currentEpoch())[0]).toBe(1n)
    expect(await errorOf(r.connect(scorer).reveal(0, c, 42n, salt), r)).toBe("ContributionRegistryNotRevealPhase")
  })
})

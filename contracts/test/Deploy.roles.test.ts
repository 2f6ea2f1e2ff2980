/**
 * After `deployContracts` (what `dai chain deploy` and the devnet run): every role of every contract
 * is held by Governance (or by nobody), but Staking's and the ComputeMarket's COMMITTEE_ROLE, held by the Committee contract
 * (which has no role or setter of its own); the deployer keeps none, no externally owned account
 * holds one, the Committee holds the reward reserve, the Treasury is funded with the
 * community share and run by its named M-of-N signers. The constitution's bounds hold on every
 * path: each parameter setter is refused to the deployer (no role) and, called as Governance itself,
 * refuses an out-of-bounds value with the contract's own error. Governance revokes and replaces the
 * token's guardian and the operational roles through proposals, votes and the timelock.
 */
import { Contract, Interface } from "ethers"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../../runtime/core/units.ts"
import { CONTRACT_NAMES, type Deployment } from "../../runtime/adapters/evm/deployment.ts"
import { encodeStakingParams } from "../../runtime/adapters/evm/staking-params.ts"
import { connectInProcess } from "../deploy/build.ts"
import { constitutionTable, paramKey } from "../deploy/constitution-table.ts"
import { REWARD_RESERVE_TOKENS } from "../../runtime/core/app/genesis.ts"
import { COMMUNITY_SHARE, defaultTreasury, deployContracts, devnetAllocations, loadArtifact, treasuryProblem } from "../deploy/deploy.ts"
import { ACCESS_CONTROL_ROLES, readRoles, rolesHeldByAccounts } from "../deploy/roles.ts"

type Any = any
const DAY = 86_400
const WAD = 10n ** 18n
const ZERO_ROLE = `0x${"0".repeat(64)}`

let connection: Any
let ethers: Any
let signers: Any[]
let deployer: Any
let d: Deployment
let c: Record<(typeof CONTRACT_NAMES)[number], Any>
let snapshot: string
const interfaces: Interface[] = []

/** The custom error name of a rejected call (searched in every contract's ABI). */
const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (e) {
    const data = (e as { data?: string }).data
    for (const i of interfaces) {
      const parsed = data === undefined ? null : i.parseError(data)
      if (parsed) return parsed.name
    }
    return String(e)
  }
  return "ok"
}
const wait = async (p: Promise<Any>) => (await p).wait()
const later = async (seconds: number) => {
  await ethers.provider.send("evm_increaseTime", [seconds])
  await ethers.provider.send("evm_mine", [])
}

beforeAll(async () => {
  connection = await connectInProcess()
  ethers = connection.ethers
  signers = await ethers.getSigners()
  deployer = signers[0]
  const accounts: string[] = await Promise.all(signers.slice(0, 10).map((s: Any) => s.getAddress()))
  // What `dai chain deploy` does on a dry run: the other unlocked accounts are the Treasury's signers and the reporters.
  d = await deployContracts({ deployer, allocations: devnetAllocations(accounts), network: "in-process", dryRun: true, treasury: defaultTreasury(accounts.slice(1)) })
  c = {} as typeof c
  for (const name of CONTRACT_NAMES) {
    const { abi } = await loadArtifact(name)
    c[name] = new Contract(d.contracts[name], abi as never, ethers.provider)
    interfaces.push(new Interface(abi as never))
  }
  snapshot = await ethers.provider.send("evm_snapshot", [])
}, 120_000)
afterAll(async () => {
  await connection?.close()
})
beforeEach(async () => {
  await ethers.provider.send("evm_revert", [snapshot])
  snapshot = await ethers.provider.send("evm_snapshot", [])
})

describe("roles after deploy", () => {
  it("hands every role to Governance and the Committee: no externally owned account holds one", async () => {
    const roles = await readRoles(ethers.provider, d)
    expect(roles).toEqual(d.roles.holders)
    // Every declared role appears, and every AccessControl role event is accounted for.
    for (const [contract, names] of Object.entries(ACCESS_CONTROL_ROLES)) for (const r of names!) expect(roles.some((h) => h.contract === contract && h.role === r), `${contract}.${r}`).toBe(true)
    expect(rolesHeldByAccounts(roles)).toEqual([])
    const held = (contract: string, role: string) => roles.filter((h) => h.contract === contract && h.role === role).map((h) => h.kind)
    expect(held("Staking", "DEFAULT_ADMIN_ROLE")).toEqual(["Governance"])
    expect(held("Staking", "PARAMS_ROLE")).toEqual(["Governance"])
    expect(held("Staking", "COMMITTEE_ROLE")).toEqual(["Committee"])
    expect(roles.some((h) => h.role === "DOWNTIME_REPORTER_ROLE")).toBe(false)
    expect(held("ContributionRegistry", "DEFAULT_ADMIN_ROLE")).toEqual(["Governance"])
    expect(held("ContributionRegistry", "SCORER_ROLE")).toEqual(["none"])
    expect(held("ComputeMarket", "DEFAULT_ADMIN_ROLE")).toEqual(["Governance"])
    expect(held("ComputeMarket", "COMMITTEE_ROLE")).toEqual(["Committee"])
    for (const name of ["DAIToken", "Constitution", "Treasury"]) expect(held(name, "governance"), name).toEqual(["Governance"])
    expect(held("DAIToken", "guardian")).toEqual(["none"])
    expect(roles.every((h) => h.kind !== "account")).toBe(true)
    expect(roles.filter((h) => h.holder === d.deployer)).toEqual([])
  })

  it("leaves no role with the deployer or any other Hardhat account, checked with hasRole", async () => {
    const everyone: string[] = await Promise.all(signers.map((s: Any) => s.getAddress()))
    for (const [name, roleNames] of Object.entries(ACCESS_CONTROL_ROLES) as Array<[keyof typeof c, readonly string[]]>) {
      for (const r of roleNames) {
        const id: string = await c[name][r]()
        for (const a of everyone) {
          expect(await c[name].hasRole(id, a), `${name}.${r} of ${a}`).toBe(false)
        }
      }
    }
    expect(await c.Staking.hasRole(ZERO_ROLE, d.contracts.Governance)).toBe(true)
    expect(await c.Treasury.isSigner(d.deployer)).toBe(false)
  })

  it("gives the Committee the reward reserve and no way for anyone to change it", async () => {
    expect(await c.DAIToken.balanceOf(d.contracts.Committee)).toBe(REWARD_RESERVE_TOKENS)
    expect(d.committee.rewardReserve).toBe(REWARD_RESERVE_TOKENS.toString())
    expect(await c.Committee.reserve()).toBe(REWARD_RESERVE_TOKENS)
    expect(await c.Committee.staking()).toBe(d.contracts.Staking)
    expect(await c.Committee.constitution()).toBe(d.contracts.Constitution)
    expect(await c.Committee.consensusChainId()).toBe(BigInt(d.consensusChainId))
    // Its only state-changing functions are open to anyone and checked by rule: no admin, no setter.
    const writes = c.Committee.interface.fragments.filter((f: Any) => f.type === "function" && !f.constant).map((f: Any) => f.name).sort()
    expect(writes).toEqual(["depositFees", "depositFeesFor", "reportConflict", "requestFeeWithdrawal", "snapshot", "submitEpochReport", "withdrawFees"])
  })

  it("funds the Treasury with the community share; its M of N signers are the named ones", async () => {
    expect(await c.DAIToken.balanceOf(d.contracts.Treasury)).toBe(COMMUNITY_SHARE)
    expect(d.treasury.funded).toBe(COMMUNITY_SHARE.toString())
    expect(d.genesis.find((g) => g.address === d.contracts.Treasury)?.amount).toBe(COMMUNITY_SHARE.toString())
    expect(d.genesis.reduce((s, g) => s + BigInt(g.amount), 0n)).toBe(TOTAL_SUPPLY)
    expect(d.treasury.signers).toHaveLength(9)
    expect(d.treasury.threshold).toBe(6) // ⌈2 × 9 / 3⌉
    expect(await c.Treasury.threshold()).toBe(6n)
    for (const s of d.treasury.signers) expect(await c.Treasury.isSigner(s)).toBe(true)
    // The multisig path works: 6 of the 9 signers move 1 token.
    const [first, ...rest] = signers.slice(1, 7)
    await wait(c.Treasury.connect(first).proposeSpend(signers[15].address, TOKEN))
    expect(await errorOf(c.Treasury.connect(first).executeSpend(1))).toBe("TreasuryNotEnoughApprovals")
    for (const s of rest) await wait(c.Treasury.connect(s).approveSpend(1))
    await wait(c.Treasury.connect(signers[15]).executeSpend(1))
    expect(await c.DAIToken.balanceOf(signers[15].address)).toBe(TOKEN)
  })

  it("validates the Treasury multisig before deploying anything", async () => {
    const a = signers[1].address
    const b = signers[2].address
    expect(treasuryProblem({ signers: [a, b], threshold: 2 })).toBeUndefined()
    expect(treasuryProblem({ signers: [], threshold: 1 })).toMatch(/at least one signer/)
    expect(treasuryProblem({ signers: [a, b], threshold: 0 })).toMatch(/>= 1/)
    expect(treasuryProblem({ signers: [a, b], threshold: 3 })).toMatch(/exceeds the 2 signer/)
    expect(treasuryProblem({ signers: [a, a.toLowerCase()], threshold: 1 })).toMatch(/named twice/)
    expect(treasuryProblem({ signers: [a, "0x12"], threshold: 1 })).toMatch(/not a non-zero 0x address/)
    expect(treasuryProblem({ signers: [`0x${"0".repeat(40)}`], threshold: 1 })).toMatch(/not a non-zero 0x address/)
    expect(defaultTreasury([a, b, signers[3].address, signers[4].address])).toEqual({ signers: [a, b, signers[3].address, signers[4].address], threshold: 3 })
    const before = await ethers.provider.getTransactionCount(deployer.address)
    await expect(deployContracts({ deployer, allocations: devnetAllocations([deployer.address]), network: "x", dryRun: true, treasury: { signers: [a], threshold: 2 } }))
      .rejects.toThrow(/threshold 2 exceeds the 1 signer/)
    expect(await ethers.provider.getTransactionCount(deployer.address)).toBe(before)
  })
})

describe("the constitution's bounds on every path", () => {
  it("refuses every setter to the deployer: it holds no role", async () => {
    const as = (name: keyof typeof c) => c[name].connect(deployer)
    const k = paramKey("slashing.doubleSignFraction")
    const p = encodeStakingParams(DEFAULT_PARAMS)
    expect(await errorOf(as("Staking").setParams({ ...p, doubleSignFraction: 0n }))).toBe("AccessControlUnauthorizedAccount")
    expect(await errorOf(as("Staking").grantRole(await c.Staking.PARAMS_ROLE(), deployer.address))).toBe("AccessControlUnauthorizedAccount")
    expect(await errorOf(as("Staking").committeeSlash(1n, 1, 0n, ethers.id("x")))).toBe("AccessControlUnauthorizedAccount")
    expect(await errorOf(as("Constitution").setValue(k, 0n))).toBe("ConstitutionNotGovernance")
    expect(await errorOf(as("Constitution").amendBounds(k, 0n, WAD))).toBe("ConstitutionNotGovernance")
    expect(await errorOf(as("Constitution").transferGovernance(deployer.address))).toBe("ConstitutionNotGovernance")
    expect(await errorOf(as("DAIToken").transferGovernance(deployer.address))).toBe("TokenNotGovernance")
    expect(await errorOf(as("DAIToken").appointGuardian(deployer.address, BigInt(d.deployedAt + DAY)))).toBe("TokenNotGovernance")
    expect(await errorOf(as("DAIToken").revokeGuardian())).toBe("TokenNotGovernance")
    expect(await errorOf(as("Treasury").spend(deployer.address, 1n))).toBe("TreasuryNotGovernance")
    expect(await errorOf(as("Treasury").setGovernance(deployer.address))).toBe("TreasuryGovernanceAlreadySet")
    expect(await errorOf(as("ContributionRegistry").grantRole(await c.ContributionRegistry.SCORER_ROLE(), deployer.address))).toBe("AccessControlUnauthorizedAccount")
  })

  it("refuses an out-of-bounds value even from Governance itself, with the contract's own error", async () => {
    await ethers.provider.send("hardhat_setBalance", [d.contracts.Governance, "0x56BC75E2D63100000"])
    const gov = await ethers.getImpersonatedSigner(d.contracts.Governance)
    const staking = c.Staking.connect(gov)
    const constitution = c.Constitution.connect(gov)
    const p = encodeStakingParams(DEFAULT_PARAMS)
    const m = p.multipliers
    // The case first: a double-sign slash of 0, below the constitution's 0.01.
    expect(await errorOf(staking.setParams({ ...p, doubleSignFraction: 0n }))).toBe("StakingParamOutOfBounds")
    const cases: Array<[string, Record<string, unknown>]> = [
      ["fees.burnFraction", { burnFraction: 9n * WAD / 10n + 1n }],
      ["staking.insuranceFraction", { insuranceFraction: WAD / 2n + 1n }],
      ["staking.maxCommission", { maxCommission: WAD / 2n + 1n }],
      ["slashing.doubleSignFraction", { doubleSignFraction: WAD / 100n - 1n }],
      ["slashing.downtimeFraction", { downtimeFraction: WAD / 20n + 1n }],
      ["staking.minValidatorBond", { minValidatorBond: 10_000_000n * TOKEN + 1n }],
      ["staking.minValidatorBond", { minValidatorBond: TOKEN - 1n }],
      ["staking.minContributorBond", { minContributorBond: 1_000_000n * TOKEN + 1n }],
      ["staking.unbondingPeriod", { unbondingPeriod: 3_599n }],
      ["staking.unbondingPeriod", { unbondingPeriod: 60n * 86_400n + 1n }],
      ["slashing.downtimeJailDuration", { downtimeJailDuration: 59n }],
      ["slashing.downtimeJailDuration", { downtimeJailDuration: 30n * 86_400n + 1n }],
      ["staking.lockMultiplier30d", { multipliers: [WAD, 3n * WAD / 2n + 1n, 2n * WAD, 2n * WAD, 2n * WAD] }],
      ["staking.lockMultiplier90d", { multipliers: [WAD, m[1], 2n * WAD + 1n, 2n * WAD + 1n, 2n * WAD + 1n] }],
      ["staking.lockMultiplier180d", { multipliers: [WAD, m[1], m[2], 5n * WAD / 2n + 1n, 3n * WAD] }],
      ["staking.lockMultiplier365d", { multipliers: [WAD, m[1], m[2], m[3], 3n * WAD + 1n] }],
    ]
    for (const [name, change] of cases) {
      let key: string | undefined
      try {
        await staking.setParams({ ...p, ...change })
      } catch (e) {
        const parsed = c.Staking.interface.parseError((e as { data: string }).data)
        expect(parsed?.name, name).toBe("StakingParamOutOfBounds")
        key = parsed?.args[0]
      }
      expect(key, name).toBe(paramKey(name))
    }
    // staking.insuranceCoverage's bounds are [0, 1]: only the structural rule can refuse it.
    expect(await errorOf(staking.setParams({ ...p, insuranceCoverage: WAD + 1n }))).toBe("StakingInvalidParams")
    // Every Constitution entry, just above its maximum (and below its minimum when it has one).
    for (const row of constitutionTable()) {
      expect(await errorOf(constitution.setValue(row.key, row.max + 1n)), row.name).toBe("ConstitutionOutOfBounds")
      if (row.min > 0n) expect(await errorOf(constitution.setValue(row.key, row.min - 1n)), row.name).toBe("ConstitutionOutOfBounds")
    }
    const k = paramKey("slashing.doubleSignFraction")
    expect(await errorOf(constitution.amendBounds(k, WAD / 10n, WAD))).toBe("ConstitutionOutOfBounds") // the value 0.05 would fall outside
    expect(await errorOf(constitution.amendBounds(k, WAD, WAD / 10n))).toBe("ConstitutionInvalidBounds")
    // In bounds, it passes (and Staking follows).
    await wait(staking.setParams({ ...p, doubleSignFraction: WAD / 100n }))
    expect((await c.Staking.params()).doubleSignFraction).toBe(WAD / 100n)
    await ethers.provider.send("hardhat_stopImpersonatingAccount", [d.contracts.Governance])
  })

  it("refuses an out-of-bounds proposal at Governance", async () => {
    const v = signers[1]
    await wait(c.DAIToken.connect(v).approve(d.contracts.Staking, 10_000n * TOKEN))
    await wait(c.Staking.connect(v).registerValidator(10_000n * TOKEN, 0, 0, v.address))
    expect(await errorOf(c.Governance.connect(v).proposeParam(paramKey("slashing.doubleSignFraction"), 0n))).toBe("ConstitutionOutOfBounds")
  })
})

describe("governance over the guardian and the operational roles", () => {
  /** Stake for two voters, then a helper that passes a proposal and executes it after its timelock. */
  const voters = async () => {
    for (const s of [signers[1], signers[2]]) {
      await wait(c.DAIToken.connect(s).approve(d.contracts.Staking, 10_000n * TOKEN))
      await wait(c.Staking.connect(s).registerValidator(10_000n * TOKEN, 0, 0, s.address))
    }
    const g = c.Governance.connect(signers[1])
    return async (propose: (g: Any) => Promise<Any>): Promise<Any> => {
      const receipt = await wait(propose(g))
      const id = (await c.Governance.proposalCount()) as bigint
      await wait(g.castVote(id, 1))
      await wait(c.Governance.connect(signers[2]).castVote(id, 1))
      const period = Number(DEFAULT_PARAMS["governance.votingPeriod"] / 1000)
      await later(period)
      expect(await errorOf(c.Governance.connect(signers[3]).execute(id))).toBe("GovernanceTimelockNotExpired")
      await later(Number(DEFAULT_PARAMS["governance.timelock"] / 1000))
      const executed = await wait(c.Governance.connect(signers[3]).execute(id))
      return { receipt, executed }
    }
  }

  it("appoints a guardian for a bounded term, which pauses at most 7 days; revokes it by a vote", async () => {
    const pass = await voters()
    const guardian = signers[16]
    const { executed } = await pass((g) => g.proposeGuardian(guardian.address, 30 * DAY))
    const appointed = executed.logs.map((l: Any) => c.DAIToken.interface.parseLog(l)).find((e: Any) => e?.name === "GuardianAppointed")
    expect(appointed.args.next).toBe(guardian.address)
    expect(await c.DAIToken.guardian()).toBe(guardian.address)
    const now = (await ethers.provider.getBlock("latest")).timestamp
    expect(Number(await c.DAIToken.guardianExpiry())).toBe(now + 30 * DAY)

    await wait(c.DAIToken.connect(guardian).pause())
    expect(await c.DAIToken.paused()).toBe(true)
    expect(await errorOf(c.DAIToken.connect(signers[5]).transfer(signers[6].address, 1n))).toBe("TokenPaused")
    await later(7 * DAY)
    expect(await c.DAIToken.paused()).toBe(false)

    const { executed: revoked } = await pass((g) => g.proposeGuardian(ethers.ZeroAddress, 0))
    expect(revoked.logs.map((l: Any) => c.DAIToken.interface.parseLog(l)?.name)).toContain("GuardianRevoked")
    expect(await c.DAIToken.guardian()).toBe(ethers.ZeroAddress)
    expect(await errorOf(c.DAIToken.connect(guardian).pause())).toBe("TokenNotGuardian")
  })

  it("refuses malformed guardian and role proposals", async () => {
    await voters()
    const g = c.Governance.connect(signers[1])
    const params = await c.Staking.PARAMS_ROLE()
    const reporter = await c.Staking.COMMITTEE_ROLE()
    for (const [what, p] of [
      ["a guardian without a term", g.proposeGuardian(signers[9].address, 0)],
      ["a term beyond 180 days", g.proposeGuardian(signers[9].address, 181 * DAY)],
      ["a revocation with a term", g.proposeGuardian(ethers.ZeroAddress, 5)],
      ["the admin role", g.proposeRole(d.contracts.Staking, ZERO_ROLE, signers[9].address, true)],
      ["the parameter role", g.proposeRole(d.contracts.Staking, params, signers[9].address, true)],
      ["no target", g.proposeRole(ethers.ZeroAddress, reporter, signers[9].address, true)],
      ["no account", g.proposeRole(d.contracts.Staking, reporter, ethers.ZeroAddress, true)],
      ["the committee role to a key", g.proposeRole(d.contracts.Staking, reporter, signers[9].address, true)],
    ] as Array<[string, Promise<unknown>]>) expect(await errorOf(p), what).toBe("GovernanceInvalidProposal")
    expect(await errorOf(c.Governance.connect(signers[9]).proposeGuardian(signers[9].address, DAY))).toBe("GovernanceBelowMinimumBond")
  })

  it("moves the committee role to another contract (a new Committee, say) and grants a scorer by votes", async () => {
    const pass = await voters()
    const reporter = await c.Staking.COMMITTEE_ROLE()
    const old = d.contracts.Committee
    // Any address with code stands in for a redeployed Committee here.
    const next = d.contracts.Treasury!
    await pass((g) => g.proposeRole(d.contracts.Staking, reporter, next, true))
    await pass((g) => g.proposeRole(d.contracts.Staking, reporter, old, false))
    expect(await c.Staking.hasRole(reporter, next)).toBe(true)
    expect(await c.Staking.hasRole(reporter, old)).toBe(false)
    const scorer = await c.ContributionRegistry.SCORER_ROLE()
    await pass((g) => g.proposeRole(d.contracts.ContributionRegistry, scorer, next, true))
    expect(await c.ContributionRegistry.hasRole(scorer, next)).toBe(true)
    // The listing follows the chain.
    const roles = await readRoles(ethers.provider, d)
    expect(roles.filter((h) => h.role === "SCORER_ROLE").map((h) => h.holder)).toEqual([next])
    const stakingCommittee = roles.filter((h) => h.contract === "Staking" && h.role === "COMMITTEE_ROLE").map((h) => h.holder)
    expect(stakingCommittee).toContain(next)
    expect(stakingCommittee).not.toContain(old)
    // The market's committee role moves the same way, and never to a key.
    const market = await c.ComputeMarket.COMMITTEE_ROLE()
    expect(await errorOf(c.Governance.connect(signers[1]).proposeRole(d.contracts.ComputeMarket, market, signers[9].address, true))).toBe("GovernanceInvalidProposal")
    await pass((g) => g.proposeRole(d.contracts.ComputeMarket, market, next, true))
    expect(await c.ComputeMarket.hasRole(market, next)).toBe(true)
    expect(await c.ComputeMarket.staking()).toBe(d.contracts.Staking)
    expect(await c.ComputeMarket.constitution()).toBe(d.contracts.Constitution)
  })
})

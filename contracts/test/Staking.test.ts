/**
 * Staking: every external function and revert path. Operations the economy also knows run through
 * `World`, so each case checks the contract against the TypeScript economy as well (same outcome,
 * same error name, identical state afterwards); contract-only paths are checked directly.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest"
import type { EconOp } from "../../runtime/core/econ/ops.ts"
import { DEFAULT_PARAMS, type Params } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { encodeStakingParams } from "../../runtime/adapters/evm/staking-params.ts"
import { CONSENSUS_CHAIN_ID, connectChain } from "./chain.ts"
import { World, type StepResult } from "./world.ts"
import { signVote, voteDigest } from "../../runtime/core/consensus/signing.ts"
import { fromHex, toHex } from "../../runtime/core/crypto.ts"
import { paramKey } from "../deploy/constitution-table.ts"

const DAY = 86_400n
let ethers: any
let base: World
let snapshot: string
let w: World

/** Apply to both worlds, expect the same outcome (`"ok"` or an error name) and identical state. */
const both = async (op: EconOp | Parameters<World["step"]>[1], expected: string, dt = 0n): Promise<StepResult> => {
  const r = await w.step(dt, op)
  const name = (o: StepResult["ts"]) => (o === "skipped" ? "skipped" : o.ok ? "ok" : o.error)
  expect({ ts: name(r.ts), chain: name(r.chain) }).toEqual({ ts: expected, chain: expected })
  expect(await w.diff()).toBeUndefined()
  return r
}
const reg = (operator: string, amount = 10_000n * TOKEN, tier: 0 | 30 | 90 | 180 | 365 = 0, commission = 10n ** 17n): EconOp =>
  ({ type: "registerValidator", operator, amount, tier, commission })
const del = (owner: string, validator: string, amount = 1_000n * TOKEN, tier: 0 | 30 | 90 | 180 | 365 = 0): EconOp =>
  ({ type: "delegate", owner, validator, amount, tier })
const slash = (pool: string, infraction: "doubleSign" | "downtime", evidenceId: string, agoSec = 0) =>
  ({ type: "slashSpec" as const, pool, infraction, agoSec, evidenceId })
/** The custom error name of a rejected contract call. */
const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (e) {
    const data = (e as { data?: string }).data
    return w.staking.interface.parseError(data)?.name ?? w.token.interface.parseError(data)?.name ?? String(e)
  }
  return "ok"
}

const fresh = async (params: Params = DEFAULT_PARAMS) => {
  await ethers.provider.send("evm_revert", [snapshot])
  snapshot = await ethers.provider.send("evm_snapshot", [])
  w = await base.reset(params)
}

beforeAll(async () => {
  ethers = (await connectChain()).ethers
  base = await World.deploy(ethers, DEFAULT_PARAMS)
  snapshot = await ethers.provider.send("evm_snapshot", [])
})
beforeEach(() => fresh())

describe("Staking: registerValidator", () => {
  it("creates a validator pool with the self-bond and the signing key", async () => {
    await both(reg("v0"), "ok")
    expect(await w.staking.signingKeyOf(w.addr("v0"))).toBe(w.keys.v0.address)
    expect(await w.staking.operatorOfKey(w.keys.v0.address)).toBe(w.addr("v0"))
  })
  it("refuses zero, a second pool, a bond below the minimum, a bad or too high commission, a bad tier, too little balance", async () => {
    await both(reg("v0", 0n), "TokenInvalidAmount")
    await both(reg("v0", 999n * TOKEN), "StakingBelowMinimumBond")
    await both(reg("v0", 10_000n * TOKEN, 0, 10n ** 18n + 1n), "StakingInvalidCommission")
    await both(reg("v0", 10_000n * TOKEN, 0, 3n * 10n ** 17n), "StakingCommissionTooHigh")
    await both(reg("v0", 2_000_000n * TOKEN), "TokenInsufficientBalance")
    await both(reg("v0", 10_000n * TOKEN, 7 as 0), "StakingInvalidTier")
    await both(reg("v0"), "ok")
    await both(reg("v0"), "StakingValidatorExists")
  })
  it("refuses a zero signing key or one already registered (contract only)", async () => {
    const v0 = w.staking.connect(w.signer.v0)
    expect(await errorOf(v0.registerValidator(10_000n * TOKEN, 0, 0, ethers.ZeroAddress))).toBe("StakingInvalidSigningKey")
    await both(reg("v1"), "ok")
    expect(await errorOf(v0.registerValidator(10_000n * TOKEN, 0, 0, w.keys.v1.address))).toBe("StakingSigningKeyInUse")
  })
})

describe("Staking: bondContributor and delegate", () => {
  it("bonds into the contributor's own pool, creating it once", async () => {
    await both({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 30 }, "ok")
    await both({ type: "bondContributor", owner: "c0", amount: 250n * TOKEN + 1n, tier: 365 }, "ok")
    await both({ type: "bondContributor", owner: "c0", amount: 0n, tier: 0 }, "TokenInvalidAmount")
    await both({ type: "bondContributor", owner: "c0", amount: 99n * TOKEN, tier: 0 }, "StakingBelowMinimumBond")
    await both({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 1 as 0 }, "StakingInvalidTier")
    await both({ type: "bondContributor", owner: "c0", amount: 5_000_000n * TOKEN, tier: 0 }, "TokenInsufficientBalance")
  })
  it("delegates to validator pools only, never to jailed or tombstoned ones", async () => {
    await both(reg("v0"), "ok")
    await both(reg("v1"), "ok")
    await both({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 0 }, "ok")
    await both(del("d0", "v0", 1_000n * TOKEN, 90), "ok")
    await both(del("d0", "v0", 0n), "TokenInvalidAmount")
    await both(del("d0", "nobody"), "StakingUnknownPool")
    await both(del("d0", "contrib:c0"), "StakingNotValidatorPool")
    await both(del("d0", "v0", 1_000n * TOKEN, 5 as 0), "StakingInvalidTier")
    await both(del("d0", "v0", 10_000_000n * TOKEN), "TokenInsufficientBalance")
    await both(slash("v0", "downtime", "e1"), "ok")
    await both(del("d1", "v0"), "StakingValidatorJailed")
    await both(slash("v1", "doubleSign", "e1"), "ok")
    await both(del("d1", "v1"), "StakingValidatorTombstoned")
  })
  it("refuses new stake into a pool slashed to zero tokens", async () => {
    // A 100 % downtime slash is outside the constitution's bounds (<= 5 %): widen them first, as an amendment would.
    await ethers.provider.send("evm_revert", [snapshot])
    snapshot = await ethers.provider.send("evm_snapshot", [])
    await (await base.parts.constitution.amendBounds(paramKey("slashing.downtimeFraction"), 0n, 10n ** 18n)).wait()
    w = await base.reset({ ...DEFAULT_PARAMS, "slashing.downtimeFraction": 1 } as Params)
    await both({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 0 }, "ok")
    await both(slash("contrib:c0", "downtime", "e1"), "ok", 1n)
    await both({ type: "unjail", operator: "c0" }, "ok", 600n)
    await both({ type: "bondContributor", owner: "c0", amount: 100n * TOKEN, tier: 0 }, "StakingPoolFullySlashed")
  })
})

describe("Staking: unbond and withdraw", () => {
  it("unbonds part and then all of a position once unlocked; withdraws when mature", async () => {
    await both(reg("v0"), "ok")
    await both(del("d0", "v0", 3_000n * TOKEN, 30), "ok")
    await both({ type: "unbond", owner: "d0", position: 2, amount: 1n }, "StakingPositionLocked", 29n * DAY)
    await both({ type: "unbond", owner: "d0", position: 2, amount: 1_000n * TOKEN }, "ok", DAY)
    await both({ type: "withdraw", owner: "d0" }, "StakingUnbondingNotMature", 20n * DAY)
    await both({ type: "unbond", owner: "d0", position: 2, amount: 2_000n * TOKEN }, "ok")
    await both({ type: "withdraw", owner: "d0" }, "ok", DAY)
    await both({ type: "withdraw", owner: "d0" }, "StakingUnbondingNotMature", 19n * DAY)
    await both({ type: "withdraw", owner: "d0" }, "ok", DAY)
    await both({ type: "withdraw", owner: "d0" }, "StakingNothingUnbonding")
  })
  it("refuses zero, unknown positions, other owners' positions and more than the position is worth", async () => {
    await both(reg("v0"), "ok")
    await both({ type: "unbond", owner: "v0", position: 1, amount: 0n }, "TokenInvalidAmount")
    await both({ type: "unbond", owner: "v0", position: 9, amount: 1n }, "StakingUnknownPosition")
    await both({ type: "unbond", owner: "d0", position: 1, amount: 1n }, "StakingNotPositionOwner")
    await both({ type: "unbond", owner: "v0", position: 1, amount: 10_000n * TOKEN + 1n }, "StakingInsufficientShares")
    await both({ type: "unbond", owner: "v0", position: 1, amount: 10_000n * TOKEN }, "ok")
    await both({ type: "unbond", owner: "v0", position: 1, amount: 1n }, "StakingUnknownPosition")
  })
})

describe("Staking: rewards, fees and claims", () => {
  it("splits fees into burn and stakers' rewards, funds rewards, pays commission and rewards on claim", async () => {
    await both({ type: "payFee", payer: "d2", amount: 1_000n * TOKEN }, "ok") // nothing staked: carried
    await both(reg("v0", 10_000n * TOKEN, 365), "ok")
    await both(del("d0", "v0", 7_777n * TOKEN + 3n, 180), "ok")
    await both({ type: "bondContributor", owner: "c0", amount: 333n * TOKEN, tier: 90 }, "ok")
    await both({ type: "fundRewards", from: "reserve", amount: 123_456n * TOKEN + 7n }, "ok", 3600n)
    await both({ type: "payFee", payer: "d1", amount: 999n * TOKEN + 1n }, "ok")
    await both({ type: "claimRewards", owner: "d0" }, "ok")
    await both({ type: "claimRewards", owner: "v0" }, "ok")
    await both({ type: "claimRewards", owner: "c0" }, "ok")
    await both({ type: "claimRewards", owner: "d2" }, "ok") // nothing to claim is not an error
    await both({ type: "payFee", payer: "d1", amount: 0n }, "TokenInvalidAmount")
    await both({ type: "payFee", payer: "d1", amount: 10_000_000n * TOKEN }, "TokenInsufficientBalance")
    await both({ type: "fundRewards", from: "d1", amount: 0n }, "TokenInvalidAmount")
    await both({ type: "fundRewards", from: "d1", amount: 10_000_000n * TOKEN }, "TokenInsufficientBalance")
  })
})

describe("Staking: slashing, insurance, jail", () => {
  it("slashes downtime at the stake at the infraction, unbonding entries first, insures delegators, jails until unjail", async () => {
    await both(reg("v0"), "ok")
    await both(del("d0", "v0", 5_000n * TOKEN), "ok", 10n)
    await both({ type: "unbond", owner: "d0", position: 2, amount: 2_000n * TOKEN }, "ok", 10n)
    await both(del("d1", "v0", 4_000n * TOKEN), "ok", 10n) // joined after the infraction: not in the base
    await both(slash("v0", "downtime", "e1", 15), "ok", 1n)
    await both(slash("v0", "downtime", "e1"), "StakingInfractionAlreadySlashed")
    await both(slash("v0", "downtime", "e2"), "StakingValidatorJailed")
    await both({ type: "unjail", operator: "v0" }, "StakingJailNotExpired", 10n)
    await both({ type: "unjail", operator: "v0" }, "ok", 600n)
    await both({ type: "unjail", operator: "v0" }, "StakingNotJailed")
    await both({ type: "unjail", operator: "d2" }, "StakingUnknownPool")
    await both({ type: "claimRewards", owner: "d0" }, "ok")
  })
  it("checks evidence ids and infraction times", async () => {
    await both(reg("v0"), "ok", 100n)
    await both(slash("v0", "downtime", ""), "StakingInvalidEvidence")
    await both(slash("nobody", "downtime", "e1"), "StakingUnknownPool")
    await both(slash("v0", "downtime", "e1", -1), "StakingInfractionInFuture")
    await both(slash("v0", "downtime", "e1", 50), "StakingInfractionBeforePool", 10n)
  })
  it("tombstones on a proven double sign; a tombstoned pool can be neither slashed again nor unjailed", async () => {
    await both(reg("v0"), "ok")
    await both(del("d0", "v0", 5_000n * TOKEN), "ok")
    await both({ type: "unbond", owner: "d0", position: 2, amount: 1_000n * TOKEN }, "ok", 5n)
    await both(slash("v0", "doubleSign", "e3"), "ok", 5n)
    await both(slash("v0", "doubleSign", "e3"), "StakingInfractionAlreadySlashed")
    await both(slash("v0", "doubleSign", "e4"), "StakingTombstoned")
    await both({ type: "unjail", operator: "v0" }, "StakingTombstoned", 100n * DAY)
    await both({ type: "withdraw", owner: "d0" }, "ok", 30n * DAY)
  })
  it("accepts double-sign evidence from anyone and refuses evidence that does not prove one", async () => {
    await both(reg("v0"), "ok")
    const st = w.staking.connect(w.signer.d2)
    const [a, b] = w.votes("v0", 5n)
    const [, c] = w.votes("v1", 5n)
    expect(await errorOf(st.slashDoubleSign(a, { ...b, signature: "0x1234" }))).toBe("StakingInvalidEvidence")
    expect(await errorOf(st.slashDoubleSign(a, c))).toBe("StakingInvalidEvidence") // different keys
    expect(await errorOf(st.slashDoubleSign(a, a))).toBe("StakingInvalidEvidence") // same block
    const [x, y] = w.votes("v0", 6n)
    expect(await errorOf(st.slashDoubleSign(a, y))).toBe("StakingInvalidEvidence") // different heights
    const other = (v: any) => {
      const digest = ethers.solidityPackedKeccak256(["string", "uint256", "uint256", "uint256", "uint8", "bytes32"], ["dai/vote/v1", 99n, v.height, v.round, v.voteType, v.blockHash])
      return { ...v, chainId: 99n, signature: w.keys.v0.signingKey.sign(digest).serialized }
    }
    expect(await errorOf(st.slashDoubleSign(other(x), other(y)))).toBe("StakingInvalidEvidence") // another chain
    const [u1, u2] = w.votes("v2", 5n)
    expect(await errorOf(st.slashDoubleSign(u1, u2))).toBe("StakingInvalidEvidence") // not a registered key
    expect(await w.staking.voteDigest(CONSENSUS_CHAIN_ID, 5n, 0n, 1, a.blockHash)).toBe(
      ethers.solidityPackedKeccak256(["string", "uint256", "uint256", "uint256", "uint8", "bytes32"], ["dai/vote/v1", CONSENSUS_CHAIN_ID, 5n, 0n, 1, a.blockHash]),
    )
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(w.nowSec + 1n)])
    const tx = await st.slashDoubleSign(a, b)
    const rc = await tx.wait()
    const ev = rc.logs.map((l: any) => w.staking.interface.parseLog(l)).find((l: any) => l?.name === "Slashed")
    expect(ev.args.evidenceId).toBe(w.doubleSignEvidenceId("v0", 5n))
    expect((await w.staking.getPool(BigInt(w.addr("v0")))).tombstoned).toBe(true)
  })
  it("recomputes the consensus layer's vote digest byte for byte and slashes evidence signed by it", async () => {
    await both(reg("v1"), "ok")
    const key = fromHex(w.keys.v1.privateKey)
    const hashA = ethers.id("consensus-block-a")
    const hashB = ethers.id("consensus-block-b")
    expect(await w.staking.voteDigest(CONSENSUS_CHAIN_ID, 9n, 2n, 2, hashA)).toBe(toHex(voteDigest(CONSENSUS_CHAIN_ID, "precommit", 9, 2, hashA)))
    const va = signVote(key, CONSENSUS_CHAIN_ID, { type: "precommit", height: 9, round: 2, blockHash: hashA })
    const vb = signVote(key, CONSENSUS_CHAIN_ID, { type: "precommit", height: 9, round: 2, blockHash: hashB })
    const asSol = (v: typeof va) => ({ chainId: CONSENSUS_CHAIN_ID, height: BigInt(v.height), round: BigInt(v.round), voteType: 2, blockHash: v.blockHash, signature: v.signature })
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(w.nowSec + 1n)])
    await (await w.staking.connect(w.signer.d0).slashDoubleSign(asSol(va), asSol(vb))).wait()
    expect((await w.staking.getPool(BigInt(w.addr("v1")))).tombstoned).toBe(true)
  })
  it("unjails the operator's contributor pool too", async () => {
    await both({ type: "bondContributor", owner: "c1", amount: 500n * TOKEN, tier: 0 }, "ok")
    await both(slash("contrib:c1", "downtime", "e1"), "ok", 1n)
    await both({ type: "unjail", operator: "c1" }, "StakingJailNotExpired")
    await both({ type: "unjail", operator: "c1" }, "ok", 600n)
  })
  it("reserves the committee's slashes to COMMITTEE_ROLE; no downtime reporter role is left", async () => {
    await both(reg("v0"), "ok")
    for (const infraction of [0, 1]) {
      expect(await errorOf(w.staking.connect(w.signer.d0).committeeSlash(BigInt(w.addr("v0")), infraction, w.nowSec, ethers.id("x")))).toBe("AccessControlUnauthorizedAccount")
    }
    expect(w.staking.interface.getFunction("slashDowntime")).toBeNull()
    expect(w.staking.interface.getFunction("DOWNTIME_REPORTER_ROLE")).toBeNull()
  })
})

describe("Staking: parameters and views", () => {
  it("changes parameters only through PARAMS_ROLE and refuses structurally invalid ones", async () => {
    const p = encodeStakingParams(DEFAULT_PARAMS)
    expect(await errorOf(w.staking.connect(w.signer.d0).setParams(p))).toBe("AccessControlUnauthorizedAccount")
    const admin = w.staking.connect(w.admin)
    expect(await errorOf(admin.setParams({ ...p, burnFraction: 10n ** 18n + 1n }))).toBe("StakingInvalidParams")
    expect(await errorOf(admin.setParams({ ...p, multipliers: [2n * 10n ** 18n, ...p.multipliers.slice(1)] }))).toBe("StakingInvalidParams")
    expect(await errorOf(admin.setParams({ ...p, multipliers: [p.multipliers[0], p.multipliers[2], p.multipliers[1], p.multipliers[3], p.multipliers[4]] }))).toBe("StakingInvalidParams")
    expect(await errorOf(admin.setParams({ ...p, minValidatorBond: 0n }))).toBe("StakingInvalidParams")
    await expect(admin.setParams({ ...p, burnFraction: 5n * 10n ** 17n })).resolves.toBeTruthy()
    expect((await w.staking.params()).burnFraction).toBe(5n * 10n ** 17n)
  })
  it("refuses parameters outside the Constitution's bounds, at deployment and later, whoever holds PARAMS_ROLE", async () => {
    const p = encodeStakingParams(DEFAULT_PARAMS)
    const admin = w.staking.connect(w.admin)
    const err = async (q: Promise<unknown>) => {
      try {
        await q
      } catch (e) {
        return w.staking.interface.parseError((e as { data: string }).data)
      }
      return undefined
    }
    const zero = await err(admin.setParams({ ...p, doubleSignFraction: 0n }))
    expect([zero?.name, ...(zero?.args ?? [])]).toEqual(["StakingParamOutOfBounds", paramKey("slashing.doubleSignFraction"), 0n, 10n ** 16n, 10n ** 18n])
    // Durations are checked in seconds: the Constitution's ms bounds divided by 1000.
    const slow = await err(admin.setParams({ ...p, unbondingPeriod: 60n * DAY + 1n }))
    expect([slow?.name, ...(slow?.args ?? [])]).toEqual(["StakingParamOutOfBounds", paramKey("staking.unbondingPeriod"), 60n * DAY + 1n, 3_600n, 60n * DAY])
    // Bounds the Constitution amends apply at once.
    await (await w.parts.constitution.amendBounds(paramKey("slashing.doubleSignFraction"), 0n, 10n ** 18n)).wait()
    await (await admin.setParams({ ...p, doubleSignFraction: 0n })).wait()
    expect((await w.staking.params()).doubleSignFraction).toBe(0n)
    const F = await ethers.getContractFactory("Staking")
    const deployErr = async (args: unknown[]) => {
      try {
        await F.deploy(...args)
      } catch (e) {
        return F.interface.parseError((e as { data: string }).data)?.name
      }
      return "ok"
    }
    const token = await w.token.getAddress()
    const constitution = await w.parts.constitution.getAddress()
    expect(await deployErr([token, p, CONSENSUS_CHAIN_ID, ethers.ZeroAddress, w.admin.address])).toBe("StakingInvalidParams")
    expect(await deployErr([token, { ...p, downtimeFraction: 10n ** 17n }, CONSENSUS_CHAIN_ID, constitution, w.admin.address])).toBe("StakingParamOutOfBounds")
    expect(await (await F.deploy(token, p, CONSENSUS_CHAIN_ID, constitution, w.admin.address)).constitution()).toBe(constitution)
  })
  it("exposes pool ids, checkpoints and constants", async () => {
    await both(reg("v0"), "ok", 5n)
    const id = BigInt(w.addr("v0"))
    expect(await w.staking.tokensAt(id, w.nowSec - 1n)).toBe(0n)
    expect(await w.staking.tokensAt(id, w.nowSec)).toBe(10_000n * TOKEN)
    expect(await w.staking.contributorPoolId(w.addr("c0"))).toBe((1n << 160n) | BigInt(w.addr("c0")))
    expect(await w.staking.PRECISION()).toBe(10n ** 36n)
    expect(await w.staking.checkpointCount(id)).toBe(1n)
  })
})

/**
 * Committee.sol: snapshots of the validator set (powers by runtime/core/consensus/power.ts), epoch
 * reports signed with real secp256k1 keys (ethers Wallets) over the digest of
 * runtime/core/committee/digest.ts, their settlement checked against runtime/core/committee/settle.ts
 * to the wei, fee deposits, conflicting reports, and every refusal (each leaves the state as it was).
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { powerParams, votingPowers } from "../../runtime/core/consensus/power.ts"
import { reportDigestHex, secondsOf, settlement, quorumOf, type EpochReport, type Snapshot } from "../../runtime/core/committee/index.ts"
import { constitutionTable } from "../deploy/constitution-table.ts"
import { connectChain, CONSENSUS_CHAIN_ID } from "./chain.ts"
import { MAX_UINT, World } from "./world.ts"

type Any = any
const WAD = 10n ** 18n
const DAY = 86_400
let ethers: Any
let w: World
let committee: Any
let at: string
let snap: string
/** The validators of these tests: operator actor → self-bond (varied, so powers differ and the cap binds). */
const BONDS: ReadonlyArray<[string, bigint, 0 | 30 | 90]> = [["v0", 50_000n * TOKEN, 90], ["v1", 40_000n * TOKEN, 0], ["v2", 30_000n * TOKEN, 30], ["d0", 20_000n * TOKEN, 0], ["d2", 10_000n * TOKEN, 0]]

const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (e) {
    const data = (e as { data?: string }).data
    for (const c of [committee, w.staking, w.token]) {
      const parsed = data === undefined ? null : c.interface.parseError(data)
      if (parsed) return parsed.name
    }
    return String(e)
  }
  return "ok"
}
const wait = async (p: Promise<Any>) => (await p).wait()
const now = async (): Promise<number> => (await ethers.provider.getBlock("latest")).timestamp
const later = async (seconds: number) => {
  await ethers.provider.send("evm_increaseTime", [seconds])
  await ethers.provider.send("evm_mine", [])
}
const lower = (a: string) => a.toLowerCase()
const addr = (actor: string) => lower(w.addr(actor))
const key = (actor: string): Any => w.keys[actor]

/** The Solidity struct of a TS report (times ms → s). */
const toSol = (r: EpochReport) => ({
  epoch: BigInt(r.epoch), snapshotId: BigInt(r.snapshotId), fromTime: secondsOf(r.fromTime), toTime: secondsOf(r.toTime),
  downtime: r.downtime, scored: r.scored, scores: r.scores, feePayers: r.feePayers, fees: r.fees,
})
const digestOf = (r: EpochReport): string => reportDigestHex(CONSENSUS_CHAIN_ID, at, r)
const signAs = (actors: readonly string[], r: EpochReport): string[] => actors.map((a) => key(a).signingKey.sign(digestOf(r)).serialized)
const submit = (r: EpochReport, signers: readonly string[], from: Any = w.signer.c1) =>
  committee.connect(from).submitEpochReport(toSol(r), signAs(signers, r))

/** A report of `epoch` over snapshot 1 ending now (ms), with nothing in it unless given. */
const report = async (epoch: number, over: Partial<EpochReport> = {}): Promise<EpochReport> => {
  const t = (await now()) * 1000
  return { epoch, snapshotId: 1, fromTime: t - 3_600_000, toTime: t, downtime: [], scored: [], scores: [], feePayers: [], fees: [], ...over }
}

/** Snapshot `id` read from the contract as the TS type (what the EVM adapter returns). */
const tsSnapshot = async (id: number): Promise<Snapshot> => {
  const info = await committee.snapshotInfo(id)
  const members: Any[] = await committee.snapshotValidators(id)
  const trainers: Any[] = await committee.snapshotTrainers(id)
  return {
    id, time: Number(info.time) * 1000, params: DEFAULT_PARAMS, totalPower: BigInt(info.totalPower), quorum: BigInt(info.quorum),
    validators: members.map((m) => ({
      operator: lower(m.operator), signingKey: lower(m.signingKey), stake: m.stake, multiplierWad: m.multiplierWad, contribution: m.contribution, power: m.power,
    })),
    trainers: trainers.map((t) => ({ owner: lower(t.owner), stake: t.stake })),
  }
}

/** What the contract state a report touches looks like (compared before and after a refusal). */
const state = async () => ({
  lastEpoch: await committee.lastEpoch(),
  emittedUntil: await committee.emittedUntil(),
  reserve: await committee.reserve(),
  deposits: await Promise.all(["d1", "c0"].map((a) => committee.feeDeposit(w.addr(a)))),
  funded: (await w.staking.rewardState()).funded,
  pools: await Promise.all(BONDS.map(([a]) => w.staking.getPool(BigInt(w.addr(a))).then((p: Any) => [p.tokens, p.jailed, p.tombstoned]))),
  balances: await Promise.all(["c0", "c1"].map((a) => w.token.balanceOf(w.addr(a)))),
})

beforeAll(async () => {
  ethers = (await connectChain()).ethers
  w = await World.deploy(ethers, DEFAULT_PARAMS)
  committee = await ethers.deployContract("Committee", [await w.staking.getAddress(), await w.parts.constitution.getAddress()])
  at = await committee.getAddress()
  await wait(w.staking.grantRole(await w.staking.COMMITTEE_ROLE(), at))
  await wait(w.token.connect(w.signer.reserve).transfer(at, 300_000_000n * TOKEN))
  for (const [a, amount, tier] of BONDS) await wait(w.staking.connect(w.signer[a]).registerValidator(amount, tier, 10n ** 17n, key(a).address))
  await wait(w.staking.connect(w.signer.d1).delegate(BigInt(w.addr("v1")), 5_000n * TOKEN, 0))
  await wait(w.staking.connect(w.signer.c0).bondContributor(500n * TOKEN, 0))
  await wait(w.staking.connect(w.signer.c1).bondContributor(700n * TOKEN, 30))
  for (const a of ["d1", "c0", "c1"]) await wait(w.token.connect(w.signer[a]).approve(at, MAX_UINT))
  await wait(committee.connect(w.signer.d1).depositFees(100n * TOKEN))
  await wait(committee.connect(w.signer.c1).depositFeesFor(w.addr("c0"), 5n * TOKEN))
  await later(DAY)
  snap = await ethers.provider.send("evm_snapshot", [])
}, 120_000)
beforeEach(async () => {
  await ethers.provider.send("evm_revert", [snap])
  snap = await ethers.provider.send("evm_snapshot", [])
})

describe("Committee: snapshots", () => {
  it("records the active validators with the voting powers of power.ts, the bonded trainers and the parameters in force", async () => {
    const r = await wait(committee.snapshot())
    const ev = r.logs.map((l: Any) => committee.interface.parseLog(l)).find((e: Any) => e?.name === "SnapshotTaken")
    expect(ev.args.id).toBe(1n)
    expect(await committee.latestSnapshotId()).toBe(1n)
    const candidates = await Promise.all(BONDS.map(async ([a]) => {
      const p = await w.staking.getPool(BigInt(w.addr(a)))
      return { address: addr(a), stake: p.tokens as bigint, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: 0n }
    }))
    const expected = votingPowers(candidates, powerParams(DEFAULT_PARAMS))
    const s = await tsSnapshot(1)
    expect(s.validators.map((v) => [v.operator, v.power])).toEqual(expected.map((v) => [v.address, v.power]))
    expect(new Set(expected.map((v) => v.power)).size).toBeGreaterThan(1) // the cap and the stakes make powers differ
    for (const v of s.validators) {
      const c = candidates.find((x) => x.address === v.operator)!
      expect([v.stake, v.multiplierWad, v.contribution]).toEqual([c.stake, c.multiplierWad, 0n])
      expect(v.signingKey).toBe(lower(key(BONDS.find(([a]) => addr(a) === v.operator)![0]).address))
    }
    expect(s.totalPower).toBe(expected.reduce((t, v) => t + v.power, 0n))
    expect(s.quorum).toBe(quorumOf(s.totalPower))
    expect(s.trainers).toEqual([{ owner: addr("c0"), stake: 500n * TOKEN }, { owner: addr("c1"), stake: 700n * TOKEN }])
    const [keys, values] = await committee.snapshotParams(1)
    const table = constitutionTable()
    expect([...keys]).toEqual(table.map((row) => row.key))
    expect([...values]).toEqual(table.map((row) => row.value))
    const info = await committee.snapshotInfo(1)
    expect(info.time).toBe(BigInt(await now()))
    expect(info.blockNumber).toBe(BigInt(r.blockNumber))
  })

  it("never changes a snapshot: later stake, jail and tombstone show in the next one only; ids count up", async () => {
    await wait(committee.snapshot())
    const first = await tsSnapshot(1)
    await wait(w.staking.connect(w.signer.d1).delegate(BigInt(w.addr("d2")), 30_000n * TOKEN, 0))
    const [a, b] = w.votes("v2", 5n)
    await wait(w.staking.connect(w.signer.d1).slashDoubleSign(a, b))
    await wait(w.staking.committeeSlash(BigInt(w.addr("d0")), 1, await now(), ethers.id("down")))
    await wait(w.staking.connect(w.signer.c0).unbond((await w.staking.positionsOf(w.addr("c0")))[0], 500n * TOKEN))
    await wait(committee.snapshot())
    expect(await tsSnapshot(1)).toEqual(first)
    const second = await tsSnapshot(2)
    expect(second.id).toBe(2)
    expect(second.validators.map((v) => v.operator).sort()).toEqual(["v0", "v1", "d2"].map(addr).sort())
    expect(second.validators.find((v) => v.operator === addr("d2"))!.stake).toBe(40_000n * TOKEN)
    expect(second.trainers.map((t) => t.owner)).toEqual([addr("c1")])
    // The parameters did not change: both snapshots share one stored set.
    expect((await committee.snapshotInfo(2)).paramSet).toBe((await committee.snapshotInfo(1)).paramSet)
  })

  it("refuses an unknown snapshot id in every view", async () => {
    expect(await errorOf(committee.snapshotInfo(1))).toBe("CommitteeUnknownSnapshot")
    await wait(committee.snapshot())
    for (const id of [0, 2]) {
      for (const view of ["snapshotInfo", "snapshotValidators", "snapshotTrainers", "snapshotParams"]) expect(await errorOf(committee[view](id)), view).toBe("CommitteeUnknownSnapshot")
    }
  })

  it("refuses a constructor without staking or constitution", async () => {
    const factory = await ethers.getContractFactory("Committee")
    expect(await errorOf(factory.deploy(ethers.ZeroAddress, await w.parts.constitution.getAddress()))).toBe("CommitteeInvalidSetup")
  })
})

describe("Committee: epoch reports", () => {
  it("computes the digest of runtime/core/committee byte for byte", async () => {
    const r = await report(3, {
      snapshotId: 7, downtime: [addr("v0")], scored: [addr("c0"), addr("c1")], scores: [3n, 5n], feePayers: [addr("d1")], fees: [10n ** 15n],
    })
    expect(await committee.reportDigest(toSol(r))).toBe(digestOf(r))
    const empty = await report(1)
    expect(await committee.reportDigest(toSol(empty))).toBe(digestOf(empty))
  })

  it("accepts a report signed by ≥ 2/3 of the power and settles it exactly as settle.ts says", async () => {
    await wait(committee.snapshot())
    const s = await tsSnapshot(1)
    const r = await report(1, {
      fromTime: ((await now()) - DAY) * 1000 - 500,
      downtime: [addr("d2")], scored: [addr("c0"), addr("c1"), addr("v0")], scores: [3n, 5n, 2n], feePayers: [addr("d1"), addr("c0")], fees: [2n * TOKEN, 7n * TOKEN],
    })
    const before = {
      reserve: (await committee.reserve()) as bigint, emittedUntil: (await committee.emittedUntil()) as bigint,
      d1: (await committee.feeDeposit(w.addr("d1"))) as bigint, c0: (await committee.feeDeposit(w.addr("c0"))) as bigint,
      funded: (await w.staking.rewardState()).funded as bigint,
      balances: await Promise.all(["c0", "c1", "v0"].map((a) => w.token.balanceOf(w.addr(a)))) as bigint[],
    }
    const expected = settlement({
      snapshot: s, report: r, params: DEFAULT_PARAMS, reserve: before.reserve, emittedUntil: before.emittedUntil,
      deposit: (a) => (a === addr("d1") ? before.d1 : a === addr("c0") ? before.c0 : 0n),
    })
    expect(expected.emission.toContributors).toBeGreaterThan(0n)
    expect(expected.fees.unpaid).toBe(2n * TOKEN) // c0 deposited 5, was charged 7

    // All but d2 (the downtime offender) sign.
    const receipt = await wait(submit(r, ["v0", "v1", "v2", "d0"]))
    const events = receipt.logs.flatMap((l: Any) => [committee.interface.parseLog(l), w.staking.interface.parseLog(l)]).filter((e: Any) => e !== null)
    const named = (n: string) => events.filter((e: Any) => e.name === n)
    expect(named("EpochReported")[0].args.digest).toBe(digestOf(r))
    expect(await committee.lastEpoch()).toBe(1n)
    const rec = await committee.epochRecord(1)
    expect([rec.digest, rec.snapshotId, rec.fromTime, rec.toTime, rec.signers]).toEqual([digestOf(r), 1n, secondsOf(r.fromTime), secondsOf(r.toTime), 4n])

    // Downtime: d2 slashed at the snapshot's time and jailed.
    const d2 = await w.staking.getPool(BigInt(w.addr("d2")))
    expect([d2.jailed, d2.tombstoned]).toEqual([true, false])
    const slashed = named("Slashed")[0]
    expect(slashed.args.evidenceId).toBe(expected.downtime[0]!.evidenceId)
    expect(Number(slashed.args.infractionTime) * 1000).toBe(expected.downtime[0]!.infractionTime)
    // Emission: contributors paid pro rata, stakers funded, the reserve debited, the clock moved.
    const balances = await Promise.all(["c0", "c1", "v0"].map((a) => w.token.balanceOf(w.addr(a))))
    expect(balances.map((b, i) => b - before.balances[i]!)).toEqual(expected.emission.payouts.map((p) => p.amount))
    expect(await committee.emittedUntil()).toBe(expected.emittedUntil)
    // Fees: deposits debited, burnt and shared by Staking.payFee.
    expect(await committee.feeDeposit(w.addr("d1"))).toBe(before.d1 - 2n * TOKEN)
    expect(await committee.feeDeposit(w.addr("c0"))).toBe(0n)
    const fee = named("FeePaid")[0]
    expect([fee.args.amount, fee.args.burnt, fee.args.toStakers]).toEqual([expected.fees.paid, expected.fees.burnt, expected.fees.toStakers])
    expect((await w.staking.rewardState()).funded - before.funded).toBe(expected.emission.toStakers + expected.fees.toStakers)
    expect(await committee.reserve()).toBe(before.reserve - expected.emission.released)
    expect(named("EmissionReleased")[0].args.released).toBe(expected.emission.released)
    // The scores of the last accepted report are the contribution of the next snapshot.
    expect(await committee.contributionOf(w.addr("v0"))).toBe(2n)
    await wait(committee.snapshot())
    const next = await tsSnapshot(2)
    expect(next.validators.find((v) => v.operator === addr("v0"))!.contribution).toBe(2n)
    const candidates = await Promise.all(["v0", "v1", "v2", "d0"].map(async (a) => {
      const p = await w.staking.getPool(BigInt(w.addr(a)))
      return { address: addr(a), stake: p.tokens as bigint, multiplierWad: (p.weightedShares * WAD) / p.shares, contribution: a === "v0" ? 2n : 0n }
    }))
    expect(next.validators.map((v) => [v.operator, v.power])).toEqual(votingPowers(candidates, powerParams(DEFAULT_PARAMS)).map((v) => [v.address, v.power]))
  })

  it("refuses a report signed by less than 2/3 of the power and changes nothing", async () => {
    await wait(committee.snapshot())
    const s = await tsSnapshot(1)
    // The smallest-power signers whose sum stays below the quorum.
    const byPower = [...s.validators].sort((a, b) => (a.power < b.power ? -1 : 1))
    const picked: string[] = []
    let power = 0n
    for (const v of byPower) {
      if (power + v.power >= s.quorum) break
      power += v.power
      picked.push(BONDS.find(([a]) => addr(a) === v.operator)![0])
    }
    expect(picked.length).toBeGreaterThan(1)
    const r = await report(1, { downtime: [addr("v0")], scored: [addr("c0")], scores: [1n], feePayers: [addr("d1")], fees: [TOKEN] })
    const before = await state()
    try {
      await submit(r, picked)
      expect.unreachable()
    } catch (e) {
      const parsed = committee.interface.parseError((e as { data: string }).data)
      expect(parsed.name).toBe("CommitteeInsufficientPower")
      expect([parsed.args.power, parsed.args.quorum, parsed.args.total, parsed.args.signers]).toEqual([power, s.quorum, s.totalPower, BigInt(picked.length)])
    }
    expect(await state()).toEqual(before)
    expect((await committee.epochRecord(1)).digest).toBe(ethers.ZeroHash)
  })

  it("refuses each malformed report and signature set, changing nothing", async () => {
    await wait(committee.snapshot())
    const all = ["v0", "v1", "v2", "d0", "d2"]
    const before = await state()
    const ok = await report(1)
    const cases: Array<[string, EpochReport, readonly string[] | string[], string?]> = [
      ["CommitteeUnknownSnapshot", { ...ok, snapshotId: 2 }, all],
      ["CommitteeUnknownSnapshot", { ...ok, snapshotId: 0 }, all],
      ["CommitteeStaleEpoch", { ...ok, epoch: 0 }, all],
      ["CommitteeTimesOutOfOrder", { ...ok, fromTime: ok.toTime + 1000 }, all],
      ["CommitteeTimesOutOfOrder", { ...ok, toTime: ok.toTime + 3_600_000 }, all],
      ["CommitteeLengthMismatch", { ...ok, scored: [addr("c0")], scores: [] }, all],
      ["CommitteeLengthMismatch", { ...ok, feePayers: [], fees: [1n] }, all],
      ["CommitteeDuplicateAccount", { ...ok, downtime: [addr("v0"), addr("v0")] }, all],
      ["CommitteeDuplicateAccount", { ...ok, scored: [addr("c0"), addr("c0")], scores: [1n, 2n] }, all],
      ["CommitteeDuplicateAccount", { ...ok, feePayers: [addr("d1"), addr("d1")], fees: [1n, 2n] }, all],
      ["CommitteeNotInSnapshot", { ...ok, downtime: [addr("c0")] }, all],
      ["CommitteeScoresTooLarge", { ...ok, scored: [addr("c0")], scores: [1n << 96n] }, all],
      ["CommitteeScoresTooLarge", { ...ok, scored: [addr("c0"), addr("c1")], scores: [1n << 95n, 1n << 95n] }, all],
      ["CommitteeUnknownSigner", ok, ["v0", "v1", "c0"]],
      ["CommitteeDuplicateSigner", ok, ["v0", "v1", "v0"]],
      ["CommitteeInsufficientPower", ok, []],
    ]
    for (const [error, r, signers] of cases) expect(await errorOf(submit(r, signers)), `${error} ${JSON.stringify(toSol(r), (_, v) => (typeof v === "bigint" ? String(v) : v))}`).toBe(error)
    // Signatures that cannot be recovered: short, high s, bad v.
    const sigs = signAs(all, ok)
    const N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    const s0 = BigInt(`0x${sigs[0]!.slice(66, 130)}`)
    const highS = `${sigs[0]!.slice(0, 66)}${(N - s0).toString(16).padStart(64, "0")}${sigs[0]!.slice(130, 132) === "1b" ? "1c" : "1b"}`
    for (const bad of [sigs[0]!.slice(0, 130), highS, `${sigs[0]!.slice(0, 130)}1d`]) {
      expect(await errorOf(committee.submitEpochReport(toSol(ok), [bad, ...sigs.slice(1)]))).toBe("CommitteeBadSignature")
    }
    expect(await state()).toEqual(before)
  })

  it("takes epochs in order, a repeat or a different report of a reported epoch is refused, and the snapshot never goes back", async () => {
    await wait(committee.snapshot())
    const all = ["v0", "v1", "v2", "d0", "d2"]
    const r1 = await report(2)
    await wait(submit(r1, all))
    expect(await errorOf(submit(r1, all))).toBe("CommitteeEpochReported")
    const other = { ...r1, scored: [addr("c0")], scores: [1n] }
    try {
      await submit(other, all)
      expect.unreachable()
    } catch (e) {
      expect(committee.interface.parseError((e as { data: string }).data).args.same).toBe(false)
    }
    expect(await errorOf(submit(await report(1), all))).toBe("CommitteeStaleEpoch")
    await wait(committee.snapshot())
    await wait(submit(await report(3, { snapshotId: 2 }), all))
    expect(await errorOf(submit(await report(4, { snapshotId: 1 }), all))).toBe("CommitteeStaleSnapshot")
    // Epochs may skip; emission is never paid twice for one second.
    await later(3_600)
    const r5 = await report(5, { snapshotId: 2, fromTime: 0 })
    const until = await committee.emittedUntil()
    const receipt = await wait(submit(r5, all))
    const released = receipt.logs.map((l: Any) => committee.interface.parseLog(l)).find((e: Any) => e?.name === "EmissionReleased")
    expect(released.args.from).toBe(until)
    expect(released.args.to).toBe(secondsOf(r5.toTime))
  })

  it("skips a downtime operator already jailed or tombstoned: the report still settles", async () => {
    await wait(committee.snapshot())
    const [a, b] = w.votes("v2", 9n)
    await wait(w.staking.connect(w.signer.d1).slashDoubleSign(a, b))
    const r = await report(1, { downtime: [addr("v2"), addr("d2")] })
    const receipt = await wait(submit(r, ["v0", "v1", "d0", "d2"]))
    const settled = receipt.logs.map((l: Any) => committee.interface.parseLog(l)).filter((e: Any) => e?.name === "DowntimeSettled")
    expect(settled.map((e: Any) => [lower(e.args.operator), e.args.slashed])).toEqual([[addr("v2"), false], [addr("d2"), true]])
    expect((await w.staking.getPool(BigInt(w.addr("d2")))).jailed).toBe(true)
  })

  it("caps the emission at the reserve", async () => {
    // A committee with a reserve of 1 base unit over the same staking.
    const small: Any = await ethers.deployContract("Committee", [await w.staking.getAddress(), await w.parts.constitution.getAddress()])
    await wait(w.staking.grantRole(await w.staking.COMMITTEE_ROLE(), await small.getAddress()))
    await wait(w.token.connect(w.signer.reserve).transfer(await small.getAddress(), 1n))
    await later(DAY)
    await wait(small.snapshot())
    const t = (await now()) * 1000
    const r: EpochReport = { epoch: 1, snapshotId: 1, fromTime: t - DAY * 1000, toTime: t, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
    const digest = reportDigestHex(CONSENSUS_CHAIN_ID, await small.getAddress(), r)
    const receipt = await wait(small.submitEpochReport(toSol(r), ["v0", "v1", "v2", "d0", "d2"].map((a) => key(a).signingKey.sign(digest).serialized)))
    const ev = receipt.logs.map((l: Any) => small.interface.parseLog(l)).find((e: Any) => e?.name === "EmissionReleased")
    expect(ev.args.due).toBeGreaterThan(1n)
    expect(ev.args.released).toBe(1n)
    expect(await small.reserve()).toBe(0n)
  })
})

describe("Committee: verifySignatures (the market's verdicts)", () => {
  it("returns the power of distinct snapshot signers reaching the quorum, and refuses as a report would", async () => {
    await wait(committee.snapshot())
    const s = await tsSnapshot(1)
    const digest = ethers.keccak256(ethers.toUtf8Bytes("a verdict"))
    const actorOf = (operator: string) => BONDS.find(([a]) => addr(a) === operator)![0]
    const sign = (actors: readonly string[], d = digest) => actors.map((a) => key(a).signingKey.sign(d).serialized)
    const all = s.validators.map((v) => actorOf(v.operator))
    expect(await committee.verifySignatures(1, digest, sign(all))).toBe(s.totalPower)
    const refused = async (id: number, sigs: string[], error: string) => {
      await expect(committee.verifySignatures(id, digest, sigs)).rejects.toSatisfy((e: Any) => committee.interface.parseError(e.data)?.name === error)
    }
    await refused(1, sign(all.slice(-1)), "CommitteeInsufficientPower")
    await refused(1, [], "CommitteeInsufficientPower")
    await refused(1, sign([...all, "c0"]), "CommitteeUnknownSigner")
    await refused(1, sign([all[0]!, ...all]), "CommitteeDuplicateSigner")
    await refused(1, ["0x00"], "CommitteeBadSignature")
    await refused(2, sign(all), "CommitteeUnknownSnapshot")
    await refused(0, sign(all), "CommitteeUnknownSnapshot")
  })
})

describe("Committee: conflicting reports", () => {
  it("slashes and tombstones every validator that signed both the accepted report and a different one of that epoch", async () => {
    await wait(committee.snapshot())
    const accepted = await report(1)
    await wait(submit(accepted, ["v0", "v1", "v2", "d0"]))
    const other = { ...accepted, scored: [addr("c0")], scores: [9n] }
    // d2 did not sign the accepted report: its signature on the other is no evidence against it.
    const receipt = await wait(committee.connect(w.signer.c0).reportConflict(toSol(other), signAs(["v1", "d2", "d0"], other)))
    const slashed = receipt.logs.map((l: Any) => committee.interface.parseLog(l)).filter((e: Any) => e?.name === "ConflictSlashed")
    expect(slashed.map((e: Any) => lower(e.args.operator))).toEqual([addr("v1"), addr("d0")])
    for (const a of ["v1", "d0"]) expect((await w.staking.getPool(BigInt(w.addr(a)))).tombstoned, a).toBe(true)
    for (const a of ["v0", "v2", "d2"]) expect((await w.staking.getPool(BigInt(w.addr(a)))).tombstoned, a).toBe(false)
    // The same evidence again slashes nobody new.
    expect(await errorOf(committee.reportConflict(toSol(other), signAs(["v1", "d0"], other)))).toBe("CommitteeNotConflicting")
  })

  it("refuses what is not a conflict", async () => {
    await wait(committee.snapshot())
    const accepted = await report(1)
    expect(await errorOf(committee.reportConflict(toSol(accepted), signAs(["v0"], accepted)))).toBe("CommitteeNotConflicting")
    await wait(submit(accepted, ["v0", "v1", "v2", "d0"]))
    expect(await errorOf(committee.reportConflict(toSol(accepted), signAs(["v0"], accepted)))).toBe("CommitteeNotConflicting")
    const other = { ...accepted, toTime: accepted.toTime - 1000 }
    expect(await errorOf(committee.reportConflict(toSol(other), signAs(["d2"], other)))).toBe("CommitteeNotConflicting")
    expect(await errorOf(committee.reportConflict(toSol(other), signAs(["v0", "v0"], other)))).toBe("CommitteeDuplicateSigner")
    expect(await errorOf(committee.reportConflict(toSol(other), ["0x1234"]))).toBe("CommitteeBadSignature")
  })
})

describe("Committee: fee deposits", () => {
  it("takes deposits for oneself or another, refuses zero, and withdraws after the delay what fees left", async () => {
    expect(await committee.feeDeposit(w.addr("d1"))).toBe(100n * TOKEN)
    expect(await committee.feeDeposit(w.addr("c0"))).toBe(5n * TOKEN)
    expect(await committee.totalFeeDeposits()).toBe(105n * TOKEN)
    const reserve = await committee.reserve()
    expect(await committee.reserve()).toBe(300_000_000n * TOKEN)
    expect(await errorOf(committee.connect(w.signer.d1).depositFees(0n))).toBe("CommitteeZeroAmount")
    expect(await errorOf(committee.connect(w.signer.d1).requestFeeWithdrawal(0n))).toBe("CommitteeZeroAmount")
    expect(await errorOf(committee.connect(w.signer.d1).requestFeeWithdrawal(101n * TOKEN))).toBe("CommitteeInsufficientDeposit")
    expect(await errorOf(committee.connect(w.signer.d1).withdrawFees())).toBe("CommitteeNoWithdrawal")
    await wait(committee.connect(w.signer.d1).requestFeeWithdrawal(60n * TOKEN))
    expect(await errorOf(committee.connect(w.signer.d1).withdrawFees())).toBe("CommitteeWithdrawalNotReady")
    // Fees charged meanwhile come first: 50 are charged, 50 remain, 50 of the 60 asked are paid out.
    await wait(committee.snapshot())
    await wait(submit(await report(1, { feePayers: [addr("d1")], fees: [50n * TOKEN] }), ["v0", "v1", "v2", "d0", "d2"]))
    await later(DAY)
    const balance = await w.token.balanceOf(w.addr("d1"))
    await wait(committee.connect(w.signer.d1).withdrawFees())
    expect((await w.token.balanceOf(w.addr("d1"))) - balance).toBe(50n * TOKEN)
    expect(await committee.feeDeposit(w.addr("d1"))).toBe(0n)
    expect(await committee.totalFeeDeposits()).toBe(5n * TOKEN)
    expect(await committee.reserve()).toBeLessThan(reserve)
    expect(await errorOf(committee.connect(w.signer.d1).withdrawFees())).toBe("CommitteeNoWithdrawal")
  })
})

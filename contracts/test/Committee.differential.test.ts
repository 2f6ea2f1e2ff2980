/**
 * Committee.sol ≡ the TS ledger's committee (runtime/core/econ/committee.ts): the same stake, the same
 * snapshot, the same epoch report (downtime, scores, fees) at the same times give the same voting
 * powers, the same settlement and the same staking state to the wei, in the differential `World`
 * (Staking beside the `Economy`). Accounts are actor ids in the TS ledger and addresses on chain, so
 * each side signs its own digest (the TS side with an accepting verifier: signatures are checked by
 * Committee.test.ts); everything that moves value is compared.
 */
import { Result } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { reportDigestHex, secondsOf, type EpochReport, type Snapshot } from "../../runtime/core/committee/index.ts"
import { connectChain, CONSENSUS_CHAIN_ID } from "./chain.ts"
import { firstDifference, MAX_UINT, World } from "./world.ts"

type Any = any
let ethers: Any
let w: World
let committee: Any
let at: string

const ok = <A, E extends { _tag: string; message: string }>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) throw new Error(`TS ledger refused: ${r.failure._tag}: ${r.failure.message}`)
  return r.success
}
/** Both worlds one step of `dt` seconds later: the chain's next block at that time. */
const later = async (dt: bigint) => {
  w.nowSec += dt
  await ethers.provider.send("evm_setNextBlockTimestamp", [Number(w.nowSec)])
}
const nowMs = () => Number(w.nowSec) * 1000

/** Validators by operator: equal powers tie-break on the operator, an id in the TS ledger and an address on chain. */
const byOperator = <T extends { operator: string }>(vs: T[]): T[] => [...vs].sort((a, b) => (a.operator < b.operator ? -1 : 1))
/** A snapshot's comparable part (operators as actors). */
const shape = (s: Snapshot) => ({
  validators: byOperator(s.validators.map((v) => ({ operator: v.operator, stake: v.stake, multiplierWad: v.multiplierWad, contribution: v.contribution, power: v.power }))),
  trainers: s.trainers.map((t) => ({ owner: t.owner, stake: t.stake })), totalPower: s.totalPower, quorum: s.quorum,
})
const chainSnapshot = async (id: number) => {
  const info = await committee.snapshotInfo(id)
  const members: Any[] = await committee.snapshotValidators(id)
  const trainers: Any[] = await committee.snapshotTrainers(id)
  return {
    validators: byOperator(members.map((m) => ({ operator: w.actorOf(m.operator), stake: m.stake, multiplierWad: m.multiplierWad, contribution: m.contribution, power: m.power }))),
    trainers: trainers.map((t) => ({ owner: w.actorOf(t.owner), stake: t.stake })), totalPower: BigInt(info.totalPower), quorum: BigInt(info.quorum),
  }
}

/** Every field of both worlds but the reserve's place (an account in the TS ledger, the Committee's balance on chain). */
const differences = async (): Promise<string | undefined> => {
  const [ts, ch] = await w.views()
  const actors = ch.actors as Record<string, { balance: bigint }>
  actors.reserve = { ...actors.reserve!, balance: (await committee.reserve()) as bigint }
  const g = ch.globals as Record<string, unknown>
  const tg = ts.globals as Record<string, unknown>
  // The TS total counts the fee escrow and the reserve; the chain's counts the actors only.
  delete g.totalBalances
  delete tg.totalBalances
  return firstDifference(ts, ch, "")
}

beforeAll(async () => {
  ethers = (await connectChain()).ethers
  w = await World.deploy(ethers, DEFAULT_PARAMS)
  committee = await ethers.deployContract("Committee", [await w.staking.getAddress(), await w.parts.constitution.getAddress()])
  at = await committee.getAddress()
  await (await w.staking.grantRole(await w.staking.COMMITTEE_ROLE(), at)).wait()
  // The chain's reserve is the Committee's balance: the whole of the reserve actor's, as the TS ledger's is that account.
  await (await w.token.connect(w.signer.reserve).transfer(at, await w.token.balanceOf(w.addr("reserve")))).wait()
  await (await w.token.connect(w.signer.d1).approve(at, MAX_UINT)).wait()
  w.nowSec = BigInt((await ethers.provider.getBlock("latest")).timestamp) + 1n
}, 120_000)

describe("Committee ≡ the TS ledger's committee", () => {
  it("agrees on snapshots, a settled epoch report and the next snapshot's contributions, to the wei", async () => {
    const t = (n: bigint) => n * TOKEN
    for (const op of [
      { type: "registerValidator", operator: "v0", amount: t(50_000n), tier: 90, commission: 10n ** 17n },
      { type: "registerValidator", operator: "v1", amount: t(30_000n), tier: 0, commission: 5n * 10n ** 16n },
      { type: "registerValidator", operator: "v2", amount: t(20_000n), tier: 30, commission: 0n },
      { type: "delegate", owner: "d0", validator: "v1", amount: t(12_345n), tier: 0 },
      { type: "bondContributor", owner: "c0", amount: t(500n), tier: 0 },
      { type: "bondContributor", owner: "c1", amount: t(700n), tier: 30 },
    ] as const) {
      const r = await w.step(1n, op)
      expect(r.ts, r.op).toEqual({ ok: true })
      expect(r.chain, r.op).toEqual({ ok: true })
    }

    await later(1n)
    const s1 = ok(w.econ.takeSnapshot("d0", nowMs()))
    await (await committee.snapshot()).wait()
    expect(await chainSnapshot(1)).toEqual(shape(s1))

    await later(1n)
    ok(w.econ.depositFees("d1", t(3n), nowMs()))
    await (await committee.connect(w.signer.d1).depositFees(t(3n))).wait()

    await later(3_600n)
    // The emission clocks start at the TS genesis and at the contract's deployment: the report starts after both.
    const chainClock = BigInt(await committee.emittedUntil())
    const tsClock = w.econ.committeeTotals().emittedUntil
    const epochStart = (chainClock > tsClock ? chainClock : tsClock) * 1000n
    const report: EpochReport = {
      epoch: 1, snapshotId: 1, fromTime: Number(epochStart), toTime: nowMs() - 1000,
      downtime: ["v2"], scored: ["c0", "c1", "v0"], scores: [3n, 5n, 2n], feePayers: ["d1", "d2"], fees: [t(2n), t(1n)],
    }
    const tsReceipt = ok(w.econ.submitEpochReport(
      report, ["v0", "v1", "v2"].map((v) => ({ signer: w.econ.signingKeyOf(v)!, signature: `0x${"11".repeat(65)}` })), "c1",
      { chainId: CONSENSUS_CHAIN_ID, verify: () => true }, nowMs(),
    ))
    const onChain = { ...report, downtime: report.downtime.map((a) => w.addr(a)), scored: report.scored.map((a) => w.addr(a)), feePayers: report.feePayers.map((a) => w.addr(a)) }
    const digest = reportDigestHex(CONSENSUS_CHAIN_ID, at, onChain)
    const sol = { ...onChain, epoch: 1n, snapshotId: 1n, fromTime: secondsOf(report.fromTime), toTime: secondsOf(report.toTime) }
    await (await committee.connect(w.signer.c1).submitEpochReport(sol, ["v0", "v1", "v2"].map((v) => w.keys[v].signingKey.sign(digest).serialized))).wait()

    expect(tsReceipt.slashes.map((s) => s.pool)).toEqual(["v2"])
    expect(tsReceipt.settlement.emission.released).toBeGreaterThan(0n)
    expect(tsReceipt.settlement.fees.unpaid).toBe(t(1n)) // d2 deposited nothing
    expect(await committee.feeDeposit(w.addr("d1"))).toBe(w.econ.feeDeposit("d1"))
    expect(await committee.emittedUntil()).toBe(w.econ.committeeTotals().emittedUntil)
    expect(await differences()).toBeUndefined()

    await later(1n)
    const s2 = ok(w.econ.takeSnapshot("d0", nowMs()))
    await (await committee.snapshot()).wait()
    expect(shape(s2).validators.find((v) => v.operator === "v0")!.contribution).toBe(2n)
    expect(await chainSnapshot(2)).toEqual(shape(s2))

    // v1 signs a different report of epoch 1: both ledgers tombstone it, at the accepted report's snapshot, alike.
    await later(5n)
    const other = { ...report, scores: [3n, 5n, 3n] }
    const tsConflict = ok(w.econ.reportConflict(other, [{ signer: w.econ.signingKeyOf("v1")!, signature: `0x${"22".repeat(65)}` }], "d2", { chainId: CONSENSUS_CHAIN_ID, verify: () => true }, nowMs()))
    expect(tsConflict.slashes.map((x) => [x.pool, x.tombstoned])).toEqual([["v1", true]])
    const otherOnChain = { ...onChain, scores: other.scores }
    const otherDigest = reportDigestHex(CONSENSUS_CHAIN_ID, at, otherOnChain)
    await (await committee.connect(w.signer.d2).reportConflict({ ...sol, scores: other.scores }, [w.keys.v1.signingKey.sign(otherDigest).serialized])).wait()
    expect(await differences()).toBeUndefined()
  })
})

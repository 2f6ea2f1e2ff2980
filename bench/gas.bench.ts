/**
 * Gas of the main operations of DAIToken, Staking, Governance, the Committee and the ComputeMarket, beside a bare OpenZeppelin
 * ERC20Votes (PlainVotesToken) and Governor (PlainGovernor: counting simple, votes, quorum fraction)
 * measured in the same run on Hardhat's in-process chain.
 *
 * Run: npx node bench/gas.bench.ts      (results: bench/RESULTS.md)
 */
import { connectInProcess } from "../contracts/deploy/build.ts"
import { World } from "../contracts/test/world.ts"
import { paramKey } from "../contracts/deploy/constitution-table.ts"
import { DEFAULT_PARAMS } from "../runtime/core/params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../runtime/core/units.ts"
import { reportDigestHex, type EpochReport } from "../runtime/core/committee/index.ts"
import { CONSENSUS_CHAIN_ID } from "../contracts/test/chain.ts"

type Any = any

const gasOf = async (tx: Promise<Any>): Promise<bigint> => (await (await tx).wait()).gasUsed as bigint
const rows: Array<[string, bigint, bigint | undefined]> = []
const row = (name: string, dai: bigint, plain?: bigint) => rows.push([name, dai, plain])

const { ethers } = await connectInProcess()
const w = await World.deploy(ethers, DEFAULT_PARAMS)
const signers: Any[] = await ethers.getSigners()
const plain: Any = await ethers.deployContract("PlainVotesToken", [w.addr("d0"), TOTAL_SUPPLY])
const p: Any = plain.connect(w.signer.d0)
const t = w.token.connect(w.signer.d0)
// Same starting point for both tokens: every account involved already holds a balance.
for (const a of ["d1", "d2", "c1"]) await gasOf(p.transfer(w.addr(a), 1_000_000n * TOKEN))

// Token: first delegation (self), then transfers between delegated accounts (checkpoints written on both sides).
row("delegate votes (first, self)", await gasOf(t.delegate(w.addr("d0"))), await gasOf(p.delegate(w.addr("d0"))))
await gasOf(w.token.connect(w.signer.d1).delegate(w.addr("d1")))
await gasOf(plain.connect(w.signer.d1).delegate(w.addr("d1")))
row("transfer (both sides delegated)", await gasOf(t.transfer(w.addr("d1"), 10n * TOKEN)), await gasOf(p.transfer(w.addr("d1"), 10n * TOKEN)))
row("transfer (neither side delegated)", await gasOf(w.token.connect(w.signer.d2).transfer(w.addr("c1"), TOKEN)), await gasOf(plain.connect(w.signer.d2).transfer(w.addr("c1"), TOKEN)))

const st = w.staking
const v0 = BigInt(w.addr("v0"))
row("registerValidator (new pool, self-bond)", await gasOf(st.connect(w.signer.v0).registerValidator(10_000n * TOKEN, 0, 10n ** 17n, w.keys.v0.address)))
row("delegate to a validator pool (first position)", await gasOf(st.connect(w.signer.d0).delegate(v0, 5_000n * TOKEN, 90)))
row("delegate to a validator pool (second position)", await gasOf(st.connect(w.signer.d2).delegate(v0, 5_000n * TOKEN, 0)))
row("bondContributor (new pool)", await gasOf(st.connect(w.signer.c0).bondContributor(500n * TOKEN, 30)))
row("payFee (burn + distribute)", await gasOf(st.connect(w.signer.d1).payFee(100n * TOKEN)))
row("fundRewards", await gasOf(st.connect(w.signer.reserve).fundRewards(10_000n * TOKEN)))
row("unbond (part of a position)", await gasOf(st.connect(w.signer.d2).unbond(3, 1_000n * TOKEN)))
row("unbond (whole position)", await gasOf(st.connect(w.signer.d2).unbond(3, 4_000n * TOKEN)))
row("claimRewards (1 position)", await gasOf(st.connect(w.signer.d2).claimRewards()))
const [a, b] = w.votes("v0", 12n)
row("slashDoubleSign (2 signatures, 2 unbonding entries)", await gasOf(st.connect(w.signer.d1).slashDoubleSign(a, b)))
await ethers.provider.send("evm_increaseTime", [22 * 86_400])
row("withdraw (2 mature entries)", await gasOf(st.connect(w.signer.d2).withdraw()))

// Governance: treasury + governance over the same staking and the Constitution whose bounds it checks (as deployed).
const constitution: Any = w.parts.constitution
const treasury: Any = await ethers.deployContract("Treasury", [await w.token.getAddress(), [signers[11].address, signers[12].address], 2])
const gov: Any = await ethers.deployContract("Governance", [await constitution.getAddress(), await st.getAddress(), await treasury.getAddress(), true])
await gasOf(constitution.transferGovernance(await gov.getAddress()))
await gasOf(treasury.setGovernance(await gov.getAddress()))
await gasOf(st.grantRole(await st.PARAMS_ROLE(), await gov.getAddress()))
await gasOf(st.connect(w.signer.d1).bondContributor(1_000n * TOKEN, 0))
// The plain Governor over the plain token (d0 and d1 delegated above), proposing a settings change of itself.
const og: Any = await ethers.deployContract("PlainGovernor", [await plain.getAddress(), 5])
const call = og.interface.encodeFunctionData("setVotingPeriod", [6])
const target = [await og.getAddress()]
const description = "set the voting period"
const ogPropose = await gasOf(og.connect(w.signer.d0).propose(target, [0], [call], description))
const ogId: bigint = await og.hashProposal(target, [0], [call], ethers.id(description))
await ethers.provider.send("evm_mine", [])
await ethers.provider.send("evm_mine", [])
const ogVote = await gasOf(og.connect(w.signer.d0).castVote(ogId, 1))
const ogVote2 = await gasOf(og.connect(w.signer.d1).castVote(ogId, 1))
for (let i = 0; i < 6; i++) await ethers.provider.send("evm_mine", [])
const ogExecute = await gasOf(og.execute(target, [0], [call], ethers.id(description)))

row("Governance.proposeParam (plain: Governor.propose)", await gasOf(gov.connect(w.signer.d0).proposeParam(paramKey("fees.burnFraction"), 4n * 10n ** 17n)), ogPropose)
// Both voters hold one position each, bonded before the proposal (the plain voters delegated before it).
row("Governance.castVote (quadratic, first vote of its side; plain: castVote)", await gasOf(gov.connect(w.signer.d0).castVote(1, 1)), ogVote)
row("Governance.castVote (quadratic, second vote of the same side; plain: castVote)", await gasOf(gov.connect(w.signer.d1).castVote(1, 1)), ogVote2)
await ethers.provider.send("evm_increaseTime", [4 * 86_400])
row("Governance.execute (param → Constitution → Staking; plain: a settings call)", await gasOf(gov.execute(1)), ogExecute)

// Committee: a snapshot of 4 validators, a fee deposit, an epoch report signed by all 4 (1 downtime, 2 scored, 1 fee payer), a conflicting report.
const committee: Any = await ethers.deployContract("Committee", [await st.getAddress(), await constitution.getAddress()])
const committeeAt: string = await committee.getAddress()
await gasOf(st.grantRole(await st.COMMITTEE_ROLE(), committeeAt))
const members = ["v1", "v2", "c1", "d1"]
for (const a of members) await gasOf(st.connect(w.signer[a]).registerValidator(10_000n * TOKEN, 0, 0, w.keys[a].address))
await gasOf(w.token.connect(w.signer.reserve).transfer(committeeAt, 1_000_000n * TOKEN))
await gasOf(w.token.connect(w.signer.d2).approve(committeeAt, 100n * TOKEN))
row("Committee.snapshot (4 validators, 2 trainers, first parameter set)", await gasOf(committee.snapshot()))
row("Committee.snapshot (same, parameters unchanged)", await gasOf(committee.snapshot()))
row("Committee.depositFees (first deposit)", await gasOf(committee.connect(w.signer.d2).depositFees(100n * TOKEN)))
await ethers.provider.send("evm_increaseTime", [3_600])
await ethers.provider.send("evm_mine", [])
const nowMs = Number((await ethers.provider.getBlock("latest"))!.timestamp) * 1000
const epochReport: EpochReport = {
  epoch: 1, snapshotId: 2, fromTime: nowMs - 3_600_000, toTime: nowMs, downtime: [w.addr("d1")], scored: [w.addr("c0"), w.addr("c1")], scores: [3n, 5n],
  feePayers: [w.addr("d2")], fees: [TOKEN],
}
const solidity = (r: EpochReport) => ({ ...r, epoch: BigInt(r.epoch), snapshotId: BigInt(r.snapshotId), fromTime: BigInt(r.fromTime / 1000), toTime: BigInt(r.toTime / 1000) })
const signed = (r: EpochReport, by: readonly string[]) => by.map((a) => w.keys[a].signingKey.sign(reportDigestHex(CONSENSUS_CHAIN_ID, committeeAt, r)).serialized)
row("Committee.submitEpochReport (4 signatures; 1 downtime slash, 2 contributors paid, emission funded, 1 fee paid)", await gasOf(committee.submitEpochReport(solidity(epochReport), signed(epochReport, members))))
const conflicting = { ...epochReport, scores: [4n, 5n] }
row("Committee.reportConflict (2 signatures, 2 double signers tombstoned)", await gasOf(committee.reportConflict(solidity(conflicting), signed(conflicting, ["v1", "v2"]))))

// ComputeMarket over the same token, staking and Constitution: a provider, a job's life (post, assign, deliver, confirm),
// a settlement after the window, a dispute both ways, a no-show, a refund. Fees go to Staking.payFee (stakers exist by now).
// Verdicts are signed by every validator of the Committee's newest snapshot (its 4 validators).
const market: Any = await ethers.deployContract("ComputeMarket", [await st.getAddress(), await constitution.getAddress(), committeeAt, w.admin.address])
const marketAt: string = await market.getAddress()
await gasOf(market.grantRole(await market.COMMITTEE_ROLE(), w.admin.address))
for (const a of ["c0", "c1", "d2"]) await gasOf(w.token.connect(w.signer[a]).approve(marketAt, 100_000n * TOKEN))
const mk = (a: string) => market.connect(w.signer[a])
const hash = (i: number) => ethers.id(`result ${i}`)
const due = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 86_400n
row("ComputeMarket.registerProvider (bond, 2 kinds)", await gasOf(mk("c0").registerProvider(1_000n * TOKEN, ["infer:mnist", "finetune:mnist"], TOKEN, 4)))
await gasOf(mk("c1").registerProvider(1_000n * TOKEN, ["infer:mnist"], TOKEN, 4))
row("ComputeMarket.postJob (budget escrowed)", await gasOf(mk("d2").postJob("infer:mnist", 10n, 2n * TOKEN, await due())))
row("ComputeMarket.assignJob", await gasOf(mk("d2").assignJob(1, w.addr("c0"))))
row("ComputeMarket.deliver (first note)", await gasOf(mk("c0").deliver(1, 4n, hash(1))))
row("ComputeMarket.confirm (1 note: provider paid, fee burnt in part and to stakers)", await gasOf(mk("d2").confirm(1)))
await gasOf(mk("c0").deliver(1, 3n, hash(2)))
await gasOf(mk("c0").deliver(1, 3n, hash(3)))
await ethers.provider.send("evm_increaseTime", [61])
row("ComputeMarket.settle (2 notes past the window; completes the job, escrow returned)", await gasOf(market.settle(1)))
await gasOf(mk("d2").postJob("infer:mnist", 10n, 2n * TOKEN, await due()))
await gasOf(mk("d2").assignJob(2, w.addr("c0")))
await gasOf(mk("c0").deliver(2, 5n, hash(4)))
const verdictSnapshot: bigint = await committee.latestSnapshotId()
const verdictKeys: Any[] = ((await committee.snapshotValidators(verdictSnapshot)) as Any[]).map((m) => Object.values(w.keys).find((k: Any) => k.address === m.signingKey))
const verdict = async (job: number, right: boolean) => {
  const digest: string = await market.verdictDigest(job, right, verdictSnapshot)
  return market.resolveDispute(job, right, verdictSnapshot, verdictKeys.map((k) => k.signingKey.sign(digest).serialized))
}
const n = verdictKeys.length
row("ComputeMarket.dispute (1 note frozen)", await gasOf(mk("d2").dispute(2)))
row(`ComputeMarket.resolveDispute (provider right: the note paid; ${n} signatures checked by Committee.verifySignatures)`, await gasOf(verdict(2, true)))
await gasOf(mk("c0").deliver(2, 5n, hash(5)))
await gasOf(mk("d2").dispute(2))
row(`ComputeMarket.resolveDispute (provider wrong: refuted, bond slashed, job reopened; ${n} signatures)`, await gasOf(verdict(2, false)))
await gasOf(mk("d2").assignJob(2, w.addr("c1")))
await ethers.provider.send("evm_increaseTime", [31])
row("ComputeMarket.reclaimNoShow (penalty to the requester, job reopened)", await gasOf(mk("d2").reclaimNoShow(2)))
await ethers.provider.send("evm_increaseTime", [86_400])
row("ComputeMarket.refund (after the deadline, nothing pending: escrow returned)", await gasOf(market.refund(2)))
await gasOf(mk("c0").retireProvider())
row("ComputeMarket.withdrawBond", await gasOf(mk("c0").withdrawBond()))

const fmt = (x: bigint | undefined) => (x === undefined ? "—" : x.toLocaleString("en-US"))
const ratio = (dai: bigint, pl: bigint) => (Number(dai) / Number(pl)).toFixed(2) + "×"
console.log("| operation | dai | plain OZ (ERC20Votes, Governor) | dai − plain | dai ÷ plain |")
console.log("|---|---:|---:|---:|---:|")
for (const [name, dai, pl] of rows) console.log(`| ${name} | ${fmt(dai)} | ${fmt(pl)} | ${pl === undefined ? "—" : fmt(dai - pl)} | ${pl === undefined ? "—" : ratio(dai, pl)} |`)
process.exit(0)

/**
 * The compute market in two worlds side by side: the TypeScript `Economy`'s market (runtime/core/econ/market.ts)
 * and ComputeMarket.sol over the same DAIToken + Staking + Constitution (`World`), driven by the same
 * operations at the same times (chain seconds × 1000 = economy ms). Validator v0 is registered in both
 * (so fees have stakers) and is the referee: an active validator in the economy, COMMITTEE_ROLE on chain
 * (an account stands in for the Committee contract here, as `World`'s admin does for Staking).
 * `op` applies one market operation to both and reports how each ended; `diff` compares everything.
 *
 * Verdicts: a Committee over the same Staking holds the snapshots (`snapshot()` takes one in both worlds).
 * A `resolveDispute` op names its signers by actor (`verdictOp`): each side signs its own digest, the
 * chain with the actors' real signing keys, the TS ledger with an accepting verifier (accounts are ids
 * there, addresses on chain, so the digests differ; Committee.test.ts and ComputeMarket.test.ts check
 * real signatures) — who signed, with what power, under which snapshot, is what both judge.
 */
import { Result } from "effect"
import type { MarketOp } from "../../runtime/core/market/types.ts"
import type { ReportSignature } from "../../runtime/core/committee/types.ts"
import { MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT } from "../../runtime/core/econ/market.ts"
import { DEFAULT_PARAMS, type Params } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { accountBook, type AccountBook } from "../../runtime/adapters/evm/accounts.ts"
import { jobFromChain, providerFromChain } from "../../runtime/adapters/evm/market.ts"
import { firstDifference, MAX_UINT, World, type Outcome } from "./world.ts"
import { ACTORS } from "../../runtime/core/econ/testkit.ts"
import { CONSENSUS_CHAIN_ID } from "./chain.ts"
import { constitutionTable } from "../deploy/constitution-table.ts"

type Any = any

/** The referee of both worlds. */
export const REFEREE = "v0"
/** The account that sends `settle` and `refund` on chain (anyone may). */
export const ANYONE = "d2"
/** The TS side's verdict context: the signers are checked by who they are, not by their (per-side) signatures. */
const ACCEPTING = { chainId: CONSENSUS_CHAIN_ID, verify: () => true }

/** A verdict on `job` signed by `signers` (actor ids) of snapshot `snapshotId`, sent by `by` (signatures made per side by `MarketWorld.op`). */
export const verdictOp = (job: number, providerRight: boolean, snapshotId: number, signers: readonly string[], by: string = ANYONE): Extract<MarketOp, { type: "resolveDispute" }> => ({
  type: "resolveDispute", job, providerRight, snapshotId, signatures: signers.map((a): ReportSignature => ({ signer: a, signature: "" })), by,
})

export class MarketWorld {
  w!: World
  readonly base: World
  readonly market: Any
  readonly committee: Any
  readonly book: AccountBook
  private snapshot: string

  private constructor(base: World, market: Any, committee: Any, snapshot: string) {
    this.base = base
    this.market = market
    this.committee = committee
    this.snapshot = snapshot
    this.book = accountBook(Object.fromEntries(ACTORS.map((a) => [a, base.addr(a)])))
  }

  /** Deploy the market over `World`'s contracts, COMMITTEE_ROLE to the referee, every actor's allowance. */
  static async deploy(ethers: Any): Promise<MarketWorld> {
    const base = await World.deploy(ethers, DEFAULT_PARAMS)
    const committee = await ethers.deployContract("Committee", [await base.staking.getAddress(), await base.parts.constitution.getAddress()])
    const market = await ethers.deployContract("ComputeMarket", [
      await base.staking.getAddress(), await base.parts.constitution.getAddress(), await committee.getAddress(), base.admin.address,
    ])
    await (await market.grantRole(await market.COMMITTEE_ROLE(), base.addr(REFEREE))).wait()
    const at = await market.getAddress()
    for (const a of ACTORS) await (await base.token.connect(base.signer[a]).approve(at, MAX_UINT)).wait()
    const snapshot = await ethers.provider.send("evm_snapshot", [])
    const m = new MarketWorld(base, market, committee, snapshot)
    await m.fresh()
    return m
  }

  /** Back to the deployment (both worlds) under `params` (the market's also in the Constitution), with the referee registered as a validator in both and committee snapshot 1 taken. */
  async fresh(params: Params = DEFAULT_PARAMS): Promise<void> {
    const ethers = this.base.ethers
    await ethers.provider.send("evm_revert", [this.snapshot])
    this.snapshot = await ethers.provider.send("evm_snapshot", [])
    // The market reads its parameters from the Constitution (governed by the admin here): install `params`' market.* values
    // (the revert above put back the deployment's defaults).
    const constitution = this.base.parts.constitution.connect(this.base.admin)
    for (const row of constitutionTable(params)) {
      if (row.name.startsWith("market.") && params[row.name] !== DEFAULT_PARAMS[row.name]) await (await constitution.setValue(row.key, row.value)).wait()
    }
    this.w = await this.base.reset(params)
    const r = await this.w.step(1n, { type: "registerValidator", operator: REFEREE, amount: 10_000n * TOKEN, tier: 0, commission: 10n ** 17n })
    if (r.ts === "skipped" || r.chain === "skipped" || !r.ts.ok || !r.chain.ok) throw new Error(`MarketWorld: the referee's registration failed: ${JSON.stringify(r)}`)
    // Snapshot 1: the referee alone is the committee (all the power).
    await this.takeSnapshot()
  }

  get nowSec(): bigint {
    return this.w.nowSec
  }

  addr(actor: string): string {
    return this.w.signer[actor]?.address ?? this.w.nobody
  }

  /** A committee snapshot in both worlds (the same validators and powers; ids 1, 2, … in both). */
  async takeSnapshot(): Promise<number> {
    const r = this.w.econ.takeSnapshot(REFEREE, Number(this.w.nowSec) * 1000)
    if (Result.isFailure(r)) throw new Error(`MarketWorld: the TS snapshot failed: ${r.failure.message}`)
    await this.w.send(() => this.committee.snapshot(), [this.committee])
    return r.success.id
  }

  /** The TS side of a verdict: each signer actor as its signing key in the economy's snapshot (a stranger's own id). */
  private tsVerdict(op: Extract<MarketOp, { type: "resolveDispute" }>): MarketOp {
    const snap = this.w.econ.committeeSnapshot(op.snapshotId)
    const keyOf = (a: string) => snap?.validators.find((v) => v.operator === a)?.signingKey ?? `0x${"0".repeat(38)}${ACTORS.indexOf(a).toString(16).padStart(2, "0")}`
    return { ...op, signatures: op.signatures.map((x) => ({ signer: keyOf(x.signer), signature: `0x${"00".repeat(65)}` })) }
  }

  /** Advance `dtSec` and apply `op` to both worlds (times in `op` are economy ms). */
  async op(op: MarketOp, dtSec = 0n): Promise<{ readonly ts: Outcome; readonly chain: Outcome }> {
    this.w.nowSec += dtSec
    const nowMs = Number(this.w.nowSec) * 1000
    const r = this.w.econ.marketOp(op.type === "resolveDispute" ? this.tsVerdict(op) : op, nowMs, ACCEPTING)
    const ts: Outcome = Result.isSuccess(r) ? { ok: true } : { ok: false, error: r.failure._tag }
    const chain = await this.w.send(() => this.call(op), [this.market, this.committee])
    return { ts, chain }
  }

  /** The chain's verdict signatures: each signer actor's signing key over the contract's digest (none when it has no digest: not disputed). */
  private async chainSignatures(op: Extract<MarketOp, { type: "resolveDispute" }>): Promise<string[]> {
    let digest: string
    try {
      digest = await this.market.verdictDigest(op.job, op.providerRight, op.snapshotId)
    } catch {
      return []
    }
    return op.signatures.map((x) => this.w.keys[x.signer].signingKey.sign(digest).serialized)
  }

  /** The contract call of `op`, sent by the account it names. */
  private async call(op: MarketOp): Promise<Any> {
    const m = (actor: string) => this.market.connect(this.w.signer[actor] ?? this.w.admin)
    switch (op.type) {
      case "registerProvider": return m(op.provider).registerProvider(op.bond, op.kinds, op.pricePerUnit, op.capacity)
      case "updateProvider": return m(op.provider).updateProvider(op.pricePerUnit, op.capacity)
      case "addBond": return m(op.provider).addBond(op.amount)
      case "retireProvider": return m(op.provider).retireProvider()
      case "withdrawBond": return m(op.provider).withdrawBond()
      case "postJob": return m(op.requester).postJob(op.kind, op.units, op.maxPricePerUnit, BigInt(Math.ceil(op.deadline / 1000)))
      case "assignJob": return m(op.by).assignJob(op.job, this.addr(op.provider))
      case "deliver": return m(op.provider).deliver(op.job, op.units, op.resultHash)
      case "confirm": return m(op.by).confirm(op.job)
      case "settle": return m(ANYONE).settle(op.job)
      case "dispute": return m(op.by).dispute(op.job)
      case "resolveDispute": return m(op.by).resolveDispute(op.job, op.providerRight, op.snapshotId, await this.chainSignatures(op))
      case "reclaimNoShow": return m(op.by).reclaimNoShow(op.job)
      case "refund": return m(ANYONE).refund(op.job)
    }
  }

  /** The market's state in both worlds: providers, jobs, custody. */
  async views(): Promise<[Record<string, unknown>, Record<string, unknown>]> {
    const e = this.w.econ
    const ts = {
      providers: e.providers(),
      jobs: e.jobs(),
      custody: { escrow: e.balanceOf(MARKET_ESCROW_ACCOUNT), bonds: e.balanceOf(MARKET_BONDS_ACCOUNT), held: e.balanceOf(MARKET_ESCROW_ACCOUNT) + e.balanceOf(MARKET_BONDS_ACCOUNT) },
    }
    const list: string[] = [...(await this.market.providerList())]
    const providers = await Promise.all(list.map(async (a) => providerFromChain(this.book.accountOf(a), await this.market.getProvider(a))))
    const n = Number(await this.market.jobCount())
    const jobs = await Promise.all(Array.from({ length: n }, async (_, i) => jobFromChain(i + 1, await this.market.getJob(i + 1), this.book)))
    const ch = {
      providers,
      jobs,
      custody: {
        escrow: (await this.market.totalEscrow()) as bigint, bonds: (await this.market.totalBonds()) as bigint,
        held: (await this.w.token.balanceOf(await this.market.getAddress())) as bigint,
      },
    }
    return [ts, ch]
  }

  /** The first difference between the worlds (market first, then token and staking), or undefined. */
  async diff(): Promise<string | undefined> {
    const [ts, ch] = await this.views()
    const market = firstDifference(ts, ch, "market")
    if (market !== undefined) return market
    // World sums the economy's balances over every account, the contract's over the actors: the market's custody accounts are the difference.
    const [ets, ech] = await this.w.views()
    const g = ets.globals as { totalBalances: bigint }
    const custody = ts.custody as { held: bigint }
    ets.globals = { ...g, totalBalances: g.totalBalances - custody.held }
    return firstDifference(ets, ech, "")
  }
}

/** Per job, budget = paid + fees + returned + escrow (to the wei), and Σ escrows + Σ bonds = what the contract holds. */
export const budgetProblems = (jobs: ReadonlyArray<{ id: number; budget: bigint; paid: bigint; feeBurnt: bigint; feeToStakers: bigint; returned: bigint; escrow: bigint }>): string[] =>
  jobs.filter((j) => j.paid + j.feeBurnt + j.feeToStakers + j.returned + j.escrow !== j.budget)
    .map((j) => `job ${j.id}: paid ${j.paid} + fees ${j.feeBurnt + j.feeToStakers} + returned ${j.returned} + escrow ${j.escrow} != budget ${j.budget}`)

/**
 * Economic operations as contract transactions, and their receipts.
 *
 * op → call (from the acting account's signer):
 *   transfer → DAIToken.transfer          burn → DAIToken.burn
 *   registerValidator → Staking.registerValidator(amount, tier, commission, signingKey: the op's, else signingKeyFor(operator), else the operator's address)
 *   bondContributor → Staking.bondContributor   delegate → Staking.delegate(pool id of the validator, …)
 *   unbond → Staking.unbond   withdraw → Staking.withdraw   claimRewards → Staking.claimRewards
 *   payFee → Staking.payFee   fundRewards → Staking.fundRewards   unjail → Staking.unjail
 *   slash (downtime) → refused (StakingInvalidEvidence): on chain, downtime settles through an epoch report
 *     signed by 2/3 of the voting power (Committee.submitEpochReport, committee.ts); no account may slash it
 *   slash (doubleSign) → refused (StakingInvalidEvidence): on chain only the two signed votes prove it (`doubleSign`)
 *
 * Receipts come from the events, completed where an event lacks a field by views at the receipt's
 * block (multiplier and weighted shares, `closed`, `distributed`, `totalBurnt`, the slash's pool
 * state) or by comparing with the block before (`created`, unbond's settled rewards, withdraw's
 * entries, claim's per-position `settled`, the slash's cut unbonding entries). Those "before"
 * fields are exact when no earlier transaction of the same block touched the same owner or pool —
 * always on an automining devnet; the adapter itself sends one transaction at a time.
 */
import { id as keccakText, type Provider, type Signer, type TransactionReceipt } from "ethers"
import {
  CONTRIBUTOR_PREFIX, StakingInvalidCommission, StakingInvalidEvidence, StakingInvalidOperator, StakingInvalidTier, StakingUnknownPool,
  StakingUnknownPosition, TokenInvalidAddress, TokenInvalidAmount, type Address, type EconOp, type LockTier, type Receipt, type SlashReceipt,
} from "../../core/econ/index.ts"
import { mulWad, WAD } from "../../core/units.ts"
import { ChainUnavailable, type SignedVote } from "../../services/chain.ts"
import type { AccountBook } from "./accounts.ts"
import { toChainError } from "./errors.ts"
import { ZERO_ADDRESS, type StakingReader } from "./reads.ts"
import { multiplierOf } from "./staking-params.ts"
import { keyOf, minedWith } from "./tx.ts"
import { msOf, secondsOf } from "./units.ts"

type Any = any // ethers contract methods and event args are untyped without typechain

/** A signed consensus vote (`Staking.Vote`): the on-chain evidence of a double sign (the Chain port's type). */
export type { SignedVote }

/** What sending needs: the contracts, the accounts, the signers. */
export interface SubmitContext {
  readonly provider: Provider
  readonly token: Any
  readonly staking: Any
  readonly stakingAddress: string
  readonly book: AccountBook
  readonly reader: StakingReader
  readonly signerFor: (account: Address) => Signer | undefined
  readonly signingKeyFor: ((operator: Address) => string | undefined) | undefined
  /** Where the chain is (for errors). */
  readonly where: string
  /** Told the block of every mined receipt. */
  readonly sawBlock: (block: number) => void
}

/** The bytes32 evidence id of an economy evidence id: itself when it is 0x + 64 hex digits, else keccak256 of its UTF-8. */
export const evidenceHash = (evidenceId: string): string => (/^0x[0-9a-fA-F]{64}$/.test(evidenceId) ? evidenceId.toLowerCase() : keccakText(evidenceId))

const isAmount = (x: unknown): x is bigint => typeof x === "bigint" && x > 0n
const isTierLike = (t: unknown): t is number => typeof t === "number" && Number.isSafeInteger(t) && t >= 0

/** The transactions of one adapter: `apply` an op, or submit double-sign evidence. */
export const makeSubmitter = (ctx: SubmitContext) => {
  const { token, staking, stakingAddress, book, reader, where } = ctx

  // ------------------------------------------------------------------ accounts and transactions

  /** The address of an account id, or the economy's TokenInvalidAddress for `role`. */
  const addressFor = (account: unknown, role: string): string => {
    const a = typeof account === "string" && account.length > 0 ? book.addressOf(account) : undefined
    if (a === undefined) throw new TokenInvalidAddress({ role, address: account })
    return a
  }

  const signerOf = (operation: string, account: unknown, role: string): { readonly address: string; readonly signer: Signer } => {
    const address = addressFor(account, role)
    return { address, signer: keyOf(ctx, operation, account as string, address) }
  }

  const amountOf = (op: string, amount: unknown): bigint => {
    if (!isAmount(amount)) throw new TokenInvalidAmount({ op, amount })
    return amount
  }

  const tierOf = (tier: unknown): number => {
    if (!isTierLike(tier)) throw new StakingInvalidTier({ tier })
    return tier
  }

  const mined = minedWith(ctx.sawBlock)

  /**
   * Send a staking call that pulls `amount` from `owner`. The contract needs an allowance; when it
   * is short, the call is first simulated, so a refused op leaves even the allowance as it was;
   * then exactly `amount` is approved (no standing unlimited approval).
   */
  const pulling = async (who: { address: string; signer: Signer }, amount: bigint, method: string, args: unknown[]): Promise<TransactionReceipt> => {
    const as = staking.connect(who.signer)
    const allowance: bigint = await token.allowance(who.address, stakingAddress)
    if (allowance < amount) {
      try {
        await as[method].staticCall(...args)
      } catch (e) {
        const refused = toChainError(method, e, book, {}, where)
        if (!(refused instanceof ChainUnavailable && refused.reason.includes("ERC20InsufficientAllowance"))) throw refused
      }
      await mined(() => token.connect(who.signer).approve(stakingAddress, amount))
    }
    return mined(() => as[method](...args))
  }

  const eventsOf = (receipt: TransactionReceipt, contract: Any, name: string): Any[] => {
    const address = String(contract.target).toLowerCase()
    return receipt.logs
      .filter((l) => l.address.toLowerCase() === address)
      .map((l) => contract.interface.parseLog(l))
      .filter((e: Any) => e !== null && e.name === name)
  }
  const eventOf = (receipt: TransactionReceipt, contract: Any, name: string): Any => {
    const ev = eventsOf(receipt, contract, name)[0]
    if (ev === undefined) throw new Error(`transaction ${receipt.hash} emitted no ${name} event`)
    return ev.args
  }

  // ------------------------------------------------------------------ receipts

  /** The bond part of a receipt: the Bonded event, the tier's multiplier from the params at that block. */
  const bondPart = async (receipt: TransactionReceipt) => {
    const ev = eventOf(receipt, staking, "Bonded")
    const params = await reader.params(receipt.blockNumber)
    const tier = Number(ev.tier) as LockTier
    const multiplier = multiplierOf(params, tier)
    const shares: bigint = ev.shares
    return {
      position: Number(ev.position), pool: book.poolName(ev.pool), amount: ev.amount as bigint, shares, weightedShares: (shares * multiplier) / WAD,
      tier, multiplier, unlockAt: msOf(ev.unlockAt),
    }
  }

  /** The receipt of the slash `slashed` (a parsed Slashed event of `receipt`; default its first) reports. */
  const slashReceipt = async (receipt: TransactionReceipt, evidenceId: string, slashed?: Any): Promise<SlashReceipt> => {
    const ev = slashed ?? eventOf(receipt, staking, "Slashed")
    const o = ev.outcome
    const block = receipt.blockNumber
    const poolId: bigint = ev.pool
    const [after, before, params] = await Promise.all([reader.pool(poolId, block), reader.pool(poolId, block - 1), reader.params(block)])
    // Which unbonding entries were cut: the pool's list before, compared entry by entry.
    const slashedUnbonding: Array<{ entry: number; owner: Address; amount: bigint }> = []
    for (let u = before.unbondingHead; u !== 0n;) {
      const [was, now] = await Promise.all([reader.unbondingEntry(u, block - 1), reader.unbondingEntry(u, block)])
      if (was.amount > now.amount) slashedUnbonding.push({ entry: Number(u), owner: book.accountOf(was.owner), amount: was.amount - now.amount })
      u = was.next
    }
    const slashedBonded: bigint = o.slashedBonded
    const delegatorLoss = after.kind === 1 && after.delegatorShares > 0n && after.shares > 0n && slashedBonded > 0n ? (slashedBonded * after.delegatorShares) / after.shares : 0n
    const fraction: bigint = o.fraction
    const stakeAtInfraction: bigint = o.stakeAtInfraction
    return {
      type: "slash", pool: book.poolName(poolId), operator: book.accountOf(after.operator), infraction: Number(ev.infraction) === 0 ? "doubleSign" : "downtime",
      evidenceId, infractionTime: msOf(ev.infractionTime), fraction, stakeAtInfraction, maxSlash: mulWad(stakeAtInfraction, fraction),
      slashedBonded, slashedUnbonding, slashedUnbondingTotal: o.slashedUnbonding, totalSlashed: slashedBonded + (o.slashedUnbonding as bigint),
      toInsurance: o.toInsurance, burnt: o.burnt, delegatorLoss, insuranceCovered: mulWad(delegatorLoss, params.insuranceCoverage),
      insurancePaid: o.insurancePaid, jailedUntil: msOf(after.jailedUntil), tombstoned: after.tombstoned,
    }
  }

  const distributed = async (block: number): Promise<boolean> => (await reader.rewardAcc(block)).totalWeight > 0n

  // ------------------------------------------------------------------ operations

  const apply = async (op: EconOp): Promise<Receipt> => {
    switch (op.type) {
      case "transfer": {
        const from = signerOf(op.type, op.from, "sender")
        const to = addressFor(op.to, "recipient")
        const amount = amountOf("transfer", op.amount)
        const r = await mined(() => token.connect(from.signer).transfer(to, amount))
        return { type: "transfer", from: op.from, to: op.to, amount: eventOf(r, token, "Transfer").value }
      }
      case "burn": {
        const from = signerOf(op.type, op.from, "burner")
        const amount = amountOf("burn", op.amount)
        const r = await mined(() => token.connect(from.signer).burn(amount))
        const [minted, total]: [bigint, bigint] = await Promise.all([token.TOTAL_SUPPLY({ blockTag: r.blockNumber }), token.totalSupply({ blockTag: r.blockNumber })])
        return { type: "burn", from: op.from, burnt: eventOf(r, token, "Transfer").value, totalBurnt: minted - total }
      }
      case "registerValidator": {
        if (typeof op.operator === "string" && op.operator.startsWith(CONTRIBUTOR_PREFIX)) throw new StakingInvalidOperator({ operator: op.operator })
        const who = signerOf(op.type, op.operator, "operator")
        const amount = amountOf("registerValidator", op.amount)
        if (typeof op.commission !== "bigint" || op.commission < 0n) throw new StakingInvalidCommission({ commission: op.commission })
        const tier = tierOf(op.tier)
        // The op's signing key first (the consensus key that signs votes: Staking checks double-sign evidence against it), else the configured one, else the operator's own address.
        const key = op.signingKey ?? ctx.signingKeyFor?.(op.operator) ?? who.address
        const r = await pulling(who, amount, "registerValidator", [amount, tier, op.commission, key])
        return { type: "registerValidator", operator: op.operator, commission: eventOf(r, staking, "ValidatorRegistered").commission, ...(await bondPart(r)) }
      }
      case "bondContributor": {
        const who = signerOf(op.type, op.owner, "contributor")
        const amount = amountOf("bondContributor", op.amount)
        const tier = tierOf(op.tier)
        const r = await pulling(who, amount, "bondContributor", [amount, tier])
        const part = await bondPart(r)
        const before = await reader.pool(BigInt(await staking.contributorPoolId(who.address)), r.blockNumber - 1)
        return { type: "bondContributor", owner: op.owner, created: before.kind === 0, ...part }
      }
      case "delegate": {
        const who = signerOf(op.type, op.owner, "delegator")
        const amount = amountOf("delegate", op.amount)
        const pool = typeof op.validator === "string" ? book.poolIdOf(op.validator) : undefined
        if (pool === undefined) throw new StakingUnknownPool({ pool: String(op.validator) })
        const tier = tierOf(op.tier)
        const r = await pulling(who, amount, "delegate", [pool, amount, tier])
        return { type: "delegate", owner: op.owner, validator: op.validator, ...(await bondPart(r)) }
      }
      case "unbond": {
        const who = signerOf(op.type, op.owner, "owner")
        const amount = amountOf("unbond", op.amount)
        if (!Number.isSafeInteger(op.position) || op.position < 0) throw new StakingUnknownPosition({ position: op.position })
        const r = await mined(() => staking.connect(who.signer).unbond(op.position, amount))
        const ev = eventOf(r, staking, "Unbonded")
        const [pos, owedAfter, owedBefore] = await Promise.all([
          reader.position(op.position, r.blockNumber), reader.owed(who.address, r.blockNumber), reader.owed(who.address, r.blockNumber - 1),
        ])
        return {
          type: "unbond", owner: op.owner, position: op.position, pool: book.poolName(ev.pool), requested: amount, sharesBurnt: ev.sharesBurnt,
          amount: ev.amount, entry: Number(ev.entry), completesAt: msOf(ev.completesAt), closed: pos.owner === ZERO_ADDRESS,
          settledRewards: owedAfter.rewards - owedBefore.rewards, settledInsurance: owedAfter.insurance - owedBefore.insurance,
        }
      }
      case "withdraw": {
        const who = signerOf(op.type, op.owner, "owner")
        const r = await mined(() => staking.connect(who.signer).withdraw())
        const ev = eventOf(r, staking, "Withdrew")
        const [time, before] = await Promise.all([reader.blockTime(r.blockNumber), reader.unbonding(who.address, r.blockNumber - 1)])
        const entries = before
          .filter((e) => e.entry.completesAt <= BigInt(time))
          .map(({ id, entry }) => ({
            id, pool: book.poolName(entry.pool), amount: entry.amount, initialAmount: entry.initialAmount, startedAt: msOf(entry.startedAt), completesAt: msOf(entry.completesAt),
          }))
        return { type: "withdraw", owner: op.owner, amount: ev.amount, entries }
      }
      case "claimRewards": {
        const who = signerOf(op.type, op.owner, "claimer")
        const r = await mined(() => staking.connect(who.signer).claimRewards())
        const ev = eventOf(r, staking, "RewardsClaimed")
        const before = await reader.pending(who.address, r.blockNumber - 1)
        const rewards: bigint = ev.rewards
        const commission: bigint = ev.commission
        const insurance: bigint = ev.insurance
        return { type: "claimRewards", owner: op.owner, rewards, commission, insurance, total: rewards + commission + insurance, settled: before.settled }
      }
      case "payFee": {
        const who = signerOf(op.type, op.payer, "payer")
        const amount = amountOf("payFee", op.amount)
        const r = await pulling(who, amount, "payFee", [amount])
        const ev = eventOf(r, staking, "FeePaid")
        return { type: "payFee", payer: op.payer, amount: ev.amount, burnt: ev.burnt, toStakers: ev.toStakers, distributed: await distributed(r.blockNumber) }
      }
      case "fundRewards": {
        const who = signerOf(op.type, op.from, "funder")
        const amount = amountOf("fundRewards", op.amount)
        const r = await pulling(who, amount, "fundRewards", [amount])
        const ev = eventOf(r, staking, "RewardsFunded")
        return { type: "fundRewards", from: op.from, amount: ev.amount, carried: ev.carried, distributed: await distributed(r.blockNumber) }
      }
      case "slash": {
        const { evidenceId } = op
        if (typeof evidenceId !== "string" || evidenceId.length === 0) throw new StakingInvalidEvidence({ evidenceId, reason: "an evidence id must be a non-empty string" })
        if (op.infraction === "doubleSign") {
          throw new StakingInvalidEvidence({
            evidenceId, reason: "on chain a double sign is proved by the two conflicting signed votes, not by an evidence id: submit them with slashDoubleSign",
          })
        }
        if (op.infraction !== "downtime") throw new StakingInvalidEvidence({ evidenceId, reason: `infraction ${JSON.stringify(op.infraction)} is not doubleSign or downtime` })
        // No trusted reporter exists on chain: the Committee slashes downtime once 2/3 of the voting power signed the epoch's report.
        throw new StakingInvalidEvidence({
          evidenceId, reason: "on chain, downtime settles through epoch reports signed by 2/3 of the voting power (Committee.submitEpochReport), not a slash op",
        })
      }
      case "unjail": {
        const who = signerOf(op.type, op.operator, "operator")
        const r = await mined(() => staking.connect(who.signer).unjail())
        const ev = eventOf(r, staking, "Unjailed")
        return { type: "unjail", operator: op.operator, pool: book.poolName(ev.pool), weight: ev.weight }
      }
    }
    throw new ChainUnavailable({ operation: String((op as { type?: unknown }).type), reason: "unknown economic operation" })
  }

  /** Slash the validator whose registered key signed both votes, from `submitter`'s signer. */
  const doubleSign = async (a: SignedVote, b: SignedVote, submitter: Address): Promise<SlashReceipt> => {
    const who = signerOf("slashDoubleSign", submitter, "submitter")
    // The contract recovers the signer itself: only Staking.Vote's fields go on chain (a vote's claimed `validator` stays here).
    const vote = (v: SignedVote) => ({ chainId: v.chainId, height: v.height, round: v.round, voteType: v.voteType, blockHash: v.blockHash, signature: v.signature })
    const r = await mined(() => staking.connect(who.signer).slashDoubleSign(vote(a), vote(b)))
    return slashReceipt(r, eventOf(r, staking, "Slashed").evidenceId)
  }

  return { apply, doubleSign, slashReceipt, eventsOf, mined, signerOf }
}

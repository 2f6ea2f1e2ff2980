/**
 * Byzantine governance behaviour `sybil-split` (scenarios/README.md): a validator splits its stake over
 * `identities` accounts so that quadratic voting (votes = √stake per identity) gives it more votes:
 * N identities of S/N each cast N·√(S/N) = √N·√S. `governance.minVoterBond` caps it (an identity
 * needs at least that much bonded, so N ≤ S / minVoterBond) but cannot remove it: the gain is
 * √(S / minVoterBond) for any S ≥ 2 × minVoterBond. With linear votes (`governance.quadratic` false,
 * the default) N identities cast N·S/N = S: the split gains nothing.
 *
 * The measurement is a what-if on two copies of the run's ledger at the moment of the event (the
 * run itself is untouched): in both, the attacker unbonds its stake, waits out the unbonding period
 * and withdraws it; then it re-bonds it as one identity ("whole") or over N identities ("split"),
 * proposes a parameter change it wants, votes for it with every identity while the honest
 * validators vote against. Everything goes through the simulated Chain port — the economy's ops and
 * runtime/core/governance's rules, the same as every other run — so the votes are the rules' own.
 *
 * Its ROI (`sybilRoi`) prices votes in the only currency a stake-weighted vote has, stake: the
 * extra votes of the split are worth the extra stake one identity would need to cast them,
 * (gain² − 1) × S; what the split costs is the honest yield the stake forgoes while it unbonds to be
 * re-bonded as N identities, S × yield × unbondingPeriod / year, plus fees (none here). ROI =
 * (worth − cost) / S: with quadratic votes positive as soon as the minimum bond lets N ≥ 2 (gain > 1),
 * −cost/S when it caps N at 1 or voting is linear.
 */
import { Effect, Result } from "effect"
import type { Economy } from "../../runtime/core/econ/index.ts"
import { Constitution } from "../../runtime/core/governance/constitution.ts"
import { Governance, type ProposalAction, type ProposalState } from "../../runtime/core/governance/governance.ts"
import { REGISTRY } from "../../runtime/core/params.ts"
import { YEAR_MS } from "../../runtime/core/duration.ts"
import { TOKEN, tokens } from "../../runtime/core/units.ts"
import { makeSimChain } from "../adapters/chain.ts"

export interface SybilSplitInput {
  /** A replica of the run's ledger at the event (it is cloned, never changed). */
  readonly economy: Economy
  readonly attacker: string
  /** The honest validators, who vote against the attacker's proposal. */
  readonly honest: readonly string[]
  /** Identities asked for (the minimum bond may cap them). */
  readonly identities: number
  /** Virtual time of the event (ms). */
  readonly now: number
}

/** One side of the what-if: the attacker's proposal voted on with `identities` identities. */
export interface SybilVote {
  readonly identities: number
  /** Votes (under the run's rule) of the attacker's identities, and of the honest validators (decimal base units). */
  readonly attackerVotes: string
  readonly honestVotes: string
  /** The proposal's state when voting ended. */
  readonly outcome: ProposalState
  /** Ledger transactions the attacker sent (unbond, withdraw, transfers, bonds). */
  readonly transactions: number
}

export interface SybilSplitResult {
  readonly attacker: string
  /** The attacker's bonded stake at the event, whole tokens. */
  readonly stake: number
  /** governance.minVoterBond, whole tokens: what each identity must keep bonded. */
  readonly minIdentityBond: number
  readonly identitiesRequested: number
  /** min(requested, ⌊stake / minIdentityBond⌋): the minimum bond's cap. */
  readonly identities: number
  readonly capped: boolean
  /** governance.quadratic in the run: votes √stake (true) or stake (false). */
  readonly quadratic: boolean
  /** Attacker votes split ÷ attacker votes whole. */
  readonly sybilGain: number
  /** What the vote rule gives the split: √identities when quadratic, 1 when linear. */
  readonly theoreticalGain: number
  /** Whether the split turned the vote (whole: not passed, split: passed). */
  readonly outcomeFlipped: boolean
  readonly whole: SybilVote
  readonly split: SybilVote
  /** What the split costs beyond voting whole. */
  readonly cost: {
    /** Extra ledger transactions. */
    readonly extraTransactions: number
    /** Stake that must stay bonded to keep every identity's vote, beyond one identity's minimum (whole tokens). */
    readonly extraBondsLocked: number
    /** Fees paid (burnt or to stakers) beyond voting whole, whole tokens: the ledger charges none per transaction. */
    readonly fees: number
    /** Stakers' yearly yield when the split starts: (1 − contributorShare) × emission ÷ bonded stake. */
    readonly honestYield: number
    /** Yield the stake forgoes while it unbonds to be split: stake × honestYield × unbondingPeriod / year (tokens). */
    readonly opportunityCost: number
  }
  /** Extra stake one identity would need for the split's votes: (sybilGain² − 1) × stake (tokens). */
  readonly votesWorth: number
  /** (votesWorth − opportunityCost − fees) / stake: the split's return in stake-priced votes. */
  readonly sybilRoi: number
}

/** The identity ids of a split (the attacker itself when it is one). */
export const sybilIdentities = (attacker: string, n: number): string[] => (n === 1 ? [attacker] : Array.from({ length: n }, (_, k) => `${attacker}~sybil${k}`))

/** The attacker's proposal: a parameter it wants (a higher maximum commission, within the bounds). */
const attackerAction = (economy: Economy): ProposalAction => {
  const def = REGISTRY["staking.maxCommission"]
  return { kind: "param", name: "staking.maxCommission", value: Math.min(def.max, economy.params["staking.maxCommission"] + 0.1) }
}

const ratio = (a: bigint, b: bigint): number => (b === 0n ? 0 : Number((a * 1_000_000n) / b) / 1_000_000)

/** Run one side of the what-if on a copy of the ledger. */
const vote = (input: SybilSplitInput, n: number): SybilVote & { readonly feesPaid: bigint } => {
  const economy = input.economy.clone()
  let now = input.now
  const chain = makeSimChain(economy, () => now, new Governance(new Constitution(economy.params)))
  const run = <A, E extends { readonly _tag: string; readonly message: string }>(what: string, e: Effect.Effect<A, E>): A => {
    const r = Effect.runSync(Effect.result(e))
    if (Result.isFailure(r)) throw new Error(`sybil-split (${n} identities): ${what} refused: ${r.failure._tag}: ${r.failure.message}`)
    return r.success
  }
  let transactions = 0
  const submit = (op: Parameters<typeof chain.submit>[0]) => {
    transactions++
    return run(op.type, chain.submit(op))
  }
  const before = economy.supply()
  // Free the stake: unbond every position, wait out the unbonding period, withdraw.
  const positions = economy.positions(input.attacker)
  const stake = positions.reduce((s, p) => s + p.tokens, 0n)
  for (const p of positions) submit({ type: "unbond", owner: input.attacker, position: p.id, amount: p.tokens })
  now += economy.params["staking.unbondingPeriod"]
  if (positions.length > 0) submit({ type: "withdraw", owner: input.attacker })
  // Re-bond it over n identities, each delegating to an honest validator (no pool of their own to run).
  const ids = sybilIdentities(input.attacker, n)
  const pool = input.honest[0]!
  ids.forEach((id, k) => {
    const amount = stake / BigInt(n) + (k === n - 1 ? stake % BigInt(n) : 0n)
    if (id !== input.attacker) submit({ type: "transfer", from: input.attacker, to: id, amount })
    submit({ type: "delegate", owner: id, validator: pool, amount, tier: 0 })
  })
  const id = run("propose", chain.propose(ids[0]!, attackerAction(economy)))
  for (const voter of ids) run(`vote of ${voter}`, chain.castVote(id, voter, "for"))
  for (const voter of input.honest) run(`vote of ${voter}`, chain.castVote(id, voter, "against"))
  const p = run("proposal", chain.proposal(id))!
  now = p.votingEnds
  const after = economy.supply()
  return {
    identities: n, attackerVotes: p.forVotes.toString(), honestVotes: p.againstVotes.toString(), outcome: run("proposal", chain.proposal(id))!.state,
    transactions, feesPaid: after.burnt - before.burnt + after.rewardPool - before.rewardPool,
  }
}

/** Measure what splitting `attacker`'s stake over `identities` identities gains in a vote under the run's rule. */
export const sybilSplit = (input: SybilSplitInput): SybilSplitResult => {
  const stake = input.economy.positions(input.attacker).reduce((s, p) => s + p.tokens, 0n)
  const minimum = tokens(input.economy.params["governance.minVoterBond"])
  if (stake < minimum) throw new Error(`sybil-split: ${input.attacker} has ${stake / TOKEN} tokens bonded, below one identity's minimum bond (governance.minVoterBond = ${minimum / TOKEN})`)
  if (input.honest.length === 0) throw new Error("sybil-split: no honest validator to vote against the attacker")
  const n = Math.max(1, Math.min(input.identities, Number(stake / minimum)))
  const whole = vote(input, 1)
  const split = vote(input, n)
  const passed = (s: ProposalState) => s === "Queued" || s === "Executable" || s === "Executed"
  const { feesPaid: wholeFees, ...wholeVote } = whole
  const { feesPaid: splitFees, ...splitVote } = split
  const params = input.economy.params
  const bonded = Number(input.economy.supply().bonded / TOKEN)
  const honestYield = bonded === 0 ? 0 : ((1 - params["rewards.contributorShare"]) * params["rewards.annualEmission"]) / bonded
  const stakeTokens = Number(stake) / Number(TOKEN)
  const opportunityCost = stakeTokens * honestYield * (params["staking.unbondingPeriod"] / YEAR_MS)
  const fees = Number((splitFees - wholeFees) / TOKEN)
  const gain = ratio(BigInt(split.attackerVotes), BigInt(whole.attackerVotes))
  const votesWorth = (gain * gain - 1) * stakeTokens
  return {
    attacker: input.attacker,
    stake: Number(stake / TOKEN),
    minIdentityBond: Number(minimum / TOKEN),
    identitiesRequested: input.identities,
    identities: n,
    capped: n < input.identities,
    quadratic: params["governance.quadratic"],
    sybilGain: gain,
    theoreticalGain: params["governance.quadratic"] ? Math.round(Math.sqrt(n) * 1_000_000) / 1_000_000 : 1,
    outcomeFlipped: !passed(whole.outcome) && passed(split.outcome),
    whole: wholeVote,
    split: splitVote,
    cost: {
      extraTransactions: split.transactions - whole.transactions,
      extraBondsLocked: Number((BigInt(n - 1) * minimum) / TOKEN),
      fees,
      honestYield,
      opportunityCost,
    },
    votesWorth,
    sybilRoi: (votesWorth - opportunityCost - fees) / stakeTokens,
  }
}

/**
 * Governance beside the differential `World`: Constitution + Treasury + Governance deployed over the
 * world's Staking, and runtime/core/governance's `Governance` over the world's TS economy, both with
 * quadratic or linear votes (`governance.quadratic`). A vote step (propose, or cast a vote) goes to
 * both at the world's time; `diff` compares every proposal's tally (for, against, stake voted, stake
 * bonded at the start, end of voting, state).
 */
import fc from "fast-check"
import { Result } from "effect"
import { Constitution } from "../../runtime/core/governance/constitution.ts"
import { Governance, SUPPORT_CODE, type Support } from "../../runtime/core/governance/governance.ts"
import { economyStake } from "../../runtime/core/governance/stake.ts"
import { ACTORS } from "../../runtime/core/econ/testkit.ts"
import { DEFAULT_PARAMS, REGISTRY } from "../../runtime/core/params.ts"
import { constitutionArgs, paramKey, toChainValue } from "../deploy/constitution-table.ts"
import { firstDifference, type Outcome, type StepResult, type World } from "./world.ts"

type Any = any

export interface Ballot {
  readonly voter: string
  readonly support: Support
}

/** A governance step as generated: open a proposal and cast votes on it, or vote on the `pick`-th one later (none: an unknown id). */
export type VoteSpec =
  | { readonly type: "propose"; readonly proposer: string; readonly value: number; readonly votes: readonly Ballot[] }
  | { readonly type: "castVote"; readonly pick: number; readonly voter: string; readonly support: Support }

/** fees.burnFraction values: in bounds, and one above the constitution's maximum (0.9). */
const VALUES = [0.1, 0.25, 0.4, 0.95] as const
const ballot: fc.Arbitrary<Ballot> = fc.record({ voter: fc.constantFrom(...ACTORS), support: fc.constantFrom<Support>("for", "against", "abstain") })
export const voteSpecArb: fc.Arbitrary<VoteSpec> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ proposer: fc.constantFrom(...ACTORS), value: fc.constantFrom(...VALUES), votes: fc.array(ballot, { maxLength: 5 }) })
      .map((o) => ({ type: "propose" as const, ...o })),
  },
  { weight: 1, arbitrary: fc.record({ pick: fc.nat(4), voter: fc.constantFrom(...ACTORS), support: fc.constantFrom<Support>("for", "against", "abstain") }).map((o) => ({ type: "castVote" as const, ...o })) },
)

/** The deployed governance contracts, votes quadratic or linear (deploy once, before the snapshot the runs revert to). */
export const deployGovernance = async (w: World, quadratic: boolean): Promise<{ governance: Any; constitution: Any; treasury: Any; quadratic: boolean }> => {
  const { ethers, admin } = w
  const signers: Any[] = await ethers.getSigners()
  const constitution = await ethers.deployContract("Constitution", constitutionArgs(admin.address))
  const treasury = await ethers.deployContract("Treasury", [await w.token.getAddress(), [signers[11].address, signers[12].address], 2])
  const governance = await ethers.deployContract("Governance", [await constitution.getAddress(), await w.staking.getAddress(), await treasury.getAddress(), quadratic])
  await (await constitution.transferGovernance(await governance.getAddress())).wait()
  await (await treasury.setGovernance(await governance.getAddress())).wait()
  return { governance, constitution, treasury, quadratic }
}

export class GovernanceSide {
  readonly ts: Governance
  readonly #w: World
  readonly #contracts: { governance: Any; constitution: Any; treasury: Any }

  /** A fresh TS governance (the contract's Constitution holds the registry defaults; votes as the contract counts them) over the world's economy. */
  constructor(w: World, contracts: { governance: Any; constitution: Any; treasury: Any; quadratic: boolean }) {
    this.#w = w
    this.#contracts = contracts
    this.ts = new Governance(new Constitution({ ...DEFAULT_PARAMS, "governance.quadratic": contracts.quadratic }))
  }

  /** Advance the world by `dtSec` and apply the vote step to both: one result per transaction (a proposal, then its votes). */
  async step(dtSec: bigint, spec: VoteSpec): Promise<StepResult[]> {
    this.#w.nowSec += dtSec
    if (spec.type === "castVote") return [await this.#cast(spec.pick, spec.voter, spec.support)]
    const out = [await this.#propose(spec.proposer, spec.value)]
    for (const b of spec.votes) out.push(await this.#cast(-1, b.voter, b.support))
    return out
  }

  async #propose(proposer: string, value: number): Promise<StepResult> {
    const w = this.#w
    const now = Number(w.nowSec) * 1000
    const { governance, constitution, treasury } = this.#contracts
    const tag = (r: Result.Result<unknown, { readonly _tag: string }>): Outcome => (Result.isSuccess(r) ? { ok: true } : { ok: false, error: r.failure._tag })
    const def = REGISTRY["fees.burnFraction"]
    const chain = await w.send(() => governance.connect(w.signer[proposer]).proposeParam(paramKey("fees.burnFraction"), toChainValue(def, value)), [governance, constitution, treasury])
    const ts = tag(this.ts.propose(proposer, { kind: "param", name: "fees.burnFraction", value }, economyStake(w.econ), now))
    return { ts, chain, op: JSON.stringify({ propose: "fees.burnFraction", proposer, value }) }
  }

  /** Vote on the `pick`-th proposal (-1: the latest). */
  async #cast(pick: number, voter: string, support: Support): Promise<StepResult> {
    const w = this.#w
    const now = Number(w.nowSec) * 1000
    const { governance, constitution, treasury } = this.#contracts
    const stake = economyStake(w.econ)
    const tag = (r: Result.Result<unknown, { readonly _tag: string }>): Outcome => (Result.isSuccess(r) ? { ok: true } : { ok: false, error: r.failure._tag })
    const as = (a: string) => governance.connect(w.signer[a])
    const more = [governance, constitution, treasury]
    const count = Number(await governance.proposalCount())
    const id = count === 0 ? 99 : pick < 0 ? count : (pick % count) + 1
    const chain = await w.send(() => as(voter).castVote(id, SUPPORT_CODE[support]), more)
    const ts = tag(this.ts.castVote(id, voter, support, stake, now))
    return { ts, chain, op: JSON.stringify({ castVote: id, voter, support }) }
  }

  /** The first differing field of the two sides' proposals, or undefined. */
  async diff(): Promise<string | undefined> {
    const { governance } = this.#contracts
    const block = await this.#w.ethers.provider.getBlock("latest")
    const count = Number(await governance.proposalCount({ blockTag: block.number }))
    const states = ["None", "Active", "Defeated", "Queued", "Executable", "Executed"]
    const ts: Record<string, unknown> = { count: this.#tsCount() }
    const ch: Record<string, unknown> = { count }
    for (let id = 1; id <= Math.max(count, this.#tsCount()); id++) {
      const p = this.ts.proposal(id)
      ts[id] = p === undefined ? null : {
        proposer: p.proposer, forVotes: p.forVotes, againstVotes: p.againstVotes, stakeVoted: p.stakeVoted, bondedAtStart: p.bondedAtStart,
        votingEnds: p.votingEnds, state: this.ts.state(id, Number(block.timestamp) * 1000),
      }
      const c = await governance.proposal(id, { blockTag: block.number })
      ch[id] = c.proposer === this.#w.ethers.ZeroAddress ? null : {
        proposer: this.#w.actorOf(c.proposer), forVotes: c.forVotes, againstVotes: c.againstVotes, stakeVoted: c.stakeVoted, bondedAtStart: c.bondedAtStart,
        votingEnds: Number(c.votingEnds) * 1000, state: states[Number(await governance.state(id, { blockTag: block.number }))],
      }
    }
    return firstDifference(ts, ch, "governance")
  }

  #tsCount(): number {
    let n = 0
    while (this.ts.proposal(n + 1) !== undefined) n++
    return n
  }
}

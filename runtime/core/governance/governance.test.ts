import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { Scheduler, SimClock } from "../../../sim/kernel/index.ts"
import { governanceMachine } from "../../machines/governance.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { sqrt, TOKEN } from "../units.ts"
import { ok, testEconomy } from "../econ/testkit.ts"
import { Constitution } from "./constitution.ts"
import { Governance, type StakeView, type Support } from "./governance.ts"
import { economyStake } from "./stake.ts"

const DAY = 86_400_000
const stakes = (m: Record<string, bigint>, total?: bigint): StakeView => ({
  bondedOf: (a) => m[a] ?? 0n,
  totalBonded: total ?? Object.values(m).reduce((s, x) => s + x, 0n),
})
const tag = <A, E extends { _tag: string }>(r: Result.Result<A, E>) => (Result.isFailure(r) ? r.failure._tag : "ok")

/** Governance with `governance.quadratic` on (the default is off). */
const quadratic = () => new Governance(new Constitution({ ...DEFAULT_PARAMS, "governance.quadratic": true }))

describe("governance", () => {
  const voters = stakes({ a: 10_000n * TOKEN, b: 2_500n * TOKEN, c: 100n * TOKEN, tiny: 1n * TOKEN })

  it("passes a parameter change with quadratic votes, waits the timelock, then changes the constitution", () => {
    const g = quadratic()
    const p = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))
    expect(Result.getOrThrow(g.castVote(p.id, "a", "for", voters, 1))).toBe(sqrt(10_000n * TOKEN))
    Result.getOrThrow(g.castVote(p.id, "b", "against", voters, 2))
    expect(g.state(p.id, DAY)).toBe("Active")
    expect(tag(g.execute(p.id, DAY))).toBe("GovernanceVotingOpen")
    const end = p.votingEnds
    expect(g.state(p.id, end)).toBe("Queued")
    expect(tag(g.execute(p.id, end))).toBe("GovernanceTimelockNotExpired")
    expect(g.state(p.id, end + DEFAULT_PARAMS["governance.timelock"])).toBe("Executable")
    expect(tag(g.execute(p.id, end + DEFAULT_PARAMS["governance.timelock"]))).toBe("ok")
    expect(g.params["fees.burnFraction"]).toBe(0.4)
    expect(tag(g.execute(p.id, end + 2 * DAY))).toBe("GovernanceAlreadyExecuted")
  })

  it("counts abstentions toward quorum only, and refuses a support that is not for, against or abstain", () => {
    const g = new Governance()
    const p = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))
    expect(tag(g.castVote(p.id, "c", "maybe" as Support, voters, 1))).toBe("GovernanceInvalidSupport")
    Result.getOrThrow(g.castVote(p.id, "c", "for", voters, 1)) // 100 of 12,601: below the 10% quorum alone
    Result.getOrThrow(g.castVote(p.id, "b", "abstain", voters, 2))
    const v = g.proposal(p.id)!
    expect([v.forVotes, v.againstVotes, v.abstainVotes, v.stakeVoted]).toEqual([100n * TOKEN, 0n, 2_500n * TOKEN, 2_600n * TOKEN])
    expect(g.state(p.id, p.votingEnds)).toBe("Queued")
    // Abstentions alone: quorate, but nobody for.
    const q = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))
    Result.getOrThrow(g.castVote(q.id, "a", "abstain", voters, 1))
    expect(g.state(q.id, q.votingEnds)).toBe("Defeated")
  })

  it("refuses what the constitution or the rules forbid, changing nothing", () => {
    const g = new Governance()
    expect(tag(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.95 }, voters, 0))).toBe("ConstitutionOutOfBounds")
    expect(tag(g.propose("a", { kind: "param", name: "no.such", value: 1 }, voters, 0))).toBe("ConstitutionUnknownParameter")
    // Switches and choices are not constitutional parameters (Constitution.sol has no entry for them).
    expect(tag(g.propose("a", { kind: "param", name: "governance.quadratic", value: true }, voters, 0))).toBe("ConstitutionUnknownParameter")
    expect(tag(g.propose("a", { kind: "param", name: "training.aggregator", value: "krum" }, voters, 0))).toBe("ConstitutionUnknownParameter")
    expect(tag(g.propose("a", { kind: "param", name: "staking.lockMultiplier90d", value: 1.05 }, voters, 0))).toBe("ParamConstraintViolated")
    expect(tag(g.propose("tiny", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))).toBe("GovernanceBelowMinimumBond")
    expect(tag(g.propose("a", { kind: "spend", to: "x", amount: 0n }, voters, 0))).toBe("GovernanceInvalidProposal")
    expect(tag(g.castVote(9, "a", "for", voters, 0))).toBe("GovernanceUnknownProposal")
    const p = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))
    Result.getOrThrow(g.castVote(p.id, "a", "for", voters, 0))
    expect(tag(g.castVote(p.id, "a", "for", voters, 1))).toBe("GovernanceAlreadyVoted")
    expect(tag(g.castVote(p.id, "b", "for", voters, p.votingEnds))).toBe("GovernanceVotingClosed")
    expect(g.proposal(p.id)!.forVotes).toBe(10_000n * TOKEN) // the default: linear votes
  })

  it("defeats a proposal without quorum or without a majority", () => {
    const g = new Governance()
    const many = stakes({ a: 100n * TOKEN, b: 5_000n * TOKEN }, 1_000_000n * TOKEN)
    const p = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, many, 0))
    Result.getOrThrow(g.castVote(p.id, "a", "for", many, 0))
    expect(g.state(p.id, p.votingEnds)).toBe("Defeated") // 100 of 1,000,000 voted, quorum 10 %
    const q = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.4 }, voters, 0))
    Result.getOrThrow(g.castVote(q.id, "a", "against", voters, 0))
    expect(g.state(q.id, q.votingEnds)).toBe("Defeated")
    expect(tag(g.execute(q.id, q.votingEnds + 30 * DAY))).toBe("GovernanceNotPassed")
  })

  it("moves a bound only by a supermajority amendment with the longer delay", () => {
    const g = quadratic()
    const p = Result.getOrThrow(g.propose("a", { kind: "amendment", name: "fees.burnFraction", min: 0, max: 0.95 }, voters, 0))
    expect(p.delay).toBe(DEFAULT_PARAMS["governance.amendmentDelay"])
    Result.getOrThrow(g.castVote(p.id, "a", "for", voters, 0)) // 100 votes for
    Result.getOrThrow(g.castVote(p.id, "b", "against", voters, 0)) // 50 against: 66.6 % < 66.7 %
    expect(g.state(p.id, p.votingEnds)).toBe("Defeated")
    const q = Result.getOrThrow(g.propose("a", { kind: "amendment", name: "fees.burnFraction", min: 0, max: 0.95 }, voters, 0))
    Result.getOrThrow(g.castVote(q.id, "a", "for", voters, 0))
    expect(tag(g.execute(q.id, q.votingEnds + q.delay))).toBe("ok")
    expect(g.constitution.bounds("fees.burnFraction")).toEqual({ min: 0, max: 0.95 })
    expect(Result.isSuccess(g.constitution.check("fees.burnFraction", 0.95))).toBe(true)
    expect(new Constitution().bounds("fees.burnFraction")).toEqual({ min: 0, max: 0.9 })
  })

  it("refuses an amendment as the contract does: min > max at proposal, bounds that exclude the value at execution", () => {
    const g = new Governance()
    expect(g.propose("a", { kind: "amendment", name: "fees.burnFraction", min: 0.5, max: 0.4 }, voters, 0)).toMatchObject({ failure: { _tag: "GovernanceInvalidProposal", reason: "min exceeds max" } })
    expect(tag(g.propose("a", { kind: "amendment", name: "training.model", min: 0, max: 1 }, voters, 0))).toBe("ConstitutionUnknownParameter")
    const p = Result.getOrThrow(g.propose("a", { kind: "amendment", name: "fees.burnFraction", min: 0.5, max: 0.9 }, voters, 0))
    Result.getOrThrow(g.castVote(p.id, "a", "for", voters, 0))
    expect(g.execute(p.id, p.votingEnds + p.delay)).toMatchObject({ failure: { _tag: "ConstitutionOutOfBounds", name: "fees.burnFraction", value: 0.3 } })
    expect(g.state(p.id, p.votingEnds + p.delay)).toBe("Executable")
  })

  it("spends from the treasury only through a passed proposal, and a refused transfer executes nothing", () => {
    const g = new Governance()
    const p = Result.getOrThrow(g.propose("a", { kind: "spend", to: "builder", amount: 5n * TOKEN }, voters, 0))
    Result.getOrThrow(g.castVote(p.id, "a", "for", voters, 0))
    const at = p.votingEnds + p.delay
    expect(tag(g.execute(p.id, at, () => Result.fail({ _tag: "TokenInsufficientBalance" as const })))).toBe("TokenInsufficientBalance")
    expect(g.state(p.id, at)).toBe("Executable")
    let paid = 0n
    expect(tag(g.execute(p.id, at, (_to, amount) => Result.succeed((paid += amount))))).toBe("ok")
    expect(paid).toBe(5n * TOKEN)
  })

  it("a vote counts the stake bonded at the proposal's start and kept since, against the minimum bond of then", () => {
    // As Governance.sol with Staking.bondedSince: a position opened after the proposal does not vote on
    // it (nor can stake moved to a second identity); what was unbonded since no longer counts.
    const e = testEconomy()
    const stake = economyStake(e)
    ok(e.apply({ type: "registerValidator", operator: "v0", amount: 10_000n * TOKEN, tier: 0, commission: 0n }, 0))
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * TOKEN, tier: 0 }, 0))
    ok(e.apply({ type: "delegate", owner: "d1", validator: "v0", amount: 500n * TOKEN, tier: 0 }, 10))
    const g = new Governance()
    const p = Result.getOrThrow(g.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.4 }, stake, 10))
    expect(p.minVoterBond).toBe(100n * TOKEN)
    ok(e.apply({ type: "delegate", owner: "d0", validator: "v0", amount: 4_000n * TOKEN, tier: 0 }, 11)) // after the start
    ok(e.apply({ type: "delegate", owner: "d2", validator: "v0", amount: 4_000n * TOKEN, tier: 0 }, 11))
    const d1 = e.positions("d1")[0]!
    ok(e.apply({ type: "unbond", owner: "d1", position: d1.id, amount: 450n * TOKEN }, 12)) // 50 left: below the minimum
    expect(stake.bondedOf("d0")).toBe(5_000n * TOKEN)
    expect(stake.bondedOf("d0", p.createdAt)).toBe(1_000n * TOKEN)
    expect(Result.getOrThrow(g.castVote(p.id, "d0", "for", stake, 13))).toBe(1_000n * TOKEN)
    expect(g.castVote(p.id, "d2", "for", stake, 13)).toMatchObject({ failure: { _tag: "GovernanceBelowMinimumBond", bonded: 0n } })
    expect(g.castVote(p.id, "d1", "for", stake, 13)).toMatchObject({ failure: { _tag: "GovernanceBelowMinimumBond", bonded: 50n * TOKEN } })
    // A new minimum bond applies to proposals made after it, not to this one.
    g.constitution.setValue("governance.minVoterBond", 10)
    expect(g.castVote(p.id, "d1", "for", stake, 13)).toMatchObject({ failure: { _tag: "GovernanceBelowMinimumBond", minimum: 100n * TOKEN } })
    const q = Result.getOrThrow(g.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.4 }, stake, 14))
    expect(Result.getOrThrow(g.castVote(q.id, "d1", "for", stake, 14))).toBe(50n * TOKEN)
    expect(Result.getOrThrow(g.castVote(q.id, "d2", "for", stake, 14))).toBe(4_000n * TOKEN)
    expect(g.proposal(p.id)).toMatchObject({ forVotes: 1_000n * TOKEN, stakeVoted: 1_000n * TOKEN })
  })

  it("votes are stake by default; quadratic votes multiply by sqrt(N) when stake is split over N identities", () => {
    const whole = 10_000n * TOKEN
    const votes = (g: Governance, n: bigint) => {
      const ids = Array.from({ length: Number(n) }, (_, k) => `s${k}`)
      const view = stakes(Object.fromEntries(ids.map((id) => [id, whole / n])))
      return ids.reduce((sum, id) => sum + Result.getOrThrow(g.votesOf(id, view)).votes, 0n)
    }
    expect(DEFAULT_PARAMS["governance.quadratic"]).toBe(false)
    const linear = new Governance()
    const q = quadratic()
    for (const n of [4n, 16n, 100n]) {
      expect(votes(linear, n)).toBe(votes(linear, 1n)) // splitting gains nothing
      expect(Number((votes(q, n) * 1000n) / votes(q, 1n)) / 1000).toBeCloseTo(Math.sqrt(Number(n)), 2)
    }
    // The minimum bond (100 tokens) caps 10,000 tokens at 100 identities: quadratic, still 10× the votes.
    expect(whole / (BigInt(DEFAULT_PARAMS["governance.minVoterBond"]) * TOKEN)).toBe(100n)
  })

  it("property: the machine passes through the ledger's states at the same times", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ voter: fc.constantFrom("a", "b", "c"), support: fc.constantFrom<Support>("for", "against", "abstain") }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        (votes, probeSeed) => {
          const g = new Governance()
          const p = Result.getOrThrow(g.propose("a", { kind: "param", name: "fees.burnFraction", value: 0.35 }, voters, 0))
          const scheduler = new Scheduler(0)
          const states: string[] = []
          const actor = createActor(governanceMachine, {
            clock: new SimClock(scheduler),
            input: { id: p.id, now: 0, votingEnds: p.votingEnds, delay: p.delay, forVotes: 0n, againstVotes: 0n, stakeVoted: 0n, quorum: p.quorum, threshold: p.threshold, bondedAtStart: p.bondedAtStart },
          })
          actor.subscribe((s) => states.push(String(s.value)))
          actor.start()
          for (const v of votes) {
            const r = g.castVote(p.id, v.voter, v.support, voters, 0)
            if (Result.isSuccess(r)) actor.send({ type: "vote.cast", support: v.support, votes: r.success, stake: voters.bondedOf(v.voter) })
          }
          const probes = [p.votingEnds - 1, p.votingEnds, p.votingEnds + p.delay - 1, p.votingEnds + p.delay][probeSeed]!
          for (const t of [probes, p.votingEnds + p.delay + 1]) {
            scheduler.runUntil({ time: Math.max(t, scheduler.now) })
            expect(String(actor.getSnapshot().value)).toBe(g.state(p.id, scheduler.now))
          }
          expect(states.length).toBeGreaterThan(0)
        },
      ),
      { numRuns: Number(process.env.DAI_PROPERTY_RUNS ?? 200) },
    )
  })
})

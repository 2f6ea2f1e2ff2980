/** Chain compliance, governance: a parameter change from proposal to execution, and the refusals on the way. */
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { REGISTRY } from "../../../core/params.ts"
import { sqrt, TOKEN } from "../../../core/units.ts"
import { type ChainSetup, ok, run } from "./harness.ts"

/** The governance tests, each on a fresh chain from `common`. */
export const governanceTests = (common: ChainSetup): void => {
  describe("governance", () => {
    afterEach(() => common.teardown())

    it("governance: a param change proposed, voted, timelocked, executed; refusals", async () => {
      const { chain, params, advance } = await common.setup()
      // Votes as the chain counts them: the stake, or its square root (governance.quadratic, as set up).
      const quadratic = (await run(chain.params))["governance.quadratic"]
      expect(quadratic).toBe(params["governance.quadratic"])
      const votesOf = (stake: bigint) => (quadratic ? sqrt(stake) : stake)
      const flip = async <A, E extends { _tag: string }>(e: Effect.Effect<A, E>): Promise<E> => {
        const r = await run(Effect.result(e))
        if (Result.isSuccess(r)) throw new Error("expected a refusal")
        return r.failure
      }
      const flipTag = async <A, E extends { _tag: string }>(e: Effect.Effect<A, E>): Promise<string> => (await flip(e))._tag
      const bond = BigInt(Math.ceil(params["staking.minValidatorBond"])) * TOKEN
      await ok(chain, { type: "registerValidator", operator: "v0", amount: bond, tier: 0, commission: 0n })
      await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * TOKEN, tier: 0 })
      await ok(chain, { type: "delegate", owner: "d1", validator: "v0", amount: TOKEN, tier: 0 })
      // below the minimum voter bond (d1: 1 token; d2: nothing)
      const minimum = BigInt(params["governance.minVoterBond"]) * TOKEN
      expect(await flip(chain.propose("d1", { kind: "param", name: "governance.votingPeriod", value: params["governance.votingPeriod"] })))
        .toMatchObject({ _tag: "GovernanceBelowMinimumBond", voter: "d1", bonded: TOKEN, minimum })
      // outside the constitution's bounds
      const def = REGISTRY["staking.unbondingPeriod"]
      expect(await flip(chain.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: def.max + 1 })))
        .toMatchObject({ _tag: "ConstitutionOutOfBounds", name: "staking.unbondingPeriod", value: def.max + 1, min: def.min, max: def.max })
      const next = params["staking.unbondingPeriod"] + 86_400_000
      expect(next).toBeLessThanOrEqual(def.max)
      const id = await run(chain.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: next }))
      const votes = await run(chain.castVote(id, "v0", "for"))
      expect(votes).toBe(votesOf(bond))
      expect(await run(chain.castVote(id, "d0", "for"))).toBe(votesOf(1_000n * TOKEN))
      expect(await flip(chain.castVote(id, "v0", "against"))).toMatchObject({ _tag: "GovernanceAlreadyVoted", id, voter: "v0" })
      expect(await flipTag(chain.castVote(id, "d2", "for"))).toBe("GovernanceBelowMinimumBond")
      expect(await flip(chain.executeProposal(id))).toMatchObject({ _tag: "GovernanceVotingOpen", id })
      // a second proposal, voted down
      const down = await run(chain.propose("d0", { kind: "param", name: "staking.unbondingPeriod", value: next }))
      await run(chain.castVote(down, "v0", "against"))
      // Abstain (OpenZeppelin's support 2): toward quorum only; a support that is none of the three is refused first.
      expect(await flipTag(chain.castVote(down, "d2", "maybe" as never))).toBe("GovernanceInvalidSupport")
      expect(await run(chain.castVote(down, "d0", "abstain"))).toBe(votesOf(1_000n * TOKEN))
      expect((await run(chain.proposal(down)))!).toMatchObject({ forVotes: 0n, againstVotes: votesOf(bond), abstainVotes: votesOf(1_000n * TOKEN), stakeVoted: bond + 1_000n * TOKEN })
      const p0 = (await run(chain.proposal(id)))!
      expect(p0).toMatchObject({ id, proposer: "v0", state: "Active", forVotes: votesOf(bond) + votesOf(1_000n * TOKEN), againstVotes: 0n, stakeVoted: bond + 1_000n * TOKEN })
      expect(p0.action).toEqual({ kind: "param", name: "staking.unbondingPeriod", value: next })
      expect(p0.executableAt - p0.votingEnds).toBe(params["governance.timelock"])
      await advance(params["governance.votingPeriod"])
      expect((await run(chain.proposal(id)))!.state).toBe("Queued")
      expect(await flip(chain.executeProposal(id))).toMatchObject({ _tag: "GovernanceTimelockNotExpired", id, executableAt: p0.executableAt })
      expect((await run(chain.proposal(down)))!.state).toBe("Defeated")
      expect(await flip(chain.executeProposal(down))).toMatchObject({ _tag: "GovernanceNotPassed", id: down, state: "Defeated" })
      await advance(params["governance.timelock"])
      expect((await run(chain.proposal(id)))!.state).toBe("Executable")
      expect(await run(chain.executeProposal(id))).toEqual({ kind: "param", name: "staking.unbondingPeriod", value: next })
      expect((await run(chain.params))["staking.unbondingPeriod"]).toBe(next)
      expect((await run(chain.proposal(id)))!.state).toBe("Executed")
      expect(await flipTag(chain.executeProposal(id))).toBe("GovernanceAlreadyExecuted")
      expect(await run(chain.proposal(99))).toBeUndefined()
    })
  })
}

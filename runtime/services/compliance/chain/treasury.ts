/** Chain compliance, treasury and amendments: a passed spend pays from the treasury; an amendment needs a supermajority and the longer delay. */
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { TokenInsufficientBalance } from "../../../core/econ/index.ts"
import { RESERVE } from "../../../core/econ/testkit.ts"
import { REGISTRY } from "../../../core/params.ts"
import { sqrt, TOKEN } from "../../../core/units.ts"
import { type ChainSetup, ok, run } from "./harness.ts"

/** The treasury and amendments tests, each on a fresh chain from `common`. */
export const treasuryTests = (common: ChainSetup): void => {
  describe("treasury and amendments", () => {
    afterEach(() => common.teardown())

    it("governance: an amendment needs a supermajority and the longer delay; a passed spend pays from the treasury", async () => {
      const { chain, params, advance } = await common.setup()
      const flip = async <A, E extends { _tag: string }>(e: Effect.Effect<A, E>): Promise<E> => {
        const r = await run(Effect.result(e))
        if (Result.isSuccess(r)) throw new Error("expected a refusal")
        return r.failure
      }
      const votesOf = (stake: bigint) => (params["governance.quadratic"] ? sqrt(stake) : stake)
      // 1,500 vs 1,000 tokens: 60 % of the votes when linear, 55 % when quadratic — enough for an
      // ordinary proposal (threshold 0.5), not for an amendment (0.667), either way.
      const big = 1_500n * TOKEN
      expect(big).toBeGreaterThanOrEqual(BigInt(Math.ceil(params["staking.minValidatorBond"])) * TOKEN)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: big, tier: 0, commission: 0n })
      await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 1_000n * TOKEN, tier: 0 })
      const def = REGISTRY["staking.unbondingPeriod"]
      const wider = { kind: "amendment" as const, name: "staking.unbondingPeriod", min: def.min, max: def.max * 2 }
      const split = async (id: number) => {
        await run(chain.castVote(id, "v0", "for"))
        await run(chain.castVote(id, "d0", "against"))
      }
      const ordinary = await run(chain.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: def.max }))
      await split(ordinary)
      const narrow = await run(chain.propose("v0", wider))
      await split(narrow)
      const amend = await run(chain.propose("d0", wider))
      await run(chain.castVote(amend, "v0", "for"))
      await run(chain.castVote(amend, "d0", "for"))
      const pa = (await run(chain.proposal(amend)))!
      expect(pa).toMatchObject({ proposer: "d0", action: wider, state: "Active", forVotes: votesOf(big) + votesOf(1_000n * TOKEN), againstVotes: 0n })
      expect(pa.executableAt - pa.votingEnds).toBe(params["governance.amendmentDelay"])
      expect(await flip(chain.propose("v0", { ...wider, min: def.max, max: def.min }))).toMatchObject({ _tag: "GovernanceInvalidProposal", reason: "min exceeds max" })

      // The treasury holds 5,000 tokens; one spend it can pay, one it cannot.
      await ok(chain, { type: "transfer", from: RESERVE, to: "treasury", amount: 5_000n * TOKEN })
      const spend = await run(chain.propose("d0", { kind: "spend", to: "d2", amount: 1_234n * TOKEN }))
      const tooMuch = await run(chain.propose("d0", { kind: "spend", to: "d2", amount: 5_001n * TOKEN }))
      for (const id of [spend, tooMuch]) await run(chain.castVote(id, "v0", "for"))
      expect(await flip(chain.propose("d0", { kind: "spend", to: "d2", amount: 0n }))).toMatchObject({ _tag: "GovernanceInvalidProposal" })

      await advance(params["governance.votingPeriod"] + params["governance.timelock"])
      expect((await run(chain.proposal(ordinary)))!.state).toBe("Executable")
      expect((await run(chain.proposal(narrow)))!.state).toBe("Defeated")
      expect((await run(chain.proposal(amend)))!.state).toBe("Queued")
      expect(await flip(chain.executeProposal(amend))).toMatchObject({ _tag: "GovernanceTimelockNotExpired", id: amend, executableAt: pa.executableAt })

      const d2 = await run(chain.balanceOf("d2"))
      expect(await run(chain.executeProposal(spend))).toEqual({ kind: "spend", to: "d2", amount: 1_234n * TOKEN })
      expect(await run(chain.balanceOf("d2"))).toBe(d2 + 1_234n * TOKEN)
      expect(await run(chain.balanceOf("treasury"))).toBe(5_000n * TOKEN - 1_234n * TOKEN)
      expect(await flip(chain.executeProposal(tooMuch))).toMatchObject({ _tag: "TokenInsufficientBalance", address: "treasury", balance: 3_766n * TOKEN, needed: 5_001n * TOKEN })
      expect((await run(chain.proposal(tooMuch)))!.state).toBe("Executable") // a refused execution changes nothing

      // Beyond the old bound: refused until the amendment is executed.
      expect(await flip(chain.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: def.max + 86_400_000 }))).toMatchObject({ _tag: "ConstitutionOutOfBounds", max: def.max })
      await advance(params["governance.amendmentDelay"] - params["governance.timelock"])
      expect(await run(chain.executeProposal(amend))).toEqual(wider)
      const later = await run(chain.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: def.max + 86_400_000 }))
      expect((await run(chain.proposal(later)))!.action).toEqual({ kind: "param", name: "staking.unbondingPeriod", value: def.max + 86_400_000 })
    })
  })
}

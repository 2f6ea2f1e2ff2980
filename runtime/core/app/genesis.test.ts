import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import { genesisReplica } from "./ledger-genesis.ts"
import {
  buildGenesis, genesisAllocations, REMAINDER_ACCOUNT, REWARD_RESERVE_ACCOUNT, REWARD_RESERVE_TOKENS, reserveSize,
  type ReserveRule,
} from "./genesis.ts"

const sum = (xs: ReadonlyArray<{ readonly amount: bigint }>) => xs.reduce((s, a) => s + a.amount, 0n)
const balance = (xs: ReadonlyArray<{ readonly address: string; readonly amount: bigint }>, address: string) =>
  xs.find((a) => a.address === address)?.amount

describe("genesis allocations", () => {
  const rule = fc.record({
    kind: fc.constantFrom<ReserveRule["kind"]>("exactly", "atMostHalfOfRest"),
    amount: fc.bigInt({ min: 1n, max: TOTAL_SUPPLY }),
  })
  // Up to 12 accounts holding up to a fifth of the supply each: sometimes more than there is.
  const given = fc.uniqueArray(
    fc.record({ address: fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), amount: fc.bigInt({ min: 1n, max: TOTAL_SUPPLY / 5n }) }),
    { maxLength: 12, selector: (a) => a.address },
  ).map((xs) => xs.filter((a) => a.address !== REWARD_RESERVE_ACCOUNT && a.address !== REMAINDER_ACCOUNT))

  it("property: the supply sums to TOTAL_SUPPLY exactly, the reserve follows its rule, or the genesis is refused as over-allocated", () => {
    fc.assert(fc.property(given, rule, (allocations, r) => {
      const rest = TOTAL_SUPPLY - sum(allocations)
      const out = genesisAllocations(allocations, r)
      const fits = rest > 0n && (r.kind === "exactly" ? r.amount <= rest : rest >= 2n)
      if (!fits) {
        expect(Result.isFailure(out) && out.failure._tag).toBe("GenesisOverAllocated")
        return
      }
      if (Result.isFailure(out)) throw new Error(out.failure.message)
      const { allocations: all, reserve } = out.success
      expect(sum(all)).toBe(TOTAL_SUPPLY)
      expect(all.slice(0, allocations.length)).toEqual(allocations)
      expect(reserve).toBe(r.kind === "exactly" ? r.amount : (r.amount < rest / 2n ? r.amount : rest / 2n))
      expect(balance(all, REWARD_RESERVE_ACCOUNT)).toBe(reserve)
      expect(balance(all, REMAINDER_ACCOUNT) ?? 0n).toBe(rest - reserve)
      expect(all.every((a) => a.amount > 0n)).toBe(true)
      expect(new Set(all.map((a) => a.address)).size).toBe(all.length)
    }))
  })

  it("sizes the reserve: exactly its amount, or at most half of what is left", () => {
    const amount = REWARD_RESERVE_TOKENS
    expect(reserveSize({ kind: "exactly", amount }, 700_000_000n * TOKEN)).toBe(amount)
    expect(reserveSize({ kind: "exactly", amount }, amount - 1n)).toBe(0n)
    expect(reserveSize({ kind: "atMostHalfOfRest", amount }, 700_000_000n * TOKEN)).toBe(amount)
    expect(reserveSize({ kind: "atMostHalfOfRest", amount }, 500_000_000n * TOKEN)).toBe(250_000_000n * TOKEN)
    expect(reserveSize({ kind: "atMostHalfOfRest", amount }, 7n)).toBe(3n)
  })

  it("leaves the remainder out when the reserve takes all that is left", () => {
    const out = genesisAllocations([{ address: "a", amount: TOTAL_SUPPLY - REWARD_RESERVE_TOKENS }], { kind: "exactly", amount: REWARD_RESERVE_TOKENS })
    expect(Result.isSuccess(out) && out.success.allocations.map((a) => a.address)).toEqual(["a", REWARD_RESERVE_ACCOUNT])
  })

  it("refuses an over-allocation, saying by how much and what to do", () => {
    const over = genesisAllocations([{ address: "a", amount: TOTAL_SUPPLY }, { address: "b", amount: 1n }], { kind: "atMostHalfOfRest", amount: REWARD_RESERVE_TOKENS })
    expect(Result.isFailure(over) && over.failure.message).toBe(`the genesis allocations hand out ${TOTAL_SUPPLY + 1n} base units, more than the total supply ${TOTAL_SUPPLY}; give less`)
    const given = TOTAL_SUPPLY - REWARD_RESERVE_TOKENS + 1n
    const short = genesisAllocations([{ address: "a", amount: given }], { kind: "exactly", amount: REWARD_RESERVE_TOKENS })
    expect(Result.isFailure(short) && short.failure.message).toBe(
      `the genesis allocations hand out ${given} base units and leave ${REWARD_RESERVE_TOKENS - 1n}, not enough for a reward reserve of ${REWARD_RESERVE_TOKENS}; give less or choose a smaller reserve`,
    )
  })

  it("refuses an allocation to the reserve's or the remainder's account", () => {
    const rule: ReserveRule = { kind: "exactly", amount: REWARD_RESERVE_TOKENS }
    const reserve = genesisAllocations([{ address: REWARD_RESERVE_ACCOUNT, amount: TOKEN }], rule)
    expect(Result.isFailure(reserve) && reserve.failure.message).toBe(`the genesis allocations already give to "reserve", the reward reserve's account; merge it into the reward reserve or rename it`)
    const remainder = genesisAllocations([{ address: "treasury", amount: TOKEN }], rule, "treasury")
    expect(Result.isFailure(remainder) && remainder.failure._tag).toBe("GenesisAccountTaken")
  })
})

describe("buildGenesis", () => {
  it("gives a genesis whose ledger holds the reserve and the total supply, and whose snapshot 1 is the first set", () => {
    const validators = ["v0", "v1"].map((operator, i) => ({ operator, address: `0x${String(i + 1).padStart(40, "0")}`, amount: 10_000n * TOKEN, tier: 0 as const, commission: WAD / 20n }))
    const g = Result.getOrThrow(buildGenesis({
      chainId: 5, time: 1_000, params: DEFAULT_PARAMS, validators,
      allocations: [...validators.map((v) => ({ address: v.operator, amount: v.amount + TOKEN })), { address: "t0", amount: 500n * TOKEN }],
      contributors: [{ owner: "t0", amount: 500n * TOKEN, tier: 0 }],
      reserve: { kind: "exactly", amount: REWARD_RESERVE_TOKENS },
    }))
    expect(g.rewardReserve).toBe(REWARD_RESERVE_ACCOUNT)
    expect(g.contributors).toHaveLength(1)
    expect(sum(g.allocations)).toBe(TOTAL_SUPPLY)
    expect(balance(g.allocations, REWARD_RESERVE_ACCOUNT)).toBe(REWARD_RESERVE_TOKENS)
    const { economy, app } = genesisReplica(g, verifySignature)
    expect(economy.balanceOf(REWARD_RESERVE_ACCOUNT)).toBe(REWARD_RESERVE_TOKENS)
    expect(economy.supply().minted).toBe(TOTAL_SUPPLY)
    // The replica's first set is the ledger's genesis snapshot: both validators, the trainer bonded.
    expect(app.validatorSet(1).validators.map((v) => v.address).sort()).toEqual(validators.map((v) => v.address.toLowerCase()).sort())
    expect(app.snapshotAt(1).trainers).toEqual([{ owner: "t0", stake: 500n * TOKEN }])
  })
})

import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY } from "../units.ts"
import { Economy } from "./economy.ts"
import { failTag, ok, testAllocations, testEconomy } from "./testkit.ts"

const genesisFail = (allocs: Array<{ address: string; amount: bigint }>) => {
  const r = Economy.genesis(allocs, DEFAULT_PARAMS, 0)
  if (Result.isSuccess(r)) throw new Error("expected failure")
  return r.failure
}

describe("genesis", () => {
  it("mints exactly the total supply over the allocations", () => {
    const e = ok(Economy.genesis([{ address: "a", amount: TOTAL_SUPPLY - 1n }, { address: "b", amount: 1n }], DEFAULT_PARAMS, 5))
    expect(e.balanceOf("a")).toBe(TOTAL_SUPPLY - 1n)
    expect(e.balanceOf("b")).toBe(1n)
    expect(e.balanceOf("nobody")).toBe(0n)
    expect(e.now).toBe(5)
    expect(e.supply()).toEqual({ minted: TOTAL_SUPPLY, balances: TOTAL_SUPPLY, bonded: 0n, unbonding: 0n, rewardPool: 0n, insurancePool: 0n, burnt: 0n })
  })

  it("refuses allocations that do not sum to the total supply", () => {
    const err = genesisFail([{ address: "a", amount: TOTAL_SUPPLY - 1n }])
    expect(err._tag).toBe("TokenInvalidAllocation")
    expect(err.message).toContain("off by -1")
    expect(genesisFail([{ address: "a", amount: TOTAL_SUPPLY + 1n }])._tag).toBe("TokenInvalidAllocation")
    expect(genesisFail([])._tag).toBe("TokenInvalidAllocation")
  })

  it("refuses zero or negative amounts, duplicates and empty addresses", () => {
    expect(genesisFail([{ address: "a", amount: TOTAL_SUPPLY }, { address: "b", amount: 0n }]).message).toContain("(b) has amount 0")
    expect(genesisFail([{ address: "a", amount: TOTAL_SUPPLY + 5n }, { address: "b", amount: -5n }])._tag).toBe("TokenInvalidAllocation")
    expect(genesisFail([{ address: "a", amount: TOTAL_SUPPLY - 5n }, { address: "a", amount: 5n }]).message).toContain("appears twice")
    expect(genesisFail([{ address: "", amount: TOTAL_SUPPLY }]).message).toContain("no address")
  })

  it("refuses an invalid genesis time", () => {
    expect(failTag(Economy.genesis(testAllocations(), DEFAULT_PARAMS, -1))).toBe("LedgerInvalidTime")
    expect(failTag(Economy.genesis(testAllocations(), DEFAULT_PARAMS, 1.5))).toBe("LedgerInvalidTime")
  })
})

describe("transfer", () => {
  it("moves tokens between accounts", () => {
    const e = testEconomy()
    const r = ok(e.apply({ type: "transfer", from: "d0", to: "new", amount: 3n * TOKEN }, 1))
    expect(r).toEqual({ type: "transfer", from: "d0", to: "new", amount: 3n * TOKEN })
    expect(e.balanceOf("d0")).toBe(999_997n * TOKEN)
    expect(e.balanceOf("new")).toBe(3n * TOKEN)
    expect(e.now).toBe(1)
  })

  it("allows moving the whole balance and sending to oneself", () => {
    const e = testEconomy()
    ok(e.apply({ type: "transfer", from: "d0", to: "d0", amount: 1_000_000n * TOKEN }, 0))
    expect(e.balanceOf("d0")).toBe(1_000_000n * TOKEN)
    ok(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1_000_000n * TOKEN }, 0))
    expect(e.balanceOf("d0")).toBe(0n)
    expect(e.snapshot().balances).not.toHaveProperty("d0")
  })

  it("refuses insufficient balance, saying by how much", () => {
    const e = testEconomy()
    const before = e.snapshot()
    const r = e.apply({ type: "transfer", from: "d0", to: "d1", amount: 1_000_000n * TOKEN + 1n }, 0)
    expect(failTag(r)).toBe("TokenInsufficientBalance")
    if (Result.isFailure(r)) expect(r.failure.message).toBe("d0 holds 1,000,000 tokens but needs 1,000,000.000000000000000001 tokens; it is short by 0.000000000000000001 tokens")
    expect(e.snapshot()).toEqual(before)
  })

  it("refuses zero, negative and non-bigint amounts, and empty addresses", () => {
    const e = testEconomy()
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 0n }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "d1", amount: -1n }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "d1", amount: 5 as unknown as bigint }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "transfer", from: "", to: "d1", amount: 1n }, 0))).toBe("TokenInvalidAddress")
    expect(failTag(e.apply({ type: "transfer", from: "d0", to: "", amount: 1n }, 0))).toBe("TokenInvalidAddress")
  })
})

describe("burn", () => {
  it("destroys tokens and accumulates them in burnt", () => {
    const e = testEconomy()
    expect(ok(e.apply({ type: "burn", from: "d0", amount: 10n }, 0))).toEqual({ type: "burn", from: "d0", burnt: 10n, totalBurnt: 10n })
    expect(ok(e.apply({ type: "burn", from: "d1", amount: 5n }, 0)).totalBurnt).toBe(15n)
    expect(e.supply().burnt).toBe(15n)
    expect(e.supply().balances).toBe(TOTAL_SUPPLY - 15n)
    expect(e.supply().minted).toBe(TOTAL_SUPPLY)
  })

  it("refuses more than the balance, zero, and an empty address", () => {
    const e = testEconomy()
    expect(failTag(e.apply({ type: "burn", from: "d0", amount: 1_000_001n * TOKEN }, 0))).toBe("TokenInsufficientBalance")
    expect(failTag(e.apply({ type: "burn", from: "ghost", amount: 1n }, 0))).toBe("TokenInsufficientBalance")
    expect(failTag(e.apply({ type: "burn", from: "d0", amount: 0n }, 0))).toBe("TokenInvalidAmount")
    expect(failTag(e.apply({ type: "burn", from: "", amount: 1n }, 0))).toBe("TokenInvalidAddress")
  })
})

describe("custody accounts", () => {
  it("hold what the committee and the market keep, and nobody sends from them by a plain transfer, burn or fee", async () => {
    const { CUSTODY_ACCOUNTS } = await import("./token.ts")
    const { FEE_ESCROW_ACCOUNT, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT } = await import("./index.ts")
    expect([...CUSTODY_ACCOUNTS].sort()).toEqual([FEE_ESCROW_ACCOUNT, MARKET_BONDS_ACCOUNT, MARKET_ESCROW_ACCOUNT].sort())
    const e = testEconomy()
    const before = e.snapshot()
    for (const op of [
      { type: "transfer", from: "market:escrow", to: "d0", amount: 1n },
      { type: "burn", from: "market:escrow", amount: 1n },
      { type: "payFee", payer: "market:escrow", amount: 1n },
    ] as const) expect(failTag(e.apply(op, 0))).toBe("TokenCustodyAccount")
    expect(e.snapshot()).toEqual(before)
  })
})

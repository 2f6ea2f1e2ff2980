/**
 * Who may send a transaction, over a real economy: a validator's signing key always (for its operator
 * account), a round's transactions a validator's key only, anyone else while its account holds
 * something — a balance, bonded stake, an unbonding entry or pending rewards.
 */
import { describe, expect, it } from "vitest"
import { ACTOR_BALANCE, ok, testEconomy } from "../econ/testkit.ts"
import { TOKEN } from "../units.ts"
import { senderRefusal, type StandingLedger } from "./standing.ts"

const V0_KEY = `0x${"0a".repeat(20)}`
const STRANGER = `0x${"5e".repeat(20)}`

/** The rule's view of a real economy, where V0_KEY signs for validator v0 (as the App maps it). */
const ledger = () => {
  const economy = testEconomy()
  const operators = new Map([[V0_KEY, "v0"]])
  const view: StandingLedger = { economy, accountOf: (s) => operators.get(s) ?? s, operatorOf: (a) => operators.get(a) }
  return { economy, view }
}

describe("sender standing", () => {
  it("refuses a key with no account until it receives something", () => {
    const { economy, view } = ledger()
    expect(senderRefusal(view, STRANGER, "stake")).toBe(`${STRANGER} has no account: no balance, stake, unbonding or rewards`)
    expect(senderRefusal(view, STRANGER, "score-commit")).toBeDefined()
    ok(economy.apply({ type: "transfer", from: "d0", to: STRANGER, amount: 1n }, 0))
    expect(senderRefusal(view, STRANGER, "stake")).toBeUndefined()
  })

  it("keeps an account whose tokens are all bonded, then unbonding, in standing", () => {
    const { economy, view } = ledger()
    const amount = 100n * TOKEN
    ok(economy.apply({ type: "transfer", from: "d0", to: STRANGER, amount }, 0))
    ok(economy.apply({ type: "bondContributor", owner: STRANGER, amount, tier: 0 }, 0))
    expect(economy.balanceOf(STRANGER)).toBe(0n)
    expect(senderRefusal(view, STRANGER, "stake")).toBeUndefined()
    const position = economy.positions(STRANGER)[0]!.id
    ok(economy.apply({ type: "unbond", owner: STRANGER, position, amount }, 1))
    expect(economy.unbonding(STRANGER)).toHaveLength(1)
    // It must still be able to withdraw what it unbonds.
    expect(senderRefusal(view, STRANGER, "stake")).toBeUndefined()
  })

  it("lets a validator's key send anything, and only a validator's key send a round's transactions", () => {
    const { economy, view } = ledger()
    ok(economy.apply({ type: "burn", from: "v0", amount: ACTOR_BALANCE }, 0))
    expect(economy.balanceOf("v0")).toBe(0n)
    for (const type of ["stake", "score-commit", "score-reveal", "round-result", "round-scores"] as const) expect(senderRefusal(view, V0_KEY, type)).toBeUndefined()
    ok(economy.apply({ type: "transfer", from: "d0", to: STRANGER, amount: 1n }, 0))
    expect(senderRefusal(view, STRANGER, "round-result")).toBe(`${STRANGER} is not a validator: only a validator sends a round-result`)
    expect(senderRefusal(view, STRANGER, "round-scores")).toBe(`${STRANGER} is not a validator: only a validator sends a round-scores`)
  })
})

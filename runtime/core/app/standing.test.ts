/**
 * Who may send a transaction, over a committee snapshot: a validator's signing key always (for its
 * operator account), a round's transactions a validator's key only, a score a bonded trainer too,
 * a stake operation nobody (it goes to the ledger).
 */
import { describe, expect, it } from "vitest"
import { senderRefusal, type StandingLedger } from "./standing.ts"

const V0_KEY = `0x${"0a".repeat(20)}`
const TRAINER = `0x${"7a".repeat(20)}`
const STRANGER = `0x${"5e".repeat(20)}`

/** The rule's view, where V0_KEY signs for validator v0 and TRAINER is bonded (as a snapshot lists them). */
const view: StandingLedger = (() => {
  const operators = new Map([[V0_KEY, "v0"]])
  const members = new Set(["v0", TRAINER])
  return { accountOf: (s) => operators.get(s) ?? s, operatorOf: (a) => operators.get(a), isMember: (a) => members.has(a) }
})()

describe("sender standing", () => {
  it("refuses a key that is neither a validator nor a bonded trainer", () => {
    expect(senderRefusal(view, STRANGER, "score-commit")).toBe(`${STRANGER} has no stake on the ledger: only bonded trainers and validators send a score-commit`)
    expect(senderRefusal(view, TRAINER, "score-commit")).toBeUndefined()
    expect(senderRefusal(view, TRAINER, "score-reveal")).toBeUndefined()
  })

  it("refuses every stake transaction: stake moves only on the ledger", () => {
    for (const who of [V0_KEY, TRAINER, STRANGER]) expect(senderRefusal(view, who, "stake")).toMatch(/^stake moves only on the ledger/)
  })

  it("lets a validator's key send the rest, and only a validator's key send a round's transactions", () => {
    for (const type of ["score-commit", "score-reveal", "round-result", "round-scores"] as const) expect(senderRefusal(view, V0_KEY, type)).toBeUndefined()
    expect(senderRefusal(view, TRAINER, "round-result")).toBe(`${TRAINER} is not a validator: only a validator sends a round-result`)
    expect(senderRefusal(view, TRAINER, "round-scores")).toBe(`${TRAINER} is not a validator: only a validator sends a round-scores`)
  })
})

import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { Scheduler, SimClock } from "../../sim/kernel/index.ts"
import { stakingMachine, type StakingInput } from "./staking.ts"

const DAY = 86_400_000

/** Start a position machine on the simulator's virtual clock; collect what it notifies. */
const start = (input: Partial<StakingInput> = {}) => {
  const scheduler = new Scheduler(input.now ?? 0)
  const clock = new SimClock(scheduler)
  const notes: string[] = []
  const machine = stakingMachine.provide({
    actions: {
      notifyUnlocked: (_, p) => void notes.push(`unlocked:${p.positionId}`),
      notifyWithdrawable: (_, p) => void notes.push(`withdrawable:${p.amount}`),
      notifyUnjailable: (_, p) => void notes.push(`unjailable:${p.pool}`),
    },
  })
  const actor = createActor(machine, {
    clock,
    input: { positionId: 1, owner: "alice", pool: "v0", isOperator: false, amount: 100n, unlockAt: 0, now: 0, ...input },
  })
  actor.start()
  const advance = (ms: number) => void scheduler.runUntil({ time: scheduler.now + ms })
  return { actor, notes, advance, at: () => scheduler.now }
}

describe("staking machine", () => {
  it("is locked until the lock ends, then unlocked", () => {
    const { actor, notes, advance } = start({ unlockAt: 30 * DAY })
    expect(actor.getSnapshot().matches({ stake: { bonded: "locked" } })).toBe(true)
    advance(30 * DAY - 1)
    expect(actor.getSnapshot().matches({ stake: { bonded: "locked" } })).toBe(true)
    advance(1)
    expect(actor.getSnapshot().matches({ stake: { bonded: "unlocked" } })).toBe(true)
    expect(notes).toEqual(["unlocked:1"])
  })

  it("starts unlocked without a lock", () => {
    const { actor } = start()
    expect(actor.getSnapshot().matches({ stake: { bonded: "unlocked" }, funds: "idle" })).toBe(true)
  })

  it("unbonds, waits the period, becomes withdrawable, and closes after the withdrawal", () => {
    const { actor, notes, advance } = start()
    actor.send({ type: "position.unbonded", at: 0, entryId: 7, amount: 100n, completesAt: 21 * DAY, remaining: 0n })
    expect(actor.getSnapshot().matches({ stake: "exited", funds: "unbonding" })).toBe(true)
    advance(21 * DAY - 1)
    expect(actor.getSnapshot().matches({ funds: "unbonding" })).toBe(true)
    advance(1)
    expect(actor.getSnapshot().matches({ funds: "withdrawable" })).toBe(true)
    expect(notes).toEqual(["withdrawable:100"])
    actor.send({ type: "position.withdrawn", at: 21 * DAY, entryIds: [7] })
    expect(actor.getSnapshot().status).toBe("done")
  })

  it("tracks several entries and only matured ones become withdrawable", () => {
    const { actor, notes, advance } = start({ amount: 300n })
    actor.send({ type: "position.unbonded", at: 0, entryId: 1, amount: 100n, completesAt: 10 * DAY, remaining: 200n })
    advance(5 * DAY)
    actor.send({ type: "position.unbonded", at: 5 * DAY, entryId: 2, amount: 50n, completesAt: 15 * DAY, remaining: 150n })
    advance(5 * DAY)
    expect(actor.getSnapshot().matches({ stake: { bonded: "unlocked" }, funds: "withdrawable" })).toBe(true)
    expect(notes).toEqual(["withdrawable:100"])
    actor.send({ type: "position.withdrawn", at: 10 * DAY, entryIds: [1] })
    expect(actor.getSnapshot().matches({ funds: "unbonding" })).toBe(true)
    advance(5 * DAY)
    expect(notes).toEqual(["withdrawable:100", "withdrawable:50"])
    expect(actor.getSnapshot().context.bonded).toBe(150n)
  })

  it("serves a jail term, then lets the operator ask to be unjailed", () => {
    const { actor, notes, advance } = start({ isOperator: true, owner: "v0" })
    actor.send({ type: "validator.jailed", at: 0, until: 600_000 })
    expect(actor.getSnapshot().matches({ stake: { jailed: "serving" } })).toBe(true)
    advance(600_000)
    expect(actor.getSnapshot().matches({ stake: { jailed: "unjailable" } })).toBe(true)
    expect(notes).toEqual(["unjailable:v0"])
    actor.send({ type: "validator.unjailed", at: 600_000 })
    expect(actor.getSnapshot().matches({ stake: { bonded: "unlocked" } })).toBe(true)
  })

  it("is tombstoned for good, but its owner can still unbond", () => {
    const { actor } = start()
    actor.send({ type: "validator.tombstoned", at: 0 })
    actor.send({ type: "validator.unjailed", at: 1 })
    expect(actor.getSnapshot().matches({ stake: "tombstoned" })).toBe(true)
    actor.send({ type: "position.unbonded", at: 1, entryId: 1, amount: 95n, completesAt: 2, remaining: 0n })
    expect(actor.getSnapshot().matches({ stake: "exited" })).toBe(true)
  })

  it("exits when slashed to nothing and records the loss", () => {
    const { actor } = start()
    actor.send({ type: "position.slashed", at: 0, amount: 100n, remaining: 0n })
    expect(actor.getSnapshot().context.slashed).toBe(100n)
    expect(actor.getSnapshot().status).toBe("done")
  })

  it("property: never withdrawable before an entry's completion time; always after it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ wait: fc.integer({ min: 0, max: 10 * DAY }), amount: fc.bigInt({ min: 1n, max: 1000n }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 30 * DAY }),
        (steps, period) => {
          const total = steps.reduce((s, x) => s + x.amount, 0n)
          const { actor, advance, at } = start({ amount: total })
          // Every entry is matured exactly when its completion time has passed.
          const check = () => {
            for (const e of actor.getSnapshot().context.entries) expect(e.matured).toBe(e.completesAt <= at())
          }
          let remaining = total
          steps.forEach((s, i) => {
            advance(s.wait)
            check()
            remaining -= s.amount
            actor.send({ type: "position.unbonded", at: at(), entryId: i, amount: s.amount, completesAt: at() + period, remaining })
            check()
          })
          advance(period - 1)
          check()
          advance(1)
          check()
          expect(actor.getSnapshot().matches({ funds: "withdrawable" })).toBe(true)
        },
      ),
      { numRuns: Number(process.env.DAI_PROPERTY_RUNS ?? 200) },
    )
  })
})

/**
 * Test support for the market machines' tests (market.test.ts, market.property.test.ts,
 * market-provider.test.ts); production code never imports it. What they share: virtual time that
 * runs each timer at its own due time, the parameters of a job, and the log of the commands a
 * machine's provided actions issue.
 *
 * The time is the simulator's scheduler (sim/kernel, as consensus.test.ts uses it): XState's own
 * SimulatedClock runs every timer due within a jump at the end of the jump, so chained timers would drift.
 */
import { Scheduler, SimClock } from "../../sim/kernel/index.ts"
import { expect } from "vitest"
import { verifyEvidence } from "../core/consensus/evidence.ts"
import { CHAIN_ID, type SimNet } from "../../sim/harness/consensus.ts"
import fc from "fast-check"

export const NO_SHOW = 10_000
export const WINDOW = 5_000
export const DEADLINE = 100_000

/** The most timers one test's time runs; past it the run is taken for a livelock and no more fire. */
export const TIMER_BUDGET = 100_000

/** Virtual time for a machine under test. */
export interface VirtualTime {
  /** The clock to give `createActor` (and to set a test's own timers on). */
  readonly clock: SimClock
  readonly now: () => number
  /** Run every timer due by `t` (ties in the order they were set), then stand at `t`; stops once TIMER_BUDGET timers have fired. */
  readonly runUntil: (t: number) => void
  /** How many timers have fired; more than TIMER_BUDGET means the run livelocked. */
  readonly fired: () => number
}

/** Virtual time starting at 0. */
export const virtualTime = (): VirtualTime => {
  const scheduler = new Scheduler()
  let fired = 0
  const runUntil = (t: number) => {
    const time = Math.max(t, scheduler.now)
    const r = scheduler.runUntil({ time, maxEvents: Math.max(0, TIMER_BUDGET - fired) })
    fired += r.events
    if (r.reason !== "maxEvents") return
    const next = scheduler.peek()
    if (next !== undefined && next.time <= time) fired++ // one more was due: a livelock, its timers stop here
    else scheduler.runUntil({ time }) // nothing more was due: stand at `t`
  }
  return { clock: new SimClock(scheduler), now: () => scheduler.now, runUntil, fired: () => fired }
}

/** An event as a test sends it: without the ledger time `at`, which the test stamps from its clock. */
export type Unstamped<E> = E extends unknown ? Omit<E, "at"> : never

/** A command a machine's provided action issued: the action's name as `op`, with its params. */
export type Command = { readonly op: string } & Record<string, unknown>

/** The log of the commands a machine issues: `record(op)` is an action that appends its params as `op`. */
export const commandLog = () => {
  const commands: Command[] = []
  const record = (op: string) => (_: unknown, p: object) => void commands.push({ op, ...p })
  /** The last command `op`, if any. */
  const last = (op: string) => commands.filter((c) => c.op === op).at(-1)
  return { commands, record, last }
}

/**
 * Consensus: the checks every fault-schedule property of the consensus harness makes after a partition heals
 * (consensus.property.test.ts over gossip, consensus.aggregation.test.ts over vote certificates):
 * no safety violation, every live node three heights past the highest decided at the heal, every
 * piece of evidence valid against the validator set, only equivocators accused, every exposed one.
 */
export const expectHealedRun = (net: SimNet, o: {
  readonly healAt: number
  /** Indices of the equivocating nodes. */
  readonly byzantine: readonly number[]
  /** Whether every equivocator must be accused, or only those whose twin votes some honest node saw. */
  readonly everyEquivocatorReported: boolean
}): void => {
  net.run(o.healAt)
  expect(net.safetyViolations).toEqual([])
  const target = Math.max(...net.nodes.map((n) => n.decidedHeight)) + 3
  const live = net.nodes.filter((n) => !n.silent)
  const equivocators = o.byzantine.map((i) => net.nodes[i]!.address)
  const reported = () => (!o.everyEquivocatorReported || equivocators.every((a) => net.accused.has(a))) && [...net.exposed].every((a) => net.accused.has(a))
  net.run(o.healAt + 60_000, () => live.every((n) => n.decidedHeight >= target) && reported())

  expect(net.safetyViolations).toEqual([])
  for (const n of net.honestNodes()) {
    if (!n.silent) expect(n.decidedHeight, `${n.name} after the heal`).toBeGreaterThanOrEqual(target)
  }
  const set = net.validatorsAt(1)
  for (const n of net.honestNodes()) for (const e of n.evidence) expect(verifyEvidence(e, CHAIN_ID, set)).toEqual({ valid: true })
  for (const a of net.accused) expect(equivocators, `accused ${a}`).toContain(a)
  for (const a of net.exposed) expect(net.accused.has(a), `exposed equivocator ${a} reported`).toBe(true)
}

/**
 * A consensus fault schedule within the fault model: 4–7 validators of power 1–5, each given a kind
 * drawn from `kinds` (weights by repetition) while the faulty power stays below a third of the total
 * ("honest" otherwise), message loss, latency, and an optional two-sided partition healing at `healAt`.
 */
export const faultSchedule = <K extends string>(kinds: readonly (K | "honest")[]) =>
  fc
    .record({
      seed: fc.nat({ max: 1_000_000 }),
      powers: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 7 }),
      faulty: fc.array(fc.constantFrom<K | "honest">(...kinds), { minLength: 7, maxLength: 7 }),
      healAt: fc.integer({ min: 0, max: 6_000 }),
      drop: fc.integer({ min: 0, max: 60 }),
      split: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      latencyMin: fc.integer({ min: 1, max: 20 }),
      latencySpread: fc.integer({ min: 0, max: 80 }),
    })
    .map((s) => {
      const total = s.powers.reduce((a, b) => a + b, 0)
      // Keep faults while their power stays below a third of the total.
      let faultyPower = 0
      const kinds = s.powers.map((p, i): K | "honest" => {
        const kind = s.faulty[i]!
        if (kind === "honest" || 3 * (faultyPower + p) >= total) return "honest"
        faultyPower += p
        return kind
      })
      const n = s.powers.length
      const split = s.split === undefined ? undefined : Math.min(s.split, n - 1)
      return { ...s, kinds, partition: split === undefined ? undefined : [[...Array(split).keys()], [...Array(n - split).keys()].map((i) => i + split)] }
    })


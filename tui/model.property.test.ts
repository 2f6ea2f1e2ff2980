/** Random telemetry (well-formed or not) never makes the reducer throw or outgrow its bounds. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { initialModel, LIMITS, reduce, type ViewModel } from "./model.ts"
import { items, size } from "./ring.ts"
import { governanceScreen } from "./screens/governance.ts"
import { logScreen } from "./screens/log.ts"
import { overviewScreen } from "./screens/overview.ts"
import { trainingScreen } from "./screens/training.ts"
import { validatorsScreen } from "./screens/validators.ts"

const KINDS = [
  "node.started", "block.committed", "consensus.step", "peers", "peer.connected", "peer.disconnected", "validators",
  "stake.position", "rewards", "stake.slashed", "training.round.opened", "training.round.progress", "training.round.completed",
  "governance.proposal", "governance.vote", "log", "consensus.log", "node.error", "net.deliver", "x.unknown",
]
const FIELDS = ["height", "round", "step", "count", "address", "proposer", "hash", "txs", "slashed", "validators", "stake", "rewards", "apr", "pool", "amount", "cohort", "received", "accuracy", "loss", "myScore", "epsilon", "id", "title", "state", "forVotes", "againstVotes", "choice", "votes", "voter", "level", "message", "power", "jailed"]

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.integer({ min: -5, max: 50 }),
    fc.double(),
    fc.bigInt(),
    fc.constantFrom("0xa", "0xb", "v1", "Active", "yes", "no", "", "{bold}", "123"),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 4 }),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie("v"), { maxKeys: 5 }),
  ),
})).v

const event: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    at: fc.oneof(fc.nat(), fc.double()),
    node: fc.constantFrom("v0", "v1", "v2", ""),
    kind: fc.constantFrom(...KINDS),
    data: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }),
  }),
  value, // not even an event
)

const invariants = (m: ViewModel) => {
  expect(size(m.log)).toBeLessThanOrEqual(LIMITS.log)
  expect(items(m.log).length).toBeLessThanOrEqual(LIMITS.log)
  expect(m.log.old.length + m.log.recent.length).toBeLessThanOrEqual(LIMITS.log + 64)
  expect(items(m.training.history).length).toBeLessThanOrEqual(LIMITS.rounds)
  expect(m.validators.length).toBeLessThanOrEqual(LIMITS.validators)
  expect(m.proposals.length).toBeLessThanOrEqual(LIMITS.proposals)
  expect(Number.isFinite(m.now)).toBe(true)
  expect(m.height).toBeGreaterThanOrEqual(0)
  // Chart rounds strictly increase: one point per round, oldest first.
  const rounds = items(m.training.history).map((p) => p.round)
  expect(rounds).toEqual([...rounds].sort((a, b) => a - b).filter((r, i, a) => i === 0 || a[i - 1] !== r))
}

describe("reduce under random events", () => {
  it("never throws, counts every event, keeps its bounds", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let m = initialModel()
        for (const e of events) m = reduce(m, e as TelemetryEvent)
        expect(m.events).toBe(events.length)
        invariants(m)
        // Whatever the model holds, every screen draws it.
        for (const screen of [overviewScreen, validatorsScreen, trainingScreen, governanceScreen, logScreen]) {
          expect(typeof screen(m, { width: 78, height: 22, selected: 0 })).toBe("string")
        }
      }),
      { numRuns: 300 },
    )
  })

  it("keeps its bounds over long runs", () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 600, maxLength: 900 }), (events) => {
        let m = initialModel()
        for (const e of events) m = reduce(m, e as TelemetryEvent)
        invariants(m)
      }),
      { numRuns: 5 },
    )
  })
})

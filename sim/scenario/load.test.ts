import { describe, expect, it } from "vitest"
import { FileError } from "./decode-file.ts"
import { parseScenario } from "./load.ts"

const base = `name: t
network: { validators: 4 }
until: { height: 10 }
`

const error = (text: string, file = "x.yaml"): FileError => {
  try {
    parseScenario(text, file)
  } catch (e) {
    if (e instanceof FileError) return e
    throw e
  }
  throw new Error("expected a FileError")
}

describe("scenario loader", () => {
  it("takes a trainer stake (default 0) and refuses one without trainers or below the contributor minimum", () => {
    expect(parseScenario(base, "x.yaml").trainerStake).toBe(0)
    expect(parseScenario("name: t\nnetwork: { validators: 4, trainers: 2, trainerStake: 5000 }\nuntil: { height: 10 }\n", "x.yaml").trainerStake).toBe(5000)
    expect(error("name: t\nnetwork: { validators: 4, trainerStake: 5000 }\nuntil: { height: 10 }\n")).toMatchObject({ key: "network.trainerStake" })
    const low = error("name: t\nnetwork: { validators: 4, trainers: 2, trainerStake: 50 }\nuntil: { height: 10 }\n")
    expect(low).toMatchObject({ key: "network.trainerStake" })
    expect(low.reason).toMatch(/below staking.minContributorBond \(100\)/)
    expect(error("name: t\nnetwork: { validators: 4, trainers: 2, trainerStake: -1 }\nuntil: { height: 10 }\n").key).toBe("network.trainerStake")
  })

  it("loads the example of scenarios/README.md", () => {
    const s = parseScenario(`name: equivocating-validator
description: one validator double-signs from height 5
seed: 42
network:
  validators: 7
  trainers: 0
  stake: 1000
  latency: { min: 10ms, max: 80ms }
  drop: 0
params:
  slashing.doubleSignFraction: 0.05
until: { height: 60, maxTime: 1h }
events:
  - at: { height: 5 }
    byzantine: { nodes: [v0], behavior: equivocate }
  - at: { time: 30s }
    partition: [[v0, v1, v2], [v3, v4, v5, v6]]
  - at: { time: 90s }
    heal: true
  - at: { time: 40s }
    crash: v3
  - at: { time: 50s }
    restart: v3
expect:
  safety: true
  minHeight: 40
  slashed: [v0]
  honestNotSlashed: true
  supplyConserved: true
`, "eq.yaml")
    expect(s.validators).toHaveLength(7)
    expect(s.seed).toBe(42)
    expect(s.until).toEqual({ height: 60, maxTime: 3_600_000 })
    expect(s.params["slashing.doubleSignFraction"]).toBe(0.05)
    expect(s.events.map((e) => e.action.type)).toEqual(["byzantine", "partition", "heal", "crash", "restart"])
    expect(s.events[1]!.at).toEqual({ time: 30_000 })
    expect(s.stake).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000])
  })

  it("takes up to 1,000 validators (the consensus bench's largest network)", () => {
    const s = parseScenario("name: big\nnetwork: { validators: 1000 }\nuntil: { height: 3 }\n", "big.yaml")
    expect(s.validators).toHaveLength(1000)
    expect(s.validators.at(-1)).toBe("v999")
    expect(s.stake).toHaveLength(1000)
  })

  it.each([
    [`${base}bogus: 1\n`, "bogus", /unknown key/],
    [base.replace("validators: 4", "validators: 4, extra: 1"), "network.extra", /unknown key/],
    [base.replace("validators: 4", "validators: 0"), "network.validators", /whole number from 1/],
    [base.replace("validators: 4", "validators: 1001"), "network.validators", /whole number from 1 to 1000, got 1001/],
    [`${base}events:\n  - at: { time: 3 parsecs }\n    heal: true\n`, "events[0].at.time", /duration/],
    [`${base}events:\n  - at: { time: 1s }\n    crash: v9\n`, "events[0].crash", /unknown node "v9"/],
    [`${base}events:\n  - at: { time: 1s }\n    byzantine: { nodes: [v1], behavior: dance }\n`, "events[0].byzantine.behavior", /unknown behaviour "dance"/],
    [`${base}events:\n  - at: { time: 1s }\n    heal: true\n    crash: v1\n`, "events[0]", /exactly one of/],
    [`${base}params:\n  slashing.doubleSignFraction: 2\n`, "params.slashing.doubleSignFraction", /outside the constitution's bounds/],
    [`${base}params:\n  no.such: 1\n`, "params.no.such", /unknown parameter/],
    [base.replace("until: { height: 10 }", "until: { height: 10, time: 1m }"), "until", /exactly one of/],
    [`${base}expect: { slashed: [x1] }\n`, "expect.slashed", /unknown node "x1"/],
    [base.replace("validators: 4", "validators: 4, stake: [1, 2]"), "network.stake", /one stake per validator/],
    [`${base}events:\n  - at: { time: 1s }\n    partition: [[v0, v1], [v1, v2]]\n`, "events[0].partition[1][0]", /two groups/],
  ])("rejects bad input naming the file and key (%#)", (text, key, reason) => {
    const e = error(text)
    expect(e.file).toBe("x.yaml")
    expect(e.key).toBe(key)
    expect(e.message).toMatch(reason)
    expect(e.message.startsWith(`x.yaml: ${key}: `)).toBe(true)
  })

  it("takes govern, join and leave events and the params and validators expectations of the one ledger", () => {
    const s = parseScenario(`${base}params: { governance.votingPeriod: 1h }
events:
  - at: { time: 10s }
    govern: { consensus.timeoutCommit: 2s }
  - at: { time: 20s }
    join: { node: v4, stake: 2000 }
  - at: { time: 30s }
    join: { node: v5, stake: 1500 }
  - at: { time: 40s }
    leave: v1
expect:
  params: { consensus.timeoutCommit: 2s }
  validators: { includes: [v4, v5], excludes: [v1] }
`, "x.yaml")
    expect(s.joiners).toEqual(["v4", "v5"])
    expect(s.events.map((e) => e.action)).toEqual([
      { type: "govern", name: "consensus.timeoutCommit", value: 2_000 },
      { type: "join", node: "v4", stake: 2000 },
      { type: "join", node: "v5", stake: 1500 },
      { type: "leave", node: "v1" },
    ])
    expect(s.expect.params).toEqual({ "consensus.timeoutCommit": 2_000 })
    expect(s.expect.validators).toEqual({ includes: ["v4", "v5"], excludes: ["v1"] })
  })

  it.each([
    [`${base}events:\n  - at: { time: 1s }\n    govern: { a.b: 1, c.d: 2 }\n`, "events[0].govern", /exactly one parameter/],
    [`${base}events:\n  - at: { time: 1s }\n    govern: { slashing.downtimeWindow: 5 }\n`, "events[0].govern.slashing.downtimeWindow", /.+/],
    [`${base}events:\n  - at: { time: 1s }\n    join: { node: v7, stake: 2000 }\n`, "events[0].join.node", /expected "v4", got "v7"/],
    [`${base}events:\n  - at: { time: 1s }\n    join: { node: v4, stake: 1 }\n`, "events[0].join.stake", /below staking.minValidatorBond/],
    [`${base}events:\n  - at: { time: 1s }\n    leave: v9\n`, "events[0].leave", /unknown node "v9"/],
    [`${base}events:\n  - at: { time: 1s }\n    leave: v1\n    crash: v2\n`, "events[0]", /exactly one of .* \(got crash, leave\)/],
    [`${base}expect: { validators: { includes: [v4] } }\n`, "expect.validators.includes[0]", /unknown node "v4"/],
    [`${base}expect: { params: { slashing.downtimeWindow: 1 } }\n`, "expect.params.slashing.downtimeWindow", /.+/],
  ])("refuses a bad govern, join, leave or expectation naming the key (%#)", (text, key, reason) => {
    const e = error(text)
    expect(e.key).toBe(key)
    expect(e.message).toMatch(reason)
  })

  it("rejects malformed YAML and JSON", () => {
    expect(error("name: [", "a.yaml").message).toMatch(/^a\.yaml: not valid YAML/)
    expect(error("{", "a.json").message).toMatch(/^a\.json: not valid JSON/)
    expect(error("- 1\n- 2\n").message).toMatch(/expected a mapping/)
  })
})

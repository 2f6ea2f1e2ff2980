import { describe, expect, it } from "vitest"
import { tokens } from "../runtime/core/units.ts"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { initialModel, LIMITS, reduce, reduceAll, type ViewModel } from "./model.ts"
import { items, last } from "./ring.ts"
import { sampleEvents } from "./testkit.ts"
import { overviewScreen } from "./screens/overview.ts"
import { validatorsScreen } from "./screens/validators.ts"

const ev = (kind: string, data: Record<string, unknown>, node = "v0", at = 1): TelemetryEvent => ({ at, node, kind, data })
const run = (...events: TelemetryEvent[]): ViewModel => reduceAll(initialModel("v0"), events)
const logTexts = (m: ViewModel) => items(m.log).map((l) => l.text)

describe("reduce", () => {
  it("takes the first node seen as self when none is given", () => {
    const m = reduceAll(initialModel(), [ev("peers", { count: 2 }, "v2"), ev("peers", { count: 9 }, "v3")])
    expect(m.self).toBe("v2")
    expect(m.peers).toBe(2)
  })

  it("node.started: names addresses, and our own address and height", () => {
    const m = run(ev("node.started", { address: "0xaa", height: 4 }), ev("node.started", { address: "0xbb", height: 9 }, "v1"))
    expect(m.address).toBe("0xaa")
    expect(m.height).toBe(4)
    expect(m.names).toEqual({ "0xaa": "v0", "0xbb": "v1" })
  })

  it("block.committed: height, round, last block, proposer count; other nodes' commits are ignored", () => {
    const m = run(
      ev("node.started", { address: "0xbb" }, "v1"),
      ev("block.committed", { height: 7, round: 2, hash: "0x01", proposer: "0xbb", txs: 3, slashed: [] }),
      ev("block.committed", { height: 8, round: 0, hash: "0x02", proposer: "0xbb", txs: 1, slashed: [] }, "v1"),
    )
    expect(m.height).toBe(7)
    expect(m.round).toBe(2)
    expect(m.lastBlock).toEqual({ hash: "0x01", proposer: "0xbb", txs: 3, at: 1 })
    expect(m.validators).toMatchObject([{ id: "0xbb", name: "v1", proposed: 1 }])
    expect(logTexts(m)).toContain("block 7 committed by v1, 3 txs")
  })

  it("a stale commit never lowers the height", () => {
    const m = run(ev("block.committed", { height: 9 }), ev("block.committed", { height: 3 }))
    expect(m.height).toBe(9)
  })

  it("consensus.step: round and step, not a log line", () => {
    const m = run(ev("consensus.step", { height: 5, round: 1, step: "precommit" }))
    expect([m.round, m.step, m.height]).toEqual([1, "precommit", 4])
    expect(logTexts(m)).toEqual([])
  })

  it("peers, peer.connected and peer.disconnected keep a count that never goes negative", () => {
    expect(run(ev("peers", { count: 5 })).peers).toBe(5)
    expect(run(ev("peer.connected", { peer: "a" }), ev("peer.connected", { peer: "b" }), ev("peer.disconnected", { peer: "a" })).peers).toBe(1)
    expect(run(ev("peer.disconnected", {})).peers).toBe(0)
  })

  it("validators: replaces the rows, sorted by power, keeping our proposer and slash counters", () => {
    const m = run(
      ev("block.committed", { height: 1, proposer: "0xa" }),
      ev("validators", { validators: [
        { address: "0xa", power: 10, stake: "5000000000000000000", contribution: 0.5, missed: 2, jailed: false },
        { address: "0xb", name: "v1", power: 30, stake: tokens(9), jailed: true },
        { power: 99 }, // no id: skipped
        "junk",
      ] }),
    )
    expect(m.validators.map((v) => [v.id, v.name, v.power, v.stake, v.jailed, v.proposed])).toEqual([
      ["0xb", "v1", 30, tokens(9), true, 0],
      ["0xa", undefined, 10, tokens(5), false, 1],
    ])
    expect(m.validators[1]!.missed).toBe(2)
  })

  it("stake.position and rewards: my stake, rewards and APR, from my node only", () => {
    const m = run(ev("stake.position", { stake: tokens(100), rewards: tokens(2), apr: 0.1 }), ev("rewards", { rewards: tokens(3) }), ev("stake.position", { stake: tokens(999) }, "v1"))
    expect([m.myStake, m.rewards, m.apr]).toEqual([tokens(100), tokens(3), 0.1])
  })

  it("stake.position per position: the staking machine's state, newest first, one entry per position", () => {
    const m = run(
      ev("stake.position", { position: 0, pool: "v0", state: "bonded, locked until day 30" }),
      ev("stake.position", { position: 1, pool: "v0", state: "bonded" }),
      ev("stake.position", { position: 0, pool: "v0", state: "unbonding 500 DAI" }),
      ev("stake.position", { position: 2, state: "bonded" }, "v1"),
    )
    expect(m.positions).toEqual([{ id: "0", state: "unbonding 500 DAI" }, { id: "1", state: "bonded" }])
    expect(m.myStake).toBeUndefined()
  })

  it("stake.slashed: a slash every node reports after its commit counts once; another height counts again", () => {
    const slash = (node: string) => ev("stake.slashed", { pool: "0xc", infraction: "downtime", amount: 5n }, node)
    const commit = (node: string, height: number) => ev("block.committed", { height, slashed: ["0xc"] }, node)
    const m = run(commit("v0", 3), slash("v0"), commit("v1", 3), slash("v1"), commit("v2", 3), slash("v2"), commit("v1", 9), slash("v1"), commit("v0", 9), slash("v0"))
    expect(m.validators).toMatchObject([{ id: "0xc", jailed: true, slashed: 10n }])
    expect(logTexts(m).filter((t) => t.includes("slashed (downtime)"))).toHaveLength(2)
    // A height or evidence id in the event dates it without a commit.
    expect(run(ev("stake.slashed", { pool: "0xc", height: 4, amount: 5n }), ev("stake.slashed", { pool: "0xc", height: 4, amount: 5n }, "v1")).validators[0]!.slashed).toBe(5n)
  })

  it("stake.slashed: marks the pool jailed and adds up what was slashed", () => {
    const m = run(ev("stake.slashed", { pool: "0xc", infraction: "doubleSign", amount: 5n, tombstoned: true }), ev("stake.slashed", { pool: "0xc", amount: 7n }))
    expect(m.validators).toMatchObject([{ id: "0xc", jailed: true, slashed: 12n }])
    expect(logTexts(m)[0]).toBe("0xc slashed (doubleSign), tombstoned")
  })

  it("training rounds: progress, my score, epsilon, and one chart point per completed round", () => {
    const m = run(
      ev("training.round.opened", { round: 1, cohort: 5 }),
      ev("training.round.progress", { round: 1, received: 3 }),
      ev("training.round.completed", { round: 1, accuracy: 0.6, loss: 1.2, myScore: 0.3, epsilon: 1.5 }),
      ev("training.round.completed", { round: 1, accuracy: 0.61 }, "v1"), // same round again, another node
      ev("training.round.opened", { round: 2, cohort: 4 }),
      ev("training.round.completed", { round: 0, accuracy: 0.1 }, "v3"), // old round: ignored
    )
    const t = m.training
    expect([t.round, t.state, t.cohort, t.received, t.myScore, t.epsilon]).toEqual([2, "open", 4, 0, 0.3, 1.5])
    expect(items(t.history)).toEqual([{ round: 1, accuracy: 0.61, loss: 1.2 }])
  })

  it("governance: proposals upserted by id, tallies set by the event or added by a vote", () => {
    const m = run(
      ev("node.started", { address: "0xme" }),
      ev("governance.proposal", { id: 3, title: "Raise the quorum", state: "Active", forVotes: 10n, againstVotes: 4n }),
      ev("governance.vote", { id: 3, voter: "0xme", choice: "no", votes: 6n }),
      ev("governance.vote", { id: 3, voter: "0xother", choice: "yes", votes: 100n }, "v1"), // another node's report, no tallies: not counted twice
      ev("governance.vote", { proposal: "x", support: true, forVotes: "7", againstVotes: "1" }),
      ev("governance.proposal", { id: 3, state: "Queued" }),
    )
    expect(m.proposals).toEqual([
      { id: 3, title: "Raise the quorum", state: "Queued", forVotes: 10n, againstVotes: 10n, abstainVotes: 0n, endsAt: undefined, myVote: "no" },
      { id: "x", title: "proposal x", state: "Active", forVotes: 7n, againstVotes: 1n, abstainVotes: 0n, endsAt: undefined, myVote: undefined },
    ])
  })

  it("a governance event without an id is a warning in the log", () => {
    const m = run(ev("governance.vote", { choice: "yes" }))
    expect(m.proposals).toEqual([])
    expect(items(m.log)[0]).toMatchObject({ level: "warn" })
  })

  it("log, consensus.log and node.error become log lines with their level", () => {
    const m = run(ev("log", { level: "warn", message: "slow peer" }), ev("consensus.log", { level: "bogus", message: "x" }), ev("node.error", { action: "decide", error: "disk full" }))
    expect(items(m.log).map((l) => [l.level, l.text])).toEqual([["warn", "slow peer"], ["info", "x"], ["error", "decide: disk full"]])
  })

  it("unknown kinds go to the log with their fields", () => {
    const m = run(ev("net.deliver", { from: "v1", topic: "consensus", bytes: 120 }))
    expect(last(m.log)).toMatchObject({ level: "debug", node: "v0", text: "net.deliver from=v1 topic=consensus bytes=120" })
  })

  it("a round is one log line when committed; its reveal adds a line only for my score; restored rounds only fill the chart", () => {
    const m = run(
      ev("training.round.completed", { round: 3, received: 4, accuracy: 0.79 }),
      ev("training.round.completed", { round: 3, received: 4, accuracy: 0.79, revealed: true }, "v1"),
      ev("training.round.completed", { round: 3, received: 4, accuracy: 0.79, revealed: true, myScore: 0.906 }),
      ev("training.round.completed", { round: 4, accuracy: 0.8, restored: true }),
    )
    expect(logTexts(m)).toEqual(["training round 3 completed, accuracy 79.0 %", "training round 3 scores revealed: my score 0.906"])
    expect(items(m.training.history).map((p) => p.round)).toEqual([3, 4])
    expect(m.training.round).toBe(4)
  })

  it("known kinds read as sentences, not raw fields", () => {
    const m = run(
      ev("node.started", { address: "0xbb" }, "v2"),
      ev("training.started", { backend: "wasm", dataset: "mnist", model: "mlp", shard: 0, shards: 4, samples: 600 }),
      ev("training.update.sent", { round: 2, samples: 600, loss: 1.5859701522191365, coordinator: "0xbb" }),
      ev("training.round.aborted", { round: 5, reason: "too few updates" }),
    )
    expect(logTexts(m).slice(1)).toEqual([
      "training on mnist (mlp, shard 1 of 4, 600 samples), backend wasm",
      "trained round 2 on 600 samples, loss 1.586; update sent to v2",
      "training round 5 aborted: too few updates",
    ])
    expect(last(m.log)!.level).toBe("warn")
  })

  it("malformed events and fields never throw", () => {
    const weird = [null, 3, { kind: 5 }, { kind: "block.committed", data: null }, { at: Number.NaN, kind: "validators", data: { validators: "no" } }, { kind: "stake.position", data: { stake: "1.5", apr: "high" } }]
    let m = initialModel("v0")
    for (const w of weird) m = reduce(m, w as unknown as TelemetryEvent)
    expect(m.events).toBe(weird.length)
    expect(m.myStake).toBeUndefined()
    expect(m.apr).toBeUndefined()
  })

  it("the log keeps only the newest lines", () => {
    const events = Array.from({ length: LIMITS.log + 130 }, (_, i) => ev("log", { message: `line ${i}` }))
    const log = items(run(...events).log)
    expect(log.length).toBe(LIMITS.log)
    expect(log.at(-1)!.text).toBe(`line ${LIMITS.log + 129}`)
    expect(log[0]!.text).toBe("line 130")
  })

  it("does not mutate the model it is given", () => {
    const before = run(...sampleEvents().slice(0, 10))
    const frozen = JSON.stringify(before, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))
    reduceAll(before, sampleEvents())
    expect(JSON.stringify(before, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))).toBe(frozen)
  })
})

describe("screen hints", () => {
  it("validators: while every contribution reads 0, say why; once one counts, no hint", () => {
    const rows = (contribution: number) => validatorsScreen(run(ev("validators", { validators: [{ address: "0xa", power: 1, contribution }, { address: "0xb", power: 1, contribution: 0 }] })), { width: 90, height: 10, selected: 0 })
    expect(rows(0)).toMatch(/contrib: training scores count in voting power two epochs after they are/)
    expect(rows(0)).toMatch(/reads 0\.000 for a new network's first two epochs/)
    expect(rows(0.4)).not.toMatch(/two epochs/)
  })

  it("overview: a completed round without a cohort size reads 'N updates', not 'N/—'", () => {
    const text = overviewScreen(run(ev("training.round.completed", { round: 2, received: 4, accuracy: 0.7 })), { width: 90, height: 12, selected: 0 })
    expect(text).toMatch(/round 2 completed, 4 updates, accuracy 70\.0 %/)
  })
})

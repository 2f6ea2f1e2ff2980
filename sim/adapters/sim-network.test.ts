import { describe, expect, it } from "vitest"
import { Prng, toRatio } from "../kernel/prng.ts"
import { Scheduler } from "../kernel/scheduler.ts"
import { SimNetwork, type NetworkEvent, type SimNetworkOptions } from "./sim-network.ts"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

interface Received {
  t: number
  from: string
  to: string
  topic: string
  msg: string
}

/** A network of `ids` whose nodes log what they receive; `events` logs what the observer sees. */
function setup(ids: string[], options: SimNetworkOptions = {}, seed = 1) {
  const scheduler = new Scheduler()
  const events: NetworkEvent[] = []
  const net = new SimNetwork({ scheduler, prng: Prng.fromSeed(seed).child("network"), observer: (e) => events.push(e) }, options)
  const received: Received[] = []
  for (const id of ids) {
    net.register(id, { onMessage: (from, topic, data) => received.push({ t: scheduler.now, from, to: id, topic, msg: text(data) }) })
  }
  return { scheduler, net, received, events }
}

describe("SimNetwork", () => {
  it("delivers direct messages within the latency bounds", () => {
    const { scheduler, net, received } = setup(["a", "b"], { latency: { min: 20, max: 30 } })
    for (let i = 0; i < 2000; i++) scheduler.at(i, () => net.send("a", "b", "ping", bytes(`${i}`)))
    scheduler.runUntil()
    expect(received).toHaveLength(2000)
    const latencies = received.map((r) => r.t - Number(r.msg))
    expect(Math.min(...latencies)).toBe(20)
    expect(Math.max(...latencies)).toBe(30)
    expect(received.every((r) => r.from === "a" && r.topic === "ping")).toBe(true)
  })

  it("broadcasts to every other node, in id order, each with its own latency", () => {
    const { scheduler, net, received } = setup(["v2", "v0", "v1", "v3"], { latency: { min: 0, max: 0 } })
    net.broadcast("v1", "block", bytes("b1"))
    scheduler.runUntil()
    expect(received.map((r) => r.to)).toEqual(["v0", "v2", "v3"])
    expect(net.nodes).toEqual(["v0", "v1", "v2", "v3"])
  })

  it("multicasts as one send to each recipient in turn (same draws, same deliveries), sharing one copy of the bytes", () => {
    const log = (multicast: boolean) => {
      const { scheduler, net, events } = setup(["v0", "v1", "v2", "v3"], { drop: toRatio(0.2), duplicate: toRatio(0.2) }, 5)
      const data: Uint8Array[] = []
      for (const id of net.nodes) net.register(`${id}-x`, { onMessage: (_f, _t, d) => data.push(d) })
      for (let r = 0; r < 20; r++) {
        scheduler.at(r * 13, () => {
          const to = net.nodes.filter((id) => id !== "v1")
          if (multicast) net.multicast("v1", to, "t", bytes(`m${r}`))
          else for (const id of to) net.send("v1", id, "t", bytes(`m${r}`))
        })
      }
      scheduler.runUntil()
      return { events: events.map((e) => `${e.time} ${e.type} ${e.id} ${e.from}>${e.to}${e.type === "drop" ? ` ${e.reason}` : ""}`), data }
    }
    const many = log(false)
    const one = log(true)
    expect(one.events).toEqual(many.events)
    // 20 messages: with one copy each, the receivers (and the bus's duplicates) share 20 byte arrays.
    expect(new Set(one.data).size).toBe(20)
    expect(new Set(many.data).size).toBeGreaterThan(20)
  })

  it("copies the bytes at send time", () => {
    const { scheduler, net, received } = setup(["a", "b"])
    const data = bytes("abc")
    net.send("a", "b", "t", data)
    data[0] = 0x7a
    scheduler.runUntil()
    expect(received[0]!.msg).toBe("abc")
  })

  it("loses messages at about the configured rate, reporting each drop", () => {
    const { scheduler, net, received, events } = setup(["a", "b"], { drop: toRatio(0.1) })
    for (let i = 0; i < 20_000; i++) net.send("a", "b", "t", bytes(""))
    scheduler.runUntil()
    const lost = events.filter((e) => e.type === "drop" && e.reason === "loss").length
    expect(Math.abs(lost - 2000)).toBeLessThan(170) // ~4 sigma
    expect(received.length + lost).toBe(20_000)
    expect(net.stats()).toMatchObject({ sent: 20_000, delivered: received.length, dropped: { loss: lost } })
  })

  it("duplicates messages at about the configured rate, each copy with its own latency", () => {
    const { scheduler, net, received, events } = setup(["a", "b"], { duplicate: toRatio(0.2), latency: { min: 0, max: 1000 } })
    for (let i = 0; i < 10_000; i++) net.send("a", "b", "t", bytes(`${i}`))
    scheduler.runUntil()
    const copies = events.filter((e) => e.type === "deliver" && e.duplicate)
    expect(Math.abs(copies.length - 2000)).toBeLessThan(160)
    expect(received).toHaveLength(10_000 + copies.length)
    const originals = new Map(events.filter((e) => e.type === "deliver" && !e.duplicate).map((e) => [e.id, e.time]))
    expect(copies.filter((c) => originals.get(c.id) !== c.time).length).toBeGreaterThan(copies.length * 0.9)
  })

  it("drops messages across a partition, lets them through inside a group, and heals", () => {
    const { scheduler, net, received, events } = setup(["v0", "v1", "v2", "v3", "v4"], { latency: { min: 10, max: 10 } })
    net.partition([["v0", "v1"], ["v2"]]) // v3, v4 are unlisted: one group together
    for (const from of net.nodes) net.broadcast(from, "t", bytes(from))
    scheduler.runUntil()
    const pairs = received.map((r) => `${r.from}>${r.to}`).sort()
    expect(pairs).toEqual(["v0>v1", "v1>v0", "v3>v4", "v4>v3"])
    expect(events.filter((e) => e.type === "drop" && e.reason === "partition")).toHaveLength(20 - 4)
    expect(net.partitioned("v0", "v2")).toBe(true)
    expect(net.partitioned("v3", "v4")).toBe(false)
    net.heal()
    received.length = 0
    net.broadcast("v0", "t", bytes("again"))
    scheduler.runUntil()
    expect(received.map((r) => r.to)).toEqual(["v1", "v2", "v3", "v4"])
  })

  it("loses in-flight messages when a partition forms under them", () => {
    const { scheduler, net, received, events } = setup(["a", "b"], { latency: { min: 100, max: 100 } })
    net.send("a", "b", "t", bytes("x"))
    scheduler.at(50, () => net.partition([["a"], ["b"]]))
    scheduler.runUntil()
    expect(received).toHaveLength(0)
    expect(events).toMatchObject([{ type: "drop", reason: "partition", time: 100, sentAt: 0 }])
  })

  it("rejects bad partitions", () => {
    const { net } = setup(["a", "b"])
    expect(() => net.partition([["a"], ["a", "b"]])).toThrow(/a is in two groups/)
    expect(() => net.partition([["a"], ["zz"]])).toThrow(/unknown node zz/)
    expect(net.partitioned("a", "b")).toBe(false) // a rejected partition changes nothing
  })

  it("a down node neither sends nor receives; messages in flight to it are dropped on arrival", () => {
    const { scheduler, net, received, events } = setup(["a", "b", "c"], { latency: { min: 100, max: 100 } })
    net.send("a", "b", "t", bytes("in-flight"))
    scheduler.at(50, () => net.setDown("b", true))
    scheduler.at(60, () => net.send("b", "a", "t", bytes("from-down")))
    scheduler.at(70, () => net.send("c", "b", "t", bytes("arrives-after-restart")))
    scheduler.at(150, () => net.setDown("b", false))
    scheduler.runUntil()
    expect(received.map((r) => r.msg)).toEqual(["arrives-after-restart"])
    expect(events.filter((e) => e.type === "drop").map((e) => (e.type === "drop" ? `${e.reason}@${e.time}` : ""))).toEqual([
      "sender-down@60",
      "receiver-down@100",
    ])
    expect(net.isDown("b")).toBe(false)
  })

  it("applies per-node latency and extra send delay to what that node sends", () => {
    const { scheduler, net, received } = setup(["fast", "slow", "odd"], {
      latency: { min: 10, max: 10 },
      nodes: { slow: { sendDelay: 500 }, odd: { latency: { min: 3, max: 3 } } },
    })
    net.send("fast", "slow", "t", bytes("1"))
    net.send("slow", "fast", "t", bytes("2"))
    net.send("odd", "fast", "t", bytes("3"))
    scheduler.runUntil()
    expect(received.map((r) => `${r.msg}@${r.t}`)).toEqual(["3@3", "1@10", "2@510"])
    net.configure({ nodes: { slow: {} } })
    net.send("slow", "fast", "t", bytes("4"))
    scheduler.runUntil()
    expect(received.at(-1)).toMatchObject({ msg: "4", t: 520 })
  })

  it("validates options and ids, naming the offending key", () => {
    const { net } = setup(["a"])
    expect(() => net.configure({ latency: { min: 5, max: 4 } })).toThrow(/options\.latency/)
    expect(() => net.configure({ drop: { num: 2, den: 1 } })).toThrow(/options\.drop/)
    expect(() => net.configure({ nodes: { a: { sendDelay: -1 } } })).toThrow(/options\.nodes\.a\.sendDelay/)
    expect(() => net.send("a", "nobody", "t", bytes(""))).toThrow(/SimNetwork\.send: unknown node nobody/)
    expect(() => net.register("a", { onMessage() {} })).toThrow(/already registered/)
  })

  it("is deterministic: same seed, same delivery log; another seed, another log", () => {
    const run = (seed: number) => {
      const { scheduler, net, events } = setup(["v0", "v1", "v2", "v3"], { drop: toRatio(0.05), duplicate: toRatio(0.05) }, seed)
      for (let r = 0; r < 50; r++) {
        scheduler.at(r * 37, () => {
          for (const from of net.nodes) net.broadcast(from, `round.${r}`, bytes(`${from}:${r}`))
        })
      }
      scheduler.at(400, () => net.partition([["v0"]]))
      scheduler.at(900, () => net.heal())
      scheduler.runUntil()
      return events.map((e) => `${e.time} ${e.type} ${e.id} ${e.from}>${e.to} ${e.topic}${e.type === "drop" ? ` ${e.reason}` : ""}`).join("\n")
    }
    expect(run(7)).toBe(run(7))
    expect(run(7)).not.toBe(run(8))
  })

  it("keeps each sender's latencies independent of other nodes' traffic", () => {
    const latenciesOfA = (extraFromB: number) => {
      const { scheduler, net, received } = setup(["a", "b", "c"])
      for (let i = 0; i < extraFromB; i++) net.send("b", "c", "t", bytes(""))
      for (let i = 0; i < 100; i++) net.send("a", "c", "t", bytes(`${i}`))
      scheduler.runUntil()
      return received.filter((r) => r.from === "a").map((r) => `${r.msg}@${r.t}`).sort()
    }
    expect(latenciesOfA(0)).toEqual(latenciesOfA(500))
  })
})

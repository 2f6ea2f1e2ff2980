/** The round schedule (who coordinates which round, from chain state) and the roster of trainers. */
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, signDigest, verifySignature } from "../../core/crypto.ts"
import { helloDigest, makeHello, Roster } from "./roster.ts"
import { chainRandom, scheduledRound, slotMs } from "./schedule.ts"

const validators = ["0xcc", "0xaa", "0xbb"]

describe("round schedule", () => {
  it("takes validators in turn by round number, over the sorted set", () => {
    const at = (lastRound: number) => scheduledRound({ lastRound, validators, chainTime: 1_000, anchorTime: 1_000, slotMs: 10_000 })
    expect(at(-1)).toEqual({ round: 1, coordinator: "0xbb" })
    expect(at(1)).toEqual({ round: 2, coordinator: "0xcc" })
    expect(at(2)).toEqual({ round: 3, coordinator: "0xaa" })
    expect(scheduledRound({ lastRound: 0, validators: [], chainTime: 0, anchorTime: 0, slotMs: 1 })).toBeUndefined()
  })

  it("gives a missed slot's round to the next validator as chain time passes", () => {
    const at = (chainTime: number) => scheduledRound({ lastRound: 4, validators, chainTime, anchorTime: 50_000, slotMs: 10_000 })
    expect(at(59_999)).toEqual({ round: 5, coordinator: "0xcc" })
    expect(at(60_000)).toEqual({ round: 6, coordinator: "0xaa" })
    expect(at(75_000)).toEqual({ round: 7, coordinator: "0xbb" })
    expect(at(10_000)).toEqual({ round: 5, coordinator: "0xcc" }) // a clock behind the anchor misses nothing
    expect(slotMs(20_000, 6_667)).toBe(46_668)
  })

  it("draws the cohort from a stream anyone can recompute", () => {
    const a = chainRandom("0xabc/3")
    const b = chainRandom("0xabc/3")
    const xs = Array.from({ length: 20 }, a)
    expect(Array.from({ length: 20 }, b)).toEqual(xs)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(chainRandom("0xabc/4")()).not.toBe(xs[0])
  })
})

describe("roster", () => {
  const key = new Uint8Array(32).fill(7)
  const address = addressOfPrivateKey(key)
  const roster = () => new Roster({ chainId: 7, verify: verifySignature, operatorOf: (a) => (a === address ? "node0" : undefined) })

  it("maps a peer to the validator whose key signed its peer id", () => {
    const r = roster()
    expect(r.accept("peerA", makeHello(7, "peerA", address, (d) => signDigest(key, d)))).toBeUndefined()
    expect(r.peerOf("node0")).toBe("peerA")
    expect(r.operatorOf("peerA")).toBe("node0")
    // The validator restarted with a new peer id: the old one no longer trains for it.
    expect(r.accept("peerB", makeHello(7, "peerB", address, (d) => signDigest(key, d)))).toBeUndefined()
    expect(r.operatorOf("peerA")).toBeUndefined()
    expect(r.operators).toEqual(["node0"])
  })

  it("refuses a hello replayed by another peer, for another chain, or of a non-validator", () => {
    const r = roster()
    const hello = makeHello(7, "peerA", address, (d) => signDigest(key, d))
    expect(r.accept("peerX", hello)).toMatch(/bad signature for peer peerX/)
    expect(r.accept("peerA", makeHello(8, "peerA", address, (d) => signDigest(key, d)))).toMatch(/bad signature/)
    expect(r.accept("peerA", { address: "0x" + "1".repeat(40), signature: hello.signature })).toMatch(/not a validator/)
    expect(r.operators).toEqual([])
    expect(helloDigest(7, "p")).not.toEqual(helloDigest(7, "q"))
  })
})

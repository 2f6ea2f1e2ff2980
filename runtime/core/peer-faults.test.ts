import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PeerFaults } from "./peer-faults.ts"

describe("PeerFaults", () => {
  const policy = { maxFaults: 3, windowMs: 1_000, banMs: 5_000 }

  it("bans a peer at the max-th fault within the window, for banMs", () => {
    const f = new PeerFaults(policy)
    expect(f.fault("a", 0)).toEqual({ banned: false, faults: 1 })
    expect(f.fault("a", 10)).toEqual({ banned: false, faults: 2 })
    expect(f.fault("b", 20).banned).toBe(false) // another peer's faults are its own
    expect(f.fault("a", 20)).toEqual({ banned: true, until: 5_020, faults: 3 })
    expect(f.banned("a", 5_019)).toBe(true)
    expect(f.banned("a", 5_020)).toBe(false)
    expect(f.banned("b", 20)).toBe(false)
  })

  it("forgets faults older than the window", () => {
    const f = new PeerFaults(policy)
    f.fault("a", 0)
    f.fault("a", 500)
    expect(f.fault("a", 1_000)).toEqual({ banned: false, faults: 2 }) // the fault at 0 has left the window
  })

  it("refuses a policy it cannot apply", () => {
    expect(() => new PeerFaults({ ...policy, maxFaults: 0 })).toThrow(RangeError)
    expect(() => new PeerFaults({ ...policy, windowMs: 0 })).toThrow(RangeError)
  })

  it("a peer is banned iff some window of windowMs held maxFaults of its faults since its last ban", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5_000 }), { maxLength: 40 }), (gaps) => {
        const f = new PeerFaults(policy)
        let now = 0
        let window: number[] = []
        let bannedUntil = -1
        for (const gap of gaps) {
          now += gap
          const v = f.fault("p", now)
          if (now < bannedUntil) {
            expect(v.banned).toBe(true)
            continue
          }
          window = [...window.filter((t) => t > now - policy.windowMs), now]
          const expectBan = window.length >= policy.maxFaults
          expect(v.banned).toBe(expectBan)
          if (expectBan) {
            bannedUntil = now + policy.banMs
            window = []
          }
        }
      }),
    )
  })
})

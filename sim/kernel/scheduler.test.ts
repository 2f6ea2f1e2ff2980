import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Prng } from "./prng.ts"
import { Scheduler } from "./scheduler.ts"

describe("Scheduler", () => {
  it("runs events in time order, ties in scheduling order, advancing now", () => {
    const s = new Scheduler()
    const log: string[] = []
    const note = (x: string) => () => log.push(`${x}@${s.now}`)
    s.at(30, note("c"))
    s.at(10, note("a1"))
    s.after(10, note("a2"))
    s.at(20, note("b"))
    s.at(10, note("a3"))
    expect(s.pending).toBe(5)
    expect(s.runUntil()).toEqual({ reason: "empty", events: 5, now: 30 })
    expect(log).toEqual(["a1@10", "a2@10", "a3@10", "b@20", "c@30"])
    expect(s.step()).toBe(false)
  })

  it("runs an event scheduled for now during a callback after those already due now", () => {
    const s = new Scheduler(100)
    const log: string[] = []
    s.at(100, () => {
      log.push("first")
      s.after(0, () => log.push("scheduled-later"))
    })
    s.at(100, () => log.push("second"))
    s.runUntil()
    expect(log).toEqual(["first", "second", "scheduled-later"])
  })

  it("cancels pending events and reports whether it did", () => {
    const s = new Scheduler()
    const log: number[] = []
    const a = s.at(5, () => log.push(5))
    const b = s.at(6, () => log.push(6))
    expect(s.cancel(a)).toBe(true)
    expect(s.cancel(a)).toBe(false)
    expect(s.pending).toBe(1)
    expect(s.peek()).toEqual({ id: b, time: 6, label: undefined })
    s.runUntil()
    expect(log).toEqual([6])
    expect(s.cancel(b)).toBe(false) // already ran
    expect(s.cancel(12345)).toBe(false) // never existed
  })

  it("cancels from inside a callback, including an event due at the same time", () => {
    const s = new Scheduler()
    const log: string[] = []
    let victim = 0
    s.at(1, () => {
      log.push("killer")
      s.cancel(victim)
    })
    victim = s.at(1, () => log.push("victim"))
    s.runUntil()
    expect(log).toEqual(["killer"])
  })

  it("stops at a time bound, running events due exactly then, and moves the clock to it", () => {
    const s = new Scheduler()
    const log: number[] = []
    for (const t of [10, 20, 30]) s.at(t, () => log.push(t))
    expect(s.runUntil({ time: 20 })).toEqual({ reason: "time", events: 2, now: 20 })
    expect(log).toEqual([10, 20])
    expect(s.runUntil({ time: 1000 })).toEqual({ reason: "time", events: 1, now: 1000 })
    expect(s.now).toBe(1000)
    expect(() => s.runUntil({ time: 999 })).toThrow(RangeError)
  })

  it("stops on a predicate (checked first and after each event) and on maxEvents", () => {
    const s = new Scheduler()
    let count = 0
    const tick = () => {
      count++
      s.after(7, tick)
    }
    s.after(7, tick)
    expect(s.runUntil({ predicate: () => count === 3 })).toEqual({ reason: "predicate", events: 3, now: 21 })
    expect(s.runUntil({ predicate: () => count === 3 })).toEqual({ reason: "predicate", events: 0, now: 21 })
    expect(s.runUntil({ maxEvents: 4 })).toEqual({ reason: "maxEvents", events: 4, now: 49 })
    expect(s.runUntil({ maxEvents: 100, time: 70 })).toEqual({ reason: "time", events: 3, now: 70 })
  })

  it("rejects the past, fractions and unsafe times", () => {
    const s = new Scheduler(50)
    const noop = () => {}
    expect(() => s.at(49, noop, "late")).toThrow(/late.*>= now \(50\)/)
    expect(() => s.after(-1, noop)).toThrow(RangeError)
    expect(() => s.after(1.5, noop)).toThrow(RangeError)
    expect(() => s.after(Number.MAX_SAFE_INTEGER, noop)).toThrow(RangeError)
    expect(() => s.at(Number.NaN, noop)).toThrow(RangeError)
    expect(() => new Scheduler(-1)).toThrow(RangeError)
    expect(s.pending).toBe(0)
  })

  it("refuses to be driven from inside one of its own events", () => {
    const s = new Scheduler()
    s.at(1, () => s.step())
    expect(() => s.step()).toThrow(/inside an event/)
    // the scheduler is still usable after the callback threw
    s.at(2, () => {})
    expect(s.runUntil()).toMatchObject({ reason: "empty", now: 2 })
  })

  it("propagates a callback's exception with the event consumed", () => {
    const s = new Scheduler()
    s.at(3, () => {
      throw new Error("boom")
    })
    s.at(4, () => {})
    expect(() => s.runUntil()).toThrow("boom")
    expect(s.now).toBe(3)
    expect(s.pending).toBe(1)
  })

  it("stays correct when timeouts are re-armed over and over (dead entries are compacted)", () => {
    const s = new Scheduler()
    const fired: number[] = []
    let id = s.after(1000, () => fired.push(-1))
    for (let i = 0; i < 10_000; i++) {
      s.cancel(id)
      id = s.after(1000 + (i % 7), () => fired.push(i))
      if (i % 100 === 0) s.after(i % 13, () => {}) // unrelated events in between
    }
    expect(s.pending).toBe(101)
    s.runUntil()
    expect(fired).toEqual([9999])
    expect(s.now).toBe(1000 + (9999 % 7))
  })

  it("never reissues a handle: a stale one cannot cancel the event that reused its slot", () => {
    const s = new Scheduler()
    const log: string[] = []
    const first = s.after(1, () => log.push("first"))
    s.runUntil()
    const second = s.after(1, () => log.push("second")) // reuses the first event's slot
    expect(second).not.toBe(first)
    expect(s.cancel(first)).toBe(false)
    const third = s.after(1, () => log.push("third"))
    expect(s.cancel(third)).toBe(true)
    const fourth = s.after(1, () => log.push("fourth"))
    expect(new Set([first, second, third, fourth]).size).toBe(4)
    expect(s.cancel(third)).toBe(false)
    s.runUntil()
    expect(log).toEqual(["first", "second", "fourth"])
    expect(s.cancel(0) || s.cancel(-1) || s.cancel(0.5) || s.cancel(2 ** 60)).toBe(false)
    expect(first).toBeGreaterThanOrEqual(1) // 0 is never a handle: it can mean "no timer"
  })

  it("agrees with a simple model under random schedule / cancel / step sequences (property)", () => {
    type Op = { op: "at"; dt: number } | { op: "cancel"; pick: number } | { op: "step" } | { op: "run"; dt: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant("at" as const), dt: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }),
      fc.record({ op: fc.constant("step" as const) }),
      fc.record({ op: fc.constant("run" as const), dt: fc.integer({ min: 0, max: 30 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const s = new Scheduler()
        const ran: number[] = []
        const model: Array<{ time: number; n: number; handle: number; live: boolean }> = []
        let now = 0
        const next = () =>
          model.filter((e) => e.live).sort((a, b) => a.time - b.time || a.n - b.n)[0]
        for (const o of ops) {
          if (o.op === "at") {
            const n = model.length
            const handle = s.at(now + o.dt, () => ran.push(n))
            model.push({ time: now + o.dt, n, handle, live: true })
          } else if (o.op === "cancel" && model.length > 0) {
            const e = model[o.pick % model.length]!
            expect(s.cancel(e.handle)).toBe(e.live)
            e.live = false
          } else if (o.op === "step") {
            const e = next()
            expect(s.step()).toBe(e !== undefined)
            if (e) {
              e.live = false
              now = e.time
              expect(ran.at(-1)).toBe(e.n)
            }
          } else if (o.op === "run") {
            const until = now + o.dt
            const expected: number[] = []
            for (let e = next(); e !== undefined && e.time <= until; e = next()) {
              e.live = false
              expected.push(e.n)
            }
            const before = ran.length
            expect(s.runUntil({ time: until })).toEqual({ reason: "time", events: expected.length, now: until })
            expect(ran.slice(before)).toEqual(expected)
            now = until
          }
          expect(s.now).toBe(now)
          expect(s.pending).toBe(model.filter((e) => e.live).length)
          const head = next()
          expect(s.peek()).toEqual(head && { id: head.handle, time: head.time, label: undefined })
        }
      }),
    )
  })

  it("orders like a stable sort of (time, scheduling order), with random cancels (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: 0, max: 50 }), cancel: fc.boolean() }), { maxLength: 300 }),
        (items) => {
          const s = new Scheduler()
          const ran: number[] = []
          const ids = items.map((it, i) => s.at(it.t, () => ran.push(i)))
          items.forEach((it, i) => it.cancel && s.cancel(ids[i]!))
          s.runUntil()
          const expected = items
            .map((it, i) => ({ ...it, i }))
            .filter((it) => !it.cancel)
            .sort((a, b) => a.t - b.t || a.i - b.i)
            .map((it) => it.i)
          expect(ran).toEqual(expected)
        },
      ),
    )
  })

  it("is deterministic for events that schedule events with random delays", () => {
    const run = (seed: number): string => {
      const s = new Scheduler()
      const p = Prng.fromSeed(seed)
      const log: string[] = []
      let budget = 2000
      const ev = (n: number) => () => {
        log.push(`${n}@${s.now}`)
        if (budget-- > 0) s.after(p.int(20), ev(p.int(1000)))
        if (p.chance(1, 4) && budget-- > 0) s.after(p.int(20), ev(p.int(1000)))
      }
      for (let i = 0; i < 10; i++) s.after(p.int(5), ev(i))
      s.runUntil()
      return log.join(",")
    }
    expect(run(1)).toBe(run(1))
    expect(run(1)).not.toBe(run(2))
  })
})

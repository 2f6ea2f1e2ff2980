import { describe, expect, it } from "vitest"
import { makeReadGate } from "./read-gate.ts"

/** A read whose answer the test gives when it wants. */
const deferred = <A>() => {
  let resolve!: (a: A) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe("read gate", () => {
  it("latest: callers while a block-number request is out share it", async () => {
    const m = makeReadGate()
    const d = deferred<number>()
    let calls = 0
    const read = () => ((calls++), d.promise)
    const both = Promise.all([m.latest(read), m.latest(read)])
    d.resolve(42)
    expect(await both).toEqual([42, 42])
    expect(calls).toBe(1)
    expect(await m.latest(async () => 43)).toBe(43)
  })

  it("limit: at most its bound in flight, in order; a read whose caller gave up while waiting is never sent", async () => {
    const m = makeReadGate(2)
    const started: number[] = []
    const gates = [0, 1, 2, 3].map(() => deferred<number>())
    const run = (i: number, signal = new AbortController().signal) => m.limit(signal, () => ((started.push(i)), gates[i]!.promise))
    const r0 = run(0)
    const r1 = run(1)
    const gaveUp = new AbortController()
    const r2 = run(2, gaveUp.signal)
    const r3 = run(3)
    expect(started).toEqual([0, 1])
    expect(m.load()).toEqual({ running: 2, waiting: 2 })
    gaveUp.abort(new Error("timed out"))
    await expect(r2).rejects.toThrow("timed out")
    expect(m.load()).toEqual({ running: 2, waiting: 1 })
    gates[0]!.resolve(0)
    expect(await r0).toBe(0)
    await Promise.resolve()
    expect(started).toEqual([0, 1, 3])
    gates[1]!.resolve(1)
    gates[3]!.resolve(3)
    expect(await Promise.all([r1, r3])).toEqual([1, 3])
    expect(started).not.toContain(2)
    expect(m.load()).toEqual({ running: 0, waiting: 0 })
  })
})

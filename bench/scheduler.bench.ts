/**
 * Scheduler throughput: events per second through the discrete-event Scheduler, against a bare loop
 * doing the same per-event work (and the same PRNG draws) from a pre-sorted array, so the ratio is
 * the cost of the event queue itself. Then the XState clock adapter: delayed events per second.
 *
 * Run: npx node bench/scheduler.bench.ts        (EVENTS=500000 for a quicker run)
 */
import { createActor, setup } from "xstate"
import { SimClock } from "../sim/kernel/clock.ts"
import { Prng } from "../sim/kernel/prng.ts"
import { Scheduler } from "../sim/kernel/scheduler.ts"
import { Trace } from "../sim/kernel/trace.ts"

const EVENTS = Number(process.env.EVENTS ?? 2_000_000)
const REPEAT = 3

/** A small fixed amount of work per event (a few rounds of an integer mix). */
function work(x: number): number {
  for (let i = 0; i < 4; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x = Math.imul(x ^ (x << 5), 0x9e3779b1)
  }
  return x
}

/** Follow-up events scheduled by the n-th event: 1, except 2 when n % 8 == 0 and 0 when n % 8 == 4. */
const followUps = (n: number): number => (n & 7) === 0 ? 2 : (n & 7) === 4 ? 0 : 1

let sink = 0 // keeps the work observable so it is not optimised away

/**
 * `queue` events start pending; each event does the work and schedules follow-ups after random delays
 * (1..1000 ms): usually one, every eighth event two and every eighth (offset by four) none, so the
 * queue stays at `queue` ± 1 — until `events` events have run.
 * With `cancel`, each event also arms a timeout and cancels the previous one (re-armed timers).
 */
function runScheduler(events: number, queue: number, cancel: boolean): number {
  const s = new Scheduler()
  const prng = Prng.fromSeed(1)
  let scheduled = 0
  let calls = 0
  let acc = 0
  let timer = 0
  const noop = () => {}
  const cb = (): void => {
    acc = work(acc + s.now)
    const follow = followUps(calls++)
    for (let i = 0; i < follow && scheduled < events; i++, scheduled++) s.after(1 + prng.int(1000), cb)
    if (cancel) {
      s.cancel(timer)
      timer = s.after(5000, noop)
    }
  }
  for (; scheduled < queue; scheduled++) s.after(prng.int(1000), cb)
  const t0 = performance.now()
  s.runUntil()
  const ms = performance.now() - t0
  sink ^= acc
  if (calls !== events) throw new Error(`ran ${calls} events, expected ${events}`)
  return calls / (ms / 1000)
}

/** The same callbacks' work and PRNG draws, invoked in order from a pre-sorted array: no queue. */
function runBare(events: number): number {
  const prng = Prng.fromSeed(1)
  const times = Array.from({ length: events }, (_, i) => i >> 4) // already in time order
  let acc = 0
  let now = 0
  let scheduled = 0
  let calls = 0
  const cb = (): void => {
    acc = work(acc + now)
    const follow = followUps(calls++)
    for (let i = 0; i < follow && scheduled < events; i++, scheduled++) acc ^= prng.int(1000)
  }
  const fns = new Array<() => void>(events).fill(cb)
  const t0 = performance.now()
  for (let i = 0; i < events; i++) {
    now = times[i]!
    fns[i]!()
  }
  const ms = performance.now() - t0
  sink ^= acc
  return events / (ms / 1000)
}

/** `actors` machines ping-ponging between two states on `after` timers of 10..59 ms. */
function runXState(actors: number, transitionsEach: number): number {
  const s = new Scheduler()
  const clock = new SimClock(s)
  const machine = setup({
    types: { context: {} as { period: number; n: number }, input: {} as { period: number } },
    delays: { tick: ({ context }) => context.period },
  }).createMachine({
    context: ({ input }) => ({ period: input.period, n: 0 }),
    initial: "a",
    states: { a: { after: { tick: "b" } }, b: { after: { tick: "a" } } },
  })
  const prng = Prng.fromSeed(2)
  for (let i = 0; i < actors; i++) createActor(machine, { clock, input: { period: 10 + prng.int(50) } }).start()
  const t0 = performance.now()
  const { events } = s.runUntil({ maxEvents: actors * transitionsEach })
  const ms = performance.now() - t0
  return events / (ms / 1000)
}

/** The same ping-pong driven from outside: scheduler events call `actor.send` (no XState delays). */
function runXStateSend(actors: number, transitionsEach: number): number {
  const s = new Scheduler()
  const machine = setup({ types: { events: {} as { type: "tick" } } }).createMachine({
    initial: "a",
    states: { a: { on: { tick: "b" } }, b: { on: { tick: "a" } } },
  })
  const prng = Prng.fromSeed(2)
  for (let i = 0; i < actors; i++) {
    const actor = createActor(machine).start()
    const period = 10 + prng.int(50)
    const tick = (): void => {
      actor.send({ type: "tick" })
      s.after(period, tick)
    }
    s.after(period, tick)
  }
  const t0 = performance.now()
  const { events } = s.runUntil({ maxEvents: actors * transitionsEach })
  const ms = performance.now() - t0
  return events / (ms / 1000)
}

/** Trace.record of a typical network-delivery event (canonical line + running SHA-256). */
function runTrace(lines: number): number {
  const trace = new Trace()
  const data = new Uint8Array(32).fill(7)
  const t0 = performance.now()
  for (let i = 0; i < lines; i++) {
    trace.record({ t: i, kind: "net.deliver", node: `v${i % 7}`, from: `v${(i + 1) % 7}`, topic: "consensus.vote", id: i, data })
  }
  const ms = performance.now() - t0
  sink ^= trace.hash().length
  return lines / (ms / 1000)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const best = (f: () => number): number => median(Array.from({ length: REPEAT }, f))
const fmt = (r: number): string => `${(r / 1e6).toFixed(2)} M/s`.padStart(10)

// Warm up the JIT on every path before timing anything.
runScheduler(200_000, 1000, false)
runScheduler(200_000, 1000, true)
runBare(200_000)
runXState(100, 100)
runXStateSend(100, 100)
runTrace(20_000)

console.log(`node ${process.version}, ${EVENTS.toLocaleString("en")} events, median of ${REPEAT}\n`)
const bare = best(() => runBare(EVENTS))
console.log(`bare loop (same work, pre-sorted)        ${fmt(bare)}`)
for (const queue of [1_000, 10_000, 100_000]) {
  const rate = best(() => runScheduler(EVENTS, queue, false))
  console.log(`scheduler, ~${String(queue).padEnd(7)} pending           ${fmt(rate)}   overhead ×${(bare / rate).toFixed(2)}, ${((1e9 / rate) - (1e9 / bare)).toFixed(0)} ns/event`)
}
const withCancel = best(() => runScheduler(EVENTS, 10_000, true))
console.log(`scheduler, ~10000 pending, +1 re-armed timer/event ${fmt(withCancel)}   (each event also does after + cancel)`)
const xs = best(() => runXState(1000, 200))
const xsSend = best(() => runXStateSend(1000, 200))
console.log(`\nXState, 1000 actors ping-ponging, 200k transitions:`)
console.log(`  on \`after\` timers through SimClock       ${fmt(xs)} delayed events`)
console.log(`  on events sent by scheduler callbacks   ${fmt(xsSend)} transitions (no XState delays)`)
const tr = best(() => runTrace(200_000))
console.log(`\nTrace.record, net.deliver events with 32 bytes of data ${fmt(tr)} lines`)
if (sink === 0.5) console.log(sink) // never true; defeats dead-code elimination

/**
 * The consensus machine's shape in three statecharts, to answer whether another XState, or another
 * shape of the same rules, would lower the machine's floor (RESULTS, "The consensus machine's own
 * floor"). Synthetic machines, not the real one (the shape is what the interpreter walks; porting the
 * rules for a measurement is not worth it): guards read a mutable object, an action counts the votes
 * cast, and per height they get the 4 events and the timer a node's machine gets (start, the proposal,
 * +2/3 prevotes, +2/3 precommits, then timeoutCommit) on one virtual clock.
 *
 * - **nested, v5** (the project's XState; the real machine's shape): a height state holding a parallel
 *   round (step: propose → prevote (waiting | timing) → precommit; timer: idle → armed), guarded
 *   eventless transitions, `after` timers, entry assigns of `step`.
 * - **flat, v5**: the same rules with no parallel region and no nesting — one state per step
 *   (propose, prevote, prevoteTiming, precommit, committed, ready), each rule a guarded eventless
 *   transition of the states it applies to, the round-wide rules (decide, arm the precommit timer)
 *   repeated in each, and the precommit timer a delayed `raise` with an id that a decision cancels.
 *   What a rewrite of the machine for speed would look like at best.
 * - **nested, v6** (6.0.0-alpha.52), only when installed outside the checkout (an alpha: not a dependency).
 *
 * Beside them, a `send` to a two-state machine.
 * Run:  npx node bench/xstate-shape.ts                      (v5 nested and flat; a few seconds)
 *       npm i --prefix /tmp/xstate6 xstate@6.0.0-alpha.52
 *       XSTATE6=/tmp/xstate6 npx node bench/xstate-shape.ts  (and v6)
 */
import { createRequire } from "node:module"
import { join } from "node:path"

// Both are loaded untyped (the project's types are v5's), through the little of the API used here.
interface Lib {
  createActor(machine: unknown, options?: object): Actor
  createMachine(config: object): unknown
  setup(config: object): { createMachine(config: object): unknown }
  assign(assignment: object): unknown
  raise(event: object, options?: object): unknown
  cancel(id: string): unknown
}
interface Actor {
  start(): Actor
  stop(): void
  send(event: object): void
  getSnapshot(): { value: unknown; context: Context }
}
const v5 = createRequire(import.meta.url)("xstate") as Lib
/** XState v6, where XSTATE6 (default /tmp/xstate6) holds it; undefined (and its columns left out) otherwise. */
const v6Dir = process.env.XSTATE6 ?? "/tmp/xstate6"
const install = `npm i --prefix ${v6Dir} xstate@6.0.0-alpha.52`
const v6Found = ((): { readonly lib: Lib; readonly version: string } | undefined => {
  const v6Require = createRequire(join(v6Dir, "package.json"))
  let version: string
  try {
    version = (v6Require("xstate/package.json") as { version: string }).version
  } catch {
    if (process.env.XSTATE6 !== undefined) throw new Error(`XSTATE6=${v6Dir}: no xstate there; install it first: ${install}`)
    return undefined
  }
  if (!version.startsWith("6.")) throw new Error(`XSTATE6=${v6Dir}: xstate ${version} there, not 6.x; ${install}`)
  return { lib: v6Require("xstate") as Lib, version }
})()

/** A minimal virtual clock: `run` fires every timer in due order, advancing time to each. */
class Clock {
  #now = 0
  #id = 0
  readonly #timers = new Map<number, { readonly due: number; readonly fn: () => void }>()
  now(): number {
    return this.#now
  }
  setTimeout(fn: () => void, ms: number): number {
    this.#timers.set(++this.#id, { due: this.#now + ms, fn })
    return this.#id
  }
  clearTimeout(id: number): void {
    this.#timers.delete(id)
  }
  run(): void {
    for (;;) {
      let next: [number, { readonly due: number; readonly fn: () => void }] | undefined
      for (const t of this.#timers) if (next === undefined || t[1].due < next[1].due) next = t
      if (next === undefined) return
      this.#timers.delete(next[0])
      this.#now = next[1].due
      next[1].fn()
    }
  }
}

/** The height's state the guards read (HeightState's part in the real machine), mutated by the driver. */
interface HS { proposal: boolean; prevoteQuorum: boolean; precommitQuorum: boolean; decided: boolean }
/** `armed`: the flat shape's record that this round's precommit timer runs (the nested one has a region for it). */
interface Context { hs: HS; step: string; armed: boolean }
type Args = { context: Context; event: { hs: HS } }
const initialContext = (): Context => ({ hs: { proposal: false, prevoteQuorum: false, precommitQuorum: false, decided: false }, step: "idle", armed: false })

/** Votes cast by the machine's actions, counted outside it (an action's effect). */
let cast = 0

const v5machine = v5.setup({
  guards: {
    decidable: ({ context }: Args) => context.hs.decided,
    proposalReady: ({ context }: Args) => context.hs.proposal,
    polka: ({ context }: Args) => context.hs.prevoteQuorum && context.hs.proposal,
    anyPrevoteQuorum: ({ context }: Args) => context.hs.prevoteQuorum,
    anyPrecommitQuorum: ({ context }: Args) => context.hs.precommitQuorum,
  },
  actions: { cast: () => void cast++ },
}).createMachine({
  context: initialContext,
  initial: "idle",
  states: {
    idle: { on: { start: { target: "height", actions: v5.assign({ hs: ({ event }: Args) => event.hs }) } } },
    height: {
      initial: "round",
      on: { proposal: {}, counted: {} },
      states: {
        round: {
          id: "round",
          type: "parallel",
          always: [{ guard: "decidable", target: "#committed" }],
          states: {
            step: {
              initial: "propose",
              states: {
                propose: {
                  entry: v5.assign({ step: "propose" }),
                  always: { guard: "proposalReady", target: "prevote", actions: "cast" },
                  after: { 3000: { target: "prevote", actions: "cast" } },
                },
                prevote: {
                  initial: "waiting",
                  entry: v5.assign({ step: "prevote" }),
                  always: { guard: "polka", target: "precommit", actions: "cast" },
                  states: {
                    waiting: { always: { guard: "anyPrevoteQuorum", target: "timing" } },
                    timing: { after: { 1000: { target: "#precommit", actions: "cast" } } },
                  },
                },
                precommit: { id: "precommit", entry: v5.assign({ step: "precommit" }) },
              },
            },
            timer: {
              initial: "idle",
              states: {
                idle: { always: { guard: "anyPrecommitQuorum", target: "armed" } },
                armed: { after: { 1000: { target: "#round", reenter: true } } },
              },
            },
          },
        },
      },
    },
    committed: { id: "committed", entry: v5.assign({ step: "commit" }), after: { 1000: "ready" } },
    ready: { on: { start: { target: "height", actions: v5.assign({ hs: ({ event }: Args) => event.hs }) } } },
  },
})

/** The same rules, flat: see the header. */
const start = v5.assign({ hs: ({ event }: Args) => event.hs, armed: false, step: "propose" })
const newRound = { target: "propose", reenter: true, actions: v5.assign({ armed: false, step: "propose" }) }
const roundWide = [
  { guard: "decidable", target: "committed", actions: v5.cancel("precommitTimer") },
  { guard: "armPrecommitTimer", actions: [v5.assign({ armed: true }), v5.raise({ type: "timeoutPrecommit" }, { id: "precommitTimer", delay: 1000 })] },
]
const to = (target: string) => ({ target, actions: ["cast", v5.assign({ step: target })] })
const v5flat = v5.setup({
  guards: {
    decidable: ({ context }: Args) => context.hs.decided,
    armPrecommitTimer: ({ context }: Args) => !context.armed && context.hs.precommitQuorum,
    proposalReady: ({ context }: Args) => context.hs.proposal,
    polka: ({ context }: Args) => context.hs.prevoteQuorum && context.hs.proposal,
    anyPrevoteQuorum: ({ context }: Args) => context.hs.prevoteQuorum,
  },
  actions: { cast: () => void cast++ },
}).createMachine({
  context: initialContext,
  initial: "idle",
  on: { proposal: {}, counted: {} },
  states: {
    idle: { on: { start: { target: "propose", actions: start } } },
    propose: {
      always: [...roundWide, { guard: "proposalReady", ...to("prevote") }],
      on: { timeoutPrecommit: newRound },
      after: { 3000: to("prevote") },
    },
    prevote: {
      always: [...roundWide, { guard: "polka", ...to("precommit") }, { guard: "anyPrevoteQuorum", target: "prevoteTiming" }],
      on: { timeoutPrecommit: newRound },
    },
    prevoteTiming: {
      always: [...roundWide, { guard: "polka", ...to("precommit") }],
      on: { timeoutPrecommit: newRound },
      after: { 1000: to("precommit") },
    },
    precommit: { always: roundWide, on: { timeoutPrecommit: newRound } },
    committed: { entry: v5.assign({ step: "commit" }), after: { 1000: "ready" } },
    ready: { on: { start: { target: "propose", actions: start } } },
  },
})

type Enqueue = (fn: () => void) => void
const v6machine = v6Found?.lib.createMachine({
  context: initialContext,
  initial: "idle",
  states: {
    idle: { on: { start: ({ event }: Args) => ({ target: "height", context: { hs: event.hs } }) } },
    height: {
      initial: "round",
      on: { proposal: () => {}, counted: () => {} },
      states: {
        round: {
          id: "round",
          type: "parallel",
          always: ({ context }: Args) => (context.hs.decided ? { target: "#committed" } : undefined),
          states: {
            step: {
              initial: "propose",
              states: {
                propose: {
                  entry: () => ({ context: { step: "propose" } }),
                  always: ({ context }: Args, enq: Enqueue) => {
                    if (!context.hs.proposal) return undefined
                    enq(() => void cast++)
                    return { target: "prevote" }
                  },
                  after: { 3000: (_: Args, enq: Enqueue) => (enq(() => void cast++), { target: "prevote" }) },
                },
                prevote: {
                  initial: "waiting",
                  entry: () => ({ context: { step: "prevote" } }),
                  always: ({ context }: Args, enq: Enqueue) => {
                    if (!(context.hs.prevoteQuorum && context.hs.proposal)) return undefined
                    enq(() => void cast++)
                    return { target: "precommit" }
                  },
                  states: {
                    waiting: { always: ({ context }: Args) => (context.hs.prevoteQuorum ? { target: "timing" } : undefined) },
                    timing: { after: { 1000: (_: Args, enq: Enqueue) => (enq(() => void cast++), { target: "#precommit" }) } },
                  },
                },
                precommit: { id: "precommit", entry: () => ({ context: { step: "precommit" } }) },
              },
            },
            timer: {
              initial: "idle",
              states: {
                idle: { always: ({ context }: Args) => (context.hs.precommitQuorum ? { target: "armed" } : undefined) },
                armed: { after: { 1000: { target: "#round", reenter: true } } },
              },
            },
          },
        },
      },
    },
    committed: { id: "committed", entry: () => ({ context: { step: "commit" } }), after: { 1000: { target: "ready" } } },
    ready: { on: { start: ({ event }: Args) => ({ target: "height", context: { hs: event.hs } }) } },
  },
})

/** µs per height (wall and process CPU), `heights` heights, checking every height ends in `ready` with its two votes cast. */
const drive = (lib: Lib, machine: unknown, heights: number) => {
  const clock = new Clock()
  const actor = lib.createActor(machine, { clock }).start()
  cast = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let h = 1; h <= heights; h++) {
    const hs: HS = { proposal: false, prevoteQuorum: false, precommitQuorum: false, decided: false }
    actor.send({ type: "start", hs })
    hs.proposal = true
    actor.send({ type: "proposal" })
    hs.prevoteQuorum = true
    actor.send({ type: "counted" })
    hs.precommitQuorum = true
    hs.decided = true
    actor.send({ type: "counted" })
    clock.run()
    if (actor.getSnapshot().value !== "ready") throw new Error(`height ${h}: ended in ${JSON.stringify(actor.getSnapshot().value)}`)
  }
  const c = process.cpuUsage(c0)
  const wall = performance.now() - t0
  if (cast !== 2 * heights) throw new Error(`${cast} votes cast in ${heights} heights, expected ${2 * heights}`)
  actor.stop()
  return { cpu: (c.user + c.system) / heights, wall: (wall * 1000) / heights }
}

/** µs of CPU per `send` to a started two-state machine. */
const bareSend = (lib: Lib): number => {
  const actor = lib.createActor(lib.createMachine({ initial: "a", states: { a: { on: { tick: { target: "b" } } }, b: { on: { tick: { target: "a" } } } } })).start()
  const event = { type: "tick" }
  const c0 = process.cpuUsage()
  for (let i = 0; i < 200_000; i++) actor.send(event)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 200_000
}

const v5Version = (createRequire(import.meta.url)("xstate/package.json") as { version: string }).version
const v6 = v6Found?.lib
console.log(`xstate ${v5Version} nested and flat${v6Found === undefined ? ` (v6 not installed at ${v6Dir}: ${install} to add it)` : `, and ${v6Found.version} nested`}; the consensus machine's shape, 4 events and a timer per height (after 4,000 heights of warm-up in each)`)
for (let i = 0; i < 10; i++) (drive(v5, v5machine, 400), drive(v5, v5flat, 400), v6 && drive(v6, v6machine, 400))
console.log(`| run | v5 nested µs per height, wall (CPU) | v5 flat | nested ÷ flat (CPU) |${v6 ? " v6 nested | v6 ÷ v5 nested (CPU) |" : ""} bare send v5 |${v6 ? " bare send v6 |" : ""}`)
console.log(`|---:|---:|---:|---:|${v6 ? "---:|---:|" : ""}---:|${v6 ? "---:|" : ""}`)
for (let r = 1; r <= 5; r++) {
  const a = drive(v5, v5machine, 1000)
  const f = drive(v5, v5flat, 1000)
  const b = v6 && drive(v6, v6machine, 1000)
  const cells = [`${r}`, `${a.wall.toFixed(1)} (${a.cpu.toFixed(1)})`, `${f.wall.toFixed(1)} (${f.cpu.toFixed(1)})`, `${(a.cpu / f.cpu).toFixed(2)}×`]
  if (b) cells.push(`${b.wall.toFixed(1)} (${b.cpu.toFixed(1)})`, `${(b.cpu / a.cpu).toFixed(2)}×`)
  cells.push(`${bareSend(v5).toFixed(2)} µs`)
  if (v6) cells.push(`${bareSend(v6).toFixed(2)} µs`)
  console.log(`| ${cells.join(" | ")} |`)
}

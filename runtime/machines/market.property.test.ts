/**
 * The market job machine under random schedules (fast-check; DAI_MARKET_JOB_RUNS, CI default 200;
 * the seed is printed first: DAI_MARKET_JOB_SEED=<seed> [DAI_MARKET_JOB_PATH=<path>] replays a
 * failure; scripts/property-env.ts). Each run draws a job, its parameters, up to five providers
 * (honest, slow, no-show, wrong results, quitting after a few notes, refusing assignments, dying),
 * ledger and committee latencies, lost replies, a routing function that sometimes names a provider
 * it was told to exclude, and stray events (deliveries by strangers or beyond the job, receipts for
 * other providers, refutations and verifications nobody asked for, providers gone or changed).
 * The machine runs against a model of the ledger's rules v1 (/work/notes/issue13-plan.md) on one
 * virtual clock: every command is checked when it is issued, against what the ledger holds then:
 *  - confirm / settle / refund never pay or claim more units than were delivered, and settle only
 *    notes past their window; a dispute is only opened on notes still within their window;
 *  - assignJob only while the job is open on the ledger and no other assignment is in flight, and
 *    never to a provider that failed the job (no-show reclaimed or refuted);
 *  - the machine ends (settled, expired or rejected) by deadline + disputeWindow;
 *  - a paid note is never refunded; a job whose units were all paid is never refunded, and one that
 *    ends settled had every unit paid on the ledger.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { createActor } from "xstate"
import { propertyEnv } from "../../scripts/property-env.ts"
import { marketJobMachine, type MarketJobEvent, type MarketJobOutput } from "./market.ts"
import { TIMER_BUDGET, virtualTime } from "./testkit.ts"

const MARKET_JOB = propertyEnv("MARKET_JOB", 200)

/** A small seeded stream (mulberry32): the world's own choices, from the drawn seed. */
const stream = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const behaviour = fc.constantFrom("honest", "honest", "slow", "no-show", "wrong", "quitter")
const schedule = fc.record({
  seed: fc.nat(),
  units: fc.integer({ min: 1, max: 8 }),
  deadline: fc.integer({ min: 5_000, max: 120_000 }),
  noShowTimeout: fc.integer({ min: 1_000, max: 30_000 }),
  disputeWindow: fc.integer({ min: 1_000, max: 30_000 }),
  retryInterval: fc.integer({ min: 200, max: 20_000 }),
  providers: fc.array(
    fc.record({
      behaviour,
      chunk: fc.integer({ min: 1, max: 4 }),
      refuse: fc.integer({ min: 0, max: 60 }), // % of assignment attempts refused
      diesAt: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
    }),
    { minLength: 0, maxLength: 5 },
  ),
  latency: fc.integer({ min: 0, max: 3_000 }),
  lose: fc.integer({ min: 0, max: 20 }), // % of ledger replies lost
  postRefused: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  checkRate: fc.integer({ min: 0, max: 100 }), // % of deliveries the referee checks
  verdict: fc.integer({ min: 0, max: 100 }), // % of disputes the committee decides
  buggyRoute: fc.integer({ min: 0, max: 30 }), // % of routes naming an excluded provider
  noise: fc.array(fc.record({ at: fc.integer({ min: 0, max: 150_000 }), kind: fc.nat(7), who: fc.nat(5), units: fc.integer({ min: 1, max: 12 }) }), { maxLength: 12 }),
})
type Schedule = typeof schedule extends fc.Arbitrary<infer T> ? T : never
type Note = { provider: string; units: number; at: number; state: "pending" | "frozen" | "paid" | "refunded" }

/** Run one schedule to deadline + disputeWindow; return what was checked along the way. */
const run = (s: Schedule) => {
  const time = virtualTime()
  const rnd = stream(s.seed)
  const chance = (pct: number) => rnd() * 100 < pct
  const names = s.providers.map((_, i) => `p${i}`)
  const params = { noShowTimeout: s.noShowTimeout, disputeWindow: s.disputeWindow }
  const bound = s.deadline + s.disputeWindow
  // The ledger's view of the job (rules v1).
  const ledger = {
    posted: false, open: false, provider: undefined as string | undefined, since: 0,
    failed: new Set<string>(), notes: [] as Note[], refunded: false, inFlight: undefined as string | undefined,
  }
  const units = (...states: Note["state"][]) => ledger.notes.reduce((a, n) => (states.includes(n.state) ? a + n.units : a), 0)
  const live = () => units("pending", "frozen", "paid")
  const paidEver = new Set<Note>()
  const violations: string[] = []
  const check = (ok: boolean, what: string) => void (ok || violations.push(`t=${time.now()}: ${what}`))
  let out: MarketJobOutput | undefined
  let endedAt: number | undefined
  let work = 0 // bumps when a provider loses the job, so its pending deliveries stop

  const later = (ms: number, fn: () => void) => void time.clock.setTimeout(fn, ms)
  const lat = () => Math.floor(rnd() * (s.latency + 1))
  const send = (e: MarketJobEvent) => actor.getSnapshot().status === "active" && actor.send(e)
  const reply = (e: (at: number) => MarketJobEvent, loseable = true) => later(lat(), () => (loseable && chance(s.lose) ? undefined : send(e(time.now()))))
  const dead = (p: string) => {
    const d = s.providers[names.indexOf(p)]?.diesAt
    return d !== undefined && time.now() >= d
  }

  /** The provider's side: deliver chunks of work while it holds the job. */
  const serve = (p: string) => {
    const mine = ++work
    const spec = s.providers[names.indexOf(p)]!
    let notes = 0
    const step = () => {
      if (mine !== work || ledger.provider !== p || dead(p) || time.now() >= s.deadline) return
      if (spec.behaviour === "quitter" && notes >= 1) return
      const u = Math.min(spec.chunk, s.units - live())
      if (u <= 0) return
      const note: Note = { provider: p, units: u, at: time.now(), state: "pending" }
      ledger.notes.push(note)
      ledger.since = time.now()
      notes++
      send({ type: "note.delivered", provider: p, units: u, at: time.now() })
      if (chance(s.checkRate)) {
        later(Math.floor(rnd() * s.disputeWindow * 1.2), () =>
          send(spec.behaviour === "wrong" ? { type: "result.refuted", at: time.now() } : { type: "result.verified", at: time.now() }))
      }
      next()
    }
    const next = () => {
      if (spec.behaviour === "no-show") return
      const gap = spec.behaviour === "slow" ? 0.5 + rnd() * 1.1 : 0.1 + rnd() * 0.8
      later(Math.floor(gap * s.noShowTimeout), step)
    }
    next()
  }
  const lose = (p: string) => {
    ledger.failed.add(p)
    ledger.provider = undefined
    ledger.open = true
    work++
  }

  const route = (r: { exclude: readonly string[] }) => {
    for (const p of ledger.failed) check(r.exclude.includes(p), `route not told to exclude ${p}, which failed the job`)
    if (chance(s.buggyRoute) && r.exclude.length > 0) return r.exclude[Math.floor(rnd() * r.exclude.length)]
    const ok = names.filter((p) => !r.exclude.includes(p) && !dead(p))
    return ok.length === 0 ? undefined : ok[Math.floor(rnd() * ok.length)]
  }

  const machine = marketJobMachine.provide({
    actions: {
      postJob: () =>
        reply((at) => {
          if (s.postRefused) return { type: "job.refused", reason: "MarketPastDeadline", at }
          ledger.posted = ledger.open = true
          return { type: "job.posted", job: 1, at }
        }, false),
      assignJob: (_, { provider }) => {
        check(time.now() < s.deadline, "assignJob past the deadline")
        check(ledger.open && ledger.provider === undefined, `assignJob(${provider}) while ${ledger.provider ?? "?"} holds the job`)
        check(ledger.inFlight === undefined, `assignJob(${provider}) while assigning ${ledger.inFlight}`)
        check(!ledger.failed.has(provider), `assignJob to ${provider}, which failed the job`)
        ledger.inFlight = provider
        later(lat(), () => {
          ledger.inFlight = undefined
          const refuse = chance(s.providers[names.indexOf(provider)]?.refuse ?? 100) || dead(provider) || time.now() >= s.deadline
          if (refuse) return chance(s.lose) ? undefined : send({ type: "assign.refused", provider, reason: "MarketProviderFull", at: time.now() })
          ledger.open = false
          ledger.provider = provider
          ledger.since = time.now()
          if (!chance(s.lose)) send({ type: "job.assigned", provider, at: time.now() })
          serve(provider)
        })
      },
      confirm: (_, { units: u }) => {
        check(u === units("pending"), `confirm ${u} units, ${units("pending")} pending on the ledger`)
        for (const n of ledger.notes) if (n.state === "pending") (n.state = "paid"), paidEver.add(n)
      },
      settle: (_, { units: u }) => {
        const due = ledger.notes.filter((n) => n.state === "pending" && time.now() >= n.at + s.disputeWindow)
        check(u === units("pending") && due.length === ledger.notes.filter((n) => n.state === "pending").length, `settle ${u} units before their window is over`)
        for (const n of due) (n.state = "paid"), paidEver.add(n)
      },
      dispute: (_, { units: u }) => {
        check(ledger.notes.some((n) => n.state === "pending" && time.now() < n.at + s.disputeWindow), "dispute with no note in its window")
        check(u === units("pending"), `dispute ${u} units, ${units("pending")} pending`)
        const accused = ledger.provider
        const frozen = ledger.notes.filter((n) => n.state === "pending")
        for (const n of frozen) n.state = "frozen"
        if (!chance(s.verdict)) return
        later(Math.floor(rnd() * 2 * s.disputeWindow), () => {
          // The referee re-executes: a note is wrong when its provider computes wrong results.
          const wrong = frozen.some((n) => s.providers[names.indexOf(n.provider)]?.behaviour === "wrong")
          for (const n of frozen) if (n.state === "frozen") wrong ? (n.state = "refunded") : ((n.state = "paid"), paidEver.add(n))
          if (wrong && accused !== undefined && ledger.provider === accused) lose(accused)
          send({ type: "dispute.resolved", providerRight: !wrong, at: time.now() })
        })
      },
      reclaimNoShow: (_, { provider }) => {
        check(ledger.provider === provider || ledger.inFlight === provider, `reclaimNoShow(${provider}), which does not hold the job`)
        reply((at) => {
          if (ledger.provider === provider && ledger.since + s.noShowTimeout <= at) {
            lose(provider)
            return { type: "job.reopened", at }
          }
          return { type: "reclaim.refused", reason: "MarketNotNoShow", at }
        })
      },
      refund: (_, { units: u }) => {
        check(time.now() >= s.deadline, "refund before the deadline")
        check(!ledger.refunded, "refunded twice")
        check(units("paid") < s.units, "refund of a job whose every unit was paid")
        check(u === s.units - live(), `refund claims ${u} units, ${s.units - live()} never delivered`)
        // Rules v1: the refund pays the pending notes past their window and returns the rest.
        for (const n of ledger.notes) if (n.state === "pending" && time.now() >= n.at + s.disputeWindow) (n.state = "paid"), paidEver.add(n)
        ledger.refunded = true
      },
      finished: (_, o) => {
        out = o
        endedAt = time.now()
      },
    },
  })
  const actor = createActor(machine, {
    clock: time.clock,
    input: { requester: "alice", kind: "infer:mnist", units: s.units, maxPricePerUnit: 3n, deadline: s.deadline, now: 0, params, retryInterval: s.retryInterval, route },
  })

  // Stray events: none of them is something the ledger did for this job.
  for (const n of s.noise) {
    later(n.at, () => {
      const who = names[n.who] ?? "mallory"
      const at = time.now()
      const e: MarketJobEvent[] = [
        { type: "note.delivered", provider: "mallory", units: 1, at },
        { type: "note.delivered", provider: ledger.provider ?? who, units: s.units + n.units, at },
        { type: "job.assigned", provider: "mallory", at },
        { type: "assign.refused", provider: "mallory", reason: "stray", at },
        { type: "result.verified", at },
        { type: "result.refuted", at },
        { type: "provider.gone", provider: who, at },
        { type: "providers.changed", at },
      ]
      send(e[n.kind]!)
    })
  }
  for (const [i, p] of s.providers.entries()) if (p.diesAt !== undefined) later(p.diesAt + lat(), () => send({ type: "provider.gone", provider: names[i]!, at: time.now() }))

  actor.start()
  time.runUntil(bound)
  check(time.fired() <= TIMER_BUDGET, "timers kept firing without time passing (a livelock)")
  const snapshot = actor.getSnapshot()
  check(snapshot.status === "done", `still ${JSON.stringify(snapshot.value)} at deadline + disputeWindow (${bound})`)
  check(endedAt === undefined || endedAt <= bound, `ended at ${endedAt}, after ${bound}`)
  for (const n of paidEver) check(n.state === "paid", "a paid note was refunded")
  if (out?.status === "settled") {
    check(!ledger.refunded, "settled and refunded")
    check(units("paid") === s.units, `settled with ${units("paid")} of ${s.units} units paid on the ledger`)
  }
  if (out?.status === "expired") check(ledger.refunded, "expired without a refund")
  check(out === undefined || out.paid <= units("paid"), `the machine counts ${out?.paid} units paid, the ledger ${units("paid")}`)
  actor.stop()
  return { violations, out }
}

describe("market job machine under random schedules", () => {
  it("pays only delivered units, assigns one provider at a time and never one that failed, ends by deadline + window, never refunds a paid result", () => {
    const seen = new Map<string, number>()
    fc.assert(
      fc.property(schedule, (s) => {
        MARKET_JOB.tick()
        const { violations, out } = run(s)
        const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1)
        count(out?.status ?? "none")
        if ((out?.failed.length ?? 0) > 0) count("failed over")
        if ((out?.refunded ?? 0) > 0) count("dispute lost")
        if ((out?.providers.length ?? 0) > 1 && out?.status === "settled") count("settled by a second provider")
        expect(violations).toEqual([])
      }),
      MARKET_JOB.params,
    )
    console.info(`MARKET_JOB outcomes: ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}`)
  }, MARKET_JOB.timeout(50))
})

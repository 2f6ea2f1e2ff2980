/**
 * Load balancing in the compute market: the requester's routing policy (runtime/core/market/routing.ts,
 * power of two choices scored by expected completion time and price) against uniform random choice,
 * cheapest-first and the greedy best score, on one simulated workload in the same run (same providers,
 * same job arrivals, sizes and price caps for every policy).
 *
 * The world (virtual time, the simulator's Scheduler and seeded Prng):
 * - 24 providers in three tiers (fast 5 ms/unit, medium 10, slow 20; faster ones charge more),
 *   capacity 2, 4 or 8 open jobs, a round-trip time of 10–60 ms to the requesters. A provider shares
 *   its throughput among its open jobs: with k open, each runs at 1 / (1 + (k − 1) / capacity) of
 *   its speed (batched inference: a fuller batch is slower per job, faster in total).
 * - 16 requesters post jobs (Poisson, 1–20 units, a price cap drawn per job) and route each on their
 *   own view of the providers' records, refreshed by `findProviders` every 2 s (staggered) and
 *   updated in between only by their own assignments: what makes "pick the best" herd.
 * - A provider that is full when the assignment arrives refuses it (the rules' capacity check);
 *   the requester learns it is full, excludes it for this job and routes again after one round
 *   trip; with nobody eligible it refreshes its view after 200 ms and retries.
 *
 * Reported per policy and load level: load spread (time-averaged max/mean of providers' occupancy
 * queue/capacity, Gini of their mean occupancy), completion time (post → result back) p50/p99,
 * refusals per job and the mean price paid per unit.
 *
 * Run: npx node bench/load-balance.ts      (about 2 min; SEED=…, MINUTES=… virtual minutes, default 1, REQUESTERS=…, default 16, REFRESH_MS=…, default 2000)
 */
import { type Candidate, chooseProvider, eligibleProviders, LatencyEstimator, type RandomSource, type RoutingRequest, score } from "../runtime/core/market/routing.ts"
import { Prng } from "../sim/kernel/prng.ts"
import { Scheduler } from "../sim/kernel/scheduler.ts"

const SEED = Number(process.env.SEED ?? 13)
const MINUTES = Number(process.env.MINUTES ?? 1)
const PROVIDERS = 24
const REQUESTERS = Number(process.env.REQUESTERS ?? 16)
const REFRESH_MS = Number(process.env.REFRESH_MS ?? 2_000)
const RETRY_MS = 200
const SAMPLE_MS = 100

interface ProviderSpec {
  readonly peer: string
  readonly msPerUnit: number
  readonly capacity: number
  readonly price: bigint
  readonly rttMs: number
}

interface JobSpec {
  readonly at: number
  readonly requester: number
  readonly units: number
  readonly maxPricePerUnit: bigint
}

type Policy = "two-choices" | "three-choices" | "random" | "cheapest" | "best-score"
type Pick = (candidates: readonly Candidate[], request: RoutingRequest, latency: LatencyEstimator, random: RandomSource) => Candidate | undefined

const POLICIES: Readonly<Record<Policy, Pick>> = {
  "two-choices": (cs, req, l, r) => {
    const c = chooseProvider(cs, req, l, r)
    return c.ok ? c.provider : undefined
  },
  "three-choices": (cs, req, l, r) => {
    const c = chooseProvider(cs, req, l, r, { choices: 3 })
    return c.ok ? c.provider : undefined
  },
  random: (cs, req, _l, r) => {
    const e = eligibleProviders(cs, req)
    return e.length === 0 ? undefined : e[r.int(e.length)]
  },
  cheapest: (cs, req) =>
    eligibleProviders(cs, req).sort((a, b) => (a.record.pricePerUnit !== b.record.pricePerUnit ? (a.record.pricePerUnit < b.record.pricePerUnit ? -1 : 1) : a.record.queue - b.record.queue))[0],
  "best-score": (cs, req, l) => {
    let best: Candidate | undefined
    let bestScore = Infinity
    for (const c of eligibleProviders(cs, req)) {
      const s = score(c, req, l)
      if (s < bestScore) [best, bestScore] = [c, s]
    }
    return best
  },
}

/** The providers and the job stream of one world: the same for every policy. */
function world(seed: number, load: number) {
  const prng = Prng.fromSeed(seed).child("load-balance")
  const specs = prng.child("providers")
  const tiers = [{ msPerUnit: 5, price: 10 }, { msPerUnit: 10, price: 6 }, { msPerUnit: 20, price: 3 }] as const
  const providers: ProviderSpec[] = Array.from({ length: PROVIDERS }, (_, i) => {
    const tier = tiers[i % 3]!
    return {
      peer: `p${String(i).padStart(2, "0")}`,
      msPerUnit: tier.msPerUnit,
      capacity: [2, 4, 8][specs.int(3)]!,
      price: BigInt(Math.round(tier.price * (80 + specs.int(41)))), // ±20 %, in hundredths
      rttMs: 2 * specs.range(5, 30), // even, so half of it is a whole ms (the scheduler's unit)
    }
  })
  // Peak throughput (units/ms): every provider full, k = capacity.
  const peak = providers.reduce((sum, p) => sum + p.capacity / (p.msPerUnit * (2 - 1 / p.capacity)), 0)
  const meanUnits = 10.5
  const jobsPerMs = (load * peak) / meanUnits
  const arrivals = prng.child("jobs")
  const jobs: JobSpec[] = []
  for (let t = 0; ;) {
    // Exponential inter-arrival time from a uniform draw (integer PRNG → float only here, for the bench).
    t += -Math.log(1 - arrivals.int(1_000_000) / 1_000_000) / jobsPerMs
    if (t >= MINUTES * 60_000) break
    // Caps from 4.00 to 14.00 per unit: some jobs cannot afford the fast tier, a few only the slow one.
    jobs.push({ at: Math.round(t), requester: arrivals.int(REQUESTERS), units: arrivals.range(1, 20), maxPricePerUnit: BigInt(arrivals.range(400, 1400)) })
  }
  return { providers, jobs, peak }
}

interface Open {
  remaining: number // base ms of work left
  readonly done: () => void
}

/** Runs one policy on the world; returns its figures. */
function run(policy: Policy, w: ReturnType<typeof world>, seed: number) {
  const scheduler = new Scheduler()
  const random = Prng.fromSeed(seed).child(`policy:${policy}`)
  const pick = POLICIES[policy]
  const byPeer = new Map(w.providers.map((p) => [p.peer, p]))
  // Provider state: open jobs under processor sharing.
  const open = new Map<string, Open[]>(w.providers.map((p) => [p.peer, []]))
  const lastUpdate = new Map<string, number>(w.providers.map((p) => [p.peer, 0]))
  const nextDone = new Map<string, number>()
  const rate = (p: ProviderSpec, k: number) => 1 / (1 + (k - 1) / p.capacity)
  const advance = (p: ProviderSpec) => {
    const jobs = open.get(p.peer)!
    const dt = scheduler.now - lastUpdate.get(p.peer)!
    lastUpdate.set(p.peer, scheduler.now)
    if (jobs.length > 0) for (const j of jobs) j.remaining -= dt * rate(p, jobs.length)
  }
  const reschedule = (p: ProviderSpec) => {
    const handle = nextDone.get(p.peer)
    if (handle !== undefined) scheduler.cancel(handle)
    nextDone.delete(p.peer)
    const jobs = open.get(p.peer)!
    if (jobs.length === 0) return
    const first = jobs.reduce((a, b) => (b.remaining < a.remaining ? b : a))
    const delay = Math.max(0, Math.ceil(first.remaining / rate(p, jobs.length))) // whole ms: finishes at or just after its exact time
    nextDone.set(p.peer, scheduler.after(delay, () => {
      advance(p)
      const finished = jobs.filter((j) => j.remaining <= 1e-6)
      open.set(p.peer, jobs.filter((j) => j.remaining > 1e-6))
      for (const j of finished) j.done()
      reschedule(p)
    }))
  }
  /** The provider's side of an assignment: refused when full (the rules' capacity check). */
  const accept = (p: ProviderSpec, units: number, done: () => void): boolean => {
    advance(p)
    const jobs = open.get(p.peer)!
    if (jobs.length >= p.capacity) return false
    jobs.push({ remaining: units * p.msPerUnit, done })
    reschedule(p)
    return true
  }
  const end = MINUTES * 60_000
  const truth = (): Candidate[] => w.providers.map((p) => ({ peer: p.peer, record: { pricePerUnit: p.price, capacity: p.capacity, queue: open.get(p.peer)!.length } }))

  // Requesters: a view of the records (refreshed every REFRESH_MS) and a latency estimator each.
  const views: Candidate[][] = Array.from({ length: REQUESTERS }, () => truth())
  const latency = Array.from({ length: REQUESTERS }, () => new LatencyEstimator({ priorMsPerUnit: 10 }))
  for (let r = 0; r < REQUESTERS; r++) {
    const refresh = () => {
      views[r] = truth()
      // Past the end only jobs still running keep the world going.
      if (scheduler.now < end) scheduler.after(REFRESH_MS, refresh)
    }
    scheduler.at(Math.floor((r * REFRESH_MS) / REQUESTERS), refresh)
  }
  const bump = (r: number, peer: string, by: number) => {
    views[r] = views[r]!.map((c) => (c.peer === peer ? { peer, record: { ...c.record, queue: Math.max(0, c.record.queue + by) } } : c))
  }

  const completions: number[] = []
  let refusals = 0
  let paidUnits = 0
  let paid = 0n
  for (const job of w.jobs) {
    scheduler.at(job.at, () => {
      const exclude = new Set<string>()
      const attempt = () => {
        const request: RoutingRequest = { units: job.units, maxPricePerUnit: job.maxPricePerUnit, exclude }
        const chosen = pick(views[job.requester]!, request, latency[job.requester]!, random)
        if (chosen === undefined) {
          // Nobody eligible in our view: look again a little later, with a fresh view and a clean slate.
          scheduler.after(RETRY_MS, () => {
            views[job.requester] = truth()
            exclude.clear()
            attempt()
          })
          return
        }
        const p = byPeer.get(chosen.peer)!
        const load = chosen.record.queue / chosen.record.capacity
        scheduler.after(p.rttMs / 2, () => {
          const assignedAt = scheduler.now
          const ok = accept(p, job.units, () => {
            scheduler.after(p.rttMs / 2, () => {
              completions.push(scheduler.now - job.at)
              latency[job.requester]!.observe(p.peer, scheduler.now - assignedAt + p.rttMs / 2, job.units, load)
              bump(job.requester, p.peer, -1)
              paid += p.price * BigInt(job.units)
              paidUnits += job.units
            })
          })
          scheduler.after(p.rttMs / 2, () => {
            if (ok) return bump(job.requester, p.peer, +1)
            refusals++
            exclude.add(p.peer)
            views[job.requester] = views[job.requester]!.map((c) => (c.peer === p.peer ? { peer: c.peer, record: { ...c.record, queue: c.record.capacity } } : c))
            attempt()
          })
        })
      }
      attempt()
    })
  }

  // Occupancy samples: max/mean across providers, and each provider's mean.
  const occupancySum = new Map<string, number>(w.providers.map((p) => [p.peer, 0]))
  let samples = 0
  let ratioSum = 0
  const sample = () => {
    const occ = w.providers.map((p) => open.get(p.peer)!.length / p.capacity)
    const mean = occ.reduce((a, b) => a + b, 0) / occ.length
    if (mean > 0) {
      ratioSum += Math.max(...occ) / mean
      samples++
    }
    w.providers.forEach((p, i) => occupancySum.set(p.peer, occupancySum.get(p.peer)! + occ[i]!))
    if (scheduler.now + SAMPLE_MS <= end) scheduler.after(SAMPLE_MS, sample)
  }
  scheduler.at(0, sample)
  scheduler.runUntil()

  const meanOcc = w.providers.map((p) => occupancySum.get(p.peer)! / Math.max(1, Math.floor(end / SAMPLE_MS) + 1))
  completions.sort((a, b) => a - b)
  const q = (f: number) => completions[Math.min(completions.length - 1, Math.floor(f * completions.length))] ?? NaN
  return {
    policy,
    jobs: completions.length,
    maxOverMean: ratioSum / Math.max(1, samples),
    gini: gini(meanOcc),
    p50: q(0.5),
    p99: q(0.99),
    refusalsPerJob: refusals / Math.max(1, completions.length),
    pricePerUnit: paidUnits === 0 ? NaN : Number(paid) / paidUnits / 100,
  }
}

/** Gini coefficient of non-negative values (0: all equal; → 1: one holds everything). */
function gini(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b)
  const n = v.length
  const total = v.reduce((a, b) => a + b, 0)
  if (n === 0 || total === 0) return 0
  let weighted = 0
  v.forEach((x, i) => (weighted += (i + 1) * x))
  return (2 * weighted) / (n * total) - (n + 1) / n
}

console.log(`SEED=${SEED}  (${PROVIDERS} providers, ${REQUESTERS} requesters, views refreshed every ${REFRESH_MS / 1000} s, ${MINUTES} virtual minutes)`)
console.log("| load | policy | jobs | max/mean occupancy | Gini of occupancy | p50 ms | p99 ms | refusals/job | price/unit |")
console.log("|---|---|---|---|---|---|---|---|---|")
const started = performance.now()
for (const load of [0.5, 0.7, 0.85]) {
  const w = world(SEED, load)
  for (const policy of Object.keys(POLICIES) as Policy[]) {
    const r = run(policy, w, SEED)
    console.log(`| ${Math.round(load * 100)} % | ${r.policy} | ${r.jobs} | ${r.maxOverMean.toFixed(2)} | ${r.gini.toFixed(3)} | ${Math.round(r.p50)} | ${Math.round(r.p99)} | ${r.refusalsPerJob.toFixed(3)} | ${r.pricePerUnit.toFixed(2)} |`)
  }
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s wall)`)

/**
 * How a labelled dataset is split among federated trainers (pure; randomness comes in as `rng`).
 *
 * - `iid` — a random permutation cut into near-equal parts (sizes differ by at most one).
 * - `shards:k` — McMahan et al. 2017's pathological non-IID split: sort by label, cut into
 *   `clients × k` equal shards, give each client `k` random shards (`shards:2` is the paper's), so
 *   most clients see only `k` classes.
 * - `dirichlet:α` — for each class, client proportions drawn from Dirichlet(α, …, α) (Hsu et al.
 *   2019): small α (0.1) gives strong label skew, large α (100) approaches IID. Draws are repeated
 *   (a bounded number of times) until every client has at least one sample.
 *
 * `rng` returns floats in [0, 1), e.g. `() => prng.u32() / 2 ** 32` from the simulator's Prng.
 */
import { Data } from "effect"

export type PartitionSpec =
  | { readonly kind: "iid" }
  | { readonly kind: "shards"; readonly shardsPerClient: number }
  | { readonly kind: "dirichlet"; readonly alpha: number }

/** A partition spec or partition input was invalid; `reason` says what to change. */
export class PartitionError extends Data.TaggedError("PartitionError")<{ readonly spec: string; readonly reason: string }> {
  override get message(): string {
    return `partition ${JSON.stringify(this.spec)}: ${this.reason}`
  }
}

const FORMS = `expected "iid", "shards:k" (k shards per client, an integer ≥ 1) or "dirichlet:α" (α > 0, e.g. dirichlet:0.5)`

/** Parses `iid`, `shards:k` or `dirichlet:α`; throws PartitionError naming the spec otherwise. */
export function parsePartition(spec: string): PartitionSpec {
  const text = spec.trim()
  if (text === "iid") return { kind: "iid" }
  const [kind, arg, ...rest] = text.split(":")
  if (rest.length > 0 || arg === undefined || arg === "") throw new PartitionError({ spec, reason: FORMS })
  if (kind === "shards") {
    const k = Number(arg)
    if (!/^\d+$/.test(arg) || !Number.isSafeInteger(k) || k < 1) {
      throw new PartitionError({ spec, reason: `shards per client must be an integer ≥ 1, got ${JSON.stringify(arg)}` })
    }
    return { kind: "shards", shardsPerClient: k }
  }
  if (kind === "dirichlet") {
    const alpha = Number(arg)
    if (!Number.isFinite(alpha) || alpha <= 0) {
      throw new PartitionError({ spec, reason: `Dirichlet α must be a number > 0, got ${JSON.stringify(arg)}` })
    }
    return { kind: "dirichlet", alpha }
  }
  throw new PartitionError({ spec, reason: FORMS })
}

/** The canonical text of a spec (`parsePartition(specText(s))` gives `s` back). */
export const specText = (s: PartitionSpec): string =>
  s.kind === "iid" ? "iid" : s.kind === "shards" ? `shards:${s.shardsPerClient}` : `dirichlet:${s.alpha}`

/**
 * Splits sample indices `0..labels.length-1` among `clients`: every index goes to exactly one
 * client, every client gets at least one. Deterministic given `rng`'s sequence.
 */
export function partition(labels: Uint8Array, clients: number, spec: PartitionSpec | string, rng: () => number): number[][] {
  const s = typeof spec === "string" ? parsePartition(spec) : spec
  const text = typeof spec === "string" ? spec : specText(s)
  if (!Number.isSafeInteger(clients) || clients < 1) {
    throw new PartitionError({ spec: text, reason: `clients must be an integer ≥ 1, got ${clients}` })
  }
  if (labels.length < clients) {
    throw new PartitionError({ spec: text, reason: `${labels.length} samples cannot give each of ${clients} clients one` })
  }
  switch (s.kind) {
    case "iid":
      return cut(shuffled(range(labels.length), rng), clients)
    case "shards":
      return shards(labels, clients, s.shardsPerClient, text, rng)
    case "dirichlet":
      return dirichlet(labels, clients, s.alpha, rng)
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** Fisher–Yates, in place; returns `items`. */
function shuffled<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

/** `items` cut in order into `parts` contiguous pieces whose sizes differ by at most one. */
function cut<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = []
  const base = Math.floor(items.length / parts)
  const extra = items.length % parts
  let at = 0
  for (let p = 0; p < parts; p++) {
    const size = base + (p < extra ? 1 : 0)
    out.push(items.slice(at, at + size))
    at += size
  }
  return out
}

function shards(labels: Uint8Array, clients: number, k: number, spec: string, rng: () => number): number[][] {
  const count = clients * k
  if (labels.length < count) {
    throw new PartitionError({ spec, reason: `${labels.length} samples cannot make ${count} shards (${clients} clients × ${k})` })
  }
  // Sorted by label; within a label the order is random, so a shard is a random sample of its class(es).
  const byLabel = shuffled(range(labels.length), rng).sort((a, b) => labels[a]! - labels[b]!)
  const pieces = cut(byLabel, count)
  const order = shuffled(range(count), rng)
  return range(clients).map((c) => order.slice(c * k, (c + 1) * k).flatMap((s) => pieces[s]!))
}

const MAX_DIRICHLET_DRAWS = 100

function dirichlet(labels: Uint8Array, clients: number, alpha: number, rng: () => number): number[][] {
  const classes = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const list = classes.get(labels[i]!)
    if (list === undefined) classes.set(labels[i]!, [i])
    else list.push(i)
  }
  const labelOrder = [...classes.keys()].sort((a, b) => a - b)
  let best: number[][] = []
  for (let draw = 0; draw < MAX_DIRICHLET_DRAWS; draw++) {
    const out: number[][] = range(clients).map(() => [])
    for (const label of labelOrder) {
      const members = shuffled([...classes.get(label)!], rng)
      const p = dirichletSample(clients, alpha, rng)
      // Cumulative proportions → cut points (the last client takes the rounding remainder).
      let acc = 0
      let from = 0
      for (let c = 0; c < clients; c++) {
        acc += p[c]!
        const to = c === clients - 1 ? members.length : Math.min(members.length, Math.round(acc * members.length))
        for (let i = from; i < to; i++) out[c]!.push(members[i]!)
        from = Math.max(from, to)
      }
    }
    best = out
    if (out.every((xs) => xs.length > 0)) return out
  }
  // Tiny α with many clients: give each empty client one sample from the currently largest one.
  for (const xs of best) {
    if (xs.length > 0) continue
    const donor = best.reduce((a, b) => (b.length > a.length ? b : a))
    xs.push(donor.pop()!)
  }
  return best
}

/** One draw of Dirichlet(α·1ₙ): normalized Gamma(α) draws. */
function dirichletSample(n: number, alpha: number, rng: () => number): number[] {
  const g = range(n).map(() => gamma(alpha, rng))
  const sum = g.reduce((a, b) => a + b, 0)
  // All underflowed to zero (α very small): the mass goes to one random client.
  if (!(sum > 0)) {
    const one = Math.floor(rng() * n)
    return g.map((_, i) => (i === one ? 1 : 0))
  }
  return g.map((x) => x / sum)
}

/** Gamma(α, 1) by Marsaglia & Tsang (2000); for α < 1, Gamma(α+1)·U^(1/α). */
function gamma(alpha: number, rng: () => number): number {
  if (alpha < 1) return gamma(alpha + 1, rng) * Math.pow(openUnit(rng), 1 / alpha)
  const d = alpha - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = normal(rng)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = openUnit(rng)
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
  }
}

/** A float in (0, 1): `rng` may return exactly 0, which log and powers cannot take. */
const openUnit = (rng: () => number): number => {
  const u = rng()
  return u > 0 ? u : Number.MIN_VALUE
}

/** A standard normal draw (Box–Muller). */
const normal = (rng: () => number): number => Math.sqrt(-2 * Math.log(openUnit(rng))) * Math.cos(2 * Math.PI * rng())

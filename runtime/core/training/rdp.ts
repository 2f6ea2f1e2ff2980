/**
 * Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019, "Rényi
 * Differential Privacy of the Sampled Gaussian Mechanism"), ported from TensorFlow Privacy's
 * `rdp_accountant.compute_rdp` (`_compute_log_a_int` for integer orders, `_compute_log_a_frac` for
 * fractional ones) so its figures can be checked against TF Privacy's published ones.
 *
 *   new RdpAccountant(options?: { orders?: readonly number[]; conversion?: "classic" | "improved" })
 *   accountant.step(q, noiseMultiplier, steps = 1)    compose `steps` runs of the mechanism
 *   accountant.epsilon(delta = 1e-5)                  → { epsilon, order } for everything composed so far
 *   epsilonFor(q, noiseMultiplier, steps, delta?, options?)   the same for one (q, σ, steps) alone (e.g. a round)
 *   computeRdp(q, noiseMultiplier, orders)            RDP of one step at each order
 *
 * In federated training one round is one step: q = cohort size / population (user-level sampling),
 * noiseMultiplier = noise std / clip norm of the per-update L2 clip (DP-FedAvg, McMahan et al. 2018).
 *
 * Conversion to (ε, δ): "classic" (the default) is ε = RDP(α) − log δ / (α − 1), minimised over
 * α (Mironov 2017, Prop. 3) — the one TF Privacy used for its published MNIST figures, which the
 * tests reproduce. "improved" is ε = RDP(α) + log1p(−1/α) − log(δ·α) / (α − 1) (Balle et al. 2020,
 * "Hypothesis testing interpretations and Rényi DP", Thm 21; TF Privacy's current `compute_eps`):
 * always at most the classic value, and equally sound.
 */

/** Orders (α) tried by default: fractional ones near 1 for large ε, integers up to 64, then 128, 256. */
export const DEFAULT_ORDERS: readonly number[] = [
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...Array.from({ length: 60 }, (_, i) => i + 5), 128, 256,
]

export type Conversion = "classic" | "improved"

export interface RdpOptions {
  readonly orders?: readonly number[]
  readonly conversion?: Conversion
}

const logAdd = (x: number, y: number): number => {
  const a = Math.min(x, y)
  const b = Math.max(x, y)
  if (a === -Infinity) return b
  return Math.log1p(Math.exp(a - b)) + b
}

const logSub = (x: number, y: number): number => {
  if (x < y) throw new RangeError("rdp: log-space subtraction would be negative")
  if (y === -Infinity) return x
  if (x === y) return -Infinity
  const d = Math.expm1(x - y)
  return Number.isFinite(d) ? Math.log(d) + y : x
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI)

/** log(erfc(x)) accurate to ~1e-13 relative over the whole line (no underflow for large x). */
export const logErfc = (x: number): number => {
  if (x >= 2) {
    // Continued fraction erfc(x) = e^{−x²} / (√π · (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …))))),
    // evaluated bottom-up (stable); 200 levels are far beyond convergence for x ≥ 2.
    let t = x
    for (let k = 200; k >= 1; k--) t = x + k / 2 / t
    return -x * x - LOG_SQRT_PI - Math.log(t)
  }
  if (x <= -2) return Math.log(2 - Math.exp(logErfc(-x)))
  // Maclaurin series of erf for |x| < 2 (terms peak near 10, so ~1e-15 absolute error).
  let term = x
  let sum = x
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n
    const add = term / (2 * n + 1)
    sum += add
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
  }
  return Math.log(1 - (2 / Math.sqrt(Math.PI)) * sum)
}

/** log A_α for integer α (TF Privacy `_compute_log_a_int`). 0 < q < 1. */
const logAInt = (q: number, sigma: number, alpha: number): number => {
  let logA = -Infinity
  let logBinom = 0
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log(alpha - i + 1) - Math.log(i)
    const logCoef = logBinom + i * Math.log(q) + (alpha - i) * Math.log1p(-q)
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma))
  }
  return logA
}

/** log A_α for fractional α (TF Privacy `_compute_log_a_frac`). 0 < q < 1. */
const logAFrac = (q: number, sigma: number, alpha: number): number => {
  let logA0 = -Infinity
  let logA1 = -Infinity
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5
  let coef = 1 // binom(α, i), built up as a running product
  for (let i = 0; ; i++) {
    if (i > 0) coef *= (alpha - i + 1) / i
    const logCoef = Math.log(Math.abs(coef))
    const j = alpha - i
    const logT0 = logCoef + i * Math.log(q) + j * Math.log1p(-q)
    const logT1 = logCoef + j * Math.log(q) + i * Math.log1p(-q)
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma))
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma))
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
    if (coef > 0) {
      logA0 = logAdd(logA0, logS0)
      logA1 = logAdd(logA1, logS1)
    } else {
      logA0 = logSub(logA0, logS0)
      logA1 = logSub(logA1, logS1)
    }
    if (Math.max(logS0, logS1) < -30) break
    if (i > 100_000) throw new RangeError(`rdp: fractional order ${alpha} did not converge (q = ${q}, σ = ${sigma})`)
  }
  return logAdd(logA0, logA1)
}

const checkStep = (q: number, sigma: number, steps: number): void => {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`rdp: sampling rate q must be in [0, 1], got ${q}`)
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new RangeError(`rdp: noise multiplier must be positive and finite, got ${sigma}`)
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`rdp: steps must be a non-negative integer, got ${steps}`)
}

const checkOrders = (orders: readonly number[]): void => {
  if (orders.length === 0) throw new RangeError("rdp: no orders given")
  for (const a of orders) if (!(a > 1 && Number.isFinite(a))) throw new RangeError(`rdp: every order must be finite and > 1, got ${a}`)
}

/** RDP at order α of one run of the sampled Gaussian mechanism (rate q, noise multiplier σ). */
export const rdpAt = (q: number, sigma: number, alpha: number): number => {
  if (q === 0) return 0
  if (q === 1) return alpha / (2 * sigma * sigma)
  return (Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha)) / (alpha - 1)
}

/** RDP of one step at each order. */
export const computeRdp = (q: number, noiseMultiplier: number, orders: readonly number[] = DEFAULT_ORDERS): number[] => {
  checkStep(q, noiseMultiplier, 1)
  checkOrders(orders)
  return orders.map((a) => rdpAt(q, noiseMultiplier, a))
}

/** The smallest ε over the orders at which `rdp` (one value per order) gives (ε, δ)-DP. */
export const rdpToEpsilon = (
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
  conversion: Conversion = "classic",
): { epsilon: number; order: number } => {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`rdp: delta must be in (0, 1), got ${delta}`)
  let best = { epsilon: Infinity, order: orders[0]! }
  orders.forEach((a, k) => {
    const r = rdp[k]!
    // δ ≥ sqrt(1 − e^{−r}) bounds δ through the KL divergence (≤ r): ε = 0 (as TF Privacy's compute_eps).
    if (delta * delta + Math.expm1(-r) >= 0) {
      best = { epsilon: 0, order: a }
      return
    }
    const eps = conversion === "classic" ? r - Math.log(delta) / (a - 1) : r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1)
    if (eps < best.epsilon && best.epsilon > 0) best = { epsilon: eps, order: a }
  })
  return { epsilon: Math.max(0, best.epsilon), order: best.order }
}

/** ε at δ of `steps` runs of the sampled Gaussian mechanism alone (e.g. one training round). */
export const epsilonFor = (q: number, noiseMultiplier: number, steps: number, delta = 1e-5, options: RdpOptions = {}) => {
  checkStep(q, noiseMultiplier, steps)
  const orders = options.orders ?? DEFAULT_ORDERS
  return rdpToEpsilon(orders, computeRdp(q, noiseMultiplier, orders).map((r) => r * steps), delta, options.conversion)
}

/** Composes runs of the sampled Gaussian mechanism (RDP adds up per order) and reports ε at δ. */
export class RdpAccountant {
  readonly orders: readonly number[]
  readonly conversion: Conversion
  readonly #rdp: number[]
  #steps = 0

  constructor(options: RdpOptions = {}) {
    this.orders = [...(options.orders ?? DEFAULT_ORDERS)]
    checkOrders(this.orders)
    this.conversion = options.conversion ?? "classic"
    this.#rdp = this.orders.map(() => 0)
  }

  /** Compose `steps` runs with sampling rate q and noise multiplier σ. */
  step(q: number, noiseMultiplier: number, steps = 1): void {
    checkStep(q, noiseMultiplier, steps)
    const one = computeRdp(q, noiseMultiplier, this.orders)
    one.forEach((r, k) => (this.#rdp[k]! += r * steps))
    this.#steps += steps
  }

  /** Steps composed so far. */
  get steps(): number {
    return this.#steps
  }

  /** Total RDP per order so far. */
  rdp(): readonly number[] {
    return [...this.#rdp]
  }

  /** ε at δ (default 1e-5) for everything composed so far, and the order that gave it. */
  epsilon(delta = 1e-5): { epsilon: number; order: number } {
    return rdpToEpsilon(this.orders, this.#rdp, delta, this.conversion)
  }
}

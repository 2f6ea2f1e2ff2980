/**
 * The RDP accountant against published figures.
 *
 * Sources:
 * - TensorFlow Privacy, tutorials/README.md ("Select Parameters" table, MNIST DP-SGD tutorial,
 *   N = 60000, batch 256, δ = 1e-5): σ = 1.1 / 60 epochs → ε = 3.01; σ = 1.3 / 15 epochs → 1.19;
 *   σ = 0.7 / 45 epochs → 7.10. Those were computed by the tutorial's `compute_epsilon`: orders
 *   [1.1, 1.2, …, 10.9] + [12, …, 63], the classic conversion; steps = ceil(epochs · N / batch) as in
 *   `compute_dp_sgd_privacy.py`. The 7.10 needs the fractional orders (its optimum is α = 3.8; the
 *   integer orders alone give 7.12), so it checks `_compute_log_a_frac` too.
 * - TensorFlow Privacy, compute_dp_sgd_privacy.py docstring: σ = 1.12, 60 epochs → (2.92, 1e-5).
 * - TensorFlow Privacy, rdp_accountant_test.py: compute_rdp(0.1, 2, 10, 5) = 0.07737;
 *   compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]) = [0.00065, 0.001085, 0.00218075, 0.023846,
 *   167.416307] (±1e-5); the composition test (classic conversion) ε = 8.509656; the improved
 *   conversion of a constant RDP 1.1 over orders 2..32 at δ = 1e-5 → ε = 1.32783806176 at α = 32.
 */
import { describe, expect, it } from "vitest"
import { computeRdp, DEFAULT_ORDERS, epsilonFor, logErfc, RdpAccountant, rdpAt, rdpToEpsilon } from "./rdp.ts"

const TUTORIAL_ORDERS = [...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10), ...Array.from({ length: 52 }, (_, i) => i + 12)]
const mnist = (sigma: number, epochs: number) =>
  epsilonFor(256 / 60000, sigma, Math.ceil((epochs * 60000) / 256), 1e-5, { orders: TUTORIAL_ORDERS })
const round2 = (x: number) => Math.round(x * 100) / 100

describe("published TF Privacy MNIST figures (classic conversion)", () => {
  it("σ = 1.1, 60 epochs → ε = 3.01", () => expect(round2(mnist(1.1, 60).epsilon)).toBe(3.01))
  it("σ = 1.3, 15 epochs → ε = 1.19", () => expect(round2(mnist(1.3, 15).epsilon)).toBe(1.19))
  it("σ = 0.7, 45 epochs → ε = 7.10 (at a fractional order)", () => {
    const r = mnist(0.7, 45)
    expect(round2(r.epsilon)).toBe(7.1)
    expect(Number.isInteger(r.order)).toBe(false)
  })
  it("σ = 1.12, 60 epochs → ε = 2.92 with the script's orders", () => {
    const scriptOrders = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...Array.from({ length: 59 }, (_, i) => i + 5), 128, 256, 512]
    expect(round2(epsilonFor(256 / 60000, 1.12, 14063, 1e-5, { orders: scriptOrders }).epsilon)).toBe(2.92)
  })
  it("the accountant composes steps: 60 epochs of steps one at a time = all at once", () => {
    const acc = new RdpAccountant({ orders: TUTORIAL_ORDERS })
    for (let e = 0; e < 60; e++) acc.step(256 / 60000, 1.1, e === 59 ? 14063 - 59 * 234 : 234)
    expect(acc.steps).toBe(14063)
    expect(acc.epsilon(1e-5).epsilon).toBeCloseTo(mnist(1.1, 60).epsilon, 10)
  })
})

describe("TF Privacy rdp_accountant_test values", () => {
  it("compute_rdp(0.1, 2, 10, 5) = 0.07737", () => expect(rdpAt(0.1, 2, 5) * 10).toBeCloseTo(0.07737, 5))
  it("compute_rdp(0.01, 2.5, 50, orders incl. fractional)", () => {
    const got = computeRdp(0.01, 2.5, [1.5, 2.5, 5, 50, 100]).map((r) => r * 50)
    const want = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307]
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-5))
  })
  it("composition of two mechanisms, classic conversion → ε = 8.509656", () => {
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256]
    const acc = new RdpAccountant({ orders })
    acc.step(1e-4, 0.4, 40000)
    acc.step(0.1, 2, 100)
    const { epsilon, order } = acc.epsilon(1e-5)
    expect(epsilon).toBeCloseTo(8.509656, 5)
    expect(order).toBe(2.5)
  })
  it("improved conversion of a constant RDP 1.1 over orders 2..32 → ε = 1.32783806176 at α = 32", () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2)
    const r = rdpToEpsilon(orders, orders.map(() => 1.1), 1e-5, "improved")
    expect(r.epsilon).toBeCloseTo(1.32783806176, 10)
    expect(r.order).toBe(32)
  })
  it("the improved conversion is never above the classic one", () => {
    for (const [q, s, t] of [[0.01, 1, 1000], [0.1, 0.8, 50], [1e-3, 2, 1e5]] as const) {
      const c = epsilonFor(q, s, t, 1e-5).epsilon
      const i = epsilonFor(q, s, t, 1e-5, { conversion: "improved" }).epsilon
      expect(i).toBeLessThanOrEqual(c)
      expect(i).toBeGreaterThan(0)
    }
  })
})

describe("exact cases and the math underneath", () => {
  it("q = 1 is the plain Gaussian mechanism: RDP(α) = α / (2σ²) exactly", () => {
    for (const alpha of DEFAULT_ORDERS) expect(rdpAt(1, 1.7, alpha)).toBe(alpha / (2 * 1.7 * 1.7))
    expect(computeRdp(1, 0.5, [2, 3.5])).toEqual([4, 7])
  })
  it("q = 0 costs nothing, and RDP grows with q and falls with σ", () => {
    expect(epsilonFor(0, 1, 100).epsilon).toBe(0)
    expect(rdpAt(0.02, 1, 8)).toBeGreaterThan(rdpAt(0.01, 1, 8))
    expect(rdpAt(0.01, 2, 8)).toBeLessThan(rdpAt(0.01, 1, 8))
  })
  it("fractional and integer orders agree where they meet (continuity at α = 4)", () => {
    const [below, at, above] = computeRdp(0.05, 1.2, [3.999, 4, 4.001])
    expect(Math.abs(at! - below!)).toBeLessThan(1e-3 * at!)
    expect(Math.abs(above! - at!)).toBeLessThan(1e-3 * at!)
  })
  it("logErfc matches erfc at reference points and does not underflow", () => {
    // erfc values from Abramowitz & Stegun / any CAS.
    const ref: Array<[number, number]> = [[0, 1], [0.5, 0.4795001221869535], [1, 0.15729920705028513], [2, 0.004677734981047266], [3, 2.209049699858544e-5], [-1, 1.8427007929497148]]
    for (const [x, v] of ref) expect(Math.exp(logErfc(x)) / v - 1).toBeLessThan(1e-12)
    // erfc(30) ≈ 2.5646e-393 underflows a double; its log does not: −x² − log(x√π) − …
    // (asymptotic series: log(1 − a + 3a² − …) ≈ −a + 5a²/2 with a = 1/(2x²))
    expect(logErfc(30)).toBeCloseTo(-900 - Math.log(30 * Math.sqrt(Math.PI)) - 1 / 1800 + 2.5 / 1800 ** 2, 7)
  })
  it("rejects bad parameters with the name of what is wrong", () => {
    expect(() => new RdpAccountant().step(1.5, 1)).toThrow(/sampling rate q must be in \[0, 1\], got 1.5/)
    expect(() => new RdpAccountant().step(0.1, 0)).toThrow(/noise multiplier must be positive/)
    expect(() => new RdpAccountant().step(0.1, 1, 2.5)).toThrow(/steps must be a non-negative integer/)
    expect(() => new RdpAccountant({ orders: [1, 2] })).toThrow(/order must be finite and > 1, got 1/)
    expect(() => new RdpAccountant().epsilon(0)).toThrow(/delta must be in \(0, 1\)/)
  })
})

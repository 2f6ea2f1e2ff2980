/**
 * Sampling of the parameter space: the full grid (mixed radix, computed per index so it is never
 * materialised) and Latin hypercube sampling (McKay et al. 1979): each dimension is cut into n equal
 * strata and every stratum holds exactly one of the n samples, so n runs cover every range evenly.
 */
import type { Prng } from "../kernel/index.ts"

/** Number of points of a grid with these value counts per dimension. */
export const gridSize = (counts: readonly number[]): number => counts.reduce((p, n) => p * n, 1)

/** The grid point at `index` as one value index per dimension (last dimension fastest). */
export const gridIndices = (counts: readonly number[], index: number): number[] => {
  const out = new Array<number>(counts.length)
  let rest = index
  for (let d = counts.length - 1; d >= 0; d--) {
    out[d] = rest % counts[d]!
    rest = Math.floor(rest / counts[d]!)
  }
  return out
}

/** A uniform float in [0, 1) from 32 random bits. */
const unit = (prng: Prng): number => prng.u32() / 2 ** 32

/**
 * `n` points in [0, 1)^dims: in dimension d, sample i lies in stratum perm_d(i) of the n strata
 * [k/n, (k+1)/n), at a uniform position inside it; the permutations are independent.
 */
export const latinHypercube = (n: number, dims: number, prng: Prng): number[][] => {
  const rows = Array.from({ length: n }, () => new Array<number>(dims))
  for (let d = 0; d < dims; d++) {
    const strata = prng.shuffle(Array.from({ length: n }, (_, k) => k))
    for (let i = 0; i < n; i++) rows[i]![d] = (strata[i]! + unit(prng)) / n
  }
  return rows
}

/**
 * Differential privacy for federated rounds, as DP-FedAvg (McMahan et al. 2018, "Learning
 * Differentially Private Recurrent Language Models"):
 *
 *   clipL2(delta, clipNorm)                 → { clipped, norm }   every trainer's update scaled to L2 norm ≤ S
 *   addGaussianNoise(v, std, normal)        → v + N(0, std²) per coordinate (a new array)
 *   noisyMean(sum, count, clipNorm, noiseMultiplier, normal) → (sum + N(0, (z·S)²)) / count
 *   gaussianFromU32(u32)                    → () => standard normal draws (Box–Muller) from a uint32 source
 *
 * Where the noise goes: once, on the AGGREGATE — the sum of the clipped updates — with std
 * z·S (z = noiseMultiplier, S = clipNorm), before dividing by the number of updates. Clipping bounds
 * each trainer's influence on the sum (L2 sensitivity S: user-level DP), and the noise on the sum
 * makes the released mean (ε, δ)-DP; the RDP accountant (rdp.ts) charges one step of the sampled
 * Gaussian mechanism per round with q = cohort / population and σ = z. Under secure aggregation the
 * aggregator only ever sees that sum, so the noise goes in the same place: clients clip before
 * quantizing, the aggregator adds noise to the dequantized sum. The aggregator is trusted to add it
 * (central DP); a distributed variant (each client adding N(0, (zS)²/n)) would lose noise with every
 * dropout, below what the accountant charged, and is not offered.
 */

/** L2 norm (accumulated in float64). */
export const l2Norm = (v: Float32Array): number => {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!
  return Math.sqrt(s)
}

/** Scale `delta` down to L2 norm ≤ clipNorm (unchanged when already within); `norm` is the norm before clipping. */
export const clipL2 = (delta: Float32Array, clipNorm: number): { clipped: Float32Array; norm: number } => {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new RangeError(`dp: clipNorm must be positive and finite, got ${clipNorm}`)
  const norm = l2Norm(delta)
  if (!Number.isFinite(norm)) throw new RangeError("dp: the update has a non-finite value")
  const clipped = Float32Array.from(delta)
  if (norm > clipNorm) {
    const scale = clipNorm / norm
    for (let i = 0; i < clipped.length; i++) clipped[i] = delta[i]! * scale
    // float32 rounding can leave the norm a hair above clipNorm: shrink by one ulp-sized step.
    if (l2Norm(clipped) > clipNorm) for (let i = 0; i < clipped.length; i++) clipped[i] = clipped[i]! * (1 - 2 ** -22)
  }
  return { clipped, norm }
}

/** v + N(0, std²) in every coordinate, as a new array; `normal` draws standard normals. */
export const addGaussianNoise = (v: Float32Array, std: number, normal: () => number): Float32Array => {
  if (!(std >= 0 && Number.isFinite(std))) throw new RangeError(`dp: noise std must be non-negative and finite, got ${std}`)
  const out = new Float32Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = v[i]! + std * normal()
  return out
}

/** The DP-FedAvg release: (sum of `count` clipped updates + N(0, (noiseMultiplier·clipNorm)²)) / count. */
export const noisyMean = (sum: Float32Array, count: number, clipNorm: number, noiseMultiplier: number, normal: () => number): Float32Array => {
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`dp: count must be a positive integer, got ${count}`)
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier))) throw new RangeError(`dp: noiseMultiplier must be non-negative and finite, got ${noiseMultiplier}`)
  const noisy = addGaussianNoise(sum, noiseMultiplier * clipNorm, normal)
  for (let i = 0; i < noisy.length; i++) noisy[i] = noisy[i]! / count
  return noisy
}

/** Standard normal draws from a source of uniform uint32s (Box–Muller; deterministic given the source). */
export const gaussianFromU32 = (u32: () => number): (() => number) => {
  let spare: number | undefined
  // (k + 0.5) / 2^32 is uniform on (0, 1) and never 0, so the log below is finite.
  const uniform = () => (u32() + 0.5) / 0x1_0000_0000
  return () => {
    if (spare !== undefined) {
      const s = spare
      spare = undefined
      return s
    }
    const r = Math.sqrt(-2 * Math.log(uniform()))
    const theta = 2 * Math.PI * uniform()
    spare = r * Math.sin(theta)
    return r * Math.cos(theta)
  }
}

/**
 * Fixed-point encoding of updates for secure aggregation, whose arithmetic is mod 2^32.
 *
 *   quantize(delta, clip, participants) → Uint32Array   each value clipped to [−clip, clip] and mapped
 *                                                       to round(x / clip · QUANT_MAX), two's complement
 *   dequantize(sum, clip, count)        → Float32Array  the real-valued SUM of the `count` vectors summed
 *
 * Headroom: every encoded value has |q| ≤ QUANT_MAX = 2^23 − 1, so a sum of up to 2^8 = 256 of them
 * stays within int32 and never wraps. That is log2(256) = 8 bits of headroom, at least log2(n) for
 * every cohort secure aggregation supports (n ≤ 255, the Shamir limit). The headroom is fixed rather
 * than fitted to each cohort on purpose: the scale then does not depend on n, so decoding a sum of
 * the survivors (fewer than the cohort after dropouts) cannot silently use the wrong scale.
 * Precision: one step is clip / QUANT_MAX ≈ 1.2e-7·clip (float32's own precision at |x| = clip);
 * the round-trip error is at most half a step per value, count/2 steps for a sum of count.
 */

/** Largest encoded magnitude: 2^23 − 1 (24 signed bits; 8 bits of headroom for the sum). */
export const QUANT_MAX = 2 ** 23 - 1
/** Most vectors whose sum cannot overflow. */
export const QUANT_MAX_PARTICIPANTS = 256

const checkClip = (clip: number): void => {
  if (!(Number.isFinite(clip) && clip > 0)) throw new RangeError(`quantization clip must be a positive finite number, got ${clip}`)
}

/** Clip to [−clip, clip] and encode as 32-bit two's-complement fixed point (see the file header). */
export const quantize = (delta: Float32Array, clip: number, participants: number): Uint32Array => {
  checkClip(clip)
  if (!Number.isInteger(participants) || participants < 1 || participants > QUANT_MAX_PARTICIPANTS) {
    throw new RangeError(`quantize: participants must be an integer in [1, ${QUANT_MAX_PARTICIPANTS}], got ${participants}`)
  }
  const out = new Uint32Array(delta.length)
  const scale = QUANT_MAX / clip
  for (let i = 0; i < delta.length; i++) {
    const x = delta[i]!
    if (Number.isNaN(x)) throw new RangeError(`quantize: the update has NaN at index ${i}`)
    const c = x > clip ? clip : x < -clip ? -clip : x
    out[i] = Math.round(c * scale) >>> 0
  }
  return out
}

/** Decode a sum mod 2^32 of `count` quantized vectors into the real-valued sum. */
export const dequantize = (sum: Uint32Array, clip: number, count: number): Float32Array => {
  checkClip(clip)
  if (!Number.isInteger(count) || count < 1 || count > QUANT_MAX_PARTICIPANTS) {
    throw new RangeError(`dequantize: count must be an integer in [1, ${QUANT_MAX_PARTICIPANTS}], got ${count}`)
  }
  const bound = count * QUANT_MAX
  const out = new Float32Array(sum.length)
  for (let i = 0; i < sum.length; i++) {
    const s = sum[i]! | 0
    // A sum of count values in [−QUANT_MAX, QUANT_MAX] cannot leave this range: if it does, the
    // vector is not such a sum (wrong count, or a failed unmasking).
    if (s > bound || s < -bound) throw new RangeError(`dequantize: value ${s} at index ${i} is not a sum of ${count} quantized values`)
    out[i] = (s * clip) / QUANT_MAX
  }
  return out
}

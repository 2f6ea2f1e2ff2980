/** A simulated node's randomness: a stream of the run's seed (same seed, same draws). */
import type { NodeRandom } from "../../runtime/services/random.ts"
import type { Prng } from "../kernel/prng.ts"
import { gaussian } from "./trainer.ts"

export const seededRandom = (prng: Prng): NodeRandom => ({
  bytes: (n) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const x = prng.u32()
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (x >>> (8 * j)) & 0xff
    }
    return out
  },
  normal: () => gaussian(prng),
})

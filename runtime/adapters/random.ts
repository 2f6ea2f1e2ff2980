/** A real node's randomness: the operating system's (salts, secure-aggregation keys, DP noise). */
import { randomBytes, randomInt } from "node:crypto"
import type { NodeRandom } from "../services/random.ts"

/** A standard normal draw from crypto randomness (Box–Muller). */
const cryptoNormal = (): number => {
  const u = randomInt(1, 2 ** 47) / 2 ** 47
  const v = randomInt(0, 2 ** 47) / 2 ** 47
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

export const cryptoRandom: NodeRandom = {
  bytes: (n) => new Uint8Array(randomBytes(n)),
  normal: cryptoNormal,
}

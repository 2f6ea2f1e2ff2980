/**
 * Shamir secret sharing over GF(2^8), synchronous and fed by the caller's random bytes (the
 * simulator's seeded stream or crypto randomness), byte-compatible with Privy's audited
 * `shamir-secret-sharing`: the AES field (x^8 + x^4 + x^3 + x + 1), a share is the secret's length of
 * y bytes followed by its x coordinate (1..255), so shares made here combine there and the reverse
 * (shamir.test.ts checks both, and against the `shamir` package's join).
 *
 * Why our own ~80 lines rather than a package: Privy's is asynchronous (the simulator's event loop is
 * synchronous); `shamirs-secret-sharing` took 21–31 ms per combine (90 % of the server's time); the
 * `shamir` package (sync, injectable randomness) is not allowed in runtime/core by the import rule
 * (runtime/architecture.test.ts) and interpolates every byte from scratch. Here the Lagrange basis at
 * 0 depends only on the holders' x coordinates, so it is computed once per set of holders and every
 * secret those holders share is then t table multiplications per byte.
 */

/** The most shares GF(2^8) allows (its 255 non-zero points). */
export const MAX_SHARES = 255

// log/exp tables of GF(2^8) with generator 3; EXP is doubled so EXP[LOG[a] + LOG[b]] needs no mod.
const EXP = new Uint8Array(510)
const LOG = new Uint8Array(256)
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x
  EXP[i + 255] = x
  LOG[x] = i
  // x *= 3: x·2 (reduced by the AES polynomial 0x11b) xor x.
  x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0)
}

/** a·b in GF(2^8). */
export const gfMul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!)

/**
 * t-of-n shares of `secret` (1..255 bytes each plus the x coordinate); share i (0-based) has x = i + 1
 * and goes to the i-th holder. Draws (t − 1)·|secret| bytes from `randomBytes` in one call.
 */
export const shamirSplit = (secret: Uint8Array, shares: number, threshold: number, randomBytes: (n: number) => Uint8Array): Uint8Array[] => {
  if (!Number.isInteger(shares) || shares < 2 || shares > MAX_SHARES) throw new RangeError(`Shamir: shares must be an integer in [2, ${MAX_SHARES}], got ${shares}`)
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares) throw new RangeError(`Shamir: threshold must be an integer in [2, ${shares}], got ${threshold}`)
  if (secret.length === 0) throw new RangeError("Shamir: the secret is empty")
  const len = secret.length
  const degree = threshold - 1
  // Coefficients 1..degree of byte b's polynomial are random[b·degree .. (b+1)·degree).
  const random = randomBytes(degree * len)
  if (random.length !== degree * len) throw new RangeError(`randomBytes(${degree * len}) returned ${random.length} bytes`)
  const out: Uint8Array[] = []
  for (let x = 1; x <= shares; x++) {
    const share = new Uint8Array(len + 1)
    const logX = LOG[x]!
    for (let b = 0; b < len; b++) {
      // Horner from the highest coefficient down to the secret byte (coefficient 0).
      const base = b * degree - 1
      let y = 0
      for (let c = degree; c >= 1; c--) y = (y === 0 ? 0 : EXP[LOG[y]! + logX]!) ^ random[base + c]!
      share[b] = (y === 0 ? 0 : EXP[LOG[y]! + logX]!) ^ secret[b]!
    }
    share[len] = x
    out.push(share)
  }
  return out
}

/** Lagrange basis at 0 for these x coordinates, as logarithms (memoised: a round reuses few holder sets). */
const basisCache = new Map<string, Uint8Array>()
const lagrangeLogsAtZero = (xs: readonly number[]): Uint8Array => {
  const key = xs.join(",")
  const hit = basisCache.get(key)
  if (hit) return hit
  const logs = new Uint8Array(xs.length)
  for (let i = 0; i < xs.length; i++) {
    // L_i(0) = Π_{j≠i} x_j / (x_i − x_j); subtraction is xor; in logs, a sum and a difference mod 255.
    let l = 0
    for (let j = 0; j < xs.length; j++) if (j !== i) l += LOG[xs[j]!]! - LOG[xs[i]! ^ xs[j]!]! + 255
    logs[i] = l % 255
  }
  if (basisCache.size >= 256) basisCache.clear()
  basisCache.set(key, logs)
  return logs
}

/**
 * The secret behind `shares` (at least 2, of one length, distinct non-zero x). With fewer shares than
 * the threshold the result is unrelated to the secret, not an error: callers check what they rebuild.
 */
export const shamirCombine = (shares: readonly Uint8Array[]): Uint8Array => {
  if (shares.length < 2 || shares.length > MAX_SHARES) throw new RangeError(`Shamir: combine needs 2 to ${MAX_SHARES} shares, got ${shares.length}`)
  const size = shares[0]!.length
  if (size < 2) throw new RangeError(`Shamir: a share has at least 2 bytes, got ${size}`)
  const xs: number[] = []
  const seen = new Set<number>()
  for (const s of shares) {
    if (s.length !== size) throw new RangeError(`Shamir: shares of different lengths (${size} and ${s.length})`)
    const x = s[size - 1]!
    if (x === 0 || seen.has(x)) throw new RangeError(`Shamir: share x coordinate ${x} is zero or repeated`)
    seen.add(x)
    xs.push(x)
  }
  const logs = lagrangeLogsAtZero(xs)
  const secret = new Uint8Array(size - 1)
  for (let i = 0; i < shares.length; i++) {
    const s = shares[i]!
    const l = logs[i]!
    for (let b = 0; b < size - 1; b++) {
      const y = s[b]!
      if (y !== 0) secret[b] = secret[b]! ^ EXP[LOG[y]! + l]!
    }
  }
  return secret
}

/**
 * Secure aggregation: the unmasked sum equals the plain sum exactly, with and without dropouts (a
 * fast-check property over n, t and the stage each client drops at); below the threshold the round
 * aborts with a SecAggAbort saying where and how many; a masked vector looks uniform; and the
 * protocol refuses the requests and messages that would leak or corrupt. Failures print the seed.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  runSecAgg, SecAggAbort, SecAggClient, SecAggError, SecAggServer, seededRandomBytes,
  type SecAggConfig, type SecAggStage,
} from "./index.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 30)
const STAGES: readonly SecAggStage[] = ["advertise", "share-keys", "masked-input", "unmask"]

const plainSum = (vectors: readonly Uint32Array[], length: number): Uint32Array => {
  const s = new Uint32Array(length)
  for (const v of vectors) for (let i = 0; i < length; i++) s[i] = (s[i]! + v[i]!) >>> 0
  return s
}
const randomInputs = (n: number, length: number, seed: string): Map<string, Uint32Array> => {
  const rnd = seededRandomBytes(`inputs/${seed}`)
  return new Map(Array.from({ length: n }, (_, i) => [`client-${String(i).padStart(3, "0")}`, new Uint32Array(rnd(4 * length).buffer)]))
}
const rngFor = (seed: string) => (id: string) => seededRandomBytes(`${seed}/${id}`)
const caught = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected a throw")
}

describe("secure aggregation sums exactly", () => {
  it("with no dropout the unmasked sum equals the plain sum mod 2^32", () => {
    const inputs = randomInputs(6, 40, "a")
    const run = runSecAgg({ config: { round: "r1", threshold: 4, length: 40 }, inputs, randomBytes: rngFor("a") })
    expect(run.dropped).toEqual([])
    expect(run.survivors).toEqual([...inputs.keys()])
    expect(run.sum).toEqual(plainSum([...inputs.values()], 40))
  })

  it("property: with dropouts at any stage, the sum of the survivors' inputs or a clean abort", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            t: fc.integer({ min: 2, max: n }),
            // Each client's stage of dropping out (undefined: stays to the end); biased towards staying.
            drops: fc.array(fc.option(fc.constantFrom(...STAGES), { nil: undefined, freq: 2 }), { minLength: n, maxLength: n }),
            length: fc.integer({ min: 1, max: 24 }),
            seed: fc.string({ minLength: 1, maxLength: 8 }),
          }),
        ),
        ({ n, t, drops, length, seed }) => {
          const inputs = randomInputs(n, length, seed)
          const ids = [...inputs.keys()]
          const drop = new Map<string, SecAggStage>()
          ids.forEach((id, i) => drops[i] && drop.set(id, drops[i]))
          const reached = (stage: SecAggStage) => ids.filter((id) => !drop.has(id) || STAGES.indexOf(drop.get(id)!) > STAGES.indexOf(stage))
          const config = { round: `r-${seed}`, threshold: t, length }
          const firstShort = STAGES.find((s) => reached(s).length < t)
          if (firstShort !== undefined) {
            const e = caught(() => runSecAgg({ config, inputs, randomBytes: rngFor(seed), drop }))
            expect(e).toBeInstanceOf(SecAggAbort)
            expect((e as SecAggAbort).stage).toBe(firstShort)
            expect((e as SecAggAbort).reason).toContain(`only ${reached(firstShort).length} `)
            expect((e as SecAggAbort).reason).toContain(`threshold t = ${t}`)
            return
          }
          const run = runSecAgg({ config, inputs, randomBytes: rngFor(seed), drop })
          const survivors = reached("masked-input")
          expect(run.survivors).toEqual(survivors)
          expect(run.dropped).toEqual(reached("share-keys").filter((id) => !survivors.includes(id)))
          expect(run.sum).toEqual(plainSum(survivors.map((id) => inputs.get(id)!), length))
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("survives the largest dropout the threshold allows (n − t inputs missing) and is deterministic", () => {
    const inputs = randomInputs(9, 30, "b")
    const ids = [...inputs.keys()]
    const drop = new Map<string, SecAggStage>(ids.slice(0, 4).map((id) => [id, "masked-input"]))
    const config = { round: "r2", threshold: 5, length: 30 }
    const run = runSecAgg({ config, inputs, randomBytes: rngFor("b"), drop })
    expect(run.dropped).toEqual(ids.slice(0, 4))
    expect(run.sum).toEqual(plainSum(ids.slice(4).map((id) => inputs.get(id)!), 30))
    expect(runSecAgg({ config, inputs, randomBytes: rngFor("b"), drop }).sum).toEqual(run.sum)
  })
})

describe("aborts below the threshold", () => {
  it("says which stage and how many survived against the threshold", () => {
    const inputs = randomInputs(5, 8, "c")
    const ids = [...inputs.keys()]
    const drop = new Map<string, SecAggStage>([[ids[0]!, "masked-input"], [ids[1]!, "masked-input"]])
    const e = caught(() => runSecAgg({ config: { round: "r3", threshold: 4, length: 8 }, inputs, randomBytes: rngFor("c"), drop }))
    expect(e).toBeInstanceOf(SecAggAbort)
    expect((e as SecAggAbort)._tag).toBe("SecAggAbort")
    expect((e as SecAggAbort).stage).toBe("masked-input")
    expect((e as SecAggAbort).message).toBe("secure aggregation aborted at masked-input: only 3 masked inputs arrived, below the threshold t = 4")
  })

  it("a client refuses to share keys with fewer than t advertised peers", () => {
    const config: SecAggConfig = { round: "r4", threshold: 3, length: 4 }
    const a = new SecAggClient({ id: "a", config, randomBytes: seededRandomBytes("a") })
    const b = new SecAggClient({ id: "b", config, randomBytes: seededRandomBytes("b") })
    const adverts = [a.advertise(), b.advertise()]
    const e = caught(() => a.shareKeys(adverts))
    expect(e).toBeInstanceOf(SecAggAbort)
    expect((e as SecAggAbort).reason).toBe("only 2 clients advertised keys, below the threshold t = 3")
  })
})

/** Clients and server driven by hand up to the masked inputs. */
const upToMasked = (n: number, t: number, length: number, seed: string) => {
  const config: SecAggConfig = { round: `r-${seed}`, threshold: t, length }
  const server = new SecAggServer(config)
  const clients = Array.from({ length: n }, (_, i) => new SecAggClient({ id: `c${i}`, config, randomBytes: seededRandomBytes(`${seed}/${i}`) }))
  for (const c of clients) server.receiveAdvert(c.advertise())
  const adverts = server.closeAdvertise()
  const shareMessages = clients.map((c) => c.shareKeys(adverts))
  for (const m of shareMessages) server.receiveShares(m)
  const routed = server.closeShareKeys()
  return { config, server, clients, routed, shareMessages }
}

describe("a masked input reveals nothing", () => {
  /** Chi-square statistic of the byte frequencies (255 degrees of freedom). */
  const chiSquareBytes = (v: Uint32Array): number => {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    const counts = new Float64Array(256)
    for (const b of bytes) counts[b]!++
    const expected = bytes.length / 256
    return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0)
  }

  it("a masked all-zero input has uniform byte frequencies (chi-square, 255 dof)", () => {
    const length = 20_000
    const { clients, routed } = upToMasked(3, 2, length, "uniform")
    const c = clients[0]!
    c.receiveShares(routed.get(c.id)!)
    const zeros = new Uint32Array(length)
    const chi = chiSquareBytes(c.maskedInput(zeros).masked)
    // Mean 255, sd ≈ 22.6: the 1e-6 tails are about 150 and 390 (fixed seed, so this is stable).
    expect(chi).toBeGreaterThan(150)
    expect(chi).toBeLessThan(390)
    // The same statistic does reject a structured vector: small quantized values are far from uniform.
    const structured = Uint32Array.from({ length }, (_, i) => (i % 1000) * 37)
    expect(chiSquareBytes(structured)).toBeGreaterThan(10_000)
  })
})

describe("refusals", () => {
  it("a client never reveals both shares of one peer", () => {
    const { clients, routed, server } = upToMasked(4, 2, 4, "both")
    for (const c of clients) {
      c.receiveShares(routed.get(c.id)!)
      server.receiveMaskedInput(c.maskedInput(new Uint32Array(4)))
    }
    const e = caught(() => clients[0]!.unmaskResponse(["c0", "c1", "c2", "c3"], ["c3"]))
    expect(e).toBeInstanceOf(SecAggError)
    expect((e as SecAggError).reason).toMatch(/"c3" is listed both as survivor and as dropped/)
  })

  it("a client rejects a tampered or misrouted share", () => {
    const { clients, routed } = upToMasked(3, 2, 4, "tamper")
    const forB = routed.get("c1")!
    const flipped = forB.map((s, i) => (i === 0 ? { ...s, ciphertext: s.ciphertext.map((x, j) => (j === 20 ? x ^ 1 : x)) } : s))
    expect((caught(() => clients[1]!.receiveShares(flipped)) as SecAggError).reason).toMatch(/from "c0" does not decrypt/)
    // A share for c1 replayed to c2 (with its address rewritten) does not open under c2's key.
    const replay = [{ ...forB[0]!, to: "c2" }, routed.get("c2")![1]!]
    expect((caught(() => clients[2]!.receiveShares(replay)) as SecAggError).reason).toMatch(/does not decrypt/)
  })

  it("steps out of order and bad messages are errors that name what went wrong", () => {
    const config: SecAggConfig = { round: "r5", threshold: 2, length: 3 }
    const c = new SecAggClient({ id: "a", config, randomBytes: seededRandomBytes("x") })
    expect((caught(() => c.maskedInput(new Uint32Array(3))) as SecAggError).reason).toBe("client a: maskedInput() called out of order (expected advertise())")
    const server = new SecAggServer(config)
    const advert = c.advertise()
    server.receiveAdvert(advert)
    expect((caught(() => server.receiveAdvert(advert)) as SecAggError).reason).toBe('a second advert from "a"')
    expect((caught(() => server.receiveAdvert({ ...advert, id: "b", maskKey: new Uint8Array(31) })) as SecAggError).reason).toMatch(/not 32 bytes/)
    expect((caught(() => server.finish()) as SecAggError).reason).toBe("finish() while the server is at advertise")
    expect(() => new SecAggServer({ round: "r", threshold: 1, length: 3 })).toThrow(/threshold must be an integer in \[2, 255\], got 1/)
  })

  it("the server refuses inputs of the wrong length and shares that do not reach every peer", () => {
    const { config, server } = upToMasked(3, 2, 4, "len")
    expect((caught(() => server.receiveMaskedInput({ from: "c0", masked: new Uint32Array(5) })) as SecAggError).reason).toMatch(/length 4, got 5/)
    expect((caught(() => server.receiveMaskedInput({ from: "zz", masked: new Uint32Array(4) })) as SecAggError).reason).toMatch(/did not share its keys/)
    const fresh = new SecAggServer(config)
    const cs = Array.from({ length: 3 }, (_, i) => new SecAggClient({ id: `d${i}`, config, randomBytes: seededRandomBytes(`d${i}`) }))
    for (const c of cs) fresh.receiveAdvert(c.advertise())
    const m = cs[0]!.shareKeys(fresh.closeAdvertise())
    expect((caught(() => fresh.receiveShares({ ...m, shares: m.shares.slice(1) })) as SecAggError).reason).toMatch(/1 shares for 2 other clients/)
  })

  it("the server detects corrupted mask-key shares of a dropped client", () => {
    const { clients, routed, server } = upToMasked(4, 3, 4, "corrupt")
    for (const c of clients.slice(0, 3)) {
      c.receiveShares(routed.get(c.id)!)
      server.receiveMaskedInput(c.maskedInput(new Uint32Array(4)))
    }
    const req = server.closeMaskedInput()
    expect(req).toEqual({ survivors: ["c0", "c1", "c2"], dropped: ["c3"] })
    for (const c of clients.slice(0, 3)) {
      const r = c.unmaskResponse(req.survivors, req.dropped)
      // c0 hands in a well-formed share of another secret (its share of c0's own self-mask seed).
      const bad = { ...r, keyShares: r.keyShares.map((h) => ({ ...h, share: r.seedShares[0]!.share })) }
      server.receiveUnmaskResponse(c.id === "c0" ? bad : r)
    }
    expect((caught(() => server.finish()) as SecAggError).reason).toMatch(/mask key of dropped "c3" did not reconstruct/)
  })
})

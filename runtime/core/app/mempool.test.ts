/**
 * The transaction pool over a real application replica (one validator, blocks executed as consensus
 * would): it keeps one transaction per (signer, nonce) and refuses a used nonce, a nonce too far
 * ahead, a sender with too many waiting or with no account, or a full pool, with a reason (a full
 * pool makes room for a transaction that could go in the next block by dropping a gapped one); what
 * it offers for a block is, per signer in address order, the gap-free run of nonces from the
 * signer's next one that apply; after a block, prune drops what the block used and what waited too
 * long behind a gap. Under floods (junk senders, random nonces with gaps) an honest transaction
 * always gets in and into a block, and the pool stays within senders-with-accounts × per-sender.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { blockHash } from "../consensus/block.ts"
import { signVote } from "../consensus/signing.ts"
import type { AppTx, Block, Json, Vote } from "../consensus/types.ts"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import { genesisReplica } from "./ledger-genesis.ts"
import { DEFAULT_LIMITS, Mempool, type MempoolLimits } from "./mempool.ts"
import { encodeTx, signTx, type SignedTx } from "./txs.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
// One seed for both properties, printed first so a failing run can be replayed.
const SEED = Number(process.env.DAI_PROPERTY_SEED ?? Date.now() % 2 ** 31)
console.info(`mempool properties: SEED=${SEED} (replay: DAI_PROPERTY_SEED=${SEED})`)
const CHAIN = 5
const key = (name: string) => keccak256(utf8ToBytes(`dai/mempool-test/${name}`))
const VALIDATOR = key("validator")
// a, b, c: the accounts of the unit tests; f0..f2: funded flooders; h: an honest sender; j0, j1: keys with no account.
const NAMES = ["a", "b", "c", "f0", "f1", "f2", "h", "j0", "j1"]
const SIGNERS = NAMES.map(key)
const signerAddress = SIGNERS.map(addressOfPrivateKey)
const FUNDED = 7
const [F0, H, J0] = [3, 6, 7]
/** Limits that never bite, for tests of something else. */
const LOOSE = { perSender: 1_000, gapTtl: 1_000 }

// Signatures are real; checking the same one again (the pool, then the block) is memoised to keep the property fast.
const verified = new Map<string, boolean>()
const verify = (address: string, digest: Uint8Array, signature: Uint8Array): boolean => {
  const id = `${address}/${toHex(digest)}/${toHex(signature)}`
  let ok = verified.get(id)
  if (ok === undefined) verified.set(id, (ok = verifySignature(address, digest, signature)))
  return ok
}

/** An application with one validator, and a way to execute the next block with given transactions. */
const chain = () => {
  const stake = 10_000n * TOKEN
  const funds = 1_000n * TOKEN
  const validator = { operator: "v0", address: addressOfPrivateKey(VALIDATOR), amount: stake, tier: 0 as const, commission: WAD / 20n }
  // The funded signers are bonded trainers: members of the committee snapshot, so they may send.
  const { app } = genesisReplica({
    chainId: CHAIN, params: DEFAULT_PARAMS, validators: [validator], time: 0,
    allocations: [
      { address: "v0", amount: stake + 1_000n * TOKEN },
      ...signerAddress.slice(0, FUNDED).map((address) => ({ address, amount: funds })),
      { address: "community", amount: TOTAL_SUPPLY - stake - 1_000n * TOKEN - BigInt(FUNDED) * funds },
    ],
    contributors: signerAddress.slice(0, FUNDED).map((owner) => ({ owner, amount: funds, tier: 0 as const })),
  }, verify)
  let lastCommit: readonly Vote[] = []
  /** Execute the next block (its last-commit first, as every block after the first) holding `txs`. */
  const execute = (txs: readonly AppTx[]) => {
    const height = app.height + 1
    const block: Block = {
      height, round: 0, proposer: validator.address, parentHash: app.lastBlockHash, time: app.lastTime + 1_000,
      txs: [
        ...(height > 1 ? [{ type: "last-commit", height: height - 1, precommits: lastCommit as unknown as Json }] : []),
        ...[app.epochTx(height, app.lastSnapshot)].filter((t) => t !== undefined), ...txs,
      ],
      appHash: app.appHash,
    }
    app.execute(block)
    lastCommit = [signVote(VALIDATOR, CHAIN, { type: "precommit", height, round: 0, blockHash: blockHash(block) })]
  }
  return { app, execute }
}

/** A score commitment by signer `s` with `nonce` (its rule may refuse it; its nonce is used); `forged` carries another key's signature (it does not apply). */
const tx = (s: number, nonce: number, forged = false): SignedTx => {
  const id = `${s}/${nonce}/${forged}`
  let signed = signedTxs.get(id)
  if (signed === undefined) {
    const unsigned = { type: "score-commit", signer: signerAddress[s]!, nonce, epoch: 0, commitment: toHex(keccak256(utf8ToBytes(id))) } as Omit<SignedTx, "signature">
    signedTxs.set(id, (signed = signTx(CHAIN, unsigned, (d) => signDigest(forged ? SIGNERS[(s + 1) % SIGNERS.length]! : SIGNERS[s]!, d))))
  }
  return signed
}
const signedTxs = new Map<string, SignedTx>()

/** (signer index, nonce) of what the pool offers, in its order. */
const offered = (pool: Mempool) => pool.includable().map((t) => [signerAddress.indexOf(t["signer"] as string), t["nonce"] as number])

describe("mempool: add", () => {
  it("keeps a transaction once, and accepts the same one again silently", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    expect(pool.add(tx(0, 0))).toBeUndefined()
    expect(pool.add(tx(0, 0))).toBeUndefined()
    // Another transaction with a (signer, nonce) pooled already: the first one stays.
    expect(pool.add(tx(0, 0, true))).toBeUndefined()
    expect(pool.size).toBe(1)
    expect(pool.includable()).toEqual([encodeTx(tx(0, 0))])
  })

  it("refuses a nonce the ledger has used, naming it", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app)
    pool.add(tx(0, 0))
    execute(pool.includable())
    expect(app.nextNonce(signerAddress[0]!)).toBe(1)
    expect(pool.add(tx(0, 0))).toBe(`nonce 0 of ${signerAddress[0]} was used already`)
    expect(pool.add(tx(0, 1))).toBeUndefined()
  })

  it("refuses a new transaction when full, and takes again once a block made room", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app, { maxPool: 2, maxBlockTxs: 10 })
    expect(pool.add(tx(0, 0))).toBeUndefined()
    expect(pool.add(tx(1, 0))).toBeUndefined()
    expect(pool.add(tx(2, 0))).toBe("the transaction pool is full")
    expect(pool.add(tx(0, 0))).toBeUndefined() // pooled already: not a new one
    expect(pool.size).toBe(2)
    execute(pool.includable())
    pool.prune()
    expect(pool.size).toBe(0)
    expect(pool.add(tx(2, 0))).toBeUndefined()
  })
})

describe("mempool: bounds per sender", () => {
  it("refuses a nonce more than the window above the sender's next, and more than perSender waiting", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app, { perSender: 3 })
    const a = signerAddress[0]!
    expect(pool.add(tx(0, 3))).toBe(`nonce 3 of ${a} is too far ahead: at most 3 above its next (0)`)
    for (const n of [0, 1, 2]) expect(pool.add(tx(0, n))).toBeUndefined()
    execute(pool.includable())
    // The window moved with the next nonce, but the used ones still count until the pool is pruned.
    expect(pool.add(tx(0, 3))).toBe(`${a} has 3 transactions waiting already`)
    pool.prune()
    expect(pool.add(tx(0, 5))).toBeUndefined()
    expect(pool.add(tx(0, 6))).toBe(`nonce 6 of ${a} is too far ahead: at most 3 above its next (3)`)
  })

  it("refuses a key with no account, and a round's transaction from anyone but a validator", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    const junk = signerAddress[J0]!
    expect(pool.add(tx(J0, 0))).toBe(`${junk} has no stake on the ledger: only bonded trainers and validators send a score-commit`)
    const result = signTx(CHAIN, {
      type: "round-result", signer: signerAddress[0]!, nonce: 0, round: 1, modelHash: `0x${"11".repeat(32)}`, accuracy: 1, participants: ["t1"], scoresCommitment: `0x${"22".repeat(32)}`,
    } as Omit<SignedTx, "signature">, (d) => signDigest(SIGNERS[0]!, d))
    expect(pool.add(result)).toBe(`${signerAddress[0]} is not a validator: only a validator sends a round-result`)
    expect(pool.size).toBe(0)
  })

  it("refuses a stake transaction at the door: stake moves only on the ledger", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    const f = signerAddress[F0]!
    const stake = signTx(CHAIN, { type: "stake", signer: f, nonce: 0, op: { type: "transfer", from: f, to: "sink", amount: 1n } } as Omit<SignedTx, "signature">, (d) => signDigest(SIGNERS[F0]!, d))
    expect(pool.add(stake)).toMatch(/^stake moves only on the ledger/)
    expect(pool.size).toBe(0)
  })
})

describe("mempool: gaps and age", () => {
  it("drops a transaction that waited gapTtl blocks behind a missing nonce, and keeps one that can still go", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app, { gapTtl: 3 })
    pool.add(tx(0, 2)) // behind a gap at 0 and 1
    pool.add(tx(1, 0))
    for (let i = 0; i < 2; i++) {
      execute([])
      pool.prune()
    }
    expect(pool.size).toBe(2)
    execute([])
    pool.prune()
    // Three blocks behind its gap: gone. Signer 1's nonce 0 could have gone in all along (an empty block was chosen): kept.
    expect(pool.size).toBe(1)
    expect(offered(pool)).toEqual([[1, 0]])
  })

  it("counts the age of a transaction once its gap is filled no more", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app, { gapTtl: 2 })
    pool.add(tx(0, 1))
    execute([])
    pool.prune()
    pool.add(tx(0, 0)) // fills the gap: both can go
    execute([])
    pool.prune()
    execute([])
    pool.prune()
    expect(pool.size).toBe(2)
    execute(pool.includable())
    pool.prune()
    expect(pool.size).toBe(0)
  })

  it("when full, lets a transaction that could go in the next block replace the gapped one farthest ahead", () => {
    const { app } = chain()
    const pool = new Mempool(app, { maxPool: 3 })
    for (const n of [2, 5]) pool.add(tx(F0, n))
    pool.add(tx(1, 0))
    // Behind a gap itself: no room.
    expect(pool.add(tx(0, 1))).toBe("the transaction pool is full")
    expect(pool.add(tx(0, 0))).toBeUndefined()
    expect(pool.size).toBe(3)
    expect(pool.add(tx(0, 1))).toBeUndefined() // replaces f0's nonce 2, the last gapped one
    // Every pooled transaction can go now: a full pool refuses.
    expect(pool.add(tx(2, 0))).toBe("the transaction pool is full")
    expect(offered(pool).sort()).toEqual([[0, 0], [0, 1], [1, 0]].sort())
  })
})

describe("mempool: includable", () => {
  it("offers each signer's run of nonces in order, signers in address order", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    for (const [s, n] of [[1, 2], [0, 1], [1, 0], [0, 0], [1, 1]] as const) pool.add(tx(s, n))
    const bySigner = [0, 1].sort((x, y) => (signerAddress[x]! < signerAddress[y]! ? -1 : 1))
    expect(offered(pool)).toEqual(bySigner.flatMap((s) => (s === 0 ? [[0, 0], [0, 1]] : [[1, 0], [1, 1], [1, 2]])))
  })

  it("stops at a gap in a signer's nonces", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    for (const n of [0, 1, 3, 4]) pool.add(tx(0, n))
    pool.add(tx(1, 1)) // its nonce 0 is missing: nothing of it goes
    expect(offered(pool)).toEqual([[0, 0], [0, 1]])
  })

  it("stops at a transaction that does not apply, and what follows it", () => {
    const { app } = chain()
    const pool = new Mempool(app)
    pool.add(tx(0, 0))
    pool.add(tx(0, 1, true))
    pool.add(tx(0, 2))
    expect(offered(pool)).toEqual([[0, 0]])
  })

  it("starts from the ledger's next nonce, and never offers more than a block holds", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app, { maxPool: 100, maxBlockTxs: 3 })
    for (let n = 0; n < 5; n++) pool.add(tx(0, n))
    expect(offered(pool)).toEqual([[0, 0], [0, 1], [0, 2]])
    execute(pool.includable())
    // Before prune the used ones are still pooled, but never offered again.
    expect(pool.size).toBe(5)
    expect(offered(pool)).toEqual([[0, 3], [0, 4]])
  })
})

describe("mempool: prune", () => {
  it("drops exactly what the ledger has used", () => {
    const { app, execute } = chain()
    const pool = new Mempool(app)
    for (let n = 0; n < 3; n++) pool.add(tx(0, n))
    pool.add(tx(1, 0))
    pool.add(tx(1, 2))
    execute([pool.includable()[0]!])
    pool.prune()
    expect(pool.size).toBe(4)
    execute(pool.includable())
    pool.prune()
    // Left: signer 1's nonce 2, behind its gap at 1.
    expect(pool.size).toBe(1)
    expect(offered(pool)).toEqual([])
    pool.add(tx(1, 1))
    expect(offered(pool)).toEqual([[1, 1], [1, 2]])
  })
})

describe("mempool: property over random operations", () => {
  it("size counts the pooled (signer, nonce) pairs not used or expired; includable is each signer's applicable run from its next nonce", () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), signer: fc.integer({ min: 0, max: 2 }), nonce: fc.integer({ min: 0, max: 6 }), forged: fc.integer({ min: 0, max: 5 }).map((x) => x === 0) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("block" as const), take: fc.integer({ min: 0, max: 10 }) }) },
      { weight: 2, arbitrary: fc.constant({ kind: "prune" as const }) },
    )
    const limits = fc.record({
      maxPool: fc.integer({ min: 1, max: 12 }), maxBlockTxs: fc.integer({ min: 1, max: 6 }),
      perSender: fc.integer({ min: 1, max: 8 }), gapTtl: fc.integer({ min: 1, max: 4 }),
    })
    fc.assert(fc.property(limits, fc.array(op, { maxLength: 30 }), (limit: MempoolLimits, ops) => {
      const { app, execute } = chain()
      const pool = new Mempool(app, limit)
      // The model: every (signer, nonce) the pool took and has not dropped, whether its transaction was forged, and the height it came at.
      const model = new Map<string, { forged: boolean; since: number }>()
      const id = (s: number, n: number) => `${s}/${n}`
      const entries = () => [...model].map(([k, v]) => [...k.split("/").map(Number), v] as [number, number, typeof v])
      const next = (s: number) => app.nextNonce(signerAddress[s]!)
      /** The first nonce of `s` from its next one that is not pooled: a pooled nonce above it waits behind a gap. */
      const firstMissing = (s: number) => {
        let n = next(s)
        while (model.has(id(s, n))) n++
        return n
      }
      for (const o of ops) {
        if (o.kind === "add") {
          const refused = pool.add(tx(o.signer, o.nonce, o.forged))
          const address = signerAddress[o.signer]!
          if (o.nonce < next(o.signer)) expect(refused).toBe(`nonce ${o.nonce} of ${address} was used already`)
          else if (o.nonce >= next(o.signer) + limit.perSender) expect(refused).toMatch(/is too far ahead/)
          else if (model.has(id(o.signer, o.nonce))) expect(refused).toBeUndefined()
          else if (entries().filter(([s]) => s === o.signer).length >= limit.perSender) expect(refused).toBe(`${address} has ${limit.perSender} transactions waiting already`)
          else {
            if (model.size >= limit.maxPool) {
              // Full: a transaction that could go in the next block replaces the gapped one farthest above its signer's run.
              const gapped = entries().map(([s, n]) => [s, n, n - firstMissing(s)] as const).filter(([, , d]) => d > 0)
                .sort((x, y) => y[2] - x[2] || (signerAddress[y[0]]! > signerAddress[x[0]]! ? 1 : -1))
              if (o.nonce !== firstMissing(o.signer) || gapped.length === 0) {
                expect(refused).toBe("the transaction pool is full")
                continue
              }
              model.delete(id(gapped[0]![0], gapped[0]![1]))
            }
            expect(refused).toBeUndefined()
            model.set(id(o.signer, o.nonce), { forged: o.forged, since: app.height })
          }
        } else if (o.kind === "block") {
          // A proposer may include fewer than offered (a prefix keeps every run gap-free).
          execute(pool.includable().slice(0, o.take))
        } else {
          pool.prune()
          // Used, or waited gapTtl blocks behind a gap (measured before anything is dropped).
          const gone = entries().filter(([s, n, v]) => n < next(s) || (n > firstMissing(s) && app.height - v.since >= limit.gapTtl))
          for (const [s, n] of gone) model.delete(id(s, n))
        }
        expect(pool.size).toBe(model.size)

        // What a block may take: per signer in address order, from its next nonce while pooled and not forged.
        const expected: [number, number][] = []
        for (const s of [0, 1, 2].sort((x, y) => (signerAddress[x]! < signerAddress[y]! ? -1 : 1))) {
          for (let n = next(s); model.get(id(s, n))?.forged === false; n++) expected.push([s, n])
        }
        const got = offered(pool)
        expect(got).toEqual(expected.slice(0, limit.maxBlockTxs))
        for (const [s, n] of got) expect(n).toBeGreaterThanOrEqual(next(s!))
      }
    }), { numRuns: RUNS, seed: SEED })
  })
})

describe("mempool: property over random floods", () => {
  it("an honest transaction always gets in and into a block soon; the pool holds at most senders-with-accounts × per-sender", () => {
    const flooder = fc.integer({ min: 0, max: 4 }) // 0..2 funded flooders (as many as drawn), 3..4 the keys with no account
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant("flood" as const), who: flooder, offset: fc.integer({ min: -2, max: 20 }), count: fc.integer({ min: 1, max: 12 }) }) },
      { weight: 2, arbitrary: fc.constant({ kind: "honest" as const }) },
      { weight: 3, arbitrary: fc.constant({ kind: "block" as const }) },
    )
    const setup = fc.record({
      flooders: fc.integer({ min: 1, max: 3 }), perSender: fc.integer({ min: 2, max: 6 }), gapTtl: fc.integer({ min: 1, max: 5 }), blockShare: fc.integer({ min: 1, max: 100 }),
    })
    fc.assert(fc.property(setup, fc.array(op, { maxLength: 40 }), ({ flooders, perSender, gapTtl, blockShare }, ops) => {
      const { app, execute } = chain()
      // Senders with an account: the funded flooders and the honest one. The pool's global cap (10,000) is far away: the bound comes from the per-sender rules.
      const bound = (flooders + 1) * perSender
      const maxBlockTxs = Math.max(1, Math.round((bound * blockShare) / 100))
      const pool = new Mempool(app, { maxBlockTxs, perSender, gapTtl })
      expect(DEFAULT_LIMITS.maxPool).toBeGreaterThan(bound)
      const honest = signerAddress[H]!
      let honestNext = 0
      const honestPending = () => honestNext - app.nextNonce(honest)
      const block = () => {
        execute(pool.includable())
        pool.prune()
      }
      for (const o of ops) {
        if (o.kind === "flood") {
          const s = o.who < 3 ? F0 + (o.who % flooders) : J0 + o.who - 3
          const address = signerAddress[s]!
          // A burst of transactions from a random nonce near the sender's next one: gaps, repeats, some too far ahead, some used.
          for (let i = 0; i < o.count; i++) {
            const nonce = Math.max(0, app.nextNonce(address) + o.offset + 2 * i)
            const refused = pool.add(tx(s, nonce))
            // A key with no account is refused whatever it sends: within the nonce window, for having no account.
            if (s >= J0) expect(refused).toBe(nonce < perSender ? `${address} has no stake on the ledger: only bonded trainers and validators send a score-commit` : `nonce ${nonce} of ${address} is too far ahead: at most ${perSender} above its next (0)`)
          }
        } else if (o.kind === "honest") {
          // An honest client keeps within its own bound; its transaction always gets in.
          if (honestPending() >= perSender) continue
          expect(pool.add(tx(H, honestNext))).toBeUndefined()
          honestNext++
        } else {
          block()
          // When the runs of every sender with an account fit in a block, the honest ones go in the next block.
          if (maxBlockTxs >= bound) expect(honestPending()).toBe(0)
        }
        expect(pool.size).toBeLessThanOrEqual(bound)
        for (const j of [J0, J0 + 1]) expect(app.nextNonce(signerAddress[j]!)).toBe(0)
      }
      // The flood stops: the honest transactions are in blocks within ceil(bound / maxBlockTxs) blocks,
      // and the gapped ones are gone gapTtl blocks later.
      for (let i = 0; i < Math.ceil(bound / maxBlockTxs); i++) block()
      expect(honestPending()).toBe(0)
      for (let i = 0; i < gapTtl; i++) block()
      expect(pool.size).toBe(0)
    }), { numRuns: RUNS, seed: SEED })
  })
})

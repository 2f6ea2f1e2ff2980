/**
 * The transaction pool over a real application replica (one validator, blocks executed as consensus
 * would): it keeps one transaction per (signer, nonce) and refuses a used nonce or a full pool with a
 * reason; what it offers for a block is, per signer in address order, the gap-free run of nonces from
 * the signer's next one that apply; after a block, prune drops exactly what the block used.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { blockHash } from "../consensus/block.ts"
import { signVote } from "../consensus/signing.ts"
import type { AppTx, Block, Json, Vote } from "../consensus/types.ts"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import { App } from "./app.ts"
import { Mempool, type MempoolLimits } from "./mempool.ts"
import { encodeTx, signTx, type SignedTx } from "./txs.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const CHAIN = 5
const key = (name: string) => keccak256(utf8ToBytes(`dai/mempool-test/${name}`))
const VALIDATOR = key("validator")
const SIGNERS = ["a", "b", "c"].map(key)
const signerAddress = SIGNERS.map(addressOfPrivateKey)

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
  const validator = { operator: "v0", address: addressOfPrivateKey(VALIDATOR), amount: stake, tier: 0 as const, commission: WAD / 20n }
  const app = App.genesis({
    chainId: CHAIN, params: DEFAULT_PARAMS, validators: [validator], time: 0,
    allocations: [{ address: "v0", amount: stake + 1_000n * TOKEN }, { address: "community", amount: TOTAL_SUPPLY - stake - 1_000n * TOKEN }],
  }, verify)
  let lastCommit: readonly Vote[] = []
  /** Execute the next block (its last-commit first, as every block after the first) holding `txs`. */
  const execute = (txs: readonly AppTx[]) => {
    const height = app.height + 1
    const block: Block = {
      height, round: 0, proposer: validator.address, parentHash: app.lastBlockHash, time: app.lastTime + 1_000,
      txs: [...(height > 1 ? [{ type: "last-commit", height: height - 1, precommits: lastCommit as unknown as Json }] : []), ...txs],
      appHash: app.appHash,
    }
    app.execute(block)
    lastCommit = [signVote(VALIDATOR, CHAIN, { type: "precommit", height, round: 0, blockHash: blockHash(block) })]
  }
  return { app, execute }
}

/** A transfer of one base unit by signer `s` with `nonce`; `forged` carries another key's signature (it does not apply). */
const tx = (s: number, nonce: number, forged = false): SignedTx => {
  const unsigned = { type: "stake", signer: signerAddress[s]!, nonce, op: { type: "transfer", from: signerAddress[s]!, to: "sink", amount: 1n } } as Omit<SignedTx, "signature">
  return signTx(CHAIN, unsigned, (d) => signDigest(forged ? SIGNERS[(s + 1) % SIGNERS.length]! : SIGNERS[s]!, d))
}

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
  it("size counts the pooled (signer, nonce) pairs not used; includable is each signer's applicable run from its next nonce", () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), signer: fc.integer({ min: 0, max: 2 }), nonce: fc.integer({ min: 0, max: 6 }), forged: fc.integer({ min: 0, max: 5 }).map((x) => x === 0) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("block" as const), take: fc.integer({ min: 0, max: 10 }) }) },
      { weight: 2, arbitrary: fc.constant({ kind: "prune" as const }) },
    )
    const limits = fc.record({ maxPool: fc.integer({ min: 1, max: 12 }), maxBlockTxs: fc.integer({ min: 1, max: 6 }) })
    fc.assert(fc.property(limits, fc.array(op, { maxLength: 30 }), (limit: MempoolLimits, ops) => {
      const { app, execute } = chain()
      const pool = new Mempool(app, limit)
      // The model: every (signer, nonce) the pool took and has not pruned, and whether its transaction was forged.
      const model = new Map<string, boolean>()
      const id = (s: number, n: number) => `${s}/${n}`
      const next = (s: number) => app.nextNonce(signerAddress[s]!)
      for (const o of ops) {
        if (o.kind === "add") {
          const refused = pool.add(tx(o.signer, o.nonce, o.forged))
          if (o.nonce < next(o.signer)) expect(refused).toBe(`nonce ${o.nonce} of ${signerAddress[o.signer]} was used already`)
          else if (model.has(id(o.signer, o.nonce))) expect(refused).toBeUndefined()
          else if (model.size >= limit.maxPool) expect(refused).toBe("the transaction pool is full")
          else {
            expect(refused).toBeUndefined()
            model.set(id(o.signer, o.nonce), o.forged)
          }
        } else if (o.kind === "block") {
          // A proposer may include fewer than offered (a prefix keeps every run gap-free).
          execute(pool.includable().slice(0, o.take))
        } else {
          pool.prune()
          for (const k of [...model.keys()]) {
            const [s, n] = k.split("/").map(Number) as [number, number]
            if (n < next(s)) model.delete(k)
          }
        }
        expect(pool.size).toBe(model.size)

        // What a block may take: per signer in address order, from its next nonce while pooled and not forged.
        const expected: [number, number][] = []
        for (const s of [0, 1, 2].sort((x, y) => (signerAddress[x]! < signerAddress[y]! ? -1 : 1))) {
          for (let n = next(s); model.get(id(s, n)) === false; n++) expected.push([s, n])
        }
        const got = offered(pool)
        expect(got).toEqual(expected.slice(0, limit.maxBlockTxs))
        for (const [s, n] of got) expect(n).toBeGreaterThanOrEqual(next(s!))
      }
    }), { numRuns: RUNS })
  })
})

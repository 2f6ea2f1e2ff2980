/**
 * Block space is not free for a key without standing (issue 16): a block carrying a signed
 * transaction whose signer has no standing (standing.ts, the pool's rule) is invalid — `checkBlock`
 * names the first such transaction, and the block does not execute — while a block of transactions
 * from senders with standing executes. Standing is that of the snapshot the block executes on: a key
 * bonded on the ledger gains it only in the epoch whose snapshot lists it.
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
import { encodeTx, signTx, type SignedTx } from "./txs.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const SEED = Number(process.env.DAI_PROPERTY_SEED ?? Date.now() % 2 ** 31)
console.info(`block standing properties: SEED=${SEED} (replay: DAI_PROPERTY_SEED=${SEED})`)

const CHAIN = 11
const key = (name: string) => keccak256(utf8ToBytes(`dai/block-standing-test/${name}`))
// v: the validator's signing key; t0, t1: trainers bonded at genesis; rich: tokens but no bond; nobody: no account at all.
const NAMES = ["v", "t0", "t1", "rich", "nobody"] as const
type Who = (typeof NAMES)[number]
const KEYS = Object.fromEntries(NAMES.map((n) => [n, key(n)])) as Record<Who, Uint8Array>
const ADDRESS = Object.fromEntries(NAMES.map((n) => [n, addressOfPrivateKey(KEYS[n])])) as Record<Who, string>
const EPOCH_LENGTH = 2

const verified = new Map<string, boolean>()
const verify = (address: string, digest: Uint8Array, signature: Uint8Array): boolean => {
  const id = `${address}/${toHex(digest)}/${toHex(signature)}`
  let ok = verified.get(id)
  if (ok === undefined) verified.set(id, (ok = verifySignature(address, digest, signature)))
  return ok
}

/** One validator (v), two bonded trainers, a funded key with no bond, and a way to build and execute the next block. */
const chain = () => {
  const stake = 10_000n * TOKEN
  const funds = 1_000n * TOKEN
  const trainers = [ADDRESS.t0, ADDRESS.t1]
  const { app, economy } = genesisReplica({
    chainId: CHAIN, params: { ...DEFAULT_PARAMS, "consensus.epochLength": EPOCH_LENGTH }, time: 0,
    validators: [{ operator: "v0", address: ADDRESS.v, amount: stake, tier: 0, commission: WAD / 20n }],
    allocations: [
      { address: "v0", amount: stake + 1_000n * TOKEN },
      ...[...trainers, ADDRESS.rich].map((address) => ({ address, amount: funds })),
      { address: "community", amount: TOTAL_SUPPLY - stake - 1_000n * TOKEN - 3n * funds },
    ],
    contributors: trainers.map((owner) => ({ owner, amount: funds, tier: 0 as const })),
  }, verify)
  let lastCommit: readonly Vote[] = []
  /** The next block holding `txs` after its last-commit and epoch tx (naming the ledger's newest snapshot). */
  const next = (txs: readonly AppTx[]): Block => {
    const height = app.height + 1
    const epochTx = app.epochTx(height, economy.committeeTotals().snapshots)
    return {
      height, round: 0, proposer: ADDRESS.v, parentHash: app.lastBlockHash, time: app.lastTime + 1_000, appHash: app.appHash,
      txs: [...(height > 1 ? [{ type: "last-commit", height: height - 1, precommits: lastCommit as unknown as Json }] : []), ...(epochTx === undefined ? [] : [epochTx]), ...txs],
    }
  }
  const execute = (block: Block) => {
    const r = app.execute(block)
    lastCommit = [signVote(KEYS.v, CHAIN, { type: "precommit", height: block.height, round: 0, blockHash: blockHash(block) })]
    return r
  }
  return { app, economy, next, execute }
}

type Kind = "score-commit" | "round-result" | "stake"
const signed = new Map<string, AppTx>()
/** `who`'s transaction of `kind` with `nonce`, signed with its key (memoised: signing is the slow part). */
const tx = (who: Who, kind: Kind, nonce: number): AppTx => {
  const id = `${who}/${kind}/${nonce}`
  let t = signed.get(id)
  if (t === undefined) {
    const signer = ADDRESS[who]
    const body = kind === "score-commit"
      ? { type: kind, signer, nonce, epoch: 0, commitment: toHex(keccak256(utf8ToBytes(id))) }
      : kind === "round-result"
        ? { type: kind, signer, nonce, round: nonce + 1, modelHash: toHex(keccak256(utf8ToBytes(id))), accuracy: 500_000, participants: [ADDRESS.t0], scoresCommitment: `0x${"22".repeat(32)}` }
        : { type: kind, signer, nonce, op: { type: "transfer", from: signer, to: "sink", amount: 1n } }
    signed.set(id, (t = encodeTx(signTx(CHAIN, body as Omit<SignedTx, "signature">, (d) => signDigest(KEYS[who], d))) as unknown as AppTx))
  }
  return t
}

/** The entries' transactions with each signer's nonces in order from the App's next one. */
const txsOf = (app: { nextNonce(s: string): number }, entries: ReadonlyArray<readonly [Who, Kind]>): AppTx[] => {
  const nonces = new Map<Who, number>()
  return entries.map(([who, kind]) => {
    const n = nonces.get(who) ?? app.nextNonce(ADDRESS[who])
    nonces.set(who, n + 1)
    return tx(who, kind, n)
  })
}

/** The test's own statement of who may send what (standing.ts says it for the code). */
const hasStanding = (who: Who, kind: Kind): boolean => kind !== "stake" && (who === "v" || (kind === "score-commit" && (who === "t0" || who === "t1")))

describe("block validity: sender standing", () => {
  it("refuses a block carrying a transaction of a key with no account, naming it; the block does not execute", () => {
    const { app, next, execute } = chain()
    execute(next([]))
    const block = next(txsOf(app, [["t0", "score-commit"], ["nobody", "score-commit"], ["t1", "score-commit"]]))
    expect(app.checkBlock(block)).toBe(`tx 1: ${ADDRESS.nobody} has no stake on the ledger: only bonded trainers and validators send a score-commit`)
    const before = { height: app.height, appHash: app.appHash }
    expect(() => execute(block)).toThrow(/cannot execute block 2: tx 1: .* has no stake on the ledger/)
    expect({ height: app.height, appHash: app.appHash }).toEqual(before)
    expect(app.nextNonce(ADDRESS.nobody)).toBe(0)
    expect(app.nextNonce(ADDRESS.t0)).toBe(0)
    // Without it, the block is valid and executes.
    const honest = next(txsOf(app, [["t0", "score-commit"], ["t1", "score-commit"]]))
    expect(app.checkBlock(honest)).toBeUndefined()
    expect(execute(honest).results.filter((r) => r.type === "score-commit")).toHaveLength(2)
  })

  it("refuses tokens without a bond, a stake transaction from anyone, and a round's transaction from a trainer", () => {
    const { app, next } = chain()
    expect(app.checkBlock(next(txsOf(app, [["rich", "score-commit"]])))).toMatch(/^tx 0: .* has no stake on the ledger/)
    expect(app.checkBlock(next(txsOf(app, [["v", "stake"]])))).toMatch(/^tx 0: stake moves only on the ledger/)
    expect(app.checkBlock(next(txsOf(app, [["t0", "round-result"]])))).toBe(`tx 0: ${ADDRESS.t0} is not a validator: only a validator sends a round-result`)
    expect(app.checkBlock(next(txsOf(app, [["v", "round-result"], ["v", "score-commit"], ["t0", "score-commit"]])))).toBeUndefined()
  })

  it("reads standing from the snapshot the block executes on: a key bonded on the ledger sends from the epoch that lists it", () => {
    const { app, economy, next, execute } = chain()
    expect(economy.apply({ type: "bondContributor", owner: ADDRESS.rich, amount: 500n * TOKEN, tier: 0 }, 0)._tag).toBe("Success")
    expect(economy.takeSnapshot("anyone", 0)._tag).toBe("Success")
    // Block 1 names snapshot 2 for epoch 2 (heights 3 and 4); heights 1 and 2 are still governed by snapshot 1.
    execute(next([]))
    expect(app.checkBlock(next(txsOf(app, [["rich", "score-commit"]])))).toMatch(/^tx 0: .* has no stake on the ledger/)
    execute(next([]))
    const block = next(txsOf(app, [["rich", "score-commit"], ["rich", "score-commit"]]))
    expect(app.checkBlock(block)).toBeUndefined()
    execute(block)
    expect(app.nextNonce(ADDRESS.rich)).toBe(2)
  })
})

describe("block validity: sender standing, property over random blocks", () => {
  const who = fc.constantFrom<Who>(...NAMES)
  const kind = fc.constantFrom<Kind>("score-commit", "score-commit", "score-commit", "round-result", "stake")
  const honest = fc.oneof(fc.tuple(fc.constant<Who>("v"), fc.constantFrom<Kind>("score-commit", "round-result")), fc.tuple(fc.constantFrom<Who>("t0", "t1"), fc.constant<Kind>("score-commit")))

  it("a block of transactions from senders with standing executes; adding one without refuses the block, named, and changes nothing", () => {
    fc.assert(
      fc.property(fc.nat(3), fc.array(honest, { maxLength: 8 }), fc.tuple(who, kind).filter(([w, k]) => !hasStanding(w, k)), fc.nat(), (empties, entries, bad, at) => {
        const { app, next, execute } = chain()
        for (let i = 0; i < empties; i++) execute(next([]))
        // The unfunded one inserted anywhere (nonces follow the order, so every other tx stays valid).
        const i = at % (entries.length + 1)
        const withBad = [...entries.slice(0, i), bad, ...entries.slice(i)]
        const refused = next(txsOf(app, withBad))
        const before = { height: app.height, appHash: app.appHash, nonces: NAMES.map((n) => app.nextNonce(ADDRESS[n])) }
        expect(app.checkBlock(refused)).toMatch(new RegExp(`^tx ${i}: ${bad[1] === "stake" ? "stake moves only on the ledger" : ADDRESS[bad[0]]}`))
        expect(() => execute(refused)).toThrow(/cannot execute block/)
        expect({ height: app.height, appHash: app.appHash, nonces: NAMES.map((n) => app.nextNonce(ADDRESS[n])) }).toEqual(before)
        // The same block without it executes, and every signer used its nonces.
        const accepted = next(txsOf(app, entries))
        expect(app.checkBlock(accepted)).toBeUndefined()
        execute(accepted)
        for (const n of NAMES) expect(app.nextNonce(ADDRESS[n]) - before.nonces[NAMES.indexOf(n)]!).toBe(entries.filter(([w]) => w === n).length)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it("checkBlock agrees with the rule for any block of random senders and types", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(who, kind), { minLength: 1, maxLength: 8 }), (entries) => {
        const { app, next } = chain()
        const first = entries.findIndex(([w, k]) => !hasStanding(w, k))
        const verdict = app.checkBlock(next(txsOf(app, entries)))
        if (first === -1) expect(verdict).toBeUndefined()
        else expect(verdict).toMatch(new RegExp(`^tx ${first}: `))
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    )
  })
})

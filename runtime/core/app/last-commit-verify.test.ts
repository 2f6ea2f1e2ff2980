/**
 * A block's last-commit signatures are checked once per vote object for a verify function
 * (signing.ts `acceptedBy`, shared with the consensus node): a simulated world's replicas share the
 * decoded block, so only the first replica pays for its signatures. What is remembered is only what
 * `verify` accepted: a forged precommit is refused by every replica, every time.
 */
import { describe, expect, it } from "vitest"
import { blockHash } from "../consensus/block.ts"
import { acceptedBy, signVote } from "../consensus/signing.ts"
import type { Block, Json, Vote } from "../consensus/types.ts"
import { addressOfPrivateKey, keccak256, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import { genesisReplica } from "./ledger-genesis.ts"

const CHAIN = 12
const KEY = keccak256(utf8ToBytes("dai/last-commit-verify-test/v"))
const VALIDATOR = addressOfPrivateKey(KEY)

/** Two replicas of one chain sharing one counting verify function (as a simulated world's nodes share theirs). */
const world = () => {
  let calls = 0
  const verify = (address: string, digest: Uint8Array, signature: Uint8Array): boolean => {
    calls++
    return verifySignature(address, digest, signature)
  }
  const stake = 10_000n * TOKEN
  const replica = () => genesisReplica({
    chainId: CHAIN, params: DEFAULT_PARAMS, time: 0,
    validators: [{ operator: "v0", address: VALIDATOR, amount: stake, tier: 0, commission: WAD / 20n }],
    allocations: [{ address: "v0", amount: stake }, { address: "community", amount: TOTAL_SUPPLY - stake }],
  }, verify).app
  return { replicas: [replica(), replica()], verify, calls: () => calls }
}

const first = (app: ReturnType<typeof world>["replicas"][number]): Block => ({
  height: 1, round: 0, proposer: VALIDATOR, parentHash: app.lastBlockHash, time: 1_000, appHash: app.appHash,
  txs: [app.epochTx(1, app.lastSnapshot)].filter((t) => t !== undefined),
})

const second = (app: ReturnType<typeof world>["replicas"][number], precommits: readonly Vote[]): Block => ({
  height: 2, round: 0, proposer: VALIDATOR, parentHash: app.lastBlockHash, time: 2_000, appHash: app.appHash,
  txs: [{ type: "last-commit", height: 1, precommits: precommits as unknown as Json }, ...[app.epochTx(2, app.lastSnapshot)].filter((t) => t !== undefined)],
})

/** Two replicas that executed block 1, and the validator's genuine precommit of it. */
const atHeight1 = () => {
  const w = world()
  const [a, b] = w.replicas as [typeof w.replicas[0], typeof w.replicas[0]]
  const block1 = first(a)
  a.execute(block1)
  b.execute(block1)
  return { w, a, b, precommit: signVote(KEY, CHAIN, { type: "precommit", height: 1, round: 0, blockHash: blockHash(block1) }) }
}

describe("last-commit signatures", () => {
  it("are verified once per vote object across replicas sharing a verify function", () => {
    const { w, a, b, precommit } = atHeight1()
    const block2 = second(a, [precommit])
    const before = w.calls()
    expect(a.checkBlock(block2)).toBeUndefined()
    expect(w.calls()).toBe(before + 1)
    expect(acceptedBy(w.verify, CHAIN).has(precommit)).toBe(true)
    expect(b.checkBlock(block2)).toBeUndefined()
    expect(w.calls()).toBe(before + 1)
    // Another chain id is another verdict: nothing is remembered for it.
    expect(acceptedBy(w.verify, CHAIN + 1).has(precommit)).toBe(false)
  })

  it("refuse a forged precommit at every replica, every time", () => {
    const { w, a, b, precommit: good } = atHeight1()
    const forged: Vote = { ...good, signature: `0x${"11".repeat(65)}` }
    const block2 = second(a, [forged])
    for (const app of [a, b, a]) expect(app.checkBlock(second(app, [forged]))).toBe(`last-commit: bad signature of ${VALIDATOR}`)
    expect(b.checkBlock(block2)).toBe(`last-commit: bad signature of ${VALIDATOR}`)
    expect(acceptedBy(w.verify, CHAIN).has(forged)).toBe(false)
  })
})

/**
 * The mempool jam of issue 16, as a regression at the node level: on a simulated 4-validator world a
 * key with no account gossips 10,050 validly signed transactions with nonces 1..10,050 (skipping 0,
 * so none could ever be included). Before the pool bounded senders, they filled it to its 10,000
 * limit for good and the node's own request was refused ("the transaction pool is full").
 * Now every node refuses them at the door: the pool stays empty of them, no block carries one, and
 * the node's own transaction is committed. A funded key doing the same keeps only its nonce window
 * in each pool, for as many blocks as a gapped transaction may wait.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { TX_TOPIC } from "../../runtime/actors/context.ts"
import { GAP_TTL_BLOCKS, MAX_PER_SENDER } from "../../runtime/core/app/mempool.ts"
import { encodeTx, signTx, type SignedTx } from "../../runtime/core/app/txs.ts"
import type { Keys } from "../../runtime/services/keys.ts"
import { attachSimNetwork } from "../adapters/network.ts"
import { makeSimKeys } from "../adapters/keys.ts"
import { parseScenario } from "../scenario/load.ts"
import { ConsensusWorld, SIM_CHAIN_ID } from "./world.ts"

const SEED = 5
const FLOOD = 10_050

/** A 4-validator world past its first blocks, and a way to gossip from outside it. */
const world = () => {
  const scenario = parseScenario("name: flood\nnetwork: { validators: 4, stake: 1000 }\nuntil: { time: 10m }\n", "flood.yaml")
  const w = new ConsensusWorld({ scenario, seed: SEED, traceDeliveries: false })
  w.startAll()
  /** Run until every replica has executed `height`. */
  const runTo = (height: number) => {
    const lowest = () => Math.min(...scenario.validators.map((id) => w.app(id)?.height ?? 0))
    w.scheduler.runUntil({ time: w.scheduler.now + 600_000, predicate: () => lowest() >= height })
    expect(lowest()).toBeGreaterThanOrEqual(height)
  }
  runTo(2)
  const port = attachSimNetwork(w.net, "mallory")
  /** Gossip `signer`'s transactions with nonces 1..FLOOD (0 is skipped: none of them can ever go in a block). */
  const flood = (keys: Keys["Service"]) => {
    const from = keys.address.toLowerCase()
    for (let nonce = 1; nonce <= FLOOD; nonce++) {
      const tx = signTx(SIM_CHAIN_ID, { type: "score-commit", signer: from, nonce, epoch: 0, commitment: `0x${"5a".repeat(32)}` } as Omit<SignedTx, "signature">, (d) => Effect.runSync(keys.sign(d)))
      Effect.runSync(port.network.publish(TX_TOPIC, new TextEncoder().encode(JSON.stringify(encodeTx(tx)))))
    }
    w.scheduler.runUntil({ time: w.scheduler.now + 500 })
  }
  const pending = () => scenario.validators.map((id) => w.slots.get(id)!.node!.pending)
  /** v0 commits a contribution score for the current epoch, and every replica executes it. */
  const ownStakeCommits = () => {
    const v0 = w.slots.get("v0")!
    const address = v0.keys.address.toLowerCase()
    const epoch = w.app("v0")!.epochOf(w.app("v0")!.height + 1)
    const own = signTx(SIM_CHAIN_ID, {
      type: "score-commit", signer: address, nonce: w.app("v0")!.nextNonce(address), epoch, commitment: `0x${"c0".repeat(32)}`,
    } as Omit<SignedTx, "signature">, (d) => Effect.runSync(v0.keys.sign(d)))
    expect(v0.node!.submitTx(own)).toBeUndefined()
    runTo(w.app("v0")!.height + 5)
    for (const id of scenario.validators) expect(w.app(id)!.nextNonce(address), `${id} executed v0's transaction`).toBe(1)
    expect(w.errors).toEqual([])
  }
  return { w, runTo, flood, pending, ownStakeCommits }
}

describe("a transaction flood", () => {
  it("from a key with no account is refused by every node: the node's own stake transaction is committed", () => {
    const { w, runTo, flood, pending, ownStakeCommits } = world()
    const mallory = makeSimKeys(SEED, "mallory", w.oracle)
    flood(mallory)
    expect(pending()).toEqual([0, 0, 0, 0])
    runTo(w.app("v0")!.height + 50)
    ownStakeCommits()
    for (const id of ["v0", "v1", "v2", "v3"]) expect(w.app(id)!.nextNonce(mallory.address.toLowerCase()), `${id} never executed one of mallory's`).toBe(0)
  })

  it("from a funded key keeps only its nonce window, dropped once it waited its blocks behind the gap", () => {
    const { w, runTo, flood, pending, ownStakeCommits } = world()
    // v1's own key floods (a validator's key always has standing): only nonces 1..63 fit its window.
    const v1 = w.slots.get("v1")!.keys
    const before = Math.max(...["v0", "v1", "v2", "v3"].map((id) => w.app(id)!.height))
    flood(v1)
    expect(pending()).toEqual([0, 0, 0, 0].map(() => MAX_PER_SENDER - 1))
    runTo(before + GAP_TTL_BLOCKS + 1)
    expect(pending()).toEqual([0, 0, 0, 0])
    ownStakeCommits()
    for (const id of ["v0", "v1", "v2", "v3"]) expect(w.app(id)!.nextNonce(v1.address.toLowerCase())).toBe(0)
  })
})

/**
 * The other half of issue 16's "block space is free": the pools refuse a key with no account at the
 * door (mempool-flood.test.ts), but a byzantine proposer can still put that key's validly signed
 * transaction in its own block. On a simulated 4-validator world, v1 adds one to every block it
 * proposes (re-signing the proposal with its own key): the honest validators judge the block invalid
 * (the App's block rule, runtime/core/app/standing.ts), prevote nil, the round moves on to another
 * proposer, and no replica ever executes the transaction — while the chain keeps committing blocks.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { blockHash } from "../../runtime/core/consensus/block.ts"
import { proposalDigest } from "../../runtime/core/consensus/signing.ts"
import type { AppTx } from "../../runtime/core/consensus/types.ts"
import { toHex } from "../../runtime/core/crypto.ts"
import { encodeTx, signTx, type SignedTx } from "../../runtime/core/app/txs.ts"
import type { Outbound } from "../../runtime/actors/consensus/consensus-node.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { makeSimKeys } from "../adapters/keys.ts"
import { parseScenario } from "../scenario/load.ts"
import { ConsensusWorld, SIM_CHAIN_ID } from "./world.ts"

const SEED = 9
const VALIDATORS = ["v0", "v1", "v2", "v3"]

describe("a byzantine proposer's block carrying a transaction of a key with no account", () => {
  it("is refused by every honest validator and never committed; the chain goes on", () => {
    const scenario = parseScenario("name: unfunded-proposal\nnetwork: { validators: 4, stake: 1000 }\nuntil: { time: 10m }\n", "unfunded-proposal.yaml")
    const events: TelemetryEvent[] = []
    const w = new ConsensusWorld({ scenario, seed: SEED, observe: (e) => events.push(e), traceDeliveries: false })
    w.startAll()
    const lowest = () => Math.min(...VALIDATORS.map((id) => w.app(id)?.height ?? 0))
    const runTo = (height: number) => {
      w.scheduler.runUntil({ time: w.scheduler.now + 600_000, predicate: () => lowest() >= height })
      expect(lowest()).toBeGreaterThanOrEqual(height)
    }
    runTo(2)

    const mallory = makeSimKeys(SEED, "mallory", w.oracle)
    const junk = mallory.address.toLowerCase()
    const junkTx = encodeTx(signTx(SIM_CHAIN_ID, { type: "score-commit", signer: junk, nonce: 0, epoch: 0, commitment: `0x${"5a".repeat(32)}` } as Omit<SignedTx, "signature">, (d) => Effect.runSync(mallory.sign(d)))) as unknown as AppTx
    const byzantine = w.slots.get("v1")!
    let tampered = 0
    // v1 proposes its block plus mallory's transaction, signed with its own key (all it holds).
    const stuff: Outbound = (m, send) => {
      if (m.kind !== "proposal") return send(m)
      const p = m.proposal
      const block = { ...p.block, txs: [...p.block.txs, junkTx] }
      const signature = toHex(Effect.runSync(byzantine.keys.sign(proposalDigest(SIM_CHAIN_ID, p.height, p.round, p.polRound, blockHash(block)))))
      tampered++
      send({ kind: "proposal", proposal: { ...p, block, signature } })
    }
    w.setOutbound("v1", stuff)

    const from = lowest()
    runTo(from + 12)
    expect(tampered, "v1 proposed in the run").toBeGreaterThan(0)
    const v1 = byzantine.keys.address.toLowerCase()
    const refusals = events.filter((e) => e.kind === "proposal.invalid" && e.data["proposer"] === v1)
    for (const id of ["v0", "v2", "v3"]) {
      const mine = refusals.filter((e) => e.node === id)
      expect(mine.length, `${id} judged v1's block invalid`).toBeGreaterThan(0)
      for (const e of mine) expect(e.data["reason"]).toMatch(new RegExp(`${junk} has no stake on the ledger`))
    }
    // Never executed anywhere, and every committed block was proposed by an honest validator since.
    for (const id of VALIDATORS) expect(w.app(id)!.nextNonce(junk), `${id} never executed mallory's transaction`).toBe(0)
    const committed = events.filter((e) => e.kind === "block.committed" && e.node === "v0" && (e.data["height"] as number) > from + 1)
    expect(committed.length).toBeGreaterThanOrEqual(10)
    expect(committed.every((e) => e.data["proposer"] !== v1)).toBe(true)
    expect(w.errors).toEqual([])
  })
})

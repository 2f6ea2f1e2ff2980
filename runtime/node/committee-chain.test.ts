/**
 * The committee runs on the contracts, end to end on loopback: a devnet of three validators over
 * libp2p with Hardhat's in-process chain (deployed; the validators registered on Staking with a fee
 * deposit each; the Committee's snapshot 1 taken then, the genesis set). Epochs of a few blocks: the
 * nodes read their set from the Committee's snapshots, cross epoch boundaries whose set comes from
 * a snapshot taken on the contract after the first report, and settle each epoch's report on
 * Committee.sol, which verifies the signatures of ≥ 2/3 of the snapshot's power and pays the
 * emission and the fees on chain. (Double-sign evidence on Staking: evidence-chain.test.ts.)
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { GENESIS_SNAPSHOT } from "../core/app/app.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { DEVNET_PARAMS, startDevnet, type Devnet } from "./devnet.ts"

describe("the committee on the contracts (devnet on loopback)", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-committee-chain-"))
  let devnet: Devnet
  const events: TelemetryEvent[] = []

  beforeAll(async () => {
    devnet = await startDevnet({
      dir: join(root, "net"), nodes: 3, training: { enabled: false },
      params: { ...DEVNET_PARAMS, "consensus.timeoutCommit": "200ms", "consensus.epochLength": 4 },
    })
    for (const n of devnet.nodes) n.telemetry.subscribe((e) => void events.push(e))
  }, 120_000)
  afterAll(async () => {
    await devnet?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it("starts from the Committee's snapshot 1, settles epoch reports signed by ≥ 2/3 on Committee.sol, and takes later epochs' sets from its snapshots", async () => {
    const chain = devnet.nodes[0]!.chain!
    const genesis = devnet.nodes[0]!.genesis
    // The genesis set is the contract's snapshot 1: every genesis validator with its signing key.
    const first = (await Effect.runPromise(chain.committee(GENESIS_SNAPSHOT)))!
    expect(first.validators.map((v) => v.signingKey).sort()).toEqual(genesis.validators.map((v) => v.address.toLowerCase()).sort())
    for (const n of devnet.nodes) expect(n.node.app.snapshotAt(1)).toEqual(first)
    const reserveBefore = (await Effect.runPromise(chain.supply)).rewardPool
    const deposits = await Promise.all(genesis.validators.map((v) => Effect.runPromise(chain.feeDeposit(v.operator))))
    for (const d of deposits) expect(d).toBeGreaterThan(0n)

    // Epoch 1's report (heights 1..4) is accepted on the Committee, then epoch 2's.
    await vi.waitFor(async () => {
      expect(await Effect.runPromise(chain.epochReport(2))).toBeDefined()
    }, { timeout: 180_000, interval: 500 })
    const accepted = (await Effect.runPromise(chain.epochReport(1)))!
    expect(accepted.report).toMatchObject({ epoch: 1, snapshotId: GENESIS_SNAPSHOT })
    expect(accepted.power * 3n).toBeGreaterThan(first.totalPower * 2n)
    // Exactly one node settled each epoch; the others found it settled (or were refused cleanly).
    const reported = events.filter((e) => e.kind === "committee.report")
    expect(reported.filter((e) => e.data["epoch"] === 1)).toHaveLength(1)
    expect(events.filter((e) => e.kind === "node.error")).toEqual([])
    // Paid on chain: the emission went to the stakers' reward pool; fees (none here: no signed
    // transaction without training) only ever come out of the deposits.
    expect((await Effect.runPromise(chain.supply)).rewardPool).toBeGreaterThan(reserveBefore)
    const after = await Promise.all(genesis.validators.map((v) => Effect.runPromise(chain.feeDeposit(v.operator))))
    after.forEach((d, i) => expect(d).toBeLessThanOrEqual(deposits[i]!))

    // The reporter took a snapshot on the contract after its report: an epoch boundary names it, and
    // every node's set from then on is that snapshot's.
    await vi.waitFor(() => {
      for (const n of devnet.nodes) expect(n.node.app.lastSnapshot).toBeGreaterThan(GENESIS_SNAPSHOT)
    }, { timeout: 120_000, interval: 500 })
    const id = devnet.nodes[0]!.node.app.lastSnapshot
    const later = (await Effect.runPromise(chain.committee(id)))!
    for (const n of devnet.nodes) {
      expect(n.node.app.lastSnapshot).toBeGreaterThanOrEqual(id)
      const named = n.node.ctx.committees.committee(id)
      expect(named).toEqual(later)
    }
    // The nodes agree on the blocks across the boundaries.
    const h = Math.min(...devnet.nodes.map((n) => n.node.app.height))
    expect(h).toBeGreaterThan(8)
  }, 300_000)
})

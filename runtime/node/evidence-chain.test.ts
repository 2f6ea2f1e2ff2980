/**
 * Double-sign evidence settles on the contracts, end to end on loopback: a devnet of two validators
 * over libp2p with Hardhat's in-process chain (deployed, both registered on Staking with their genesis
 * stake and their signing key). Validator node1's real key signs two conflicting prevotes; the
 * evidence is handed to node0's consensus, a block carries it, and both nodes' reporters submit it to
 * Staking.slashDoubleSign. The first slashes node1 on Staking (stake cut by the double-sign fraction,
 * tombstoned, the evidence id the TS side computes); the second is refused as already settled, and
 * the chain holds exactly one slash. Evidence signed by a key no validator registered is refused
 * with the reason and changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { doubleSignEvidenceId, signedVotes } from "../core/consensus/double-sign.ts"
import { unlockKeystoreFile } from "../adapters/keystore.ts"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../core/crypto.ts"
import { duplicateVoteEvidence } from "../core/consensus/evidence.ts"
import { signVote } from "../core/consensus/signing.ts"
import { StakingInvalidEvidence } from "../core/econ/index.ts"
import { mulWad, toWad } from "../core/units.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { resolvePath } from "./config.ts"
import { DEVNET_PARAMS, nodeDir, startDevnet, type Devnet } from "./devnet.ts"
import { readDataDir } from "./run-node.ts"

const hash = (label: string) => toHex(keccak256(utf8ToBytes(label)))

describe("double-sign evidence settles on Staking (devnet on loopback)", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-evidence-chain-"))
  const dir = join(root, "net")
  let devnet: Devnet
  const events: TelemetryEvent[][] = []

  beforeAll(async () => {
    devnet = await startDevnet({ dir, nodes: 2, params: { ...DEVNET_PARAMS, "consensus.timeoutCommit": "100ms" }, training: { enabled: false } })
    for (const n of devnet.nodes) {
      const mine: TelemetryEvent[] = []
      events.push(mine)
      n.telemetry.subscribe((e) => void mine.push(e))
    }
  }, 90_000)
  afterAll(async () => {
    await devnet?.close()
    rmSync(root, { recursive: true, force: true })
  })

  /** node i's signing key, unlocked from its keystore as the node does. */
  const keyOf = async (i: number): Promise<Uint8Array> => {
    const { config } = await Effect.runPromise(readDataDir(nodeDir(dir, i)))
    const password = readFileSync(join(nodeDir(dir, i), "password"), "utf8").split("\n")[0]!
    return Effect.runPromise(unlockKeystoreFile(resolvePath(nodeDir(dir, i), config.paths.keystore), password))
  }
  const settledOrRefused = (i: number) => events[i]!.filter((e) => e.kind === "evidence.settled" || e.kind === "evidence.refused")

  it("the first reporter slashes and tombstones the double signer on Staking; the second is refused and nothing else changes", async () => {
    const [node0, node1] = devnet.nodes as [Devnet["nodes"][number], Devnet["nodes"][number]]
    const chain = node0.chain!
    const genesis = node0.genesis
    const chainId = genesis.chainId
    const key = await keyOf(1)
    const signer = addressOfPrivateKey(key)
    expect(signer).toBe(node1.address)
    const operator = genesis.validators.find((v) => v.address.toLowerCase() === signer)!.operator
    const bonded = genesis.validators.find((v) => v.operator === operator)!.amount
    const poolsBefore = await Effect.runPromise(chain.pools)
    const supplyBefore = await Effect.runPromise(chain.supply)
    expect(poolsBefore.find((p) => p.id === operator)).toMatchObject({ tokens: bonded, tombstoned: false, jailed: false })

    // A real double sign: node1's key, two prevotes for different blocks at a height the network executed.
    const height = Math.max(1, node0.node.app.height)
    const evidence = duplicateVoteEvidence(
      signVote(key, chainId, { type: "prevote", height, round: 0, blockHash: hash("block-a") }),
      signVote(key, chainId, { type: "prevote", height, round: 0, blockHash: hash("block-b") }),
    )
    key.fill(0)
    expect(node0.node.consensus.submitEvidence(evidence)).toBeUndefined()

    // Both nodes' reporters submit it once; one settles, the other is told it was settled already.
    await vi.waitFor(() => {
      expect(settledOrRefused(0)).toHaveLength(1)
      expect(settledOrRefused(1)).toHaveLength(1)
    }, { timeout: 60_000, interval: 100 })
    const outcomes = [...settledOrRefused(0), ...settledOrRefused(1)]
    const settled = outcomes.filter((e) => e.kind === "evidence.settled")
    const refused = outcomes.filter((e) => e.kind === "evidence.refused")
    expect(settled).toHaveLength(1)
    expect(refused).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: "StakingInfractionAlreadySlashed", already: true, validator: signer }) })])
    const evidenceId = doubleSignEvidenceId(signer, BigInt(chainId), BigInt(height), 0n, 1)
    const fraction = toWad(genesis.params["slashing.doubleSignFraction"])
    const cut = mulWad(bonded, fraction)
    expect(settled[0]!.data).toMatchObject({ validator: signer, height, pool: operator, evidenceId, tombstoned: true })
    expect(BigInt(settled[0]!.data["slashed"] as string)).toBe(cut)

    // On Staking: node1's stake cut once and tombstoned; every other pool as it was; one slash's worth burnt.
    const poolsAfter = await Effect.runPromise(chain.pools)
    expect(poolsAfter.find((p) => p.id === operator)).toMatchObject({ tokens: bonded - cut, tombstoned: true, jailed: true })
    expect(poolsAfter.filter((p) => p.id !== operator)).toEqual(poolsBefore.filter((p) => p.id !== operator))
    const supplyAfter = await Effect.runPromise(chain.supply)
    expect(supplyAfter.bonded).toBe(supplyBefore.bonded - cut)
    expect(supplyAfter.burnt - supplyBefore.burnt + (supplyAfter.insurancePool - supplyBefore.insurancePool)).toBe(cut)
    expect(supplyAfter.balances).toBe(supplyBefore.balances)

    // Submitted again by hand: refused with the tagged error, and nothing moves.
    const [a, b] = signedVotes(evidence, chainId)
    const again = await Effect.runPromise(Effect.result(chain.slashDoubleSign(a, b, node0.address)))
    expect(Result.isFailure(again) && again.failure._tag).toBe("StakingInfractionAlreadySlashed")
    expect(await Effect.runPromise(chain.supply)).toEqual(supplyAfter)
  }, 120_000)

  it("evidence signed by a key no validator registered is refused with the reason and changes nothing", async () => {
    const node0 = devnet.nodes[0]!
    const chain = node0.chain!
    const chainId = node0.genesis.chainId
    const stranger = keccak256(utf8ToBytes("dai-test/evidence-chain/stranger"))
    const evidence = duplicateVoteEvidence(
      signVote(stranger, chainId, { type: "precommit", height: 1, round: 0, blockHash: hash("x") }),
      signVote(stranger, chainId, { type: "precommit", height: 1, round: 0, blockHash: hash("y") }),
    )
    const pools = await Effect.runPromise(chain.pools)
    const supply = await Effect.runPromise(chain.supply)
    const [a, b] = signedVotes(evidence, chainId)
    const r = await Effect.runPromise(Effect.result(chain.slashDoubleSign(a, b, node0.address)))
    expect(Result.isFailure(r) && r.failure).toBeInstanceOf(StakingInvalidEvidence)
    expect(Result.isFailure(r) && r.failure.message).toContain("the signer is not a registered validator key")
    expect(await Effect.runPromise(chain.pools)).toEqual(pools)
    expect(await Effect.runPromise(chain.supply)).toEqual(supply)
  }, 60_000)
})

/**
 * The committee members of the EVM Chain adapter over the deployed Committee contract: snapshots read
 * back as the port's `Snapshot`, fee deposits, an epoch report signed with secp256k1 keys and settled
 * (its receipt), read back by `epochReport`, the refusals as core/committee's tagged errors (changing
 * nothing), and a conflicting report slashing who signed both.
 */
import { Effect } from "effect"
import { Wallet } from "ethers"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import {
  CommitteeBadSignature, CommitteeEpochReported, CommitteeInsufficientPower, CommitteeNotConflicting, CommitteeUnknownSnapshot,
  reportDigest, type EpochReport, type ReportSignature,
} from "../../core/committee/index.ts"
import { toHex } from "../../core/crypto.ts"
import { powerParams, votingPowers } from "../../core/consensus/power.ts"
import { TokenInvalidAmount } from "../../core/econ/index.ts"
import { TOKEN } from "../../core/units.ts"
import { ChainUnavailable } from "../../services/chain.ts"
import { makeEvmChain, type EvmChain } from "./chain.ts"
import { evmWorld, type EvmWorld } from "./test-harness.ts"

const run = <A, E>(e: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(e))

let world: EvmWorld
let chain: EvmChain
/** The consensus keys of the validators (registered as their signing keys). */
const VALIDATORS = ["v0", "v1", "v2", "d0", "d2"] as const
const BONDS: Record<string, bigint> = { v0: 50_000n * TOKEN, v1: 40_000n * TOKEN, v2: 30_000n * TOKEN, d0: 20_000n * TOKEN, d2: 10_000n * TOKEN }
const keys: Record<string, Wallet> = Object.fromEntries(VALIDATORS.map((v) => [v, new Wallet(Wallet.createRandom().privateKey)]))

beforeAll(async () => {
  world = await evmWorld()
})
afterAll(async () => {
  await world.close()
})
beforeEach(async () => {
  await world.reset()
  chain = world.chain()
  for (const v of VALIDATORS) {
    await run(chain.submit({ type: "registerValidator", operator: v, amount: BONDS[v]!, tier: 0, commission: 0n, signingKey: keys[v]!.address }))
  }
  await run(chain.submit({ type: "bondContributor", owner: "c0", amount: 500n * TOKEN, tier: 0 }))
})

const addressOf = (id: string) => world.accounts[id]!.toLowerCase()
const idOf = (address: string) => Object.entries(world.accounts).find(([, a]) => a.toLowerCase() === address)![0]
/** The report as the contract hashes it: accounts as addresses. */
const onChain = (r: EpochReport): EpochReport => ({ ...r, downtime: r.downtime.map(addressOf), scored: r.scored.map(addressOf), feePayers: r.feePayers.map(addressOf) })
const sign = (r: EpochReport, by: readonly string[]): ReportSignature[] => {
  const digest = toHex(reportDigest(BigInt(world.deployment.consensusChainId), world.deployment.contracts.Committee, onChain(r)))
  return by.map((v) => ({ signer: keys[v]!.address.toLowerCase(), signature: keys[v]!.signingKey.sign(digest).serialized }))
}
const report = async (epoch: number, over: Partial<EpochReport> = {}): Promise<EpochReport> => {
  const now = await run(chain.now)
  return { epoch, snapshotId: 1, fromTime: now - 3_600_000, toTime: now, downtime: [], scored: [], scores: [], feePayers: [], fees: [], ...over }
}

describe("EVM committee", () => {
  it("takes and reads snapshots as the port's Snapshot: powers by power.ts, trainers, parameters", async () => {
    expect(await run(chain.latestSnapshot)).toBeUndefined()
    const s = await run(chain.snapshot("d0"))
    expect(s.id).toBe(1)
    expect(await run(chain.latestSnapshot)).toEqual(s)
    expect(await run(chain.committee(1))).toEqual(s)
    expect(await run(chain.committee(2))).toBeUndefined()
    const expected = votingPowers(
      VALIDATORS.map((v) => ({ address: addressOf(v), stake: BONDS[v]!, multiplierWad: 10n ** 18n, contribution: 0n })),
      powerParams(world.params),
    )
    expect(s.validators.map((v) => [v.operator, v.power])).toEqual(expected.map((v) => [idOf(v.address), v.power]))
    expect(s.validators.map((v) => v.signingKey)).toEqual(expected.map((v) => keys[idOf(v.address)]!.address.toLowerCase()))
    expect(s.trainers).toEqual([{ owner: "c0", stake: 500n * TOKEN }])
    expect(s.params["consensus.maxPowerShare"]).toBe(world.params["consensus.maxPowerShare"])
    expect(s.params["rewards.annualEmission"]).toBe(world.params["rewards.annualEmission"])
  })

  it("settles an epoch report signed by 2/3 and reads it back; refusals change nothing", async () => {
    // The harness's genesis gives the reserve to an account; the Committee's reward reserve is what it holds.
    await run(chain.submit({ type: "transfer", from: "reserve", to: world.deployment.contracts.Committee, amount: 1_000_000n * TOKEN }))
    const d = await run(chain.depositFees("d1", 10n * TOKEN))
    expect(d).toEqual({ type: "depositFees", account: "d1", amount: 10n * TOKEN, deposit: 10n * TOKEN })
    expect(await fail(chain.depositFees("d1", 0n))).toBeInstanceOf(TokenInvalidAmount)
    expect(await run(chain.feeDeposit("d1"))).toBe(10n * TOKEN)
    await run(chain.snapshot("d0"))
    await world.advance(60_000)
    const r = await report(1, { downtime: ["d2"], scored: ["c0"], scores: [7n], feePayers: ["d1"], fees: [TOKEN] })
    const quorum = ["v0", "v1", "v2", "d0"]

    // v2 and d2 hold less than 2/3; a signature claimed for v1 but made by v2 does not verify.
    const weak = await fail(chain.submitEpochReport(r, sign(r, ["v2", "d2"]), "d0"))
    expect(weak).toBeInstanceOf(CommitteeInsufficientPower)
    const forged = [{ ...sign(r, ["v2"])[0]!, signer: keys.v1!.address.toLowerCase() }, ...sign(r, ["v0"])]
    expect(await fail(chain.submitEpochReport(r, forged, "d0"))).toBeInstanceOf(CommitteeBadSignature)
    expect(await fail(chain.submitEpochReport({ ...r, snapshotId: 5 }, sign(r, quorum), "d0"))).toBeInstanceOf(CommitteeUnknownSnapshot)
    expect(await run(chain.epochReport(1))).toBeUndefined()
    expect(await run(chain.feeDeposit("d1"))).toBe(10n * TOKEN)

    const receipt = await run(chain.submitEpochReport(r, sign(r, quorum), "d0"))
    expect(receipt).toMatchObject({ type: "epochReport", epoch: 1, snapshotId: 1, signers: quorum, skipped: [] })
    expect(receipt.slashes.map((s) => [s.pool, s.infraction])).toEqual([["d2", "downtime"]])
    expect(receipt.settlement.fees).toMatchObject({ paid: TOKEN, unpaid: 0n })
    expect(receipt.settlement.emission.payouts.map((p) => p.account)).toEqual(["c0"])
    expect(receipt.settlement.emission.released).toBeGreaterThan(0n)
    expect((await run(chain.pools)).find((p) => p.id === "d2")).toMatchObject({ jailed: true })
    expect(await run(chain.feeDeposit("d1"))).toBe(9n * TOKEN)

    const back = await run(chain.epochReport(1))
    expect(back).toMatchObject({ report: r, digest: receipt.digest, signers: quorum, power: receipt.power })
    // A repeat is refused by the contract, mapped to the same tagged error as the simulated ledger's.
    expect(await fail(chain.submitEpochReport(r, sign(r, quorum), "d0"))).toEqual(new CommitteeEpochReported({ epoch: 1, same: true }))

    // d2 is jailed now: a later report naming it again is accepted, its slash skipped as the simulated ledger skips it.
    await world.advance(60_000)
    const r2 = await report(2, { snapshotId: 1, downtime: ["d2"] })
    const second = await run(chain.submitEpochReport(r2, sign(r2, quorum), "d0"))
    expect(second.skipped).toEqual([{ operator: "d2", reason: "StakingValidatorJailed" }])
    expect(second.slashes).toEqual([])

    // Signing a different report of epoch 1 is evidence: v1 signed both and is tombstoned.
    const other = { ...r, scores: [8n] }
    const conflict = await run(chain.reportConflict(other, sign(other, ["v1", "d2"]), "d2"))
    expect(conflict.slashes.map((s) => [s.pool, s.infraction, s.tombstoned])).toEqual([["v1", "doubleSign", true]])
    expect(await fail(chain.reportConflict(other, sign(other, ["v1"]), "d2"))).toBeInstanceOf(CommitteeNotConflicting)
  })

  it("fails cleanly without a Committee in the deployment", async () => {
    const { Committee: _, ...contracts } = world.deployment.contracts
    const old = makeEvmChain({ provider: world.ethers.provider, deployment: { ...world.deployment, contracts }, accounts: world.accounts, signerFor: (id) => world.signers[id] })
    expect(await fail(old.latestSnapshot)).toBeInstanceOf(ChainUnavailable)
    expect(await fail(old.snapshot("d0"))).toBeInstanceOf(ChainUnavailable)
  })
})

/**
 * The simulated ledger's committee through the Chain port: snapshots, fee deposits, epoch reports
 * signed by simulated nodes' Keys (the cheap scheme checked by the run's oracle, and secp256k1) and
 * verified against the snapshot, conflicting reports; refusals say why and change nothing.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { reportDigest, ZERO_ADDRESS } from "../../runtime/core/committee/digest.ts"
import type { EpochReport, ReportSignature, Snapshot } from "../../runtime/core/committee/types.ts"
import { toHex } from "../../runtime/core/crypto.ts"
import { snapshotKey, testEconomy } from "../../runtime/core/econ/testkit.ts"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import type { Keys } from "../../runtime/services/keys.ts"
import { committeeTests } from "../../runtime/services/compliance/chain/committee.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { makeSimChain } from "./chain.ts"
import { makeSimKeys, SignatureOracle } from "./keys.ts"

const SEED = 42
const CHAIN_ID = 9n
const NODES = ["v0", "v1", "v2", "d2"]
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runSync(Effect.result(e))
const value = <A, E>(e: Effect.Effect<A, E>): A => {
  const r = run(e)
  if (Result.isFailure(r)) throw new Error(`expected success, got ${String((r.failure as { _tag?: string })._tag)}: ${String((r.failure as { message?: string }).message)}`)
  return r.success
}
const failure = <A, E>(e: Effect.Effect<A, E>): E => {
  const r = run(e)
  if (Result.isSuccess(r)) throw new Error("expected a refusal")
  return r.failure
}

/** Four validators whose signing keys are their simulated nodes' keys; `oracle` selects the cheap scheme. */
const world = (oracle?: SignatureOracle) => {
  let now = 0
  const economy = testEconomy(DEFAULT_PARAMS, 0)
  const keys = new Map<string, Keys["Service"]>(NODES.map((n) => [n, makeSimKeys(SEED, n, oracle)]))
  const chain = makeSimChain(economy, () => now, undefined, { consensusChainId: CHAIN_ID, ...(oracle === undefined ? {} : { verify: (a, d, s) => oracle.verify(a, d, s) }) })
  NODES.forEach((n, i) => {
    value(chain.submit({ type: "registerValidator", operator: n, amount: BigInt(40 - 10 * i) * 1_000n * TOKEN, tier: 0, commission: 0n, signingKey: keys.get(n)!.address }))
  })
  const sign = (snapshot: Snapshot, report: EpochReport, operators: readonly string[]): ReportSignature[] => {
    const digest = reportDigest(CHAIN_ID, ZERO_ADDRESS, report)
    return operators.map((op) => {
      const k = keys.get(op)!
      expect(snapshot.validators.find((v) => v.operator === op)?.signingKey).toBe(k.address)
      return { signer: k.address, signature: toHex(value(k.sign(digest))) }
    })
  }
  return { economy, chain, sign, advance: (ms: number) => { now += ms }, now: () => now }
}

describe.each([
  ["the run's oracle (cheap signatures)", () => new SignatureOracle()],
  ["secp256k1", () => undefined],
])("committee on the simulated chain, signed with %s", (_name, oracleOf) => {
  it("snapshot → fee deposit → a report signed by more than 2/3 settles; the epoch reads back; a conflicting report slashes the double signers", () => {
    const w = world(oracleOf())
    expect(value(w.chain.latestSnapshot)).toBeUndefined()
    const snap = value(w.chain.snapshot("d0"))
    expect(value(w.chain.committee(1))).toBe(snap)
    // Four validators under a 25 % cap: equal power, in validator-set order (power, then operator).
    expect(snap.validators.map((v) => v.operator)).toEqual(["d2", "v0", "v1", "v2"])
    const power = (ops: readonly string[]) => snap.validators.filter((v) => ops.includes(v.operator)).reduce((t, v) => t + v.power, 0n)
    expect(value(w.chain.depositFees("d1", 3n * TOKEN))).toMatchObject({ deposit: 3n * TOKEN })
    w.advance(600_000)
    const report: EpochReport = {
      epoch: 1, snapshotId: snap.id, fromTime: 0, toTime: w.now(), downtime: ["d2"], scored: ["c0"], scores: [5n], feePayers: ["d1"], fees: [TOKEN],
    }
    const receipt = value(w.chain.submitEpochReport(report, w.sign(snap, report, ["v0", "v1", "v2"]), "v0"))
    expect(receipt).toMatchObject({ epoch: 1, signers: ["v0", "v1", "v2"], power: power(["v0", "v1", "v2"]), totalPower: snap.totalPower })
    expect(receipt.slashes.map((s) => s.pool)).toEqual(["d2"])
    expect(value(w.chain.feeDeposit("d1"))).toBe(2n * TOKEN)
    expect(value(w.chain.epochReport(1))).toMatchObject({ report, digest: receipt.digest, signers: ["v0", "v1", "v2"], power: receipt.power, acceptedAt: 600_000 })
    expect(value(w.chain.epochReport(2))).toBeUndefined()
    const forged = { ...report, downtime: ["v0"] }
    const conflict = value(w.chain.reportConflict(forged, w.sign(snap, forged, ["v2", "v1"]), "d0"))
    expect(conflict.slashes.map((s) => [s.pool, s.tombstoned])).toEqual([["v2", true], ["v1", true]])
  })

  it("a report signed by 2/3 or less is refused with the numbers and changes nothing", () => {
    const w = world(oracleOf())
    const snap = value(w.chain.snapshot("d0"))
    w.advance(1_000)
    const report: EpochReport = { epoch: 1, snapshotId: snap.id, fromTime: 0, toTime: 1_000, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
    const before = snapshotKey(w.economy.snapshot())
    const e = failure(w.chain.submitEpochReport(report, w.sign(snap, report, ["v0", "v2"]), "v0"))
    const power = snap.validators.filter((v) => v.operator === "v0" || v.operator === "v2").reduce((t, v) => t + v.power, 0n)
    expect(power * 3n).toBeLessThanOrEqual(snap.totalPower * 2n)
    expect(e).toMatchObject({ _tag: "CommitteeInsufficientPower", power, quorum: (snap.totalPower * 2n) / 3n + 1n, total: snap.totalPower })
    expect(snapshotKey(w.economy.snapshot())).toBe(before)
    expect(value(w.chain.epochReport(1))).toBeUndefined()
  })
})

// The Chain suite's committee topic on the simulated ledger (secp256k1 signatures; the same assertions are meant for the contracts).
describe("Chain compliance: simulated", () => {
  committeeTests(testSetup(async () => {
    let now = 0
    return {
      chain: makeSimChain(testEconomy(DEFAULT_PARAMS, 0), () => now, undefined, { consensusChainId: CHAIN_ID }),
      params: DEFAULT_PARAMS, consensusChainId: CHAIN_ID, ledgerAddress: ZERO_ADDRESS,
      advance: async (ms: number) => void (now += ms),
    }
  }))
})

it("a simulated ledger made without a consensus chain id refuses reports cleanly", () => {
  const chain = makeSimChain(testEconomy(DEFAULT_PARAMS, 0), () => 0)
  const report: EpochReport = { epoch: 1, snapshotId: 1, fromTime: 0, toTime: 0, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }
  const e = failure(chain.submitEpochReport(report, [], "v0"))
  expect(e).toMatchObject({ _tag: "ChainUnavailable", operation: "submitEpochReport" })
  expect(failure(chain.reportConflict(report, [], "v0"))._tag).toBe("ChainUnavailable")
  expect(value(chain.snapshot("v0")).validators).toEqual([])
  expect(failure(chain.depositFees("d0", 0n))._tag).toBe("TokenInvalidAmount")
})

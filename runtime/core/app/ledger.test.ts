/**
 * The in-memory ledger's committee side: snapshot 1 at genesis, reports settled only with 2/3 of
 * the snapshot's power (a refusal changes nothing), first report of an epoch wins, a conflicting one
 * slashes who signed both; downtime slashed, emission released, fees paid, supply conserved.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import { reportDigest, type EpochReport } from "./epoch-report.ts"
import { genesisReplica } from "./ledger.ts"

const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`dai/ledger-test/${i}`)))
const validators = keys.map((k, i) => ({ operator: `v${i}`, address: addressOfPrivateKey(k), amount: 10_000n * TOKEN, tier: 0 as const, commission: WAD / 20n }))
const CHAIN = 9

const ledger = () => {
  const given = validators.map((v) => ({ address: v.operator, amount: v.amount + 1_000n * TOKEN }))
  const sum = given.reduce((s, a) => s + a.amount, 0n)
  return genesisReplica({
    chainId: CHAIN, params: DEFAULT_PARAMS, validators, time: 0, rewardReserve: "reserve",
    allocations: [...given, { address: "reserve", amount: 100_000_000n * TOKEN }, { address: "community", amount: TOTAL_SUPPLY - sum - 100_000_000n * TOKEN }],
  }, verifySignature).ledger
}
const report = (over: Partial<EpochReport> = {}): EpochReport => ({
  epoch: 0, snapshotId: 1, fromTime: 0, toTime: 86_400_000, downtime: ["v3"], scored: ["v1"], scores: [5n], feePayers: ["v2"], fees: [TOKEN], ...over,
})
const sign = (r: EpochReport, who: readonly number[]) => who.map((i) => ({ signer: validators[i]!.address, signature: toHex(signDigest(keys[i]!, reportDigest(CHAIN, r))) }))
const fingerprint = (l: ReturnType<typeof ledger>) => JSON.stringify(l.economy.snapshot(), (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))

describe("the ledger's committee", () => {
  it("takes snapshot 1 at genesis: the validators with their signing keys and power, the parameters", () => {
    const s = ledger().committee(1)!
    expect(s.validators.map((v) => [v.operator, v.address, v.power])).toEqual(validators.map((v) => [v.operator, v.address.toLowerCase(), 10_000n]).sort((a, b) => (a[1]! < b[1]! ? -1 : 1)))
    expect(s.params).toEqual(DEFAULT_PARAMS)
  })

  it("refuses a report signed by 2/3 of the power or less, changing nothing; settles one signed by more", () => {
    const l = ledger()
    const r = report()
    const before = fingerprint(l)
    const short = l.submitEpochReport(r, sign(r, [0, 1]), 86_400_000)
    expect(Result.isFailure(short) && short.failure.message).toBe("epoch 0: the signatures hold 20000 of 40000 power, a report needs 26667")
    // A signature of another report counts for nothing.
    expect(Result.isFailure(l.submitEpochReport(r, [...sign(r, [0, 1]), ...sign(report({ scores: [6n] }), [2])], 86_400_000))).toBe(true)
    expect(fingerprint(l)).toBe(before)
    const ok = Result.getOrThrow(l.submitEpochReport(r, sign(r, [0, 1, 2]), 86_400_000))
    expect(ok.slashes.map((s) => [s.pool, s.infraction])).toEqual([["v3", "downtime"]])
    expect(ok.toContributors + ok.toStakers).toBeGreaterThan(0n)
    expect(ok.fees).toBe(TOKEN)
    expect(l.economy.pool("v3")!.jailed).toBe(true)
    const s = l.economy.supply()
    expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt).toBe(s.minted)
    // The scores are the next snapshot's contribution.
    expect(l.committee(l.snapshot(86_400_000))!.validators.find((v) => v.operator === "v1")!.contribution).toBe(5n)
  })

  it("lets the first report of an epoch win; a different one slashes those who signed both", () => {
    const l = ledger()
    const r = report({ downtime: [] })
    Result.getOrThrow(l.submitEpochReport(r, sign(r, [0, 1, 2]), 86_400_000))
    const again = l.submitEpochReport(r, sign(r, [0, 1, 2]), 86_400_000)
    expect(Result.isFailure(again) && again.failure.message).toBe("epoch 0 was reported already")
    const other = report({ downtime: [], scores: [9n] })
    const conflict = l.submitEpochReport(other, sign(other, [1, 2, 3]), 86_400_000)
    expect(Result.isFailure(conflict) && conflict.failure.message).toMatch(/another content: its signers of both are slashed/)
    expect(["v0", "v1", "v2", "v3"].map((v) => l.economy.pool(v)!.tombstoned)).toEqual([false, true, true, false])
  })

  it("convicts a double signer once: a repeat is refused", () => {
    const l = ledger()
    expect(Result.isSuccess(l.convict("v2", "double-sign/x/1/0/prevote", 10, 10))).toBe(true)
    const repeat = l.convict("v2", "double-sign/x/1/0/prevote", 10, 10)
    expect(Result.isFailure(repeat) && repeat.failure._tag).toBe("StakingInfractionAlreadySlashed")
    expect(l.slashes).toHaveLength(1)
  })
})

describe("the report digest", () => {
  it("is core/committee's (the bytes Committee.sol recomputes), with the zero ledger address of the simulator", async () => {
    const { reportDigest: committeeDigest } = await import("../committee/digest.ts")
    for (const r of [report(), report({ epoch: 7, snapshotId: 3, downtime: [], scored: [], scores: [], feePayers: [], fees: [] }), report({ scored: ["0x" + "ab".repeat(20), "t3"], scores: [1n, 2n] })]) {
      expect(toHex(reportDigest(CHAIN, r))).toBe(toHex(committeeDigest(CHAIN, `0x${"00".repeat(20)}`, r)))
    }
  })
})

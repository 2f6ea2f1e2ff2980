/**
 * The in-memory ledger at genesis: snapshot 1 is the genesis set (signing keys, power, params), every
 * genesis validator and contributor has a fee deposit, the supply is whole, and a genesis that does
 * not apply names what refused it. (Reports, quorum, conflicts: runtime/core/econ/committee.test.ts.)
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, utf8ToBytes, verifySignature } from "../crypto.ts"
import { DEFAULT_PARAMS } from "../params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../units.ts"
import type { AppGenesis } from "./app.ts"
import { GENESIS_FEE_DEPOSIT, genesisReplica, ledgerAtGenesis } from "./ledger-genesis.ts"

const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`dai/ledger-test/${i}`)))
const validators = keys.map((k, i) => ({ operator: `v${i}`, address: addressOfPrivateKey(k), amount: 10_000n * TOKEN, tier: 0 as const, commission: WAD / 20n }))

const genesis = (spare: bigint = 1_000n * TOKEN): AppGenesis => {
  const given = [...validators.map((v) => ({ address: v.operator, amount: v.amount + spare })), { address: "t0", amount: 600n * TOKEN }]
  const sum = given.reduce((s, a) => s + a.amount, 0n)
  return {
    chainId: 9, params: DEFAULT_PARAMS, validators, time: 0, rewardReserve: "reserve", contributors: [{ owner: "t0", amount: 500n * TOKEN, tier: 0 }],
    allocations: [...given, { address: "reserve", amount: 100_000_000n * TOKEN }, { address: "community", amount: TOTAL_SUPPLY - sum - 100_000_000n * TOKEN }],
  }
}

describe("the in-memory ledger at genesis", () => {
  it("takes snapshot 1: the validators with their signing keys and power, the trainers, the parameters; the App's first set is it", () => {
    const { economy, app } = genesisReplica(genesis(), verifySignature)
    const s = economy.committeeSnapshot(1)!
    expect(economy.latestSnapshot()!.id).toBe(1)
    expect(s.validators.map((v) => [v.operator, v.signingKey, v.power]).sort()).toEqual(validators.map((v) => [v.operator, v.address.toLowerCase(), 10_000n]).sort())
    expect(s.trainers).toEqual([{ owner: "t0", stake: 500n * TOKEN }])
    expect(s.params).toEqual(DEFAULT_PARAMS)
    expect(app.validatorSet(1).validators.map((v) => v.address).sort()).toEqual(validators.map((v) => v.address.toLowerCase()).sort())
    expect(app.epochOf(1)).toBe(1)
  })

  it("gives each genesis validator and contributor a fee deposit from what its bond leaves (at most GENESIS_FEE_DEPOSIT), the supply whole", () => {
    const economy = Result.getOrThrow(ledgerAtGenesis(genesis()))
    for (const v of validators) expect(economy.feeDeposit(v.operator)).toBe(GENESIS_FEE_DEPOSIT)
    expect(economy.feeDeposit("t0")).toBe(100n * TOKEN)
    const small = Result.getOrThrow(ledgerAtGenesis(genesis(3n * TOKEN)))
    expect(small.feeDeposit("v0")).toBe(3n * TOKEN)
    expect(small.balanceOf("v0")).toBe(0n)
    const s = economy.supply()
    expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt).toBe(s.minted)
    expect(s.minted).toBe(TOTAL_SUPPLY)
  })

  it("names what does not apply: a validator below the minimum bond, a signing key twice", () => {
    const low = { ...genesis(), validators: [{ ...validators[0]!, amount: 1n }] }
    expect(Result.isFailure(ledgerAtGenesis(low)) && ledgerAtGenesis(low)).toMatchObject({ failure: expect.stringMatching(/^genesis validator v0: /) })
    const twice = { ...genesis(), validators: [validators[0]!, { ...validators[1]!, address: validators[0]!.address }] }
    expect(Result.isFailure(ledgerAtGenesis(twice)) && ledgerAtGenesis(twice)).toMatchObject({ failure: expect.stringMatching(/^genesis validator v1: .*/) })
  })
})

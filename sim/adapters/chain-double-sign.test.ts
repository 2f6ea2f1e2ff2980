/**
 * The simulated ledger's `slashDoubleSign`: Staking.sol's check in TypeScript (two conflicting votes
 * signed by one registered key, on the ledger's consensus chain id), then a doubleSign slash, once per
 * evidence id — with real secp256k1 votes (the signer recovered) and with the simulator's cheap
 * signatures checked by the run's oracle (the signer claimed by the vote). Every refusal says why and
 * leaves the ledger as it was.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { doubleSignEvidenceId, signedVote } from "../../runtime/core/consensus/double-sign.ts"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../../runtime/core/crypto.ts"
import { signVote, voteDigest } from "../../runtime/core/consensus/signing.ts"
import type { Vote } from "../../runtime/core/consensus/types.ts"
import { Economy, FOREVER, StakingInfractionAlreadySlashed, StakingInvalidEvidence, StakingTombstoned } from "../../runtime/core/econ/index.ts"
import { DEFAULT_PARAMS } from "../../runtime/core/params.ts"
import { mulWad, TOKEN, toWad, TOTAL_SUPPLY } from "../../runtime/core/units.ts"
import { ChainUnavailable, type SignedVote } from "../../runtime/services/chain.ts"
import { testEconomy } from "../../runtime/core/econ/testkit.ts"
import { doubleSignTests } from "../../runtime/services/compliance/chain/double-sign.ts"
import { testSetup } from "../../runtime/services/compliance/test-setup.ts"
import { makeSimChain, type SimChainOptions } from "./chain.ts"
import { makeSimKeys, SignatureOracle, simAddress } from "./keys.ts"

const CHAIN_ID = 7
const keyOf = (name: string) => keccak256(utf8ToBytes(`dai-test/double-sign/${name}`))
const hash = (label: string) => toHex(keccak256(utf8ToBytes(label)))
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runSync(Effect.result(e))
/** The error an effect fails with (throws if it succeeds). */
const failure = <A, E>(e: Effect.Effect<A, E>): E => {
  const r = run(e)
  if (Result.isSuccess(r)) throw new Error(`expected a refusal, got ${String(r.success)}`)
  return r.failure
}

/** A ledger where each of `operators` (addresses) holds 1M tokens and runs a validator of 100k. */
const ledger = (operators: readonly string[], options: SimChainOptions = { consensusChainId: CHAIN_ID }) => {
  const economy = Result.getOrThrow(Economy.genesis([
    ...operators.map((address) => ({ address, amount: 1_000_000n * TOKEN })),
    { address: "reserve", amount: TOTAL_SUPPLY - BigInt(operators.length) * 1_000_000n * TOKEN },
  ], DEFAULT_PARAMS, 0))
  for (const operator of operators) Result.getOrThrow(economy.apply({ type: "registerValidator", operator, amount: 100_000n * TOKEN, tier: 0, commission: 0n }, 0))
  let now = 1_000
  const chain = makeSimChain(economy, () => now, undefined, options)
  return { economy, chain, advance: (ms: number) => void (now += ms) }
}

/** Two conflicting prevotes of `key` at (height, round), as the port takes them (claimed signer dropped: recovery). */
const conflicting = (key: Uint8Array, height = 5, round = 0, chainId = CHAIN_ID): [SignedVote, SignedVote] => {
  const vote = (label: string): SignedVote => {
    const { validator: _, ...v } = signedVote(signVote(key, chainId, { type: "prevote", height, round, blockHash: hash(label) }), chainId)
    return v
  }
  return [vote(`a/${height}/${round}`), vote(`b/${height}/${round}`)]
}

describe("simulated ledger: slashDoubleSign", () => {
  it("slashes and tombstones the validator whose key signed both votes, once per equivocation", () => {
    const key = keyOf("v0")
    const v0 = addressOfPrivateKey(key)
    const { economy, chain } = ledger([v0, addressOfPrivateKey(keyOf("v1"))])
    const [a, b] = conflicting(key)
    const r = run(chain.slashDoubleSign(a, b, "anyone"))
    const fraction = toWad(DEFAULT_PARAMS["slashing.doubleSignFraction"])
    expect(Result.getOrThrow(r)).toMatchObject({
      type: "slash", pool: v0, operator: v0, infraction: "doubleSign", infractionTime: 1_000, fraction,
      stakeAtInfraction: 100_000n * TOKEN, slashedBonded: mulWad(100_000n * TOKEN, fraction), tombstoned: true, jailedUntil: FOREVER,
      evidenceId: doubleSignEvidenceId(v0, BigInt(CHAIN_ID), 5n, 0n, 1),
    })
    expect(economy.pool(v0)).toMatchObject({ tombstoned: true, jailed: true, tokens: 100_000n * TOKEN - mulWad(100_000n * TOKEN, fraction) })

    // The same equivocation again, in either order: refused, nothing moves.
    const before = economy.snapshot()
    const evidenceId = Result.getOrThrow(r).evidenceId
    expect(failure(chain.slashDoubleSign(a, b, "anyone"))).toEqual(new StakingInfractionAlreadySlashed({ evidenceId }))
    expect(failure(chain.slashDoubleSign(b, a, "someone else"))).toEqual(new StakingInfractionAlreadySlashed({ evidenceId }))
    // Another equivocation of the tombstoned validator: it cannot be slashed again.
    const [c, d] = conflicting(key, 6)
    expect(failure(chain.slashDoubleSign(c, d, "anyone"))).toEqual(new StakingTombstoned({ pool: v0 }))
    expect(economy.snapshot()).toEqual(before)
  })

  it("refuses a key no validator registered, votes that do not conflict and forged signatures, and changes nothing", () => {
    const v0 = addressOfPrivateKey(keyOf("v0"))
    const { economy, chain } = ledger([v0])
    const before = economy.snapshot()
    const reason = (a: SignedVote, b: SignedVote) => {
      const e = failure(chain.slashDoubleSign(a, b, "anyone"))
      expect(e).toBeInstanceOf(StakingInvalidEvidence)
      return (e as StakingInvalidEvidence).reason
    }
    const stranger = keyOf("stranger")
    expect(reason(...conflicting(stranger))).toBe("the signer is not a registered validator key")
    const [a, b] = conflicting(keyOf("v0"))
    expect(reason(a, a)).toBe("the votes are for the same block")
    expect(reason(a, conflicting(keyOf("v0"), 6)[1])).toBe("the votes are for different heights, rounds or types")
    expect(reason(a, conflicting(stranger)[1])).toBe("the votes were signed by different keys")
    expect(reason(...conflicting(keyOf("v0"), 5, 0, 8))).toBe("a vote is from another chain")
    expect(reason(a, { ...b, signature: `0x${"00".repeat(65)}` })).toBe("a vote signature is malformed")
    // A vote claiming v0 but signed by another key.
    expect(reason({ ...a, validator: v0 }, { ...conflicting(stranger)[1], validator: v0 })).toBe(`a vote signature is not ${v0}'s`)
    expect(economy.snapshot()).toEqual(before)
  })

  it("checks the simulator's cheap signatures through the run's oracle (the vote names its signer)", () => {
    const oracle = new SignatureOracle()
    const keys = makeSimKeys(42, "v0", oracle)
    const v0 = simAddress(42, "v0")
    const { economy, chain } = ledger([v0], { consensusChainId: CHAIN_ID, verify: (a, d, s) => oracle.verify(a, d, s) })
    const vote = (label: string): SignedVote => {
      const digest = voteDigest(CHAIN_ID, "precommit", 3, 1, hash(label))
      const signature = toHex(Effect.runSync(keys.sign(digest)))
      const v: Vote = { type: "precommit", height: 3, round: 1, blockHash: hash(label), validator: v0, signature }
      return signedVote(v, CHAIN_ID)
    }
    const r = Result.getOrThrow(run(chain.slashDoubleSign(vote("x"), vote("y"), "anyone")))
    expect(r).toMatchObject({ pool: v0, tombstoned: true, evidenceId: doubleSignEvidenceId(v0, BigInt(CHAIN_ID), 3n, 1n, 2) })
    expect(economy.pool(v0)?.tombstoned).toBe(true)
  })

  it("without a consensus chain id the ledger takes no votes as evidence", () => {
    const key = keyOf("v0")
    const { economy, chain } = ledger([addressOfPrivateKey(key)], {})
    const before = economy.snapshot()
    expect(failure(chain.slashDoubleSign(...conflicting(key), "anyone"))).toBeInstanceOf(ChainUnavailable)
    expect(economy.snapshot()).toEqual(before)
  })
})

// The Chain suite's double-sign topic, on the simulated ledger (the same assertions run on the contracts: runtime/adapters/evm/double-sign.test.ts).
describe("Chain compliance: simulated", () => {
  doubleSignTests(testSetup(async () => {
    let now = 0
    return {
      chain: makeSimChain(testEconomy(DEFAULT_PARAMS, 0), () => now, undefined, { consensusChainId: CHAIN_ID }),
      params: DEFAULT_PARAMS,
      consensusChainId: BigInt(CHAIN_ID),
      advance: async (ms: number) => void (now += ms),
    }
  }))
})

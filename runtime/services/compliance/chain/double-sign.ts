/**
 * Chain compliance, double-sign evidence (`slashDoubleSign`): two conflicting votes signed by a
 * validator's registered key slash and tombstone it, with the evidence id Staking.sol gives the
 * equivocation; the same equivocation again, another one of the tombstoned validator, a key nobody
 * registered and votes that do not conflict are refused with the same tagged errors on every backend,
 * and leave the state as it was; a key is registered by one validator only. The votes are real
 * secp256k1 signatures (the contract recovers them).
 */
import { Effect, Result } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { doubleSignEvidenceId } from "../../../core/consensus/double-sign.ts"
import { addressOfPrivateKey, keccak256, signDigest, toHex, utf8ToBytes } from "../../../core/crypto.ts"
import { voteDigest } from "../../../core/consensus/signing.ts"
import {
  econConfig, FOREVER, StakingInfractionAlreadySlashed, StakingInvalidEvidence, StakingSigningKeyInUse, StakingTombstoned,
} from "../../../core/econ/index.ts"
import { mulWad, TOKEN } from "../../../core/units.ts"
import type { ChainUnavailable, SignedVote } from "../../chain.ts"
import type { TestSetup } from "../test-setup.ts"
import { type ChainHarness, expectConserved, ok, refused, run, state } from "./harness.ts"

/** A chain at genesis (as harness.ts says) that takes votes of `consensusChainId` as evidence. */
export interface DoubleSignHarness extends ChainHarness {
  readonly consensusChainId: bigint
}

export type DoubleSignSetup = TestSetup<DoubleSignHarness>

const keyOf = (name: string) => keccak256(utf8ToBytes(`dai-test/compliance/double-sign/${name}`))
const hash = (label: string) => toHex(keccak256(utf8ToBytes(label)))

/** A prevote (type 1) of `key` for the block labelled `block`, as the port takes it. */
const vote = (key: Uint8Array, chainId: bigint, height: number, block: string): SignedVote => {
  const blockHash = hash(block)
  return {
    chainId, height: BigInt(height), round: 0n, voteType: 1, blockHash,
    signature: toHex(signDigest(key, voteDigest(chainId, "prevote", height, 0, blockHash))),
  }
}

/** The error a slashDoubleSign fails with (throws if it succeeds). */
const refusal = async (e: Effect.Effect<unknown, unknown>) => {
  const r = await run(Effect.result(e))
  if (Result.isSuccess(r)) throw new Error("expected the evidence to be refused")
  return r.failure
}

/** The double-sign tests, each on a fresh chain from `common`. */
export const doubleSignTests = (common: DoubleSignSetup): void => {
  describe("double-sign evidence", () => {
    afterEach(() => common.teardown())

    it("slashes and tombstones the validator whose registered key signed two conflicting votes, once per equivocation", async () => {
      const { chain, params, advance, consensusChainId } = await common.setup()
      const key = keyOf("v0")
      const signer = addressOfPrivateKey(key)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: 100_000n * TOKEN, tier: 0, commission: 0n, signingKey: signer })
      await ok(chain, { type: "delegate", owner: "d0", validator: "v0", amount: 50_000n * TOKEN, tier: 0 })
      await advance(1_000)
      const [a, b] = [vote(key, consensusChainId, 7, "a"), vote(key, consensusChainId, 7, "b")]
      const s = await run(chain.slashDoubleSign(a, b, "d1"))
      const fraction = econConfig(params).doubleSignFraction
      const evidenceId = doubleSignEvidenceId(signer, consensusChainId, 7n, 0n, 1)
      expect(s).toMatchObject({
        type: "slash", pool: "v0", operator: "v0", infraction: "doubleSign", evidenceId, fraction, stakeAtInfraction: 150_000n * TOKEN,
        slashedBonded: mulWad(150_000n * TOKEN, fraction), tombstoned: true, jailedUntil: FOREVER,
      })
      expect((await run(chain.pools)).find((p) => p.id === "v0")).toMatchObject({ tombstoned: true, jailed: true, tokens: 150_000n * TOKEN - s.slashedBonded })
      await expectConserved(chain, "after the double-sign slash")

      const after = await state(chain)
      expect(await refusal(chain.slashDoubleSign(a, b, "d2"))).toEqual(new StakingInfractionAlreadySlashed({ evidenceId }))
      expect(await refusal(chain.slashDoubleSign(b, a, "d2"))).toEqual(new StakingInfractionAlreadySlashed({ evidenceId }))
      expect(await refusal(chain.slashDoubleSign(vote(key, consensusChainId, 8, "a"), vote(key, consensusChainId, 8, "b"), "d2")))
        .toEqual(new StakingTombstoned({ pool: "v0" }))
      expect(await state(chain)).toEqual(after)
    })

    it("refuses a key no validator registered and votes that do not conflict, and changes nothing", async () => {
      const { chain, consensusChainId } = await common.setup()
      const key = keyOf("v0")
      const signer = addressOfPrivateKey(key)
      await ok(chain, { type: "registerValidator", operator: "v0", amount: 100_000n * TOKEN, tier: 0, commission: 0n, signingKey: signer })
      const before = await state(chain)
      // One key, one validator: evidence names exactly one.
      expect(await refused(chain, { type: "registerValidator", operator: "v1", amount: 100_000n * TOKEN, tier: 0, commission: 0n, signingKey: signer }))
        .toEqual(new StakingSigningKeyInUse({ key: signer, operator: "v0" }))
      const invalid = (signedBy: string, chainId: bigint, height: number, reason: string) =>
        new StakingInvalidEvidence({ evidenceId: doubleSignEvidenceId(signedBy, chainId, BigInt(height), 0n, 1), reason })
      const stranger = keyOf("stranger")
      expect(await refusal(chain.slashDoubleSign(vote(stranger, consensusChainId, 3, "a"), vote(stranger, consensusChainId, 3, "b"), "d0")))
        .toEqual(invalid(addressOfPrivateKey(stranger), consensusChainId, 3, "the signer is not a registered validator key"))
      const a = vote(key, consensusChainId, 3, "a")
      expect(await refusal(chain.slashDoubleSign(a, a, "d0"))).toEqual(invalid(signer, consensusChainId, 3, "the votes are for the same block"))
      expect(await refusal(chain.slashDoubleSign(a, vote(key, consensusChainId, 4, "b"), "d0")))
        .toEqual(invalid(signer, consensusChainId, 3, "the votes are for different heights, rounds or types"))
      expect(await refusal(chain.slashDoubleSign(a, vote(stranger, consensusChainId, 3, "b"), "d0")))
        .toEqual(invalid(signer, consensusChainId, 3, "the votes were signed by different keys"))
      const other = consensusChainId + 1n
      expect(await refusal(chain.slashDoubleSign(vote(key, other, 3, "a"), vote(key, other, 3, "b"), "d0")))
        .toEqual(invalid(signer, other, 3, "a vote is from another chain"))
      expect(await state(chain)).toEqual(before)
      // A refusal is a rule, never an outage.
      const rule = (await refusal(chain.slashDoubleSign(a, a, "d0"))) as { _tag: string } | ChainUnavailable
      expect(rule._tag).not.toBe("ChainUnavailable")
    })
  })
}

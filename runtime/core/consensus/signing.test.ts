import { recoverAddress as ethersRecover, solidityPackedKeccak256 } from "ethers"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../crypto.ts"
import { blockHash } from "./block.ts"
import { proposalDigest, signProposal, signVote, verifyProposal, verifyVote, voteDigest, votePreimage } from "./signing.ts"
import { type Block, ZERO_HASH } from "./types.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 100)
const KEY = keccak256(utf8ToBytes("dai/test-vector-key"))
const H = `0x${"ab".repeat(32)}`
const block: Block = { height: 2, round: 3, proposer: addressOfPrivateKey(KEY), parentHash: ZERO_HASH, time: 0, txs: [], appHash: ZERO_HASH }

describe("vote digest", () => {
  it("has the fixed byte layout: tag ‖ uint256 chainId ‖ uint256 height ‖ uint256 round ‖ uint8 type ‖ bytes32 hash", () => {
    // "dai/vote/v1", chainId 1, height 2, round 3, precommit (2), 0xabab…
    expect(toHex(votePreimage(1, "precommit", 2, 3, H))).toBe(
      "0x6461692f766f74652f7631" +
        "0000000000000000000000000000000000000000000000000000000000000001" +
        "0000000000000000000000000000000000000000000000000000000000000002" +
        "0000000000000000000000000000000000000000000000000000000000000003" +
        "02" +
        "abababababababababababababababababababababababababababababababab",
    )
    expect(toHex(voteDigest(1, "precommit", 2, 3, H))).toBe("0x5ba60c84f1293f3b1568c129416d122369c2c5cad258552e6b376bc826af9a7e")
    // nil is the zero word; prevote is 1
    expect(toHex(voteDigest(31337, "prevote", 10, 0, null))).toBe("0x9992cf9bfac5debcad5f4c173101b2acccc9b49b5e9d6ddfd777a4a84f5f50f3")
  })

  it("equals Solidity's keccak256(abi.encodePacked(...)) (ethers' solidityPackedKeccak256) for any input", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom("prevote" as const, "precommit" as const),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex), { nil: null }),
        (chainId, height, round, type, hash) => {
          const expected = solidityPackedKeccak256(
            ["string", "uint256", "uint256", "uint256", "uint8", "bytes32"],
            ["dai/vote/v1", chainId, height, round, type === "prevote" ? 1 : 2, hash ?? ZERO_HASH],
          )
          expect(toHex(voteDigest(chainId, type, height, round, hash))).toBe(expected)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("proposal digest packs polRound as int256 (−1 is 32 bytes of 0xff)", () => {
    const expected = solidityPackedKeccak256(["string", "uint256", "uint256", "uint256", "int256", "bytes32"], ["dai/proposal/v1", 1, 2, 3, -1, H])
    expect(toHex(proposalDigest(1, 2, 3, -1, H))).toBe(expected)
    expect(toHex(proposalDigest(1, 2, 3, -1, H))).toBe("0x055611705d6935f6bb34d23c9dc35be703c6220508de197f03669bdc0290bd52")
  })
})

describe("signing and verifying", () => {
  it("signs deterministically, in the r ‖ s ‖ v form ecrecover accepts", () => {
    const vote = signVote(KEY, 1, { type: "precommit", height: 2, round: 3, blockHash: H })
    expect(vote.signature).toBe(
      "0xdc23a317de5b4a23266b21d1a95278ceae55460ac5656f56304158d886ab55661fb92b59b3645976547ddf7ac84c93c336576a9187484cdb2d950cf8849f00501c",
    )
    expect(vote.validator).toBe(addressOfPrivateKey(KEY))
    expect(ethersRecover(toHex(voteDigest(1, "precommit", 2, 3, H)), vote.signature).toLowerCase()).toBe(vote.validator)
    expect(verifyVote(vote, 1)).toBe(true)
  })

  it("rejects a vote changed in any signed field, on another chain, or with a malformed signature", () => {
    const vote = signVote(KEY, 1, { type: "prevote", height: 2, round: 3, blockHash: H })
    expect(verifyVote({ ...vote, type: "precommit" }, 1)).toBe(false)
    expect(verifyVote({ ...vote, height: 3 }, 1)).toBe(false)
    expect(verifyVote({ ...vote, round: 4 }, 1)).toBe(false)
    expect(verifyVote({ ...vote, blockHash: null }, 1)).toBe(false)
    expect(verifyVote({ ...vote, validator: addressOfPrivateKey(keccak256(KEY)) }, 1)).toBe(false)
    expect(verifyVote(vote, 2)).toBe(false)
    expect(verifyVote({ ...vote, signature: "0x1234" }, 1)).toBe(false)
    expect(verifyVote({ ...vote, signature: "not hex" }, 1)).toBe(false)
    expect(verifyVote({ ...vote, height: -1 }, 1)).toBe(false)
  })

  it("signs and verifies proposals over the block's hash", () => {
    const p = signProposal(KEY, 9, { height: 2, round: 3, polRound: -1, block })
    expect(p.proposer).toBe(addressOfPrivateKey(KEY))
    expect(verifyProposal(p, 9)).toBe(true)
    expect(verifyProposal({ ...p, polRound: 0 }, 9)).toBe(false)
    expect(verifyProposal({ ...p, block: { ...block, time: 1 } }, 9)).toBe(false)
    expect(verifyProposal(p, 8)).toBe(false)
    expect(blockHash(p.block)).toBe(blockHash(block))
  })

  it("accepts a custom verifier (a node's cache, a simulation's stand-in)", () => {
    const vote = signVote(KEY, 1, { type: "prevote", height: 2, round: 3, blockHash: null })
    expect(verifyVote({ ...vote, round: 9 }, 1, () => true)).toBe(true)
    expect(verifyVote(vote, 1, () => false)).toBe(false)
  })
})

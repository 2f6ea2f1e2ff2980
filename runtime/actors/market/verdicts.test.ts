import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { MAX_PROOF_DEPTH } from "../../core/market/fraud-proof.ts"
import {
  decodeProofVote, decodeVerdictVote, encodeProofVote, encodeVerdictVote, MAX_PROOF_MESSAGE_BYTES, MAX_VERDICT_MESSAGE_BYTES, type ProofVote, type VerdictVote,
} from "./verdicts.ts"

const vote: VerdictVote = { v: 1, job: 3, snapshotId: 2, providerRight: false, signer: `0x${"ab".repeat(20)}`, signature: `0x${"cd".repeat(65)}` }
const utf8 = new TextEncoder()
const reason = (bytes: Uint8Array) => {
  const r = decodeVerdictVote(bytes)
  return Result.isFailure(r) ? r.failure : "accepted"
}

describe("verdict signatures on the wire", () => {
  it("round-trips a signature and stays well under the size limit", () => {
    const bytes = encodeVerdictVote(vote)
    expect(bytes.length).toBeLessThan(MAX_VERDICT_MESSAGE_BYTES)
    expect(decodeVerdictVote(bytes)).toEqual(Result.succeed(vote))
  })

  it("refuses, naming why: oversized, not UTF-8 JSON, a bad job or snapshot id, a short or uppercase hex, an unknown field", () => {
    expect(reason(new Uint8Array(MAX_VERDICT_MESSAGE_BYTES + 1))).toMatch(/oversized verdict message/)
    expect(reason(new Uint8Array([0xff, 0xfe]))).toMatch(/not UTF-8/)
    expect(reason(utf8.encode("{"))).toMatch(/malformed verdict message/)
    for (const bad of [{ job: 0 }, { snapshotId: 1.5 }, { signer: "0xabc" }, { signature: `0x${"CD".repeat(65)}` }, { providerRight: "yes" }, { extra: 1 }]) {
      expect(reason(utf8.encode(JSON.stringify({ ...vote, ...bad }))), JSON.stringify(bad)).toMatch(/malformed verdict message/)
    }
  })
})

const h = (b: number) => new Uint8Array(32).fill(b)
const proofVote: ProofVote = {
  vote: { ...vote, providerRight: false },
  proof: { note: 4, proof: { layer: 5, input: new Uint8Array([1, 2, 3, 250]), inputHash: h(1), outputHash: h(2), inputPath: [h(3), h(4), h(5), h(6)], outputPath: [h(7), h(8), h(9), h(10)] } },
}
const proofReason = (bytes: Uint8Array) => {
  const r = decodeProofVote(bytes)
  return Result.isFailure(r) ? r.failure : "accepted"
}

describe("refuting signatures with their fraud proof on the wire", () => {
  it("round-trips a signature with its proof (the hashes, the paths and the agreed bytes)", () => {
    const bytes = encodeProofVote(proofVote)!
    expect(decodeProofVote(bytes)).toEqual(Result.succeed(proofVote))
    // Bounded: a proof whose bytes do not fit is not encoded (its finder publishes the plain signature).
    const big = { ...proofVote, proof: { ...proofVote.proof, proof: { ...proofVote.proof.proof, input: new Uint8Array(MAX_PROOF_MESSAGE_BYTES) } } }
    expect(encodeProofVote(big)).toBeUndefined()
  })

  it("refuses, naming why: oversized, not UTF-8, a provider-right vote, layer 0, a path too long, a bad hash or base64, an unknown field", () => {
    const json = JSON.parse(new TextDecoder().decode(encodeProofVote(proofVote)!)) as Record<string, unknown>
    expect(proofReason(new Uint8Array(MAX_PROOF_MESSAGE_BYTES + 1))).toMatch(/oversized verdict proof/)
    expect(proofReason(new Uint8Array([0xff, 0xfe]))).toMatch(/malformed verdict proof: not UTF-8/)
    const path = json.inputPath as string[]
    for (const bad of [
      { providerRight: true }, { layer: 0 }, { note: 0 }, { inputPath: Array.from({ length: MAX_PROOF_DEPTH + 1 }, () => path[0]) },
      { outputHash: "0x12" }, { input: "not base64!" }, { extra: 1 }, { inputHash: undefined },
    ]) {
      expect(proofReason(utf8.encode(JSON.stringify({ ...json, ...bad }))), JSON.stringify(bad)).toMatch(/malformed verdict proof/)
    }
  })
})

import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeVerdictVote, encodeVerdictVote, MAX_VERDICT_MESSAGE_BYTES, type VerdictVote } from "./verdicts.ts"

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

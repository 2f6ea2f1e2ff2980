/**
 * Secure aggregation (Bonawitz et al. 2017, "Practical Secure Aggregation for Privacy-Preserving
 * Machine Learning"), the honest-but-curious-server protocol: the server learns only the sum of the
 * surviving clients' quantized updates, mod 2^32, and the round survives dropouts down to t clients.
 *
 * Crypto: X25519 (node:crypto) key agreement + HKDF-SHA256 salted with the round id; masks are
 * AES-256-CTR keystreams (a PRG) over 32-byte seeds, added mod 2^32 in one fused pass; t-of-n Shamir
 * shares (shamir.ts, GF(2^8), n ≤ 255, Privy-compatible) of each client's self-mask seed b_u and mask private
 * key s_u^SK; shares to a peer are sealed with AES-256-GCM under the pair's encryption key, bound to
 * (round, sender, recipient), so the relaying server cannot read them. All randomness comes from an
 * injected `randomBytes(n)`: crypto.randomBytes for real, `seededRandomBytes(seed)` in the simulator.
 *
 * Flow (each arrow is one message; ids are strings, ordered by `<` for the sign of pairwise masks):
 *
 *   const config = { round: "r7", threshold: t, length: d }           // agreed beforehand
 *   client = new SecAggClient({ id, config, randomBytes })            server = new SecAggServer(config)
 *   client.advertise(): Advert                          →  server.receiveAdvert(advert)
 *                                                          server.closeAdvertise(): Advert[]          (U1, to all)
 *   client.shareKeys(adverts): SharesMessage            →  server.receiveShares(msg)
 *                                                          server.closeShareKeys(): Map<id, EncryptedShare[]>
 *   client.receiveShares(routed.get(id)!): void
 *   client.maskedInput(q: Uint32Array): MaskedInput     →  server.receiveMaskedInput(msg)
 *                                                          server.closeMaskedInput(): UnmaskRequest   ({ survivors, dropped }, to survivors)
 *   client.unmaskResponse(survivors, dropped): UnmaskResponse → server.receiveUnmaskResponse(msg)
 *                                                          server.finish(): Uint32Array               (Σ_{survivors} q_u mod 2^32)
 *
 * Failures: `SecAggAbort({ stage, reason })` when fewer than t clients remain at a stage (from
 * close*()/finish() on the server, shareKeys/receiveShares/unmaskResponse on a client) — the round
 * ends with no result; `SecAggError({ stage, reason })` for a malformed, duplicate, late, tampered or
 * out-of-order message or call — the message is rejected and nothing is recorded.
 * `stage` is one of "advertise" | "share-keys" | "masked-input" | "unmask".
 *
 * Encoding: `quantize(delta, clip, participants)` → Uint32Array and `dequantize(sum, clip, count)` →
 * Float32Array (the real-valued SUM of `count` vectors; divide for a mean). See quantize.ts.
 * `runSecAgg({ config, inputs, randomBytes: (id) => RandomBytes, drop? })` runs a whole round in memory.
 *
 * Graphs (graph.ts, `config.graph`): "full" (default) masks every pair; "sparse" is SecAgg+ (Bell et
 * al. 2020): each client shares with and masks against the k − 1 = O(log n) nearest on a random ring
 * drawn from the round id and U1, and its secrets are rebuilt from a threshold of t/|U1| of k.
 *
 * Cost: each client expands k − 1 pairwise masks (k = n under "full": O(n·d) per client, O(n²·d) in
 * all); the server expands |U3| self masks plus one pairwise mask per (dropped, surviving neighbour)
 * pair, each survivor's terms added in one pass, and rebuilds one secret per needed client.
 * Not implemented: the actively-secure variant (signatures, consistency-check round).
 */
export { SecAggClient } from "./client.ts"
export { SecAggServer } from "./server.ts"
export { runSecAgg, type SecAggRun } from "./simulate.ts"
export { dequantize, quantize, QUANT_MAX, QUANT_MAX_PARTICIPANTS } from "./quantize.ts"
export { seededRandomBytes, MAX_SHARES, type RandomBytes } from "./primitives.ts"
export { neighbourhoods, sparseSize, type Neighbourhoods, type SecAggGraph } from "./graph.ts"
export {
  SecAggAbort, SecAggError,
  type Advert, type EncryptedShare, type HeldShare, type MaskedInput, type SecAggConfig, type SecAggStage, type SharesMessage, type UnmaskRequest,
  type UnmaskResponse,
} from "./messages.ts"

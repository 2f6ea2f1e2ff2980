/**
 * The API over real HTTP on 127.0.0.1, against a real validator (libp2p, sqlite, secp256k1, wall
 * clock) through makeAppNodeApi: response shapes match their Schemas, a POST /stake becomes a
 * signed transaction that a block executes, refusals name the field, the token guards writes and
 * the stream, /metrics is Prometheus text and the WebSocket carries telemetry.
 */
import { connect, type Socket } from "node:net"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { WebSocket } from "ws"
import { signVote } from "../core/consensus/signing.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { governanceOverChain } from "./governance-port.ts"
import type { NodeApi } from "./node-api.ts"
import { startApiServer } from "./server.ts"
import { BlockDetail, BlockView, PositionView, ProposalView, Status, TxReceipt, ValidatorView } from "./schemas.ts"
import { httpRequest, startTestNode, TEST_TOKEN, CHAIN_ID, type TestNode } from "./test-node.ts"

let t: TestNode
const TOKEN = 10n ** 18n
const get = (path: string, headers: Record<string, string> = {}) => httpRequest(t.server.url, { path, headers })
const post = (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }) =>
  httpRequest(t.server.url, { method: "POST", path, headers, body: typeof body === "string" ? body : JSON.stringify(body) })
/** Decode a response with its schema, refusing fields the schema does not know: the document and the server agree. */
const shaped = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown) =>
  Schema.decodeUnknownSync(schema)(value, { onExcessProperty: "error" })

beforeAll(async () => {
  t = await startTestNode({ governance: (ledger) => governanceOverChain(ledger) })
})
afterAll(async () => {
  await t?.close()
})

describe("reads", () => {
  it("GET /status, /peers and /validators describe the node", async () => {
    const status = shaped(Status, (await get("/status")).json)
    expect(status).toMatchObject({ node: "v0", chainId: CHAIN_ID, account: "v0", address: t.node.consensus.address, validators: 1, peers: 1 })
    expect(status.height).toBeGreaterThanOrEqual(2)
    expect(BigInt(status.supply.minted)).toBe(1_000_000_000n * TOKEN)
    // The epoch's committee snapshot and the parameters it carries: the genesis's in the first epoch.
    expect(status.snapshot).toBe(t.node.app.snapshotAt().id)
    expect(status.params).toEqual({ ...t.node.app.params() })
    expect(status.params["consensus.epochLength"]).toBe(t.node.app.params()["consensus.epochLength"])
    // What consensus waits for: one validator holding all the power proposes every round and expects no peer.
    expect(status.waiting).toMatchObject({ proposer: t.node.consensus.address, expectedPeers: 0 })
    expect(BigInt(status.waiting!.quorum)).toBe((BigInt(status.waiting!.total) * 2n) / 3n + 1n)
    expect(status.waiting!.line).toMatch(/^height \d+ round \d+ (propose|prevote|precommit|commit): waiting for /)
    const peers = (await get("/peers")).json as unknown[]
    expect(peers.map((p) => shaped(Schema.Struct({ id: Schema.String }), p))).toHaveLength(1)
    const validators = shaped(Schema.Array(ValidatorView), (await get("/validators")).json)
    expect(validators).toEqual([expect.objectContaining({ operator: "v0", address: t.node.consensus.address, active: true, jailed: false })])
    expect(BigInt(validators[0]!.power)).toBeGreaterThan(0n)
  })

  it("GET /status says what the node trains on, once its training has started (null before)", async () => {
    expect(shaped(Status, (await get("/status")).json).training).toBeNull()
    Effect.runSync(t.hub.telemetry.emit({ at: 1, node: "v0", kind: "training.started", data: { backend: "wasm", dataset: "mnist", model: "mlp", shard: 0, shards: 4, samples: 600 } }))
    expect(shaped(Status, (await get("/status")).json).training).toEqual({ backend: "wasm", dataset: "mnist", model: "mlp", shard: 0, shards: 4, samples: 600 })
  })

  it("GET /blocks pages through committed blocks and /blocks/{height} returns one with its txs", async () => {
    const page = shaped(Schema.Array(BlockView), (await get("/blocks?from=1&limit=2")).json)
    expect(page.map((b) => b.height)).toEqual([1, 2])
    expect(page[1]!.parentHash).toBe(page[0]!.hash)
    const latest = shaped(Schema.Array(BlockView), (await get("/blocks")).json)
    expect(latest.length).toBeGreaterThanOrEqual(2)
    const one = shaped(BlockDetail, (await get("/blocks/2")).json)
    expect(one.hash).toBe(page[1]!.hash)
    expect(one.txs[0]).toMatchObject({ type: "last-commit", height: 1 })
    expect((await get("/blocks/99999999")).status).toBe(404)
  })

  it("query and path parameters are checked and named", async () => {
    expect((await get("/blocks/abc")).json).toEqual({ error: 'height: expected a whole number, got "abc"', field: "height" })
    expect((await get("/blocks?limit=0")).json).toEqual({ error: "limit: expected at least 1, got 0", field: "limit" })
    expect((await get("/blocks?limit=101")).json).toMatchObject({ field: "limit" })
    expect((await get("/blocks?colour=red")).json).toEqual({ error: "colour: unknown query parameter", field: "colour" })
    expect((await get("/positions?owner=")).status).toBe(400)
  })

  it("malformed percent-encoding anywhere in the target is a 400 naming it, never a 500", async () => {
    for (const [path, where, field] of [
      ["/blocks/%ZZ", "path", undefined], ["/blocks/%", "path", undefined], ["/blocks/%FF", "path", undefined], ["/%", "path", undefined],
      ["/positions?owner=%ZZ", "query", undefined], ["/blocks?limit=%E0%A4", "query", undefined], ["/status?%=1", "query", undefined],
    ] as const) {
      const r = await get(path)
      expect(r.status, path).toBe(400)
      expect(r.json, path).toEqual({ error: expect.stringMatching(new RegExp(`^malformed percent-encoding in the ${where}: `)) , ...(field === undefined ? {} : { field }) })
      expect((r.json as { error: string }).error, path).not.toMatch(/\n/)
    }
    expect(t.failures).toEqual([])
  })

  it("404 for an unknown path, 405 (with Allow) for a wrong method", async () => {
    const missing = await get("/nope")
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ error: expect.stringContaining("/nope") })
    const wrong = await httpRequest(t.server.url, { method: "DELETE", path: "/status" })
    expect(wrong.status).toBe(405)
    expect(wrong.headers["allow"]).toBe("GET")
    expect((await get("/stake")).headers["allow"]).toBe("POST")
  })
})

describe("request guards", () => {
  it("a Host this server does not serve is refused with 421 (DNS rebinding); its own address and localhost work", async () => {
    const evil = await get("/status", { host: "evil.example" })
    expect(evil.status).toBe(421)
    expect(evil.json).toEqual({ error: expect.stringMatching(/^Host "evil\.example" is not served here \(DNS rebinding guard\); list it in api\.allowedHosts/) })
    expect((await get("/status", { host: `evil.example:${t.server.port}` })).status).toBe(421)
    expect((await post("/stake", { amount: "1" }, { host: "evil.example", authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" })).status).toBe(421)
    expect((await get("/status", { host: `127.0.0.1:${t.server.port}` })).status).toBe(200)
    expect((await get("/status", { host: `localhost:${t.server.port}` })).status).toBe(200)
  })

  it("a server with allowedHosts serves those names too", async () => {
    const other = await startApiServer({ api: t.api, token: TEST_TOKEN, allowedHosts: ["node.example.com"] })
    try {
      expect((await httpRequest(other.url, { path: "/status", headers: { host: "node.example.com" } })).status).toBe(200)
      expect((await httpRequest(other.url, { path: "/status", headers: { host: "evil.example" } })).status).toBe(421)
    } finally {
      await other.close()
    }
  })

  it("a body over the limit is refused with 413, declared or streamed", async () => {
    expect((await post("/stake", { amount: "5".repeat(70_000) })).json).toEqual({ error: "request body over 65536 bytes" })
    const small = await startApiServer({ api: t.api, token: TEST_TOKEN, maxBodyBytes: 100 })
    try {
      const declared = await httpRequest(small.url, { method: "POST", path: "/stake", headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ amount: "1".repeat(200) }) })
      expect(declared.status).toBe(413)
      // Chunked: no length declared, the count of bytes read refuses it.
      const s = await rawConnection(small.port)
      const chunk = JSON.stringify({ amount: "1".repeat(200) })
      s.socket.write(`POST /stake HTTP/1.1\r\nhost: 127.0.0.1:${small.port}\r\nauthorization: Bearer ${TEST_TOKEN}\r\ncontent-type: application/json\r\n` +
        `transfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`)
      expect(await s.closed).toMatch(/^HTTP\/1\.1 413 [^]*\{"error":"request body over 100 bytes"\}/)
    } finally {
      await small.close()
    }
  })

  it("over maxConnections a new connection is closed before any byte; one freed, connections are served again", async () => {
    // Idle connections stay open for the whole test (keep-alive 60 s), so the count cannot drift.
    const capped = await startApiServer({ api: t.api, token: TEST_TOKEN, maxConnections: 2, keepAliveTimeoutMs: 60_000 })
    const sockets: Socket[] = []
    try {
      for (let i = 0; i < 2; i++) {
        const s = await rawConnection(capped.port)
        sockets.push(s.socket)
        // A whole answer on it: the server has accepted and counts this connection.
        expect(await s.exchange(`GET /status HTTP/1.1\r\nhost: 127.0.0.1:${capped.port}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 OK/)
      }
      const third = await rawConnection(capped.port)
      expect(await third.closed).toBe("")
      sockets[0]!.destroy()
      // Freed: the server sees the close when it sees it; until then a new connection is still dropped.
      const metrics = await vi.waitFor(async () => (await httpRequest(capped.url, { path: "/metrics" })).text, { timeout: 20_000, interval: 50 })
      expect(metrics).toMatch(/^dai_api_connections_dropped_total [1-9]\d*$/m)
      expect(metrics).toMatch(/^dai_api_connections [12]$/m)
    } finally {
      for (const s of sockets) s.destroy()
      await capped.close()
    }
  })

  it("headers that never finish are answered 408 and the connection closes", async () => {
    const strict = await startApiServer({ api: t.api, token: TEST_TOKEN, headersTimeoutMs: 200, requestTimeoutMs: 400, timeoutCheckMs: 50 })
    try {
      const s = await rawConnection(strict.port)
      s.socket.write(`GET /status HTTP/1.1\r\nhost: 127.0.0.1:${strict.port}\r\n`)
      expect(await s.closed).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[^]*\{"error":"request not received in time"\}$/)
      const b = await rawConnection(strict.port)
      b.socket.write(`POST /stake HTTP/1.1\r\nhost: 127.0.0.1:${strict.port}\r\nauthorization: Bearer ${TEST_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{"amount"`)
      expect(await b.closed).toMatch(/^HTTP\/1\.1 408 Request Timeout/)
      expect(t.failures).toEqual([])
    } finally {
      await strict.close()
    }
  })
})

describe("writes", () => {
  it("refuse a missing or wrong token with 401, before looking at the body", async () => {
    const none = await post("/stake", "{", { "content-type": "application/json" })
    expect(none.status).toBe(401)
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/)
    expect((await post("/stake", { amount: "1" }, { authorization: "Bearer wrong", "content-type": "application/json" })).status).toBe(401)
    expect((await post("/stake", { amount: "1" }, { authorization: TEST_TOKEN, "content-type": "application/json" })).status).toBe(401)
  })

  it("refuse bad JSON, unknown fields and wrong types with 400 naming the field; wrong type of body 415; too large 413", async () => {
    expect((await post("/stake", "{not json")).json).toMatchObject({ field: "", error: expect.stringMatching(/^body: not valid JSON/) })
    expect((await post("/stake", { amount: "5", colour: "red" })).json).toEqual({ error: "colour: unknown field", field: "colour" })
    expect((await post("/stake", { amount: 5 })).json).toEqual({ error: "amount: Expected string", field: "amount" })
    expect((await post("/stake", { amount: "-5" })).json).toMatchObject({ field: "amount" })
    expect((await post("/stake", { amount: "5", tier: 7 })).json).toMatchObject({ field: "tier" })
    expect((await post("/stake", [])).json).toEqual({ error: "body: expected a JSON object", field: "" })
    expect((await post("/votes", { proposal: 1 })).json).toEqual({ error: "support: Missing key", field: "support" })
    expect((await post("/proposals", { action: { kind: "spend", to: "x", amount: "1", memo: "" } })).json).toMatchObject({ field: "action.memo" })
    expect((await post("/stake", { amount: "5" }, { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "text/plain" })).status).toBe(415)
    expect((await post("/stake", { amount: "5".repeat(70_000) })).status).toBe(413)
  })

  it("POST /stake bonds on the ledger (no tx in a block); POST /unbond takes part of it back", async () => {
    const before = shaped(Schema.Array(PositionView), (await get("/positions?owner=v0")).json)
    const amount = 250n * TOKEN
    const r = await post("/stake", { amount: amount.toString() })
    expect(r.status).toBe(202)
    const receipt = shaped(TxReceipt, r.json)
    expect(receipt).toMatchObject({ type: "stake", account: "v0", status: "applied", op: { type: "bondContributor", owner: "v0", amount: amount.toString(), tier: 0 }, receipt: { type: "bondContributor" } })
    const now = shaped(Schema.Array(PositionView), (await get("/positions?owner=v0")).json)
    const bonded = now.find((p) => !before.some((b) => b.id === p.id))!
    expect(bonded).toMatchObject({ owner: "v0", tier: 0, tokens: amount.toString() })
    // Stake never travels in a block: no tx of the node's, no block with a stake tx.
    const blocks = shaped(Schema.Array(BlockView), (await get(`/blocks?from=${Math.max(1, t.node.app.height - 50)}&limit=100`)).json)
    expect(blocks.some((b) => b.txTypes.includes("stake"))).toBe(false)

    const unbond = await post("/unbond", { position: bonded.id, amount: (100n * TOKEN).toString() })
    expect(unbond.status, unbond.text).toBe(202)
    expect(shaped(TxReceipt, unbond.json)).toMatchObject({ status: "applied", receipt: { type: "unbond" } })
    const p = shaped(Schema.Array(PositionView), (await get("/positions?owner=v0")).json).find((x) => x.id === bonded.id)
    expect(p?.tokens).toBe((150n * TOKEN).toString())
    expect(t.node.app.nextNonce(t.node.consensus.address)).toBe(0)
  })

  it("a stake the ledger refuses is a 422 and changes nothing", async () => {
    const fingerprint = () => JSON.stringify(t.node.ownLedger!.economy.snapshot(), (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v))
    const before = fingerprint()
    const pending = t.node.consensus.pending
    const nonce = shaped(Status, (await get("/status")).json).nextNonce
    const r = await post("/stake", { amount: (10n ** 30n).toString() })
    expect(r.status).toBe(422)
    expect(r.json).toMatchObject({ error: expect.stringMatching(/^TokenInsufficientBalance: v0 holds/) })
    expect(fingerprint()).toBe(before)
    expect(t.node.consensus.pending).toBe(pending)
    expect(shaped(Status, (await get("/status")).json).nextNonce).toBe(nonce)
  })

  it("unbonding a locked position is refused with the economy's reason", async () => {
    const r = await post("/stake", { amount: (100n * TOKEN).toString(), tier: 30 })
    expect(r.status, r.text).toBe(202)
    const locked = shaped(Schema.Array(PositionView), (await get("/positions?owner=v0")).json).find((x) => x.tier === 30)!
    const refused = await post("/unbond", { position: locked.id, amount: "1" })
    expect(refused.status).toBe(422)
    expect(refused.json).toMatchObject({ error: expect.stringMatching(/^StakingPositionLocked: position #\d+ is locked until/) })
  })

  it("governance: propose, list, vote; a second vote is refused by the chain's rule", async () => {
    expect(shaped(Schema.Array(ProposalView), (await get("/proposals")).json)).toEqual([])
    const created = await post("/proposals", { action: { kind: "param", name: "staking.unbondingPeriod", value: 7 * 24 * 3600 * 1000 } })
    expect(created.status, created.text).toBe(200)
    expect(created.json).toEqual({ id: 1 })
    const listed = shaped(Schema.Array(ProposalView), (await get("/proposals")).json)
    expect(listed).toEqual([expect.objectContaining({ id: 1, proposer: "v0", state: "Active", forVotes: "0" })])
    const vote = await post("/votes", { proposal: 1, support: true })
    expect(vote.status, vote.text).toBe(200)
    expect(BigInt((vote.json as { votes: string }).votes)).toBeGreaterThan(0n)
    const again = await post("/votes", { proposal: 1, support: false })
    expect(again.status).toBe(422)
    expect(again.json).toMatchObject({ error: expect.stringContaining("GovernanceAlreadyVoted") })
    // support as a word: "abstain" counts toward quorum only; anything else is a 400 naming the field.
    const bad = await post("/votes", { proposal: 1, support: "maybe" })
    expect(bad.status).toBe(400)
    expect(bad.text).toMatch(/support/)
    const second = await post("/proposals", { action: { kind: "param", name: "staking.unbondingPeriod", value: 8 * 24 * 3600 * 1000 } })
    const id = (second.json as { id: number }).id
    const abstained = await post("/votes", { proposal: id, support: "abstain" })
    expect(abstained.status, abstained.text).toBe(200)
    const view = shaped(Schema.Array(ProposalView), (await get("/proposals")).json).find((p) => p.id === id)!
    expect(view).toMatchObject({ forVotes: "0", againstVotes: "0", abstainVotes: (abstained.json as { votes: string }).votes })
    expect(BigInt(view.stakeVoted)).toBeGreaterThan(0n)
    const outOfBounds = await post("/proposals", { action: { kind: "param", name: "staking.unbondingPeriod", value: 1 } })
    expect(outOfBounds.status).toBe(422)
    expect(outOfBounds.json).toMatchObject({ error: expect.stringContaining("ConstitutionOutOfBounds") })
    // Values as a person writes them: a duration "8d", a number as text; a parameter the chain does not govern is refused by name.
    const asText = await post("/proposals", { action: { kind: "param", name: "staking.unbondingPeriod", value: "8d" } })
    expect(asText.status, asText.text).toBe(200)
    expect((await post("/proposals", { action: { kind: "param", name: "fees.burnFraction", value: "0.35" } })).status).toBe(200)
    const before = (await get("/proposals")).text
    expect((await post("/proposals", { action: { kind: "param", name: "staking.unbondingPeriod", value: "soon" } })).json)
      .toEqual({ error: 'staking.unbondingPeriod: "soon" is not a duration (250ms, 30s, 10m, 1h, 2d, or ms)', field: "action.value" })
    const choice = await post("/proposals", { action: { kind: "param", name: "training.aggregator", value: "median" } })
    expect(choice.status).toBe(422)
    expect(choice.json).toMatchObject({ field: "action.name", error: expect.stringContaining("the chain governs numeric parameters only") })
    expect((await post("/proposals", { action: { kind: "param", name: "no.such", value: 1 } })).status).toBe(422)
    expect((await get("/proposals")).text).toBe(before)
  })

  it("execute: an unknown proposal is a 404, one still open for votes a 409 naming it and when; nothing changes", async () => {
    const before = (await get("/proposals")).text
    const unknown = await post("/proposals/99/execute", "")
    expect(unknown.status).toBe(404)
    expect(unknown.json).toEqual({ error: "GovernanceUnknownProposal: proposal 99 does not exist on the chain" })
    const open = await post("/proposals/1/execute", "")
    expect(open.status).toBe(409)
    expect(open.json).toMatchObject({ error: expect.stringMatching(/^GovernanceVotingOpen: proposal 1 is still open for votes until \d{4}-\d\d-\d\dT.*\(in \d+ s\)/) })
    expect((await get("/proposals")).text).toBe(before)
    expect((await httpRequest(t.server.url, { method: "POST", path: "/proposals/1/execute" })).status).toBe(401)
    expect((await post("/proposals/0/execute", "")).json).toEqual({ error: "id: expected at least 1, got 0", field: "id" })
  })

  it("GET /params: the network's parameters and the chain's", async () => {
    const r = await get("/params")
    expect(r.status).toBe(200)
    const { network, chain } = r.json as { network: Record<string, unknown>; chain: Record<string, unknown> }
    expect(network["consensus.timeoutCommit"]).toBe(50)
    expect(chain["governance.votingPeriod"]).toBe(3 * 24 * 3600 * 1000)
  })

  it("membership: a trainer bond below the minimum and a second registration are refused by the chain's rule, naming what to do", async () => {
    const positions = (await get("/positions")).text
    const small = await post("/trainers", { amount: "1" })
    expect(small.status).toBe(422)
    expect(small.json).toMatchObject({ error: expect.stringMatching(/^StakingBelowMinimumBond: bonding v0 as a trainer refused: a contributor bond of .* is below the minimum of 100 tokens \(staking\.minContributorBond\)/) })
    const again = await post("/validators", { amount: (2_000n * TOKEN).toString(), tier: 30, commission: (TOKEN / 20n).toString() })
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ error: expect.stringMatching(/^StakingValidatorExists: registering v0 as a validator refused: .*this node is registered already/) })
    expect((await post("/validators", { amount: "1", commission: "0.05" })).json).toMatchObject({ field: "commission" })
    expect((await get("/positions")).text).toBe(positions)
  })

  it("evidence: a forged pair is refused with the reason; a real double sign is checked and handed to consensus", async () => {
    const h = t.node.app.height
    const voteA = signVote(t.privateKey, CHAIN_ID, { type: "prevote", height: h, round: 7, blockHash: `0x${"1".repeat(64)}` })
    const voteB = signVote(t.privateKey, CHAIN_ID, { type: "prevote", height: h, round: 7, blockHash: `0x${"2".repeat(64)}` })
    const forged = await post("/evidence", { voteA, voteB: { ...voteB, signature: voteA.signature } })
    expect(forged.status).toBe(422)
    expect(forged.json).toMatchObject({ error: expect.stringContaining("signature is not the validator's") })
    expect((await post("/evidence", { voteA, voteB: { ...voteB, height: h + 5 } })).status).toBe(422)
    // The real pair is submitted last in this file (see the end): it slashes the node's only validator.
  })
})

describe("documents", () => {
  it("/metrics is Prometheus text format 0.0.4 with the node's gauges and counters", async () => {
    const r = await get("/metrics")
    expect(r.status).toBe(200)
    expect(r.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8")
    const families = parsePrometheus(r.text)
    for (const name of ["dai_height", "dai_round", "dai_peers", "dai_validators", "dai_bonded_tokens", "dai_blocks_committed_total", "dai_training_rounds_total", "process_resident_memory_bytes", "process_cpu_user_seconds_total"]) {
      expect(families.get(name), name).toBeDefined()
    }
    expect(families.get("dai_height")!.type).toBe("gauge")
    expect(families.get("dai_blocks_committed_total")!.type).toBe("counter")
    expect(families.get("dai_height")!.samples[0]!.value).toBeGreaterThanOrEqual(2)
    expect(families.get("dai_peers")!.samples[0]!.value).toBe(1)
    expect(families.get("dai_bonded_tokens")!.samples[0]!.value).toBeGreaterThanOrEqual(10_000)
    expect(families.get("dai_api_responses_total")!.samples.some((s) => s.labels === 'code="200"')).toBe(true)
    // Histograms: blocks have been committed (an interval between two of them, a time to commit),
    // and the requests before this one were timed by route pattern.
    for (const name of ["dai_block_interval_seconds", "dai_block_commit_seconds", "dai_training_round_seconds", "dai_api_request_duration_seconds"]) {
      expect(families.get(name)?.type, name).toBe("histogram")
    }
    const count = (name: string, labels = "") => families.get(name)!.samples.filter((s) => s.labels.startsWith("count:") && s.labels.includes(labels)).reduce((a, s) => a + s.value, 0)
    expect(count("dai_block_interval_seconds")).toBeGreaterThanOrEqual(1)
    expect(count("dai_block_commit_seconds")).toBeGreaterThanOrEqual(1)
    expect(count("dai_api_request_duration_seconds", 'route="/status"')).toBeGreaterThanOrEqual(1)
  })

  it("/openapi.json is an OpenAPI 3.1 document", async () => {
    const doc = (await get("/openapi.json")).json as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toBe("3.1.0")
    expect(Object.keys(doc.paths)).toContain("/blocks/{height}")
  })
})

describe("telemetry stream", () => {
  const connect = (path: string, headers: Record<string, string> = {}, protocols: string[] = [], origin?: string) =>
    new WebSocket(`${t.server.url.replace("http", "ws")}${path}`, protocols, { headers, ...(origin === undefined ? {} : { origin }) })
  const refusal = (ws: WebSocket) => new Promise<number>((resolve, reject) => {
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))
    ws.on("open", () => reject(new Error("opened without a valid token")))
    ws.on("error", () => {})
  })
  const firstEvent = (ws: WebSocket) => new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.on("message", (data: Buffer) => resolve(JSON.parse(data.toString("utf8")) as Record<string, unknown>))
    ws.on("error", reject)
  })

  it("needs the token, in a header or the subprotocol, never in the URL", async () => {
    expect(await refusal(connect("/ws"))).toBe(401)
    expect(await refusal(connect("/ws", {}, ["dai.telemetry", "dai.token.wrong"]))).toBe(401)
    expect(await refusal(connect(`/ws?token=${TEST_TOKEN}`))).toBe(400)
    expect(await refusal(connect("/nope", { authorization: `Bearer ${TEST_TOKEN}` }))).toBe(404)
    expect((await get("/ws", { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(426)
  })

  it("refuses a browser page of another origin (403) or a foreign Host (421); a page of this host is served", async () => {
    const auth = { authorization: `Bearer ${TEST_TOKEN}` }
    expect(await refusal(connect("/ws", auth, [], "https://evil.example"))).toBe(403)
    expect(await refusal(connect("/ws", auth, [], "null"))).toBe(403)
    expect(await refusal(connect("/ws", { ...auth, host: "evil.example" }))).toBe(421)
    const page = connect("/ws", {}, ["dai.telemetry", `dai.token.${TEST_TOKEN}`], `http://localhost:${t.server.port}`)
    try {
      expect(await firstEvent(page)).toMatchObject({ node: "v0" })
    } finally {
      page.close()
    }
  })

  it("streams telemetry events, filtered by kind, with the token in a header or the subprotocol", async () => {
    const byHeader = connect("/ws", { authorization: `Bearer ${TEST_TOKEN}` })
    const byProtocol = connect("/ws?kinds=block.committed", {}, ["dai.telemetry", `dai.token.${TEST_TOKEN}`])
    const tokenOnly = connect("/ws", {}, [`dai.token.${TEST_TOKEN}`])
    try {
      const [a, b] = await Promise.all([firstEvent(byHeader), firstEvent(byProtocol), firstEvent(tokenOnly)])
      expect(a).toMatchObject({ node: "v0", kind: expect.any(String), at: expect.any(Number) })
      expect(b).toMatchObject({ node: "v0", kind: "block.committed", data: { height: expect.any(Number), hash: expect.stringMatching(/^0x/) } })
      // A browser fails the handshake unless the server picks a protocol it offered.
      expect([byHeader.protocol, byProtocol.protocol, tokenOnly.protocol]).toEqual(["", "dai.telemetry", `dai.token.${TEST_TOKEN}`])
    } finally {
      for (const ws of [byHeader, byProtocol, tokenOnly]) ws.close()
    }
  })

  it("starts each client with the current state (the validator table and the market are reported only when they change)", async () => {
    const table: TelemetryEvent = { at: 1, node: "v0", kind: "validators", data: { validators: [{ address: "0xaa", name: "v0", power: "1" }] } }
    // The node's subscription with replay hands the retained state first; this one hands only the table.
    const api: NodeApi = { ...t.api, subscribe: (listener, options) => (options?.replay === true && listener(table), () => {}) }
    const server = await startApiServer({ api, token: TEST_TOKEN })
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws?kinds=validators`, [], { headers: { authorization: `Bearer ${TEST_TOKEN}` } })
    try {
      expect(await firstEvent(ws)).toEqual(table)
    } finally {
      ws.close()
      await server.close()
    }
  })

  it("the node had no failure while serving", () => {
    expect(t.failures).toEqual([])
  })
})

// Last: the evidence slashes the test network's only validator, which leaves it no validator set, so
// no block follows (sim/world/consensus-node.test.ts follows evidence into a block on 4 validators).
describe("evidence, end to end", () => {
  it("a real double sign is accepted (202), slashes in a block, and the chain with no validator left stops saying why", async () => {
    const halted = new Promise<Record<string, unknown>>((resolve) => {
      const off = t.hub.subscribe((e) => {
        if (e.kind !== "node.error" || e.data.action !== "execute") return
        off()
        resolve(e.data)
      })
    })
    const h = t.node.app.height
    const voteA = signVote(t.privateKey, CHAIN_ID, { type: "prevote", height: h, round: 7, blockHash: `0x${"1".repeat(64)}` })
    const voteB = signVote(t.privateKey, CHAIN_ID, { type: "prevote", height: h, round: 7, blockHash: `0x${"2".repeat(64)}` })
    const found = new Promise<Record<string, unknown>>((resolve) => {
      const off = t.hub.subscribe((e) => {
        if (e.kind !== "evidence.found") return
        off()
        resolve(e.data)
      })
    })
    const real = await post("/evidence", { voteA, voteB })
    expect(real.status, real.text).toBe(202)
    expect(real.json).toEqual({ validator: voteA.validator, height: h, round: 7, status: "pending" })
    expect(await found).toEqual({ validator: voteA.validator, height: h, round: 7, source: "submitted" })
    // The block with the evidence executes in full (conviction; the ledger slashes and tombstones, supply intact), then the node stops.
    const stop = await halted
    expect(String(stop.error)).toMatch(/no validator is active after height \d+/)
    expect(t.node.app.stalled).toBeDefined()
    await vi.waitFor(() => {
      if (!t.node.ownLedger!.economy.pools().every((p) => p.kind !== "validator" || p.tombstoned)) throw new Error("not slashed on the ledger yet")
    }, { timeout: 10_000, interval: 50 })
    const s = t.node.ownLedger!.economy.supply()
    expect(s.balances + s.bonded + s.unbonding + s.rewardPool + s.insurancePool + s.burnt).toBe(s.minted)
  }, 30_000)
})

/** A raw TCP connection to the API: send bytes, read one answer, or everything until the server closes it. */
const rawConnection = (port: number) =>
  new Promise<{ readonly socket: Socket; readonly closed: Promise<string>; exchange(request: string): Promise<string> }>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    let waiter: ((text: string) => void) | undefined
    const closed = new Promise<string>((done) => socket.on("close", () => done(received)))
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8")
      // One chunked JSON answer ends with its last chunk.
      if (waiter !== undefined && received.endsWith("\r\n0\r\n\r\n")) {
        const w = waiter
        waiter = undefined
        const text = received
        received = ""
        w(text)
      }
    })
    socket.on("error", () => {}) // a dropped connection may reset; `closed` says what arrived
    socket.once("connect", () => resolve({
      socket, closed,
      exchange: (request) => new Promise<string>((done) => {
        waiter = done
        socket.write(request)
      }),
    }))
    socket.once("error", reject)
  })

interface Family {
  readonly type: string
  readonly samples: { readonly labels: string; readonly value: number }[]
}

/** A strict reader of the text format: every line is HELP, TYPE or a sample of the family declared just before. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  expect(text.endsWith("\n")).toBe(true)
  let current: string | undefined
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue // the format allows empty lines (prom-client puts one between families)
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line)
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line)
    if (help !== null) current = help[1]
    else if (type !== null) {
      expect(type[1], `TYPE follows the HELP of its family: ${line}`).toBe(current)
      families.set(type[1]!, { type: type[2]!, samples: [] })
    } else if (sample !== null) {
      // A histogram's or summary's samples are <family>_bucket, _sum and _count.
      const kind = families.get(current ?? "")?.type
      const family = (kind === "histogram" || kind === "summary") && /_(bucket|sum|count)$/.test(sample[1]!) && sample[1]!.replace(/_(bucket|sum|count)$/, "") === current ? current : sample[1]
      expect(family, `sample of the declared family: ${line}`).toBe(current)
      families.get(family!)!.samples.push({ labels: sample[1] === family ? sample[2] ?? "" : `${sample[1]!.slice(family!.length + 1)}:${sample[2] ?? ""}`, value: Number(sample[3]) })
    } else throw new Error(`not a Prometheus text line: ${JSON.stringify(line)}`)
  }
  return families
}

/**
 * For the API's tests: one real validator (libp2p on 127.0.0.1 with one more peer, a sqlite store
 * in a temporary directory, secp256k1 keys, the wall clock) committing blocks alone, its NodeApi
 * and the API server on an ephemeral loopback port. `close()` stops all of it and removes the files.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { request as httpRequestRaw } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Result, Scope } from "effect"
import { startLibp2pNetworks, type Libp2pHarness } from "../adapters/libp2p/test-harness.ts"
import { wallNow } from "../adapters/clock.ts"
import type { App, AppGenesis } from "../core/app/app.ts"
import { addressOfPrivateKey, keccak256, utf8ToBytes } from "../core/crypto.ts"
import { resolveParams } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"
import { startRealNode, type RealNode } from "../node/real-world.ts"
import { Network } from "../services/network.ts"
import { Telemetry } from "../services/telemetry.ts"
import { makeAppNodeApi } from "./app-node-api.ts"
import type { Chain } from "../services/chain.ts"
import type { GovernancePort } from "./governance-port.ts"
import type { NodeApi } from "./node-api.ts"
import { startApiServer, type ApiServer } from "./server.ts"
import { makeTelemetryHub, type TelemetryHub } from "./telemetry-hub.ts"

export const TEST_TOKEN = "test-token-0123456789abcdef"
export const CHAIN_ID = 4_242

export interface TestNode {
  readonly node: RealNode
  readonly api: NodeApi
  readonly hub: TelemetryHub
  /** The node's network (provider announcements, peers). */
  readonly network: Network["Service"]
  readonly server: ApiServer
  readonly privateKey: Uint8Array
  readonly genesis: AppGenesis
  /** Failures of node effects (a test asserts there are none). */
  readonly failures: readonly string[]
  close(): Promise<void>
}

/**
 * Start the node and its API; resolves once it has committed `minHeight` blocks. `params` adds to the
 * test node's parameters (e.g. a longer epoch, for a test comparing the ledger before and after a request).
 */
export const startTestNode = async (options: { readonly governance?: (ledger: Chain["Service"], now: () => number) => GovernancePort; readonly minHeight?: number; readonly params?: Readonly<Record<string, string | number>> } = {}): Promise<TestNode> => {
  const dir = mkdtempSync(join(tmpdir(), "dai-api-"))
  const scope = Effect.runSync(Scope.make())
  const privateKey = keccak256(utf8ToBytes("dai/test/api/v0"))
  const params = Result.getOrThrow(resolveParams({
    "consensus.timeoutCommit": "50ms", "consensus.timeoutPropose": "1s", "consensus.timeoutPrevote": "500ms",
    "consensus.timeoutPrecommit": "500ms", "consensus.timeoutDelta": "200ms", ...options.params,
  }))
  const stake = BigInt(params["staking.minValidatorBond"]) * 10n * TOKEN
  const validators = [{ operator: "v0", address: addressOfPrivateKey(privateKey), amount: stake, tier: 0 as const, commission: WAD / 20n }]
  const allocations = [{ address: "v0", amount: stake + 10_000n * TOKEN }, { address: "d0", amount: 10_000n * TOKEN }]
  const given = allocations.reduce((s, a) => s + a.amount, 0n)
  const genesis: AppGenesis = {
    chainId: CHAIN_ID, params, validators, time: wallNow(),
    allocations: [...allocations, { address: "community", amount: TOTAL_SUPPLY - given }],
  }
  const failures: string[] = []
  let harness: Libp2pHarness | undefined
  let server: ApiServer | undefined
  const close = async () => {
    await server?.close()
    try {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    } finally {
      await harness?.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    harness = await startLibp2pNetworks(2)
    const hub = makeTelemetryHub()
    const node = await Effect.runPromise(
      startRealNode({ name: "v0", genesis, privateKey, storePath: join(dir, "store.db"), onFailure: (c) => failures.push(Cause.pretty(c)) }).pipe(
        Effect.provideService(Network, harness.networks[0]!),
        Effect.provideService(Telemetry, hub.telemetry),
        Scope.provide(scope),
      ),
    )
    const api = makeAppNodeApi({
      name: "v0", app: node.app, consensus: node.consensus, keys: node.keys, store: node.store, network: harness.networks[0]!, hub, ledger: node.ledger,
      ...(options.governance === undefined ? {} : { governance: options.governance(node.ledger, wallNow) }),
    })
    server = await startApiServer({ api, token: TEST_TOKEN, onError: (e, where) => failures.push(`${where}: ${String(e)}`) })
    const minHeight = options.minHeight ?? 2
    for (let waited = 0; node.app.height < minHeight; waited += 20) {
      if (waited > 30_000) throw new Error(`the test node committed only ${node.app.height} blocks in 30 s`)
      await new Promise((r) => setTimeout(r, 20))
    }
    return { node, api, hub, network: harness.networks[0]!, server, privateKey, genesis, failures, close }
  } catch (e) {
    await close()
    throw e
  }
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly text: string
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown
}

/** One raw HTTP request (any method, path, headers and body bytes), without fetch's normalisations. */
export const httpRequest = (base: string, request: { readonly method?: string; readonly path: string; readonly headers?: Record<string, string>; readonly body?: string | Uint8Array }): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const url = new URL(base)
    const req = httpRequestRaw({ host: url.hostname, port: url.port, method: request.method ?? "GET", path: request.path, agent: false,
      headers: { ...(request.body === undefined ? {} : { "content-length": String(Buffer.byteLength(request.body)) }), ...request.headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(request.body)
  })

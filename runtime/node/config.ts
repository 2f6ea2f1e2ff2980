/**
 * A node's `config.yaml`: written with comments by `dai node init`, decoded strictly at start (an
 * unknown or mistyped key is an error naming the key and the file, never a silent default).
 * Relative paths in it resolve against the data dir, so a data dir can be moved as a whole.
 */
import { readFileSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { parse as parseYaml } from "yaml"
import { API_LIMITS, parseHostHeader } from "../api/request-guard.ts"

export const CONFIG_FILE = "config.yaml"

const NonEmpty = Schema.String.check(Schema.makeFilter((s) => s.trim() !== "" || "a non-empty string"))
const Multiaddr = Schema.String.check(Schema.makeFilter((s) => /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+(\/p2p\/\w+)?$/.test(s) || "a TCP multiaddr such as /ip4/0.0.0.0/tcp/9000"))
const BootstrapAddr = Schema.String.check(Schema.makeFilter((s) => /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/\w+$/.test(s) || "a multiaddr ending in /p2p/<peer id>, e.g. /ip4/10.0.0.2/tcp/9000/p2p/12D3KooW…"))
const Port = Schema.Number.check(Schema.makeFilter((n) => (Number.isInteger(n) && n >= 0 && n <= 65_535) || "a TCP port from 0 to 65535"))
const HostName = Schema.String.check(Schema.makeFilter((s) => s === "*" || parseHostHeader(s) !== undefined || "a host name or address, optionally with :port (e.g. node.example.com, [::1]:8645), or \"*\""))
const Connections = Schema.Number.check(Schema.makeFilter((n) => (Number.isInteger(n) && n >= 1 && n <= 65_536) || "a whole number of connections from 1 to 65536"))
const Url = Schema.String.check(Schema.makeFilter((s) => s === "" || /^https?:\/\/./.test(s) || "an http(s) URL, or \"\" for none"))

export const NodeConfigSchema = Schema.Struct({
  name: NonEmpty,
  network: Schema.Struct({
    listen: Schema.Array(Multiaddr).check(Schema.isMinLength(1)),
    bootstrap: Schema.Array(BootstrapAddr),
    protocolPrefix: Schema.String.check(Schema.makeFilter((s) => /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(s) || "a prefix like /dai (slash-separated, no trailing slash)")),
    dhtAddresses: Schema.Literals(["all", "public"]),
  }),
  chain: Schema.Struct({ rpc: Url, deployment: Schema.String }),
  api: Schema.Struct({
    enabled: Schema.Boolean, host: NonEmpty, port: Port, tokenFile: NonEmpty,
    // Added after the first release: a config.yaml written before them decodes to the defaults.
    allowedHosts: Schema.Array(HostName).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
    maxConnections: Connections.pipe(Schema.withDecodingDefaultKey(Effect.succeed(API_LIMITS.maxConnections))),
  }),
  trainer: Schema.Struct({ backend: Schema.Literals(["auto", "tensorflow", "wasm", "cpu"]) }),
  paths: Schema.Struct({ keystore: NonEmpty, genesis: NonEmpty, store: NonEmpty, peerKey: NonEmpty }),
})
export type NodeConfig = typeof NodeConfigSchema.Type

/** A config file that cannot be used; the message names the file and the key. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  file: Schema.String,
  key: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.key === "" ? "" : `${this.key}: `}${this.reason}`
  }
}

/** The defaults `dai node init` writes (each overridable by a flag). */
export const defaultConfig = (name: string): NodeConfig => ({
  name,
  network: { listen: ["/ip4/0.0.0.0/tcp/9000"], bootstrap: [], protocolPrefix: "/dai", dhtAddresses: "all" },
  chain: { rpc: "", deployment: "" },
  api: { enabled: true, host: "127.0.0.1", port: 8645, tokenFile: "api-token", allowedHosts: [], maxConnections: API_LIMITS.maxConnections },
  trainer: { backend: "auto" },
  paths: { keystore: "keystore.json", genesis: "genesis.json", store: "store.db", peerKey: "peer-key" },
})

const q = (s: string): string => JSON.stringify(s)
const list = (items: readonly string[], indent: string): string =>
  items.length === 0 ? " []" : `\n${items.map((i) => `${indent}- ${q(i)}`).join("\n")}`

/** The config as the commented YAML file `dai node init` writes. */
export const renderConfig = (c: NodeConfig): string => `# dai node configuration, written by \`dai node init\`.
# Relative paths are relative to this file's directory (the data dir). Unknown keys are an error,
# so a typo is reported instead of silently falling back to a default.

# This node's name in logs and telemetry.
name: ${q(c.name)}

network:
  # Multiaddrs to listen on (TCP). /ip4/0.0.0.0 listens on every interface; port 0 lets the OS choose.
  listen:${list(c.network.listen, "    ")}
  # Peers dialled at start and whenever this node is alone: multiaddrs ending in /p2p/<peer id>.
  # One reachable peer is enough; the Kademlia DHT finds the rest of the network.
  bootstrap:${list(c.network.bootstrap, "    ")}
  # Prefix of every protocol and gossip topic: nodes with different prefixes never talk.
  protocolPrefix: ${q(c.network.protocolPrefix)}
  # Peer addresses the DHT stores and hands out: all (LAN, loopback devnets) or public (internet).
  dhtAddresses: ${c.network.dhtAddresses}

chain:
  # JSON-RPC endpoint of the EVM chain with the dai contracts ("" = none: consensus without the chain).
  rpc: ${q(c.chain.rpc)}
  # Deployment file written by \`dai chain deploy\` (contract addresses, chain id); needed with rpc.
  deployment: ${q(c.chain.deployment)}

api:
  # REST + WebSocket API. Keep it on loopback unless a TLS proxy stands in front of it.
  enabled: ${c.api.enabled}
  host: ${q(c.api.host)}
  port: ${c.api.port}
  # File with the bearer token clients send (Authorization: Bearer …); created mode 0600 by init.
  tokenFile: ${q(c.api.tokenFile)}
  # Host names a request's Host header may carry besides the listen host (and localhost when that is
  # loopback): others are refused (421), so a web page cannot reach the API through DNS rebinding.
  # List the name a TLS proxy or your browser uses, e.g. ["node.example.com"]; "*" turns the check off.
  allowedHosts:${list(c.api.allowedHosts, "    ")}
  # Open connections (WebSockets included) beyond which new ones are closed at once.
  maxConnections: ${c.api.maxConnections}

trainer:
  # TensorFlow.js backend: auto (tensorflow where installed, else wasm, else cpu), tensorflow, wasm or cpu.
  backend: ${c.trainer.backend}

paths:
  # Encrypted signing key (an ethers JSON wallet); unlocked at start with the password.
  keystore: ${q(c.paths.keystore)}
  # The network's genesis: chain id, parameters, allocations, validators (the same file on every node).
  genesis: ${q(c.paths.genesis)}
  # Durable state: committed blocks and slashing protection (node:sqlite). Never copy it to a second
  # running node: two nodes with one signing record is how validators double-sign.
  store: ${q(c.paths.store)}
  # libp2p identity (keeps this node's peer id across restarts).
  peerKey: ${q(c.paths.peerKey)}
`

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownResult(NodeConfigSchema)

/** Decode a parsed config; `file` names it in errors. */
export const decodeConfig = (value: unknown, file: string): Result.Result<NodeConfig, ConfigInvalid> => {
  const r = decode(value, { errors: "first", onExcessProperty: "error" })
  if (Result.isSuccess(r)) return Result.succeed(r.success)
  const issue = formatter(r.failure.issue).issues[0]
  const key = (issue?.path ?? []).map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p)).join(".")
  const reason = issue?.message === "Expected no excess property" ? "unknown key (check its spelling against the comments `dai node init` writes)" : (issue?.message ?? "invalid")
  return Result.fail(new ConfigInvalid({ file, key, reason }))
}

/** Read, parse and decode the config file at `path`. */
export const readConfig = (path: string): Result.Result<NodeConfig, ConfigInvalid> => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    return Result.fail(new ConfigInvalid({ file: path, key: "", reason: `cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)}); is this a data dir made by \`dai node init\`?` }))
  }
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (e) {
    return Result.fail(new ConfigInvalid({ file: path, key: "", reason: `not valid YAML: ${(e as Error).message.split("\n")[0]}` }))
  }
  return decodeConfig(value, path)
}

/** A config path resolved against the data dir. */
export const resolvePath = (dataDir: string, p: string): string => (isAbsolute(p) ? p : join(dataDir, p))

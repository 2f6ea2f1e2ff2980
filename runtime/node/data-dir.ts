/**
 * A node's data dir, as `dai node init` creates it:
 *
 *   config.yaml     commented configuration (config.ts)
 *   keystore.json   the signing key, encrypted (ethers JSON wallet)
 *   genesis.json    the network's genesis (a one-validator network of this node unless given)
 *   identity.json   this node's public identity (name, signing address, peer id, dialable addresses):
 *                   what `dai genesis add-validator --identity` reads; nothing secret
 *   deployment.json the EVM chain's deployment, when the genesis carries one
 *   api-token       bearer token of the API, 32 random bytes in hex, mode 0600
 *   peer-key        libp2p identity (a stable peer id), mode 0600
 *   store.db        created at first start: committed blocks, slashing protection
 *
 * Init never overwrites: a data dir holds a validator's signing record, and replacing it by accident
 * is how a validator ends up signing twice.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import type { PrivateKey } from "@libp2p/interface"
import { Effect, Result, Schema } from "effect"
import { encodePeerKey, newPeerKey, peerIdOf } from "../adapters/libp2p/node.ts"
import { encryptKey, keystoreAddress, newPrivateKey, type KeystoreError } from "../adapters/keystore.ts"
import type { AppGenesis } from "../core/app/app.ts"
import { addressOfPrivateKey } from "../core/crypto.ts"
import { CONFIG_FILE, defaultConfig, readConfig, renderConfig, resolvePath, type NodeConfig } from "./config.ts"
import { checkGenesisApplies, IDENTITY_FILE, nodeIdentity } from "./genesis-draft.ts"
import { encodeGenesis, equalStakeGenesis, networkOf, readGenesis, readGenesisJson } from "./genesis-file.ts"

/** Where a data dir keeps the deployment its genesis carries. */
export const DEPLOYMENT_FILE = "deployment.json"

/** Consensus chain id of a network made by init without a genesis (the contracts' default). */
export const SOLO_CHAIN_ID = 7

export class DataDirError extends Schema.TaggedError<DataDirError>()("DataDirError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.path}: ${this.reason}`
  }
}

export interface InitOptions {
  readonly dataDir: string
  readonly password: string
  /** Node name (default: the data dir's base name). */
  readonly name?: string
  /** scrypt cost of the keystore (default 2^17; lower only for throwaway keys). */
  readonly scryptN?: number
  /** The signing key (default: a fresh random one). */
  readonly privateKey?: Uint8Array
  /** The libp2p identity (default: a fresh one). */
  readonly peerKey?: PrivateKey
  /** Changes to the default config (listen, bootstrap, chain, api). */
  readonly configure?: (config: NodeConfig) => NodeConfig
  /** The network's genesis and its parameter overrides (default: a network of this node alone). */
  readonly genesis?: { readonly genesis: AppGenesis; readonly overrides: Readonly<Record<string, string | number | boolean>> }
  /** Also write the password to `password` (mode 0600): devnets only, whose keys are throwaway. */
  readonly writePasswordFile?: boolean
}

export interface InitResult {
  readonly dataDir: string
  readonly config: NodeConfig
  /** The validator's signing address. */
  readonly address: string
  readonly peerId: string
}

const secretFile = (path: string, content: string | Uint8Array): void => {
  writeFileSync(path, content, { mode: 0o600, flag: "wx" })
  chmodSync(path, 0o600) // the umask may have narrowed it further; never wider
}

/** Create a data dir; fails (touching nothing) when it exists and is not empty. */
export const initDataDir = (options: InitOptions): Effect.Effect<InitResult, DataDirError | KeystoreError> =>
  Effect.gen(function*() {
    const dataDir = resolve(options.dataDir)
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      return yield* new DataDirError({ path: dataDir, reason: "already exists and is not empty; refusing to overwrite a node's keys and signing record (choose another --data-dir, or remove this one if you are sure)" })
    }
    const privateKey = options.privateKey ?? newPrivateKey()
    const address = addressOfPrivateKey(privateKey)
    const keystore = yield* encryptKey(privateKey, options.password, options.scryptN === undefined ? {} : { scryptN: options.scryptN })
    const peerKey = options.peerKey ?? (yield* Effect.promise(() => newPeerKey()))
    const name = options.name ?? (dataDir.split("/").filter((s) => s !== "").at(-1) ?? "node")
    const genesis = options.genesis ?? {
      genesis: equalStakeGenesis({ chainId: SOLO_CHAIN_ID, time: Date.now(), validators: [{ operator: name, address }] }).genesis,
      overrides: {},
    }
    const peerId = peerIdOf(peerKey)
    const configured = (options.configure ?? ((c) => c))(defaultConfig(name))
    const config = withGenesisNetwork(configured, genesis.genesis, peerId)
    const deployment = networkOf(genesis.genesis)?.chain?.deployment
    const existed = existsSync(dataDir)
    yield* Effect.try({
      try: () => {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 })
        try {
          writeFileSync(join(dataDir, CONFIG_FILE), renderConfig(config), { flag: "wx" })
          secretFile(resolvePath(dataDir, config.paths.keystore), keystore)
          writeFileSync(resolvePath(dataDir, config.paths.genesis), `${JSON.stringify(encodeGenesis(genesis.genesis, genesis.overrides), null, 2)}\n`, { flag: "wx" })
          secretFile(resolvePath(dataDir, config.api.tokenFile), `${randomBytes(32).toString("hex")}\n`)
          secretFile(resolvePath(dataDir, config.paths.peerKey), encodePeerKey(peerKey))
          writeFileSync(join(dataDir, IDENTITY_FILE), `${JSON.stringify(nodeIdentity({ name, address, peerId, listen: config.network.listen }), null, 2)}\n`, { flag: "wx" })
          if (deployment !== undefined) writeFileSync(join(dataDir, DEPLOYMENT_FILE), `${JSON.stringify(deployment, null, 2)}\n`, { flag: "wx" })
          if (options.writePasswordFile === true) secretFile(join(dataDir, "password"), `${options.password}\n`)
        } catch (e) {
          // Half a data dir is worse than none: take back what was written.
          if (existed) for (const f of readdirSync(dataDir)) rmSync(join(dataDir, f), { recursive: true, force: true })
          else rmSync(dataDir, { recursive: true, force: true })
          throw e
        }
      },
      catch: (e) => new DataDirError({ path: dataDir, reason: `cannot create the data dir: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }),
    })
    return { dataDir, config, address, peerId }
  })

/**
 * The config with what the genesis says about the network, where the operator said nothing: the
 * other validators' addresses as bootstrap peers, and its EVM chain (RPC + the data dir's copy of the
 * deployment) when it names an RPC.
 */
export const withGenesisNetwork = (config: NodeConfig, genesis: AppGenesis, peerId: string): NodeConfig => {
  const network = networkOf(genesis)
  if (network === undefined) return config
  const others = network.peers.filter((p) => p.peerId !== peerId).flatMap((p) => p.addrs)
  const bootstrap = config.network.bootstrap.length > 0 ? config.network.bootstrap : others
  const chain = network.chain !== undefined && network.chain.rpc !== "" && config.chain.rpc === "" && config.chain.deployment === ""
    ? { rpc: network.chain.rpc, deployment: DEPLOYMENT_FILE }
    : config.chain
  return { ...config, network: { ...config.network, bootstrap }, chain }
}

export interface InstallResult {
  readonly dataDir: string
  /** This node's signing address, and its operator name when it is a genesis validator. */
  readonly address: string
  readonly operator: string | undefined
  readonly validators: number
  readonly chainId: number
  readonly bootstrap: readonly string[]
  /** The chain config written (or kept), and whether the genesis carried a deployment. */
  readonly chain: NodeConfig["chain"]
  readonly deployment: boolean
}

/**
 * Put the network's genesis into a data dir made by `dai node init` that has never run (no store yet):
 * genesis.json, the deployment it carries, and the config's bootstrap peers and chain where they are
 * empty (`withGenesisNetwork`). A data dir that has run is refused: its store holds a chain of its
 * genesis, and a node never changes networks under it. Everything is checked before anything is
 * written; the files are replaced by renames, so a failure leaves the data dir as it was.
 */
export const installGenesis = (options: { readonly dataDir: string; readonly genesisFile: string }): Result.Result<InstallResult, DataDirError> => {
  const dataDir = resolve(options.dataDir)
  const fail = (path: string, reason: string) => Result.fail(new DataDirError({ path, reason }))
  const configPath = join(dataDir, CONFIG_FILE)
  if (!existsSync(configPath)) return fail(dataDir, "is not a data dir made by `dai node init` (no config.yaml)")
  const config = readConfig(configPath)
  if (Result.isFailure(config)) return fail(config.failure.file, `${config.failure.key === "" ? "" : `${config.failure.key}: `}${config.failure.reason}`)
  const storePath = resolvePath(dataDir, config.success.paths.store)
  if (existsSync(storePath)) {
    return fail(storePath, "exists: this node has run on the genesis it has, and a node never changes networks; make a new data dir for this network (`dai node init --genesis FILE`)")
  }
  const read = Result.flatMap(readGenesis(options.genesisFile), (g) => checkGenesisApplies(g, options.genesisFile))
  if (Result.isFailure(read)) return fail(options.genesisFile, `${read.failure.field === "" ? "" : `${read.failure.field}: `}${read.failure.reason}`)
  const genesis = read.success
  const raw = readGenesisJson(options.genesisFile)
  if (Result.isFailure(raw)) return fail(options.genesisFile, raw.failure.reason)
  const keystorePath = resolvePath(dataDir, config.success.paths.keystore)
  let address: string | undefined
  let peerId: string | undefined
  try {
    address = keystoreAddress(readFileSync(keystorePath, "utf8"))
    peerId = (JSON.parse(readFileSync(join(dataDir, IDENTITY_FILE), "utf8")) as { peerId?: string }).peerId
  } catch {
    // An older data dir has no identity.json: its own address, if any, is then left in the bootstrap list (harmless).
  }
  if (address === undefined) return fail(keystorePath, "cannot read the node's address from its keystore")
  const next = withGenesisNetwork(config.success, genesis, peerId ?? "")
  const deployment = networkOf(genesis)?.chain?.deployment
  const files: Array<[string, string]> = [
    [resolvePath(dataDir, config.success.paths.genesis), `${JSON.stringify(raw.success, null, 2)}\n`],
    [configPath, renderConfig(next)],
    ...(deployment === undefined ? [] : [[join(dataDir, DEPLOYMENT_FILE), `${JSON.stringify(deployment, null, 2)}\n`] as [string, string]]),
  ]
  const suffix = `.installing-${process.pid}`
  try {
    for (const [path, text] of files) writeFileSync(`${path}${suffix}`, text, { flag: "w" })
    for (const [path] of files) renameSync(`${path}${suffix}`, path)
  } catch (e) {
    for (const [path] of files) rmSync(`${path}${suffix}`, { force: true })
    return fail(dataDir, `cannot write the genesis: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  return Result.succeed({
    dataDir,
    address,
    operator: genesis.validators.find((v) => v.address === address)?.operator,
    validators: genesis.validators.length,
    chainId: genesis.chainId,
    bootstrap: next.network.bootstrap,
    chain: next.chain,
    deployment: deployment !== undefined,
  })
}

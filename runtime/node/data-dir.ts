/**
 * A node's data dir, as `dai node init` creates it:
 *
 *   config.yaml     commented configuration (config.ts)
 *   keystore.json   the signing key, encrypted (ethers JSON wallet)
 *   genesis.json    the network's genesis (a one-validator network of this node unless given)
 *   api-token       bearer token of the API, 32 random bytes in hex, mode 0600
 *   peer-key        libp2p identity (a stable peer id), mode 0600
 *   store.db        created at first start: committed blocks, slashing protection
 *
 * Init never overwrites: a data dir holds a validator's signing record, and replacing it by accident
 * is how a validator ends up signing twice.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import type { PrivateKey } from "@libp2p/interface"
import { Effect, Schema } from "effect"
import { encodePeerKey, newPeerKey, peerIdOf } from "../adapters/libp2p/node.ts"
import { encryptKey, newPrivateKey, type KeystoreError } from "../adapters/keystore.ts"
import type { AppGenesis } from "../core/app/app.ts"
import { addressOfPrivateKey } from "../core/crypto.ts"
import { CONFIG_FILE, defaultConfig, renderConfig, resolvePath, type NodeConfig } from "./config.ts"
import { encodeGenesis, equalStakeGenesis } from "./genesis-file.ts"

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
    const config = (options.configure ?? ((c) => c))(defaultConfig(name))
    const genesis = options.genesis ?? {
      genesis: equalStakeGenesis({ chainId: SOLO_CHAIN_ID, time: Date.now(), validators: [{ operator: name, address }] }).genesis,
      overrides: {},
    }
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
    return { dataDir, config, address, peerId: peerIdOf(peerKey) }
  })

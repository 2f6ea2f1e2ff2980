/**
 * `dai genesis …`: build a network's genesis by hand for validators on separate machines.
 *
 *   dai genesis new genesis.json --deployment deployment.json --rpc http://127.0.0.1:8545
 *   dai genesis add-validator genesis.json --identity node1/identity.json --stake 1000000   (once per validator)
 *   dai genesis show genesis.json                  # what it holds, checked
 *   dai genesis install genesis.json --data-dir node1   (on each machine, before the node's first start)
 *
 * Every command checks the whole file as a node would; a bad file or value is one line naming the
 * file, the key and the reason, exit code 2, and nothing is written.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { defineCommand, InputError, intFlag, UsageError, type Command, type Io, parseParam } from "./command.ts"
import { table } from "./format.ts"

type GenesisFileModule = typeof import("../runtime/node/genesis-file.ts")
type DraftModule = typeof import("../runtime/node/genesis-draft.ts")

const load = async (): Promise<{ file: GenesisFileModule; draft: DraftModule }> => {
  const [file, draft] = await Promise.all([import("../runtime/node/genesis-file.ts"), import("../runtime/node/genesis-draft.ts")])
  return { file, draft }
}

/** A GenesisInvalid as the one line an operator reads: file, key, reason. */
const invalid = (e: { readonly message: string }): InputError => new InputError({ reason: e.message })

const one = (positionals: readonly string[], what = "FILE"): string => {
  if (positionals.length === 0) throw new UsageError({ reason: `missing ${what}: the genesis file` })
  if (positionals.length > 1) throw new UsageError({ reason: `unexpected argument "${positionals[1]}"` })
  return positionals[0]!
}

const readJson = (flag: string, path: string): unknown => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    throw new InputError({ reason: `${flag} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new InputError({ reason: `${flag} ${path}: not JSON (${(e as Error).message})` })
  }
}

/** Write `text` to `path` through a rename, so a reader never sees half a file; `exclusive` refuses an existing one. */
const writeAtomically = (path: string, text: string, exclusive: boolean): void => {
  const tmp = `${path}.writing-${process.pid}`
  try {
    writeFileSync(tmp, text, { flag: "w" })
    if (exclusive && existsSync(path)) throw Object.assign(new Error("exists"), { code: "EEXIST" })
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError({ reason: code === "EEXIST" ? `${path} exists already; choose another file, or remove it if you mean to start over` : `cannot write ${path} (${code ?? (e as Error).message})` })
  }
}

const rpcFlag = (value: string | undefined): string => {
  if (value === undefined) return ""
  if (!/^https?:\/\/./.test(value)) throw new UsageError({ reason: `--rpc must be an http(s) URL such as http://127.0.0.1:8545, got "${value}"` })
  return value
}

/** Whole or decimal DAI (`1000000`, `2500.5`) to base units; the flag named in the error. */
const tokensFlag = async (flag: string, value: string | undefined, fallback: bigint): Promise<bigint> => {
  if (value === undefined) return fallback
  if (!/^\d+(\.\d{1,18})?$/.test(value)) throw new InputError({ reason: `--${flag} must be an amount of DAI such as 1000000 or 2500.5, got "${value}"` })
  const { tokens } = await import("../runtime/core/units.ts")
  return tokens(value)
}

/** The chain's numeric parameters that are not the registry's defaults: those a genesis may hold, and those below the registry's floors (a devnet constitution's). */
interface ChainParams {
  readonly values: Record<string, string | number>
  readonly chainOnly: Record<string, string>
}

/** Read the Constitution's parameters through the EVM adapter (`params`); an Error names an unreachable RPC or another chain. */
const chainParams = async (rpc: string, json: unknown): Promise<ChainParams> => {
  const [{ probeRpc }, { decodeDeployment }, { makeEvmChain }, { DEFAULT_PARAMS, PARAM_NAMES, REGISTRY, decodeParam, formatParamValue }, { Effect }] = await Promise.all([
    import("./chain.ts"), import("../runtime/adapters/evm/deployment.ts"), import("../runtime/adapters/evm/chain.ts"), import("../runtime/core/params.ts"), import("effect"),
  ])
  const deployment = Result.getOrThrow(decodeDeployment(json))
  const id = await probeRpc(rpc)
  if (deployment.chainId !== undefined && String(id) !== deployment.chainId) throw new Error(`${rpc} is chain id ${id}, but the deployment is for chain id ${deployment.chainId}`)
  const chain = makeEvmChain({ rpcUrl: rpc, deployment, signerFor: () => undefined })
  try {
    const params = await Effect.runPromise(chain.params)
    const values: Record<string, string | number> = {}
    const chainOnly: Record<string, string> = {}
    for (const name of PARAM_NAMES) {
      const def = REGISTRY[name]
      const v = params[name]
      if (!("min" in def) || typeof v !== "number" || v === DEFAULT_PARAMS[name]) continue
      if (Result.isFailure(decodeParam(name, v))) chainOnly[name] = formatParamValue(def, v)
      else values[name] = def.kind === "duration" ? formatParamValue(def, v) : v
    }
    return { values, chainOnly }
  } catch (e) {
    throw new Error(`reading the Constitution's parameters at ${rpc}: ${(e as Error).message}`)
  } finally {
    await chain.close()
  }
}

const newCommand = defineCommand({
  name: "new",
  args: "FILE",
  summary: "Start a network's genesis file: chain id, time, parameter overrides and the EVM chain (deployment + RPC); no validators yet.",
  options: {
    "chain-id": { type: "string" },
    time: { type: "string" },
    param: { type: "string", multiple: true },
    deployment: { type: "string" },
    rpc: { type: "string" },
  },
  help: {
    "--chain-id N": "consensus chain id (default: the deployment's consensusChainId, else 7)",
    "--time T": "genesis time: Unix ms or an ISO date (default: now)",
    "--param NAME=VALUE": "a parameter override (repeatable), e.g. training.dataset=mnist; see `dai params`. With --deployment, numeric parameters are the chain's Constitution's (`dai chain deploy --param`), refused here",
    "--deployment FILE": "the deployment file `dai chain deploy --rpc URL --out FILE` wrote: the network's contracts, carried in the genesis",
    "--rpc URL": "the chain's JSON-RPC endpoint every node uses (with --deployment; leave it out when each node names its own); the Constitution's parameters are read from it into the genesis",
  },
  examples: [
    "dai genesis new genesis.json",
    "dai genesis new genesis.json --deployment .dai/deployment.json --rpc http://127.0.0.1:8545",
    "dai genesis new genesis.json --param consensus.timeoutCommit=500ms   (no chain: the genesis holds the parameters)",
  ],
  run: async (values, positionals, io: Io) => {
    const path = one(positionals)
    if (values.rpc !== undefined && values.deployment === undefined) throw new UsageError({ reason: "--rpc goes with --deployment (the contracts at that RPC)" })
    const rpc = rpcFlag(values.rpc)
    const chainId = values["chain-id"] === undefined ? undefined : intFlag("chain-id", values["chain-id"], 0, 1, 2 ** 48)
    let time = Date.now()
    if (values.time !== undefined) {
      time = /^\d+$/.test(values.time) ? Number(values.time) : Date.parse(values.time)
      if (!Number.isSafeInteger(time) || time < 0) throw new InputError({ reason: `--time must be Unix ms or an ISO date such as 2026-12-04T09:00:00Z, got "${values.time}"` })
    }
    if (existsSync(path)) throw new InputError({ reason: `${path} exists already; choose another file, or remove it if you mean to start over` })
    const given = Object.fromEntries((values.param ?? []).map(parseParam))
    if (values.deployment !== undefined) {
      // With a chain, every numeric parameter is the Constitution's (snapshots carry its values): a
      // genesis value would be replaced at snapshot 1 without a word, so it is refused here.
      const { isParamName, REGISTRY } = await import("../runtime/core/params.ts")
      const held = Object.keys(given).find((name) => isParamName(name) && "min" in REGISTRY[name])
      if (held !== undefined) {
        throw new InputError({ reason: `--param ${held}: the parameter is held by the chain's Constitution — set it at deploy with \`dai chain deploy --param\`, or change it by governance` })
      }
    }
    const deployment = values.deployment === undefined ? undefined : readJson("--deployment", values.deployment)
    const { draft } = await load()
    const make = (overrides: Readonly<Record<string, string | number>>) => {
      const r = draft.newGenesis({ ...(chainId === undefined ? {} : { chainId }), time, overrides, ...(deployment === undefined ? {} : { chain: { rpc, deployment } }) }, path)
      if (Result.isSuccess(r)) return r.success
      // A bad deployment is the flag's file, not the genesis being made.
      const f = r.failure
      throw new InputError({ reason: f.field.startsWith("chain.deployment") ? `--deployment ${values.deployment}: ${f.field.slice("chain.deployment".length).replace(/^\./, "") || "(file)"}: ${f.reason}` : f.field === "params" ? `--param: ${f.reason}` : f.message })
    }
    let genesis = make(given)
    // With the chain's RPC, its Constitution's values (those not the registry's defaults) go into the
    // genesis, so that the file says what the network runs with.
    let fromChain: ChainParams = { values: {}, chainOnly: {} }
    if (deployment !== undefined && rpc !== "") {
      try {
        fromChain = await chainParams(rpc, deployment)
      } catch (e) {
        io.err(`dai genesis new: ${(e as Error).message}`)
        return 1
      }
      genesis = make({ ...given, ...fromChain.values })
    }
    writeAtomically(path, `${JSON.stringify(genesis, null, 2)}\n`, true)
    const overrides = { ...given, ...fromChain.values }
    const read = Object.keys(fromChain.values).length
    const chainOnly = Object.entries(fromChain.chainOnly)
    io.out([
      `wrote ${path}: chain id ${genesis.chainId}, time ${new Date(time).toISOString()}, ${Object.keys(overrides).length} parameter override${Object.keys(overrides).length === 1 ? "" : "s"}${read === 0 ? "" : ` (${read} read from the chain's Constitution)`}`,
      ...(chainOnly.length === 0 ? [] : [`  on chain   ${chainOnly.map(([k, v]) => `${k}=${v}`).join(", ")} (below the registry's floors: the Constitution's alone)`]),
      deployment === undefined ? "  chain      none (consensus only; `dai genesis new --deployment FILE --rpc URL` carries the contracts)" : `  chain      ${rpc === "" ? "each node's own RPC" : rpc}, contracts of ${values.deployment}`,
      "",
      `Next: dai genesis add-validator ${path} --identity <data dir>/identity.json   (once per validator; \`dai node init\` writes identity.json)`,
    ].join("\n"))
    return 0
  },
})

const addValidatorCommand = defineCommand({
  name: "add-validator",
  args: "FILE",
  summary: "Add a genesis validator from its node's public identity (identity.json of `dai node init`, or its address and peer id), with its stake, lock tier and commission.",
  options: {
    identity: { type: "string" },
    name: { type: "string" },
    address: { type: "string" },
    "peer-id": { type: "string" },
    addr: { type: "string", multiple: true },
    stake: { type: "string" },
    tier: { type: "string" },
    commission: { type: "string" },
    balance: { type: "string" },
  },
  help: {
    "--identity FILE": "the node's identity.json (or its data dir): name, signing address, peer id, dialable addresses",
    "--name NAME": "the validator's name (default: the identity's)",
    "--address 0x…": "its signing address, as `dai node init` prints it (without --identity)",
    "--peer-id ID": "its libp2p peer id, as `dai node init` prints it (without --identity)",
    "--addr MULTIADDR": "where the others dial it, ending in /p2p/<peer id> (repeatable; default: the identity's)",
    "--stake DAI": "tokens bonded at genesis (default 1000000; at least staking.minValidatorBond)",
    "--tier DAYS": "lock tier: 0, 30, 90, 180 or 365 (default 0)",
    "--commission F": "share of its delegators' rewards it keeps, 0..staking.maxCommission (default 0.05)",
    "--balance DAI": "tokens it holds besides its bond, for its transactions (default 1000)",
  },
  examples: [
    "dai genesis add-validator genesis.json --identity node1/identity.json --stake 1000000",
    "dai genesis add-validator genesis.json --name carol --address 0x… --peer-id 12D3KooW… --addr /ip4/10.0.0.3/tcp/9000/p2p/12D3KooW… --tier 90 --commission 0.1",
  ],
  run: async (values, positionals, io: Io) => {
    const path = one(positionals)
    const { file: gf, draft } = await load()
    let identity: import("../runtime/node/genesis-draft.ts").NodeIdentity | undefined
    if (values.identity !== undefined) {
      if (values.address !== undefined || values["peer-id"] !== undefined) throw new UsageError({ reason: "--identity names the address and peer id: leave out --address and --peer-id" })
      const where = existsSync(values.identity) && statSync(values.identity).isDirectory() ? join(values.identity, draft.IDENTITY_FILE) : values.identity
      const r = draft.decodeIdentity(readJson("--identity", where), where)
      if (Result.isFailure(r)) throw new InputError({ reason: `--identity ${r.failure.message}` })
      identity = r.success
    } else if (values.address === undefined || values.name === undefined) {
      throw new UsageError({ reason: "name the validator: --identity FILE, or --name, --address (and --peer-id, --addr) as `dai node init` printed them" })
    }
    const address = identity?.address ?? values.address!
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new InputError({ reason: `--address must be a 0x address of 40 hex digits, got "${address}"` })
    const peerId = identity?.peerId ?? values["peer-id"]
    if (peerId !== undefined && !gf.PEER_ID.test(peerId)) throw new InputError({ reason: `--peer-id must be a libp2p peer id (base58, e.g. 12D3KooW…), got "${peerId}"` })
    const addrs = values.addr ?? identity?.addrs ?? []
    for (const a of addrs) {
      if (!gf.DIALABLE.test(a)) throw new InputError({ reason: `--addr must be a TCP multiaddr ending in /p2p/<peer id>, e.g. /ip4/10.0.0.2/tcp/9000/p2p/12D3KooW…, got "${a}"` })
      if (peerId === undefined) throw new UsageError({ reason: "--addr needs the validator's --peer-id" })
    }
    const tier = intFlag("tier", values.tier, 0, 0, 365)
    const commission = values.commission ?? "0.05"
    if (!/^(0(\.\d{1,18})?|1(\.0+)?)$/.test(commission)) throw new InputError({ reason: `--commission must be a fraction from 0 to 1 such as 0.05, got "${commission}"` })
    const { TOKEN, toWad } = await import("../runtime/core/units.ts")
    const stake = await tokensFlag("stake", values.stake, 1_000_000n * TOKEN)
    const balance = await tokensFlag("balance", values.balance, draft.DEFAULT_SPARE_TOKENS)
    const current = gf.decodeGenesisFile(readJson("genesis", path), path)
    if (Result.isFailure(current)) throw invalid(current.failure)
    const checked = draft.checkGenesis(current.success, path, { draft: true })
    if (Result.isFailure(checked)) throw invalid(checked.failure)
    const name = values.name ?? identity!.name
    const r = draft.addValidator(current.success, { name, address, ...(peerId === undefined ? {} : { peerId }), addrs, stake, tier, commission: toWad(commission), balance }, path)
    if (Result.isFailure(r)) throw invalid(r.failure)
    writeAtomically(path, `${JSON.stringify(r.success, null, 2)}\n`, false)
    const { formatTokens } = await import("../runtime/core/units.ts")
    io.out([
      `added validator ${name} to ${path} (${r.success.validators.length} validator${r.success.validators.length === 1 ? "" : "s"} now)`,
      `  address  ${address.toLowerCase()}`,
      `  peer id  ${peerId ?? "(none: the others cannot dial it from the genesis; give --peer-id and --addr)"}`,
      ...addrs.map((a) => `  addr     ${a}`),
      `  stake    ${formatTokens(stake, 0)} DAI, tier ${tier} days, commission ${commission}, balance ${formatTokens(balance, 0)} DAI`,
    ].join("\n"))
    return 0
  },
})

const describe = async (path: string, g: import("../runtime/node/genesis-file.ts").FileGenesis, overrides: Readonly<Record<string, unknown>>): Promise<string[]> => {
  const { formatTokens, WAD } = await import("../runtime/core/units.ts")
  const { networkOf } = await import("../runtime/node/genesis-file.ts")
  const network = networkOf(g)
  const peer = (operator: string) => network?.peers.find((p) => p.operator === operator)
  const chain = network?.chain
  const fraction = (w: bigint) => String(Number((w * 1_000_000n) / WAD) / 1_000_000)
  return [
    `${path}: chain id ${g.chainId}, time ${new Date(g.time).toISOString()}`,
    `  params      ${Object.keys(overrides).length === 0 ? "the registry's defaults" : Object.entries(overrides).map(([k, v]) => `${k}=${String(v)}`).join(", ")}`,
    `  chain       ${chain === undefined ? "none (consensus only)" : `EVM chain id ${chain.deployment.chainId}, ${chain.rpc === "" ? "each node's own RPC" : chain.rpc}, Staking ${chain.deployment.contracts.Staking}`}`,
    `  supply      ${g.allocations.map((a) => `${a.address} ${formatTokens(a.amount, 0)}`).join(", ")}`,
    "",
    g.validators.length === 0
      ? "no validators yet: add them with `dai genesis add-validator`"
      : table(["validator", "address", "stake (DAI)", "tier", "commission", "peer id", "addrs"], g.validators.map((v) => [
        v.operator, v.address, formatTokens(v.amount, 0), `${v.tier}d`, fraction(v.commission), peer(v.operator)?.peerId ?? "-", (peer(v.operator)?.addrs ?? []).join(" ") || "-",
      ])),
  ]
}

const showCommand = defineCommand({
  name: "show",
  args: "FILE",
  summary: "Print what a genesis file holds (chain id, parameters, chain, supply, validators), checked as a node would check it.",
  options: { json: { type: "boolean" } },
  help: { "--json": "print the checked file as JSON on stdout" },
  examples: ["dai genesis show genesis.json", "dai genesis show node1/genesis.json --json | jq .validators"],
  run: async (values, positionals, io: Io) => {
    const path = one(positionals)
    const { draft } = await load()
    const value = readJson("genesis", path)
    const r = draft.checkGenesis(value, path, { draft: true })
    if (Result.isFailure(r)) throw invalid(r.failure)
    if (values.json === true) {
      io.out(JSON.stringify(value, null, 2))
      return 0
    }
    io.out((await describe(path, r.success, (value as { params: Record<string, unknown> }).params)).join("\n"))
    return 0
  },
})

const validateCommand = defineCommand({
  name: "validate",
  args: "FILE",
  summary: "Check a genesis file as a node starting from it would (at least one validator); exit 0 when it starts a network, 2 naming the key and the reason otherwise.",
  options: {},
  help: {},
  examples: ["dai genesis validate genesis.json"],
  run: async (_values, positionals, io: Io) => {
    const path = one(positionals)
    const { draft, file } = await load()
    const r = draft.checkGenesis(readJson("genesis", path), path)
    if (Result.isFailure(r)) throw invalid(r.failure)
    const chain = file.networkOf(r.success)?.chain
    const missing = (file.networkOf(r.success)?.peers ?? r.success.validators).filter((p) => !("addrs" in p) || p.addrs.length === 0).map((p) => p.operator)
    io.out([
      `${path}: a valid genesis: chain id ${r.success.chainId}, ${r.success.validators.length} validator${r.success.validators.length === 1 ? "" : "s"}, ${chain === undefined ? "no EVM chain" : `the contracts on EVM chain ${chain.deployment.chainId}`}`,
      ...(missing.length === 0 ? [] : [`  note: no address for ${missing.join(", ")}: the others find ${missing.length === 1 ? "it" : "them"} only through bootstrap peers in config.yaml or the DHT`]),
    ].join("\n"))
    return 0
  },
})

const installCommand = defineCommand({
  name: "install",
  args: "FILE",
  summary: "Put a network's genesis into a data dir made by `dai node init` before its first start: genesis.json, the deployment, and the bootstrap peers and chain of config.yaml where they are empty.",
  options: { "data-dir": { type: "string" } },
  help: { "--data-dir DIR": "the node's data dir (required); refused once the node has run (its store holds a chain)" },
  examples: ["dai genesis install genesis.json --data-dir ~/.dai/node"],
  run: async (values, positionals, io: Io) => {
    const path = one(positionals)
    if (values["data-dir"] === undefined) throw new UsageError({ reason: "--data-dir DIR is required: the data dir to install the genesis into" })
    const { installGenesis } = await import("../runtime/node/data-dir.ts")
    const r = installGenesis({ dataDir: values["data-dir"], genesisFile: path })
    if (Result.isFailure(r)) throw new InputError({ reason: r.failure.message })
    const x = r.success
    io.out([
      `installed ${path} into ${x.dataDir} (chain id ${x.chainId}, ${x.validators} validator${x.validators === 1 ? "" : "s"})`,
      x.operator === undefined
        ? `  signing address  ${x.address} (a follower: not a genesis validator)`
        : `  validator        ${x.operator} (${x.address})`,
      `  bootstrap        ${x.bootstrap.length === 0 ? "none (set network.bootstrap in config.yaml, unless this node is the first)" : x.bootstrap.join(" ")}`,
      `  chain            ${x.chain.rpc === "" ? (x.deployment ? "not set: the genesis names no RPC; set chain.rpc in config.yaml and chain.deployment: deployment.json" : "none (consensus only)") : `${x.chain.rpc} (${x.chain.deployment})`}`,
      "",
      `Start it with: dai node start --data-dir ${values["data-dir"]}`,
    ].join("\n"))
    return 0
  },
})

export const genesisCommands: readonly Command[] = [newCommand, addValidatorCommand, showCommand, validateCommand, installCommand]

/**
 * `dai node …`: create a node's data dir (`init`) and run the node (`start`).
 * The node's modules (libp2p, ethers, sqlite) are imported when a command runs, so `--help` is instant.
 */
import { homedir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Result, Scope } from "effect"
import { defineCommand, InputError, intFlag, UsageError, type Command, type Io } from "./command.ts"
import { parseTrainingFlags, TRAINING_FLAGS } from "./training-flags.ts"
import { slashingProtectionCommand } from "./slashing-protection.ts"

/** Where a node lives when `--data-dir` is not given. */
export const DEFAULT_DATA_DIR = join(homedir(), ".dai", "node")

const PASSWORD_HELP = "file whose first line is the keystore password (else $DAI_PASSWORD, else a prompt on the terminal)"

const initCommand = defineCommand({
  name: "init",
  summary: "Create a node's data dir: an encrypted keystore, a commented config.yaml, the genesis, the API token and the libp2p identity.",
  options: {
    "data-dir": { type: "string" },
    "password-file": { type: "string" },
    name: { type: "string" },
    listen: { type: "string", multiple: true },
    bootstrap: { type: "string", multiple: true },
    rpc: { type: "string" },
    deployment: { type: "string" },
    "api-host": { type: "string" },
    "api-port": { type: "string" },
    genesis: { type: "string" },
    "scrypt-n": { type: "string" },
  },
  help: {
    "--data-dir DIR": `the data dir to create; must not exist or be empty (default ${DEFAULT_DATA_DIR})`,
    "--password-file FILE": PASSWORD_HELP,
    "--name NAME": "this node's name in logs and telemetry (default: the data dir's name)",
    "--listen MULTIADDR": "address to listen on, repeatable (default /ip4/0.0.0.0/tcp/9000)",
    "--bootstrap MULTIADDR": "a peer to dial at start, ending in /p2p/<peer id>; repeatable",
    "--rpc URL": "JSON-RPC endpoint of the EVM chain (with --deployment)",
    "--deployment FILE": "deployment file written by `dai chain deploy` (with --rpc)",
    "--api-host HOST": "API listen host (default 127.0.0.1)",
    "--api-port PORT": "API listen port (default 8645)",
    "--genesis FILE": "the network's genesis.json (default: a new network with this node as its only validator)",
    "--scrypt-n N": "keystore scrypt cost, a power of two (default 131072; lower only for throwaway keys)",
  },
  examples: [
    "dai node init --data-dir ~/.dai/node",
    "DAI_PASSWORD=… dai node init --data-dir node1 --genesis genesis.json --bootstrap /ip4/10.0.0.2/tcp/9000/p2p/12D3KooW…",
  ],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const [{ initDataDir }, { readPassword }, { readGenesis }] = await Promise.all([
      import("../runtime/node/data-dir.ts"), import("../runtime/adapters/keystore.ts"), import("../runtime/node/genesis-file.ts"),
    ])
    const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR
    const apiPort = values["api-port"] === undefined ? undefined : intFlag("api-port", values["api-port"], 0, 0, 65_535)
    const scryptN = values["scrypt-n"] === undefined ? undefined : intFlag("scrypt-n", values["scrypt-n"], 0, 2)
    if (scryptN !== undefined && (scryptN & (scryptN - 1)) !== 0) throw new InputError({ reason: `--scrypt-n must be a power of two, got ${scryptN}` })
    if ((values.rpc === undefined) !== (values.deployment === undefined)) throw new UsageError({ reason: "--rpc and --deployment go together" })
    let genesis: { genesis: import("../runtime/core/app/app.ts").AppGenesis; overrides: Record<string, string | number | boolean> } | undefined
    if (values.genesis !== undefined) {
      const r = readGenesis(values.genesis)
      if (Result.isFailure(r)) throw new InputError({ reason: `--genesis ${r.failure.message}` })
      const { readFileSync } = await import("node:fs")
      genesis = { genesis: r.success, overrides: (JSON.parse(readFileSync(values.genesis, "utf8")) as { params: Record<string, string | number | boolean> }).params }
    }
    const { resolve } = await import("node:path")
    const result = await Effect.runPromise(Effect.result(Effect.gen(function*() {
      const password = yield* readPassword({ file: values["password-file"], tty: process.stdin, confirm: true })
      return yield* initDataDir({
        dataDir,
        password,
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(scryptN === undefined ? {} : { scryptN }),
        ...(genesis === undefined ? {} : { genesis }),
        configure: (c) => ({
          ...c,
          network: { ...c.network, listen: values.listen ?? c.network.listen, bootstrap: values.bootstrap ?? c.network.bootstrap },
          chain: { rpc: values.rpc ?? "", deployment: values.deployment === undefined ? "" : resolve(values.deployment) },
          api: { ...c.api, host: values["api-host"] ?? c.api.host, port: apiPort ?? c.api.port },
        }),
      })
    })))
    if (Result.isFailure(result)) {
      io.err(`dai node init: ${result.failure.message}`)
      // A password under the minimum is the operator's input to fix, like a bad flag: 2, not 1.
      return result.failure._tag === "KeystoreError" && result.failure.operation === "policy" ? 2 : 1
    }
    const r = result.success
    // A node joining with someone else's genesis is a follower until it stakes: its key signs its
    // transactions (and its votes once it is a validator), so call it what it is now.
    const validator = genesis === undefined || genesis.genesis.validators.some((v) => v.address.toLowerCase() === r.address.toLowerCase())
    const count = genesis?.genesis.validators.length ?? 1
    io.out([
      `created ${r.dataDir}`,
      validator ? `  validator address  ${r.address}` : `  signing address    ${r.address} (a follower: not a genesis validator; stake to become one)`,
      `  peer id            ${r.peerId}`,
      `  config             ${join(r.dataDir, "config.yaml")}`,
      `  identity           ${join(r.dataDir, "identity.json")} (public: hand it to whoever builds the network's genesis)`,
      genesis === undefined ? "  genesis            a new network with this node as its only validator" : `  genesis            ${values.genesis} (chain id ${genesis.genesis.chainId}, ${count} validator${count === 1 ? "" : "s"})`,
      "",
      `Start it with: dai node start --data-dir ${r.dataDir}`,
      ...(genesis === undefined
        ? [`Or, for a network of several machines: dai genesis new, then dai genesis add-validator --identity ${join(r.dataDir, "identity.json")} for each node, and dai genesis install (README: Run a network)`]
        : []),
    ].join("\n"))
    return 0
  },
})

const startCommand = defineCommand({
  name: "start",
  summary: "Run the node of a data dir (consensus over libp2p, the sqlite store, staking and training; governance with the EVM chain when configured) until SIGINT/SIGTERM.",
  exits: "0 after a clean stop (SIGINT/SIGTERM); 1 when it cannot start (one line says why: a busy port, a wrong password, a bad config) or its consensus halts; 2 on a bad command line or flag value; 130 on a second Ctrl-C during shutdown",
  options: {
    "data-dir": { type: "string" },
    "password-file": { type: "string" },
    bootstrap: { type: "string", multiple: true },
    tui: { type: "boolean" },
    quiet: { type: "boolean" },
    ...TRAINING_FLAGS,
  },
  help: {
    "--data-dir DIR": `the data dir made by \`dai node init\` (default ${DEFAULT_DATA_DIR})`,
    "--password-file FILE": PASSWORD_HELP,
    "--bootstrap MULTIADDR": "an extra peer to dial at start (besides config.yaml's); repeatable",
    "--tui": "open the terminal UI instead of printing progress lines",
    "--quiet": "print only the start and stop lines",
    "--backend NAME": "TensorFlow.js backend for training: auto, tensorflow, wasm or cpu (default: $DAI_TF_BACKEND, else the best available)",
    "--train-samples N": "samples of its shard of the data set this node trains on (default 600)",
    "--no-training": "do not train (consensus, staking and governance only)",
  },
  examples: ["dai node start", "dai node start --data-dir node1 --password-file node1/password"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    if (values.tui === true && process.stdout.isTTY !== true) throw new InputError({ reason: "--tui needs a terminal; run without it for progress lines" })
    const training = await parseTrainingFlags(values)
    const [{ readPassword }, { startNodeFromDataDir, describeStartError }, { attachProgress, watchStalls }] = await Promise.all([
      import("../runtime/adapters/keystore.ts"), import("../runtime/node/run-node.ts"), import("./progress.ts"),
    ])
    const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR
    const password = await Effect.runPromise(Effect.result(readPassword({ file: values["password-file"], tty: process.stdin })))
    if (Result.isFailure(password)) {
      io.err(`dai node start: ${password.failure.message}`)
      return 1
    }
    const scope = Scope.makeUnsafe()
    // SIGINT/SIGTERM while starting (a first start on a chain waits for the other genesis validators to
    // register) stops the start; that is a clean stop, exit 0, like one after the start.
    const stopStart = new AbortController()
    const onStartSignal = (signal: NodeJS.Signals) => stopStart.abort(signal)
    process.on("SIGINT", onStartSignal)
    process.on("SIGTERM", onStartSignal)
    const started = await Effect.runPromise(Effect.result(
      startNodeFromDataDir({ dataDir, password: password.success, training, stop: stopStart.signal, ...(values.bootstrap === undefined ? {} : { bootstrap: values.bootstrap }) }).pipe(Scope.provide(scope)),
    )).finally(() => {
      process.off("SIGINT", onStartSignal)
      process.off("SIGTERM", onStartSignal)
    })
    if (Result.isFailure(started)) {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      if (stopStart.signal.aborted) {
        io.out(`${String(stopStart.signal.reason)}: stopped while starting (${describeStartError(started.failure)})`)
        return 0
      }
      io.err(`dai node start: ${describeStartError(started.failure)}`)
      return 1
    }
    const node = started.success
    const addrs = await Effect.runPromise(node.transport.multiaddrs)
    io.out([
      `node ${node.name} started: validator ${node.address}, chain id ${node.genesis.chainId}, height ${node.node.app.height}`,
      `  peer id    ${node.peerId}`,
      ...addrs.map((a) => `  listening  ${a}`),
      `  chain      ${node.chain === undefined ? "none (consensus only; set chain.rpc and chain.deployment in config.yaml)" : `${node.config.chain.rpc}`}`,
      `  training   ${node.training === undefined ? "off (--no-training)" : node.training.description}`,
      `  api        ${node.apiServer === undefined ? "off (api.enabled: false)" : `${node.apiServer.url} (token in ${node.config.api.tokenFile})`}`,
    ].join("\n"))
    // A chain whose Constitution lets governance periods go below production's floors (a devnet's) is
    // said loudly at every start; read in the background, so the signal handlers below are in place.
    const chain = node.chain
    const warnLoweredFloors = async () => {
      if (chain === undefined || node.config.chain.deployment === "") return
      const [{ readDeployment }, { readLoweredFloors, describeLoweredFloors }, { resolvePath }] = await Promise.all([
        import("../runtime/adapters/evm/deployment.ts"), import("../contracts/deploy/constitution-profile.ts"), import("../runtime/node/config.ts"),
      ])
      const d = await readDeployment(resolvePath(dataDir, node.config.chain.deployment))
      const lowered = Result.isSuccess(d) ? await readLoweredFloors(chain.provider, d.success.contracts.Constitution).catch(() => []) : []
      for (const line of describeLoweredFloors(lowered)) {
        // In the TUI a line on stderr would land behind the screen: it goes to the TUI's log instead.
        if (tui === undefined) io.err(line)
        else tui.push({ at: Date.now(), node: node.name, kind: "log", data: { level: "warn", message: line } })
      }
    }
    let quit: () => void = () => {}
    let tui: import("../tui/app.ts").Tui | undefined
    let detach: () => void = () => {}
    if (values.tui === true) {
      const [{ startTui }, { restoredRounds }] = await Promise.all([import("../tui/app.ts"), import("../tui/startup.ts")])
      let stall: string | undefined
      tui = startTui({
        self: node.name,
        title: `dai node ${node.name}`,
        stakeInto: `${node.name}'s contributor pool (a trainer bond)`,
        onStake: async (amount) => node.api.stake({ amount: amount.toString() }),
        onVote: async (id, choice) => {
          return node.api.vote({ proposal: Number(id), support: choice === "yes" ? "for" : choice === "no" ? "against" : "abstain" })
        },
        onPropose: async (name, value) => node.api.propose({ action: { kind: "param", name, value } }),
        onExecute: async (id) => node.api.execute(Number(id)),
        onQuit: () => quit(),
        // While no block commits, the tab bar says what consensus waits for (as the progress lines do).
        status: () => stall ?? `height ${node.node.app.height} peers ${node.transport.node.getPeers().length}`,
      })
      const stopStalls = watchStalls(node, (line) => {
        stall = line
        tui?.redraw()
      })
      // A restarted node's chain already holds rounds: they fill the chart (no telemetry is replayed for them).
      for (const e of restoredRounds(node.name, node.node.app.rounds().values(), Date.now())) tui.push(e)
      const off = node.telemetry.subscribe((e) => tui?.push(e), { replay: true })
      detach = () => {
        off()
        stopStalls()
        tui?.destroy()
      }
    } else if (values.quiet !== true) {
      detach = attachProgress(node, io)
    }

    let cleanup = () => {}
    const code = await new Promise<number>((resolve) => {
      let stopping = false
      const stop = (signal: NodeJS.Signals | "halt", exitCode = 0) => {
        if (stopping) {
          io.err(`dai node start: ${signal} again, exiting without a clean shutdown`)
          return resolve(130)
        }
        stopping = true
        detach()
        io.out(`${signal}: shutting down (consensus, store, network)…`)
        Effect.runPromise(Scope.close(scope, Exit.void)).then(
          () => {
            // Read after the close: consensus may commit a height while it stops (progress lines
            // are detached by then), and this line names what the store holds.
            io.out(`node ${node.name} stopped cleanly at height ${node.node.app.height}`)
            resolve(exitCode)
          },
          (e) => {
            io.err(`dai node start: shutdown failed: ${(e as Error).message}`)
            resolve(1)
          },
        )
      }
      quit = () => stop("SIGINT")
      // Consensus halted (a decided block did not execute): nothing more this node can do right.
      void node.halted.then((reason) => {
        if (stopping) return
        io.err(`dai node start: ${reason}`)
        stop("halt", 1)
      })
      // Node passes the signal's number as a second argument: not an exit code.
      const onSignal = (signal: NodeJS.Signals) => stop(signal)
      process.on("SIGINT", onSignal)
      process.on("SIGTERM", onSignal)
      cleanup = () => {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      }
      // A signal that came while the start was finishing stops it now.
      if (stopStart.signal.aborted) stop(stopStart.signal.reason as NodeJS.Signals)
      else void warnLoweredFloors().catch(() => undefined)
    })
    cleanup()
    return code
  },
})

export const nodeCommands: readonly Command[] = [initCommand, startCommand, slashingProtectionCommand(DEFAULT_DATA_DIR)]

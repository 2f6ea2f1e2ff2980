/**
 * `dai devnet`: a whole network on this machine — Hardhat's in-process chain with the contracts
 * deployed and the genesis validators registered on Staking (or --rpc), N validators over real
 * libp2p on 127.0.0.1, each following its stake and the chain's proposals — with the TUI on node 0 in a
 * terminal, progress lines otherwise. Every node is a trainer on its own shard of MNIST and the
 * validators coordinate training rounds in turn. Stops cleanly (exit 0) on SIGINT/SIGTERM, quitting
 * the TUI, or once --until-height and/or --until-round are reached.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve as resolvePath } from "node:path"
import { defineCommand, InputError, intFlag, parseParam, processIo, UsageError, type Command, type Io } from "./command.ts"
import { formatTokens } from "../runtime/core/units.ts"
import { LM_TASK_PARAMS, parseTask, parseTrainingFlags, TRAINING_FLAGS } from "./training-flags.ts"

/** How the devnet in `dir` resumes, by the chain it ran on (`network`: "in-process", the RPC URL, or none): an in-process chain is gone after the run. */
const resumeHint = (dir: string, network: string | undefined): string =>
  network === "in-process"
    ? "; its chain ran in process and is gone with it, so this dir cannot resume (use --rpc URL or --no-chain for a devnet that can)"
    : `; resume it with: dai devnet --dir ${dir} ${network === undefined ? "--no-chain" : `--rpc ${network}`}`

/**
 * node0's generations as progress lines: one when a generation ends — its tokens, tokens per second
 * (from its start to its end, the route's set-up included), what it paid and through which stages.
 */
export const generationProgress = () => {
  const started = new Map<string, number>()
  const dai = (v: unknown) => `${formatTokens(BigInt(typeof v === "string" && /^\d+$/.test(v) ? v : "0"), 6)} DAI`
  return {
    line: (e: { readonly kind: string; readonly at: number; readonly data: Readonly<Record<string, unknown>> }): string | undefined => {
      const id = String(e.data["id"])
      if (e.kind === "lm.generate.started") {
        if (started.size > 100) started.clear() // bounded: a generation that never ends is forgotten
        started.set(id, e.at)
        return undefined
      }
      if (e.kind !== "lm.generate.done" && e.kind !== "lm.generate.failed") return undefined
      const from = started.get(id)
      started.delete(id)
      const stages = Array.isArray(e.data["stages"]) ? (e.data["stages"] as Array<Record<string, unknown>>).map((s) => `${String(s["from"])}-${String(s["to"])}@${String(s["peer"]).slice(0, 12)}`).join(" → ") : ""
      if (e.kind === "lm.generate.failed") return `lm: generation ${id} failed: ${String(e.data["reason"])}${e.data["paid"] === undefined ? "" : ` (paid ${dai(e.data["paid"])})`}`
      const n = Number(e.data["tokens"])
      const seconds = from === undefined ? undefined : (e.at - from) / 1000
      const rate = seconds === undefined || seconds <= 0 ? "" : ` in ${seconds.toFixed(1)}s (${(n / seconds).toFixed(1)} tokens/s)`
      return `lm: generation ${id}: ${n} tokens${rate}, paid ${dai(e.data["paid"])}${stages === "" ? "" : ` through ${stages}`}`
    },
  }
}

export const devnetCommand: Command = defineCommand({
  name: "devnet",
  summary: "Run a local network: the contracts on Hardhat's in-process chain (the validators registered on Staking), N validators over libp2p on 127.0.0.1, the TUI on node 0.",
  exits: "0 after a clean stop (SIGINT/SIGTERM, quitting the TUI, --until-* reached); 1 when the network cannot start (one line says why), a node halts or the shutdown fails; 2 on a bad command line or flag value",
  options: {
    nodes: { type: "string" },
    dir: { type: "string" },
    rpc: { type: "string" },
    "no-chain": { type: "boolean" },
    headless: { type: "boolean" },
    "until-height": { type: "string" },
    "until-round": { type: "string" },
    "until-jobs": { type: "string" },
    "no-market": { type: "boolean" },
    param: { type: "string", multiple: true },
    task: { type: "string" },
    lm: { type: "boolean" },
    "lm-stages": { type: "string" },
    ...TRAINING_FLAGS,
  },
  help: {
    "--nodes N": "validators, each with equal stake (default 4)",
    "--dir DIR": "keep the nodes' data dirs here (a dir holding a devnet is resumed); default: a temporary dir, removed at exit",
    "--rpc URL": "deploy to this JSON-RPC node instead of Hardhat's in-process chain (deployer: $DAI_DEPLOYER_KEY or its first account)",
    "--no-chain": "run consensus only, without an EVM chain",
    "--headless": "print progress lines instead of opening the TUI (the default without a terminal)",
    "--until-height H": "stop (exit 0) once every node has committed height H",
    "--until-round R": "stop (exit 0) once every node's chain holds R committed training rounds (with --until-height: once both are reached)",
    "--until-jobs J": "stop (exit 0) once node0's ledger holds J settled market jobs (with the other --until-*: once all are reached)",
    "--no-market": "no providers and no built-in requester (by default node1.. serve infer:mnist and node0 posts a small job every few seconds)",
    "--lm": "serve the language model too: node1..node<stages> serve the checkpoint's block ranges as paid stage servers (instead of infer:mnist), node0's API generates; chat with dai chat --devnet-dir DIR (needs a chain)",
    "--lm-stages N": "with --lm: stages the blocks are cut into, one node each (default 2, at most nodes - 1)",
    "--param NAME=VALUE": "a genesis parameter (repeatable), e.g. consensus.timeoutCommit=200ms or training.localEpochs=2; see `dai params`. governance.votingPeriod and governance.timelock go to the devnet constitution, whose floors are 5s (default 2m and 1m)",
    "--backend NAME": "TensorFlow.js backend: auto, tensorflow, wasm or cpu (default: $DAI_TF_BACKEND, else the best available)",
    "--train-samples N": "samples of its MNIST shard each node trains on (default 600)",
    "--no-training": "run consensus only, without training rounds",
    "--task mnist|lm": "what the rounds train: mnist (default), or lm: fine-tune the committed language model's last block and head on each node's shard of held-out fortunes (no market; --train-samples = windows of 32 bytes per round, default 64); progress lines print the validation loss",
  },
  examples: [
    "dai devnet", "dai devnet --nodes 7 --headless --until-height 50", "dai devnet --dir .dai/devnet --param consensus.timeoutCommit=1s",
    "dai devnet --headless --until-round 3 --train-samples 300 --backend wasm",
    "dai devnet --headless --task lm --until-round 3",
    "dai devnet --lm --dir .dai/devnet   # then, in another terminal: dai chat --devnet-dir .dai/devnet",
    "dai devnet --param governance.votingPeriod=30s --param governance.timelock=10s   # proposals execute within a minute",
  ],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const nodes = values.nodes === undefined ? undefined : intFlag("nodes", values.nodes, 4, 1, 64)
    const untilHeight = values["until-height"] === undefined ? undefined : intFlag("until-height", values["until-height"], 0, 1)
    const untilRound = values["until-round"] === undefined ? undefined : intFlag("until-round", values["until-round"], 0, 1)
    const untilJobs = values["until-jobs"] === undefined ? undefined : intFlag("until-jobs", values["until-jobs"], 0, 1)
    if (untilJobs !== undefined && (values["no-market"] === true || values["no-chain"] === true)) throw new UsageError({ reason: "--until-jobs needs the market: not with --no-market or --no-chain" })
    if (untilRound !== undefined && values["no-training"] === true) throw new UsageError({ reason: "--until-round and --no-training exclude each other" })
    const training = await parseTrainingFlags(values)
    const task = parseTask(values.task)
    if (task === "lm" && untilJobs !== undefined) throw new UsageError({ reason: "--until-jobs needs the market, which --task lm runs without (it sells MNIST inference)" })
    if (values.lm === true && values["no-chain"] === true) throw new UsageError({ reason: "--lm needs a chain (the stages' escrow is on its ledger): not with --no-chain" })
    if (values["lm-stages"] !== undefined && values.lm !== true) throw new UsageError({ reason: "--lm-stages goes with --lm" })
    const lmStages = values["lm-stages"] === undefined ? undefined : intFlag("lm-stages", values["lm-stages"], 2, 1, 64)
    if (values.rpc !== undefined && values["no-chain"] === true) throw new UsageError({ reason: "--rpc and --no-chain exclude each other" })
    if (values.rpc !== undefined && !/^https?:\/\/./.test(values.rpc)) throw new InputError({ reason: `--rpc must be an http(s) URL, got "${values.rpc}"` })
    const all = Object.fromEntries((values.param ?? []).map(parseParam))
    // The governance periods go to the devnet's Constitution, whose floors are seconds (not the genesis's 1 h).
    const { DEVNET_CONSTITUTION, lowers, withValues } = await import("../contracts/deploy/constitution-profile.ts")
    const governance = Object.fromEntries(Object.entries(all).filter(([name]) => lowers(DEVNET_CONSTITUTION, name)))
    const params = Object.fromEntries(Object.entries(all).filter(([name]) => !lowers(DEVNET_CONSTITUTION, name)))
    try {
      withValues(DEVNET_CONSTITUTION, governance)
    } catch (e) {
      throw new InputError({ reason: `--param: ${(e as Error).message}` })
    }
    const { resolveParams } = await import("../runtime/core/params.ts")
    const checkedFlags = resolveParams(params)
    if (checkedFlags._tag === "Failure") throw new InputError({ reason: `--param: ${checkedFlags.failure.message}` })

    const temporary = values.dir === undefined
    const useTui = values.headless !== true && io === processIo && process.stdout.isTTY === true && process.stdin.isTTY === true
    // The TUI opens first and shows what the start is doing: loading the node, the chain and the
    // contracts, then the nodes connecting (a minute on a small machine), instead of a blank screen.
    const tuiStart = useTui ? await import("../tui/startup.ts") : undefined
    const startup = tuiStart?.openStartupTui({
      self: "node0", // createDevnetDirs names node i "node<i>"
      title: "dai devnet",
      // POST /stake without a validator bonds the node's account as a contributor (a trainer's bond).
      stakeInto: "node0's contributor pool (a trainer bond)",
      onEarlyQuit: () => io.out("quit: the network is still starting; it stops as soon as it is up…"),
    })
    const log = (line: string) => (startup === undefined ? io.out(line) : startup.phase(line))
    startup?.phase("loading the node runtime (libp2p, ethers, the Hardhat chain)")
    const { DEVNET_PARAMS, startDevnet } = await import("../runtime/node/devnet.ts")
    const overrides: Record<string, string> = { ...DEVNET_PARAMS, ...(task === "lm" ? LM_TASK_PARAMS : {}), ...params }
    const checked = resolveParams(overrides)
    if (checked._tag === "Failure") {
      startup?.tui.destroy()
      throw new InputError({ reason: `--param: ${checked.failure.message}` })
    }
    const dir = values.dir ?? mkdtempSync(join(tmpdir(), "dai-devnet-"))

    let devnet: Awaited<ReturnType<typeof startDevnet>>
    try {
      devnet = await startDevnet({
        dir,
        ...(nodes === undefined ? {} : { nodes }),
        params: overrides,
        governance,
        chain: values["no-chain"] === true ? { kind: "none" } : values.rpc !== undefined ? { kind: "rpc", url: values.rpc } : { kind: "in-process" },
        onFailure: (cause) => io.err(`dai devnet: a node effect failed: ${String(cause)}`),
        log,
        training,
        market: values["no-market"] !== true && task !== "lm",
        ...(values.lm === true ? { lm: lmStages === undefined ? {} : { stages: lmStages } } : {}),
      })
    } catch (e) {
      startup?.tui.destroy()
      io.err(`dai devnet: ${(e as Error).message}`)
      if (temporary) rmSync(dir, { recursive: true, force: true })
      return 1
    }
    const node0 = devnet.nodes[0]!
    const tokenFile = resolvePath(node0.dataDir, node0.config.api.tokenFile)
    if (!useTui) {
      io.out(`data dirs in ${devnet.dir}${temporary ? " (temporary)" : ""}; node0 API ${node0.apiServer === undefined ? "off" : `${node0.apiServer.url} (token in ${tokenFile})`}`)
    }
    const chatWith = devnet.lm === undefined || node0.apiServer === undefined ? undefined : `npx dai chat --devnet-dir ${devnet.dir}`
    if (!useTui && chatWith !== undefined) io.out(`chat with it: ${chatWith}   (or: npx dai chat --api ${node0.apiServer!.url} --token-file ${tokenFile})`)

    const { marketLine, marketProgress } = await import("./progress.ts")
    const market = marketProgress()
    const generations = generationProgress()
    const code = await new Promise<number>((resolve) => {
      const unsubscribe: Array<() => void> = []
      let done = false
      const finish = (reason: string, exitCode = 0) => {
        if (done) return
        done = true
        for (const u of unsubscribe) u()
        tui?.destroy()
        io.out(`${reason}: stopping ${devnet.nodes.length} nodes…`)
        // The market as node0's ledger holds it now (what its last snapshot said, if the ledger does not answer).
        const summary = devnet.market
          ? Promise.resolve(node0.api.market()).then((t) => ({ settled: t.jobs.settled, units: t.paidUnits, feeBurnt: t.feeBurnt, feeToStakers: t.feeToStakers }), () => market.last())
          : Promise.resolve(undefined)
        summary.then((m) => {
          if (m !== undefined) io.out(`${marketLine(m)} (at stop)`)
        }).then(() => devnet.close()).then(
          () => {
            io.out(`devnet stopped at height ${Math.min(...devnet.nodes.map((n) => n.node.app.height))}${temporary ? "" : resumeHint(devnet.dir, devnet.chain?.network)}`)
            resolve(exitCode)
          },
          (e) => {
            io.err(`dai devnet: shutdown failed: ${(e as Error).message}`)
            resolve(1)
          },
        )
      }
      const reached = () =>
        (untilHeight !== undefined || untilRound !== undefined || untilJobs !== undefined)
        && (untilHeight === undefined || devnet.nodes.every((n) => n.node.app.height >= untilHeight))
        && (untilRound === undefined || (devnet.nodes.every((n) => n.node.app.rounds().size >= untilRound) && roundsPrinted()))
        && (untilJobs === undefined || (market.last()?.settled ?? 0) >= untilJobs)
      // node0's line of its last committed round is printed before the stop: the block that commits a round
      // is announced before training reports it, and node0 may be the last node to execute it.
      const startRound = node0.node.app.lastRound
      let reportedRound = 0
      const roundsPrinted = () => node0.node.app.lastRound <= Math.max(startRound, reportedRound)
      const goal = [
        untilHeight === undefined ? "" : `height ${untilHeight}`, untilRound === undefined ? "" : `${untilRound} training round(s)`,
        untilJobs === undefined ? "" : `${untilJobs} settled job(s)`,
      ].filter((x) => x !== "").join(" and ")
      let tui: import("../tui/app.ts").Tui | undefined
      if (startup !== undefined) {
        tui = startup.tui
        startup.started({
          onStake: async (amount) => node0.api.stake({ amount: amount.toString() }),
          onVote: async (id, choice) => node0.api.vote({ proposal: Number(id), support: choice === "yes" ? "for" : choice === "no" ? "against" : "abstain" }),
          onPropose: async (name, value) => node0.api.propose({ action: { kind: "param", name, value } }),
          onExecute: async (id) => node0.api.execute(Number(id)),
          onQuit: () => finish("quit"),
          status: () => `height ${node0.node.app.height} peers ${node0.transport.node.getPeers().length}`,
          info: node0.apiServer === undefined ? [["API", "off"]] : [["API", node0.apiServer.url], ["API token", tokenFile], ...(chatWith === undefined ? [] : [["Chat", chatWith] as const])],
        })
        // A resumed devnet's chain holds rounds no node reports again: the chart starts with them.
        for (const e of tuiStart!.restoredRounds(node0.name, node0.node.app.rounds().values(), Date.now())) tui.push(e)
        unsubscribe.push(node0.telemetry.subscribe((e) => tui?.push(e), { replay: true }))
        // node0 generates; the stages are served by node1..: their reports go to the LM screen (screen 7) as the devnet's, naming their node.
        for (const n of devnet.nodes.slice(1)) {
          if (n.lm === undefined || devnet.lm === undefined) continue
          unsubscribe.push(n.telemetry.subscribe((e) => {
            if (e.kind === "lm.stage.stats") tui?.push({ ...e, node: node0.name, data: { ...e.data, server: n.name } })
          }))
        }
        if (startup.quitRequested()) finish("quit")
      }
      void import("./progress.ts").then(({ committedLine, stateLine, trainingLine, WARNINGS }) => {
        for (const n of devnet.nodes) {
          unsubscribe.push(n.telemetry.subscribe((e) => {
            if (!useTui && n === node0 && e.kind === "block.committed") io.out(committedLine(e, n.transport.node.getPeers().length))
            if (n === node0 && e.kind === "training.round.completed" && typeof e.data["round"] === "number") reportedRound = Math.max(reportedRound, e.data["round"])
            const line = n === node0 ? trainingLine(e) ?? stateLine(e) ?? market.line(e) ?? generations.line(e) : undefined
            if (!useTui && line !== undefined) io.out(line)
            const warn = WARNINGS[e.kind]
            if (!useTui && warn !== undefined) io.err(`${e.node} ${warn(e.data)}`)
            if ((e.kind === "block.committed" || (n === node0 && (e.kind === "market" || e.kind === "training.round.completed"))) && reached()) finish(`${goal} reached`)
          }))
        }
      })
      // A node whose consensus halted cannot follow the others: stop the devnet and say where it broke.
      for (const n of devnet.nodes) {
        void n.halted.then((reason) => {
          if (done) return
          io.err(`dai devnet: ${n.name}: ${reason}`)
          finish(`${n.name} halted`, 1)
        })
      }
      const onSignal = (signal: NodeJS.Signals) => finish(signal)
      process.on("SIGINT", onSignal)
      process.on("SIGTERM", onSignal)
      unsubscribe.push(() => {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
      })
    })
    if (temporary) rmSync(dir, { recursive: true, force: true })
    return code
  },
})

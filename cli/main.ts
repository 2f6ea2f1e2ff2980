/**
 * Dispatch of `dai` subcommands (`dai sim run` is group `sim`, command `run`). The runtime's own
 * commands are here; other groups (the simulator's) are handed in by the composition root, dai.ts,
 * so nothing in runtime/ depends on sim/.
 */
import { readFileSync } from "node:fs"
import { BAD_INPUT_EXIT, CLOSED_PIPE_EXIT, GLOBAL_FLAGS, isClosedPipe, processIo, runCommand, usageOf, type Command, type CommandGroup, type Io } from "./command.ts"
import { completionCommand, type CommandTable } from "./completion.ts"
import { chainCommands } from "./chain.ts"
import { chatCommand } from "./chat.ts"
import { devnetCommand } from "./devnet.ts"
import { genesisCommands } from "./genesis.ts"
import { govCommands } from "./gov.ts"
import { lmCommands } from "./lm.ts"
import { jobCommands, marketCommand, providerCommands } from "./market.ts"
import { nodeCommands } from "./node.ts"
import { paramsCommand } from "./params.ts"
import { validatorCommands } from "./validator.ts"

const TOP: readonly Command[] = [paramsCommand, devnetCommand, marketCommand, chatCommand]
export const runtimeGroups: readonly CommandGroup[] = [
  { name: "chain", summary: "the EVM contracts: deploy them, write the deployment file", commands: chainCommands },
  { name: "genesis", summary: "a network's genesis for validators on separate machines: new, add-validator, show, validate, install", commands: genesisCommands },
  { name: "node", summary: "a node: create its data dir, run it", commands: nodeCommands },
  { name: "gov", summary: "governance through a running node: execute a passed proposal", commands: govCommands },
  { name: "validator", summary: "join the network on its chain through a running node: register a validator, bond a trainer", commands: validatorCommands },
  { name: "provider", summary: "the compute market as a provider, through a running node: register and announce it", commands: providerCommands },
  { name: "job", summary: "compute jobs through a running node: submit, status, list, confirm, dispute, refund", commands: jobCommands },
  { name: "lm", summary: "the language model: train it on Debian's fortunes, generate text from a checkpoint", commands: lmCommands },
]

/** The package's version, from package.json (read when asked, so `--help` of a command never pays for it). */
export const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version

/** What `dai --version` prints: the package's version and the Node.js running it. */
export const versionLine = (): string => `dai ${packageVersion()} (Node.js ${process.version})`

/** The exit codes every command shares, for `dai --help` (the README's table says the same). */
export const EXIT_CODES_HELP = [
  "exit codes:",
  "  0    done (a sim run: every expectation held; node start / devnet: stopped cleanly)",
  "  1    failed: a node could not start (one line says why) or halted; a sim run broke a correctness expectation; a swarm seed failed",
  `  ${BAD_INPUT_EXIT}    bad command line (usage printed) or a bad file or value (one line naming it)`,
  "  3, 4 sim run only: a liveness failure, a crash (see `dai sim run --help`)",
  "  130  interrupted: Ctrl-C during a sweep or swarm, or a second one while a node shuts down",
  `  ${CLOSED_PIPE_EXIT}  the reader of the output went away (\`dai params | head\`): nothing more is printed`,
]

/** Every command of `dai` over the given groups: the top-level ones (with `completion`, which reads this table) and the groups. */
export const commandTable = (groups: readonly CommandGroup[]): CommandTable => {
  const top: Command[] = [...TOP]
  const table: CommandTable = { top, groups }
  top.push(completionCommand(() => table))
  return table
}

/** The `dai` command over the given groups. */
export const makeMain = (GROUPS: readonly CommandGroup[]) => {
const { top: TOP_COMMANDS } = commandTable(GROUPS)
const overview = (): string => {
  const lines = ["usage: dai <command> [options]", "", "commands:"]
  const entries: Array<[string, string]> = [
    ...TOP_COMMANDS.map((c): [string, string] => [c.name, c.summary]),
    ...GROUPS.flatMap((g) => g.commands.map((c): [string, string] => [`${g.name} ${c.name}`, c.summary])),
  ]
  const width = Math.max(...entries.map(([n]) => n.length))
  for (const [name, summary] of entries) lines.push(`  ${name.padEnd(width)}  ${summary}`)
  const flags = GLOBAL_FLAGS.map((f) => `-${f.short}, --${f.long}`)
  lines.push("", "options:", ...GLOBAL_FLAGS.map((f, i) => `  ${flags[i]!.padEnd(Math.max(...flags.map((x) => x.length)))}  ${f.summary}`), "")
  lines.push(...EXIT_CODES_HELP)
  lines.push("", "Run `dai <command> --help` for a command's options.", versionLine())
  return lines.join("\n")
}

/** Route the arguments to a command; returns the exit code. */
const dispatch = async (argv: readonly string[], io: Io): Promise<number> => {
  const [first, ...rest] = argv
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    io.out(overview())
    return first === undefined ? 2 : 0
  }
  if (first === "--version" || first === "-V") {
    io.out(versionLine())
    return 0
  }
  const top = TOP_COMMANDS.find((c) => c.name === first)
  if (top !== undefined) return runCommand("dai", top, rest, io)
  const group = GROUPS.find((g) => g.name === first)
  if (group !== undefined) {
    const [sub, ...args] = rest
    if (sub === undefined || sub === "--help" || sub === "-h") {
      io.out([`usage: dai ${group.name} <command> [options]`, "", ...group.commands.map((c) => usageOf(`dai ${group.name}`, c).split("\n")[0]!)].join("\n"))
      return sub === undefined ? 2 : 0
    }
    const command = group.commands.find((c) => c.name === sub)
    if (command !== undefined) return runCommand(`dai ${group.name}`, command, args, io)
    io.err(`dai ${group.name}: unknown command "${sub}"\n`)
    io.out(overview())
    return 2
  }
  io.err(`dai: unknown command "${first}"\n`)
  io.err(overview())
  return 2
}

/** Run `dai` with the given arguments; returns the exit code (a closed pipe outside a command, too, ends quietly). */
return async (argv: readonly string[], io: Io = processIo): Promise<number> => {
  try {
    return await dispatch(argv, io)
  } catch (e) {
    if (isClosedPipe(e)) return CLOSED_PIPE_EXIT
    throw e
  }
}
}

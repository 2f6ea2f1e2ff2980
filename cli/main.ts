/**
 * Dispatch of `dai` subcommands (`dai sim run` is group `sim`, command `run`). The runtime's own
 * commands are here; other groups (the simulator's) are handed in by the composition root, dai.ts,
 * so nothing in runtime/ depends on sim/.
 */
import { processIo, runCommand, usageOf, type Command, type CommandGroup, type Io } from "./command.ts"
import { chainCommands } from "./chain.ts"
import { devnetCommand } from "./devnet.ts"
import { nodeCommands } from "./node.ts"
import { paramsCommand } from "./params.ts"

const TOP: readonly Command[] = [paramsCommand, devnetCommand]
export const runtimeGroups: readonly CommandGroup[] = [
  { name: "chain", summary: "the EVM contracts: deploy them, write the deployment file", commands: chainCommands },
  { name: "node", summary: "a node: create its data dir, run it", commands: nodeCommands },
]

/** The `dai` command over the given groups. */
export const makeMain = (GROUPS: readonly CommandGroup[]) => {
const overview = (): string => {
  const lines = ["usage: dai <command> [options]", "", "commands:"]
  const entries: Array<[string, string]> = [
    ...TOP.map((c): [string, string] => [c.name, c.summary]),
    ...GROUPS.flatMap((g) => g.commands.map((c): [string, string] => [`${g.name} ${c.name}`, c.summary])),
  ]
  const width = Math.max(...entries.map(([n]) => n.length))
  for (const [name, summary] of entries) lines.push(`  ${name.padEnd(width)}  ${summary}`)
  lines.push("", "Run `dai <command> --help` for a command's options.")
  return lines.join("\n")
}

/** Run `dai` with the given arguments; returns the exit code. */
return async (argv: readonly string[], io: Io = processIo): Promise<number> => {
  const [first, ...rest] = argv
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    io.out(overview())
    return first === undefined ? 2 : 0
  }
  const top = TOP.find((c) => c.name === first)
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
}

/**
 * A tiny command framework over `node:util` parseArgs: strict flags, `--help` everywhere, usage on
 * bad input and exit code 2, so every `dai` subcommand fails the same clear way.
 */
import { parseArgs, type ParseArgsConfig } from "node:util"

export type Options = NonNullable<ParseArgsConfig["options"]>

/** `dai <group> <command>`: a family of subcommands. */
export interface CommandGroup {
  readonly name: string
  readonly summary: string
  readonly commands: readonly Command[]
}

export interface Command<O extends Options = Options> {
  readonly name: string
  readonly summary: string
  /** Positional arguments, as shown in usage (`FILE`, `[TRACE]`). */
  readonly args?: string
  readonly options: O
  /** One line per option: flag → description. */
  readonly help: Readonly<Record<string, string>>
  readonly examples?: readonly string[]
  run(values: ParsedValues<O>, positionals: readonly string[], io: Io): Promise<number>
}

type ParsedValues<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : O[K] extends { multiple: true } ? string[] : string
}

/** Where a command writes; tests pass their own. */
export interface Io {
  out(text: string): void
  err(text: string): void
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
}

/** A problem with what the user typed: printed with usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError"
}

export const defineCommand = <O extends Options>(command: Command<O>): Command<Options> => command as unknown as Command<Options>

export const usageOf = (prefix: string, command: Command): string => {
  const lines = [`usage: ${prefix} ${command.name}${command.args ? ` ${command.args}` : ""}${Object.keys(command.options).length > 0 ? " [options]" : ""}`, "", command.summary]
  const flags = Object.entries(command.help)
  if (flags.length > 0) {
    lines.push("", "options:")
    const width = Math.max(...flags.map(([f]) => f.length))
    for (const [flag, text] of flags) lines.push(`  ${flag.padEnd(width)}  ${text}`)
  }
  lines.push(`  ${"--help".padEnd(Math.max(6, ...flags.map(([f]) => f.length)))}  show this help`)
  if (command.examples && command.examples.length > 0) lines.push("", "examples:", ...command.examples.map((e) => `  ${e}`))
  return lines.join("\n")
}

/** Parse and run one command; returns the exit code. */
export const runCommand = async (prefix: string, command: Command, argv: readonly string[], io: Io): Promise<number> => {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    })
  } catch (e) {
    io.err(`${prefix} ${command.name}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, "")}\n`)
    io.err(usageOf(prefix, command))
    return 2
  }
  if (parsed.values.help === true) {
    io.out(usageOf(prefix, command))
    return 0
  }
  try {
    return await command.run(parsed.values as never, parsed.positionals, io)
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${prefix} ${command.name}: ${e.message}\n`)
      io.err(usageOf(prefix, command))
      return 2
    }
    throw e
  }
}

/** Parse a flag as a non-negative safe integer, or throw a UsageError naming the flag. */
export const intFlag = (flag: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${value}"`)
  }
  return n
}

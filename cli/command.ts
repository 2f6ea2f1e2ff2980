/**
 * A tiny command framework over `node:util` parseArgs: strict flags, `--help` everywhere, usage on
 * a malformed command line and one line on a bad value, both exit code 2, and a quiet exit on a
 * closed pipe, so every `dai` subcommand fails the same clear way.
 */
import { parseArgs, type ParseArgsConfig } from "node:util"
import { Schema } from "effect"

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
  /** The command's exit codes, when it has more to say than `dai --help`'s table (shown in its usage). */
  readonly exits?: string
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

/**
 * Exit code when the reader of stdout or stderr went away (`dai params | head`): 128 + SIGPIPE, what a
 * shell reports for a program a closed pipe stopped, so `set -o pipefail` still sees the output was cut.
 */
export const CLOSED_PIPE_EXIT = 141

/** Whether an error is a write to a pipe whose reader has gone. */
export const isClosedPipe = (e: unknown): boolean => typeof e === "object" && e !== null && (e as { code?: unknown }).code === "EPIPE"

const closedPipe = (): Error => Object.assign(new Error("write EPIPE"), { code: "EPIPE" })

/**
 * A write to a stdio stream. Once a write failed with EPIPE, Node has destroyed the stream: throw
 * instead of writing on, so a long listing stops at once and `runCommand` exits quietly.
 */
const writeTo = (stream: NodeJS.WriteStream, text: string): void => {
  if (stream.destroyed) throw closedPipe()
  stream.write(text.endsWith("\n") ? text : `${text}\n`)
}

export const processIo: Io = {
  out: (text) => writeTo(process.stdout, text),
  err: (text) => writeTo(process.stderr, text),
}

/** A malformed command line (an unknown flag, a missing or extra argument, flags that exclude each other): printed with usage, exit code 2. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** A bad value on a well-formed command line (a file that cannot be read or parsed, a parameter out of its bounds): one line, no usage, exit code 2. */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** The flags of `dai` itself (before any command), as its overview and shell completion list them. */
export const GLOBAL_FLAGS: ReadonlyArray<{ readonly long: string; readonly short: string; readonly summary: string }> = [
  { long: "help", short: "h", summary: "this overview" },
  { long: "version", short: "V", summary: "print the version of dai and of Node.js" },
]

/** Exit code of a usage or input error. */
export const BAD_INPUT_EXIT = 2

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
  if (command.exits !== undefined) lines.push("", `exit codes: ${command.exits}`)
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
    return BAD_INPUT_EXIT
  }
  if (parsed.values.help === true) {
    io.out(usageOf(prefix, command))
    return 0
  }
  try {
    return await command.run(parsed.values as never, parsed.positionals, io)
  } catch (e) {
    if (isClosedPipe(e)) return CLOSED_PIPE_EXIT
    if (e instanceof InputError) {
      io.err(`${prefix} ${command.name}: ${e.message}`)
      return BAD_INPUT_EXIT
    }
    if (e instanceof UsageError) {
      io.err(`${prefix} ${command.name}: ${e.message}\n`)
      io.err(usageOf(prefix, command))
      return BAD_INPUT_EXIT
    }
    throw e
  }
}

/** Parse a flag as a non-negative safe integer, or throw an InputError naming the flag and its range. */
export const intFlag = (flag: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError({ reason: `--${flag} must be a whole number from ${min} to ${max}, got "${value}"` })
  }
  return n
}

/** `name=value` of a `--param` flag, or a UsageError showing the form. */
export const parseParam = (raw: string): [string, string] => {
  const eq = raw.indexOf("=")
  if (eq <= 0) throw new UsageError({ reason: `--param must be name=value (e.g. consensus.timeoutCommit=500ms), got "${raw}"` })
  return [raw.slice(0, eq), raw.slice(eq + 1)]
}

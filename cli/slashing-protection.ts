/**
 * `dai node slashing-protection export|import`: move a validator's signing record between data dirs
 * in the interchange format of docs/slashing-protection.md (EIP-3076 with heights, rounds and steps),
 * so the validator, started elsewhere, cannot sign what it signed here differently.
 *
 * Both need the node stopped: its store is held with an exclusive lock while it runs, so opening it
 * here fails, and that is reported as "stop the node first". Exit codes: 0 done, 1 the data dir or
 * its store cannot be used, 2 a usage error or a file that is invalid or refused (nothing imported).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Result, Schema } from "effect"
import { defineCommand, UsageError, type Command, type Io } from "./command.ts"
import type { NodeIdentity } from "../runtime/actors/protection/interchange.ts"

/** A failure with its exit code and the line that explains it. */
class Failed extends Schema.TaggedError<Failed>()("SlashingProtectionFailed", {
  code: Schema.Number,
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** The data dir's validator and chain, and where its store is; nothing is unlocked or opened. */
const readIdentity = async (dataDir: string): Promise<{ identity: NodeIdentity; storePath: string }> => {
  const [{ CONFIG_FILE, readConfig, resolvePath }, { readGenesis }, { keystoreAddress }, { genesisHashOf }] = await Promise.all([
    import("../runtime/node/config.ts"), import("../runtime/node/genesis-file.ts"), import("../runtime/adapters/keystore.ts"),
    import("../runtime/actors/protection/interchange.ts"),
  ])
  const config = readConfig(join(dataDir, CONFIG_FILE))
  if (Result.isFailure(config)) throw new Failed({ code: 1, reason: config.failure.message })
  const genesisPath = resolvePath(dataDir, config.success.paths.genesis)
  const genesis = readGenesis(genesisPath)
  if (Result.isFailure(genesis)) throw new Failed({ code: 1, reason: genesis.failure.message })
  const keystorePath = resolvePath(dataDir, config.success.paths.keystore)
  let address: string | undefined
  try {
    address = keystoreAddress(readFileSync(keystorePath, "utf8"))
  } catch (e) {
    throw new Failed({ code: 1, reason: `${keystorePath}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  if (address === undefined) throw new Failed({ code: 1, reason: `${keystorePath}: not an encrypted JSON wallet with an address` })
  const genesisHash = genesisHashOf(JSON.parse(readFileSync(genesisPath, "utf8")))
  return { identity: { chainId: genesis.success.chainId, genesisHash, address }, storePath: resolvePath(dataDir, config.success.paths.store) }
}

/** Run `use` on the data dir's store, open for that time only (it fails while the node runs). */
const withStore = async <A>(storePath: string, use: (store: import("../runtime/services/store.ts").Store["Service"]) => Promise<A>): Promise<A> => {
  const { openSqliteStore } = await import("../runtime/adapters/sqlite-store.ts")
  const opened = await Effect.runPromise(Effect.result(openSqliteStore(storePath)))
  if (Result.isFailure(opened)) {
    const reason = opened.failure.reason
    throw new Failed({ code: 1, reason: /locked|busy/i.test(reason) ? `${storePath}: the store is in use (is the node running?); stop the node first` : `${storePath}: cannot open the store (${reason})` })
  }
  try {
    return await use(opened.success.store)
  } finally {
    await Effect.runPromise(Effect.ignore(opened.success.close))
  }
}

const exportRecord = async (dataDir: string, out: string | undefined, io: Io): Promise<number> => {
  const { describeMark, encodeInterchange, exportInterchange } = await import("../runtime/actors/protection/interchange.ts")
  const { readProtection } = await import("../runtime/actors/protection/slashing-protection.ts")
  const { identity, storePath } = await readIdentity(dataDir)
  // No store yet: the node never ran, so it signed nothing (and opening would create one).
  const record = existsSync(storePath)
    ? await withStore(storePath, (store) => Effect.runPromise(Effect.result(readProtection(store)))).then((r) => {
        if (Result.isFailure(r)) throw new Failed({ code: 1, reason: `${storePath}: cannot read the slashing-protection record (${r.failure.reason})` })
        return r.success
      })
    : { mark: undefined, atMarkHeight: [] }
  const text = `${JSON.stringify(encodeInterchange(exportInterchange(identity, record)), null, 2)}\n`
  const summary = `slashing protection of validator ${identity.address} (chain id ${identity.chainId}): last signed ${describeMark(record.mark)}`
  if (out === undefined) {
    io.out(text)
    io.err(`exported ${summary}`)
  } else {
    try {
      writeFileSync(out, text)
    } catch (e) {
      throw new Failed({ code: 1, reason: `${out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
    }
    io.out(`exported ${summary} to ${out}`)
  }
  return 0
}

const importRecord = async (dataDir: string, file: string, io: Io): Promise<number> => {
  const { describeMark, parseInterchange, planImport } = await import("../runtime/actors/protection/interchange.ts")
  const { readProtection, writeProtection } = await import("../runtime/actors/protection/slashing-protection.ts")
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    throw new Failed({ code: 2, reason: `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  const parsed = parseInterchange(text, file)
  if (Result.isFailure(parsed)) throw new Failed({ code: 2, reason: parsed.failure.message })
  const { identity, storePath } = await readIdentity(dataDir)
  return withStore(storePath, async (store) => {
    const current = await Effect.runPromise(Effect.result(readProtection(store)))
    if (Result.isFailure(current)) throw new Failed({ code: 1, reason: `${storePath}: cannot read the slashing-protection record (${current.failure.reason})` })
    const plan = planImport(parsed.success, file, identity, current.success)
    if (Result.isFailure(plan)) throw new Failed({ code: 2, reason: plan.failure.message })
    const { next, changed, skipped } = plan.success
    if (skipped.length > 0) io.err(`skipped the records of other validators: ${skipped.join(", ")}`)
    if (!changed) {
      io.out(`nothing new in ${file}: ${dataDir} already covers it (last signed ${describeMark(current.success.mark)})`)
      return 0
    }
    const written = await Effect.runPromise(Effect.result(writeProtection(store, next)))
    if (Result.isFailure(written)) throw new Failed({ code: 1, reason: `${storePath}: cannot write the slashing-protection record (${written.failure.reason}); nothing imported` })
    io.out(`imported ${file} into ${dataDir}: validator ${identity.address} last signed ${describeMark(next.mark)} (was ${describeMark(current.success.mark)})`)
    return 0
  })
}

/** The `dai node slashing-protection` command; `defaultDataDir` is the node commands' default. */
export const slashingProtectionCommand = (defaultDataDir: string): Command =>
  defineCommand({
    name: "slashing-protection",
    args: "export|import [FILE]",
    summary: "Move a validator's signing record between data dirs: export it as interchange JSON (docs/slashing-protection.md), or import one (merged, never lowered). Stop the node first.",
    options: { "data-dir": { type: "string" }, dir: { type: "string" }, out: { type: "string" } },
    help: {
      "--data-dir DIR": `the node's data dir (default ${defaultDataDir}); --dir is the same`,
      "--out FILE": "export: write the JSON to FILE (default: standard output)",
    },
    examples: [
      "dai node slashing-protection export --data-dir ~/.dai/node --out protection.json",
      "dai node slashing-protection import --data-dir /srv/dai/node protection.json",
    ],
    exits: "0 done; 1 the data dir or its store cannot be used (the node is running, not a data dir, a failed write); 2 a bad command line, or a file that is invalid or refused (nothing imported)",
    run: async (values, positionals, io) => {
      const [action, ...rest] = positionals
      if (values["data-dir"] !== undefined && values.dir !== undefined) throw new UsageError({ reason: "give --data-dir or --dir, not both" })
      const dataDir = values["data-dir"] ?? values.dir ?? defaultDataDir
      try {
        if (action === "export") {
          if (rest.length > 0) throw new UsageError({ reason: `unexpected argument "${rest[0]}" (export writes to --out FILE, or to standard output)` })
          return await exportRecord(dataDir, values.out, io)
        }
        if (action === "import") {
          if (values.out !== undefined) throw new UsageError({ reason: "--out goes with export" })
          if (rest.length !== 1) throw new UsageError({ reason: rest.length === 0 ? "import needs the FILE to import" : `unexpected argument "${rest[1]}"` })
          return await importRecord(dataDir, rest[0]!, io)
        }
        throw new UsageError({ reason: action === undefined ? "say export or import" : `unknown action "${action}" (export or import)` })
      } catch (e) {
        if (!(e instanceof Failed)) throw e
        io.err(`dai node slashing-protection ${action}: ${e.message}`)
        return e.code
      }
    },
  })

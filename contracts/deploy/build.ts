/**
 * The contracts' build, for everything that deploys them (`dai chain deploy`, the devnet, the tests):
 * Hardhat compiles incrementally into artifacts/, and a lock directory serializes builds across
 * processes (vitest runs test files in parallel processes; two nodes may start at once), since two
 * concurrent builds would write the same artifact files. Hardhat is loaded on first use, so importing
 * this module (or deploy.ts, for its constants) does not load it.
 */
import { mkdir, rm, stat } from "node:fs/promises"
import type { NetworkConnectionParams } from "hardhat/types/network"

const CACHE = new URL("../../cache/", import.meta.url).pathname
const LOCK = new URL("../../cache/.dai-build-lock", import.meta.url).pathname
/** A lock older than this is left by a killed build and is broken. */
const STALE_LOCK_MS = 120_000
const RETRY_MS = 200
const MAX_TRIES = 1500
let built: Promise<void> | undefined

/** Compile the contracts (cached by Hardhat; serialized across processes by a lock dir); once per process. */
export const ensureBuilt = (): Promise<void> => {
  built ??= (async () => {
    const { default: hre } = await import("hardhat")
    await mkdir(CACHE, { recursive: true })
    for (let i = 0; ; i++) {
      try {
        await mkdir(LOCK)
        break
      } catch {
        const s = await stat(LOCK).catch(() => undefined)
        if (s !== undefined && Date.now() - s.mtimeMs > STALE_LOCK_MS) await rm(LOCK, { recursive: true, force: true })
        await new Promise((r) => setTimeout(r, RETRY_MS))
        if (i > MAX_TRIES) throw new Error(`could not take the build lock ${LOCK}; remove it if no build is running`)
      }
    }
    try {
      await hre.tasks.getTask("build").run({ quiet: true, noTests: true })
    } finally {
      await rm(LOCK, { recursive: true, force: true })
    }
  })()
  return built
}

/** A fresh Hardhat in-process chain with the contracts built (options as Hardhat's `network.connect`, e.g. `{ override: { initialDate } }`); the caller closes it. */
export const connectInProcess = async (options?: NetworkConnectionParams) => {
  await ensureBuilt()
  const { network } = await import("hardhat")
  return network.connect(options)
}

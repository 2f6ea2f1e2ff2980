/**
 * Test helpers for networks of real `dai node` processes on loopback (the hand-made network and the
 * market failover tests): a Hardhat JSON-RPC chain served in the test's process, free ports, `dai node
 * start` children that are all killed at the end, and reads and writes on a node's API. Imported by
 * tests only.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { ensureBuilt } from "../../contracts/deploy/build.ts"
import { freePort } from "./free-port.ts"

const BIN = new URL("../../bin/dai.ts", import.meta.url).pathname

export { freePort }

/** The network `npx hardhat node` serves (the wall clock's time, a block per transaction), on loopback, in this process. */
export const startChainServer = async (): Promise<{ readonly rpc: string; close(): Promise<void> }> => {
  const { network } = await import("hardhat")
  const server = await network.createServer("node", "127.0.0.1", await freePort())
  const { port } = await server.listen()
  return { rpc: `http://127.0.0.1:${port}`, close: () => server.close() }
}

export interface Child {
  readonly process: ChildProcess
  /** The tail of what it printed (stdout and stderr). */
  output(): string
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** The children of one test file: `start` spawns `dai node start` on a data dir, `killAll` ends every one still running. */
export const nodeProcesses = () => {
  const children = new Set<ChildProcess>()
  return {
    /** `dai node start --data-dir DIR --password-file PASSWORD …extra` in a child process. */
    start(dataDir: string, password: string, extra: readonly string[] = []): Child {
      const p = spawn(process.execPath, [BIN, "node", "start", "--data-dir", dataDir, "--password-file", password, ...extra], {
        stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DAI_PASSWORD: "" },
      })
      children.add(p)
      let text = ""
      p.stdout!.on("data", (c: Buffer) => void (text += c.toString()))
      p.stderr!.on("data", (c: Buffer) => void (text += c.toString()))
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.once("exit", (code, signal) => resolve({ code, signal })))
      return { process: p, output: () => text.slice(-3_000), exit }
    },
    killAll(): void {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
    },
  }
}

/** GET a node's API; undefined when it is not up (yet), down, or answers an error. Reads that go to a chain a loaded machine slows get a generous bound. */
export const apiGet = async <T,>(port: number, path: string): Promise<T | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(20_000) })
    return res.ok ? ((await res.json()) as T) : undefined
  } catch {
    return undefined
  }
}

/** POST to a node's API with the bearer token of its data dir; the status and the body. */
export const apiPost = async (port: number, dataDir: string, path: string, body: unknown, timeoutMs = 60_000): Promise<{ status: number; json: Record<string, unknown> }> => {
  const token = readFileSync(join(dataDir, "api-token"), "utf8").trim()
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/**
 * A test file's network of node processes on a chain: before its tests, the contracts built and the
 * JSON-RPC chain started (`onChain` gets its URL); after them, every child killed, the chain closed
 * and `root` removed. Returns the file's node processes.
 */
export const useChainAndProcesses = (root: string, onChain: (rpc: string) => void) => {
  const processes = nodeProcesses()
  let chain: { close(): Promise<void> } | undefined
  beforeAll(async () => {
    await ensureBuilt()
    const started = await startChainServer()
    chain = started
    onChain(started.rpc)
  }, 120_000)
  afterAll(async () => {
    processes.killAll()
    await chain?.close()
    rmSync(root, { recursive: true, force: true })
  })
  return processes
}

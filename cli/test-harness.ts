/**
 * Test support for the CLI's tests (never imported by the CLI itself): run `dai` in process and
 * capture what it writes, and a real node on loopback (runtime/api/test-node.ts) whose API the
 * commands talk to through `--api` and `--token-file`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { startTestNode, TEST_TOKEN, type TestNode } from "../runtime/api/test-node.ts"
import { makeMain, runtimeGroups } from "./main.ts"

const main = makeMain(runtimeGroups)

/** What one `dai` command did: its exit code, and what it wrote to out and to err (a line each). */
export interface DaiRun {
  readonly code: number
  readonly out: string
  readonly err: string
}

/** Run `dai argv…` in process (the runtime command groups), capturing its output. */
export const runDai = async (...argv: string[]): Promise<DaiRun> => {
  let out = ""
  let err = ""
  const code = await main(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}

/** The node of a test file, and how its commands reach it. */
export interface CliNode {
  /** The running node (inside a test: it starts before the file's tests). */
  readonly t: () => TestNode
  /** A fresh temp dir for the file, removed after its tests. */
  readonly dir: string
  /** The API token file in `dir`. */
  readonly tokenFile: string
  /** The flags that point a command at the node: `--api URL --token-file FILE`. */
  readonly api: () => string[]
}

/**
 * A test node for the calling file's tests: a temp dir named `prefix`… with the API token file,
 * the node started (with `options`) before the tests and closed, the dir removed, after them.
 */
export const cliNode = (prefix: string, options?: Parameters<typeof startTestNode>[0]): CliNode => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const tokenFile = join(dir, "api-token")
  let node: TestNode | undefined
  const t = (): TestNode => {
    if (node === undefined) throw new Error("the test node is not running: use it inside a test, after beforeAll")
    return node
  }
  beforeAll(async () => {
    writeFileSync(tokenFile, `${TEST_TOKEN}\n`)
    node = await startTestNode(options)
  }, 60_000)
  afterAll(async () => {
    await node?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { t, dir, tokenFile, api: () => ["--api", t().server.url, "--token-file", tokenFile] }
}

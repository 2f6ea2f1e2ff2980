/** `dai node init` and `dai node start` as an operator meets them: the init summary, and a start that cannot listen. */
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, type AddressInfo, type Server } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runCaptured as dai } from "./dai.ts"

const root = join(import.meta.dirname, "..")
const dir = mkdtempSync(join(tmpdir(), "dai-node-cli-"))
const password = join(dir, "password")
writeFileSync(password, "a test password, long enough\n")
/** A cheap keystore: these keys protect nothing. */
const init = (name: string, ...flags: string[]) =>
  dai("node", "init", "--data-dir", join(dir, name), "--password-file", password, "--scrypt-n", "2", "--api-port", "0", ...flags)

describe("dai node init", () => {
  it("calls a genesis validator's key its validator address, and a follower's its signing address", async () => {
    const first = await init("first")
    expect(first.code, first.err).toBe(0)
    expect(first.out).toMatch(/^ {2}validator address {2}0x[0-9a-f]{40}$/m)
    expect(first.out).toMatch(/a new network with this node as its only validator/)

    const follower = await init("follower", "--genesis", join(dir, "first", "genesis.json"))
    expect(follower.code, follower.err).toBe(0)
    expect(follower.out).not.toMatch(/validator address/)
    expect(follower.out).toMatch(/^ {2}signing address {4}0x[0-9a-f]{40} \(a follower: not a genesis validator; stake to become one\)$/m)
    expect(follower.out).toMatch(/\(chain id \d+, 1 validator\)$/m)
  })

  it("refuses a genesis file that does not exist in one line (exit 2)", async () => {
    const r = await init("no-genesis", "--genesis", join(dir, "missing.json"))
    expect(r.code).toBe(2)
    expect(r.err.trimEnd().split("\n")).toHaveLength(1)
    expect(r.err).toMatch(/^dai node init: --genesis .*missing\.json/)
  })
})

describe("dai node start", () => {
  const held: Server[] = []
  afterAll(() => Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve)))))

  it("says in one line that the p2p port is in use, and exits 1", { timeout: 60_000 }, async () => {
    // A plain TCP server holds the port the node is told to listen on.
    const server = createServer()
    held.push(server)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as AddressInfo).port
    const listen = `/ip4/127.0.0.1/tcp/${port}`
    expect((await init("busy", "--listen", listen)).code).toBe(0)
    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, "bin", "dai.ts"), "node", "start", "--data-dir", join(dir, "busy"), "--password-file", password, "--no-training"], {
        cwd: root, stdio: ["ignore", "pipe", "pipe"],
      })
      let out = ""
      let err = ""
      child.stdout.setEncoding("utf8").on("data", (c: string) => void (out += c))
      child.stderr.setEncoding("utf8").on("data", (c: string) => void (err += c))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, out, err }))
    })
    expect(r.err).toBe(`dai node start: network: cannot listen on ${listen}: address in use\n`)
    expect(r.out).toBe("")
    expect(r.code).toBe(1)
  })
})

/**
 * A node on a chain deployed with the devnet constitution says so at every start: `dai chain deploy
 * --rpc … --constitution devnet` to a Hardhat node on 127.0.0.1, `dai node init --rpc --deployment`,
 * `dai chain fund` (its genesis stake), then `dai node start` in a child process registers it,
 * prints the lowered floors, read back from the chain, on stderr, and stops cleanly on SIGTERM.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { freePort } from "../runtime/node/free-port.ts"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { network } from "hardhat"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureBuilt } from "../contracts/deploy/build.ts"
import { runCaptured as dai } from "./dai.ts"

const root = join(import.meta.dirname, "..")
const dir = mkdtempSync(join(tmpdir(), "dai-node-constitution-"))
const password = join(dir, "password")
writeFileSync(password, "a test password, long enough\n")

describe("dai node start on a devnet-constitution chain", () => {
  let server: { close(): Promise<void> } | undefined
  let url: string
  beforeAll(async () => {
    await ensureBuilt()
    const s = await network.createServer("default", "127.0.0.1", await freePort())
    const { port } = await s.listen()
    url = `http://127.0.0.1:${port}`
    server = s
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("prints the lowered governance floors, read back from the chain, at start", { timeout: 120_000 }, async () => {
    const deployment = join(dir, "deployment.json")
    // The deployer holds enough to fund a one-validator network's genesis stake (300,000,000 DAI).
    const genesis = join(dir, "allocations.json")
    writeFileSync(genesis, JSON.stringify([{ address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", tokens: "600000000" }, { address: "treasury", tokens: "400000000" }]))
    const deployed = await dai("chain", "deploy", "--rpc", url, "--constitution", "devnet", "--timelock", "10s", "--out", deployment, "--genesis", genesis)
    expect(deployed.code, deployed.err).toBe(0)
    const node = join(dir, "node")
    const init = await dai("node", "init", "--data-dir", node, "--password-file", password, "--scrypt-n", "2", "--api-port", "0",
      "--listen", `/ip4/127.0.0.1/tcp/${await freePort()}`, "--rpc", url, "--deployment", deployment)
    expect(init.code, init.err).toBe(0)
    // At its first start the node registers itself on Staking and takes the Committee's snapshot 1: it needs its stake, a fee deposit and gas.
    // Unfunded, the start fails in one line naming the address, the DAI and the command that sends them.
    const unfunded = await dai("node", "start", "--data-dir", node, "--password-file", password, "--no-training", "--quiet")
    expect(unfunded.code).toBe(1)
    expect(unfunded.err).toMatch(/^dai node start: genesis validator \S+ \(0x[0-9a-f]{40}\) holds 0 DAI on the chain, needs 300,000,000 DAI to bond its genesis stake \(300,000,100 with its fee deposit\): send them with `dai chain fund --rpc http:\/\/127\.0\.0\.1:\d+ --deployment \S+deployment\.json --to \S+node --dai 300000100`\n$/)
    const funded = await dai("chain", "fund", "--rpc", url, "--deployment", deployment, "--to", node, "--dai", "300000100")
    expect(funded.code, funded.err).toBe(0)

    const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, "bin", "dai.ts"), "node", "start", "--data-dir", node, "--password-file", password, "--no-training", "--quiet"], {
        cwd: root, stdio: ["ignore", "pipe", "pipe"],
      })
      let out = ""
      let err = ""
      child.stdout.setEncoding("utf8").on("data", (c: string) => void (out += c))
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        err += c
        if (err.includes("never for a network with value at stake")) child.kill("SIGTERM")
      })
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, out, err }))
    })
    expect(r.out).toMatch(/^node \S+ started: validator 0x[0-9a-f]{40}/)
    expect(r.err).toContain("!! DEVNET CONSTITUTION: this deployment's Constitution has floors below production's (read back from the chain):")
    expect(r.err).toContain("!!   governance.timelock      floor 5s (production 1h), now 10s")
    expect(r.out).toMatch(/stopped cleanly/)
    expect(r.code).toBe(0)
  })
})

/**
 * `dai node init`'s data dir: the keystore opens with its password and only with it, the config is
 * commented and decodes strictly, secrets are mode 0600, and an existing data dir is never overwritten.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeMain, runtimeGroups } from "../../cli/main.ts"
import { decryptKey, readPassword, unlockKeystoreFile } from "../adapters/keystore.ts"
import { addressOfPrivateKey } from "../core/crypto.ts"
import { readConfig } from "./config.ts"
import { initDataDir } from "./data-dir.ts"
import { decodeGenesis, readGenesis } from "./genesis-file.ts"

const root = mkdtempSync(join(tmpdir(), "dai-init-"))
const cheap = { scryptN: 1_024 }
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.result(e))

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("dai node init", () => {
  const dir = join(root, "a")
  let address = ""

  it("creates a keystore that opens with the password, a commented config, 0600 secrets and a genesis", async () => {
    const r = await run(initDataDir({ dataDir: dir, password: "correct horse", ...cheap }))
    if (Result.isFailure(r)) throw new Error(r.failure.message)
    address = r.success.address

    const key = await run(unlockKeystoreFile(join(dir, "keystore.json"), "correct horse"))
    if (Result.isFailure(key)) throw new Error(key.failure.message)
    expect(addressOfPrivateKey(key.success)).toBe(address)

    const config = readFileSync(join(dir, "config.yaml"), "utf8")
    expect(config).toMatch(/^# dai node configuration/)
    expect(config).toMatch(/# Peers dialled at start/)
    const decoded = readConfig(join(dir, "config.yaml"))
    expect(Result.isSuccess(decoded) && decoded.success.name).toBe("a")

    for (const secret of ["api-token", "keystore.json", "peer-key"]) {
      expect(statSync(join(dir, secret)).mode & 0o777, secret).toBe(0o600)
    }
    expect(readFileSync(join(dir, "api-token"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/)

    const genesis = readGenesis(join(dir, "genesis.json"))
    if (Result.isFailure(genesis)) throw new Error(genesis.failure.message)
    expect(genesis.success.validators.map((v) => v.address)).toEqual([address])
    // A reward reserve releases rewards.annualEmission; one without an allocation is refused by name.
    expect(genesis.success.rewardReserve).toBe("reserve")
    const file = JSON.parse(readFileSync(join(dir, "genesis.json"), "utf8")) as Record<string, unknown>
    const bad = decodeGenesis({ ...file, rewardReserve: "nobody" }, "g.json")
    expect(Result.isFailure(bad) && bad.failure.message).toBe(`g.json: rewardReserve: "nobody" has no allocation to release rewards from`)
  })

  it("refuses a wrong password with a clear error", async () => {
    const r = await run(unlockKeystoreFile(join(dir, "keystore.json"), "wrong"))
    expect(Result.isFailure(r) && r.failure.message).toBe(`${join(dir, "keystore.json")}: wrong password (the keystore's MAC does not match)`)
    const garbage = await run(decryptKey("{\"hello\":1}", "x", "k.json"))
    expect(Result.isFailure(garbage) && garbage.failure.message).toMatch(/^k\.json: not an encrypted JSON wallet/)
  })

  it("refuses to overwrite an existing data dir, and leaves it as it was", async () => {
    const before = readFileSync(join(dir, "keystore.json"), "utf8")
    const r = await run(initDataDir({ dataDir: dir, password: "other", ...cheap }))
    expect(Result.isFailure(r) && r.failure.message).toMatch(/already exists and is not empty; refusing to overwrite/)
    expect(readFileSync(join(dir, "keystore.json"), "utf8")).toBe(before)
  })

  it("rejects an unknown or mistyped config key, naming the key and the file", () => {
    const path = join(root, "bad.yaml")
    const good = readFileSync(join(dir, "config.yaml"), "utf8")
    writeFileSync(path, good.replace("  bootstrap: []", "  bootstrap: []\n  bootstrapp: []"))
    const r = readConfig(path)
    expect(Result.isFailure(r) && r.failure.message).toBe(`${path}: network.bootstrapp: unknown key (check its spelling against the comments \`dai node init\` writes)`)
    writeFileSync(path, good.replace(/port: \d+/, "port: 70000"))
    const p = readConfig(path)
    expect(Result.isFailure(p) && p.failure.message).toMatch(new RegExp(`^${path}: api\\.port: `))
  })

  it("takes the password from a file, then the environment, and says what to do without either", async () => {
    const file = join(root, "pw")
    writeFileSync(file, "from-file\nignored\n")
    expect(await Effect.runPromise(readPassword({ file, env: { DAI_PASSWORD: "from-env" } }))).toBe("from-file")
    expect(await Effect.runPromise(readPassword({ env: { DAI_PASSWORD: "from-env" } }))).toBe("from-env")
    const none = await run(readPassword({ env: {} }))
    expect(Result.isFailure(none) && none.failure.message).toMatch(/no password: give --password-file FILE, set DAI_PASSWORD, or run in a terminal/)
  })

  it("the command writes the data dir and refuses a second init (exit 1)", async () => {
    const main = makeMain(runtimeGroups)
    let out = ""
    let err = ""
    const io = { out: (t: string) => void (out += `${t}\n`), err: (t: string) => void (err += `${t}\n`) }
    const pw = join(root, "pw2")
    writeFileSync(pw, "correct horse\n")
    const target = join(root, "cli")
    const args = ["node", "init", "--data-dir", target, "--password-file", pw, "--scrypt-n", "1024", "--api-port", "9999", "--listen", "/ip4/127.0.0.1/tcp/0"]
    expect(await main(args, io)).toBe(0)
    expect(out).toMatch(/validator address {2}0x[0-9a-f]{40}/)
    const config = readConfig(join(target, "config.yaml"))
    expect(Result.isSuccess(config) && [config.success.api.port, config.success.network.listen]).toEqual([9999, ["/ip4/127.0.0.1/tcp/0"]])
    expect(await main(args, io)).toBe(1)
    expect(err).toMatch(/refusing to overwrite/)
  })

  it("refuses a new keystore's password under the minimum (exit 2) and creates nothing", async () => {
    const main = makeMain(runtimeGroups)
    let err = ""
    const io = { out: () => {}, err: (t: string) => void (err += `${t}\n`) }
    const pw = join(root, "pw3")
    writeFileSync(pw, "x\n")
    const target = join(root, "weak")
    expect(await main(["node", "init", "--data-dir", target, "--password-file", pw, "--scrypt-n", "1024"], io)).toBe(2)
    expect(err).toBe(`dai node init: ${pw}: the password has 1 character; a new keystore needs at least 8\n`)
    expect(() => statSync(target)).toThrow(/ENOENT/)
  })
})

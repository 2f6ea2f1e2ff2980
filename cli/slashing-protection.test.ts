/**
 * Moving a validator: a one-validator node runs and signs, is stopped, its record is exported with
 * `dai node slashing-protection export` and imported into a fresh data dir of the same key; that
 * data dir's protection then refuses to sign anything conflicting with what the first one signed
 * (and allows the very same vote again, as EIP-3076 does). Also: export refuses while the node runs,
 * and a bad or foreign file imports nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { makeMain, runtimeGroups } from "./main.ts"
import { newPrivateKey } from "../runtime/adapters/keystore.ts"
import { openSqliteStore } from "../runtime/adapters/sqlite-store.ts"
import { addressOfPrivateKey } from "../runtime/core/crypto.ts"
import { initDataDir } from "../runtime/node/data-dir.ts"
import { equalStakeGenesis } from "../runtime/node/genesis-file.ts"
import { startNodeFromDataDir } from "../runtime/node/run-node.ts"
import { guardSigning, readProtection, type Mark, type ProtectionRecord, type SignRecord } from "../runtime/actors/protection/slashing-protection.ts"

const FAST = { "consensus.timeoutCommit": "50ms", "consensus.timeoutPropose": "1s", "consensus.timeoutPrevote": "300ms", "consensus.timeoutPrecommit": "300ms" }
const root = mkdtempSync(join(tmpdir(), "dai-protection-"))
const main = makeMain(runtimeGroups)
const dai = async (...argv: string[]) => {
  let out = ""
  let err = ""
  const code = await main(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}

/** Open a data dir's store for the time of `f` (the node must be stopped). */
const withStore = async <A>(dir: string, f: (store: Parameters<typeof readProtection>[0]) => Effect.Effect<A, unknown>): Promise<A> => {
  const s = await Effect.runPromise(openSqliteStore(join(dir, "store.db")))
  try {
    return await Effect.runPromise(f(s.store))
  } finally {
    await Effect.runPromise(s.close)
  }
}

const key = newPrivateKey()
const address = addressOfPrivateKey(key).toLowerCase()
const { genesis } = equalStakeGenesis({ chainId: 7, time: Date.now(), overrides: FAST, validators: [{ operator: "v", address }] })
const init = (name: string, chainGenesis = genesis) =>
  Effect.runPromise(initDataDir({
    dataDir: join(root, name), password: "moving day password", scryptN: 1_024, privateKey: key, genesis: { genesis: chainGenesis, overrides: FAST },
    configure: (c) => ({ ...c, network: { ...c.network, listen: ["/ip4/127.0.0.1/tcp/0"] }, api: { ...c.api, enabled: false } }),
  }))

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("moving a validator with dai node slashing-protection", () => {
  const oldDir = join(root, "old")
  const newDir = join(root, "new")
  const file = join(root, "protection.json")
  let signed: ProtectionRecord

  beforeAll(async () => {
    await init("old")
    await init("new")
    // The old machine: a one-validator network, run until it has signed a few heights.
    const scope = Scope.makeUnsafe()
    try {
      const node = await Effect.runPromise(startNodeFromDataDir({ dataDir: oldDir, password: "moving day password", api: false, training: { enabled: false } }).pipe(Scope.provide(scope)))
      await vi.waitFor(() => expect(node.node.app.height).toBeGreaterThanOrEqual(3), { timeout: 60_000, interval: 50 })
      // While it runs, its store is locked: export says to stop it instead of reading a moving record.
      const busy = await dai("node", "slashing-protection", "export", "--data-dir", oldDir)
      expect(busy.code).toBe(1)
      expect(busy.err).toMatch(/the store is in use \(is the node running\?\); stop the node first/)
      expect(busy.out).toBe("")
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    signed = await withStore(oldDir, readProtection)
  }, 120_000)

  it("exports the old record and imports it into the new data dir, which then refuses to sign it differently", async () => {
    expect(signed.mark?.height).toBeGreaterThanOrEqual(3)
    const exported = await dai("node", "slashing-protection", "export", "--dir", oldDir, "--out", file)
    expect(exported.code, exported.err).toBe(0)
    const json = JSON.parse(readFileSync(file, "utf8")) as { metadata: Record<string, string>; data: Array<{ address: string; signed: unknown[] }> }
    expect(json.metadata).toMatchObject({ interchange_format: "dai-slashing-protection", interchange_format_version: "1", chain_id: "7" })
    expect(json.data.map((d) => d.address)).toEqual([address])
    // Standard output holds the JSON alone (the summary goes to standard error).
    const toStdout = await dai("node", "slashing-protection", "export", "--data-dir", oldDir)
    expect(JSON.parse(toStdout.out)).toEqual(json)

    const imported = await dai("node", "slashing-protection", "import", "--data-dir", newDir, file)
    expect(imported.code, imported.err).toBe(0)
    expect(imported.out).toMatch(/last signed .* \(was none\)/)
    const moved = await withStore(newDir, readProtection)
    expect(moved).toEqual(signed)

    const mark = signed.mark!
    const records = signed.atMarkHeight.filter((r): r is SignRecord => r.value !== undefined)
    expect(records.length).toBeGreaterThan(0)
    const other = `0x${"e".repeat(64)}`
    await withStore(newDir, (store) =>
      Effect.gen(function* () {
        // Every vote or proposal signed at the exported height, with another value: refused.
        for (const r of records) {
          for (const value of [other, null].filter((v) => v !== r.value)) {
            expect((yield* guardSigning(store, { ...r, value })).ok, `${r.step} ${r.height}/${r.round} for ${value}`).toBe(false)
          }
        }
        // Anything below the mark: refused, whatever its value.
        for (const step of ["proposal", "prevote", "precommit"] as const) {
          expect((yield* guardSigning(store, { height: mark.height - 1, round: 0, step, value: other })).ok).toBe(false)
        }
        // The very same vote again: allowed, as a repeat.
        const last = records.at(-1)!
        expect(yield* guardSigning(store, last)).toEqual({ ok: true, repeat: true })
      }))
    // Nothing the checks did moved the record.
    expect(await withStore(newDir, readProtection)).toEqual(signed)
  })

  it("is idempotent, never lowers a newer record, and keeps the maximum", async () => {
    const again = await dai("node", "slashing-protection", "import", "--data-dir", newDir, file)
    expect(again.code, again.err).toBe(0)
    expect(again.out).toMatch(/^nothing new in /)
    // The new machine signs on; the old file imported again does not take it back.
    const next: SignRecord = { height: signed.mark!.height + 5, round: 0, step: "prevote", value: `0x${"f".repeat(64)}` }
    await withStore(newDir, (store) => guardSigning(store, next))
    const third = await dai("node", "slashing-protection", "import", "--data-dir", newDir, file)
    expect(third.code, third.err).toBe(0)
    expect((await withStore(newDir, readProtection)).mark).toEqual(next)
  })

  it("imports the minimal form: the latest mark without its value refuses every signature at its place", async () => {
    const dir = join(root, "minimal")
    await init("minimal")
    const mark = signed.mark!
    const minimal = join(root, "minimal.json")
    writeFileSync(minimal, JSON.stringify({
      metadata: { interchange_format: "dai-slashing-protection", interchange_format_version: "1", chain_id: "7" },
      data: [{ address, signed: [{ height: String(mark.height), round: String(mark.round), step: mark.step }] }],
    }))
    const r = await dai("node", "slashing-protection", "import", "--data-dir", dir, minimal)
    expect(r.code, r.err).toBe(0)
    const stored = await withStore(dir, readProtection)
    expect(stored.mark).toEqual({ height: mark.height, round: mark.round, step: mark.step } satisfies Mark)
    await withStore(dir, (store) =>
      Effect.gen(function* () {
        expect((yield* guardSigning(store, { ...mark, value: mark.value ?? null })).ok).toBe(false)
      }))
  })

  it("imports nothing from a bad file, another chain's file or another validator's file (exit 2, the key named)", async () => {
    const dir = join(root, "untouched")
    await init("untouched")
    const good = JSON.parse(readFileSync(file, "utf8")) as { metadata: Record<string, string>; data: Array<{ address: string; signed: Array<Record<string, string>> }> }
    const attempt = async (name: string, content: unknown) => {
      const path = join(root, name)
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content))
      return dai("node", "slashing-protection", "import", "--data-dir", dir, path)
    }
    const badHeight = structuredClone(good)
    badHeight.data[0]!.signed[0]!["height"] = "-1"
    const r1 = await attempt("bad.json", badHeight)
    expect([r1.code, r1.err]).toEqual([2, expect.stringMatching(/bad\.json: data\.0\.signed\.0\.height: a whole number as a decimal string/)])
    expect(r1.err).not.toMatch(/usage:/)
    const r2 = await attempt("chain.json", { ...good, metadata: { ...good.metadata, chain_id: "8" } })
    expect([r2.code, r2.err]).toEqual([2, expect.stringMatching(/records for chain id 8; this node is on chain id 7 \(nothing imported\)/)])
    const r3 = await attempt("genesis.json", { ...good, metadata: { ...good.metadata, genesis_hash: `0x${"0".repeat(64)}` } })
    expect([r3.code, r3.err]).toEqual([2, expect.stringMatching(/another network with the same chain id/)])
    const r4 = await attempt("other.json", { ...good, data: [{ ...good.data[0]!, address: `0x${"1".repeat(40)}` }] })
    expect([r4.code, r4.err]).toEqual([2, expect.stringMatching(/no records for this node's validator/)])
    const r5 = await attempt("truncated.json", readFileSync(file, "utf8").slice(0, 40))
    expect([r5.code, r5.err]).toEqual([2, expect.stringMatching(/truncated\.json: not JSON/)])
    expect((await withStore(dir, readProtection)).mark).toBeUndefined()
  })

  it("says what is wrong with the command line, with usage (exit 2)", async () => {
    for (const argv of [["frobnicate"], ["import", "--data-dir", newDir], ["export", "--data-dir", oldDir, "extra"], ["import", "--out", "x", file]]) {
      const r = await dai("node", "slashing-protection", ...argv)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err).toMatch(/usage: dai node slashing-protection export\|import \[FILE\]/)
    }
    const help = await dai("node", "slashing-protection", "--help")
    expect([help.code, help.out]).toEqual([0, expect.stringMatching(/exit codes: 0 done; 1 .*; 2 /)])
    const notADir = await dai("node", "slashing-protection", "export", "--data-dir", join(root, "nowhere"))
    expect([notADir.code, notADir.err]).toEqual([1, expect.stringMatching(/config\.yaml: cannot read it/)])
  })
})

/** The sqlite Store: the port's compliance suite, crash durability in a real process, errors. */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Exit, Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { storeSuite } from "../services/compliance/store/index.ts"
import { testSetup } from "../services/compliance/test-setup.ts"
import { makeSqliteStore, openSqliteStore, type SqliteStore } from "./sqlite-store.ts"

const root = mkdtempSync(join(tmpdir(), "dai-sqlite-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let files = 0
const freshPath = () => join(root, `s${files++}`, "store.db")
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const bytes = (s: string) => new TextEncoder().encode(s)

storeSuite("sqlite", testSetup(async (_, cleanup) => {
  const path = freshPath()
  let current: SqliteStore = await run(openSqliteStore(path))
  cleanup(() => run(current.close))
  return {
    store: current.store,
    // A restart: the file is closed and opened again by a new connection.
    reopen: async () => {
      await run(current.close)
      current = await run(openSqliteStore(path))
      return current.store
    },
  }
}))

describe("sqlite store", () => {
  it("keeps every synced write when its process is killed with SIGKILL", async () => {
    const path = freshPath()
    const adapter = pathToFileURL(join(import.meta.dirname, "sqlite-store.ts")).href
    // The child writes and syncs key after key, reporting each synced one, and an unsynced write
    // after every sync; it stops by itself only if nobody killed it within 30 s (a broken test).
    const script = `
      import { Effect } from "effect"
      import { openSqliteStore } from ${JSON.stringify(adapter)}
      setTimeout(() => process.exit(3), 30_000)
      const { store } = Effect.runSync(openSqliteStore(${JSON.stringify(path)}))
      let i = 0
      const step = () => {
        Effect.runSync(store.put("synced/" + String(i).padStart(6, "0"), new Uint8Array([i & 255])))
        Effect.runSync(store.sync)
        process.stdout.write("synced " + i + "\\n")
        Effect.runSync(store.put("unsynced/" + i, new Uint8Array([1])))
        i++
        setImmediate(step)
      }
      step()
    `
    const child = spawn(process.execPath, ["--input-type=module", "--no-warnings", "-e", script], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    let reported = -1
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)))
    const killed = new Promise<void>((resolve, reject) => {
      let buffer = ""
      child.stdout.on("data", (d: Buffer) => {
        buffer += d.toString()
        const lines = buffer.split("\n")
        buffer = lines.pop()!
        for (const line of lines) reported = Number(line.split(" ")[1])
        // Killed while it is still writing, some way into the run.
        if (reported >= 200) {
          child.kill("SIGKILL")
          resolve()
        }
      })
      child.on("exit", () => reject(new Error(`the child exited before it was killed: ${stderr}`)))
    })
    try {
      await killed
    } finally {
      child.kill("SIGKILL")
    }
    expect(await exited).toBe("SIGKILL")

    const after = await run(openSqliteStore(path))
    try {
      const synced = await run(after.store.keys("synced/"))
      // Every write reported synced is there (and maybe a few more the test had not read yet), with no gap.
      expect(synced.length).toBeGreaterThanOrEqual(reported + 1)
      expect(synced).toEqual(Array.from({ length: synced.length }, (_, i) => `synced/${String(i).padStart(6, "0")}`))
      expect(await run(after.store.get(`synced/${String(reported).padStart(6, "0")}`))).toEqual(new Uint8Array([reported & 255]))
      // Each unsynced write was committed with the next key's sync; the one after the last sync is gone.
      const unsynced = await run(after.store.keys("unsynced/"))
      expect(unsynced).toHaveLength(synced.length - 1)
    } finally {
      await run(after.close)
    }
  })

  it("refuses a second open of the same file while the first is open", async () => {
    const path = freshPath()
    const first = await run(openSqliteStore(path))
    try {
      const error = await run(Effect.flip(openSqliteStore(path)))
      expect(error._tag).toBe("StoreError")
      expect(error.operation).toBe("open")
      expect(error.key).toBe(path)
      expect(error.reason).toMatch(/another process/)
    } finally {
      await run(first.close)
    }
    // Closed: the file can be opened again.
    await run(Effect.flatMap(openSqliteStore(path), (s) => s.close))
  })

  it("commits pending writes when its scope closes (a clean shutdown)", async () => {
    const path = freshPath()
    const scope = Effect.runSync(Scope.make())
    const opened = await run(Scope.provide(scope)(makeSqliteStore(path)))
    await run(opened.store.put("pending", bytes("x")))
    await run(Scope.close(scope, Exit.void))
    const again = await run(openSqliteStore(path))
    try {
      expect(await run(again.store.get("pending"))).toEqual(bytes("x"))
    } finally {
      await run(again.close)
    }
  })

  it("reports a failure as a StoreError naming the operation and the key", async () => {
    const s = await run(openSqliteStore(freshPath()))
    await run(s.close)
    await run(s.close) // idempotent
    const error = await run(Effect.flip(s.store.put("sign/1", bytes("v"))))
    expect(error).toMatchObject({ _tag: "StoreError", operation: "put", key: "sign/1" })
    expect(error.reason).toMatch(/closed/)
    expect(await run(Effect.flip(s.store.get("k")))).toMatchObject({ operation: "get", key: "k" })
    expect(await run(Effect.flip(s.store.sync))).toMatchObject({ operation: "sync" })
  })

  it("fails to open with a StoreError when the path is not a database", async () => {
    const error = await run(Effect.flip(openSqliteStore(root)))
    expect(error).toMatchObject({ _tag: "StoreError", operation: "open", key: root })
  })

  it("lists keys by prefix exactly, whatever characters the keys hold", async () => {
    const s = await run(openSqliteStore(freshPath()))
    try {
      const keys = ["a", "a/", "a/b", "a/b/c", "a0", "a/\u{1F600}", "a/\uFFFF", "a%", "a_", "b", "A/x", ""]
      for (const k of keys) await run(s.store.put(k, bytes(k)))
      expect(await run(s.store.keys("a/"))).toEqual(keys.filter((k) => k.startsWith("a/")).sort())
      expect(await run(s.store.keys("a%"))).toEqual(["a%"])
      expect(await run(s.store.keys("a_"))).toEqual(["a_"])
      expect(await run(s.store.keys(""))).toEqual([...keys].sort())
    } finally {
      await run(s.close)
    }
  })
})

/**
 * The Store port over `node:sqlite`: one file in the node's data dir, one table
 * `kv (key TEXT PRIMARY KEY, value BLOB)`, WAL journal.
 *
 * Durability: writes go into one write transaction, opened by the first write after a sync and
 * committed by `sync`, with `synchronous=FULL` so the commit fsyncs the WAL before `sync` returns.
 * So a kill -9 (or a power cut) loses exactly the writes since the last `sync` — the same failure
 * the simulated store models — never a synced one; and the writes between two syncs land together
 * or not at all (slashing protection's two keys can't be torn apart). The connection reads its own
 * uncommitted writes. Closing the store (the scope ends: a clean shutdown) commits what is pending.
 *
 * The file is held with `locking_mode=EXCLUSIVE`: a second process opening the same data dir (two
 * nodes with one signing record — the way validators double-sign) fails at open instead.
 */
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync, type StatementSync } from "node:sqlite"
import { Effect, Layer, type Scope } from "effect"
import { Store, StoreError } from "../services/store.ts"

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The sqlite store plus what its owner needs besides the port. */
export interface SqliteStore {
  readonly store: Store["Service"]
  readonly path: string
  /** Commit what is pending and close the file (idempotent; the scope does it too). */
  readonly close: Effect.Effect<void, StoreError>
}

/** What a person can do about an error sqlite reports on open. */
const openHint = (reason: string): string =>
  /locked|busy/i.test(reason)
    ? `${reason}: another process (a second node on the same data dir?) has this store open; stop it first`
    : reason

/**
 * Opens (creating if needed) the store at `path` — a file path, or ":memory:" for a throwaway store
 * — without a scope: the caller must run `close`. Prefer `makeSqliteStore`.
 */
export const openSqliteStore = (path: string): Effect.Effect<SqliteStore, StoreError> =>
  Effect.try({
    try: () => {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true })
      const db = new DatabaseSync(path)
      try {
        db.exec("PRAGMA locking_mode=EXCLUSIVE")
        db.exec("PRAGMA journal_mode=WAL")
        db.exec("PRAGMA synchronous=FULL")
        // Takes the exclusive lock now (kept until close), so a second opener fails here.
        db.exec("BEGIN EXCLUSIVE; COMMIT")
        db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) STRICT, WITHOUT ROWID")
      } catch (e) {
        db.close()
        throw e
      }
      return makeOverDatabase(db, path)
    },
    catch: (e) => new StoreError({ operation: "open", key: path, reason: openHint(errorText(e)) }),
  })

/** Opens the store at `path` for the life of the scope (closed, after committing, when it ends). */
export const makeSqliteStore = (path: string): Effect.Effect<SqliteStore, StoreError, Scope.Scope> =>
  Effect.acquireRelease(openSqliteStore(path), (s) => Effect.ignore(s.close))

/** The Store port on the sqlite file at `path`, open while the layer is. */
export const layerSqliteStore = (path: string): Layer.Layer<Store, StoreError> =>
  Layer.effect(Store, Effect.map(makeSqliteStore(path), (s) => s.store))

const makeOverDatabase = (db: DatabaseSync, path: string): SqliteStore => {
  let open = true
  const statements = {
    get: db.prepare("SELECT value FROM kv WHERE key = ?"),
    put: db.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    delete: db.prepare("DELETE FROM kv WHERE key = ?"),
    from: db.prepare("SELECT key FROM kv WHERE key >= ? ORDER BY key"),
  } satisfies Record<string, StatementSync>

  /** One store operation: sqlite's exceptions (and use after close) become a StoreError. */
  const op = <A>(operation: string, key: string, f: () => A): Effect.Effect<A, StoreError> =>
    Effect.try({
      try: () => {
        if (!open) throw new Error(`the store at ${path} is closed`)
        return f()
      },
      catch: (e) => new StoreError({ operation, key, reason: errorText(e) }),
    })

  /** A write: inside the pending transaction. A failed write rolls the whole batch back, and says so. */
  const write = (operation: string, key: string, f: () => void): Effect.Effect<void, StoreError> =>
    op(operation, key, () => {
      if (!db.isTransaction) db.exec("BEGIN IMMEDIATE")
      try {
        f()
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK")
        throw new Error(`${errorText(e)}; every write since the last sync was rolled back`)
      }
    })

  const commit = (): void => {
    if (db.isTransaction) db.exec("COMMIT")
  }

  const store = Store.of({
    get: (key) =>
      op("get", key, () => {
        const row = statements.get.get(key)
        // node:sqlite hands out a fresh Uint8Array per read: the caller owns it.
        return row === undefined ? undefined : (row["value"] as Uint8Array)
      }),
    // Binding copies the bytes, so the caller may reuse its buffer.
    put: (key, value) => write("put", key, () => void statements.put.run(key, value)),
    putParts: (key, parts) => write("put", key, () => void statements.put.run(key, Buffer.concat(parts))),
    delete: (key) => write("delete", key, () => void statements.delete.run(key)),
    keys: (prefix) =>
      op("keys", prefix, () => {
        // Keys with a prefix are one contiguous run from the prefix on (sqlite orders TEXT by
        // UTF-8 bytes, i.e. by code point): read from it until the first key without it.
        const out: string[] = []
        for (const row of statements.from.iterate(prefix)) {
          const key = row["key"] as string
          if (!key.startsWith(prefix)) break
          out.push(key)
        }
        // The port's order is JavaScript's (UTF-16 code units), as the simulated store's.
        return out.sort()
      }),
    sync: op("sync", "", commit),
  })

  const close = Effect.try({
    try: () => {
      if (!open) return
      open = false
      try {
        commit()
      } finally {
        db.close()
      }
    },
    catch: (e) => new StoreError({ operation: "close", key: path, reason: errorText(e) }),
  })
  return { store, path, close }
}

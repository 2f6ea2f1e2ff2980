/**
 * A chain-less node's in-memory ledger (memory-chain.ts), kept across restarts in the node's Store.
 *
 * The ledger is deterministic: its state is the genesis plus the operations it accepted, each at
 * the time it took. So what is stored is that log — one record per accepted operation, under
 * `ledger/op/<seq>` — and a start rebuilds the ledger from the genesis by applying the log again,
 * each operation at its recorded time (`PinnableClock`). A log keeps every kind of state the ledger
 * holds (economy, committee snapshots and reports, governance, market, what the receipts derived)
 * without a serialization of each, and it stays right when the ledger grows a new kind.
 *
 * Durability: an accepted operation's record is written and synced before the operation's result
 * is returned, in one synchronous step (no other fiber runs between the change and its record). So
 * a kill -9 loses only an operation nobody saw succeed, and every later act that could depend on
 * it — a proposer naming its snapshot in a block, which consensus stores only after — comes after
 * its record is durable.
 *
 * Records are versioned JSON (bigints and bytes tagged), decoded with Schema; the first record is
 * the genesis this log grew from (its hash), so a store of another network is refused. A record
 * that does not decode, or an operation the rebuilt ledger refuses, is `LedgerLogInvalid`.
 */
import { Effect, Exit, Result, Schema } from "effect"
import { fromHex, keccak256, toHex } from "../core/crypto.ts"
import { ChainUnavailable } from "./chain.ts"
import type { MemoryChain } from "./memory-chain.ts"
import type { Store, StoreError } from "./store.ts"

/** The prefix of the ledger's records in the Store. */
export const LEDGER_LOG_PREFIX = "ledger/op/"
/** The key of the genesis the log grew from. */
export const LEDGER_GENESIS_KEY = "ledger/genesis"
const VERSION = 1

/** The Chain operations that change the in-memory ledger (everything else only reads it). */
export const LEDGER_WRITES = [
  "submit", "slashDoubleSign", "snapshot", "depositFees", "submitEpochReport", "reportConflict", "propose", "castVote", "executeProposal", "marketOp",
] as const
export type LedgerWrite = (typeof LEDGER_WRITES)[number]

/** The stored ledger log cannot be replayed: corrupt, from another genesis, or refused by the ledger. */
export class LedgerLogInvalid extends Schema.TaggedError<LedgerLogInvalid>()("LedgerLogInvalid", {
  file: Schema.String,
  key: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `ledger log in ${this.file} (${this.key}): ${this.reason}`
  }
}

/** A clock that reads `live`, except while an operation runs pinned to a time (replayed or being recorded). */
export interface PinnableClock {
  readonly now: () => number
  /** The time an operation starting now takes (`live`). */
  readonly live: () => number
  /** Run `f` with `now` pinned at `t`. */
  at<A>(t: number, f: () => A): A
}

/** A pinnable clock over `live`. */
export const pinnableClock = (live: () => number): PinnableClock => {
  let pinned: number | undefined
  return {
    now: () => pinned ?? live(),
    live,
    at: (t, f) => {
      const before = pinned
      pinned = t
      try {
        return f()
      } finally {
        pinned = before
      }
    },
  }
}

// ---------------------------------------------------------------- encoding

/** JSON with bigints (`{"$n": "…"}`), bytes (`{"$b": "hex"}`) and undefined (`{"$u": 1}`) tagged; anything else not plain data throws. */
export const encodeValue = (value: unknown): unknown => {
  if (typeof value === "bigint") return { $n: value.toString() }
  if (value === undefined) return { $u: 1 }
  if (value instanceof Uint8Array) return { $b: toHex(value).slice(2) }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot record the number ${value}`)
    return value
  }
  if (Array.isArray(value)) return value.map(encodeValue)
  if (typeof value === "object" && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = encodeValue(v)
    return out
  }
  throw new Error(`cannot record a ${Object.prototype.toString.call(value)}`)
}

const isTag = (o: Record<string, unknown>, tag: string): boolean => Object.keys(o).length === 1 && tag in o

/** The inverse of `encodeValue`; throws on a malformed tag. */
export const decodeValue = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decodeValue)
  if (value === null || typeof value !== "object") return value
  const o = value as Record<string, unknown>
  if (isTag(o, "$n")) {
    if (typeof o["$n"] !== "string" || !/^-?\d+$/.test(o["$n"])) throw new Error(`not an integer: ${JSON.stringify(o["$n"])}`)
    return BigInt(o["$n"])
  }
  if (isTag(o, "$u")) return undefined
  if (isTag(o, "$b")) {
    if (typeof o["$b"] !== "string" || !/^(?:[0-9a-f]{2})*$/.test(o["$b"])) throw new Error(`not hex bytes: ${JSON.stringify(o["$b"])}`)
    return fromHex(`0x${o["$b"]}`)
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k] = decodeValue(v)
  return out
}

/** One accepted operation: which, with what arguments, at what ledger time. */
const LedgerRecord = Schema.Struct({
  v: Schema.Literal(VERSION),
  t: Schema.Finite,
  op: Schema.Literals(LEDGER_WRITES),
  args: Schema.Array(Schema.Unknown),
})
const GenesisRecord = Schema.Struct({ v: Schema.Literal(VERSION), genesis: Schema.String })
const decodeRecord = Schema.decodeUnknownResult(Schema.fromJsonString(LedgerRecord))
const decodeGenesisRecord = Schema.decodeUnknownResult(Schema.fromJsonString(GenesisRecord))

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (b: Uint8Array): string => new TextDecoder("utf-8", { fatal: true }).decode(b)

/** The key of record `seq` (zero-padded: the Store lists keys in order). */
export const ledgerRecordKey = (seq: number): string => `${LEDGER_LOG_PREFIX}${String(seq).padStart(12, "0")}`

/** A stable hash of a genesis (or anything `encodeValue` takes): which network a log belongs to. */
export const genesisTag = (genesis: unknown): string => toHex(keccak256(bytes(JSON.stringify(encodeValue(genesis)))))

// ---------------------------------------------------------------- the persistent ledger

export interface PersistOptions {
  /** The Store the log lives in (the node's store.db). */
  readonly store: Store["Service"]
  /** The store's file, named in errors. */
  readonly file: string
  /** The clock `chain` was made with (memory-chain's `now`). */
  readonly clock: PinnableClock
  /** Which network the log belongs to (`genesisTag` of the genesis `chain` was built from). */
  readonly genesis: string
}

const run = <A, E>(effect: Effect.Effect<A, E>): Exit.Exit<A, E> => Effect.runSyncExit(effect)

/** Apply operation `op` with `args` to `chain` (its Chain method). */
const invoke = (chain: MemoryChain, op: LedgerWrite, args: readonly unknown[]): Effect.Effect<unknown, unknown> =>
  (chain[op] as (...a: readonly unknown[]) => Effect.Effect<unknown, unknown>)(...args)

/**
 * Replay the log `options.store` holds onto `chain` (fresh from the same genesis), then return it
 * with every write recorded there before it returns. `chain` must not have been used since it was made.
 */
export const persistLedger = (chain: MemoryChain, options: PersistOptions): Effect.Effect<MemoryChain, LedgerLogInvalid | StoreError> =>
  Effect.gen(function* () {
    const { store, file, clock } = options
    const invalid = (key: string, reason: string) => new LedgerLogInvalid({ file, key, reason })
    const keys = yield* store.keys(LEDGER_LOG_PREFIX)
    const head = yield* store.get(LEDGER_GENESIS_KEY)
    if (head === undefined) {
      if (keys.length > 0) return yield* invalid(LEDGER_GENESIS_KEY, `missing, while ${keys.length} ledger records are there: not a store this version wrote`)
      yield* store.put(LEDGER_GENESIS_KEY, bytes(JSON.stringify({ v: VERSION, genesis: options.genesis })))
      yield* store.sync
    } else {
      const g = (() => {
        try {
          return decodeGenesisRecord(text(head))
        } catch (e) {
          return Result.fail(e)
        }
      })()
      if (Result.isFailure(g)) return yield* invalid(LEDGER_GENESIS_KEY, `not a ledger log header of version ${VERSION}`)
      if (g.success.genesis !== options.genesis) {
        return yield* invalid(LEDGER_GENESIS_KEY, "this store's ledger grew from another genesis: the store belongs to another network (use a fresh data dir)")
      }
    }
    // Replay: each record at its own time, in order; the ledger must accept every one again.
    let seq = 0
    for (const key of keys) {
      if (key !== ledgerRecordKey(seq)) return yield* invalid(key, `out of sequence (record ${seq} expected): records are missing`)
      const raw = yield* store.get(key)
      const decoded = (() => {
        try {
          const r = decodeRecord(text(raw ?? new Uint8Array()))
          return Result.isFailure(r) ? Result.fail(`not a ledger record of version ${VERSION}`) : Result.succeed({ ...r.success, args: decodeValue(r.success.args) as unknown[] })
        } catch (e) {
          return Result.fail(`not a ledger record of version ${VERSION} (${e instanceof Error ? e.message : String(e)})`)
        }
      })()
      if (Result.isFailure(decoded)) return yield* invalid(key, decoded.failure)
      const { t, op, args } = decoded.success
      const exit = clock.at(t, () => run(invoke(chain, op, args)))
      if (Exit.isFailure(exit)) return yield* invalid(key, `the ledger refuses ${op} again (${exitText(exit)}): the log does not match this genesis or this version's rules`)
      seq++
    }

    /** One write: applied at a pinned time, then (accepted) recorded and synced, all before it returns. */
    const recorded = (op: LedgerWrite) => (...args: readonly unknown[]): Effect.Effect<unknown, unknown> =>
      Effect.suspend(() => {
        const t = clock.live()
        // Encoded before it is applied: an operation that cannot be recorded changes nothing.
        let record: Uint8Array
        try {
          record = bytes(JSON.stringify({ v: VERSION, t, op, args: encodeValue(args) }))
        } catch (e) {
          return Effect.fail(new ChainUnavailable({ operation: op, reason: `the in-memory ledger cannot record its arguments (${e instanceof Error ? e.message : String(e)})` }))
        }
        const exit = clock.at(t, () => run(invoke(chain, op, args)))
        if (Exit.isFailure(exit)) return exit
        const key = ledgerRecordKey(seq)
        const write = run(Effect.andThen(store.put(key, record), store.sync))
        // The change is made in memory and cannot be undone: a ledger that cannot record it must not go on as if it had.
        if (Exit.isFailure(write)) return Effect.die(new Error(`ledger: ${op} was applied but could not be recorded in ${file}: ${exitText(write)}`))
        seq++
        return exit
      })
    const writes = Object.fromEntries(LEDGER_WRITES.map((op) => [op, recorded(op)]))
    return { ...chain, ...writes } as MemoryChain
  })

const exitText = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const e = Exit.findErrorOption(exit)
  const x: unknown = e._tag === "Some" ? e.value : exit.cause
  return x instanceof Error ? x.message : String(x)
}

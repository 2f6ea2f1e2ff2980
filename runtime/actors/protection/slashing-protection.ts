/**
 * Slashing protection with EIP-3076 semantics: before a validator signs, it durably records the
 * highest (height, round, step) it has signed and what; it never signs below that mark, and at the
 * mark only the very same block again. The record is written and synced to the Store before the
 * signature exists, so a crash at any point leaves a record at least as high as anything signed —
 * after a restart the node cannot sign a conflicting message, whatever its memory lost.
 */
import { Effect } from "effect"
import type { Store, StoreError } from "../../services/store.ts"

/** Step order within a round: proposal, then prevote, then precommit. */
export const STEP = { proposal: 0, prevote: 1, precommit: 2 } as const
export type SignStep = keyof typeof STEP

export interface SignRecord {
  readonly height: number
  readonly round: number
  readonly step: SignStep
  /** What was signed (a block hash, or null for nil). */
  readonly value: string | null
}

/**
 * The highest record signed: the mark. `value` is absent when it is not known (a record imported
 * without it, or two imported records that disagree): nothing more may then be signed at its place.
 */
export interface Mark {
  readonly height: number
  readonly round: number
  readonly step: SignStep
  readonly value?: string | null
}

/**
 * What the store holds: the mark, and every record of the mark's height (to re-send after a restart;
 * one without a value stands for a place where an import found the value unknown or disputed).
 */
export interface ProtectionRecord {
  readonly mark: Mark | undefined
  readonly atMarkHeight: readonly Mark[]
}

export type SigningVerdict = { readonly ok: true; readonly repeat: boolean } | { readonly ok: false; readonly reason: string }

const order = (r: Mark): readonly [number, number, number] => [r.height, r.round, STEP[r.step]]

/** Order of two records by (height, round, step): negative, zero or positive. */
export const compare = (a: Mark, b: Mark): number => {
  const [x, y] = [order(a), order(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1
  return 0
}

/** May `next` be signed after `last`? Pure: the rule itself, without the store. */
export const checkSigning = (last: Mark | undefined, next: SignRecord): SigningVerdict => {
  if (last === undefined) return { ok: true, repeat: false }
  const c = compare(next, last)
  if (c > 0) return { ok: true, repeat: false }
  if (c === 0 && last.value !== undefined && next.value === last.value) return { ok: true, repeat: true }
  if (c === 0 && last.value === undefined) return { ok: false, reason: `already signed ${last.step} ${last.height}/${last.round} (value unknown: imported without it); refusing ${next.value ?? "nil"}` }
  if (c === 0) return { ok: false, reason: `already signed ${last.step} ${last.height}/${last.round} for ${last.value ?? "nil"}; refusing ${next.value ?? "nil"}` }
  return { ok: false, reason: `already signed up to ${last.step} ${last.height}/${last.round}; refusing the older ${next.step} ${next.height}/${next.round}` }
}

const KEY = "protect/last-signed"
/** Every record of the highest height signed, so a restarted node can re-send what it signed. */
const HEIGHT_KEY = "protect/height-records"
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The mark: the highest record signed (undefined before the first signature). */
export const readLastSigned = (store: Store["Service"]): Effect.Effect<Mark | undefined, StoreError> =>
  Effect.map(store.get(KEY), (bytes) => (bytes === undefined ? undefined : (JSON.parse(decoder.decode(bytes)) as Mark)))

/** What was signed at `height` (empty unless it is the highest height signed). */
export const signedAtHeight = (store: Store["Service"], height: number): Effect.Effect<readonly SignRecord[], StoreError> =>
  Effect.map(recordsAtHeight(store, height), (all) => all.filter((r): r is SignRecord => r.value !== undefined))

/** The stored records of `height`, those of unknown value included. */
const recordsAtHeight = (store: Store["Service"], height: number): Effect.Effect<readonly Mark[], StoreError> =>
  Effect.map(store.get(HEIGHT_KEY), (bytes) => {
    const all = bytes === undefined ? [] : (JSON.parse(decoder.decode(bytes)) as Mark[])
    return all.filter((r) => r.height === height)
  })

/**
 * Check `next` against the durable record and, when allowed, make it the new record (synced)
 * before returning. Returns the verdict; the caller signs only on `ok`.
 *
 * Every vote and proposal a validator signs passes here (in a simulated world: every node, several
 * times per height), so the steps are chained with flatMap rather than written as a generator, which
 * costs more per step on the simulator's synchronous runner; the steps and their order are the same.
 */
export const guardSigning = (store: Store["Service"], next: SignRecord): Effect.Effect<SigningVerdict, StoreError> =>
  Effect.flatMap(readLastSigned(store), (last) => {
    const verdict = checkSigning(last, next)
    if (!verdict.ok || verdict.repeat) return Effect.succeed(verdict)
    const previous: Effect.Effect<readonly Mark[], StoreError> = last !== undefined && last.height === next.height ? recordsAtHeight(store, next.height) : Effect.succeed([])
    return Effect.flatMap(previous, (before) =>
      Effect.flatMap(store.put(KEY, encoder.encode(JSON.stringify(next))), () =>
        Effect.flatMap(store.put(HEIGHT_KEY, encoder.encode(JSON.stringify([...before, next]))), () => Effect.as(store.sync, verdict))))
  })

/** The whole record: the mark and what was signed at its height (for export). */
export const readProtection = (store: Store["Service"]): Effect.Effect<ProtectionRecord, StoreError> =>
  Effect.gen(function* () {
    const mark = yield* readLastSigned(store)
    return { mark, atMarkHeight: mark === undefined ? [] : yield* recordsAtHeight(store, mark.height) }
  })

/**
 * Replace the record with `next` (synced before returning), as an import does after merging. The
 * caller must pass a record at least as high as the one stored: this writes, it does not judge.
 */
export const writeProtection = (store: Store["Service"], next: ProtectionRecord): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (next.mark === undefined) return
    yield* store.put(KEY, encoder.encode(JSON.stringify(next.mark)))
    yield* store.put(HEIGHT_KEY, encoder.encode(JSON.stringify(next.atMarkHeight)))
    yield* store.sync
  })

/**
 * A discrete-event scheduler on virtual time.
 *
 * Time is an integer number of milliseconds that only moves when an event runs. Events wait in a
 * binary min-heap ordered by (time, sequence number); the sequence number increases with every
 * scheduling, so events due at the same time run in the order they were scheduled (FIFO) — the one
 * tie-break rule, and a deterministic one. The scheduler knows nothing of networks or nodes: an event is a callback.
 *
 * Scheduling in the past is rejected (a RangeError), not clamped: in a deterministic simulation it
 * is always a bug in the caller, and clamping would hide it. Adapters that must mimic lenient host
 * APIs (the XState clock) normalise their delays themselves.
 */

/** Why `runUntil` returned. */
export type StopReason =
  /** No events are left (and no time bound was given). */
  | "empty"
  /** The time bound was reached: every event due at or before it ran; `now` equals it. */
  | "time"
  /** The predicate returned true (it is checked before the first event and after each one). */
  | "predicate"
  /** `maxEvents` events ran. */
  | "maxEvents"

export interface RunOptions {
  /** Run events due at or before this virtual time, then set the clock to it. */
  readonly time?: number
  /** Stop as soon as this returns true. */
  readonly predicate?: () => boolean
  /** Stop after running this many events. */
  readonly maxEvents?: number
}

export interface RunResult {
  readonly reason: StopReason
  /** How many events ran during this call. */
  readonly events: number
  /** The virtual time when the call returned. */
  readonly now: number
}

/** A pending event as `peek` reports it. */
export interface PendingEvent {
  /** Its handle, as `at`/`after` returned it. */
  readonly id: number
  readonly time: number
  readonly label: string | undefined
}

/*
 * Layout, for speed (see bench/RESULTS.md): the heap is three parallel typed arrays —
 * time, sequence number (the FIFO tie-break) and slot — so sifting touches contiguous numbers, not
 * scattered objects. A slot holds a pending event's callback and label and is reused once the event
 * runs or is cancelled. A handle is `generation * SLOTS + slot + 1` (so 0 is never a handle and can
 * mean "no timer"); the slot's generation goes up on every reuse, so a handle is never reissued and
 * cancelling a finished event is a detectable no-op, all without a Map. Cancelling frees the slot
 * at once; the heap entry left behind is recognised as dead because its sequence number no longer
 * matches the slot's, and is skipped when it surfaces.
 */

/** Slots per generation: the most events that can be pending at once (16.7 M). */
const SLOTS = 2 ** 24
/** Generations per slot before it is retired, keeping every handle a safe integer (< 2^24 · 2^29 = 2^53). */
const GENERATIONS = 2 ** 29 - 1
const FREE = -1

export class Scheduler {
  #now: number
  #nextSeq = 0
  #pending = 0

  // The heap, in heap order.
  #size = 0
  #time = new Float64Array(1024)
  #seq = new Float64Array(1024)
  #slot = new Int32Array(1024)

  // Slot tables, indexed by slot.
  #fn: Array<(() => void) | undefined> = []
  #label: Array<string | undefined> = []
  /** Sequence number of the event in the slot, or FREE. */
  #slotSeq: number[] = []
  #generation: number[] = []
  #freeSlots: number[] = []

  #running = false

  /** A scheduler whose clock starts at `start` ms (default 0). */
  constructor(start = 0) {
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`Scheduler start time must be a non-negative safe integer, got ${start}`)
    }
    this.#now = start
  }

  /** The current virtual time in ms. */
  get now(): number {
    return this.#now
  }

  /** How many events are waiting (cancelled ones excluded). */
  get pending(): number {
    return this.#pending
  }

  /** Schedules `fn` at virtual time `time` (>= now, a safe integer); returns a handle (>= 1) for `cancel`. */
  at(time: number, fn: () => void, label?: string): number {
    if (!(Number.isSafeInteger(time) && time >= this.#now)) {
      throw new RangeError(
        `Scheduler.at${label === undefined ? "" : ` (${label})`}: time must be an integer >= now (${this.#now}), got ${time}`,
      )
    }
    const slot = this.#takeSlot()
    const seq = this.#nextSeq++
    this.#fn[slot] = fn
    this.#label[slot] = label
    this.#slotSeq[slot] = seq
    this.#pending++
    this.#push(time, seq, slot)
    return this.#handle(slot)
  }

  /** Schedules `fn` `delay` ms from now (a non-negative integer); returns a handle for `cancel`. */
  after(delay: number, fn: () => void, label?: string): number {
    if (!(Number.isSafeInteger(delay) && delay >= 0 && delay <= Number.MAX_SAFE_INTEGER - this.#now)) {
      throw new RangeError(
        `Scheduler.after${label === undefined ? "" : ` (${label})`}: delay must be a non-negative integer, got ${delay}`,
      )
    }
    return this.at(this.#now + delay, fn, label)
  }

  /** Cancels a pending event. Returns false if it already ran, was cancelled, or never existed (0, say). */
  cancel(handle: number): boolean {
    if (!Number.isSafeInteger(handle) || handle < 1) return false
    const slot = (handle - 1) % SLOTS
    if (slot >= this.#generation.length) return false
    if (this.#handle(slot) !== handle || this.#slotSeq[slot] === FREE) return false
    this.#release(slot)
    this.#pending--
    // Dead entries stay in the heap until they surface; rebuild when they are the majority, so a
    // workload that keeps re-arming timeouts cannot grow the heap without bound.
    if (this.#size > 64 && this.#size > 2 * this.#pending) this.#compact()
    return true
  }

  /** The next event to run, without running it. */
  peek(): PendingEvent | undefined {
    if (!this.#skipDead()) return undefined
    const slot = this.#slot[0]!
    return { id: this.#handle(slot), time: this.#time[0]!, label: this.#label[slot] }
  }

  /** Runs the next event (advancing `now` to its time). Returns false when there is none. */
  step(): boolean {
    this.#assertNotRunning()
    if (!this.#skipDead()) return false
    this.#runTop()
    return true
  }

  /**
   * Runs events until a bound is met: the `time` bound (all events due at or before it run, then the
   * clock is set to it, even if the queue ran dry first), the `predicate`, or `maxEvents`. With no
   * bound it runs until the queue is empty — forever, if events keep rescheduling themselves.
   */
  runUntil(options: RunOptions = {}): RunResult {
    this.#assertNotRunning()
    const { time, predicate, maxEvents } = options
    if (time !== undefined && !(Number.isSafeInteger(time) && time >= this.#now)) {
      throw new RangeError(`Scheduler.runUntil: time must be an integer >= now (${this.#now}), got ${time}`)
    }
    if (maxEvents !== undefined && !(Number.isSafeInteger(maxEvents) && maxEvents >= 0)) {
      throw new RangeError(`Scheduler.runUntil: maxEvents must be a non-negative integer, got ${maxEvents}`)
    }
    const limit = time ?? Number.MAX_SAFE_INTEGER
    const most = maxEvents ?? Number.MAX_SAFE_INTEGER
    let events = 0
    let reason: StopReason
    if (predicate?.()) reason = "predicate"
    else {
      for (;;) {
        if (events >= most) {
          reason = "maxEvents"
          break
        }
        if (!this.#skipDead() || this.#time[0]! > limit) {
          if (time === undefined) reason = "empty"
          else {
            this.#now = time
            reason = "time"
          }
          break
        }
        this.#runTop()
        events++
        if (predicate?.()) {
          reason = "predicate"
          break
        }
      }
    }
    return { reason, events, now: this.#now }
  }

  // Re-entrant driving would run events out of order under the running one; it is always a bug.
  #assertNotRunning(): void {
    if (this.#running) throw new Error("Scheduler: step/runUntil called from inside an event callback")
  }

  /** The handle of the slot's current (or next) event. */
  #handle(slot: number): number {
    return this.#generation[slot]! * SLOTS + slot + 1
  }

  #takeSlot(): number {
    const reused = this.#freeSlots.pop()
    if (reused !== undefined) return reused
    const slot = this.#generation.length
    if (slot >= SLOTS) throw new RangeError(`Scheduler: more than ${SLOTS} events pending at once`)
    this.#generation.push(0)
    this.#slotSeq.push(FREE)
    this.#fn.push(undefined)
    this.#label.push(undefined)
    return slot
  }

  /** Empties a slot; its generation moves on so the old handle no longer matches. */
  #release(slot: number): void {
    this.#fn[slot] = undefined
    this.#label[slot] = undefined
    this.#slotSeq[slot] = FREE
    const generation = this.#generation[slot]! + 1
    this.#generation[slot] = generation
    if (generation < GENERATIONS) this.#freeSlots.push(slot) // else retired, never reused
  }

  /** Pops dead entries off the top; true if a live event is on top afterwards. */
  #skipDead(): boolean {
    while (this.#size > 0) {
      if (this.#slotSeq[this.#slot[0]!] === this.#seq[0]) return true
      this.#pop()
    }
    return false
  }

  /** Runs the (live) top event. An exception from the callback propagates to the caller. */
  #runTop(): void {
    const slot = this.#slot[0]!
    const fn = this.#fn[slot]!
    this.#now = this.#time[0]!
    this.#pop()
    this.#release(slot)
    this.#pending--
    this.#running = true
    try {
      fn()
    } finally {
      this.#running = false
    }
  }

  #push(time: number, seq: number, slot: number): void {
    if (this.#size === this.#time.length) this.#grow()
    this.#siftUp(this.#size++, time, seq, slot)
  }

  #pop(): void {
    const last = --this.#size
    if (last > 0) this.#siftDown(0, this.#time[last]!, this.#seq[last]!, this.#slot[last]!)
  }

  /** Places (time, seq, slot) at hole `i` or above it. */
  #siftUp(i: number, time: number, seq: number, slot: number): void {
    const T = this.#time, Q = this.#seq, S = this.#slot
    while (i > 0) {
      const p = (i - 1) >> 1
      const pt = T[p]!
      if (pt < time || (pt === time && Q[p]! < seq)) break
      T[i] = pt
      Q[i] = Q[p]!
      S[i] = S[p]!
      i = p
    }
    T[i] = time
    Q[i] = seq
    S[i] = slot
  }

  /** Places (time, seq, slot) at hole `i` or below it. */
  #siftDown(i: number, time: number, seq: number, slot: number): void {
    const T = this.#time, Q = this.#seq, S = this.#slot
    const n = this.#size
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      const r = c + 1
      if (r < n && (T[r]! < T[c]! || (T[r] === T[c] && Q[r]! < Q[c]!))) c = r
      const ct = T[c]!
      if (time < ct || (time === ct && seq < Q[c]!)) break
      T[i] = ct
      Q[i] = Q[c]!
      S[i] = S[c]!
      i = c
    }
    T[i] = time
    Q[i] = seq
    S[i] = slot
  }

  #grow(): void {
    const n = this.#time.length * 2
    const time = new Float64Array(n), seq = new Float64Array(n), slot = new Int32Array(n)
    time.set(this.#time)
    seq.set(this.#seq)
    slot.set(this.#slot)
    this.#time = time
    this.#seq = seq
    this.#slot = slot
  }

  /** Drops dead entries and re-heapifies (Floyd), O(n). */
  #compact(): void {
    const T = this.#time, Q = this.#seq, S = this.#slot
    let n = 0
    for (let i = 0; i < this.#size; i++) {
      if (this.#slotSeq[S[i]!] !== Q[i]) continue
      T[n] = T[i]!
      Q[n] = Q[i]!
      S[n] = S[i]!
      n++
    }
    this.#size = n
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(i, T[i]!, Q[i]!, S[i]!)
  }
}

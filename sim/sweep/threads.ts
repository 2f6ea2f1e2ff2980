/**
 * Worker threads that take runs one call at a time (`run(task)` → its result), for a process that
 * receives runs as they come rather than from a list: `dai sim worker`. The threads are the local
 * pool's (the same entry, worker.ts, and the same heap limits), so a run executes the same code
 * whether a sweep runs on this machine or on a queue. A thread that dies rejects its run and is
 * replaced.
 */
import { Worker } from "node:worker_threads"
import { WORKER_ENTRY, WORKER_LIMITS } from "./pool.ts"

interface Slot {
  worker: Worker
  busy: { resolve: (r: unknown) => void; reject: (e: Error) => void } | undefined
}

export interface Threads<T, R> {
  /** Run one task on a free thread (waiting for one if all are busy). */
  run(task: T): Promise<R>
  /** Stop every thread now. */
  stop(): Promise<void>
}

/** `count` threads running sweep and swarm tasks. */
export const startThreads = <T, R>(count: number): Threads<T, R> => {
  const slots: Slot[] = []
  const waiting: Array<{ task: T; resolve: (r: unknown) => void; reject: (e: Error) => void }> = []
  let stopped = false
  const give = (slot: Slot) => {
    const next = waiting.shift()
    if (next === undefined) return
    slot.busy = { resolve: next.resolve, reject: next.reject }
    slot.worker.postMessage(next.task)
  }
  const spawn = (): Slot => {
    const slot: Slot = { worker: new Worker(WORKER_ENTRY, { resourceLimits: WORKER_LIMITS }), busy: undefined }
    slot.worker.on("message", (result: unknown) => {
      const busy = slot.busy
      slot.busy = undefined
      busy?.resolve(result)
      give(slot)
    })
    const died = (e: Error) => {
      const busy = slot.busy
      slot.busy = undefined
      busy?.reject(e)
      if (stopped) return
      const i = slots.indexOf(slot)
      if (i >= 0) {
        slots[i] = spawn()
        give(slots[i]!)
      }
    }
    slot.worker.on("error", died)
    slot.worker.on("exit", (code) => void (!stopped && died(new Error(`a worker thread exited (code ${code})`))))
    return slot
  }
  for (let i = 0; i < Math.max(1, count); i++) slots.push(spawn())
  return {
    run: (task) =>
      new Promise<R>((resolve, reject) => {
        if (stopped) return reject(new Error("the threads are stopped"))
        waiting.push({ task, resolve: resolve as (r: unknown) => void, reject })
        const free = slots.find((s) => s.busy === undefined)
        if (free !== undefined) give(free)
      }),
    stop: async () => {
      stopped = true
      for (const w of waiting.splice(0)) w.reject(new Error("the threads are stopped"))
      await Promise.all(slots.map((s) => s.worker.terminate()))
    },
  }
}

/** Worker thread entry: runs sweep and swarm tasks posted by the pool, one at a time, and posts each result back. */
import { parentPort } from "node:worker_threads"
import { runSwarmSeed, type SwarmTask } from "../swarm/seed.ts"
import { runSweepTask, type SweepTask } from "./task.ts"

if (parentPort === null) throw new Error("sim/sweep/worker.ts runs as a worker thread (see pool.ts)")
const port = parentPort
port.on("message", (task: SweepTask | SwarmTask) => {
  port.postMessage(task.kind === "sweep" ? runSweepTask(task) : runSwarmSeed(task))
})

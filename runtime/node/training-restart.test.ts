/**
 * A training round survives the crash of its coordinator (issue 16): four validators on loopback,
 * three in this process and one (the victim) a `dai node start` child process. When a round the
 * victim coordinates is under way — its result in a peer's pool, or committed but not yet followed
 * by the reveal — the victim is killed with SIGKILL: the window in which a coordinator used to take
 * the new model and the scores' salt with it, and no round ever opened again. Then:
 *  - the survivors commit later rounds (the model is served by whoever holds it, or, held by nobody,
 *    the next scheduled coordinator goes on from the model it has once the slot is over);
 *  - the victim, restarted on its data dir, trains again (a later round lists it as a participant);
 *  - every round the victim committed has its scores revealed (kept in its store before it submitted).
 * What is asserted is what the system guarantees, within generous bounds; never a timing.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Effect, Exit, Scope } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { createDevnetDirs, DEVNET_PASSWORD, nodeDir } from "./devnet.ts"
import { startNodeFromDataDir, type RunningNode } from "./run-node.ts"

const PARAMS = {
  // The victim is down for a while: keep downtime slashing out of a test about training.
  "slashing.downtimeWindow": "10000",
  "consensus.timeoutCommit": "300ms",
  "consensus.timeoutPropose": "1s",
  "consensus.timeoutPrevote": "500ms",
  "consensus.timeoutPrecommit": "500ms",
  "consensus.timeoutDelta": "200ms",
  "training.cohort": "1",
  "training.roundDeadline": "5s",
}
const SAMPLES = 100
const BIN = new URL("../../bin/dai.ts", import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), "dai-training-restart-"))
const children = new Set<ChildProcess>()

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

/** `dai node start` on `dataDir` in a child process, training on a small shard; its output kept for failure messages. */
const startChild = (dataDir: string) => {
  const p = spawn(process.execPath, [BIN, "node", "start", "--data-dir", dataDir, "--password-file", join(dataDir, "password"), "--train-samples", String(SAMPLES)], {
    stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DAI_PASSWORD: "" },
  })
  children.add(p)
  let text = ""
  p.stdout!.on("data", (chunk: Buffer) => void (text += chunk.toString()))
  p.stderr!.on("data", (chunk: Buffer) => void (text += chunk.toString()))
  const exit = new Promise<NodeJS.Signals | null>((resolve) => p.once("exit", (_code, signal) => resolve(signal)))
  return { process: p, output: () => text.slice(-4_000), exit }
}

describe("a training coordinator killed mid-round", () => {
  it("the survivors commit later rounds, and the restarted coordinator reveals its scores and trains again", async () => {
    const dir = join(root, "net")
    await createDevnetDirs({ dir, nodes: 4, params: PARAMS })
    const victimDir = nodeDir(dir, 3)
    const scope = Scope.makeUnsafe()
    const events: TelemetryEvent[] = []
    const failures: string[] = []
    let victim = startChild(victimDir)
    try {
      const nodes: RunningNode[] = await Promise.all([0, 1, 2].map((i) =>
        Effect.runPromise(startNodeFromDataDir({
          dataDir: nodeDir(dir, i), password: DEVNET_PASSWORD, api: false, awaitPeers: 3, awaitPeersMs: 30_000, training: { samples: SAMPLES },
          onFailure: (cause) => failures.push(`node${i}: ${Cause.pretty(cause)}`),
        }).pipe(Scope.provide(scope)))))
      for (const n of nodes) n.telemetry.subscribe((e) => void events.push(e))
      const app = nodes[0]!.node.app
      const victimAddress = app.validatorSet().validators.map((v) => v.address.toLowerCase()).find((a) => app.operatorOf(a) === "node3")!
      const rounds = () => [...app.rounds().values()]

      // Kill it as soon as a round it coordinates has its result in node0's pool (the result may still
      // commit without it), or at the latest once node0 commits a round of it (before the reveal).
      const killedAt = await new Promise<number>((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`node3 coordinated no round\n${victim.output()}`)), 120_000)
        const poll = setInterval(() => {
          const pooled = nodes[0]!.node.ctx.mempool.includable().some((t) => t.type === "round-result" && String(t.signer).toLowerCase() === victimAddress)
          const committed = rounds().some((r) => r.coordinator === "node3")
          if (!pooled && !committed) return
          clearInterval(poll)
          clearTimeout(timeout)
          victim.process.kill("SIGKILL")
          resolve(app.lastRound)
        }, 5)
      })
      expect(await victim.exit).toBe("SIGKILL")

      // The survivors go on: a later round commits, coordinated by one of them.
      await vi.waitFor(() => expect(rounds().some((r) => r.round > killedAt && r.coordinator !== "node3"), `rounds after ${killedAt}`).toBe(true), { timeout: 240_000, interval: 200 })

      // Restarted on its data dir, it reveals the scores of every round it committed and trains again.
      victim = startChild(victimDir)
      const restartedAt = app.lastRound
      await vi.waitFor(() => {
        expect(rounds().some((r) => r.round > restartedAt && r.participants.includes("node3")), `a round with node3 after ${restartedAt}\n${victim.output()}`).toBe(true)
      }, { timeout: 300_000, interval: 200 })
      await vi.waitFor(() => {
        const unrevealed = rounds().filter((r) => r.coordinator === "node3" && r.scores === undefined).map((r) => r.round)
        expect(unrevealed, victim.output()).toEqual([])
      }, { timeout: 180_000, interval: 200 })

      expect(events.filter((e) => e.kind === "evidence.found" || e.kind === "stake.slashed")).toEqual([])
      expect(failures).toEqual([])
      victim.process.kill("SIGTERM")
      expect(await victim.exit).toBeNull()
    } finally {
      if (victim.process.exitCode === null && victim.process.signalCode === null) victim.process.kill("SIGKILL")
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }, 900_000) // generous bounds for a loaded 2-core machine, not timings: alone it takes about 2.5 min
})

/**
 * `dai devnet --task lm` as a network: two validators over libp2p on 127.0.0.1 (no EVM chain), each
 * fine-tuning the committed language model's last block and head on its own shard of held-out
 * fortunes, its local updates in the process's worker pool, 64 windows each. Rounds commit; every
 * node's chain records the same validation loss for each; no validator refused a claim (each
 * re-measured it before voting); and the loss on chain is the one re-measured here, on the genesis
 * evaluation set, from the model the nodes adopted — exactly, on this backend. Whether the loss falls
 * every round is not asserted: each round trains on new text, and an SGD step may raise the loss on
 * the evaluation windows (docs/lm.md).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { modelHash } from "../core/training/hash.ts"
import { bytesFloat, decodeTrain } from "../actors/training/wire.ts"
import { trainingLine } from "../../cli/progress.ts"
import { LM_TASK_PARAMS } from "../../cli/training-flags.ts"
import { loadFortunes } from "../adapters/data/fortunes.ts"
import { LM_WINDOWS_PER_ROUND, prepareLmFinetune } from "../adapters/tfjs/lm/finetune.ts"
import { DEVNET_PARAMS, startDevnet, type Devnet } from "./devnet.ts"

const ROUNDS = 2

describe("devnet --task lm", () => {
  const root = mkdtempSync(join(tmpdir(), "dai-devnet-lm-"))
  let devnet: Devnet | undefined
  afterAll(async () => {
    await devnet?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it("commits fine-tuning rounds whose recorded validation loss is the re-measured one", async () => {
    devnet = await startDevnet({ dir: join(root, "net"), nodes: 2, params: { ...DEVNET_PARAMS, ...LM_TASK_PARAMS }, chain: { kind: "none" }, training: {} })
    const events: TelemetryEvent[] = []
    for (const n of devnet.nodes) n.telemetry.subscribe((e) => void events.push(e))
    const [a, b] = devnet.nodes as [Devnet["nodes"][number], Devnet["nodes"][number]]
    expect(a.training?.description).toMatch(/fortunes shard 1\/2 .* model gpt \(fine-tuning block\/3 \+ head.*, updates in \d+ worker threads?$/)
    // Both chains hold ROUNDS rounds, and node b holds the last one's model.
    const stored = async () => {
      const bytes = await Effect.runPromise(b.node.ctx.store.get("training/global"))
      const m = bytes === undefined ? undefined : decodeTrain(bytes)
      return m === undefined || Result.isFailure(m) ? undefined : bytesFloat(m.success.payload, 66_752)
    }
    for (;;) {
      const last = b.node.app.rounds().get(b.node.app.lastRound)
      const w = await stored()
      if (a.node.app.rounds().size >= ROUNDS && b.node.app.rounds().size >= ROUNDS && last !== undefined && w !== undefined && modelHash(w) === last.modelHash) break
      await new Promise((r) => setTimeout(r, 500))
    }
    const rounds = [...b.node.app.rounds().values()].sort((x, y) => x.round - y.round)
    for (const r of rounds) {
      expect(r.loss).toBeDefined()
      expect(a.node.app.rounds().get(r.round)?.loss).toBe(r.loss)
    }
    expect(events.filter((e) => e.kind === "training.result.refused")).toEqual([])
    // Each update trained on the task's windows per round (LM_WINDOWS_PER_ROUND unless --train-samples says), not MNIST's 600 samples.
    const sent = events.filter((e) => e.kind === "training.update.sent")
    expect(sent.length).toBeGreaterThan(0)
    for (const e of sent) expect(e.data["samples"]).toBe(LM_WINDOWS_PER_ROUND)
    // The last round's model, evaluated here on the genesis evaluation set (the first evalSamples windows of held-out fortunes).
    const f = prepareLmFinetune({ validation: loadFortunes().validation, clients: 2, evalWindows: Number(LM_TASK_PARAMS["training.evalSamples"]) })
    const last = rounds.at(-1)!
    const measured = f.evaluate((await stored())!)
    expect(last.loss).toBe(Math.round(measured.loss * 1_000_000))
    expect(last.accuracy).toBe(Math.round(measured.accuracy * 1_000_000))
    // The progress line prints it.
    const line = events.map(trainingLine).find((l) => l !== undefined && l.includes(`round ${last.round} `))
    expect(line).toContain(`validation loss ${(last.loss! / 1_000_000).toFixed(4)} nats/byte`)
    console.log(`validation loss per round: ${rounds.map((r) => `${r.round}: ${r.loss! / 1_000_000}`).join(", ")} (checkpoint ${f.evaluate(f.base.initialTail).loss.toFixed(6)})`)
  }, 170_000)
})

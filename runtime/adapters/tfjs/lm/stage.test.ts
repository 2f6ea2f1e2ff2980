import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { argmax } from "../../../core/lm/sampling.ts"
import { selectBackend } from "../backend.ts"
import { DEFAULT_CHECKPOINT_DIR, loadCheckpoint } from "./checkpoint.ts"
import { generateTokens, promptTokens } from "./generate.ts"
import { type Gpt, makeGpt } from "./gpt.ts"
import { loadStage, type Stage } from "./stage.ts"

let whole: Gpt
beforeAll(async () => {
  await selectBackend("cpu")
  const { file, weights } = loadCheckpoint(DEFAULT_CHECKPOINT_DIR)
  whole = makeGpt(file.model, weights)
})
afterAll(() => whole.dispose())

/** Greedy decoding through a chain of stages, one session each: prefill, then one token per step. */
const greedyThrough = (stages: readonly Stage[], context: readonly number[], n: number): number[] => {
  const sessions = stages.map((s) => s.openSession())
  const first = stages[0]!
  const last = stages.at(-1)!
  const out: number[] = []
  try {
    let input = [...context]
    let at = 0
    for (let i = 0; i < n; i++) {
      let x = first.embed(input, at)
      for (const s of sessions) x = s.forward(x)
      const logits = last.head(x)
      const vocab = whole.config.vocabSize
      const t = argmax(logits.subarray((x.length - 1) * vocab))
      out.push(t)
      at += input.length
      input = [t]
    }
  } finally {
    sessions.forEach((s) => s.close())
  }
  return out
}

describe("pipeline stages of the committed checkpoint", () => {
  const context = promptTokens("The ")
  const n = 24

  it("a 2-stage and a 3-stage pipeline give exactly the whole model's greedy tokens", () => {
    const want = generateTokens(whole, context, { maxTokens: n, temperature: 0, seed: 0 })
    for (const ranges of [[[0, 1], [2, 3]], [[0, 0], [1, 2], [3, 3]]] as const) {
      const stages = ranges.map(([a, b]) => loadStage(DEFAULT_CHECKPOINT_DIR, a, b))
      try {
        expect(stages.map((s) => s.part.held)).toEqual(ranges.map(([a, b], i) => [...(i === 0 ? ["embed"] : []), ...Array.from({ length: b - a + 1 }, (_, j) => `block/${a + j}`), ...(i === ranges.length - 1 ? ["head"] : [])]))
        expect(greedyThrough(stages, context, n)).toEqual(want)
      } finally {
        stages.forEach((s) => s.part.dispose())
      }
    }
  })

  it("a replacement stage rebuilt by replaying the session's inputs continues with the same tokens (failover)", () => {
    const want = generateTokens(whole, context, { maxTokens: 8, temperature: 0, seed: 0 })
    const a = loadStage(DEFAULT_CHECKPOINT_DIR, 0, 1)
    const b = loadStage(DEFAULT_CHECKPOINT_DIR, 2, 3)
    const b2 = loadStage(DEFAULT_CHECKPOINT_DIR, 2, 3)
    const sa = a.openSession()
    let sb = b.openSession()
    const sent: { start: number; length: number; dim: number; data: Float32Array }[] = []
    const got: number[] = []
    try {
      let input = [...context]
      let at = 0
      for (let i = 0; i < 8; i++) {
        if (i === 4) {
          // Stage b is lost: a new server replays what b was sent, then goes on.
          sb.close()
          sb = b2.openSession()
          for (const x of sent) sb.forward(x)
        }
        const x = sa.forward(a.embed(input, at))
        sent.push(x)
        const y = sb.forward(x)
        const t = argmax(b.head(y).subarray((y.length - 1) * whole.config.vocabSize))
        got.push(t)
        at += input.length
        input = [t]
      }
      expect(got).toEqual(want)
      expect(() => sb.forward({ ...sent[0]!, start: 0 })).toThrow(/at position/)
    } finally {
      sa.close()
      sb.close()
      for (const s of [a, b, b2]) s.part.dispose()
    }
  })

  it("refuses a range outside the model", () => {
    expect(() => loadStage(DEFAULT_CHECKPOINT_DIR, 3, 4)).toThrow()
  })
})

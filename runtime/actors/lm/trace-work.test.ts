/**
 * Bisection within a stage on the committed checkpoint (trace-work.ts): a stage's traced session gives
 * every block's output; each block run ALONE (its one-block stage, on the previous block's rows of the
 * whole session) reproduces the stage's own leaf bit for bit — so an honest stage's trace is
 * consistent at every block and no fraud proof against it checks —; and a stage whose second block's
 * output is off is bisected to that block, its proof accepted by running that one block.
 */
import { afterAll, describe, expect, it } from "vitest"
import { DEFAULT_CHECKPOINT_DIR } from "../../adapters/tfjs/lm/checkpoint.ts"
import { promptTokens } from "../../adapters/tfjs/lm/generate.ts"
import { loadPipelineStage } from "../../adapters/tfjs/lm/pipeline-stage.ts"
import { answerBisection, childrenOf, makeTrace, startBisection, traceRoot, traceTree } from "../../core/market/bisection.ts"
import { fraudProofOf, leafPath, type AnsweredQuery } from "../../core/market/fraud-proof.ts"
import { checkLmFraudProof, encodeLmLayer, lmLayerHashOf, lmTraceWord, type LmRows } from "../../core/lm/trace.ts"
import type { LmInput } from "../../core/lm/wire.ts"
import { inputRows, stageTraceStep } from "./stage-step.ts"
import { lmLayerRun, traceSession } from "./trace-work.ts"

const loaded = new Map<string, ReturnType<typeof loadPipelineStage>>()
const runs: string[] = []
const stageOf = (from: number, to: number) => {
  runs.push(`${from}-${to}`)
  const key = `${from}-${to}`
  let s = loaded.get(key)
  if (s === undefined) loaded.set(key, (s = loadPipelineStage(DEFAULT_CHECKPOINT_DIR, from, to)))
  return s
}
afterAll(() => loaded.forEach((s) => s.dispose()))

/** The first stage's inputs of a session: a prompt's prefill, then two single tokens. */
const tokenInputs = (): LmInput[] => {
  const prompt = promptTokens("The ")
  return [
    { start: 0, length: prompt.length, dim: 1, input: "tokens", data: Int32Array.from(prompt) },
    { start: prompt.length, length: 1, dim: 1, input: "tokens", data: Int32Array.of(101) },
    { start: prompt.length + 1, length: 1, dim: 1, input: "tokens", data: Int32Array.of(32) },
  ]
}

/** Stage from..to traced over `inputs`, its layers' rows (layer 0 the inputs); `wrongLast` offsets the last layer's first value of every forward. */
const layersOf = (from: number, to: number, inputs: readonly LmInput[], wrongLast = false): LmRows[][] => {
  const stage = stageOf(from, to)
  const session = stage.openSession()
  const layers: LmRows[][] = [inputs.map(inputRows), ...Array.from({ length: to - from + 1 }, () => [] as LmRows[])]
  try {
    for (const x of inputs) {
      const t = stageTraceStep(stage, session, x)
      t.layers.forEach((row, j) => {
        const last = j === t.layers.length - 1
        layers[j + 1]!.push(last && wrongLast ? { ...row, data: (row.data as Float32Array).map((v, i) => (i === 0 ? v + 0.5 : v)) } : row)
      })
    }
  } finally {
    session.close()
  }
  return layers
}

describe("bisection within a stage, on the committed checkpoint", () => {
  it("each block run alone on the previous block's rows of the session reproduces the stage's leaf bit for bit (stages 0-1 and 2-3)", () => {
    const first = layersOf(0, 1, tokenInputs())
    const acts: LmInput[] = first[2]!.map((r) => ({ start: r.start, length: r.length, dim: r.dim, input: "activations", data: r.data }))
    for (const [from, to, layers] of [[0, 1, first], [2, 3, layersOf(2, 3, acts)]] as const) {
      const trace = makeTrace(layers.map(encodeLmLayer))
      // The referee's re-execution of the whole stage gives the same trace.
      const inputs: LmInput[] = layers[0]!.map((r) => ({ start: r.start, length: r.length, dim: r.dim, input: r.kind === "tokens" ? "tokens" : "activations", data: r.data }))
      expect(traceSession(stageOf(from, to), inputs).word).toBe(lmTraceWord(traceRoot(trace.hashes)))
      for (let k = 1; k <= to - from + 1; k++) expect(lmLayerHashOf(k, trace.activation(k - 1), lmLayerRun(stageOf, from)), `blocks ${from}-${to} layer ${k}`).toEqual(trace.hashes[k])
      // So the strongest forgery against an honest stage — its own rows and leaves with their true paths — is refused.
      const tree = traceTree(trace.hashes)
      const proof = { layer: 2, input: trace.activation(1), inputHash: trace.hashes[1]!, outputHash: trace.hashes[2]!, inputPath: leafPath(tree, 1), outputPath: leafPath(tree, 2) }
      expect(checkLmFraudProof(proof, { from, to, word: lmTraceWord(traceRoot(trace.hashes)), run: lmLayerRun(stageOf, from) })).toMatchObject({ ok: false, reason: expect.stringMatching(/computed it right/) })
    }
  })

  it("a stage whose second block's output is off is bisected to block 1, and its proof checks by running block 1 alone", () => {
    const inputs = tokenInputs()
    const honest = makeTrace(layersOf(0, 1, inputs).map(encodeLmLayer))
    const wrong = makeTrace(layersOf(0, 1, inputs, true).map(encodeLmLayer))
    const word = lmTraceWord(traceRoot(wrong.hashes))
    const tree = traceTree(wrong.hashes)
    const answers: AnsweredQuery[] = []
    let { state, step } = startBisection(honest.hashes)
    while (step.kind === "ask") {
      const c = childrenOf(tree, step.level, step.index)!
      answers.push({ level: step.level, index: step.index, ...c })
      ;({ state, step } = answerBisection(state, c, (r) => lmTraceWord(r) === word))
    }
    expect(step).toMatchObject({ kind: "diverged", layer: 2 })
    const proof = fraudProofOf({ own: state.own, answers, layer: 2, input: wrong.activation(1) })
    runs.length = 0
    expect(checkLmFraudProof(proof, { from: 0, to: 1, word, run: lmLayerRun(stageOf, 0) })).toEqual({ ok: true, layer: 2 })
    expect(runs).toEqual(["1-1"])
  })
})

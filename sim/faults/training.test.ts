import { describe, expect, it } from "vitest"
import { SIGNFLIP_SCALE, trainingFault, flipLabel } from "./training.ts"

const honest = Float32Array.from([0.3, -0.4, 1.2, 0])
const norm = (v: Float32Array) => Math.hypot(...v)
let seed = 1
const normal = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1

describe("training faults", () => {
  it("signflip negates and scales", () => {
    const sent = trainingFault("signflip").corrupt(honest, undefined, normal)
    honest.forEach((x, i) => expect(sent[i]).toBeCloseTo(-SIGNFLIP_SCALE * x, 6))
  })
  it("noise has the honest norm and points elsewhere", () => {
    const z = trainingFault("noise").corrupt(honest, undefined, normal)
    expect(norm(z)).toBeCloseTo(norm(honest), 4)
    expect([...z]).not.toEqual([...honest])
  })
  it("freeride replays the last global change, or sends zeros before any", () => {
    const f = trainingFault("freeride")
    expect([...f.corrupt(honest, undefined, normal)]).toEqual([0, 0, 0, 0])
    const last = Float32Array.from([1, 2, 3, 4])
    expect([...f.corrupt(honest, last, normal)]).toEqual([1, 2, 3, 4])
  })
  it("labelflip trains on permuted labels and dropout leaves; neither alters what it would send", () => {
    expect(trainingFault("labelflip").flipsLabels).toBe(true)
    expect(Array.from({ length: 10 }, (_, l) => flipLabel(l)).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(trainingFault("dropout").leavesMidRound).toBe(true)
    expect(trainingFault("signflip").leavesMidRound).toBe(false)
  })
})

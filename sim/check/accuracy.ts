/**
 * Training accuracy: the final global model's test accuracy is at least `expect.minAccuracy` and at
 * most `expect.maxAccuracy` (an attack that must hurt an undefended rule). A wrong accuracy is a
 * correctness failure; no committed round at all leaves nothing to judge, which is missing progress
 * (liveness), not a wrong model.
 */
import type { Checker, Expectation } from "./expectation.ts"

/** One accuracy bound judged against the final accuracy after `rounds` committed rounds. */
export const checkAccuracy = (name: "minAccuracy" | "maxAccuracy", bound: number, accuracy: number | undefined, rounds: number): Expectation => {
  const at = name === "minAccuracy" ? "at least" : "at most"
  if (accuracy === undefined || rounds === 0) return { name, kind: "liveness", passed: false, detail: `no training round was committed (expected accuracy ${at} ${bound})` }
  return {
    name, kind: "correctness", passed: name === "minAccuracy" ? accuracy >= bound : accuracy <= bound,
    detail: `final accuracy ${accuracy.toFixed(4)} after ${rounds} round(s), expected ${at} ${bound}`,
  }
}

/** The accuracy checker over the scenario's `expect.minAccuracy` / `expect.maxAccuracy`. */
export const accuracyChecker = (expected: { readonly minAccuracy?: number | undefined; readonly maxAccuracy?: number | undefined }): Checker => ({
  expectations: (end) => [
    ...(expected.minAccuracy === undefined ? [] : [checkAccuracy("minAccuracy", expected.minAccuracy, end.accuracy, end.rounds)]),
    ...(expected.maxAccuracy === undefined ? [] : [checkAccuracy("maxAccuracy", expected.maxAccuracy, end.accuracy, end.rounds)]),
  ],
})

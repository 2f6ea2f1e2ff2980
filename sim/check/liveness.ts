/**
 * Liveness: the run made the progress expected of it. `expect.minHeight` (honest replicas reached at
 * least this height) and the `until` target (height or training rounds) reached before `maxTime` of
 * virtual time; a `time` target is reached by construction. The honest height is also what the runner
 * stops on and fires `at: { height }` events by.
 */
import { formatDuration } from "../../runtime/core/duration.ts"
import { committedBlock, type Checker, type Expectation } from "./expectation.ts"

export interface LivenessChecker extends Checker {
  /** The highest block an honest node (one that never misbehaved) has committed. */
  readonly height: () => number
}

export interface LivenessExpected {
  readonly minHeight?: number | undefined
  readonly until: { readonly height?: number | undefined; readonly rounds?: number | undefined; readonly maxTime: number }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

/** The liveness checker; `byzantine` holds the nodes that misbehaved at some point (the runner adds to it). */
export const livenessChecker = (expected: LivenessExpected, byzantine: ReadonlySet<string>): LivenessChecker => {
  const heights = new Map<string, number>()
  // The runner asks after every simulator event: kept up to date per commit in O(1), recounted over
  // the nodes only when a node has joined the byzantine ones since (the set only grows).
  let best = 0
  let byzantineSeen = byzantine.size
  const height = () => {
    if (byzantine.size !== byzantineSeen) {
      byzantineSeen = byzantine.size
      best = 0
      for (const [node, h] of heights) if (!byzantine.has(node) && h > best) best = h
    }
    return best
  }
  return {
    observe: (e) => {
      const block = committedBlock(e)
      if (block === undefined) return
      const h = Math.max(heights.get(e.node) ?? 0, block.height)
      heights.set(e.node, h)
      if (!byzantine.has(e.node) && h > best) best = h
    },
    height,
    expectations: (end) => {
      const h = height()
      const out: Expectation[] = []
      if (expected.minHeight !== undefined) {
        out.push({ name: "minHeight", kind: "liveness", passed: h >= expected.minHeight, detail: `reached height ${h}, expected at least ${expected.minHeight}` })
      }
      const { until } = expected
      const target = until.height !== undefined ? { what: "height", want: until.height, got: h }
        : until.rounds !== undefined ? { what: "rounds", want: until.rounds, got: end.rounds }
        : undefined
      if (target !== undefined) {
        out.push({
          name: "until", kind: "liveness", passed: target.got >= target.want,
          detail: `${target.what} ${target.got} at ${seconds(end.time)} of virtual time, target ${target.what} ${target.want} by maxTime ${formatDuration(until.maxTime)}`,
        })
      }
      return out
    },
  }
}

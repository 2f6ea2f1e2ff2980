/** Sweep constraints such as `attackerRoi: "< 0"`: parsed once, checked against a point's metric. */

export type Op = "<" | "<=" | ">" | ">=" | "==" | "!="

export interface Constraint {
  readonly metric: string
  readonly op: Op
  readonly value: number
  /** As written, e.g. `< 0`. */
  readonly text: string
}

const FORM = /^\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i

/** A constraint, or why the text is not one. */
export const parseConstraint = (metric: string, text: string): Constraint | string => {
  const m = FORM.exec(text)
  if (m === null) return `expected a comparison such as "< 0" or ">= 0.05", got "${text}"`
  return { metric, op: m[1] as Op, value: Number(m[2]), text: `${m[1]} ${m[2]}` }
}

/** Whether `x` meets the constraint (a missing value never does). */
export const holds = (c: Constraint, x: number | null | undefined): boolean => {
  if (x === null || x === undefined || Number.isNaN(x)) return false
  switch (c.op) {
    case "<": return x < c.value
    case "<=": return x <= c.value
    case ">": return x > c.value
    case ">=": return x >= c.value
    case "==": return x === c.value
    case "!=": return x !== c.value
  }
}

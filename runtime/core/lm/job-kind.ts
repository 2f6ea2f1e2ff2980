/** The market job kind of paid pipeline inference: `infer:lm/<from>-<to>` pays sessions of blocks from..to. */

/** The market job kind that pays sessions of blocks from..to. */
export const lmJobKind = (from: number, to: number): string => `infer:lm/${from}-${to}`

/** The block range of an `infer:lm/<from>-<to>` kind, or undefined for another kind. */
export const parseLmJobKind = (kind: string): { readonly from: number; readonly to: number } | undefined => {
  const m = /^infer:lm\/(\d{1,4})-(\d{1,4})$/.exec(kind)
  if (m === null) return undefined
  const from = Number(m[1]), to = Number(m[2])
  return to >= from ? { from, to } : undefined
}

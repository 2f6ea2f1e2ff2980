/**
 * `expect.unpaid`: a validator that coordinated rounds as a byzantine coordinator (`forge-round`,
 * `inflate-accuracy`: sim/faults/training.ts) earned nothing for them — none of those rounds is an
 * accepted round on the chain, so no score of theirs was revealed or paid. A provably false result
 * is on chain as forged (its coordinator slashed); a refuted claim never got into a block. A node that
 * never coordinated such a round leaves nothing to judge, which is missing progress (liveness).
 */
import type { Checker, Expectation } from "./expectation.ts"

/** A round submitted by a byzantine coordinator (the training world keeps them). */
export interface ByzantineRoundLike {
  readonly round: number
  readonly coordinator: string
  readonly behavior: string
}

/** What an honest replica holds of the rounds: accepted results, and results found forged. */
export interface RoundLedgerView {
  rounds(): ReadonlyMap<number, { readonly coordinator: string }>
  forged(): ReadonlyArray<{ readonly round: number; readonly coordinator: string }>
}

/** `unpaid` for one node, judged on an honest replica's ledger (undefined: no honest replica runs). */
export const checkUnpaid = (node: string, attempts: readonly ByzantineRoundLike[], ledger: RoundLedgerView | undefined): Expectation => {
  const mine = attempts.filter((a) => a.coordinator === node)
  const name = `unpaid ${node}`
  if (ledger === undefined) return { name, kind: "liveness", passed: false, detail: "no honest validator runs at the end to read the rounds from" }
  if (mine.length === 0) return { name, kind: "liveness", passed: false, detail: `${node} never coordinated a round as a byzantine coordinator: nothing to judge` }
  const accepted = mine.filter((a) => ledger.rounds().get(a.round)?.coordinator === node).map((a) => a.round)
  const forged = mine.filter((a) => ledger.forged().some((f) => f.round === a.round && f.coordinator === node)).map((a) => a.round)
  const refused = mine.map((a) => a.round).filter((r) => !accepted.includes(r) && !forged.includes(r))
  const list = (rs: readonly number[]) => (rs.length === 0 ? "none" : rs.join(", "))
  return {
    name,
    kind: "correctness",
    passed: accepted.length === 0,
    detail: `${node} submitted ${mine.length} byzantine round result(s) (${[...new Set(mine.map((a) => a.behavior))].join(", ")}): accepted ${list(accepted)}; on chain as forged ${list(forged)}; kept off the chain ${list(refused)}`,
  }
}

/** The `unpaid` checker: judged at the end, for each node the scenario names. */
export const unpaidChecker = (
  expected: { readonly unpaid?: readonly string[] | undefined },
  source: { readonly attempts: () => readonly ByzantineRoundLike[]; readonly ledger: () => RoundLedgerView | undefined },
): Checker => ({
  expectations: () => (expected.unpaid ?? []).map((node) => checkUnpaid(node, source.attempts(), source.ledger())),
})

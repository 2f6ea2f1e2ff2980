/**
 * Convictions to the ledger: a validator the committee convicted of double signing (an executed
 * `evidence` tx) is slashed and tombstoned on the ledger by whichever node gets there first; the
 * others are refused cleanly (the ledger punishes one infraction once) and say nothing.
 * Downtime is not here: it goes in the epoch report (report.ts), which the ledger verifies.
 * (The evidence actor of runtime/actors/evidence submits the votes themselves to the contract's
 * trustless `slashDoubleSign` on a real chain; this is the in-memory ledger's path.)
 */
import { Effect } from "effect"
import type { NodeContext } from "../context.ts"

/** Submit every double-sign conviction this node executes; the returned function stops it. */
export const startConvictions = (ctx: NodeContext): (() => void) =>
  ctx.executed.subscribe(({ block, execution }) => {
    for (const c of execution.slashes) {
      if (c.infraction !== "doubleSign") continue
      ctx.run(Effect.ignore(ctx.committee.convict(c.pool, c.evidenceId, block.time)))
    }
  })

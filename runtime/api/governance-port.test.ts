/**
 * What POST /proposals/{id}/execute answers for each of the chain's refusals: the status (404 for an
 * unknown proposal, 409 for a state that forbids it now, 503 for an unreachable chain) and a reason
 * that names the proposal and, for a running vote or timelock, until when.
 */
import { describe, expect, it } from "vitest"
import {
  GovernanceAlreadyExecuted, GovernanceNotPassed, GovernanceTimelockNotExpired, GovernanceUnknownProposal, GovernanceVotingOpen,
} from "../core/governance/governance.ts"
import { ChainUnavailable } from "../services/chain.ts"
import { executeRefusal } from "./governance-port.ts"

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0)

describe("executeRefusal", () => {
  it("maps each refusal to its status and a reason naming the proposal", () => {
    const cases: Array<[{ readonly _tag: string; readonly message: string }, number, string]> = [
      [new GovernanceUnknownProposal({ id: 4 }), 404, "GovernanceUnknownProposal: proposal 4 does not exist on the chain"],
      [new GovernanceVotingOpen({ id: 4, votingEnds: NOW + 30_000 }), 409,
        "GovernanceVotingOpen: proposal 4 is still open for votes until 2026-12-04T09:00:30.000Z (in 30 s); it can be executed once it has passed and its timelock is over"],
      [new GovernanceTimelockNotExpired({ id: 4, executableAt: NOW + 5_000 }), 409, "GovernanceTimelockNotExpired: proposal 4 passed, but its timelock runs until 2026-12-04T09:00:05.000Z (in 5 s)"],
      [new GovernanceNotPassed({ id: 4, state: "Defeated" }), 409, "GovernanceNotPassed: proposal 4 did not pass (Defeated): there is nothing to execute"],
      [new GovernanceAlreadyExecuted({ id: 4 }), 409, "GovernanceAlreadyExecuted: proposal 4 was executed already"],
      [new ChainUnavailable({ operation: "executeProposal", reason: "no answer" }), 503, "ChainUnavailable: proposal 4 was not executed: executeProposal: no answer"],
    ]
    for (const [error, status, reason] of cases) {
      const r = executeRefusal(4, error, NOW)
      expect({ status: r.status, reason: r.reason }, error._tag).toEqual({ status, reason })
    }
  })
})

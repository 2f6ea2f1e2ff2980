/** `dai sim economy`'s report as people read it in a terminal, and as JSON. */
import { formatDuration } from "../runtime/core/duration.ts"
import { formatTokens } from "../runtime/core/units.ts"
import { ratio, type EconomyReport } from "../sim/economy/report.ts"
import { table } from "./format.ts"

const pct = (x: number) => `${(x * 100).toFixed(2)}%`
const tok = (x: bigint) => formatTokens(x, 2)

/** The report as people read it in a terminal. */
export const formatReport = (r: EconomyReport): string => {
  const s = r.supply
  const lines = [
    `Economy run: ${r.days} days of virtual time, seed ${r.seed}, ${r.events} events, trace ${r.traceHash.slice(0, 16)}…`,
    "",
    "Supply (tokens)",
    table(["", "amount", "share"], [
      ["minted", tok(s.minted), "100%"],
      ["balances", tok(s.balances), pct(ratio(s.balances, s.minted))],
      ["bonded", tok(s.bonded), pct(ratio(s.bonded, s.minted))],
      ["unbonding", tok(s.unbonding), pct(ratio(s.unbonding, s.minted))],
      ["reward pool", tok(s.rewardPool), pct(ratio(s.rewardPool, s.minted))],
      ["insurance pool", tok(s.insurancePool), pct(ratio(s.insurancePool, s.minted))],
      ["burnt", tok(s.burnt), pct(ratio(s.burnt, s.minted))],
    ]),
    `conserved to the wei: ${r.supplyConserved ? "yes" : "NO"}   fees paid: ${tok(r.fees)}   emission released: ${tok(r.emitted)}`,
    "",
    "Honest delegators' yield by lock tier (stayed bonded to unslashed validators)",
    r.yields.length === 0 ? "  (none)" : table(["lock", "delegators", "APR"], r.yields.map((y) => [y.tier === 0 ? "none" : `${y.tier}d`, String(y.owners), pct(y.apr)])),
    "",
    "Slashes",
    r.slashes.length === 0 ? "  (none)" : table(["day", "validator", "infraction", "slashed", "to insurance", "paid to delegators", "outcome"], r.slashes.map((x) => [
      String(x.day), x.pool, x.infraction, tok(x.amount), tok(x.toInsurance), tok(x.insurancePaid), x.tombstoned ? "tombstoned" : "jailed",
    ])),
    `insurance: paid in ${tok(r.insurance.paidIn)}, credited to delegators ${tok(r.insurance.paidOut)}, claimed ${tok(r.insurance.claimed)}, available ${tok(r.insurance.available)}`,
    "",
    "Validators",
    table(["id", "status", "bonded", "delegators", "commission", "power share"], r.validators.map((v) => [
      v.id, v.status, tok(v.tokens), String(v.delegators), pct(v.commission), pct(v.share),
    ])),
    "",
    `Operations applied: ${Object.entries(r.operations.applied).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `Operations refused: ${Object.keys(r.operations.rejected).length === 0 ? "none" : Object.entries(r.operations.rejected).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `Stake positions at the end: ${Object.entries(r.positionStates).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `Epoch length ${formatDuration(r.epochMs)}; rerun with --seed ${r.seed} for the same trace hash.`,
  ]
  return lines.join("\n")
}

/** The report as plain JSON (bigints as decimal strings of base units). */
export const reportJson = (r: EconomyReport): string =>
  JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)

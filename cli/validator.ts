/**
 * `dai validator …`: joining the network on its chain, through a running node's API. `register`
 * bonds the node's account as a validator on Staking (its self-bond, lock tier and commission),
 * with the node's consensus key as the key that signs its votes; the validator joins the set at the
 * next epoch. `bond-trainer` bonds the node's account as a trainer that is not a validator (a
 * contributor bond), which the training cohorts draw from. The chain's refusals come back as one
 * line (exit 2): a bond under the minimum names the minimum, a second registration says so.
 */
import { formatTokens, tokens } from "../runtime/core/units.ts"
import { defineCommand, InputError, UsageError, type Command, type Io } from "./command.ts"
import { API_FLAGS, apiFlagsHelp, apiTarget, callApi, postApi } from "./api-client.ts"
import { DEFAULT_DATA_DIR } from "./node.ts"

const TIERS = [0, 30, 90, 180, 365]

/** `--amount` in DAI (whole tokens, up to 18 decimals) → base units. */
export const amountFlag = (raw: string | undefined): bigint => {
  if (raw === undefined) throw new UsageError({ reason: "give --amount, in DAI (e.g. --amount 2000)" })
  if (!/^\d+(\.\d{1,18})?$/.test(raw)) throw new InputError({ reason: `--amount must be DAI such as 2000 or 1500.5, got "${raw}"` })
  const amount = tokens(raw)
  if (amount === 0n) throw new InputError({ reason: "--amount must be more than 0" })
  return amount
}

/** `--tier` in days: 0, 30, 90, 180 or 365 (default 0). */
export const tierFlag = (raw: string | undefined): 0 | 30 | 90 | 180 | 365 => {
  if (raw === undefined) return 0
  const t = Number(raw)
  if (!/^\d+$/.test(raw) || !TIERS.includes(t)) throw new InputError({ reason: `--tier must be a lock tier in days: ${TIERS.join(", ")}; got "${raw}"` })
  return t as 0 | 30 | 90 | 180 | 365
}

/** `--commission` as a fraction (0.05) or a percentage (5%) → wad (1e18 = 100%). */
export const commissionFlag = (raw: string | undefined): bigint => {
  if (raw === undefined) return 0n
  const pct = /^(\d+(?:\.\d{1,16})?)%$/.exec(raw)
  const wad = pct !== null ? tokens(pct[1]!) / 100n : /^\d+(\.\d{1,18})?$/.test(raw) ? tokens(raw) : undefined
  if (wad === undefined || wad > 10n ** 18n) throw new InputError({ reason: `--commission must be a fraction from 0 to 1 (0.05) or a percentage (5%), got "${raw}"` })
  return wad
}

const pctText = (wad: bigint): string => `${Number((wad * 10_000n) / 10n ** 18n) / 100} %`
const tierText = (t: unknown): string => (t === 0 ? "no lock" : `${String(t)}-day lock`)

const BOND_HELP = {
  "--amount DAI": "the bond in DAI, from the node's account on the chain",
  "--tier DAYS": "lock tier: 0, 30, 90, 180 or 365 days (a longer lock earns a larger reward multiplier; default 0)",
}

const registerCommand = defineCommand({
  name: "register",
  summary: "Register the node's account as a validator on the chain (Staking): self-bond, lock tier and commission, its votes signed by the node's consensus key; it joins the validator set at the next epoch.",
  exits: "0 registered; 2 refused by the chain (e.g. a bond under staking.minValidatorBond, registered already, too few tokens) or a bad command line; 1 when the node cannot be reached or has no chain",
  options: { ...API_FLAGS, amount: { type: "string" }, tier: { type: "string" }, commission: { type: "string" } },
  help: {
    ...BOND_HELP,
    "--commission RATE": "your cut of your delegators' rewards: 0.05 or 5% (at most staking.maxCommission; default 0)",
    ...apiFlagsHelp(DEFAULT_DATA_DIR),
  },
  examples: ["dai validator register --amount 2000", "dai validator register --amount 5000 --tier 90 --commission 5% --data-dir ~/.dai/node3"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const amount = amountFlag(values.amount)
    const tier = tierFlag(values.tier)
    const commission = commissionFlag(values.commission)
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, "dai validator register", () => postApi(target, "/validators", { amount: amount.toString(), tier, commission: commission.toString() }))
    if (!r.ok) return r.code
    const b = r.body
    io.out([
      `registered ${String(b["operator"])} as a validator on the chain: ${formatTokens(BigInt(String(b["amount"])))} DAI self-bond, ${tierText(b["tier"])}, commission ${pctText(BigInt(String(b["commission"])))}`,
      `  signing key  ${String(b["signingKey"])} (the node's consensus key)`,
      `  position     ${String(b["position"])} in pool ${String(b["pool"])}`,
      "It joins the validator set at the next epoch boundary.",
    ].join("\n"))
    return 0
  },
})

const bondTrainerCommand = defineCommand({
  name: "bond-trainer",
  summary: "Bond the node's account as a trainer on the chain (a contributor bond): training cohorts draw from bonded trainers, validators or not.",
  exits: "0 bonded; 2 refused by the chain (e.g. a bond under staking.minContributorBond, too few tokens) or a bad command line; 1 when the node cannot be reached or has no chain",
  options: { ...API_FLAGS, amount: { type: "string" }, tier: { type: "string" } },
  help: { ...BOND_HELP, ...apiFlagsHelp(DEFAULT_DATA_DIR) },
  examples: ["dai validator bond-trainer --amount 200", "dai validator bond-trainer --amount 500 --tier 30 --data-dir ~/.dai/node4"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const amount = amountFlag(values.amount)
    const tier = tierFlag(values.tier)
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, "dai validator bond-trainer", () => postApi(target, "/trainers", { amount: amount.toString(), tier }))
    if (!r.ok) return r.code
    const b = r.body
    io.out(`bonded ${String(b["owner"])} as a trainer on the chain: ${formatTokens(BigInt(String(b["amount"])))} DAI, ${tierText(b["tier"])}; position ${String(b["position"])} in pool ${String(b["pool"])}`)
    return 0
  },
})

export const validatorCommands: readonly Command[] = [registerCommand, bondTrainerCommand]

/**
 * The in-memory ledger at genesis (the `Economy` behind runtime/services/memory-chain.ts: the
 * simulator's shared ledger, a real node's without an EVM chain): the allocations minted, the
 * genesis validators registered with their consensus signing keys and the contributors bonded,
 * each a fee deposit, then snapshot 1 taken — the snapshot that governs the first epoch
 * (`GENESIS_SNAPSHOT`), as Committee.sol's snapshot 1 does on a real chain.
 *
 * Fee custody is the Committee's: a transaction the committee orders is paid from its signer's fee
 * deposit when the epoch report settles. The genesis gives every genesis validator and contributor
 * a deposit of `GENESIS_FEE_DEPOSIT` (or what its allocation has left after its bond, if less), so a
 * network pays its fees from its first block with no transaction of its own (docs/architecture.md).
 */
import { Result } from "effect"
import { Economy } from "../econ/index.ts"
import { TOKEN } from "../units.ts"
import { App, AppError, GENESIS_SNAPSHOT, type AppGenesis, type Verifier } from "./app.ts"
import type { CommitteeSource } from "./committee.ts"

/** The fee deposit the genesis gives each genesis validator and contributor: 100 tokens, 10,000 transactions at the default fees.txFee. */
export const GENESIS_FEE_DEPOSIT = 100n * TOKEN

/** The account that takes the genesis snapshot (anyone may). */
const GENESIS_CALLER = "genesis"

/** The in-memory ledger of `g`: allocations, validators (with their signing keys), contributors, fee deposits, snapshot 1; or what does not apply. */
export const ledgerAtGenesis = (g: AppGenesis): Result.Result<Economy, string> => {
  const e = Economy.genesis(g.allocations, g.params, g.time)
  if (Result.isFailure(e)) return Result.fail(`genesis: ${e.failure.message}`)
  const economy = e.success
  for (const v of g.validators) {
    const r = economy.apply({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission, signingKey: v.address.toLowerCase() }, g.time)
    if (Result.isFailure(r)) return Result.fail(`genesis validator ${v.operator}: ${r.failure.message}`)
  }
  for (const c of g.contributors ?? []) {
    const r = economy.apply({ type: "bondContributor", owner: c.owner, amount: c.amount, tier: c.tier }, g.time)
    if (Result.isFailure(r)) return Result.fail(`genesis contributor ${c.owner}: ${r.failure.message}`)
  }
  for (const account of [...g.validators.map((v) => v.operator), ...(g.contributors ?? []).map((c) => c.owner)]) {
    const spare = economy.balanceOf(account)
    const amount = spare < GENESIS_FEE_DEPOSIT ? spare : GENESIS_FEE_DEPOSIT
    if (amount === 0n) continue
    const r = economy.depositFees(account, amount, g.time)
    if (Result.isFailure(r)) return Result.fail(`genesis fee deposit of ${account}: ${r.failure.message}`)
  }
  const s = economy.takeSnapshot(GENESIS_CALLER, g.time)
  if (Result.isFailure(s)) return Result.fail(`genesis snapshot: ${s.failure.message}`)
  if (s.success.id !== GENESIS_SNAPSHOT) return Result.fail(`genesis snapshot: the ledger took snapshot ${s.success.id}, not ${GENESIS_SNAPSHOT}`)
  return Result.succeed(economy)
}

/** The snapshots of an in-memory ledger, as an App reads them. */
export const economySource = (economy: Economy): CommitteeSource => ({ committee: (id) => economy.committeeSnapshot(id) })

/** A ledger at genesis and one replica over it (tests, genesis checks); throws an AppError naming what does not apply. */
export const genesisReplica = (g: AppGenesis, verify: Verifier): { readonly economy: Economy; readonly app: App } => {
  const r = ledgerAtGenesis(g)
  if (Result.isFailure(r)) throw new AppError({ reason: r.failure })
  return { economy: r.success, app: App.genesis(g, verify, economySource(r.success)) }
}

/**
 * The market part of the TUI's view model: the latest `market` snapshot a node publishes after each
 * block that changed the market (runtime/api/market-api.ts), read tolerantly like every event: a
 * malformed field reads as missing, and the lists are bounded.
 */
import { amount, bool, count, list, record, str } from "./fields.ts"

export const MARKET_LIMITS = { providers: 100, jobs: 50 } as const

export const MARKET_JOB_STATES = ["open", "assigned", "disputed", "settled", "expired"] as const

export interface MarketProviderRow {
  readonly address: string
  readonly kinds: readonly string[]
  readonly pricePerUnit: bigint | undefined
  readonly capacity: number | undefined
  readonly openJobs: number | undefined
  readonly bond: bigint | undefined
  /** Debit notes paid to it, before fees. */
  readonly earned: bigint | undefined
  readonly retired: boolean
}

export interface MarketJobRow {
  readonly id: number
  readonly kind: string
  readonly state: string
  readonly requester: string | undefined
  readonly provider: string | undefined
  readonly units: bigint | undefined
  readonly delivered: bigint | undefined
  readonly paidUnits: bigint | undefined
  /** The locked price (0 while open), else the job's cap. */
  readonly pricePerUnit: bigint | undefined
  readonly maxPricePerUnit: bigint | undefined
}

export interface MarketView {
  /** When the snapshot was taken. */
  readonly at: number
  readonly providers: readonly MarketProviderRow[]
  readonly activeProviders: number | undefined
  /** Jobs by state, over every job on the ledger. */
  readonly jobs: Readonly<Record<string, number>>
  readonly escrow: bigint | undefined
  readonly bonds: bigint | undefined
  readonly paid: bigint | undefined
  readonly feeBurnt: bigint | undefined
  readonly feeToStakers: bigint | undefined
  /** The newest jobs (at most MARKET_LIMITS.jobs), oldest first. */
  readonly recent: readonly MarketJobRow[]
}

type Data = Readonly<Record<string, unknown>>

/** A `market` event's data as a MarketView. */
export const marketView = (at: number, d: Data): MarketView => {
  const totals = record(d.totals) ?? {}
  const byState = record(totals.jobs) ?? {}
  const jobs: Record<string, number> = {}
  for (const s of MARKET_JOB_STATES) jobs[s] = count(byState, s) ?? 0
  const providers: MarketProviderRow[] = []
  for (const item of list(d, "providers") ?? []) {
    const p = record(item)
    const address = p && str(p, "address")
    if (p === undefined || address === undefined || providers.length >= MARKET_LIMITS.providers) continue
    providers.push({
      address, kinds: (list(p, "kinds") ?? []).filter((k): k is string => typeof k === "string").slice(0, 16),
      pricePerUnit: amount(p, "pricePerUnit"), capacity: count(p, "capacity"), openJobs: count(p, "openJobs"), bond: amount(p, "bond"),
      earned: amount(p, "earned"), retired: bool(p, "retired") ?? false,
    })
  }
  const recent: MarketJobRow[] = []
  for (const item of (list(d, "jobs") ?? []).slice(-MARKET_LIMITS.jobs)) {
    const j = record(item)
    const id = j && count(j, "id")
    if (j === undefined || id === undefined) continue
    recent.push({
      id, kind: str(j, "kind") ?? "?", state: str(j, "state") ?? "?", requester: str(j, "requester"), provider: str(j, "provider"),
      units: amount(j, "units"), delivered: amount(j, "delivered"), paidUnits: amount(j, "paidUnits"),
      pricePerUnit: amount(j, "pricePerUnit"), maxPricePerUnit: amount(j, "maxPricePerUnit"),
    })
  }
  return {
    at, providers, activeProviders: count(totals, "activeProviders"), jobs, escrow: amount(totals, "escrow"), bonds: amount(totals, "bonds"),
    paid: amount(totals, "paid"), feeBurnt: amount(totals, "feeBurnt"), feeToStakers: amount(totals, "feeToStakers"), recent,
  }
}

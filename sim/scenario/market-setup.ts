/**
 * The compute market of a scenario file (`network.providers`, `providerPrice`, `requesters`, `jobRate`
 * and the extensions of scenarios/README.md), checked and normalised: every problem is a FileError
 * naming the key. Pure.
 */
import { parseDuration } from "../../runtime/core/duration.ts"
import { FileError } from "./decode-file.ts"
import type { ScenarioFile } from "./schema.ts"

/** The job kind the simulated market serves (inference on the network's MNIST classifier). */
export const SIM_MARKET_KIND = "infer:mnist"

export interface MarketSetup {
  readonly kind: string
  readonly providers: readonly string[]
  readonly requesters: readonly string[]
  /** Tokens per unit, per provider. */
  readonly prices: readonly number[]
  /** Time per unit of work (ms), per provider. */
  readonly speeds: readonly number[]
  readonly capacity: number
  /** Tokens each provider bonds (0: market.minProviderBond). */
  readonly bond: number
  /** Time between two jobs of one requester (ms). */
  readonly jobInterval: number
  readonly jobUnits: number
  /** How long a job may take from its posting (ms). */
  readonly jobDeadline: number
  /** A requester's cap per unit (tokens). */
  readonly maxPrice: number
  /** When requesters stop posting, so that every job can end before `end` (ms; ≤ 0: no job fits). */
  readonly stopPostingAt: (disputeWindow: number, end: number) => number
}

const list = <T>(file: string, key: string, value: T | readonly T[] | undefined, n: number, fallback: T): T[] => {
  if (value === undefined) return Array.from({ length: n }, () => fallback)
  if (!Array.isArray(value)) return Array.from({ length: n }, () => value as T)
  if (value.length !== n) throw new FileError({ file, key, reason: `expected one value per provider (${n}), got ${value.length}` })
  return [...(value as readonly T[])]
}

/** The market of `s` (undefined when it has none); `file` names errors. */
export const parseMarket = (s: ScenarioFile, file: string): MarketSetup | undefined => {
  const n = s.network
  const keys = (["providers", "providerPrice", "requesters", "jobRate", "providerSpeed", "providerCapacity", "providerBond", "jobUnits", "jobDeadline", "jobMaxPrice"] as const).filter((k) => n[k] !== undefined)
  if (keys.length === 0) return undefined
  const providers = n.providers ?? 0
  const requesters = n.requesters ?? 0
  if (providers === 0) throw new FileError({ file, key: "network.providers", reason: `the market keys (${keys.join(", ")}) need providers (network.providers >= 1)` })
  if (requesters === 0) throw new FileError({ file, key: "network.requesters", reason: `the market keys (${keys.join(", ")}) need requesters (network.requesters >= 1)` })
  if (n.jobRate === undefined) throw new FileError({ file, key: "network.jobRate", reason: "requesters need a job rate, e.g. jobRate: 1/10s" })
  const rate = /^([0-9]+)\/(.+)$/.exec(n.jobRate)!
  const jobInterval = Math.max(1, Math.round(parseDuration(rate[2]!)! / Number(rate[1])))
  const prices = list(file, "network.providerPrice", n.providerPrice, providers, 10)
  const speeds = list(file, "network.providerSpeed", n.providerSpeed, providers, "200ms").map((d) => parseDuration(d)!)
  for (const [i, ms] of speeds.entries()) {
    if (ms <= 0) throw new FileError({ file, key: Array.isArray(n.providerSpeed) ? `network.providerSpeed[${i}]` : "network.providerSpeed", reason: "a provider's time per unit must be above 0" })
  }
  const maxPrice = n.jobMaxPrice ?? 2 * Math.max(...prices)
  const jobDeadline = n.jobDeadline === undefined ? 60_000 : parseDuration(n.jobDeadline)!
  if (jobDeadline <= 0) throw new FileError({ file, key: "network.jobDeadline", reason: "a job's deadline must be above 0" })
  if (Math.min(...prices) > maxPrice) throw new FileError({ file, key: "network.jobMaxPrice", reason: `${maxPrice} tokens per unit is below every provider's price (lowest ${Math.min(...prices)}): no job could be assigned` })
  return {
    kind: SIM_MARKET_KIND,
    providers: Array.from({ length: providers }, (_, i) => `p${i}`),
    requesters: Array.from({ length: requesters }, (_, i) => `r${i}`),
    prices,
    speeds,
    capacity: n.providerCapacity ?? 4,
    bond: n.providerBond ?? 0,
    jobInterval,
    jobUnits: n.jobUnits ?? 10,
    jobDeadline,
    maxPrice,
    // A job's life: its deadline, the last note's dispute window, and the provider's settle after it.
    stopPostingAt: (disputeWindow, end) => end - jobDeadline - 2 * disputeWindow - 5_000,
  }
}

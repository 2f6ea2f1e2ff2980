/**
 * Test support for the contracts: build once (under a lock, since vitest runs files in parallel
 * processes), connect to Hardhat's in-process network, deploy the token and staking with the
 * economy's parameters converted to the contracts' units (ms → s).
 */
import { mkdir, rm, stat } from "node:fs/promises"
import hre, { network } from "hardhat"
import { econConfig } from "../../runtime/core/econ/config.ts"
import type { Params } from "../../runtime/core/params.ts"

const LOCK = new URL("../../cache/.dai-build-lock", import.meta.url).pathname
let built: Promise<void> | undefined

/** Compile the contracts (cached by Hardhat; serialized across test processes by a lock dir). */
export const ensureBuilt = (): Promise<void> => {
  built ??= (async () => {
    await mkdir(new URL("../../cache/", import.meta.url).pathname, { recursive: true })
    for (let i = 0; ; i++) {
      try {
        await mkdir(LOCK)
        break
      } catch {
        // A stale lock (a killed run) older than 2 minutes is broken.
        const s = await stat(LOCK).catch(() => undefined)
        if (s !== undefined && Date.now() - s.mtimeMs > 120_000) await rm(LOCK, { recursive: true, force: true })
        await new Promise((r) => setTimeout(r, 200))
        if (i > 1500) throw new Error(`could not take the build lock ${LOCK}; remove it if no build is running`)
      }
    }
    try {
      await hre.tasks.getTask("build").run({ quiet: true, noTests: true })
    } finally {
      await rm(LOCK, { recursive: true, force: true })
    }
  })()
  return built
}

/** A fresh in-process chain with the contracts built. */
export const connectChain = async () => {
  await ensureBuilt()
  return network.connect()
}

/** The seconds a duration of `ms` milliseconds lasts (the economy's durations are whole seconds in tests). */
export const msToSec = (ms: number): bigint => {
  if (ms % 1000 !== 0) throw new RangeError(`duration ${ms}ms is not a whole number of seconds`)
  return BigInt(ms / 1000)
}

/** The Solidity `Staking.Params` of a set of economy parameters. */
export const stakingParams = (p: Params) => {
  const c = econConfig(p)
  return {
    burnFraction: c.burnFraction,
    insuranceFraction: c.insuranceFraction,
    insuranceCoverage: c.insuranceCoverage,
    maxCommission: c.maxCommission,
    doubleSignFraction: c.doubleSignFraction,
    downtimeFraction: c.downtimeFraction,
    minValidatorBond: c.minValidatorBond,
    minContributorBond: c.minContributorBond,
    unbondingPeriod: msToSec(c.unbondingPeriod),
    downtimeJailDuration: msToSec(c.downtimeJailDuration),
    multipliers: [c.multipliers[0], c.multipliers[30], c.multipliers[90], c.multipliers[180], c.multipliers[365]],
  }
}

/** Consensus chain id used by the tests' votes. */
export const CONSENSUS_CHAIN_ID = 7n

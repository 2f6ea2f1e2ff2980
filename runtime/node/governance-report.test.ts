/**
 * Governance telemetry over the Chain port (here the simulated chain over a real economy): after a
 * block, each proposal whose state or tallies changed is reported once; nothing new, nothing sent.
 */
import { Effect, Result } from "effect"
import { describe, expect, it, vi } from "vitest"
import { governanceOverChain } from "../api/governance-port.ts"
import { makeTelemetryHub } from "../api/telemetry-hub.ts"
import { Economy } from "../core/econ/index.ts"
import { resolveParams } from "../core/params.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { makeSimChain } from "../../sim/adapters/chain.ts"
import { reportGovernance } from "./governance-report.ts"

describe("governance telemetry", () => {
  it("reports a proposal when it appears and when its tallies change, once each", async () => {
    const params = Result.getOrThrow(resolveParams({}))
    const bond = BigInt(params["staking.minValidatorBond"]) * 10n * TOKEN
    const economy = Result.getOrThrow(Economy.genesis([{ address: "v0", amount: bond * 2n }, { address: "community", amount: TOTAL_SUPPLY - bond * 2n }], params, 0))
    Result.getOrThrow(economy.apply({ type: "registerValidator", operator: "v0", amount: bond, tier: 0, commission: WAD / 20n }, 0))
    let now = 1_000
    const governance = governanceOverChain(makeSimChain(economy, () => now))
    const hub = makeTelemetryHub()
    const events: TelemetryEvent[] = []
    hub.subscribe((e) => void (e.kind === "governance.proposal" && events.push(e)))
    const emit = (kind: string, data: Record<string, unknown>) => Effect.runSync(hub.telemetry.emit({ at: now, node: "v0", kind, data }))
    /** A block: how many proposal events its read brought. */
    const block = async () => {
      const before = events.length
      emit("block.committed", { height: 1 })
      await new Promise((r) => setTimeout(r, 20))
      return events.length - before
    }
    const stop = reportGovernance(governance, hub.subscribe, emit)
    expect(await block()).toBe(0)
    const id = await governance.propose("v0", { kind: "param", name: "staking.unbondingPeriod", value: 7 * 24 * 3600 * 1000 })
    expect(await block()).toBe(1)
    expect(events.at(-1)!.data).toMatchObject({ id, state: "Active", forVotes: "0", title: `staking.unbondingPeriod = ${7 * 24 * 3600 * 1000}` })
    expect(await block()).toBe(0)
    now += 1_000
    await governance.castVote(id, "v0", true)
    await vi.waitFor(async () => expect(await block()).toBe(1))
    expect(BigInt(events.at(-1)!.data["forVotes"] as string)).toBeGreaterThan(0n)
    stop()
    await governance.propose("v0", { kind: "param", name: "fees.burnFraction", value: 0.4 })
    expect(await block()).toBe(0)
  })
})

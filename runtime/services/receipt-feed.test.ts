/**
 * The ledger's receipts as a node hears them: the in-memory Chain tells every receipt it makes (an
 * operation, the slash of evidence), in order, and keeps its slashes; `withReceipts` tells what is
 * submitted through it and nothing that was refused. A stopped listener hears no more.
 */
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { testEconomy } from "../core/econ/testkit.ts"
import type { Receipt } from "../core/econ/index.ts"
import { TOKEN } from "../core/units.ts"
import { makeMemoryChain } from "./memory-chain.ts"
import { withReceipts } from "./receipt-feed.ts"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runSync(Effect.result(e))

describe("receipts", () => {
  it("the in-memory Chain tells each receipt once, in order, none of a refusal; a stopped listener hears no more", () => {
    const chain = makeMemoryChain(testEconomy(), () => 1_000)
    const heard: Receipt[] = []
    const stop = chain.receipts((r) => void heard.push(r))
    expect(Result.isSuccess(run(chain.submit({ type: "transfer", from: "d0", to: "d1", amount: TOKEN })))).toBe(true)
    expect(Result.isFailure(run(chain.submit({ type: "transfer", from: "d0", to: "d1", amount: 10n ** 40n })))).toBe(true)
    expect(Result.isSuccess(run(chain.submit({ type: "registerValidator", operator: "v0", amount: 100_000n * TOKEN, tier: 0, commission: 0n })))).toBe(true)
    expect(Result.isSuccess(run(chain.submit({ type: "slash", pool: "v0", infraction: "downtime", infractionTime: 1_000, evidenceId: "x" })))).toBe(true)
    expect(heard.map((r) => r.type)).toEqual(["transfer", "registerValidator", "slash"])
    expect(chain.slashes.map((s) => s.pool)).toEqual(["v0"])
    stop()
    run(chain.submit({ type: "transfer", from: "d0", to: "d1", amount: TOKEN }))
    expect(heard).toHaveLength(3)
  })

  it("withReceipts tells what was submitted through it, not what was refused nor what others did", () => {
    const ledger = makeMemoryChain(testEconomy(), () => 1_000)
    const { chain, receipts } = withReceipts(ledger)
    const heard: Receipt[] = []
    receipts((r) => void heard.push(r))
    run(chain.submit({ type: "transfer", from: "d0", to: "d1", amount: TOKEN }))
    run(chain.submit({ type: "transfer", from: "d0", to: "d1", amount: 10n ** 40n }))
    run(ledger.submit({ type: "transfer", from: "d1", to: "d0", amount: TOKEN }))
    expect(heard.map((r) => [r.type, (r as { from?: string }).from])).toEqual([["transfer", "d0"]])
    // Reads pass through unchanged.
    expect(run(chain.balanceOf("d1"))).toEqual(run(ledger.balanceOf("d1")))
  })
})

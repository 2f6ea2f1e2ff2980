/**
 * `dai provider start`, `dai job …` and `dai market` against a real node's API (a validator on
 * loopback whose ledger is its own in-memory one): what the ledger takes is printed (exit 0), what it
 * refuses is one line naming the rule (exit 2) and changes nothing, a bad command line is usage or one
 * line (exit 2) before the node is asked.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { MarketOp } from "../runtime/core/market/types.ts"
import { TOKEN } from "../runtime/core/units.ts"
import { daiFlag, kindsFlag } from "./market.ts"
import { cliNode, runDai as run } from "./test-harness.ts"

const { t, api } = cliNode("dai-cli-market-")
const economy = () => t().node.ownLedger!.economy

describe("dai provider start", () => {
  it("checks its flags before asking the node", async () => {
    expect((await run("provider", "start", "--kinds", "infer:mnist", "--price", "1", ...api())).err).toMatch(/give --bond/)
    expect((await run("provider", "start", "--bond", "1000", "--kinds", "a b", "--price", "1", ...api())).err).toMatch(/--kinds must be 1 to 16 distinct job kinds/)
    expect((await run("provider", "start", "--bond", "1000", "--kinds", "infer:mnist", "--price", "0", ...api())).err).toMatch(/--price must be more than 0/)
    expect((await run("provider", "start", "--bond", "1000", "--kinds", "infer:mnist", "--price", "1", "--capacity", "0", ...api())).err).toMatch(/--capacity must be a whole number from 1/)
    expect((await run("provider", "start", "--once", "--interval", "1ms", ...api())).code).toBe(2)
    expect((await run("provider", "start", "--once", "--lm-blocks", "2-9", "--bond", "200", "--price", "1", ...api())).err).toMatch(/--lm-blocks: /)
    expect(kindsFlag("infer:mnist, finetune:mnist")).toEqual(["infer:mnist", "finetune:mnist"])
    expect(daiFlag("price", "0.05")).toBe(5n * 10n ** 16n)
    expect(economy().providers()).toEqual([])
  })

  it("a bond under the minimum is refused naming it; then registers, announces, and a second start only announces", async () => {
    const low = await run("provider", "start", "--once", "--bond", "10", "--kinds", "infer:mnist", "--price", "0.5", ...api())
    expect(low.code).toBe(2)
    expect(low.err).toMatch(/^dai provider start: MarketInsufficientBond: .*market\.minProviderBond/)
    expect(economy().providers()).toEqual([])
    const ok = await run("provider", "start", "--once", "--bond", "1000", "--kinds", "infer:mnist", "--price", "0.5", "--capacity", "3", ...api())
    expect(ok.err).toBe("")
    expect(ok.code).toBe(0)
    expect(ok.out).toMatch(/^registered v0 as a provider: bond 1,000 DAI, infer:mnist at 0\.5 DAI per unit, 3 job\(s\) at once\nannounced on the network under market\/infer:mnist\n$/)
    expect(economy().provider("v0")).toMatchObject({ bond: 1_000n * TOKEN, pricePerUnit: TOKEN / 2n, capacity: 3 })
    const found = await Effect.runPromise(t().network.findProviders("market/infer:mnist"))
    expect(found.map((p) => p.record)).toEqual([{ pricePerUnit: TOKEN / 2n, capacity: 3, queue: 0 }])
    const again = await run("provider", "start", "--once", "--price", "9", ...api())
    expect(again.code).toBe(0)
    expect(again.out).toMatch(/^v0 is a registered provider: bond 1,000 DAI, infer:mnist at 0\.5 DAI per unit/)
    expect(again.err).toMatch(/registered already: --bond, --kinds, --price and --capacity were not applied/)
    expect(economy().provider("v0")!.pricePerUnit).toBe(TOKEN / 2n)
  })
})

describe("dai job", () => {
  it("submit posts a job with its budget in escrow; status and list show it; too few tokens is refused (exit 2)", async () => {
    const poor = await run("job", "submit", "--kind", "infer:mnist", "--units", "1000000", "--max-price", "1000", ...api())
    expect(poor.code).toBe(2)
    expect(poor.err).toMatch(/^dai job submit: TokenInsufficientBalance/)
    expect(economy().jobs()).toEqual([])
    const ok = await run("job", "submit", "--kind", "infer:mnist", "--units", "10", "--max-price", "0.5", "--deadline", "10m", ...api())
    expect(ok.err).toBe("")
    expect(ok.code).toBe(0)
    expect(ok.out).toMatch(/^posted job 1: 10 units of infer:mnist at most 0\.5 DAI per unit; 5 DAI in escrow until \d{4}-/)
    const status = await run("job", "status", "1", ...api())
    expect(status.code).toBe(0)
    expect(status.out).toMatch(/^job 1: infer:mnist, open\n {2}requester {3}v0\n {2}units {7}10 \(0 delivered, 0 paid\)\n {2}price {7}at most 0\.5 DAI per unit/)
    const list = await run("job", "list", "--mine", "--state", "open", ...api())
    expect(list.out.split("\n")[0]).toMatch(/^id\s+kind\s+state\s+units\s+delivered\s+paid units\s+provider\s+price\/unit\s+budget\s+requester$/)
    expect(list.out).toMatch(/\n1\s+infer:mnist\s+open\s+10\s+0\s+0\s+-\s+≤ 0\.5 DAI\s+5 DAI\s+v0\n/)
    expect((await run("job", "list", "--state", "settled", ...api())).out.trim()).toBe("no jobs")
  })

  it("confirm pays a delivery; refused actions name the rule; bad ids and states are refused before asking", async () => {
    const op = (o: MarketOp) => Effect.runPromise(t().node.ledger.marketOp(o))
    await op({ type: "registerProvider", provider: "d0", bond: 1_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: TOKEN / 4n, capacity: 1 })
    await op({ type: "assignJob", job: 1, provider: "d0", by: "v0" })
    const nothing = await run("job", "confirm", "1", ...api())
    expect(nothing.code).toBe(2)
    expect(nothing.err).toMatch(/^dai job confirm: MarketNothingToPay/)
    await op({ type: "deliver", job: 1, provider: "d0", units: 4n, resultHash: `0x${"ab".repeat(32)}` })
    const confirmed = await run("job", "confirm", "1", ...api())
    expect(confirmed.err).toBe("")
    expect(confirmed.out).toMatch(/job 1: infer:mnist, assigned[\s\S]*units {7}10 \(4 delivered, 4 paid\)[\s\S]*0\.25 DAI per unit, locked with d0[\s\S]*note 1 {5}4 units by d0, 1 DAI, paid/)
    expect((await run("job", "refund", "1", ...api())).err).toMatch(/^dai job refund: MarketBeforeDeadline/)
    expect((await run("job", "status", "99", ...api())).code).toBe(2)
    expect((await run("job", "status", "x", ...api())).err).toMatch(/ID must be a job number/)
    expect((await run("job", "list", "--state", "done", ...api())).err).toMatch(/--state must be one of open, assigned, disputed, settled, expired/)
  })
})

describe("dai market", () => {
  it("--lm-blocks on an account registered for other kinds is refused (an account registers once), changing nothing", async () => {
    const before = economy().providers()
    const r = await run("provider", "start", "--once", "--lm-blocks", "0-1", ...api())
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/registered already for .*not infer:lm\/0-1/)
    expect(economy().providers()).toEqual(before)
  })

  it("shows providers with price, queue and bond, jobs by state, escrow and fees", async () => {
    const r = await run("market", ...api())
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    const lines = r.out.split("\n")
    expect(lines[0]).toBe("providers 2 active of 2; bonds 2,000 DAI")
    expect(lines[1]).toMatch(/^provider\s+kinds\s+price\/unit\s+queue\s+bond\s+earned\s+status$/)
    expect(r.out).toMatch(/\nv0\s+infer:mnist\s+0\.5 DAI\s+0\/3\s+1,000 DAI\s+0 DAI\s+active\n/)
    expect(r.out).toMatch(/\nd0\s+infer:mnist\s+0\.25 DAI\s+1\/1\s+1,000 DAI\s+1 DAI\s+active\n/)
    expect(r.out).toMatch(/\njobs {7}open 0, assigned 1, disputed 0, settled 0, expired 0\n/)
    // 1 DAI paid for 4 units: a 5 % fee (market.protocolFee), 30 % of it burnt (fees.burnFraction), the rest to stakers.
    expect(r.out).toMatch(/\nfees {7}0\.015 DAI burnt, 0\.035 DAI to stakers \(since genesis\)/)
    expect(r.out).toMatch(/\nescrow {5}4 DAI\n/)
  })
})

/**
 * `dai gov execute` and `dai validator register / bond-trainer` against a real node's API (a
 * validator on loopback whose Chain port is the simulated ledger): refusals are one line naming the
 * proposal or the rule, exit 2, and change nothing; a bond the chain takes is printed, exit 0; a
 * node that cannot be reached is exit 1; a malformed command line is usage, exit 2. The same
 * commands against the contracts on Hardhat: runtime/node/devnet-governance.test.ts.
 */
import { writeFileSync } from "node:fs"
import { freePort } from "../runtime/node/free-port.ts"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { governanceOverChain } from "../runtime/api/governance-port.ts"
import { cliNode, runDai as run } from "./test-harness.ts"
import { commissionFlag } from "./validator.ts"

const { t, dir, tokenFile, api } = cliNode("dai-cli-gov-", { governance: (ledger) => governanceOverChain(ledger) })

describe("dai gov vote", () => {
  it("votes for, against or abstain as the node's account; abstain counts toward quorum only", async () => {
    const id = (await t().api.propose({ action: { kind: "param", name: "fees.burnFraction", value: 0.41 } })).id
    const bad = await run("gov", "vote", String(id), "--support", "maybe", ...api())
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--support must be for, against or abstain, got "maybe"/)
    const r = await run("gov", "vote", String(id), "--abstain", ...api())
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    expect(r.out).toMatch(new RegExp(`^voted abstain on proposal ${id} with \\d+ votes \\(counted toward quorum only\\)`))
    const p = (await t().api.proposals()).find((x) => x.id === id)!
    expect(p).toMatchObject({ forVotes: "0", againstVotes: "0" })
    expect(BigInt(p.abstainVotes)).toBeGreaterThan(0n)
    const again = await run("gov", "vote", String(id), "--support", "for", ...api())
    expect(again.code).toBe(2)
    expect(again.err).toMatch(/GovernanceAlreadyVoted/)
  })
})

describe("dai gov execute", () => {
  it("refuses an unknown proposal and one still open for votes, naming it and why (exit 2)", async () => {
    const unknown = await run("gov", "execute", "7", ...api())
    expect(unknown).toMatchObject({ code: 2, out: "" })
    expect(unknown.err.trim()).toBe("dai gov execute: GovernanceUnknownProposal: proposal 7 does not exist on the chain")
    const id = await t().api.propose({ action: { kind: "param", name: "fees.burnFraction", value: 0.4 } })
    const open = await run("gov", "execute", String(id.id), ...api())
    expect(open.code).toBe(2)
    expect(open.err).toMatch(new RegExp(`^dai gov execute: GovernanceVotingOpen: proposal ${id.id} is still open for votes until \\S+ \\(in \\d+ s\\)`))
    expect((await t().api.proposals()).find((p) => p.id === id.id)?.state).toBe("Active")
  })

  it("says what is wrong with the command line or the node's whereabouts", async () => {
    expect((await run("gov", "execute")).err).toMatch(/give the proposal's ID[\s\S]*usage: dai gov execute ID/)
    expect((await run("gov", "execute", "x1", ...api())).code).toBe(2)
    const noDir = await run("gov", "execute", "1", "--data-dir", join(dir, "nowhere"))
    expect(noDir.code).toBe(2)
    expect(noDir.err).toMatch(/config\.yaml.*give --data-dir, or --api and --token-file/)
    // A port nobody listens on: the node is not running.
    const port = await freePort()
    const down = await run("gov", "execute", "1", "--api", `http://127.0.0.1:${port}`, "--token-file", tokenFile)
    expect(down.code).toBe(1)
    expect(down.err).toMatch(/no node API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the node running/)
    writeFileSync(join(dir, "wrong-token"), "nope\n")
    const wrong = await run("gov", "execute", "1", "--api", t().server.url, "--token-file", join(dir, "wrong-token"))
    expect(wrong.code).toBe(1)
    expect(wrong.err).toMatch(/missing or wrong bearer token[\s\S]*the token was refused/)
  })
})

describe("dai validator", () => {
  it("register: a second registration of the node's account is refused, saying so (exit 2)", async () => {
    const r = await run("validator", "register", "--amount", "2000", "--tier", "30", "--commission", "5%", ...api())
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^dai validator register: StakingValidatorExists: registering v0 as a validator refused: .*this node is registered already/)
  })

  it("bond-trainer: under the minimum is refused naming it; a bond the chain takes is printed", async () => {
    const before = t().node.ownLedger!.economy.positions("v0").length
    const small = await run("validator", "bond-trainer", "--amount", "5", ...api())
    expect(small.code).toBe(2)
    expect(small.err).toMatch(/below the minimum of 100 tokens \(staking\.minContributorBond\)/)
    expect(t().node.ownLedger!.economy.positions("v0")).toHaveLength(before)
    const ok = await run("validator", "bond-trainer", "--amount", "150", "--tier", "30", ...api())
    expect(ok.err).toBe("")
    expect(ok.code).toBe(0)
    expect(ok.out).toMatch(/^bonded v0 as a trainer on the chain: 150 DAI, 30-day lock; position \d+ in pool contrib:v0/)
    expect(t().node.ownLedger!.economy.positions("v0")).toHaveLength(before + 1)
  })

  it("checks its flags before asking the node", async () => {
    expect((await run("validator", "register", ...api())).err).toMatch(/give --amount/)
    expect((await run("validator", "register", "--amount", "1e3", ...api())).err).toMatch(/--amount must be DAI/)
    expect((await run("validator", "register", "--amount", "2000", "--tier", "7", ...api())).err).toMatch(/--tier must be a lock tier in days: 0, 30, 90, 180, 365/)
    expect((await run("validator", "register", "--amount", "2000", "--commission", "150%", ...api())).err).toMatch(/--commission must be a fraction/)
    expect(commissionFlag("5%")).toBe(5n * 10n ** 16n)
    expect(commissionFlag("0.05")).toBe(5n * 10n ** 16n)
    expect(commissionFlag("12.5%")).toBe(125n * 10n ** 15n)
  })
})

/**
 * Building a genesis validator by validator (`dai genesis add-validator`): whatever is added, the
 * file either grows by exactly that validator with the supply whole (allocations sum to the total
 * supply, the remainder paying for it) and starts a network, or is refused naming the field, with
 * the draft it was given unchanged. And a node's identity names only addresses another node can dial.
 */
import fc from "fast-check"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../scripts/property-env.ts"
import { REMAINDER_ACCOUNT } from "../core/app/genesis.ts"
import { TOKEN, TOTAL_SUPPLY, WAD } from "../core/units.ts"
import { addValidator, checkGenesis, newGenesis, nodeIdentity } from "./genesis-draft.ts"
import type { GenesisFile } from "./genesis-file.ts"

const GENESIS = propertyEnv("GENESIS", Number(process.env["DAI_PROPERTY_RUNS"] ?? 100))
const PEER = "12D3KooWGH54ityG5jRPqnZpa6JGAvw8bBYCH5Qhd6sjsvWjvtCY"

const spec = fc.record({
  name: fc.constantFrom("alice", "bob", "carol", "dave", REMAINDER_ACCOUNT, "reserve"),
  key: fc.integer({ min: 1, max: 4 }),
  stakeTokens: fc.oneof(fc.bigInt({ min: 0n, max: 2_000n }), fc.bigInt({ min: 0n, max: 800_000_000n })),
  tier: fc.constantFrom(0, 30, 90, 180, 365, 7),
  commissionPct: fc.integer({ min: 0, max: 60 }),
  balanceTokens: fc.bigInt({ min: 0n, max: 10_000n }),
})

const sum = (g: GenesisFile) => g.allocations.reduce((s, a) => s + BigInt(a.amount), 0n)

describe("a genesis built validator by validator", () => {
  it("keeps the supply whole and starts a network after every accepted step; a refused one names its field and changes nothing", () => {
    fc.assert(fc.property(fc.array(spec, { maxLength: 6 }), (steps) => {
      GENESIS.tick()
      let g = Result.getOrThrow(newGenesis({ time: 0, overrides: {} }, "g.json"))
      for (const s of steps) {
        const before = JSON.stringify(g)
        const r = addValidator(g, {
          name: s.name, address: `0x${s.key.toString(16).padStart(40, "0")}`, addrs: [],
          stake: s.stakeTokens * TOKEN, tier: s.tier, commission: (WAD * BigInt(s.commissionPct)) / 100n, balance: s.balanceTokens * TOKEN,
        }, "g.json")
        expect(JSON.stringify(g)).toBe(before)
        if (Result.isFailure(r)) {
          expect(r.failure.file).toBe("g.json")
          expect(r.failure.field).toMatch(/^(validators\.\d+(\.\w+)?|allocations)$/)
          continue
        }
        expect(r.success.validators).toHaveLength(g.validators.length + 1)
        expect(sum(r.success)).toBe(TOTAL_SUPPLY)
        expect(Result.isSuccess(checkGenesis(r.success, "g.json"))).toBe(true)
        g = r.success
      }
    }), GENESIS.params)
  }, GENESIS.timeout(50))

  it("an identity lists its listen addresses others can dial (not 0.0.0.0, not port 0), each with its peer id", () => {
    const id = nodeIdentity({ name: "n", address: "0x01", peerId: PEER, listen: ["/ip4/0.0.0.0/tcp/9000", "/ip4/127.0.0.1/tcp/0", "/ip4/10.0.0.2/tcp/9000", "/ip6/::/tcp/9000"] })
    expect(id.addrs).toEqual([`/ip4/10.0.0.2/tcp/9000/p2p/${PEER}`])
  })
})

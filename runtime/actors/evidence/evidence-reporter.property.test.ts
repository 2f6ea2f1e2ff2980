/**
 * Property: however the evidence reaches the nodes (any reporters, any order, the same equivocation
 * shown by several pairs of votes, several equivocations of one validator) and however often each
 * node's chain is unavailable, once the retries have run every validator that equivocated is slashed
 * exactly once on the one ledger and tombstoned, every reporter ends with every equivocation it saw
 * settled or refused, no reporter sends an equivocation again after its outcome, and supply is
 * conserved. DAI_EVIDENCE_REPORTER_RUNS / _SEED / _PATH (scripts/property-env.ts).
 */
import fc from "fast-check"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { propertyEnv } from "../../../scripts/property-env.ts"
import { makeSimChain } from "../../../sim/adapters/chain.ts"
import { Scheduler, SimClock } from "../../../sim/kernel/index.ts"
import { addressOfPrivateKey, keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import { duplicateVoteEvidence } from "../../core/consensus/evidence.ts"
import { evidenceKey } from "../../core/consensus/evidence-pool.ts"
import { signVote } from "../../core/consensus/signing.ts"
import type { Block, DuplicateVoteEvidence } from "../../core/consensus/types.ts"
import { econConfig, Economy } from "../../core/econ/index.ts"
import { DEFAULT_PARAMS } from "../../core/params.ts"
import { mulWad, TOKEN, TOTAL_SUPPLY } from "../../core/units.ts"
import { type Chain, ChainUnavailable } from "../../services/chain.ts"
import type { ExecutedBlock } from "../context.ts"
import { startEvidenceReporter } from "./evidence-reporter.ts"

const CHAIN_ID = 11
const VALIDATORS = 3
const HEIGHTS = 3
const KEYS = Array.from({ length: VALIDATORS }, (_, i) => keccak256(utf8ToBytes(`dai-test/reporter-property/${i}`)))
const OPERATORS = KEYS.map(addressOfPrivateKey)
const hash = (label: string) => toHex(keccak256(utf8ToBytes(label)))

/** Evidence of validator v at height h, as pair p: pairs 0 and 1 show the same equivocation with different votes. */
const EVIDENCE: DuplicateVoteEvidence[][][] = KEYS.map((key, v) =>
  Array.from({ length: HEIGHTS }, (_, h) => {
    const vote = (label: string) => signVote(key, CHAIN_ID, { type: "prevote", height: h + 1, round: 0, blockHash: hash(`${v}/${h}/${label}`) })
    const [a, b, c] = [vote("a"), vote("b"), vote("c")]
    return [duplicateVoteEvidence(a, b), duplicateVoteEvidence(a, c)]
  }))

const delivery = fc.record({
  reporter: fc.nat(),
  validator: fc.nat({ max: VALIDATORS - 1 }),
  height: fc.nat({ max: HEIGHTS - 1 }),
  pair: fc.nat({ max: 1 }),
  /** ms after the previous delivery. */
  after: fc.nat({ max: 5_000 }),
})

const scenario = fc.record({
  reporters: fc.integer({ min: 1, max: 4 }),
  deliveries: fc.array(delivery, { minLength: 1, maxLength: 12 }),
  /** Per reporter: whether each of its chain calls finds the chain unavailable (then available for good). */
  outages: fc.array(fc.array(fc.boolean(), { maxLength: 6 }), { minLength: 4, maxLength: 4 }),
})

describe("evidence reporter (property)", () => {
  const env = propertyEnv("EVIDENCE_REPORTER", 60)

  it("every equivocating validator is slashed exactly once, every reporter settles or is refused, supply is conserved", () => {
    fc.assert(fc.property(scenario, ({ reporters, deliveries, outages }) => {
      env.tick()
      const economy = Result.getOrThrow(Economy.genesis([
        ...OPERATORS.map((address) => ({ address, amount: 1_000_000n * TOKEN })),
        { address: "reserve", amount: TOTAL_SUPPLY - BigInt(VALIDATORS) * 1_000_000n * TOKEN },
      ], DEFAULT_PARAMS, 0))
      for (const operator of OPERATORS) Result.getOrThrow(economy.apply({ type: "registerValidator", operator, amount: 100_000n * TOKEN, tier: 0, commission: 0n }, 0))
      const scheduler = new Scheduler(1_000)
      const ledger = makeSimChain(economy, () => scheduler.now, undefined, { consensusChainId: CHAIN_ID })

      const nodes = Array.from({ length: reporters }, (_, r) => {
        const listeners: Array<(b: ExecutedBlock) => void> = []
        const calls = new Map<string, number>()
        const settledAt = new Map<string, number>()
        const down = [...outages[r]!]
        const chain: Pick<Chain["Service"], "slashDoubleSign"> = {
          slashDoubleSign: (a, b, s) => {
            const key = `${a.validator}/${a.height}/${a.round}/prevote`
            calls.set(key, (calls.get(key) ?? 0) + 1)
            // An outcome is final: nothing is sent for it again.
            expect(settledAt.has(key)).toBe(false)
            return down.shift() === true ? Effect.fail(new ChainUnavailable({ operation: "slashDoubleSign", reason: "down" })) : ledger.slashDoubleSign(a, b, s)
          },
        }
        const reporter = startEvidenceReporter({
          clock: new SimClock(scheduler),
          run: (e) => Effect.runSync(e),
          emit: (kind, data) => {
            if (kind === "evidence.settled" || kind === "evidence.refused") settledAt.set(`${String(data["validator"])}/${BigInt(data["height"] as number)}/0/prevote`, scheduler.now)
          },
          executed: { subscribe: (l) => (listeners.push(l), () => void listeners.splice(listeners.indexOf(l), 1)), publish: () => {} },
          evidence: { pending: () => [] },
          keys: { address: `node${r}` },
          app: { chainId: CHAIN_ID },
        }, { chain, retryMs: 500, maxRetryMs: 4_000 })
        return { listeners, reporter, calls }
      })

      const seen = nodes.map(() => new Set<string>())
      let at = scheduler.now
      for (const d of deliveries) {
        at += d.after
        const r = d.reporter % reporters
        const evidence = EVIDENCE[d.validator]![d.height]![d.pair]!
        seen[r]!.add(evidenceKey(evidence))
        scheduler.at(at, () => {
          const block = { height: 1, txs: [{ type: "evidence", voteA: evidence.voteA, voteB: evidence.voteB }] } as unknown as Block
          for (const l of [...nodes[r]!.listeners]) l({ block, execution: undefined as never })
        })
      }
      scheduler.runUntil({ time: at + 60_000 })

      const equivocators = new Set(deliveries.map((d) => OPERATORS[d.validator]!))
      for (const operator of OPERATORS) {
        const pool = economy.pool(operator)!
        expect(pool.tombstoned).toBe(equivocators.has(operator))
        expect(pool.tokens < 100_000n * TOKEN).toBe(equivocators.has(operator))
      }
      // Slashed once each: the bonded stake lost is one double-sign fraction per equivocator.
      const supply = economy.supply()
      expect(supply.balances + supply.bonded + supply.unbonding + supply.rewardPool + supply.insurancePool + supply.burnt).toBe(supply.minted)
      const cut = mulWad(100_000n * TOKEN, econConfig(DEFAULT_PARAMS).doubleSignFraction)
      expect(supply.bonded).toBe(BigInt(VALIDATORS) * 100_000n * TOKEN - BigInt(equivocators.size) * cut)
      nodes.forEach((n, r) => {
        const statuses = n.reporter.statuses()
        expect(new Set(statuses.keys())).toEqual(seen[r])
        for (const s of statuses.values()) expect(["settled", "refused"]).toContain(s)
        n.reporter.stop()
      })
    }), env.params)
  }, env.timeout(50))
})

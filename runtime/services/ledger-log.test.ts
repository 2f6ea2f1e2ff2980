/**
 * The in-memory ledger kept in a node's store (ledger-log.ts): random operations (economy, committee
 * snapshots and epoch reports, fee deposits, governance, market) on a ledger persisted to a sqlite
 * file and on a reference ledger never persisted; at random points the persisted one is dropped and
 * rebuilt from its file alone, and it answers every question as the reference does. A corrupt
 * record or a log of another genesis refuses the start, naming the file.
 * Runs: DAI_LEDGER_LOG_RUNS (CI default 40), seed DAI_LEDGER_LOG_SEED (printed as SEED=…).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { Effect, Exit } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { openSqliteStore, type SqliteStore } from "../adapters/sqlite-store.ts"
import { emptyReport, quorumSigners, TEST_CHAIN_ID, toySignatures, toyVerify } from "../core/committee/testkit.ts"
import { ACTORS, ok, resolveSpec, SETUP, snapshotKey, stepArb, testEconomy, type Step } from "../core/econ/testkit.ts"
import type { ProposalAction, Support } from "../core/governance/governance.ts"
import { TOKEN } from "../core/units.ts"
import { propertyEnv } from "../../scripts/property-env.ts"
import { ledgerRecordKey, LEDGER_GENESIS_KEY, persistLedger, pinnableClock, type LedgerLogInvalid } from "./ledger-log.ts"
import { makeMemoryChain, type MemoryChain } from "./memory-chain.ts"

const LOG = propertyEnv("LEDGER_LOG", Number(process.env.DAI_PROPERTY_RUNS ?? 200) / 5)
const root = mkdtempSync(join(tmpdir(), "dai-ledger-log-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The genesis of these ledgers: the econ testkit's economy with its setup and snapshot 1, at time 0. */
const genesisEconomy = () => {
  const e = testEconomy()
  for (const op of SETUP) ok(e.apply(op, 0))
  ok(e.takeSnapshot("genesis", 0))
  return e
}

/** A ledger over a fresh genesis economy, on a clock that reads `time()` (never before the ledger's). */
const ledgerAt = (time: () => number) => {
  const economy = genesisEconomy()
  const clock = pinnableClock(() => Math.max(time(), economy.now))
  return { clock, chain: makeMemoryChain(economy, clock.now, undefined, { consensusChainId: TEST_CHAIN_ID, verify: toyVerify }) }
}

/** The persisted ledger over the store at `file`: rebuilt from what the store holds. */
const openPersisted = (file: string, time: () => number, genesis = "test-genesis") =>
  Effect.gen(function* () {
    const sqlite = yield* openSqliteStore(file)
    const { clock, chain } = ledgerAt(time)
    const persisted = yield* Effect.onError(persistLedger(chain, { store: sqlite.store, file, clock, genesis }), () => Effect.ignore(sqlite.close))
    return { sqlite, chain: persisted }
  })

const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x))

type Action =
  | { readonly kind: "econ"; readonly step: Step }
  | { readonly kind: "snapshot"; readonly caller: string; readonly dt: number }
  | { readonly kind: "deposit"; readonly account: string; readonly amount: bigint; readonly dt: number }
  | { readonly kind: "report"; readonly downtime: boolean; readonly score: bigint; readonly dt: number }
  /** A proposal, then the votes of `voters` on it at once (a vote needs an open proposal: alone, most would find none). */
  | { readonly kind: "propose"; readonly proposer: string; readonly action: ProposalAction; readonly voters: readonly (readonly [string, Support])[]; readonly dt: number }
  /** `back`: 0 = the newest proposal, 1 = the one before. */
  | { readonly kind: "vote"; readonly back: number; readonly voter: string; readonly support: Support; readonly dt: number }
  | { readonly kind: "execute"; readonly back: number; readonly dt: number }
  | { readonly kind: "market"; readonly job: number; readonly which: number; readonly dt: number }
  | { readonly kind: "reopen" }

const dt = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 8 * 86_400_000 }))
const actor = fc.constantFrom(...ACTORS)
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: stepArb.map((step) => ({ kind: "econ" as const, step })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("snapshot" as const), caller: actor, dt }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("deposit" as const), account: actor, amount: fc.bigInt({ min: 0n, max: 500n * TOKEN }), dt }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("report" as const), downtime: fc.boolean(), score: fc.bigInt({ min: 0n, max: 1000n }), dt }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("propose" as const), proposer: fc.constantFrom("v0", "v1", "d1", "d1", "nobody"), dt: fc.integer({ min: 0, max: 60_000 }),
      voters: fc.array(fc.tuple(fc.constantFrom("v0", "v1", "d0", "d1", "d2", "c0"), fc.constantFrom<Support>("for", "against", "abstain")), { maxLength: 3 }),
      action: fc.oneof(
        fc.constant<ProposalAction>({ kind: "spend", to: "d0", amount: 5n * TOKEN }),
        fc.constant<ProposalAction>({ kind: "param", name: "governance.quorum", value: 0.05 }),
      ),
    }),
  },
  // Votes come soon after (a voting period is days long); voters are the stakers.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("vote" as const), back: fc.integer({ min: 0, max: 1 }), voter: fc.constantFrom("v0", "v1", "d0", "d1", "d2"), support: fc.constantFrom<Support>("for", "against", "abstain"), dt: fc.integer({ min: 0, max: 60_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("execute" as const), back: fc.integer({ min: 0, max: 1 }), dt }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("market" as const), job: fc.integer({ min: 1, max: 3 }), which: fc.nat(5), dt }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
)

/** The id of the newest proposal (0 before any). */
const latestProposal = (chain: MemoryChain): number => {
  let id = 0
  while (Effect.runSync(chain.proposal(id + 1)) !== undefined) id++
  return id
}

/** Apply `a` to `chain`; the outcome of each operation as text (what it returned, or the error it was refused with). */
const apply = (chain: MemoryChain, a: Exclude<Action, { kind: "reopen" }>, now: number): string[] => {
  const outcome = [once(chain, a, now)]
  if (a.kind === "propose") for (const [voter, support] of a.voters) outcome.push(once(chain, { kind: "vote", back: 0, voter, support, dt: 0 }, now))
  return outcome
}

const once = (chain: MemoryChain, a: Exclude<Action, { kind: "reopen" }>, now: number): string => {
  const exit = Effect.runSyncExit(((): Effect.Effect<unknown, unknown> => {
    switch (a.kind) {
      case "econ": return chain.submit(resolveSpec(chain.economy, a.step.spec, now))
      case "snapshot": return chain.snapshot(a.caller)
      case "deposit": return chain.depositFees(a.account, a.amount)
      case "report": {
        const snapshot = chain.economy.latestSnapshot()!
        const totals = chain.economy.committeeTotals()
        const from = Number(totals.emittedUntil) * 1000
        const report = {
          ...emptyReport(totals.lastEpoch + 1, snapshot.id, Math.min(from, now), now),
          ...(a.downtime && snapshot.validators.length > 0 ? { downtime: [snapshot.validators[0]!.operator] } : {}),
          ...(a.score > 0n ? { scored: ["c0"], scores: [a.score] } : {}),
        }
        return chain.submitEpochReport(report, toySignatures(snapshot, report, quorumSigners(snapshot)), "d0")
      }
      case "propose": return chain.propose(a.proposer, a.action)
      case "vote": return chain.castVote(latestProposal(chain) - a.back, a.voter, a.support)
      case "execute": return chain.executeProposal(latestProposal(chain) - a.back)
      case "market": {
        const ops = [
          { type: "registerProvider", provider: "c1", bond: 1_000n * TOKEN, kinds: ["infer:mnist"], pricePerUnit: 1n * TOKEN, capacity: 2 },
          { type: "postJob", requester: "d1", kind: "infer:mnist", units: 2n, maxPricePerUnit: 2n * TOKEN, deadline: now + 3_600_000 },
          { type: "assignJob", job: a.job, provider: "c1", by: "d1" },
          { type: "deliver", job: a.job, provider: "c1", units: 2n, resultHash: `0x${"cd".repeat(32)}` },
          { type: "confirm", job: a.job, by: "d1" },
          { type: "refund", job: a.job, by: "d1" },
        ] as const
        return chain.marketOp(ops[a.which % ops.length]! as never)
      }
    }
  })())
  return Exit.isSuccess(exit) ? `ok ${text(exit.value)}` : text(Exit.findErrorOption(exit))
}

/** Everything a ledger answers, as text. */
const answers = (chain: MemoryChain, now: number): string => {
  const read = <A>(e: Effect.Effect<A, unknown>) => Effect.runSync(e)
  const snapshots = chain.economy.committeeTotals().snapshots
  return text({
    economy: snapshotKey(chain.economy.snapshot()),
    committee: Array.from({ length: snapshots + 1 }, (_, i) => read(chain.committee(i + 1))),
    latest: read(chain.latestSnapshot),
    reports: Array.from({ length: chain.economy.committeeTotals().lastEpoch + 1 }, (_, i) => read(chain.epochReport(i + 1))),
    deposits: ACTORS.map((a) => read(chain.feeDeposit(a))),
    proposals: [1, 2, 3, 4, 5].map((id) => read(chain.proposal(id))),
    params: read(chain.params),
    providers: read(chain.marketProviders),
    jobs: read(chain.marketJobs()),
    slashes: chain.slashes,
    settlements: chain.settlements.length,
    paid: ACTORS.map((a) => chain.contributorPaid(a)),
    now,
  })
}

describe("the in-memory ledger kept in the store", () => {
  it("rebuilt from its store at any point, it answers as a ledger that never stopped", async () => {
    let runNo = 0
    const accepted = new Map<string, number>()
    await fc.assert(fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 40 }), async (actions) => {
      LOG.tick()
      const file = join(root, `run-${runNo++}.db`)
      let now = 0
      const time = () => now
      const reference = ledgerAt(time).chain
      let persisted = await Effect.runPromise(openPersisted(file, time))
      try {
        for (const a of actions) {
          if (a.kind === "reopen") {
            await Effect.runPromise(persisted.sqlite.close)
            persisted = await Effect.runPromise(openPersisted(file, time))
            expect(answers(persisted.chain, now)).toBe(answers(reference, now))
            continue
          }
          now += a.kind === "econ" ? a.step.dt : a.dt
          const outcome = apply(reference, a, now)
          expect(apply(persisted.chain, a, now)).toEqual(outcome)
          outcome.forEach((o, i) => {
            const kind = i === 0 ? a.kind : "vote"
            if (o.startsWith("ok")) accepted.set(kind, (accepted.get(kind) ?? 0) + 1)
          })
        }
        // A crash after the last operation: every accepted one is already durable.
        await Effect.runPromise(persisted.sqlite.close)
        persisted = await Effect.runPromise(openPersisted(file, time))
        expect(answers(persisted.chain, now)).toBe(answers(reference, now))
      } finally {
        await Effect.runPromise(persisted.sqlite.close)
      }
    }), LOG.params)
    // The runs reached every kind of write (at the CI count; a replay of one case may not). Each kind
    // is accepted 5 to 50 times per 40 runs, so none at all would mean a broken generator, not chance.
    if (LOG.path === undefined && LOG.runs >= 40) {
      for (const kind of ["econ", "snapshot", "deposit", "report", "propose", "vote", "market"]) expect(accepted.get(kind) ?? 0, kind).toBeGreaterThan(0)
    }
  }, LOG.timeout(1_500))

  const failure = (e: Effect.Effect<unknown, unknown>): LedgerLogInvalid => {
    const exit = Effect.runSyncExit(e)
    if (Exit.isSuccess(exit)) throw new Error("expected the start to be refused")
    const err = Exit.findErrorOption(exit)
    if (err._tag !== "Some") throw new Error(`expected a failure, got ${String(exit.cause)}`)
    return err.value as LedgerLogInvalid
  }

  it("a corrupt record, or the log of another genesis, refuses the start with one line naming the file", async () => {
    const file = join(root, "corrupt.db")
    const first = await Effect.runPromise(openPersisted(file, () => 1_000))
    await Effect.runPromise(first.chain.snapshot("d0"))
    await Effect.runPromise(first.sqlite.close)

    const foreign = failure(openPersisted(file, () => 1_000, "another-genesis"))
    expect(foreign._tag).toBe("LedgerLogInvalid")
    expect(foreign.message).toContain(file)
    expect(foreign.message).toMatch(/another genesis/)
    expect(foreign.message).not.toContain("\n")

    const sqlite = await Effect.runPromise(openSqliteStore(file))
    await Effect.runPromise(Effect.andThen(sqlite.store.put(ledgerRecordKey(0), new TextEncoder().encode("{\"v\":1,\"t\":\"x\"")), sqlite.store.sync))
    await Effect.runPromise(sqlite.close)
    const corrupt = failure(openPersisted(file, () => 1_000))
    expect(corrupt.message).toContain(file)
    expect(corrupt.message).toContain(ledgerRecordKey(0))
    expect(corrupt.message).not.toContain("\n")

    const stranger = await Effect.runPromise(openSqliteStore(file))
    await Effect.runPromise(Effect.andThen(stranger.store.put(LEDGER_GENESIS_KEY, new Uint8Array([0xff, 0xfe])), stranger.store.sync))
    await Effect.runPromise(stranger.close)
    expect(failure(openPersisted(file, () => 1_000)).message).toMatch(/not a ledger log header/)
  })

  it("a record the rebuilt ledger refuses is reported, not skipped", async () => {
    const file = join(root, "refused.db")
    const first = await Effect.runPromise(openPersisted(file, () => 1_000))
    await Effect.runPromise(first.chain.submit({ type: "transfer", from: "d0", to: "d1", amount: 1n }))
    // A record that reads well but that no ledger from this genesis accepts (d0 holds no such sum).
    await Effect.runPromise(Effect.andThen(first.sqlite.store.put(ledgerRecordKey(1), new TextEncoder().encode(
      JSON.stringify({ v: 1, t: 1_000, op: "submit", args: [{ type: "transfer", from: "d0", to: "d1", amount: { $n: (10n ** 40n).toString() } }] }),
    )), first.sqlite.store.sync))
    await Effect.runPromise(first.sqlite.close)
    const refused = failure(openPersisted(file, () => 1_000))
    expect(refused.message).toContain(ledgerRecordKey(1))
    expect(refused.message).toMatch(/refuses submit again/)
  })
})

/** Signed transactions through consensus: contribution scores on every replica; stake only on the ledger. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { scoreCommitment, signTx, type SignedTx } from "../../runtime/core/app/txs.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import { parseScenario } from "./load.ts"
import { ConsensusWorld, SIM_CHAIN_ID } from "../world/world.ts"

const SALT = `0x${"ab".repeat(32)}`

const world = (params = "") => {
  const scenario = parseScenario(`name: txs\nnetwork: { validators: 4 }\nuntil: { time: 1m }\n${params}`, "txs.yaml")
  const w = new ConsensusWorld({ scenario, seed: 3, traceDeliveries: false })
  w.startAll()
  const sign = (id: string, tx: Omit<SignedTx, "signature">) => signTx(SIM_CHAIN_ID, tx, (d) => Effect.runSync(w.slots.get(id)!.keys.sign(d)))
  const address = (id: string) => w.slots.get(id)!.keys.address.toLowerCase()
  const submit = (via: string, tx: SignedTx) => w.slots.get(via)!.node!.submitTx(tx)
  const until = (time: number) => w.scheduler.runUntil({ time })
  return { w, sign, address, submit, until, apps: () => scenario.validators.map((id) => w.app(id)!) }
}

describe("signed transactions", () => {
  it("takes stake on the one ledger every node shares, never in a block", () => {
    const { w, sign, address, submit, until, apps } = world()
    const a = address("v1")
    expect(submit("v0", sign("v1", { type: "stake", signer: a, nonce: 0, op: { type: "transfer", from: "v1", to: "alice", amount: 10n * TOKEN } } as never))).toMatch(/^stake moves only on the ledger/)
    Effect.runSync(w.ledger.submit({ type: "transfer", from: "v1", to: "alice", amount: 10n * TOKEN }))
    Effect.runSync(w.ledger.submit({ type: "payFee", payer: "v1", amount: 5n * TOKEN }))
    until(20_000)
    expect(w.ledger.economy.balanceOf("alice")).toBe(10n * TOKEN)
    expect(w.ledger.economy.supply().burnt).toBeGreaterThan(0n)
    for (const app of apps()) expect(app.nextNonce(a)).toBe(0)
    expect(new Set(apps().map((x) => x.appHash)).size).toBe(1)
  })

  it("refuses a bad signature at the door", () => {
    const { sign, address, submit } = world()
    const forged = { ...sign("v1", { type: "score-commit", signer: address("v1"), nonce: 0, epoch: 0, commitment: scoreCommitment(0, 1, SALT) } as never), signer: address("v2") }
    expect(submit("v0", forged as SignedTx)).toMatch(/bad signature/)
  })

  it("commits and reveals contribution scores, which the epoch's report carries to the ledger and the next snapshots' power", () => {
    const { w, sign, address, submit, until, apps } = world("params: { consensus.epochLength: 5, consensus.contributionWeight: 0.5, consensus.maxPowerShare: 0.33 }\n")
    const a = address("v0")
    const before = apps()[0]!.validatorSet().power(a)
    submit("v0", sign("v0", { type: "score-commit", signer: a, nonce: 0, epoch: 1, commitment: scoreCommitment(1, 900, SALT) } as never))
    until(8_000) // epoch 2 has begun (5 blocks of about 1.1 s)
    const app0 = apps()[0]!
    expect(app0.epochOf(app0.height + 1)).toBe(2)
    submit("v0", sign("v0", { type: "score-reveal", signer: a, nonce: 1, epoch: 1, score: 900, salt: SALT } as never))
    until(40_000)
    // Epochs count from 1. The reveal (in epoch 2) is in epoch 2's report, settled on the ledger right
    // after height 10; the snapshot taken then is named in block 11 and governs epoch 4 (heights 16..20).
    expect(w.ledger.economy.epochReport(2)?.report).toMatchObject({ epoch: 2, scored: ["v0"], scores: [900n] })
    for (const app of apps()) {
      expect(app.scores(1).get("v0")).toBe(900)
      expect(app.epochOf(app.height)).toBeGreaterThanOrEqual(5)
      const epoch4 = app.validatorSet(16)
      expect(epoch4.startHeight).toBe(16)
      expect(epoch4.power(a)).toBeGreaterThan(before)
      expect(epoch4.power(address("v1"))).toBeLessThan(app.validatorSet(1).power(address("v1")))
    }
  })

  it("refuses a reveal that does not match its commitment", () => {
    const { sign, address, submit, until, apps } = world("params: { consensus.epochLength: 5 }\n")
    const a = address("v3")
    submit("v3", sign("v3", { type: "score-commit", signer: a, nonce: 0, epoch: 1, commitment: scoreCommitment(1, 10, SALT) } as never))
    until(8_000)
    submit("v3", sign("v3", { type: "score-reveal", signer: a, nonce: 1, epoch: 1, score: 999, salt: SALT } as never))
    until(15_000)
    for (const app of apps()) {
      expect(app.scores(1).has("v3")).toBe(false)
      expect(app.nextNonce(a)).toBe(2)
    }
  })
})

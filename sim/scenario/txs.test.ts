/** Signed transactions through consensus: stake operations and contribution scores on every replica. */
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
  it("runs a validator's stake operations on every replica, in nonce order", () => {
    const { sign, address, submit, until, apps } = world()
    const a = address("v1")
    expect(submit("v0", sign("v1", { type: "stake", signer: a, nonce: 1, op: { type: "payFee", payer: "v1", amount: 5n * TOKEN } } as never))).toBeUndefined()
    expect(submit("v2", sign("v1", { type: "stake", signer: a, nonce: 0, op: { type: "transfer", from: "v1", to: "alice", amount: 10n * TOKEN } } as never))).toBeUndefined()
    until(20_000)
    for (const app of apps()) {
      expect(app.economy.balanceOf("alice")).toBe(10n * TOKEN)
      expect(app.nextNonce(a)).toBe(2)
      expect(app.economy.supply().burnt).toBeGreaterThan(0n)
    }
    expect(new Set(apps().map((x) => x.appHash)).size).toBe(1)
  })

  it("refuses a bad signature at the door, and records a signer acting for another account as failed", () => {
    const { sign, address, submit, until, apps } = world()
    const forged = { ...sign("v1", { type: "stake", signer: address("v1"), nonce: 0, op: { type: "transfer", from: "v1", to: "bob", amount: 1n } } as never), signer: address("v2") }
    expect(submit("v0", forged as SignedTx)).toMatch(/bad signature/)
    // v2 signs a transfer out of v1's account: valid signature, wrong actor.
    expect(submit("v0", sign("v2", { type: "stake", signer: address("v2"), nonce: 0, op: { type: "transfer", from: "v1", to: "mallory", amount: 1n * TOKEN } } as never))).toBeUndefined()
    until(15_000)
    for (const app of apps()) {
      expect(app.economy.balanceOf("mallory")).toBe(0n)
      expect(app.nextNonce(address("v2"))).toBe(1)
    }
  })

  it("commits and reveals contribution scores, which raise voting power two epochs later", () => {
    const { sign, address, submit, until, apps } = world("params: { consensus.epochLength: 5, consensus.contributionWeight: 0.5, consensus.maxPowerShare: 0.33 }\n")
    const a = address("v0")
    const before = apps()[0]!.validatorSet().power(a)
    submit("v0", sign("v0", { type: "score-commit", signer: a, nonce: 0, epoch: 0, commitment: scoreCommitment(0, 900, SALT) } as never))
    until(8_000) // epoch 1 has begun (5 blocks of about 1.1 s)
    const app0 = apps()[0]!
    expect(app0.epochOf(app0.height + 1)).toBe(1)
    submit("v0", sign("v0", { type: "score-reveal", signer: a, nonce: 1, epoch: 0, score: 900, salt: SALT } as never))
    until(20_000)
    for (const app of apps()) {
      expect(app.scores(0).get("v0")).toBe(900)
      expect(app.epochOf(app.height)).toBeGreaterThanOrEqual(2)
      // Epoch 2 (heights 11..15) weighs epoch 0's scores; the others lose what v0 gains.
      const epoch2 = app.validatorSet(11)
      expect(epoch2.startHeight).toBe(11)
      expect(epoch2.power(a)).toBeGreaterThan(before)
      expect(epoch2.power(address("v1"))).toBeLessThan(app.validatorSet(1).power(address("v1")))
    }
  })

  it("refuses a reveal that does not match its commitment", () => {
    const { sign, address, submit, until, apps } = world("params: { consensus.epochLength: 5 }\n")
    const a = address("v3")
    submit("v3", sign("v3", { type: "score-commit", signer: a, nonce: 0, epoch: 0, commitment: scoreCommitment(0, 10, SALT) } as never))
    until(8_000)
    submit("v3", sign("v3", { type: "score-reveal", signer: a, nonce: 1, epoch: 0, score: 999, salt: SALT } as never))
    until(15_000)
    for (const app of apps()) {
      expect(app.scores(0).has("v3")).toBe(false)
      expect(app.nextNonce(a)).toBe(2)
    }
  })
})

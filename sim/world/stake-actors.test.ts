/**
 * The operator's positions as staking machines inside the consensus node (simulated backends, virtual
 * time): a bond made on the ledger (the Chain port every node shares) gets an actor; an unbond makes it unbonding until
 * the end of the period, when the machine's own timer reports it withdrawable (no block needed); a
 * withdrawal closes it. A double signer's node reports its position tombstoned.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { duplicateVoteEvidence } from "../../runtime/core/consensus/evidence.ts"
import { signVote } from "../../runtime/core/consensus/signing.ts"
import { TOKEN } from "../../runtime/core/units.ts"
import type { TelemetryEvent } from "../../runtime/services/telemetry.ts"
import { simPrivateKey } from "../adapters/keys.ts"
import { parseScenario } from "../scenario/load.ts"
import type { EconOp } from "../../runtime/core/econ/index.ts"
import { ConsensusWorld } from "./world.ts"
import { stateLine } from "../../cli/progress.ts"

const SEED = 5
const HOUR = 3_600_000

const world = (signatures?: "secp256k1") => {
  // Blocks every ~30 s, so an hour of unbonding is about a hundred heights.
  const scenario = parseScenario(
    "name: stake-actors\nnetwork: { validators: 4, stake: 1000 }\nparams: { staking.unbondingPeriod: 1h, consensus.timeoutCommit: 30s }\nuntil: { time: 3h }\n",
    "stake-actors.yaml",
  )
  const events: TelemetryEvent[] = []
  const w = new ConsensusWorld({ scenario, seed: SEED, ...(signatures === undefined ? {} : { signatures }), observe: (e) => events.push(e), traceDeliveries: false })
  w.startAll()
  /** v0's operation on the ledger (as its API's POST /stake does); undefined when applied. */
  const submit = (op: EconOp) => {
    Effect.runSync(w.ledger.submit(op))
    return undefined
  }
  const positions = (node: string) => events.filter((e) => e.kind === "stake.position" && e.node === node && e.data["position"] !== undefined)
  return { w, events, submit, positions }
}

describe("staking actors in the node", () => {
  it("follow a bond through unbonding to withdrawable (by the machine's timer) and closed", () => {
    const { w, events, submit, positions } = world()
    // The genesis self-bond is followed from the start.
    expect(positions("v0").map((e) => e.data)).toEqual([expect.objectContaining({ account: "v0", pool: "v0", state: "bonded", stakeState: "bonded.unlocked", funds: "idle" })])

    expect(submit({ type: "bondContributor", owner: "v0", amount: 500n * TOKEN, tier: 0 })).toBeUndefined()
    w.scheduler.runUntil({ time: w.scheduler.now + 10 * 60_000, predicate: () => positions("v0").length >= 2 })
    const bonded = positions("v0").at(-1)!.data
    expect(bonded).toMatchObject({ pool: "contrib:v0", state: "bonded", bonded: (500n * TOKEN).toString() })
    const id = bonded["position"] as number
    const node = w.slots.get("v0")!
    expect(node.stake!.states().get(id)).toMatchObject({ stake: "bonded.unlocked", bonded: 500n * TOKEN })

    expect(submit({ type: "unbond", owner: "v0", position: id, amount: 500n * TOKEN })).toBeUndefined()
    w.scheduler.runUntil({ time: w.scheduler.now + 10 * 60_000, predicate: () => node.stake!.states().get(id)?.funds === "unbonding" })
    const unbonding = positions("v0").at(-1)!.data
    const maturesAt = unbonding["maturesAt"] as number
    expect(unbonding).toMatchObject({ position: id, stakeState: "exited", funds: "unbonding", unbonding: (500n * TOKEN).toString(), withdrawable: "0" })
    expect(unbonding["state"]).toBe(`fully unbonded; unbonding 500 DAI until ${new Date(maturesAt).toISOString()}`)
    expect(maturesAt - w.scheduler.now).toBeGreaterThan(HOUR - 10 * 60_000)
    expect(stateLine(positions("v0").at(-1)!)).toBe(`v0 stake position ${id} in contrib:v0: fully unbonded; unbonding 500 DAI until ${new Date(maturesAt).toISOString()}`)

    // The machine's timer, not a block, says when the tokens are free: at maturesAt exactly.
    w.scheduler.runUntil({ time: maturesAt + 60_000, predicate: () => events.some((e) => e.kind === "stake.withdrawable" && e.node === "v0") })
    const withdrawable = events.find((e) => e.kind === "stake.withdrawable" && e.node === "v0")!
    expect(withdrawable.at).toBe(maturesAt)
    expect(withdrawable.data).toMatchObject({ position: id, amount: (500n * TOKEN).toString() })
    expect(positions("v0").at(-1)!.data).toMatchObject({ position: id, funds: "withdrawable", state: "fully unbonded; 500 DAI withdrawable", withdrawable: (500n * TOKEN).toString() })

    expect(submit({ type: "withdraw", owner: "v0" })).toBeUndefined()
    w.scheduler.runUntil({ time: w.scheduler.now + 10 * 60_000, predicate: () => !node.stake!.states().has(id) })
    expect(positions("v0").at(-1)!.data).toMatchObject({ position: id, stakeState: "closed", funds: "settled", state: "closed", withdrawable: "0", unbonding: "0" })
    expect(w.ledger.economy.positions("v0")).toHaveLength(1)
    // Only v0 follows v0's positions.
    expect(positions("v1").every((e) => e.data["account"] === "v1")).toBe(true)
  })

  it("a double signer's node reports its position tombstoned", () => {
    const { w, events } = world("secp256k1")
    w.scheduler.runUntil({ time: w.scheduler.now + 30 * 60_000, predicate: () => (w.app("v0")?.height ?? 0) >= 2 })
    const h = w.app("v0")!.height
    const key = simPrivateKey(SEED, "v3")
    const vote = (hash: string) => signVote(key, w.genesis.chainId, { type: "prevote", height: h, round: 0, blockHash: `0x${hash.repeat(64)}` })
    expect(w.slots.get("v0")!.node!.submitEvidence(duplicateVoteEvidence(vote("a"), vote("b")))).toBeUndefined()
    w.scheduler.runUntil({ time: w.scheduler.now + 30 * 60_000, predicate: () => [...w.slots.get("v3")!.stake!.states().values()].some((s) => s.stake === "tombstoned") })
    const last = events.filter((e) => e.kind === "stake.position" && e.node === "v3").at(-1)!.data
    expect(last).toMatchObject({ account: "v3", pool: "v3", stakeState: "tombstoned" })
    expect(last["state"]).toMatch(/^tombstoned$/)
  })
})

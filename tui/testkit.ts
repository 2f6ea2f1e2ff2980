/** For tests: a terminal on in-memory streams, and a small realistic stream of telemetry events. */
import { PassThrough, Writable } from "node:stream"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { tokens } from "../runtime/core/units.ts"

/** An 80×24 (by default) xterm on in-memory streams; `type` sends keys, `resize` changes the size. */
export const headlessTerminal = (columns = 80, rows = 24) => {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input })
  let written = 0
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.length
        done()
      },
    }),
    { isTTY: true, columns, rows },
  )
  return {
    input,
    output,
    terminal: "xterm",
    /** Bytes blessed wrote to the terminal so far. */
    written: () => written,
    /** Raw key input: "q", "\r", "\x1b" (escape), "\t", "\x1b[A" (up)… */
    type: (keys: string) => void input.write(keys),
    resize: (c: number, r: number) => {
      output.columns = c
      output.rows = r
      output.emit("resize")
    },
  }
}

const ev = (at: number, node: string, kind: string, data: Record<string, unknown>): TelemetryEvent => ({ at, node, kind, data })

const ADDR = ["0x80f9fcf6d2a4880170d23b53eab9071adf9e14dc", "0x715211070b237dce268239f7fa5869c3e6cbaef9", "0xf9ed234be1cc8b16467d2bfa90ea91a26b62ad01", "0xf4f3f7eee5c5b708c1471102f875cf8bbc407182"] as const

/** A short life of node v0 in a 4-validator network: blocks, a slash, training rounds, a proposal. */
export const sampleEvents = (): TelemetryEvent[] => [
  ...ADDR.map((address, i) => ev(0, `v${i}`, "node.started", { address, height: 0 })),
  ev(10, "v0", "peers", { count: 3 }),
  ev(20, "v0", "validators", {
    validators: ADDR.map((address, i) => ({ address, power: 400 - i * 50, stake: tokens(1_000_000 - i * 100_000), contribution: 0.9 - i * 0.1, missed: i, jailed: i === 3 })),
  }),
  ev(100, "v0", "block.committed", { height: 1, round: 0, hash: "0x236def3bb70a8cd179c1712f483b68d2d3be77ce5d8bde03cfe32e4b664fae8d", proposer: ADDR[1], txs: 2, slashed: [] }),
  ev(1200, "v0", "block.committed", { height: 2, round: 1, hash: "0xc07bc69d42489b7da3e33587ca27359b6f8fec1e1801bc5782fa48bed0eeebfe", proposer: ADDR[2], txs: 5, slashed: [ADDR[3]] }),
  ev(1200, "v0", "stake.slashed", { pool: ADDR[3], infraction: "downtime", amount: tokens(1000), tombstoned: false }),
  ev(1300, "v0", "consensus.step", { height: 3, round: 0, step: "prevote" }),
  ev(1400, "v0", "stake.position", { stake: tokens("1234.5"), rewards: tokens("56.25"), apr: 0.125 }),
  ...[0.52, 0.71, 0.83, 0.9].flatMap((accuracy, r) => [
    ev(2000 + r * 1000, "v0", "training.round.opened", { round: r + 1, cohort: 4 }),
    ev(2500 + r * 1000, "v0", "training.round.progress", { round: r + 1, received: 3 }),
    ev(2900 + r * 1000, "v0", "training.round.completed", { round: r + 1, received: 4, cohort: 4, accuracy, loss: 1.6 - accuracy * 1.5, myScore: 0.25 + r * 0.01, epsilon: 0.5 * (r + 1), delta: 1e-5 }),
  ]),
  ev(6000, "v0", "training.round.opened", { round: 5, cohort: 4 }),
  ev(6100, "v0", "training.round.progress", { round: 5, received: 1 }),
  ev(7000, "v1", "governance.proposal", { id: 1, title: "Lower the fee burn to 20%", state: "Active", forVotes: 0n, againstVotes: 0n }),
  ev(7100, "v1", "governance.proposal", { id: 2, title: "Fund the audit from the treasury", state: "Executed", forVotes: 9_000_000_000_000n, againstVotes: 1_000_000_000_000n }),
  ev(7200, "v1", "governance.vote", { id: 1, voter: ADDR[1], choice: "yes", votes: 2_000_000_000_000n, forVotes: 2_000_000_000_000n, againstVotes: 0n }),
  ev(7300, "v2", "governance.vote", { id: 1, voter: ADDR[2], choice: "no", votes: 1_000_000_000_000n, forVotes: 2_000_000_000_000n, againstVotes: 1_000_000_000_000n }),
  ev(7400, "v0", "log", { level: "warn", message: "clock drift {3ms} from peer v2" }),
]

/** A `market` snapshot as a node's API publishes it (runtime/api/market-api.ts): two providers, three jobs. */
export const sampleMarketEvent = (at = 8000, node = "v0"): TelemetryEvent => ev(at, node, "market", {
  totals: {
    providers: 2, activeProviders: 2, jobs: { open: 1, assigned: 1, disputed: 1, settled: 4, expired: 0 },
    escrow: tokens(12).toString(), bonds: tokens(2000).toString(), paid: tokens("9.5").toString(), paidUnits: "38", feeBurnt: tokens("0.15").toString(),
    feeToStakers: tokens("0.35").toString(), returned: "0", compensation: "0",
  },
  providers: [
    { address: "v0", bond: tokens(1000).toString(), kinds: ["infer:mnist"], pricePerUnit: tokens("0.25").toString(), capacity: 2, openJobs: 1, retired: false, registeredAt: 1, penalized: "0", earned: tokens(10).toString() },
    { address: "d1", bond: tokens(1000).toString(), kinds: ["infer:mnist", "finetune:mnist"], pricePerUnit: tokens("0.5").toString(), capacity: 4, openJobs: 1, retired: false, registeredAt: 2, penalized: "0", earned: "0" },
  ],
  jobs: [
    { id: 5, requester: "r1", kind: "infer:mnist", state: "assigned", provider: "v0", units: "10", delivered: "4", paidUnits: "4", pricePerUnit: tokens("0.25").toString(), maxPricePerUnit: tokens(1).toString(), paid: tokens("0.95").toString(), deadline: 60_000 },
    { id: 6, requester: "r1", kind: "finetune:mnist", state: "disputed", provider: "d1", units: "2", delivered: "1", paidUnits: "0", pricePerUnit: tokens("0.5").toString(), maxPricePerUnit: tokens(1).toString(), paid: "0", deadline: 60_000 },
    { id: 7, requester: "r2", kind: "infer:mnist", state: "open", provider: null, units: "8", delivered: "0", paidUnits: "0", pricePerUnit: "0", maxPricePerUnit: tokens("0.3").toString(), paid: "0", deadline: 90_000 },
  ],
})

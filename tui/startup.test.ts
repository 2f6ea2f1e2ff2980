/** The TUI opened before its host has started: each step and the time on the overview, actions refused until the host is up, then the host's rows. */
import { afterEach, describe, expect, it } from "vitest"
import { items } from "./ring.ts"
import { openStartupTui, restoredRounds, type StartupTui } from "./startup.ts"
import { headlessTerminal } from "./testkit.ts"

let open: StartupTui[] = []
afterEach(() => {
  for (const s of open) s.tui.destroy()
  open = []
})

const tick = () => new Promise((r) => setImmediate(r))

const setup = () => {
  const term = headlessTerminal(100, 24)
  let t = 1_000_000
  const early: string[] = []
  const s = openStartupTui({
    self: "node0", title: "t", stakeInto: "node0's contributor pool", onEarlyQuit: () => void early.push("quit"),
    input: term.input, output: term.output, terminal: term.terminal, now: () => t,
  })
  open.push(s)
  const keys = async (...seq: string[]) => {
    for (const k of seq) {
      term.type(k)
      await tick()
    }
    s.tui.render()
    return s.tui.text()
  }
  return { s, keys, early, advance: (ms: number) => void (t += ms) }
}

describe("openStartupTui", () => {
  it("shows what the start is doing and for how long, on the overview, the status and the log", async () => {
    const { s, keys, advance } = setup()
    s.phase("starting the chain")
    advance(12_000)
    const rows = await keys()
    expect(rows.find((r) => /Starting/.test(r))).toMatch(/Starting\s+starting the chain \(12 s\)/)
    expect(rows[0]).toMatch(/starting, 12 s/)
    expect(items(s.tui.model.log).map((l) => l.text)).toEqual(["starting the chain (0 s)"])
    expect(s.tui.model.self).toBe("node0")
  })

  it("refuses actions until the host is up, then hands them to it with its rows, and says where a stake goes", async () => {
    const { s, keys } = setup()
    let rows = await keys("s", "5", "\r")
    expect(rows.join("\n")).toMatch(/Stake 5 DAI into node0's contributor pool\?/)
    await keys("y")
    await tick()
    expect(s.tui.ui.status).toBe("stake of 5 DAI failed: the network is still starting")
    const staked: bigint[] = []
    s.started({ onStake: async (a) => void staked.push(a), onVote: async () => {}, onPropose: async () => {}, onExecute: async () => {}, onQuit: () => {}, status: () => "height 3", info: [["API", "http://127.0.0.1:1"]] })
    rows = await keys("s", "2", "\r", "y")
    await tick()
    expect(staked).toEqual([2n * 10n ** 18n])
    rows = await keys()
    expect(rows.find((r) => /API/.test(r))).toMatch(/API\s+http:\/\/127\.0\.0\.1:1/)
    expect(rows.some((r) => /Starting/.test(r))).toBe(false)
    expect(rows[0]).toMatch(/height 3/)
  })

  it("a quit before the host is up is remembered and said, not lost", async () => {
    const { s, keys, early } = setup()
    await keys("q")
    expect(s.quitRequested()).toBe(true)
    expect(early).toEqual(["quit"])
  })
})

describe("restoredRounds", () => {
  it("turns a restarted node's committed rounds into chart points (oldest first, units as telemetry's)", () => {
    const events = restoredRounds("node0", [
      { round: 2, accuracy: 710_000, loss: 900_000, participants: ["a", "b"] },
      { round: 1, accuracy: 540_000, participants: ["a"] },
    ], 5)
    expect(events).toEqual([
      { at: 5, node: "node0", kind: "training.round.completed", data: { round: 1, received: 1, accuracy: 0.54, restored: true } },
      { at: 5, node: "node0", kind: "training.round.completed", data: { round: 2, received: 2, accuracy: 0.71, loss: 0.9, restored: true } },
    ])
  })
})

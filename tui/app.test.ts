/** The blessed app driven by key bytes on an in-memory terminal: screens, stake and vote flows, quit, frame scheduling. */
import { afterEach, describe, expect, it } from "vitest"
import { tokens } from "../runtime/core/units.ts"
import { attachTui, startTui, type Tui, type TuiOptions } from "./app.ts"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { headlessTerminal, sampleEvents } from "./testkit.ts"

let open: Tui[] = []
afterEach(() => {
  for (const t of open) t.destroy()
  open = []
})

const tick = () => new Promise((r) => setImmediate(r))

const setup = (options: Partial<TuiOptions> = {}) => {
  const term = headlessTerminal()
  const tui = startTui({ input: term.input, output: term.output, terminal: term.terminal, ...options })
  open.push(tui)
  for (const e of sampleEvents()) tui.push(e)
  /** Send key sequences one at a time (as a terminal would), then draw. */
  const keys = async (...seq: string[]) => {
    for (const k of seq) {
      term.type(k)
      await tick()
    }
    tui.render()
    return tui.text()
  }
  return { term, tui, keys }
}

const ESC = "\x1b"
const ENTER = "\r"
const UP = "\x1b[A"
const DOWN = "\x1b[B"

describe("screens and keys", () => {
  it("1-7 pick a screen, tab and shift-tab cycle through them", async () => {
    const { tui, keys } = setup()
    await keys("3")
    expect(tui.ui.screen).toBe(2)
    await keys("\t", "\t", "\t", "\t", "\t")
    expect(tui.ui.screen).toBe(0) // 2 → 3 → 4 → 5 → 6 → 0
    await keys("\x1b[Z")
    expect(tui.ui.screen).toBe(6)
    await keys("6")
    expect(tui.ui.screen).toBe(5)
    const rows = await keys("2")
    expect(rows[0]).toMatch(/2 Validators/)
    expect(rows[1]).toMatch(/^ node|validator/)
  })

  it("q quits once, calling onQuit", async () => {
    let quits = 0
    const { keys } = setup({ onQuit: () => quits++ })
    await keys("q")
    await keys("q")
    expect(quits).toBe(1)
  })

  it("ctrl-c quits even inside a dialog", async () => {
    let quits = 0
    const { keys } = setup({ onStake: () => {}, onQuit: () => quits++ })
    await keys("s", "1", "\x03")
    expect(quits).toBe(1)
  })
})

describe("stake", () => {
  it("s → amount → Enter → confirm y calls onStake once with base units", async () => {
    const calls: bigint[] = []
    const { tui, keys } = setup({ onStake: (a) => void calls.push(a) })
    expect((await keys())[23]).toMatch(/1-7\/tab screens\s+s stake\s+↑↓ select/)
    let rows = await keys("s", "1", "2", ".", "5")
    expect(rows.join("\n")).toMatch(/Amount in DAI: 12\.5_/)
    rows = await keys(ENTER)
    expect(rows.join("\n")).toMatch(/Stake 12\.5 DAI\?/)
    expect(calls).toEqual([])
    rows = await keys("y")
    expect(calls).toEqual([tokens("12.5")])
    expect(tui.ui.mode.kind).toBe("normal")
    expect(rows[23]).toMatch(/stake of 12\.5 DAI sent/)
    await keys("y", ENTER)
    expect(calls).toHaveLength(1)
  })

  it("n at the confirmation, or Esc while typing, calls nothing", async () => {
    const calls: bigint[] = []
    const { tui, keys } = setup({ onStake: (a) => void calls.push(a) })
    await keys("s", "7", ENTER, "n")
    expect(tui.ui.mode.kind).toBe("normal")
    const rows = await keys("s", "9", ESC)
    expect(tui.ui.mode.kind).toBe("normal")
    expect(rows[23]).toMatch(/stake cancelled/)
    expect(calls).toEqual([])
  })

  it("a bad amount is refused in the dialog; backspace edits", async () => {
    const calls: bigint[] = []
    const { keys } = setup({ onStake: (a) => void calls.push(a) })
    let rows = await keys("s", ".", ".", ENTER)
    expect(rows.join("\n")).toMatch(/"\.\." is not an amount/)
    rows = await keys("\x7f", "\x7f", "0", ENTER)
    expect(rows.join("\n")).toMatch(/the amount must be more than 0/)
    await keys("\x7f", "3", ENTER, "y")
    expect(calls).toEqual([tokens(3)])
  })

  it("a failing stake shows its error in the help bar", async () => {
    const { tui, keys } = setup({ onStake: () => Promise.reject(new Error("insufficient balance")) })
    await keys("s", "1", ENTER, "y")
    await tick()
    await keys()
    expect(tui.ui.status).toBe("stake of 1 DAI failed: insufficient balance")
  })

  it("without an onStake callback, s says staking is not available", async () => {
    const { tui, keys } = setup()
    const rows = await keys("s")
    expect(tui.ui.mode.kind).toBe("normal")
    expect(rows[23]).toMatch(/staking is not available here/)
  })
})

describe("vote", () => {
  it("on the governance screen: select, v, choice, confirm → onVote(id, choice) once", async () => {
    const calls: Array<[unknown, string]> = []
    const { tui, keys } = setup({ onVote: (id, choice) => void calls.push([id, choice]) })
    await keys("4", DOWN, UP) // back on proposal 1
    let rows = await keys("v")
    expect(rows.join("\n")).toMatch(/Vote on proposal 1/)
    // Abstain is offered (it counts toward quorum only).
    expect(rows.join("\n")).toMatch(/a abstain/)
    rows = await keys("n")
    expect(rows.join("\n")).toMatch(/Vote NO on proposal 1 "Lower the fee burn to 20%"\?/)
    await keys("y")
    expect(calls).toEqual([[1, "no"]])
    expect(tui.ui.status).toBe("vote no on proposal 1 sent")
  })

  it("abstain: a in the dialog, confirm → onVote(id, \"abstain\")", async () => {
    const calls: Array<[unknown, string]> = []
    const { tui, keys } = setup({ onVote: (id, choice) => void calls.push([id, choice]) })
    await keys("4", DOWN, UP)
    await keys("v")
    const rows = await keys("a")
    expect(rows.join("\n")).toMatch(/Vote ABSTAIN on proposal 1/)
    await keys("y")
    expect(calls).toEqual([[1, "abstain"]])
    expect(tui.ui.status).toBe("vote abstain on proposal 1 sent")
  })

  it("cancel at the choice or the confirmation calls nothing", async () => {
    const calls: unknown[] = []
    const { keys } = setup({ onVote: (id) => void calls.push(id) })
    await keys("4", "v", ESC, "v", "y", "n")
    expect(calls).toEqual([])
  })

  it("refuses a proposal that is not open, and outside the governance screen", async () => {
    const calls: unknown[] = []
    const { tui, keys } = setup({ onVote: (id) => void calls.push(id) })
    await keys("1", "v")
    expect(tui.ui.status).toMatch(/governance screen/)
    const rows = await keys("4", DOWN, "v")
    expect(tui.ui.mode.kind).toBe("normal")
    expect(rows[23]).toMatch(/proposal 2 is Executed, not open for votes/)
    expect(calls).toEqual([])
  })
})

describe("propose", () => {
  it("p on the governance screen: name=value, Enter, confirm → onPropose(name, value) once; a malformed change is refused in the dialog", async () => {
    const calls: unknown[] = []
    const { tui, keys } = setup({ onPropose: (name, value) => void calls.push([name, value]) })
    let rows = await keys("1", "p")
    expect(tui.ui.status).toMatch(/governance screen/)
    rows = await keys("4", "p", ..."fees.burn", ENTER)
    expect(rows.join("\n")).toMatch(/type name=value/)
    rows = await keys(..."Fraction=0.2", ENTER)
    expect(rows.join("\n")).toMatch(/Propose setting fees\.burnFraction to 0\.2\?/)
    await keys("y")
    expect(calls).toEqual([["fees.burnFraction", 0.2]])
    expect(tui.ui.status).toBe("proposal fees.burnFraction=0.2 sent")
    expect(rows.at(-1)).toMatch(/p propose/)
  })

  it("without an onPropose callback, p says proposing is not available", async () => {
    const { tui, keys } = setup()
    await keys("4", "p")
    expect(tui.ui.status).toBe("proposing is not available here")
  })
})

describe("execute", () => {
  const executable: TelemetryEvent = { at: 20_000, node: "v0", kind: "governance.proposal", data: { id: 3, title: "fees.burnFraction = 0.4", state: "Executable", forVotes: "10", againstVotes: "0" } }

  it("x on the governance screen: an Executable proposal, confirm → onExecute(id) once; the help bar offers it", async () => {
    const calls: unknown[] = []
    const { tui, keys } = setup({ onExecute: (id) => void calls.push(id) })
    tui.push(executable)
    let rows = await keys("4", DOWN, DOWN, "x")
    expect(rows.join("\n")).toMatch(/Execute proposal 3 "fees\.burnFraction = 0\.4"\?/)
    rows = await keys("n")
    expect(calls).toEqual([])
    await keys("x", "y")
    expect(calls).toEqual([3])
    expect(tui.ui.status).toBe("execution of proposal 3 sent")
    expect(rows.at(-1)).toMatch(/x execute/)
  })

  it("says why a proposal cannot be executed (open, executed already), and outside the governance screen; a refusal of the host is shown", async () => {
    const calls: unknown[] = []
    const { tui, keys } = setup({ onExecute: (id) => (calls.push(id), Promise.reject(new Error("GovernanceTimelockNotExpired: proposal 3 passed, but its timelock runs until …"))) })
    await keys("1", "x")
    expect(tui.ui.status).toMatch(/governance screen/)
    await keys("4", "x")
    expect(tui.ui.status).toBe("proposal 1 is still open for votes: it can be executed once it has passed and its timelock is over")
    await keys(DOWN, "x")
    expect(tui.ui.status).toBe("proposal 2 was executed already")
    expect(calls).toEqual([])
    tui.push(executable)
    await keys(DOWN, "x", "y")
    await tick()
    expect(calls).toEqual([3])
    expect(tui.ui.status).toBe("execution of proposal 3 failed: GovernanceTimelockNotExpired: proposal 3 passed, but its timelock runs until …")
  })

  it("without an onExecute callback, x says executing is not available", async () => {
    const { tui, keys } = setup()
    await keys("4", "x")
    expect(tui.ui.status).toBe("executing proposals is not available here")
  })
})

describe("frames", () => {
  it("a burst of events is reduced at once and drawn in one later frame", async () => {
    const { term, tui } = setup({ fps: 10 })
    tui.render()
    let renders = 0
    tui.screen.on("render", () => renders++)
    const before = term.written()
    for (let i = 0; i < 1000; i++) tui.push({ at: 10_000 + i, node: "v0", kind: "block.committed", data: { height: 10 + i } })
    expect(tui.model.height).toBe(1009)
    expect(term.written()).toBe(before) // nothing drawn synchronously
    while (renders === 0) await new Promise((r) => setTimeout(r, 20))
    expect(renders).toBe(1)
    tui.render()
    expect(tui.text().find((r) => /Height/.test(r))).toMatch(/Height\s+1009/)
  })
})

describe("attachTui", () => {
  it("follows a live source until quit, then unsubscribes", async () => {
    const listeners = new Set<(e: TelemetryEvent) => void>()
    const source = { subscribe: (l: (e: TelemetryEvent) => void) => (listeners.add(l), () => void listeners.delete(l)) }
    const term = headlessTerminal()
    let quit = false
    const tui = attachTui(source, { input: term.input, output: term.output, terminal: term.terminal, self: "n1", onQuit: () => (quit = true) })
    open.push(tui)
    for (const l of listeners) l({ at: 5, node: "n1", kind: "block.committed", data: { height: 42 } })
    expect(tui.model.height).toBe(42)
    term.type("q")
    await tick()
    expect(quit).toBe(true)
    expect(listeners.size).toBe(0)
  })
})

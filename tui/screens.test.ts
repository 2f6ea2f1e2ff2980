/** Every screen drawn by blessed on an in-memory 80×24 terminal, then after a resize; the cells are checked. */
import { afterEach, describe, expect, it } from "vitest"
import { startTui, type Tui } from "./app.ts"
import { headlessTerminal, sampleEvents, sampleMarketEvent } from "./testkit.ts"

let open: Tui[] = []
afterEach(() => {
  for (const t of open) t.destroy()
  open = []
})

/** A TUI fed with the sample events, on a headless terminal. */
const setup = (columns = 80, rows = 24) => {
  const term = headlessTerminal(columns, rows)
  const tui = startTui({ input: term.input, output: term.output, terminal: term.terminal })
  open.push(tui)
  for (const e of sampleEvents()) tui.push(e)
  return { term, tui }
}

/** Switch to screen `n` (the key the user presses) and return the terminal's rows. */
const show = async (s: ReturnType<typeof setup>, key: string): Promise<string[]> => {
  s.term.type(key)
  await new Promise((r) => setImmediate(r))
  s.tui.render()
  return s.tui.text()
}

const row = (rows: string[], re: RegExp): string => rows.find((r) => re.test(r)) ?? `(no row matches ${re})`

describe("screens at 80×24", () => {
  it("overview: height, round/step, peers, stake, rewards, APR, validators, training", async () => {
    const s = setup()
    const rows = await show(s, "1")
    expect(rows.length).toBe(24)
    expect(rows.every((r) => r.length === 80)).toBe(true)
    expect(rows[0]).toMatch(/1 Overview\s+2 Validators\s+3 Training\s+4 Governance\s+5 Log\s+6 Market/)
    expect(row(rows, /Height/)).toMatch(/Height\s+2\s+round 0\s+step prevote/)
    expect(row(rows, /Peers/)).toMatch(/Peers\s+3\b/)
    expect(row(rows, /My stake/)).toMatch(/1,234\.5 DAI\s+rewards 56\.25 DAI\s+APR 12\.5 %/)
    expect(row(rows, /^ Validators/)).toMatch(/4 \(1 jailed\)\s+proposals 2 \(1 active\)/)
    expect(row(rows, /^ Training/)).toMatch(/round 5 open, 1\/4 updates, accuracy 90\.0 %/)
    expect(row(rows, /Last block/)).toMatch(/0xc07bc69d… by v2, 5 txs/)
    // The newest log line, with its braces shown literally (not taken as blessed tags).
    expect(row(rows, /clock drift/)).toContain("clock drift {3ms} from peer v2")
    // No stake/vote callbacks were given, so the help bar does not offer them.
    expect(rows[23]).toMatch(/^ 1-7\/tab screens\s+↑↓ select\s+q quit\s*$/)
  })

  it("validators: one row per validator by power, with share, stake, contribution, missed, jailed", async () => {
    const rows = await show(setup(), "2")
    expect(rows[1]).toMatch(/validator\s+power\s+share\s+stake\s+contrib\s+missed\s+prop\s+status/)
    expect(rows[2]).toMatch(/v0\s+400\s+30\.8%\s+1,000,000\s+0\.900\s+0\s+0 active/)
    expect(rows[3]).toMatch(/v1\s+350\s+26\.9%\s+900,000\s+0\.800\s+1\s+1 active/)
    expect(rows[5]).toMatch(/v3\s+250\s+19\.2%\s+700,000\s+0\.600\s+3\s+0 jailed -1\.00k/)
  })

  it("training: round progress, my score, ε, and the accuracy and loss charts", async () => {
    const rows = await show(setup(), "3")
    expect(rows[1]).toMatch(/Round 5 open\s+\[#####-+\] 1\/4 updates/)
    expect(rows[2]).toMatch(/My score 0\.280\s+ε 2\.00 \(δ=1e-5\)/)
    expect(rows[3]).toMatch(/accuracy 90\.0 %\s+loss 0\.2500\s+rounds 4/)
    // Accuracy's axis is its own range (0.52 … 0.90, padded by 0.05), not [0, 1].
    const top = rows.findIndex((r) => /^ 0\.95 \|/.test(r))
    const bottom = rows.findIndex((r) => /^ 0\.47 \|/.test(r))
    expect(top).toBeGreaterThan(3)
    expect(bottom).toBeGreaterThan(top)
    // Accuracy rises (its * climbs to the right); loss falls from 0.820 to 0.250 (o descends).
    const accCols = rows.slice(top, bottom + 1).map((r) => r.slice(0, 40).indexOf("*"))
    const stars = accCols.map((c, y) => [c, y] as const).filter(([c]) => c >= 0)
    expect(stars.length).toBe(4)
    expect(stars.map(([c]) => c)).toEqual([...stars.map(([c]) => c)].sort((a, b) => b - a))
    expect(row(rows, /0\.820 \|o/)).toBeTruthy()
    // Four rounds spread over the width: the last point in the last column.
    expect(rows[bottom]).toMatch(/0\.250 \|\s+o\s*$/)
    // Under each chart's axis: its first and last round.
    expect(rows[bottom + 2]).toMatch(/^\s+round 1\s+round 4\s+round 1\s+round 4\s*$/)
  })

  it("governance: proposals with quadratic tallies (in √DAI) and the share of yes votes", async () => {
    const rows = await show(setup(), "4")
    expect(rows[1]).toMatch(/id\s+title\s+state\s+for\s+against\s+abstain\s+yes%/)
    // √(4M DAI in wei) = 2e12 votes: 2,000 √DAI.
    expect(rows[2]).toMatch(/> 1\s+Lower the fee burn to 20%\s+Active\s+2\.00k\s+1\.00k\s+\S+\s+66\.6%/)
    expect(rows[3]).toMatch(/2\s+Fund the audit from the t…\s+Executed\s+9\.00k\s+1\.00k\s+\S+\s+90\.0%/)
    // The selected proposal's full title is shown under the table.
    expect(row(rows, /selected/)).toMatch(/selected: 1 Lower the fee burn to 20%/)
  })

  it("log: the newest events, one per line", async () => {
    const rows = await show(setup(), "5")
    expect(rows[1]).toMatch(/Log 21 lines kept/)
    expect(row(rows, /block 2/)).toMatch(/0:00:01\.200 v0\s+block 2 committed by v2, 5 txs, slashed v3/)
    expect(rows[22]).toMatch(/clock drift \{3ms\} from peer v2/)
  })
})

describe("market screen (6)", () => {
  it("says there is no report before the node's first market snapshot", async () => {
    const rows = await show(setup(), "6")
    expect(rows[1]).toMatch(/Market/)
    expect(rows[2]).toMatch(/no market report yet/)
  })

  it("totals, fees, providers with price, queue, bond and earnings (ours marked), newest jobs first", async () => {
    const s = setup()
    s.tui.push(sampleMarketEvent())
    // Another node's snapshot of the same ledger is not our view.
    s.tui.push({ ...sampleMarketEvent(9000, "v1"), data: { totals: { activeProviders: 9 } } })
    const rows = await show(s, "6")
    expect(rows[1]).toMatch(/Market\s+providers 2 · escrow 12 · bonds 2,000 DAI/)
    expect(rows[2]).toMatch(/Jobs\s+open 1 · assigned 1 · disputed 1 · settled 4 · expired 0/)
    expect(rows[3]).toMatch(/Fees\s+burnt 0\.15 · to stakers 0\.35 · paid to providers 9\.5 DAI/)
    expect(rows[5]).toMatch(/provider\s+kinds\s+price\s+queue\s+bond\s+earned/)
    expect(row(rows, /\*v0/)).toMatch(/\*v0\s+infer:mnist\s+0\.25\s+1\/2\s+1,000\s+10/)
    expect(row(rows, /^ d1/)).toMatch(/d1\s+infer:mnist,f…\s+0\.5\s+1\/4\s+1,000\s+0/)
    const header = rows.findIndex((r) => /job\s+kind\s+state\s+done\/units\s+price\s+provider/.test(r))
    expect(header).toBeGreaterThan(5)
    expect(rows[header + 1]).toMatch(/7\s+infer:mnist\s+open\s+0\/8\s+≤0\.3\s+—/)
    expect(rows[header + 2]).toMatch(/6\s+finetune:mnist\s+disputed\s+1\/2\s+0\.5\s+d1/)
    expect(rows[header + 3]).toMatch(/5\s+infer:mnist\s+assigned\s+4\/10\s+0\.25\s+v0/)
    expect(s.tui.model.market?.activeProviders).toBe(2)
  })
})

describe("resizing", () => {
  it("redraws every screen at the new size, and fits a small terminal", async () => {
    const s = setup()
    s.term.resize(120, 40)
    await new Promise((r) => setImmediate(r))
    let rows = await show(s, "3")
    expect(rows.length).toBe(40)
    expect(rows.every((r) => r.length === 120)).toBe(true)
    // A taller chart: more rows between its top and bottom labels than at 24 rows.
    expect(rows.findIndex((r) => /0\.47 \|/.test(r)) - rows.findIndex((r) => /0\.95 \|/.test(r))).toBeGreaterThan(20)
    rows = await show(s, "4")
    expect(rows[2]).toMatch(/Lower the fee burn to 20%\s+Active/)
    expect(rows[39]).toMatch(/q quit/)

    s.term.resize(60, 16)
    await new Promise((r) => setImmediate(r))
    rows = await show(s, "2")
    expect(rows.length).toBe(16)
    expect(rows[2]).toMatch(/v0\s+400\s+30\.8%/)
    rows = await show(s, "1")
    expect(row(rows, /Height/)).toMatch(/Height\s+2/)
    expect(rows[15]).toMatch(/1-7\/tab screens/)
  })
})

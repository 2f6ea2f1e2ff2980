/**
 * The blessed TUI: a tab bar, one box for the current screen, a modal for the stake and vote flows,
 * and a help bar. Events are reduced at once (cheap, pure); drawing is scheduled, at most `fps`
 * times a second, so a burst of events costs one render and the node's event loop is never held
 * up by the terminal. Actions go to callbacks from the host: the TUI never reaches into the node.
 */
import blessed from "blessed"
import type { Readable, Writable } from "node:stream"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { formatTokens } from "../runtime/core/units.ts"
import { handleKey, initialUi, SCREENS, type Action, type Choice, type Key, type ParamValueText, type UiState } from "./controls.ts"
import { esc } from "./format.ts"
import { initialModel, reduce, type ProposalId, type ViewModel } from "./model.ts"
import { governanceScreen } from "./screens/governance.ts"
import { logScreen } from "./screens/log.ts"
import { marketScreen } from "./screens/market.ts"
import { lmScreen } from "./screens/lm.ts"
import { overviewScreen } from "./screens/overview.ts"
import { trainingScreen } from "./screens/training.ts"
import { validatorsScreen } from "./screens/validators.ts"
import type { ScreenRender } from "./screens/view.ts"

const RENDERERS: readonly ScreenRender<ViewModel>[] = [overviewScreen, validatorsScreen, trainingScreen, governanceScreen, logScreen, marketScreen, lmScreen]

export interface TuiOptions {
  /** Terminal streams; default the process's. Tests pass in-memory streams. */
  readonly input?: Readable
  readonly output?: Writable
  readonly terminal?: string
  /** Starting model (default: empty, the view of `self`). */
  readonly model?: ViewModel
  readonly self?: string
  readonly title?: string
  /** Host actions; a key whose callback is missing says it is not available. */
  readonly onStake?: (amount: bigint) => void | Promise<unknown>
  /** Where onStake puts the tokens, said in the stake dialog and its question (e.g. "node0's contributor pool"). */
  readonly stakeInto?: string
  readonly onVote?: (id: ProposalId, choice: Choice) => void | Promise<unknown>
  /** Submit a parameter-change proposal (`p` on the governance screen). */
  readonly onPropose?: (name: string, value: ParamValueText) => void | Promise<unknown>
  /** Execute a passed proposal whose timelock is over (`x` on the governance screen). */
  readonly onExecute?: (id: ProposalId) => void | Promise<unknown>
  /** Called once when the user quits (q, C-c); the screen is already gone. */
  readonly onQuit?: () => void
  /** Renders a second at most (default 10). */
  readonly fps?: number
  /** Extra keys of the host (the replay's), tried first in normal mode; true = handled. */
  readonly onKey?: (key: Key) => boolean
  /** Host help appended to the help bar, and a status shown at the right of the tab bar. */
  readonly help?: string
  readonly status?: () => string
  /** Host rows shown on the overview under the node (label, value), read at every frame. */
  readonly info?: () => ReadonlyArray<readonly [string, string]>
}

export interface Tui {
  /** Reduce one event now; the screen is redrawn at the next frame. */
  push(event: TelemetryEvent): void
  /** Replace the whole model (a replay seeking); redrawn at the next frame. */
  setModel(model: ViewModel): void
  readonly model: ViewModel
  readonly ui: UiState
  /** Ask for a redraw at the next frame (host status changed). */
  invalidate(): void
  /** Draw now (tests; the frame scheduler calls this). */
  render(): void
  /** Clear the terminal and draw every cell again (C-l): for output that reached the terminal behind blessed's back. */
  redraw(): void
  /** The terminal's cells as text, one string per row (what the user sees, tags resolved). */
  text(): string[]
  readonly screen: blessed.Widgets.Screen
  /** Quit: tear the screen down and call onQuit once. */
  destroy(): void
}

/** The help bar lists only the actions this host offers. */
const baseHelp = (can: { stake: boolean; vote: boolean; propose: boolean; execute: boolean }): string =>
  [`1-${SCREENS.length}/tab screens`, ...(can.stake ? ["s stake"] : []), ...(can.vote ? ["v vote"] : []), ...(can.propose ? ["p propose"] : []), ...(can.execute ? ["x execute"] : []), "↑↓ select", "q quit"].join("  ")

/** Start the TUI on a terminal. */
export const startTui = (options: TuiOptions = {}): Tui => {
  const screen = blessed.screen({
    ...(options.input ? { input: options.input as never } : {}),
    ...(options.output ? { output: options.output as never } : {}),
    ...(options.terminal ? { terminal: options.terminal } : {}),
    smartCSR: true,
    warnings: false,
    title: options.title ?? "dai",
    autoPadding: false,
  })
  const tabs = blessed.box({ parent: screen, top: 0, left: 0, width: "100%", height: 1, tags: true, style: { bg: "blue", fg: "white" } })
  const body = blessed.box({ parent: screen, top: 1, left: 0, width: "100%", height: "100%-2", tags: true, wrap: false, padding: { left: 1, right: 1 } })
  const help = blessed.box({ parent: screen, bottom: 0, left: 0, width: "100%", height: 1, tags: true, style: { bg: "blue", fg: "white" } })
  const modal = blessed.box({
    parent: screen, top: "center", left: "center", width: 60, height: 7, tags: true, hidden: true,
    border: { type: "line" }, padding: { left: 1, right: 1 }, style: { border: { fg: "yellow" } },
  })

  let model = options.model ?? initialModel(options.self)
  let ui = initialUi
  let timer: NodeJS.Timeout | undefined
  let lastDraw = 0
  let closed = false
  const frame = 1000 / Math.max(1, options.fps ?? 10)
  const can = {
    stake: options.onStake !== undefined, vote: options.onVote !== undefined, propose: options.onPropose !== undefined, execute: options.onExecute !== undefined,
    stakeInto: options.stakeInto,
  }

  const draw = () => {
    if (closed) return
    const width = Math.max(1, (screen.width as number) - 2)
    const height = Math.max(1, (screen.height as number) - 2)
    const status = options.status?.() ?? ""
    // Narrow terminals get tighter tabs, leaving room for the host's status.
    const pad = width + 2 >= 100 ? " " : ""
    const tabText = SCREENS.map((name, i) => (i === ui.screen ? `{inverse}${pad}${i + 1} ${name}${pad}{/inverse}` : `${pad}${i + 1} ${name}${pad}`)).join(pad === "" ? " " : "")
    tabs.setContent(`${tabText}${status === "" ? "" : `{|}${esc(status)} `}`)
    const info = options.info?.()
    body.setContent(RENDERERS[ui.screen]!(model, { width, height, selected: ui.selected[ui.screen] ?? 0, ...(info === undefined ? {} : { info }) }))
    help.setContent(` ${ui.status === undefined ? "" : `{yellow-fg}${esc(ui.status)}{/yellow-fg} | `}${baseHelp(can)}${options.help ? `  ${options.help}` : ""}`)
    const dialog = modalContent(ui, options.stakeInto)
    if (dialog === undefined) modal.hide()
    else {
      modal.setContent(dialog)
      modal.show()
    }
    screen.render()
    lastDraw = performance.now()
  }

  const schedule = () => {
    if (timer !== undefined || closed) return
    timer = setTimeout(() => {
      timer = undefined
      draw()
    }, Math.max(0, lastDraw + frame - performance.now()))
  }

  const perform = (action: Action) => {
    const what = action.kind === "stake"
      ? `stake of ${formatTokens(action.amount)} DAI`
      : action.kind === "vote" ? `vote ${action.choice} on proposal ${action.id}`
      : action.kind === "execute" ? `execution of proposal ${action.id}` : `proposal ${action.name}=${String(action.value)}`
    const settle = (status: string) => {
      ui = { ...ui, status }
      schedule()
    }
    try {
      const result = action.kind === "stake"
        ? options.onStake?.(action.amount)
        : action.kind === "vote" ? options.onVote?.(action.id, action.choice)
        : action.kind === "execute" ? options.onExecute?.(action.id) : options.onPropose?.(action.name, action.value)
      if (result instanceof Promise) {
        settle(`${what} sent…`)
        result.then(() => settle(`${what} done`), (e: unknown) => settle(`${what} failed: ${e instanceof Error ? e.message : String(e)}`))
      } else settle(`${what} sent`)
    } catch (e) {
      settle(`${what} failed: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  const destroy = () => {
    if (closed) return
    closed = true
    if (timer !== undefined) clearTimeout(timer)
    screen.destroy()
    options.onQuit?.()
  }

  screen.on("keypress", (ch: string | undefined, key: Key | undefined) => {
    if (closed) return
    const k: Key = { name: key?.name, full: key?.full, ch: ch ?? (key as { sequence?: string } | undefined)?.sequence }
    if (k.full === "C-l") return redraw()
    if (ui.mode.kind === "normal" && k.full !== "C-c" && options.onKey?.(k) === true) return schedule()
    const next = handleKey(ui, k, model, can)
    ui = next.ui
    if (next.effect?.kind === "quit") return destroy()
    if (next.effect !== undefined) perform(next.effect)
    schedule()
  })
  const redraw = () => {
    if (closed) return
    screen.realloc()
    draw()
  }
  screen.on("resize", () => draw())
  draw()

  return {
    push(event) {
      model = reduce(model, event)
      schedule()
    },
    setModel(next) {
      model = next
      schedule()
    },
    get model() {
      return model
    },
    get ui() {
      return ui
    },
    invalidate: schedule,
    render: draw,
    redraw,
    // blessed keeps the drawn cells in `lines` ([attr, char] pairs); @types/blessed does not declare it.
    text: () => (screen as unknown as { lines: Array<Array<[number, string]>> }).lines.map((row) => row.map((cell) => cell[1]).join("")),
    screen,
    destroy,
  }
}

const modalContent = (ui: UiState, stakeInto: string | undefined): string | undefined => {
  const m = ui.mode
  switch (m.kind) {
    case "normal":
      return undefined
    case "stake.amount":
      return `{bold}Stake${stakeInto === undefined ? "" : ` into ${esc(stakeInto)}`}{/bold}\nAmount in DAI: ${esc(m.text)}_\n${m.error === undefined ? "" : `{red-fg}${esc(m.error)}{/red-fg}`}\n{gray-fg}Enter continue · Esc cancel{/gray-fg}`
    case "vote.choice":
      return `{bold}Vote on proposal ${esc(String(m.id))}{/bold}\n${esc(m.title)}\n{gray-fg}y yes · n no · a abstain (counts toward quorum only) · Esc cancel{/gray-fg}`
    case "propose.param":
      return `{bold}New proposal: change a parameter{/bold}\nname=value: ${esc(m.text)}_\n${m.error === undefined ? "{gray-fg}e.g. fees.burnFraction=0.2 (dai params lists them){/gray-fg}" : `{red-fg}${esc(m.error)}{/red-fg}`}\n{gray-fg}Enter continue · Esc cancel{/gray-fg}`
    case "confirm":
      return `{bold}Confirm{/bold}\n${esc(m.question)}\n\n{gray-fg}y confirm · n cancel{/gray-fg}`
  }
}

/** Anything that hands out telemetry events (the node's TelemetryHub). */
export interface TelemetrySource {
  subscribe(listener: (event: TelemetryEvent) => void): () => void
}

/** Start the TUI on a live event source (`dai node start --tui`); quitting unsubscribes before onQuit. */
export const attachTui = (source: TelemetrySource, options: TuiOptions = {}): Tui => {
  let unsubscribe: () => void = () => {}
  const tui = startTui({
    ...options,
    onQuit: () => {
      unsubscribe()
      options.onQuit?.()
    },
  })
  unsubscribe = source.subscribe((event) => tui.push(event))
  return tui
}

/** Log: the newest events, one line each, coloured by level. */
import { items, size } from "../ring.ts"
import { clock, esc, fit } from "../format.ts"
import type { LogLine, ViewModel } from "../model.ts"
import type { ScreenView } from "./view.ts"

const COLOR = { debug: "gray-fg", info: "white-fg", warn: "yellow-fg", error: "red-fg" } as const

/** One log line cut to `width`: time, node, text. */
export const logLine = (l: LogLine, width: number): string => {
  const text = fit(`${clock(l.at)} ${l.node.padEnd(4)} ${l.text}`, width)
  return `{${COLOR[l.level]}}${esc(text).trimEnd()}{/${COLOR[l.level]}}`
}

/** Log screen content: the newest lines that fit, scrolled back by `view.selected` lines. */
export const logScreen = (m: ViewModel, view: ScreenView): string => {
  const total = size(m.log)
  const rows = Math.max(1, view.height - 1)
  const back = Math.max(0, Math.min(view.selected, total - rows))
  const shown = items(m.log, rows + back).slice(0, rows)
  const header = `{bold}Log{/bold} {gray-fg}${total} lines kept${back > 0 ? `, scrolled back ${back}` : ""} (↑/↓ scroll){/gray-fg}`
  return [header, ...shown.map((l) => logLine(l, view.width))].join("\n")
}

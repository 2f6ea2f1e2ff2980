/**
 * `dai sim replay TRACE --tui`: the node screens fed from a simulator trace, with the player's keys
 * (step, play/pause, speed). Playback follows the trace's virtual time, scaled by the speed.
 */
import type { Readable, Writable } from "node:stream"
import type { TraceEvent } from "../runtime/services/trace.ts"
import { startTui, type Tui } from "./app.ts"
import type { Key } from "./controls.ts"
import { clock } from "./format.ts"
import { initialModel } from "./model.ts"
import { TracePlayer, traceToTelemetry } from "./player.ts"

/** Playback speeds (× virtual time): from slow motion to days of an economy run in seconds. */
export const SPEEDS = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] as const

/** Events applied per playback tick at most, so a dense trace never stalls the terminal. */
const MAX_PER_TICK = 5_000
const TICK_MS = 100

export interface ReplayOptions {
  /** Whose view to show (a node name in the trace); default the first node in it. */
  readonly self?: string
  /** Start at the first event at or after this virtual time (ms). */
  readonly from?: number
  readonly input?: Readable
  readonly output?: Writable
  readonly terminal?: string
}

export interface Replay {
  readonly tui: Tui
  readonly player: TracePlayer
  readonly playing: boolean
  readonly speed: number
  /** Resolves when the user quits. */
  readonly done: Promise<void>
}

/** The slowest speed that plays the whole trace in about a minute (at least 1×). */
export const defaultSpeed = (events: readonly TraceEvent[]): number => {
  const span = (events.at(-1)?.t ?? 0) - (events[0]?.t ?? 0)
  return SPEEDS.find((s) => s >= 1 && span / s <= 60_000) ?? SPEEDS.at(-1)!
}

/** Open the TUI over `events`; returns at once, `done` resolves on quit. */
export const startReplay = (events: readonly TraceEvent[], options: ReplayOptions = {}): Replay => {
  const player = new TracePlayer(events.map(traceToTelemetry), initialModel(options.self))
  if (options.from !== undefined) {
    const from = options.from
    const start = events.findIndex((e) => e.t >= from)
    player.seek(start < 0 ? events.length : start)
  }
  let speedIndex = SPEEDS.indexOf(defaultSpeed(events) as (typeof SPEEDS)[number])
  let playing = false
  let timer: NodeJS.Timeout | undefined
  let virtual = player.time
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => (resolveDone = resolve))

  const pause = () => {
    playing = false
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
  const show = () => {
    tui.setModel(player.model)
    tui.invalidate()
  }
  const step = (f: () => void) => {
    pause()
    f()
    virtual = player.time
    show()
  }
  const tick = () => {
    const speed = SPEEDS[speedIndex]!
    virtual += speed * TICK_MS
    const next = player.events[player.position]
    // A quiet stretch of more than a few real seconds is skipped: jump to the next event.
    if (next !== undefined && next.at - virtual > speed * 3_000) virtual = next.at
    player.playUntil(virtual, MAX_PER_TICK)
    if (player.atEnd) pause()
    show()
  }
  const play = () => {
    if (player.atEnd) player.seek(0)
    virtual = player.time
    playing = true
    timer = setInterval(tick, TICK_MS)
  }

  const onKey = (k: Key): boolean => {
    if (k.name === "space" || k.ch === " ") {
      if (playing) pause()
      else play()
    } else if (k.name === "right" || k.ch === ".") step(() => player.forward())
    else if (k.name === "left" || k.ch === ",") step(() => player.back())
    else if (k.name === "pagedown" || k.ch === ">") step(() => player.forward(100))
    else if (k.name === "pageup" || k.ch === "<") step(() => player.back(100))
    else if (k.name === "home" || k.ch === "g") step(() => player.seek(0))
    else if (k.name === "end" || k.ch === "G") step(() => player.seek(player.length))
    else if (k.ch === "+" || k.ch === "=") speedIndex = Math.min(SPEEDS.length - 1, speedIndex + 1)
    else if (k.ch === "-" || k.ch === "_") speedIndex = Math.max(0, speedIndex - 1)
    else return false
    return true
  }

  const tui: Tui = startTui({
    ...(options.input ? { input: options.input } : {}),
    ...(options.output ? { output: options.output } : {}),
    ...(options.terminal ? { terminal: options.terminal } : {}),
    model: player.model,
    title: "dai replay",
    help: "space play  ←→ step  <> ×100  +- speed",
    status: () => `${playing ? "▶" : "⏸"} ${player.position}/${player.length} ${clock(player.time).slice(0, -4)} ${SPEEDS[speedIndex]}×`,
    onKey,
    onQuit: () => {
      pause()
      resolveDone()
    },
  })
  return {
    tui,
    player,
    get playing() {
      return playing
    },
    get speed() {
      return SPEEDS[speedIndex]!
    },
    done,
  }
}

/** Run the replay TUI on the process's terminal until the user quits. */
export const replayTui = async (events: readonly TraceEvent[], options: ReplayOptions = {}): Promise<void> => {
  await startReplay(events, options).done
}

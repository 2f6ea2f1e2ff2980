/**
 * The TUI of a host that takes a while to start (the devnet: the node runtime, the chain and its
 * contracts, then nodes connecting). It opens at once and shows each step and the time spent on the
 * overview and in the log, instead of a blank terminal; once the host is up, its actions, status and
 * overview rows take over. Also: a restarted node's committed rounds as events, for the chart.
 */
import type { Readable, Writable } from "node:stream"
import type { TelemetryEvent } from "../runtime/services/telemetry.ts"
import { startTui, type Tui, type TuiOptions } from "./app.ts"
import { LIMITS } from "./model.ts"

/** What the host offers once it has started. */
export interface StartedHost {
  readonly onStake: NonNullable<TuiOptions["onStake"]>
  readonly onVote: NonNullable<TuiOptions["onVote"]>
  readonly onPropose: NonNullable<TuiOptions["onPropose"]>
  /** Absent: the host executes no proposals (x says so). */
  readonly onExecute?: TuiOptions["onExecute"]
  readonly onQuit: () => void
  readonly status: () => string
  readonly info: ReadonlyArray<readonly [string, string]>
}

export interface StartupTui {
  readonly tui: Tui
  /** A step of the start: shown on the overview (with the seconds since the start) and logged. */
  phase(text: string): void
  /** The host is up: its actions, status and overview rows replace the start's. */
  started(host: StartedHost): void
  /** Whether the user quit while the host was starting (the host stops once it is up). */
  quitRequested(): boolean
}

export interface StartupOptions {
  readonly self: string
  readonly title: string
  /** Where the host's stake action puts the tokens (TuiOptions.stakeInto). */
  readonly stakeInto?: string
  /** Called when the user quits before the host is up (the screen is gone: say what happens next). */
  readonly onEarlyQuit?: () => void
  readonly input?: Readable
  readonly output?: Writable
  readonly terminal?: string
  /** Wall clock (ms); tests pass their own. */
  readonly now?: () => number
}

const STILL_STARTING = "the network is still starting"

/** Open the TUI before the host has started. */
export const openStartupTui = (options: StartupOptions): StartupTui => {
  const now = options.now ?? Date.now
  const since = now()
  let host: StartedHost | undefined
  let quit = false
  let phase = "starting"
  const seconds = () => `${Math.round((now() - since) / 1000)} s`
  const tui = startTui({
    self: options.self,
    title: options.title,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.output === undefined ? {} : { output: options.output }),
    ...(options.terminal === undefined ? {} : { terminal: options.terminal }),
    ...(options.stakeInto === undefined ? {} : { stakeInto: options.stakeInto }),
    onStake: (amount) => (host === undefined ? Promise.reject(new Error(STILL_STARTING)) : host.onStake(amount)),
    onVote: (id, choice) => (host === undefined ? Promise.reject(new Error(STILL_STARTING)) : host.onVote(id, choice)),
    onPropose: (name, value) => (host === undefined ? Promise.reject(new Error(STILL_STARTING)) : host.onPropose(name, value)),
    onExecute: (id) =>
      host === undefined ? Promise.reject(new Error(STILL_STARTING))
        : host.onExecute === undefined ? Promise.reject(new Error("this host executes no proposals")) : host.onExecute(id),
    onQuit: () => {
      clearInterval(ticker)
      if (host !== undefined) return host.onQuit()
      quit = true
      options.onEarlyQuit?.()
    },
    status: () => (host === undefined ? `starting, ${seconds()}` : host.status()),
    info: () => (host === undefined ? [["Starting", `${phase} (${seconds()})`]] : host.info),
  })
  // The elapsed time moves even while a step is silent.
  const ticker = setInterval(() => tui.invalidate(), 1000)
  ticker.unref()
  return {
    tui,
    phase(text) {
      phase = text
      tui.push({ at: now(), node: "devnet", kind: "log", data: { level: "info", message: `${text} (${seconds()})` } })
    },
    started(h) {
      clearInterval(ticker)
      host = h
      // Starting a chain and libp2p may have written to the terminal behind blessed: draw every cell again.
      tui.redraw()
      tui.push({ at: now(), node: "devnet", kind: "log", data: { level: "info", message: `started in ${seconds()}` } })
    },
    quitRequested: () => quit,
  }
}

/** A round as the chain records it (accuracy and loss in millionths). */
export interface CommittedRound {
  readonly round: number
  readonly accuracy: number
  readonly loss?: number | undefined
  readonly participants: readonly unknown[]
}

/**
 * The rounds a node's chain holds, as `training.round.completed` events marked `restored` (the chart
 * fills, the log does not): a restarted node's training starts reporting from its next round only.
 */
export const restoredRounds = (node: string, rounds: Iterable<CommittedRound>, at: number): TelemetryEvent[] =>
  [...rounds]
    .sort((a, b) => a.round - b.round)
    .slice(-LIMITS.rounds)
    .map((r) => ({
      at, node, kind: "training.round.completed",
      data: { round: r.round, received: r.participants.length, accuracy: r.accuracy / 1_000_000, ...(r.loss === undefined ? {} : { loss: r.loss / 1_000_000 }), restored: true },
    }))

/**
 * What the keys do, as a pure function: (UI state, key) → new UI state and, at most, one effect for
 * the host (stake, vote, propose, execute, quit). The blessed app only feeds keys in and carries effects out, so the
 * stake and vote flows, with their confirmation step, are tested without a terminal.
 */
import { tokens, formatTokens } from "../runtime/core/units.ts"
import type { ProposalId, ViewModel } from "./model.ts"
import { selectedProposal } from "./screens/governance.ts"

export const SCREENS = ["Overview", "Validators", "Training", "Governance", "Log", "Market", "LM"] as const
export const GOVERNANCE = 3
export const LOG = 4

/**
 * A vote: yes (for), no (against) or abstain — Governance.sol's castVote support 1, 0, 2 as
 * OpenZeppelin's GovernorCountingSimple counts them (abstain counts toward quorum only).
 */
export type Choice = "yes" | "no" | "abstain"

/** The Chain port's / POST /votes' support for a TUI choice. */
export const supportOfChoice = (c: Choice): "for" | "against" | "abstain" => (c === "yes" ? "for" : c === "no" ? "against" : "abstain")

/** A parameter value typed as text: a number, true/false, or the text itself (a choice such as an aggregator). */
export type ParamValueText = number | boolean | string

export type Action =
  | { readonly kind: "stake"; readonly amount: bigint }
  | { readonly kind: "vote"; readonly id: ProposalId; readonly choice: Choice }
  | { readonly kind: "propose"; readonly name: string; readonly value: ParamValueText }
  | { readonly kind: "execute"; readonly id: ProposalId }

export type Mode =
  | { readonly kind: "normal" }
  | { readonly kind: "stake.amount"; readonly text: string; readonly error: string | undefined }
  | { readonly kind: "vote.choice"; readonly id: ProposalId; readonly title: string }
  | { readonly kind: "propose.param"; readonly text: string; readonly error: string | undefined }
  | { readonly kind: "confirm"; readonly action: Action; readonly question: string }

export interface UiState {
  readonly screen: number
  /** Per screen: the selected row (governance) or how far the log is scrolled back. */
  readonly selected: readonly number[]
  readonly mode: Mode
  /** One line of feedback in the help bar (an action's outcome, why a key did nothing). */
  readonly status: string | undefined
}

/** What a key press carries (blessed's key object, reduced to what we read). */
export interface Key {
  readonly name?: string | undefined
  readonly full?: string | undefined
  readonly ch?: string | undefined
}

export type Effect = Action | { readonly kind: "quit" }

/** Which actions the host supports (a replay supports neither). */
export interface Capabilities {
  readonly stake: boolean
  readonly vote: boolean
  /** Where `s` puts the tokens, said in the dialog and the question (e.g. "node0's contributor pool"). */
  readonly stakeInto?: string | undefined
  /** Whether the host can submit a proposal (`p` on the governance screen). */
  readonly propose?: boolean | undefined
  /** Whether the host can execute a passed proposal (`x` on the governance screen). */
  readonly execute?: boolean | undefined
}

export const initialUi: UiState = { screen: 0, selected: SCREENS.map(() => 0), mode: { kind: "normal" }, status: undefined }

const normal: Mode = { kind: "normal" }

const isEnter = (k: Key) => k.name === "enter" || k.name === "return"
const isEscape = (k: Key) => k.name === "escape"

/** Handle one key. Returns the next UI state and the effect the host must carry out, if any. */
export const handleKey = (ui: UiState, key: Key, model: ViewModel, can: Capabilities): { ui: UiState; effect?: Effect } => {
  if (key.full === "C-c") return { ui, effect: { kind: "quit" } }
  const mode = ui.mode
  switch (mode.kind) {
    case "normal":
      return normalKey(ui, key, model, can)
    case "stake.amount": {
      if (isEscape(key)) return { ui: { ...ui, mode: normal, status: "stake cancelled" } }
      if (key.name === "backspace") return { ui: { ...ui, mode: { ...mode, text: mode.text.slice(0, -1), error: undefined } } }
      if (isEnter(key)) {
        const amount = parseAmount(mode.text)
        if (typeof amount === "string") return { ui: { ...ui, mode: { ...mode, error: amount } } }
        return { ui: { ...ui, mode: { kind: "confirm", action: { kind: "stake", amount }, question: `Stake ${formatTokens(amount)} DAI${can.stakeInto === undefined ? "" : ` into ${can.stakeInto}`}?` } } }
      }
      if (key.ch !== undefined && /^[0-9.]$/.test(key.ch) && mode.text.length < 30) return { ui: { ...ui, mode: { ...mode, text: mode.text + key.ch, error: undefined } } }
      return { ui }
    }
    case "vote.choice": {
      if (isEscape(key) || key.ch === "c") return { ui: { ...ui, mode: normal, status: "vote cancelled" } }
      const choice: Choice | undefined = key.ch === "y" ? "yes" : key.ch === "n" ? "no" : key.ch === "a" ? "abstain" : undefined
      if (choice === undefined) return { ui }
      return { ui: { ...ui, mode: { kind: "confirm", action: { kind: "vote", id: mode.id, choice }, question: `Vote ${choice.toUpperCase()} on proposal ${mode.id} "${mode.title}"?` } } }
    }
    case "propose.param": {
      if (isEscape(key)) return { ui: { ...ui, mode: normal, status: "proposal cancelled" } }
      if (key.name === "backspace") return { ui: { ...ui, mode: { ...mode, text: mode.text.slice(0, -1), error: undefined } } }
      if (isEnter(key)) {
        const change = parseParamChange(mode.text)
        if (typeof change === "string") return { ui: { ...ui, mode: { ...mode, error: change } } }
        return { ui: { ...ui, mode: { kind: "confirm", action: { kind: "propose", ...change }, question: `Propose setting ${change.name} to ${String(change.value)}?` } } }
      }
      if (key.ch !== undefined && key.ch.length === 1 && key.ch >= " " && key.ch !== "\x7f" && mode.text.length < 120) return { ui: { ...ui, mode: { ...mode, text: mode.text + key.ch, error: undefined } } }
      return { ui }
    }
    case "confirm": {
      if (key.ch === "y") return { ui: { ...ui, mode: normal, status: undefined }, effect: mode.action }
      if (key.ch === "n" || isEscape(key)) return { ui: { ...ui, mode: normal, status: `${mode.action.kind} cancelled` } }
      return { ui }
    }
  }
}

const normalKey = (ui: UiState, key: Key, model: ViewModel, can: Capabilities): { ui: UiState; effect?: Effect } => {
  const ch = key.ch
  if (ch !== undefined && ch >= "1" && ch <= String(SCREENS.length)) return { ui: { ...ui, screen: Number(ch) - 1, status: undefined } }
  if (key.full === "S-tab") return { ui: { ...ui, screen: (ui.screen + SCREENS.length - 1) % SCREENS.length, status: undefined } }
  if (key.name === "tab") return { ui: { ...ui, screen: (ui.screen + 1) % SCREENS.length, status: undefined } }
  if (ch === "q") return { ui, effect: { kind: "quit" } }
  if (key.name === "up" || key.name === "down" || ch === "k" || ch === "j") {
    const down = key.name === "down" || ch === "j"
    const cur = ui.selected[ui.screen] ?? 0
    // Governance moves the selection down the list; the log scrolls back in time with ↑.
    const next = ui.screen === GOVERNANCE
      ? Math.max(0, Math.min(model.proposals.length - 1, cur + (down ? 1 : -1)))
      : ui.screen === LOG ? Math.max(0, cur + (down ? -1 : 1)) : cur
    return { ui: { ...ui, selected: ui.selected.map((s, i) => (i === ui.screen ? next : s)) } }
  }
  if (ch === "s") {
    if (!can.stake) return { ui: { ...ui, status: "staking is not available here" } }
    return { ui: { ...ui, mode: { kind: "stake.amount", text: "", error: undefined }, status: undefined } }
  }
  if (ch === "p") {
    if (can.propose !== true) return { ui: { ...ui, status: "proposing is not available here" } }
    if (ui.screen !== GOVERNANCE) return { ui: { ...ui, status: "proposals are made on the governance screen (4)" } }
    return { ui: { ...ui, mode: { kind: "propose.param", text: "", error: undefined }, status: undefined } }
  }
  if (ch === "x") {
    if (can.execute !== true) return { ui: { ...ui, status: "executing proposals is not available here" } }
    if (ui.screen !== GOVERNANCE) return { ui: { ...ui, status: "select a proposal on the governance screen (4) first" } }
    const p = selectedProposal(model, ui.selected[GOVERNANCE] ?? 0)
    if (p === undefined) return { ui: { ...ui, status: "no proposal to execute" } }
    const why = NOT_EXECUTABLE[p.state.toLowerCase()]
    if (why !== undefined) return { ui: { ...ui, status: `proposal ${p.id} ${why}` } }
    return { ui: { ...ui, mode: { kind: "confirm", action: { kind: "execute", id: p.id }, question: `Execute proposal ${p.id} "${p.title}"? (it passed and its timelock is over)` }, status: undefined } }
  }
  if (ch === "v") {
    if (!can.vote) return { ui: { ...ui, status: "voting is not available here" } }
    if (ui.screen !== GOVERNANCE) return { ui: { ...ui, status: "select a proposal on the governance screen (4) first" } }
    const p = selectedProposal(model, ui.selected[GOVERNANCE] ?? 0)
    if (p === undefined) return { ui: { ...ui, status: "no proposal to vote on" } }
    if (p.state.toLowerCase() !== "active") return { ui: { ...ui, status: `proposal ${p.id} is ${p.state}, not open for votes` } }
    return { ui: { ...ui, mode: { kind: "vote.choice", id: p.id, title: p.title }, status: undefined } }
  }
  return { ui }
}

/** Why `x` cannot execute a proposal in a state, by state (lower case); an Executable one has no entry. */
const NOT_EXECUTABLE: Readonly<Record<string, string>> = {
  active: "is still open for votes: it can be executed once it has passed and its timelock is over",
  queued: "passed, but its timelock is not over yet",
  defeated: "did not pass: there is nothing to execute",
  executed: "was executed already",
}

/** "name=value" typed by the user → a parameter change (the chain checks the name and bounds), or why not. */
export const parseParamChange = (text: string): { readonly name: string; readonly value: ParamValueText } | string => {
  const eq = text.indexOf("=")
  const name = (eq < 0 ? text : text.slice(0, eq)).trim()
  const raw = eq < 0 ? "" : text.slice(eq + 1).trim()
  if (eq < 0 || name === "" || raw === "") return "type name=value, e.g. fees.burnFraction=0.2"
  if (!/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/.test(name)) return `"${name}" is not a parameter name (see dai params)`
  const value: ParamValueText = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw
  return { name, value }
}

/** Whole tokens typed by the user → base units, or why not. */
export const parseAmount = (text: string): bigint | string => {
  if (text === "") return "type an amount of DAI"
  let amount: bigint
  try {
    amount = tokens(text)
  } catch {
    return `"${text}" is not an amount`
  }
  return amount > 0n ? amount : "the amount must be more than 0"
}

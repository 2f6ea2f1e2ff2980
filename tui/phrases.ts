/**
 * Log lines for telemetry kinds the view model shows only in the log: one readable sentence each
 * (what happened, to what, why), so the log does not mix formatted lines with raw `kind k=v` dumps.
 * A kind not listed here still gets a generic line; readers are the tolerant ones from fields.ts.
 */
import { count, describe, list, num, str } from "./fields.ts"

type Data = Readonly<Record<string, unknown>>

export interface Phrase {
  readonly level: "debug" | "info" | "warn" | "error"
  readonly text: string
}

/** Up to 4 significant figures: a loss of 1.5859701522191365 reads 1.586. */
const round4 = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4))))

const PHRASES: Readonly<Record<string, (d: Data, name: (id: string) => string) => Phrase>> = {
  "training.started": (d) => {
    const shard = count(d, "shard")
    const shards = count(d, "shards")
    const where = shard === undefined ? "" : `, shard ${shard + 1}${shards === undefined ? "" : ` of ${shards}`}`
    const samples = count(d, "samples")
    return { level: "info", text: `training on ${str(d, "dataset") ?? "?"} (${str(d, "model") ?? "model ?"}${where}${samples === undefined ? "" : `, ${samples} samples`}), backend ${str(d, "backend") ?? "?"}` }
  },
  "training.update.sent": (d, name) => {
    const loss = num(d, "loss")
    const to = str(d, "coordinator")
    return { level: "info", text: `trained round ${count(d, "round") ?? "?"} on ${count(d, "samples") ?? "?"} samples${loss === undefined ? "" : `, loss ${round4(loss)}`}; update sent${to === undefined ? "" : ` to ${name(to)}`}` }
  },
  "training.round.unmask": (d) => {
    const dropped = list(d, "dropped") ?? []
    return { level: dropped.length > 0 ? "warn" : "debug", text: `training round ${count(d, "round") ?? "?"}: unmasking ${(list(d, "survivors") ?? []).length} updates${dropped.length > 0 ? `, ${dropped.length} dropped out` : ""}` }
  },
  "training.round.aborted": (d) => ({ level: "warn", text: `training round ${count(d, "round") ?? "?"} aborted${str(d, "reason") ? `: ${str(d, "reason")}` : ""}` }),
  "training.invalid": (d, name) => ({ level: "warn", text: `invalid training message from ${name(str(d, "from") ?? "?")}: ${str(d, "reason") ?? "?"}` }),
  "training.tx.refused": (d) => ({ level: "warn", text: `training transaction ${str(d, "type") ?? "?"} refused: ${str(d, "reason") ?? "?"}` }),
  "training.model.missing": (d) => ({ level: "warn", text: `the model of round ${count(d, "round") ?? "?"} is not here yet; training on ${str(d, "using")?.slice(0, 10) ?? "the last one"}` }),
  "stake.unlocked": (d) => ({ level: "info", text: `position ${String(d.position ?? "?")}: lock ended` }),
  "stake.withdrawable": (d) => ({ level: "info", text: `position ${String(d.position ?? "?")}: unbonded tokens can be withdrawn` }),
  "market.registerProvider": (d) => ({ level: "info", text: `${str(d, "provider") ?? "?"} registered as a compute provider` }),
  "market.postJob": (d) => ({ level: "info", text: `job ${str(d, "job") ?? "?"} posted by ${str(d, "requester") ?? "?"} (${str(d, "kind") ?? "?"})` }),
  "market.confirm": (d) => ({ level: "info", text: `job ${str(d, "job") ?? "?"} confirmed: ${(list(d, "payments") ?? []).length} note(s) paid, now ${str(d, "state") ?? "?"}` }),
  "market.dispute": (d) => ({ level: "warn", text: `job ${str(d, "job") ?? "?"} disputed by ${str(d, "by") ?? "?"}: waiting for a referee's verdict` }),
  "market.refund": (d) => ({ level: "info", text: `job ${str(d, "job") ?? "?"} refunded, now ${str(d, "state") ?? "?"}` }),
  "validator.unjailable": (d, name) => ({ level: "info", text: `${name(str(d, "pool") ?? "the validator")} may unjail now` }),
}

/** The log line of an event of `kind` the model does not otherwise show; `name` names an address. */
export const phrase = (kind: string, d: Data, name: (id: string) => string): Phrase => {
  const known = PHRASES[kind]
  if (known !== undefined) return known(d, name)
  const level = kind.endsWith(".error") || kind.endsWith(".invalid") ? "warn" : "debug"
  return { level, text: `${kind} ${describe(d)}`.trimEnd() }
}

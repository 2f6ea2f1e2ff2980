/**
 * The compute market through a running node's API (its account, its ledger), like `dai validator`:
 *
 *   dai provider start   register the node's account as a provider (bond, kinds, price, capacity) and
 *                        announce it on the network, then stay and report the jobs it is given
 *   dai job submit       post a job (its budget goes into escrow); status ID, list; confirm, dispute, refund ID
 *   dai market           providers with price, capacity, queue and bond; jobs by state; fees
 *
 * Amounts on the command line are DAI (whole tokens, up to 18 decimals); the API takes base units.
 * A refusal of the node or its ledger is one line naming the rule (exit 2); a node that cannot be
 * reached is exit 1.
 */
import { formatDuration, parseDuration } from "../runtime/core/duration.ts"
import { formatTokens, tokens } from "../runtime/core/units.ts"
import { defineCommand, InputError, intFlag, UsageError, type Command, type Io } from "./command.ts"
import { API_FLAGS, apiFlagsHelp, apiTarget, callApi, getApi, postApi, type ApiTarget } from "./api-client.ts"
import { table } from "./format.ts"
import { DEFAULT_DATA_DIR } from "./node.ts"

const JOB_STATES = ["open", "assigned", "disputed", "settled", "expired"] as const

/** A DAI amount flag (`--price 0.5`) → base units; `positive` refuses 0. */
export const daiFlag = (flag: string, raw: string | undefined, positive = true): bigint => {
  if (raw === undefined) throw new UsageError({ reason: `give --${flag}, in DAI (e.g. --${flag} 2)` })
  if (!/^\d+(\.\d{1,18})?$/.test(raw)) throw new InputError({ reason: `--${flag} must be DAI such as 2 or 0.05, got "${raw}"` })
  const amount = tokens(raw)
  if (positive && amount === 0n) throw new InputError({ reason: `--${flag} must be more than 0` })
  return amount
}

/** `--kinds a,b` → the distinct job kinds (1 to 16, no spaces). */
export const kindsFlag = (raw: string | undefined): string[] => {
  if (raw === undefined) throw new UsageError({ reason: "give --kinds, the job kinds served (e.g. --kinds infer:mnist,finetune:mnist)" })
  const kinds = raw.split(",").map((k) => k.trim()).filter((k) => k.length > 0)
  const bad = kinds.find((k) => !/^[\x21-\x7e]{1,64}$/.test(k))
  if (kinds.length === 0 || kinds.length > 16 || bad !== undefined || new Set(kinds).size !== kinds.length) {
    throw new InputError({ reason: `--kinds must be 1 to 16 distinct job kinds of printable characters, comma-separated (infer:mnist,finetune:mnist), got "${raw}"` })
  }
  return kinds
}

const dai = (v: unknown): string => `${formatTokens(BigInt(String(v ?? "0")), 4)} DAI`
const text = (v: unknown): string => String(v ?? "")

interface ProviderRow { readonly address: string; readonly kinds: readonly string[]; readonly pricePerUnit: string; readonly capacity: number; readonly openJobs: number; readonly bond: string; readonly earned: string; readonly retired: boolean; readonly penalized: string }
interface JobRow {
  readonly id: number; readonly requester: string; readonly kind: string; readonly units: string; readonly maxPricePerUnit: string; readonly budget: string
  readonly deadline: number; readonly state: string; readonly provider: string | null; readonly pricePerUnit: string; readonly delivered: string
  readonly paidUnits: string; readonly escrow: string; readonly paid: string; readonly returned: string; readonly compensation: string
  readonly notes: readonly { readonly id: number; readonly units: string; readonly amount: string; readonly state: string; readonly provider: string }[]
}

const providersTable = (rows: readonly ProviderRow[]): string =>
  rows.length === 0 ? "no providers yet (dai provider start registers one)" : table(
    ["provider", "kinds", "price/unit", "queue", "bond", "earned", "status"],
    rows.map((p) => [p.address, p.kinds.join(","), dai(p.pricePerUnit), `${p.openJobs}/${p.capacity}`, dai(p.bond), dai(p.earned), p.retired ? "retired" : BigInt(p.penalized) > 0n ? `penalized ${dai(p.penalized)}` : "active"]),
  )

const jobsTable = (rows: readonly JobRow[]): string =>
  rows.length === 0 ? "no jobs" : table(
    ["id", "kind", "state", "units", "delivered", "paid units", "provider", "price/unit", "budget", "requester"],
    rows.map((j) => [String(j.id), j.kind, j.state, j.units, j.delivered, j.paidUnits, j.provider ?? "-", j.provider === null ? `≤ ${dai(j.maxPricePerUnit)}` : dai(j.pricePerUnit), dai(j.budget), j.requester]),
  )

/** GET a path; the parsed body or the exit code. */
const read = async <T>(io: Io, prefix: string, target: ApiTarget, path: string): Promise<{ ok: true; value: T } | { ok: false; code: number }> => {
  const r = await callApi(io, prefix, () => getApi(target, path))
  return r.ok ? { ok: true, value: r.body as unknown as T } : r
}

// ---------------------------------------------------------------- dai provider start

const providerStart = defineCommand({
  name: "start",
  summary: "Register the node's account as a compute provider (bond, job kinds, price per unit, capacity) and announce it on the network; then stay and report the jobs it is given, announcing its queue as it changes. The node itself computes and delivers the jobs assigned to it (its market actor serves as soon as the ledger shows the registration; infer:<dataset> jobs run TensorFlow.js inference with the network's model).",
  exits: "0 registered or announced (--once), or stopped with Ctrl-C; 2 refused by the ledger (a bond under market.minProviderBond, too few tokens, a retired provider) or a bad command line; 1 when the node cannot be reached",
  options: { ...API_FLAGS, bond: { type: "string" }, kinds: { type: "string" }, "lm-blocks": { type: "string" }, price: { type: "string" }, capacity: { type: "string" }, once: { type: "boolean" }, interval: { type: "string" } },
  help: {
    "--bond DAI": "the bond, from the node's account (at least market.minProviderBond; `dai params` shows it); only for the first registration",
    "--kinds LIST": "job kinds served, comma-separated: infer:mnist, finetune:mnist, infer:lm",
    "--lm-blocks FROM-TO": "serve these blocks of the language model (the committed checkpoint's) to pipeline clients, paid per token: adds the kind infer:lm/FROM-TO; the node loads the blocks and announces lm/blocks/FROM-TO once the ledger shows the registration",
    "--price DAI": "price per unit of work (per token for --lm-blocks)",
    "--capacity N": "jobs taken at once (default 1)",
    "--once": "register or announce, then exit (else stay until Ctrl-C, reporting jobs)",
    "--interval DURATION": "how often to look at the provider's jobs while staying (default 2s)",
    ...apiFlagsHelp(DEFAULT_DATA_DIR),
  },
  examples: ["dai provider start --bond 1000 --kinds infer:mnist --price 0.01 --capacity 4", "dai provider start --lm-blocks 0-1 --bond 200 --price 0.001 --capacity 4", "dai provider start --once --data-dir ~/.dai/node2"],
  run: async (values, positionals, io: Io) => {
    const prefix = "dai provider start"
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const interval = values.interval === undefined ? 2_000 : parseDuration(values.interval)
    if (interval === undefined || interval < 100) throw new InputError({ reason: `--interval must be a duration of at least 100ms (2s, 500ms), got "${values.interval}"` })
    const lmKind = values["lm-blocks"] === undefined ? undefined : await lmBlocksKind(values["lm-blocks"])
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const status = await read<{ account: string }>(io, prefix, target, "/status")
    if (!status.ok) return status.code
    const account = status.value.account
    const providers = await read<ProviderRow[]>(io, prefix, target, "/market/providers")
    if (!providers.ok) return providers.code
    const mine = providers.value.find((p) => p.address === account)
    let announced: Record<string, unknown>
    if (mine === undefined) {
      const kinds = lmKind === undefined ? kindsFlag(values.kinds) : [...(values.kinds === undefined ? [] : kindsFlag(values.kinds)), lmKind].filter((k, i, all) => all.indexOf(k) === i)
      const body = { bond: daiFlag("bond", values.bond, false).toString(), kinds, pricePerUnit: daiFlag("price", values.price).toString(), capacity: intFlag("capacity", values.capacity, 1, 1, 1_000_000) }
      const r = await callApi(io, prefix, () => postApi(target, "/market/providers", body))
      if (!r.ok) return r.code
      announced = r.body
      io.out(`registered ${account} as a provider: bond ${dai(body.bond)}, ${body.kinds.join(", ")} at ${dai(body.pricePerUnit)} per unit, ${body.capacity} job(s) at once`)
    } else {
      if (mine.retired) {
        io.err(`${prefix}: MarketProviderRetired: provider ${account} has retired: it takes no job (an account registers once)`)
        return 2
      }
      if (lmKind !== undefined && !mine.kinds.includes(lmKind)) {
        io.err(`${prefix}: ${account} is registered already for ${mine.kinds.join(", ")}, not ${lmKind}: an account registers once, with its kinds (serve the blocks from another node's account)`)
        return 2
      }
      const r = await callApi(io, prefix, () => postApi(target, "/market/providers/advertise", {}))
      if (!r.ok) return r.code
      announced = r.body
      io.out(`${account} is a registered provider: bond ${dai(mine.bond)}, ${mine.kinds.join(", ")} at ${dai(mine.pricePerUnit)} per unit, ${mine.capacity} job(s) at once`)
      if (values.bond !== undefined || values.kinds !== undefined || values.price !== undefined || values.capacity !== undefined) {
        io.err(`${prefix}: registered already: --bond, --kinds, --price and --capacity were not applied (the registration stands)`)
      }
    }
    io.out(`announced on the network under ${((announced["advertised"] ?? []) as string[]).join(", ")}`)
    if (values.once === true) return 0
    io.out(`serving: reporting this provider's jobs every ${formatDuration(interval)}; Ctrl-C stops (the registration and bond stay)`)
    return serve(io, target, account, interval)
  },
})

/** `--lm-blocks FROM-TO` → the job kind infer:lm/FROM-TO, checked against the committed checkpoint's blocks. */
const lmBlocksKind = async (raw: string): Promise<string> => {
  const { DEFAULT_CHECKPOINT_DIR, readCheckpointConfig } = await import("../runtime/adapters/tfjs/lm/checkpoint.ts")
  const { parseBlockRange } = await import("../runtime/core/lm/pipeline.ts")
  const { lmJobKind } = await import("../runtime/actors/lm/paid.ts")
  const range = parseBlockRange(raw, readCheckpointConfig(DEFAULT_CHECKPOINT_DIR).model.blocks)
  if (typeof range === "string") throw new InputError({ reason: `--lm-blocks: ${range}` })
  return lmJobKind(range.from, range.to)
}

/** Report the provider's jobs as they change, re-announcing its queue when it moves, until a signal. */
const serve = async (io: Io, target: ApiTarget, account: string, interval: number): Promise<number> => {
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  const onSignal = () => stop()
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  const seen = new Map<number, string>()
  let queue = -1
  try {
    for (;;) {
      const r = await callApi(io, "dai provider start", () => getApi(target, `/market/jobs?provider=${encodeURIComponent(account)}`))
      if (r.ok) {
        const jobs = r.body as unknown as JobRow[]
        for (const j of jobs) {
          const line = `${j.state} ${j.delivered}/${j.units} delivered, ${j.paidUnits} paid`
          if (seen.get(j.id) !== line) io.out(`job ${j.id} (${j.kind}, from ${j.requester}): ${line}`)
          seen.set(j.id, line)
        }
        const open = jobs.filter((j) => j.state === "assigned" || j.state === "disputed").length
        if (open !== queue) {
          queue = open
          await callApi(io, "dai provider start", () => postApi(target, "/market/providers/advertise", {}))
        }
      }
      const tick = new Promise<"tick">((resolve) => setTimeout(() => resolve("tick"), interval))
      if ((await Promise.race([tick, stopped.then(() => "stop" as const)])) === "stop") return 0
    }
  } finally {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
  }
}

// ---------------------------------------------------------------- dai job …

const jobLines = (j: JobRow): string[] => [
  `job ${j.id}: ${j.kind}, ${j.state}`,
  `  requester   ${j.requester}`,
  `  units       ${j.units} (${j.delivered} delivered, ${j.paidUnits} paid)`,
  `  price       ${j.provider === null ? `at most ${dai(j.maxPricePerUnit)} per unit` : `${dai(j.pricePerUnit)} per unit, locked with ${j.provider}`}`,
  `  budget      ${dai(j.budget)} (escrow left ${dai(j.escrow)}, paid ${dai(j.paid)}, returned ${dai(j.returned)}${BigInt(j.compensation) > 0n ? `, compensation ${dai(j.compensation)}` : ""})`,
  `  deadline    ${new Date(j.deadline).toISOString()}`,
  ...j.notes.map((n) => `  note ${n.id}     ${n.units} units by ${n.provider}, ${dai(n.amount)}, ${n.state}`),
]

const jobSubmit = defineCommand({
  name: "submit",
  summary: "Post a compute job as the node's account: units × max price go into escrow until the work is paid or refunded; the node's market actor picks a provider.",
  exits: "0 posted; 2 refused (too few tokens, a bad kind or amount) or a bad command line; 1 when the node cannot be reached",
  options: { ...API_FLAGS, kind: { type: "string" }, units: { type: "string" }, "max-price": { type: "string" }, deadline: { type: "string" } },
  help: {
    "--kind KIND": "the job kind: infer:mnist, finetune:mnist, infer:lm",
    "--units N": "units of work (e.g. samples to classify)",
    "--max-price DAI": "the most paid per unit (the escrow is units × this)",
    "--deadline DURATION": "how long the job may run from now (default 60s)",
    ...apiFlagsHelp(DEFAULT_DATA_DIR),
  },
  examples: ["dai job submit --kind infer:mnist --units 100 --max-price 0.02", "dai job submit --kind finetune:mnist --units 10 --max-price 1 --deadline 10m"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    if (values.kind === undefined) throw new UsageError({ reason: "give --kind, the job kind (e.g. --kind infer:mnist)" })
    const kind = kindsFlag(values.kind)
    if (kind.length !== 1) throw new InputError({ reason: `--kind is one job kind, got "${values.kind}"` })
    if (values.units === undefined) throw new UsageError({ reason: "give --units, the units of work" })
    if (!/^[1-9][0-9]{0,18}$/.test(values.units)) throw new InputError({ reason: `--units must be a whole number more than 0, got "${values.units}"` })
    const maxPrice = daiFlag("max-price", values["max-price"])
    const deadline = values.deadline ?? "60s"
    const ms = parseDuration(deadline)
    if (ms === undefined || ms <= 0) throw new InputError({ reason: `--deadline must be a duration such as 60s, 10m or 1h, got "${deadline}"` })
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, "dai job submit", () => postApi(target, "/market/jobs", { kind: kind[0], units: values.units, maxPricePerUnit: maxPrice.toString(), deadline }))
    if (!r.ok) return r.code
    const j = r.body["job"] as JobRow
    io.out(`posted job ${j.id}: ${j.units} units of ${j.kind} at most ${dai(j.maxPricePerUnit)} per unit; ${dai(j.budget)} in escrow until ${new Date(j.deadline).toISOString()}`)
    io.out(`follow it with: dai job status ${j.id}`)
    return 0
  },
})

const jobId = (positionals: readonly string[]): string => {
  if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "give the job's ID" : `unexpected argument "${positionals[1]}"` })
  const raw = positionals[0]!
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new UsageError({ reason: `ID must be a job number (1, 2, …), got "${raw}"` })
  return raw
}

const jobStatus = defineCommand({
  name: "status",
  summary: "One job: state, units delivered and paid, price, escrow, deadline and its debit notes.",
  args: "ID",
  exits: "0 shown; 2 no such job or a bad command line; 1 when the node cannot be reached",
  options: { ...API_FLAGS },
  help: apiFlagsHelp(DEFAULT_DATA_DIR),
  examples: ["dai job status 3"],
  run: async (values, positionals, io: Io) => {
    const id = jobId(positionals)
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await read<JobRow>(io, "dai job status", target, `/market/jobs/${id}`)
    if (!r.ok) return r.code
    io.out(jobLines(r.value).join("\n"))
    return 0
  },
})

const jobList = defineCommand({
  name: "list",
  summary: "Market jobs, oldest first: of one state, of the node's account (--mine), or of a requester or provider.",
  exits: "0 listed; 2 a bad command line; 1 when the node cannot be reached",
  options: { ...API_FLAGS, state: { type: "string" }, mine: { type: "boolean" }, requester: { type: "string" }, provider: { type: "string" } },
  help: {
    "--state STATE": `only jobs in this state: ${JOB_STATES.join(", ")}`,
    "--mine": "only jobs the node's account posted",
    "--requester ACCOUNT": "only jobs this account posted",
    "--provider ACCOUNT": "only jobs assigned to this account",
    ...apiFlagsHelp(DEFAULT_DATA_DIR),
  },
  examples: ["dai job list", "dai job list --state open", "dai job list --mine --state settled"],
  run: async (values, positionals, io: Io) => {
    const prefix = "dai job list"
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    if (values.state !== undefined && !(JOB_STATES as readonly string[]).includes(values.state)) throw new InputError({ reason: `--state must be one of ${JOB_STATES.join(", ")}, got "${values.state}"` })
    if (values.mine === true && values.requester !== undefined) throw new UsageError({ reason: "give --mine or --requester, not both" })
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    let requester = values.requester
    if (values.mine === true) {
      const status = await read<{ account: string }>(io, prefix, target, "/status")
      if (!status.ok) return status.code
      requester = status.value.account
    }
    const query = new URLSearchParams({
      ...(values.state === undefined ? {} : { state: values.state }), ...(requester === undefined ? {} : { requester }), ...(values.provider === undefined ? {} : { provider: values.provider }),
    }).toString()
    const r = await read<JobRow[]>(io, prefix, target, `/market/jobs${query === "" ? "" : `?${query}`}`)
    if (!r.ok) return r.code
    io.out(jobsTable(r.value))
    return 0
  },
})

/** confirm / dispute / refund ID: one POST, the job after it. */
const jobAction = (action: "confirm" | "dispute" | "refund", summary: string) => defineCommand({
  name: action,
  summary,
  args: "ID",
  exits: "0 done; 2 refused by the market's rules (the reason is printed) or a bad command line; 1 when the node cannot be reached",
  options: { ...API_FLAGS },
  help: apiFlagsHelp(DEFAULT_DATA_DIR),
  examples: [`dai job ${action} 3`],
  run: async (values, positionals, io: Io) => {
    const id = jobId(positionals)
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, `dai job ${action}`, () => postApi(target, `/market/jobs/${id}/${action}`, {}))
    if (!r.ok) return r.code
    io.out(jobLines(r.body["job"] as JobRow).join("\n"))
    return 0
  },
})

// ---------------------------------------------------------------- dai market

export const marketCommand = defineCommand({
  name: "market",
  summary: "The compute market as the node's ledger shows it: providers with price, capacity, queue and bond; jobs by state; escrow, fees burnt and to stakers.",
  exits: "0 shown; 1 when the node cannot be reached or its ledger has no market",
  options: { ...API_FLAGS },
  help: apiFlagsHelp(DEFAULT_DATA_DIR),
  examples: ["dai market", "dai market --data-dir ~/.dai/node1"],
  run: async (values, positionals, io: Io) => {
    const prefix = "dai market"
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const totals = await read<Record<string, unknown> & { jobs: Record<string, number> }>(io, prefix, target, "/market")
    if (!totals.ok) return totals.code
    const providers = await read<ProviderRow[]>(io, prefix, target, "/market/providers")
    if (!providers.ok) return providers.code
    const t = totals.value
    io.out([
      `providers ${text(t["activeProviders"])} active of ${text(t["providers"])}; bonds ${dai(t["bonds"])}`,
      providersTable(providers.value),
      "",
      `jobs       ${JOB_STATES.map((s) => `${s} ${t.jobs[s] ?? 0}`).join(", ")}`,
      `escrow     ${dai(t["escrow"])}`,
      `paid       ${dai(t["paid"])} to providers, ${dai(t["returned"])} returned to requesters, ${dai(t["compensation"])} compensation from bonds`,
      `fees       ${dai(t["feeBurnt"])} burnt, ${dai(t["feeToStakers"])} to stakers (since genesis)`,
    ].join("\n"))
    return 0
  },
})

export const providerCommands: readonly Command[] = [providerStart]
export const jobCommands: readonly Command[] = [
  jobSubmit, jobStatus, jobList,
  jobAction("confirm", "Confirm a job's delivered work as its requester: its pending debit notes are paid to the provider."),
  jobAction("dispute", "Dispute a job's pending debit notes as its requester, within the dispute window: a referee re-executes and the committee decides."),
  jobAction("refund", "Refund a job after its deadline (anyone may): notes past their window are paid, the rest of the escrow goes back to the requester."),
]

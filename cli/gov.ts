/**
 * `dai gov …`: governance through a running node's API (its account, its chain), as the TUI's keys
 * and the API's POSTs do. `vote ID [--support for|against|abstain | --abstain]` votes as the node's
 * account (POST /votes). `execute ID` executes a passed proposal once its timelock is over; a
 * proposal that cannot be executed now is refused with the reason (exit 2), and nothing changes.
 */
import { defineCommand, UsageError, type Command, type Io } from "./command.ts"
import { API_FLAGS, apiFlagsHelp, apiTarget, callApi, postApi } from "./api-client.ts"
import { DEFAULT_DATA_DIR } from "./node.ts"

/** A proposal's action in a few words (as the node's telemetry titles it). */
const actionText = (a: Record<string, unknown>): string =>
  a["kind"] === "param" ? `${String(a["name"])} = ${String(a["value"])}`
    : a["kind"] === "amendment" ? `bounds of ${String(a["name"])}: [${String(a["min"])}, ${String(a["max"])}]`
    : a["kind"] === "spend" ? `spend ${String(a["amount"])} base units to ${String(a["to"])}`
    : JSON.stringify(a)

const executeCommand = defineCommand({
  name: "execute",
  summary: "Execute a passed governance proposal whose timelock is over (anyone may; the node's account sends it, on the node's chain).",
  args: "ID",
  exits: "0 executed; 2 refused, with the reason (no such proposal, voting still open, defeated, timelock not over, executed already) or a bad command line; 1 when the node cannot be reached or has no chain",
  options: { ...API_FLAGS },
  help: apiFlagsHelp(DEFAULT_DATA_DIR),
  examples: ["dai gov execute 3", "dai gov execute 3 --data-dir ~/.dai/node1", "dai gov execute 1 --api http://127.0.0.1:41234 --token-file .dai/devnet/node0/api-token"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "give the proposal's ID" : `unexpected argument "${positionals[1]}"` })
    const raw = positionals[0]!
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new UsageError({ reason: `ID must be a proposal number (1, 2, …), got "${raw}"` })
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, "dai gov execute", () => postApi(target, `/proposals/${raw}/execute`, {}))
    if (!r.ok) return r.code
    const action = (r.body["action"] ?? {}) as Record<string, unknown>
    io.out(`proposal ${raw} executed: ${actionText(action)}${action["kind"] === "param" ? " (in force on the chain now; the network takes it at its next epoch)" : ""}`)
    return 0
  },
})

const SUPPORTS = ["for", "against", "abstain"] as const

const voteCommand = defineCommand({
  name: "vote",
  summary: "Vote on a governance proposal as the node's account: for, against or abstain (abstain counts toward quorum only, as OpenZeppelin's GovernorCountingSimple counts it).",
  args: "ID",
  exits: "0 voted; 2 refused, with the reason (no such proposal, voting closed, voted already, below the minimum bond) or a bad command line; 1 when the node cannot be reached or has no chain",
  options: { ...API_FLAGS, support: { type: "string" }, abstain: { type: "boolean" } },
  help: { "--support for|against|abstain": "the vote (default for)", "--abstain": "the same as --support abstain", ...apiFlagsHelp(DEFAULT_DATA_DIR) },
  examples: ["dai gov vote 3", "dai gov vote 3 --support against", "dai gov vote 3 --abstain"],
  run: async (values, positionals, io: Io) => {
    if (positionals.length !== 1) throw new UsageError({ reason: positionals.length === 0 ? "give the proposal's ID" : `unexpected argument "${positionals[1]}"` })
    const raw = positionals[0]!
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new UsageError({ reason: `ID must be a proposal number (1, 2, …), got "${raw}"` })
    const given = values["support"] as string | undefined
    if (given !== undefined && !(SUPPORTS as readonly string[]).includes(given)) throw new UsageError({ reason: `--support must be for, against or abstain, got "${given}"` })
    if (values["abstain"] === true && given !== undefined && given !== "abstain") throw new UsageError({ reason: `--abstain and --support ${given} disagree` })
    const support = values["abstain"] === true ? "abstain" : (given ?? "for")
    const target = await apiTarget(values, DEFAULT_DATA_DIR)
    const r = await callApi(io, "dai gov vote", () => postApi(target, "/votes", { proposal: Number(raw), support }))
    if (!r.ok) return r.code
    io.out(`voted ${support} on proposal ${raw} with ${String(r.body["votes"])} votes${support === "abstain" ? " (counted toward quorum only)" : ""}`)
    return 0
  },
})

export const govCommands: readonly Command[] = [executeCommand, voteCommand]

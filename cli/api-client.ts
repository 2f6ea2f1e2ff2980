/**
 * How `dai gov …` and `dai validator …` reach a running node: its HTTP API, at the host and port of
 * its data dir's config.yaml (or `--api URL`), with the bearer token of its token file (or
 * `--token-file`). The node does the work with its own key on its chain, as the API's POSTs do, so
 * these commands need no password. A refusal of the node (4xx) is the user's to fix: one line, exit
 * 2; a node that cannot be reached or cannot do it now (503): one line, exit 1.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { BAD_INPUT_EXIT, InputError, UsageError } from "./command.ts"

/** The flags every API command shares. */
export const API_FLAGS = {
  "data-dir": { type: "string" },
  api: { type: "string" },
  "token-file": { type: "string" },
} as const

/** Their help lines (`defaultDir`: where a node lives without --data-dir). */
export const apiFlagsHelp = (defaultDir: string): Record<string, string> => ({
  "--data-dir DIR": `the node's data dir, for its API address and token (default ${defaultDir})`,
  "--api URL": "the node's API, e.g. http://127.0.0.1:8645 (default: api.host and api.port of config.yaml; `dai node start` and `dai devnet` print it)",
  "--token-file FILE": "the API token file (default: api.tokenFile of config.yaml)",
})

export interface ApiTarget {
  readonly url: string
  readonly token: string
}

/** Where the node's API is and its token, from the flags and the data dir; an InputError says what is missing. */
export const apiTarget = async (values: { readonly "data-dir"?: string | undefined; readonly api?: string | undefined; readonly "token-file"?: string | undefined }, defaultDir: string): Promise<ApiTarget> => {
  const dataDir = values["data-dir"] ?? defaultDir
  let config: import("../runtime/node/config.ts").NodeConfig | undefined
  if (values.api === undefined || values["token-file"] === undefined) {
    const { readConfig, CONFIG_FILE } = await import("../runtime/node/config.ts")
    const r = readConfig(join(dataDir, CONFIG_FILE))
    if (Result.isFailure(r)) throw new InputError({ reason: `${r.failure.message} (give --data-dir, or --api and --token-file)` })
    config = r.success
  }
  let url = values.api
  if (url === undefined) {
    const { host, port } = config!.api
    if (!config!.api.enabled) throw new InputError({ reason: `${join(dataDir, "config.yaml")}: api.enabled is false; enable the API, or give --api URL` })
    if (port === 0) throw new InputError({ reason: `${join(dataDir, "config.yaml")}: api.port is 0 (the node picks a port at start): give --api URL, which the node prints when it starts` })
    const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host
    url = `http://${h}:${port}`
  } else if (!/^https?:\/\/./.test(url)) {
    throw new UsageError({ reason: `--api must be an http(s) URL such as http://127.0.0.1:8645, got "${url}"` })
  }
  const { resolvePath } = await import("../runtime/node/config.ts")
  const tokenFile = values["token-file"] ?? resolvePath(dataDir, config!.api.tokenFile)
  let token: string
  try {
    token = readFileSync(tokenFile, "utf8").split("\n")[0]!.trim()
  } catch (e) {
    throw new InputError({ reason: `cannot read the API token ${tokenFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` })
  }
  if (token === "") throw new InputError({ reason: `the API token file ${tokenFile} is empty` })
  return { url: url.replace(/\/+$/, ""), token }
}

/** A node's answer: its status and body (an error's `error` line when refused). */
export interface ApiAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** The node could not be reached, or answered what is not the API. */
export class ApiUnreachable extends Error {}

/** POST `body` to `path` of the node's API with its token. */
export const postApi = (target: ApiTarget, path: string, body: unknown): Promise<ApiAnswer> => requestApi(target, "POST", path, body)

/** GET `path` of the node's API (with its token: a node listening beyond loopback may protect reads). */
export const getApi = (target: ApiTarget, path: string): Promise<ApiAnswer> => requestApi(target, "GET", path)

const requestApi = async (target: ApiTarget, method: "GET" | "POST", path: string, body?: unknown): Promise<ApiAnswer> => {
  let res: Response
  try {
    res = await fetch(`${target.url}${path}`, {
      method, signal: AbortSignal.timeout(60_000),
      headers: { authorization: `Bearer ${target.token}`, ...(method === "POST" ? { "content-type": "application/json" } : {}) },
      ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
    })
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause
    const why = (e as Error).name === "TimeoutError" ? "no answer within 60 s" : cause?.code ?? (e as Error).message
    throw new ApiUnreachable(`no node API at ${target.url} (${why}): is the node running (\`dai node start\`)? Else give --api URL`)
  }
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ApiUnreachable(`${target.url}${path} answered HTTP ${res.status} with no JSON: is it a dai node's API?`)
  }
  return { status: res.status, body: typeof parsed === "object" && parsed !== null ? parsed as Record<string, unknown> : {} }
}

/**
 * Run one API call for a command: its answer when 2xx; else one line on stderr and the exit code (2
 * for a refusal the user can act on, 1 when the node is unreachable, cannot do it now, or failed).
 */
export const callApi = async (
  io: { err(text: string): void },
  prefix: string,
  call: () => Promise<ApiAnswer>,
): Promise<{ readonly ok: true; readonly body: Record<string, unknown> } | { readonly ok: false; readonly code: number }> => {
  let answer: ApiAnswer
  try {
    answer = await call()
  } catch (e) {
    if (e instanceof ApiUnreachable) {
      io.err(`${prefix}: ${e.message}`)
      return { ok: false, code: 1 }
    }
    throw e
  }
  if (answer.status >= 200 && answer.status < 300) return { ok: true, body: answer.body }
  const error = typeof answer.body["error"] === "string" ? answer.body["error"] : `HTTP ${answer.status}`
  io.err(`${prefix}: ${error}`)
  if (answer.status === 401) io.err(`${prefix}: the token was refused: give the node's token file (--token-file, or --data-dir of that node)`)
  return { ok: false, code: answer.status >= 400 && answer.status < 500 && answer.status !== 401 ? BAD_INPUT_EXIT : 1 }
}

/**
 * The node's HTTP API: `node:http` plus a `ws` WebSocketServer for the telemetry stream, dispatching
 * from the route table (routes.ts). Every answer is JSON except /metrics; every refusal is
 * `{ error, field? }`:
 *   421 a Host this server does not serve (DNS rebinding) · 403 a WebSocket from another origin ·
 *   404 unknown path · 405 wrong method (with Allow) · 401 missing or wrong token (WWW-Authenticate)
 *   415 a POST that is not application/json · 413 a body over the limit · 400 bad JSON, an unknown
 *   field, a wrong type, a bad query parameter or malformed percent-encoding, naming it · 408 headers
 *   or body too slow · 431 headers too large · 422 a rule of the node refuses it · 503 the node
 *   cannot do it now · 500 a bug (logged, never the node's state).
 * A request is refused before anything reaches the node, so a refused request changes nothing.
 *
 * Binds 127.0.0.1 by default. The token is compared in constant time (over SHA-256 digests, so its
 * length does not leak either). Connections, header and request time and body size are capped
 * (API_LIMITS) rather than left to Node's defaults (no cap, 60 s for headers, 300 s per request).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Duplex } from "node:stream"
import { Result, Schema } from "effect"
import { WebSocket, WebSocketServer } from "ws"
import type { TelemetryEvent } from "../services/telemetry.ts"
import { makeNodeMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts"
import { ApiRefusal, type NodeApi } from "./node-api.ts"
import { openApiDocument } from "./openapi.ts"
import { decodeParam, matchPath, type Route } from "./routes.ts"
import { API_LIMITS, hostAllowed, hostPolicy, malformedEncoding, originAllowed, selectProtocol, tokenFromProtocols, WS_TOKEN_PROTOCOL } from "./request-guard.ts"
import { decodeBody } from "./schemas.ts"

export interface ApiServerOptions {
  readonly api: NodeApi
  /** Bearer token for POSTs and the WebSocket (and for GETs with `protectReads`). */
  readonly token: string
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0: an ephemeral port (read it from `url`). */
  readonly port?: number
  /** Require the token for GET endpoints too (for a node that listens beyond loopback). */
  readonly protectReads?: boolean
  /** Largest request body (default 64 KiB). */
  readonly maxBodyBytes?: number
  /**
   * Host names served besides the bound host (and the loopback names when it is loopback, and any IP
   * literal when it is every interface): `name` on any port, `name:port`, or `*` for no Host check.
   */
  readonly allowedHosts?: readonly string[]
  /** Open connections (WebSockets included) beyond which a new one is closed at once (default 256). */
  readonly maxConnections?: number
  /** Time for a client to send its headers (default 10 s), then 408. */
  readonly headersTimeoutMs?: number
  /** Time for a whole request, headers and body (default 30 s), then 408. */
  readonly requestTimeoutMs?: number
  /** Idle time before a kept-alive connection closes (default 5 s). */
  readonly keepAliveTimeoutMs?: number
  /** How often the two timeouts above are checked (default 1 s; Node's own is 30 s). */
  readonly timeoutCheckMs?: number
  /** Sees every unexpected failure (a 500); default: console.error. */
  readonly onError?: (error: unknown, where: string) => void
}

export interface ApiServer {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  /** Stop listening, close every connection and WebSocket. */
  close(): Promise<void>
}

const JSON_TYPE = "application/json; charset=utf-8"
/** Events a slow WebSocket client may have queued before further ones are dropped for it. */
const MAX_WS_BUFFER = 1 << 20

class HttpError extends Schema.TaggedError<HttpError>()("HttpError", {
  status: Schema.Number,
  reason: Schema.String,
  field: Schema.optional(Schema.String),
  /** Extra response headers (e.g. Retry-After). */
  headers: Schema.optional(Schema.Record(Schema.String, Schema.String)),
}) {
  override get message() {
    return this.reason
  }
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest()
const bearer = (req: IncomingMessage): string | undefined => /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1]
const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))

/** Read a body of at most `max` bytes. */
const readBody = (req: IncomingMessage, max: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0")
    if (declared > max) return reject(new HttpError({ status: 413, reason: `request body over ${max} bytes` }))
    const chunks: Buffer[] = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.removeAllListeners("data")
        reject(new HttpError({ status: 413, reason: `request body over ${max} bytes` }))
      } else chunks.push(chunk)
    })
    req.on("end", () => resolve(Buffer.concat(chunks)))
    // The client went away or was too slow (requestTimeout): a refusal, not a bug to log.
    req.on("error", (e) => reject(new HttpError({ status: 400, reason: `request body not received whole (${e.message})` })))
  })

/** Start the API server; resolves once it listens. */
export const startApiServer = async (options: ApiServerOptions): Promise<ApiServer> => {
  const { api } = options
  if (options.token.length === 0) throw new Error("the API token must not be empty")
  const tokenDigest = sha256(options.token)
  const authorized = (given: string | null | undefined) => typeof given === "string" && timingSafeEqual(sha256(given), tokenDigest)
  const maxBody = options.maxBodyBytes ?? API_LIMITS.maxBodyBytes
  const onError = options.onError ?? ((error, where) => console.error(`dai api: ${where}:`, error))
  const answered = new Map<string, number>()
  let dropped = 0
  // Set again once listening, when an ephemeral port is known.
  let policy = hostPolicy(options.host ?? "127.0.0.1", options.port ?? 0, options.allowedHosts)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024, handleProtocols: (offered) => selectProtocol(offered) })
  /** The token a request carries: `Authorization: Bearer`, or (WebSockets) the `dai.token.` subprotocol. */
  const tokenOf = (req: IncomingMessage, ws: boolean) => bearer(req) ?? (ws ? tokenFromProtocols(req.headers["sec-websocket-protocol"]) : undefined)
  const misdirected = (req: IncomingMessage) =>
    `Host ${JSON.stringify((req.headers.host ?? "").slice(0, 100))} is not served here (DNS rebinding guard); list it in api.allowedHosts of config.yaml if it names this node`

  const send = (res: ServerResponse, status: number, body: string, type = JSON_TYPE, headers: Record<string, string> = {}) => {
    answered.set(String(status), (answered.get(String(status)) ?? 0) + 1)
    if (res.headersSent) return void res.end()
    res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers })
    res.end(body)
  }

  // prom-client registry of this server: process metrics, the node's samples, histograms fed by the
  // node's telemetry (block interval, time to commit, round duration) and by each request (latency).
  const nodeMetrics = makeNodeMetrics()
  const stopObserving = api.subscribe((event: TelemetryEvent) => nodeMetrics.observe(event))
  const metrics = async (): Promise<string> =>
    nodeMetrics.render(await api.metrics(), [
      { name: "dai_api_websocket_clients", help: "Open telemetry WebSocket connections.", type: "gauge", samples: [{ labels: {}, value: wss.clients.size }] },
      { name: "dai_api_connections", help: "Open API connections (capped by api.maxConnections).", type: "gauge", samples: [{ labels: {}, value: await connections() }] },
      { name: "dai_api_connections_dropped_total", help: "Connections closed at once because api.maxConnections were open.", type: "counter", samples: [{ labels: {}, value: dropped }] },
      {
        name: "dai_api_responses_total", help: "API responses by HTTP status.", type: "counter",
        samples: [...answered].sort().map(([code, n]) => ({ labels: { code }, value: n })),
      },
    ])

  /** The route pattern of a request target, for the latency histogram's label (bounded cardinality). */
  const routeOf = (target: string | undefined): string => {
    try {
      return matchPath(new URL(target ?? "/", "http://api.invalid").pathname)?.routes[0]?.path ?? "unmatched"
    } catch {
      return "unmatched"
    }
  }

  /** The decoded query and path parameters of a request; unknown query parameters are refused by name. */
  const decodeArgs = (route: Route, url: URL, pathParams: Record<string, string>): Record<string, string | number> => {
    const args: Record<string, string | number> = {}
    for (const [name, raw] of url.searchParams) {
      const spec = route.query?.[name]
      if (spec === undefined) throw new HttpError({ status: 400, reason: `${name}: unknown query parameter`, field: name })
      if (name in args) throw new HttpError({ status: 400, reason: `${name}: given twice`, field: name })
      const v = decodeParam(name, spec, raw)
      if (typeof v === "object") throw new HttpError({ status: 400, reason: v.error, field: name })
      args[name] = v
    }
    for (const [name, raw] of Object.entries(pathParams)) {
      let text: string
      try {
        text = decodeURIComponent(raw)
      } catch {
        throw new HttpError({ status: 400, reason: `${name}: malformed percent-encoding ${JSON.stringify(raw.slice(0, 40))}`, field: name })
      }
      const v = decodeParam(name, route.pathParams![name]!, text)
      if (typeof v === "object") throw new HttpError({ status: 400, reason: v.error, field: name })
      args[name] = v
    }
    return args
  }

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(policy, req.headers.host)) throw new HttpError({ status: 421, reason: misdirected(req) })
    const malformed = malformedEncoding(req.url ?? "/")
    if (malformed !== undefined) throw new HttpError({ status: 400, reason: malformed })
    let url: URL
    try {
      url = new URL(req.url ?? "/", "http://api.invalid")
    } catch {
      throw new HttpError({ status: 400, reason: "malformed request target" })
    }
    const match = matchPath(url.pathname)
    if (match === undefined) throw new HttpError({ status: 404, reason: `no endpoint ${url.pathname} (see /openapi.json)` })
    const route = match.routes.find((r) => r.method === req.method)
    if (route === undefined) {
      const allow = match.routes.map((r) => r.method).join(", ")
      throw new HttpError({ status: 405, reason: `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`, field: undefined, headers: { allow } })
    }
    if ((route.auth || options.protectReads === true) && !authorized(tokenOf(req, route.response === "upgrade"))) {
      throw new HttpError({ status: 401, reason: "missing or wrong bearer token (Authorization: Bearer <token>)", field: undefined, headers: { "www-authenticate": 'Bearer realm="dai"' } })
    }
    if (route.response === "upgrade") throw new HttpError({ status: 426, reason: "/ws is a WebSocket endpoint: connect with an Upgrade request", field: undefined, headers: { upgrade: "websocket" } })
    const args = decodeArgs(route, url, match.params)
    let body: unknown
    if (route.body !== undefined) {
      const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
      if (type !== "application/json") throw new HttpError({ status: 415, reason: `expected content-type application/json, got ${type === "" ? "none" : JSON.stringify(type.slice(0, 60))}` })
      const raw = await readBody(req, maxBody)
      let value: unknown
      try {
        value = JSON.parse(raw.toString("utf8"))
      } catch (e) {
        throw new HttpError({ status: 400, reason: `body: not valid JSON (${e instanceof Error ? e.message : String(e)})`, field: "" })
      }
      const decoded = decodeBody(route.body, value)
      if (Result.isFailure(decoded)) throw new HttpError({ status: 400, reason: decoded.failure.error, field: decoded.failure.field })
      body = decoded.success
    } else req.resume()
    if (route.response === "openapi") return send(res, 200, json(openApiDocument()))
    if (route.response === "text") return send(res, 200, await metrics(), METRICS_CONTENT_TYPE)
    const result = await route.handle!({ api, args, body })
    if (result === undefined) throw new HttpError({ status: 404, reason: `nothing at ${url.pathname}` })
    send(res, route.status, json(result))
  }

  const server = createServer({
    headersTimeout: options.headersTimeoutMs ?? API_LIMITS.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? API_LIMITS.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? API_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: options.timeoutCheckMs ?? API_LIMITS.timeoutCheckMs,
    maxHeaderSize: API_LIMITS.maxHeaderBytes,
  }, (req, res) => {
    const started = process.hrtime.bigint()
    res.once("finish", () => nodeMetrics.request(req.method ?? "?", routeOf(req.url), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9))
    dispatch(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        if (e.status === 413) res.setHeader("connection", "close")
        return send(res, e.status, json(e.field === undefined ? { error: e.message } : { error: e.message, field: e.field }), JSON_TYPE, e.headers)
      }
      if (e instanceof ApiRefusal) return send(res, e.status, json(e.field === undefined ? { error: e.message } : { error: e.message, field: e.field }))
      onError(e, `${req.method} ${req.url}`)
      send(res, 500, json({ error: "internal error (logged by the node)" }))
    })
  })
  server.maxConnections = options.maxConnections ?? API_LIMITS.maxConnections
  // Over the cap node:http destroys the new socket before reading a byte; counted for /metrics.
  server.on("drop", () => void dropped++)
  const connections = () => new Promise<number>((resolve) => server.getConnections((e, n) => resolve(e === null ? n : 0)))
  // Bytes that are not HTTP (node's parser gave up), headers too slow or too large: one line and the connection closes.
  server.on("clientError", (e: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy()
    const [status, message] = e.code === "ERR_HTTP_REQUEST_TIMEOUT" ? ["408 Request Timeout", "request not received in time"]
      : e.code === "HPE_HEADER_OVERFLOW" ? ["431 Request Header Fields Too Large", `request headers over ${API_LIMITS.maxHeaderBytes} bytes`]
      : ["400 Bad Request", `malformed HTTP request (${e.code ?? e.message})`]
    const body = json({ error: message })
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  })

  const refuseUpgrade = (socket: Duplex, status: number, reason: string, message: string) => {
    const body = json({ error: message })
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy())
    if (!hostAllowed(policy, req.headers.host)) return refuseUpgrade(socket, 421, "Misdirected Request", misdirected(req))
    // A browser always sends Origin on a WebSocket; a page of another site must not read the stream.
    if (!originAllowed(policy, req.headers.origin)) {
      return refuseUpgrade(socket, 403, "Forbidden", `Origin ${JSON.stringify(req.headers.origin!.slice(0, 100))} is not allowed (a page must come from a host in api.allowedHosts)`)
    }
    const malformed = malformedEncoding(req.url ?? "/")
    if (malformed !== undefined) return refuseUpgrade(socket, 400, "Bad Request", malformed)
    let url: URL
    try {
      url = new URL(req.url ?? "/", "http://api.invalid")
    } catch {
      return refuseUpgrade(socket, 400, "Bad Request", "malformed request target")
    }
    if (url.pathname !== "/ws") return refuseUpgrade(socket, 404, "Not Found", `no WebSocket at ${url.pathname} (use /ws)`)
    if (url.searchParams.has("token")) {
      return refuseUpgrade(socket, 400, "Bad Request", `token: not accepted in the URL (it ends up in logs); send Sec-WebSocket-Protocol: ${WS_TOKEN_PROTOCOL}<token> or Authorization: Bearer <token>`)
    }
    if (!authorized(tokenOf(req, true))) return refuseUpgrade(socket, 401, "Unauthorized", `missing or wrong token (Sec-WebSocket-Protocol: ${WS_TOKEN_PROTOCOL}<token>, or Authorization: Bearer <token>)`)
    for (const name of url.searchParams.keys()) if (name !== "kinds") return refuseUpgrade(socket, 400, "Bad Request", `${name}: unknown query parameter`)
    const kinds = url.searchParams.get("kinds")?.split(",").filter((k) => k.length > 0)
    wss.handleUpgrade(req, socket, head, (ws) => {
      // The current state first (the validator table and the market are reported when they change).
      const unsubscribe = api.subscribe((event: TelemetryEvent) => {
        if (kinds !== undefined && !kinds.some((k) => event.kind.startsWith(k))) return
        if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount < MAX_WS_BUFFER) ws.send(json(event))
      }, { replay: true })
      ws.on("close", unsubscribe)
      ws.on("error", () => ws.terminate())
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  policy = hostPolicy(options.host ?? "127.0.0.1", address.port, options.allowedHosts)
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        stopObserving()
        for (const ws of wss.clients) ws.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

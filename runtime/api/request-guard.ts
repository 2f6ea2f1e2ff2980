/**
 * The checks a request passes before the router sees it, as pure functions the server calls:
 *
 * - the request target is well-formed percent-encoding (a `%` followed by two hex digits, decoding to
 *   UTF-8), so a malformed path or query is a 400 naming it instead of a `URIError` deep in a handler;
 * - the `Host` header names this server (DNS rebinding: a page on `evil.example` whose name
 *   re-resolves to 127.0.0.1 sends `Host: evil.example`, which a loopback node refuses), and a
 *   WebSocket's `Origin`, when a browser sends one, is a page of an allowed host (a WebSocket is not
 *   bound by the same-origin policy, so without this any page could read the telemetry stream);
 * - the WebSocket's token travels in `Sec-WebSocket-Protocol` (`dai.token.<token>`), the one header a
 *   browser's `new WebSocket(url, protocols)` can set, never in the URL (URLs end up in logs,
 *   proxies and shell history).
 */

/** The server's limits when its options do not say otherwise (Node's own: no connection cap, 60 s for headers, 300 s per request). */
export const API_LIMITS = {
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckMs: 1_000,
  maxBodyBytes: 64 * 1024,
  /** Node's default, stated: a request whose headers are larger is answered 431. */
  maxHeaderBytes: 16 * 1024,
} as const

/** The subprotocol prefix that carries the API token on a WebSocket handshake. */
export const WS_TOKEN_PROTOCOL = "dai.token."
/** The subprotocol a browser client offers next to its token; the server selects it when offered. */
export const WS_PROTOCOL = "dai.telemetry"

/** Which `Host` (and WebSocket `Origin`) values the server accepts. */
export interface HostPolicy {
  /** The port a Host must name (80 when it names none). */
  readonly port: number
  /** Host names (lower case, IPv6 without brackets) accepted with `port`. */
  readonly names: ReadonlySet<string>
  /** Names from `allowedHosts` accepted on any port (a TLS proxy in front sends its own). */
  readonly anyPort: ReadonlySet<string>
  /** Bound to every interface: any IP literal is this machine's (a rebinding attack needs a name). */
  readonly anyIp: boolean
  /** `allowedHosts` holds "*": no check. */
  readonly any: boolean
}

const isIpv4 = (h: string) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(h) && h.split(".").every((p) => Number(p) <= 255)
const isIpv6 = (h: string) => h.includes(":") && /^[0-9a-f:.]+(%[\w.-]+)?$/.test(h)
/** Whether `host` (a bound address or name) is this machine's loopback. */
export const isLoopbackHost = (host: string): boolean => {
  const h = normalize(host)
  return h === "localhost" || h === "::1" || (isIpv4(h) && h.startsWith("127."))
}
const normalize = (host: string) => host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "")

/** `host[:port]` or `[v6][:port]` split; undefined when it is neither. */
export const parseHostHeader = (value: string): { readonly host: string; readonly port: number | undefined } | undefined => {
  const m = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([^:[\]\s/@]+))(?::(\d{1,5}))?$/.exec(value.trim())
  if (m === null) return undefined
  const port = m[3] === undefined ? undefined : Number(m[3])
  if (port !== undefined && port > 65_535) return undefined
  return { host: normalize(m[1] ?? m[2]!), port }
}

/**
 * The Host policy of a server bound to `boundHost:port`: the bound name, the loopback names when it
 * is loopback, any IP literal when it is every interface, plus `allowedHosts` (`name` on any port,
 * `name:port` on that port, `*` for all).
 */
export const hostPolicy = (boundHost: string, port: number, allowedHosts: readonly string[] = []): HostPolicy => {
  const bound = normalize(boundHost)
  const names = new Set<string>([bound])
  const anyPort = new Set<string>()
  const wildcard = bound === "0.0.0.0" || bound === "::" || bound === ""
  if (isLoopbackHost(bound) || wildcard) for (const n of ["localhost", "127.0.0.1", "::1"]) names.add(n)
  let any = false
  for (const entry of allowedHosts) {
    if (entry.trim() === "*") {
      any = true
      continue
    }
    const parsed = parseHostHeader(entry)
    if (parsed === undefined) continue // the config's schema refuses these; a programmatic caller gets no surprise match
    if (parsed.port === undefined) anyPort.add(parsed.host)
    else if (parsed.port === port) names.add(parsed.host)
  }
  return { port, names, anyPort, anyIp: wildcard, any }
}

/** Whether a request's `Host` header value is one the policy serves (an absent Host is no browser's). */
export const hostAllowed = (policy: HostPolicy, header: string | undefined): boolean => {
  if (policy.any || header === undefined) return true
  const parsed = parseHostHeader(header)
  if (parsed === undefined) return false
  if (policy.anyPort.has(parsed.host)) return true
  if ((parsed.port ?? 80) !== policy.port) return false
  return policy.names.has(parsed.host) || (policy.anyIp && (isIpv4(parsed.host) || isIpv6(parsed.host)))
}

/** Whether a WebSocket's `Origin` is allowed: none (not a browser), or a page of an allowed host. */
export const originAllowed = (policy: HostPolicy, origin: string | undefined): boolean => {
  if (origin === undefined || policy.any) return true
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false // "null" (a sandboxed frame, a file:// page) and anything else that is no origin
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port)
  return hostAllowed(policy, `${url.hostname}:${port}`)
}

/**
 * What is wrong with a request target's percent-encoding, or undefined: every `%` must start a
 * `%XX` escape and the escapes must decode to UTF-8 (`decodeURIComponent` would throw otherwise).
 */
export const malformedEncoding = (target: string): string | undefined => {
  const [path = "", query = ""] = splitTarget(target)
  const bad = (part: string) => {
    try {
      decodeURIComponent(part)
      return false
    } catch {
      return true
    }
  }
  for (const [where, parts] of [["path", path.split("/")], ["query", query.split(/[&=]/)]] as const) {
    const part = parts.find(bad)
    if (part !== undefined) {
      return `malformed percent-encoding in the ${where}: ${JSON.stringify(part.slice(0, 60))} (a % starts %XX, two hex digits of UTF-8)`
    }
  }
  return undefined
}

const splitTarget = (target: string): [string, string] => {
  const hash = target.indexOf("#")
  const t = hash < 0 ? target : target.slice(0, hash)
  const q = t.indexOf("?")
  return q < 0 ? [t, ""] : [t.slice(0, q), t.slice(q + 1)]
}

/** The token offered as a `dai.token.<token>` subprotocol in a `Sec-WebSocket-Protocol` header. */
export const tokenFromProtocols = (header: string | undefined): string | undefined =>
  header?.split(",").map((p) => p.trim()).find((p) => p.startsWith(WS_TOKEN_PROTOCOL))?.slice(WS_TOKEN_PROTOCOL.length)

/**
 * The subprotocol the server answers with (a browser fails the handshake unless it is one it
 * offered): `dai.telemetry` when offered, else the token one, else none.
 */
export const selectProtocol = (offered: ReadonlySet<string>): string | false => {
  if (offered.has(WS_PROTOCOL)) return WS_PROTOCOL
  for (const p of offered) if (p.startsWith(WS_TOKEN_PROTOCOL)) return p
  return false
}

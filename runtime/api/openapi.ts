/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the request and response
 * Schemas, so what the server does and what the document says cannot drift apart.
 */
import { Schema } from "effect"
import { API_LIMITS } from "./request-guard.ts"
import { ROUTES, type QueryParam, type Route } from "./routes.ts"
import { ErrorBody } from "./schemas.ts"

type Json = Record<string, unknown>

const REFUSALS: Readonly<Record<string, string>> = {
  "400": "bad JSON, an unknown field, a wrong type, a bad or unknown parameter, or malformed percent-encoding; `field` names it",
  "401": "missing or wrong bearer token",
  "403": "a WebSocket handshake from a browser page of another origin",
  "404": "no such endpoint or object",
  "405": "method not allowed on this path",
  "413": "request body too large",
  "415": "content type is not application/json",
  "421": "the Host header names no host this server serves (DNS rebinding guard; see api.allowedHosts)",
  "422": "a rule of the node refused the request",
  "503": "the node cannot do this now",
}

const paramSchema = (p: QueryParam): Json =>
  p.type === "string"
    ? { type: "string", minLength: 1, maxLength: 200 }
    : { type: "integer", ...(p.min === undefined ? {} : { minimum: p.min }), ...(p.max === undefined ? {} : { maximum: p.max }) }

const operationId = (r: Route) =>
  `${r.method.toLowerCase()}${r.path.split(/[/.{}]/).filter((s) => s.length > 0).map((s) => s[0]!.toUpperCase() + s.slice(1)).join("")}`

let cached: Json | undefined

/** The document (built once). */
export const openApiDocument = (): Json => {
  if (cached !== undefined) return cached
  const components: Json = {}
  /** A schema as a JSON Schema whose named parts live in components.schemas. */
  const ref = (schema: Schema.Top): Json => {
    const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error", generateDescriptions: true })
    const relink = (v: unknown): Json => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json
    for (const [name, def] of Object.entries(doc.definitions)) components[name] = relink(def)
    return relink(doc.schema)
  }
  const errorSchema = ref(ErrorBody)
  const paths: Record<string, Json> = {}
  for (const r of ROUTES) {
    const parameters = [
      ...Object.entries(r.pathParams ?? {}).map(([name, p]) => ({ name, in: "path", required: true, description: p.description, schema: paramSchema(p) })),
      ...Object.entries(r.query ?? {}).map(([name, p]) => ({ name, in: "query", required: false, description: p.description, schema: paramSchema(p) })),
    ]
    const success: Json =
      r.response === "upgrade" ? { description: "switching to the WebSocket protocol" }
      : r.response === "text" ? { description: "Prometheus text format 0.0.4", content: { "text/plain; version=0.0.4": { schema: { type: "string" } } } }
      : r.response === "openapi" ? { description: "this OpenAPI 3.1 document", content: { "application/json": { schema: { type: "object" } } } }
      : { description: r.status === 202 ? "accepted: takes effect when a block includes it" : "OK", content: { "application/json": { schema: ref(r.response) } } }
    const refusals = [
      ...Object.entries(REFUSALS).filter(([code]) =>
        (code !== "401" || r.auth) && (!["413", "415", "422", "503"].includes(code) || r.body !== undefined) && (code !== "403" || r.response === "upgrade") &&
        r.refusals?.[code] === undefined),
      ...Object.entries(r.refusals ?? {}),
    ].sort(([a], [b]) => a.localeCompare(b))
    const operation: Json = {
      operationId: operationId(r),
      summary: r.summary,
      ...(r.auth ? { security: [{ bearer: [] }] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body === undefined ? {} : { requestBody: { required: true, content: { "application/json": { schema: ref(r.body) } } } }),
      responses: {
        [String(r.status)]: success,
        ...Object.fromEntries(refusals.map(([code, description]) => [code, { description, content: { "application/json": { schema: errorSchema } } }])),
      },
    }
    paths[r.path] = { ...paths[r.path], [r.method.toLowerCase()]: operation }
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "dai node API",
      version: "1",
      description: "A dai node's state and operations. Reads are open on loopback; POSTs and the /ws telemetry stream need the bearer token " +
        "(`Authorization: Bearer <token>`; a browser's WebSocket offers the subprotocols `dai.telemetry` and `dai.token.<token>` instead, never a URL parameter). " +
        "Every request's Host must name this server (its bound host and port, loopback names on loopback, or api.allowedHosts), else 421; " +
        "a WebSocket's Origin, when sent, must be such a host too, else 403. " +
        `Bodies are capped at ${API_LIMITS.maxBodyBytes / 1024} KiB (413), headers at ${API_LIMITS.maxHeaderBytes / 1024} KiB (431); headers must arrive within ` +
        `${API_LIMITS.headersTimeoutMs / 1000} s and the whole request within ${API_LIMITS.requestTimeoutMs / 1000} s (408); ` +
        `connections beyond api.maxConnections (default ${API_LIMITS.maxConnections}) are closed at once. ` +
        "Token amounts are decimal strings of base units (18 decimals); times are Unix milliseconds.",
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "the token in <data-dir>/api-token; on /ws also accepted as the subprotocol dai.token.<token>" } },
    },
  }
  return cached
}

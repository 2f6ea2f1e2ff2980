/**
 * The OpenAPI document and the route table describe the same API: every route is documented with
 * its method, parameters, body and security, and every documented operation is a route.
 */
import { describe, expect, it } from "vitest"
import { openApiDocument } from "./openapi.ts"
import { ROUTES } from "./routes.ts"

interface Operation {
  readonly security?: unknown
  readonly parameters?: readonly { readonly name: string; readonly in: string }[]
  readonly requestBody?: { readonly content: Record<string, { readonly schema: unknown }> }
  readonly responses: Record<string, unknown>
}
const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } }

describe("the OpenAPI document", () => {
  it("has every route of the table, and nothing else", () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort()
    expect(documented).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort())
    expect(doc.openapi).toBe("3.1.0")
  })

  it("documents each route's parameters, body, success status and security as the server applies them", () => {
    for (const r of ROUTES) {
      const op = doc.paths[r.path]![r.method.toLowerCase()]!
      const where = `${r.method} ${r.path}`
      expect(op.security !== undefined, `${where} security`).toBe(r.auth)
      expect(op.requestBody !== undefined, `${where} body`).toBe(r.body !== undefined)
      expect(Object.keys(op.responses), `${where} success`).toContain(String(r.status))
      if (r.auth) expect(Object.keys(op.responses), `${where} 401`).toContain("401")
      if (r.body !== undefined) expect(Object.keys(op.responses), `${where} 400`).toEqual(expect.arrayContaining(["400", "413", "415", "422"]))
      const params = (op.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort()
      expect(params, `${where} parameters`).toEqual([
        ...Object.keys(r.pathParams ?? {}).map((n) => `path:${n}`), ...Object.keys(r.query ?? {}).map((n) => `query:${n}`),
      ].sort())
      for (const name of Object.keys(r.pathParams ?? {})) expect(r.path, `${where} has {${name}}`).toContain(`{${name}}`)
    }
  })

  it("every $ref points into components.schemas, and request bodies refuse unknown fields", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThan(0)
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//)
      expect(doc.components.schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined()
    }
    expect(doc.components.schemas["StakeRequest"]).toMatchObject({ additionalProperties: false, required: ["amount"] })
  })
})

/**
 * The node config: what `dai node init` writes decodes back to the same config; the API's limits
 * (api.allowedHosts, api.maxConnections) have defaults, so a config.yaml written before they existed
 * still starts a node; a wrong value is an error naming the key.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import { API_LIMITS } from "../api/request-guard.ts"
import { decodeConfig, defaultConfig, renderConfig } from "./config.ts"

const rendered = (edit: (c: ReturnType<typeof defaultConfig>) => ReturnType<typeof defaultConfig> = (c) => c) => parseYaml(renderConfig(edit(defaultConfig("n")))) as Record<string, Record<string, unknown>>
const failure = (value: unknown) => {
  const r = decodeConfig(value, "c.yaml")
  return Result.isFailure(r) ? r.failure.message : "decoded"
}

describe("config.yaml", () => {
  it("decodes what init renders, allowed hosts and connection cap included", () => {
    const config = defaultConfig("n")
    expect(Result.getOrThrow(decodeConfig(rendered(), "c.yaml"))).toEqual(config)
    const custom = { ...config, api: { ...config.api, allowedHosts: ["node.example.com", "[::1]:9000"], maxConnections: 32 } }
    expect(Result.getOrThrow(decodeConfig(rendered(() => custom), "c.yaml"))).toEqual(custom)
    expect(renderConfig(config)).toMatch(/# Host names a request's Host header may carry/)
  })

  it("a config written before api.allowedHosts and api.maxConnections existed decodes to their defaults", () => {
    const old = rendered()
    delete old["api"]!["allowedHosts"]
    delete old["api"]!["maxConnections"]
    const api = Result.getOrThrow(decodeConfig(old, "c.yaml")).api
    expect([api.allowedHosts, api.maxConnections]).toEqual([[], API_LIMITS.maxConnections])
  })

  it("refuses a bad host or connection cap, naming the key", () => {
    const withApi = (api: Record<string, unknown>) => {
      const c = rendered()
      c["api"] = { ...c["api"], ...api }
      return c
    }
    expect(failure(withApi({ allowedHosts: ["http://node.example.com/"] }))).toMatch(/^c\.yaml: api\.allowedHosts\.0: a host name/)
    expect(failure(withApi({ allowedHosts: "node.example.com" }))).toMatch(/^c\.yaml: api\.allowedHosts: /)
    expect(failure(withApi({ maxConnections: 0 }))).toMatch(/^c\.yaml: api\.maxConnections: a whole number of connections/)
    expect(failure(withApi({ maxConnection: 10 }))).toMatch(/^c\.yaml: api\.maxConnection: unknown key/)
  })
})

/**
 * The request checks on their own: which Host and Origin values a server bound to loopback, to every
 * interface or to one address accepts; malformed percent-encoding is found wherever it is (and a
 * correctly encoded target never is); the WebSocket token is read from the subprotocol header.
 * A failing property prints its seed (fast-check's report).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { hostAllowed, hostPolicy, malformedEncoding, originAllowed, parseHostHeader, selectProtocol, tokenFromProtocols, WS_PROTOCOL } from "./request-guard.ts"

const RUNS = Number(process.env.DAI_PROPERTY_RUNS ?? 500)

describe("Host", () => {
  it("a loopback server serves its address and the loopback names on its port, nothing else", () => {
    const p = hostPolicy("127.0.0.1", 8645)
    for (const ok of ["127.0.0.1:8645", "localhost:8645", "LOCALHOST:8645", "localhost.:8645", "[::1]:8645", undefined]) expect(hostAllowed(p, ok), String(ok)).toBe(true)
    for (const no of ["evil.example:8645", "evil.example", "127.0.0.1", "localhost:80", "127.0.0.1:8646", "10.0.0.2:8645", "127.0.0.1:8645@evil", "", "a b", "[::1", "127.0.0.1:99999"]) {
      expect(hostAllowed(p, no), no).toBe(false)
    }
  })

  it("a server on every interface takes any IP literal on its port, but no unlisted name", () => {
    const p = hostPolicy("0.0.0.0", 8645)
    for (const ok of ["10.0.0.2:8645", "[fe80::1]:8645", "localhost:8645"]) expect(hostAllowed(p, ok), ok).toBe(true)
    for (const no of ["evil.example:8645", "node.example.com:8645", "10.0.0.2:9000"]) expect(hostAllowed(p, no), no).toBe(false)
  })

  it("allowedHosts adds names on any port or on the server's port, and * turns the check off", () => {
    const p = hostPolicy("10.0.0.2", 8645, ["node.example.com", "other.example:8645", "third.example:9999"])
    expect(hostAllowed(p, "node.example.com")).toBe(true)
    expect(hostAllowed(p, "node.example.com:443")).toBe(true)
    expect(hostAllowed(p, "other.example:8645")).toBe(true)
    expect(hostAllowed(p, "other.example")).toBe(false)
    expect(hostAllowed(p, "third.example:9999")).toBe(false)
    expect(hostAllowed(p, "localhost:8645")).toBe(false)
    expect(hostAllowed(p, "10.0.0.2:8645")).toBe(true)
    expect(hostAllowed(hostPolicy("127.0.0.1", 1, ["*"]), "evil.example")).toBe(true)
  })

  it("no random name passes a loopback server unless it is a loopback name (property)", () => {
    const p = hostPolicy("127.0.0.1", 8645)
    fc.assert(fc.property(fc.oneof(fc.domain(), fc.string({ maxLength: 30 })), fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }), (name, port) => {
      const header = port === undefined ? name : `${name}:${port}`
      const parsed = parseHostHeader(header)
      const expected = parsed !== undefined && port === 8645 && ["localhost", "127.0.0.1"].includes(parsed.host)
      expect(hostAllowed(p, header)).toBe(expected)
    }), { numRuns: RUNS })
  })
})

describe("Origin", () => {
  it("none (not a browser) or a page of an allowed host passes; another site, null or another scheme does not", () => {
    const p = hostPolicy("127.0.0.1", 8645, ["node.example.com"])
    for (const ok of [undefined, "http://127.0.0.1:8645", "http://localhost:8645", "https://node.example.com"]) expect(originAllowed(p, ok), String(ok)).toBe(true)
    for (const no of ["https://evil.example", "http://127.0.0.1:3000", "http://localhost", "null", "file://", "chrome-extension://abc", "ws://127.0.0.1:8645", ""]) {
      expect(originAllowed(p, no), no).toBe(false)
    }
  })
})

describe("percent-encoding", () => {
  it("names a malformed escape in the path or the query", () => {
    expect(malformedEncoding("/blocks/%ZZ")).toMatch(/^malformed percent-encoding in the path: "%ZZ"/)
    expect(malformedEncoding("/blocks/%")).toMatch(/in the path: "%"/)
    expect(malformedEncoding("/blocks/%FF")).toMatch(/in the path/)
    expect(malformedEncoding("/blocks/%ED%A0%80")).toMatch(/in the path/)
    expect(malformedEncoding("/positions?owner=%ZZ")).toMatch(/^malformed percent-encoding in the query: "%ZZ"/)
    expect(malformedEncoding("/positions?%E0%A4=1")).toMatch(/in the query/)
    for (const ok of ["/", "/blocks/%31", "/positions?owner=a%20b&x=%E2%82%AC", "/status?", "/a+b?c=d+e", "/ws#%zz"]) expect(malformedEncoding(ok), ok).toBeUndefined()
  })

  it("a target built with encodeURIComponent is never malformed; one that is found well-formed decodes (property)", () => {
    const text = fc.string({ unit: fc.constantFrom(..."a%/?&=+# é€🔑\u0000"), maxLength: 12 })
    fc.assert(fc.property(fc.array(text, { maxLength: 4 }), text, (segments, value) => {
      expect(malformedEncoding(`/${segments.map(encodeURIComponent).join("/")}?k=${encodeURIComponent(value)}`)).toBeUndefined()
    }), { numRuns: RUNS })
    fc.assert(fc.property(fc.array(fc.constantFrom(..."az09fFeEdDcC%/?=&"), { maxLength: 24 }).map((cs) => cs.join("")), (target) => {
      if (malformedEncoding(target) !== undefined) return
      for (const part of target.split(/[/?=&]/)) expect(() => decodeURIComponent(part)).not.toThrow()
    }), { numRuns: RUNS })
  })
})

describe("WebSocket token", () => {
  it("is read from a dai.token.<token> subprotocol, and dai.telemetry is answered when offered", () => {
    expect(tokenFromProtocols("dai.telemetry, dai.token.abc123")).toBe("abc123")
    expect(tokenFromProtocols("dai.token.x")).toBe("x")
    expect(tokenFromProtocols("chat")).toBeUndefined()
    expect(tokenFromProtocols(undefined)).toBeUndefined()
    expect(selectProtocol(new Set(["dai.token.x", WS_PROTOCOL]))).toBe(WS_PROTOCOL)
    expect(selectProtocol(new Set(["dai.token.x"]))).toBe("dai.token.x")
    expect(selectProtocol(new Set())).toBe(false)
  })
})

/**
 * The node's /metrics, on prom-client (the Node standard for Prometheus): one registry per API
 * server (several nodes can share a process in tests and devnets, so never the global registry),
 * with prom-client's default process and Node.js metrics, the node's own samples (gauges and
 * counters it keeps, published at each scrape), and the histograms an operator reads first:
 *
 *   dai_block_interval_seconds      time between two blocks this node commits
 *   dai_block_commit_seconds        from the first consensus step of a height to its commit, here
 *   dai_training_round_seconds      from a round's opening to its result committed (its coordinator)
 *   dai_api_request_duration_seconds{method,route,code}   API latency by route pattern
 *
 * The histograms are fed by the node's telemetry (`observe`) and by the server (`request`), so they
 * measure what this node saw, on its own clock.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"
import type { TelemetryEvent } from "../services/telemetry.ts"
import type { MetricSample } from "./node-api.ts"

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** A labelled sample (`dai_api_responses_total{code="200"}`). */
export interface LabelledSample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A metric the server computes at scrape time (connections, responses by status). */
export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter"
  readonly samples: readonly LabelledSample[]
}

/** Buckets (seconds) for block times: a devnet commits in well under a second, a WAN network in seconds. */
const BLOCK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]
/** Training rounds last from seconds (a devnet) to the round deadline (minutes). */
const ROUND_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800]
/** API answers are local reads, mostly well under 10 ms. */
const API_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export interface NodeMetrics {
  readonly registry: Registry
  /** Feed one telemetry event of this node (block commits, consensus steps, training rounds). */
  observe(event: TelemetryEvent): void
  /** One API request answered: method, route pattern (or "unmatched"), status, seconds taken. */
  request(method: string, route: string, code: number, seconds: number): void
  /** The exposition: the node's samples and the server's families published, then everything rendered. */
  render(samples: readonly MetricSample[], families: readonly MetricFamily[]): Promise<string>
}

/** A fresh registry with the default process metrics and the node's histograms. */
export const makeNodeMetrics = (): NodeMetrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const blockInterval = new Histogram({ name: "dai_block_interval_seconds", help: "Time between two blocks this node commits.", buckets: BLOCK_BUCKETS, registers: [registry] })
  const blockCommit = new Histogram({ name: "dai_block_commit_seconds", help: "Time from the first consensus step of a height to its commit, on this node.", buckets: BLOCK_BUCKETS, registers: [registry] })
  const roundTime = new Histogram({ name: "dai_training_round_seconds", help: "Time from a training round's opening to its result committed, on its coordinator.", buckets: ROUND_BUCKETS, registers: [registry] })
  const apiTime = new Histogram({
    name: "dai_api_request_duration_seconds", help: "API request latency by method, route pattern and status.",
    labelNames: ["method", "route", "code"] as const, buckets: API_BUCKETS, registers: [registry],
  })

  let lastCommit: number | undefined
  /** When this node first stepped into each height not yet committed. */
  const heightStart = new Map<number, number>()
  const roundOpened = new Map<number, number>()

  // The node's own samples: created on first sight (the set a node reports may grow), then set at
  // every scrape. A counter the node keeps is published as its total, so reset and set to it.
  const gauges = new Map<string, Gauge>()
  const counters = new Map<string, Counter>()
  const labelled = new Map<string, Gauge | Counter>()

  const publish = (name: string, help: string, type: "gauge" | "counter", labels: Readonly<Record<string, string>>, value: number, labelNames: readonly string[]) => {
    if (labelNames.length > 0) {
      let m = labelled.get(name)
      if (m === undefined) {
        m = type === "gauge" ? new Gauge({ name, help, labelNames, registers: [registry] }) : new Counter({ name, help, labelNames, registers: [registry] })
        labelled.set(name, m)
      }
      if (m instanceof Gauge) m.set(labels, value)
      else m.inc(labels, value)
      return
    }
    if (type === "gauge") {
      let g = gauges.get(name)
      if (g === undefined) gauges.set(name, (g = new Gauge({ name, help, registers: [registry] })))
      g.set(value)
    } else {
      let c = counters.get(name)
      if (c === undefined) counters.set(name, (c = new Counter({ name, help, registers: [registry] })))
      c.reset()
      if (value > 0) c.inc(value)
    }
  }

  return {
    registry,
    observe: (e) => {
      const at = e.at
      switch (e.kind) {
        case "consensus.step": {
          const h = Number(e.data.height)
          if (Number.isSafeInteger(h) && !heightStart.has(h)) heightStart.set(h, at)
          return
        }
        case "block.committed": {
          const h = Number(e.data.height)
          if (lastCommit !== undefined && at >= lastCommit) blockInterval.observe((at - lastCommit) / 1000)
          lastCommit = at
          const started = heightStart.get(h)
          if (started !== undefined && at >= started) blockCommit.observe((at - started) / 1000)
          for (const k of heightStart.keys()) if (k <= h) heightStart.delete(k)
          return
        }
        case "training.round.opened": {
          const r = Number(e.data.round)
          if (Number.isSafeInteger(r)) roundOpened.set(r, at)
          return
        }
        case "training.round.completed": {
          const r = Number(e.data.round)
          const opened = roundOpened.get(r)
          if (opened !== undefined && at >= opened) roundTime.observe((at - opened) / 1000)
          for (const k of roundOpened.keys()) if (k <= r) roundOpened.delete(k)
          return
        }
        case "training.round.aborted": {
          roundOpened.delete(Number(e.data.round))
          return
        }
      }
    },
    request: (method, route, code, seconds) => apiTime.observe({ method, route, code: String(code) }, seconds),
    render: async (samples, families) => {
      // Labelled samples of the node (market jobs by state) are families of their own.
      const nodeFamilies = new Map<string, MetricFamily & { samples: LabelledSample[] }>()
      for (const s of samples) {
        if (s.labels === undefined) publish(s.name, s.help, s.type, {}, Number(s.value), [])
        else {
          let f = nodeFamilies.get(s.name)
          if (f === undefined) nodeFamilies.set(s.name, (f = { name: s.name, help: s.help, type: s.type, samples: [] }))
          f.samples.push({ labels: s.labels, value: Number(s.value) })
        }
      }
      for (const f of [...nodeFamilies.values(), ...families]) {
        // Labelled families are redrawn from scratch: a label value that went away goes too.
        const labelNames = [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))].sort()
        if (labelNames.length > 0) labelled.get(f.name)?.reset()
        for (const s of f.samples) publish(f.name, f.help, f.type, s.labels, s.value, labelNames)
      }
      return registry.metrics()
    },
  }
}

/**
 * Prometheus text exposition format 0.0.4: the node's samples, the API's request counts and the
 * process's own metrics, each with HELP and TYPE lines.
 */
import type { MetricSample } from "./node-api.ts"

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** A labelled sample (`dai_api_requests_total{code="200"}`). */
export interface LabelledSample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: "gauge" | "counter"
  readonly samples: readonly LabelledSample[]
}

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const formatValue = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v))

/** Render families in the text format. */
export const renderMetrics = (families: readonly MetricFamily[]): string => {
  const lines: string[] = []
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`)
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")
      lines.push(`${f.name}${labels === "" ? "" : `{${labels}}`} ${formatValue(s.value)}`)
    }
  }
  return `${lines.join("\n")}\n`
}

/** One node sample as a family. */
export const familyOf = (s: MetricSample): MetricFamily => ({ name: s.name, help: s.help, type: s.type, samples: [{ labels: {}, value: Number(s.value) }] })

const START_SECONDS = Date.now() / 1000 - process.uptime()

/** The process's metrics, under the names Prometheus client libraries use. */
export const processFamilies = (): MetricFamily[] => {
  const cpu = process.cpuUsage()
  const mem = process.memoryUsage()
  const one = (name: string, help: string, type: "gauge" | "counter", value: number): MetricFamily => ({ name, help, type, samples: [{ labels: {}, value }] })
  return [
    one("process_cpu_user_seconds_total", "User CPU time spent in seconds.", "counter", cpu.user / 1e6),
    one("process_cpu_system_seconds_total", "System CPU time spent in seconds.", "counter", cpu.system / 1e6),
    one("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", mem.rss),
    one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", Math.round(START_SECONDS)),
    one("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes.", "gauge", mem.heapUsed),
    one("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.", "gauge", mem.heapTotal),
  ]
}

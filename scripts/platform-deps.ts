/**
 * `postinstall`: install the optional native packages that npm skipped because npm itself ran on an
 * older Node than the project's pinned one (npm on Node 20 drops Hardhat's EDR binary, whose engines
 * ask for Node >= 22). It installs exactly the versions the lockfile lists for this platform, with
 * the project's Node, and changes neither package.json nor the lockfile.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"

interface LockEntry {
  readonly version?: string
  readonly optional?: boolean
  readonly os?: readonly string[]
  readonly cpu?: readonly string[]
  readonly libc?: readonly string[]
}

const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
const libc = header?.glibcVersionRuntime !== undefined ? "glibc" : "musl"
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, LockEntry> }

const missing: string[] = []
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!path.startsWith("node_modules/") || entry.optional !== true || entry.version === undefined) continue
  // Only platform-specific binaries: the packages npm chose for this machine and then skipped.
  if (entry.os === undefined && entry.cpu === undefined) continue
  if (entry.os !== undefined && !entry.os.includes(process.platform)) continue
  if (entry.cpu !== undefined && !entry.cpu.includes(process.arch)) continue
  if (entry.libc !== undefined && !entry.libc.includes(libc)) continue
  if (existsSync(path)) continue
  missing.push(`${path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)}@${entry.version}`)
}

if (missing.length > 0 && process.env.npm_execpath !== undefined) {
  console.log(`installing native packages npm skipped on Node ${process.env.npm_config_node_version ?? "(older)"}: ${missing.join(", ")}`)
  const r = spawnSync(process.execPath, [process.env.npm_execpath, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", ...missing], { stdio: "inherit" })
  process.exitCode = r.status ?? 1
}

/**
 * The composition root of the `dai` command: the runtime's commands (params, chain) and the
 * simulator's (sim), assembled here so that nothing in runtime/ depends on sim/.
 */
import { makeMain, runtimeGroups } from "./main.ts"
import { simGroup } from "./sim.ts"

/** Run `dai` with the given arguments; returns the exit code. */
export const main = makeMain([simGroup, ...runtimeGroups])

/** Run `dai` in-process and capture what it prints (for tests and embedding). */
export const runCaptured = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ""
  let err = ""
  const code = await main(argv, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) })
  return { code, out, err }
}

/**
 * The composition root of the `dai` command: the runtime's commands (params, chain) and the
 * simulator's (sim), assembled here so that nothing in runtime/ depends on sim/.
 */
import { makeMain, runtimeGroups } from "./runtime/cli/main.ts"
import { simGroup } from "./sim/cli.ts"

/** Run `dai` with the given arguments; returns the exit code. */
export const main = makeMain([simGroup, ...runtimeGroups])

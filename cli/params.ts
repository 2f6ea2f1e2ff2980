/** `dai params`: the parameter registry, with defaults, units and the constitution's bounds. */
import { PARAM_NAMES, REGISTRY, describeBounds, formatParamValue, type ParamDef } from "../runtime/core/params.ts"
import { defineCommand, UsageError } from "./command.ts"
import { table } from "./format.ts"

export const paramsCommand = defineCommand({
  name: "params",
  summary: "List every parameter of the registry: name, default, unit and the constitution's bounds.",
  options: { json: { type: "boolean" }, prefix: { type: "string" } },
  help: { "--json": "print a JSON array instead of a table", "--prefix P": "only parameters whose name starts with P (e.g. staking.)" },
  examples: ["dai params", "dai params --prefix slashing.", "dai params --json"],
  run: async (values, positionals, io) => {
    if (positionals.length > 0) throw new UsageError({ reason: `unexpected argument "${positionals[0]}"` })
    const names = PARAM_NAMES.filter((n) => values.prefix === undefined || n.startsWith(values.prefix))
    const rows = names.map((name) => {
      const def: ParamDef = REGISTRY[name]
      return {
        name,
        kind: def.kind,
        default: def.default,
        display: formatParamValue(def, def.default),
        unit: def.unit,
        bounds: describeBounds(def),
        ...(def.kind === "choice" ? { oneOf: def.oneOf } : {}),
        ...("min" in def ? { min: def.min, max: def.max } : {}),
        description: def.description,
      }
    })
    if (values.json === true) {
      io.out(JSON.stringify(rows, null, 2))
      return 0
    }
    io.out(table(["name", "default", "unit", "bounds", "meaning"], rows.map((r) => [r.name, r.display, r.unit, r.bounds, r.description])))
    io.out(`\n${rows.length} parameters. Durations are in ms in JSON; fractions are shares of 1; token amounts are whole tokens.`)
    return 0
  },
})

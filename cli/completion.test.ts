/**
 * `dai completion bash|zsh|fish` is generated from the command table that `--help` prints: every
 * command, group, subcommand and flag of the table is in each script, a command added to a table
 * completes with no other change, and the bash script, sourced in bash, registers `dai` and answers
 * completions (when bash is on the machine).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { defineCommand, GLOBAL_FLAGS, type Command } from "./command.ts"
import { completionScript, SHELLS, type CommandTable } from "./completion.ts"
import { runCaptured } from "./dai.ts"
import { commandTable, runtimeGroups } from "./main.ts"
import { simGroup } from "./sim.ts"

const table = commandTable([simGroup, ...runtimeGroups])
const commands = (t: CommandTable): Command[] => [...t.top, ...t.groups.flatMap((g) => g.commands)]

/** Whether `word` stands in `script` as a whole word (not only inside a longer flag or name). */
const hasWord = (script: string, word: string) => new RegExp(`(^|[\\s"'(|])${word.replace(/[-]/g, "\\-")}($|[\\s"':)|])`, "m").test(script)

describe("dai completion", () => {
  for (const shell of SHELLS) {
    it(`${shell}: names every command, group, subcommand and flag of the table`, () => {
      const script = completionScript(shell, table)
      for (const c of table.top) expect(hasWord(script, c.name), c.name).toBe(true)
      for (const g of table.groups) {
        expect(hasWord(script, g.name), g.name).toBe(true)
        for (const c of g.commands) expect(hasWord(script, c.name), `${g.name} ${c.name}`).toBe(true)
      }
      for (const c of commands(table)) {
        for (const [long, o] of Object.entries(c.options)) {
          // fish names a flag by `-l name`, the others by `--name`.
          expect(shell === "fish" ? script.includes(`-l ${long}`) : hasWord(script, `--${long}`), `${c.name} --${long}`).toBe(true)
          if (o.short !== undefined) expect(shell === "fish" ? script.includes(`-s ${o.short}`) : hasWord(script, `-${o.short}`), `${c.name} -${o.short}`).toBe(true)
        }
      }
      for (const f of GLOBAL_FLAGS) expect(shell === "fish" ? script.includes(`-l ${f.long}`) : hasWord(script, `--${f.long}`)).toBe(true)
      // The choices of a first argument written `a|b`.
      for (const choice of ["bash", "zsh", "fish", "export", "import"]) expect(hasWord(script, choice), choice).toBe(true)
    })
  }

  it("completes a command added to the table, with its flags, without another list", () => {
    const extra = defineCommand({
      name: "frobnicate", summary: "A made-up command.", options: { "widget-count": { type: "string" }, loud: { type: "boolean", short: "L" } },
      help: { "--widget-count N": "how many widgets" }, run: async () => 0,
    })
    const grown: CommandTable = { top: table.top, groups: [...table.groups, { name: "gadget", summary: "made-up group", commands: [extra] }] }
    for (const shell of SHELLS) {
      const before = completionScript(shell, table)
      const after = completionScript(shell, grown)
      expect(before).not.toMatch(/frobnicate|widget-count/)
      expect(after).toMatch(/gadget/)
      expect(after).toMatch(/frobnicate/)
      expect(after).toMatch(shell === "fish" ? /-l widget-count -r -F -d 'how many widgets'/ : /--widget-count/)
      if (shell === "zsh") expect(after).toContain("'--widget-count:how many widgets'")
    }
  })

  it("prints a script for a shell, and refuses a missing or unknown shell with usage (exit 2)", async () => {
    const ok = await runCaptured("completion", "bash")
    expect(ok.code).toBe(0)
    expect(ok.out).toBe(completionScript("bash", table))
    expect(ok.err).toBe("")
    for (const argv of [["completion"], ["completion", "powershell"], ["completion", "bash", "zsh"]]) {
      const r = await runCaptured(...argv)
      expect(r.code, argv.join(" ")).toBe(2)
      expect(r.err).toMatch(/^dai completion: (name a shell|unknown shell "powershell"|unexpected argument "zsh")/)
      expect(r.err).toContain("usage: dai completion bash|zsh|fish")
    }
    expect((await runCaptured("--help")).out).toMatch(/^\s+completion\s+Print a shell completion script/m)
  })

  const bash = spawnSync("bash", ["--version"], { encoding: "utf8" })
  it.skipIf(bash.error !== undefined || bash.status !== 0)("bash: sourced, it registers dai and completes commands, subcommands, flags and choices", () => {
    // An empty working directory, so file-name completion adds nothing to what is compared.
    const cwd = mkdtempSync(join(tmpdir(), "dai-completion-"))
    try {
      const script = completionScript("bash", table)
      const probe = [
        script,
        "complete -p dai",
        't() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _dai; echo "${COMPREPLY[*]}"; }',
        "t dai s", "t dai sim r", "t dai sim run --s", "t dai completion ''", "t dai node slashing-protection e", "t dai params -", "t dai --v", "t dai job st",
      ].join("\n")
      const r = spawnSync("bash", ["--norc", "--noprofile", "-c", probe], { encoding: "utf8", cwd })
      expect(r.stderr).toBe("")
      expect(r.status).toBe(0)
      expect(r.stdout.split("\n").slice(0, 9)).toEqual([
        "complete -o filenames -F _dai dai",
        "sim",
        "run replay",
        "--seed --signatures",
        "bash zsh fish",
        "export",
        "--json --prefix --help -h",
        "--version",
        "status",
      ])
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})

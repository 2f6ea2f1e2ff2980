/**
 * Reading a scenario or sweep file: YAML (or JSON by extension) decoded strictly against a Schema. An
 * unknown key anywhere is an error, and the first problem is reported with its key path
 * (`events[0].crash`), so each loader can raise its own error naming the file and the key.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { parse as parseYaml } from "yaml"

/**
 * A scenario or sweep file that cannot be used: the `file`, the dotted `key` path ("" for the whole
 * file) and why. Nothing runs until the whole file is valid.
 */
export class FileError extends Schema.TaggedError<FileError>()("FileError", {
  file: Schema.String,
  key: Schema.String,
  reason: Schema.String,
}) {
  override get message() {
    return `${this.file}: ${this.key === "" ? "" : `${this.key}: `}${this.reason}`
  }
}

/** What is wrong and where (`key` is "" for the whole file). */
export interface FileProblem {
  readonly key: string
  readonly message: string
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()
const keyOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("")

/** Parse `text` (YAML, or JSON when `file` ends in .json) and decode it with `schema`; `expected` describes the top-level mapping. */
export const decodeFile = <S extends Schema.Top>(schema: S, text: string, file: string, expected: string): Result.Result<S["Type"], FileProblem> => {
  let raw: unknown
  try {
    raw = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text, { strict: true, uniqueKeys: true })
  } catch (e) {
    return Result.fail({ key: "", message: `not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}` })
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return Result.fail({ key: "", message: `expected a mapping of keys (${expected})` })
  const decoded = Schema.decodeUnknownResult(schema as unknown as Schema.Codec<S["Type"], unknown>)(raw, { onExcessProperty: "error", errors: "all" })
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success)
  const issues = formatter(decoded.failure.issue).issues
  const first = issues[0]!
  const key = keyOf((first.path ?? []).map((p) => (typeof p === "object" ? p.key : p)))
  const message = first.message === "Expected no excess property" ? "unknown key" : first.message
  return Result.fail({ key, message: issues.length > 1 ? `${message} (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : message })
}

/**
 * The simulated pipeline's messages (sim/world/lm-server.ts ↔ lm-client.ts): the real wire's
 * open / forward / close and opened / result / error (runtime/core/lm/wire.ts), with a 32-byte digest in
 * place of the tokens or activations (sim/world/lm-model.ts) and, on open, the ledger job that pays for
 * the session. Small UTF-8 JSON, Schema-decoded at the receiver (unknown fields refused).
 */
import { Result, Schema } from "effect"

/** The topic of every simulated pipeline message (direct sends). */
export const LM_SIM_TOPIC = "lm/sim/v1"
export const MAX_LM_SIM_MESSAGE_BYTES = 512

const Whole = Schema.Number.check(Schema.makeFilter((n) => (Number.isSafeInteger(n) && n >= 0) || "a whole number >= 0"))
const Digest = Schema.String.check(Schema.makeFilter((s) => /^0x[0-9a-f]{64}$/.test(s) || "a 32-byte digest (0x + 64 hex)"))
const Session = Schema.String.check(Schema.makeFilter((s) => /^[0-9a-z.-]{1,64}$/.test(s) || "a session id"))

const Open = Schema.Struct({ t: Schema.Literal("open"), session: Session, from: Whole, to: Whole, job: Whole })
const Forward = Schema.Struct({ t: Schema.Literal("forward"), session: Session, seq: Whole, start: Whole, length: Whole, input: Digest, billed: Schema.Boolean })
const Close = Schema.Struct({ t: Schema.Literal("close"), session: Session })
const Opened = Schema.Struct({ t: Schema.Literal("opened"), session: Session })
const Output = Schema.Struct({ t: Schema.Literal("result"), session: Session, seq: Whole, output: Digest })
const Failed = Schema.Struct({ t: Schema.Literal("error"), session: Session, seq: Schema.optionalKey(Whole), message: Schema.String })
const Message = Schema.Union([Open, Forward, Close, Opened, Output, Failed])

export type LmSimMessage = typeof Message.Type
const decode = Schema.decodeUnknownResult(Message)
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** The wire form of a message. */
export const encodeLmSim = (m: LmSimMessage): Uint8Array => utf8.encode(JSON.stringify(m))

/** A message a peer sent, or why it is refused. Never throws. */
export const decodeLmSim = (bytes: Uint8Array): Result.Result<LmSimMessage, string> => {
  if (bytes.length > MAX_LM_SIM_MESSAGE_BYTES) return Result.fail(`oversized lm message: ${bytes.length} bytes (limit ${MAX_LM_SIM_MESSAGE_BYTES})`)
  let json: unknown
  try {
    json = JSON.parse(strictUtf8.decode(bytes))
  } catch {
    return Result.fail("malformed lm message: not UTF-8 JSON")
  }
  const r = decode(json, { onExcessProperty: "error" })
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(`malformed lm message: ${String(r.failure.message).split("\n")[0]}`)
}

/**
 * `POST /generate`: text from the network's language model, generated through a pipeline of stage
 * servers and paid per token from this node's account (runtime/node/lm.ts). The POST starts the
 * generation and answers at once (202) with its id; the tokens stream over the API's WebSocket
 * (`/ws?kinds=lm.generate`, the token as the `dai.token.<token>` subprotocol, as for telemetry): one
 * `lm.generate.*` event per step, each naming the generation's id —
 *
 *   lm.generate.route     { id, stages: [{ from, to, peer }] }          the servers of every stage
 *   lm.generate.job       { id, from, to, peer, job, units, price }      a stage's market job (escrowed)
 *   lm.generate.token     { id, index, token, text, cost }              one token, its text, what it cost (Σ stage prices)
 *   lm.generate.failover  { id, from, to, failed, replacement, replayed }
 *   lm.generate.restart   { id, from, to, refuted, discarded }         a referee refuted a stage: the text so far is discarded,
 *                                                                     the generation starts again from the prompt without it
 *                                                                     (the next token event has index 0)
 *   lm.generate.done      { id, tokens, text, escrowed, paid, returned, held, stages: [...] }
 *   lm.generate.failed    { id, reason }
 *
 * Connect the WebSocket before posting, so no event is missed. Amounts are decimal strings of base units.
 */
import { Schema } from "effect"

const Amount = Schema.String.check(Schema.isPattern(/^[1-9][0-9]{0,77}$/, { expected: "a positive decimal string of base units" }))
  .annotate({ description: "token amount in base units (18 decimals) as a decimal string" })

export const GenerateRequest = Schema.Struct({
  prompt: Schema.String.check(Schema.isMaxLength(2_000, { expected: "at most 2000 characters" })).annotate({ description: "the text to continue (may be empty: a new fortune)" }),
  maxTokens: Schema.optionalKey(Schema.Number.check(Schema.isInt({ expected: "a whole number" }), Schema.isBetween({ minimum: 1, maximum: 2_000 }, { expected: "a whole number from 1 to 2000" })))
    .annotate({ description: "most tokens (bytes) to generate and escrow for, per stage (default 200)" }),
  maxPricePerToken: Amount.annotate({ description: "the most paid per token at one stage; each stage's job escrows maxTokens × this" }),
  stop: Schema.optionalKey(Schema.Boolean).annotate({ description: "stop at the end of the fortune (the corpus's % line; default true)" }),
}).annotate({ identifier: "GenerateRequest" })
export type GenerateRequest = typeof GenerateRequest.Type

export const GenerateStarted = Schema.Struct({
  id: Schema.String.annotate({ description: "the generation's id, named by each of its lm.generate.* events" }),
  account: Schema.String.annotate({ description: "the ledger account that pays (this node's)" }),
  stream: Schema.String.annotate({ description: "the WebSocket path its tokens stream on" }),
}).annotate({ identifier: "GenerateStarted" })
export type GenerateStarted = typeof GenerateStarted.Type

/** The WebSocket path that carries generations' events. */
export const GENERATE_STREAM = "/ws?kinds=lm.generate"


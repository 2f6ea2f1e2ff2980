/**
 * Secure aggregation (runtime/core/training/secagg) as network messages of a training round.
 *
 * Step data crosses the network as the `body` of a train message (wire.ts, which checks each body's
 * shape): plain JSON, with every Uint8Array written `{ "$b": hex }`. The coordinator relays; it never sees an update:
 *   model (secure)        coordinator → cohort     each trainer answers with its key advert
 *   shares.request        coordinator → advertised each answers with its encrypted key shares
 *   masked.request        coordinator → sharers    the shares routed to it; it answers with its masked input
 *   unmask.request        coordinator → survivors  who survived, who dropped; each answers what unmasks the sum
 */
import {
  dequantize, quantize, SecAggClient, SecAggServer,
  type Advert, type RandomBytes, type EncryptedShare, type MaskedInput, type SecAggGraph, type SharesMessage, type UnmaskRequest, type UnmaskResponse,
} from "../../core/training/secagg/index.ts"

/** Uint8Arrays as `{ $b: hex }`, recursively (what JSON cannot carry). */
export const toWire = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") }
  if (Array.isArray(v)) return v.map(toWire)
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]))
  return v
}

/** The inverse of `toWire`; anything malformed is left for the secagg checks to refuse. */
export const fromWire = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(fromWire)
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>
    if (Object.keys(o).length === 1 && typeof o.$b === "string" && /^([0-9a-f]{2})*$/.test(o.$b)) return new Uint8Array(Buffer.from(o.$b, "hex"))
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromWire(x)]))
  }
  return v
}

export interface SecAggParams {
  readonly round: number
  readonly threshold: number
  readonly length: number
  /** Quantization range per coordinate. */
  readonly clip: number
  /** Who masks with whom (`training.secAggGraph`; "full" when absent). */
  readonly graph?: SecAggGraph
}

const config = (p: SecAggParams) => ({ round: `round-${p.round}`, threshold: p.threshold, length: p.length, graph: p.graph ?? "full" })

/** One trainer's side of one round. */
export class SecAggTrainer {
  readonly #client: SecAggClient
  readonly #p: SecAggParams
  #participants = 0

  /** `randomBytes`: the simulator's seeded stream, or crypto randomness in a real node. */
  constructor(id: string, p: SecAggParams, randomBytes: RandomBytes) {
    this.#p = p
    this.#client = new SecAggClient({ id, config: config(p), randomBytes })
  }

  advertise(): unknown {
    return toWire(this.#client.advertise())
  }

  shareKeys(body: unknown): unknown {
    return toWire(this.#client.shareKeys(fromWire(body) as Advert[]))
  }

  /** The shares routed to this trainer, and how many inputs the sum will have at most. */
  receiveShares(body: unknown): void {
    const b = fromWire(body) as { shares: EncryptedShare[]; participants: number }
    this.#client.receiveShares(b.shares)
    this.#participants = b.participants
  }

  masked(delta: Float32Array): Uint32Array {
    return this.#client.maskedInput(quantize(delta, this.#p.clip, Math.max(1, this.#participants))).masked
  }

  unmask(body: unknown): unknown {
    const r = fromWire(body) as UnmaskRequest
    return toWire(this.#client.unmaskResponse(r.survivors, r.dropped))
  }
}

/** The coordinator's side of one round: relays the steps and learns only the sum. */
export class SecAggCoordinator {
  readonly #server: SecAggServer
  readonly #p: SecAggParams

  constructor(p: SecAggParams) {
    this.#p = p
    this.#server = new SecAggServer(config(p))
  }

  /** Each receive checks that the message is the sender's own; the server refuses anything else (throws). */
  receiveAdvert(from: string, body: unknown): void {
    const a = fromWire(body) as Advert
    if (a?.id !== from) throw new Error(`advert of ${String(a?.id)} sent by ${from}`)
    this.#server.receiveAdvert(a)
  }
  receiveShares(from: string, body: unknown): void {
    const m = fromWire(body) as SharesMessage
    if (m?.from !== from) throw new Error(`shares of ${String(m?.from)} sent by ${from}`)
    this.#server.receiveShares(m)
  }
  receiveMasked(from: string, masked: Uint32Array): void {
    this.#server.receiveMaskedInput({ from, masked } satisfies MaskedInput)
  }
  receiveUnmask(from: string, body: unknown): void {
    const r = fromWire(body) as UnmaskResponse
    if (r?.from !== from) throw new Error(`unmask response of ${String(r?.from)} sent by ${from}`)
    this.#server.receiveUnmaskResponse(r)
  }

  /** The adverts every advertiser needs (closes the advertise step). */
  closeAdvertise(): unknown {
    return toWire(this.#server.closeAdvertise())
  }
  /** The body of each sharer's masked.request (closes the share-keys step). */
  closeShareKeys(): Map<string, unknown> {
    const routed = this.#server.closeShareKeys()
    return new Map([...routed].map(([id, shares]) => [id, toWire({ shares, participants: routed.size })]))
  }
  /** Who survived and who dropped (closes the masked-input step). */
  closeMasked(): { readonly request: UnmaskRequest; readonly body: unknown } {
    const request = this.#server.closeMaskedInput()
    return { request, body: toWire(request) }
  }
  /** The real-valued sum of the survivors' updates. */
  finish(survivors: number): Float32Array {
    return dequantize(this.#server.finish(), this.#p.clip, survivors)
  }
}

/**
 * One whole secure-aggregation round run in memory, with dropouts: the reference driver of the
 * message flow (tests, benchmarks, and a model for the round machine, which sends the same messages
 * over the network). `drop` says at which stage a client goes silent: it sends no message from that
 * stage on ("advertise": never joins; "share-keys": advertised only; "masked-input": its shares are
 * out but its input never arrives, so its pairwise masks are rebuilt; "unmask": its input counts but
 * it does not help unmask).
 */
import { SecAggClient } from "./client.ts"
import type { SecAggConfig, SecAggStage } from "./messages.ts"
import type { RandomBytes } from "./primitives.ts"
import { SecAggServer } from "./server.ts"

export interface SecAggRun {
  /** Σ of the survivors' inputs mod 2^32. */
  readonly sum: Uint32Array
  /** Whose inputs are in the sum (U3), sorted. */
  readonly survivors: readonly string[]
  /** Who shared keys but sent no input (U2 \ U3), sorted. */
  readonly dropped: readonly string[]
}

/** Run a round over `inputs` (id → quantized vector); throws SecAggAbort when too few remain. */
export const runSecAgg = (options: {
  readonly config: SecAggConfig
  readonly inputs: ReadonlyMap<string, Uint32Array>
  readonly randomBytes: (id: string) => RandomBytes
  readonly drop?: ReadonlyMap<string, SecAggStage>
}): SecAggRun => {
  const { config, inputs } = options
  const drop = options.drop ?? new Map<string, SecAggStage>()
  const active = (id: string, stage: SecAggStage) => {
    const d = drop.get(id)
    return d === undefined || ORDER.indexOf(d) > ORDER.indexOf(stage)
  }
  const server = new SecAggServer(config)
  const clients = [...inputs.keys()].map((id) => new SecAggClient({ id, config, randomBytes: options.randomBytes(id) }))
  const live = (stage: SecAggStage) => clients.filter((c) => active(c.id, stage))

  for (const c of live("advertise")) server.receiveAdvert(c.advertise())
  const adverts = server.closeAdvertise()
  for (const c of live("share-keys")) server.receiveShares(c.shareKeys(adverts))
  const routed = server.closeShareKeys()
  for (const c of live("masked-input")) {
    c.receiveShares(routed.get(c.id)!)
    server.receiveMaskedInput(c.maskedInput(inputs.get(c.id)!))
  }
  const request = server.closeMaskedInput()
  for (const c of live("unmask")) server.receiveUnmaskResponse(c.unmaskResponse(request.survivors, request.dropped))
  return { sum: server.finish(), survivors: request.survivors, dropped: request.dropped }
}

const ORDER: readonly SecAggStage[] = ["advertise", "share-keys", "masked-input", "unmask"]

/**
 * The language model on a real node (issue 14, items 2 and 4): the LM service of
 * runtime/actors/lm/service.ts over the node's market context — its ledger (the chain's ComputeMarket,
 * or its own in-memory ledger), and its network in ledger accounts through the market's directory of
 * signed hellos — with the committed checkpoint's stages loaded by TensorFlow.js when the account is
 * registered for a range (`dai provider start --lm-blocks 0-1`).
 */
import { accountNetwork, type MarketDirectory } from "../actors/market/directory.ts"
import type { MarketContext } from "../actors/market/context.ts"
import { startLmService, type LmService, type LmServiceOptions } from "../actors/lm/service.ts"
import type { RealNode } from "./real-world.ts"

export interface NodeLmOptions {
  /** Checkpoint directory (default: the committed one). */
  readonly checkpoint?: string
  /** Register for and serve this range when the node's account is no provider yet. */
  readonly serve?: LmServiceOptions["serve"]
  /**
   * Have the paid stages' notes re-executed by the validators' lm referees before paying them (audit.ts;
   * every validator runs one: runtime/node/market.ts). On by default, at the ledger's
   * `market.verificationRate` unless `rate` is given; false turns it off.
   */
  readonly verify?: LmServiceOptions["verify"] | false
}

/** Start the LM service on `node`, whose market directory is `directory`. */
export const startNodeLm = async (o: { readonly node: RealNode; readonly directory: MarketDirectory; readonly options?: NodeLmOptions }): Promise<LmService> => {
  const { ctx, app, keys } = o.node
  const { DEFAULT_CHECKPOINT_DIR, readCheckpointConfig } = await import("../adapters/tfjs/lm/checkpoint.ts")
  const dir = o.options?.checkpoint ?? DEFAULT_CHECKPOINT_DIR
  const model = readCheckpointConfig(dir).model
  const mctx: MarketContext = {
    name: ctx.name, clock: ctx.clock, now: ctx.now, run: ctx.run, random: ctx.random, ledger: ctx.ledger, emit: ctx.emit,
    params: () => app.params(),
    network: accountNetwork(ctx.network, o.directory),
    fault: (from, reason) => ctx.fault(o.directory.peerOf(from) ?? from, reason),
  }
  // Loaded only by a node that serves a range (training has selected the tfjs backend by then).
  const { loadPipelineStage } = await import("../adapters/tfjs/lm/pipeline-stage.ts")
  return startLmService(mctx, {
    account: app.accountOf(keys.address.toLowerCase()),
    model: { blocks: model.blocks, contextLength: model.contextLength, vocabSize: model.vocabSize },
    loadStage: (from, to) => loadPipelineStage(dir, from, to),
    ...(o.options?.serve === undefined ? {} : { serve: o.options.serve }),
    ...(o.options?.verify === false ? {} : { verify: o.options?.verify ?? {} }),
  })
}

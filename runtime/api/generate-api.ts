/**
 * The node API with `generate` (POST /generate) running on the node's LM service
 * (runtime/actors/lm/service.ts); kept apart from generate.ts, whose schemas node-api.ts imports.
 */
import type { LmService } from "../actors/lm/service.ts"
import { GENERATE_STREAM } from "./generate.ts"
import type { NodeApi } from "./node-api.ts"

/** `api` with `generate` running on `lm` (the node's LM service) and paid by `account`. */
export const withGenerate = (api: NodeApi, lm: Pick<LmService, "generate">, account: string): NodeApi => ({
  ...api,
  generate: (req) => {
    const g = lm.generate({ prompt: req.prompt, maxTokens: req.maxTokens ?? 200, maxPricePerToken: BigInt(req.maxPricePerToken), stop: req.stop ?? true })
    return { id: g.id, account, stream: GENERATE_STREAM }
  },
})

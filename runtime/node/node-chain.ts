/**
 * The node's view of the EVM chain: the contracts of its deployment file over its RPC (or a
 * provider the devnet hands in), with the node's own key as the signer for its own address.
 * The genesis validators' account ids map to their addresses, so the chain reads in the App's names.
 * Checked at start, so a misconfigured node fails with a message instead of later, mid-round:
 * the deployment must be for this network's consensus chain id and the RPC must answer.
 */
import { Wallet, type Provider, type Signer } from "ethers"
import { Effect, Result, Schema, type Scope } from "effect"
import { makeEvmChain, type EvmChain } from "../adapters/evm/chain.ts"
import { readDeployment, type Deployment } from "../adapters/evm/deployment.ts"
import type { AppGenesis } from "../core/app/app.ts"
import { toHex } from "../core/crypto.ts"
import type { ChainUnavailable } from "../services/chain.ts"
import { resolvePath, type NodeConfig } from "./config.ts"

export class NodeChainError extends Schema.TaggedError<NodeChainError>()("NodeChainError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

export interface NodeChainOptions {
  readonly config: NodeConfig
  readonly dataDir: string
  readonly genesis: AppGenesis
  readonly privateKey: Uint8Array
  /** A provider and deployment to use instead of the config's (the devnet's in-process chain). */
  readonly given?: { readonly provider: Provider; readonly deployment: Deployment }
}

/** Connect to the configured chain (undefined when none is configured), closed with the scope. */
export const connectNodeChain = (options: NodeChainOptions): Effect.Effect<EvmChain | undefined, NodeChainError | ChainUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, given } = options
    const { rpc, deployment: deploymentPath } = config.chain
    if (given === undefined && rpc === "" && deploymentPath === "") return undefined
    if (given === undefined && (rpc === "" || deploymentPath === "")) {
      return yield* new NodeChainError({ reason: `${options.dataDir}/config.yaml: chain.rpc and chain.deployment go together (set both, or neither to run without the chain)` })
    }
    const deployment = given?.deployment ?? (yield* Effect.promise(() => readDeployment(resolvePath(options.dataDir, deploymentPath))).pipe(
      Effect.flatMap((r) => (Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(new NodeChainError({ reason: r.failure.message })))),
    ))
    if (deployment.consensusChainId !== String(options.genesis.chainId)) {
      return yield* new NodeChainError({
        reason: `the deployment's consensusChainId ${deployment.consensusChainId} is not this network's chain id ${options.genesis.chainId} (genesis): the contracts would not accept this network's votes as evidence`,
      })
    }
    const key = toHex(options.privateKey)
    const own = new Wallet(key).address.toLowerCase()
    // The chain names the genesis validators as the App does ("node0" ↔ its signing address), so
    // positions, proposers and voters read alike on both; this node acts for its own account only.
    const accounts = Object.fromEntries(options.genesis.validators.filter((v) => !/^0x[0-9a-fA-F]{40}$/.test(v.operator)).map((v) => [v.operator, v.address]))
    const operator = options.genesis.validators.find((v) => v.address.toLowerCase() === own)?.operator
    let signer: Signer | undefined
    const chain: EvmChain = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeEvmChain({
          ...(given === undefined ? { rpcUrl: rpc } : { provider: given.provider }),
          deployment,
          params: options.genesis.params,
          accounts,
          // Anyone may execute a passed proposal: this node sends `execute` from its own account.
          executor: operator ?? own,
          signerFor: (account) => {
            if (account.toLowerCase() !== own && account !== operator) return undefined
            signer ??= new Wallet(key, chain.provider)
            return signer
          },
        })
      ),
      (c) => Effect.promise(() => c.close().catch(() => undefined)),
    )
    // One read now: an unreachable RPC or a wrong address fails the start, with the reason.
    yield* chain.now
    return chain
  })

/**
 * The real Chain: the DAIToken and Staking contracts through ethers v6, on Hardhat's in-process
 * chain, `hardhat node`, or any EVM JSON-RPC.
 *
 * Each `EconOp` becomes one contract call from the acting account's signer (submit.ts lists them); the
 * receipt is decoded from the contract's events, completed by views at the receipt's block where an
 * event lacks a field, into the economy's receipt shapes. A revert becomes the economy's tagged error
 * of the same name (errors.ts); anything that is not a rule (connection refused, timeout, a
 * contract-only rule) is `ChainUnavailable`.
 *
 * Time: the contracts count unix seconds, the port speaks ms: every time in a receipt, error or
 * view is chain seconds × 1000 (a tombstone's jail is the economy's FOREVER), and an op's time
 * (a slash's infractionTime) is rounded down to the second. There is no "now" in an op: the block
 * the transaction lands in decides, as the sim's clock does for the simulated chain.
 *
 * Accounts: `accounts` maps the economy's account ids to addresses, and `signerFor(id)` gives the
 * signer that acts for an id (accounts.ts); an id that is a 0x address needs no entry. Ops are sent
 * one at a time (nonces stay in order, and a receipt's "state before" is the previous block).
 */
import { Contract, id as keccakText, JsonRpcProvider, Network, type Provider, type Signer } from "ethers"
import { Effect, Layer } from "effect"
import type { Address, EconError, EconOp, PendingRewards, ReceiptOf, SlashReceipt } from "../../core/econ/index.ts"
import { DEFAULT_PARAMS, PARAM_NAMES, REGISTRY, type ParamName, type Params } from "../../core/params.ts"
import { Chain, ChainUnavailable } from "../../services/chain.ts"
import { CONSTITUTION_ABI, STAKING_ABI, TOKEN_ABI } from "./abi.ts"
import { accountBook, type AccountBook } from "./accounts.ts"
import { describeFailure, toChainError, type RevertContext } from "./errors.ts"
import { chainParams } from "./params.ts"
import { StakingReader, type BlockTag } from "./reads.ts"
import { makeSubmitter, type SignedVote } from "./submit.ts"

export { evidenceHash, type SignedVote } from "./submit.ts"

/** What the adapter needs of a deployment file (a `Deployment` has it all). */
export interface EvmDeployment {
  readonly contracts: { readonly DAIToken: string; readonly Staking: string; readonly Constitution?: string }
  /** Log scans (the list of pools) start here. */
  readonly deploymentBlock: number
  /** EVM chain id, decimal; with `rpcUrl` it spares a network detection. */
  readonly chainId?: string
}

export interface EvmChainOptions {
  /** An ethers v6 provider (e.g. Hardhat's `connection.ethers.provider`); or give `rpcUrl`. */
  readonly provider?: Provider
  /** A JSON-RPC URL (used when no `provider` is given). */
  readonly rpcUrl?: string
  readonly deployment: EvmDeployment
  /** Account id → address; ids that are 0x addresses map to themselves. */
  readonly accounts?: Readonly<Record<string, string>>
  /** The signer acting for an account id (undefined: this node cannot act for it → `ChainUnavailable`). */
  readonly signerFor: (account: Address) => Signer | undefined
  /** The account that submits downtime slashes (holds Staking's DOWNTIME_REPORTER_ROLE). */
  readonly reporter?: Address
  /** The consensus signing key address a validator registers (default: the operator's own address). */
  readonly signingKeyFor?: (operator: Address) => string | undefined
  /** Parameters that never go on chain (booleans, choices, patterns) come from here (default: the registry's). */
  readonly params?: Params
  /** Give up on one operation or query after this long with `ChainUnavailable` (default 30 s; a sent transaction may still be mined). */
  readonly timeoutMs?: number
}

/** The Chain port plus what only a real chain has. */
export interface EvmChain extends ChainService {
  readonly book: AccountBook
  readonly provider: Provider
  /** Chain time: the latest block's timestamp × 1000. */
  readonly now: Effect.Effect<number, ChainUnavailable>
  /** Slash the validator whose registered key signed two conflicting votes (anyone may submit). */
  slashDoubleSign(a: SignedVote, b: SignedVote, submitter: Address): Effect.Effect<SlashReceipt, EconError | ChainUnavailable>
  /** Stop the provider this adapter created from `rpcUrl` (a given provider is the caller's). */
  close(): Promise<void>
}
type ChainService = Chain["Service"]

type Any = any // ethers contract methods and event args are untyped without typechain

/** The Chain port over the deployed contracts (see the module comment for the mappings). */
export const makeEvmChain = (options: EvmChainOptions): EvmChain => {
  const { deployment } = options
  const owned = options.provider === undefined
  if (owned && options.rpcUrl === undefined) throw new Error("makeEvmChain: give a provider or an rpcUrl")
  const provider: Provider = options.provider ?? new JsonRpcProvider(
    options.rpcUrl,
    deployment.chainId === undefined ? undefined : Network.from(BigInt(deployment.chainId)),
    { staticNetwork: deployment.chainId !== undefined, cacheTimeout: -1, pollingInterval: 250 },
  )
  const where = options.provider === undefined ? (options.rpcUrl ?? "") : "the given provider"
  const timeoutMs = options.timeoutMs ?? 30_000
  const book = accountBook(options.accounts)
  const base = options.params ?? DEFAULT_PARAMS
  const token: Any = new Contract(deployment.contracts.DAIToken, TOKEN_ABI, provider)
  const staking: Any = new Contract(deployment.contracts.Staking, STAKING_ABI, provider)
  const constitution: Any = deployment.contracts.Constitution === undefined ? undefined : new Contract(deployment.contracts.Constitution, CONSTITUTION_ABI, provider)
  const stakingAddress = deployment.contracts.Staking
  const reader = new StakingReader(staking, token, provider, book, stakingAddress, deployment.deploymentBlock)

  // Providers may cache the block number; never read below a block this adapter has seen.
  let seenBlock = 0
  const { apply, doubleSign } = makeSubmitter({
    provider, token, staking, stakingAddress, book, reader, where, signerFor: options.signerFor, reporter: options.reporter,
    signingKeyFor: options.signingKeyFor, sawBlock: (n) => void (seenBlock = Math.max(seenBlock, n)),
  })
  const latest = async (): Promise<BlockTag> => {
    const n = await reader.latest()
    seenBlock = Math.max(seenBlock, n)
    return seenBlock
  }

  // ------------------------------------------------------------------ Effect plumbing

  const timedOut = (operation: string) => Effect.fail(new ChainUnavailable({ operation, reason: `no answer from ${where} within ${timeoutMs} ms` }))

  const query = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, ChainUnavailable> =>
    Effect.tryPromise({ try: f, catch: (e) => new ChainUnavailable({ operation, reason: describeFailure(e, where) }) }).pipe(
      Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => timedOut(operation) }),
    )

  // One operation at a time: nonces in order, and "the state before" a receipt is the previous block.
  let queue: Promise<unknown> = Promise.resolve()
  const serialized = <A>(f: () => Promise<A>): Promise<A> => {
    const run = queue.then(f, f)
    queue = Promise.race([run, new Promise((r) => setTimeout(r, timeoutMs).unref())]).catch(() => undefined)
    return run
  }

  const operate = <A>(operation: string, f: () => Promise<A>, ctx: RevertContext = {}): Effect.Effect<A, EconError | ChainUnavailable> =>
    Effect.tryPromise({ try: () => serialized(f), catch: (e) => toChainError(operation, e, book, ctx, where) }).pipe(
      Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => timedOut(operation) }),
    )

  // ------------------------------------------------------------------ params

  let paramsCache: { block: number; params: Params } | undefined
  const NUMERIC = PARAM_NAMES.filter((n) => "min" in REGISTRY[n])
  const readParams = async (): Promise<Params> => {
    const block = await latest()
    if (paramsCache !== undefined && paramsCache.block === block) return paramsCache.params
    const values = new Map<ParamName, bigint>()
    if (constitution !== undefined) {
      const read = await Promise.allSettled(NUMERIC.map((n) => constitution.paramValue(keccakText(n), { blockTag: block }) as Promise<bigint>))
      read.forEach((r, i) => {
        if (r.status === "fulfilled") values.set(NUMERIC[i]!, r.value) // a parameter unknown to this Constitution keeps the base value
      })
    }
    const params = chainParams(base, values, await reader.params(block))
    paramsCache = { block, params }
    return params
  }

  const zeroPending: PendingRewards = { rewards: 0n, commission: 0n, insurance: 0n, total: 0n }

  return {
    book,
    provider,
    submit: <O extends EconOp>(op: O) =>
      operate(`submit ${String(op.type)}`, () => apply(op), { evidenceId: op.type === "slash" ? op.evidenceId : undefined }) as Effect.Effect<ReceiptOf<O["type"]>, EconError | ChainUnavailable>,
    slashDoubleSign: (a, b, submitter) => operate("slashDoubleSign", () => doubleSign(a, b, submitter)),
    balanceOf: (account) =>
      query("balanceOf", async () => {
        const a = book.addressOf(account)
        return a === undefined ? 0n : ((await token.balanceOf(a, { blockTag: await latest() })) as bigint)
      }),
    supply: query("supply", async () => reader.supply(await latest())),
    pools: query("pools", async () => {
      const block = await latest()
      return Promise.all((await reader.poolIds(block)).map((id) => reader.poolView(id, block)))
    }),
    positions: (owner) =>
      query("positions", async () => {
        const a = owner === undefined ? undefined : book.addressOf(owner)
        if (owner !== undefined && a === undefined) return []
        return (await reader.positions(a, await latest())).map((r) => reader.positionView(r.id, r.pos, r.pool))
      }),
    unbonding: (owner) =>
      query("unbonding", async () => {
        const a = owner === undefined ? undefined : book.addressOf(owner)
        if (owner !== undefined && a === undefined) return []
        return (await reader.unbonding(a, await latest())).map((r) => reader.unbondingView(r.id, r.entry))
      }),
    pendingRewards: (owner) =>
      query("pendingRewards", async () => {
        const a = book.addressOf(owner)
        if (a === undefined) return zeroPending
        const { rewards, commission, insurance, total } = await reader.pending(a, await latest())
        return { rewards, commission, insurance, total }
      }),
    params: query("params", readParams),
    now: query("now", async () => (await reader.blockTime(await latest())) * 1000),
    close: async () => {
      if (owned) provider.destroy()
    },
  }
}

/** The EVM Chain as a layer (the provider it creates from `rpcUrl` is stopped with the layer). */
export const layerEvmChain = (options: EvmChainOptions): Layer.Layer<Chain> =>
  Layer.effect(Chain)(Effect.acquireRelease(Effect.sync(() => makeEvmChain(options)), (c) => Effect.promise(() => c.close())))

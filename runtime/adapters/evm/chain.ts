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
 * Governance: the Governance contract (`deployment.contracts.Governance`; without it the governance
 * members fail with `ChainUnavailable`); the Treasury contract is the account "treasury", which a
 * passed spend pays from. Values and bounds go on chain in the Constitution's units
 * (constitution-table.ts: durations ms, integers as is, the rest × 1e18); reverts of Governance and
 * the Constitution become runtime/core/governance's tagged errors of the same names (errors.ts).
 *
 * Accounts: `accounts` maps the economy's account ids to addresses, and `signerFor(id)` gives the
 * signer that acts for an id (accounts.ts); an id that is a 0x address needs no entry. Ops are sent
 * one at a time (nonces stay in order, and a receipt's "state before" is the previous block).
 */
import { Contract, id as keccakText, JsonRpcProvider, Network, type Provider, type Signer } from "ethers"
import { Effect, Layer } from "effect"
import type { Address, EconError, EconOp, PendingRewards, ReceiptOf } from "../../core/econ/index.ts"
import { DEFAULT_PARAMS, PARAM_NAMES, REGISTRY, type ParamName, type Params } from "../../core/params.ts"
import { Chain, ChainUnavailable } from "../../services/chain.ts"
import { CONSTITUTION_ABI, GOVERNANCE_ABI, STAKING_ABI, TOKEN_ABI } from "./abi.ts"
import { SUPPORT_CODE, type GovernanceError, type ProposalAction } from "../../core/governance/governance.ts"
import { ConstitutionOutOfBounds, ConstitutionUnknownParameter } from "../../core/governance/constitution.ts"
import { toChainValue } from "../../../contracts/deploy/constitution-table.ts"
import type { ProposalView } from "../../services/chain.ts"
import { accountBook, type AccountBook } from "./accounts.ts"
import { withGasHeadroom } from "./gas.ts"
import { describeFailure, PARAM_BY_KEY, STATES, toChainError, toGovernanceError, type RevertContext } from "./errors.ts"
import { chainParams, fromChainValue } from "./params.ts"
import { StakingReader, type BlockTag } from "./reads.ts"
import { makeSubmitter } from "./submit.ts"
import { makeCommitteePort, type CommitteePort } from "./committee.ts"
import { makeMarketPort, type MarketPort } from "./market.ts"
import { readGateOf } from "./read-gate.ts"
import { msOf } from "./units.ts"

export { evidenceHash, type SignedVote } from "./submit.ts"

/** What the adapter needs of a deployment file (a `Deployment` has it all). */
export interface EvmDeployment {
  readonly contracts: {
    readonly DAIToken: string; readonly Staking: string; readonly Constitution?: string; readonly Governance?: string; readonly Treasury?: string
    /** Snapshots, fee deposits, epoch reports (committee.ts); without it the committee members fail with `ChainUnavailable`. */
    readonly Committee?: string
    /** Provider bonds and job escrows (market.ts); without it the market members fail with `ChainUnavailable`. */
    readonly ComputeMarket?: string
  }
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
  /** The account that acts for the node when no other is named (sends `execute` by default). No role: downtime settles through epoch reports. */
  readonly reporter?: Address
  /** The account that sends `execute` for passed proposals (anyone may; default: the reporter, else "admin"). */
  readonly executor?: Address
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
  /** Stop the provider this adapter created from `rpcUrl` (a given provider is the caller's). */
  close(): Promise<void>
}
type ChainService = Chain["Service"]

type Any = any // ethers contract methods and event args are untyped without typechain

const noMarket = (operation: string) => new ChainUnavailable({ operation, reason: "market: ComputeMarket not deployed" })
/** The market members while this adapter has no ComputeMarket: each fails with ChainUnavailable. */
const marketMissing: Pick<ChainService, "marketOp" | "marketVerdictDigest" | "marketProvider" | "marketProviders" | "marketJob" | "marketJobs"> = {
  marketOp: () => Effect.fail(noMarket("marketOp")),
  marketVerdictDigest: () => Effect.fail(noMarket("marketVerdictDigest")),
  marketProvider: () => Effect.fail(noMarket("marketProvider")),
  marketProviders: Effect.fail(noMarket("marketProviders")),
  marketJob: () => Effect.fail(noMarket("marketJob")),
  marketJobs: () => Effect.fail(noMarket("marketJobs")),
}

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
  // The Treasury contract is the account "treasury" (as in the simulated chain), unless mapped otherwise.
  const treasury = deployment.contracts.Treasury
  const treasuryMapped = treasury === undefined || "treasury" in (options.accounts ?? {}) || Object.values(options.accounts ?? {}).some((a) => a.toLowerCase() === treasury.toLowerCase())
  const book = accountBook(treasuryMapped ? options.accounts : { treasury, ...options.accounts })
  const base = options.params ?? DEFAULT_PARAMS
  const token: Any = new Contract(deployment.contracts.DAIToken, TOKEN_ABI, provider)
  const staking: Any = new Contract(deployment.contracts.Staking, STAKING_ABI, provider)
  const constitution: Any = deployment.contracts.Constitution === undefined ? undefined : new Contract(deployment.contracts.Constitution, CONSTITUTION_ABI, provider)
  const stakingAddress = deployment.contracts.Staking
  const reader = new StakingReader(staking, token, provider, book, stakingAddress, deployment.deploymentBlock)

  // Every transaction carries gas headroom for a block mined a second after its estimate (gas.ts).
  const signerFor = (account: Address): Signer | undefined => {
    const s = options.signerFor(account)
    return s === undefined ? undefined : withGasHeadroom(s.provider === null ? s.connect(provider) : s)
  }

  // Providers may cache the block number; never read below a block this adapter has seen.
  let seenBlock = 0
  const { apply, doubleSign, slashReceipt } = makeSubmitter({
    provider, token, staking, stakingAddress, book, reader, where, signerFor,
    signingKeyFor: options.signingKeyFor, sawBlock: (n) => void (seenBlock = Math.max(seenBlock, n)),
  })
  // Reads on this provider go through one gate: bounded in flight, never sent once their caller gave up (read-gate.ts).
  const gate = readGateOf(provider)
  const latest = async (): Promise<BlockTag> => {
    const n = await gate.latest(() => reader.latest())
    seenBlock = Math.max(seenBlock, n)
    return seenBlock
  }

  // ------------------------------------------------------------------ Effect plumbing

  const timedOut = (operation: string) => Effect.fail(new ChainUnavailable({ operation, reason: `no answer from ${where} within ${timeoutMs} ms` }))

  const query = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, ChainUnavailable> =>
    Effect.tryPromise({ try: (signal) => gate.limit(signal, f), catch: (e) => new ChainUnavailable({ operation, reason: describeFailure(e, where) }) }).pipe(
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
    // governance.quadratic is fixed in Governance at deployment (no Constitution entry): the contract's value, not the base's.
    const quadratic = governance === undefined ? undefined : ((await governance.quadratic({ blockTag: block })) as boolean)
    const params: Params = { ...chainParams(base, values, await reader.params(block)), ...(quadratic === undefined ? {} : { "governance.quadratic": quadratic }) }
    paramsCache = { block, params }
    return params
  }

  // ------------------------------------------------------------------ governance

  const governance: Any = deployment.contracts.Governance === undefined ? undefined : new Contract(deployment.contracts.Governance, GOVERNANCE_ABI, provider)
  const governing = <A>(operation: string, f: () => Promise<A>) =>
    Effect.tryPromise({ try: () => serialized(f), catch: (e) => toGovernanceError(operation, e, book, where) }).pipe(
      Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => timedOut(operation) }),
    )
  const governanceAs = (account: Address, operation: string): Any => {
    if (governance === undefined) throw new ChainUnavailable({ operation, reason: "the deployment has no Governance contract" })
    const signer = signerFor(account)
    if (signer === undefined) throw new ChainUnavailable({ operation, reason: `no signer for account "${account}": this node holds no key for it; add it to signerFor` })
    return governance.connect(signer)
  }
  const mined = async (tx: Any): Promise<Any> => {
    const receipt = await tx.wait()
    seenBlock = Math.max(seenBlock, receipt.blockNumber as number)
    return receipt
  }
  const eventArgs = (receipt: Any, event: string): Any => {
    for (const log of receipt.logs as Any[]) {
      const parsed = governance.interface.parseLog(log)
      if (parsed !== null && parsed.name === event) return parsed.args
    }
    throw new Error(`no ${event} event in the receipt`)
  }
  const numericDef = (name: string) => {
    const def = (REGISTRY as Record<string, (typeof REGISTRY)[ParamName] | undefined>)[name]
    return def !== undefined && "min" in def ? def : undefined
  }
  const onChain = (name: string, value: number): bigint => {
    const def = numericDef(name)
    if (def === undefined) throw new ConstitutionUnknownParameter({ name })
    if (!Number.isFinite(value) || value < 0) throw new ConstitutionOutOfBounds({ name, value, min: def.min, max: def.max })
    return toChainValue(def, value)
  }
  const proposeOn = async (proposer: Address, action: ProposalAction): Promise<number> => {
    const g = governanceAs(proposer, "propose")
    let tx: Any
    if (action.kind === "param") {
      if (typeof action.value !== "number") throw new ConstitutionUnknownParameter({ name: action.name })
      tx = await g.proposeParam(keccakText(action.name), onChain(action.name, action.value))
    } else if (action.kind === "amendment") {
      tx = await g.proposeAmendment(keccakText(action.name), onChain(action.name, action.min), onChain(action.name, action.max))
    } else {
      const to = book.addressOf(action.to)
      if (to === undefined) throw new ChainUnavailable({ operation: "propose", reason: `no address for ${action.to}` })
      tx = await g.proposeSpend(to, action.amount)
    }
    return Number(eventArgs(await mined(tx), "ProposalCreated").id as bigint)
  }
  const actionOf = (p: Any): ProposalAction => {
    const kind = Number(p.kind as bigint)
    const name = PARAM_BY_KEY.get(String(p.key).toLowerCase()) ?? String(p.key)
    const value = (v: bigint) => (isParam(name) ? fromChainValue(name, v) : Number(v))
    if (kind === 0) return { kind: "param", name, value: value(p.a as bigint) }
    if (kind === 1) return { kind: "amendment", name, min: value(p.a as bigint), max: value(p.b as bigint) }
    if (kind === 2) return { kind: "spend", to: book.accountOf(String(p.to)), amount: p.a as bigint }
    // Guardian (3) and role (4) proposals exist only on chain: the port's ProposalAction has no shape for them yet.
    throw new Error(`proposal kind ${kind} (${kind === 3 ? "the token's guardian" : kind === 4 ? "an AccessControl role" : "unknown"}) has no ProposalAction in the Chain port`)
  }
  const isParam = (name: string): name is ParamName => name in REGISTRY
  const readProposal = async (id: number): Promise<ProposalView | undefined> => {
    if (governance === undefined) throw new Error("the deployment has no Governance contract")
    const block = await latest()
    const state = STATES[Number((await governance.state(id, { blockTag: block })) as bigint)] ?? "None"
    if (state === "None") return undefined
    const p: Any = await governance.proposal(id, { blockTag: block })
    const votingEnds = msOf(p.votingEnds as bigint)
    return {
      id, proposer: book.accountOf(String(p.proposer)), action: actionOf(p), state, votingEnds, executableAt: votingEnds + Number(p.delay as bigint) * 1000,
      forVotes: p.forVotes as bigint, againstVotes: p.againstVotes as bigint, abstainVotes: p.abstainVotes as bigint, stakeVoted: p.stakeVoted as bigint,
      quorum: p.quorum as bigint, threshold: p.threshold as bigint, bondedAtStart: p.bondedAtStart as bigint,
    }
  }

  const zeroPending: PendingRewards = { rewards: 0n, commission: 0n, insurance: 0n, total: 0n }
  const committeeMissing = (operation: string) => new ChainUnavailable({ operation, reason: "the deployment has no Committee contract (deploy again with `dai chain deploy`)" })
  const committeeAt = deployment.contracts.Committee
  const committeePort: CommitteePort | undefined = committeeAt === undefined ? undefined : makeCommitteePort({
    address: committeeAt, provider, token, staking, book, where, base, timeoutMs, signerFor, latest, serialized,
    sawBlock: (n) => void (seenBlock = Math.max(seenBlock, n)), slashReceipt,
  })

  const marketAt = deployment.contracts.ComputeMarket
  const marketPort: MarketPort | undefined = marketAt === undefined ? undefined : makeMarketPort({
    address: marketAt, provider, token, book, where, timeoutMs, signerFor, latest, serialized,
    anyone: options.reporter ?? options.executor ?? "admin", sawBlock: (n) => void (seenBlock = Math.max(seenBlock, n)),
  })

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
    propose: (proposer, action) => governing("propose", () => proposeOn(proposer, action)) as Effect.Effect<number, GovernanceError | ChainUnavailable>,
    castVote: (id, voter, support) =>
      governing("castVote", async () => eventArgs(await mined(await governanceAs(voter, "castVote").castVote(id, SUPPORT_CODE[support] ?? 255)), "VoteCast").votes as bigint) as Effect.Effect<bigint, GovernanceError | ChainUnavailable>,
    executeProposal: (id) =>
      governing("executeProposal", async () => {
        const g = governanceAs(options.executor ?? options.reporter ?? "admin", "executeProposal")
        const before: Any = await governance.proposal(id, { blockTag: await latest() })
        await mined(await g.execute(id))
        return actionOf(before)
      }),
    proposal: (id) => query("proposal", () => readProposal(id)),
    // The committee (snapshots, fee deposits, epoch reports) is contracts/Committee.sol (committee.ts).
    ...(committeePort ?? {
      snapshot: () => Effect.fail(committeeMissing("snapshot")),
      latestSnapshot: Effect.fail(committeeMissing("latestSnapshot")),
      committee: () => Effect.fail(committeeMissing("committee")),
      reportDigest: () => Effect.fail(committeeMissing("reportDigest")),
      depositFees: () => Effect.fail(committeeMissing("depositFees")),
      feeDeposit: () => Effect.fail(committeeMissing("feeDeposit")),
      submitEpochReport: () => Effect.fail(committeeMissing("submitEpochReport")),
      epochReport: () => Effect.fail(committeeMissing("epochReport")),
      reportConflict: () => Effect.fail(committeeMissing("reportConflict")),
    }),
    // The compute market is contracts/ComputeMarket.sol (market.ts); a deployment without it answers ChainUnavailable.
    ...(marketPort ?? marketMissing),
    now: query("now", async () => (await reader.blockTime(await latest())) * 1000),
    close: async () => {
      if (owned) provider.destroy()
    },
  }
}

/** The EVM Chain as a layer (the provider it creates from `rpcUrl` is stopped with the layer). */
export const layerEvmChain = (options: EvmChainOptions): Layer.Layer<Chain> =>
  Layer.effect(Chain)(Effect.acquireRelease(Effect.sync(() => makeEvmChain(options)), (c) => Effect.promise(() => c.close())))

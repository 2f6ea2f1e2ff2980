/**
 * The NodeApi of a running validator: reads come from its application state (the validator set of
 * the committee snapshot in force), the ledger (stake, supply: the Chain port), its store
 * (committed blocks), its network (peers) and its telemetry; stake and unbond go to the ledger for
 * the node's account (stake never travels in a block: issue 12, one ledger); governance goes to
 * the Chain port; evidence is verified here and handed to consensus.
 *
 * Nothing here changes state except through those doors: a refused request leaves the ledger, the
 * pool and the node's nonce as they were.
 */
import { Cause, Effect, Exit, Result } from "effect"
import type { App } from "../core/app/app.ts"
import { blockHash } from "../core/consensus/block.ts"
import { decodeMessage } from "../core/consensus/codec.ts"
import { waitingFor, waitingLine } from "../core/consensus/waiting.ts"
import { blockKey } from "../core/consensus/store-keys.ts"
import { duplicateVoteEvidence, verifyEvidence } from "../core/consensus/evidence.ts"
import type { DuplicateVoteEvidence, Json } from "../core/consensus/types.ts"
import type { EconOp } from "../core/econ/index.ts"
import { parseDuration } from "../core/duration.ts"
import { isParamName, REGISTRY } from "../core/params.ts"
import type { ConsensusNode } from "../actors/consensus/consensus-node.ts"
import type { Chain } from "../services/chain.ts"
import type { Keys } from "../services/keys.ts"
import type { Network } from "../services/network.ts"
import type { Store } from "../services/store.ts"
import type { GovernancePort } from "./governance-port.ts"
import type { MembershipPort } from "./membership-port.ts"
import { makeMarketApi, type MarketApiOptions } from "./market-api.ts"
import { ApiRefusal, type MetricSample, type NodeApi } from "./node-api.ts"
import type { BlockDetail, BlockView, PositionView, Status, TxReceipt } from "./schemas.ts"
import { supportOf } from "./schemas.ts"
import type { TelemetryHub } from "./telemetry-hub.ts"
import { makeRoundTracker } from "./training-rounds.ts"

/** Consensus may take submitted evidence (returns why not, or undefined); older nodes cannot. */
export interface EvidenceSink {
  submitEvidence(evidence: DuplicateVoteEvidence): string | undefined
}

export interface AppNodeApiOptions {
  /** Name in telemetry ("v0"). */
  readonly name: string
  readonly app: App
  readonly consensus: ConsensusNode & Partial<EvidenceSink>
  readonly keys: Keys["Service"]
  readonly store: Store["Service"]
  readonly network: Network["Service"]
  readonly hub: TelemetryHub
  /** The one ledger (the Chain port) stake goes to and stake reads come from. */
  readonly ledger: Chain["Service"]
  /** Proposals and votes (absent: the node has no chain to govern through, and says so with a 503). */
  readonly governance?: GovernancePort
  /** Registering and bonding on the chain (default: the governance port's, when it has them). */
  readonly membership?: MembershipPort
  /** The time a market job's deadline counts from (default: the last block's time). */
  readonly now?: () => number
  /** The node market's requester (runtime/node/market.ts): jobs posted through the API go to its `submit` and are routed. Absent: posted on the ledger only. */
  readonly marketRequester?: MarketApiOptions["requester"]
}

const amountsAsStrings = (value: unknown): Json => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Json

/** Tokens (not base units) as a float, for Prometheus (a float64 cannot hold base units exactly). */
const asTokens = (amount: bigint): number => Number(amount / 10n ** 9n) / 1e9

/** The API over a running node's parts. */
/**
 * A parameter proposal's value as the chain takes it: a number, in the registry's units. Durations may
 * be given as "30s", numbers as numeric strings. Bounds are the chain's Constitution's to check (a
 * devnet's floors differ from the registry's); only the name and the form are checked here.
 */
const chainValue = (name: string, value: unknown): number => {
  const field = "action.value"
  if (!isParamName(name)) throw new ApiRefusal({ status: 422, reason: `${name}: no such parameter (dai params lists them)`, field: "action.name" })
  const def = REGISTRY[name]
  switch (def.kind) {
    case "duration": {
      const v = typeof value === "number" ? value : typeof value === "string" ? parseDuration(value) : undefined
      if (v === undefined || !Number.isSafeInteger(v) || v < 0) throw new ApiRefusal({ status: 400, reason: `${name}: ${JSON.stringify(value)} is not a duration (250ms, 30s, 10m, 1h, 2d, or ms)`, field })
      return v
    }
    case "fraction": case "number": case "integer": case "tokens": {
      const v = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN
      if (!Number.isFinite(v)) throw new ApiRefusal({ status: 400, reason: `${name}: ${JSON.stringify(value)} is not a number`, field })
      return v
    }
    default:
      throw new ApiRefusal({ status: 422, reason: `${name} is a ${def.kind} parameter: the chain governs numeric parameters only (it is fixed in the genesis)`, field: "action.name" })
  }
}

export const makeAppNodeApi = (o: AppNodeApiOptions): NodeApi => {
  const { app, consensus, keys, store, network, hub, ledger } = o
  const address = consensus.address
  const account = app.accountOf(address)
  const rounds = makeRoundTracker()
  const market = makeMarketApi({
    name: o.name, account, ledger, network, hub, now: o.now ?? (() => app.lastTime),
    ...(o.marketRequester === undefined ? {} : { requester: o.marketRequester }),
  })
  hub.subscribe(rounds.observe)
  /** What the node trains on, from its `training.started` report (replayed: training starts first). */
  let training: Status["training"] = null
  hub.subscribe((e) => {
    if (e.kind !== "training.started") return
    const d = e.data
    training = { backend: String(d.backend), dataset: String(d.dataset), model: String(d.model), shard: Number(d.shard), shards: Number(d.shards), samples: Number(d.samples) }
  }, { replay: true })
  /** Next nonce of this node's own transactions. */
  const nextNonce = () => app.nextNonce(address)
  /** A ledger read; an unreachable ledger is a 503. */
  const read = async <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
    const exit = await Effect.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    throw new ApiRefusal({ status: 503, reason: `the ledger did not answer: ${Cause.pretty(exit.cause).split("\n")[0]}` })
  }

  const readCert = async (height: number) => {
    const bytes = await Effect.runPromise(Effect.orElseSucceed(store.get(blockKey(height)), () => undefined))
    if (bytes === undefined) return undefined
    const m = decodeMessage(bytes)
    return Result.isSuccess(m) && m.success.kind === "commit" ? m.success : undefined
  }
  const blockView = (cert: NonNullable<Awaited<ReturnType<typeof readCert>>>): BlockView => ({
    height: cert.block.height, round: cert.block.round, hash: blockHash(cert.block), parentHash: cert.block.parentHash,
    proposer: cert.block.proposer, time: cert.block.time, appHash: cert.block.appHash, txCount: cert.block.txs.length,
    txTypes: cert.block.txs.map((t) => t.type), precommits: cert.precommits.length,
  })

  /** Apply `op` for this node's account on the ledger; a rule's refusal is a 422 and changes nothing. */
  const submit = async (op: EconOp): Promise<TxReceipt> => {
    const exit = await Effect.runPromiseExit(ledger.submit(op))
    if (Exit.isFailure(exit)) {
      const e = Cause.squash(exit.cause) as { readonly _tag?: string; readonly message?: string }
      if (e._tag === "ChainUnavailable") throw new ApiRefusal({ status: 503, reason: `the ledger did not answer: ${e.message}` })
      throw new ApiRefusal({ status: 422, reason: `${e._tag ?? "Error"}: ${e.message ?? String(e)}` })
    }
    return { type: "stake", op: amountsAsStrings(op), account, status: "applied", receipt: amountsAsStrings(exit.value) }
  }

  const governance = (): GovernancePort => {
    if (o.governance === undefined) throw new ApiRefusal({ status: 503, reason: "this node has no chain connection for governance" })
    return o.governance
  }

  const membership = (): MembershipPort => {
    const m = o.membership ?? o.governance
    if (m?.registerValidator === undefined || m.bondTrainer === undefined) throw new ApiRefusal({ status: 503, reason: "this node has no chain connection to register or bond on" })
    return m as MembershipPort
  }

  const supply = async () => {
    const s = await read(ledger.supply)
    return {
      minted: s.minted.toString(), balances: s.balances.toString(), bonded: s.bonded.toString(), unbonding: s.unbonding.toString(),
      rewardPool: s.rewardPool.toString(), insurancePool: s.insurancePool.toString(), burnt: s.burnt.toString(),
    }
  }
  const consensusState = () => {
    const c = consensus.actor.getSnapshot().context
    return { round: c.round, step: c.step }
  }
  /** Voting power heard in the current step against what a quorum needs, and validators not heard from. */
  const consensusPowerMetrics = (): MetricSample[] => {
    const c = consensus.actor.getSnapshot().context
    const w = waitingFor({ height: c.height, round: c.round, step: c.step, heightState: c.heightState })
    if (w === undefined) return []
    return [
      { name: "dai_consensus_power_heard", help: "Voting power of the current step's votes heard in this round.", type: "gauge", value: w.seen },
      { name: "dai_consensus_power_quorum", help: "Voting power a quorum needs (more than 2/3 of the total).", type: "gauge", value: w.quorum },
      { name: "dai_consensus_validators_silent", help: "Validators of the set not heard from in this round.", type: "gauge", value: w.silent.length },
    ]
  }
  /** What consensus waits for now (why a halted chain halts), from the machine's view of the height. */
  const waiting = () => {
    const c = consensus.actor.getSnapshot().context
    const w = waitingFor({ height: c.height, round: c.round, step: c.step, heightState: c.heightState })
    if (w === undefined) return null
    return {
      needs: w.needs, proposer: w.proposer, proposal: w.proposal, seen: w.seen.toString(), quorum: w.quorum.toString(), total: w.total.toString(),
      silent: [...w.silent], expectedPeers: Math.max(0, c.heightState!.validators.validators.length - 1), line: waitingLine(w),
    }
  }

  return {
    status: async () => ({
      node: o.name, chainId: app.chainId, address, account, height: app.height, ...consensusState(), appHash: app.appHash,
      lastBlockHash: app.lastBlockHash, lastBlockTime: app.lastTime, epoch: app.epochOf(app.height + 1),
      snapshot: app.snapshotAt().id, params: { ...app.params() }, nextNonce: nextNonce(),
      pendingTxs: consensus.pending, peers: (await Effect.runPromise(network.peers)).length,
      validators: app.validatorSet().validators.length, supply: await supply(), market: market.summary(), training, waiting: waiting(),
    }),
    peers: async () => (await Effect.runPromise(network.peers)).map((id) => ({ id })),
    validators: async () => {
      const set = app.validatorSet()
      return (await read(ledger.pools)).filter((p) => p.kind === "validator").map((p) => {
        const a = app.addressOf(p.operator)
        const active = a !== undefined && set.has(a)
        return {
          operator: p.operator, address: a ?? null, active, power: (active ? set.power(a) : 0n).toString(), tokens: p.tokens.toString(),
          commission: p.commission.toString(), jailed: p.jailed, tombstoned: p.tombstoned,
        }
      })
    },
    blocks: async (from, limit) => {
      const out: BlockView[] = []
      for (let h = from; h <= app.height && out.length < limit; h++) {
        const cert = await readCert(h)
        if (cert !== undefined) out.push(blockView(cert))
      }
      return out
    },
    block: async (height): Promise<BlockDetail | undefined> => {
      const cert = height <= app.height ? await readCert(height) : undefined
      return cert === undefined ? undefined : { ...blockView(cert), txs: cert.block.txs as unknown as Json[] }
    },
    rounds: () => rounds.rounds(),
    proposals: () => o.governance === undefined ? [] : o.governance.proposals(),
    positions: async (owner) => (await read(ledger.positions(owner))).map((p): PositionView => ({
      id: p.id, owner: p.owner, pool: p.pool, tier: p.tier, tokens: p.tokens.toString(), shares: p.shares.toString(),
      multiplier: p.multiplier.toString(), createdAt: p.createdAt, unlockAt: p.unlockAt,
    })),
    stake: (req) => {
      const amount = BigInt(req.amount)
      const tier = req.tier ?? 0
      return submit(req.validator === undefined
        ? { type: "bondContributor", owner: account, amount, tier }
        : { type: "delegate", owner: account, validator: req.validator, amount, tier })
    },
    unbond: (req) => submit({ type: "unbond", owner: account, position: req.position, amount: BigInt(req.amount) }),
    propose: async (req) => {
      const a = req.action
      const action = a.kind === "spend" ? { ...a, amount: BigInt(a.amount) } : a.kind === "param" ? { ...a, value: chainValue(a.name, a.value) } : a
      return { id: await governance().propose(account, action) }
    },
    vote: async (req) => ({ proposal: req.proposal, votes: (await governance().castVote(req.proposal, account, supportOf(req.support))).toString() }),
    execute: (id) => governance().execute(id),
    params: async () => ({ network: { ...app.params() }, chain: o.governance === undefined ? null : { ...(await o.governance.params()) } }),
    registerValidator: (req) =>
      membership().registerValidator(account, address, { amount: BigInt(req.amount), tier: req.tier ?? 0, commission: BigInt(req.commission ?? "0") }),
    bondTrainer: (req) => membership().bondTrainer(account, { amount: BigInt(req.amount), tier: req.tier ?? 0 }),
    submitEvidence: (req) => {
      const evidence = duplicateVoteEvidence(req.voteA, req.voteB)
      const { validator, height, round } = evidence.voteA
      if (height < 1 || height > app.height + 1) throw new ApiRefusal({ status: 422, reason: `evidence height ${height} is not a known height (executed up to ${app.height})`, field: "voteA.height" })
      const check = verifyEvidence(evidence, app.chainId, app.validatorSet(height), keys.verify)
      if (!check.valid) throw new ApiRefusal({ status: 422, reason: `invalid evidence: ${check.reason}` })
      if (consensus.submitEvidence === undefined) throw new ApiRefusal({ status: 503, reason: "this node's consensus takes no submitted evidence" })
      const refused = consensus.submitEvidence(evidence)
      if (refused !== undefined) throw new ApiRefusal({ status: 422, reason: refused })
      return { validator, height, round, status: "pending" as const }
    },
    market: market.market,
    marketProviders: market.marketProviders,
    marketJobs: market.marketJobs,
    marketJob: market.marketJob,
    registerProvider: market.registerProvider,
    advertiseProvider: market.advertiseProvider,
    postJob: market.postJob,
    confirmJob: market.confirmJob,
    disputeJob: market.disputeJob,
    refundJob: market.refundJob,
    subscribe: (listener, options) => hub.subscribe(listener, options),
    metrics: async (): Promise<MetricSample[]> => [
      { name: "dai_height", help: "Height of the last executed block.", type: "gauge", value: app.height },
      { name: "dai_round", help: "Consensus round of the height being decided.", type: "gauge", value: consensusState().round },
      ...consensusPowerMetrics(),
      { name: "dai_peers", help: "Peers this node can reach.", type: "gauge", value: (await Effect.runPromise(network.peers)).length },
      { name: "dai_validators", help: "Validators in the next height's set.", type: "gauge", value: app.validatorSet().validators.length },
      { name: "dai_bonded_tokens", help: "Tokens bonded on the ledger (whole tokens).", type: "gauge", value: asTokens((await read(ledger.supply)).bonded) },
      { name: "dai_burnt_tokens", help: "Tokens burnt so far (whole tokens).", type: "gauge", value: asTokens((await read(ledger.supply)).burnt) },
      { name: "dai_pending_txs", help: "Transactions in this node's pool.", type: "gauge", value: consensus.pending },
      { name: "dai_blocks_committed_total", help: "Blocks committed and executed by this node.", type: "counter", value: app.height },
      { name: "dai_training_rounds_total", help: "Training rounds this node has seen since it started.", type: "counter", value: rounds.total },
      { name: "dai_slashes_total", help: "Slashes this node has executed since it started.", type: "counter", value: hub.counts.get("stake.slashed") ?? 0 },
      ...(await market.metrics()),
    ],
  }
}


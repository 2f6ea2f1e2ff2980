/**
 * The route table: every endpoint once, with its method, whether it needs the bearer token, how its
 * query and body decode, what it answers and the handler. The server dispatches from it and the
 * OpenAPI document is generated from it, so the two cannot drift apart.
 *
 * Reads (GET) are open: the server binds loopback by default and they change nothing; a node that
 * listens beyond loopback can require the token for them too (`protectReads`). Every POST and the
 * telemetry WebSocket need the token.
 */
import { Schema } from "effect"
import type { JobState } from "../core/market/index.ts"
import { GENERATE_STREAM, GenerateRequest, GenerateStarted } from "./generate.ts"
import { JOB_STATES } from "./market-api.ts"
import { ApiRefusal, type NodeApi } from "./node-api.ts"
import {
  BlockDetail, BlockView, BondResult, MarketJobView, MarketOpResult, MarketProviderView, MarketTotals, PostJobRequest, RegisterProviderRequest, BondTrainerRequest, EvidenceRequest, EvidenceResult, ExecuteResult, ParamsView, Peer, PositionView, ProposalView,
  ProposeRequest, ProposeResult, RegisterRequest, RegisterResult, RoundView, StakeRequest, Status, TxReceipt, UnbondRequest, ValidatorView, VoteRequest, VoteResult,
} from "./schemas.ts"

/** A query parameter: decoded from its string form; the error names it. */
export interface QueryParam {
  readonly description: string
  readonly type: "integer" | "string"
  readonly min?: number
  readonly max?: number
}

export interface RouteContext {
  readonly api: NodeApi
  /** Decoded query and path parameters. */
  readonly args: Readonly<Record<string, string | number>>
  readonly body: unknown
}

export interface Route {
  readonly method: "GET" | "POST"
  /** OpenAPI path, `{name}` for a path parameter. */
  readonly path: string
  readonly summary: string
  /** True when the bearer token is required (always for POST). */
  readonly auth: boolean
  readonly query?: Readonly<Record<string, QueryParam>>
  readonly pathParams?: Readonly<Record<string, QueryParam>>
  readonly body?: Schema.Top & { readonly DecodingServices: never }
  /** JSON response schema; "text" for a text body, "upgrade" for the WebSocket. */
  readonly response: Schema.Top | "text" | "upgrade" | "openapi"
  /** Status of a success (202 for what is accepted and takes effect in a later block). */
  readonly status: 200 | 202 | 101
  /** Refusals of this route beyond the common ones (status → when), for the OpenAPI document. */
  readonly refusals?: Readonly<Record<string, string>>
  readonly handle?: (ctx: RouteContext) => unknown
}

/** The default and largest page of blocks. */
export const BLOCK_PAGE = 20
export const MAX_BLOCK_PAGE = 100

export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/status", summary: "Height, round, app hash, pool, peers and supply of this node", auth: false, response: Status, status: 200, handle: ({ api }) => api.status() },
  { method: "GET", path: "/peers", summary: "Peers this node can reach", auth: false, response: Schema.Array(Peer), status: 200, handle: ({ api }) => api.peers() },
  { method: "GET", path: "/validators", summary: "Validator pools, with their power in the next height's set", auth: false, response: Schema.Array(ValidatorView), status: 200, handle: ({ api }) => api.validators() },
  {
    method: "GET", path: "/blocks", summary: "Committed blocks, oldest first", auth: false, response: Schema.Array(BlockView), status: 200,
    query: {
      from: { type: "integer", min: 1, description: "first height (default: the last `limit` blocks)" },
      limit: { type: "integer", min: 1, max: MAX_BLOCK_PAGE, description: `most blocks returned (default ${BLOCK_PAGE})` },
    },
    handle: async ({ api, args }) => {
      const limit = (args["limit"] as number | undefined) ?? BLOCK_PAGE
      const from = (args["from"] as number | undefined) ?? Math.max(1, (await api.status()).height - limit + 1)
      return api.blocks(from, limit)
    },
  },
  {
    method: "GET", path: "/blocks/{height}", summary: "One committed block with its transactions", auth: false, response: BlockDetail, status: 200,
    pathParams: { height: { type: "integer", min: 1, description: "block height" } },
    handle: ({ api, args }) => api.block(args["height"] as number),
  },
  { method: "GET", path: "/rounds", summary: "Training rounds seen by this node", auth: false, response: Schema.Array(RoundView), status: 200, handle: ({ api }) => api.rounds() },
  { method: "GET", path: "/proposals", summary: "Governance proposals on the chain", auth: false, response: Schema.Array(ProposalView), status: 200, handle: ({ api }) => api.proposals() },
  { method: "GET", path: "/params", summary: "The parameters the network runs with, and those in force on the chain (changed by executed proposals)", auth: false, response: ParamsView, status: 200, handle: ({ api }) => api.params() },
  {
    method: "GET", path: "/positions", summary: "Stake positions, of one owner or all", auth: false, response: Schema.Array(PositionView), status: 200,
    query: { owner: { type: "string", description: "account id of the owner" } },
    handle: ({ api, args }) => api.positions(args["owner"] as string | undefined),
  },
  { method: "GET", path: "/openapi.json", summary: "This document", auth: false, response: "openapi", status: 200 },
  { method: "GET", path: "/metrics", summary: "Prometheus metrics (text format 0.0.4)", auth: false, response: "text", status: 200 },
  {
    method: "GET", path: "/ws",
    summary: "WebSocket stream of telemetry events (one JSON object per message); token in the Authorization header, or (browsers) as the subprotocol dai.token.<token> next to dai.telemetry; a browser's Origin must be an allowed host",
    auth: true,
    query: { kinds: { type: "string", description: "comma-separated kind prefixes to receive (default: all)" } },
    response: "upgrade", status: 101,
  },
  { method: "POST", path: "/stake", summary: "Bond tokens of this node's account on the ledger: delegate to `validator`, or in its own contributor pool", auth: true, body: StakeRequest, response: TxReceipt, status: 202, handle: ({ api, body }) => api.stake(body as StakeRequest) },
  { method: "POST", path: "/unbond", summary: "Unbond tokens from one of this node's account's positions on the ledger", auth: true, body: UnbondRequest, response: TxReceipt, status: 202, handle: ({ api, body }) => api.unbond(body as UnbondRequest) },
  { method: "POST", path: "/proposals", summary: "Open a governance proposal as this node's account", auth: true, body: ProposeRequest, response: ProposeResult, status: 200, handle: ({ api, body }) => api.propose(body as ProposeRequest) },
  { method: "POST", path: "/votes", summary: "Vote on a proposal as this node's account", auth: true, body: VoteRequest, response: VoteResult, status: 200, handle: ({ api, body }) => api.vote(body as VoteRequest) },
  {
    method: "POST", path: "/proposals/{id}/execute", summary: "Execute a passed proposal whose timelock is over (anyone may; this node's account sends it)", auth: true,
    response: ExecuteResult, status: 200,
    pathParams: { id: { type: "integer", min: 1, description: "proposal id" } },
    refusals: {
      "404": "no proposal of that id on the chain",
      "409": "the proposal cannot be executed now: voting still open, defeated, timelock not over, or executed already (the error says which, and when)",
      "503": "the node has no chain, or the chain did not answer",
    },
    handle: ({ api, args }) => api.execute(args["id"] as number),
  },
  {
    method: "POST", path: "/validators", summary: "Register this node's account as a validator on the chain (self-bond, tier, commission), signing with this node's consensus key; it joins the set at the next epoch",
    auth: true, body: RegisterRequest, response: RegisterResult, status: 200,
    refusals: { "409": "this node's account is registered already" },
    handle: ({ api, body }) => api.registerValidator(body as RegisterRequest),
  },
  {
    method: "POST", path: "/trainers", summary: "Bond this node's account as a trainer on the chain (a contributor bond), so cohorts may draw it without it being a validator",
    auth: true, body: BondTrainerRequest, response: BondResult, status: 200,
    handle: ({ api, body }) => api.bondTrainer(body as BondTrainerRequest),
  },
  { method: "GET", path: "/market", summary: "The compute market: providers, jobs by state, escrow and bonds held, paid and fees (burnt, to stakers) since genesis", auth: false, response: MarketTotals, status: 200, handle: ({ api }) => api.market() },
  { method: "GET", path: "/market/providers", summary: "Market providers with their kinds, price, capacity, queue (open jobs), bond and earnings", auth: false, response: Schema.Array(MarketProviderView), status: 200, handle: ({ api }) => api.marketProviders() },
  {
    method: "GET", path: "/market/jobs", summary: "Market jobs, by id, of one state, requester or provider (all given must match)", auth: false, response: Schema.Array(MarketJobView), status: 200,
    query: {
      state: { type: "string", description: `job state: ${JOB_STATES.join(", ")}` },
      requester: { type: "string", description: "account that posted the job" },
      provider: { type: "string", description: "account assigned to the job (the last one on a final job)" },
    },
    handle: ({ api, args }) => {
      const state = args["state"] as string | undefined
      if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) {
        throw new ApiRefusal({ status: 400, reason: `state: expected one of ${JOB_STATES.join(", ")}, got ${JSON.stringify(state.slice(0, 40))}`, field: "state" })
      }
      return api.marketJobs({
        ...(state === undefined ? {} : { state: state as JobState }),
        ...(args["requester"] === undefined ? {} : { requester: args["requester"] as string }),
        ...(args["provider"] === undefined ? {} : { provider: args["provider"] as string }),
      })
    },
  },
  {
    method: "GET", path: "/market/jobs/{id}", summary: "One market job with its debit notes", auth: false, response: MarketJobView, status: 200,
    pathParams: { id: { type: "integer", min: 1, description: "job id" } },
    handle: ({ api, args }) => api.marketJob(args["id"] as number),
  },
  {
    method: "POST", path: "/market/providers", summary: "Register this node's account as a compute provider on the ledger (bond, job kinds, price per unit, capacity) and announce it on the network under market/<kind>",
    auth: true, body: RegisterProviderRequest, response: MarketOpResult, status: 200,
    refusals: { "409": "this node's account is a registered provider already (once per account): POST /market/providers/advertise announces it again" },
    handle: ({ api, body }) => api.registerProvider(body as RegisterProviderRequest),
  },
  {
    method: "POST", path: "/market/providers/advertise", summary: "Announce this node's provider record (price, capacity, queue) again under market/<kind>, e.g. after a restart",
    auth: true, response: MarketOpResult, status: 200,
    refusals: { "404": "this node's account is not a registered provider", "422": "the provider has retired", "503": "the ledger or the network cannot do it now" },
    handle: ({ api }) => api.advertiseProvider(),
  },
  {
    method: "POST", path: "/market/jobs", summary: "Post a compute job as this node's account: units × maxPricePerUnit go into escrow until the work is paid or refunded",
    auth: true, body: PostJobRequest, response: MarketOpResult, status: 200,
    handle: ({ api, body }) => api.postJob(body as PostJobRequest),
  },
  ...(["confirm", "dispute", "refund"] as const).map((action): Route => ({
    method: "POST", path: `/market/jobs/{id}/${action}`,
    summary: action === "confirm" ? "Confirm a job's delivered work as its requester (this node's account): its pending debit notes are paid"
      : action === "dispute" ? "Dispute a job's pending debit notes as its requester (this node's account), within the dispute window: they wait for a referee's verdict"
      : "Refund a job after its deadline (anyone may): pending notes past their window are paid and the rest of the escrow returns to the requester",
    auth: true, response: MarketOpResult, status: 200,
    pathParams: { id: { type: "integer", min: 1, description: "job id" } },
    refusals: { "404": "no job of that id", "422": "a rule of the market refused it (the error names it: not the requester, nothing to pay, window closed, before the deadline…)", "503": "the ledger cannot do it now" },
    handle: ({ api, args }) => {
      const id = args["id"] as number
      return action === "confirm" ? api.confirmJob(id) : action === "dispute" ? api.disputeJob(id) : api.refundJob(id)
    },
  })),
  {
    method: "POST", path: "/generate",
    summary: `Generate text with the network's language model through a pipeline of stage servers, paid per token from this node's account (a market job per stage); answers at once with the generation's id, and its tokens, route, cost per token and what it paid stream as lm.generate.* events on the WebSocket ${GENERATE_STREAM} (connect it first)`,
    auth: true, body: GenerateRequest, response: GenerateStarted, status: 202,
    refusals: { "503": "this node runs no language-model client" },
    handle: ({ api, body }) => {
      if (api.generate === undefined) throw new ApiRefusal({ status: 503, reason: "this node runs no language-model client" })
      return api.generate(body as GenerateRequest)
    },
  },
  { method: "POST", path: "/evidence", summary: "Submit double-sign evidence (two conflicting signed votes)", auth: true, body: EvidenceRequest, response: EvidenceResult, status: 202, handle: ({ api, body }) => api.submitEvidence(body as EvidenceRequest) },
]

/** The routes of `path` (all methods) and the values of its path parameters, or undefined. */
export const matchPath = (path: string): { readonly routes: readonly Route[]; readonly params: Record<string, string> } | undefined => {
  const segments = path.split("/")
  const matches: Route[] = []
  let params: Record<string, string> = {}
  for (const route of ROUTES) {
    const pattern = route.path.split("/")
    if (pattern.length !== segments.length) continue
    const found: Record<string, string> = {}
    if (pattern.every((p, i) => (p.startsWith("{") ? ((found[p.slice(1, -1)] = segments[i]!), segments[i] !== "") : p === segments[i]))) {
      matches.push(route)
      params = found
    }
  }
  return matches.length === 0 ? undefined : { routes: matches, params }
}

/** Decode one query or path parameter; a string error names the problem. */
export const decodeParam = (name: string, spec: QueryParam, raw: string): string | number | { readonly error: string } => {
  if (spec.type === "string") return raw.length > 0 && raw.length <= 200 ? raw : { error: `${name}: expected 1 to 200 characters` }
  if (!/^[0-9]{1,15}$/.test(raw)) return { error: `${name}: expected a whole number, got ${JSON.stringify(raw.slice(0, 40))}` }
  const n = Number(raw)
  if (spec.min !== undefined && n < spec.min) return { error: `${name}: expected at least ${spec.min}, got ${n}` }
  if (spec.max !== undefined && n > spec.max) return { error: `${name}: expected at most ${spec.max}, got ${n}` }
  return n
}

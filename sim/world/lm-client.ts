/**
 * A simulated pipeline client (a market requester): every `interval` it generates `tokens` tokens
 * through the stage servers it finds, as runtime/actors/lm/client.ts does on libp2p, and pays per token
 * through the market's escrow on the one ledger.
 *
 * Route: `findProviders(lm/blocks/<from>-<to>)` for every block range, then `planRoute` (the real
 * client's: one server per range by `chooseProvider` over measured latency and load, then the cheapest
 * chain of ranges), leaving out servers a referee refuted for it. Each hop's session is paid by a
 * ledger job of that range (`infer:lm/<from>-<to>`, units = the tokens still to generate, escrowed at
 * the price cap) assigned to the server; the server bills every token step and delivers debit notes.
 *
 * Failover: the client keeps what it sent each stage. When a stage fails (no reply in `timeout`, an
 * error reply), it excludes that server, finds another of the same range, gives it a new job for the
 * tokens left, replays the session's inputs in order (costing their time; a replay is not billed) and
 * sends the failed step again. The abandoned job keeps what was delivered and is refunded the rest after
 * its deadline.
 *
 * Paying: every 250 ms it reads its jobs. A new debit note is checked with probability
 * `market.verificationRate` by a referee (an active validator running runtime/actors/market/referee.ts,
 * which re-executes that stage alone on the inputs the client sent it); checked or not drawn, the notes
 * are confirmed (paid). A refuted note is disputed and the referee gives the committee's verdict on the
 * ledger (the stage is slashed); a generation still running through that stage is begun again on a
 * route without it (its text so far came through wrong activations).
 */
import { Effect, Result } from "effect"
import { blockRanges, planRoute, type RangeCandidates } from "../../runtime/core/lm/pipeline.ts"
import { lmBlocksKey } from "../../runtime/core/lm/wire.ts"
import { chooseProvider, LatencyEstimator } from "../../runtime/core/market/routing.ts"
import { call, chance, randomInt, reasonOf, type MarketContext } from "../../runtime/actors/market/context.ts"
import { decodeMarketMessage, encodeMarketMessage, MARKET_TOPIC, MAX_MARKET_MESSAGE_BYTES } from "../../runtime/actors/market/wire.ts"
import type { LmSetup } from "../scenario/lm-setup.ts"
import { lmKind, tokenOf, tokensDigest } from "./lm-model.ts"
import { decodeLmSim, encodeLmSim, LM_SIM_TOPIC, MAX_LM_SIM_MESSAGE_BYTES, type LmSimMessage } from "./lm-wire.ts"

/** What every client records, read by the referees (inputs of billed steps per job) and the checkers. */
export interface LmBooks {
  /** Per lm job: its block range and the input of each billed step, in the order sent. */
  readonly jobs: Map<number, { readonly from: number; readonly to: number; readonly inputs: string[] }>
  readonly generations: GenerationRecord[]
}

/** One attempt at a generation. */
export interface GenerationRecord {
  readonly requester: string
  readonly id: string
  readonly started: number
  state: "running" | "done" | "failed" | "restarted"
  reason?: string
  firstTokenAt?: number
  finishedAt?: number
  tokens: number
  /** The prompt and the tokens generated (the text). */
  readonly prompt: readonly number[]
  readonly text: number[]
  /** Stages replaced mid-generation (with inputs to replay); a server replaced before its first input is not counted. */
  failovers: number
  /** Per hop: the sessions that served it, each from token `firstToken` on, paid by `job`. */
  readonly hops: Array<{ readonly from: number; readonly to: number; readonly segments: Array<{ readonly job: number; readonly firstToken: number; readonly peer: string; readonly session: string }> }>
}

export interface LmClientOptions {
  readonly setup: LmSetup
  readonly maxPricePerUnit: bigint
  /** A job's deadline after its posting (ms). */
  readonly deadline: number
  readonly interval: number
  readonly firstAt: number
  readonly stopPostingAt: number
  readonly confirms: () => boolean
  readonly books: LmBooks
  /** How long a referee has to answer (ms, default 5000). */
  readonly refereeTimeout?: number
  /** How often the client reads its jobs (ms, default 250: a generation lasts seconds, and a wrong stage is best caught while it runs). */
  readonly auditInterval?: number
  /** Most stage replacements in one generation before giving up (default 8). */
  readonly maxFailovers?: number
}

export interface LmClient {
  readonly started: () => number
  stop(): void
}

/** A job refused by a full server waits for room: every FULL_RETRY_MS, at most FULL_WAITS times. */
const FULL_RETRY_MS = 500
const FULL_WAITS = 20

interface Step { readonly start: number; readonly length: number; readonly input: string }

interface Hop {
  readonly from: number
  readonly to: number
  readonly index: number
  peer: string
  load: number
  session: string
  job: number
  seq: number
  /** Inputs this hop's sessions have taken, in order (what a replacement replays). */
  readonly inputs: Step[]
}

interface Gen {
  /** The generation's id (its attempts share it: the same prompt gives the same text on an honest route). */
  readonly base: string
  readonly attempt: number
  readonly record: GenerationRecord
  readonly hops: Hop[]
  readonly failed: Set<string>
  readonly prompt: number[]
  readonly tokens: number[]
  /** Servers replaced in this attempt, for any reason (capped by maxFailovers). */
  replacements: number
}

/** Start a client on `ctx`. */
export const startLmClient = (ctx: MarketContext, o: LmClientOptions): LmClient => {
  const self = ctx.name
  const { setup } = o
  const refereeTimeout = o.refereeTimeout ?? 5_000
  const maxFailovers = o.maxFailovers ?? 8
  const latency = new LatencyEstimator()
  const random = { int: (n: number) => randomInt(ctx, n) }
  const banned = new Set<string>()
  const replies = new Map<string, (m: LmSimMessage) => void>()
  const owner = new Map<number, Gen>()
  const watched = new Set<number>()
  const seen = new Set<string>()
  const needCheck = new Set<number>()
  const checking = new Map<number, { readonly nonce: number; readonly referee: string }>()
  const unsubscribes: Array<Effect.Effect<void>> = []
  let stopped = false
  let count = 0
  let nonce = 0
  let sessions = 0

  const later = (ms: number, fn: () => void) => ctx.clock.setTimeout(() => void (stopped || fn()), ms)
  const live = (g: Gen) => !stopped && g.record.state === "running"

  /** Send `m` to `peer` and hear its reply under `key`; a timeout or an error reply is a failure. */
  const request = (peer: string, key: string, m: LmSimMessage, ok: (r: LmSimMessage) => void, fail: (reason: string) => void) => {
    const timer = ctx.clock.setTimeout(() => {
      replies.delete(key)
      // No reply in time says its latency is at least the timeout: the router learns it (else an unmeasured server looks average and is picked again).
      latency.observe(peer, setup.timeout, 1)
      if (!stopped) fail(`no reply within ${setup.timeout} ms`)
    }, setup.timeout)
    replies.set(key, (r) => {
      ctx.clock.clearTimeout(timer)
      replies.delete(key)
      if (r.t === "error") fail(r.message)
      else ok(r)
    })
    ctx.run(Effect.ignore(ctx.network.send(peer, LM_SIM_TOPIC, encodeLmSim(m))))
  }

  const closeAll = (g: Gen) => {
    for (const h of g.hops) if (h.session !== "") ctx.run(Effect.ignore(ctx.network.send(h.peer, LM_SIM_TOPIC, encodeLmSim({ t: "close", session: h.session }))))
  }
  const end = (g: Gen, state: "done" | "failed" | "restarted", reason?: string) => {
    if (g.record.state !== "running") return
    g.record.state = state
    if (reason !== undefined) g.record.reason = reason
    g.record.finishedAt = ctx.now()
    closeAll(g)
    ctx.emit(`lm.generation.${state}`, { generation: g.record.id, tokens: g.tokens.length, failovers: g.record.failovers, ms: ctx.now() - g.record.started, ...(reason === undefined ? {} : { reason }) })
  }

  // --- the ledger: a job per session, refunded after its deadline if not all delivered ---------------
  const refundLater = (job: number, deadline: number, tries = 0) => {
    later(Math.max(0, deadline - ctx.now()) + ctx.params()["market.disputeWindow"] + 1 + tries * 5_000, () => call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j === undefined || j.state === "settled" || j.state === "expired") return watched.delete(job)
      call(ctx, ctx.ledger.marketOp({ type: "refund", job }), (r) => ctx.emit("lm.job.refunded", { job, returned: String(r.returned) }),
        (e) => tries < 20 ? refundLater(job, deadline, tries + 1) : ctx.emit("lm.job.refund-refused", { job, reason: reasonOf(e) }))
    }))
  }

  /** Post a job for `hop`'s range (the tokens left) and assign it to `hop.peer`, then open a session there. */
  const place = (g: Gen, hop: Hop, then: () => void) => {
    const units = setup.tokens - g.tokens.length
    const deadline = ctx.now() + o.deadline
    call(ctx, ctx.ledger.marketOp({ type: "postJob", requester: self, kind: lmKind(hop.from, hop.to), units: BigInt(units), maxPricePerUnit: o.maxPricePerUnit, deadline }), (posted) => {
      const job = posted.job
      watched.add(job)
      owner.set(job, g)
      o.books.jobs.set(job, { from: hop.from, to: hop.to, inputs: [] })
      refundLater(job, deadline)
      const assign = (waits: number) => call(ctx, ctx.ledger.marketOp({ type: "assignJob", job, provider: hop.peer, by: self }), () => {
        hop.job = job
        hop.session = `${self}.${++sessions}`
        hop.seq = 0
        g.record.hops[hop.index]!.segments.push({ job, firstToken: g.tokens.length, peer: hop.peer, session: hop.session })
        request(hop.peer, `${hop.peer}/${hop.session}/open`, { t: "open", session: hop.session, from: hop.from, to: hop.to, job }, () => live(g) && then(),
          (reason) => live(g) && replace(g, hop, `open refused: ${reason}`, then))
      }, (e) => {
        if (!live(g)) return
        // Full on the ledger (its jobs wait for their notes to be paid): no fault; the same job waits for room at a server of the range.
        if ((e as { _tag?: string })._tag === "MarketProviderFull") return waitForRoom(1)
        replace(g, hop, `the ledger refused the assignment: ${reasonOf(e)}`, then)
      })
      const waitForRoom = (waits: number): void => {
        if (waits > FULL_WAITS) return end(g, "failed", `blocks ${hop.from}-${hop.to}: every server stayed full for ${FULL_WAITS * FULL_RETRY_MS} ms`)
        later(FULL_RETRY_MS, () => live(g) && choose(g, hop, () => assign(waits), () => waitForRoom(waits + 1)))
      }
      assign(0)
    }, (e) => end(g, "failed", `cannot post a job: ${reasonOf(e)}`))
  }

  /** A server of `hop`'s range (not failed in this generation, not refuted for this client), set on `hop`; `none` with why when there is none. */
  const choose = (g: Gen, hop: Hop, ok: () => void, none: (reason: string) => void) =>
    call(ctx, ctx.network.findProviders(lmBlocksKey(hop.from, hop.to)), (found) => {
      const exclude = new Set([...g.failed, ...banned])
      const choice = chooseProvider(found, { units: 1, maxPricePerUnit: o.maxPricePerUnit, exclude }, latency, random, { priceWeight: 0 })
      if (!choice.ok) return none(choice.reason)
      hop.peer = choice.provider.peer
      hop.load = choice.provider.record.queue / choice.provider.record.capacity
      ok()
    }, (e) => none(`findProviders failed: ${reasonOf(e)}`))

  /** Another server of `hop`'s range, a new job, the session's inputs replayed; then `then`. */
  const replace = (g: Gen, hop: Hop, reason: string, then: () => void) => {
    const failedPeer = hop.peer
    g.failed.add(failedPeer)
    // Best effort: a server that is alive but failed us (slow, silent) frees the session and bills what it computed.
    if (hop.session !== "") ctx.run(Effect.ignore(ctx.network.send(failedPeer, LM_SIM_TOPIC, encodeLmSim({ t: "close", session: hop.session }))))
    if (hop.inputs.length > 0) g.record.failovers++
    if (++g.replacements > maxFailovers) return end(g, "failed", `gave up after ${maxFailovers} failovers; last: blocks ${hop.from}-${hop.to} at ${failedPeer}: ${reason}`)
    const started = ctx.now()
    choose(g, hop, () => place(g, hop, () => replay(g, hop, 0, () => {
      ctx.emit("lm.failover", { generation: g.record.id, from: hop.from, to: hop.to, failed: failedPeer, replacement: hop.peer, reason, replayed: hop.inputs.length, ms: ctx.now() - started })
      then()
    })), (why) => end(g, "failed", `blocks ${hop.from}-${hop.to} failed at ${failedPeer} (${reason}) and no other server can take them: ${why}`))
  }

  const replay = (g: Gen, hop: Hop, k: number, then: () => void) => {
    if (k === hop.inputs.length) return then()
    forward(g, hop, hop.inputs[k]!, false, () => replay(g, hop, k + 1, then), (reason) => replace(g, hop, `replay: ${reason}`, then))
  }

  /** One request through `hop`; a billed step's input is recorded under the hop's job (what a referee re-executes). */
  const forward = (g: Gen, hop: Hop, x: Step, billed: boolean, ok: (output: string) => void, fail: (reason: string) => void) => {
    const seq = hop.seq++
    const started = ctx.now()
    if (billed) o.books.jobs.get(hop.job)!.inputs.push(x.input)
    request(hop.peer, `${hop.peer}/${hop.session}/${seq}`, { t: "forward", session: hop.session, seq, start: x.start, length: x.length, input: x.input, billed }, (r) => {
      if (!live(g)) return
      if (r.t !== "result") return fail(`answered ${r.t} to forward`)
      latency.observe(hop.peer, ctx.now() - started, 1, hop.load)
      ok(r.output)
    }, (reason) => live(g) && fail(reason))
  }

  /** `x` through hops i.. (failing over where one fails), then the token. */
  const step = (g: Gen, i: number, x: Step) => {
    const hop = g.hops[i]!
    forward(g, hop, x, true, (output) => {
      hop.inputs.push(x)
      if (i + 1 < g.hops.length) return step(g, i + 1, { start: x.start, length: x.length, input: output })
      const t = tokenOf(output)
      g.tokens.push(t)
      g.record.text.push(t)
      g.record.tokens = g.tokens.length
      g.record.firstTokenAt ??= ctx.now()
      if (g.tokens.length === setup.tokens) return end(g, "done")
      const position = setup.prompt + g.tokens.length - 1
      step(g, 0, { start: position, length: 1, input: tokensDigest(g.base, position, [t]) })
    }, (reason) => replace(g, hop, reason, () => step(g, i, x)))
  }

  const begin = (base: string, attempt: number, prompt: number[], waits = 0) => {
    const id = attempt === 1 ? base : `${base}/${attempt}`
    const found: RangeCandidates[] = []
    for (const [from, to] of blockRanges(setup.blocks)) call(ctx, ctx.network.findProviders(lmBlocksKey(from, to)), (candidates) => void found.push({ from, to, candidates }))
    const route = planRoute(setup.blocks, found, latency, random, banned)
    // Servers announced but full (every session slot taken): wait for room rather than give up.
    if (!route.ok && waits < FULL_WAITS && found.some((r) => r.candidates.some((c) => !banned.has(c.peer) && c.record.queue >= c.record.capacity))) {
      return void later(FULL_RETRY_MS, () => begin(base, attempt, prompt, waits + 1))
    }
    const record: GenerationRecord = { requester: self, id, started: ctx.now(), state: "running", tokens: 0, prompt, text: [], failovers: 0, hops: [] }
    o.books.generations.push(record)
    const g: Gen = { base, attempt, record, hops: [], failed: new Set(), prompt, tokens: [], replacements: 0 }
    if (!route.ok) return end(g, "failed", route.reason)
    for (const [index, s] of route.stages.entries()) {
      g.hops.push({ from: s.from, to: s.to, index, peer: s.provider.peer, load: s.provider.record.queue / s.provider.record.capacity, session: "", job: 0, seq: 0, inputs: [] })
      record.hops.push({ from: s.from, to: s.to, segments: [] })
    }
    ctx.emit("lm.generation.started", { generation: id, route: g.hops.map((h) => `${h.from}-${h.to}@${h.peer}`).join(" ") })
    const open = (i: number) => (i === g.hops.length ? step(g, 0, { start: 0, length: prompt.length, input: tokensDigest(base, 0, prompt) }) : place(g, g.hops[i]!, () => open(i + 1)))
    open(0)
  }

  const generate = () => {
    if (ctx.now() >= o.stopPostingAt) return
    const n = ++count
    const prompt = Array.from(ctx.random.bytes(setup.prompt), (b) => b & 0x7f)
    begin(`${self}.g${n}`, 1, prompt)
    later(o.interval, generate)
  }

  // --- checking and paying -------------------------------------------------------------------------
  const send = (peer: string, m: Parameters<typeof encodeMarketMessage>[0]) => ctx.run(Effect.ignore(ctx.network.send(peer, MARKET_TOPIC, encodeMarketMessage(m))))
  const confirm = (job: number) => call(ctx, ctx.ledger.marketOp({ type: "confirm", job, by: self }), (r) => ctx.emit("lm.job.confirmed", { job, notes: r.payments.length, state: r.state }), () => undefined)
  const askReferee = (job: number) => call(ctx, ctx.ledger.pools, (pools) => {
    const referees = pools.filter((p) => p.kind === "validator" && !p.jailed && !p.tombstoned && p.tokens > 0n).map((p) => p.operator).sort()
    if (referees.length === 0) return
    const referee = referees[randomInt(ctx, referees.length)]!
    const n = ++nonce
    checking.set(job, { nonce: n, referee })
    later(refereeTimeout, () => void (checking.get(job)?.nonce === n && checking.delete(job)))
    ctx.emit("lm.check", { job, referee })
    send(referee, { v: 1, t: "check", job, nonce: n })
  })
  const refuted = (job: number, referee: string) => call(ctx, ctx.ledger.marketOp({ type: "dispute", job, by: self }), () => {
    send(referee, { v: 1, t: "resolve", job })
    call(ctx, ctx.ledger.marketJob(job), (j) => {
      if (j?.provider !== undefined) banned.add(j.provider)
      ctx.emit("lm.refuted", { job, provider: String(j?.provider ?? "") })
      const g = owner.get(job)
      if (g === undefined || !live(g)) return
      // Its text so far came through wrong activations: begin it again on a route without that stage.
      end(g, "restarted", `a referee refuted job ${job}`)
      begin(g.base, g.attempt + 1, g.prompt)
    })
  }, (e) => ctx.emit("lm.dispute-refused", { job, reason: reasonOf(e) }))

  const audit = () => {
    for (const job of [...watched]) {
      call(ctx, ctx.ledger.marketJob(job), (j) => {
        if (j === undefined || j.state === "settled" || j.state === "expired") return void watched.delete(job)
        if (!o.confirms() || j.state === "disputed" || checking.has(job)) return
        const pending = j.notes.filter((n) => n.state === "pending")
        if (pending.length === 0) return
        for (const n of pending) {
          if (seen.has(`${job}/${n.id}`)) continue
          seen.add(`${job}/${n.id}`)
          if (chance(ctx, ctx.params()["market.verificationRate"])) needCheck.add(job)
        }
        if (needCheck.has(job)) askReferee(job)
        else confirm(job)
      })
    }
    later(o.auditInterval ?? 250, audit)
  }

  ctx.run(Effect.map(ctx.network.subscribe(LM_SIM_TOPIC, (env) => {
    const d = decodeLmSim(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    const m = d.success
    if (m.t !== "opened" && m.t !== "result" && m.t !== "error") return ctx.fault(env.from, `lm: a server message sent to a client (${m.t})`)
    const tail = m.t === "opened" || (m.t === "error" && m.seq === undefined) ? "open" : String(m.seq)
    replies.get(`${env.from}/${m.session}/${tail}`)?.(m)
  }, { maxBytes: MAX_LM_SIM_MESSAGE_BYTES }), (u) => void unsubscribes.push(u)))
  ctx.run(Effect.map(ctx.network.subscribe(MARKET_TOPIC, (env) => {
    const d = decodeMarketMessage(env.data)
    if (Result.isFailure(d)) return ctx.fault(env.from, d.failure)
    const m = d.success
    if (m.t !== "verdict") return
    const c = checking.get(m.job)
    if (c === undefined || c.nonce !== m.nonce || c.referee !== env.from) return
    checking.delete(m.job)
    needCheck.delete(m.job)
    ctx.emit("lm.verdict", { job: m.job, referee: env.from, ok: m.ok })
    if (m.ok) confirm(m.job)
    else refuted(m.job, env.from)
  }, { maxBytes: MAX_MARKET_MESSAGE_BYTES }), (u) => void unsubscribes.push(u)))

  later(Math.max(0, o.firstAt - ctx.now()), generate)
  later(o.auditInterval ?? 250, audit)
  return {
    started: () => count,
    stop: () => {
      if (stopped) return
      stopped = true
      for (const u of unsubscribes) ctx.run(u)
    },
  }
}

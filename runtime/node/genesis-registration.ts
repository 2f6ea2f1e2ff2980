/**
 * Genesis registration on a chain: the Committee's snapshot 1 (GENESIS_SNAPSHOT) is the set that
 * governs a network's first epoch, so it must be taken once every genesis validator is registered on
 * Staking. The devnet registers its validators itself after the deploy (devnet-chain.ts); on a
 * hand-made network each node does it at its first start: a genesis validator not yet on Staking
 * registers itself (a fee deposit, then its genesis stake, tier and commission), then every node
 * waits until all genesis validators are registered and takes the snapshot if nobody has yet.
 *
 * The two transactions of a registration are ordered so that a node killed between them finishes
 * at its restart without paying twice: the fee deposit comes first (anyone may hold one), so a
 * restarted node that is not registered yet but holds a deposit only registers. A node registered
 * by an earlier version that stopped before its deposit (registered, no deposit) makes it at its
 * restart, as long as no epoch report has settled (before one, no fee can have spent a deposit).
 *
 * Two nodes may race to take it: the first makes snapshot 1, the second snapshot 2 (harmless: the
 * committee reads snapshot 1 for the genesis epoch, and real-world.ts checks that it holds every
 * genesis validator). Both paths use the one per-validator step, `registerGenesisValidator`, through
 * the Chain port.
 */
import { Effect, Schema } from "effect"
import { GENESIS_EPOCH, GENESIS_SNAPSHOT, type GenesisValidator } from "../core/app/app.ts"
import { GENESIS_FEE_DEPOSIT } from "../core/app/ledger-genesis.ts"
import { formatTokens, TOKEN } from "../core/units.ts"
import type { Chain, ChainUnavailable } from "../services/chain.ts"

type ChainService = Chain["Service"]

/** Registering on Staking, or taking the genesis snapshot, failed; or the wait was stopped. The reason is one line. */
export class GenesisRegistrationError extends Schema.TaggedError<GenesisRegistrationError>()("GenesisRegistrationError", {
  reason: Schema.String,
}) {
  override get message() {
    return this.reason
  }
}

/** The fee deposit a genesis validator makes from what its bond leaves: min(spare, GENESIS_FEE_DEPOSIT), as the in-memory genesis does. */
export const genesisFeeDeposit = (spare: bigint): bigint => (spare <= 0n ? 0n : spare < GENESIS_FEE_DEPOSIT ? spare : GENESIS_FEE_DEPOSIT)

/** Make genesis validator `v`'s fee deposit on the Committee from `spare`, the tokens its bond leaves (nothing when none are). */
const depositGenesisFees = (chain: Pick<ChainService, "depositFees">, v: GenesisValidator, spare: bigint): Effect.Effect<void, GenesisRegistrationError> => {
  const deposit = genesisFeeDeposit(spare)
  return deposit === 0n ? Effect.void : Effect.asVoid(chain.depositFees(v.operator, deposit).pipe(
    Effect.mapError((e) => new GenesisRegistrationError({ reason: `fee deposit of genesis validator ${v.operator} on the Committee: ${e.message}` })),
  ))
}

/**
 * Register one genesis validator through the Chain port (from its own key: the port's signer for
 * its operator): its fee deposit on the Committee from `spare`, the tokens its bond leaves (unless
 * `deposited`: an earlier start made it), then its genesis stake, tier and commission on Staking.
 */
export const registerGenesisValidator = (
  chain: Pick<ChainService, "submit" | "depositFees">, v: GenesisValidator, spare: bigint, deposited = false,
): Effect.Effect<void, GenesisRegistrationError> =>
  Effect.gen(function*() {
    if (!deposited) yield* depositGenesisFees(chain, v, spare)
    yield* chain.submit({ type: "registerValidator", operator: v.operator, amount: v.amount, tier: v.tier, commission: v.commission }).pipe(
      Effect.mapError((e) => new GenesisRegistrationError({ reason: `registering genesis validator ${v.operator} (${v.address}) on Staking: ${e.message}` })),
    )
  })

/** The genesis validators with no validator pool on Staking yet (matched by operator name or address). */
export const unregistered = (chain: Pick<ChainService, "pools">, validators: readonly GenesisValidator[]): Effect.Effect<GenesisValidator[], ChainUnavailable> =>
  Effect.map(chain.pools, (pools) => {
    const on = new Set(pools.filter((p) => p.kind === "validator").map((p) => p.operator.toLowerCase()))
    return validators.filter((v) => !on.has(v.operator.toLowerCase()) && !on.has(v.address.toLowerCase()))
  })

export interface GenesisRegistrationOptions {
  readonly chain: Pick<ChainService, "submit" | "depositFees" | "committee" | "snapshot" | "pools" | "balanceOf" | "feeDeposit" | "epochReport">
  readonly validators: readonly GenesisValidator[]
  /** This node's signing address (its account on the chain). */
  readonly self: string
  /** Native coin (gas) an address holds, base units. */
  readonly gasBalance: (address: string) => Effect.Effect<bigint, ChainUnavailable>
  /** The command that funds this node, named in the "too few tokens" line (e.g. `dai chain fund --rpc … --to DIR`). */
  readonly fundHint: string
  /** A line for the operator (the validators still missing, a snapshot taken). */
  readonly log: (level: "info" | "warn", message: string) => void
  /** How often the chain is read while waiting (default 1 s). */
  readonly pollMs?: number
  /** How often the validators still missing are logged (default 10 s). */
  readonly logEveryMs?: number
  /** Aborting it stops the wait with a GenesisRegistrationError naming the reason (SIGTERM). */
  readonly stop?: AbortSignal
}

/** What `ensureGenesisRegistration` found or did. */
export interface GenesisRegistrationOutcome {
  /** This node registered itself on Staking now. */
  readonly registered: boolean
  /** This node took the Committee's snapshot (its id: 1, or a later one after a race). */
  readonly snapshot: number | undefined
}

const describeValidators = (vs: readonly GenesisValidator[]) => vs.map((v) => `${v.operator} (${v.address})`).join(", ")

/**
 * Before a node on a chain starts its committee: if the Committee has no snapshot 1, register this
 * node on Staking when it is an unregistered genesis validator (too few tokens or no gas: fails
 * naming the address, the amount and `fundHint`), wait until every genesis validator is registered
 * (logging those still missing every `logEveryMs`), and take the snapshot unless someone has.
 */
export const ensureGenesisRegistration = (o: GenesisRegistrationOptions): Effect.Effect<GenesisRegistrationOutcome, GenesisRegistrationError | ChainUnavailable> =>
  Effect.gen(function*() {
    const { chain } = o
    const me = o.validators.find((v) => v.address.toLowerCase() === o.self.toLowerCase())
    const isRegistered = me === undefined ? false : (yield* unregistered(chain, [me])).length === 0
    // Registered by an earlier version that stopped before its fee deposit: make it now, unless an
    // epoch report has settled since (its fees may have spent a deposit: a zero one says nothing then).
    if (me !== undefined && isRegistered && (yield* chain.feeDeposit(me.operator)) === 0n && (yield* chain.epochReport(GENESIS_EPOCH)) === undefined) {
      yield* depositGenesisFees(chain, me, yield* chain.balanceOf(me.operator))
      o.log("info", `made the fee deposit of genesis validator ${me.operator} (${me.address}) on the Committee, missing since its registration`)
    }
    if ((yield* chain.committee(GENESIS_SNAPSHOT)) !== undefined) return { registered: false, snapshot: undefined }
    let registered = false
    if (me !== undefined && !isRegistered) {
      const held = yield* chain.balanceOf(me.operator)
      // A deposit already there is this node's own, made before a stop (fees are not spent before the genesis snapshot).
      const deposited = (yield* chain.feeDeposit(me.operator)) > 0n
      const want = me.amount + (deposited ? 0n : GENESIS_FEE_DEPOSIT)
      if (held < me.amount) {
        return yield* new GenesisRegistrationError({
          reason: `genesis validator ${me.operator} (${me.address}) holds ${formatTokens(held)} DAI on the chain, needs ${formatTokens(me.amount)} DAI to bond its genesis stake (${formatTokens(want)} with its fee deposit): send them with \`${o.fundHint} --dai ${(want - held + TOKEN - 1n) / TOKEN}\``,
        })
      }
      if ((yield* o.gasBalance(me.address)) === 0n) {
        return yield* new GenesisRegistrationError({
          reason: `genesis validator ${me.operator} (${me.address}) holds no ETH on the chain to pay the gas of its registration on Staking: send some with \`${o.fundHint}\``,
        })
      }
      yield* registerGenesisValidator(chain, me, held - me.amount, deposited)
      registered = true
      o.log("info", `registered genesis validator ${me.operator} (${me.address}) on Staking: ${formatTokens(me.amount)} DAI, tier ${me.tier} days`)
    }

    const pollMs = o.pollMs ?? 1_000
    const logEveryMs = o.logEveryMs ?? 10_000
    let lastLog = -Infinity
    let snapshot: number | undefined
    for (;;) {
      if (o.stop?.aborted === true) {
        return yield* new GenesisRegistrationError({ reason: `stopped (${String(o.stop.reason ?? "aborted")}) while waiting for the genesis validators to register on Staking` })
      }
      if ((yield* chain.committee(GENESIS_SNAPSHOT)) !== undefined) return { registered, snapshot }
      const missing = yield* unregistered(chain, o.validators)
      if (missing.length === 0) {
        // Anyone may take it; a node that cannot (no gas) waits for another to.
        const s = yield* Effect.result(chain.snapshot(me?.operator ?? o.self))
        if (s._tag === "Success") {
          snapshot = s.success.id
          o.log("info", `every genesis validator is registered on Staking: took the Committee's snapshot ${s.success.id}${s.success.id === GENESIS_SNAPSHOT ? " (the genesis set)" : " (another node took snapshot 1 first)"}`)
          continue
        }
        if (Date.now() - lastLog >= logEveryMs) {
          lastLog = Date.now()
          o.log("warn", `every genesis validator is registered on Staking, but this node cannot take the Committee's snapshot (${s.failure.message}); waiting for another node to take it`)
        }
      } else if (Date.now() - lastLog >= logEveryMs) {
        lastLog = Date.now()
        o.log("info", `waiting for ${missing.length} genesis validator${missing.length === 1 ? "" : "s"} to register on Staking (each does at its node's first start, once funded): ${describeValidators(missing)}`)
      }
      yield* sleepOrStop(pollMs, o.stop)
    }
  })

/** Sleep `ms`, waking early when `stop` aborts. */
const sleepOrStop = (ms: number, stop: AbortSignal | undefined): Effect.Effect<void> =>
  stop === undefined
    ? Effect.sleep(ms)
    : Effect.callback<void>((resume) => {
      const done = () => {
        clearTimeout(timer)
        stop.removeEventListener("abort", done)
        resume(Effect.void)
      }
      const timer = setTimeout(done, ms)
      stop.addEventListener("abort", done, { once: true })
      return Effect.sync(() => {
        clearTimeout(timer)
        stop.removeEventListener("abort", done)
      })
    })

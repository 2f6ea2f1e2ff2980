/**
 * Governance in the node: one governance machine (runtime/machines/governance.ts) per proposal on
 * the chain, on the node's clock, reported as telemetry (docs/telemetry.md).
 *
 * After each block this node commits it reads, through the Chain port, the proposals still live and
 * any new ones (one read at a time; a block during a read asks for one more read after it; a failed
 * read is retried at the next block). A new proposal gets an actor; votes the chain counted since the
 * last read are fed to it as `vote.cast`; its own timers end the vote (Defeated or Queued, tallied by
 * the ledger's rule) and the timelock (Executable) between blocks; the chain's `Executed` ends it.
 * Votes that reach the read only after the machine closed the vote (cast in the last moments) make
 * the node start the proposal's machine again from the chain's tallies, which settles at once.
 *
 * Each change of a proposal's machine state or tallies goes out once as `governance.proposal`, with
 * the state names of the contract. A proposal final both on the chain and in its machine (Defeated,
 * Executed) is not read again.
 */
import { Effect, Exit } from "effect"
import { createActor, type ActorRefFrom } from "xstate"
import { governanceMachine } from "../../machines/governance.ts"
import type { Chain, ProposalView } from "../../services/chain.ts"
import type { NodeContext } from "../context.ts"
import { longTimers } from "../long-timers.ts"

type ProposalActor = ActorRefFrom<typeof governanceMachine>

/** A proposal's action in a few words (the TUI's title). */
export const proposalTitle = (p: Pick<ProposalView, "action">): string => {
  const a = p.action
  return a.kind === "param" ? `${a.name} = ${String(a.value)}` : a.kind === "amendment" ? `bounds of ${a.name}: [${a.min}, ${a.max}]` : `spend ${a.amount} to ${a.to}`
}

/** What the follower needs of its node: the clock, telemetry, and the executed blocks (a read after each). */
export type GovernanceContext = Pick<NodeContext, "clock" | "now" | "emit" | "executed">

export interface GovernanceOptions {
  /** Where proposals are read (the node's Chain port). */
  readonly chain: Pick<Chain["Service"], "proposal">
}

export interface GovernanceFollower {
  /** Each followed proposal's machine state, by id. */
  states(): ReadonlyMap<number, string>
  stop(): void
}

/** Start following the chain's proposals after each block the node executes; `stop` ends it. */
export const startGovernance = (ctx: GovernanceContext, { chain }: GovernanceOptions): GovernanceFollower => {
  const { emit } = ctx
  const clock = longTimers(ctx.clock)
  const actors = new Map<number, ProposalActor>()
  const views = new Map<number, ProposalView>()
  const reported = new Map<number, string>()
  /** Proposals whose machine is done: never read again. */
  const done = new Set<number>()
  let next = 1
  let stopped = false

  const report = (id: number, actor: ProposalActor) => {
    const s = actor.getSnapshot()
    const view = views.get(id)!
    // A machine started after the vote ended is Active only until its due timer fires: not news.
    if (s.value === "Active" && ctx.now() >= view.votingEnds) return
    const c = s.context
    const data = {
      id, title: proposalTitle(view), state: String(s.value), proposer: view.proposer,
      forVotes: c.forVotes.toString(), againstVotes: c.againstVotes.toString(), abstainVotes: view.abstainVotes.toString(),
      endsAt: view.votingEnds, executableAt: view.executableAt,
    }
    const key = JSON.stringify(data)
    if (reported.get(id) === key) return
    reported.set(id, key)
    emit("governance.proposal", data)
  }

  const spawn = (view: ProposalView) => {
    actors.get(view.id)?.stop()
    const actor = createActor(governanceMachine, {
      clock: clock as never,
      input: {
        id: view.id, now: ctx.now(), votingEnds: view.votingEnds, delay: view.executableAt - view.votingEnds,
        forVotes: view.forVotes, againstVotes: view.againstVotes, stakeVoted: view.stakeVoted,
        quorum: view.quorum, threshold: view.threshold, bondedAtStart: view.bondedAtStart,
      },
    })
    actors.set(view.id, actor)
    actor.subscribe(() => {
      if (actors.get(view.id) === actor) report(view.id, actor)
    })
    actor.start()
    report(view.id, actor)
  }

  const follow = (view: ProposalView) => {
    views.set(view.id, view)
    const actor = actors.get(view.id)
    if (actor === undefined) return spawn(view)
    const s = actor.getSnapshot()
    const c = s.context
    const dFor = view.forVotes - c.forVotes
    const dAgainst = view.againstVotes - c.againstVotes
    const dStake = view.stakeVoted - c.stakeVoted
    if (dFor !== 0n || dAgainst !== 0n || dStake !== 0n) {
      if (s.value !== "Active" || dFor < 0n || dAgainst < 0n || dStake < 0n) return spawn(view)
      if (dFor > 0n || dStake > 0n) actor.send({ type: "vote.cast", support: "for", votes: dFor, stake: dStake })
      if (dAgainst > 0n) actor.send({ type: "vote.cast", support: "against", votes: dAgainst, stake: dFor > 0n || dStake > 0n ? 0n : dStake })
    }
    // The chain's word on execution is final; the machine takes it once its timelock is over too.
    if (view.state === "Executed" && actor.getSnapshot().value === "Executable") actor.send({ type: "proposal.executed" })
    // Final on the chain and in the machine: nothing can change any more.
    if ((view.state === "Defeated" || view.state === "Executed") && actor.getSnapshot().value === view.state) done.add(view.id)
  }

  const readOne = async (id: number): Promise<ProposalView | undefined> => {
    const exit = await Effect.runPromiseExit(chain.proposal(id))
    if (Exit.isSuccess(exit)) return exit.value
    throw new Error(String(exit.cause))
  }

  let reading = false
  let again = false
  const read = async () => {
    if (reading) return void (again = true)
    reading = true
    try {
      do {
        again = false
        for (const id of [...actors.keys()].filter((id) => !done.has(id))) {
          const view = await readOne(id)
          if (stopped) return
          if (view !== undefined) follow(view)
        }
        // New proposals: the chain numbers them from 1 without gaps.
        for (;;) {
          const view = await readOne(next)
          if (stopped || view === undefined) break
          follow(view)
          next++
        }
      } while (again && !stopped)
    } catch (e) {
      emit("log", { level: "warn", message: `governance: cannot read the proposals: ${e instanceof Error ? e.message : String(e)}` })
    } finally {
      reading = false
    }
  }

  const unsubscribe = ctx.executed.subscribe(() => {
    if (!stopped) void read()
  })
  return {
    states: () => new Map([...actors].map(([id, a]) => [id, String(a.getSnapshot().value)])),
    stop: () => {
      stopped = true
      unsubscribe()
      for (const a of actors.values()) a.stop()
    },
  }
}

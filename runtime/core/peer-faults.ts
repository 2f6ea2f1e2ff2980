/**
 * Which peers to cut off: a peer whose messages keep failing our checks (oversized for their topic,
 * undecodable, badly signed, signed by someone who may not send them) costs us decoding and
 * verification time for nothing, so past `maxFaults` faults within `windowMs` it is disconnected
 * and refused for `banMs`. The network adapters (libp2p, the simulator) keep one `PeerFaults` each
 * and apply its verdicts; the policy itself is pure and runs on whatever clock they pass in.
 *
 * Why a window and not a lifetime count: a peer that relays one bad message now and then (a
 * restarted node replaying an old proposal, a message that crossed an upgrade) must not end up
 * banned after a week of honest service; a flood must be cut within seconds.
 */

export interface PeerFaultPolicy {
  /** Faults within the window that get a peer banned. */
  readonly maxFaults: number
  readonly windowMs: number
  readonly banMs: number
}

export const DEFAULT_PEER_FAULT_POLICY: PeerFaultPolicy = { maxFaults: 20, windowMs: 60_000, banMs: 10 * 60_000 }

/** What one fault did to its peer. */
export type FaultVerdict = { readonly banned: false; readonly faults: number } | { readonly banned: true; readonly until: number; readonly faults: number }

export class PeerFaults {
  readonly policy: PeerFaultPolicy
  /** Fault times within the window, by peer (oldest first). */
  readonly #faults = new Map<string, number[]>()
  readonly #bannedUntil = new Map<string, number>()

  constructor(policy: PeerFaultPolicy = DEFAULT_PEER_FAULT_POLICY) {
    if (!(Number.isSafeInteger(policy.maxFaults) && policy.maxFaults >= 1)) throw new RangeError(`maxFaults must be a whole number ≥ 1, got ${policy.maxFaults}`)
    if (!(policy.windowMs > 0 && policy.banMs > 0)) throw new RangeError(`windowMs and banMs must be > 0, got ${policy.windowMs} and ${policy.banMs}`)
    this.policy = policy
  }

  /** Count one fault of `peer` at `now`; the verdict says whether it is now banned. */
  fault(peer: string, now: number): FaultVerdict {
    const until = this.#bannedUntil.get(peer)
    if (until !== undefined && now < until) return { banned: true, until, faults: this.#recent(peer, now).length }
    const times = this.#recent(peer, now)
    times.push(now)
    if (times.length < this.policy.maxFaults) return { banned: false, faults: times.length }
    const end = now + this.policy.banMs
    this.#bannedUntil.set(peer, end)
    this.#faults.delete(peer)
    return { banned: true, until: end, faults: times.length }
  }

  /** Whether `peer` is banned at `now`. */
  banned(peer: string, now: number): boolean {
    const until = this.#bannedUntil.get(peer)
    if (until === undefined) return false
    if (now < until) return true
    this.#bannedUntil.delete(peer)
    return false
  }

  /** Peers banned at `now`, with the time their ban ends. */
  bans(now: number): ReadonlyMap<string, number> {
    for (const [peer, until] of this.#bannedUntil) if (now >= until) this.#bannedUntil.delete(peer)
    return new Map(this.#bannedUntil)
  }

  #recent(peer: string, now: number): number[] {
    let times = this.#faults.get(peer)
    if (times === undefined) this.#faults.set(peer, (times = []))
    while (times.length > 0 && times[0]! <= now - this.policy.windowMs) times.shift()
    return times
  }
}

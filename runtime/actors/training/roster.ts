/**
 * Who trains for whom on a real network: each node gossips a hello — its validator address and a
 * signature of its libp2p peer id by that validator's key — so a coordinator can address a trainer
 * (an operator name on the chain) by peer id, and a peer cannot train (or be scored) as a validator
 * whose key it does not hold. Gossipsub signs every message with the author's peer key, so the
 * sender of a hello is authenticated; the validator signature binds it to the chain.
 */
import { fromHex, keccak256, toHex, utf8ToBytes } from "../../core/crypto.ts"
import type { PeerId } from "../../services/network.ts"

/** What a hello's signature covers. */
export const helloDigest = (chainId: number, peer: PeerId): Uint8Array => keccak256(utf8ToBytes(`dai/train/hello/v1/${chainId}/${peer}`))

export interface RosterOptions {
  readonly chainId: number
  readonly verify: (address: string, digest: Uint8Array, signature: Uint8Array) => boolean
  /** The operator of a validator address, if it is one. */
  readonly operatorOf: (address: string) => string | undefined
}

/** Trainers known by operator and by peer. */
export class Roster {
  readonly #o: RosterOptions
  readonly #peerOf = new Map<string, PeerId>()
  readonly #operatorOf = new Map<PeerId, string>()

  constructor(options: RosterOptions) {
    this.#o = options
  }

  /** Add a trainer from its hello; the refusal says why. */
  accept(peer: PeerId, hello: { readonly address: string; readonly signature: string }): string | undefined {
    const operator = this.#o.operatorOf(hello.address)
    if (operator === undefined) return `hello of ${hello.address}, which is not a validator`
    if (!this.#o.verify(hello.address, helloDigest(this.#o.chainId, peer), fromHex(hello.signature))) return `hello of ${hello.address}: bad signature for peer ${peer}`
    const before = this.#peerOf.get(operator)
    if (before !== undefined && before !== peer) this.#operatorOf.delete(before) // the validator moved to a new peer id
    this.#peerOf.set(operator, peer)
    this.#operatorOf.set(peer, operator)
    return undefined
  }

  /** Add this node itself. */
  self(operator: string, peer: PeerId): void {
    this.#peerOf.set(operator, peer)
    this.#operatorOf.set(peer, operator)
  }

  peerOf(operator: string): PeerId | undefined {
    return this.#peerOf.get(operator)
  }
  operatorOf(peer: PeerId): string | undefined {
    return this.#operatorOf.get(peer)
  }
  /** Operators known, sorted. */
  get operators(): string[] {
    return [...this.#peerOf.keys()].sort()
  }
}

/** A hello's body, signed with `sign` (the validator's key). */
export const makeHello = (chainId: number, peer: PeerId, address: string, sign: (digest: Uint8Array) => Uint8Array) =>
  ({ address, signature: toHex(sign(helloDigest(chainId, peer))) })

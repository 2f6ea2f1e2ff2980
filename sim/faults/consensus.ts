/**
 * Byzantine consensus behaviours (scenarios/README.md), as replacements of a node's outbound path:
 *  - `equivocate`: every vote is also signed for a conflicting value (a vote for a block is
 *    doubled with a nil vote, a nil vote with a vote for a made-up block) and both are sent,
 *    bypassing slashing protection — the double signing the protocol must catch and slash;
 *  - `silent`: sends nothing (still receives);
 *  - `withhold`: votes, but never sends its proposals;
 *  - `delay`: sends everything `delay` ms late.
 * A byzantine node signs only with its own key: it holds nothing else.
 */
import { keccak256, toHex, utf8ToBytes } from "../../runtime/core/crypto.ts"
import { voteDigest } from "../../runtime/core/consensus/signing.ts"
import type { Vote } from "../../runtime/core/consensus/types.ts"
import type { Outbound } from "../../runtime/actors/consensus/consensus-node.ts"
import type { ConsensusBehavior } from "../scenario/load.ts"

export interface FaultContext {
  readonly chainId: number
  /** Sign a 32-byte digest with this node's own key. */
  readonly sign: (digest: Uint8Array) => Uint8Array
  /** Run `fn` after `ms` of (virtual) time. */
  readonly later: (ms: number, fn: () => void) => void
}

/** The outbound path of a node that behaves as `behavior`. */
export const byzantineOutbound = (behavior: ConsensusBehavior, ctx: FaultContext, delay: number): Outbound => {
  switch (behavior) {
    case "silent":
      return () => {}
    case "withhold":
      return (m, send) => {
        if (m.kind !== "proposal") send(m)
      }
    case "delay":
      return (m, send) => ctx.later(delay, () => send(m))
    case "equivocate":
      return (m, send) => {
        send(m)
        if (m.kind === "vote") send({ kind: "vote", vote: conflicting(m.vote, ctx) })
      }
  }
}

/** A second, different vote for the same (height, round, type), signed with the node's own key. */
const conflicting = (vote: Vote, ctx: FaultContext): Vote => {
  const other = vote.blockHash === null ? toHex(keccak256(utf8ToBytes(`equivocation/${vote.height}/${vote.round}`))) : null
  const signature = toHex(ctx.sign(voteDigest(ctx.chainId, vote.type, vote.height, vote.round, other)))
  return { ...vote, blockHash: other, signature }
}


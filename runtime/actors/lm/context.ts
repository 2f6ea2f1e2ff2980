/**
 * What the language-model actors take from a node: the parts of `NodeContext` they use, so a full
 * node hands its context and a process that only serves or queries blocks (`dai lm serve`, `dai lm
 * pipeline`) builds just these from its ports with `lmContext`.
 */
import { Effect } from "effect"
import type { NodeContext } from "../context.ts"

export type LmContext = Pick<NodeContext, "name" | "clock" | "now" | "run" | "random" | "network" | "emit" | "fault">

/** An LmContext over bare ports: faults go to the network (which may ban the peer) and to `emit`. */
export const lmContext = (ports: Omit<LmContext, "fault" | "emit"> & { readonly emit?: LmContext["emit"] }): LmContext => {
  const emit = ports.emit ?? (() => undefined)
  return {
    ...ports,
    emit,
    fault: (from, reason) => {
      emit("net.invalid", { from, reason })
      ports.run(ports.network.report(from, reason))
    },
  }
}

/** Send `data` to `peer` on `topic`, best effort (a lost reply is the other side's timeout to handle). */
export const sendQuietly = (ctx: Pick<LmContext, "run" | "network">, peer: string, topic: string, data: Uint8Array): void =>
  ctx.run(Effect.ignore(ctx.network.send(peer, topic, data)))

/** `n` random bytes as lowercase hex (session ids). */
export const randomHex = (ctx: Pick<LmContext, "random">, n: number): string => Array.from(ctx.random.bytes(n), (b) => b.toString(16).padStart(2, "0")).join("")

/**
 * Which training round comes next on a real network, and who coordinates it — a pure function of
 * committed chain state, so every node agrees without asking anyone:
 *
 *   round       = max(last committed round, 0) + 1 + missed slots
 *   coordinator = the validator set's addresses, sorted, at index (round mod size)
 *   missed slots = whole `slotMs` periods of chain (block) time since the block that committed
 *                  the last round (a coordinator that is down or fails loses its slot; the next
 *                  round number goes to the next validator)
 *
 * Round numbers may skip (the app only asks that each committed round is after the last). The cohort
 * is drawn from a stream seeded by the last block hash and the round (`chainRandom`), so anyone can
 * check a coordinator's draw.
 */
import { keccak256, utf8ToBytes } from "../../core/crypto.ts"

export interface ScheduleInput {
  /** The last round with a committed result (-1 before any). */
  readonly lastRound: number
  /** Addresses of the current validator set (any order). */
  readonly validators: readonly string[]
  /** Time of the last executed block, and of the block that committed the last round (ms). */
  readonly chainTime: number
  readonly anchorTime: number
  /** How long a coordinator has for its round before the next one takes over (ms). */
  readonly slotMs: number
}

export interface Scheduled {
  readonly round: number
  readonly coordinator: string
}

/** The round that should be running now and its coordinator (undefined without validators). */
export const scheduledRound = (s: ScheduleInput): Scheduled | undefined => {
  if (s.validators.length === 0) return undefined
  const missed = Math.max(0, Math.floor((s.chainTime - s.anchorTime) / Math.max(1, s.slotMs)))
  const round = Math.max(s.lastRound, 0) + 1 + missed
  const sorted = [...s.validators].sort()
  return { round, coordinator: sorted[round % sorted.length]! }
}

/** The slot of a round: the deadline, the secure-aggregation steps and the commit, with room to spare. */
export const slotMs = (deadline: number, stepTimeout: number): number => deadline + 4 * stepTimeout

/** A stream of uniform draws in [0, 1) determined by `seed` (keccak256 in counter mode). */
export const chainRandom = (seed: string): (() => number) => {
  let counter = 0
  let block: Uint8Array = new Uint8Array(0)
  let offset = 32
  return () => {
    if (offset + 4 > block.length) {
      block = keccak256(utf8ToBytes(`dai/train/cohort/${seed}/${counter++}`))
      offset = 0
    }
    const v = new DataView(block.buffer, block.byteOffset + offset, 4).getUint32(0)
    offset += 4
    return v / 4_294_967_296
  }
}

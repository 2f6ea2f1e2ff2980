/**
 * Shards for batch schedulers (a Kubernetes Indexed Job, a Slurm array): shard I of N takes the runs
 * whose number is I modulo N, so every shard gets a share of every point, and the N shards together
 * are the whole sweep exactly once (`dai sim merge` joins their results directories).
 */

export interface Shard {
  readonly index: number
  readonly count: number
}

/** `I/N` with 0 ≤ I < N → the shard, or a reason. */
export const parseShard = (raw: string): Shard | string => {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw)
  if (m === null) return `--shard must be I/N (e.g. 0/4: the first of four shards), got "${raw}"`
  const index = Number(m[1])
  const count = Number(m[2])
  if (!Number.isSafeInteger(count) || count < 1) return `--shard: N must be at least 1, got "${raw}"`
  if (index >= count) return `--shard: I counts from 0 to N-1, got "${raw}"`
  return { index, count }
}

/** Whether run (or seed offset) `n` belongs to the shard (every one without a shard). */
export const inShard = (shard: Shard | undefined, n: number): boolean => shard === undefined || n % shard.count === shard.index

/** How many of runs 0..total-1 the shard holds. */
export const shardSize = (shard: Shard | undefined, total: number): number =>
  shard === undefined ? total : Math.max(0, Math.ceil((total - shard.index) / shard.count))

/** `2/4`, or "" without a shard. */
export const shardLabel = (shard: Shard | undefined): string => (shard === undefined ? "" : `${shard.index}/${shard.count}`)

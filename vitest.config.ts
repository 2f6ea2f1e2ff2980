import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

/**
 * The files that take longest, with their wall time in a whole-suite run on a 2-core machine (ms; rounded;
 * `vitest run` alone on the idle machine, 5 Dec 2026, 627 s in all).
 * They start first, longest first: the two workers then end the run on short files, instead of one
 * worker running a 2-minute file alone while the other has nothing left. A clean clone has no
 * vitest results cache, and without one vitest starts the largest files by bytes first, which put
 * the hand-made network (98 s) anywhere. Only the order depends on this table: a file missing
 * from it still runs (after these, in vitest's own order); refresh it from a CI run's report.
 */
export const SLOWEST_FILES: Readonly<Record<string, number>> = {
  "contracts/test/Staking.differential.test.ts": 108_000,
  "runtime/node/hand-made-network.test.ts": 98_000,
  "runtime/node/training-restart.test.ts": 65_000,
  "runtime/node/market-failover.test.ts": 55_000,
  "scenarios/scenarios.test.ts": 42_000,
  "runtime/actors/lm/verify.libp2p.test.ts": 36_000,
  "runtime/node/node-process.test.ts": 31_000,
  "cli/devnet.test.ts": 30_000,
  "runtime/node/devnet-governance.test.ts": 25_000,
  "cli/pipe.test.ts": 21_000,
  "runtime/adapters/evm/market-lost-post.test.ts": 19_000,
  "contracts/test/ComputeMarket.differential.test.ts": 19_000,
  "cli/chain.test.ts": 14_000,
  "runtime/actors/lm/paid.libp2p.test.ts": 13_000,
  "runtime/node/devnet-lm.test.ts": 13_000,
  "runtime/adapters/libp2p/libp2p.test.ts": 13_000,
}

/** vitest's order (failed first, then longest by its cache, else largest), with SLOWEST_FILES ahead of it, longest first. */
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const root = this.ctx.config.root.replace(/\/?$/, "/")
    const known = (f: TestSpecification) => SLOWEST_FILES[f.moduleId.startsWith(root) ? f.moduleId.slice(root.length) : f.moduleId] ?? 0
    // Array.prototype.sort is stable: files not in the table keep vitest's order, after the table's.
    return sorted.sort((a, b) => known(b) - known(a))
  }
}

export default defineConfig({
  test: {
    include: ["cli/**/*.test.ts", "runtime/**/*.test.ts", "contracts/**/*.test.ts", "sim/**/*.test.ts", "tui/**/*.test.ts", "scenarios/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at a time: the default here is one (cores − 1 on this 2-core machine), and most of the
    // long files wait on processes, sockets and timers (real nodes, Hardhat, devnets) rather than
    // compute, so the suite ran at about one core's load for 15+ minutes. Every test waits for
    // conditions within generous bounds, never for a time, so a second file alongside only slows it.
    maxWorkers: 2,
    // isolate stays true (vitest's default: each file in a fresh module graph). Sharing one between
    // files would save the ~37 s vitest estimates, but module state would then leak from file to file:
    // TensorFlow.js's active backend is process-wide (a file that selects wasm leaves every later
    // file in that worker training on wasm, whose numbers differ from cpu's, and several tests assert
    // exact hashes of trained models), Hardhat's in-process network and its snapshots are module
    // singletons, and some CLI tests set process.env.
    sequence: { sequencer: SlowestFirst },
  },
})

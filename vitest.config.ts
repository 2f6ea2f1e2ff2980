import { defineConfig } from "vitest/config"

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
  },
})

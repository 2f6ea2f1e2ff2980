import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["cli/**/*.test.ts", "runtime/**/*.test.ts", "contracts/**/*.test.ts", "sim/**/*.test.ts", "tui/**/*.test.ts", "scenarios/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
})

/**
 * The consensus benchmarks' scenario: `validators` honest validators with equal stake, 1 s blocks,
 * 10–80 ms latency, until `heights`. One text for bench/consensus.bench.ts, bench/consensus-ab.ts and
 * scripts/trace-hashes.ts, so that their figures and hashes are of the same runs.
 */
export const benchScenarioYaml = (validators: number, heights: number): string => `
name: bench-${validators}
description: ${validators} honest validators, 1 s blocks
seed: 1
network:
  validators: ${validators}
  stake: 1000
  latency: { min: 10ms, max: 80ms }
params:
  consensus.timeoutCommit: 1s
until: { height: ${heights}, maxTime: 1h }
`

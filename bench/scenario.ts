/**
 * The consensus benchmarks' scenario: `validators` honest validators with equal stake, 1 s blocks,
 * 10–80 ms latency, until `heights`. One text for bench/consensus.bench.ts, bench/consensus-ab.ts and
 * scripts/trace-hashes.ts, so that their figures and hashes are of the same runs.
 *
 * Every one of them votes: above 100 validators the active set (`consensus.maxValidators`, default
 * 100, the largest by power) is raised to all of them. Until 5 Dec 2026 it was not, and the
 * "1,000 validators" case ran 1,000 nodes of which only 100 voted (RESULTS, "Correction: 1,000
 * validators that all vote"). At 100 or fewer the text is unchanged, and so are its trace hashes.
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
  consensus.timeoutCommit: 1s${validators > 100 ? `\n  consensus.maxValidators: ${validators}` : ""}
until: { height: ${heights}, maxTime: 1h }
`

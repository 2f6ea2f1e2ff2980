/**
 * Test support for contracts/lib/VotingPower.sol: the same candidates and parameters through the
 * TypeScript rule (runtime/core/consensus/power.ts) and through the library (VotingPowerHarness on
 * Hardhat's in-process chain), each answer reduced to one comparable `PowerOutcome`: the validators
 * in validator-set order, or the name of the refusal (a TS RangeError named as the Solidity error).
 */
import { type Candidate, type PowerParams, votingPowers } from "../../runtime/core/consensus/power.ts"
import { TOKEN, toWad } from "../../runtime/core/units.ts"

type Any = any // ethers contracts from hardhat-ethers are untyped here (no typechain)

/** Validators in validator-set order (lowercase addresses), or the refusal's Solidity error name. */
export type PowerOutcome =
  | { readonly ok: true; readonly validators: readonly { readonly address: string; readonly power: bigint }[] }
  | { readonly ok: false; readonly error: string }

/** The TS refusals (RangeError messages of power.ts) and the Solidity errors that are the same refusal. */
const REFUSALS: readonly (readonly [RegExp, string])[] = [
  [/^contributionWeight must be at most 1/, "VotingPowerInvalidContributionWeight"],
  [/^maxPowerShare must be in/, "VotingPowerInvalidMaxPowerShare"],
  [/^bad maxValidators/, "VotingPowerInvalidMaxValidators"],
  [/^powerUnit must be positive/, "VotingPowerInvalidPowerUnit"],
  [/appears twice$/, "VotingPowerDuplicateCandidate"],
]

/** The library's `Params` tuple for power.ts parameters (fractions to wads exactly as power.ts does). */
export const solidityParams = (p: PowerParams) => ({
  contributionWeightWad: toWad(p.contributionWeight),
  maxPowerShareWad: toWad(p.maxPowerShare),
  maxValidators: BigInt(p.maxValidators),
  powerUnit: p.powerUnit ?? TOKEN,
})

/** The library's `Candidate` tuples. */
export const solidityCandidates = (cs: readonly Candidate[]) =>
  cs.map((c) => ({ account: c.address, stake: c.stake, multiplierWad: c.multiplierWad, contribution: c.contribution }))

/** power.ts `votingPowers`, its RangeError (with the duplicated address for a duplicate) as the Solidity error name. */
export const tsPowers = (cs: readonly Candidate[], p: PowerParams): PowerOutcome => {
  try {
    return { ok: true, validators: votingPowers(cs, p).map((v) => ({ address: v.address.toLowerCase(), power: v.power })) }
  } catch (e) {
    if (!(e instanceof RangeError)) throw e
    const found = REFUSALS.find(([re]) => re.test(e.message))
    if (found === undefined) throw e
    const dup = /^candidate (\S+) appears twice$/.exec(e.message)
    return { ok: false, error: dup === null ? found[1] : `${found[1]}(${dup[1]!.toLowerCase()})` }
  }
}

/** VotingPower.votingPowers through the harness, a revert as its error name (a duplicate with its address). */
export const chainPowers = async (harness: Any, cs: readonly Candidate[], p: PowerParams): Promise<PowerOutcome> => {
  try {
    const [addresses, powers] = (await harness.votingPowers(solidityCandidates(cs), solidityParams(p))) as [string[], bigint[]]
    if (addresses.length !== powers.length) throw new Error(`harness returned ${addresses.length} addresses and ${powers.length} powers`)
    return { ok: true, validators: addresses.map((a, i) => ({ address: a.toLowerCase(), power: powers[i]! })) }
  } catch (e) {
    const data = (e as { data?: string }).data
    const parsed = data === undefined ? null : harness.interface.parseError(data)
    if (parsed === null || parsed === undefined) throw e
    return { ok: false, error: parsed.name === "VotingPowerDuplicateCandidate" ? `${parsed.name}(${String(parsed.args[0]).toLowerCase()})` : parsed.name }
  }
}

/** Gas of the library call alone (the harness's `gasOf`). */
export const libraryGas = async (harness: Any, cs: readonly Candidate[], p: PowerParams): Promise<bigint> =>
  (await harness.gasOf(solidityCandidates(cs), solidityParams(p))) as bigint

/** Deploy the harness on a connected chain. */
export const deployHarness = (ethers: Any): Promise<Any> => ethers.deployContract("VotingPowerHarness")

/** JSON with bigints, for failure messages. */
export const show = (x: unknown): string => JSON.stringify(x, (_, v) => (typeof v === "bigint" ? `${v}n` : v))

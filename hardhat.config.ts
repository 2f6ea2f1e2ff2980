/**
 * Hardhat 3 config. The compiler is the `solc` npm package's soljson.js (pinned, no download:
 * this environment cannot reach binaries.soliditylang.org), passed to Hardhat as a custom path.
 */
import { createRequire } from "node:module"
import hardhatEthers from "@nomicfoundation/hardhat-ethers"
import { defineConfig } from "hardhat/config"

/** Must equal the version of the `solc` devDependency (pinned exactly in package.json). */
export const SOLC_VERSION = "0.8.28"
const soljson = createRequire(import.meta.url).resolve("solc/soljson.js")

export default defineConfig({
  plugins: [hardhatEthers],
  solidity: {
    version: SOLC_VERSION,
    path: soljson,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: { sources: "contracts" },
  networks: {
    // Fixed genesis date and same-timestamp blocks: tests replay the economy's virtual time exactly.
    // Gas headroom: a transaction's gas is estimated against the pending block, and the block it is
    // mined in may carry a later timestamp (a second boundary passed in between, likelier on a loaded
    // machine), which changes the path taken (e.g. a stake checkpoint appended, not updated in place).
    // An exact estimate then runs out of gas; the node's EVM adapter adds the same kind of headroom.
    default: {
      type: "edr-simulated",
      gasMultiplier: 1.5,
      chainType: "l1",
      allowUnlimitedContractSize: false,
      allowBlocksWithSameTimestamp: true,
      initialDate: "2030-01-01T00:00:00Z",
    },
  },
})

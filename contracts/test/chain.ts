/**
 * Test support for the contracts: Hardhat's in-process network with the contracts built (the build
 * and its cross-process lock live in contracts/deploy/build.ts), and the consensus chain id the
 * tests' votes are signed for.
 */
import { connectInProcess } from "../deploy/build.ts"

/** A fresh in-process chain with the contracts built. */
export const connectChain = () => connectInProcess()

/** Consensus chain id used by the tests' votes. */
export const CONSENSUS_CHAIN_ID = 7n

/** The EVM backend of the Chain port: what the node runner, the devnet and tools import. */
export { evidenceHash, layerEvmChain, makeEvmChain, type EvmChain, type EvmChainOptions, type EvmDeployment, type SignedVote } from "./chain.ts"
export { accountBook, CONTRIBUTOR_FLAG, type AccountBook } from "./accounts.ts"
export {
  CONTRACT_NAMES, decodeDeployment, DEPLOYMENT_FORMAT, DeploymentInvalid, DeploymentSchema, paramRegistryHash, readDeployment,
  type ContractName, type Deployment,
} from "./deployment.ts"
export { MAPPED_ERRORS, toChainError } from "./errors.ts"
export { msOf, msToSec, secondsOf } from "./units.ts"
export { decodeStakingParams, encodeStakingParams, STAKING_PARAM_NAMES, type RawStakingParams } from "./staking-params.ts"
export { ABIS, CONSTITUTION_ABI, STAKING_ABI, TOKEN_ABI } from "./abi.ts"

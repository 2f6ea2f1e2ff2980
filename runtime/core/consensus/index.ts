/** Consensus, the pure part: data, identity and signatures, vote counting, proposer, power, wire codec. */
export * from "./types.ts"
export { blockHash, blockHeaderBytes, canonicalJson, txHash, txsHash } from "./block.ts"
export { encodePacked, type Packed } from "./packed.ts"
export {
  type ChainId, PROPOSAL_TAG, proposalDigest, type SignatureVerifier, signProposal, signVote, verifyProposal, verifyVote, VOTE_TAG,
  voteDigest, votePreimage,
} from "./signing.ts"
export { compareValidators, type Validator, ValidatorSet } from "./validator-set.ts"
export { duplicateVoteEvidence, type EvidenceCheck, verifyEvidence } from "./evidence.ts"
export { type AddVoteResult, type Majority, VoteSet } from "./votes.ts"
export { HeightVoteSet, type HeightVoteSetOptions } from "./height-votes.ts"
export { type AddProposalResult, type Decision, HeightState, type HeightStateOptions, type StoredProposal } from "./height-state.ts"
export { HeightBuffer } from "./buffer.ts"
export { proposer, ProposerSchedule, proposerSchedule } from "./proposer.ts"
export { type Candidate, type PowerParams, powerParams, validatorSetFromCandidates, votingPowers } from "./power.ts"
export { epochStart, isEpochStart, validatorSetForHeight } from "./epoch.ts"
export {
  AppTxSchema, BlockSchema, ConsensusDecodeError, type ConsensusMessage, ConsensusMessageSchema, decodeMessage, decodeMessageValue,
  encodeMessage, MAX_MESSAGE_BYTES, MAX_PRECOMMITS, MAX_TXS, ProposalSchema, VoteSchema,
} from "./codec.ts"
export * from "./node-interface.ts"

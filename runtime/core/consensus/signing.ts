/**
 * What validators sign, byte for byte, and how signatures are checked.
 *
 * voteDigest = keccak256(abi.encodePacked(
 *   "dai/vote/v1", uint256 chainId, uint256 height, uint256 round, uint8 type, bytes32 blockHash))
 *   type: 1 = prevote, 2 = precommit; blockHash: the zero word for nil.
 * proposalDigest = keccak256(abi.encodePacked(
 *   "dai/proposal/v1", uint256 chainId, uint256 height, uint256 round, int256 polRound, bytes32 blockHash))
 *
 * The layouts are fixed because a Solidity contract recomputes them to slash a double signer without
 * trusting anyone: given two votes it rebuilds both digests with `keccak256(abi.encodePacked(...))`,
 * `ecrecover`s both signatures (r ‖ s ‖ v, v = 27/28) to the same validator and sees two different
 * block hashes for one (chainId, height, round, type). The chain id keeps a signature of one network
 * from being replayed on another. The digest is signed as is (no EIP-191 prefix).
 */
import { addressOfPrivateKey, fromHex, keccak256, signDigest, toHex, verifySignature } from "../crypto.ts"
import { blockHash } from "./block.ts"
import { encodePacked } from "./packed.ts"
import {
  type Address, type Hash, type Proposal, type UnsignedProposal, type UnsignedVote, type Vote, type VoteType,
  VOTE_TYPE_CODE, ZERO_HASH,
} from "./types.ts"

/** A chain id as Solidity's `block.chainid` sees it (uint256). */
export type ChainId = bigint | number

/**
 * Checks that `signature` over `digest` is `address`'s. The default is secp256k1 recovery
 * (crypto.ts `verifySignature`); a node may pass a caching one (one check per distinct message),
 * and a large economic simulation a cheaper stand-in.
 */
export type SignatureVerifier = (address: string, digest: Uint8Array, signature: Uint8Array) => boolean

export const VOTE_TAG = "dai/vote/v1"
export const PROPOSAL_TAG = "dai/proposal/v1"

/** The exact bytes a vote signature covers before hashing (140 bytes); see the module comment. */
export const votePreimage = (chainId: ChainId, type: VoteType, height: number, round: number, hash: Hash | null): Uint8Array =>
  encodePacked(
    { t: "string", v: VOTE_TAG },
    { t: "uint256", v: chainId },
    { t: "uint256", v: height },
    { t: "uint256", v: round },
    { t: "uint8", v: VOTE_TYPE_CODE[type] },
    { t: "bytes32", v: hash ?? ZERO_HASH },
  )

// A height has only a few distinct vote digests (per round: prevote/precommit × block/nil), but
// every vote of every validator needs one: a small memo saves a keccak per check. Pure: the digest
// is a function of its arguments; callers get a copy so nobody can alter the cached bytes.
const DIGEST_MEMO = 256
const digestMemo = new Map<string, Uint8Array>()

/** The 32-byte digest a validator signs for a vote. */
export const voteDigest = (chainId: ChainId, type: VoteType, height: number, round: number, hash: Hash | null): Uint8Array => {
  const key = `${chainId}/${type}/${height}/${round}/${hash}`
  let digest = digestMemo.get(key)
  if (digest === undefined) {
    digest = keccak256(votePreimage(chainId, type, height, round, hash))
    if (digestMemo.size >= DIGEST_MEMO) digestMemo.delete(digestMemo.keys().next().value!)
    digestMemo.set(key, digest)
  }
  return digest.slice()
}

/** The 32-byte digest a proposer signs for a proposal of the block with hash `hash`. */
export const proposalDigest = (chainId: ChainId, height: number, round: number, polRound: number, hash: Hash): Uint8Array =>
  keccak256(
    encodePacked(
      { t: "string", v: PROPOSAL_TAG },
      { t: "uint256", v: chainId },
      { t: "uint256", v: height },
      { t: "uint256", v: round },
      { t: "int256", v: polRound },
      { t: "bytes32", v: hash },
    ),
  )

/** Sign a vote with a 32-byte private key (tests, the simulator, and the node's Keys adapter). */
export const signVote = (privateKey: Uint8Array, chainId: ChainId, vote: Omit<UnsignedVote, "validator">): Vote => {
  const digest = voteDigest(chainId, vote.type, vote.height, vote.round, vote.blockHash)
  return {
    type: vote.type,
    height: vote.height,
    round: vote.round,
    blockHash: vote.blockHash,
    validator: addressOfPrivateKey(privateKey),
    signature: toHex(signDigest(privateKey, digest)),
  }
}

/** Sign a proposal with a 32-byte private key. */
export const signProposal = (privateKey: Uint8Array, chainId: ChainId, proposal: Omit<UnsignedProposal, "proposer">): Proposal => {
  const digest = proposalDigest(chainId, proposal.height, proposal.round, proposal.polRound, blockHash(proposal.block))
  return { ...proposal, proposer: addressOfPrivateKey(privateKey), signature: toHex(signDigest(privateKey, digest)) }
}

/**
 * Signed messages (decoded objects) found authentic, per verify function and chain: a verdict is a
 * pure function of (signer, digest, signature), so whoever verifies with the same function reaches
 * the same one. In a simulated world every node shares the decoded message objects (codec.ts
 * decodeShared) and its keys' verify function (sim/adapters/keys.ts), so each signature is checked
 * once per world, whether the consensus node checks it on arrival or the App checks it in a block's
 * last-commit; a real node's messages are its own objects, and this is a WeakSet that only ever
 * answers "not yet" for the first check of each. Callers add an object only after `verify`
 * accepted exactly that object's signature (a vote certificate's: every one of its votes'), and
 * treat the objects as immutable (as every consensus value is).
 */
const acceptedSets = new WeakMap<object, Map<ChainId, WeakSet<object>>>()
export const acceptedBy = (verify: SignatureVerifier, chainId: ChainId): WeakSet<object> => {
  let byChain = acceptedSets.get(verify)
  if (byChain === undefined) acceptedSets.set(verify, (byChain = new Map()))
  let set = byChain.get(chainId)
  if (set === undefined) byChain.set(chainId, (set = new WeakSet()))
  return set
}

const check = (verify: SignatureVerifier, address: string, digest: () => Uint8Array, signature: string): boolean => {
  try {
    return verify(address, digest(), fromHex(signature))
  } catch {
    return false // not hex, or a field out of range for the digest (decoded messages have neither)
  }
}

/** True when `vote.signature` is `vote.validator`'s signature of the vote on `chainId`. */
export const verifyVote = (vote: Vote, chainId: ChainId, verify: SignatureVerifier = verifySignature): boolean =>
  check(verify, vote.validator, () => voteDigest(chainId, vote.type, vote.height, vote.round, vote.blockHash), vote.signature)

/** True when `proposal.signature` is `proposal.proposer`'s signature of the proposal on `chainId`. */
export const verifyProposal = (proposal: Proposal, chainId: ChainId, verify: SignatureVerifier = verifySignature): boolean =>
  check(
    verify,
    proposal.proposer,
    () => proposalDigest(chainId, proposal.height, proposal.round, proposal.polRound, blockHash(proposal.block)),
    proposal.signature,
  )

/**
 * The parts of the contracts' ABIs the EVM adapter uses, as ethers human-readable fragments: the
 * adapter needs no build artifacts at run time. `evm.test.ts` checks every fragment against the
 * compiled ABI (selectors, topics, output types), so a contract change that breaks one fails a test.
 */

const POOL = "tuple(uint8 kind, address operator, uint64 createdAt, bool jailed, bool tombstoned, uint64 jailedUntil, uint256 commission, uint256 tokens, uint256 shares, uint256 weightedShares, uint256 delegatorShares, uint256 weight, uint256 globalSnapshot, uint256 rewardAcc, uint256 rewardCarry, uint256 insuranceAcc, uint256 unbondingHead, uint256 unbondingTail)"
const POSITION = "tuple(address owner, uint16 tier, uint64 createdAt, uint64 unlockAt, uint256 pool, uint256 multiplier, uint256 shares, uint256 weightedShares, uint256 rewardSnapshot, uint256 insuranceSnapshot)"
const UNBONDING = "tuple(address owner, uint64 startedAt, uint64 completesAt, uint256 pool, uint256 initialAmount, uint256 amount, uint256 prev, uint256 next)"
const PARAMS = "tuple(uint256 burnFraction, uint256 insuranceFraction, uint256 insuranceCoverage, uint256 maxCommission, uint256 doubleSignFraction, uint256 downtimeFraction, uint256 minValidatorBond, uint256 minContributorBond, uint64 unbondingPeriod, uint64 downtimeJailDuration, uint256[5] multipliers)"
const OUTCOME = "tuple(uint256 fraction, uint256 stakeAtInfraction, uint256 slashedBonded, uint256 slashedUnbonding, uint256 toInsurance, uint256 burnt, uint256 insurancePaid)"
/** A signed consensus vote (Staking.Vote). */
export const VOTE = "tuple(uint256 chainId, uint256 height, uint256 round, uint8 voteType, bytes32 blockHash, bytes signature)"

/** OpenZeppelin errors the token and staking contracts can raise. */
const OZ_ERRORS = [
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC20InvalidSender(address sender)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidApprover(address approver)",
  "error ERC20InvalidSpender(address spender)",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error ReentrancyGuardReentrantCall()",
  "error SafeERC20FailedOperation(address token)",
] as const

export const TOKEN_ABI = [
  "function TOTAL_SUPPLY() view returns (uint256)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address account) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 value) returns (bool)",
  "function transfer(address to, uint256 value) returns (bool)",
  "function burn(uint256 value)",
  "function paused() view returns (bool)",
  "function governance() view returns (address)",
  "function transferGovernance(address next)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "error TokenInvalidAllocation(string reason)",
  "error TokenInvalidGuardianExpiry(uint64 expiry, uint64 latest)",
  "error TokenNotGuardian(address caller)",
  "error TokenGuardianInactive(uint64 expiry)",
  "error TokenNotGovernance(address caller)",
  "error TokenInvalidAddress(string role)",
  "error TokenPaused()",
  "error TokenNotPaused()",
  ...OZ_ERRORS,
] as const

export const STAKING_ABI = [
  "function DOWNTIME_REPORTER_ROLE() view returns (bytes32)",
  "function PARAMS_ROLE() view returns (bytes32)",
  "function DEFAULT_ADMIN_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
  "function token() view returns (address)",
  "function consensusChainId() view returns (uint256)",
  "function registerValidator(uint256 amount, uint256 tier, uint256 commission, address signingKey) returns (uint256)",
  "function bondContributor(uint256 amount, uint256 tier) returns (uint256)",
  "function delegate(uint256 pool, uint256 amount, uint256 tier) returns (uint256)",
  "function unbond(uint256 positionId, uint256 amount) returns (uint256)",
  "function withdraw() returns (uint256)",
  "function claimRewards() returns (uint256)",
  "function fundRewards(uint256 amount)",
  "function payFee(uint256 amount)",
  `function slashDoubleSign(${VOTE} a, ${VOTE} b) returns (bytes32)`,
  "function slashDowntime(uint256 pool, uint64 infractionTime, bytes32 evidenceId)",
  "function unjail()",
  "function contributorPoolId(address owner) pure returns (uint256)",
  "function voteDigest(uint256 chainId, uint256 height, uint256 round, uint8 voteType, bytes32 blockHash) pure returns (bytes32)",
  `function params() view returns (${PARAMS})`,
  `function getPool(uint256 pool) view returns (${POOL})`,
  "function tokensAt(uint256 pool, uint48 time) view returns (uint256)",
  "function checkpointCount(uint256 pool) view returns (uint256)",
  `function getPosition(uint256 position) view returns (${POSITION})`,
  "function positionsOf(address owner) view returns (uint256[])",
  `function getUnbonding(uint256 entry) view returns (${UNBONDING})`,
  "function unbondingOf(address owner) view returns (uint256[])",
  "function owedOf(address owner) view returns (tuple(uint256 rewards, uint256 commission, uint256 insurance))",
  "function rewardState() view returns (tuple(uint256 acc, uint256 totalWeight, uint256 carried, uint256 funded, uint256 claimed))",
  "function insuranceState() view returns (tuple(uint256 available, uint256 credited, uint256 paidIn, uint256 paidOut, uint256 claimed))",
  "function totalBonded() view returns (uint256)",
  "function totalUnbonding() view returns (uint256)",
  "function nextPositionId() view returns (uint256)",
  "function nextUnbondingId() view returns (uint256)",
  "function signingKeyOf(address operator) view returns (address)",
  "event ValidatorRegistered(address indexed operator, address indexed signingKey, uint256 commission)",
  "event Bonded(uint256 indexed position, address indexed owner, uint256 indexed pool, uint256 amount, uint256 shares, uint256 tier, uint64 unlockAt)",
  "event Unbonded(uint256 indexed position, address indexed owner, uint256 indexed pool, uint256 amount, uint256 sharesBurnt, uint256 entry, uint64 completesAt)",
  "event Withdrew(address indexed owner, uint256 amount, uint256 entries)",
  "event RewardsClaimed(address indexed owner, uint256 rewards, uint256 commission, uint256 insurance)",
  "event RewardsFunded(address indexed from, uint256 amount, uint256 carried)",
  "event FeePaid(address indexed payer, uint256 amount, uint256 burnt, uint256 toStakers)",
  `event Slashed(uint256 indexed pool, uint8 infraction, bytes32 indexed evidenceId, uint64 infractionTime, ${OUTCOME} outcome)`,
  "event Unjailed(address indexed operator, uint256 indexed pool, uint256 weight)",
  "error TokenInvalidAmount(string op, uint256 amount)",
  "error TokenInsufficientBalance(address account, uint256 balance, uint256 needed)",
  "error StakingUnknownPool(uint256 pool)",
  "error StakingNotValidatorPool(uint256 pool)",
  "error StakingValidatorExists(address operator)",
  "error StakingBelowMinimumBond(uint8 kind, uint256 amount, uint256 minimum)",
  "error StakingCommissionTooHigh(uint256 commission, uint256 maximum)",
  "error StakingInvalidCommission(uint256 commission)",
  "error StakingInvalidTier(uint256 tier)",
  "error StakingInvalidAmount(uint256 amount, string reason)",
  "error StakingValidatorJailed(uint256 pool, uint64 jailedUntil)",
  "error StakingValidatorTombstoned(uint256 pool)",
  "error StakingPoolFullySlashed(uint256 pool)",
  "error StakingUnknownPosition(uint256 position)",
  "error StakingNotPositionOwner(uint256 position, address owner, address caller)",
  "error StakingPositionLocked(uint256 position, uint64 unlockAt, uint64 now)",
  "error StakingInsufficientShares(uint256 position, uint256 requested, uint256 available)",
  "error StakingNothingUnbonding(address owner)",
  "error StakingUnbondingNotMature(address owner, uint64 maturesAt, uint64 now)",
  "error StakingInfractionAlreadySlashed(bytes32 evidenceId)",
  "error StakingInvalidEvidence(bytes32 evidenceId, string reason)",
  "error StakingInfractionInFuture(uint64 infractionTime, uint64 now)",
  "error StakingInfractionBeforePool(uint256 pool, uint64 infractionTime, uint64 createdAt)",
  "error StakingNotJailed(address operator)",
  "error StakingJailNotExpired(address operator, uint64 jailedUntil, uint64 now)",
  "error StakingTombstoned(uint256 pool)",
  "error StakingInvalidSigningKey(address key)",
  "error StakingSigningKeyInUse(address key, address operator)",
  "error StakingInvalidParams(string reason)",
  ...OZ_ERRORS,
] as const

export const CONSTITUTION_ABI = [
  "function count() view returns (uint256)",
  "function keys(uint256 index) view returns (bytes32)",
  "function entry(bytes32 key) view returns (uint256 min, uint256 max, uint256 value)",
  "function paramValue(bytes32 key) view returns (uint256)",
  "function governance() view returns (address)",
  "error ConstitutionUnknownParameter(bytes32 key)",
  "error ConstitutionOutOfBounds(bytes32 key, uint256 value, uint256 min, uint256 max)",
  "error ConstitutionInvalidBounds(bytes32 key, uint256 min, uint256 max)",
  "error ConstitutionConstraintViolated(string rule)",
] as const

export const GOVERNANCE_ABI = [
  "function proposeParam(bytes32 key, uint256 value) returns (uint256)",
  "function proposeAmendment(bytes32 key, uint256 min, uint256 max) returns (uint256)",
  "function proposeSpend(address to, uint256 amount) returns (uint256)",
  "function castVote(uint256 id, bool support) returns (uint256 votes)",
  "function execute(uint256 id)",
  "function state(uint256 id) view returns (uint8)",
  "function quadratic() view returns (bool)",
  "function proposal(uint256 id) view returns (tuple(uint8 kind, address proposer, uint64 votingEnds, uint64 delay, bool executed, bytes32 key, uint256 a, uint256 b, address to, uint256 quorum, uint256 threshold, uint256 bondedAtStart, uint256 forVotes, uint256 againstVotes, uint256 stakeVoted))",
  "event ProposalCreated(uint256 indexed id, uint8 kind, address indexed proposer, bytes32 key, uint256 a, uint256 b, address to, uint64 votingEnds)",
  "event VoteCast(uint256 indexed id, address indexed voter, bool support, uint256 votes, uint256 stake)",
  "error GovernanceUnknownProposal(uint256 id)",
  "error GovernanceBelowMinimumBond(address voter, uint256 bonded, uint256 minimum)",
  "error GovernanceVotingClosed(uint256 id, uint64 votingEnds)",
  "error GovernanceAlreadyVoted(uint256 id, address voter)",
  "error GovernanceVotingOpen(uint256 id, uint64 votingEnds)",
  "error GovernanceNotPassed(uint256 id, uint8 state)",
  "error GovernanceTimelockNotExpired(uint256 id, uint64 executableAt)",
  "error GovernanceAlreadyExecuted(uint256 id)",
  "error GovernanceInvalidProposal(string reason)",
] as const

export const TREASURY_ABI = [
  "error TreasuryInsufficientFunds(uint256 balance, uint256 needed)",
] as const

/** Every fragment list by contract name (the compiled artifact's name). */
export const ABIS = {
  DAIToken: TOKEN_ABI,
  Staking: STAKING_ABI,
  Constitution: CONSTITUTION_ABI,
  Governance: GOVERNANCE_ABI,
  Treasury: TREASURY_ABI,
} as const

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Constitution} from "./Constitution.sol";

/// @title Staking — pools, lock tiers, delegation, rewards, slashing and insurance of the dai network
/// @notice The on-chain twin of the TypeScript economy in `runtime/core/econ` (staking.ts, rewards.ts,
/// slashing.ts, insurance.ts): every operation performs the same integer steps in the same order, so
/// results agree to the wei. Times are unix seconds here (the TS uses virtual milliseconds).
///
/// Pools hold bonded tokens against Cosmos-style shares (a slash shrinks `tokens`, every share loses
/// the same fraction). A validator pool's id is its operator address; a contributor pool's id is
/// `CONTRIBUTOR_FLAG | owner` (see `contributorPoolId`). A position is one owner's shares in one pool
/// with one lock tier (0/30/90/180/365 days) whose multiplier weights its rewards.
///
/// Rewards use a two-level accumulator (global reward per weight, then pool reward per weighted
/// share) with PRECISION = 1e36 and the TS's rounding (floored steps, remainders carried).
///
/// Slashing: double signing is trustless (`slashDoubleSign`, anyone submits two conflicting signed
/// votes). Downtime is the *absence* of signed votes over a window of blocks, which no single signed
/// message proves: it is settled by the Committee contract (`COMMITTEE_ROLE`, `committeeSlash`) from
/// an epoch report it has verified to be signed by more than 2/3 of the epoch's voting power; the
/// Committee also slashes, as double signers, the validators who signed two different reports for
/// one epoch. No account holds a trusted slashing role.
///
/// Enumeration: validator operators and contributor-pool owners are listed in creation order, and
/// `activeValidators()` / `activeContributors()` read the set the Committee snapshots in one call.
///
/// Parameters: every value `setParams` (and the constructor) installs must lie within the bounds the
/// Constitution holds for it, whoever holds PARAMS_ROLE, so the constitution binds on every path.
/// After `dai chain deploy`, Governance holds DEFAULT_ADMIN_ROLE and PARAMS_ROLE and the deployer none.
/// @dev Errors carry the TS economy's names (`StakingPositionLocked`, ...), so a revert and a
/// simulator rejection read alike. Contract-only errors are marked as such.
contract Staking is AccessControl, ReentrancyGuard {
    using Checkpoints for Checkpoints.Trace208;
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ constants and types

    /// @notice Scale of the reward and insurance accumulators (same as the TS `PRECISION`).
    uint256 public constant PRECISION = 1e36;
    /// @notice Fixed-point one for fractions and multipliers.
    uint256 public constant WAD = 1e18;
    /// @notice `jailedUntil` of a tombstoned pool (the TS uses Number.MAX_SAFE_INTEGER).
    uint64 public constant FOREVER = type(uint64).max;
    /// @notice Bit set in a contributor pool's id (above the 160 address bits).
    uint256 public constant CONTRIBUTOR_FLAG = 1 << 160;
    /// @notice May slash for downtime and for conflicting epoch reports (the Committee contract, after verifying a report's signatures).
    bytes32 public constant COMMITTEE_ROLE = keccak256("COMMITTEE_ROLE");
    /// @notice May change the economic parameters (the Governance contract, after the Constitution check).
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    /// @notice Domain tag of a consensus vote digest (runtime/core/consensus).
    bytes public constant VOTE_DOMAIN = "dai/vote/v1";

    enum PoolKind {
        None,
        Validator,
        Contributor
    }

    enum Infraction {
        DoubleSign,
        Downtime
    }

    /// @notice The economic parameters as exact integers (fractions and multipliers as wads, durations in seconds).
    struct Params {
        uint256 burnFraction;
        uint256 insuranceFraction;
        uint256 insuranceCoverage;
        uint256 maxCommission;
        uint256 doubleSignFraction;
        uint256 downtimeFraction;
        uint256 minValidatorBond;
        uint256 minContributorBond;
        uint64 unbondingPeriod;
        uint64 downtimeJailDuration;
        /// Multipliers of the tiers 0, 30, 90, 180, 365 days.
        uint256[5] multipliers;
    }

    struct Pool {
        PoolKind kind;
        address operator;
        uint64 createdAt;
        bool jailed;
        bool tombstoned;
        uint64 jailedUntil;
        uint256 commission;
        uint256 tokens;
        uint256 shares;
        uint256 weightedShares;
        uint256 delegatorShares;
        uint256 weight;
        uint256 globalSnapshot;
        uint256 rewardAcc;
        uint256 rewardCarry;
        uint256 insuranceAcc;
        /// Oldest and newest unbonding entry drawn from this pool (a linked list in creation order).
        uint256 unbondingHead;
        uint256 unbondingTail;
    }

    struct Position {
        address owner;
        uint16 tier;
        uint64 createdAt;
        uint64 unlockAt;
        uint256 pool;
        uint256 multiplier;
        uint256 shares;
        uint256 weightedShares;
        uint256 rewardSnapshot;
        uint256 insuranceSnapshot;
    }

    struct UnbondingEntry {
        address owner;
        uint64 startedAt;
        uint64 completesAt;
        uint256 pool;
        uint256 initialAmount;
        uint256 amount;
        uint256 prev;
        uint256 next;
    }

    struct Owed {
        uint256 rewards;
        uint256 commission;
        uint256 insurance;
    }

    struct RewardState {
        uint256 acc;
        uint256 totalWeight;
        uint256 carried;
        uint256 funded;
        uint256 claimed;
    }

    struct InsuranceState {
        uint256 available;
        uint256 credited;
        uint256 paidIn;
        uint256 paidOut;
        uint256 claimed;
    }

    /// @notice What a slash took and where it went.
    struct SlashOutcome {
        uint256 fraction;
        uint256 stakeAtInfraction;
        uint256 slashedBonded;
        uint256 slashedUnbonding;
        uint256 toInsurance;
        uint256 burnt;
        uint256 insurancePaid;
    }

    /// @notice A signed consensus vote (digest: see `voteDigest`; signature r ‖ s ‖ v over the raw digest).
    struct Vote {
        uint256 chainId;
        uint256 height;
        uint256 round;
        uint8 voteType;
        bytes32 blockHash;
        bytes signature;
    }

    // ------------------------------------------------------------------ storage

    /// @notice The DAI token (bonded, unbonding, reward and insurance tokens are held here).
    IERC20 public immutable token;
    /// @notice Chain id of the consensus network whose votes count as evidence.
    uint256 public immutable consensusChainId;
    /// @notice The Constitution whose bounds every parameter must respect.
    Constitution public immutable constitution;

    Params private _params;
    mapping(uint256 => Pool) private _pools;
    mapping(uint256 => Checkpoints.Trace208) private _checkpoints;
    mapping(uint256 => Position) private _positions;
    mapping(address => uint256[]) private _positionsByOwner;
    mapping(uint256 => uint256) private _positionIndex; // id => index + 1 in its owner's list
    mapping(uint256 => UnbondingEntry) private _unbonding;
    mapping(address => uint256[]) private _unbondingByOwner;
    mapping(uint256 => uint256) private _unbondingIndex; // id => index + 1 in its owner's list
    mapping(address => Owed) private _owed;
    mapping(bytes32 => bool) public slashedEvidence;
    /// @notice Operator of a validator by its consensus signing key.
    mapping(address => address) public operatorOfKey;
    /// @notice Consensus signing key of a validator operator.
    mapping(address => address) public signingKeyOf;
    /// Validator operators and contributor-pool owners, in creation order (pools are never deleted).
    address[] private _validatorList;
    address[] private _contributorList;

    RewardState private _rewards;
    InsuranceState private _insurance;
    /// @notice Σ pool tokens.
    uint256 public totalBonded;
    /// @notice Σ unbonding entries' remaining amounts.
    uint256 public totalUnbonding;
    /// @notice Id of the next position (ids start at 1, as in the TS).
    uint256 public nextPositionId = 1;
    /// @notice Id of the next unbonding entry (ids start at 1).
    uint256 public nextUnbondingId = 1;

    // ------------------------------------------------------------------ events

    /// @notice A validator pool was created with its operator's self-bond.
    event ValidatorRegistered(address indexed operator, address indexed signingKey, uint256 commission);
    /// @notice Tokens were bonded into a pool as a new position.
    event Bonded(uint256 indexed position, address indexed owner, uint256 indexed pool, uint256 amount, uint256 shares, uint256 tier, uint64 unlockAt);
    /// @notice Part or all of a position started unbonding.
    event Unbonded(uint256 indexed position, address indexed owner, uint256 indexed pool, uint256 amount, uint256 sharesBurnt, uint256 entry, uint64 completesAt);
    /// @notice Mature unbonding entries were released to their owner.
    event Withdrew(address indexed owner, uint256 amount, uint256 entries);
    /// @notice Rewards, commission and insurance payouts were paid to their owner.
    event RewardsClaimed(address indexed owner, uint256 rewards, uint256 commission, uint256 insurance);
    /// @notice Rewards were funded into the stakers' accumulator.
    event RewardsFunded(address indexed from, uint256 amount, uint256 carried);
    /// @notice A fee was paid: `burnt` destroyed, `toStakers` distributed.
    event FeePaid(address indexed payer, uint256 amount, uint256 burnt, uint256 toStakers);
    /// @notice A pool was slashed.
    event Slashed(uint256 indexed pool, Infraction infraction, bytes32 indexed evidenceId, uint64 infractionTime, SlashOutcome outcome);
    /// @notice A jailed pool was released by its operator.
    event Unjailed(address indexed operator, uint256 indexed pool, uint256 weight);
    /// @notice The economic parameters changed.
    event ParamsUpdated(address indexed by);

    // ------------------------------------------------------------------ errors (TS names)

    error TokenInvalidAmount(string op, uint256 amount);
    error TokenInsufficientBalance(address account, uint256 balance, uint256 needed);
    error StakingUnknownPool(uint256 pool);
    error StakingNotValidatorPool(uint256 pool);
    error StakingValidatorExists(address operator);
    error StakingBelowMinimumBond(PoolKind kind, uint256 amount, uint256 minimum);
    error StakingCommissionTooHigh(uint256 commission, uint256 maximum);
    error StakingInvalidCommission(uint256 commission);
    error StakingInvalidTier(uint256 tier);
    error StakingInvalidAmount(uint256 amount, string reason);
    error StakingValidatorJailed(uint256 pool, uint64 jailedUntil);
    error StakingValidatorTombstoned(uint256 pool);
    error StakingPoolFullySlashed(uint256 pool);
    error StakingUnknownPosition(uint256 position);
    error StakingNotPositionOwner(uint256 position, address owner, address caller);
    error StakingPositionLocked(uint256 position, uint64 unlockAt, uint64 now);
    error StakingInsufficientShares(uint256 position, uint256 requested, uint256 available);
    error StakingNothingUnbonding(address owner);
    error StakingUnbondingNotMature(address owner, uint64 maturesAt, uint64 now);
    error StakingInfractionAlreadySlashed(bytes32 evidenceId);
    error StakingInvalidEvidence(bytes32 evidenceId, string reason);
    error StakingInfractionInFuture(uint64 infractionTime, uint64 now);
    error StakingInfractionBeforePool(uint256 pool, uint64 infractionTime, uint64 createdAt);
    error StakingNotJailed(address operator);
    error StakingJailNotExpired(address operator, uint64 jailedUntil, uint64 now);
    error StakingTombstoned(uint256 pool);
    /// @notice (contract only) A signing key is zero.
    error StakingInvalidSigningKey(address key);
    /// @notice (contract only) A signing key is already registered to a validator.
    error StakingSigningKeyInUse(address key, address operator);
    /// @notice (contract only) Parameters break a structural rule (`reason`).
    error StakingInvalidParams(string reason);
    /// @notice (contract only) A parameter is outside the Constitution's bounds (durations in seconds).
    error StakingParamOutOfBounds(bytes32 key, uint256 value, uint256 min, uint256 max);

    // ------------------------------------------------------------------ setup

    /// @notice Deploy over `token_` with `params_` (within `constitution_`'s bounds); `admin` grants the roles.
    constructor(IERC20 token_, Params memory params_, uint256 consensusChainId_, Constitution constitution_, address admin) {
        if (address(constitution_) == address(0)) revert StakingInvalidParams("no constitution");
        token = token_;
        consensusChainId = consensusChainId_;
        constitution = constitution_;
        _setParams(params_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Replace the economic parameters (PARAMS_ROLE: Governance, after the Constitution check).
    function setParams(Params calldata params_) external onlyRole(PARAMS_ROLE) {
        _setParams(params_);
        emit ParamsUpdated(msg.sender);
    }

    function _setParams(Params memory p) private {
        if (
            p.burnFraction > WAD || p.insuranceFraction > WAD || p.insuranceCoverage > WAD || p.maxCommission > WAD
                || p.doubleSignFraction > WAD || p.downtimeFraction > WAD
        ) revert StakingInvalidParams("a fraction exceeds 1");
        if (p.multipliers[0] != WAD) revert StakingInvalidParams("the 0-day multiplier must be 1");
        for (uint256 i = 1; i < 5; ++i) {
            if (p.multipliers[i] < p.multipliers[i - 1]) revert StakingInvalidParams("multipliers must not decrease with the lock");
        }
        if (p.minValidatorBond == 0 || p.minContributorBond == 0) revert StakingInvalidParams("minimum bonds must be > 0");
        _checkBound(keccak256("fees.burnFraction"), p.burnFraction, 1);
        _checkBound(keccak256("staking.insuranceFraction"), p.insuranceFraction, 1);
        _checkBound(keccak256("staking.insuranceCoverage"), p.insuranceCoverage, 1);
        _checkBound(keccak256("staking.maxCommission"), p.maxCommission, 1);
        _checkBound(keccak256("slashing.doubleSignFraction"), p.doubleSignFraction, 1);
        _checkBound(keccak256("slashing.downtimeFraction"), p.downtimeFraction, 1);
        _checkBound(keccak256("staking.minValidatorBond"), p.minValidatorBond, 1);
        _checkBound(keccak256("staking.minContributorBond"), p.minContributorBond, 1);
        _checkBound(keccak256("staking.unbondingPeriod"), p.unbondingPeriod, 1000);
        _checkBound(keccak256("slashing.downtimeJailDuration"), p.downtimeJailDuration, 1000);
        _checkBound(keccak256("staking.lockMultiplier30d"), p.multipliers[1], 1);
        _checkBound(keccak256("staking.lockMultiplier90d"), p.multipliers[2], 1);
        _checkBound(keccak256("staking.lockMultiplier180d"), p.multipliers[3], 1);
        _checkBound(keccak256("staking.lockMultiplier365d"), p.multipliers[4], 1);
        _params = p;
    }

    /// @dev `value` (in the Constitution's units ÷ `unit`: durations are ms there, seconds here, rounded
    /// down as Governance pushes them) must lie within the Constitution's bounds for `key`.
    function _checkBound(bytes32 key, uint256 value, uint256 unit) private view {
        (uint256 min, uint256 max,) = constitution.entry(key);
        if (value < min / unit || value > max / unit) revert StakingParamOutOfBounds(key, value, min / unit, max / unit);
    }

    // ------------------------------------------------------------------ bonding

    /// @notice Create the caller's validator pool with a self-bond of `amount` locked for `tier` days.
    /// @param commission Wad fraction of the pool's rewards the operator takes (≤ staking.maxCommission).
    /// @param signingKey Address of the consensus key whose signed votes are evidence against this validator.
    function registerValidator(uint256 amount, uint256 tier, uint256 commission, address signingKey) external nonReentrant returns (uint256 position) {
        address operator = msg.sender;
        uint256 id = uint256(uint160(operator));
        if (amount == 0) revert TokenInvalidAmount("registerValidator", amount);
        if (_pools[id].kind != PoolKind.None) revert StakingValidatorExists(operator);
        if (amount < _params.minValidatorBond) revert StakingBelowMinimumBond(PoolKind.Validator, amount, _params.minValidatorBond);
        if (commission > WAD) revert StakingInvalidCommission(commission);
        if (commission > _params.maxCommission) revert StakingCommissionTooHigh(commission, _params.maxCommission);
        _checkNewStake(id, false, operator, amount, tier);
        if (signingKey == address(0)) revert StakingInvalidSigningKey(signingKey);
        if (operatorOfKey[signingKey] != address(0)) revert StakingSigningKeyInUse(signingKey, operatorOfKey[signingKey]);
        operatorOfKey[signingKey] = operator;
        signingKeyOf[operator] = signingKey;
        _newPool(id, PoolKind.Validator, operator, commission);
        _validatorList.push(operator);
        emit ValidatorRegistered(operator, signingKey, commission);
        position = _openPosition(id, operator, amount, tier);
    }

    /// @notice Bond `amount` into the caller's own contributor pool (created on the first bond).
    function bondContributor(uint256 amount, uint256 tier) external nonReentrant returns (uint256 position) {
        address owner = msg.sender;
        uint256 id = contributorPoolId(owner);
        bool exists = _pools[id].kind != PoolKind.None;
        if (amount == 0) revert TokenInvalidAmount("bondContributor", amount);
        if (amount < _params.minContributorBond) revert StakingBelowMinimumBond(PoolKind.Contributor, amount, _params.minContributorBond);
        _checkNewStake(id, exists, owner, amount, tier);
        if (!exists) {
            _newPool(id, PoolKind.Contributor, owner, 0);
            _contributorList.push(owner);
        }
        position = _openPosition(id, owner, amount, tier);
    }

    /// @notice Delegate `amount` to the validator pool `pool` (its operator's address as a uint256).
    function delegate(uint256 pool, uint256 amount, uint256 tier) external nonReentrant returns (uint256 position) {
        Pool storage p = _pools[pool];
        if (amount == 0) revert TokenInvalidAmount("delegate", amount);
        if (p.kind == PoolKind.None) revert StakingUnknownPool(pool);
        if (p.kind != PoolKind.Validator) revert StakingNotValidatorPool(pool);
        _checkNewStake(pool, true, msg.sender, amount, tier);
        position = _openPosition(pool, msg.sender, amount, tier);
    }

    /// @notice Start unbonding `amount` tokens' worth of position `positionId` (its whole value closes it).
    function unbond(uint256 positionId, uint256 amount) external nonReentrant returns (uint256 entry) {
        if (amount == 0) revert TokenInvalidAmount("unbond", amount);
        Position storage pos = _positions[positionId];
        if (pos.owner == address(0)) revert StakingUnknownPosition(positionId);
        Pool storage p = _pools[pos.pool];
        uint256 value = _positionValue(p, pos);
        if (pos.owner != msg.sender) revert StakingNotPositionOwner(positionId, pos.owner, msg.sender);
        if (block.timestamp < pos.unlockAt) revert StakingPositionLocked(positionId, pos.unlockAt, uint64(block.timestamp));
        if (amount > value) revert StakingInsufficientShares(positionId, amount, value);
        uint256 sharesBurnt = amount == value ? pos.shares : Math.mulDiv(amount, p.shares, p.tokens == 0 ? 1 : p.tokens);
        if (sharesBurnt == 0) revert StakingInvalidAmount(amount, "worth less than one share of the pool");
        entry = _unbondValidated(p, pos, positionId, sharesBurnt);
    }

    /// @notice Release every mature unbonding entry of the caller to its balance.
    function withdraw() external nonReentrant returns (uint256 amount) {
        address owner = msg.sender;
        uint256[] storage ids = _unbondingByOwner[owner];
        uint256 n = ids.length;
        if (n == 0) revert StakingNothingUnbonding(owner);
        uint64 earliest = type(uint64).max;
        uint256 released;
        for (uint256 i = n; i > 0; --i) {
            uint256 id = ids[i - 1];
            UnbondingEntry storage e = _unbonding[id];
            if (e.completesAt > block.timestamp) {
                if (e.completesAt < earliest) earliest = e.completesAt;
                continue;
            }
            amount += e.amount;
            ++released;
            _unlinkUnbonding(e.pool, id, e.prev, e.next);
            _indexRemove(_unbondingByOwner, _unbondingIndex, owner, id);
            delete _unbonding[id];
        }
        if (released == 0) revert StakingUnbondingNotMature(owner, earliest, uint64(block.timestamp));
        totalUnbonding -= amount;
        emit Withdrew(owner, amount, released);
        if (amount > 0) token.safeTransfer(owner, amount);
    }

    // ------------------------------------------------------------------ rewards

    /// @notice Pay the caller all its rewards, commission and insurance payouts (0 is not an error).
    function claimRewards() external nonReentrant returns (uint256 total) {
        address owner = msg.sender;
        uint256[] storage ids = _positionsByOwner[owner];
        for (uint256 i = 0; i < ids.length; ++i) {
            Position storage pos = _positions[ids[i]];
            Pool storage p = _pools[pos.pool];
            _settlePool(p);
            _settlePosition(p, pos);
        }
        Pool storage own = _pools[uint256(uint160(owner))];
        if (own.kind != PoolKind.None) _settlePool(own);
        Owed memory o = _owed[owner];
        delete _owed[owner];
        _rewards.claimed += o.rewards + o.commission;
        _insurance.credited -= o.insurance;
        _insurance.claimed += o.insurance;
        total = o.rewards + o.commission + o.insurance;
        emit RewardsClaimed(owner, o.rewards, o.commission, o.insurance);
        if (total > 0) token.safeTransfer(owner, total);
    }

    /// @notice Move `amount` of the caller's tokens into the stakers' rewards (e.g. an epoch's emission).
    function fundRewards(uint256 amount) external nonReentrant {
        if (amount == 0) revert TokenInvalidAmount("fundRewards", amount);
        _checkBalance(msg.sender, amount);
        _distributeToStakers(amount);
        emit RewardsFunded(msg.sender, amount, _rewards.carried);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Pay a fee of `amount`: mulWad(amount, burnFraction) is burnt, the rest goes to the stakers.
    function payFee(uint256 amount) external nonReentrant {
        if (amount == 0) revert TokenInvalidAmount("payFee", amount);
        _checkBalance(msg.sender, amount);
        uint256 burnt = amount * _params.burnFraction / WAD;
        uint256 toStakers = amount - burnt;
        if (toStakers > 0) _distributeToStakers(toStakers);
        emit FeePaid(msg.sender, amount, burnt, toStakers);
        token.safeTransferFrom(msg.sender, address(this), amount);
        if (burnt > 0) ERC20Burnable(address(token)).burn(burnt);
    }

    // ------------------------------------------------------------------ slashing and jail

    /// @notice Slash and tombstone the validator whose registered signing key signed both `a` and `b`,
    /// two conflicting votes (same chain, height, round and type; different block hashes). Anyone may call.
    /// @dev The votes carry no time, so the infraction time is the submission time: the slash base is
    /// the stake now, and unbonding entries started from now on are not involved.
    function slashDoubleSign(Vote calldata a, Vote calldata b) external nonReentrant returns (bytes32 evidenceId) {
        (address signer, bytes32 eid) = _checkDoubleSign(a, b);
        address operator = operatorOfKey[signer];
        if (operator == address(0)) revert StakingInvalidEvidence(eid, "the signer is not a registered validator key");
        evidenceId = eid;
        _slash(uint256(uint160(operator)), Infraction.DoubleSign, uint64(block.timestamp), eid);
    }

    /// @notice Slash `pool` for `infraction` at `infractionTime`, once per `evidenceId` (COMMITTEE_ROLE:
    /// the Committee contract, for the downtime of a verified epoch report — jailed — and for signing two
    /// different reports of one epoch — tombstoned as a double sign). Refuses as the other slash paths do.
    function committeeSlash(uint256 pool, Infraction infraction, uint64 infractionTime, bytes32 evidenceId) external nonReentrant onlyRole(COMMITTEE_ROLE) {
        _slash(pool, infraction, infractionTime, evidenceId);
    }

    /// @notice Whether `_slash` would accept this slash now (the Committee skips what it would refuse,
    /// so one validator already jailed or tombstoned does not block a whole epoch report).
    function canSlash(uint256 pool, Infraction infraction, uint64 infractionTime, bytes32 evidenceId) external view returns (bool) {
        Pool storage p = _pools[pool];
        return evidenceId != bytes32(0) && !slashedEvidence[evidenceId] && p.kind != PoolKind.None && infractionTime <= block.timestamp
            && infractionTime >= p.createdAt && !p.tombstoned && !(infraction == Infraction.Downtime && p.jailed);
    }

    /// @notice Release the caller's jailed (not tombstoned) pool once its jail time is over.
    function unjail() external nonReentrant {
        address operator = msg.sender;
        uint256 vid = uint256(uint160(operator));
        uint256 cid = contributorPoolId(operator);
        bool hasV = _pools[vid].kind != PoolKind.None;
        bool hasC = _pools[cid].kind != PoolKind.None;
        if (!hasV && !hasC) revert StakingUnknownPool(vid);
        // The first jailed, not tombstoned pool (validator first), else the first jailed one (as the TS).
        uint256 id;
        bool found;
        if (hasV && _pools[vid].jailed && !_pools[vid].tombstoned) (id, found) = (vid, true);
        else if (hasC && _pools[cid].jailed && !_pools[cid].tombstoned) (id, found) = (cid, true);
        else if (hasV && _pools[vid].jailed) (id, found) = (vid, true);
        else if (hasC && _pools[cid].jailed) (id, found) = (cid, true);
        if (!found) revert StakingNotJailed(operator);
        Pool storage p = _pools[id];
        if (p.tombstoned) revert StakingTombstoned(id);
        if (block.timestamp < p.jailedUntil) revert StakingJailNotExpired(operator, p.jailedUntil, uint64(block.timestamp));
        _settlePool(p);
        p.jailed = false;
        p.jailedUntil = 0;
        _refreshWeight(p);
        emit Unjailed(operator, id, p.weight);
    }

    // ------------------------------------------------------------------ views

    /// @notice The validators that may sit in a committee (not jailed, not tombstoned, tokens > 0), in
    /// registration order: operator, consensus signing key, bonded tokens and the pool's average lock
    /// multiplier ⌊weightedShares · 1e18 / shares⌋.
    function activeValidators()
        external
        view
        returns (address[] memory operators, address[] memory keys, uint256[] memory stakes, uint256[] memory multipliers)
    {
        uint256 n = _validatorList.length;
        operators = new address[](n);
        keys = new address[](n);
        stakes = new uint256[](n);
        multipliers = new uint256[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            address op = _validatorList[i];
            Pool storage p = _pools[uint256(uint160(op))];
            if (p.jailed || p.tombstoned || p.tokens == 0) continue;
            operators[k] = op;
            keys[k] = signingKeyOf[op];
            stakes[k] = p.tokens;
            multipliers[k] = Math.mulDiv(p.weightedShares, WAD, p.shares);
            ++k;
        }
        assembly ("memory-safe") {
            mstore(operators, k)
            mstore(keys, k)
            mstore(stakes, k)
            mstore(multipliers, k)
        }
    }

    /// @notice The bonded trainers (contributor pools not jailed, not tombstoned, tokens > 0), in creation order.
    function activeContributors() external view returns (address[] memory owners, uint256[] memory stakes) {
        uint256 n = _contributorList.length;
        owners = new address[](n);
        stakes = new uint256[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            address owner = _contributorList[i];
            Pool storage p = _pools[contributorPoolId(owner)];
            if (p.jailed || p.tombstoned || p.tokens == 0) continue;
            owners[k] = owner;
            stakes[k] = p.tokens;
            ++k;
        }
        assembly ("memory-safe") {
            mstore(owners, k)
            mstore(stakes, k)
        }
    }

    /// @notice The pool id of `owner`'s contributor pool.
    function contributorPoolId(address owner) public pure returns (uint256) {
        return CONTRIBUTOR_FLAG | uint256(uint160(owner));
    }

    /// @notice The digest a validator signs for a vote (keccak256 of the packed "dai/vote/v1" layout).
    function voteDigest(uint256 chainId, uint256 height, uint256 round, uint8 voteType, bytes32 blockHash) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(VOTE_DOMAIN, chainId, height, round, voteType, blockHash));
    }

    /// @notice The current economic parameters.
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @notice A pool's state (kind None when it does not exist).
    function getPool(uint256 pool) external view returns (Pool memory) {
        return _pools[pool];
    }

    /// @notice A pool's bonded tokens at `time` (the slash base of an infraction then).
    function tokensAt(uint256 pool, uint48 time) external view returns (uint256) {
        return _checkpoints[pool].upperLookupRecent(time);
    }

    /// @notice Number of token checkpoints of a pool.
    function checkpointCount(uint256 pool) external view returns (uint256) {
        return _checkpoints[pool].length();
    }

    /// @notice A position (owner zero when it does not exist).
    function getPosition(uint256 position) external view returns (Position memory) {
        return _positions[position];
    }

    /// @notice Ids of `owner`'s open positions (unordered).
    function positionsOf(address owner) external view returns (uint256[] memory) {
        return _positionsByOwner[owner];
    }

    /// @notice Tokens `owner`'s open positions are worth now, over all pools.
    function bondedOf(address owner) external view returns (uint256) {
        return bondedSince(owner, block.timestamp);
    }

    /// @notice What `owner`'s open positions opened at or before `time` are worth now: the stake bonded
    /// then and bonded ever since (a position is never reopened), less what was unbonded or slashed
    /// since. Governance's voting base at a proposal's start (stake bonded later does not count).
    function bondedSince(address owner, uint256 time) public view returns (uint256 total) {
        uint256[] storage ids = _positionsByOwner[owner];
        for (uint256 i = 0; i < ids.length; ++i) {
            Position storage pos = _positions[ids[i]];
            if (pos.createdAt > time) continue;
            total += _positionValue(_pools[pos.pool], pos);
        }
    }

    /// @notice An unbonding entry (owner zero when it does not exist).
    function getUnbonding(uint256 entry) external view returns (UnbondingEntry memory) {
        return _unbonding[entry];
    }

    /// @notice Ids of `owner`'s unbonding entries (unordered).
    function unbondingOf(address owner) external view returns (uint256[] memory) {
        return _unbondingByOwner[owner];
    }

    /// @notice Settled, unclaimed payouts of `owner`.
    function owedOf(address owner) external view returns (Owed memory) {
        return _owed[owner];
    }

    /// @notice The global reward accumulator and its totals.
    function rewardState() external view returns (RewardState memory) {
        return _rewards;
    }

    /// @notice The insurance pool's totals.
    function insuranceState() external view returns (InsuranceState memory) {
        return _insurance;
    }

    // ------------------------------------------------------------------ internals: checks

    function _checkBalance(address account, uint256 needed) private view {
        uint256 balance = token.balanceOf(account);
        if (balance < needed) revert TokenInsufficientBalance(account, balance, needed);
    }

    function _tierIndex(uint256 tier) private pure returns (uint256) {
        if (tier == 0) return 0;
        if (tier == 30) return 1;
        if (tier == 90) return 2;
        if (tier == 180) return 3;
        if (tier == 365) return 4;
        revert StakingInvalidTier(tier);
    }

    function _checkNewStake(uint256 id, bool exists, address owner, uint256 amount, uint256 tier) private view {
        _tierIndex(tier);
        if (exists) {
            Pool storage p = _pools[id];
            if (p.tombstoned) revert StakingValidatorTombstoned(id);
            if (p.jailed) revert StakingValidatorJailed(id, p.jailedUntil);
            if (p.tokens == 0 && p.shares > 0) revert StakingPoolFullySlashed(id);
            if (_sharesFor(p, amount) == 0) revert StakingInvalidAmount(amount, "too small to buy one share of the pool");
        }
        _checkBalance(owner, amount);
    }

    function _checkDoubleSign(Vote calldata a, Vote calldata b) private view returns (address signer, bytes32 eid) {
        bytes32 da = voteDigest(a.chainId, a.height, a.round, a.voteType, a.blockHash);
        bytes32 db = voteDigest(b.chainId, b.height, b.round, b.voteType, b.blockHash);
        (address sa, ECDSA.RecoverError ea,) = ECDSA.tryRecover(da, a.signature);
        (address sb, ECDSA.RecoverError eb,) = ECDSA.tryRecover(db, b.signature);
        eid = keccak256(abi.encode(sa, a.chainId, a.height, a.round, a.voteType));
        if (ea != ECDSA.RecoverError.NoError || eb != ECDSA.RecoverError.NoError) revert StakingInvalidEvidence(eid, "a vote signature is malformed");
        if (sa != sb) revert StakingInvalidEvidence(eid, "the votes were signed by different keys");
        if (a.chainId != consensusChainId || b.chainId != consensusChainId) revert StakingInvalidEvidence(eid, "a vote is from another chain");
        if (a.height != b.height || a.round != b.round || a.voteType != b.voteType) {
            revert StakingInvalidEvidence(eid, "the votes are for different heights, rounds or types");
        }
        if (a.blockHash == b.blockHash) revert StakingInvalidEvidence(eid, "the votes are for the same block");
        signer = sa;
    }

    // ------------------------------------------------------------------ internals: pools and positions

    function _newPool(uint256 id, PoolKind kind, address operator, uint256 commission) private {
        Pool storage p = _pools[id];
        p.kind = kind;
        p.operator = operator;
        p.commission = commission;
        p.createdAt = uint64(block.timestamp);
        p.globalSnapshot = _rewards.acc;
    }

    function _sharesFor(Pool storage p, uint256 amount) private view returns (uint256) {
        return p.shares == 0 ? amount : Math.mulDiv(amount, p.shares, p.tokens);
    }

    function _positionValue(Pool storage p, Position storage pos) private view returns (uint256) {
        return p.shares == 0 ? 0 : Math.mulDiv(pos.shares, p.tokens, p.shares);
    }

    function _openPosition(uint256 poolId, address owner, uint256 amount, uint256 tier) private returns (uint256 id) {
        Pool storage p = _pools[poolId];
        _settlePool(p);
        uint256 multiplier = _params.multipliers[_tierIndex(tier)];
        uint256 shares = _sharesFor(p, amount);
        uint256 weighted = shares * multiplier / WAD;
        id = nextPositionId++;
        uint64 unlockAt = uint64(block.timestamp + tier * 1 days);
        _positions[id] = Position({
            owner: owner,
            tier: uint16(tier),
            createdAt: uint64(block.timestamp),
            unlockAt: unlockAt,
            pool: poolId,
            multiplier: multiplier,
            shares: shares,
            weightedShares: weighted,
            rewardSnapshot: p.rewardAcc,
            insuranceSnapshot: p.insuranceAcc
        });
        _positionsByOwner[owner].push(id);
        _positionIndex[id] = _positionsByOwner[owner].length;
        p.tokens += amount;
        p.shares += shares;
        p.weightedShares += weighted;
        if (owner != p.operator) p.delegatorShares += shares;
        totalBonded += amount;
        _checkpoint(poolId, p);
        _refreshWeight(p);
        emit Bonded(id, owner, poolId, amount, shares, tier, unlockAt);
        token.safeTransferFrom(owner, address(this), amount);
    }

    function _unbondValidated(Pool storage p, Position storage pos, uint256 positionId, uint256 sharesBurnt) private returns (uint256 entryId) {
        _settlePool(p);
        _settlePosition(p, pos);
        uint256 tokensOut = Math.mulDiv(sharesBurnt, p.tokens, p.shares);
        uint256 newShares = pos.shares - sharesBurnt;
        uint256 newWeighted = newShares * pos.multiplier / WAD;
        p.weightedShares -= pos.weightedShares - newWeighted;
        p.shares -= sharesBurnt;
        address owner = pos.owner;
        uint256 poolId = pos.pool;
        if (owner != p.operator) p.delegatorShares -= sharesBurnt;
        p.tokens -= tokensOut;
        if (newShares == 0) {
            _indexRemove(_positionsByOwner, _positionIndex, owner, positionId);
            delete _positions[positionId];
        } else {
            pos.shares = newShares;
            pos.weightedShares = newWeighted;
        }
        totalBonded -= tokensOut;
        uint64 completesAt = uint64(block.timestamp) + _params.unbondingPeriod;
        entryId = nextUnbondingId++;
        uint256 tail = p.unbondingTail;
        _unbonding[entryId] = UnbondingEntry({
            owner: owner,
            startedAt: uint64(block.timestamp),
            completesAt: completesAt,
            pool: poolId,
            initialAmount: tokensOut,
            amount: tokensOut,
            prev: tail,
            next: 0
        });
        if (tail == 0) p.unbondingHead = entryId;
        else _unbonding[tail].next = entryId;
        p.unbondingTail = entryId;
        _unbondingByOwner[owner].push(entryId);
        _unbondingIndex[entryId] = _unbondingByOwner[owner].length;
        totalUnbonding += tokensOut;
        _checkpoint(poolId, p);
        _refreshWeight(p);
        emit Unbonded(positionId, owner, poolId, tokensOut, sharesBurnt, entryId, completesAt);
    }

    function _checkpoint(uint256 poolId, Pool storage p) private {
        _checkpoints[poolId].push(uint48(block.timestamp), uint208(p.tokens));
    }

    function _unlinkUnbonding(uint256 poolId, uint256 id, uint256 prev, uint256 next) private {
        Pool storage p = _pools[poolId];
        if (prev == 0) p.unbondingHead = next;
        else _unbonding[prev].next = next;
        if (next == 0) p.unbondingTail = prev;
        else _unbonding[next].prev = prev;
        id; // the entry itself is deleted by the caller
    }

    function _indexRemove(mapping(address => uint256[]) storage lists, mapping(uint256 => uint256) storage index, address owner, uint256 id) private {
        uint256[] storage list = lists[owner];
        uint256 i = index[id] - 1;
        uint256 last = list[list.length - 1];
        list[i] = last;
        index[last] = i + 1;
        list.pop();
        delete index[id];
    }

    // ------------------------------------------------------------------ internals: rewards (rewards.ts)

    function _isActive(Pool storage p) private view returns (bool) {
        return !p.jailed && !p.tombstoned;
    }

    function _refreshWeight(Pool storage p) private {
        uint256 w = _isActive(p) && p.shares > 0 ? Math.mulDiv(p.tokens, p.weightedShares, p.shares) : 0;
        _rewards.totalWeight = _rewards.totalWeight - p.weight + w;
        p.weight = w;
    }

    function _settlePool(Pool storage p) private {
        uint256 acc = _rewards.acc;
        uint256 due = Math.mulDiv(p.weight, acc - p.globalSnapshot, PRECISION);
        p.globalSnapshot = acc;
        if (due == 0) return;
        uint256 commission = due * p.commission / WAD;
        if (commission > 0) _owed[p.operator].commission += commission;
        _distributeInPool(p, due - commission);
    }

    function _distributeInPool(Pool storage p, uint256 amount) private {
        uint256 total = amount + p.rewardCarry;
        uint256 ws = p.weightedShares;
        if (ws == 0) {
            p.rewardCarry = total;
            return;
        }
        uint256 delta = Math.mulDiv(total, PRECISION, ws);
        p.rewardAcc += delta;
        p.rewardCarry = total - Math.mulDiv(delta, ws, PRECISION, Math.Rounding.Ceil);
    }

    function _settlePosition(Pool storage p, Position storage pos) private {
        uint256 reward = Math.mulDiv(pos.weightedShares, p.rewardAcc - pos.rewardSnapshot, PRECISION);
        pos.rewardSnapshot = p.rewardAcc;
        if (reward > 0) _owed[pos.owner].rewards += reward;
        uint256 ins = pos.owner == p.operator ? 0 : Math.mulDiv(pos.shares, p.insuranceAcc - pos.insuranceSnapshot, PRECISION);
        pos.insuranceSnapshot = p.insuranceAcc;
        if (ins > 0) _owed[pos.owner].insurance += ins;
    }

    function _distributeToStakers(uint256 amount) private {
        _rewards.funded += amount;
        uint256 total = amount + _rewards.carried;
        uint256 tw = _rewards.totalWeight;
        if (tw == 0) {
            _rewards.carried = total;
            return;
        }
        uint256 delta = Math.mulDiv(total, PRECISION, tw);
        _rewards.acc += delta;
        _rewards.carried = total - Math.mulDiv(delta, tw, PRECISION, Math.Rounding.Ceil);
    }

    // ------------------------------------------------------------------ internals: slashing (slashing.ts, insurance.ts)

    function _slash(uint256 poolId, Infraction infraction, uint64 infractionTime, bytes32 evidenceId) private {
        Pool storage p = _pools[poolId];
        if (evidenceId == bytes32(0)) revert StakingInvalidEvidence(evidenceId, "an evidence id must be non-zero");
        if (slashedEvidence[evidenceId]) revert StakingInfractionAlreadySlashed(evidenceId);
        if (p.kind == PoolKind.None) revert StakingUnknownPool(poolId);
        if (infractionTime > block.timestamp) revert StakingInfractionInFuture(infractionTime, uint64(block.timestamp));
        if (infractionTime < p.createdAt) revert StakingInfractionBeforePool(poolId, infractionTime, p.createdAt);
        if (p.tombstoned) revert StakingTombstoned(poolId);
        if (infraction == Infraction.Downtime && p.jailed) revert StakingValidatorJailed(poolId, p.jailedUntil);

        SlashOutcome memory o;
        o.fraction = infraction == Infraction.DoubleSign ? _params.doubleSignFraction : _params.downtimeFraction;
        o.stakeAtInfraction = _checkpoints[poolId].upperLookupRecent(uint48(infractionTime));
        uint256 maxSlash = o.stakeAtInfraction * o.fraction / WAD;
        _settlePool(p);

        uint256 left = _slashUnbonding(p, o.fraction, infractionTime, maxSlash);
        o.slashedUnbonding = maxSlash - left;
        totalUnbonding -= o.slashedUnbonding;

        o.slashedBonded = Math.min(left, p.tokens);
        p.tokens -= o.slashedBonded;
        totalBonded -= o.slashedBonded;
        _checkpoint(poolId, p);

        uint256 totalSlashed = o.slashedUnbonding + o.slashedBonded;
        o.toInsurance = totalSlashed * _params.insuranceFraction / WAD;
        o.burnt = totalSlashed - o.toInsurance;
        _insurance.available += o.toInsurance;
        _insurance.paidIn += o.toInsurance;
        o.insurancePaid = _compensateDelegators(p, o.slashedBonded);

        p.jailed = true;
        if (infraction == Infraction.DoubleSign) {
            p.tombstoned = true;
            p.jailedUntil = FOREVER;
        } else {
            p.jailedUntil = uint64(block.timestamp) + _params.downtimeJailDuration;
        }
        _refreshWeight(p);
        slashedEvidence[evidenceId] = true;
        emit Slashed(poolId, infraction, evidenceId, infractionTime, o);
        if (o.burnt > 0) ERC20Burnable(address(token)).burn(o.burnt);
    }

    /// @dev Cut the pool's unbonding entries that started at or after the infraction and are not
    /// mature, oldest first; returns what is left of `maxSlash`.
    function _slashUnbonding(Pool storage p, uint256 fraction, uint64 infractionTime, uint256 maxSlash) private returns (uint256 left) {
        left = maxSlash;
        // Entries are in creation order, so startedAt never decreases along the list: walk back to
        // the first one that started at or after the infraction, then forward.
        uint256 start;
        for (uint256 id = p.unbondingTail; id != 0 && _unbonding[id].startedAt >= infractionTime; id = _unbonding[id].prev) {
            start = id;
        }
        for (uint256 id = start; id != 0 && left > 0; id = _unbonding[id].next) {
            UnbondingEntry storage e = _unbonding[id];
            if (e.completesAt <= block.timestamp) continue;
            uint256 cut = Math.min(Math.min(e.initialAmount * fraction / WAD, e.amount), left);
            if (cut == 0) continue;
            e.amount -= cut;
            left -= cut;
        }
    }

    function _compensateDelegators(Pool storage p, uint256 bondedSlashed) private returns (uint256 paid) {
        if (p.kind != PoolKind.Validator || p.delegatorShares == 0 || p.shares == 0 || bondedSlashed == 0) return 0;
        uint256 delegatorLoss = Math.mulDiv(bondedSlashed, p.delegatorShares, p.shares);
        uint256 covered = delegatorLoss * _params.insuranceCoverage / WAD;
        uint256 want = Math.min(covered, _insurance.available);
        uint256 delta = Math.mulDiv(want, PRECISION, p.delegatorShares);
        paid = Math.mulDiv(delta, p.delegatorShares, PRECISION, Math.Rounding.Ceil);
        p.insuranceAcc += delta;
        _insurance.available -= paid;
        _insurance.credited += paid;
        _insurance.paidOut += paid;
    }
}

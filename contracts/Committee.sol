// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Constitution} from "./Constitution.sol";
import {Staking} from "./Staking.sol";
import {VotingPower} from "./lib/VotingPower.sol";

/// @title Committee — snapshots of the validator set, epoch reports signed by 2/3 of its power, fee deposits
/// @notice The BFT network is the committee of the stake on Staking. This contract lets it settle what
/// moves value without any trusted role:
///
/// - `snapshot()` (anyone) records, under ids 1, 2, 3, …, the active validators (operator, signing key,
///   stake, average lock multiplier, contribution = score in the last accepted report) with their voting
///   power by `VotingPower` (the rule of runtime/core/consensus/power.ts), the bonded trainers, and the
///   Constitution's values then. A snapshot never changes.
/// - `submitEpochReport(report, signatures)` (anyone) accepts a report once the distinct signers it
///   recovers (raw digest, r‖s‖v, low s) hold at least ⌊2·total/3⌋ + 1 of the named snapshot's power;
///   then, in this order: slashes and jails the downtime operators through Staking (one already jailed
///   or tombstoned is skipped), releases the emission of [max(fromTime, emittedUntil), toTime) from the
///   reserve this contract holds (rewards.contributorShare of it to `scored` pro rata, the rest to the
///   stakers through `Staking.fundRewards`), and charges the fees from the payers' deposits (through
///   `Staking.payFee`: fees.burnFraction burnt, the rest to the stakers). runtime/core/committee/settle.ts
///   is the same rule in TypeScript.
/// - `reportConflict(report, signatures)` (anyone): a second, different report for an accepted epoch is
///   evidence; every validator that signed both is slashed and tombstoned as a double signer.
///
/// The digest (the plan's exact format, `reportDigest`): keccak256(abi.encode(keccak256("dai/epoch-report/v1"),
/// consensusChainId, address(this), epoch, snapshotId, fromTime, toTime, keccak256(abi.encodePacked(downtime)),
/// keccak256(abi.encodePacked(scored)), keccak256(abi.encodePacked(scores)), keccak256(abi.encodePacked(feePayers)),
/// keccak256(abi.encodePacked(fees)))). Times are unix seconds.
/// @dev Gas grows with the validators: a snapshot reads every registered validator and writes 3 slots
/// per member (≈ 13M gas at 100 validators is the design bound; see bench/RESULTS.md for measured rows).
contract Committee is ReentrancyGuard {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ constants and types

    /// @notice Domain tag of the report digest.
    bytes32 public constant REPORT_TAG = keccak256("dai/epoch-report/v1");
    /// @dev (No getter: kept under the size limit.) Tag of a downtime slash's evidence id: keccak256(abi.encode(DOWNTIME_TAG, epoch, operator)).
    bytes32 internal constant DOWNTIME_TAG = keccak256("dai/downtime/v1");
    /// @dev Tag of a conflicting-report slash's evidence id: keccak256(abi.encode(CONFLICT_TAG, epoch, operator)).
    bytes32 internal constant CONFLICT_TAG = keccak256("dai/epoch-report-conflict/v1");
    /// @dev Seconds in the year of rewards.annualEmission (365 days, as runtime/core/duration.ts).
    uint256 internal constant YEAR = 365 days;
    /// @notice Fixed-point one.
    uint256 public constant WAD = 1e18;
    /// @dev Base units of effective stake per unit of voting power (one token, the TS default).
    uint256 internal constant POWER_UNIT = 1e18;
    /// @notice A report's scores must sum below this (keeps the power rule's integers in 256 bits).
    uint256 public constant MAX_TOTAL_SCORE = 1 << 96;
    /// @notice Delay between asking to withdraw a fee deposit and withdrawing it (a payer cannot empty its
    /// deposit just before the report that charges it lands).
    uint64 public constant FEE_WITHDRAWAL_DELAY = 1 days;

    bytes32 private constant K_WEIGHT = keccak256("consensus.contributionWeight");
    bytes32 private constant K_SHARE = keccak256("consensus.maxPowerShare");
    bytes32 private constant K_MAXV = keccak256("consensus.maxValidators");
    bytes32 private constant K_EMISSION = keccak256("rewards.annualEmission");
    bytes32 private constant K_CONTRIB = keccak256("rewards.contributorShare");
    bytes32 private constant T_INDEX = keccak256("dai/committee/index");
    bytes32 private constant T_DOWNTIME = keccak256("dai/committee/downtime");
    bytes32 private constant T_SCORED = keccak256("dai/committee/scored");
    bytes32 private constant T_PAYERS = keccak256("dai/committee/feePayers");

    /// @notice An epoch report (the plan's exact fields; times in unix seconds).
    struct EpochReport {
        uint64 epoch;
        uint64 snapshotId;
        uint64 fromTime;
        uint64 toTime;
        address[] downtime;
        address[] scored;
        uint256[] scores;
        address[] feePayers;
        uint256[] fees;
    }

    /// @notice A snapshot's header.
    struct SnapshotInfo {
        uint64 time;
        uint64 blockNumber;
        uint32 validatorCount;
        uint32 trainerCount;
        uint32 paramSet;
        uint128 totalPower;
        uint128 quorum;
    }

    /// @notice One validator of a snapshot, in validator-set order (power descending, then operator).
    struct Member {
        address operator;
        address signingKey;
        uint256 stake;
        uint256 multiplierWad;
        uint256 contribution;
        uint256 power;
    }

    /// @notice One bonded trainer of a snapshot.
    struct Trainer {
        address owner;
        uint256 stake;
    }

    /// @notice What is kept of an accepted report (its lists are in the transaction's calldata and events).
    struct EpochRecord {
        bytes32 digest;
        uint64 snapshotId;
        uint64 fromTime;
        uint64 toTime;
        uint64 blockNumber;
        uint128 power;
        uint32 signers;
    }

    /// @notice A pending withdrawal of a fee deposit.
    struct Withdrawal {
        uint192 amount;
        uint64 readyAt;
    }

    // 3 slots per member: the signing key and power share a slot (the one signature checks read).
    struct MemberSlot {
        address operator;
        uint96 stake;
        address signingKey;
        uint96 power;
        uint128 multiplierWad;
        uint128 contribution;
    }

    struct TrainerSlot {
        address owner;
        uint96 stake;
    }

    struct ScoreRecord {
        uint64 epoch;
        uint192 score;
    }

    // ------------------------------------------------------------------ storage

    /// @notice The DAI token (reserve and fee deposits are held here).
    IERC20 public immutable token;
    /// @notice The staking ledger whose validator set is snapshotted and which slashes and pays.
    Staking public immutable staking;
    /// @notice The Constitution whose values are the parameters in force.
    Constitution public immutable constitution;
    /// @notice Chain id of the consensus network whose committee signs reports (Staking's).
    uint256 public immutable consensusChainId;

    /// @notice Id of the newest snapshot (0: none).
    uint64 public latestSnapshotId;
    /// @notice The newest accepted epoch (0: none).
    uint64 public lastEpoch;
    /// @notice Unix seconds up to which the emission has been released (starts at deployment).
    uint64 public emittedUntil;
    /// @notice Σ fee deposits (the rest of this contract's balance is the reward reserve).
    uint256 public totalFeeDeposits;

    mapping(uint64 => SnapshotInfo) private _snapshots;
    mapping(uint64 => MemberSlot[]) private _members;
    mapping(uint64 => TrainerSlot[]) private _trainers;
    /// Parameter keys (the Constitution's, in its order) and the distinct value sets seen by snapshots.
    bytes32[] private _paramKeys;
    uint256[][] private _paramSets;
    bytes32 private _lastParamHash;
    mapping(uint64 => EpochRecord) private _epochs;
    /// Bit i of word i/256: member i of the report's snapshot signed it.
    mapping(uint64 => uint256[]) private _signedBits;
    mapping(address => ScoreRecord) private _scores;
    mapping(address => uint256) private _deposits;
    mapping(address => Withdrawal) private _withdrawals;

    // ------------------------------------------------------------------ events

    /// @notice A snapshot was taken.
    event SnapshotTaken(uint64 indexed id, uint64 time, uint32 validators, uint32 trainers, uint256 totalPower, uint256 quorum, uint32 paramSet);
    /// @notice Tokens were added to the reward reserve.
    event ReserveFunded(address indexed from, uint256 amount);
    /// @notice A fee deposit grew.
    event FeesDeposited(address indexed account, address indexed from, uint256 amount, uint256 deposit);
    /// @notice A withdrawal of a fee deposit was asked for.
    event FeeWithdrawalRequested(address indexed account, uint256 amount, uint64 readyAt);
    /// @notice Part of a fee deposit was withdrawn.
    event FeesWithdrawn(address indexed account, uint256 amount, uint256 deposit);
    /// @notice An epoch report was accepted.
    event EpochReported(uint64 indexed epoch, uint64 indexed snapshotId, bytes32 digest, address indexed submitter, uint256 power, uint256 signers);
    /// @notice A downtime operator of a report was slashed and jailed, or skipped (`slashed` false: already jailed or tombstoned).
    event DowntimeSettled(uint64 indexed epoch, address indexed operator, bytes32 evidenceId, bool slashed);
    /// @notice The emission of [from, to) was released: `toContributors` paid to the scored, `toStakers` funded.
    event EmissionReleased(uint64 indexed epoch, uint64 from, uint64 to, uint256 due, uint256 released, uint256 toStakers, uint256 toContributors);
    /// @notice A scored account was paid from the contributors' pot.
    event ContributorPaid(uint64 indexed epoch, address indexed account, uint256 score, uint256 amount);
    /// @notice A payer's deposit paid (part of) the fees it was charged.
    event FeeCharged(uint64 indexed epoch, address indexed payer, uint256 ordered, uint256 paid);
    /// @notice The epoch's fees were paid to Staking (`Staking.payFee`: fees.burnFraction burnt, the rest to stakers; its FeePaid event splits them).
    event FeesSettled(uint64 indexed epoch, uint256 paid, uint256 unpaid);
    /// @notice A validator that signed two different reports of `epoch` was slashed as a double signer.
    event ConflictSlashed(uint64 indexed epoch, address indexed operator, address signingKey, bytes32 evidenceId, bytes32 conflictingDigest);

    // ------------------------------------------------------------------ errors

    /// @notice The report names a snapshot that was never taken.
    error CommitteeUnknownSnapshot(uint64 snapshotId, uint64 latest);
    /// @notice The report names a snapshot older than the one of the last accepted report.
    error CommitteeStaleSnapshot(uint64 snapshotId, uint64 latest);
    /// @notice The epoch is already reported (`same`: with this very report; else this one conflicts: see reportConflict).
    error CommitteeEpochReported(uint64 epoch, bool same);
    /// @notice The epoch is not after the last reported one (reports go in epoch order; epochs start at 1).
    error CommitteeStaleEpoch(uint64 epoch, uint64 latest);
    /// @notice fromTime > toTime, or toTime is in the future.
    error CommitteeTimesOutOfOrder(uint64 fromTime, uint64 toTime, uint64 now);
    /// @notice Paired lists differ in length (`lists` names them).
    error CommitteeLengthMismatch(string lists, uint256 a, uint256 b);
    /// @notice An account appears twice in one list.
    error CommitteeDuplicateAccount(string list, address account);
    /// @notice A downtime operator is not a validator of the report's snapshot.
    error CommitteeNotInSnapshot(address operator, uint64 snapshotId);
    /// @notice The scores sum to `total` ≥ MAX_TOTAL_SCORE.
    error CommitteeScoresTooLarge(uint256 total, uint256 max);
    /// @notice Signature `index` cannot be recovered (`reason`).
    error CommitteeBadSignature(uint256 index, string reason);
    /// @notice A recovered signer is not the signing key of any validator of the snapshot.
    error CommitteeUnknownSigner(address signer, uint64 snapshotId);
    /// @notice A validator signs twice.
    error CommitteeDuplicateSigner(address signer);
    /// @notice The distinct signers hold less than the quorum.
    error CommitteeInsufficientPower(uint64 snapshotId, uint256 power, uint256 quorum, uint256 total, uint256 signers);
    /// @notice Not evidence of a conflicting report (`reason`).
    error CommitteeNotConflicting(uint64 epoch, string reason);
    /// @notice An amount of zero.
    error CommitteeZeroAmount(string op);
    /// @notice A fee deposit holds less than asked.
    error CommitteeInsufficientDeposit(address account, uint256 deposit, uint256 needed);
    /// @notice No withdrawal was asked for.
    error CommitteeNoWithdrawal(address account);
    /// @notice The withdrawal's delay is not over.
    error CommitteeWithdrawalNotReady(address account, uint64 readyAt, uint64 now);
    /// @notice A constructor argument is unusable.
    error CommitteeInvalidSetup(string reason);

    // ------------------------------------------------------------------ setup

    /// @notice Deploy over `staking_` (its token and consensus chain id) with `constitution_`'s values as parameters.
    constructor(Staking staking_, Constitution constitution_) {
        if (address(staking_) == address(0) || address(constitution_) == address(0)) revert CommitteeInvalidSetup("zero address");
        staking = staking_;
        constitution = constitution_;
        token = staking_.token();
        consensusChainId = staking_.consensusChainId();
        uint256 n = constitution_.count();
        for (uint256 i; i < n; ++i) _paramKeys.push(constitution_.keys(i));
        emittedUntil = uint64(block.timestamp);
        // Staking pulls the emission and the fees from here (fundRewards, payFee).
        token.forceApprove(address(staking_), type(uint256).max);
    }

    // ------------------------------------------------------------------ snapshots

    /// @notice Record the committee now (anyone): active validators with their voting power, bonded
    /// trainers, parameters in force. Returns its id (1, 2, 3, …).
    function snapshot() external nonReentrant returns (uint64 id) {
        id = ++latestSnapshotId;
        uint32 paramSet = _recordParams();
        (uint256 totalPower, uint256 n) = _recordMembers(id);
        uint256 t = _recordTrainers(id);
        uint256 quorum = totalPower * 2 / 3 + 1;
        _snapshots[id] = SnapshotInfo({
            time: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            validatorCount: uint32(n),
            trainerCount: uint32(t),
            paramSet: paramSet,
            totalPower: uint128(totalPower),
            quorum: uint128(quorum)
        });
        emit SnapshotTaken(id, uint64(block.timestamp), uint32(n), uint32(t), totalPower, quorum, paramSet);
    }

    /// @notice A snapshot's header (reverts for an unknown id).
    function snapshotInfo(uint64 id) external view returns (SnapshotInfo memory) {
        _known(id);
        return _snapshots[id];
    }

    /// @notice A snapshot's validators, in validator-set order.
    function snapshotValidators(uint64 id) external view returns (Member[] memory out) {
        _known(id);
        MemberSlot[] storage ms = _members[id];
        out = new Member[](ms.length);
        for (uint256 i; i < ms.length; ++i) {
            MemberSlot storage m = ms[i];
            out[i] = Member(m.operator, m.signingKey, m.stake, m.multiplierWad, m.contribution, m.power);
        }
    }

    /// @notice A snapshot's bonded trainers, in the order their pools were created.
    function snapshotTrainers(uint64 id) external view returns (Trainer[] memory out) {
        _known(id);
        TrainerSlot[] storage ts = _trainers[id];
        out = new Trainer[](ts.length);
        for (uint256 i; i < ts.length; ++i) out[i] = Trainer(ts[i].owner, ts[i].stake);
    }

    /// @notice The Constitution's keys and their values when snapshot `id` was taken.
    function snapshotParams(uint64 id) external view returns (bytes32[] memory keys, uint256[] memory values) {
        _known(id);
        return (_paramKeys, _paramSets[_snapshots[id].paramSet]);
    }

    // ------------------------------------------------------------------ reserve and fee deposits

    /// @notice The reward reserve: this contract's tokens that are not fee deposits.
    function reserve() public view returns (uint256) {
        return token.balanceOf(address(this)) - totalFeeDeposits;
    }

    /// @notice Deposit `amount` of the caller's tokens to pay the caller's fees.
    function depositFees(uint256 amount) external nonReentrant {
        _deposit(msg.sender, amount);
    }

    /// @notice Deposit `amount` of the caller's tokens to pay `account`'s fees.
    function depositFeesFor(address account, uint256 amount) external nonReentrant {
        _deposit(account, amount);
    }

    /// @notice What is left of `account`'s fee deposit.
    function feeDeposit(address account) external view returns (uint256) {
        return _deposits[account];
    }

    /// @notice Ask to withdraw `amount` of the caller's deposit after FEE_WITHDRAWAL_DELAY (replaces an earlier ask).
    function requestFeeWithdrawal(uint256 amount) external {
        if (amount == 0) revert CommitteeZeroAmount("requestFeeWithdrawal");
        uint256 d = _deposits[msg.sender];
        if (amount > d) revert CommitteeInsufficientDeposit(msg.sender, d, amount);
        uint64 readyAt = uint64(block.timestamp) + FEE_WITHDRAWAL_DELAY;
        _withdrawals[msg.sender] = Withdrawal(uint192(amount), readyAt);
        emit FeeWithdrawalRequested(msg.sender, amount, readyAt);
    }

    /// @notice Withdraw the asked amount (or what fees have left of it) once its delay is over.
    function withdrawFees() external nonReentrant returns (uint256 amount) {
        Withdrawal memory w = _withdrawals[msg.sender];
        if (w.amount == 0) revert CommitteeNoWithdrawal(msg.sender);
        if (block.timestamp < w.readyAt) revert CommitteeWithdrawalNotReady(msg.sender, w.readyAt, uint64(block.timestamp));
        delete _withdrawals[msg.sender];
        uint256 d = _deposits[msg.sender];
        amount = Math.min(w.amount, d);
        _deposits[msg.sender] = d - amount;
        totalFeeDeposits -= amount;
        emit FeesWithdrawn(msg.sender, amount, d - amount);
        if (amount > 0) token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ epoch reports

    /// @notice The digest the committee signs for `r` (the plan's exact format).
    function reportDigest(EpochReport calldata r) public view returns (bytes32) {
        return keccak256(abi.encode(
            REPORT_TAG, consensusChainId, address(this), r.epoch, r.snapshotId, r.fromTime, r.toTime,
            keccak256(abi.encodePacked(r.downtime)), keccak256(abi.encodePacked(r.scored)), keccak256(abi.encodePacked(r.scores)),
            keccak256(abi.encodePacked(r.feePayers)), keccak256(abi.encodePacked(r.fees))
        ));
    }

    /// @notice Accept `r` if `signatures` (65 bytes r‖s‖v each, over `reportDigest(r)`) come from distinct
    /// validators of its snapshot holding ≥ its quorum, then settle it (see the contract's notice).
    function submitEpochReport(EpochReport calldata r, bytes[] calldata signatures) external nonReentrant returns (bytes32 digest) {
        // Refusals in the order of the TS ledger (runtime/core/econ/committee.ts): form, snapshot, epoch, signatures.
        _checkForm(r);
        _known(r.snapshotId);
        _checkDowntime(r);
        digest = reportDigest(r);
        bytes32 accepted = _epochs[r.epoch].digest;
        if (accepted != bytes32(0)) revert CommitteeEpochReported(r.epoch, accepted == digest);
        if (r.epoch <= lastEpoch) revert CommitteeStaleEpoch(r.epoch, lastEpoch);
        SnapshotInfo memory s = _checkSnapshot(r.snapshotId);
        (uint256 power, uint256 count) = _verify(r.epoch, r.snapshotId, digest, signatures, s);
        lastEpoch = r.epoch;
        _epochs[r.epoch] = EpochRecord(digest, r.snapshotId, r.fromTime, r.toTime, uint64(block.number), uint128(power), uint32(count));
        emit EpochReported(r.epoch, r.snapshotId, digest, msg.sender, power, count);
        _settleDowntime(r, s.time);
        _settleEmission(r);
        _settleFees(r);
    }

    /// @notice Slash, as double signers, the validators that signed both the accepted report of
    /// `other.epoch` and `other`, a different report of that epoch (`signatures` over `reportDigest(other)`).
    /// Signatures of validators that did not sign the accepted report are ignored. Returns how many were slashed.
    function reportConflict(EpochReport calldata other, bytes[] calldata signatures) external nonReentrant returns (uint256 slashed) {
        EpochRecord memory rec = _epochs[other.epoch];
        if (rec.digest == bytes32(0)) revert CommitteeNotConflicting(other.epoch, "epoch not reported");
        bytes32 digest = reportDigest(other);
        if (digest == rec.digest) revert CommitteeNotConflicting(other.epoch, "it is the accepted report");
        MemberSlot[] storage ms = _members[rec.snapshotId];
        (address[] memory keys,) = _keysAndPowers(rec.snapshotId);
        uint256[] storage signedAccepted = _signedBits[other.epoch];
        bool[] memory seen = new bool[](keys.length);
        for (uint256 i; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i], i);
            uint256 j = _indexOf(keys, signer);
            if (j == type(uint256).max || (signedAccepted[j / 256] >> (j % 256)) & 1 == 0) continue;
            if (seen[j]) revert CommitteeDuplicateSigner(signer);
            seen[j] = true;
            if (_slashConflict(other.epoch, ms[j].operator, signer, digest, _snapshots[rec.snapshotId].time)) ++slashed;
        }
        if (slashed == 0) revert CommitteeNotConflicting(other.epoch, "no unslashed signer of the accepted report signed it");
    }

    /// @notice The power of `signatures` (65 bytes r‖s‖v each, over `digest`) by distinct validators of snapshot
    /// `snapshotId`, refused as an epoch report's would be (unknown snapshot or signer, a signer twice, below the
    /// quorum). ComputeMarket checks the committee's dispute verdicts with it.
    function verifySignatures(uint64 snapshotId, bytes32 digest, bytes[] calldata signatures) external view returns (uint256 power) {
        _known(snapshotId);
        SnapshotInfo storage s = _snapshots[snapshotId];
        (power,,) = _tally(snapshotId, digest, signatures, s.quorum, s.totalPower);
    }

    /// @notice What is kept of the accepted report of `epoch` (digest zero: none).
    function epochRecord(uint64 epoch) external view returns (EpochRecord memory) {
        return _epochs[epoch];
    }

    /// @notice `account`'s score in the last accepted report (its contribution in the next snapshot).
    function contributionOf(address account) public view returns (uint256) {
        ScoreRecord memory s = _scores[account];
        return s.epoch == lastEpoch && lastEpoch != 0 ? s.score : 0;
    }

    // ------------------------------------------------------------------ internals: snapshots

    function _known(uint64 id) private view {
        if (id == 0 || id > latestSnapshotId) revert CommitteeUnknownSnapshot(id, latestSnapshotId);
    }

    /// @dev The Constitution's values now; a new set is stored only when they changed since the last.
    function _recordParams() private returns (uint32) {
        uint256 n = _paramKeys.length;
        uint256[] memory values = new uint256[](n);
        for (uint256 i; i < n; ++i) values[i] = constitution.paramValue(_paramKeys[i]);
        bytes32 h = keccak256(abi.encodePacked(values));
        if (_paramSets.length == 0 || h != _lastParamHash) {
            _paramSets.push(values);
            _lastParamHash = h;
        }
        return uint32(_paramSets.length - 1);
    }

    function _recordMembers(uint64 id) private returns (uint256 total, uint256 n) {
        (address[] memory ops, address[] memory keys, uint256[] memory stakes, uint256[] memory mults) = staking.activeValidators();
        VotingPower.Candidate[] memory c = new VotingPower.Candidate[](ops.length);
        for (uint256 i; i < ops.length; ++i) {
            c[i] = VotingPower.Candidate(ops[i], stakes[i], mults[i], contributionOf(ops[i]));
            _tset(T_INDEX, ops[i], i + 1);
        }
        VotingPower.Params memory p = VotingPower.Params({
            contributionWeightWad: constitution.paramValue(K_WEIGHT),
            maxPowerShareWad: constitution.paramValue(K_SHARE),
            maxValidators: constitution.paramValue(K_MAXV),
            powerUnit: POWER_UNIT
        });
        (address[] memory vs, uint256[] memory ps) = VotingPower.votingPowers(c, p);
        MemberSlot[] storage ms = _members[id];
        n = vs.length;
        for (uint256 j; j < n; ++j) {
            uint256 i = _tget(T_INDEX, vs[j]) - 1;
            ms.push(MemberSlot(vs[j], uint96(stakes[i]), keys[i], uint96(ps[j]), uint128(mults[i]), uint128(c[i].contribution)));
            total += ps[j];
        }
        for (uint256 i; i < ops.length; ++i) _tset(T_INDEX, ops[i], 0);
    }

    function _recordTrainers(uint64 id) private returns (uint256) {
        (address[] memory owners, uint256[] memory stakes) = staking.activeContributors();
        TrainerSlot[] storage ts = _trainers[id];
        for (uint256 i; i < owners.length; ++i) ts.push(TrainerSlot(owners[i], uint96(stakes[i])));
        return owners.length;
    }

    // ------------------------------------------------------------------ internals: checks

    function _checkSnapshot(uint64 id) private view returns (SnapshotInfo memory) {
        _known(id);
        uint64 prev = lastEpoch == 0 ? 0 : _epochs[lastEpoch].snapshotId;
        if (id < prev) revert CommitteeStaleSnapshot(id, prev);
        return _snapshots[id];
    }

    function _checkForm(EpochReport calldata r) private {
        if (r.fromTime > r.toTime || r.toTime > block.timestamp) revert CommitteeTimesOutOfOrder(r.fromTime, r.toTime, uint64(block.timestamp));
        if (r.scored.length != r.scores.length) revert CommitteeLengthMismatch("scored/scores", r.scored.length, r.scores.length);
        if (r.feePayers.length != r.fees.length) revert CommitteeLengthMismatch("feePayers/fees", r.feePayers.length, r.fees.length);
        _checkDistinct(r.downtime, T_DOWNTIME, "downtime");
        _checkDistinct(r.scored, T_SCORED, "scored");
        _checkDistinct(r.feePayers, T_PAYERS, "feePayers");
        uint256 total;
        for (uint256 i; i < r.scores.length; ++i) {
            if (r.scores[i] >= MAX_TOTAL_SCORE) revert CommitteeScoresTooLarge(r.scores[i], MAX_TOTAL_SCORE);
            total += r.scores[i];
        }
        if (total >= MAX_TOTAL_SCORE) revert CommitteeScoresTooLarge(total, MAX_TOTAL_SCORE);
    }

    function _checkDowntime(EpochReport calldata r) private view {
        if (r.downtime.length == 0) return;
        MemberSlot[] storage ms = _members[r.snapshotId];
        for (uint256 i; i < r.downtime.length; ++i) {
            bool found;
            for (uint256 j; j < ms.length && !found; ++j) found = ms[j].operator == r.downtime[i];
            if (!found) revert CommitteeNotInSnapshot(r.downtime[i], r.snapshotId);
        }
    }

    /// @dev No account twice in `xs`: a transient-storage set, cleared before returning.
    function _checkDistinct(address[] calldata xs, bytes32 tag, string memory list) private {
        for (uint256 i; i < xs.length; ++i) {
            if (_tget(tag, xs[i]) != 0) revert CommitteeDuplicateAccount(list, xs[i]);
            _tset(tag, xs[i], 1);
        }
        for (uint256 i; i < xs.length; ++i) _tset(tag, xs[i], 0);
    }

    function _keysAndPowers(uint64 id) private view returns (address[] memory keys, uint256[] memory powers) {
        MemberSlot[] storage ms = _members[id];
        keys = new address[](ms.length);
        powers = new uint256[](ms.length);
        for (uint256 j; j < ms.length; ++j) (keys[j], powers[j]) = (ms[j].signingKey, ms[j].power);
    }

    /// @dev The distinct signers' power, refused below the quorum; records who signed (bit j: member j).
    function _verify(uint64 epoch, uint64 snapshotId, bytes32 digest, bytes[] calldata signatures, SnapshotInfo memory s)
        private
        returns (uint256 power, uint256 count)
    {
        uint256[] memory bits;
        (power, count, bits) = _tally(snapshotId, digest, signatures, s.quorum, s.totalPower);
        _signedBits[epoch] = bits;
    }

    /// @dev The distinct signers' power and who signed (bit j: member j), refused below the quorum.
    function _tally(uint64 snapshotId, bytes32 digest, bytes[] calldata signatures, uint256 quorum, uint256 total)
        private
        view
        returns (uint256 power, uint256 count, uint256[] memory bits)
    {
        (address[] memory keys, uint256[] memory powers) = _keysAndPowers(snapshotId);
        bits = new uint256[]((keys.length + 255) / 256);
        for (uint256 i; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i], i);
            uint256 j = _indexOf(keys, signer);
            if (j == type(uint256).max) revert CommitteeUnknownSigner(signer, snapshotId);
            uint256 bit = 1 << (j % 256);
            if (bits[j / 256] & bit != 0) revert CommitteeDuplicateSigner(signer);
            bits[j / 256] |= bit;
            power += powers[j];
            ++count;
        }
        if (power < quorum) revert CommitteeInsufficientPower(snapshotId, power, quorum, total, count);
    }

    function _recover(bytes32 digest, bytes calldata signature, uint256 index) private pure returns (address signer) {
        if (signature.length != 65) revert CommitteeBadSignature(index, "not 65 bytes");
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.InvalidSignatureS) revert CommitteeBadSignature(index, "high s");
        if (err != ECDSA.RecoverError.NoError) revert CommitteeBadSignature(index, "unrecoverable");
    }

    function _indexOf(address[] memory keys, address a) private pure returns (uint256) {
        for (uint256 j; j < keys.length; ++j) if (keys[j] == a) return j;
        return type(uint256).max;
    }

    // ------------------------------------------------------------------ internals: settlement

    /// @dev The infraction is at the accepted report's snapshot (the stake that gave the signer its power), as the TS ledger has it.
    function _slashConflict(uint64 epoch, address operator, address signer, bytes32 digest, uint64 time) private returns (bool) {
        bytes32 eid = keccak256(abi.encode(CONFLICT_TAG, uint256(epoch), operator));
        uint256 pool = uint256(uint160(operator));
        if (!staking.canSlash(pool, Staking.Infraction.DoubleSign, time, eid)) return false;
        staking.committeeSlash(pool, Staking.Infraction.DoubleSign, time, eid);
        emit ConflictSlashed(epoch, operator, signer, eid, digest);
        return true;
    }

    function _settleDowntime(EpochReport calldata r, uint64 infractionTime) private {
        for (uint256 i; i < r.downtime.length; ++i) {
            address op = r.downtime[i];
            bytes32 eid = keccak256(abi.encode(DOWNTIME_TAG, uint256(r.epoch), op));
            uint256 pool = uint256(uint160(op));
            bool ok = staking.canSlash(pool, Staking.Infraction.Downtime, infractionTime, eid);
            if (ok) staking.committeeSlash(pool, Staking.Infraction.Downtime, infractionTime, eid);
            emit DowntimeSettled(r.epoch, op, eid, ok);
        }
    }

    function _settleEmission(EpochReport calldata r) private {
        for (uint256 i; i < r.scored.length; ++i) _scores[r.scored[i]] = ScoreRecord(r.epoch, uint192(r.scores[i]));
        uint64 from = r.fromTime > emittedUntil ? r.fromTime : emittedUntil;
        uint64 to = r.toTime > from ? r.toTime : from;
        uint256 due = to > from ? Math.mulDiv(constitution.paramValue(K_EMISSION), to - from, YEAR) : 0;
        uint256 capped = Math.min(due, reserve());
        uint256 pot = capped * constitution.paramValue(K_CONTRIB) / WAD;
        uint256 totalScore;
        for (uint256 i; i < r.scores.length; ++i) totalScore += r.scores[i];
        uint256 toContributors;
        if (totalScore > 0) {
            for (uint256 i; i < r.scored.length; ++i) {
                uint256 amount = Math.mulDiv(pot, r.scores[i], totalScore);
                if (amount == 0) continue;
                toContributors += amount;
                emit ContributorPaid(r.epoch, r.scored[i], r.scores[i], amount);
                token.safeTransfer(r.scored[i], amount);
            }
        }
        uint256 toStakers = capped - pot;
        if (r.toTime > emittedUntil) emittedUntil = r.toTime;
        emit EmissionReleased(r.epoch, from, to, due, toStakers + toContributors, toStakers, toContributors);
        if (toStakers > 0) staking.fundRewards(toStakers);
    }

    function _settleFees(EpochReport calldata r) private {
        uint256 paid;
        uint256 ordered;
        for (uint256 i; i < r.feePayers.length; ++i) {
            address payer = r.feePayers[i];
            uint256 d = _deposits[payer];
            uint256 pay = Math.min(r.fees[i], d);
            _deposits[payer] = d - pay;
            paid += pay;
            ordered += r.fees[i];
            emit FeeCharged(r.epoch, payer, r.fees[i], pay);
        }
        totalFeeDeposits -= paid;
        emit FeesSettled(r.epoch, paid, ordered - paid);
        if (paid > 0) staking.payFee(paid);
    }

    function _deposit(address account, uint256 amount) private {
        if (amount == 0) revert CommitteeZeroAmount("depositFees");
        uint256 d = _deposits[account] + amount;
        _deposits[account] = d;
        totalFeeDeposits += amount;
        emit FeesDeposited(account, msg.sender, amount, d);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ------------------------------------------------------------------ internals: transient sets

    function _tset(bytes32 tag, address a, uint256 v) private {
        bytes32 slot = keccak256(abi.encode(tag, a));
        assembly ("memory-safe") {
            tstore(slot, v)
        }
    }

    function _tget(bytes32 tag, address a) private view returns (uint256 v) {
        bytes32 slot = keccak256(abi.encode(tag, a));
        assembly ("memory-safe") {
            v := tload(slot)
        }
    }
}

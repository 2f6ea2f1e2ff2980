// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Constitution} from "./Constitution.sol";
import {DAIToken} from "./DAIToken.sol";
import {Staking} from "./Staking.sol";
import {Treasury} from "./Treasury.sol";

/// @title Governance — proposals, stake-weighted or quadratic voting, timelock; parameter changes checked by the Constitution
/// @notice An identity (an address) votes with its bonded stake, or with sqrt(its bonded stake) when
/// deployed with `quadratic` (governance.quadratic, default false), when that stake is at least
/// governance.minVoterBond. Addresses cost nothing, so quadratic votes reward splitting stake over
/// identities (√N the votes for N of them; the minimum bond caps N at stake / minVoterBond but cannot
/// stop it): turn it on only with an identity layer that makes identities costly. The stake counted
/// is the stake the voter had bonded when the proposal was made and has kept bonded since
/// (`Staking.bondedSince` the proposal's start, its block's timestamp: a position opened in that same
/// second counts; valued at the vote: less what was unbonded or slashed since), so stake bonded after
/// a proposal, or moved to a second identity, does not vote on it; the minimum bond, like quorum and threshold, is the one in force when the proposal was made.
/// A proposal passes when, at the end of governance.votingPeriod:
///  - quorum: the bonded stake of the identities that voted (for, against or abstain) ≥ governance.quorum × the total bonded
///    stake when the proposal was made (the total *quadratic* power is Σ sqrt over every identity,
///    which the chain cannot compute without a registry of identities, so the quorum is on stake);
///  - threshold: for × 1e18 > threshold × (for + against), in votes (strictly more than the share;
///    abstentions count toward quorum only).
/// It then waits governance.timelock (an amendment: governance.amendmentThreshold and
/// governance.amendmentDelay) before anyone may execute it. Proposal kinds: a parameter change (the
/// Constitution refuses values outside its bounds, at proposal and at execution; staking parameters
/// are pushed to Staking), an amendment of a parameter's bounds, a treasury spend, the token's
/// guardian (appoint one for a term, or revoke it), and an operational role of an AccessControl
/// contract this governance administers (grant or revoke, e.g. Staking's DOWNTIME_REPORTER_ROLE or
/// ContributionRegistry's SCORER_ROLE). After `dai chain deploy` this contract holds every role of
/// the system, so every change to the system goes through a vote and its timelock.
contract Governance is ReentrancyGuard {
    enum Kind {
        Param,
        Amendment,
        Spend,
        Guardian,
        Role
    }

    enum State {
        None,
        Active,
        Defeated,
        Queued,
        Executable,
        Executed
    }

    /// @notice A proposal as `proposal(id)` returns it.
    struct Proposal {
        Kind kind;
        address proposer;
        uint64 votingEnds;
        uint64 delay;
        bool executed;
        bytes32 key; // Param, Amendment: parameter key; Role: the role
        uint256 a; // Param: value; Amendment: min; Spend: amount; Guardian: term in seconds (0: revoke); Role: 1 grant, 0 revoke
        uint256 b; // Amendment: max; Role: the target contract (as uint160)
        address to; // Spend: recipient; Guardian: the new guardian (zero: revoke); Role: the account
        uint256 quorum; // wad
        uint256 threshold; // wad
        uint256 bondedAtStart;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 stakeVoted; // for + against + abstain: the stake quorum is measured on
        uint256 abstainVotes;
    }

    /// @dev Votes and the stake behind them on one side of a proposal: one slot, so a vote writes one
    /// tally slot (stake and votes are at most the token supply, far below 2^128).
    struct Tally {
        uint128 votes;
        uint128 stake;
    }

    /// @dev A proposal in storage, packed so that a vote reads one slot of it (slot 0: existence,
    /// end of voting, snapshot time, minimum bond) and writes one (its side's tally).
    struct Record {
        uint48 votingEnds; // zero: no proposal
        uint48 start; // positions opened at or before this time vote (Staking.bondedSince)
        uint128 minVoterBond; // governance.minVoterBond when proposed
        Kind kind;
        bool executed;
        address proposer;
        uint48 delay;
        uint64 quorum; // wad
        uint64 threshold; // wad
        uint128 bondedAtStart;
        bytes32 key;
        uint256 a;
        uint256 b;
        address to;
        Tally yes;
        Tally no;
        Tally abstain; // counts toward quorum only (OpenZeppelin's GovernorCountingSimple)
    }

    uint256 private constant WAD = 1e18;
    /// @notice castVote's `support`, as OpenZeppelin's GovernorCountingSimple counts it.
    uint8 public constant AGAINST = 0;
    uint8 public constant FOR = 1;
    uint8 public constant ABSTAIN = 2;

    Constitution public immutable constitution;
    Staking public immutable staking;
    Treasury public immutable treasury;
    /// @notice governance.quadratic: votes = sqrt(stake) when true, stake when false (fixed at deployment).
    bool public immutable quadratic;

    mapping(uint256 => Record) private _proposals;
    mapping(uint256 => mapping(address => bool)) public hasVoted;
    /// @notice Number of proposals made (ids start at 1).
    uint256 public proposalCount;

    /// @notice A proposal was made.
    event ProposalCreated(uint256 indexed id, Kind kind, address indexed proposer, bytes32 key, uint256 a, uint256 b, address to, uint64 votingEnds);
    /// @notice A vote was cast (support 0 against, 1 for, 2 abstain) with `votes` votes (stake, or sqrt(stake) when quadratic) from `stake` bonded tokens.
    event VoteCast(uint256 indexed id, address indexed voter, uint8 support, uint256 votes, uint256 stake);
    /// @notice A passed proposal was executed.
    event ProposalExecuted(uint256 indexed id);

    error GovernanceUnknownProposal(uint256 id);
    error GovernanceBelowMinimumBond(address voter, uint256 bonded, uint256 minimum);
    error GovernanceVotingClosed(uint256 id, uint64 votingEnds);
    error GovernanceAlreadyVoted(uint256 id, address voter);
    error GovernanceInvalidSupport(uint8 support);
    error GovernanceVotingOpen(uint256 id, uint64 votingEnds);
    error GovernanceNotPassed(uint256 id, State state);
    error GovernanceTimelockNotExpired(uint256 id, uint64 executableAt);
    error GovernanceAlreadyExecuted(uint256 id);
    error GovernanceInvalidProposal(string reason);

    /// @notice Wire the Constitution, Staking and Treasury this governance controls.
    constructor(Constitution constitution_, Staking staking_, Treasury treasury_, bool quadratic_) {
        constitution = constitution_;
        staking = staking_;
        treasury = treasury_;
        quadratic = quadratic_;
    }

    // ------------------------------------------------------------------ proposing

    /// @notice Propose setting parameter `key` (keccak256 of its name) to `value` (refused now if outside the bounds).
    function proposeParam(bytes32 key, uint256 value) external returns (uint256) {
        constitution.checkValue(key, value);
        return _propose(Kind.Param, key, value, 0, address(0));
    }

    /// @notice Propose new bounds [min, max] for parameter `key` (an amendment: supermajority, longer delay).
    function proposeAmendment(bytes32 key, uint256 min, uint256 max) external returns (uint256) {
        constitution.entry(key);
        if (min > max) revert GovernanceInvalidProposal("min exceeds max");
        return _propose(Kind.Amendment, key, min, max, address(0));
    }

    /// @notice Propose a treasury spend of `amount` to `to`.
    function proposeSpend(address to, uint256 amount) external returns (uint256) {
        if (to == address(0) || amount == 0) revert GovernanceInvalidProposal("a spend needs a recipient and an amount > 0");
        return _propose(Kind.Spend, bytes32(0), amount, 0, to);
    }

    /// @notice Propose appointing `guardian` as the token's guardian for `term` seconds from execution
    /// (0 < term <= DAIToken.MAX_GUARDIAN_TERM), or revoking the guardian (`guardian` zero, `term` 0).
    function proposeGuardian(address guardian, uint64 term) external returns (uint256) {
        if (guardian == address(0) ? term != 0 : (term == 0 || term > token().MAX_GUARDIAN_TERM())) {
            revert GovernanceInvalidProposal("a guardian needs a term in (0, MAX_GUARDIAN_TERM]; a revocation names no guardian and no term");
        }
        return _propose(Kind.Guardian, bytes32(0), term, 0, guardian);
    }

    /// @notice Propose granting (`grant`) or revoking `role` of `account` on the AccessControl contract
    /// `target` (which must have made this governance its admin). Only operational roles: the admin
    /// role and Staking's PARAMS_ROLE stay with this governance, so no vote can hand them to an account;
    /// Staking's COMMITTEE_ROLE goes only to a contract (one that verifies what it settles).
    function proposeRole(address target, bytes32 role, address account, bool grant) external returns (uint256) {
        if (target == address(0) || account == address(0)) revert GovernanceInvalidProposal("a role change needs a target contract and an account");
        if (role == bytes32(0) || role == staking.PARAMS_ROLE()) revert GovernanceInvalidProposal("the admin and parameter roles stay with governance");
        // The committee role slashes: only a contract that verifies what it settles (a Committee) may hold it, never a key.
        if (grant && role == staking.COMMITTEE_ROLE() && account.code.length == 0) revert GovernanceInvalidProposal("the committee role goes to a contract, not to an account with a key");
        return _propose(Kind.Role, role, grant ? 1 : 0, uint256(uint160(target)), account);
    }

    /// @notice The token whose guardian this governance appoints and revokes (Staking's token).
    function token() public view returns (DAIToken) {
        return DAIToken(address(staking.token()));
    }

    function _propose(Kind kind, bytes32 key, uint256 a, uint256 b, address to) private returns (uint256 id) {
        uint256 minimum = constitution.paramValue(keccak256("governance.minVoterBond"));
        _votes(msg.sender, block.timestamp, minimum); // a proposer must be able to vote
        id = ++proposalCount;
        bool amend = kind == Kind.Amendment;
        uint48 ends = SafeCast.toUint48(block.timestamp + constitution.paramValue(keccak256("governance.votingPeriod")) / 1000);
        // Everything a vote and the tally need is cached here, so that a vote reads no other contract's parameters.
        Record storage p = _proposals[id];
        p.votingEnds = ends;
        p.start = uint48(block.timestamp);
        p.minVoterBond = SafeCast.toUint128(minimum);
        p.kind = kind;
        p.proposer = msg.sender;
        p.delay = SafeCast.toUint48(constitution.paramValue(amend ? keccak256("governance.amendmentDelay") : keccak256("governance.timelock")) / 1000);
        p.quorum = SafeCast.toUint64(constitution.paramValue(keccak256("governance.quorum")));
        p.threshold = SafeCast.toUint64(constitution.paramValue(amend ? keccak256("governance.amendmentThreshold") : keccak256("governance.threshold")));
        p.bondedAtStart = SafeCast.toUint128(staking.totalBonded());
        // Zero words are not written: a fresh slot left zero costs nothing.
        if (key != bytes32(0)) p.key = key;
        if (a != 0) p.a = a;
        if (b != 0) p.b = b;
        if (to != address(0)) p.to = to;
        emit ProposalCreated(id, kind, msg.sender, key, a, b, to, ends);
    }

    // ------------------------------------------------------------------ voting

    /// @notice Vote on proposal `id` — `support` 0 against, 1 for, 2 abstain (OpenZeppelin's
    /// GovernorCountingSimple; abstain counts toward quorum only) — with the stake the caller had
    /// bonded at the proposal's start and still has (sqrt of it when quadratic).
    function castVote(uint256 id, uint8 support) external returns (uint256 votes) {
        if (support > ABSTAIN) revert GovernanceInvalidSupport(support);
        Record storage p = _proposals[id];
        uint48 ends = p.votingEnds;
        if (ends == 0) revert GovernanceUnknownProposal(id);
        if (block.timestamp >= ends) revert GovernanceVotingClosed(id, ends);
        if (hasVoted[id][msg.sender]) revert GovernanceAlreadyVoted(id, msg.sender);
        uint256 stake;
        (votes, stake) = _votes(msg.sender, p.start, p.minVoterBond);
        hasVoted[id][msg.sender] = true;
        Tally storage t = support == FOR ? p.yes : support == AGAINST ? p.no : p.abstain;
        (t.votes, t.stake) = (t.votes + SafeCast.toUint128(votes), t.stake + SafeCast.toUint128(stake));
        emit VoteCast(id, msg.sender, support, votes, stake);
    }

    /// @notice Votes `voter` would cast on a proposal made now, and the stake behind them (reverts below the minimum bond).
    function votesOf(address voter) external view returns (uint256 votes, uint256 stake) {
        return _votes(voter, block.timestamp, constitution.paramValue(keccak256("governance.minVoterBond")));
    }

    /// @notice Votes `voter` would cast on proposal `id` now, and the stake behind them (reverts below the proposal's minimum bond).
    function votesOn(uint256 id, address voter) external view returns (uint256 votes, uint256 stake) {
        Record storage p = _proposals[id];
        if (p.votingEnds == 0) revert GovernanceUnknownProposal(id);
        return _votes(voter, p.start, p.minVoterBond);
    }

    function _votes(address voter, uint256 start, uint256 minimum) private view returns (uint256 votes, uint256 stake) {
        stake = staking.bondedSince(voter, start);
        if (stake < minimum || stake == 0) revert GovernanceBelowMinimumBond(voter, stake, minimum);
        votes = quadratic ? Math.sqrt(stake) : stake;
    }

    // ------------------------------------------------------------------ outcome

    /// @notice A proposal's state now.
    function state(uint256 id) public view returns (State) {
        Record storage p = _proposals[id];
        if (p.votingEnds == 0) return State.None;
        if (p.executed) return State.Executed;
        if (block.timestamp < p.votingEnds) return State.Active;
        uint256 forVotes = p.yes.votes;
        uint256 cast = forVotes + p.no.votes;
        bool quorate = (uint256(p.yes.stake) + p.no.stake + p.abstain.stake) * WAD >= uint256(p.quorum) * p.bondedAtStart;
        bool passed = cast > 0 && forVotes * WAD > p.threshold * cast;
        if (!quorate || !passed) return State.Defeated;
        return block.timestamp < uint256(p.votingEnds) + p.delay ? State.Queued : State.Executable;
    }

    /// @notice A proposal's record (all zero when there is none).
    function proposal(uint256 id) external view returns (Proposal memory r) {
        Record storage p = _proposals[id];
        (r.kind, r.proposer, r.votingEnds, r.delay, r.executed) = (p.kind, p.proposer, p.votingEnds, p.delay, p.executed);
        (r.key, r.a, r.b, r.to) = (p.key, p.a, p.b, p.to);
        (r.quorum, r.threshold, r.bondedAtStart) = (p.quorum, p.threshold, p.bondedAtStart);
        (r.forVotes, r.againstVotes, r.stakeVoted) = (p.yes.votes, p.no.votes, uint256(p.yes.stake) + p.no.stake + p.abstain.stake);
        r.abstainVotes = p.abstain.votes;
    }

    /// @notice Execute a passed proposal after its timelock (anyone may call).
    function execute(uint256 id) external nonReentrant {
        Record storage p = _proposals[id];
        State s = state(id);
        if (s == State.None) revert GovernanceUnknownProposal(id);
        if (s == State.Executed) revert GovernanceAlreadyExecuted(id);
        if (s == State.Active) revert GovernanceVotingOpen(id, p.votingEnds);
        if (s == State.Defeated) revert GovernanceNotPassed(id, s);
        if (s == State.Queued) revert GovernanceTimelockNotExpired(id, p.votingEnds + p.delay);
        p.executed = true;
        emit ProposalExecuted(id);
        if (p.kind == Kind.Param) {
            constitution.setValue(p.key, p.a);
            _syncStaking();
        } else if (p.kind == Kind.Amendment) {
            constitution.amendBounds(p.key, p.a, p.b);
        } else if (p.kind == Kind.Spend) {
            treasury.spend(p.to, p.a);
        } else if (p.kind == Kind.Guardian) {
            if (p.to == address(0)) token().revokeGuardian();
            else token().appointGuardian(p.to, uint64(block.timestamp + p.a));
        } else {
            address target = address(uint160(p.b));
            if (p.a == 1) IAccessControl(target).grantRole(p.key, p.to);
            else IAccessControl(target).revokeRole(p.key, p.to);
        }
    }

    /// @dev Push the Constitution's staking parameters to Staking (durations ms → s).
    function _syncStaking() private {
        Staking.Params memory s;
        s.burnFraction = _v("fees.burnFraction");
        s.insuranceFraction = _v("staking.insuranceFraction");
        s.insuranceCoverage = _v("staking.insuranceCoverage");
        s.maxCommission = _v("staking.maxCommission");
        s.doubleSignFraction = _v("slashing.doubleSignFraction");
        s.downtimeFraction = _v("slashing.downtimeFraction");
        s.minValidatorBond = _v("staking.minValidatorBond");
        s.minContributorBond = _v("staking.minContributorBond");
        s.unbondingPeriod = uint64(_v("staking.unbondingPeriod") / 1000);
        s.downtimeJailDuration = uint64(_v("slashing.downtimeJailDuration") / 1000);
        s.multipliers = [WAD, _v("staking.lockMultiplier30d"), _v("staking.lockMultiplier90d"), _v("staking.lockMultiplier180d"), _v("staking.lockMultiplier365d")];
        staking.setParams(s);
    }

    function _v(string memory name) private view returns (uint256) {
        return constitution.paramValue(keccak256(bytes(name)));
    }
}

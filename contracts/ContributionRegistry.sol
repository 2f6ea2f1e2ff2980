// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title ContributionRegistry — per-epoch commit-reveal of contribution scores
/// @notice Each epoch (`epochLength` seconds from `genesis`) has a commit phase (the first
/// `commitWindow` seconds) and a reveal phase (the rest). A scorer (SCORER_ROLE: the validators
/// that measured the training round) commits `keccak256(abi.encode(epoch, scorer, contributor,
/// score, salt))` for a contributor, then reveals the score and salt; a reveal that does not match its
/// commitment reverts, so no scorer can copy or adapt to another's score before the reveal. The
/// registry keeps each revealed score and the per-contributor sum and count of the epoch.
contract ContributionRegistry is AccessControl {
    bytes32 public constant SCORER_ROLE = keccak256("SCORER_ROLE");

    uint64 public immutable genesis;
    uint64 public immutable epochLength;
    uint64 public immutable commitWindow;

    mapping(uint256 => mapping(address => mapping(address => bytes32))) public commitments; // epoch => scorer => contributor
    mapping(uint256 => mapping(address => mapping(address => bool))) public revealed;
    mapping(uint256 => mapping(address => mapping(address => uint256))) public scoreOf;
    mapping(uint256 => mapping(address => uint256)) public scoreSum; // epoch => contributor
    mapping(uint256 => mapping(address => uint256)) public scoreCount;

    /// @notice A scorer committed to a contributor's score.
    event ScoreCommitted(uint256 indexed epoch, address indexed scorer, address indexed contributor, bytes32 commitment);
    /// @notice A scorer revealed a contributor's score.
    event ScoreRevealed(uint256 indexed epoch, address indexed scorer, address indexed contributor, uint256 score);

    error ContributionRegistryInvalidSchedule(string reason);
    error ContributionRegistryNotCommitPhase(uint256 epoch, uint256 currentEpoch);
    error ContributionRegistryNotRevealPhase(uint256 epoch, uint256 currentEpoch);
    error ContributionRegistryAlreadyCommitted(uint256 epoch, address scorer, address contributor);
    error ContributionRegistryNoCommitment(uint256 epoch, address scorer, address contributor);
    error ContributionRegistryAlreadyRevealed(uint256 epoch, address scorer, address contributor);
    error ContributionRegistryRevealMismatch(uint256 epoch, address scorer, address contributor);
    error ContributionRegistryInvalidCommitment();

    /// @notice Epochs of `epochLength_` seconds from `genesis_`, the first `commitWindow_` of each for commits.
    constructor(uint64 genesis_, uint64 epochLength_, uint64 commitWindow_, address admin) {
        if (epochLength_ == 0 || commitWindow_ == 0 || commitWindow_ >= epochLength_) {
            revert ContributionRegistryInvalidSchedule("need 0 < commitWindow < epochLength");
        }
        genesis = genesis_;
        epochLength = epochLength_;
        commitWindow = commitWindow_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice The current epoch and whether it is in its commit phase.
    function currentEpoch() public view returns (uint256 epoch, bool commitPhase) {
        if (block.timestamp < genesis) return (0, false);
        uint256 elapsed = block.timestamp - genesis;
        epoch = elapsed / epochLength;
        commitPhase = elapsed % epochLength < commitWindow;
    }

    /// @notice The commitment a scorer must submit for (epoch, contributor, score, salt).
    function commitmentOf(uint256 epoch, address scorer, address contributor, uint256 score, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(epoch, scorer, contributor, score, salt));
    }

    /// @notice Commit to a contributor's score for the current epoch (SCORER_ROLE, commit phase, once).
    function commit(uint256 epoch, address contributor, bytes32 commitment) external onlyRole(SCORER_ROLE) {
        (uint256 e, bool commitPhase) = currentEpoch();
        if (epoch != e || !commitPhase || block.timestamp < genesis) revert ContributionRegistryNotCommitPhase(epoch, e);
        if (commitment == bytes32(0)) revert ContributionRegistryInvalidCommitment();
        if (commitments[epoch][msg.sender][contributor] != bytes32(0)) revert ContributionRegistryAlreadyCommitted(epoch, msg.sender, contributor);
        commitments[epoch][msg.sender][contributor] = commitment;
        emit ScoreCommitted(epoch, msg.sender, contributor, commitment);
    }

    /// @notice Reveal a committed score (reveal phase of the same epoch); reverts unless it matches the commitment.
    function reveal(uint256 epoch, address contributor, uint256 score, bytes32 salt) external {
        (uint256 e, bool commitPhase) = currentEpoch();
        if (epoch != e || commitPhase || block.timestamp < genesis) revert ContributionRegistryNotRevealPhase(epoch, e);
        bytes32 c = commitments[epoch][msg.sender][contributor];
        if (c == bytes32(0)) revert ContributionRegistryNoCommitment(epoch, msg.sender, contributor);
        if (revealed[epoch][msg.sender][contributor]) revert ContributionRegistryAlreadyRevealed(epoch, msg.sender, contributor);
        if (commitmentOf(epoch, msg.sender, contributor, score, salt) != c) revert ContributionRegistryRevealMismatch(epoch, msg.sender, contributor);
        revealed[epoch][msg.sender][contributor] = true;
        scoreOf[epoch][msg.sender][contributor] = score;
        scoreSum[epoch][contributor] += score;
        scoreCount[epoch][contributor] += 1;
        emit ScoreRevealed(epoch, msg.sender, contributor, score);
    }
}

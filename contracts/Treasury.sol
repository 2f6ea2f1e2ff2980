// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Treasury — tokens spent only by a passed governance proposal or by M of N signers
/// @notice Governance (the Governance contract, after a vote and its timelock) spends directly with
/// `spend`. The multisig path: a signer proposes a spend (counting as its approval), other signers
/// approve, and once `threshold` distinct signers approved anyone executes it, once.
contract Treasury is ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct Spend {
        address to;
        uint256 amount;
        uint256 approvals;
        bool executed;
    }

    IERC20 public immutable token;
    /// @notice The Governance contract (settable once by the deployer, who cannot spend).
    address public governance;
    address private immutable _deployer;
    /// @notice M: approvals a multisig spend needs.
    uint256 public immutable threshold;
    mapping(address => bool) public isSigner;
    uint256 public signerCount;
    mapping(uint256 => Spend) private _spends;
    mapping(uint256 => mapping(address => bool)) public approved;
    uint256 public spendCount;

    /// @notice Tokens left the treasury (`spendId` 0 for a governance spend).
    event Spent(uint256 indexed spendId, address indexed to, uint256 amount, address indexed by);
    /// @notice A signer proposed a multisig spend.
    event SpendProposed(uint256 indexed spendId, address indexed to, uint256 amount, address indexed signer);
    /// @notice A signer approved a multisig spend.
    event SpendApproved(uint256 indexed spendId, address indexed signer, uint256 approvals);
    /// @notice The governance address was set.
    event GovernanceSet(address indexed governance);

    error TreasuryInvalidSigners(string reason);
    error TreasuryNotGovernance(address caller);
    error TreasuryNotSigner(address caller);
    error TreasuryUnknownSpend(uint256 spendId);
    error TreasuryAlreadyApproved(uint256 spendId, address signer);
    error TreasuryAlreadyExecuted(uint256 spendId);
    error TreasuryNotEnoughApprovals(uint256 spendId, uint256 approvals, uint256 threshold);
    error TreasuryInvalidSpend(string reason);
    error TreasuryInsufficientFunds(uint256 balance, uint256 needed);
    error TreasuryGovernanceAlreadySet(address governance);

    /// @notice `signers` (distinct, non-zero) of which `threshold_` must approve a multisig spend.
    constructor(IERC20 token_, address[] memory signers, uint256 threshold_) {
        if (threshold_ == 0 || threshold_ > signers.length) revert TreasuryInvalidSigners("need 1 <= M <= N");
        for (uint256 i = 0; i < signers.length; ++i) {
            if (signers[i] == address(0)) revert TreasuryInvalidSigners("a signer is the zero address");
            if (isSigner[signers[i]]) revert TreasuryInvalidSigners("a signer appears twice");
            isSigner[signers[i]] = true;
        }
        signerCount = signers.length;
        threshold = threshold_;
        token = token_;
        _deployer = msg.sender;
    }

    /// @notice Set the Governance contract once (deployer only).
    function setGovernance(address governance_) external {
        if (msg.sender != _deployer) revert TreasuryNotGovernance(msg.sender);
        if (governance != address(0)) revert TreasuryGovernanceAlreadySet(governance);
        if (governance_ == address(0)) revert TreasuryInvalidSpend("governance is the zero address");
        governance = governance_;
        emit GovernanceSet(governance_);
    }

    /// @notice Pay `amount` to `to` (Governance only: a passed, timelocked proposal).
    function spend(address to, uint256 amount) external nonReentrant {
        if (msg.sender != governance || governance == address(0)) revert TreasuryNotGovernance(msg.sender);
        _pay(0, to, amount);
    }

    /// @notice Propose a multisig spend (signers only); the proposer's approval is counted.
    function proposeSpend(address to, uint256 amount) external returns (uint256 id) {
        if (!isSigner[msg.sender]) revert TreasuryNotSigner(msg.sender);
        if (to == address(0) || amount == 0) revert TreasuryInvalidSpend("a spend needs a recipient and an amount > 0");
        id = ++spendCount;
        _spends[id] = Spend(to, amount, 1, false);
        approved[id][msg.sender] = true;
        emit SpendProposed(id, to, amount, msg.sender);
        emit SpendApproved(id, msg.sender, 1);
    }

    /// @notice Approve multisig spend `id` (signers only, once each).
    function approveSpend(uint256 id) external {
        if (!isSigner[msg.sender]) revert TreasuryNotSigner(msg.sender);
        Spend storage s = _spends[id];
        if (s.to == address(0)) revert TreasuryUnknownSpend(id);
        if (s.executed) revert TreasuryAlreadyExecuted(id);
        if (approved[id][msg.sender]) revert TreasuryAlreadyApproved(id, msg.sender);
        approved[id][msg.sender] = true;
        s.approvals += 1;
        emit SpendApproved(id, msg.sender, s.approvals);
    }

    /// @notice Execute multisig spend `id` once M signers approved (anyone may call).
    function executeSpend(uint256 id) external nonReentrant {
        Spend storage s = _spends[id];
        if (s.to == address(0)) revert TreasuryUnknownSpend(id);
        if (s.executed) revert TreasuryAlreadyExecuted(id);
        if (s.approvals < threshold) revert TreasuryNotEnoughApprovals(id, s.approvals, threshold);
        s.executed = true;
        _pay(id, s.to, s.amount);
    }

    /// @notice A multisig spend's record.
    function getSpend(uint256 id) external view returns (Spend memory) {
        return _spends[id];
    }

    function _pay(uint256 id, address to, uint256 amount) private {
        if (to == address(0) || amount == 0) revert TreasuryInvalidSpend("a spend needs a recipient and an amount > 0");
        uint256 balance = token.balanceOf(address(this));
        if (balance < amount) revert TreasuryInsufficientFunds(balance, amount);
        emit Spent(id, to, amount, msg.sender);
        token.safeTransfer(to, amount);
    }
}

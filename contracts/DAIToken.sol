// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title DAIToken — the fixed-supply token of the dai network
/// @notice Exactly 1,000,000,000 × 10^18 base units are minted once, at deployment, over the
/// genesis allocations; there is no mint function afterwards. ERC-20 with permit (EIP-2612),
/// votes (ERC20Votes) and burn. A guardian may pause transfers in an emergency, but only until a
/// bounded expiry fixed at deployment (at most 180 days later), and governance may revoke the
/// guardian at any time. A pause never outlives its guardian: when the guardian expires or is
/// revoked, the token is unpaused automatically.
/// @dev Errors are named like the TypeScript economy's (`Token*`), so a revert and a simulator
/// rejection read alike.
contract DAIToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes {
    /// @notice The fixed total supply minted at deployment.
    uint256 public constant TOTAL_SUPPLY = 1_000_000_000 * 1e18;
    /// @notice The longest time after deployment a guardian may hold the pause power.
    uint64 public constant MAX_GUARDIAN_TERM = 180 days;

    /// @notice Who may pause and unpause (zero once revoked).
    address public guardian;
    /// @notice Time (unix seconds) after which the guardian has no power.
    uint64 public immutable guardianExpiry;
    /// @notice Who may revoke the guardian and hand governance on (the Governance contract in production).
    address public governance;

    bool private _pauseFlag;

    /// @notice Emitted when the guardian paused transfers.
    event Paused(address indexed guardian);
    /// @notice Emitted when the guardian lifted a pause.
    event Unpaused(address indexed guardian);
    /// @notice Emitted when governance revoked the guardian (any pause ends with it).
    event GuardianRevoked(address indexed guardian, address indexed by);
    /// @notice Emitted when the governance role moved to a new address.
    event GovernanceTransferred(address indexed previous, address indexed next);

    /// @notice A genesis allocation is refused (`reason` says why).
    error TokenInvalidAllocation(string reason);
    /// @notice The guardian expiry is not in (now, now + MAX_GUARDIAN_TERM].
    error TokenInvalidGuardianExpiry(uint64 expiry, uint64 latest);
    /// @notice The caller is not the guardian.
    error TokenNotGuardian(address caller);
    /// @notice The guardian's term is over or it was revoked.
    error TokenGuardianInactive(uint64 expiry);
    /// @notice The caller is not governance.
    error TokenNotGovernance(address caller);
    /// @notice An address argument is zero.
    error TokenInvalidAddress(string role);
    /// @notice Transfers are paused by the guardian.
    error TokenPaused();
    /// @notice There is no pause to lift.
    error TokenNotPaused();

    /// @notice Mint TOTAL_SUPPLY over `recipients` (distinct, non-zero, positive amounts summing exactly).
    /// @param guardian_ Emergency pauser (zero for none).
    /// @param guardianExpiry_ Unix time the guardian's power ends, at most 180 days from now.
    /// @param governance_ Who may revoke the guardian (a deployer first, then the Governance contract).
    constructor(
        address[] memory recipients,
        uint256[] memory amounts,
        address guardian_,
        uint64 guardianExpiry_,
        address governance_
    ) ERC20("dai", "DAI") ERC20Permit("dai") {
        if (recipients.length != amounts.length) revert TokenInvalidAllocation("recipients and amounts differ in length");
        if (recipients.length == 0) revert TokenInvalidAllocation("no allocations");
        if (governance_ == address(0)) revert TokenInvalidAddress("governance");
        uint64 latest = uint64(block.timestamp) + MAX_GUARDIAN_TERM;
        if (guardian_ != address(0) && (guardianExpiry_ <= block.timestamp || guardianExpiry_ > latest)) {
            revert TokenInvalidGuardianExpiry(guardianExpiry_, latest);
        }
        uint256 sum;
        for (uint256 i = 0; i < recipients.length; ++i) {
            address to = recipients[i];
            if (to == address(0)) revert TokenInvalidAllocation("an allocation has the zero address");
            if (amounts[i] == 0) revert TokenInvalidAllocation("every amount must be > 0");
            // Distinct recipients (genesis only, so the quadratic check is fine).
            for (uint256 j = 0; j < i; ++j) {
                if (recipients[j] == to) revert TokenInvalidAllocation("an address appears twice; merge its allocations");
            }
            sum += amounts[i];
            _mint(to, amounts[i]);
        }
        if (sum != TOTAL_SUPPLY) revert TokenInvalidAllocation("allocations do not sum to the total supply");
        guardian = guardian_;
        guardianExpiry = guardian_ == address(0) ? 0 : guardianExpiry_;
        governance = governance_;
    }

    /// @notice Whether transfers are paused now (only while the guardian is active).
    function paused() public view returns (bool) {
        return _pauseFlag && guardianActive();
    }

    /// @notice Whether the guardian may still pause (not revoked, not expired).
    function guardianActive() public view returns (bool) {
        return guardian != address(0) && block.timestamp < guardianExpiry;
    }

    /// @notice Pause every transfer, burn and permit-driven move (guardian only, while active).
    function pause() external {
        _onlyActiveGuardian();
        _pauseFlag = true;
        emit Paused(msg.sender);
    }

    /// @notice Lift the pause (guardian only, while active; it also lapses with the guardian).
    function unpause() external {
        _onlyActiveGuardian();
        if (!_pauseFlag) revert TokenNotPaused();
        _pauseFlag = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Remove the guardian for good, ending any pause (governance only).
    function revokeGuardian() external {
        if (msg.sender != governance) revert TokenNotGovernance(msg.sender);
        address g = guardian;
        if (g == address(0)) revert TokenGuardianInactive(guardianExpiry);
        guardian = address(0);
        _pauseFlag = false;
        emit GuardianRevoked(g, msg.sender);
    }

    /// @notice Hand the governance role to `next` (governance only), e.g. to the Governance contract.
    function transferGovernance(address next) external {
        if (msg.sender != governance) revert TokenNotGovernance(msg.sender);
        if (next == address(0)) revert TokenInvalidAddress("governance");
        emit GovernanceTransferred(governance, next);
        governance = next;
    }

    function _onlyActiveGuardian() private view {
        if (msg.sender != guardian || guardian == address(0)) revert TokenNotGuardian(msg.sender);
        if (block.timestamp >= guardianExpiry) revert TokenGuardianInactive(guardianExpiry);
    }

    /// @dev Every balance change (transfer, burn) is refused while paused.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        if (paused()) revert TokenPaused();
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}

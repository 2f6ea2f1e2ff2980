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
/// votes (ERC20Votes) and burn. A guardian may pause transfers in an emergency, within two bounds:
/// its term (at most MAX_GUARDIAN_TERM from its appointment) and the pause's own length (a pause
/// lapses by itself after MAX_PAUSE_DURATION, and the next one may start only MAX_PAUSE_DURATION
/// after it ended, so governance always has a window to act). Governance may revoke the guardian or
/// appoint a new one at any time. A pause never outlives its guardian: when the guardian expires, is
/// revoked or replaced, the token is unpaused.
/// @dev Errors are named like the TypeScript economy's (`Token*`), so a revert and a simulator
/// rejection read alike.
contract DAIToken is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes {
    /// @notice The fixed total supply minted at deployment.
    uint256 public constant TOTAL_SUPPLY = 1_000_000_000 * 1e18;
    /// @notice The longest time after deployment a guardian may hold the pause power.
    uint64 public constant MAX_GUARDIAN_TERM = 180 days;
    /// @notice The longest a pause lasts; it is also the wait between the end of a pause and the next one.
    uint64 public constant MAX_PAUSE_DURATION = 7 days;

    /// @notice Who may pause and unpause (zero once revoked).
    address public guardian;
    /// @notice Time (unix seconds) after which the guardian has no power.
    uint64 public guardianExpiry;
    /// @notice Who may revoke the guardian and hand governance on (the Governance contract in production).
    address public governance;

    /// @notice Time (unix seconds) the current or last pause ends (0: never paused under this guardian).
    uint64 public pausedUntil;

    /// @notice Emitted when the guardian paused transfers until `until` at the latest.
    event Paused(address indexed guardian, uint64 until);
    /// @notice Emitted when the guardian lifted a pause.
    event Unpaused(address indexed guardian);
    /// @notice Emitted when governance revoked the guardian (any pause ends with it).
    event GuardianRevoked(address indexed guardian, address indexed by);
    /// @notice Emitted when governance appointed a guardian (any pause of the previous one ended).
    event GuardianAppointed(address indexed previous, address indexed next, uint64 expiry);
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
    /// @notice A pause is running, or the last one ended less than MAX_PAUSE_DURATION ago.
    error TokenPauseCooldown(uint64 availableAt);

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
        if (guardian_ != address(0)) _checkGuardianExpiry(guardianExpiry_);
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

    /// @notice Whether transfers are paused now (only while the guardian is active, and until the pause lapses).
    function paused() public view returns (bool) {
        return block.timestamp < pausedUntil && guardianActive();
    }

    /// @notice Whether the guardian may still pause (not revoked, not expired).
    function guardianActive() public view returns (bool) {
        return guardian != address(0) && block.timestamp < guardianExpiry;
    }

    /// @notice Pause every transfer, burn and permit-driven move for MAX_PAUSE_DURATION at most
    /// (guardian only, while active; not during a pause nor within MAX_PAUSE_DURATION after one).
    function pause() external {
        _onlyActiveGuardian();
        uint64 last = pausedUntil;
        if (last != 0 && block.timestamp < uint256(last) + MAX_PAUSE_DURATION) revert TokenPauseCooldown(last + MAX_PAUSE_DURATION);
        uint64 until = uint64(block.timestamp) + MAX_PAUSE_DURATION;
        pausedUntil = until;
        emit Paused(msg.sender, until);
    }

    /// @notice Lift the pause early (guardian only, while active; it also lapses by itself and with the guardian).
    function unpause() external {
        _onlyActiveGuardian();
        if (!paused()) revert TokenNotPaused();
        pausedUntil = uint64(block.timestamp);
        emit Unpaused(msg.sender);
    }

    /// @notice Remove the guardian for good, ending any pause (governance only).
    function revokeGuardian() external {
        if (msg.sender != governance) revert TokenNotGovernance(msg.sender);
        address g = guardian;
        if (g == address(0)) revert TokenGuardianInactive(guardianExpiry);
        guardian = address(0);
        guardianExpiry = 0;
        pausedUntil = 0;
        emit GuardianRevoked(g, msg.sender);
    }

    /// @notice Appoint `next` as guardian until `expiry` (governance only; at most MAX_GUARDIAN_TERM from now).
    /// @dev Any pause of the previous guardian ends, and the new one may pause at once.
    function appointGuardian(address next, uint64 expiry) external {
        if (msg.sender != governance) revert TokenNotGovernance(msg.sender);
        if (next == address(0)) revert TokenInvalidAddress("guardian");
        _checkGuardianExpiry(expiry);
        emit GuardianAppointed(guardian, next, expiry);
        guardian = next;
        guardianExpiry = expiry;
        pausedUntil = 0;
    }

    /// @notice Hand the governance role to `next` (governance only), e.g. to the Governance contract.
    function transferGovernance(address next) external {
        if (msg.sender != governance) revert TokenNotGovernance(msg.sender);
        if (next == address(0)) revert TokenInvalidAddress("governance");
        emit GovernanceTransferred(governance, next);
        governance = next;
    }

    function _checkGuardianExpiry(uint64 expiry) private view {
        uint64 latest = uint64(block.timestamp) + MAX_GUARDIAN_TERM;
        if (expiry <= block.timestamp || expiry > latest) revert TokenInvalidGuardianExpiry(expiry, latest);
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

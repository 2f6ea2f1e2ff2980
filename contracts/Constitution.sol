// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Constitution — the bounds of every numeric network parameter, and its current value
/// @notice One entry per numeric parameter of the registry (runtime/core/params.ts), keyed by
/// `keccak256(bytes(name))` and generated from the registry by the deploy script
/// (contracts/deploy/constitution-table.ts), never hand-copied. Units are the registry's, as exact
/// integers: durations in milliseconds, integers as is, fractions / multipliers / whole tokens
/// scaled by 1e18 (so tokens are base units). A value outside its bounds is refused; so is a set of
/// values that breaks a cross-parameter rule (lock multipliers never decrease with the lock; an
/// amendment needs a larger majority and a longer delay than an ordinary proposal).
/// Only governance changes anything: a value by an ordinary proposal, a bound by an amendment
/// (Governance applies the supermajority and the longer delay).
contract Constitution {
    struct Entry {
        bool exists;
        uint256 min;
        uint256 max;
        uint256 value;
    }

    /// @notice Who may change values and bounds (the Governance contract).
    address public governance;
    /// @notice Who deployed (may hand governance over once, to the Governance contract).
    address public immutable deployer;
    mapping(bytes32 => Entry) private _entries;
    /// @notice Every parameter key, in registry order.
    bytes32[] public keys;

    bytes32 private constant M30 = keccak256("staking.lockMultiplier30d");
    bytes32 private constant M90 = keccak256("staking.lockMultiplier90d");
    bytes32 private constant M180 = keccak256("staking.lockMultiplier180d");
    bytes32 private constant M365 = keccak256("staking.lockMultiplier365d");
    bytes32 private constant THRESHOLD = keccak256("governance.threshold");
    bytes32 private constant AMEND_THRESHOLD = keccak256("governance.amendmentThreshold");
    bytes32 private constant TIMELOCK = keccak256("governance.timelock");
    bytes32 private constant AMEND_DELAY = keccak256("governance.amendmentDelay");

    /// @notice A parameter's value changed.
    event ValueChanged(bytes32 indexed key, uint256 previous, uint256 value);
    /// @notice A parameter's bounds were amended.
    event BoundsAmended(bytes32 indexed key, uint256 min, uint256 max);
    /// @notice Governance moved to a new address.
    event GovernanceTransferred(address indexed previous, address indexed next);

    error ConstitutionUnknownParameter(bytes32 key);
    error ConstitutionOutOfBounds(bytes32 key, uint256 value, uint256 min, uint256 max);
    error ConstitutionInvalidBounds(bytes32 key, uint256 min, uint256 max);
    error ConstitutionConstraintViolated(string rule);
    error ConstitutionNotGovernance(address caller);
    error ConstitutionInvalidTable(string reason);
    error ConstitutionDuplicateParameter(bytes32 key);

    /// @notice Install the generated table (keys, bounds, initial values) and the governance address.
    constructor(bytes32[] memory keys_, uint256[] memory mins, uint256[] memory maxs, uint256[] memory values, address governance_) {
        if (keys_.length != mins.length || keys_.length != maxs.length || keys_.length != values.length) {
            revert ConstitutionInvalidTable("keys, mins, maxs and values differ in length");
        }
        if (governance_ == address(0)) revert ConstitutionInvalidTable("governance is the zero address");
        for (uint256 i = 0; i < keys_.length; ++i) {
            bytes32 k = keys_[i];
            if (_entries[k].exists) revert ConstitutionDuplicateParameter(k);
            if (mins[i] > maxs[i]) revert ConstitutionInvalidBounds(k, mins[i], maxs[i]);
            if (values[i] < mins[i] || values[i] > maxs[i]) revert ConstitutionOutOfBounds(k, values[i], mins[i], maxs[i]);
            _entries[k] = Entry(true, mins[i], maxs[i], values[i]);
            keys.push(k);
        }
        _checkConstraints();
        governance = governance_;
        deployer = msg.sender;
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert ConstitutionNotGovernance(msg.sender);
        _;
    }

    /// @notice Number of parameters.
    function count() external view returns (uint256) {
        return keys.length;
    }

    /// @notice A parameter's bounds and value (reverts when unknown).
    function entry(bytes32 key) public view returns (uint256 min, uint256 max, uint256 value) {
        Entry storage e = _entries[key];
        if (!e.exists) revert ConstitutionUnknownParameter(key);
        return (e.min, e.max, e.value);
    }

    /// @notice A parameter's current value (reverts when unknown).
    function paramValue(bytes32 key) public view returns (uint256) {
        (,, uint256 v) = entry(key);
        return v;
    }

    /// @notice Revert unless `value` is within `key`'s bounds.
    function checkValue(bytes32 key, uint256 value) public view {
        (uint256 min, uint256 max,) = entry(key);
        if (value < min || value > max) revert ConstitutionOutOfBounds(key, value, min, max);
    }

    /// @notice Set a parameter (governance, after a passed ordinary proposal); must be within bounds and keep every rule.
    function setValue(bytes32 key, uint256 value) external onlyGovernance {
        checkValue(key, value);
        Entry storage e = _entries[key];
        uint256 previous = e.value;
        e.value = value;
        _checkConstraints();
        emit ValueChanged(key, previous, value);
    }

    /// @notice Change a parameter's bounds (governance, after a passed amendment); the current value must stay inside.
    function amendBounds(bytes32 key, uint256 min, uint256 max) external onlyGovernance {
        Entry storage e = _entries[key];
        if (!e.exists) revert ConstitutionUnknownParameter(key);
        if (min > max) revert ConstitutionInvalidBounds(key, min, max);
        if (e.value < min || e.value > max) revert ConstitutionOutOfBounds(key, e.value, min, max);
        e.min = min;
        e.max = max;
        emit BoundsAmended(key, min, max);
    }

    /// @notice Hand governance to `next` (current governance only; the deployer wires the Governance contract this way).
    function transferGovernance(address next) external onlyGovernance {
        if (next == address(0)) revert ConstitutionInvalidTable("governance is the zero address");
        emit GovernanceTransferred(governance, next);
        governance = next;
    }

    function _has(bytes32 k) private view returns (bool) {
        return _entries[k].exists;
    }

    function _checkConstraints() private view {
        if (_has(M30) && _has(M90) && _has(M180) && _has(M365)) {
            uint256 a = _entries[M30].value;
            uint256 b = _entries[M90].value;
            uint256 c = _entries[M180].value;
            uint256 d = _entries[M365].value;
            if (a < 1e18 || b < a || c < b || d < c) {
                revert ConstitutionConstraintViolated("a longer lock must never earn a smaller multiplier (1 <= 30d <= 90d <= 180d <= 365d)");
            }
        }
        if (_has(THRESHOLD) && _has(AMEND_THRESHOLD) && _entries[AMEND_THRESHOLD].value <= _entries[THRESHOLD].value) {
            revert ConstitutionConstraintViolated("an amendment needs a larger majority than an ordinary proposal");
        }
        if (_has(TIMELOCK) && _has(AMEND_DELAY) && _entries[AMEND_DELAY].value <= _entries[TIMELOCK].value) {
            revert ConstitutionConstraintViolated("an amendment needs a longer delay than an ordinary proposal");
        }
    }
}

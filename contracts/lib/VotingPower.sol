// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title VotingPower — the voting power rule of runtime/core/consensus/power.ts, on chain
/// @notice `votingPowers` here returns exactly what `votingPowers` in power.ts returns (the same
/// validators, the same integer powers, the same order) and refuses what it refuses (custom errors
/// where the TS throws a RangeError):
///
///   e_i   = ⌊stake_i · multiplier_i / 1e18⌋                effective stake, candidates with e_i > 0
///   S     = Σ e_i,  C = Σ score_i
///   N_i   = (1e18 − w)·e_i·C + w·S·score_i  over D = 1e18·C  (C > 0), else N_i = e_i over D = 1
///   keep the maxValidators largest N_i (ties: lower address), water-fill the cap m, quantise to
///   whole power units (⌊x / (D·unit)⌋), drop zeros, then enforce share_i ≤ m on the integers
///   (equal power for everyone when n·m ≤ 1), and sort by power descending, then address.
///
/// Addresses order as numbers here and as strings in the TS: the two agree when the TS side uses
/// lowercase 0x-hex addresses (which is what the differential test gives both).
///
/// Bounds: exact for every input with 1e18 · S · max(C, 1) < 2^256 (S in base units of effective
/// stake: any real token supply with scores below ~1e31 fits); beyond that it reverts with
/// `VotingPowerOverflow` where the TS, with unbounded integers, would still answer.
///
/// Gas: ≈ 10k per candidate — two heap sorts (duplicates, raw order) and an insertion sort of the
/// nearly sorted result, otherwise linear passes: ≈ 0.9–1.1M gas for 100 candidates (at most 1.2M,
/// asserted by contracts/test/VotingPower.test.ts, which prints the figures), ≈ 1.9M for 200. Memory
/// only, no storage. Meant for up to ~100–200 candidates: the caller bounds the list it passes.
library VotingPower {
    /// @notice Fixed-point one (a wad) for fractions and multipliers.
    uint256 internal constant WAD = 1e18;
    /// @notice The TS requires maxValidators to be a safe integer (Number.isSafeInteger).
    uint256 internal constant MAX_SAFE_INTEGER = 2 ** 53 - 1;

    /// @notice A would-be validator as the staking ledger reports it (power.ts `Candidate`).
    struct Candidate {
        address account;
        /// @dev Bonded tokens, base units.
        uint256 stake;
        /// @dev Lock-up multiplier, wad (1e18 = 1×).
        uint256 multiplierWad;
        /// @dev Contribution score on any non-negative integer scale (only shares matter).
        uint256 contribution;
    }

    /// @notice The parameters of the rule (power.ts `PowerParams`, fractions as wads).
    struct Params {
        /// @dev consensus.contributionWeight, wad in [0, 1e18].
        uint256 contributionWeightWad;
        /// @dev consensus.maxPowerShare, wad in (0, 1e18].
        uint256 maxPowerShareWad;
        /// @dev consensus.maxValidators, in [1, 2^53 − 1].
        uint256 maxValidators;
        /// @dev Base units of effective stake per unit of power (the TS default: 1e18, one token).
        uint256 powerUnit;
    }

    /// @notice contributionWeight must be at most 1 (TS: RangeError "contributionWeight must be at most 1").
    error VotingPowerInvalidContributionWeight(uint256 weightWad);
    /// @notice maxPowerShare must be in (0, 1] (TS: RangeError "maxPowerShare must be in (0, 1]").
    error VotingPowerInvalidMaxPowerShare(uint256 shareWad);
    /// @notice maxValidators must be a safe integer ≥ 1 (TS: RangeError "bad maxValidators").
    error VotingPowerInvalidMaxValidators(uint256 maxValidators);
    /// @notice powerUnit must be positive (TS: RangeError "powerUnit must be positive").
    error VotingPowerInvalidPowerUnit(uint256 powerUnit);
    /// @notice A candidate appears twice (TS: RangeError "candidate … appears twice", the same address).
    error VotingPowerDuplicateCandidate(address account);
    /// @notice Contract-only: 1e18 · S · max(C, 1) does not fit in 256 bits (see the bounds above).
    error VotingPowerOverflow();

    /// @notice Voting powers of the active validators, in validator-set order (power descending,
    /// then address ascending), exactly as power.ts `votingPowers` computes them.
    /// @param candidates Every would-be validator (any order; zero stake allowed, duplicates refused).
    /// @param p The rule's parameters: contribution weight and power-share cap as wads, the maximum
    /// number of validators, and the power unit (pass 1e18 for the TS default).
    /// @return validators The validators' addresses, in validator-set order.
    /// @return powers Their voting powers, same order and length (positive integers in power units).
    function votingPowers(Candidate[] memory candidates, Params memory p)
        internal
        pure
        returns (address[] memory validators, uint256[] memory powers)
    {
        _checkParams(p);
        _checkDistinct(candidates);
        uint256 D;
        (validators, powers, D) = _rawPowers(candidates, p.contributionWeightWad);
        _sortByPower(powers, validators);
        if (powers.length > p.maxValidators) _truncate(validators, powers, p.maxValidators);
        powers = _waterFill(powers, p.maxPowerShareWad);
        _quantise(validators, powers, D, p.powerUnit);
        _enforceCap(powers, p.maxPowerShareWad);
        _resortByPower(powers, validators);
    }

    // ------------------------------------------------------------------ the steps of power.ts

    /// @dev The parameter checks of power.ts, in its order.
    function _checkParams(Params memory p) private pure {
        if (p.contributionWeightWad > WAD) revert VotingPowerInvalidContributionWeight(p.contributionWeightWad);
        if (p.maxPowerShareWad == 0 || p.maxPowerShareWad > WAD) revert VotingPowerInvalidMaxPowerShare(p.maxPowerShareWad);
        if (p.maxValidators < 1 || p.maxValidators > MAX_SAFE_INTEGER) revert VotingPowerInvalidMaxValidators(p.maxValidators);
        if (p.powerUnit == 0) revert VotingPowerInvalidPowerUnit(p.powerUnit);
    }

    /// @dev The positive raw powers N_i (in input order) of the candidates with effective stake, and
    /// their common denominator D. Checks 1e18·S·max(C, 1) < 2^256, within which every later step stays.
    function _rawPowers(Candidate[] memory candidates, uint256 w)
        private
        pure
        returns (address[] memory account, uint256[] memory raw, uint256 D)
    {
        uint256[] memory score;
        uint256 S;
        uint256 C;
        (account, raw, score, S, C) = _effectiveStakes(candidates);
        (bool ok, uint256 sw) = Math.tryMul(S, WAD);
        if (!ok) revert VotingPowerOverflow();
        if (C == 0) return (account, raw, 1); // N_i = e_i over D = 1: stake only
        (ok,) = Math.tryMul(sw, C);
        if (!ok) revert VotingPowerOverflow();
        uint256 kept;
        for (uint256 i; i < raw.length; ++i) {
            // Each term is at most T = 1e18·S·C, and so is their sum (Σ N_i = T).
            uint256 r = (WAD - w) * raw[i] * C + w * S * score[i];
            if (r == 0) continue;
            account[kept] = account[i];
            raw[kept] = r;
            ++kept;
        }
        _truncate(account, raw, kept);
        D = WAD * C;
    }

    /// @dev The candidates with effective stake e_i > 0 (input order): accounts, e_i, scores, S and C.
    function _effectiveStakes(Candidate[] memory candidates)
        private
        pure
        returns (address[] memory account, uint256[] memory e, uint256[] memory score, uint256 S, uint256 C)
    {
        uint256 n = candidates.length;
        account = new address[](n);
        e = new uint256[](n);
        score = new uint256[](n);
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            Candidate memory c = candidates[i];
            uint256 ei = _mulDivChecked(c.stake, c.multiplierWad, WAD);
            if (ei == 0) continue;
            account[eligible] = c.account;
            e[eligible] = ei;
            score[eligible] = c.contribution;
            ++eligible;
            S = _add(S, ei);
            C = _add(C, c.contribution);
        }
        _truncate(account, e, eligible);
        assembly ("memory-safe") {
            mstore(score, eligible)
        }
    }

    /// @dev Quantise in place, ⌊x / (D·unit)⌋ = ⌊⌊x / D⌋ / unit⌋ (D·unit may not fit), dropping zeros.
    function _quantise(address[] memory account, uint256[] memory values, uint256 D, uint256 unit) private pure {
        uint256 kept;
        for (uint256 i; i < values.length; ++i) {
            uint256 q = values[i] / D / unit;
            if (q == 0) continue;
            account[kept] = account[i];
            values[kept] = q;
            ++kept;
        }
        _truncate(account, values, kept);
    }

    /// @dev power.ts `waterFill`: `values` (descending, positive) capped at share m by water-filling,
    /// over the same denominator, rounded down. Writes a new array.
    function _waterFill(uint256[] memory values, uint256 m) private pure returns (uint256[] memory out) {
        uint256 n = values.length;
        out = new uint256[](n);
        uint256 T;
        for (uint256 i; i < n; ++i) T += values[i];
        if (n == 0 || T == 0) return out;
        if (n * m <= WAD) {
            for (uint256 i; i < n; ++i) out[i] = T / n;
            return out;
        }
        // The smallest k with x_k·(1 − k·m) ≤ m·U_k, U_k = Σ_{i ≥ k} x_i; k·m < 1 whenever tested
        // (x_k·(1 − k·m) > m·U_k ≥ m·x_k implies (k + 1)·m < 1), so the subtraction never underflows.
        uint256 U = T;
        uint256 k;
        while (k < n - 1 && _gt512(values[k], WAD - k * m, m, U)) {
            U -= values[k];
            ++k;
        }
        uint256 cap = Math.mulDiv(m, T, WAD);
        uint256 rest = WAD - k * m;
        for (uint256 i; i < n; ++i) out[i] = i < k ? cap : _mulDivWad3(values[i], T, rest, U);
    }

    /// @dev power.ts `enforceCap`, in place: lower the k largest of `p` (non-increasing, as
    /// `_quantise` leaves it) to the largest common value meeting the cap against the rest,
    /// A_k = ⌊m·R_k / (1 − k·m)⌋ with R_k = Σ_{i ≥ k} p_i, for the smallest k with p_k ≤ A_k; with
    /// n·m ≤ 1 everyone gets the mean (at least 1). One pass: k·m < 1 whenever k is tried and some
    /// k ≤ n − 1 qualifies (power.ts has the argument), so the subtraction never underflows.
    function _enforceCap(uint256[] memory p, uint256 m) private pure {
        uint256 n = p.length;
        if (n == 0) return;
        uint256 rest;
        for (uint256 i; i < n; ++i) rest += p[i];
        if (n * m <= WAD) {
            uint256 mean = rest / n;
            if (mean == 0) mean = 1;
            for (uint256 i; i < n; ++i) p[i] = mean;
            return;
        }
        // Products stay below 1e18·S < 2^256: every p_i and the total are at most S / unit.
        for (uint256 k;; ++k) {
            uint256 a = (m * rest) / (WAD - k * m);
            if (p[k] <= a) {
                for (uint256 i; i < k; ++i) p[i] = a;
                return;
            }
            rest -= p[k];
        }
    }

    /// @dev Refuse a repeated address, naming the one power.ts names: the address of the earliest
    /// second occurrence in input order. Sorting (address, index) keys costs n·log n, not n².
    function _checkDistinct(Candidate[] memory candidates) private pure {
        uint256 n = candidates.length;
        if (n < 2) return;
        uint256[] memory keys = new uint256[](n);
        for (uint256 i; i < n; ++i) keys[i] = (uint256(uint160(candidates[i].account)) << 96) | i;
        _sortAscending(keys);
        uint256 first = type(uint256).max;
        for (uint256 i = 1; i < n; ++i) {
            // Same address as the previous key: this key is a later occurrence, the group's second
            // occurrence being the first such key after the group's head (indices ascend within it).
            if (keys[i] >> 96 == keys[i - 1] >> 96) {
                uint256 index = keys[i] & type(uint96).max;
                if (index < first) first = index;
            }
        }
        if (first != type(uint256).max) revert VotingPowerDuplicateCandidate(candidates[first].account);
    }

    // ------------------------------------------------------------------ arithmetic

    /// @dev ⌊x·T·rest / (1e18·U)⌋ exactly, for x ≤ U and rest ≤ 1e18 (the triple product needs 512+ bits).
    /// With x·T = q·U + r and q·rest = a·1e18 + b: the quotient is a, plus 1 iff r·rest ≥ U·(1e18 − b).
    function _mulDivWad3(uint256 x, uint256 T, uint256 rest, uint256 U) private pure returns (uint256) {
        uint256 q = Math.mulDiv(x, T, U);
        uint256 r = mulmod(x, T, U);
        uint256 a = Math.mulDiv(q, rest, WAD);
        uint256 b = mulmod(q, rest, WAD);
        return _gt512(U, WAD - b, r, rest) ? a : a + 1;
    }

    /// @dev a·b > c·d over 512 bits.
    function _gt512(uint256 a, uint256 b, uint256 c, uint256 d) private pure returns (bool) {
        (uint256 h1, uint256 l1) = Math.mul512(a, b);
        (uint256 h2, uint256 l2) = Math.mul512(c, d);
        return h1 > h2 || (h1 == h2 && l1 > l2);
    }

    /// @dev ⌊a·b / d⌋, reverting with VotingPowerOverflow (not a panic) when it does not fit.
    function _mulDivChecked(uint256 a, uint256 b, uint256 d) private pure returns (uint256) {
        (uint256 high,) = Math.mul512(a, b);
        if (high >= d) revert VotingPowerOverflow();
        return Math.mulDiv(a, b, d);
    }

    /// @dev a + b, reverting with VotingPowerOverflow (not a panic) when it does not fit.
    function _add(uint256 a, uint256 b) private pure returns (uint256) {
        (bool ok, uint256 s) = Math.tryAdd(a, b);
        if (!ok) revert VotingPowerOverflow();
        return s;
    }

    // ------------------------------------------------------------------ arrays

    /// @dev Shorten two parallel memory arrays to `len` (≤ their length) in place.
    function _truncate(address[] memory a, uint256[] memory b, uint256 len) private pure {
        assembly ("memory-safe") {
            mstore(a, len)
            mstore(b, len)
        }
    }

    /// @dev Heap sort of the parallel arrays into validator-set order: power descending, then address
    /// ascending (a total order over distinct addresses, so the result is the TS sort's). In assembly:
    /// the checked Solidity version spent most of the library's gas on bounds checks (≈ 4× more).
    function _sortByPower(uint256[] memory power, address[] memory account) private pure {
        assembly ("memory-safe") {
            // Whether element i comes after element j in validator-set order.
            function later(p, a, i, j) -> r {
                let pi := mload(add(p, shl(5, i)))
                let pj := mload(add(p, shl(5, j)))
                r := lt(pi, pj)
                if eq(pi, pj) { r := gt(mload(add(a, shl(5, i))), mload(add(a, shl(5, j)))) }
            }
            function swap(p, a, i, j) {
                let pi := add(p, shl(5, i))
                let pj := add(p, shl(5, j))
                let t := mload(pi)
                mstore(pi, mload(pj))
                mstore(pj, t)
                pi := add(a, shl(5, i))
                pj := add(a, shl(5, j))
                t := mload(pi)
                mstore(pi, mload(pj))
                mstore(pj, t)
            }
            // Sift-down in a max-heap of "comes later" over the first len elements.
            function sift(p, a, root, len) {
                for {} 1 {} {
                    let child := add(shl(1, root), 1)
                    if iszero(lt(child, len)) { break }
                    if lt(add(child, 1), len) { if later(p, a, add(child, 1), child) { child := add(child, 1) } }
                    if iszero(later(p, a, child, root)) { break }
                    swap(p, a, root, child)
                    root := child
                }
            }
            let n := mload(power)
            let p := add(power, 0x20)
            let a := add(account, 0x20)
            if gt(n, 1) {
                for { let i := shr(1, n) } i { i := sub(i, 1) } { sift(p, a, sub(i, 1), n) }
                for { let end := sub(n, 1) } end { end := sub(end, 1) } {
                    swap(p, a, 0, end)
                    sift(p, a, 0, end)
                }
            }
        }
    }

    /// @dev Insertion sort of the parallel arrays into validator-set order, for input that is nearly
    /// in it already (the final order: water-filling and quantising keep the raw order except among
    /// equal powers), so it costs n plus the number of inversions instead of n·log n.
    function _resortByPower(uint256[] memory power, address[] memory account) private pure {
        assembly ("memory-safe") {
            let n := mload(power)
            let p := add(power, 0x20)
            let a := add(account, 0x20)
            for { let i := 1 } lt(i, n) { i := add(i, 1) } {
                let pv := mload(add(p, shl(5, i)))
                let av := mload(add(a, shl(5, i)))
                let j := i
                // Shift right every earlier element that comes after (pv, av).
                for {} j {} {
                    let pj := mload(add(p, shl(5, sub(j, 1))))
                    let after := lt(pj, pv)
                    if eq(pj, pv) { after := gt(mload(add(a, shl(5, sub(j, 1)))), av) }
                    if iszero(after) { break }
                    mstore(add(p, shl(5, j)), pj)
                    mstore(add(a, shl(5, j)), mload(add(a, shl(5, sub(j, 1)))))
                    j := sub(j, 1)
                }
                mstore(add(p, shl(5, j)), pv)
                mstore(add(a, shl(5, j)), av)
            }
        }
    }

    /// @dev Heap sort of words, ascending (in assembly, as `_sortByPower`).
    function _sortAscending(uint256[] memory words) private pure {
        assembly ("memory-safe") {
            function sift(w, root, len) {
                for {} 1 {} {
                    let child := add(shl(1, root), 1)
                    if iszero(lt(child, len)) { break }
                    let c := add(w, shl(5, child))
                    let cv := mload(c)
                    if lt(add(child, 1), len) {
                        let nv := mload(add(c, 0x20))
                        if gt(nv, cv) {
                            child := add(child, 1)
                            c := add(c, 0x20)
                            cv := nv
                        }
                    }
                    let r := add(w, shl(5, root))
                    let rv := mload(r)
                    if iszero(gt(cv, rv)) { break }
                    mstore(r, cv)
                    mstore(c, rv)
                    root := child
                }
            }
            let n := mload(words)
            let w := add(words, 0x20)
            if gt(n, 1) {
                for { let i := shr(1, n) } i { i := sub(i, 1) } { sift(w, sub(i, 1), n) }
                for { let end := sub(n, 1) } end { end := sub(end, 1) } {
                    let last := add(w, shl(5, end))
                    let t := mload(w)
                    mstore(w, mload(last))
                    mstore(last, t)
                    sift(w, 0, end)
                }
            }
        }
    }
}

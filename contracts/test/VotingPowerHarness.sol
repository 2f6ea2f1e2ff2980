// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VotingPower} from "../lib/VotingPower.sol";

/// @title VotingPowerHarness — test-only: exposes the VotingPower library to the Hardhat tests
/// @notice Never deployed by production code (contracts/test/ holds test support only).
contract VotingPowerHarness {
    /// @notice `VotingPower.votingPowers`, as an external view.
    function votingPowers(VotingPower.Candidate[] memory candidates, VotingPower.Params memory p)
        external
        pure
        returns (address[] memory validators, uint256[] memory powers)
    {
        return VotingPower.votingPowers(candidates, p);
    }

    /// @notice Gas the library call itself takes (no calldata decoding or call overhead), for the bound it documents.
    function gasOf(VotingPower.Candidate[] memory candidates, VotingPower.Params memory p) external view returns (uint256 used) {
        uint256 before = gasleft();
        VotingPower.votingPowers(candidates, p);
        used = before - gasleft();
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title PlainVotesToken — a bare OpenZeppelin ERC20Votes, the gas baseline of bench/gas.bench.ts (not deployed)
contract PlainVotesToken is ERC20, ERC20Permit, ERC20Votes {
    /// @notice Mint `supply` to `to`.
    constructor(address to, uint256 supply) ERC20("plain", "PLN") ERC20Permit("plain") {
        _mint(to, supply);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}

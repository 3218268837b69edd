// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {BabyJubjub} from "../BabyJubjub.sol";

/// @title Test harness of `BabyJubjub`
/// @notice Exposes the library's internal functions as external views, so that the Rust tests
/// (`l1-evm/tests/eddsa.rs`) can hold them against `zkr_circuits::eddsa::verify_raw` and measure
/// their gas. Holds no state; link PoseidonT6 at deployment.
contract EddsaHarness {
    /// `BabyJubjub.verify`: the twin of `verify_raw`.
    function verify(uint256 pkX, uint256 pkY, uint256 message, uint256 rX, uint256 rY, uint256 s)
        external
        pure
        returns (bool)
    {
        return BabyJubjub.verify(pkX, pkY, message, rX, rY, s);
    }

    /// `BabyJubjub.decompress`: (status, x) for a compressed R and a claimed x.
    function decompress(uint256 word, uint256 xHint) external view returns (uint8 status, uint256 x) {
        return BabyJubjub.decompress(word, xHint);
    }

    /// `BabyJubjub.onCurve`: canonical coordinates of a Baby Jubjub point.
    function onCurve(uint256 x, uint256 y) external pure returns (bool) {
        return BabyJubjub.onCurve(x, y);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {POSEIDON_T9_FULL_ROUNDS, POSEIDON_T9_PARTIAL_ROUNDS, POSEIDON_T9_CONSTANTS} from "./PoseidonT9Constants.sol";

/// @title Poseidon with 8 inputs (width 9), circomlib's parameters
/// @notice `hash(x)` is zkr's `poseidon(x)` (`zkr_circuits::poseidon`) for 8 field elements: the
/// hash of an 8-ary node of the account tree, which the rollup recomputes for exodus withdrawals.
///
/// Why its own contract: npm `poseidon-solidity` ships widths 2 to 6 only, and its style (every
/// constant unrolled into the code) would not fit EIP-170's 24,576 bytes at width 9. Here the
/// 720 constants (round constants, 9 a round, then the 9×9 MDS matrix; 23,040 bytes, generated
/// from zkr's parameters into `PoseidonT9Constants.sol`) live in the code of a data contract the
/// constructor creates, as `Groth16KeyedVerifier` keeps its input points; `hash` copies them into
/// memory with one `EXTCODECOPY` and runs the permutation in a loop. The permutation is the
/// textbook one, as in zkr's native code: each round adds its constants, applies x^5 to every
/// element (full rounds) or to the first (partial rounds), and multiplies by the MDS matrix.
contract PoseidonT9 {
    /// The BN254 scalar field modulus.
    uint256 internal constant F = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// The contract whose code is one STOP byte, then the constants (32 bytes each).
    address public immutable constants;

    constructor() {
        bytes memory code = abi.encodePacked(hex"00", POSEIDON_T9_CONSTANTS);
        // Creation code that copies what follows it (12 bytes of code) into memory and returns
        // it as the runtime code, which starts with STOP so that a call to it does nothing.
        bytes memory init = abi.encodePacked(hex"61", uint16(code.length), hex"80600c6000396000f3", code);
        address store;
        assembly {
            store := create(0, add(init, 32), mload(init))
        }
        require(store != address(0), "could not store the constants");
        constants = store;
    }

    /// Poseidon of 8 field elements: the state `[0, inputs...]` through the permutation, then its
    /// first element. Reverts when an input is not below r (never reduces it).
    function hash(uint256[8] calldata inputs) external view returns (uint256 out) {
        for (uint256 i = 0; i < 8; i++) {
            require(inputs[i] < F, "input is not below r");
        }
        uint256 half = POSEIDON_T9_FULL_ROUNDS / 2;
        uint256 partialRounds = POSEIDON_T9_PARTIAL_ROUNDS;
        uint256 rounds = POSEIDON_T9_FULL_ROUNDS + POSEIDON_T9_PARTIAL_ROUNDS;
        address store = constants;
        assembly {
            let arkLen := mul(288, rounds)
            let c := mload(0x40)
            extcodecopy(store, c, 1, add(arkLen, 2592))
            let m := add(c, arkLen)
            let s := add(m, 2592)
            let n := add(s, 288)
            mstore(s, 0)
            calldatacopy(add(s, 32), 4, 256)
            for { let r := 0 } lt(r, rounds) { r := add(r, 1) } {
                let k := add(c, mul(r, 288))
                let full := or(lt(r, half), iszero(lt(r, add(half, partialRounds))))
                for { let i := 0 } lt(i, 9) { i := add(i, 1) } {
                    let at := add(s, shl(5, i))
                    let x := addmod(mload(at), mload(add(k, shl(5, i))), F)
                    if or(full, iszero(i)) {
                        let x2 := mulmod(x, x, F)
                        x := mulmod(mulmod(x2, x2, F), x, F)
                    }
                    mstore(at, x)
                }
                // next[i] = Σ_j M[i][j]·s[j]. Each product is below F < 2^254, so four of them
                // add up without overflow before one reduction.
                for { let i := 0 } lt(i, 9) { i := add(i, 1) } {
                    let row := add(m, mul(i, 288))
                    let lo := add(
                        add(mulmod(mload(row), mload(s), F), mulmod(mload(add(row, 32)), mload(add(s, 32)), F)),
                        add(mulmod(mload(add(row, 64)), mload(add(s, 64)), F), mulmod(mload(add(row, 96)), mload(add(s, 96)), F))
                    )
                    let hi := add(
                        add(mulmod(mload(add(row, 128)), mload(add(s, 128)), F), mulmod(mload(add(row, 160)), mload(add(s, 160)), F)),
                        add(mulmod(mload(add(row, 192)), mload(add(s, 192)), F), mulmod(mload(add(row, 224)), mload(add(s, 224)), F))
                    )
                    mstore(add(n, shl(5, i)), addmod(addmod(lo, hi, F), mulmod(mload(add(row, 256)), mload(add(s, 256)), F), F))
                }
                let tmp := s
                s := n
                n := tmp
            }
            out := mload(s)
        }
    }
}

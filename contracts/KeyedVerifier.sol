// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title Groth16 over BN254 for any verifying key with one public input, given at deployment
/// @notice The same check as the verifier `zkr export-verifier` renders (`contracts/test/
/// Verifier.sol`, snarkjs's layout), with the same `verifyProof`, but the key is not compiled in:
/// the constructor takes it and keeps it in immutables (code, not storage: reading it costs what
/// a constant costs). One artifact, compiled once with the pinned solc, serves every key of the
/// batch circuit, which has exactly one public input (the batch commitment); `zkr demo --l1 evm`
/// deploys it with the demo's own key.
///
/// Coordinates as the precompiles take them: G1 as (x, y), G2 imaginary part first,
/// `[[x.c1, x.c0], [y.c1, y.c0]]`; the identity is all zeros.
///
/// `verifyProof` returns false (never reverts) when the public signal is not below r, when A's y
/// is not below q, when a
/// precompile refuses its input (a point off the curve, B outside G2's subgroup) or when the
/// pairing check fails: `e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1`, with
/// `vk_x = IC0 + s · IC1`.
contract Groth16KeyedVerifier {
    /// The BN254 scalar field modulus (public signals).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// The BN254 base field modulus (coordinates).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    uint256 internal immutable alphax;
    uint256 internal immutable alphay;
    uint256 internal immutable betax1;
    uint256 internal immutable betax2;
    uint256 internal immutable betay1;
    uint256 internal immutable betay2;
    uint256 internal immutable gammax1;
    uint256 internal immutable gammax2;
    uint256 internal immutable gammay1;
    uint256 internal immutable gammay2;
    uint256 internal immutable deltax1;
    uint256 internal immutable deltax2;
    uint256 internal immutable deltay1;
    uint256 internal immutable deltay2;
    uint256 internal immutable IC0x;
    uint256 internal immutable IC0y;
    uint256 internal immutable IC1x;
    uint256 internal immutable IC1y;

    /// The verifying key: alpha in G1, beta, gamma, delta in G2 (imaginary part first) and the
    /// two input points IC0, IC1 in G1. The key is taken as given (it is the trust root; a key
    /// that is not a key makes every proof fail, or every proof pass, as with a rendered one).
    constructor(
        uint256[2] memory alpha,
        uint256[2][2] memory beta,
        uint256[2][2] memory gamma,
        uint256[2][2] memory delta,
        uint256[2] memory ic0,
        uint256[2] memory ic1
    ) {
        alphax = alpha[0];
        alphay = alpha[1];
        betax1 = beta[0][0];
        betax2 = beta[0][1];
        betay1 = beta[1][0];
        betay2 = beta[1][1];
        gammax1 = gamma[0][0];
        gammax2 = gamma[0][1];
        gammay1 = gamma[1][0];
        gammay2 = gamma[1][1];
        deltax1 = delta[0][0];
        deltax2 = delta[0][1];
        deltay1 = delta[1][0];
        deltay2 = delta[1][1];
        IC0x = ic0[0];
        IC0y = ic0[1];
        IC1x = ic1[0];
        IC1y = ic1[1];
    }

    /// True when the proof (A, B, C) verifies for the public signal under the deployed key.
    function verifyProof(
        uint256[2] calldata _pA,
        uint256[2][2] calldata _pB,
        uint256[2] calldata _pC,
        uint256[1] calldata _pubSignals
    ) external view returns (bool) {
        uint256 s = _pubSignals[0];
        if (s >= R) return false;
        // A's y is negated below: refuse a non-canonical one rather than reduce it (the
        // precompiles refuse every other coordinate >= q themselves).
        if (_pA[1] >= Q) return false;
        bool ok;

        // vk_x = IC0 + s·IC1: ecMul (7) into the second half of `acc`, then ecAdd (6).
        uint256[4] memory acc;
        uint256[3] memory mulIn = [IC1x, IC1y, s];
        assembly {
            ok := staticcall(gas(), 7, mulIn, 96, add(acc, 64), 64)
        }
        if (!ok) return false;
        acc[0] = IC0x;
        acc[1] = IC0y;
        assembly {
            ok := staticcall(gas(), 6, acc, 128, acc, 64)
        }
        if (!ok) return false;

        // The four pairs of the pairing precompile (8).
        uint256[24] memory p;
        p[0] = _pA[0];
        p[1] = (Q - _pA[1]) % Q; // -A
        p[2] = _pB[0][0];
        p[3] = _pB[0][1];
        p[4] = _pB[1][0];
        p[5] = _pB[1][1];
        p[6] = alphax;
        p[7] = alphay;
        p[8] = betax1;
        p[9] = betax2;
        p[10] = betay1;
        p[11] = betay2;
        p[12] = acc[0];
        p[13] = acc[1];
        p[14] = gammax1;
        p[15] = gammax2;
        p[16] = gammay1;
        p[17] = gammay2;
        p[18] = _pC[0];
        p[19] = _pC[1];
        p[20] = deltax1;
        p[21] = deltax2;
        p[22] = deltay1;
        p[23] = deltay2;
        uint256 isOk;
        assembly {
            ok := staticcall(gas(), 8, p, 768, p, 32)
            isOk := mload(p)
        }
        return ok && isOk == 1;
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title Groth16 over BN254 for any verifying key, given at deployment
/// @notice The same check as the verifier `zkr export-verifier` renders (`contracts/test/
/// Verifier.sol`, snarkjs's layout), answering the same call,
/// `verifyProof(uint256[2] pA, uint256[2][2] pB, uint256[2] pC, uint256[N] pubSignals)`, but the
/// key is not compiled in: the constructor takes it. One artifact, compiled once with the pinned
/// solc, serves every key; `zkr demo --l1 evm` and `zkr l1 deploy` deploy it with their own key.
///
/// How the key is kept: alpha, beta, gamma and delta in immutables (code, not storage: reading
/// one costs what a constant costs); the N + 1 input points IC0..ICN, whose number depends on the
/// key, in the code of a data contract the constructor creates (read with one `EXTCODECOPY`,
/// ≈ 2,600 gas plus 3 gas a word, where storage would cost 4,200 gas a point). Solidity cannot
/// declare a function over `uint256[N]` for an N chosen at deployment, so `verifyProof` is
/// answered by the fallback, which accepts exactly that function's selector for this key's N
/// and exactly its calldata length, and returns its ABI-encoded bool.
///
/// Coordinates as the precompiles take them: G1 as (x, y), G2 imaginary part first,
/// `[[x.c1, x.c0], [y.c1, y.c0]]`; the identity is all zeros.
///
/// `verifyProof` returns false (never reverts) when a public signal is not below r, when A's y
/// is not below q, when a precompile refuses its input (a point off the curve, B outside G2's
/// subgroup) or when the pairing check fails: `e(-A, B) · e(alpha, beta) · e(vk_x, gamma) ·
/// e(C, delta) == 1`, with `vk_x = IC0 + Σ s_i · IC_i`. Any other call reverts.
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

    /// Number of public signals N (the key has N + 1 input points).
    uint256 public immutable nPublic;
    /// The selector of `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])`.
    bytes4 public immutable verifyProofSelector;
    /// The contract whose code is one STOP byte, then IC0.x, IC0.y, IC1.x, … (32 bytes each).
    address public immutable inputPoints;

    /// The verifying key: alpha in G1, beta, gamma, delta in G2 (imaginary part first) and the
    /// N + 1 input points IC0..ICN in G1 (N ≥ 1, at most 382 so that they fit one contract's
    /// code). The key is taken as given (it is the trust root; a key that is not a key makes every
    /// proof fail, or every proof pass, as with a rendered one).
    constructor(
        uint256[2] memory alpha,
        uint256[2][2] memory beta,
        uint256[2][2] memory gamma,
        uint256[2][2] memory delta,
        uint256[2][] memory ic
    ) {
        require(ic.length >= 2 && ic.length <= 383, "the key needs 1 to 382 public inputs");
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
        uint256 n = ic.length - 1;
        nPublic = n;
        verifyProofSelector = bytes4(
            keccak256(abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", decimal(n), "])"))
        );

        // The data contract: its creation code copies what follows it (12 bytes of code) into
        // memory and returns it as the runtime code, which starts with STOP so that a call to it
        // does nothing.
        bytes memory points = new bytes(1 + 64 * ic.length);
        for (uint256 i = 0; i < ic.length; i++) {
            uint256 x = ic[i][0];
            uint256 y = ic[i][1];
            assembly {
                let at := add(add(points, 33), mul(i, 64))
                mstore(at, x)
                mstore(add(at, 32), y)
            }
        }
        bytes memory init = abi.encodePacked(hex"61", uint16(points.length), hex"80600c6000396000f3", points);
        address store;
        assembly {
            store := create(0, add(init, 32), mload(init))
        }
        require(store != address(0), "could not store the input points");
        inputPoints = store;
    }

    /// `verifyProof(pA, pB, pC, pubSignals)` for this key's N: returns `abi.encode(bool)`.
    fallback(bytes calldata input) external returns (bytes memory) {
        uint256 n = nPublic;
        require(input.length == 4 + 32 * (8 + n) && bytes4(input[:4]) == verifyProofSelector, "unknown call");
        return abi.encode(verify(input[4:], n));
    }

    /// The check on the ABI-encoded arguments `args` (8 proof words, then N signals).
    function verify(bytes calldata args, uint256 n) internal view returns (bool) {
        uint256 ay = word(args, 1);
        // A's y is negated below: refuse a non-canonical one rather than reduce it (the
        // precompiles refuse every other coordinate >= q themselves).
        if (ay >= Q) return false;

        // vk_x = IC0 + Σ s_i·IC_i: the points into memory, then ecMul (7) and ecAdd (6).
        uint256 icLen = 64 * (n + 1);
        bytes memory ic = new bytes(icLen);
        address store = inputPoints;
        assembly {
            extcodecopy(store, add(ic, 32), 1, icLen)
        }
        uint256[4] memory acc;
        uint256[3] memory mulIn;
        bool ok;
        assembly {
            mstore(acc, mload(add(ic, 32)))
            mstore(add(acc, 32), mload(add(ic, 64)))
        }
        for (uint256 i = 0; i < n; i++) {
            uint256 s = word(args, 8 + i);
            if (s >= R) return false;
            assembly {
                let p := add(add(ic, 96), mul(i, 64))
                mstore(mulIn, mload(p))
                mstore(add(mulIn, 32), mload(add(p, 32)))
                mstore(add(mulIn, 64), s)
                ok := staticcall(gas(), 7, mulIn, 96, add(acc, 64), 64)
                if ok { ok := staticcall(gas(), 6, acc, 128, acc, 64) }
            }
            if (!ok) return false;
        }

        // The four pairs of the pairing precompile (8).
        uint256[24] memory p;
        p[0] = word(args, 0);
        p[1] = (Q - ay) % Q; // -A
        p[2] = word(args, 2);
        p[3] = word(args, 3);
        p[4] = word(args, 4);
        p[5] = word(args, 5);
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
        p[18] = word(args, 6);
        p[19] = word(args, 7);
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

    /// The `i`-th 32-byte word of `args`.
    function word(bytes calldata args, uint256 i) internal pure returns (uint256 v) {
        assembly {
            v := calldataload(add(args.offset, mul(i, 32)))
        }
    }

    /// `n` in decimal.
    function decimal(uint256 n) internal pure returns (bytes memory s) {
        if (n == 0) return "0";
        uint256 len;
        for (uint256 m = n; m > 0; m /= 10) len++;
        s = new bytes(len);
        for (; n > 0; n /= 10) s[--len] = bytes1(uint8(48 + (n % 10)));
    }
}

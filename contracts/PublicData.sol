// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title A zkr batch's public data, decoded
/// @notice A slot is 121 bytes (`zkr_circuits::tx::SlotData::to_bytes`): type (1 byte), from (4),
/// to (4), amount (8), fee (8), then aux_x, aux_y and requester (32 bytes each), all
/// little-endian. Its first 25 bytes read as one integer are the slot's packed element
/// `type + from 2^8 + to 2^40 + amount 2^72 + fee 2^136`. Used by `OptimisticRollup` and
/// `StepExecutor` (`Rollup` predates it and keeps its own copy of these readers).
library PublicData {
    /// The BN254 scalar field modulus.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Bytes of one slot.
    uint256 internal constant SLOT_BYTES = 121;

    /// Slot type codes.
    uint256 internal constant NOOP = 0;
    uint256 internal constant TRANSFER = 1;
    uint256 internal constant DEPOSIT = 2;
    uint256 internal constant WITHDRAW = 3;
    uint256 internal constant FULL_EXIT = 4;

    /// One slot's fields.
    struct Slot {
        uint256 txType;
        uint256 from;
        uint256 to;
        uint256 amount;
        uint256 fee;
        uint256 auxX;
        uint256 auxY;
        uint256 requester;
        /// The first 25 bytes as an integer.
        uint256 packed;
    }

    /// The slot at byte `off` of `data`, read as it is (see `isCanonical`).
    function decodeSlot(bytes calldata data, uint256 off) internal pure returns (Slot memory s) {
        s.packed = packedAt(data, off);
        s.txType = s.packed & 0xff;
        s.from = (s.packed >> 8) & 0xffffffff;
        s.to = (s.packed >> 40) & 0xffffffff;
        s.amount = (s.packed >> 72) & 0xffffffffffffffff;
        s.fee = s.packed >> 136;
        // A zero word is zero in either byte order: only non-zero words are reversed.
        if (rawWord(data, off + 25) != 0) s.auxX = le256(data, off + 25);
        if (rawWord(data, off + 57) != 0) s.auxY = le256(data, off + 57);
        if (rawWord(data, off + 89) != 0) s.requester = le256(data, off + 89);
    }

    /// `SlotData::from_bytes`'s rules: a known type, field elements below r, and the per-type
    /// zero fields and 160-bit addresses of `SlotData::is_canonical`.
    function isCanonical(Slot memory s) internal pure returns (bool) {
        if (s.auxX >= R || s.auxY >= R || s.requester >= R) return false;
        if (s.txType == NOOP) return s.packed == 0 && s.auxX == 0 && s.auxY == 0 && s.requester == 0;
        if (s.txType == TRANSFER) return s.auxX == 0 && s.auxY == 0 && s.requester == 0;
        if (s.txType == DEPOSIT) return s.from == 0 && s.fee == 0 && s.requester < (1 << 160);
        if (s.txType == WITHDRAW) return s.to == 0 && s.auxY == 0 && s.requester == 0 && s.auxX < (1 << 160);
        if (s.txType == FULL_EXIT) {
            return s.to == 0 && s.fee == 0 && s.auxX == 0 && s.auxY == 0 && s.requester < (1 << 160);
        }
        return false;
    }

    /// True for the slots that carry a signature: transfers and withdrawals.
    function isSigned(uint256 txType) internal pure returns (bool) {
        return txType == TRANSFER || txType == WITHDRAW;
    }

    /// The slot's first 25 bytes read as a little-endian integer.
    function packedAt(bytes calldata data, uint256 off) internal pure returns (uint256) {
        return le256(data, off) & ((1 << 200) - 1);
    }

    /// The 32 bytes at `off` as they are (big-endian): zero exactly when they are all zero.
    function rawWord(bytes calldata data, uint256 off) internal pure returns (uint256 v) {
        assembly {
            v := calldataload(add(data.offset, off))
        }
    }

    /// The 32 bytes at `off` read as a little-endian integer (the caller keeps every read
    /// inside the data, or masks off what lies past its end).
    function le256(bytes calldata data, uint256 off) internal pure returns (uint256 v) {
        assembly {
            v := calldataload(add(data.offset, off))
        }
        v = ((v & 0xFF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00) >> 8)
            | ((v & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000) >> 16)
            | ((v & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF) << 16);
        v = ((v & 0xFFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000) >> 32)
            | ((v & 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF) << 32);
        v = ((v & 0xFFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF0000000000000000) >> 64)
            | ((v & 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF) << 64);
        v = (v >> 128) | (v << 128);
    }
}

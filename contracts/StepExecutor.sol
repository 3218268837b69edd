// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {PoseidonT5} from "poseidon-solidity/PoseidonT5.sol";
import {PoseidonT6} from "poseidon-solidity/PoseidonT6.sol";
import {PoseidonT9} from "./PoseidonT9.sol";
import {BabyJubjub} from "./BabyJubjub.sol";
import {PublicData} from "./PublicData.sol";

/// @title One step of a zkr batch, executed on chain: the L1's half of a one-step fraud proof
/// @notice The Solidity twin of `zkr_circuits::step`. A batch is `B` slot steps and one fee step;
/// slot step i takes the root R_i to R_{i+1} by the circuit's rules applied to one slot, the fee
/// step credits the batch's fees to the operator's account 0. `OptimisticRollup` asks this
/// contract to run the one step a challenger disputes, from the leaves it touches:
///
///   - the witness must be genuine — each leaf, with its path at the slot's index, leads to the
///     root it should (the sender's to the step's pre-root, the receiver's to the root after the
///     sender's update) — or the call reverts (`WrongPath`, `NotUnderRoot`, `BadLeaf`,
///     `BadSignatureHint`): such a challenge proves nothing either way;
///   - a genuine witness gives a violation code (the batch holds a transaction the circuit
///     refuses) or `VALID` and the honest post-root, which the rollup compares with the posted one.
///
/// Witness layout (`w`): a leaf is 5 words (pkX, pkY, balance, nonce, owner) followed by its
/// path's siblings, level by level from the leaves up (7 for an 8-ary level, 3 for a 4-ary one,
/// in `zkr_circuits::merkle::level_bits`'s shape, `siblingsPerPath` in all). A slot step's
/// witness is the sender's leaf and path, then the receiver's; a fee step's is the operator's.
///
/// The code follows `execute_slot` and `execute_fees` line by line (rule numbers as in
/// `zkr_circuits::circuit`), and a property test runs both on the same witnesses.
contract StepExecutor {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// The step follows every rule (the post-root decides).
    uint8 public constant VALID = 0;
    /// Rule 5: the signature does not verify under the sender's key and current nonce.
    uint8 public constant BAD_SIGNATURE = 1;
    /// Rule 6: the sender's nonce would pass 2^32 - 1.
    uint8 public constant NONCE_OVERFLOW = 2;
    /// Rule 6b: a full exit's amount is not the owner's whole balance (or 0 for a stranger).
    uint8 public constant WRONG_EXIT_AMOUNT = 3;
    /// Rule 7: the balance does not cover amount + fee.
    uint8 public constant INSUFFICIENT_BALANCE = 4;
    /// Rule 10: a transfer to an empty account (or fees for an empty operator account).
    uint8 public constant NO_RECEIVER = 5;
    /// Rule 10: a deposit to an account of another key.
    uint8 public constant DEPOSIT_KEY_MISMATCH = 6;
    /// Rules 11 and 15: a credit would pass 2^64 - 1.
    uint8 public constant BALANCE_OVERFLOW = 7;

    /// Which leaf of a witness an error is about.
    uint8 internal constant SENDER = 0;
    uint8 internal constant RECEIVER = 1;
    uint8 internal constant OPERATOR = 2;

    /// Address bits of the tree (2^depth accounts).
    uint256 public immutable depth;
    /// Accounts of the tree, 2^depth.
    uint64 public immutable accountCapacity;
    /// Siblings of one path: 7 per 8-ary level, 3 per 4-ary level.
    uint256 public immutable siblingsPerPath;
    /// Poseidon with 8 inputs (the tree's 8-ary nodes), deployed by the constructor.
    PoseidonT9 public immutable poseidonT9;

    /// The witness has the wrong length, a sibling not below r, or an index outside the tree
    /// (`which`: 0 sender, 1 receiver, 2 operator).
    error WrongPath(uint8 which);
    /// The leaf and its path do not lead to the root they should.
    error NotUnderRoot(uint8 which);
    /// A leaf field that is not an integer of its width (balance u64, nonce u32, owner 160 bits),
    /// a key coordinate not below r, or an empty key with other fields set: no leaf under a
    /// valid root has one.
    error BadLeaf(uint8 which);
    /// The x coordinate given for the signature's R is not the one its encoding names.
    error BadSignatureHint();
    /// The slot is not 121 bytes.
    error MalformedSlot();

    /// A leaf's fields.
    struct Leaf {
        uint256 pkX;
        uint256 pkY;
        uint256 balance;
        uint256 nonce;
        uint256 owner;
    }

    /// The executor for a tree of 2^depth_ accounts (an even depth in 2..=32).
    constructor(uint256 depth_) {
        require(depth_ >= 2 && depth_ <= 32 && depth_ % 2 == 0, "depth is not an even number in 2..=32");
        depth = depth_;
        accountCapacity = uint64(1 << depth_);
        (uint256 eights, uint256 fours) = levels(depth_);
        siblingsPerPath = 7 * eights + 3 * fours;
        poseidonT9 = new PoseidonT9();
    }

    /// Slot step: runs `slot` (121 bytes of posted public data) from `preRoot` on the deployment
    /// `chainId`, reading the touched leaves from `w`. For a transfer or withdrawal, `sig` is the
    /// slot's signature as posted and the x coordinate of its R: (R.y | (R.x & 1) << 255, S,
    /// R.x); for other slots it is ignored.
    /// @return violation `VALID` or the rule the slot breaks
    /// @return postRoot the root after the step (when `VALID`)
    function executeSlot(
        uint64 chainId,
        uint256 preRoot,
        bytes calldata slot,
        uint256[3] calldata sig,
        uint256[] calldata w
    ) external view returns (uint8 violation, uint256 postRoot) {
        if (slot.length != PublicData.SLOT_BYTES) revert MalformedSlot();
        if (w.length != 2 * (5 + siblingsPerPath)) revert WrongPath(SENDER);
        PublicData.Slot memory s = PublicData.decodeSlot(slot, 0);
        uint256 midRoot;
        (violation, midRoot) = senderStep(chainId, preRoot, s, sig, w);
        if (violation != VALID) return (violation, 0);
        return receiverStep(s, midRoot, w);
    }

    /// Rules 5 to 8: the sender's checks and update; the root after it.
    function senderStep(
        uint64 chainId,
        uint256 preRoot,
        PublicData.Slot memory s,
        uint256[3] calldata sig,
        uint256[] calldata w
    ) internal view returns (uint8, uint256) {
        Leaf memory sender = checkLeaf(w, 0, s.from, preRoot, SENDER);
        bool sends = PublicData.isSigned(s.txType);
        // Rules 5, 6: the signature over the current nonce, and the nonce's room.
        if (sends) {
            if (!signatureVerifies(chainId, s, sender, sig)) return (BAD_SIGNATURE, 0);
            if (sender.nonce == type(uint32).max) return (NONCE_OVERFLOW, 0);
        }
        // Rule 6b: a full exit pays the owner its whole balance, a stranger nothing.
        if (s.txType == PublicData.FULL_EXIT) {
            uint256 expected = sender.owner == s.requester ? sender.balance : 0;
            if (s.amount != expected) return (WRONG_EXIT_AMOUNT, 0);
        }
        // Rule 7: the balance covers the debit.
        uint256 debit;
        if (sends) debit = s.amount + s.fee;
        else if (s.txType == PublicData.FULL_EXIT) debit = s.amount;
        if (debit > sender.balance) return (INSUFFICIENT_BALANCE, 0);
        // Rule 8: the sender's update.
        sender.balance -= debit;
        if (sends) sender.nonce += 1;
        return (VALID, rootOf(s.from, leafHash(sender), w, 5));
    }

    /// Rule 5: `sig` verifies under the sender's key over Poseidon(chainId, packed, aux_x, nonce).
    /// A wrong R.x hint proves nothing (reverts); an encoding of no curve point does not verify.
    function signatureVerifies(uint64 chainId, PublicData.Slot memory s, Leaf memory sender, uint256[3] calldata sig)
        internal
        view
        returns (bool)
    {
        uint256 message = PoseidonT5.hash([uint256(chainId), s.packed, s.auxX, sender.nonce]);
        (uint8 status, uint256 rX) = BabyJubjub.decompress(sig[0], sig[2]);
        if (status == BabyJubjub.BAD_HINT) revert BadSignatureHint();
        if (status == BabyJubjub.NO_POINT) return false;
        return BabyJubjub.verify(sender.pkX, sender.pkY, message, rX, sig[0] & ((1 << 255) - 1), sig[1]);
    }

    /// Rules 9 to 12: the receiver's checks and update under `midRoot`; the root after it.
    function receiverStep(PublicData.Slot memory s, uint256 midRoot, uint256[] calldata w)
        internal
        view
        returns (uint8, uint256)
    {
        uint256 at = 5 + siblingsPerPath;
        Leaf memory receiver = checkLeaf(w, at, s.to, midRoot, RECEIVER);
        bool empty = receiver.pkX == 0 && receiver.pkY == 0;
        if (s.txType == PublicData.TRANSFER && empty) return (NO_RECEIVER, 0);
        bool isDeposit = s.txType == PublicData.DEPOSIT;
        if (isDeposit && !empty && (receiver.pkX != s.auxX || receiver.pkY != s.auxY)) {
            return (DEPOSIT_KEY_MISMATCH, 0);
        }
        if (s.txType == PublicData.TRANSFER || isDeposit) {
            if (receiver.balance + s.amount > type(uint64).max) return (BALANCE_OVERFLOW, 0);
            receiver.balance += s.amount;
        }
        if (isDeposit) {
            if (empty) receiver.owner = s.requester;
            receiver.pkX = s.auxX;
            receiver.pkY = s.auxY;
        }
        return (VALID, rootOf(s.to, leafHash(receiver), w, at + 5));
    }

    /// Fee step: credits `fees` (the sum of the batch's fees) to the operator's account 0, read
    /// from `w` under `preRoot` (the root after the last slot).
    /// @return violation `VALID`, `NO_RECEIVER` or `BALANCE_OVERFLOW`
    /// @return postRoot the batch's honest new root (when `VALID`)
    function executeFees(uint256 preRoot, uint256 fees, uint256[] calldata w)
        external
        view
        returns (uint8 violation, uint256 postRoot)
    {
        if (w.length != 5 + siblingsPerPath) revert WrongPath(OPERATOR);
        Leaf memory op = checkLeaf(w, 0, 0, preRoot, OPERATOR);
        // (Never under a valid root: account 0 is the operator's from genesis.)
        if (op.pkX == 0 && op.pkY == 0 && fees > 0) return (NO_RECEIVER, 0);
        if (op.balance + fees > type(uint64).max) return (BALANCE_OVERFLOW, 0);
        op.balance += fees;
        return (VALID, rootOf(0, leafHash(op), w, 5));
    }

    /// The root that `leaf` (pkX, pkY, balance, nonce, owner) at `index` and its path's
    /// `siblings` (leaf level first) lead to: an exodus withdrawal's check. Reverts `WrongPath`
    /// for a path of another shape, a sibling not below r or an index outside the tree, and
    /// `BadLeaf` for a field out of range.
    function leafRoot(uint256 index, uint256[5] calldata leaf, uint256[] calldata siblings)
        external
        view
        returns (uint256)
    {
        if (index >= accountCapacity || siblings.length != siblingsPerPath) revert WrongPath(OPERATOR);
        Leaf memory l = Leaf(leaf[0], leaf[1], leaf[2], leaf[3], leaf[4]);
        if (!fieldsInRange(l)) revert BadLeaf(OPERATOR);
        for (uint256 i = 0; i < siblings.length; i++) {
            if (siblings[i] >= R) revert WrongPath(OPERATOR);
        }
        return rootOf(index, leafHash(l), siblings, 0);
    }

    /// Reads the leaf at `w[at .. at + 5]`, checks its fields and that it and its path (the
    /// siblings after it) lead from `index` to `root`.
    function checkLeaf(uint256[] calldata w, uint256 at, uint256 index, uint256 root, uint8 which)
        internal
        view
        returns (Leaf memory l)
    {
        if (index >= accountCapacity) revert WrongPath(which);
        l = Leaf(w[at], w[at + 1], w[at + 2], w[at + 3], w[at + 4]);
        if (!fieldsInRange(l)) revert BadLeaf(which);
        for (uint256 i = at + 5; i < at + 5 + siblingsPerPath; i++) {
            if (w[i] >= R) revert WrongPath(which);
        }
        if (rootOf(index, leafHash(l), w, at + 5) != root) revert NotUnderRoot(which);
    }

    /// The fields of a leaf under a valid root: coordinates below r, a u64 balance, a u32 nonce,
    /// a 160-bit owner, and nothing but zeros beside an empty key.
    function fieldsInRange(Leaf memory l) internal pure returns (bool) {
        bool empty = l.pkX == 0 && l.pkY == 0;
        return l.pkX < R && l.pkY < R && l.balance <= type(uint64).max && l.nonce <= type(uint32).max
            && l.owner < (1 << 160) && !(empty && (l.balance != 0 || l.nonce != 0 || l.owner != 0));
    }

    /// `0` for an empty key, else `Poseidon(pk.x, pk.y, balance, nonce, owner)`
    /// (`AccountLeaf::hash`).
    function leafHash(Leaf memory l) internal pure returns (uint256) {
        if (l.pkX == 0 && l.pkY == 0) return 0;
        return PoseidonT6.hash([l.pkX, l.pkY, l.balance, l.nonce, l.owner]);
    }

    /// The root reached by hashing `leaf` up the path of `index` whose siblings start at
    /// `w[at]`: 8-ary levels (`poseidonT9`) from the leaves up, then one or two 4-ary levels
    /// (`PoseidonT5`) when the depth is not a multiple of 3 (`zkr_circuits::merkle::level_bits`).
    function rootOf(uint256 index, uint256 leaf, uint256[] calldata w, uint256 at)
        internal
        view
        returns (uint256 node)
    {
        (uint256 eights, uint256 fours) = levels(depth);
        node = leaf;
        uint256 rest = index;
        for (uint256 level = 0; level < eights; level++) {
            uint256 position = rest & 7;
            rest >>= 3;
            uint256[8] memory children;
            for (uint256 j = 0; j < 8; j++) {
                children[j] = j == position ? node : w[at++];
            }
            node = poseidonT9.hash(children);
        }
        for (uint256 level = 0; level < fours; level++) {
            uint256 position = rest & 3;
            rest >>= 2;
            uint256[4] memory children;
            for (uint256 j = 0; j < 4; j++) {
                children[j] = j == position ? node : w[at++];
            }
            node = PoseidonT5.hash(children);
        }
    }

    /// The tree's levels: `eights` of 3 address bits, then `fours` of 2.
    function levels(uint256 d) internal pure returns (uint256 eights, uint256 fours) {
        eights = d % 3 == 1 ? d / 3 - 1 : d / 3;
        fours = d % 3 == 0 ? 0 : (d % 3 == 1 ? 2 : 1);
    }
}

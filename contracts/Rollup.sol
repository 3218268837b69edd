// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {PoseidonT5} from "poseidon-solidity/PoseidonT5.sol";
import {PoseidonT6} from "poseidon-solidity/PoseidonT6.sol";
import {PoseidonT9} from "./PoseidonT9.sol";

/// @title zkr's L1 contract on an EVM chain
/// @notice The Solidity twin of the Rust L1 (`zkr_verifier::contract::L1Contract`): it holds the
/// current state root, the priority queue (deposits and full exits) and the withdrawals owed to L1
/// addresses, and accepts
/// batch n + 1 only under the same rule, in the same order of checks:
///   1. the number is the next one (`Replayed` below it, `OutOfOrder` above it);
///   2. both roots are canonical field elements (< r), refused, never reduced;
///   3. the old root is the current root;
///   4. the public data is `batchSize` canonical 121-byte slots (the encoding of
///      `zkr_circuits::tx`);
///   5. the deposit and full-exit slots are exactly the next requests of the queue, in order;
///   6. the proof's coordinates are canonical (< q) and its G1 points are on the curve;
///   7. the Groth16 proof verifies for the public inputs recomputed here
///      (`zkr_circuits::public`):
///        inputs    = [old_root, new_root, aux_chain, packed_0, ..., packed_{B-1}]
///        packed_i  = slot i's first 25 bytes (type, from, to, amount, fee) as an integer
///        aux_chain = fold(chainId, deposit, withdrawal or full-exit slot
///                         => Poseidon(acc, aux_x, aux_y, requester))
///      where `chainId` is this deployment's (see `chainId`): the circuit checks every signature
///      over the chain id the aux chain starts from, so a batch signed for another deployment
///      does not verify here.
/// Then, in one transaction, it sets the new root, pops the requests, credits the withdrawals and
/// the full exits and emits the public data. A refused batch reverts with a typed error and
/// changes nothing.
///
/// Users can leave without the operator: `requestFullExit(account)` queues a full exit that the
/// next batches must consume in order; the circuit pays the account's whole balance to the
/// requester when the requester owns the account (the L1 address whose deposit opened it), and
/// nothing otherwise.
///
/// And users can leave when nobody proves: every request records when it was queued; once the
/// oldest one has waited more than `priorityDeadline` seconds, anyone can switch the contract to
/// exodus mode (`activateExodus`). Then no batch, deposit or request is accepted any more; the
/// deposits still queued are refunded to their payers (`refundDeposits`, in chunks so that no
/// queue is too long to refund), and each account's owner is credited its balance once by
/// presenting the account's fields and Merkle path under the last verified root
/// (`exodusWithdraw`; the tree's nodes are Poseidon hashes of 8 or 4 children, the leaf
/// `Poseidon(pk.x, pk.y, balance, nonce, owner)`). `zkr exit` builds that proof from the events
/// alone.
///
/// Units: the circuit's amounts are u64 in gwei (1 unit = 1 gwei = 1e9 wei). A deposit must send
/// a positive whole number of gwei (at most 2^64 - 1 gwei); a withdrawal of `amount` units is
/// claimable as `amount * 1 gwei` wei.
///
/// Data availability: `BatchAccepted` (with the whole public data, which carries every deposit's
/// key and payer) is enough to rebuild the L2 state without reading storage.
contract Rollup {
    /// The BN254 scalar field modulus (public inputs, Poseidon, Baby Jubjub coordinates).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// The BN254 base field modulus (proof coordinates).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// Baby Jubjub in arkworks' model (ark-ed-on-bn254, the one zkr's keys use): the twisted
    /// Edwards curve x^2 + y^2 = 1 + d x^2 y^2 over the scalar field, d = 168696 / 168700
    /// (circomlib's a = 168700, d = 168696 curve, scaled to a = 1).
    uint256 internal constant BJJ_D = 9706598848417545097372247223557719406784115219466060233080913168975159366771;

    /// Wei per circuit unit.
    uint256 public constant UNIT_WEI = 1 gwei;
    /// Bytes of one slot of public data.
    uint256 public constant SLOT_BYTES = 121;

    /// Slot type codes.
    uint256 internal constant NOOP = 0;
    uint256 internal constant TRANSFER = 1;
    uint256 internal constant DEPOSIT = 2;
    uint256 internal constant WITHDRAW = 3;
    uint256 internal constant FULL_EXIT = 4;

    /// Reasons of `MalformedPublicData`.
    uint8 internal constant BAD_LENGTH = 0;
    uint8 internal constant BAD_TYPE = 1;
    uint8 internal constant NON_CANONICAL_FIELD = 2;
    uint8 internal constant NON_CANONICAL_SLOT = 3;

    /// A request waiting in the priority queue, queued by `from` at `queuedAt` (unix seconds):
    /// a deposit (key (pkX, pkY), `value` the amount) or a full exit (key (0, 0), `value` the
    /// account). The kind is not stored: no deposit key is (0, 0), which is not a curve point.
    /// `value`, `from` and `queuedAt` share one storage slot (three slots a request); a uint32
    /// time lasts until 2106.
    struct QueuedRequest {
        uint256 pkX;
        uint256 pkY;
        uint64 value;
        address from;
        uint32 queuedAt;
    }

    /// The verifier of the batch circuit's proofs: any contract answering snarkjs's
    /// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[3 + batchSize])` (the one
    /// `zkr export-verifier` renders, or `Groth16KeyedVerifier`).
    address public immutable verifier;
    /// That function's selector (the array length is part of it).
    bytes4 internal immutable verifyProofSelector;
    /// Slots per batch (the circuit's fixed batch size).
    uint256 public immutable batchSize;
    /// This deployment's chain id, bound into every L2 signature: the low 64 bits of
    /// keccak256(block.chainid, address(this)), so no two deployments share one.
    uint64 public immutable chainId;
    /// The operator's L2 key and L1 address: account 0's key and owner from genesis.
    uint256 public immutable operatorPkX;
    /// (y coordinate of the operator's key)
    uint256 public immutable operatorPkY;
    /// (the operator's L1 address, account 0's owner)
    address public immutable operatorL1;
    /// Accounts of the tree, 2^depth: a full exit names one of them.
    uint64 public immutable accountCapacity;
    /// Address bits of the tree (2^depth accounts): the shape of an exodus withdrawal's path.
    uint256 public immutable depth;
    /// Seconds a queued request may wait before anyone can switch the contract to exodus mode.
    uint256 public immutable priorityDeadline;
    /// Poseidon with 8 inputs (the 8-ary nodes of the tree), deployed by the constructor.
    PoseidonT9 public immutable poseidonT9;
    /// The root the rollup started from: the tree holding only the operator's account 0
    /// (`zkr_circuits::state::State::genesis`; anyone can recompute it from the operator's key).
    uint256 public immutable genesisRoot;
    /// The current state root.
    uint256 public stateRoot;
    /// Batches accepted so far; the next batch is `batchCount + 1`.
    uint64 public batchCount;
    /// Id of the oldest request not yet consumed.
    uint64 public queueHead;
    /// Id the next request gets.
    uint64 public queueTail;
    /// Exodus mode: no more batches, deposits or requests; owners withdraw under `stateRoot`.
    /// (In the storage slot of `batchCount` and the queue bounds, which every batch reads.)
    bool public exodus;
    /// Requests not yet consumed, by id (consumed ones are deleted).
    mapping(uint64 => QueuedRequest) public requests;
    /// Wei each L1 address can claim.
    mapping(address => uint256) public withdrawable;
    /// Accounts whose balance was already withdrawn in exodus mode.
    mapping(uint64 => bool) public exited;

    /// A deposit joined the queue: credit `amount` units to the L2 account of (pkX, pkY).
    event DepositQueued(uint64 indexed id, address indexed from, uint256 pkX, uint256 pkY, uint64 amount);
    /// A full exit joined the queue: `requester` asks for account `account`'s whole balance.
    event FullExitQueued(uint64 indexed id, address indexed requester, uint64 account);
    /// Batch `number` moved the root from `oldRoot` to `newRoot`, consuming the requests
    /// `firstRequest .. firstRequest + requestCount` in order; `publicData` is its slots.
    event BatchAccepted(
        uint64 indexed number,
        uint256 oldRoot,
        uint256 newRoot,
        uint64 firstRequest,
        uint64 requestCount,
        bytes publicData
    );
    /// Batch `number` credited `amount` units to `to` (claimable as `amount * UNIT_WEI` wei): a
    /// withdrawal or a full exit.
    event WithdrawalCredited(uint64 indexed number, address indexed to, uint64 amount);
    /// `to` claimed `weiAmount`.
    event Claimed(address indexed to, uint256 weiAmount);
    /// Exodus mode is on: request `overdueRequest` waited past the deadline; `root` is final.
    event ExodusActivated(uint64 overdueRequest, uint256 root);
    /// In exodus mode, queued deposit `id` was refunded: `amount` units credited to its payer.
    event DepositRefunded(uint64 indexed id, address indexed to, uint64 amount);
    /// In exodus mode, account `account`'s balance `amount` (units) was credited to its owner.
    event ExodusWithdrawal(uint64 indexed account, address indexed owner, uint64 amount);

    /// The batch number was already accepted.
    error Replayed(uint64 expected, uint64 got);
    /// The batch skips ahead.
    error OutOfOrder(uint64 expected, uint64 got);
    /// A root is not below r (field: 0 = old root, 1 = new root).
    error NonCanonicalInput(uint8 field);
    /// The old root is not the current root.
    error WrongOldRoot(uint256 expected, uint256 got);
    /// The public data does not decode (slot = type(uint256).max for the whole buffer).
    error MalformedPublicData(uint256 slot, uint8 reason);
    /// The deposit and full-exit slots are not the next requests of the queue (index = the
    /// batch's k-th request, or type(uint256).max when the batch claims more than the queue holds).
    error QueueMismatch(uint256 index);
    /// A full exit of an account the tree cannot hold.
    error NoSuchAccount(uint64 account);
    /// A proof coordinate is not below q, or a G1 point is off the curve.
    error MalformedProof();
    /// The proof does not verify for the recomputed public inputs.
    error BadProof();
    /// A deposit of zero, of a fraction of a gwei, or of more than 2^64 - 1 gwei.
    error BadDepositAmount(uint256 weiAmount);
    /// The deposit key is not a point of Baby Jubjub's prime-order subgroup (or is the identity).
    error InvalidPublicKey();
    /// Nothing to claim.
    error NothingToClaim();
    /// The ETH transfer of a claim failed.
    error ClaimFailed();
    /// The contract is in exodus mode: no batch, deposit or request is accepted.
    error Exodus();
    /// Exodus mode is off: batches still settle (or it cannot be switched on yet).
    error ExodusNotActive();
    /// Exodus mode cannot be switched on: no queued request has waited past its deadline
    /// (`due` is when the oldest one will have; type(uint256).max when the queue is empty).
    error NotOverdue(uint256 time, uint256 due);
    /// The account was already withdrawn in exodus mode.
    error AlreadyExited(uint64 account);
    /// The account's fields and path do not lead to the last verified root (or have the wrong
    /// shape, or a non-canonical element, or describe an empty leaf).
    error BadExitProof(uint64 account);

    /// A rollup of 2^depth accounts at `genesisRoot_` (the root of the tree holding only the
    /// operator's account 0, with key (operatorPkX_, operatorPkY_) and owner `operatorL1_`) whose
    /// batches of `batchSize_` slots are checked by `verifier_`, and whose queued requests may
    /// wait `priorityDeadline_` seconds before exodus mode can be switched on.
    constructor(
        address verifier_,
        uint256 batchSize_,
        uint256 depth_,
        uint256 genesisRoot_,
        uint256 operatorPkX_,
        uint256 operatorPkY_,
        address operatorL1_,
        uint256 priorityDeadline_
    ) {
        require(genesisRoot_ < R, "genesis root is not canonical");
        require(batchSize_ > 0 && batchSize_ <= 1024, "batch size is not in 1..=1024");
        require(depth_ >= 2 && depth_ <= 32 && depth_ % 2 == 0, "depth is not an even number in 2..=32");
        require(priorityDeadline_ > 0 && priorityDeadline_ <= type(uint32).max, "priority deadline is not in 1..2^32 s");
        depth = depth_;
        accountCapacity = uint64(1 << depth_);
        priorityDeadline = priorityDeadline_;
        poseidonT9 = new PoseidonT9();
        operatorL1 = operatorL1_;
        require(onBabyJubjub(operatorPkX_, operatorPkY_), "operator key is not on Baby Jubjub");
        verifier = verifier_;
        batchSize = batchSize_;
        stateRoot = genesisRoot_;
        genesisRoot = genesisRoot_;
        operatorPkX = operatorPkX_;
        operatorPkY = operatorPkY_;
        chainId = uint64(uint256(keccak256(abi.encode(block.chainid, address(this)))));
        verifyProofSelector = bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", decimal(3 + batchSize_), "])")
            )
        );
    }

    /// Queues a deposit of `msg.value` (a whole number of gwei) for the L2 key (pkX, pkY), a
    /// point of Baby Jubjub's prime-order subgroup; (hintX, hintY) is (8^-1 mod l)·(pkX, pkY),
    /// which makes that check cheap (see `isSubgroupPoint`).
    /// @return id the deposit's queue id
    function deposit(uint256 pkX, uint256 pkY, uint256 hintX, uint256 hintY) external payable returns (uint64 id) {
        if (exodus) revert Exodus();
        if (msg.value == 0 || msg.value % UNIT_WEI != 0 || msg.value / UNIT_WEI > type(uint64).max) {
            revert BadDepositAmount(msg.value);
        }
        if (!isSubgroupPoint(pkX, pkY, hintX, hintY)) revert InvalidPublicKey();
        uint64 amount = uint64(msg.value / UNIT_WEI);
        id = queueTail;
        requests[id] = QueuedRequest(pkX, pkY, amount, msg.sender, uint32(block.timestamp));
        queueTail = id + 1;
        emit DepositQueued(id, msg.sender, pkX, pkY, amount);
    }

    /// Queues a full exit of L2 account `account` for the caller: a later batch must consume it
    /// (in queue order), paying the account's whole balance to the caller if the caller owns it
    /// (opened it with a deposit), and nothing otherwise. Needs nothing from the operator.
    /// @return id the request's queue id
    function requestFullExit(uint64 account) external returns (uint64 id) {
        if (exodus) revert Exodus();
        if (account >= accountCapacity) revert NoSuchAccount(account);
        id = queueTail;
        requests[id] = QueuedRequest(0, 0, account, msg.sender, uint32(block.timestamp));
        queueTail = id + 1;
        emit FullExitQueued(id, msg.sender, account);
    }

    /// Requests (deposits and full exits) waiting in the queue.
    function pendingRequests() external view returns (uint64) {
        return queueTail - queueHead;
    }

    /// Submits batch `number`: the transition `oldRoot -> newRoot` with its public data and
    /// Groth16 proof (pB with the imaginary part of each coordinate first). Reverts with a typed
    /// error, changing nothing, unless the batch passes the acceptance rule.
    function submitBatch(
        uint64 number,
        uint256 oldRoot,
        uint256 newRoot,
        bytes calldata publicData,
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC
    ) external {
        if (exodus) revert Exodus();
        uint64 head = queueHead;
        (bytes memory vcall, uint256 requestCount) = checkBatch(number, oldRoot, newRoot, publicData, head);
        checkProofPoints(pA, pB, pC);
        if (!verifies(vcall, pA, pB, pC)) revert BadProof();
        applyBatch(number, oldRoot, newRoot, publicData, head, requestCount);
    }

    /// Rules 1 to 5; returns the verifier's calldata with the public inputs in place (the
    /// proof's eight words are filled in by `verifies`), and the requests consumed.
    function checkBatch(uint64 number, uint256 oldRoot, uint256 newRoot, bytes calldata publicData, uint64 head)
        internal
        view
        returns (bytes memory vcall, uint256 requestCount)
    {
        uint64 expected = batchCount + 1;
        if (number < expected) revert Replayed(expected, number);
        if (number > expected) revert OutOfOrder(expected, number);
        if (oldRoot >= R) revert NonCanonicalInput(0);
        if (newRoot >= R) revert NonCanonicalInput(1);
        if (oldRoot != stateRoot) revert WrongOldRoot(stateRoot, oldRoot);
        // selector, A (2 words), B (4), C (2), then the 3 + batchSize public inputs.
        vcall = new bytes(4 + 32 * (8 + 3 + batchSize));
        bytes4 sel = verifyProofSelector;
        assembly {
            mstore(add(vcall, 32), sel)
        }
        setWord(vcall, 8, oldRoot);
        setWord(vcall, 9, newRoot);
        uint256 auxChain;
        (auxChain, requestCount) = readPublicData(publicData, vcall);
        setWord(vcall, 10, auxChain);
        checkQueue(publicData, head, requestCount);
    }

    /// Calls the verifier with `vcall` completed by the proof; true when it answers true.
    function verifies(bytes memory vcall, uint256[2] calldata pA, uint256[2][2] calldata pB, uint256[2] calldata pC)
        internal
        view
        returns (bool)
    {
        setWord(vcall, 0, pA[0]);
        setWord(vcall, 1, pA[1]);
        setWord(vcall, 2, pB[0][0]);
        setWord(vcall, 3, pB[0][1]);
        setWord(vcall, 4, pB[1][0]);
        setWord(vcall, 5, pB[1][1]);
        setWord(vcall, 6, pC[0]);
        setWord(vcall, 7, pC[1]);
        (bool ok, bytes memory ret) = verifier.staticcall(vcall);
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    /// Writes argument word `i` (after the 4-byte selector) of `vcall`.
    function setWord(bytes memory vcall, uint256 i, uint256 v) internal pure {
        assembly {
            mstore(add(add(vcall, 36), mul(i, 32)), v)
        }
    }

    /// The effects of an accepted batch: root, count, queue, withdrawals, events.
    function applyBatch(
        uint64 number,
        uint256 oldRoot,
        uint256 newRoot,
        bytes calldata publicData,
        uint64 head,
        uint256 requestCount
    ) internal {
        stateRoot = newRoot;
        batchCount = number;
        for (uint64 k = 0; k < requestCount; k++) {
            delete requests[head + k];
        }
        queueHead = head + uint64(requestCount);
        emit BatchAccepted(number, oldRoot, newRoot, head, uint64(requestCount), publicData);
        for (uint256 i = 0; i < publicData.length; i += SLOT_BYTES) {
            uint256 packed = packedAt(publicData, i);
            uint256 txType = packed & 0xff;
            uint64 amount = uint64(packed >> 72);
            address to;
            if (txType == WITHDRAW) {
                to = address(uint160(le256(publicData, i + 25)));
            } else if (txType == FULL_EXIT && amount > 0) {
                to = address(uint160(le256(publicData, i + 89)));
            } else {
                continue;
            }
            withdrawable[to] += uint256(amount) * UNIT_WEI;
            emit WithdrawalCredited(number, to, amount);
        }
    }

    /// Sends the caller everything credited to it (checks, effects, then the transfer).
    function claim() external {
        uint256 amount = withdrawable[msg.sender];
        if (amount == 0) revert NothingToClaim();
        withdrawable[msg.sender] = 0;
        emit Claimed(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert ClaimFailed();
    }

    /// Switches the contract to exodus mode, as anyone may once the oldest queued request has
    /// waited more than `priorityDeadline` seconds: the operator stopped, or censors it. From
    /// then on no batch, deposit or request is accepted, and `stateRoot` is final.
    function activateExodus() external {
        if (exodus) revert Exodus();
        uint64 head = queueHead;
        if (head == queueTail) revert NotOverdue(block.timestamp, type(uint256).max);
        uint256 due = uint256(requests[head].queuedAt) + priorityDeadline;
        if (block.timestamp <= due) revert NotOverdue(block.timestamp, due);
        exodus = true;
        emit ExodusActivated(head, stateRoot);
    }

    /// In exodus mode: takes the next `count` requests (or all, if fewer) off the queue,
    /// crediting each deposit back to its payer (claimable with `claim`). Queued full exits are
    /// dropped: their owners withdraw with `exodusWithdraw`. Anyone may call it, as often as it
    /// takes, so that a long queue is refunded in several transactions.
    function refundDeposits(uint64 count) external {
        if (!exodus) revert ExodusNotActive();
        uint64 head = queueHead;
        uint64 tail = queueTail;
        uint64 end = tail - head > count ? head + count : tail;
        for (uint64 id = head; id < end; id++) {
            QueuedRequest storage q = requests[id];
            if (q.pkY != 0) {
                withdrawable[q.from] += uint256(q.value) * UNIT_WEI;
                emit DepositRefunded(id, q.from, q.value);
            }
            delete requests[id];
        }
        queueHead = end;
    }

    /// In exodus mode: credits account `account`'s balance to its owner (claimable with `claim`),
    /// once, given the account's fields and its Merkle path under the last verified root:
    /// `siblings` holds each level's siblings in tree order, leaf level first (7 for an 8-ary
    /// level, 3 for a 4-ary one; see `zkr_circuits::merkle::level_bits`). Anyone may present it;
    /// the owner is paid. `zkr exit` builds it from the public data of the accepted batches.
    function exodusWithdraw(
        uint64 account,
        uint256 pkX,
        uint256 pkY,
        uint64 balance,
        uint32 nonce,
        address owner,
        uint256[] calldata siblings
    ) external {
        if (!exodus) revert ExodusNotActive();
        if (exited[account]) revert AlreadyExited(account);
        if (account >= accountCapacity) revert NoSuchAccount(account);
        // (0, 0) is the empty leaf, which hashes to 0, not to Poseidon of its fields: an empty
        // account has nothing to withdraw, and a made-up balance for it must not verify.
        if (pkX >= R || pkY >= R || (pkX == 0 && pkY == 0)) revert BadExitProof(account);
        uint256 leaf = PoseidonT6.hash([pkX, pkY, uint256(balance), uint256(nonce), uint256(uint160(owner))]);
        if (merkleRoot(account, leaf, siblings) != stateRoot) revert BadExitProof(account);
        exited[account] = true;
        withdrawable[owner] += uint256(balance) * UNIT_WEI;
        emit ExodusWithdrawal(account, owner, balance);
    }

    /// The root reached by hashing `leaf` up the path of `index`: levels of 3 address bits
    /// (8 children, `poseidonT9`) from the leaves up, then one or two levels of 2 bits (4
    /// children, `PoseidonT5`) at the top when the depth is not a multiple of 3, as
    /// `zkr_circuits::merkle::level_bits`. Reverts with `BadExitProof` on a path of another shape
    /// or with a sibling not below r.
    function merkleRoot(uint64 index, uint256 leaf, uint256[] calldata siblings) internal view returns (uint256 node) {
        uint256 d = depth;
        uint256 eights = d % 3 == 1 ? d / 3 - 1 : d / 3;
        uint256 fours = d % 3 == 0 ? 0 : (d % 3 == 1 ? 2 : 1);
        if (siblings.length != 7 * eights + 3 * fours) revert BadExitProof(index);
        for (uint256 i = 0; i < siblings.length; i++) {
            if (siblings[i] >= R) revert BadExitProof(index);
        }
        node = leaf;
        uint256 at = 0;
        uint256 rest = index;
        for (uint256 level = 0; level < eights; level++) {
            uint256 position = rest & 7;
            rest >>= 3;
            uint256[8] memory children;
            for (uint256 j = 0; j < 8; j++) {
                children[j] = j == position ? node : siblings[at++];
            }
            node = poseidonT9.hash(children);
        }
        for (uint256 level = 0; level < fours; level++) {
            uint256 position = rest & 3;
            rest >>= 2;
            uint256[4] memory children;
            for (uint256 j = 0; j < 4; j++) {
                children[j] = j == position ? node : siblings[at++];
            }
            node = PoseidonT5.hash(children);
        }
    }

    /// Validates every slot (as `SlotData::from_bytes` does), writes each slot's packed element
    /// into the verifier's calldata `vcall` (input 3 + slot) and folds the aux chain.
    function readPublicData(bytes calldata data, bytes memory vcall)
        internal
        view
        returns (uint256 acc, uint256 requestCount)
    {
        if (data.length != batchSize * SLOT_BYTES) {
            revert MalformedPublicData(type(uint256).max, BAD_LENGTH);
        }
        acc = chainId;
        for (uint256 off = 0; off < data.length; off += SLOT_BYTES) {
            uint256 slot = off / SLOT_BYTES;
            uint256 packed = packedAt(data, off);
            uint256 txType = packed & 0xff;
            if (txType > FULL_EXIT) revert MalformedPublicData(slot, BAD_TYPE);
            // A zero word is zero in either byte order: only non-zero words are decoded.
            uint256 auxX = rawWord(data, off + 25);
            uint256 auxY = rawWord(data, off + 57);
            uint256 requester = rawWord(data, off + 89);
            if (auxX != 0) auxX = le256(data, off + 25);
            if (auxY != 0) auxY = le256(data, off + 57);
            if (requester != 0) requester = le256(data, off + 89);
            if (auxX >= R || auxY >= R || requester >= R) {
                revert MalformedPublicData(slot, NON_CANONICAL_FIELD);
            }
            bool canonical;
            if (txType == NOOP) {
                canonical = packed == 0 && auxX == 0 && auxY == 0 && requester == 0;
            } else if (txType == TRANSFER) {
                canonical = auxX == 0 && auxY == 0 && requester == 0;
            } else if (txType == DEPOSIT) {
                // from (bits 8..40) and fee (bits 136..200) are zero; the payer fits 160 bits.
                canonical = (packed >> 8) & 0xffffffff == 0 && packed >> 136 == 0 && requester < (1 << 160);
                requestCount++;
            } else if (txType == WITHDRAW) {
                // to (bits 40..72) is zero; the address fits 160 bits.
                canonical = (packed >> 40) & 0xffffffff == 0 && auxY == 0 && requester == 0 && auxX < (1 << 160);
            } else {
                // A full exit: to and fee are zero, no aux, the requester fits 160 bits.
                canonical = (packed >> 40) & 0xffffffff == 0 && packed >> 136 == 0 && auxX == 0 && auxY == 0
                    && requester < (1 << 160);
                requestCount++;
            }
            if (!canonical) revert MalformedPublicData(slot, NON_CANONICAL_SLOT);
            setWord(vcall, 11 + slot, packed);
            if (txType >= DEPOSIT) acc = PoseidonT5.hash([acc, auxX, auxY, requester]);
        }
    }

    /// Checks the deposit and full-exit slots against the queue from `head`, in order: a deposit
    /// has the queued key, amount and payer, a full exit the queued account and requester (its
    /// amount is the circuit's: the owner's whole balance, or 0). The key and address enter the
    /// aux chain and the rest the slot's packed input, so the proof is about the queued requests.
    function checkQueue(bytes calldata data, uint64 head, uint256 requestCount) internal view {
        if (requestCount > queueTail - head) revert QueueMismatch(type(uint256).max);
        uint256 k = 0;
        for (uint256 off = 0; off < data.length && k < requestCount; off += SLOT_BYTES) {
            uint256 txType = uint8(data[off]);
            if (txType != DEPOSIT && txType != FULL_EXIT) continue;
            QueuedRequest storage q = requests[head + uint64(k)];
            uint256 packed = packedAt(data, off);
            address requester = address(uint160(le256(data, off + 89)));
            bool ok;
            if (txType == DEPOSIT) {
                ok = q.pkY != 0 && le256(data, off + 25) == q.pkX && le256(data, off + 57) == q.pkY
                    && uint64(packed >> 72) == q.value && requester == q.from;
            } else {
                ok = q.pkY == 0 && ((packed >> 8) & 0xffffffff) == q.value && requester == q.from;
            }
            if (!ok) revert QueueMismatch(k);
            k++;
        }
    }

    /// Proof coordinates below q, and A and C on the G1 curve y^2 = x^3 + 3 (or the identity
    /// (0, 0)). B's curve and subgroup membership are checked by the pairing precompile.
    function checkProofPoints(uint256[2] calldata pA, uint256[2][2] calldata pB, uint256[2] calldata pC)
        internal
        pure
    {
        if (
            pA[0] >= Q || pA[1] >= Q || pC[0] >= Q || pC[1] >= Q || pB[0][0] >= Q || pB[0][1] >= Q
                || pB[1][0] >= Q || pB[1][1] >= Q
        ) revert MalformedProof();
        if (!onG1(pA[0], pA[1]) || !onG1(pC[0], pC[1])) revert MalformedProof();
    }

    /// True when (x, y) is on y^2 = x^3 + 3 over the base field, or is (0, 0), the precompiles'
    /// encoding of the identity (the Rust L1 accepts the identity, `z = 0`, too).
    function onG1(uint256 x, uint256 y) internal pure returns (bool) {
        if (x == 0 && y == 0) return true;
        return mulmod(y, y, Q) == addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q);
    }

    /// `type + from 2^8 + to 2^40 + amount 2^72 + fee 2^136`: the slot's first 25 bytes read as a
    /// little-endian integer.
    function packedAt(bytes calldata data, uint256 off) internal pure returns (uint256) {
        return le256(data, off) & ((1 << 200) - 1);
    }

    /// The 32 bytes at `off` as they are (big-endian): zero exactly when they are all zero.
    function rawWord(bytes calldata data, uint256 off) internal pure returns (uint256 v) {
        assembly {
            v := calldataload(add(data.offset, off))
        }
    }

    /// The 32 bytes at `off` read as a little-endian integer (bytes past the end read as zero
    /// only when they are masked off by the caller; every read here ends inside the data).
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

    /// `n` in decimal.
    function decimal(uint256 n) internal pure returns (bytes memory s) {
        if (n == 0) return "0";
        uint256 len;
        for (uint256 m = n; m > 0; m /= 10) len++;
        s = new bytes(len);
        for (; n > 0; n /= 10) s[--len] = bytes1(uint8(48 + (n % 10)));
    }

    /// True when (x, y) is on Baby Jubjub with canonical coordinates.
    function onBabyJubjub(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= R || y >= R) return false;
        uint256 xx = mulmod(x, x, R);
        uint256 yy = mulmod(y, y, R);
        return addmod(xx, yy, R) == addmod(1, mulmod(mulmod(BJJ_D, xx, R), yy, R), R);
    }

    /// True when (x, y) is a point of Baby Jubjub's prime-order subgroup other than the identity
    /// (the test of `PublicKey::from_coordinates` in zkr-circuits), given a `hint`: a curve point
    /// with 8·hint = (x, y), i.e. (8^-1 mod l)·P, computed off-chain.
    ///
    /// Why this is the subgroup test: the curve's group has order 8·l, so 8·Q lies in the
    /// order-l subgroup for every curve point Q; conversely every P of the subgroup is 8·Q for
    /// Q = (8^-1 mod l)·P. Three doublings cost a few thousand gas, where l·P costs ~175,000.
    function isSubgroupPoint(uint256 x, uint256 y, uint256 hintX, uint256 hintY) public pure returns (bool ok) {
        if (x == 0 && y == 1) return false;
        if (!onBabyJubjub(x, y) || !onBabyJubjub(hintX, hintY)) return false;
        assembly {
            // Projective doubling (dbl-2008-bbjlp) on the twisted Edwards curve with a = 1.
            function dbl(x1, y1, z1) -> x3, y3, z3 {
                let p := 21888242871839275222246405745257275088548364400416034343698204186575808495617
                let b := mulmod(addmod(x1, y1, p), addmod(x1, y1, p), p)
                let c := mulmod(x1, x1, p)
                let d := mulmod(y1, y1, p)
                let f := addmod(c, d, p)
                let j := addmod(f, sub(p, mulmod(2, mulmod(z1, z1, p), p)), p)
                x3 := mulmod(addmod(b, sub(p, f), p), j, p)
                y3 := mulmod(f, addmod(c, sub(p, d), p), p)
                z3 := mulmod(f, j, p)
            }
            let ax, ay, az := dbl(hintX, hintY, 1)
            ax, ay, az := dbl(ax, ay, az)
            ax, ay, az := dbl(ax, ay, az)
            // 8·hint == (x, y): X == x·Z and Y == y·Z (Z is never 0: the law is complete).
            let p := 21888242871839275222246405745257275088548364400416034343698204186575808495617
            ok := and(eq(ax, mulmod(x, az, p)), eq(ay, mulmod(y, az, p)))
        }
    }
}

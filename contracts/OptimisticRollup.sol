// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {BabyJubjub} from "./BabyJubjub.sol";
import {PublicData} from "./PublicData.sol";
import {StepExecutor} from "./StepExecutor.sol";

/// @title zkr as an optimistic rollup on an EVM chain
/// @notice The same rollup as `Rollup` — same state tree, transactions, public data and priority
/// queue — settled without validity proofs: the Solidity twin of the Rust
/// `zkr_verifier::optimistic::OptimisticL1`, for `zkr compare`'s side-by-side measurements.
///
/// A batch is posted with what a fraud proof needs and a bond (`postBatch`): its public data, a
/// 64-byte signature for each transfer and withdrawal (R compressed: R.y | (R.x & 1) << 255,
/// then S, two big-endian words) and the state root after each slot. Posting checks only what
/// needs no execution, in the order of `Rollup`'s acceptance rule: the number, canonical roots,
/// the old root equal to the head, the public data's encoding (with every account index inside
/// the tree: a step at an index outside it has no Merkle path, so no fraud proof could show it
/// wrong), the queue, the signatures' placement, the step roots, the bond. Only a commitment
/// (one hash) is stored; the data is in the transaction and in `BatchPosted`.
///
/// Until `challengeWindow` seconds after its posting (that second included) anyone can show one
/// step of a batch wrong (`challenge`): `executor` (`StepExecutor`) re-executes that single
/// step from the leaves it touches and their Merkle paths under the step's posted pre-root; if
/// the step breaks a rule or does not end at its posted root, this batch and every later one
/// are reverted (their requests return to the queue in order) and their bonds forfeited: half
/// of them to the challenger, half burned (so that a poster who challenges its own fraud, e.g.
/// by front-running an honest challenger, still loses half; and a poster who built on a batch
/// without checking it loses its bond too). A revert costs the same however many batches it
/// reverts: no number of later batches can make a fraud too expensive to challenge. After the
/// window the batch can be finalized (`finalizeBatch`, anyone, in order): its withdrawals and
/// full exits are credited and its bond returned. Until then no withdrawal of it can be
/// claimed.
///
/// Bounds: a challenge resends the batch (its data plus the step's witness), and finalizing
/// writes a storage slot per withdrawal or full exit (an SSTORE to a fresh slot is 20,000 gas
/// plus its access), so an operator keeps batches small enough for both to fit a transaction
/// (zkr's batches have up to 32 slots in its benchmarks; the constructor allows 1024).
///
/// Deposits and full exits are queued and checked exactly as `Rollup` does. And, as there,
/// users can leave when nobody settles: once the oldest request not consumed by a *final*
/// batch has waited more than `priorityDeadline` seconds (longer than the window, so an honest
/// operator always has time to finalize), anyone can switch the contract to exodus mode
/// (`activateExodus`). Then nothing is posted or finalized any more: pending batches are void,
/// `finalRoot` is the state; queued deposits are refunded (`refundDeposits`) and each account's
/// owner is credited its balance once, with the account's fields and Merkle path under
/// `finalRoot` (`exodusWithdraw`, checked by `executor.rootOfLeaf`).
contract OptimisticRollup {
    /// The BN254 scalar field modulus.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Wei per circuit unit.
    uint256 public constant UNIT_WEI = 1 gwei;
    /// Bytes of one posted signature.
    uint256 public constant SIGNATURE_BYTES = 64;

    /// Reasons of `MalformedPublicData` (as `Rollup`'s, plus an index outside the tree).
    uint8 internal constant BAD_LENGTH = 0;
    uint8 internal constant NON_CANONICAL_SLOT = 3;
    uint8 internal constant OUTSIDE_TREE = 4;

    /// A request waiting in the priority queue (as in `Rollup`): a deposit (key (pkX, pkY),
    /// `value` the amount) or a full exit (key (0, 0), `value` the account).
    struct QueuedRequest {
        uint256 pkX;
        uint256 pkY;
        uint64 value;
        address from;
        uint32 queuedAt;
    }

    /// What is stored of a posted batch: the commitment to its data, who posted it (and put up
    /// the bond), when, and the first request it consumed (where the queue restarts if it is
    /// reverted). Two storage slots (a uint32 time lasts until 2106, as `Rollup`'s queue times).
    struct Posted {
        bytes32 commitment;
        address poster;
        uint32 postedAt;
        uint64 firstRequest;
    }

    /// A batch as posted (and as a challenge or a finalization names it).
    struct Batch {
        /// The root before the batch (the head when it was posted).
        uint256 oldRoot;
        /// The root after the fee step.
        uint256 newRoot;
        /// `batchSize` slots of 121 bytes.
        bytes publicData;
        /// 64 bytes per transfer or withdrawal, in slot order.
        bytes signatures;
        /// The root after each slot.
        uint256[] stepRoots;
    }

    /// Re-executes one step.
    StepExecutor public immutable executor;
    /// Slots per batch.
    uint256 public immutable batchSize;
    /// This deployment's chain id (as `Rollup`'s: the low 64 bits of
    /// keccak256(block.chainid, address(this))), bound into every L2 signature.
    uint64 public immutable chainId;
    /// The operator's L2 key (account 0's from genesis).
    uint256 public immutable operatorPkX;
    /// (y coordinate of the operator's key)
    uint256 public immutable operatorPkY;
    /// The operator's L1 address (account 0's owner).
    address public immutable operatorL1;
    /// Accounts of the tree, 2^depth.
    uint64 public immutable accountCapacity;
    /// Seconds a posted batch can be challenged.
    uint256 public immutable challengeWindow;
    /// Wei a poster puts up with each batch (forfeited if the batch, or one it builds on, is
    /// shown wrong).
    uint256 public immutable bond;
    /// The root the rollup started from.
    uint256 public immutable genesisRoot;

    /// The root after the last posted (not reverted) batch: the next batch's old root.
    uint256 public headRoot;
    /// The root after the last final batch.
    uint256 public finalRoot;
    /// Batches posted and not reverted; the next batch is `batchCount + 1`.
    uint64 public batchCount;
    /// Batches final (window passed, finalized); the next to finalize is `finalCount + 1`.
    uint64 public finalCount;
    /// Id of the oldest request no posted batch consumed.
    uint64 public queueHead;
    /// Id the next request gets.
    uint64 public queueTail;
    /// Id of the oldest request no final batch consumed (in exodus mode: not yet refunded).
    uint64 public finalQueueHead;
    /// Exodus mode: nothing posted or finalized; owners withdraw under `finalRoot`.
    bool public exodus;
    /// Seconds a request may wait for a final batch before exodus mode can be switched on.
    uint256 public immutable priorityDeadline;
    /// Accounts already withdrawn in exodus mode.
    mapping(uint64 => bool) public exited;
    /// Requests not yet consumed by a final batch, by id.
    mapping(uint64 => QueuedRequest) public requests;
    /// Posted batches not yet final, by number.
    mapping(uint64 => Posted) public batches;
    /// Wei each L1 address can claim.
    mapping(address => uint256) public withdrawable;

    /// A deposit joined the queue.
    event DepositQueued(uint64 indexed id, address indexed from, uint256 pkX, uint256 pkY, uint64 amount);
    /// A full exit joined the queue.
    event FullExitQueued(uint64 indexed id, address indexed requester, uint64 account);
    /// Batch `number` was posted by `poster`, consuming the requests `firstRequest ..
    /// firstRequest + requestCount`; the rest is its data.
    event BatchPosted(
        uint64 indexed number,
        address indexed poster,
        uint64 firstRequest,
        uint64 requestCount,
        uint256 oldRoot,
        uint256 newRoot,
        bytes publicData,
        bytes signatures,
        uint256[] stepRoots
    );
    /// Batch `number` is final at `root`.
    event BatchFinalized(uint64 indexed number, uint256 root);
    /// Batch `number` credited `amount` units to `to` (a withdrawal or a full exit).
    event WithdrawalCredited(uint64 indexed number, address indexed to, uint64 amount);
    /// `challenger` showed step `step` of batch `number` wrong (`violation`: a
    /// `StepExecutor` code, 0 when the step follows the rules but ends elsewhere than posted);
    /// `reverted` batches from `number` on were reverted, and `reward` wei (half their bonds)
    /// credited to the challenger.
    event FraudProven(
        uint64 indexed number, uint256 step, uint8 violation, address indexed challenger, uint64 reverted, uint256 reward
    );
    /// `to` claimed `weiAmount`.
    event Claimed(address indexed to, uint256 weiAmount);
    /// Exodus mode is on: request `overdueRequest` waited past the deadline; `root` is final.
    event ExodusActivated(uint64 overdueRequest, uint256 root);
    /// In exodus mode, queued deposit `id` was refunded: `amount` units credited to its payer.
    event DepositRefunded(uint64 indexed id, address indexed to, uint64 amount);
    /// In exodus mode, account `account`'s balance `amount` (units) was credited to its owner.
    event ExodusWithdrawal(uint64 indexed account, address indexed owner, uint64 amount);

    /// The batch number was already posted.
    error Replayed(uint64 expected, uint64 got);
    /// The batch skips ahead.
    error OutOfOrder(uint64 expected, uint64 got);
    /// A root is not below r (field: 0 = old root, 1 = new root, 2 = a step root).
    error NonCanonicalInput(uint8 field);
    /// The old root is not the head.
    error WrongOldRoot(uint256 expected, uint256 got);
    /// The public data does not decode (slot = type(uint256).max for the whole buffer).
    error MalformedPublicData(uint256 slot, uint8 reason);
    /// The deposit and full-exit slots are not the next requests of the queue.
    error QueueMismatch(uint256 index);
    /// The signatures are not 64 bytes for each transfer and withdrawal, or an R.y is not
    /// below r.
    error MalformedSignatures();
    /// Not one step root per slot.
    error WrongStepRoots(uint256 expected, uint256 got);
    /// The value sent is not the bond.
    error WrongBond(uint256 expected, uint256 got);
    /// A full exit of an account the tree cannot hold.
    error NoSuchAccount(uint64 account);
    /// A deposit of zero, of a fraction of a gwei, or of more than 2^64 - 1 gwei.
    error BadDepositAmount(uint256 weiAmount);
    /// The deposit key is not a point of Baby Jubjub's prime-order subgroup.
    error InvalidPublicKey();
    /// No such batch to challenge: never posted, reverted, or final.
    error NoSuchBatch(uint64 number);
    /// The batch's challenge window closed after `closedAt`.
    error WindowClosed(uint64 number, uint256 closedAt);
    /// The batch's window is still open until `due` (included).
    error NotFinalYet(uint64 number, uint256 due);
    /// The data given is not the data posted as batch `number`.
    error NotThePostedBatch(uint64 number);
    /// Batches are finalized in order: `expected` is next.
    error NotNextToFinalize(uint64 expected, uint64 got);
    /// The batch has no such step (0 .. batchSize - 1 are slots, batchSize the fee step).
    error NoSuchStep(uint256 step);
    /// The step follows every rule and ends at its posted root: no fraud.
    error NoFraud(uint64 number, uint256 step);
    /// Nothing to claim.
    error NothingToClaim();
    /// The ETH transfer of a claim failed.
    error ClaimFailed();
    /// The contract is in exodus mode: nothing is posted, finalized, deposited or requested.
    error Exodus();
    /// Exodus mode is off.
    error ExodusNotActive();
    /// No request waits for a final batch past its deadline (`due`: when the oldest will;
    /// type(uint256).max when none waits).
    error NotOverdue(uint256 time, uint256 due);
    /// The account was already withdrawn in exodus mode.
    error AlreadyExited(uint64 account);
    /// The account's fields and path do not lead to `finalRoot` (or describe an empty leaf).
    error BadExitProof(uint64 account);

    /// An optimistic rollup at `genesisRoot_` (the tree holding only the operator's account 0)
    /// whose batches of `batchSize_` slots are disputed through `executor_`, with a challenge
    /// window of `challengeWindow_` seconds and a bond of `bond_` wei a batch, whose queued
    /// requests may wait `priorityDeadline_` seconds for a final batch.
    constructor(
        StepExecutor executor_,
        uint256 batchSize_,
        uint256 genesisRoot_,
        uint256 operatorPkX_,
        uint256 operatorPkY_,
        address operatorL1_,
        uint256 challengeWindow_,
        uint256 bond_,
        uint256 priorityDeadline_
    ) {
        require(genesisRoot_ < R, "genesis root is not canonical");
        require(batchSize_ > 0 && batchSize_ <= 1024, "batch size is not in 1..=1024");
        require(challengeWindow_ > 0 && challengeWindow_ <= type(uint32).max, "window is not in 1..2^32 s");
        require(bond_ > 0, "a bond of 0 pays no challenger");
        require(
            priorityDeadline_ > challengeWindow_ && priorityDeadline_ <= type(uint32).max,
            "priority deadline is not longer than the window (and below 2^32 s)"
        );
        priorityDeadline = priorityDeadline_;
        require(operatorPkX_ < R && operatorPkY_ < R, "operator key is not canonical");
        executor = executor_;
        accountCapacity = executor_.accountCapacity();
        batchSize = batchSize_;
        genesisRoot = genesisRoot_;
        headRoot = genesisRoot_;
        finalRoot = genesisRoot_;
        operatorPkX = operatorPkX_;
        operatorPkY = operatorPkY_;
        operatorL1 = operatorL1_;
        challengeWindow = challengeWindow_;
        bond = bond_;
        chainId = uint64(uint256(keccak256(abi.encode(block.chainid, address(this)))));
    }

    /// Queues a deposit of `msg.value` (a whole number of gwei) for the L2 key (pkX, pkY), a
    /// point of Baby Jubjub's prime-order subgroup, with the hint `Rollup.deposit` takes.
    /// @return id the deposit's queue id
    function deposit(uint256 pkX, uint256 pkY, uint256 hintX, uint256 hintY) external payable returns (uint64 id) {
        if (exodus) revert Exodus();
        if (msg.value == 0 || msg.value % UNIT_WEI != 0 || msg.value / UNIT_WEI > type(uint64).max) {
            revert BadDepositAmount(msg.value);
        }
        if (!BabyJubjub.isSubgroupPoint(pkX, pkY, hintX, hintY)) revert InvalidPublicKey();
        uint64 amount = uint64(msg.value / UNIT_WEI);
        id = queueTail;
        requests[id] = QueuedRequest(pkX, pkY, amount, msg.sender, uint32(block.timestamp));
        queueTail = id + 1;
        emit DepositQueued(id, msg.sender, pkX, pkY, amount);
    }

    /// Queues a full exit of L2 account `account` for the caller (as `Rollup.requestFullExit`).
    /// @return id the request's queue id
    function requestFullExit(uint64 account) external returns (uint64 id) {
        if (exodus) revert Exodus();
        if (account >= accountCapacity) revert NoSuchAccount(account);
        id = queueTail;
        requests[id] = QueuedRequest(0, 0, account, msg.sender, uint32(block.timestamp));
        queueTail = id + 1;
        emit FullExitQueued(id, msg.sender, account);
    }

    /// Posts batch `number` with the bond (`msg.value`). Reverts with a typed error, changing
    /// nothing, unless the checks that need no execution pass (see the contract's notice).
    function postBatch(uint64 number, Batch calldata b) external payable {
        if (exodus) revert Exodus();
        uint64 expected = batchCount + 1;
        if (number < expected) revert Replayed(expected, number);
        if (number > expected) revert OutOfOrder(expected, number);
        if (b.oldRoot >= R) revert NonCanonicalInput(0);
        if (b.newRoot >= R) revert NonCanonicalInput(1);
        if (b.oldRoot != headRoot) revert WrongOldRoot(headRoot, b.oldRoot);
        uint64 head = queueHead;
        (uint256 requestCount, uint256 signed) = checkPublicData(b.publicData, head);
        if (b.signatures.length != signed * SIGNATURE_BYTES) revert MalformedSignatures();
        for (uint256 off = 0; off < b.signatures.length; off += SIGNATURE_BYTES) {
            if (uint256(bytes32(b.signatures[off:off + 32])) & ((1 << 255) - 1) >= R) revert MalformedSignatures();
        }
        if (b.stepRoots.length != batchSize) revert WrongStepRoots(batchSize, b.stepRoots.length);
        for (uint256 i = 0; i < b.stepRoots.length; i++) {
            if (b.stepRoots[i] >= R) revert NonCanonicalInput(2);
        }
        if (msg.value != bond) revert WrongBond(bond, msg.value);

        batches[number] = Posted(commitment(b), msg.sender, uint32(block.timestamp), head);
        batchCount = number;
        headRoot = b.newRoot;
        queueHead = head + uint64(requestCount);
        emit BatchPosted(
            number, msg.sender, head, uint64(requestCount), b.oldRoot, b.newRoot, b.publicData, b.signatures, b.stepRoots
        );
    }

    /// A one-step fraud proof against batch `number` (whose data is `b`, as posted) at `step`
    /// (a slot, or `batchSize` for the fee step), with the leaves it touches (`witness`, in
    /// `StepExecutor`'s layout) and, for a signed slot, its signature's R.x (`rXHint`). If the
    /// step breaks a rule or ends elsewhere than posted, reverts the batch and all after it and
    /// credits the bond to the caller; otherwise reverts with a typed error, changing nothing.
    function challenge(uint64 number, Batch calldata b, uint256 step, uint256 rXHint, uint256[] calldata witness)
        external
    {
        if (number <= finalCount || number > batchCount) revert NoSuchBatch(number);
        Posted storage p = batches[number];
        uint256 closes = uint256(p.postedAt) + challengeWindow;
        if (block.timestamp > closes) revert WindowClosed(number, closes);
        if (commitment(b) != p.commitment) revert NotThePostedBatch(number);
        if (step > batchSize) revert NoSuchStep(step);

        (uint8 violation, bool fraud) = runStep(b, step, rXHint, witness);
        if (!fraud) revert NoFraud(number, step);

        // Revert this batch and every later one in O(1): the head moves back, the queue restarts
        // at this batch's requests, and the entries of the reverted numbers are overwritten when
        // those numbers are posted again (nothing reads an entry above `batchCount`).
        uint64 reverted = batchCount - number + 1;
        queueHead = p.firstRequest;
        batchCount = number - 1;
        headRoot = b.oldRoot;
        uint256 reward = (bond * reverted) / 2;
        withdrawable[msg.sender] += reward;
        emit FraudProven(number, step, violation, msg.sender, reverted, reward);
    }

    /// Runs step `step` of `b` through the executor: the violation it finds, and whether the
    /// step is a fraud (breaks a rule, or ends elsewhere than its posted root).
    function runStep(Batch calldata b, uint256 step, uint256 rXHint, uint256[] calldata witness)
        internal
        view
        returns (uint8 violation, bool fraud)
    {
        uint256 post;
        uint256 claimed;
        if (step < batchSize) {
            claimed = b.stepRoots[step];
            (violation, post) = runSlot(b, step, rXHint, witness);
        } else {
            uint256 fees;
            for (uint256 off = 0; off < b.publicData.length; off += PublicData.SLOT_BYTES) {
                fees += PublicData.packedAt(b.publicData, off) >> 136;
            }
            claimed = b.newRoot;
            (violation, post) = executor.executeFees(b.stepRoots[batchSize - 1], fees, witness);
        }
        fraud = violation != 0 || post != claimed;
    }

    /// Slot step `step` of `b`, from its posted pre-root.
    function runSlot(Batch calldata b, uint256 step, uint256 rXHint, uint256[] calldata witness)
        internal
        view
        returns (uint8, uint256)
    {
        uint256[3] memory sig;
        (sig[0], sig[1]) = signatureOf(b, step);
        sig[2] = rXHint;
        bytes calldata slot = b.publicData[step * PublicData.SLOT_BYTES:(step + 1) * PublicData.SLOT_BYTES];
        return executor.executeSlot(chainId, step == 0 ? b.oldRoot : b.stepRoots[step - 1], slot, sig, witness);
    }

    /// Makes batch `number` final once its window has passed (anyone may call it; batches in
    /// order): credits its withdrawals and full exits, drops the requests it consumed and returns
    /// the bond to its poster. `newRoot`, `publicData` and `disputeHash` (see `disputeDataHash`)
    /// are the batch's as posted.
    function finalizeBatch(uint64 number, uint256 newRoot, bytes calldata publicData, bytes32 disputeHash) external {
        if (exodus) revert Exodus();
        if (number != finalCount + 1) revert NotNextToFinalize(finalCount + 1, number);
        if (number > batchCount) revert NoSuchBatch(number);
        Posted storage p = batches[number];
        uint256 due = uint256(p.postedAt) + challengeWindow;
        if (block.timestamp <= due) revert NotFinalYet(number, due);
        if (keccak256(abi.encode(newRoot, keccak256(publicData), disputeHash)) != p.commitment) {
            revert NotThePostedBatch(number);
        }
        uint64 k = p.firstRequest;
        for (uint256 off = 0; off < publicData.length; off += PublicData.SLOT_BYTES) {
            uint256 packed = PublicData.packedAt(publicData, off);
            uint256 txType = packed & 0xff;
            uint64 amount = uint64(packed >> 72);
            address to;
            if (txType == PublicData.DEPOSIT || txType == PublicData.FULL_EXIT) delete requests[k++];
            if (txType == PublicData.WITHDRAW) {
                to = address(uint160(PublicData.le256(publicData, off + 25)));
            } else if (txType == PublicData.FULL_EXIT && amount > 0) {
                to = address(uint160(PublicData.le256(publicData, off + 89)));
            } else {
                continue;
            }
            withdrawable[to] += uint256(amount) * UNIT_WEI;
            emit WithdrawalCredited(number, to, amount);
        }
        withdrawable[p.poster] += bond;
        delete batches[number];
        finalQueueHead = k;
        finalCount = number;
        finalRoot = newRoot;
        emit BatchFinalized(number, newRoot);
    }

    /// Sends the caller everything credited to it (checks, effects, then the transfer).
    function claim() external {
        uint256 amount = withdrawable[msg.sender];
        if (amount == 0) revert NothingToClaim();
        withdrawable[msg.sender] = 0;
        emit Claimed(msg.sender, amount);
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert ClaimFailed();
    }

    /// Switches the contract to exodus mode, as anyone may once the oldest request no final
    /// batch consumed has waited more than `priorityDeadline` seconds.
    function activateExodus() external {
        if (exodus) revert Exodus();
        uint64 head = finalQueueHead;
        if (head == queueTail) revert NotOverdue(block.timestamp, type(uint256).max);
        uint256 due = uint256(requests[head].queuedAt) + priorityDeadline;
        if (block.timestamp <= due) revert NotOverdue(block.timestamp, due);
        exodus = true;
        emit ExodusActivated(head, finalRoot);
    }

    /// In exodus mode: takes the next `count` requests no final batch consumed (or all, if
    /// fewer) off the queue, crediting each deposit back to its payer; full exits are dropped
    /// (their owners use `exodusWithdraw`). Anyone may call it, in as many chunks as it takes.
    function refundDeposits(uint64 count) external {
        if (!exodus) revert ExodusNotActive();
        uint64 head = finalQueueHead;
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
        finalQueueHead = end;
    }

    /// In exodus mode: credits account `account`'s balance to its owner, once, given its fields
    /// and its path's siblings (leaf level first, in `StepExecutor`'s layout) under `finalRoot`.
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
        // The empty leaf hashes to 0: a made-up balance at an empty index must not verify.
        if (pkX == 0 && pkY == 0) revert BadExitProof(account);
        // A path of another shape, a sibling not below r: the executor refuses it; no proof.
        try executor.leafRoot(account, [pkX, pkY, balance, nonce, uint256(uint160(owner))], siblings) returns (
            uint256 root
        ) {
            if (root != finalRoot) revert BadExitProof(account);
        } catch {
            revert BadExitProof(account);
        }
        exited[account] = true;
        withdrawable[owner] += uint256(balance) * UNIT_WEI;
        emit ExodusWithdrawal(account, owner, balance);
    }

    /// Requests waiting for a batch.
    function pendingRequests() external view returns (uint64) {
        return queueTail - queueHead;
    }

    /// The hash of what only a challenge needs: the old root, the signatures, the step roots.
    function disputeDataHash(uint256 oldRoot, bytes calldata signatures, uint256[] calldata stepRoots)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(oldRoot, keccak256(signatures), keccak256(abi.encodePacked(stepRoots))));
    }

    /// What is stored of a batch: keccak256(newRoot, keccak256(publicData), disputeDataHash).
    function commitment(Batch calldata b) internal pure returns (bytes32) {
        bytes32 dispute = disputeDataHash(b.oldRoot, b.signatures, b.stepRoots);
        return keccak256(abi.encode(b.newRoot, keccak256(b.publicData), dispute));
    }

    /// The signature of signed slot `step` (the k-th signed slot has bytes 64k .. 64k + 64).
    function signatureOf(Batch calldata b, uint256 step) internal pure returns (uint256 sigR, uint256 sigS) {
        uint256 k;
        for (uint256 off = 0; off < step * PublicData.SLOT_BYTES; off += PublicData.SLOT_BYTES) {
            if (PublicData.isSigned(uint8(b.publicData[off]))) k++;
        }
        if (!PublicData.isSigned(uint8(b.publicData[step * PublicData.SLOT_BYTES]))) return (0, 0);
        uint256 at = k * SIGNATURE_BYTES;
        sigR = uint256(bytes32(b.signatures[at:at + 32]));
        sigS = uint256(bytes32(b.signatures[at + 32:at + 64]));
    }

    /// Every slot canonical with its indices inside the tree, and the deposit and full-exit slots
    /// exactly the next requests of the queue from `head` (as `Rollup.checkQueue`).
    /// @return requestCount the requests the batch consumes
    /// @return signed the slots that carry a signature
    function checkPublicData(bytes calldata data, uint64 head)
        internal
        view
        returns (uint256 requestCount, uint256 signed)
    {
        if (data.length != batchSize * PublicData.SLOT_BYTES) {
            revert MalformedPublicData(type(uint256).max, BAD_LENGTH);
        }
        // Every slot's encoding first, then the queue: the order of `Rollup`'s checks.
        for (uint256 off = 0; off < data.length; off += PublicData.SLOT_BYTES) {
            uint256 slot = off / PublicData.SLOT_BYTES;
            PublicData.Slot memory s = PublicData.decodeSlot(data, off);
            if (!PublicData.isCanonical(s)) revert MalformedPublicData(slot, NON_CANONICAL_SLOT);
            if (s.from >= accountCapacity || s.to >= accountCapacity) revert MalformedPublicData(slot, OUTSIDE_TREE);
            if (PublicData.isSigned(s.txType)) signed++;
        }
        uint64 tail = queueTail;
        for (uint256 off = 0; off < data.length; off += PublicData.SLOT_BYTES) {
            uint256 txType = uint8(data[off]);
            if (txType != PublicData.DEPOSIT && txType != PublicData.FULL_EXIT) continue;
            PublicData.Slot memory s = PublicData.decodeSlot(data, off);
            if (head + requestCount >= tail) revert QueueMismatch(type(uint256).max);
            QueuedRequest storage q = requests[head + uint64(requestCount)];
            bool ok;
            if (s.txType == PublicData.DEPOSIT) {
                ok = q.pkY != 0 && s.auxX == q.pkX && s.auxY == q.pkY && s.amount == q.value
                    && s.requester == uint160(q.from);
            } else {
                ok = q.pkY == 0 && s.from == q.value && s.requester == uint160(q.from);
            }
            if (!ok) revert QueueMismatch(requestCount);
            requestCount++;
        }
    }
}

//! `contracts/Rollup.sol` on an [`EvmChain`] (revm's [`Chain`] in memory, or a JSON-RPC chain):
//! deployment, typed calls, typed refusals and events.

use crate::artifacts::{Artifact, ArtifactError, KEYED_VERIFIER, POSEIDON_T5, POSEIDON_T6, ROLLUP};
use crate::chain::{Chain, ChainError, EvmChain, Outcome};
use ark_ec::CurveGroup;
use ark_ed_on_bn254::{EdwardsAffine, Fr as EdFr};
use ark_ff::{BigInteger, Field, PrimeField};
use revm::primitives::{keccak256, Address, Log, U256};
use std::collections::BTreeMap;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::state::State;
use zkr_circuits::tx::L1Address;
use zkr_circuits::{CircuitParams, Fr, Genesis};
use zkr_verifier::snarkjs::{G1Json, G2Json};
use zkr_verifier::solidity::{g1_words as vk_g1, g2_words as vk_g2};
use zkr_verifier::{BatchSubmission, Rejection, VerifyingKey};

/// `deposit`'s signature.
pub const DEPOSIT: &str = "deposit(uint256,uint256,uint256,uint256)";
/// `exodusWithdraw`'s signature.
pub const EXODUS_WITHDRAW: &str =
    "exodusWithdraw(uint64,uint256,uint256,uint64,uint32,address,uint256[])";
/// Seconds a queued request may wait before exodus mode can be switched on, when a deployment
/// does not say (the Rust L1's default too).
pub const DEFAULT_PRIORITY_DEADLINE_S: u64 = zkr_verifier::contract::DEFAULT_PRIORITY_DEADLINE_S;

/// The hint `Rollup.deposit` takes with a key P: the point Q = (8^-1 mod l)·P, so that the
/// contract checks P's subgroup membership as 8·Q = P (three doublings) instead of l·P = O.
pub fn deposit_hint(p: &EdwardsAffine) -> (Fr, Fr) {
    let inv8 = EdFr::from(8u64).inverse().expect("8 is invertible mod l");
    let q = (*p * inv8).into_affine();
    (q.x, q.y)
}

/// Wei per circuit unit (`Rollup.UNIT_WEI`: 1 unit = 1 gwei).
pub const UNIT_WEI: u64 = 1_000_000_000;

/// The 4-byte selector of a function or error signature.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// A field element as an EVM word.
pub fn field_word<F: PrimeField>(x: &F) -> U256 {
    U256::from_be_slice(&x.into_bigint().to_bytes_be())
}

/// An L1 address as an EVM address.
pub fn evm_address(a: &L1Address) -> Address {
    Address::from(a.0)
}

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes::<32>()
}

/// The calldata of `exodusWithdraw` for account `index` with `account`'s fields and the path's
/// siblings as words, leaf level first (any words: tests pass non-canonical ones).
pub fn exodus_withdraw_call(
    index: u64,
    account: &zkr_circuits::account::Account,
    siblings: &[U256],
) -> Vec<u8> {
    let mut words = vec![
        U256::from(index),
        field_word(&account.pubkey.x()),
        field_word(&account.pubkey.y()),
        U256::from(account.balance),
        U256::from(account.nonce),
        U256::from_be_slice(&account.owner.0),
        // The dynamic array: its offset (after the seven head words), length, elements.
        U256::from(7 * 32),
        U256::from(siblings.len()),
    ];
    words.extend_from_slice(siblings);
    call(EXODUS_WITHDRAW, &words)
}

/// Calldata: the selector of `signature`, then `words` (the ABI encoding of static arguments, or
/// of anything the caller lays out word by word).
pub fn call_data(signature: &str, words: &[U256]) -> Vec<u8> {
    call(signature, words)
}

/// Calldata: a selector and static words.
pub(crate) fn call(signature: &str, words: &[U256]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    for w in words {
        out.extend_from_slice(&word(*w));
    }
    out
}

/// A [`BatchSubmission`] that cannot be written as `submitBatch` calldata at all. The Rust L1
/// refuses each of these too (they are text that is not a number, or hex that is not hex).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A root or coordinate is not a decimal integer below 2^256.
    #[error("{what}: not a decimal integer below 2^256: {value:?}")]
    NotAWord {
        /// Which value.
        what: &'static str,
        /// The text.
        value: String,
    },
    /// The public data is not hex.
    #[error("public data is not hex: {0}")]
    NotHex(String),
    /// A projective `z` other than 0 (the identity) or 1: the EVM encoding has no `z`.
    #[error("{0}: z must be 0 or 1")]
    BadZ(&'static str),
}

fn parse_word(what: &'static str, s: &str) -> Result<U256, EncodeError> {
    let bad = || EncodeError::NotAWord {
        what,
        value: zkr_circuits::field::quote(s),
    };
    // Canonical text only (no leading zero), as the Rust L1 reads it: the two L1s give the same
    // verdict on the same submission.
    if !zkr_circuits::field::is_canonical_decimal(s) {
        return Err(bad());
    }
    U256::from_str_radix(s, 10).map_err(|_| bad())
}

fn g1_words(what: &'static str, p: &G1Json) -> Result<[U256; 2], EncodeError> {
    match p[2].as_str() {
        "0" => Ok([U256::ZERO; 2]),
        "1" => Ok([parse_word(what, &p[0])?, parse_word(what, &p[1])?]),
        _ => Err(EncodeError::BadZ(what)),
    }
}

fn g2_words(what: &'static str, p: &G2Json) -> Result<[[U256; 2]; 2], EncodeError> {
    match (p[2][0].as_str(), p[2][1].as_str()) {
        ("0", "0") => Ok([[U256::ZERO; 2]; 2]),
        ("1", "0") => Ok([
            [parse_word(what, &p[0][1])?, parse_word(what, &p[0][0])?],
            [parse_word(what, &p[1][1])?, parse_word(what, &p[1][0])?],
        ]),
        _ => Err(EncodeError::BadZ(what)),
    }
}

/// The arguments of `Rollup.submitBatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmSubmission {
    /// Batch number.
    pub number: u64,
    /// Old root (any word: the contract refuses values `>= r`).
    pub old_root: U256,
    /// New root.
    pub new_root: U256,
    /// The public data bytes.
    pub public_data: Vec<u8>,
    /// A as `(x, y)`.
    pub pa: [U256; 2],
    /// B as `[[x.c1, x.c0], [y.c1, y.c0]]` (imaginary part first).
    pub pb: [[U256; 2]; 2],
    /// C as `(x, y)`.
    pub pc: [U256; 2],
}

/// `submitBatch`'s signature.
pub const SUBMIT_BATCH: &str =
    "submitBatch(uint64,uint256,uint256,bytes,uint256[2],uint256[2][2],uint256[2])";

impl EvmSubmission {
    /// The EVM form of a submission to the Rust L1, value for value (no validation: the
    /// contract does that).
    pub fn from_submission(s: &BatchSubmission) -> Result<Self, EncodeError> {
        Ok(Self {
            number: s.number,
            old_root: parse_word("old_root", &s.old_root)?,
            new_root: parse_word("new_root", &s.new_root)?,
            public_data: hex::decode(&s.public_data)
                .map_err(|e| EncodeError::NotHex(e.to_string()))?,
            pa: g1_words("pi_a", &s.proof.pi_a)?,
            pb: g2_words("pi_b", &s.proof.pi_b)?,
            pc: g1_words("pi_c", &s.proof.pi_c)?,
        })
    }

    /// ABI-encoded calldata of `submitBatch`.
    pub fn calldata(&self) -> Vec<u8> {
        let head = [
            U256::from(self.number),
            self.old_root,
            self.new_root,
            U256::from(12 * 32), // offset of the bytes, after the 12 head words
            self.pa[0],
            self.pa[1],
            self.pb[0][0],
            self.pb[0][1],
            self.pb[1][0],
            self.pb[1][1],
            self.pc[0],
            self.pc[1],
        ];
        let mut out = call(SUBMIT_BATCH, &head);
        out.extend_from_slice(&word(U256::from(self.public_data.len())));
        out.extend_from_slice(&self.public_data);
        out.resize(out.len() + (32 - self.public_data.len() % 32) % 32, 0);
        out
    }
}

/// Why the contract refused a call: its custom errors, decoded. A refused call changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvmRejection {
    /// `Replayed(expected, got)`.
    #[error("batch {got} was already accepted (next is {expected})")]
    Replayed {
        /// Next expected number.
        expected: u64,
        /// Submitted number.
        got: u64,
    },
    /// `OutOfOrder(expected, got)`.
    #[error("batch {got} is out of order (next is {expected})")]
    OutOfOrder {
        /// Next expected number.
        expected: u64,
        /// Submitted number.
        got: u64,
    },
    /// `NonCanonicalInput(field)`: 0 is the old root, 1 the new root.
    #[error("non-canonical public input ({})", if *field == 0 { "old_root" } else { "new_root" })]
    NonCanonicalInput {
        /// Which root.
        field: u8,
    },
    /// `WrongOldRoot(expected, got)`.
    #[error("old root {got} is not the contract's current root {expected}")]
    WrongOldRoot {
        /// Current root.
        expected: U256,
        /// Submitted.
        got: U256,
    },
    /// `MalformedPublicData(slot, reason)`: reason 0 length, 1 type, 2 non-canonical field,
    /// 3 non-canonical slot; slot `u64::MAX` for the whole buffer.
    #[error("malformed public data (slot {slot}, reason {reason})")]
    MalformedPublicData {
        /// Slot.
        slot: u64,
        /// Reason code.
        reason: u8,
    },
    /// `QueueMismatch(index)`.
    #[error("the batch's deposits and full exits do not match the queue (batch request {index})")]
    QueueMismatch {
        /// The batch's k-th request (`u64::MAX`: more requests than queued).
        index: u64,
    },
    /// `NoSuchAccount(account)`: a full exit of an index outside the tree.
    #[error("account {0} is outside the tree")]
    NoSuchAccount(u64),
    /// `MalformedProof()`.
    #[error("malformed proof")]
    MalformedProof,
    /// `BadProof()`.
    #[error("the Groth16 proof does not verify for this transition")]
    BadProof,
    /// `BadDepositAmount(wei)`.
    #[error("deposit of {0} wei is not a positive whole number of gwei below 2^64")]
    BadDepositAmount(U256),
    /// `InvalidPublicKey()`.
    #[error("the deposit key is not a Baby Jubjub subgroup point")]
    InvalidPublicKey,
    /// `NothingToClaim()`.
    #[error("nothing to claim")]
    NothingToClaim,
    /// `ClaimFailed()`.
    #[error("the claim's ETH transfer failed")]
    ClaimFailed,
    /// `Exodus()`: the contract is in exodus mode (no batch, deposit or request).
    #[error("the rollup is in exodus mode")]
    Exodus,
    /// `ExodusNotActive()`.
    #[error("the rollup is not in exodus mode")]
    ExodusNotActive,
    /// `NotOverdue(time, due)`: no queued request waited past its deadline.
    #[error("no queued request is overdue (time {time}, oldest due {due})")]
    NotOverdue {
        /// The block's time.
        time: U256,
        /// When the oldest request is due (`U256::MAX`: the queue is empty).
        due: U256,
    },
    /// `AlreadyExited(account)`.
    #[error("account {0} was already withdrawn in exodus mode")]
    AlreadyExited(u64),
    /// `BadExitProof(account)`.
    #[error("the fields and path of account {0} do not lead to the last verified root")]
    BadExitProof(u64),
    /// A revert that is none of the contract's errors (e.g. the ABI decoder refusing truncated
    /// calldata, which reverts with no data).
    #[error("reverted without a rollup error: 0x{}", hex::encode(.0))]
    Other(Vec<u8>),
}

fn arg(data: &[u8], i: usize) -> Option<U256> {
    data.get(4 + 32 * i..4 + 32 * (i + 1))
        .map(U256::from_be_slice)
}

pub(crate) fn small<T: TryFrom<U256>>(v: U256) -> Option<T> {
    T::try_from(v).ok()
}

impl EvmRejection {
    /// Decodes revert data.
    pub fn decode(data: &[u8]) -> Self {
        let other = || EvmRejection::Other(data.to_vec());
        let Some(sel) = data.get(..4) else {
            return other();
        };
        let is = |sig: &str| sel == selector(sig);
        let a = |i| arg(data, i);
        let decoded = if is("Replayed(uint64,uint64)") {
            (|| {
                Some(EvmRejection::Replayed {
                    expected: small(a(0)?)?,
                    got: small(a(1)?)?,
                })
            })()
        } else if is("OutOfOrder(uint64,uint64)") {
            (|| {
                Some(EvmRejection::OutOfOrder {
                    expected: small(a(0)?)?,
                    got: small(a(1)?)?,
                })
            })()
        } else if is("NonCanonicalInput(uint8)") {
            (|| {
                Some(EvmRejection::NonCanonicalInput {
                    field: small(a(0)?)?,
                })
            })()
        } else if is("WrongOldRoot(uint256,uint256)") {
            (|| {
                Some(EvmRejection::WrongOldRoot {
                    expected: a(0)?,
                    got: a(1)?,
                })
            })()
        } else if is("MalformedPublicData(uint256,uint8)") {
            (|| {
                Some(EvmRejection::MalformedPublicData {
                    slot: small(a(0)?).unwrap_or(u64::MAX),
                    reason: small(a(1)?)?,
                })
            })()
        } else if is("QueueMismatch(uint256)") {
            (|| {
                Some(EvmRejection::QueueMismatch {
                    index: small(a(0)?).unwrap_or(u64::MAX),
                })
            })()
        } else if is("NoSuchAccount(uint64)") {
            (|| Some(EvmRejection::NoSuchAccount(small(a(0)?)?)))()
        } else if is("MalformedProof()") {
            Some(EvmRejection::MalformedProof)
        } else if is("BadProof()") {
            Some(EvmRejection::BadProof)
        } else if is("BadDepositAmount(uint256)") {
            a(0).map(EvmRejection::BadDepositAmount)
        } else if is("InvalidPublicKey()") {
            Some(EvmRejection::InvalidPublicKey)
        } else if is("NothingToClaim()") {
            Some(EvmRejection::NothingToClaim)
        } else if is("ClaimFailed()") {
            Some(EvmRejection::ClaimFailed)
        } else if is("Exodus()") {
            Some(EvmRejection::Exodus)
        } else if is("ExodusNotActive()") {
            Some(EvmRejection::ExodusNotActive)
        } else if is("NotOverdue(uint256,uint256)") {
            (|| {
                Some(EvmRejection::NotOverdue {
                    time: a(0)?,
                    due: a(1)?,
                })
            })()
        } else if is("AlreadyExited(uint64)") {
            (|| Some(EvmRejection::AlreadyExited(small(a(0)?)?)))()
        } else if is("BadExitProof(uint64)") {
            (|| Some(EvmRejection::BadExitProof(small(a(0)?)?)))()
        } else {
            None
        };
        decoded.unwrap_or_else(other)
    }

    /// The kind of refusal, named as [`rejection_kind`] names the Rust L1's.
    pub fn kind(&self) -> &'static str {
        match self {
            EvmRejection::Replayed { .. } => "replayed",
            EvmRejection::OutOfOrder { .. } => "out_of_order",
            EvmRejection::NonCanonicalInput { .. } => "non_canonical_input",
            EvmRejection::WrongOldRoot { .. } => "wrong_old_root",
            EvmRejection::MalformedPublicData { .. } => "malformed_public_data",
            EvmRejection::QueueMismatch { .. } => "queue_mismatch",
            EvmRejection::NoSuchAccount(_) => "no_such_account",
            EvmRejection::MalformedProof => "malformed_proof",
            EvmRejection::BadProof => "bad_proof",
            EvmRejection::BadDepositAmount(_) => "bad_deposit_amount",
            EvmRejection::InvalidPublicKey => "invalid_public_key",
            EvmRejection::NothingToClaim => "nothing_to_claim",
            EvmRejection::ClaimFailed => "claim_failed",
            EvmRejection::Exodus => "exodus",
            EvmRejection::ExodusNotActive => "exodus_not_active",
            EvmRejection::NotOverdue { .. } => "not_overdue",
            EvmRejection::AlreadyExited(_) => "already_exited",
            EvmRejection::BadExitProof(_) => "bad_exit_proof",
            EvmRejection::Other(_) => "other",
        }
    }
}

/// The kind of a Rust L1 refusal, in [`EvmRejection::kind`]'s names.
pub fn rejection_kind(r: &Rejection) -> &'static str {
    match r {
        Rejection::Replayed { .. } => "replayed",
        Rejection::OutOfOrder { .. } => "out_of_order",
        Rejection::NonCanonicalInput { .. } => "non_canonical_input",
        Rejection::WrongOldRoot { .. } => "wrong_old_root",
        Rejection::MalformedPublicData(_) => "malformed_public_data",
        Rejection::QueueMismatch(_) => "queue_mismatch",
        Rejection::Exodus => "exodus",
        Rejection::MalformedProof(_) => "malformed_proof",
        Rejection::BadProof => "bad_proof",
        Rejection::Storage(_) => "storage",
    }
}

/// An event of the rollup contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupEvent {
    /// `DepositQueued(id, from, pkX, pkY, amount)`.
    DepositQueued {
        /// Queue id.
        id: u64,
        /// Payer.
        from: Address,
        /// Key x.
        pk_x: U256,
        /// Key y.
        pk_y: U256,
        /// Amount in units (gwei).
        amount: u64,
    },
    /// `FullExitQueued(id, requester, account)`.
    FullExitQueued {
        /// Queue id.
        id: u64,
        /// Requester.
        requester: Address,
        /// The account to empty.
        account: u64,
    },
    /// `BatchAccepted(number, oldRoot, newRoot, firstRequest, requestCount, publicData)`.
    BatchAccepted {
        /// Batch number.
        number: u64,
        /// Root before.
        old_root: U256,
        /// Root after.
        new_root: U256,
        /// First request id consumed.
        first_request: u64,
        /// Requests (deposits and full exits) consumed.
        request_count: u64,
        /// The public data.
        public_data: Vec<u8>,
    },
    /// `WithdrawalCredited(number, to, amount)`.
    WithdrawalCredited {
        /// Batch number.
        number: u64,
        /// Credited address.
        to: Address,
        /// Amount in units (gwei).
        amount: u64,
    },
    /// `Claimed(to, weiAmount)`.
    Claimed {
        /// Claimer.
        to: Address,
        /// Wei sent.
        wei: U256,
    },
    /// `ExodusActivated(overdueRequest, root)`.
    ExodusActivated {
        /// The queued request that waited past its deadline.
        overdue_request: u64,
        /// The last verified root, final from now on.
        root: U256,
    },
    /// `DepositRefunded(id, to, amount)`.
    DepositRefunded {
        /// Queue id.
        id: u64,
        /// The payer, credited.
        to: Address,
        /// Amount in units (gwei).
        amount: u64,
    },
    /// `ExodusWithdrawal(account, owner, amount)`.
    ExodusWithdrawal {
        /// The L2 account.
        account: u64,
        /// Its owner, credited.
        owner: Address,
        /// Its balance in units (gwei).
        amount: u64,
    },
}

/// Event signatures, for topic 0.
pub const EVENTS: [&str; 8] = [
    "DepositQueued(uint64,address,uint256,uint256,uint64)",
    "BatchAccepted(uint64,uint256,uint256,uint64,uint64,bytes)",
    "WithdrawalCredited(uint64,address,uint64)",
    "Claimed(address,uint256)",
    "FullExitQueued(uint64,address,uint64)",
    "ExodusActivated(uint64,uint256)",
    "DepositRefunded(uint64,address,uint64)",
    "ExodusWithdrawal(uint64,address,uint64)",
];

/// Error signatures of the contract.
pub const ERRORS: [&str; 18] = [
    "Replayed(uint64,uint64)",
    "OutOfOrder(uint64,uint64)",
    "NonCanonicalInput(uint8)",
    "WrongOldRoot(uint256,uint256)",
    "MalformedPublicData(uint256,uint8)",
    "QueueMismatch(uint256)",
    "NoSuchAccount(uint64)",
    "MalformedProof()",
    "BadProof()",
    "BadDepositAmount(uint256)",
    "InvalidPublicKey()",
    "NothingToClaim()",
    "ClaimFailed()",
    "Exodus()",
    "ExodusNotActive()",
    "NotOverdue(uint256,uint256)",
    "AlreadyExited(uint64)",
    "BadExitProof(uint64)",
];

fn topic_word(t: &revm::primitives::B256) -> U256 {
    U256::from_be_slice(t.as_slice())
}

fn low_address(v: U256) -> Address {
    Address::from_slice(&v.to_be_bytes::<32>()[12..])
}

impl RollupEvent {
    /// Decodes a log of the rollup contract; `None` for any other log.
    pub fn decode(log: &Log) -> Option<Self> {
        let topics = log.data.topics();
        let data = log.data.data.as_ref();
        let w = |i: usize| data.get(32 * i..32 * (i + 1)).map(U256::from_be_slice);
        let t0 = topics.first()?;
        let t = |i: usize| topics.get(i).map(topic_word);
        let ev = |i: usize| keccak256(EVENTS[i].as_bytes());
        if *t0 == ev(0) {
            Some(RollupEvent::DepositQueued {
                id: small(t(1)?)?,
                from: low_address(t(2)?),
                pk_x: w(0)?,
                pk_y: w(1)?,
                amount: small(w(2)?)?,
            })
        } else if *t0 == ev(1) {
            let off: usize = small(w(4)?)?;
            let len: usize = small(U256::from_be_slice(data.get(off..off + 32)?))?;
            Some(RollupEvent::BatchAccepted {
                number: small(t(1)?)?,
                old_root: w(0)?,
                new_root: w(1)?,
                first_request: small(w(2)?)?,
                request_count: small(w(3)?)?,
                public_data: data.get(off + 32..off + 32 + len)?.to_vec(),
            })
        } else if *t0 == ev(2) {
            Some(RollupEvent::WithdrawalCredited {
                number: small(t(1)?)?,
                to: low_address(t(2)?),
                amount: small(w(0)?)?,
            })
        } else if *t0 == ev(3) {
            Some(RollupEvent::Claimed {
                to: low_address(t(1)?),
                wei: w(0)?,
            })
        } else if *t0 == ev(4) {
            Some(RollupEvent::FullExitQueued {
                id: small(t(1)?)?,
                requester: low_address(t(2)?),
                account: small(w(0)?)?,
            })
        } else if *t0 == ev(5) {
            Some(RollupEvent::ExodusActivated {
                overdue_request: small(w(0)?)?,
                root: w(1)?,
            })
        } else if *t0 == ev(6) {
            Some(RollupEvent::DepositRefunded {
                id: small(t(1)?)?,
                to: low_address(t(2)?),
                amount: small(w(0)?)?,
            })
        } else if *t0 == ev(7) {
            Some(RollupEvent::ExodusWithdrawal {
                account: small(t(1)?)?,
                owner: low_address(t(2)?),
                amount: small(w(0)?)?,
            })
        } else {
            None
        }
    }
}

/// Anything that stops a rollup call from giving a verdict, or the contract's refusal.
#[derive(Debug, thiserror::Error)]
pub enum EvmL1Error {
    /// The contract refused the call (it reverted; nothing changed).
    #[error("refused: {0}")]
    Rejected(#[from] EvmRejection),
    /// The EVM refused the transaction.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A committed artifact is unusable.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The verifying key does not have the public inputs of the batch circuit (3 + batch size),
    /// or has none, or more than `Groth16KeyedVerifier` can hold (382).
    #[error("the verifying key has {inputs} public inputs; the rollup needs {expected}")]
    KeyShape {
        /// Public inputs of the key.
        inputs: usize,
        /// Public inputs the rollup's circuit has (0 when there is no circuit to compare with).
        expected: usize,
    },
    /// A view returned something that is not the expected word.
    #[error("{0} returned malformed data")]
    BadReturn(&'static str),
    /// A submission that cannot be written as `submitBatch` calldata.
    #[error("the submission cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// No contract at the address given as the rollup.
    #[error("no contract at {0} (is it the rollup's address on this chain?)")]
    NoCode(Address),
    /// A contract that does not answer the rollup's views.
    #[error("{address} is not a zkr rollup contract: {why}")]
    NotARollup {
        /// The address.
        address: Address,
        /// Which view failed, and how.
        why: String,
    },
    /// Transactions of the operator are still pending: a batch may already be on its way, so
    /// none is sent until they are mined (or dropped).
    #[error("{count} transaction(s) of the operator {from} are not mined yet; waiting before submitting again")]
    InFlight {
        /// The operator.
        from: Address,
        /// Pending transactions.
        count: u64,
    },
    /// The contract's events contradict each other or its state.
    #[error("the rollup's events are inconsistent: {0}")]
    Events(String),
    /// A priority deadline the contract cannot hold (0, or 2^32 seconds or more).
    #[error("priority deadline of {0} s is not in 1..2^32")]
    Deadline(u64),
}

/// Addresses of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployment {
    /// The PoseidonT5 library the rollup is linked against (the aux chain's hash, and the 4-ary
    /// tree nodes' for exodus withdrawals).
    pub poseidon: Address,
    /// The PoseidonT6 library the rollup is linked against (the account leaf's hash, for exodus
    /// withdrawals).
    pub poseidon_t6: Address,
    /// The Groth16 verifier.
    pub verifier: Address,
    /// The rollup.
    pub rollup: Address,
}

/// A submitted batch the contract accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The transaction's gas and logs.
    pub outcome: Outcome,
    /// Its events, decoded.
    pub events: Vec<RollupEvent>,
}

/// The rollup contract on a chain (by default revm's in-memory [`Chain`]), with every event it
/// emitted through this handle.
#[derive(Clone)]
pub struct EvmRollup<C = Chain> {
    /// The chain.
    pub chain: C,
    /// The contracts' addresses (`poseidon` is zero for a rollup found with
    /// [`EvmRollup::attach`]: the library's address is not readable from the rollup).
    pub deployment: Deployment,
    /// Every rollup event of the transactions sent through this handle, in order (on a chain
    /// with other senders, [`EvmRollup::read_events`] reads them all).
    pub events: Vec<RollupEvent>,
    /// The account that deploys and submits batches.
    pub operator: Address,
}

/// The deployer and operator of [`EvmRollup::deploy`].
pub const OPERATOR: Address = Address::new([0x0b; 20]);

impl EvmRollup<Chain> {
    /// Deploys PoseidonT5, the given Groth16 verifier (an artifact of `zkr export-verifier`'s
    /// output) and the rollup at the genesis root for `params` and the operator's L2 key
    /// `operator_key`, on a fresh chain.
    pub fn deploy(
        params: CircuitParams,
        verifier: &Artifact,
        operator_key: &PublicKey,
    ) -> Result<Self, EvmL1Error> {
        Self::deploy_with_verifier_code(
            params,
            verifier.linked_bytecode(&BTreeMap::new())?,
            operator_key,
        )
    }

    /// Deploys PoseidonT5, `Groth16KeyedVerifier` with the verifying key `vk` (see
    /// [`keyed_verifier_init_code`]) and the rollup at the genesis root for `params` and
    /// `operator_key`, on a fresh chain: the rollup for any key of the batch circuit, with no
    /// Solidity compiled at run time. A key with another number of public inputs than `params`'
    /// circuit is refused.
    pub fn deploy_for_key(
        params: CircuitParams,
        vk: &VerifyingKey,
        operator_key: &PublicKey,
    ) -> Result<Self, EvmL1Error> {
        check_key_shape(params, vk)?;
        Self::deploy_with_verifier_code(params, keyed_verifier_init_code(vk)?, operator_key)
    }

    /// Deploys PoseidonT5, the verifier from its creation code (constructor arguments included)
    /// and the rollup, on a fresh chain.
    fn deploy_with_verifier_code(
        params: CircuitParams,
        verifier_code: Vec<u8>,
        operator_key: &PublicKey,
    ) -> Result<Self, EvmL1Error> {
        let mut chain = Chain::new();
        chain.fund(OPERATOR, U256::from(10u64).pow(U256::from(24u64)));
        EvmRollup::deploy_on(
            chain,
            OPERATOR,
            params,
            verifier_code,
            operator_key,
            DEFAULT_PRIORITY_DEADLINE_S,
        )
    }
}

/// Refuses a key with another number of public inputs than `params`' circuit.
fn check_key_shape(params: CircuitParams, vk: &VerifyingKey) -> Result<(), EvmL1Error> {
    let inputs = vk.gamma_abc_g1.len().saturating_sub(1);
    let expected = zkr_circuits::public::num_inputs(params.batch_size);
    if inputs != expected {
        return Err(EvmL1Error::KeyShape { inputs, expected });
    }
    Ok(())
}

impl<C: EvmChain> EvmRollup<C> {
    /// Deploys PoseidonT5, `Groth16KeyedVerifier` with the verifying key `vk` and the rollup at
    /// the genesis root for `params` and the operator's L2 key `operator_key`, from `operator`,
    /// on `chain` (what `zkr l1 deploy` does on a JSON-RPC chain), with queued requests due
    /// within `priority_deadline_s` seconds. A key with another number of public inputs than
    /// `params`' circuit is refused.
    pub fn deploy_for_key_on(
        chain: C,
        operator: Address,
        params: CircuitParams,
        vk: &VerifyingKey,
        operator_key: &PublicKey,
        priority_deadline_s: u64,
    ) -> Result<Self, EvmL1Error> {
        check_key_shape(params, vk)?;
        Self::deploy_on(
            chain,
            operator,
            params,
            keyed_verifier_init_code(vk)?,
            operator_key,
            priority_deadline_s,
        )
    }

    /// Deploys PoseidonT5, the verifier from its creation code (constructor arguments included,
    /// e.g. [`keyed_verifier_init_code`]) and the rollup at the genesis root for `params` and the
    /// operator's L2 key `operator_key` (its account 0), from `operator`, on `chain`; queued
    /// requests are due within `priority_deadline_s` seconds (1 to 2^32 - 1), after which
    /// anyone can switch the contract to exodus mode. The contract derives its chain id from
    /// the EVM chain id and its address ([`Self::genesis`]).
    pub fn deploy_on(
        mut chain: C,
        operator: Address,
        params: CircuitParams,
        verifier_code: Vec<u8>,
        operator_key: &PublicKey,
        priority_deadline_s: u64,
    ) -> Result<Self, EvmL1Error> {
        if priority_deadline_s == 0 || priority_deadline_s > u32::MAX as u64 {
            return Err(EvmL1Error::Deadline(priority_deadline_s));
        }
        let library = |chain: &mut C, artifact: &str| -> Result<Address, EvmL1Error> {
            let code = Artifact::parse(artifact)?.linked_bytecode(&BTreeMap::new())?;
            Ok(chain.deploy(operator, code)?)
        };
        let poseidon = library(&mut chain, POSEIDON_T5)?;
        let poseidon_t6 = library(&mut chain, POSEIDON_T6)?;
        let verifier = chain.deploy(operator, verifier_code)?;
        let rollup = Artifact::parse(ROLLUP)?;
        let mut code = rollup.linked_bytecode(&BTreeMap::from([
            ("PoseidonT5", poseidon),
            ("PoseidonT6", poseidon_t6),
        ]))?;
        // The genesis root does not depend on the chain id (the tree holds keys, balances and
        // nonces), so it is computed before the contract (and so its chain id) exists.
        let placeholder = Genesis {
            chain_id: 0,
            operator: *operator_key,
            operator_l1: L1Address(operator.into_array()),
        };
        let genesis_root = State::genesis(params, &placeholder).root();
        for w in [
            U256::from_be_slice(verifier.as_slice()),
            U256::from(params.batch_size),
            U256::from(params.depth),
            field_word(&genesis_root),
            field_word(&operator_key.x()),
            field_word(&operator_key.y()),
            U256::from_be_slice(operator.as_slice()),
            U256::from(priority_deadline_s),
        ] {
            code.extend_from_slice(&word(w));
        }
        let rollup = chain.deploy(operator, code)?;
        Ok(Self {
            chain,
            deployment: Deployment {
                poseidon,
                poseidon_t6,
                verifier,
                rollup,
            },
            events: Vec::new(),
            operator,
        })
    }

    /// Sends `data` (any calldata, e.g. from [`call_data`]) to the rollup from `from`.
    pub fn send_raw(&mut self, from: Address, data: Vec<u8>) -> Result<Accepted, EvmL1Error> {
        self.send(from, data, U256::ZERO)
    }

    fn send(&mut self, from: Address, data: Vec<u8>, value: U256) -> Result<Accepted, EvmL1Error> {
        let outcome = self.chain.send(from, self.deployment.rollup, data, value)?;
        if !outcome.success {
            return Err(EvmRejection::decode(&outcome.output).into());
        }
        let events: Vec<RollupEvent> = outcome
            .logs
            .iter()
            .filter(|l| l.address == self.deployment.rollup)
            .filter_map(RollupEvent::decode)
            .collect();
        self.events.extend(events.iter().cloned());
        Ok(Accepted { outcome, events })
    }

    /// `deposit(pkX, pkY, hintX, hintY)` of `wei` from `from` (which needs the funds on the
    /// chain) for the L2 key `pubkey`, with the subgroup hint of [`deposit_hint`].
    pub fn deposit(
        &mut self,
        from: Address,
        pubkey: &PublicKey,
        wei: U256,
    ) -> Result<Accepted, EvmL1Error> {
        let (hx, hy) = deposit_hint(&pubkey.point());
        let words = [
            field_word(&pubkey.x()),
            field_word(&pubkey.y()),
            field_word(&hx),
            field_word(&hy),
        ];
        self.deposit_raw(from, words, wei)
    }

    /// `deposit(words[0], words[1], words[2], words[3])`: any key and hint, valid or not.
    pub fn deposit_raw(
        &mut self,
        from: Address,
        words: [U256; 4],
        wei: U256,
    ) -> Result<Accepted, EvmL1Error> {
        self.send(from, call(DEPOSIT, &words), wei)
    }

    /// `submitBatch(...)` from the operator.
    pub fn submit_batch(&mut self, s: &EvmSubmission) -> Result<Accepted, EvmL1Error> {
        self.submit_calldata(s.calldata())
    }

    /// `submitBatch` with raw calldata (e.g. truncated).
    pub fn submit_calldata(&mut self, data: Vec<u8>) -> Result<Accepted, EvmL1Error> {
        self.send(self.operator, data, U256::ZERO)
    }

    /// `claim()` from `who`.
    pub fn claim(&mut self, who: Address) -> Result<Accepted, EvmL1Error> {
        self.send(who, call("claim()", &[]), U256::ZERO)
    }

    /// `requestFullExit(account)` from `from`: queues a full exit of L2 account `account`, paid
    /// to `from` if `from` owns it.
    pub fn request_full_exit(
        &mut self,
        from: Address,
        account: u64,
    ) -> Result<Accepted, EvmL1Error> {
        self.send(
            from,
            call("requestFullExit(uint64)", &[U256::from(account)]),
            U256::ZERO,
        )
    }

    /// `activateExodus()` from `from`: switches the contract to exodus mode, once the oldest
    /// queued request is overdue.
    pub fn activate_exodus(&mut self, from: Address) -> Result<Accepted, EvmL1Error> {
        self.send(from, call("activateExodus()", &[]), U256::ZERO)
    }

    /// `refundDeposits(count)` from `from`: in exodus mode, takes the next `count` requests off
    /// the queue, crediting deposits back to their payers.
    pub fn refund_deposits(&mut self, from: Address, count: u64) -> Result<Accepted, EvmL1Error> {
        self.send(
            from,
            call("refundDeposits(uint64)", &[U256::from(count)]),
            U256::ZERO,
        )
    }

    /// `exodusWithdraw(...)` from `from`: in exodus mode, credits account `index`'s balance to
    /// its owner, given the account and its path (`siblings` per level, leaf level first, as
    /// [`zkr_circuits::merkle::MerkleProof`] holds them) under the last verified root.
    pub fn exodus_withdraw(
        &mut self,
        from: Address,
        index: u64,
        account: &zkr_circuits::account::Account,
        siblings: &[Vec<Fr>],
    ) -> Result<Accepted, EvmL1Error> {
        let flat: Vec<U256> = siblings.iter().flatten().map(field_word).collect();
        self.send(
            from,
            exodus_withdraw_call(index, account, &flat),
            U256::ZERO,
        )
    }

    /// `exodus()`: whether the contract is in exodus mode.
    pub fn exodus(&mut self) -> Result<bool, EvmL1Error> {
        Ok(self.view_word("exodus()", &[])? != U256::ZERO)
    }

    /// When the oldest queued request becomes overdue (unix seconds: `queuedAt +
    /// priorityDeadline` of the request at `queueHead`), if any request waits.
    pub fn oldest_deadline(&mut self) -> Result<Option<u64>, EvmL1Error> {
        let [head, tail] = [
            self.view_word("queueHead()", &[])?,
            self.view_word("queueTail()", &[])?,
        ];
        if head == tail {
            return Ok(None);
        }
        let [_, _, _, _, queued_at] = self.view_words::<5>("requests(uint64)", &[head])?;
        let deadline = self.view_word("priorityDeadline()", &[])?;
        small(queued_at + deadline)
            .map(Some)
            .ok_or(EvmL1Error::BadReturn("requests(uint64)"))
    }

    /// A view of the rollup returning one word.
    pub fn view_word(
        &mut self,
        signature: &'static str,
        args: &[U256],
    ) -> Result<U256, EvmL1Error> {
        let [w] = self.view_words::<1>(signature, args)?;
        Ok(w)
    }

    /// A view of the rollup returning `N` static words.
    pub fn view_words<const N: usize>(
        &mut self,
        signature: &'static str,
        args: &[U256],
    ) -> Result<[U256; N], EvmL1Error> {
        let out = self
            .chain
            .view(self.deployment.rollup, call(signature, args))?;
        if !out.success {
            return Err(EvmRejection::decode(&out.output).into());
        }
        let mut words = [U256::ZERO; N];
        for (i, w) in words.iter_mut().enumerate() {
            *w = out
                .output
                .get(32 * i..32 * (i + 1))
                .map(U256::from_be_slice)
                .ok_or(EvmL1Error::BadReturn(signature))?;
        }
        Ok(words)
    }

    /// `stateRoot()`.
    pub fn state_root(&mut self) -> Result<U256, EvmL1Error> {
        self.view_word("stateRoot()", &[])
    }

    /// The deployment's chain id and operator key (`chainId()`, `operatorPkX()`,
    /// `operatorPkY()`), and its genesis root (`genesisRoot()`).
    pub fn genesis(&mut self) -> Result<(Genesis, Fr), EvmL1Error> {
        let chain_id = self.view_word("chainId()", &[])?;
        let chain_id = small(chain_id).ok_or(EvmL1Error::BadReturn("chainId()"))?;
        let x = self.view_word("operatorPkX()", &[])?;
        let y = self.view_word("operatorPkY()", &[])?;
        let operator = fr_from_word(x)
            .zip(fr_from_word(y))
            .and_then(|(x, y)| PublicKey::from_coordinates(x, y).ok())
            .ok_or(EvmL1Error::BadReturn("operatorPkX()/operatorPkY()"))?;
        let operator_l1 = L1Address(low_address(self.view_word("operatorL1()", &[])?).into_array());
        let root = self.view_word("genesisRoot()", &[])?;
        let root = fr_from_word(root).ok_or(EvmL1Error::BadReturn("genesisRoot()"))?;
        Ok((
            Genesis {
                chain_id,
                operator,
                operator_l1,
            },
            root,
        ))
    }

    /// `batchCount()`.
    pub fn batch_count(&mut self) -> Result<u64, EvmL1Error> {
        let v = self.view_word("batchCount()", &[])?;
        small(v).ok_or(EvmL1Error::BadReturn("batchCount()"))
    }

    /// `pendingRequests()`: deposits and full exits waiting in the queue.
    pub fn pending_requests(&mut self) -> Result<u64, EvmL1Error> {
        let v = self.view_word("pendingRequests()", &[])?;
        small(v).ok_or(EvmL1Error::BadReturn("pendingRequests()"))
    }

    /// `withdrawable(who)` in wei.
    pub fn withdrawable(&mut self, who: Address) -> Result<U256, EvmL1Error> {
        self.view_word(
            "withdrawable(address)",
            &[U256::from_be_slice(who.as_slice())],
        )
    }

    /// A snapshot of everything the contract stores that a batch may change, for "nothing
    /// changed" checks: root, batch count, queue bounds, the rollup's ETH balance.
    pub fn snapshot(&mut self) -> Result<[U256; 5], EvmL1Error> {
        Ok([
            self.state_root()?,
            self.view_word("batchCount()", &[])?,
            self.view_word("queueHead()", &[])?,
            self.view_word("queueTail()", &[])?,
            self.chain.balance_of(self.deployment.rollup)?,
        ])
    }
}

/// Most input points `Groth16KeyedVerifier` holds (its data contract's code is at most 24,576
/// bytes: one byte, then 64 bytes a point), so at most 382 public inputs.
pub const KEYED_VERIFIER_MAX_POINTS: usize = 383;

/// The ABI-encoded constructor arguments of `Groth16KeyedVerifier` for `vk`: alpha (x, y), beta,
/// gamma, delta (`[[x.c1, x.c0], [y.c1, y.c0]]`, imaginary part first), then the dynamic array
/// `uint256[2][] ic` of the N + 1 input points (its offset, length and points). `None` unless the
/// key has 1 to 382 public inputs.
pub fn keyed_verifier_args(vk: &VerifyingKey) -> Option<Vec<U256>> {
    let points = vk.gamma_abc_g1.len();
    if !(2..=KEYED_VERIFIER_MAX_POINTS).contains(&points) {
        return None;
    }
    let mut words = Vec::with_capacity(16 + 2 * points);
    words.extend(vk_g1(&vk.alpha_g1).iter().map(field_word));
    for g2 in [&vk.beta_g2, &vk.gamma_g2, &vk.delta_g2] {
        words.extend(vk_g2(g2).into_iter().flatten().map(|x| field_word(&x)));
    }
    // 14 static words and the offset word precede the array's tail.
    words.push(U256::from(15 * 32));
    words.push(U256::from(points));
    for p in &vk.gamma_abc_g1 {
        words.extend(vk_g1(p).iter().map(field_word));
    }
    Some(words)
}

/// The creation code of `Groth16KeyedVerifier` (the committed artifact) followed by the
/// constructor arguments of [`keyed_verifier_args`]: deploying it gives the verifier of `vk`.
pub fn keyed_verifier_init_code(vk: &VerifyingKey) -> Result<Vec<u8>, EvmL1Error> {
    let inputs = vk.gamma_abc_g1.len().saturating_sub(1);
    let args = keyed_verifier_args(vk).ok_or(EvmL1Error::KeyShape {
        inputs,
        expected: 0,
    })?;
    let mut code = Artifact::parse(KEYED_VERIFIER)?.linked_bytecode(&BTreeMap::new())?;
    for w in args {
        code.extend_from_slice(&word(w));
    }
    Ok(code)
}

/// The calldata of snarkjs's `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])` for the
/// proof of `s` and the `N = signals.len()` public signals (what the rollup sends its verifier).
pub fn verify_proof_calldata(s: &EvmSubmission, signals: &[U256]) -> Vec<u8> {
    let sig = format!(
        "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{}])",
        signals.len()
    );
    let mut data = selector(&sig).to_vec();
    let proof = [
        s.pa[0], s.pa[1], s.pb[0][0], s.pb[0][1], s.pb[1][0], s.pb[1][1], s.pc[0], s.pc[1],
    ];
    for w in proof.iter().chain(signals) {
        data.extend_from_slice(&word(*w));
    }
    data
}

/// A field element of the scalar field from a word, if canonical.
pub fn fr_from_word(v: U256) -> Option<Fr> {
    let n = num_bigint::BigUint::from_bytes_be(&v.to_be_bytes::<32>());
    zkr_circuits::field::fr_from_biguint(&n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a word with a leading zero was read as the same number here while the Rust L1
    /// refuses it; both L1s now give the same verdict.
    #[test]
    fn a_word_with_a_leading_zero_is_refused() {
        assert_eq!(parse_word("w", "7").unwrap(), U256::from(7u64));
        assert_eq!(parse_word("w", "0").unwrap(), U256::ZERO);
        for bad in ["07", "00", "", "+7", "7 ", "-1"] {
            assert!(parse_word("w", bad).is_err(), "{bad:?}");
        }
    }
}

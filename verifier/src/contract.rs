//! The L1 contract: state, the priority queue (deposits and full exits), and the batch
//! acceptance rule.

use crate::snarkjs::{FormatError, ProofJson};
use crate::{verify_proof, Curve, VerifyingKey};
use ark_groth16::PreparedVerifyingKey;
use ark_serialize::CanonicalSerialize;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::field::{fr_from_decimal, fr_to_decimal};
use zkr_circuits::public::PublicInputs;
use zkr_circuits::state::State;
use zkr_circuits::tx::{
    decode_public_data, encode_public_data, Deposit, FullExit, L1Address, PriorityOp, SlotData,
    TxType,
};
use zkr_circuits::{CircuitParams, Fr, Genesis};

/// A request waiting in the L1's priority queue: a deposit or a full exit. Batches consume them
/// strictly in queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedRequest {
    /// Sequence number in the queue (from 0, never reused).
    pub id: u64,
    /// The request (its L1 account: the deposit's payer, the full exit's requester).
    pub request: PriorityOp,
}

/// A batch the L1 accepted: the data-availability record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedBatch {
    /// Batch number (from 1).
    pub number: u64,
    /// Root before.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub old_root: Fr,
    /// Root after.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub new_root: Fr,
    /// The public data, hex.
    pub public_data: String,
    /// Requests of the priority queue the batch consumed, in order.
    pub requests: Vec<QueuedRequest>,
    /// Withdrawals and full exits credited on L1.
    pub withdrawals: Vec<(L1Address, u64)>,
}

/// Everything the L1 holds. Persisted as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1State {
    /// Circuit the verifying key is for.
    pub params: CircuitParams,
    /// This deployment's chain id and the operator's key (account 0 from genesis).
    pub genesis: Genesis,
    /// SHA-256 of the verifying key (binds the state to one key).
    pub vk_digest: String,
    /// The current state root.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub state_root: Fr,
    /// Accepted batches, in order.
    pub batches: Vec<AcceptedBatch>,
    /// Deposits and full exits not yet consumed, oldest first.
    pub queue: VecDeque<QueuedRequest>,
    /// The id the next request gets.
    pub next_request_id: u64,
    /// L1 balances (deposits are paid from them, withdrawals credited to them).
    pub l1_balances: BTreeMap<L1Address, u128>,
    /// Seconds a queued request may wait before anyone can switch the L1 to exodus mode.
    #[serde(default = "default_priority_deadline")]
    pub priority_deadline_s: u64,
    /// When each pending request was queued (unix seconds, by request id).
    #[serde(default)]
    pub queued_at: BTreeMap<u64, u64>,
    /// Exodus mode: no more batches; owners withdraw with a Merkle proof under `state_root`.
    #[serde(default)]
    pub exodus: bool,
    /// Accounts already withdrawn in exodus mode.
    #[serde(default)]
    pub exited: std::collections::BTreeSet<u64>,
}

/// The default deadline of a queued request: one hour (a local L1; zkSync Lite's was 14 days).
pub const DEFAULT_PRIORITY_DEADLINE_S: u64 = 3600;

fn default_priority_deadline() -> u64 {
    DEFAULT_PRIORITY_DEADLINE_S
}

impl L1State {
    /// Appends a request to the queue; returns its id (an error once the ids are exhausted,
    /// which only a tampered state file can reach).
    fn push_request(&mut self, request: PriorityOp, now: u64) -> Result<u64, String> {
        let id = self.next_request_id;
        self.next_request_id = id
            .checked_add(1)
            .ok_or_else(|| "request ids are exhausted".to_string())?;
        self.queue.push_back(QueuedRequest { id, request });
        self.queued_at.insert(id, now);
        Ok(id)
    }

    /// The pending requests, oldest first, as the state transition reads them.
    pub fn pending(&self) -> Vec<PriorityOp> {
        self.queue.iter().map(|q| q.request).collect()
    }

    /// Checks what a state read from a file must satisfy to be one this contract wrote: valid
    /// parameters, batches numbered 1, 2, … whose roots chain from the genesis root to the
    /// current root, with hex public data, and a queue in id order below the next id.
    pub fn check(&self) -> Result<(), String> {
        self.params.validate().map_err(|e| e.to_string())?;
        let mut root = State::genesis(self.params, &self.genesis).root();
        for (i, b) in self.batches.iter().enumerate() {
            if b.number != i as u64 + 1 {
                return Err(format!("batch #{} is numbered {}", i + 1, b.number));
            }
            if b.old_root != root {
                return Err(format!(
                    "batch {}'s old root is not the root before it",
                    b.number
                ));
            }
            if hex::decode(&b.public_data).is_err() {
                return Err(format!("batch {}'s public data is not hex", b.number));
            }
            root = b.new_root;
        }
        if root != self.state_root {
            return Err("the state root is not the last batch's new root".into());
        }
        let mut next = None;
        for q in &self.queue {
            if next.is_some_and(|n| q.id < n) || q.id >= self.next_request_id {
                return Err(format!(
                    "queued request #{} is out of order (next id {})",
                    q.id, self.next_request_id
                ));
            }
            next = Some(q.id + 1);
        }
        Ok(())
    }
}

/// What a prover submits to the L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSubmission {
    /// The batch number it claims (last accepted + 1).
    pub number: u64,
    /// The root it starts from (decimal).
    pub old_root: String,
    /// The root it ends at (decimal).
    pub new_root: String,
    /// The batch's public data, hex.
    pub public_data: String,
    /// The Groth16 proof, in snarkjs's layout.
    pub proof: ProofJson,
}

impl BatchSubmission {
    /// The submission for a proven batch.
    pub fn new(
        number: u64,
        old_root: Fr,
        new_root: Fr,
        public_data: &[SlotData],
        proof: &crate::Proof,
    ) -> Self {
        Self {
            number,
            old_root: fr_to_decimal(&old_root),
            new_root: fr_to_decimal(&new_root),
            public_data: hex::encode(encode_public_data(public_data)),
            proof: ProofJson::from_proof(proof),
        }
    }
}

/// Why a batch was refused. A refused batch changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The batch number was already accepted.
    #[error("batch {got} was already accepted (next is {expected})")]
    Replayed {
        /// Next expected number.
        expected: u64,
        /// Submitted number.
        got: u64,
    },
    /// The batch skips ahead.
    #[error("batch {got} is out of order (next is {expected})")]
    OutOfOrder {
        /// Next expected number.
        expected: u64,
        /// Submitted number.
        got: u64,
    },
    /// A public value is not a canonical field element.
    #[error("non-canonical public input ({field}): {reason}")]
    NonCanonicalInput {
        /// Which value.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The old root is not the current root.
    #[error("old root {got} is not the L1's current root {expected}")]
    WrongOldRoot {
        /// Current root.
        expected: String,
        /// Submitted.
        got: String,
    },
    /// Public data that does not decode, or has the wrong size.
    #[error("malformed public data: {0}")]
    MalformedPublicData(String),
    /// The deposits and full exits the batch consumes are not the next requests of the queue.
    #[error("the batch's deposits and full exits do not match the L1 queue: {0}")]
    QueueMismatch(String),
    /// The proof is malformed (non-canonical coordinate, off-curve or non-subgroup point).
    #[error("malformed proof: {0}")]
    MalformedProof(#[from] FormatError),
    /// The proof does not verify for the recomputed public input.
    #[error("the Groth16 proof does not verify for this transition")]
    BadProof,
    /// The L1 is in exodus mode: no batch is accepted any more.
    #[error("the L1 is in exodus mode: no batch is accepted any more")]
    Exodus,
    /// The new state could not be persisted; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
}

/// Why an exodus step was refused. A refused step changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExodusError {
    /// No request waited past its deadline (or none waits).
    #[error("no queued request is overdue (now {now}, oldest deadline {due:?})")]
    NotOverdue {
        /// The L1's time.
        now: u64,
        /// When the oldest request falls due, if any waits.
        due: Option<u64>,
    },
    /// Exodus mode is already on.
    #[error("the L1 is already in exodus mode")]
    AlreadyActive,
    /// Exodus mode is off: batches still settle.
    #[error("the L1 is not in exodus mode")]
    NotActive,
    /// The account was already withdrawn.
    #[error("account {0} was already withdrawn in exodus mode")]
    AlreadyExited(u64),
    /// The leaf and path do not give the last verified root.
    #[error("account {0}: the leaf and path do not give the last verified root")]
    BadProof(u64),
    /// Storage failure; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
}

/// Why a full exit request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FullExitError {
    /// The index is outside the tree: no batch could ever consume the request.
    #[error("account {account} does not exist: the tree holds accounts 0 to {}", capacity - 1)]
    NoSuchAccount {
        /// The index asked for.
        account: u64,
        /// `2^depth`.
        capacity: u64,
    },
    /// The L1 is in exodus mode: owners withdraw directly.
    #[error("the L1 is in exodus mode: no more requests")]
    Exodus,
    /// Storage failure; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
}

/// Why a deposit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepositError {
    /// Zero amount.
    #[error("deposit amount must be positive")]
    ZeroAmount,
    /// Not enough L1 balance.
    #[error("L1 balance of {from} is {balance}, deposit needs {amount}")]
    InsufficientL1Balance {
        /// Payer.
        from: L1Address,
        /// Its balance.
        balance: u128,
        /// Amount.
        amount: u64,
    },
    /// The L1 is in exodus mode: no more deposits.
    #[error("the L1 is in exodus mode: no more deposits")]
    Exodus,
    /// Storage failure; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
}

/// Errors opening the contract.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The state file is corrupt.
    #[error("{path}: corrupt L1 state: {reason}")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The state belongs to another key or circuit.
    #[error("{path}: L1 state is for another verifying key or circuit ({reason})")]
    KeyMismatch {
        /// File.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// A fresh L1 needs the operator's key: account 0 is the operator's from genesis.
    #[error("{path}: a new L1 needs the operator's L2 public key (account 0 is the operator's from genesis)")]
    NoOperator {
        /// File.
        path: PathBuf,
    },
    /// The stored L1 has another operator than the one given.
    #[error("{path}: this L1 was deployed with operator {stored}, not {given}")]
    OperatorMismatch {
        /// File.
        path: PathBuf,
        /// The stored operator key.
        stored: String,
        /// The key given.
        given: String,
    },
    /// Another process (or another `L1Contract` of this one) has the state open.
    #[error("{path}: the L1 state is in use by another process (its lock file {lock} is held)")]
    InUse {
        /// File.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
}

/// The result of an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReceipt {
    /// Batch number.
    pub number: u64,
    /// The new root.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub new_root: Fr,
    /// Requests of the queue consumed.
    pub requests_consumed: usize,
    /// Withdrawals and full exits credited.
    pub withdrawals: Vec<(L1Address, u64)>,
}

/// The L1 contract.
pub struct L1Contract {
    state: L1State,
    pvk: PreparedVerifyingKey<Curve>,
    path: Option<PathBuf>,
    /// An exclusive lock on `path` + `.lock`, held while this contract is open (released by the
    /// operating system when the process ends, even by `kill -9`).
    _lock: Option<fs::File>,
    /// Seconds added to the system clock ([`L1Contract::advance_clock`]).
    clock_offset_s: u64,
}

/// SHA-256 of a verifying key's canonical encoding, hex.
pub fn vk_digest(vk: &VerifyingKey) -> String {
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes)
        .expect("serializing to memory");
    hex::encode(Sha256::digest(&bytes))
}

impl L1Contract {
    /// A fresh in-memory contract at the genesis root of `genesis` (the operator's account 0
    /// and nothing else, [`State::genesis`]).
    pub fn new(params: CircuitParams, vk: VerifyingKey, genesis: Genesis) -> Self {
        let state = L1State {
            params,
            genesis,
            vk_digest: vk_digest(&vk),
            state_root: State::genesis(params, &genesis).root(),
            batches: Vec::new(),
            queue: VecDeque::new(),
            next_request_id: 0,
            l1_balances: BTreeMap::new(),
            priority_deadline_s: DEFAULT_PRIORITY_DEADLINE_S,
            queued_at: BTreeMap::new(),
            exodus: false,
            exited: Default::default(),
        };
        Self {
            state,
            pvk: ark_groth16::prepare_verifying_key(&vk),
            path: None,
            _lock: None,
            clock_offset_s: 0,
        }
    }

    /// The L1's time: unix seconds, plus what [`L1Contract::advance_clock`] added.
    pub fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .saturating_add(self.clock_offset_s)
    }

    /// Sets how long a queued request may wait before exodus mode can be switched on: a
    /// deployment parameter, so only before the first request was queued (refused after, and
    /// when it is 0).
    pub fn set_priority_deadline(&mut self, seconds: u64) -> Result<(), String> {
        if seconds == self.state.priority_deadline_s {
            return Ok(());
        }
        if seconds == 0 {
            return Err("the priority deadline must be at least 1 second".into());
        }
        if self.state.next_request_id > 0 || !self.state.batches.is_empty() {
            return Err(format!(
                "this L1 was deployed with a priority deadline of {} s; it cannot change now",
                self.state.priority_deadline_s
            ));
        }
        let mut next = self.state.clone();
        next.priority_deadline_s = seconds;
        self.commit(next)
    }

    /// Moves the L1's clock forward (tests: a deadline passes without waiting for it).
    pub fn advance_clock(&mut self, seconds: u64) {
        self.clock_offset_s = self.clock_offset_s.saturating_add(seconds);
    }

    /// When the oldest pending request's deadline passes (unix seconds), if any request waits.
    pub fn oldest_deadline(&self) -> Option<u64> {
        let id = self.state.queue.front()?.id;
        let at = self.state.queued_at.get(&id).copied().unwrap_or(0);
        Some(at.saturating_add(self.state.priority_deadline_s))
    }

    /// Switches the L1 to exodus mode, as anyone may once the oldest queued request waited past
    /// its deadline: no batch is accepted any more, the deposits still queued are refunded to
    /// their payers, and every owner can withdraw its balance under the last verified root
    /// ([`L1Contract::exodus_withdraw`]).
    pub fn activate_exodus(&mut self) -> Result<(), ExodusError> {
        if self.state.exodus {
            return Err(ExodusError::AlreadyActive);
        }
        let now = self.now();
        match self.oldest_deadline() {
            Some(due) if now > due => {}
            due => return Err(ExodusError::NotOverdue { now, due }),
        }
        let mut next = self.state.clone();
        next.exodus = true;
        for q in std::mem::take(&mut next.queue) {
            if let PriorityOp::Deposit(d) = q.request {
                let b = next.l1_balances.entry(d.from).or_default();
                *b = b.checked_add(d.amount as u128).ok_or_else(|| {
                    ExodusError::Storage(format!("the L1 balance of {} would overflow", d.from))
                })?;
            }
        }
        next.queued_at.clear();
        self.commit(next).map_err(ExodusError::Storage)
    }

    /// In exodus mode: pays `account`'s balance to its owner, once, given the account's fields
    /// and its authentication path under the last verified root (`zkr reconstruct` rebuilds both
    /// from the L1's public data alone). Anyone may present it; the owner is paid.
    pub fn exodus_withdraw(
        &mut self,
        index: u64,
        account: &zkr_circuits::account::Account,
        siblings: Vec<Vec<Fr>>,
    ) -> Result<(L1Address, u64), ExodusError> {
        if !self.state.exodus {
            return Err(ExodusError::NotActive);
        }
        if self.state.exited.contains(&index) {
            return Err(ExodusError::AlreadyExited(index));
        }
        let levels = zkr_circuits::merkle::level_bits(self.state.params.depth);
        let shape_ok = index < self.state.params.capacity()
            && siblings.len() == levels.len()
            && siblings
                .iter()
                .zip(&levels)
                .all(|(s, bits)| s.len() == (1usize << bits) - 1);
        let proof = zkr_circuits::merkle::MerkleProof { index, siblings };
        if !shape_ok || !proof.verify(self.state.state_root, account.leaf().hash()) {
            return Err(ExodusError::BadProof(index));
        }
        let mut next = self.state.clone();
        next.exited.insert(index);
        let b = next.l1_balances.entry(account.owner).or_default();
        *b = b.checked_add(account.balance as u128).ok_or_else(|| {
            ExodusError::Storage(format!(
                "the L1 balance of {} would overflow",
                account.owner
            ))
        })?;
        self.commit(next).map_err(ExodusError::Storage)?;
        Ok((account.owner, account.balance))
    }

    /// Opens the contract persisted at `path`, or deploys it there. The stored state must be for
    /// the same verifying key and circuit (and for `operator`, when given), and no other process
    /// may have it open: an exclusive advisory lock on `path` + `.lock` is held until the
    /// contract is dropped ([`L1Error::InUse`] otherwise).
    ///
    /// A new deployment needs `operator`, the operator's L2 key and L1 address (account 0's key
    /// and owner from genesis), and draws its chain id from the operating system's randomness,
    /// so no two deployments share one and a signature made for one is refused by every other.
    pub fn open(
        path: &Path,
        params: CircuitParams,
        vk: VerifyingKey,
        operator: Option<(PublicKey, L1Address)>,
    ) -> Result<Self, L1Error> {
        let lock = lock_beside(path)?;
        let key_json = |(k, a): &(PublicKey, L1Address)| {
            format!("{} ({a})", serde_json::to_string(k).unwrap_or_default())
        };
        let mut c = match fs::read(path) {
            Ok(bytes) => {
                let state: L1State =
                    serde_json::from_slice(&bytes).map_err(|e| L1Error::Corrupt {
                        path: path.into(),
                        reason: e.to_string(),
                    })?;
                state.check().map_err(|reason| L1Error::Corrupt {
                    path: path.into(),
                    reason,
                })?;
                let digest = vk_digest(&vk);
                if state.vk_digest != digest || state.params != params {
                    return Err(L1Error::KeyMismatch {
                        path: path.into(),
                        reason: format!(
                            "stored {:?} with key {}, opened with {:?} and key {}",
                            state.params, state.vk_digest, params, digest
                        ),
                    });
                }
                let stored = (state.genesis.operator, state.genesis.operator_l1);
                if let Some(given) = operator.filter(|o| *o != stored) {
                    return Err(L1Error::OperatorMismatch {
                        path: path.into(),
                        stored: key_json(&stored),
                        given: key_json(&given),
                    });
                }
                let mut c = Self::new(params, vk, state.genesis);
                c.state = state;
                c.path = Some(path.to_path_buf());
                c
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some((operator, operator_l1)) = operator else {
                    return Err(L1Error::NoOperator { path: path.into() });
                };
                let genesis = Genesis {
                    chain_id: random_chain_id()?,
                    operator,
                    operator_l1,
                };
                let mut c = Self::new(params, vk, genesis);
                c.path = Some(path.to_path_buf());
                c.persist(&c.state).map_err(|e| L1Error::Io {
                    path: path.into(),
                    source: std::io::Error::other(e),
                })?;
                c
            }
            Err(source) => {
                return Err(L1Error::Io {
                    path: path.into(),
                    source,
                })
            }
        };
        c._lock = Some(lock);
        Ok(c)
    }

    /// The whole state (read-only).
    pub fn state(&self) -> &L1State {
        &self.state
    }

    /// This deployment's chain id and operator.
    pub fn genesis(&self) -> &Genesis {
        &self.state.genesis
    }

    /// The root the rollup started from ([`State::genesis`]).
    pub fn genesis_root(&self) -> Fr {
        State::genesis(self.state.params, &self.state.genesis).root()
    }

    /// The current root.
    pub fn state_root(&self) -> Fr {
        self.state.state_root
    }

    /// The L1 balance of an address.
    pub fn balance(&self, a: &L1Address) -> u128 {
        self.state.l1_balances.get(a).copied().unwrap_or(0)
    }

    /// Credits L1 funds to an address (the local L1's genesis allocation, for demos and tests).
    pub fn mint(&mut self, to: L1Address, amount: u64) -> Result<(), DepositError> {
        let mut next = self.state.clone();
        let b = next.l1_balances.entry(to).or_default();
        // Only a tampered state file can hold a balance this close to u128::MAX.
        *b = b.checked_add(amount as u128).ok_or_else(|| {
            DepositError::Storage(format!("the L1 balance of {to} would overflow"))
        })?;
        self.commit(next).map_err(DepositError::Storage)
    }

    /// Queues a deposit paid from `from`'s L1 balance; returns its id.
    pub fn deposit(
        &mut self,
        from: L1Address,
        pubkey: PublicKey,
        amount: u64,
    ) -> Result<u64, DepositError> {
        if amount == 0 {
            return Err(DepositError::ZeroAmount);
        }
        let balance = self.balance(&from);
        if balance < amount as u128 {
            return Err(DepositError::InsufficientL1Balance {
                from,
                balance,
                amount,
            });
        }
        if self.state.exodus {
            return Err(DepositError::Exodus);
        }
        let now = self.now();
        let mut next = self.state.clone();
        *next.l1_balances.get_mut(&from).expect("checked above") -= amount as u128;
        let id = next
            .push_request(
                PriorityOp::Deposit(Deposit {
                    pubkey,
                    amount,
                    from,
                }),
                now,
            )
            .map_err(DepositError::Storage)?;
        self.commit(next).map_err(DepositError::Storage)?;
        Ok(id)
    }

    /// Queues a full exit of account `account` for `requester`; returns its id. The batch that
    /// consumes it pays the account's whole balance to `requester` if `requester` owns the
    /// account, and nothing otherwise. Anyone may queue one: it needs no operator.
    ///
    /// The local L1 does not authenticate L1 addresses (neither here nor for deposits): whoever
    /// can reach it can queue in anyone's name. That can only pay an owner its own balance, on
    /// L1; on an EVM chain the requester is the transaction's sender.
    pub fn request_full_exit(
        &mut self,
        requester: L1Address,
        account: u64,
    ) -> Result<u64, FullExitError> {
        let capacity = self.state.params.capacity();
        if account >= capacity {
            return Err(FullExitError::NoSuchAccount { account, capacity });
        }
        if self.state.exodus {
            return Err(FullExitError::Exodus);
        }
        let now = self.now();
        let mut next = self.state.clone();
        let id = next
            .push_request(PriorityOp::FullExit(FullExit { account, requester }), now)
            .map_err(FullExitError::Storage)?;
        self.commit(next).map_err(FullExitError::Storage)?;
        Ok(id)
    }

    /// Checks a submission against the acceptance rule and, if it passes, applies it atomically.
    pub fn submit_batch(&mut self, s: &BatchSubmission) -> Result<BatchReceipt, Rejection> {
        if self.state.exodus {
            return Err(Rejection::Exodus);
        }
        let expected = self.state.batches.len() as u64 + 1;
        if s.number < expected {
            return Err(Rejection::Replayed {
                expected,
                got: s.number,
            });
        }
        if s.number > expected {
            return Err(Rejection::OutOfOrder {
                expected,
                got: s.number,
            });
        }
        let canonical = |field: &'static str, v: &str| {
            fr_from_decimal(v).map_err(|e| Rejection::NonCanonicalInput {
                field,
                reason: e.to_string(),
            })
        };
        let old_root = canonical("old_root", &s.old_root)?;
        let new_root = canonical("new_root", &s.new_root)?;
        if old_root != self.state.state_root {
            return Err(Rejection::WrongOldRoot {
                expected: fr_to_decimal(&self.state.state_root),
                got: s.old_root.clone(),
            });
        }
        let data = hex::decode(&s.public_data)
            .map_err(|e| Rejection::MalformedPublicData(e.to_string()))?;
        let slots =
            decode_public_data(&data).map_err(|e| Rejection::MalformedPublicData(e.to_string()))?;
        if slots.len() != self.state.params.batch_size {
            return Err(Rejection::MalformedPublicData(format!(
                "{} slots, the circuit has {}",
                slots.len(),
                self.state.params.batch_size
            )));
        }

        let consumed = consumed_requests(&self.state.queue, &slots)?;

        let proof = s.proof.to_proof()?;
        // The inputs the proof must verify for, recomputed from the L1's own root and the
        // public data (whose deposit slots were just checked against the queue).
        let public =
            PublicInputs::from_public_data(self.state.genesis.chain_id, old_root, new_root, &slots);
        if !verify_proof(&self.pvk, &proof, &public.to_vec()) {
            return Err(Rejection::BadProof);
        }

        // Accepted: build the next state, persist it, then swap it in.
        let withdrawals = l1_payouts(&slots);
        let mut next = self.state.clone();
        next.state_root = new_root;
        for q in &consumed {
            next.queue.pop_front();
            next.queued_at.remove(&q.id);
        }
        for (a, amount) in &withdrawals {
            let b = next.l1_balances.entry(*a).or_default();
            // Only a tampered state file can hold a balance this close to u128::MAX.
            *b = b.checked_add(*amount as u128).ok_or_else(|| {
                Rejection::Storage(format!("the L1 balance of {a} would overflow"))
            })?;
        }
        next.batches.push(AcceptedBatch {
            number: s.number,
            old_root,
            new_root,
            public_data: s.public_data.to_lowercase(),
            requests: consumed.clone(),
            withdrawals: withdrawals.clone(),
        });
        self.commit(next).map_err(Rejection::Storage)?;
        Ok(BatchReceipt {
            number: s.number,
            new_root,
            requests_consumed: consumed.len(),
            withdrawals,
        })
    }

    fn commit(&mut self, next: L1State) -> Result<(), String> {
        self.persist(&next)?;
        self.state = next;
        Ok(())
    }

    /// Writes `state` atomically: temporary file, fsync, rename, fsync of the directory.
    fn persist(&self, state: &L1State) -> Result<(), String> {
        write_atomically(self.path.as_deref(), state)
    }
}

/// The requests a batch's deposit and full-exit slots consume: exactly the next ones of
/// `queue`, in order (a deposit with the queued key, amount and payer, a full exit with the
/// queued account and requester), or [`Rejection::QueueMismatch`].
pub(crate) fn consumed_requests(
    queue: &VecDeque<QueuedRequest>,
    slots: &[SlotData],
) -> Result<Vec<QueuedRequest>, Rejection> {
    let claimed: Vec<_> = slots
        .iter()
        .filter(|d| matches!(d.tx_type, TxType::Deposit | TxType::FullExit))
        .collect();
    if claimed.len() > queue.len() {
        return Err(Rejection::QueueMismatch(format!(
            "batch consumes {} requests, the queue holds {}",
            claimed.len(),
            queue.len()
        )));
    }
    let consumed: Vec<QueuedRequest> = queue.iter().take(claimed.len()).copied().collect();
    for (i, (slot, q)) in claimed.iter().zip(&consumed).enumerate() {
        let matches = match (&q.request, slot.tx_type) {
            (PriorityOp::Deposit(d), TxType::Deposit) => {
                slot.aux_x == d.pubkey.x()
                    && slot.aux_y == d.pubkey.y()
                    && slot.amount == d.amount
                    && slot.requester == d.from.to_field()
            }
            // The amount is the circuit's to decide: the owner's whole balance, or 0.
            (PriorityOp::FullExit(f), TxType::FullExit) => {
                slot.from == f.account && slot.requester == f.requester.to_field()
            }
            _ => false,
        };
        if !matches {
            return Err(Rejection::QueueMismatch(format!(
                "request {i} of the batch is not queued request #{}",
                q.id
            )));
        }
    }
    Ok(consumed)
}

/// What a batch's slots pay on L1: each withdrawal to its address, each full exit that paid to
/// its requester.
pub(crate) fn l1_payouts(slots: &[SlotData]) -> Vec<(L1Address, u64)> {
    slots
        .iter()
        .filter_map(|d| {
            let paid = match d.tx_type {
                TxType::Withdraw => d.aux_x,
                TxType::FullExit if d.amount > 0 => d.requester,
                _ => return None,
            };
            let a = L1Address::from_field(&paid)
                .expect("canonical withdraw and full-exit slots have 160-bit addresses");
            Some((a, d.amount))
        })
        .collect()
}

/// Takes an exclusive advisory lock on `path` + `.lock` (released by the operating system when
/// the process ends, even by `kill -9`): [`L1Error::InUse`] when another holder has it.
pub(crate) fn lock_beside(path: &Path) -> Result<fs::File, L1Error> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| L1Error::Io {
            path: lock_path.clone(),
            source,
        })?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(L1Error::InUse {
            path: path.into(),
            lock: lock_path,
        }),
        Err(fs::TryLockError::Error(source)) => Err(L1Error::Io {
            path: lock_path,
            source,
        }),
    }
}

/// Writes `value` as JSON to `path` atomically (temporary file, fsync, rename, fsync of the
/// directory); nothing when `path` is `None` (in memory).
pub(crate) fn write_atomically<T: Serialize>(path: Option<&Path>, value: &T) -> Result<(), String> {
    let Some(path) = path else {
        return Ok(());
    };
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}

/// A chain id for a new deployment, from the operating system's randomness.
pub(crate) fn random_chain_id() -> Result<u64, L1Error> {
    let mut entropy = [0u8; 8];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut entropy))
        .map_err(|source| L1Error::Io {
            path: "/dev/urandom".into(),
            source,
        })?;
    Ok(u64::from_le_bytes(entropy))
}

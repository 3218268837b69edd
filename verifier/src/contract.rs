//! The L1 contract: state, deposits, and the batch acceptance rule.

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
use zkr_circuits::merkle::SparseMerkleTree;
use zkr_circuits::public::PublicInputs;
use zkr_circuits::tx::{
    decode_public_data, encode_public_data, Deposit, L1Address, SlotData, TxType,
};
use zkr_circuits::{CircuitParams, Fr};

/// A deposit waiting in the L1 queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedDeposit {
    /// Sequence number in the queue (from 0, never reused).
    pub id: u64,
    /// The L1 account that paid.
    pub from: L1Address,
    /// The L2 key to credit, and the amount.
    #[serde(flatten)]
    pub deposit: Deposit,
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
    /// Deposits the batch consumed.
    pub deposits: Vec<QueuedDeposit>,
    /// Withdrawals credited on L1.
    pub withdrawals: Vec<(L1Address, u64)>,
}

/// Everything the L1 holds. Persisted as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1State {
    /// Circuit the verifying key is for.
    pub params: CircuitParams,
    /// SHA-256 of the verifying key (binds the state to one key).
    pub vk_digest: String,
    /// The current state root.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub state_root: Fr,
    /// Accepted batches, in order.
    pub batches: Vec<AcceptedBatch>,
    /// Deposits not yet consumed, oldest first.
    pub deposit_queue: VecDeque<QueuedDeposit>,
    /// Next deposit id.
    pub next_deposit_id: u64,
    /// L1 balances (deposits are paid from them, withdrawals credited to them).
    pub l1_balances: BTreeMap<L1Address, u128>,
}

impl L1State {
    /// Checks what a state read from a file must satisfy to be one this contract wrote: valid
    /// parameters, batches numbered 1, 2, … whose roots chain from the empty tree's to the
    /// current root, with hex public data, and a deposit queue in id order below the next id.
    pub fn check(&self) -> Result<(), String> {
        self.params.validate().map_err(|e| e.to_string())?;
        let mut root = SparseMerkleTree::new(self.params.depth).empty_root();
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
        for d in &self.deposit_queue {
            if next.is_some_and(|n| d.id < n) || d.id >= self.next_deposit_id {
                return Err(format!(
                    "queued deposit #{} is out of order (next id {})",
                    d.id, self.next_deposit_id
                ));
            }
            next = Some(d.id + 1);
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
    /// The deposits the batch consumes are not the next ones in the queue.
    #[error("deposits do not match the L1 queue: {0}")]
    DepositsMismatch(String),
    /// The proof is malformed (non-canonical coordinate, off-curve or non-subgroup point).
    #[error("malformed proof: {0}")]
    MalformedProof(#[from] FormatError),
    /// The proof does not verify for the recomputed public input.
    #[error("the Groth16 proof does not verify for this transition")]
    BadProof,
    /// The new state could not be persisted; nothing changed.
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
    /// Deposits consumed.
    pub deposits_consumed: usize,
    /// Withdrawals credited.
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
}

/// SHA-256 of a verifying key's canonical encoding, hex.
pub fn vk_digest(vk: &VerifyingKey) -> String {
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes)
        .expect("serializing to memory");
    hex::encode(Sha256::digest(&bytes))
}

impl L1Contract {
    /// A fresh in-memory contract at the empty tree's root.
    pub fn new(params: CircuitParams, vk: VerifyingKey) -> Self {
        let state = L1State {
            params,
            vk_digest: vk_digest(&vk),
            state_root: SparseMerkleTree::new(params.depth).empty_root(),
            batches: Vec::new(),
            deposit_queue: VecDeque::new(),
            next_deposit_id: 0,
            l1_balances: BTreeMap::new(),
        };
        Self {
            state,
            pvk: ark_groth16::prepare_verifying_key(&vk),
            path: None,
            _lock: None,
        }
    }

    /// Opens the contract persisted at `path`, or creates it there. The stored state must be for
    /// the same verifying key and circuit, and no other process may have it open: an exclusive
    /// advisory lock on `path` + `.lock` is held until the contract is dropped
    /// ([`L1Error::InUse`] otherwise).
    pub fn open(path: &Path, params: CircuitParams, vk: VerifyingKey) -> Result<Self, L1Error> {
        let mut c = Self::new(params, vk);
        c.path = Some(path.to_path_buf());
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
            Ok(()) => c._lock = Some(lock),
            Err(fs::TryLockError::WouldBlock) => {
                return Err(L1Error::InUse {
                    path: path.into(),
                    lock: lock_path,
                })
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(L1Error::Io {
                    path: lock_path,
                    source,
                })
            }
        }
        match fs::read(path) {
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
                if state.vk_digest != c.state.vk_digest || state.params != params {
                    return Err(L1Error::KeyMismatch {
                        path: path.into(),
                        reason: format!(
                            "stored {:?} with key {}, opened with {:?} and key {}",
                            state.params, state.vk_digest, params, c.state.vk_digest
                        ),
                    });
                }
                c.state = state;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                c.persist(&c.state).map_err(|e| L1Error::Io {
                    path: path.into(),
                    source: std::io::Error::other(e),
                })?;
            }
            Err(source) => {
                return Err(L1Error::Io {
                    path: path.into(),
                    source,
                })
            }
        }
        Ok(c)
    }

    /// The whole state (read-only).
    pub fn state(&self) -> &L1State {
        &self.state
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
        let mut next = self.state.clone();
        *next.l1_balances.get_mut(&from).expect("checked above") -= amount as u128;
        let id = next.next_deposit_id;
        next.next_deposit_id = id
            .checked_add(1)
            .ok_or_else(|| DepositError::Storage("deposit ids are exhausted".into()))?;
        next.deposit_queue.push_back(QueuedDeposit {
            id,
            from,
            deposit: Deposit { pubkey, amount },
        });
        self.commit(next).map_err(DepositError::Storage)?;
        Ok(id)
    }

    /// Checks a submission against the acceptance rule and, if it passes, applies it atomically.
    pub fn submit_batch(&mut self, s: &BatchSubmission) -> Result<BatchReceipt, Rejection> {
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

        // The deposits must be the next ones in the queue, in order.
        let claimed: Vec<_> = slots
            .iter()
            .filter(|d| d.tx_type == TxType::Deposit)
            .collect();
        if claimed.len() > self.state.deposit_queue.len() {
            return Err(Rejection::DepositsMismatch(format!(
                "batch consumes {} deposits, the queue holds {}",
                claimed.len(),
                self.state.deposit_queue.len()
            )));
        }
        let consumed: Vec<QueuedDeposit> = self
            .state
            .deposit_queue
            .iter()
            .take(claimed.len())
            .copied()
            .collect();
        for (i, (slot, q)) in claimed.iter().zip(&consumed).enumerate() {
            let d = &q.deposit;
            if slot.aux_x != d.pubkey.x() || slot.aux_y != d.pubkey.y() || slot.amount != d.amount {
                return Err(Rejection::DepositsMismatch(format!(
                    "deposit {i} of the batch is not queued deposit #{}",
                    q.id
                )));
            }
        }

        let proof = s.proof.to_proof()?;
        // The inputs the proof must verify for, recomputed from the L1's own root and the
        // public data (whose deposit slots were just checked against the queue).
        let public = PublicInputs::from_public_data(old_root, new_root, &slots);
        if !verify_proof(&self.pvk, &proof, &public.to_vec()) {
            return Err(Rejection::BadProof);
        }

        // Accepted: build the next state, persist it, then swap it in.
        let withdrawals: Vec<(L1Address, u64)> = slots
            .iter()
            .filter(|d| d.tx_type == TxType::Withdraw)
            .map(|d| {
                let a = L1Address::from_field(&d.aux_x)
                    .expect("canonical withdraw slots have 160-bit addresses");
                (a, d.amount)
            })
            .collect();
        let mut next = self.state.clone();
        next.state_root = new_root;
        for _ in &consumed {
            next.deposit_queue.pop_front();
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
            deposits: consumed.clone(),
            withdrawals: withdrawals.clone(),
        });
        self.commit(next).map_err(Rejection::Storage)?;
        Ok(BatchReceipt {
            number: s.number,
            new_root,
            deposits_consumed: consumed.len(),
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
        let Some(path) = &self.path else {
            return Ok(());
        };
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?)?;
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
}

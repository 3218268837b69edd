//! The node's state machine: mempool, sequencer, proof bookkeeping and settlement.
//!
//! [`Core`] holds the L2 state after the last sealed batch, the mempool, the witnesses of the
//! batches waiting for a proof and the L1 deposits seen but not yet included. Every method that
//! changes something writes it to the [`Store`] first (one atomic write) and only then changes
//! memory, so a crash at any point restarts from a consistent database. It does no I/O besides
//! the database: the service ([`super::service`]) talks to the L1 and the prover pool and calls
//! in here under one lock.
//!
//! ## Proof jobs and leases
//!
//! Every sealed batch without a proof is a job in one queue, oldest first. Local prover threads
//! take jobs with [`Core::take_jobs`]; remote provers (`zkr prover`) take them over HTTP with
//! [`Core::lease_job`], which hands out a lease: an unguessable id, valid for
//! [`SequencerConfig::lease`] and renewable ([`Core::renew_lease`]). A job is held by at most one
//! live lease or local thread at a time. A lease whose deadline passed is expired and its job is
//! queued again (expiry is checked whenever the queue is looked at). An uploaded proof
//! ([`Core::upload_proof`]) is verified against the batch's own public input before it is
//! stored, through the same write as a local proof; a refused upload from the job's current
//! lease gives the job back to the queue. A proof that verifies is accepted under any lease
//! this node issued for that batch, expired or not, as long as the batch is not proven yet:
//! the first valid proof wins, and later uploads are answered `already_proven`. Leases live in
//! memory only: after a restart every unproven batch is queued again and old lease ids are
//! unknown.

use super::store::{
    be, cf, BatchRecord, BatchStage, Meta, ProofJob, Store, StoreError, TxRecord, TxStatus,
};
use ark_groth16::PreparedVerifyingKey;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zkr_circuits::account::Account;
use zkr_circuits::field::{fr_to_bytes, fr_to_decimal};
use zkr_circuits::params::{CircuitParams, OPERATOR_INDEX};
use zkr_circuits::state::{State, TransitionError};
use zkr_circuits::tx::{
    decode_public_data, encode_public_data, PriorityOp, Transfer, Tx, Withdraw,
};
use zkr_circuits::witness::BatchWitness;
use zkr_circuits::{Fr, Genesis};
use zkr_prover::keys::OsRng;
use zkr_verifier::contract::vk_digest;
use zkr_verifier::snarkjs::ProofJson;
use zkr_verifier::{AcceptedBatch, BatchSubmission, Curve, QueuedRequest, VerifyingKey};

/// Tunables of the sequencer.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    /// A partial batch is sealed (padded with noops) when its oldest item waited this long.
    pub batch_timeout: Duration,
    /// Most transactions the mempool holds.
    pub mempool_max: usize,
    /// How long a remote prover's lease on a proof job lasts (renewable).
    pub lease: Duration,
}

/// How many issued leases the node remembers (live ones always; finished or expired ones, so
/// that a late upload gets a precise answer, until this many were issued after them).
const REMEMBERED_LEASES: usize = 1024;

/// Why the node cannot go on (it stops sealing, proving and settling, and says why).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database was made for another L1 deployment (chain id or operator).
    #[error("the node database was made for the rollup deployment {stored}, but the L1 is the deployment {l1}")]
    GenesisMismatch {
        /// The deployment in the database (JSON).
        stored: String,
        /// The L1's deployment (JSON).
        l1: String,
    },
    /// The L1's genesis root is not the root of its genesis (chain id and operator).
    #[error("the L1 says it started at root {claimed}, but its operator's genesis state has root {computed}")]
    GenesisRoot {
        /// The L1's word.
        claimed: String,
        /// `State::genesis(params, genesis).root()`.
        computed: String,
    },
    /// The database was made for another circuit.
    #[error("the node database was created for {stored:?}, but the keys are for {keys:?}")]
    ParamsMismatch {
        /// Parameters in the database.
        stored: CircuitParams,
        /// Parameters of the keys.
        keys: CircuitParams,
    },
    /// The database disagrees with itself (damaged, or edited by hand).
    #[error("the node database is inconsistent: {0}")]
    Inconsistent(String),
    /// The L1's view disagrees with this node's.
    #[error("the L1 disagrees with this node: {0}")]
    L1Mismatch(String),
    /// The sequencer could not execute deposits the L1 queued (the rollup cannot go on).
    #[error("the sequencer cannot execute the L1's deposits: {0}")]
    Sequencer(TransitionError),
}

/// Why a transaction was refused at submission. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Only transfers and withdrawals are submitted to the node.
    #[error("only transfers and withdrawals are accepted here; deposits and full exits go through the L1 queue")]
    UnsupportedType,
    /// The same transaction (same signed message) was accepted before.
    #[error("transaction {0} was already accepted")]
    Duplicate(String),
    /// No account at this index.
    #[error("unknown account {0}")]
    UnknownAccount(u64),
    /// The signature does not verify under the sender's key.
    #[error("bad signature for account {0}")]
    BadSignature(u64),
    /// The nonce was used already.
    #[error("stale nonce for account {index}: next is {expected}, got {got}")]
    StaleNonce {
        /// Sender.
        index: u64,
        /// Next nonce (counting pending transactions).
        expected: u64,
        /// Given nonce.
        got: u32,
    },
    /// The nonce leaves a gap.
    #[error("future nonce for account {index}: next is {expected}, got {got}")]
    FutureNonce {
        /// Sender.
        index: u64,
        /// Next nonce (counting pending transactions).
        expected: u64,
        /// Given nonce.
        got: u32,
    },
    /// Balance minus pending spending does not cover amount + fee.
    #[error("insufficient balance in account {index}: {available} available after pending transactions, {needed} needed")]
    InsufficientBalance {
        /// Sender.
        index: u64,
        /// Balance minus pending debits.
        available: u128,
        /// amount + fee.
        needed: u128,
    },
    /// The mempool is at its size bound.
    #[error("the mempool is full ({0} transactions); try again later")]
    MempoolFull(usize),
    /// The node stopped.
    #[error("the node has stopped: {0}")]
    Halted(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SubmitError {
    /// HTTP status and a stable machine name.
    pub fn status_and_kind(&self) -> (u16, &'static str) {
        match self {
            SubmitError::UnsupportedType => (422, "unsupported_type"),
            SubmitError::Duplicate(_) => (409, "duplicate"),
            SubmitError::UnknownAccount(_) => (422, "unknown_account"),
            SubmitError::BadSignature(_) => (422, "bad_signature"),
            SubmitError::StaleNonce { .. } => (422, "stale_nonce"),
            SubmitError::FutureNonce { .. } => (422, "future_nonce"),
            SubmitError::InsufficientBalance { .. } => (422, "insufficient_balance"),
            SubmitError::MempoolFull(_) => (429, "mempool_full"),
            SubmitError::Halted(_) => (503, "halted"),
            SubmitError::Store(_) => (500, "storage"),
        }
    }
}

/// Why a remote prover's request about a proof job was refused. Nothing was stored; where the
/// refused request came from the job's current lease, the job is queued again.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The node stopped.
    #[error("the node has stopped: {0}")]
    Halted(String),
    /// The worker's keys are not the node's.
    #[error("this node proves with verifying key {node}, the worker has {worker}")]
    WrongKeys {
        /// The node's key fingerprint.
        node: String,
        /// The worker's.
        worker: String,
    },
    /// The lease id was never issued by this node (or is long forgotten, or the node restarted).
    #[error("unknown lease {0}")]
    UnknownLease(String),
    /// The lease is for another batch than the upload names.
    #[error("lease {lease} is for batch {leased}, not batch {got}")]
    WrongBatch {
        /// The lease id.
        lease: String,
        /// The batch it was issued for.
        leased: u64,
        /// The batch the request names.
        got: u64,
    },
    /// Someone's proof for the batch was accepted already (the first valid proof wins).
    #[error("batch {0} is proven already")]
    AlreadyProven(u64),
    /// The lease expired (renewal refused); the job was queued again.
    #[error("lease {0} expired; its job is queued again (a valid proof is still accepted while the batch is unproven)")]
    Expired(String),
    /// The proof does not decode (shape, tags, a point off the curve or outside the subgroup).
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The proof decodes but does not verify for the batch's public input.
    #[error("the proof does not verify for batch {0}'s public input")]
    InvalidProof(u64),
    /// Storing an accepted proof failed.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl LeaseError {
    /// HTTP status and a stable machine name.
    pub fn status_and_kind(&self) -> (u16, &'static str) {
        match self {
            LeaseError::Halted(_) => (503, "halted"),
            LeaseError::WrongKeys { .. } => (409, "wrong_keys"),
            LeaseError::UnknownLease(_) => (404, "unknown_lease"),
            LeaseError::WrongBatch { .. } => (409, "wrong_batch"),
            LeaseError::AlreadyProven(_) => (409, "already_proven"),
            LeaseError::Expired(_) => (410, "lease_expired"),
            LeaseError::MalformedProof(_) => (422, "malformed_proof"),
            LeaseError::InvalidProof(_) => (422, "invalid_proof"),
            LeaseError::Node(_) => (500, "storage"),
        }
    }
}

/// A transaction's id: the hash its sender signed (the Poseidon message), 32 bytes big-endian.
pub fn tx_hash(tx: &Tx, chain_id: u64) -> Option<[u8; 32]> {
    let msg = match tx {
        Tx::Transfer(t) => t.message(chain_id),
        Tx::Withdraw(w) => w.message(chain_id),
        Tx::Deposit(_) | Tx::FullExit(_) | Tx::Noop => return None,
    };
    let mut b = fr_to_bytes(&msg);
    b.reverse();
    Some(b)
}

/// `0x` + 64 hex digits.
pub fn hash_hex(h: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(h))
}

/// Parses `0x` + 64 hex digits.
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(s.strip_prefix("0x")?).ok()?;
    bytes.try_into().ok()
}

/// Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The slot a transition error names, if any.
fn failed_slot(e: &TransitionError) -> Option<usize> {
    use TransitionError as E;
    match e {
        E::IndexOutOfRange { slot, .. }
        | E::UnknownAccount { slot, .. }
        | E::BadSignature { slot, .. }
        | E::BadNonce { slot, .. }
        | E::NonceOverflow { slot, .. }
        | E::InsufficientBalance { slot, .. }
        | E::FeeOverflow { slot }
        | E::PriorityOutOfOrder { slot, .. }
        | E::TreeFull { slot } => Some(*slot),
        E::BalanceOverflow { slot, .. } => Some(*slot),
        E::TooManyTransactions { .. } | E::OperatorMissing | E::Internal(_) => None,
    }
}

/// A transaction in the mempool.
struct Pending {
    record: TxRecord,
    hash: [u8; 32],
    since: Instant,
}

/// What a sealed batch looks like to the caller.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// Batch number.
    pub number: u64,
    /// Transactions in it (deposits included).
    pub txs: usize,
    /// Time to execute it and build its witness.
    pub execute: Duration,
}

/// A proof job handed to the prover pool.
pub struct Job {
    /// Batch number.
    pub number: u64,
    /// Its witness.
    pub witness: BatchWitness,
}

/// A proof job leased to a remote prover.
pub struct LeasedJob {
    /// Batch number.
    pub number: u64,
    /// The lease id (128 random bits, hex): the worker's proof of the lease.
    pub lease_id: String,
    /// How long the lease lasts from now.
    pub lease: Duration,
    /// Unix ms when it expires unless renewed.
    pub deadline_unix_ms: u64,
    /// The public inputs the proof must verify against (see `zkr_circuits::public`).
    pub public_inputs: Vec<Fr>,
    /// The witness.
    pub witness: BatchWitness,
}

/// Who holds a job now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Holder {
    /// A prover thread of this node.
    Local,
    /// A remote prover, by lease id.
    Remote(String),
}

/// A lease this node issued.
struct Lease {
    batch: u64,
    worker: String,
    deadline: Instant,
    seq: u64,
}

/// One job in [`Core::jobs`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobView {
    /// Batch number.
    pub batch: u64,
    /// `queued`, `local` (a prover thread of this node) or `leased`.
    pub state: &'static str,
    /// The remote worker's name, when leased.
    pub worker: Option<String>,
    /// Milliseconds until the lease expires, when leased.
    pub expires_in_ms: Option<u64>,
}

/// A new random lease id: 16 bytes from the operating system, hex.
fn new_lease_id() -> String {
    use ark_std::rand::RngCore;
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The node's state machine (see the module docs).
pub struct Core {
    store: Store,
    params: CircuitParams,
    genesis: Genesis,
    genesis_root: Fr,
    state: State,
    mempool: BTreeMap<u64, Pending>,
    /// Per sender: pending transaction count and pending debit (amount + fee).
    pending: HashMap<u64, (u64, u128)>,
    witnesses: BTreeMap<u64, BatchWitness>,
    /// Who proves each job being proven (batch → holder).
    holders: HashMap<u64, Holder>,
    /// Leases issued (live, expired and finished), by id.
    leases: HashMap<String, Lease>,
    next_lease_seq: u64,
    pvk: PreparedVerifyingKey<Curve>,
    key_fingerprint: String,
    requests: VecDeque<(QueuedRequest, Instant)>,
    last_batch: u64,
    last_final: u64,
    next_request_id: u64,
    next_seq: u64,
    config: SequencerConfig,
    halted: Option<String>,
}

/// Checks the root an L1 says it started from against its deployment: the genesis state of
/// `genesis` (the operator's account 0 alone) must have exactly that root.
pub fn check_genesis_root(
    params: CircuitParams,
    genesis: &Genesis,
    claimed: Fr,
) -> Result<(), NodeError> {
    let computed = State::genesis(params, genesis).root();
    if computed != claimed {
        return Err(NodeError::GenesisRoot {
            claimed: fr_to_decimal(&claimed),
            computed: fr_to_decimal(&computed),
        });
    }
    Ok(())
}

impl Core {
    /// Opens the node's database for `params`: creates it, or rebuilds the state by replaying
    /// every sealed batch and checks it against the stored accounts and roots. Batches that
    /// were sealed but not proven get their witness back (their proof jobs are re-queued).
    /// Uploaded proofs are verified with `vk`.
    pub fn open(
        store: Store,
        params: CircuitParams,
        genesis: Genesis,
        config: SequencerConfig,
        vk: &VerifyingKey,
    ) -> Result<Self, NodeError> {
        match store.genesis()? {
            Some(stored) if stored != genesis => {
                let j = |g: &Genesis| serde_json::to_string(g).unwrap_or_default();
                return Err(NodeError::GenesisMismatch {
                    stored: j(&stored),
                    l1: j(&genesis),
                });
            }
            Some(_) => {}
            None => {
                // A new database starts from the genesis state: the operator's account 0.
                let mut wb = store.batch();
                wb.put(cf::META, Meta::GENESIS.as_bytes(), &genesis);
                wb.put(
                    cf::ACCOUNTS,
                    &be(OPERATOR_INDEX),
                    &genesis.operator_account(),
                );
                wb.commit()?;
            }
        }
        match store.params()? {
            Some(stored) if stored != params => {
                return Err(NodeError::ParamsMismatch {
                    stored,
                    keys: params,
                })
            }
            Some(_) => {}
            None => {
                let mut wb = store.batch();
                wb.put(cf::META, Meta::PARAMS.as_bytes(), &params);
                wb.commit()?;
            }
        }
        let last_batch = store.counter(Meta::LAST_BATCH)?;
        let last_final = store.counter(Meta::LAST_FINAL)?;
        let next_request_id = store.counter(Meta::NEXT_REQUEST_ID)?;
        let next_seq = store.counter(Meta::NEXT_SEQ)?;

        // Replay the sealed batches: from public data for proven ones, re-executing the
        // transactions (to get the witness back) for the ones still waiting for a proof.
        let genesis_state = State::genesis(params, &genesis);
        let genesis_root = genesis_state.root();
        let mut state = genesis_state;
        let mut witnesses = BTreeMap::new();
        for n in 1..=last_batch {
            let rec = store
                .batch_record(n)?
                .ok_or_else(|| NodeError::Inconsistent(format!("batch {n} is missing")))?;
            if rec.old_root != state.root() {
                return Err(NodeError::Inconsistent(format!(
                    "batch {n} starts from another root than batch {} ends with",
                    n - 1
                )));
            }
            let next = if rec.stage == BatchStage::Sealed {
                let requests: Vec<PriorityOp> =
                    rec.txs.iter().filter_map(Tx::priority_op).collect();
                let out = state.apply_batch(&rec.txs, &requests).map_err(|e| {
                    NodeError::Inconsistent(format!("batch {n} does not re-execute: {e}"))
                })?;
                witnesses.insert(n, out.witness);
                out.state
            } else {
                let bytes = hex::decode(&rec.public_data)
                    .map_err(|e| NodeError::Inconsistent(format!("batch {n}: {e}")))?;
                let slots = decode_public_data(&bytes)
                    .map_err(|e| NodeError::Inconsistent(format!("batch {n}: {e}")))?;
                state.replay(&slots).map_err(|e| {
                    NodeError::Inconsistent(format!("batch {n} does not replay: {e}"))
                })?
            };
            if next.root() != rec.new_root {
                return Err(NodeError::Inconsistent(format!(
                    "batch {n} re-executes to another root than recorded"
                )));
            }
            state = next;
        }
        let stored: BTreeMap<u64, Account> = store.accounts()?.into_iter().collect();
        if &stored != state.accounts() {
            return Err(NodeError::Inconsistent(
                "the stored accounts differ from the replayed batches".into(),
            ));
        }

        let mut core = Self {
            store,
            params,
            genesis,
            genesis_root,
            state,
            mempool: BTreeMap::new(),
            pending: HashMap::new(),
            witnesses,
            holders: HashMap::new(),
            leases: HashMap::new(),
            next_lease_seq: 0,
            pvk: ark_groth16::prepare_verifying_key(vk),
            key_fingerprint: vk_digest(vk),
            requests: VecDeque::new(),
            last_batch,
            last_final,
            next_request_id,
            next_seq,
            config,
            halted: None,
        };
        let now = Instant::now();
        for (k, hash_hex_str) in core.store.all::<String>(cf::MEMPOOL)? {
            let seq = u64::from_be_bytes(
                k.try_into()
                    .map_err(|_| NodeError::Inconsistent("mempool key".into()))?,
            );
            let hash = parse_hash(&hash_hex_str)
                .ok_or_else(|| NodeError::Inconsistent(format!("mempool entry {seq}")))?;
            let record = core.store.tx_record(&hash)?.ok_or_else(|| {
                NodeError::Inconsistent(format!("mempool entry {seq} has no record"))
            })?;
            core.mempool.insert(
                seq,
                Pending {
                    record,
                    hash,
                    since: now,
                },
            );
        }
        core.recount_pending();
        Ok(core)
    }

    /// Circuit parameters.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The circuit parameters.
    pub fn params(&self) -> CircuitParams {
        self.params
    }

    /// The state after the last sealed batch.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Last sealed, proven and final batch numbers (proven and final: every batch up to it).
    pub fn heights(&self) -> (u64, u64, u64) {
        // Proven = every batch up to the first one still waiting for its proof.
        let proven = self
            .witnesses
            .keys()
            .next()
            .map(|n| n - 1)
            .unwrap_or(self.last_batch);
        (self.last_batch, proven, self.last_final)
    }

    /// Transactions in the mempool.
    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    /// L1 requests (deposits and full exits) seen and not yet included.
    pub fn requests_waiting(&self) -> usize {
        self.requests.len()
    }

    /// Why the node stopped, if it did.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }

    /// Stops the node's work (reads keep being answered).
    pub fn halt(&mut self, reason: String) {
        tracing::error!(%reason, "node halted");
        self.halted = Some(reason);
    }

    /// The database (for reads).
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn recount_pending(&mut self) {
        self.pending.clear();
        for p in self.mempool.values() {
            let (from, debit) = match &p.record.tx {
                Tx::Transfer(t) => (t.from, t.amount as u128 + t.fee as u128),
                Tx::Withdraw(w) => (w.from, w.amount as u128 + w.fee as u128),
                _ => continue,
            };
            let e = self.pending.entry(from).or_default();
            e.0 += 1;
            e.1 += debit;
        }
    }

    /// The next nonce of an account and what it can still spend, counting pending
    /// transactions.
    pub fn pending_view(&self, index: u64) -> Option<(u64, u128)> {
        let a = self.state.account(index)?;
        let (count, debit) = self.pending.get(&index).copied().unwrap_or_default();
        Some((
            a.nonce as u64 + count,
            (a.balance as u128).saturating_sub(debit),
        ))
    }

    /// Validates a transaction against the state and the mempool, stores it (synced) and
    /// queues it. Returns its record.
    pub fn submit(&mut self, tx: Tx) -> Result<TxRecord, SubmitError> {
        if let Some(h) = &self.halted {
            return Err(SubmitError::Halted(h.clone()));
        }
        let chain = self.state.chain_id();
        let (from, to, amount, fee, nonce, msg, sig) = match &tx {
            Tx::Transfer(t) => (
                t.from,
                Some(t.to),
                t.amount,
                t.fee,
                t.nonce,
                t.message(chain),
                t.signature,
            ),
            Tx::Withdraw(w) => (
                w.from,
                None,
                w.amount,
                w.fee,
                w.nonce,
                w.message(chain),
                w.signature,
            ),
            Tx::Deposit(_) | Tx::FullExit(_) | Tx::Noop => {
                return Err(SubmitError::UnsupportedType)
            }
        };
        let hash = tx_hash(&tx, chain).expect("transfers and withdrawals have a hash");
        // The same signed transaction twice is a duplicate, unless the first was rejected (its
        // nonce is free again and signing is deterministic, so it may come back unchanged).
        if let Some(old) = self.store.tx_record(&hash)? {
            if !matches!(old.status, TxStatus::Rejected { .. }) {
                return Err(SubmitError::Duplicate(hash_hex(&hash)));
            }
        }
        let sender = *self
            .state
            .account(from)
            .ok_or(SubmitError::UnknownAccount(from))?;
        if let Some(to) = to {
            if self.state.account(to).is_none() {
                return Err(SubmitError::UnknownAccount(to));
            }
        }
        if !sender.pubkey.verify(msg, &sig) {
            return Err(SubmitError::BadSignature(from));
        }
        let (expected, available) = self.pending_view(from).expect("sender exists");
        if (nonce as u64) < expected {
            return Err(SubmitError::StaleNonce {
                index: from,
                expected,
                got: nonce,
            });
        }
        if nonce as u64 > expected {
            return Err(SubmitError::FutureNonce {
                index: from,
                expected,
                got: nonce,
            });
        }
        let needed = amount as u128 + fee as u128;
        if needed > available {
            return Err(SubmitError::InsufficientBalance {
                index: from,
                available,
                needed,
            });
        }
        if self.mempool.len() >= self.config.mempool_max {
            return Err(SubmitError::MempoolFull(self.mempool.len()));
        }

        let seq = self.next_seq;
        let record = TxRecord {
            hash: hash_hex(&hash),
            tx,
            seq,
            received_unix_ms: unix_ms(),
            status: TxStatus::Pending,
        };
        let mut wb = self.store.batch();
        wb.put(cf::TXS, &hash, &record);
        wb.put(cf::MEMPOOL, &be(seq), &record.hash);
        wb.counter(Meta::NEXT_SEQ, seq + 1);
        wb.commit()?;

        self.next_seq = seq + 1;
        let e = self.pending.entry(from).or_default();
        e.0 += 1;
        e.1 += needed;
        self.mempool.insert(
            seq,
            Pending {
                record: record.clone(),
                hash,
                since: Instant::now(),
            },
        );
        Ok(record)
    }

    /// The id of the first L1 request (deposit or full exit) this node does not hold yet (the
    /// next one it takes from the L1's queue).
    pub fn next_l1_request_id(&self) -> u64 {
        self.next_request_id + self.requests.len() as u64
    }

    /// Takes the L1's priority queue (oldest first) and remembers the requests this node has
    /// not included yet. The sequencer puts them first in the next batch, in queue order.
    pub fn observe_l1_queue(&mut self, queue: &[QueuedRequest]) {
        let now = Instant::now();
        for q in queue {
            let expected = self.next_request_id + self.requests.len() as u64;
            if q.id == expected {
                self.requests.push_back((*q, now));
            }
        }
    }

    /// Seals a batch if one is due: full, or its oldest item waited `batch_timeout`.
    /// Transactions the state transition refuses are marked rejected (with every later one of
    /// the same sender) and the batch is rebuilt without them.
    pub fn seal_if_due(&mut self, now: Instant) -> Result<Option<SealedBatch>, NodeError> {
        if self.halted.is_some() {
            return Ok(None);
        }
        let bs = self.params.batch_size;
        loop {
            let waiting = self.requests.len() + self.mempool.len();
            if waiting == 0 {
                return Ok(None);
            }
            let oldest = [
                self.requests.front().map(|d| d.1),
                self.mempool.values().next().map(|p| p.since),
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("something is waiting");
            if waiting < bs && now.duration_since(oldest) < self.config.batch_timeout {
                return Ok(None);
            }
            let t = Instant::now();
            let requests: Vec<QueuedRequest> = self.requests.iter().take(bs).map(|d| d.0).collect();
            let chosen: Vec<u64> = self
                .mempool
                .keys()
                .take(bs - requests.len())
                .copied()
                .collect();
            let mut txs: Vec<Tx> = requests.iter().map(|d| d.request.tx()).collect();
            txs.extend(chosen.iter().map(|s| self.mempool[s].record.tx));
            let queue: Vec<PriorityOp> = requests.iter().map(|d| d.request).collect();
            match self.state.apply_batch(&txs, &queue) {
                Ok(out) => {
                    let number = self.last_batch + 1;
                    self.commit_sealed(number, out, &requests, &chosen)?;
                    return Ok(Some(SealedBatch {
                        number,
                        txs: txs.len(),
                        execute: t.elapsed(),
                    }));
                }
                Err(e) => match failed_slot(&e).map(|s| s.checked_sub(requests.len())) {
                    // A transaction the transition refuses: reject it and rebuild.
                    Some(Some(k)) if k < chosen.len() => self.reject(chosen[k], &e)?,
                    // The fee credit after the last slot overflows the operator's balance:
                    // drop the last fee-paying transaction and rebuild.
                    Some(Some(_)) => {
                        let payer = chosen.iter().rev().copied().find(|s| {
                            matches!(
                                self.mempool[s].record.tx,
                                Tx::Transfer(Transfer { fee: 1.., .. })
                                    | Tx::Withdraw(Withdraw { fee: 1.., .. })
                            )
                        });
                        match payer {
                            Some(seq) => self.reject(seq, &e)?,
                            None => return Err(NodeError::Sequencer(e)),
                        }
                    }
                    // A deposit, or a batch-level error: the L1's queue cannot be skipped.
                    _ => return Err(NodeError::Sequencer(e)),
                },
            }
        }
    }

    /// Marks a pending transaction rejected, with every later pending one of its sender.
    fn reject(&mut self, seq: u64, e: &TransitionError) -> Result<(), NodeError> {
        let first = &self.mempool[&seq];
        let sender = match &first.record.tx {
            Tx::Transfer(t) => t.from,
            Tx::Withdraw(w) => w.from,
            _ => u64::MAX,
        };
        let first_hash = first.record.hash.clone();
        let mut doomed = vec![(seq, e.to_string())];
        for (s, p) in self.mempool.range(seq + 1..) {
            let from = match &p.record.tx {
                Tx::Transfer(t) => t.from,
                Tx::Withdraw(w) => w.from,
                _ => continue,
            };
            if from == sender {
                doomed.push((
                    *s,
                    format!(
                        "an earlier transaction of account {sender} ({first_hash}) was rejected"
                    ),
                ));
            }
        }
        let mut wb = self.store.batch();
        for (s, reason) in &doomed {
            let p = &self.mempool[s];
            let mut rec = p.record.clone();
            rec.status = TxStatus::Rejected {
                reason: reason.clone(),
            };
            tracing::warn!(hash = %rec.hash, %reason, "transaction rejected");
            wb.put(cf::TXS, &p.hash, &rec);
            wb.delete(cf::MEMPOOL, &be(*s));
        }
        wb.commit()?;
        for (s, _) in doomed {
            self.mempool.remove(&s);
        }
        self.recount_pending();
        Ok(())
    }

    fn commit_sealed(
        &mut self,
        number: u64,
        out: zkr_circuits::state::BatchOutput,
        requests: &[QueuedRequest],
        chosen: &[u64],
    ) -> Result<(), NodeError> {
        let mut wb = self.store.batch();
        // Only the accounts the batch names (and the operator, for the fees) can change.
        let touched: BTreeSet<u64> = out
            .public_data
            .iter()
            .flat_map(|d| [d.from, d.to])
            .chain([OPERATOR_INDEX])
            .collect();
        for i in touched {
            if let Some(a) = out.state.account(i) {
                if self.state.account(i) != Some(a) {
                    wb.put(cf::ACCOUNTS, &be(i), a);
                }
            }
        }
        let mut txs: Vec<Tx> = requests.iter().map(|d| d.request.tx()).collect();
        let mut hashes: Vec<Option<String>> = vec![None; requests.len()];
        for (k, seq) in chosen.iter().enumerate() {
            let p = &self.mempool[seq];
            let mut rec = p.record.clone();
            rec.status = TxStatus::Included {
                batch: number,
                slot: requests.len() + k,
            };
            wb.put(cf::TXS, &p.hash, &rec);
            wb.delete(cf::MEMPOOL, &be(*seq));
            txs.push(rec.tx);
            hashes.push(Some(rec.hash));
        }
        let record = BatchRecord {
            number,
            old_root: out.public.old_root,
            new_root: out.public.new_root,
            txs,
            tx_hashes: hashes,
            request_ids: requests.iter().map(|d| d.id).collect(),
            public_data: hex::encode(encode_public_data(&out.public_data)),
            stage: BatchStage::Sealed,
            sealed_unix_ms: unix_ms(),
            proven_unix_ms: None,
            final_unix_ms: None,
        };
        wb.put(cf::BATCHES, &be(number), &record);
        wb.put(cf::PROOF_JOBS, &be(number), &ProofJob::Queued);
        wb.counter(Meta::LAST_BATCH, number);
        let next_request_id = requests
            .last()
            .map(|d| d.id + 1)
            .unwrap_or(self.next_request_id);
        wb.counter(Meta::NEXT_REQUEST_ID, next_request_id);
        wb.commit()?;

        tracing::info!(
            batch = number,
            txs = record.txs.len(),
            root = %fr_to_decimal(&record.new_root),
            "sealed"
        );
        self.state = out.state;
        self.witnesses.insert(number, out.witness);
        self.requests.drain(..requests.len());
        self.next_request_id = next_request_id;
        for seq in chosen {
            self.mempool.remove(seq);
        }
        self.recount_pending();
        self.last_batch = number;
        Ok(())
    }

    /// The fingerprint of the verifying key (SHA-256 of its compressed encoding, hex): a remote
    /// prover with other keys refuses to work for this node.
    pub fn key_fingerprint(&self) -> &str {
        &self.key_fingerprint
    }

    /// The lease duration.
    pub fn lease_duration(&self) -> Duration {
        self.config.lease
    }

    /// Queues the jobs of remote leases whose deadline passed.
    fn expire_leases(&mut self, now: Instant) {
        let leases = &self.leases;
        self.holders.retain(|batch, h| match h {
            Holder::Local => true,
            Holder::Remote(id) => match leases.get(id) {
                Some(l) if l.deadline > now => true,
                Some(l) => {
                    tracing::warn!(batch, worker = %l.worker, "lease expired; the job is queued again");
                    false
                }
                None => false,
            },
        });
    }

    /// The oldest job nobody holds.
    fn next_free_job(&self) -> Option<u64> {
        self.witnesses
            .keys()
            .find(|n| !self.holders.contains_key(n))
            .copied()
    }

    /// Up to `max` queued jobs for this node's own prover threads, oldest first.
    pub fn take_jobs(&mut self, max: usize, now: Instant) -> Vec<Job> {
        if self.halted.is_some() {
            return Vec::new();
        }
        self.expire_leases(now);
        let mut jobs = Vec::new();
        while jobs.len() < max {
            let Some(n) = self.next_free_job() else { break };
            self.holders.insert(n, Holder::Local);
            jobs.push(Job {
                number: n,
                witness: self.witnesses[&n].clone(),
            });
        }
        jobs
    }

    /// Leases the oldest queued job to a remote prover named `worker`, or `None` when no job
    /// waits. A worker that states its key fingerprint gets [`LeaseError::WrongKeys`] instead
    /// of a job it could not prove.
    pub fn lease_job(
        &mut self,
        worker: &str,
        fingerprint: Option<&str>,
        now: Instant,
    ) -> Result<Option<LeasedJob>, LeaseError> {
        if let Some(h) = &self.halted {
            return Err(LeaseError::Halted(h.clone()));
        }
        if let Some(f) = fingerprint {
            if f != self.key_fingerprint {
                return Err(LeaseError::WrongKeys {
                    node: self.key_fingerprint.clone(),
                    worker: f.to_string(),
                });
            }
        }
        self.expire_leases(now);
        let Some(n) = self.next_free_job() else {
            return Ok(None);
        };
        let id = new_lease_id();
        let lease = self.config.lease;
        self.leases.insert(
            id.clone(),
            Lease {
                batch: n,
                worker: worker.to_string(),
                deadline: now + lease,
                seq: self.next_lease_seq,
            },
        );
        self.next_lease_seq += 1;
        self.holders.insert(n, Holder::Remote(id.clone()));
        self.forget_old_leases();
        tracing::info!(batch = n, worker, "job leased");
        let witness = self.witnesses[&n].clone();
        Ok(Some(LeasedJob {
            number: n,
            lease_id: id,
            lease,
            deadline_unix_ms: unix_ms() + lease.as_millis() as u64,
            public_inputs: witness.public_inputs(),
            witness,
        }))
    }

    /// Bounds the remembered leases: the oldest ones that hold no job are forgotten first.
    fn forget_old_leases(&mut self) {
        if self.leases.len() <= REMEMBERED_LEASES {
            return;
        }
        let live: std::collections::HashSet<&String> = self
            .holders
            .values()
            .filter_map(|h| match h {
                Holder::Remote(id) => Some(id),
                Holder::Local => None,
            })
            .collect();
        let mut old: Vec<(u64, String)> = self
            .leases
            .iter()
            .filter(|(id, _)| !live.contains(id))
            .map(|(id, l)| (l.seq, id.clone()))
            .collect();
        old.sort();
        let excess = self.leases.len() - REMEMBERED_LEASES;
        for (_, id) in old.into_iter().take(excess) {
            self.leases.remove(&id);
        }
    }

    /// Whether `id` is the live lease holding its batch's job.
    fn is_current(&self, batch: u64, id: &str) -> bool {
        matches!(self.holders.get(&batch), Some(Holder::Remote(h)) if h == id)
    }

    /// Extends a live lease by the lease duration; returns its new deadline (unix ms).
    pub fn renew_lease(&mut self, id: &str, now: Instant) -> Result<u64, LeaseError> {
        if let Some(h) = &self.halted {
            return Err(LeaseError::Halted(h.clone()));
        }
        self.expire_leases(now);
        let batch = self
            .leases
            .get(id)
            .map(|l| l.batch)
            .ok_or_else(|| LeaseError::UnknownLease(id.to_string()))?;
        if !self.witnesses.contains_key(&batch) {
            return Err(LeaseError::AlreadyProven(batch));
        }
        if !self.is_current(batch, id) {
            return Err(LeaseError::Expired(id.to_string()));
        }
        let lease = self.config.lease;
        if let Some(l) = self.leases.get_mut(id) {
            l.deadline = now + lease;
        }
        Ok(unix_ms() + lease.as_millis() as u64)
    }

    /// A remote prover gives its job back (it stops, or cannot prove it). Returns the batch.
    /// Giving back a lease that no longer holds its job changes nothing.
    pub fn release_lease(&mut self, id: &str, now: Instant) -> Result<u64, LeaseError> {
        self.expire_leases(now);
        let batch = self
            .leases
            .get(id)
            .map(|l| l.batch)
            .ok_or_else(|| LeaseError::UnknownLease(id.to_string()))?;
        self.drop_lease(batch, id, "given back");
        Ok(batch)
    }

    /// Ends lease `id` of `batch`: if it holds the job, the job is queued again; the id is
    /// forgotten, so it cannot be used again.
    fn drop_lease(&mut self, batch: u64, id: &str, why: &str) {
        if self.is_current(batch, id) {
            self.holders.remove(&batch);
            tracing::warn!(batch, why, "lease ended; the job is queued again");
        }
        self.leases.remove(id);
    }

    /// A remote prover's proof (snarkjs JSON) for `batch` under lease `id`: decoded with full
    /// point validation, verified against the batch's own public input with the node's
    /// verifying key, then stored exactly like a local proof. See
    /// the module docs for the rules; a refused upload from the job's current lease ends the
    /// lease and queues the job again.
    pub fn upload_proof(
        &mut self,
        id: &str,
        batch: u64,
        proof: &serde_json::Value,
        synthesis_s: f64,
        prove_s: f64,
        now: Instant,
    ) -> Result<(), LeaseError> {
        if let Some(h) = &self.halted {
            return Err(LeaseError::Halted(h.clone()));
        }
        self.expire_leases(now);
        let (leased, worker) = self
            .leases
            .get(id)
            .map(|l| (l.batch, l.worker.clone()))
            .ok_or_else(|| LeaseError::UnknownLease(id.to_string()))?;
        if leased != batch {
            self.drop_lease(leased, id, "upload for another batch");
            return Err(LeaseError::WrongBatch {
                lease: id.to_string(),
                leased,
                got: batch,
            });
        }
        let Some(witness) = self.witnesses.get(&batch) else {
            return Err(LeaseError::AlreadyProven(batch));
        };
        let public = witness.public_inputs();
        let parsed = match serde_json::from_value::<ProofJson>(proof.clone())
            .map_err(|e| e.to_string())
            .and_then(|p| p.to_proof().map_err(|e| e.to_string()))
        {
            Ok(p) => p,
            Err(e) => {
                self.drop_lease(batch, id, "malformed proof");
                return Err(LeaseError::MalformedProof(e));
            }
        };
        if !zkr_verifier::verify_proof(&self.pvk, &parsed, &public) {
            self.drop_lease(batch, id, "invalid proof");
            return Err(LeaseError::InvalidProof(batch));
        }
        let clean = |x: f64| if x.is_finite() && x >= 0.0 { x } else { 0.0 };
        self.store_proof(
            batch,
            ProofJson::from_proof(&parsed),
            clean(synthesis_s),
            clean(prove_s),
            &worker,
        )?;
        Ok(())
    }

    /// The jobs waiting for a proof, oldest first, with who holds them.
    pub fn jobs(&mut self, now: Instant) -> Vec<JobView> {
        self.expire_leases(now);
        self.witnesses
            .keys()
            .map(|&batch| {
                let (state, worker, expires_in_ms) = match self.holders.get(&batch) {
                    None => ("queued", None, None),
                    Some(Holder::Local) => ("local", None, None),
                    Some(Holder::Remote(id)) => match self.leases.get(id) {
                        Some(l) => (
                            "leased",
                            Some(l.worker.clone()),
                            Some(l.deadline.saturating_duration_since(now).as_millis() as u64),
                        ),
                        None => ("leased", None, None),
                    },
                };
                JobView {
                    batch,
                    state,
                    worker,
                    expires_in_ms,
                }
            })
            .collect()
    }

    /// Stores a batch's proof (the batch becomes proven), made by `prover` (`local` or a remote
    /// worker's name). Returns `false`, storing nothing, when the batch no longer waits for a
    /// proof (another prover's proof was accepted first, or the L1 accepted the batch).
    pub fn store_proof(
        &mut self,
        number: u64,
        proof: ProofJson,
        synthesis_s: f64,
        prove_s: f64,
        prover: &str,
    ) -> Result<bool, NodeError> {
        if !self.witnesses.contains_key(&number) {
            self.holders.remove(&number);
            return Ok(false);
        }
        let mut rec = self
            .store
            .batch_record(number)?
            .ok_or_else(|| NodeError::Inconsistent(format!("proven batch {number} is missing")))?;
        // A batch the L1 accepted while its proof was being made stays final.
        if rec.stage == BatchStage::Sealed {
            rec.stage = BatchStage::Proven;
        }
        rec.proven_unix_ms = Some(unix_ms());
        let mut wb = self.store.batch();
        wb.put(cf::BATCHES, &be(number), &rec);
        wb.put(
            cf::PROOF_JOBS,
            &be(number),
            &ProofJob::Proven {
                proof: Box::new(proof),
                synthesis_s,
                prove_s,
                prover: Some(prover.to_string()),
            },
        );
        wb.commit()?;
        self.witnesses.remove(&number);
        self.holders.remove(&number);
        tracing::info!(batch = number, prove_s, prover, "proven");
        Ok(true)
    }

    /// Gives a local job back after a failed proof attempt.
    pub fn release_job(&mut self, number: u64) {
        if self.holders.get(&number) == Some(&Holder::Local) {
            self.holders.remove(&number);
        }
    }

    /// The submission for the next batch the L1 expects, if it is proven.
    pub fn next_submission(&self) -> Result<Option<BatchSubmission>, NodeError> {
        if self.halted.is_some() {
            return Ok(None);
        }
        let n = self.last_final + 1;
        let Some(rec) = self.store.batch_record(n)? else {
            return Ok(None);
        };
        if rec.stage != BatchStage::Proven {
            return Ok(None);
        }
        let Some(ProofJob::Proven { proof, .. }) =
            self.store.get::<ProofJob>(cf::PROOF_JOBS, &be(n))?
        else {
            return Err(NodeError::Inconsistent(format!(
                "batch {n} is proven but has no proof"
            )));
        };
        Ok(Some(BatchSubmission {
            number: n,
            old_root: fr_to_decimal(&rec.old_root),
            new_root: fr_to_decimal(&rec.new_root),
            public_data: rec.public_data,
            proof: *proof,
        }))
    }

    /// Marks batch `number` final (the L1 accepted it).
    pub fn mark_final(&mut self, number: u64) -> Result<(), NodeError> {
        if number != self.last_final + 1 {
            return Err(NodeError::Inconsistent(format!(
                "batch {number} final before batch {}",
                self.last_final + 1
            )));
        }
        let mut rec = self
            .store
            .batch_record(number)?
            .ok_or_else(|| NodeError::Inconsistent(format!("final batch {number} is missing")))?;
        rec.stage = BatchStage::Final;
        rec.final_unix_ms = Some(unix_ms());
        let mut wb = self.store.batch();
        wb.put(cf::BATCHES, &be(number), &rec);
        wb.counter(Meta::LAST_FINAL, number);
        wb.commit()?;
        self.last_final = number;
        // Accepted before this node stored its own proof (see `reconcile`): nothing left to do.
        self.witnesses.remove(&number);
        self.holders.remove(&number);
        tracing::info!(batch = number, "final on L1");
        Ok(())
    }

    /// Checks the L1's view against this node's: `l1_batches` is the L1's count of accepted
    /// batches, `l1_root` its root and `newer` the accepted batches after this node's last
    /// final one. Batches the L1 accepted that match this node's are marked final (a crash
    /// between the L1's answer and the node's write); anything else is an [`NodeError::L1Mismatch`].
    pub fn reconcile(
        &mut self,
        l1_batches: u64,
        l1_root: Fr,
        newer: &[AcceptedBatch],
    ) -> Result<(), NodeError> {
        if l1_batches < self.last_final {
            return Err(NodeError::L1Mismatch(format!(
                "the L1 has accepted {l1_batches} batches, but this node saw {} accepted: \
                 it is not the L1 this node settled on (use a fresh --data-dir for a new L1)",
                self.last_final
            )));
        }
        let mut newer: Vec<&AcceptedBatch> = newer
            .iter()
            .filter(|b| b.number > self.last_final)
            .collect();
        newer.sort_by_key(|b| b.number);
        for b in newer {
            let ours = self.store.batch_record(b.number)?;
            match ours {
                Some(r)
                    if r.new_root == b.new_root
                        && r.old_root == b.old_root
                        && r.public_data == b.public_data
                        && b.number == self.last_final + 1 =>
                {
                    self.mark_final(b.number)?;
                }
                Some(r) => {
                    return Err(NodeError::L1Mismatch(format!(
                        "the L1's batch {} has root {}, this node's batch {} has root {}",
                        b.number,
                        fr_to_decimal(&b.new_root),
                        r.number,
                        fr_to_decimal(&r.new_root)
                    )))
                }
                None => {
                    return Err(NodeError::L1Mismatch(format!(
                        "the L1 accepted batch {} (root {}) that this node never sealed",
                        b.number,
                        fr_to_decimal(&b.new_root)
                    )))
                }
            }
        }
        if l1_batches != self.last_final {
            return Err(NodeError::L1Mismatch(format!(
                "the L1 has {l1_batches} batches, this node matched only {}",
                self.last_final
            )));
        }
        let ours = self.final_root()?;
        if ours != l1_root {
            return Err(NodeError::L1Mismatch(format!(
                "the L1's state root is {}, this node's root after batch {} is {}",
                fr_to_decimal(&l1_root),
                self.last_final,
                fr_to_decimal(&ours)
            )));
        }
        Ok(())
    }

    /// The root after the last final batch.
    pub fn final_root(&self) -> Result<Fr, NodeError> {
        if self.last_final == 0 {
            return Ok(self.genesis_root);
        }
        let n = self.last_final;
        self.store
            .batch_record(n)?
            .map(|r| r.new_root)
            .ok_or_else(|| NodeError::Inconsistent(format!("final batch {n} is missing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkr_circuits::eddsa::SecretKey;
    use zkr_circuits::tx::{L1Address, Transfer};

    /// The tests' deployment: account 0 is the key of seed [1; 32] (every test's first
    /// depositor) from genesis.
    const TEST_CHAIN: u64 = 0x7e57;
    fn genesis() -> Genesis {
        Genesis {
            chain_id: TEST_CHAIN,
            operator: SecretKey::from_seed([1; 32]).public_key(),
            operator_l1: L1Address([0; 20]),
        }
    }

    fn config() -> SequencerConfig {
        SequencerConfig {
            batch_timeout: Duration::from_millis(10),
            mempool_max: 3,
            lease: Duration::from_secs(10),
        }
    }

    /// A core on `dir` with a placeholder verifying key (no proof verifies under it).
    fn open(dir: &std::path::Path, params: CircuitParams) -> Result<Core, NodeError> {
        Core::open(
            Store::open(dir).unwrap(),
            params,
            genesis(),
            config(),
            &VerifyingKey::default(),
        )
    }

    fn queued(id: u64, sk: &SecretKey, amount: u64) -> QueuedRequest {
        QueuedRequest {
            id,
            request: PriorityOp::Deposit(zkr_circuits::tx::Deposit {
                pubkey: sk.public_key(),
                amount,
                from: L1Address([id as u8; 20]),
            }),
        }
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(1)
    }

    #[test]
    fn reopening_restores_state_mempool_and_unproven_witnesses() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let (op, alice) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let (root, hash) = {
            let mut core = open(dir.path(), params).unwrap();
            core.observe_l1_queue(&[queued(0, &op, 5), queued(1, &alice, 100)]);
            // A repeated or out-of-order observation changes nothing.
            core.observe_l1_queue(&[queued(1, &alice, 100), queued(3, &alice, 1)]);
            assert_eq!(core.requests_waiting(), 2);
            let b = core.seal_if_due(later()).unwrap().unwrap();
            assert_eq!((b.number, b.txs), (1, 2));
            let t = Transfer::signed(&alice, TEST_CHAIN, 1, 0, 10, 1, 0);
            let rec = core.submit(Tx::Transfer(t)).unwrap();
            let pending = Transfer::signed(&alice, TEST_CHAIN, 1, 0, 10, 1, 1);
            core.submit(Tx::Transfer(pending)).unwrap();
            // Seal the first two... the batch is full (2 slots), so both go in.
            let b = core.seal_if_due(Instant::now()).unwrap().unwrap();
            assert_eq!(b.number, 2);
            let third = Transfer::signed(&alice, TEST_CHAIN, 1, 0, 10, 1, 2);
            core.submit(Tx::Transfer(third)).unwrap();
            (core.state().root(), rec.hash)
        };
        let mut core = open(dir.path(), params).unwrap();
        assert_eq!(core.state().root(), root);
        assert_eq!(core.heights(), (2, 0, 0));
        assert_eq!(
            core.mempool_len(),
            1,
            "the acknowledged transaction survived"
        );
        assert_eq!(core.pending_view(1), Some((3, 100 - 33)));
        let jobs = core.take_jobs(8, Instant::now());
        assert_eq!(
            jobs.iter().map(|j| j.number).collect::<Vec<_>>(),
            vec![1, 2],
            "both unproven batches are queued again"
        );
        assert!(
            core.take_jobs(8, Instant::now()).is_empty(),
            "jobs in progress are not handed out twice"
        );
        let rec = core
            .store()
            .tx_record(&parse_hash(&hash).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(rec.status, TxStatus::Included { batch: 2, slot: 0 });
        // Another circuit on the same database is refused.
        drop(core);
        let other = CircuitParams::new(4, 4).unwrap();
        assert!(matches!(
            open(dir.path(), other),
            Err(NodeError::ParamsMismatch { .. })
        ));
    }

    #[test]
    fn submission_checks_each_rule_and_stores_nothing_when_it_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let (op, alice) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let mut core = open(dir.path(), params).unwrap();
        core.observe_l1_queue(&[queued(0, &op, 5), queued(1, &alice, 100)]);
        core.seal_if_due(later()).unwrap().unwrap();
        let c = TEST_CHAIN;
        let t = |to, amount, fee, nonce| {
            Tx::Transfer(Transfer::signed(&alice, c, 1, to, amount, fee, nonce))
        };
        let kind =
            |r: Result<TxRecord, SubmitError>| r.map(|_| "ok").unwrap_err().status_and_kind().1;
        assert_eq!(kind(core.submit(t(7, 1, 0, 0))), "unknown_account");
        assert_eq!(kind(core.submit(t(0, 1, 0, 1))), "future_nonce");
        assert_eq!(kind(core.submit(t(0, 100, 1, 0))), "insufficient_balance");
        let forged = Tx::Transfer(Transfer::signed(&op, c, 1, 0, 1, 0, 0));
        assert_eq!(kind(core.submit(forged)), "bad_signature");
        assert_eq!(kind(core.submit(Tx::Noop)), "unsupported_type");
        assert_eq!(core.mempool_len(), 0);
        core.submit(t(0, 1, 0, 0)).unwrap();
        assert_eq!(kind(core.submit(t(0, 1, 0, 0))), "duplicate");
        assert_eq!(kind(core.submit(t(0, 2, 0, 0))), "stale_nonce");
        core.submit(t(0, 1, 0, 1)).unwrap();
        core.submit(t(0, 1, 0, 2)).unwrap();
        assert_eq!(kind(core.submit(t(0, 1, 0, 3))), "mempool_full");
        core.halt("test".into());
        assert_eq!(kind(core.submit(t(0, 1, 0, 3))), "halted");
    }

    #[test]
    fn a_fee_the_operator_cannot_take_rejects_its_transaction_not_the_node() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let (op, alice, bob) = (
            SecretKey::from_seed([1; 32]),
            SecretKey::from_seed([2; 32]),
            SecretKey::from_seed([3; 32]),
        );
        let mut core = open(dir.path(), params).unwrap();
        // Anyone can deposit to the operator's (public) key: fill account 0 to u64::MAX.
        core.observe_l1_queue(&[queued(0, &op, u64::MAX), queued(1, &alice, 100)]);
        core.seal_if_due(later()).unwrap().unwrap();
        core.observe_l1_queue(&[queued(2, &bob, 1)]);
        core.seal_if_due(later()).unwrap().unwrap();
        let c = TEST_CHAIN;
        let paying = Tx::Transfer(Transfer::signed(&alice, c, 1, 2, 5, 1, 0));
        let rec = core.submit(paying).unwrap();
        assert!(core.seal_if_due(later()).unwrap().is_none());
        assert_eq!(core.mempool_len(), 0);
        let h = parse_hash(&rec.hash).unwrap();
        let status = core.store().tx_record(&h).unwrap().unwrap().status;
        assert!(
            matches!(&status, TxStatus::Rejected { reason } if reason.contains("overflow")),
            "{status:?}"
        );
        // The same signed transaction may come back once it was rejected; a free one goes through.
        core.submit(paying).unwrap();
        let free = Tx::Transfer(Transfer::signed(&alice, c, 1, 2, 5, 0, 0));
        assert!(core.seal_if_due(later()).unwrap().is_none());
        core.submit(free).unwrap();
        assert_eq!(core.seal_if_due(later()).unwrap().unwrap().number, 3);
        assert_eq!(core.state().account(2).unwrap().balance, 6);
        assert!(core.halted().is_none());
    }

    #[test]
    fn an_l1_with_another_history_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let mut core = open(dir.path(), params).unwrap();
        let genesis = core.state().root();
        core.reconcile(0, genesis, &[]).unwrap();
        assert!(matches!(
            core.reconcile(0, genesis + Fr::from(1u64), &[]),
            Err(NodeError::L1Mismatch(_))
        ));
        let foreign = AcceptedBatch {
            number: 1,
            old_root: genesis,
            new_root: Fr::from(7u64),
            public_data: String::new(),
            requests: vec![],
            withdrawals: vec![],
        };
        let e = core.reconcile(1, Fr::from(7u64), &[foreign]).unwrap_err();
        assert!(e.to_string().contains("never sealed"), "{e}");
        assert_eq!(core.heights(), (0, 0, 0));
    }

    /// A core with two sealed batches (four deposits, two slots per batch).
    fn two_batches(dir: &std::path::Path, vk: &VerifyingKey) -> Core {
        let params = CircuitParams::new(4, 2).unwrap();
        let mut core =
            Core::open(Store::open(dir).unwrap(), params, genesis(), config(), vk).unwrap();
        let keys: Vec<SecretKey> = (1..=4).map(|i| SecretKey::from_seed([i; 32])).collect();
        let queue: Vec<QueuedRequest> = (0..4)
            .map(|i| queued(i, &keys[i as usize], 10 + i))
            .collect();
        core.observe_l1_queue(&queue);
        assert_eq!(core.seal_if_due(later()).unwrap().unwrap().number, 1);
        assert_eq!(core.seal_if_due(later()).unwrap().unwrap().number, 2);
        core
    }

    fn kind<T>(r: Result<T, LeaseError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.status_and_kind().1)
    }

    fn states(core: &mut Core, now: Instant) -> Vec<(u64, &'static str)> {
        core.jobs(now).iter().map(|j| (j.batch, j.state)).collect()
    }

    #[test]
    fn leases_expire_renew_and_a_refused_upload_requeues_only_its_own_job() {
        use ark_ec::AffineRepr;
        let dir = tempfile::tempdir().unwrap();
        let mut core = two_batches(dir.path(), &VerifyingKey::default());
        let lease = config().lease;
        let t0 = Instant::now();

        // Other keys: refused before anything is leased.
        assert_eq!(kind(core.lease_job("w", Some("00"), t0)), "wrong_keys");
        let fp = core.key_fingerprint().to_string();
        let a = core.lease_job("a", Some(&fp), t0).unwrap().unwrap();
        let b = core.lease_job("b", None, t0).unwrap().unwrap();
        assert_eq!((a.number, b.number), (1, 2), "oldest first");
        assert_eq!(a.lease_id.len(), 32);
        assert_ne!(a.lease_id, b.lease_id);
        assert_eq!(a.public_inputs, a.witness.public_inputs());
        assert!(core.lease_job("c", None, t0).unwrap().is_none());
        assert!(
            core.take_jobs(8, t0).is_empty(),
            "local provers share the queue"
        );

        // a renews, b does not: at 1.2 leases only b's job is queued again.
        core.renew_lease(&a.lease_id, t0 + lease / 2).unwrap();
        let t1 = t0 + lease * 6 / 5;
        assert_eq!(states(&mut core, t1), [(1, "leased"), (2, "queued")]);
        assert_eq!(kind(core.renew_lease(&b.lease_id, t1)), "lease_expired");
        let d = core.lease_job("d", None, t1).unwrap().unwrap();
        assert_eq!(d.number, 2, "an expired job is leased again");

        // The expired lease's bad upload is refused and does not touch d's lease.
        let garbage = serde_json::json!({ "pi_a": ["1", "3", "1"] });
        assert_eq!(
            kind(core.upload_proof(&b.lease_id, 2, &garbage, 0.0, 0.0, t1)),
            "malformed_proof"
        );
        assert_eq!(states(&mut core, t1), [(1, "leased"), (2, "leased")]);
        assert_eq!(
            kind(core.upload_proof(&b.lease_id, 2, &garbage, 0.0, 0.0, t1)),
            "unknown_lease",
            "a refused lease is forgotten"
        );
        // A proof for another job than the lease's: d's job is queued again.
        assert_eq!(
            kind(core.upload_proof(&d.lease_id, 1, &garbage, 0.0, 0.0, t1)),
            "wrong_batch"
        );
        assert_eq!(states(&mut core, t1), [(1, "leased"), (2, "queued")]);
        // Well-formed points that do not verify: a's job is queued again.
        let wrong = ProofJson::from_proof(&zkr_verifier::Proof {
            a: ark_bn254::G1Affine::generator(),
            b: ark_bn254::G2Affine::generator(),
            c: ark_bn254::G1Affine::generator(),
        });
        let wrong = serde_json::to_value(wrong).unwrap();
        assert_eq!(
            kind(core.upload_proof(&a.lease_id, 1, &wrong, 0.0, 0.0, t1)),
            "invalid_proof"
        );
        assert_eq!(states(&mut core, t1), [(1, "queued"), (2, "queued")]);
        assert_eq!(core.heights(), (2, 0, 0), "nothing was accepted");

        // A worker gives its job back; unknown leases are refused.
        let e = core.lease_job("e", None, t1).unwrap().unwrap();
        assert_eq!(core.release_lease(&e.lease_id, t1).unwrap(), 1);
        assert_eq!(kind(core.release_lease(&e.lease_id, t1)), "unknown_lease");
        assert_eq!(
            kind(core.renew_lease(&"ab".repeat(16), t1)),
            "unknown_lease"
        );
        // Local provers take what is queued; a halted node leases nothing.
        assert_eq!(core.take_jobs(8, t1).len(), 2);
        assert_eq!(states(&mut core, t1), [(1, "local"), (2, "local")]);
        core.release_job(1);
        core.halt("test".into());
        assert_eq!(kind(core.lease_job("f", None, t1)), "halted");
        assert!(core.take_jobs(8, t1).is_empty());
    }

    #[test]
    fn the_first_valid_proof_wins_even_under_an_expired_lease_and_is_stored_like_a_local_one() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let keys = zkr_prover::KeySet::generate(params, Some(5)).unwrap();
        let mut core = two_batches(dir.path(), keys.vk());
        let lease = config().lease;
        let t0 = Instant::now();
        let slow = core.lease_job("slow", None, t0).unwrap().unwrap();
        let (proof, public, _) = zkr_prover::prove(&keys, &slow.witness, &mut OsRng).unwrap();
        assert_eq!(public, slow.public_inputs);
        let proof = serde_json::to_value(ProofJson::from_proof(&proof)).unwrap();

        // slow's lease expires and the job goes to fast; slow's valid proof still wins.
        let t1 = t0 + lease * 2;
        let fast = core.lease_job("fast", None, t1).unwrap().unwrap();
        assert_eq!(fast.number, 1);
        core.upload_proof(&slow.lease_id, 1, &proof, 0.5, 1.5, t1)
            .unwrap();
        assert_eq!(core.heights(), (2, 1, 0));
        assert_eq!(
            kind(core.upload_proof(&fast.lease_id, 1, &proof, 0.0, 0.0, t1)),
            "already_proven"
        );
        assert_eq!(kind(core.renew_lease(&fast.lease_id, t1)), "already_proven");
        assert_eq!(states(&mut core, t1), [(2, "queued")]);
        // A local proof that arrives after it is ignored.
        let pj: ProofJson = serde_json::from_value(proof.clone()).unwrap();
        assert!(!core.store_proof(1, pj.clone(), 0.0, 0.0, "local").unwrap());

        // Stored like a local proof: it survives a restart and is what the L1 receives.
        drop(core);
        let mut core = Core::open(
            Store::open(dir.path()).unwrap(),
            params,
            genesis(),
            config(),
            keys.vk(),
        )
        .unwrap();
        assert_eq!(core.heights(), (2, 1, 0));
        match core
            .store()
            .get::<ProofJob>(cf::PROOF_JOBS, &be(1))
            .unwrap()
        {
            Some(ProofJob::Proven {
                proof,
                prover,
                prove_s,
                ..
            }) => {
                assert_eq!(*proof, pj);
                assert_eq!(prover.as_deref(), Some("slow"));
                assert_eq!(prove_s, 1.5);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(core.next_submission().unwrap().unwrap().proof, pj);
        let jobs = core.take_jobs(8, Instant::now());
        assert_eq!(jobs.iter().map(|j| j.number).collect::<Vec<_>>(), [2]);
        assert_eq!(
            kind(core.upload_proof(&fast.lease_id, 1, &proof, 0.0, 0.0, t1)),
            "unknown_lease",
            "leases do not survive a restart"
        );
    }
}

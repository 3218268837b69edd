//! The node's state machine: mempool, sequencer, proof bookkeeping and settlement.
//!
//! [`Core`] holds the L2 state after the last sealed batch, the mempool, the witnesses of the
//! batches waiting for a proof and the L1 deposits seen but not yet included. Every method that
//! changes something writes it to the [`Store`] first (one atomic write) and only then changes
//! memory, so a crash at any point restarts from a consistent database. It does no I/O besides
//! the database: the service ([`super::service`]) talks to the L1 and the prover pool and calls
//! in here under one lock.

use super::store::{
    be, cf, BatchRecord, BatchStage, Meta, ProofJob, Store, StoreError, TxRecord, TxStatus,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use zkr_circuits::account::Account;
use zkr_circuits::field::{fr_to_bytes, fr_to_decimal};
use zkr_circuits::params::{CircuitParams, OPERATOR_INDEX};
use zkr_circuits::state::{State, TransitionError};
use zkr_circuits::tx::{decode_public_data, encode_public_data, Deposit, Transfer, Tx, Withdraw};
use zkr_circuits::witness::BatchWitness;
use zkr_circuits::Fr;
use zkr_verifier::snarkjs::ProofJson;
use zkr_verifier::{AcceptedBatch, BatchSubmission, QueuedDeposit};

/// Tunables of the sequencer.
#[derive(Debug, Clone, Copy)]
pub struct SequencerConfig {
    /// A partial batch is sealed (padded with noops) when its oldest item waited this long.
    pub batch_timeout: Duration,
    /// Most transactions the mempool holds.
    pub mempool_max: usize,
}

/// Why the node cannot go on (it stops sealing, proving and settling, and says why).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
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
    #[error("only transfers and withdrawals are accepted here; deposits go through the L1 queue")]
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

/// A transaction's id: the hash its sender signed (the Poseidon message), 32 bytes big-endian.
pub fn tx_hash(tx: &Tx, chain_id: u64) -> Option<[u8; 32]> {
    let msg = match tx {
        Tx::Transfer(t) => t.message(chain_id),
        Tx::Withdraw(w) => w.message(chain_id),
        Tx::Deposit(_) | Tx::Noop => return None,
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
        | E::DepositOutOfOrder { slot, .. }
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

/// The node's state machine (see the module docs).
pub struct Core {
    store: Store,
    params: CircuitParams,
    genesis_root: Fr,
    state: State,
    mempool: BTreeMap<u64, Pending>,
    /// Per sender: pending transaction count and pending debit (amount + fee).
    pending: HashMap<u64, (u64, u128)>,
    witnesses: BTreeMap<u64, BatchWitness>,
    proving: HashSet<u64>,
    deposits: VecDeque<(QueuedDeposit, Instant)>,
    last_batch: u64,
    last_final: u64,
    next_deposit_id: u64,
    next_seq: u64,
    config: SequencerConfig,
    halted: Option<String>,
}

impl Core {
    /// Opens the node's database for `params`: creates it, or rebuilds the state by replaying
    /// every sealed batch and checks it against the stored accounts and roots. Batches that
    /// were sealed but not proven get their witness back (their proof jobs are re-queued).
    pub fn open(
        store: Store,
        params: CircuitParams,
        config: SequencerConfig,
    ) -> Result<Self, NodeError> {
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
        let next_deposit_id = store.counter(Meta::NEXT_DEPOSIT_ID)?;
        let next_seq = store.counter(Meta::NEXT_SEQ)?;

        // Replay the sealed batches: from public data for proven ones, re-executing the
        // transactions (to get the witness back) for the ones still waiting for a proof.
        let genesis = State::new(params);
        let genesis_root = genesis.root();
        let mut state = genesis;
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
                let deposits: Vec<Deposit> = rec
                    .txs
                    .iter()
                    .filter_map(|t| match t {
                        Tx::Deposit(d) => Some(*d),
                        _ => None,
                    })
                    .collect();
                let out = state.apply_batch(&rec.txs, &deposits).map_err(|e| {
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
            genesis_root,
            state,
            mempool: BTreeMap::new(),
            pending: HashMap::new(),
            witnesses,
            proving: HashSet::new(),
            deposits: VecDeque::new(),
            last_batch,
            last_final,
            next_deposit_id,
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

    /// L1 deposits seen and not yet included.
    pub fn deposits_waiting(&self) -> usize {
        self.deposits.len()
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
        let chain = self.params.chain_id;
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
            Tx::Deposit(_) | Tx::Noop => return Err(SubmitError::UnsupportedType),
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

    /// Takes the L1's deposit queue (oldest first) and remembers the deposits this node has
    /// not included yet.
    pub fn observe_l1_deposits(&mut self, queue: &[QueuedDeposit]) {
        let now = Instant::now();
        for q in queue {
            let expected = self.next_deposit_id + self.deposits.len() as u64;
            if q.id == expected {
                self.deposits.push_back((*q, now));
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
            let waiting = self.deposits.len() + self.mempool.len();
            if waiting == 0 {
                return Ok(None);
            }
            let oldest = [
                self.deposits.front().map(|d| d.1),
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
            let deposits: Vec<QueuedDeposit> = self.deposits.iter().take(bs).map(|d| d.0).collect();
            let chosen: Vec<u64> = self
                .mempool
                .keys()
                .take(bs - deposits.len())
                .copied()
                .collect();
            let mut txs: Vec<Tx> = deposits.iter().map(|d| Tx::Deposit(d.deposit)).collect();
            txs.extend(chosen.iter().map(|s| self.mempool[s].record.tx));
            let queue: Vec<Deposit> = deposits.iter().map(|d| d.deposit).collect();
            match self.state.apply_batch(&txs, &queue) {
                Ok(out) => {
                    let number = self.last_batch + 1;
                    self.commit_sealed(number, out, &deposits, &chosen)?;
                    return Ok(Some(SealedBatch {
                        number,
                        txs: txs.len(),
                        execute: t.elapsed(),
                    }));
                }
                Err(e) => match failed_slot(&e).map(|s| s.checked_sub(deposits.len())) {
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
        deposits: &[QueuedDeposit],
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
        let mut txs: Vec<Tx> = deposits.iter().map(|d| Tx::Deposit(d.deposit)).collect();
        let mut hashes: Vec<Option<String>> = vec![None; deposits.len()];
        for (k, seq) in chosen.iter().enumerate() {
            let p = &self.mempool[seq];
            let mut rec = p.record.clone();
            rec.status = TxStatus::Included {
                batch: number,
                slot: deposits.len() + k,
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
            deposit_ids: deposits.iter().map(|d| d.id).collect(),
            public_data: hex::encode(encode_public_data(&out.public_data)),
            stage: BatchStage::Sealed,
            sealed_unix_ms: unix_ms(),
            proven_unix_ms: None,
            final_unix_ms: None,
        };
        wb.put(cf::BATCHES, &be(number), &record);
        wb.put(cf::PROOF_JOBS, &be(number), &ProofJob::Queued);
        wb.counter(Meta::LAST_BATCH, number);
        let next_deposit_id = deposits
            .last()
            .map(|d| d.id + 1)
            .unwrap_or(self.next_deposit_id);
        wb.counter(Meta::NEXT_DEPOSIT_ID, next_deposit_id);
        wb.commit()?;

        tracing::info!(
            batch = number,
            txs = record.txs.len(),
            root = %fr_to_decimal(&record.new_root),
            "sealed"
        );
        self.state = out.state;
        self.witnesses.insert(number, out.witness);
        self.deposits.drain(..deposits.len());
        self.next_deposit_id = next_deposit_id;
        for seq in chosen {
            self.mempool.remove(seq);
        }
        self.recount_pending();
        self.last_batch = number;
        Ok(())
    }

    /// Up to `max` sealed batches that wait for a proof and are not being proven, oldest first.
    pub fn take_jobs(&mut self, max: usize) -> Vec<Job> {
        if self.halted.is_some() {
            return Vec::new();
        }
        let numbers: Vec<u64> = self
            .witnesses
            .keys()
            .filter(|n| !self.proving.contains(n))
            .take(max)
            .copied()
            .collect();
        numbers
            .into_iter()
            .map(|n| {
                self.proving.insert(n);
                Job {
                    number: n,
                    witness: self.witnesses[&n].clone(),
                }
            })
            .collect()
    }

    /// Stores a batch's proof (the batch becomes proven).
    pub fn store_proof(
        &mut self,
        number: u64,
        proof: ProofJson,
        synthesis_s: f64,
        prove_s: f64,
    ) -> Result<(), NodeError> {
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
            },
        );
        wb.commit()?;
        self.witnesses.remove(&number);
        self.proving.remove(&number);
        tracing::info!(batch = number, prove_s, "proven");
        Ok(())
    }

    /// Gives a job back after a failed proof attempt.
    pub fn release_job(&mut self, number: u64) {
        self.proving.remove(&number);
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

    fn config() -> SequencerConfig {
        SequencerConfig {
            batch_timeout: Duration::from_millis(10),
            mempool_max: 3,
        }
    }

    fn queued(id: u64, sk: &SecretKey, amount: u64) -> QueuedDeposit {
        QueuedDeposit {
            id,
            from: L1Address([id as u8; 20]),
            deposit: Deposit {
                pubkey: sk.public_key(),
                amount,
            },
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
            let mut core = Core::open(Store::open(dir.path()).unwrap(), params, config()).unwrap();
            core.observe_l1_deposits(&[queued(0, &op, 5), queued(1, &alice, 100)]);
            // A repeated or out-of-order observation changes nothing.
            core.observe_l1_deposits(&[queued(1, &alice, 100), queued(3, &alice, 1)]);
            assert_eq!(core.deposits_waiting(), 2);
            let b = core.seal_if_due(later()).unwrap().unwrap();
            assert_eq!((b.number, b.txs), (1, 2));
            let t = Transfer::signed(&alice, params.chain_id, 1, 0, 10, 1, 0);
            let rec = core.submit(Tx::Transfer(t)).unwrap();
            let pending = Transfer::signed(&alice, params.chain_id, 1, 0, 10, 1, 1);
            core.submit(Tx::Transfer(pending)).unwrap();
            // Seal the first two... the batch is full (2 slots), so both go in.
            let b = core.seal_if_due(Instant::now()).unwrap().unwrap();
            assert_eq!(b.number, 2);
            let third = Transfer::signed(&alice, params.chain_id, 1, 0, 10, 1, 2);
            core.submit(Tx::Transfer(third)).unwrap();
            (core.state().root(), rec.hash)
        };
        let mut core = Core::open(Store::open(dir.path()).unwrap(), params, config()).unwrap();
        assert_eq!(core.state().root(), root);
        assert_eq!(core.heights(), (2, 0, 0));
        assert_eq!(
            core.mempool_len(),
            1,
            "the acknowledged transaction survived"
        );
        assert_eq!(core.pending_view(1), Some((3, 100 - 33)));
        let jobs = core.take_jobs(8);
        assert_eq!(
            jobs.iter().map(|j| j.number).collect::<Vec<_>>(),
            vec![1, 2],
            "both unproven batches are queued again"
        );
        assert!(
            core.take_jobs(8).is_empty(),
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
            Core::open(Store::open(dir.path()).unwrap(), other, config()),
            Err(NodeError::ParamsMismatch { .. })
        ));
    }

    #[test]
    fn submission_checks_each_rule_and_stores_nothing_when_it_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let params = CircuitParams::new(4, 2).unwrap();
        let (op, alice) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let mut core = Core::open(Store::open(dir.path()).unwrap(), params, config()).unwrap();
        core.observe_l1_deposits(&[queued(0, &op, 5), queued(1, &alice, 100)]);
        core.seal_if_due(later()).unwrap().unwrap();
        let c = params.chain_id;
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
        let mut core = Core::open(Store::open(dir.path()).unwrap(), params, config()).unwrap();
        // Anyone can deposit to the operator's (public) key: fill account 0 to u64::MAX.
        core.observe_l1_deposits(&[queued(0, &op, u64::MAX), queued(1, &alice, 100)]);
        core.seal_if_due(later()).unwrap().unwrap();
        core.observe_l1_deposits(&[queued(2, &bob, 1)]);
        core.seal_if_due(later()).unwrap().unwrap();
        let c = params.chain_id;
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
        let mut core = Core::open(Store::open(dir.path()).unwrap(), params, config()).unwrap();
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
            deposits: vec![],
            withdrawals: vec![],
        };
        let e = core.reconcile(1, Fr::from(7u64), &[foreign]).unwrap_err();
        assert!(e.to_string().contains("never sealed"), "{e}");
        assert_eq!(core.heights(), (0, 0, 0));
    }
}

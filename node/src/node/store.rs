//! The node's RocksDB database.
//!
//! | column family | key | value (JSON) |
//! |---|---|---|
//! | `accounts` | account index, u64 big-endian | [`Account`] after the last sealed batch |
//! | `txs` | transaction hash (32 bytes) | [`TxRecord`]: the signed transaction and its status |
//! | `mempool` | arrival sequence number, u64 big-endian | transaction hash of a pending transaction |
//! | `batches` | batch number, u64 big-endian | [`BatchRecord`]: transactions, public data, roots, stage |
//! | `proof_jobs` | batch number, u64 big-endian | [`ProofJob`]: queued, or the proof, its timings and its prover |
//! | `meta` | name | parameters, counters (see [`Meta`]) |
//!
//! Every change that belongs together is one [`WriteBatch`] written with `sync = true`: an
//! accepted transaction (record + mempool entry + sequence counter), a sealed batch (changed
//! accounts, transaction statuses, mempool removals, batch record, proof job, counters), a
//! proof, a finalization. A crash between two writes leaves the database at one of them, and
//! nothing is acknowledged to a client before its write returned.
//!
//! The Merkle tree is not stored node by node: it is rebuilt in memory from `accounts` when the
//! node starts (a few milliseconds per thousand accounts), and its root is checked against the
//! root recorded with the last sealed batch.

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options, WriteBatch, WriteOptions, DB};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::Path;
use zkr_circuits::account::Account;
use zkr_circuits::params::CircuitParams;
use zkr_circuits::tx::Tx;
use zkr_verifier::snarkjs::ProofJson;

/// Column family names.
pub mod cf {
    /// Accounts by index.
    pub const ACCOUNTS: &str = "accounts";
    /// Transactions by hash.
    pub const TXS: &str = "txs";
    /// Pending transactions by arrival order.
    pub const MEMPOOL: &str = "mempool";
    /// Batches by number.
    pub const BATCHES: &str = "batches";
    /// Proof jobs by batch number.
    pub const PROOF_JOBS: &str = "proof_jobs";
    /// Parameters and counters.
    pub const META: &str = "meta";
    /// All of them.
    pub const ALL: [&str; 6] = [ACCOUNTS, TXS, MEMPOOL, BATCHES, PROOF_JOBS, META];
}

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB itself failed.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// A stored value does not decode (a damaged or foreign database).
    #[error("corrupt {what} in the node database: {error}")]
    Corrupt {
        /// Which record.
        what: String,
        /// The decoding error.
        error: String,
    },
}

/// Where a transaction the node accepted stands. The stage of an included transaction
/// (included, proven, final) is its batch's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// Executed in a sealed batch.
    Included {
        /// Batch number.
        batch: u64,
        /// Slot in the batch.
        slot: usize,
    },
    /// Dropped by the sequencer when it executed the batch.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// A transaction the node accepted, with its status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxRecord {
    /// `0x` + hex of the signed message hash.
    pub hash: String,
    /// The signed transaction.
    pub tx: Tx,
    /// Arrival order.
    pub seq: u64,
    /// Unix time of acceptance, milliseconds.
    pub received_unix_ms: u64,
    /// Status.
    #[serde(flatten)]
    pub status: TxStatus,
}

/// The stage of a batch: sealed (executed, state committed) → proven → final (accepted by the L1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStage {
    /// Executed and committed by the sequencer; waiting for its proof.
    Sealed,
    /// Proven; waiting for the L1.
    Proven,
    /// Accepted by the L1.
    Final,
}

/// A sealed batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Batch number (the first is 1).
    pub number: u64,
    /// Root before, decimal.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub old_root: zkr_circuits::Fr,
    /// Root after, decimal.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub new_root: zkr_circuits::Fr,
    /// The executed transactions in slot order (deposits and full exits included, padding not).
    pub txs: Vec<Tx>,
    /// Hash of each slot's L2 transaction (`None` for deposits and full exits).
    pub tx_hashes: Vec<Option<String>>,
    /// L1 queue ids of the requests (deposits, full exits) it consumed, in order.
    pub request_ids: Vec<u64>,
    /// The public data (hex), as the L1 receives it.
    pub public_data: String,
    /// Stage.
    pub stage: BatchStage,
    /// Unix ms when sealed.
    pub sealed_unix_ms: u64,
    /// Unix ms when proven.
    pub proven_unix_ms: Option<u64>,
    /// Unix ms when the L1 accepted it.
    pub final_unix_ms: Option<u64>,
}

/// A proof job: queued when its batch is sealed, done when the proof is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProofJob {
    /// Waiting for (or in) the prover pool.
    Queued,
    /// Proven.
    Proven {
        /// The proof, in snarkjs layout.
        proof: Box<ProofJson>,
        /// Synthesis (assignment) seconds.
        synthesis_s: f64,
        /// Groth16 proving seconds.
        prove_s: f64,
        /// Who made it: `local` (a prover thread of the node) or a remote worker's name
        /// (absent in databases written before remote provers existed).
        #[serde(default)]
        prover: Option<String>,
    },
}

/// Names of the `meta` entries.
pub struct Meta;

impl Meta {
    /// The circuit parameters the database was created for.
    pub const PARAMS: &'static str = "params";
    /// The L1 deployment (chain id, operator) the database was created for.
    pub const GENESIS: &'static str = "genesis";
    /// The last sealed batch number.
    pub const LAST_BATCH: &'static str = "last_batch";
    /// The last batch the L1 accepted.
    pub const LAST_FINAL: &'static str = "last_final";
    /// The L1 queue id of the next request (deposit or full exit) to include.
    pub const NEXT_REQUEST_ID: &'static str = "next_request_id";
    /// The next arrival sequence number.
    pub const NEXT_SEQ: &'static str = "next_seq";
}

/// The node's database.
pub struct Store {
    db: DB,
}

/// A big-endian key for ordered iteration.
pub fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn corrupt(what: impl Into<String>, e: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        error: e.to_string(),
    }
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(what, e))
}

/// JSON bytes of a value (our own types always serialize).
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("node records serialize to JSON")
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = cf::ALL
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        Ok(Self { db })
    }

    fn handle(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(name)
            .expect("every column family is created at open")
    }

    /// A new write batch bound to this database's column families.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            store: self,
            wb: WriteBatch::default(),
        }
    }

    /// Reads one value.
    pub fn get<T: DeserializeOwned>(&self, cf: &str, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get_cf(self.handle(cf), key)? {
            None => Ok(None),
            Some(b) => decode(cf, &b).map(Some),
        }
    }

    /// Reads a `meta` counter (0 when absent).
    pub fn counter(&self, name: &str) -> Result<u64, StoreError> {
        Ok(self.get::<u64>(cf::META, name.as_bytes())?.unwrap_or(0))
    }

    /// Every entry of a column family, in key order.
    pub fn all<T: DeserializeOwned>(&self, cf: &str) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.handle(cf), IteratorMode::Start) {
            let (k, v) = item?;
            out.push((k.to_vec(), decode(cf, &v)?));
        }
        Ok(out)
    }

    /// The parameters the database was created with, if any.
    pub fn params(&self) -> Result<Option<CircuitParams>, StoreError> {
        self.get(cf::META, Meta::PARAMS.as_bytes())
    }

    /// The L1 deployment the database was created for.
    pub fn genesis(&self) -> Result<Option<zkr_circuits::Genesis>, StoreError> {
        self.get(cf::META, Meta::GENESIS.as_bytes())
    }

    /// A batch record.
    pub fn batch_record(&self, number: u64) -> Result<Option<BatchRecord>, StoreError> {
        self.get(cf::BATCHES, &be(number))
    }

    /// A transaction record by its 32-byte hash.
    pub fn tx_record(&self, hash: &[u8; 32]) -> Result<Option<TxRecord>, StoreError> {
        self.get(cf::TXS, hash)
    }

    /// All accounts.
    pub fn accounts(&self) -> Result<Vec<(u64, Account)>, StoreError> {
        self.all::<Account>(cf::ACCOUNTS)?
            .into_iter()
            .map(|(k, a)| {
                let key: [u8; 8] = k
                    .try_into()
                    .map_err(|_| corrupt("accounts", "key is not 8 bytes"))?;
                Ok((u64::from_be_bytes(key), a))
            })
            .collect()
    }
}

/// One atomic write: collect changes, then [`Batch::commit`] them with `sync = true`.
pub struct Batch<'a> {
    store: &'a Store,
    wb: WriteBatch,
}

impl Batch<'_> {
    /// Puts a JSON value.
    pub fn put<T: Serialize>(&mut self, cf: &str, key: &[u8], value: &T) {
        self.wb.put_cf(self.store.handle(cf), key, encode(value));
    }

    /// Deletes a key.
    pub fn delete(&mut self, cf: &str, key: &[u8]) {
        self.wb.delete_cf(self.store.handle(cf), key);
    }

    /// Sets a `meta` counter.
    pub fn counter(&mut self, name: &str, value: u64) {
        self.put(cf::META, name.as_bytes(), &value);
    }

    /// Writes everything at once and waits for the write-ahead log to reach the disk.
    pub fn commit(self) -> Result<(), StoreError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.store.db.write_opt(self.wb, &opts)?;
        Ok(())
    }
}

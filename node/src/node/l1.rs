//! The L1 as the node sees it: one interface ([`L1`]) and its two implementations, the Rust L1
//! served by `zkr l1` over HTTP ([`HttpL1`]) and the Solidity rollup on an EVM chain over
//! JSON-RPC ([`EvmL1`], e.g. anvil).
//!
//! The node's rules do not depend on which: it reads the priority queue (deposits and full
//! exits), submits proven batches in order, and syncs from the L1's accepted batches at start and after a refusal
//! ([`super::service`]). A refusal by the L1's rule ([`L1Error::Refused`]) is the same event on
//! both: the HTTP L1's 422 with its kind, the contract's revert with its custom error, in the
//! same names ([`zkr_l1_evm::rejection_kind`]).

use super::client::{ClientError, JsonClient};
use zkr_circuits::field::fr_from_decimal;
use zkr_circuits::{Fr, Genesis};
use zkr_l1_evm::rpc::RpcChain;
use zkr_l1_evm::settle::accepted_batches;
use zkr_l1_evm::{Address, ChainError, EvmL1Error, EvmRollup};
use zkr_verifier::{AcceptedBatch, BatchSubmission, QueuedRequest};

/// Most queued requests read in one poll of the queue.
pub const REQUESTS_PER_POLL: u64 = 256;

/// The L1's current root and its number of accepted batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L1Head {
    /// The current state root.
    pub state_root: Fr,
    /// Accepted batches (the last one's number).
    pub batches: u64,
}

/// Why an L1 call gave no answer, or what the L1 said no to.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The L1 cannot be reached now, or is busy (a transaction of ours still pending): ask
    /// again later.
    #[error("{0}")]
    Unavailable(String),
    /// The L1's acceptance rule refused the batch, and nothing changed on it.
    #[error("{message}")]
    Refused {
        /// The kind of refusal (`replayed`, `bad_proof`, …: [`zkr_l1_evm::rejection_kind`]).
        kind: String,
        /// The L1's words.
        message: String,
    },
    /// Any other refusal, or an answer that makes no sense: this node and the L1 disagree.
    #[error("{0}")]
    Disagrees(String),
}

/// What the node needs from an L1. Each thread of the node holds its own clone.
///
/// Contract: reads see the L1's latest state; [`L1::submit`] returns `Ok` only once the L1
/// accepted the batch, [`L1Error::Refused`] only when the L1 refused it and changed nothing,
/// and [`L1Error::Unavailable`] whenever the outcome is unknown (the node then asks again,
/// and an L1 that already accepted the batch refuses it as `replayed`).
pub trait L1: Clone + Send + 'static {
    /// The deployment's chain id and operator key, and the root it started from.
    fn genesis(&mut self) -> Result<(Genesis, Fr), L1Error>;
    /// The current root and batch count.
    fn head(&mut self) -> Result<L1Head, L1Error>;
    /// The accepted batches numbered `from` or more, in order.
    fn batches_from(&mut self, from: u64) -> Result<Vec<AcceptedBatch>, L1Error>;
    /// The queued requests (deposits, full exits) with id `from` or more, in queue order
    /// (possibly only the first [`REQUESTS_PER_POLL`]).
    fn requests_from(&mut self, from: u64) -> Result<Vec<QueuedRequest>, L1Error>;
    /// Submits a proven batch.
    fn submit(&mut self, s: &BatchSubmission) -> Result<(), L1Error>;
}

/// The Rust L1 served by `zkr l1` (`GET /root`, `GET /batches`, `GET /queue`,
/// `POST /batch`).
#[derive(Clone)]
pub struct HttpL1(pub JsonClient);

fn http_error(e: ClientError) -> L1Error {
    match e {
        ClientError::Status {
            status: 422,
            kind,
            message,
            ..
        } => L1Error::Refused { kind, message },
        ClientError::Status {
            status: status @ 400..=499,
            kind,
            message,
            ..
        } => L1Error::Disagrees(format!("HTTP {status} ({kind}): {message}")),
        other => L1Error::Unavailable(other.to_string()),
    }
}

/// `GET /genesis` of `zkr l1`.
#[derive(serde::Deserialize)]
struct GenesisAnswer {
    chain_id: u64,
    operator: zkr_circuits::eddsa::PublicKey,
    operator_l1: zkr_circuits::tx::L1Address,
    genesis_root: String,
}

#[derive(serde::Deserialize)]
struct RootAnswer {
    state_root: String,
    batches: u64,
}

impl L1 for HttpL1 {
    fn genesis(&mut self) -> Result<(Genesis, Fr), L1Error> {
        let g: GenesisAnswer = self.0.get("/genesis").map_err(http_error)?;
        let root = fr_from_decimal(&g.genesis_root).map_err(|e| {
            L1Error::Disagrees(format!("the L1's genesis root is not a field element: {e}"))
        })?;
        Ok((
            Genesis {
                chain_id: g.chain_id,
                operator: g.operator,
                operator_l1: g.operator_l1,
            },
            root,
        ))
    }

    fn head(&mut self) -> Result<L1Head, L1Error> {
        let r: RootAnswer = self.0.get("/root").map_err(http_error)?;
        let state_root = fr_from_decimal(&r.state_root).map_err(|e| {
            L1Error::Disagrees(format!("the L1's root is not a field element: {e}"))
        })?;
        Ok(L1Head {
            state_root,
            batches: r.batches,
        })
    }

    fn batches_from(&mut self, from: u64) -> Result<Vec<AcceptedBatch>, L1Error> {
        self.0
            .get(&format!("/batches?from={from}"))
            .map_err(http_error)
    }

    fn requests_from(&mut self, from: u64) -> Result<Vec<QueuedRequest>, L1Error> {
        let q: Vec<QueuedRequest> = self.0.get("/queue").map_err(http_error)?;
        Ok(q.into_iter().filter(|d| d.id >= from).collect())
    }

    fn submit(&mut self, s: &BatchSubmission) -> Result<(), L1Error> {
        self.0
            .post::<_, serde_json::Value>("/batch", s)
            .map(|_| ())
            .map_err(http_error)
    }
}

/// `contracts/Rollup.sol` deployed on an EVM chain reached over JSON-RPC, with the operator's
/// key to submit batches.
#[derive(Clone)]
pub struct EvmL1(pub EvmRollup<RpcChain>);

/// How the node reads an error of the EVM L1.
pub fn evm_error(e: EvmL1Error) -> L1Error {
    match e {
        EvmL1Error::Rejected(r) => L1Error::Refused {
            kind: r.kind().to_string(),
            message: r.to_string(),
        },
        // Not reached, a transaction whose fate is unknown, or one of ours still pending.
        EvmL1Error::InFlight { .. }
        | EvmL1Error::Chain(
            ChainError::Unreachable { .. }
            | ChainError::Rpc { .. }
            | ChainError::BadAnswer { .. }
            | ChainError::NoReceipt { .. }
            | ChainError::Refused(_),
        ) => L1Error::Unavailable(e.to_string()),
        other => L1Error::Disagrees(other.to_string()),
    }
}

impl EvmL1 {
    /// The rollup at `rollup` on `chain` (which holds the operator's key), operated by
    /// `operator`.
    pub fn attach(chain: RpcChain, rollup: Address, operator: Address) -> Result<Self, EvmL1Error> {
        EvmRollup::attach(chain, rollup, operator).map(Self)
    }
}

impl L1 for EvmL1 {
    fn genesis(&mut self) -> Result<(Genesis, Fr), L1Error> {
        self.0.genesis().map_err(evm_error)
    }

    fn head(&mut self) -> Result<L1Head, L1Error> {
        let h = self.0.head().map_err(evm_error)?;
        Ok(L1Head {
            state_root: h.state_root,
            batches: h.batches,
        })
    }

    fn batches_from(&mut self, from: u64) -> Result<Vec<AcceptedBatch>, L1Error> {
        let events = self.0.read_events().map_err(evm_error)?;
        accepted_batches(&events, from).map_err(evm_error)
    }

    fn requests_from(&mut self, from: u64) -> Result<Vec<QueuedRequest>, L1Error> {
        self.0
            .queued_requests(from, REQUESTS_PER_POLL)
            .map_err(evm_error)
    }

    fn submit(&mut self, s: &BatchSubmission) -> Result<(), L1Error> {
        let accepted = self.0.settle(s).map_err(evm_error)?;
        tracing::info!(
            batch = s.number,
            gas = accepted.outcome.gas_used,
            "batch accepted by the rollup contract"
        );
        Ok(())
    }
}

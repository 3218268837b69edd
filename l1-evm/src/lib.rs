//! # zkr-l1-evm: the Solidity L1 on an EVM chain (embedded, or over JSON-RPC)
//!
//! `contracts/Rollup.sol` is the EVM twin of the Rust L1 ([`zkr_verifier::L1Contract`]): the same
//! acceptance rule, in the same order of checks, over the same commitment. This crate runs the
//! committed compiler output (`contracts/out/*.json`, built by `contracts/build.mjs` with the
//! pinned solc) in revm, so that `cargo test` checks the contracts without a node, a network or
//! a Solidity compiler:
//!
//! - [`chain`]: what the rollup needs from a chain ([`EvmChain`]: deploy, send, call, logs), and
//!   an in-memory chain that does it (revm at Cancun, no fees) and meters gas;
//! - [`rpc`]: the same calls on a real chain over JSON-RPC ([`RpcChain`], e.g. anvil), signing
//!   EIP-1559 transactions locally: the L1 that `zkr node --l1-rpc` settles on;
//! - [`settle`]: what a node and a wallet need from a deployed rollup on any chain: attaching to
//!   it, its deposit queue, its accepted batches rebuilt from its events, one submission at a
//!   time;
//! - [`optimistic`]: the same rollup settled optimistically (`contracts/OptimisticRollup.sol`,
//!   one-step fraud proofs through `contracts/StepExecutor.sol`), for `zkr compare`;
//! - [`artifacts`]: the embedded artifacts and library linking;
//! - [`rollup`]: the rollup's calls, its typed refusals ([`rollup::EvmRejection`], mirroring
//!   [`zkr_verifier::Rejection`]) and its events ([`rollup::RollupEvent`]); deployed with a
//!   rendered verifier ([`EvmRollup::deploy`]) or for any key with `Groth16KeyedVerifier`, the
//!   key given at deployment ([`EvmRollup::deploy_for_key`]), which `zkr demo --l1 evm` uses.
//!
//! revm is built without default features: its BN254 precompiles (`ecAdd`, `ecMul`, pairing)
//! run on ark-bn254 0.6, the curve crate of the rest of the workspace, and no C library is
//! linked.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod artifacts;
pub mod chain;
pub mod optimistic;
pub mod rollup;
pub mod rpc;
pub mod settle;

/// The EVM's address and word types (revm's), as this crate's API takes and returns them.
pub use revm::primitives::{Address, U256};

pub use chain::{Chain, ChainError, EvmChain, Outcome};
pub use rollup::{
    rejection_kind, Accepted, Deployment, EvmL1Error, EvmRejection, EvmRollup, EvmSubmission,
    RollupEvent,
};
pub use rpc::RpcChain;

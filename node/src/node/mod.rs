//! The rollup node: RocksDB storage, the sequencer's state machine, the HTTP API and the
//! service that ties them to the prover pool, remote provers and the L1.

pub mod api;
pub mod client;
pub mod core;
pub mod job;
pub mod l1;
pub mod service;
pub mod store;

//! One module per subcommand.

pub mod bench;
pub mod circuit;
pub mod compare;
pub mod demo;
pub mod demo_l1;
pub mod example;
pub mod export_verifier;
pub mod gas;
pub mod l1;
pub mod optimistic;
pub mod plot;
pub mod prove;
pub mod prover;
pub mod reconstruct;
pub mod setup;
pub mod util;
pub mod verify;
pub mod wallet;

//! # zkr-circuits: the rollup's rules, stated twice
//!
//! This crate is the protocol of zkr. Every rule a valid batch obeys is written here twice:
//!
//! * **natively**, as plain Rust over BN254's scalar field: the account state ([`state`]), the
//!   transaction types and their fixed-size public data ([`tx`]), Poseidon ([`poseidon`]), the
//!   sparse Merkle tree, 8-ary where the depth allows ([`merkle`]), EdDSA on Baby Jubjub
//!   ([`eddsa`]) with its scalar multiplications in Montgomery form ([`montgomery`],
//!   [`scalar_mul`]), and the pure state transition [`state::State::apply_batch`], also one
//!   step at a time from the leaves a step touches ([`step`]: what an L1 re-executes to judge
//!   an optimistic batch's fraud proof);
//! * **as R1CS constraints** (feature `r1cs`, on by default): one gadget beside each native
//!   type, and the [`circuit::BatchCircuit`] that enforces every rule for every slot of a batch.
//!
//! ## What the crate guarantees
//!
//! * A batch accepted by [`state::State::apply_batch`] yields a [`witness::BatchWitness`] that
//!   satisfies [`circuit::BatchCircuit`], and the circuit's new root equals the native one.
//! * Every rule the native code checks is also a constraint; the tests in `tests/soundness.rs`
//!   break each rule in a hand-built witness and assert the constraint system is unsatisfied.
//! * Native hashing follows circomlib's Poseidon over BN254 (pinned against its published values),
//!   and each gadget is property-tested against its native twin.
//! * Bad input is an error, never a panic: every fallible function returns a typed error.
//!
//! The L1 verifier builds this crate with `default-features = false`, so it gets the native
//! public-input code (Poseidon, public data) without any constraint gadgets.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod eddsa;
pub mod field;
pub mod genesis;
pub mod merkle;
pub mod montgomery;
pub mod params;
pub mod poseidon;
pub mod public;
pub mod range;
pub mod scalar_mul;
pub mod state;
pub mod step;
pub mod tx;
pub mod witness;

#[cfg(feature = "r1cs")]
pub mod circuit;

/// The field every constraint lives in: BN254's scalar field (= Baby Jubjub's base field).
pub type Fr = ark_bn254::Fr;

pub use genesis::Genesis;
pub use params::{CircuitParams, ParamsError};

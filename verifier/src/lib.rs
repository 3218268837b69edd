//! # zkr-verifier: the L1 contract
//!
//! The L1 is the source of truth. This crate is zkr's stand-in for an on-chain contract: it
//! holds the verifying key, the current state root, the queue of deposits (with the L1
//! balances they are paid from), the withdrawals credited to L1 addresses, and the public data of
//! every accepted batch — the data-availability record from which anyone can rebuild the L2
//! state.
//!
//! ## What it guarantees
//!
//! [`L1Contract::submit_batch`] accepts batch `n + 1` only if it extends the last accepted batch,
//! its old root is the current root, every public value is a canonical field element (refused,
//! never reduced), the deposits it consumes are exactly the next ones in the queue, its public
//! data is well-formed, and the Groth16 proof verifies against the public inputs the contract
//! recomputes itself (its own root, the new root, the public data; see
//! [`zkr_circuits::public`]). Then, atomically, it sets the new root, pops the deposits, credits the
//! withdrawals and records the data. Otherwise it returns a typed [`Rejection`] and changes
//! nothing, in memory or on disk.
//!
//! [`optimistic::OptimisticL1`] is the same rollup without proofs, for comparison: batches are
//! posted with their intermediate roots, become final after a challenge window, and are reverted
//! by a one-step fraud proof that the L1 re-executes natively ([`zkr_circuits::step`]).
//!
//! It is deliberately light: no prover, no constraint gadgets, no database. State persists as one
//! JSON file replaced atomically (write, fsync, rename).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod contract;
pub mod optimistic;
pub mod snarkjs;
pub mod solidity;

pub use contract::{
    AcceptedBatch, BatchReceipt, BatchSubmission, DepositError, ExodusError, FullExitError,
    L1Contract, L1Error, L1State, QueuedRequest, Rejection,
};

/// The pairing-friendly curve of the proofs.
pub type Curve = ark_bn254::Bn254;
/// A Groth16 proof over BN254.
pub type Proof = ark_groth16::Proof<Curve>;
/// A Groth16 verifying key over BN254.
pub type VerifyingKey = ark_groth16::VerifyingKey<Curve>;

/// Verifies a Groth16 proof for the given public inputs.
pub fn verify_proof(
    pvk: &ark_groth16::PreparedVerifyingKey<Curve>,
    proof: &Proof,
    public_inputs: &[zkr_circuits::Fr],
) -> bool {
    if public_inputs.len() + 1 != pvk.vk.gamma_abc_g1.len() {
        return false;
    }
    ark_groth16::Groth16::<Curve>::verify_proof(pvk, proof, public_inputs).unwrap_or(false)
}

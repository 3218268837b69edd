//! # zkr-prover: Groth16 for the batch circuit
//!
//! * [`keys`]: circuit-specific setup (from OS randomness; a seed only for tests and
//!   reproducible benchmarks, flagged insecure), key files cached by the circuit's parameters
//!   and a digest of its constraint matrices, and validated loading: the verifying key is always
//!   checked point by point (on the curve, in the subgroup); the proving key is accepted as is
//!   only when it is byte for byte the file setup wrote (SHA-256 recorded in `circuit.json`),
//!   and otherwise decoded with full validation and refused. A truncated or corrupt file is a
//!   typed error, never a panic.
//! * [`generator`]: the setup's key generation, ark-groth16's generator step for step from the
//!   constraint matrices (the batch circuit is synthesized once), with the key's points computed
//!   by [`fixed_base`]: the same keys byte for byte (a test compares them), in less time.
//! * [`fixed_base`]: `sᵢ·G` for one base and many scalars, batch-affine (the setup's work).
//! * [`r1cs_matrices`]: the constraint matrices of a synthesized circuit, its linear
//!   combinations expanded into a dense accumulator and kept only while used (ark-relations'
//!   `finalize` stores every one expanded): the same rows, in a fraction of the time.
//! * [`matrix_file`]: the constraint matrices kept beside the keys (`matrices.bin`), read back
//!   only by the executable that wrote them and only if they hash to the keys' digest, so a
//!   key load does not synthesize the circuit again (4 s instead of 13 s at depth 24 × 32).
//! * [`prove`]: proving that does not redo per-proof what is the same for every proof: the
//!   constraint matrices are built once, at setup or load, and each proof only computes the
//!   witness assignment (`SynthesisMode::Prove { construct_matrices: false }`) before the
//!   Groth16 prover.
//! * [`groth16`]: the Groth16 prover phase by phase: exactly ark-groth16's proof (same QAP
//!   reduction, [`qap::MixedRadixReduction`], same randomisation; a test compares the two), with zkr's MSM and a timing per
//!   phase (witness map, each of the five MSMs).
//! * [`qap`]: the R1CS-to-QAP reduction the keys are made for: libsnark's, on the smallest
//!   subgroup of size `3^b·2^k` that holds the rows (a quarter smaller than the power of two at
//!   depth 24 × 32 slots), usable as ark-groth16's `QAP` parameter.
//! * [`fft`]: the QAP witness map (`h` from the constraint evaluations) with FFTs of size
//!   `2^k`, `3·2^k` or `9·2^k` that skip bit reversals and recurse depth first; equal to
//!   ark-groth16's with the same reduction.
//! * [`rows`]: the constraint rows' values on an assignment (the witness map's first and
//!   largest step), each distinct linear combination evaluated once.
//! * [`msm`]: multi-scalar multiplication for BN254's G1 and G2 (signed digits, batch-affine
//!   bucket accumulation, scalars classified by size), equal to `ark-ec`'s on random and
//!   adversarial inputs.
//! * [`inverse`]: inversion in `Fq` and `Fq2` by Pornin's optimized binary GCD (the MSM's
//!   batched additions share one inversion per batch), equal to `ark-ff`'s.
//! * [`field`]: Montgomery multiplication in x86-64 assembly for `Fq` and `Fr` (branch-free
//!   final subtraction) and `Fq2` multiplication as two sums of products with one reduction
//!   each, for the MSM and the FFTs; equal to `ark-ff`'s.
//! * [`xyzz`]: points in extended Jacobian coordinates with those multiplications (the MSM's
//!   overflow buckets and running sums); equal to `ark-ec`'s `Bucket`.
//! * [`pool`]: a pool that proves several batches at once, with a configurable number of
//!   workers and threads per worker.
//!
//! Proofs are written in snarkjs's layout (see `zkr_verifier::snarkjs`).

// Denied, not forbidden: two places need `unsafe`, each allowed where it is and argued there:
// the MSM's bucket prefetch (`msm::Buckets::prefetch`, a cache hint that cannot change a value)
// and the field multiplications' inline assembly (`field`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod fft;
pub mod field;
pub mod fixed_base;
pub mod generator;
pub mod groth16;
pub mod inverse;
pub mod keys;
pub mod matrix_file;
pub mod msm;
pub mod pool;
pub mod prove;
pub mod qap;
pub mod r1cs_matrices;
pub mod rows;
pub mod xyzz;

pub use keys::{KeyError, KeySet};
pub use prove::{prove, ProveError, ProveTimings};

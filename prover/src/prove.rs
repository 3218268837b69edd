//! Proving one batch, with the time split by phase.

use crate::groth16::{create_proof, Groth16Error, MsmEngine, PhaseTimings};
use crate::keys::{ConstraintMatrices, KeySet};
use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{Proof, ProvingKey};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, SynthesisError, SynthesisMode,
};
use ark_std::rand::{CryptoRng, RngCore};
use serde::Serialize;
use std::time::{Duration, Instant};
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::witness::BatchWitness;

/// Proving errors.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness is for another circuit shape.
    #[error("the batch is for {got:?}, the keys for {want:?}")]
    WrongParams {
        /// The batch's parameters.
        got: zkr_circuits::CircuitParams,
        /// The keys' parameters.
        want: zkr_circuits::CircuitParams,
    },
    /// Synthesis failed.
    #[error("witness generation failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The Groth16 prover refused its inputs (keys that do not fit the circuit).
    #[error(transparent)]
    Groth16(#[from] Groth16Error),
    /// The witness does not satisfy the circuit: the resulting proof does not verify.
    #[error("the witness does not satisfy the circuit (the proof did not verify)")]
    InvalidWitness,
}

/// Where the time of one proof went.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProveTimings {
    /// Computing the full variable assignment from the batch witness (constraint synthesis
    /// without building matrices).
    pub synthesis: Duration,
    /// The Groth16 prover proper: QAP witness map (FFTs) and the multi-scalar multiplications.
    pub proving: Duration,
    /// The Groth16 prover's phases (their sum is `proving`, up to timer overhead).
    pub phases: PhaseTimings,
    /// The self-check: verifying the proof just made.
    pub self_check: Duration,
}

/// The full assignment `[1, public inputs..., witnesses...]` of a circuit: constraint synthesis
/// without building matrices (they come from setup).
pub fn assignment<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    m: &ConstraintMatrices,
) -> Result<Vec<Fr>, SynthesisError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone())?;
    let mut full = cs.instance_assignment()?.to_vec();
    full.extend_from_slice(&cs.witness_assignment()?);
    if full.len() != m.num_instance_variables + m.num_witness_variables {
        return Err(SynthesisError::Unsatisfiable);
    }
    Ok(full)
}

/// The Groth16 prover proper on a full assignment and prebuilt matrices, with fresh randomness
/// `(r, s)` from `rng` and zkr's MSM ([`crate::msm`]); returns the proof and its phase timings.
pub fn prove_assignment<R: RngCore + CryptoRng>(
    pk: &ProvingKey<Bn254>,
    m: &ConstraintMatrices,
    full: &[Fr],
    rng: &mut R,
) -> Result<(Proof<Bn254>, PhaseTimings), Groth16Error> {
    prove_assignment_with(pk, m, full, rng, MsmEngine::Zkr)
}

/// [`prove_assignment`] with a chosen MSM engine (benchmarks compare the two).
pub fn prove_assignment_with<R: RngCore + CryptoRng>(
    pk: &ProvingKey<Bn254>,
    m: &ConstraintMatrices,
    full: &[Fr],
    rng: &mut R,
    engine: MsmEngine,
) -> Result<(Proof<Bn254>, PhaseTimings), Groth16Error> {
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    create_proof(pk, m, full, r, s, engine)
}

/// Proves `witness` with `keys`; returns the proof and its public inputs.
///
/// The constraint matrices come from `keys` (built once); this call only computes the
/// assignment, then runs zkr's Groth16 prover ([`crate::groth16`]: ark-groth16's proof with
/// zkr's MSM). The proof is verified
/// before it is returned, so an invalid witness is an error, not a bad proof.
pub fn prove<R: RngCore + CryptoRng>(
    keys: &KeySet,
    witness: &BatchWitness,
    rng: &mut R,
) -> Result<(Proof<Bn254>, Vec<Fr>, ProveTimings), ProveError> {
    if witness.params != keys.meta.params {
        return Err(ProveError::WrongParams {
            got: witness.params,
            want: keys.meta.params,
        });
    }
    let m = &keys.matrices;
    let circuit = BatchCircuit::new(witness.clone()).map_err(|_| SynthesisError::Unsatisfiable)?;
    let public = circuit.public_inputs();

    let t = Instant::now();
    let full = assignment(circuit, m)?;
    let synthesis = t.elapsed();

    let t = Instant::now();
    let (proof, phases) = prove_assignment(&keys.pk, m, &full, rng)?;
    let proving = t.elapsed();

    let t = Instant::now();
    let pvk = ark_groth16::prepare_verifying_key(&keys.pk.vk);
    if !zkr_verifier::verify_proof(&pvk, &proof, &public) {
        return Err(ProveError::InvalidWitness);
    }
    let self_check = t.elapsed();
    Ok((
        proof,
        public,
        ProveTimings {
            synthesis,
            proving,
            phases,
            self_check,
        },
    ))
}

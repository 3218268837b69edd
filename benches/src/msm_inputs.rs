//! Inputs for measuring multi-scalar multiplications: bases and two kinds of scalars.
//!
//! * random scalars: uniform field elements, the worst case (Groth16's H query sees these);
//! * witness scalars: the full assignment of a real batch circuit (depth 16, 4 slots: signed
//!   transfers), repeated to the requested length: what Groth16's A, B and C queries see. Most
//!   of it is Poseidon's state, full-size field elements (91%); 7% are zero, 2% are ±1.

use crate::row::{sample_batches, BenchError};
use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::UniformRand;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
use ark_std::rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::CircuitParams;

/// `n` distinct points of the prime-order group: a walk `Pᵢ = Pᵢ₋₁ + Qᵢ mod 16` over 16 random
/// multiples of the generator (cheap to make, and no structure an MSM could exploit).
pub fn bases<P: SWCurveConfig>(n: usize, seed: u64) -> Vec<Affine<P>>
where
    Projective<P>: PrimeGroup<ScalarField = P::ScalarField>,
{
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let steps: Vec<Projective<P>> = (0..16)
        .map(|_| Projective::<P>::generator() * P::ScalarField::rand(&mut rng))
        .collect();
    let mut acc = Projective::<P>::generator() * P::ScalarField::rand(&mut rng);
    let walk: Vec<Projective<P>> = (0..n)
        .map(|i| {
            acc += steps[i % 16];
            acc
        })
        .collect();
    Projective::normalize_batch(&walk)
}

/// `n` uniform field elements.
pub fn random_scalars(n: usize, seed: u64) -> Vec<Fr> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| Fr::rand(&mut rng)).collect()
}

/// The assignment of a real batch (depth 16, 4 signed transfers), repeated to `n` values.
pub fn witness_scalars(n: usize) -> Result<Vec<Fr>, BenchError> {
    let params = CircuitParams::new(16, 4).map_err(|e| BenchError::Sample(e.to_string()))?;
    let (batch, _) = sample_batches(params, 1)?
        .pop()
        .ok_or_else(|| BenchError::Sample("no batch".into()))?;
    let circuit =
        BatchCircuit::new(batch.witness).map_err(|e| BenchError::Sample(e.to_string()))?;
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    let sample_err = |e: ark_relations::gr1cs::SynthesisError| BenchError::Sample(e.to_string());
    circuit
        .generate_constraints(cs.clone())
        .map_err(sample_err)?;
    let mut one = cs.instance_assignment().map_err(sample_err)?.to_vec();
    one.extend_from_slice(&cs.witness_assignment().map_err(sample_err)?);
    Ok(one.iter().cycle().take(n).copied().collect())
}

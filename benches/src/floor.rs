//! The Groth16 floor: proving a synthetic circuit of the same size.
//!
//! The synthetic circuit has exactly the batch circuit's numbers of constraints, instance
//! variables and witness variables. Its constraints are products `a · b = c` of random
//! field elements (plus `v · 1 = v` fillers when there are more constraints than variables), so
//! its prover does the same FFTs and multi-scalar multiplications of the same sizes, with
//! full-size scalars. Whatever the batch circuit's prover spends beyond that is the cost of its
//! structure (denser rows), not of Groth16.

use ark_bn254::Fr;
use ark_ff::UniformRand;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
};
use ark_std::rand::SeedableRng;
use std::time::{Duration, Instant};
use zkr_prover::groth16::Groth16Error;
use zkr_prover::keys::{ConstraintMatrices, KeyError};
use zkr_prover::prove::{assignment, prove_assignment};

/// Errors of the floor measurement.
#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    /// Setting up the synthetic circuit.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Proving it.
    #[error(transparent)]
    Prove(#[from] Groth16Error),
    /// Synthesis.
    #[error(transparent)]
    Synthesis(#[from] SynthesisError),
}

/// A synthetic circuit with given sizes.
#[derive(Clone, Copy)]
pub struct SyntheticCircuit {
    /// Constraints.
    pub constraints: usize,
    /// Public inputs (instance variables minus the constant 1).
    pub public_inputs: usize,
    /// Witness variables.
    pub witness_variables: usize,
    /// Seed for the values.
    pub seed: u64,
}

impl ConstraintSynthesizer<Fr> for SyntheticCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(self.seed);
        for _ in 0..self.public_inputs {
            let _ = cs.new_input_variable(|| Ok(Fr::rand(&mut rng)))?;
        }
        // Free variables, then products of earlier variables, one new variable per constraint.
        let products = self
            .constraints
            .min(self.witness_variables.saturating_sub(2));
        let free = self.witness_variables - products;
        let mut vars: Vec<(Variable, Fr)> = Vec::with_capacity(self.witness_variables);
        for _ in 0..free {
            let v = Fr::rand(&mut rng);
            vars.push((cs.new_witness_variable(|| Ok(v))?, v));
        }
        for i in 0..products {
            let (a, av) = vars[(i * 7 + 1) % vars.len()];
            let (b, bv) = vars[(i * 13 + 3) % vars.len()];
            let cv = av * bv;
            let c = cs.new_witness_variable(|| Ok(cv))?;
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(a),
                || LinearCombination::from(b),
                || LinearCombination::from(c),
            )?;
            vars.push((c, cv));
        }
        for i in 0..(self.constraints - products) {
            let (v, _) = vars[i % vars.len()];
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(v),
                || LinearCombination::from(Variable::One),
                || LinearCombination::from(v),
            )?;
        }
        Ok(())
    }
}

/// Sets up the synthetic circuit and proves it `runs` times on the current rayon pool, exactly
/// as zkr proves a batch (assignment without matrices, then the prover on prebuilt matrices);
/// returns the prove times.
pub fn floor(
    constraints: usize,
    public_inputs: usize,
    witness_variables: usize,
    runs: usize,
) -> Result<Vec<Duration>, FloorError> {
    let c = SyntheticCircuit {
        constraints,
        public_inputs,
        witness_variables,
        seed: 1,
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let m = ConstraintMatrices::from_circuit(c)?;
    let pk = zkr_prover::qap::Groth16::generate_random_parameters_with_reduction(c, &mut rng)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let full = assignment(c, &m)?;
        prove_assignment(&pk, &m, &full, &mut rng)?;
        times.push(t.elapsed());
    }
    Ok(times)
}

//! Groth16's circuit-specific setup for zkr's keys: ark-groth16's generator
//! (`Groth16::generate_random_parameters_with_reduction` with [`MixedRadixReduction`]) step for
//! step, from the constraint matrices instead of a circuit, with the work that dominates it
//! done faster. The proving key is byte for byte ark-groth16's for the same randomness (a test
//! compares the two on the batch circuit).
//!
//! The steps, as ark-groth16 takes them:
//!
//! 1. The toxic waste from the random generator, in ark-groth16's order: `α, β, γ, δ`, random
//!    generators of G1 and G2, and the evaluation point `τ` (drawn against the power-of-two
//!    domain, as ark-groth16 draws it).
//! 2. The QAP at `τ`: the Lagrange coefficients `L_k(τ)` of the QAP domain, and for every
//!    variable `i` the sums `a_i = Σ_k A[k][i]·L_k(τ)` (likewise `b_i`, `c_i`), the public
//!    inputs' rows last. ark-groth16 first builds a constraint system from the circuit to read
//!    the matrices back; here they are given, and the three sums run side by side.
//! 3. The scalars of the key: `(β·a_i + α·b_i + c_i)/γ` for the public inputs,
//!    `(β·a_i + α·b_i + c_i)/δ` for the others, and `τ^k·Z(τ)/δ` for the `h` query.
//!    ark-groth16 computes each power `τ^k` on its own (a square-and-multiply each: about 30
//!    multiplications for `k < 2^20`); here each thread takes a run of `k` and multiplies by `τ`
//!    once a step.
//! 4. The key's points: each scalar times the G1 or G2 generator, with
//!    [`crate::fixed_base`]'s batch-affine method where ark-groth16 uses
//!    `ark-ec`'s `BatchMulPreprocessing`.

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ff::{Field, UniformRand};
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain, MixedRadixEvaluationDomain};
use ark_relations::gr1cs::SynthesisError;
use ark_relations::utils::matrix::Matrix;
use ark_std::rand::Rng;
use rayon::prelude::*;

use crate::fixed_base::FixedBaseTable;
use crate::keys::ConstraintMatrices;
use crate::qap::MixedRadixReduction;

/// Powers of `τ` per run in step 3.
const POWERS_PER_RUN: usize = 1 << 12;

/// The proving key (which holds the verifying key) for `matrices`, with the toxic waste drawn
/// from `rng`: what `Groth16::<Bn254, MixedRadixReduction>::generate_random_parameters_with_reduction`
/// returns for the circuit of these matrices and the same `rng`.
pub fn generate_proving_key<R: Rng>(
    matrices: &ConstraintMatrices,
    rng: &mut R,
) -> Result<ProvingKey<Bn254>, SynthesisError> {
    // 1. The toxic waste.
    let alpha = Fr::rand(rng);
    let beta = Fr::rand(rng);
    let gamma = Fr::rand(rng);
    let delta = Fr::rand(rng);
    let g1 = G1Projective::rand(rng);
    let g2 = G2Projective::rand(rng);
    let rows = matrices.num_constraints + matrices.num_instance_variables;
    let tau = GeneralEvaluationDomain::<Fr>::new(rows)
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?
        .sample_element_outside_domain(rng);

    // 2. The QAP at τ.
    let domain = MixedRadixEvaluationDomain::<Fr>::new(rows)
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let zt = domain.evaluate_vanishing_polynomial(tau);
    let lagrange = domain.evaluate_all_lagrange_coefficients(tau);
    let (a, (b, c)) = rayon::join(
        || evaluate(matrices, 0, &lagrange, true),
        || {
            rayon::join(
                || evaluate(matrices, 1, &lagrange, false),
                || evaluate(matrices, 2, &lagrange, false),
            )
        },
    );
    drop(lagrange);

    // 3. The scalars.
    let gamma_inverse = gamma.inverse().ok_or(SynthesisError::DivisionByZero)?;
    let delta_inverse = delta.inverse().ok_or(SynthesisError::DivisionByZero)?;
    let inputs = matrices.num_instance_variables;
    let combine = |range: std::ops::Range<usize>, by: Fr| -> Vec<Fr> {
        range
            .into_par_iter()
            .map(|i| (beta * a[i] + alpha * b[i] + c[i]) * by)
            .collect()
    };
    let gamma_abc = combine(0..inputs, gamma_inverse);
    let l = combine(inputs..a.len(), delta_inverse);
    drop(c);
    let h_scalars = h_query_scalars(domain.size() - 1, tau, zt * delta_inverse);
    debug_assert_eq!(
        h_scalars,
        MixedRadixReduction::h_query_scalars::<Fr, MixedRadixEvaluationDomain<Fr>>(
            domain.size() - 1,
            tau,
            zt,
            delta_inverse
        )?
    );

    // 4. The points.
    let b_g2_query = FixedBaseTable::new(g2, b.len()).batch_mul(&b);
    let g1_table = FixedBaseTable::new(g1, a.len() + b.len() + h_scalars.len() + l.len());
    let a_query = g1_table.batch_mul(&a);
    drop(a);
    let b_g1_query = g1_table.batch_mul(&b);
    drop(b);
    let h_query = g1_table.batch_mul(&h_scalars);
    drop(h_scalars);
    let l_query = g1_table.batch_mul(&l);
    drop(l);
    let gamma_abc_g1 = g1_table.batch_mul(&gamma_abc);

    let vk = VerifyingKey::<Bn254> {
        alpha_g1: (g1 * alpha).into_affine(),
        beta_g2: (g2 * beta).into_affine(),
        gamma_g2: (g2 * gamma).into_affine(),
        delta_g2: (g2 * delta).into_affine(),
        gamma_abc_g1,
    };
    Ok(ProvingKey {
        vk,
        beta_g1: (g1 * beta).into_affine(),
        delta_g1: (g1 * delta).into_affine(),
        a_query,
        b_g1_query,
        b_g2_query,
        h_query,
        l_query,
    })
}

/// `Σ_k M[k][i]·L_k(τ)` for every variable `i` of matrix `which` (libsnark's reduction); for A,
/// the public inputs' own rows (after the constraints) add `L_(constraints + i)(τ)` to input `i`.
fn evaluate(m: &ConstraintMatrices, which: usize, lagrange: &[Fr], inputs_rows: bool) -> Vec<Fr> {
    let matrix: &Matrix<Fr> = &m.matrices[which];
    let mut sums = vec![Fr::ZERO; m.num_instance_variables + m.num_witness_variables];
    if inputs_rows {
        let start = m.num_constraints;
        sums[..m.num_instance_variables]
            .copy_from_slice(&lagrange[start..start + m.num_instance_variables]);
    }
    for (row, l_k) in matrix.iter().zip(lagrange) {
        for (coefficient, i) in row {
            sums[*i] += *l_k * coefficient;
        }
    }
    sums
}

/// `τ^k · zt_over_delta` for `k < count`, a run of powers per task.
fn h_query_scalars(count: usize, tau: Fr, zt_over_delta: Fr) -> Vec<Fr> {
    let mut scalars = vec![Fr::ZERO; count];
    scalars
        .par_chunks_mut(POWERS_PER_RUN)
        .enumerate()
        .for_each(|(run, out)| {
            let mut s = zt_over_delta * tau.pow([(run * POWERS_PER_RUN) as u64]);
            for x in out {
                *x = s;
                s *= tau;
            }
        });
    scalars
}

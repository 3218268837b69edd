//! The R1CS-to-QAP reduction zkr's keys are made for: libsnark's, on the smallest domain.
//!
//! Groth16 interpolates the constraint system's rows (constraints, then one row per public
//! input) over a multiplicative subgroup `H` of the scalar field, at least as large as the rows.
//! The prover's quotient `h` has one coefficient per element of `H` (its H MSM has `|H| − 1`
//! points) and its seven transforms are of size `|H|`, so the size of `H` is a direct cost.
//!
//! ark-groth16's default, [`LibsnarkReduction`] on a `GeneralEvaluationDomain`, takes the next
//! power of two. BN254's `r − 1` is divisible by `2^28 · 3²`, so subgroups of size `3^b · 2^k`
//! (`b ≤ 2`) exist as well; [`MixedRadixReduction`] is the same reduction on ark-poly's
//! `MixedRadixEvaluationDomain`, which picks the smallest of them. For the depth-24 circuit with
//! 32 slots (634,837 rows) that is `3 · 2^18 = 786,432` instead of `2^20 = 1,048,576`: a quarter
//! of the H MSM's points and of the transforms' length. For any number of rows it is never larger
//! than the power of two (`b = 0` is one of the candidates).
//!
//! Everything else is libsnark's reduction unchanged — the same Lagrange interpolation, the same
//! coset (`F::GENERATOR`), the same `h` query — so ark-groth16's generator, prover and verifier
//! work with it as the `QAP` type parameter ([`Groth16`]), and a proof is an ordinary Groth16
//! proof: verifying keys, the L1 verifiers and snarkjs are unaffected. Keys made for one
//! domain are of course not valid for another; [`crate::keys`] records the domain size.
//!
//! A field without a small subgroup (no `SMALL_SUBGROUP_BASE`) falls back to the power of two.

use ark_ff::{FftField, PrimeField};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::{EvaluationDomain, MixedRadixEvaluationDomain};
use ark_relations::gr1cs::{ConstraintSystemRef, Matrix, SynthesisError};

/// Groth16 on BN254 with zkr's reduction: what `zkr setup` generates keys with and what
/// arkworks' own prover must be called with to prove for those keys.
pub type Groth16 = ark_groth16::Groth16<ark_bn254::Bn254, MixedRadixReduction>;

/// libsnark's R1CS-to-QAP reduction on the smallest subgroup of size `3^b · 2^k` that holds
/// the rows (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct MixedRadixReduction;

/// Whether `F` has subgroups of size `3^b · 2^k` (ark-poly's mixed-radix domain panics on a
/// field without them, so it is asked only when they exist).
fn has_small_subgroup<F: FftField>() -> bool {
    F::SMALL_SUBGROUP_BASE.is_some() && F::SMALL_SUBGROUP_BASE_ADICITY.is_some()
}

/// The size of the QAP domain for `rows` rows (constraints plus instance variables): the
/// smallest `3^b · 2^k ≥ rows` the field supports, `None` if there is none.
pub fn domain_size<F: FftField>(rows: usize) -> Option<usize> {
    if has_small_subgroup::<F>() {
        MixedRadixEvaluationDomain::<F>::new(rows).map(|d| d.size())
    } else {
        ark_poly::Radix2EvaluationDomain::<F>::new(rows).map(|d| d.size())
    }
}

impl R1CSToQAP for MixedRadixReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        if has_small_subgroup::<F>() {
            LibsnarkReduction::instance_map_with_evaluation::<F, MixedRadixEvaluationDomain<F>>(
                cs, t,
            )
        } else {
            LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
        }
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        if has_small_subgroup::<F>() {
            LibsnarkReduction::witness_map_from_matrices::<F, MixedRadixEvaluationDomain<F>>(
                matrices,
                num_inputs,
                num_constraints,
                full_assignment,
            )
        } else {
            LibsnarkReduction::witness_map_from_matrices::<F, D>(
                matrices,
                num_inputs,
                num_constraints,
                full_assignment,
            )
        }
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // `t^i · Z(t) / δ` for `i < |H| − 1`: independent of the domain's shape.
        LibsnarkReduction::h_query_scalars::<F, D>(max_power, t, zt, delta_inverse)
    }
}

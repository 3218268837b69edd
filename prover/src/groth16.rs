//! The Groth16 prover, phase by phase: ark-groth16's proof, computed with zkr's MSM.
//!
//! [`create_proof`] computes exactly the proof that ark-groth16 0.6's
//! `create_proof_with_reduction_and_matrices` computes for the same proving key, matrices,
//! assignment and randomness `(r, s)` with the keys' QAP reduction
//! ([`crate::qap::MixedRadixReduction`]: libsnark's, on the smallest `3^b·2^k` domain): the same
//! `h` (computed by [`crate::fft::witness_map`], equal to arkworks' and faster), the same five
//! multi-scalar multiplications and the same combination. The MSM algorithm is selectable
//! ([`MsmEngine`]); the test `zkr_prover_equals_ark_groth16` compares the two proofs point by
//! point. Each phase is timed separately ([`PhaseTimings`]) so a benchmark shows where a proof's
//! time goes.
//!
//! With `A(x)`, `B(x)`, `C(x)` the QAP polynomials of the assignment `z = (1, x, w)` and
//! `h(x) = (A·B − C)/Z`, the proof is
//!
//! ```text
//! A = α + Σ zᵢ·aᵢ(τ)·G1 + r·δ                      (MSM "A", over z without the leading 1)
//! B = β + Σ zᵢ·bᵢ(τ)·G2 + s·δ                      (MSM "B in G2"; "B in G1" is the same in G1,
//!                                                  needed for C)
//! C = s·A + r·B₁ − r·s·δ + Σ wᵢ·lᵢ + Σ hᵢ·Hᵢ        (MSMs "C" over the private inputs w, and "H")
//! ```

use crate::fft;
use crate::keys::ConstraintMatrices;
use crate::msm::{self, MsmError, PreparedScalars};
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::Zero;
use ark_groth16::{Proof, ProvingKey};
use ark_relations::gr1cs::SynthesisError;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Which multi-scalar multiplication computes the proof's group elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MsmEngine {
    /// [`crate::msm`]: signed digits, batch-affine accumulation (the default).
    #[default]
    Zkr,
    /// `ark-ec` 0.6's `VariableBaseMSM::msm`, what ark-groth16 uses.
    Arkworks,
}

/// Where the time of one Groth16 proof went, phase by phase.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhaseTimings {
    /// The R1CS-to-QAP witness map: evaluating the constraints on the assignment and the
    /// seven FFTs that give `h`.
    pub witness_map: Duration,
    /// Preparing the scalars for the MSMs (canonical form, classification).
    pub scalars: Duration,
    /// MSM "A" in G1, over the full assignment.
    pub msm_a: Duration,
    /// MSM "B in G1", over the full assignment.
    pub msm_b_g1: Duration,
    /// MSM "B in G2", over the full assignment.
    pub msm_b_g2: Duration,
    /// MSM "C" in G1, over the private inputs (the `l` query).
    pub msm_c: Duration,
    /// MSM "H" in G1, over the coefficients of `h` (random-looking full-size scalars).
    pub msm_h: Duration,
    /// Everything else: the randomisation terms and the final additions and normalisation.
    pub finish: Duration,
}

impl PhaseTimings {
    /// The sum of the phases.
    pub fn total(&self) -> Duration {
        self.witness_map
            + self.scalars
            + self.msm_a
            + self.msm_b_g1
            + self.msm_b_g2
            + self.msm_c
            + self.msm_h
            + self.finish
    }

    /// The sum of the five MSMs.
    pub fn msm_total(&self) -> Duration {
        self.msm_a + self.msm_b_g1 + self.msm_b_g2 + self.msm_c + self.msm_h
    }
}

/// Proving errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum Groth16Error {
    /// The QAP reduction failed (the domain is too large for the field).
    #[error("QAP reduction: {0}")]
    Reduction(#[from] SynthesisError),
    /// The assignment's length does not match the circuit's.
    #[error("the assignment has {got} values, the circuit {want}")]
    AssignmentLength {
        /// Values given.
        got: usize,
        /// Values the circuit has (instance and witness variables).
        want: usize,
    },
    /// The proving key's queries do not match the circuit's variables.
    #[error("the proving key does not fit the circuit: {0}")]
    KeyShape(#[from] MsmError),
}

/// Scalars shared by several MSMs, in whichever form the engine wants.
enum Scalars<'a> {
    Zkr(PreparedScalars),
    Arkworks(&'a [Fr]),
}

impl<'a> Scalars<'a> {
    fn new(engine: MsmEngine, s: &'a [Fr]) -> Result<Self, MsmError> {
        Ok(match engine {
            MsmEngine::Zkr => Scalars::Zkr(PreparedScalars::new(s)?),
            MsmEngine::Arkworks => Scalars::Arkworks(s),
        })
    }

    fn g1(&self, bases: &[G1Affine]) -> Result<G1Projective, MsmError> {
        match self {
            Scalars::Zkr(p) => msm::msm_prepared(bases, p),
            Scalars::Arkworks(s) => G1Projective::msm(bases, s).map_err(|_| mismatch(bases, s)),
        }
    }

    fn g2(&self, bases: &[G2Affine]) -> Result<G2Projective, MsmError> {
        match self {
            Scalars::Zkr(p) => msm::msm_prepared(bases, p),
            Scalars::Arkworks(s) => G2Projective::msm(bases, s).map_err(|_| mismatch(bases, s)),
        }
    }
}

fn mismatch<T>(bases: &[T], scalars: &[Fr]) -> MsmError {
    MsmError::LengthMismatch {
        bases: bases.len(),
        scalars: scalars.len(),
    }
}

/// Times `f` into `slot`.
fn timed<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    *slot = t.elapsed();
    out
}

/// The Groth16 proof of the full assignment `full = [1, public inputs…, witnesses…]` with
/// randomness `(r, s)`, and where its time went.
pub fn create_proof(
    pk: &ProvingKey<Bn254>,
    m: &ConstraintMatrices,
    full: &[Fr],
    r: Fr,
    s: Fr,
    engine: MsmEngine,
) -> Result<(Proof<Bn254>, PhaseTimings), Groth16Error> {
    let want = m.num_instance_variables + m.num_witness_variables;
    if full.len() != want {
        return Err(Groth16Error::AssignmentLength {
            got: full.len(),
            want,
        });
    }
    let num_inputs = m.num_instance_variables;
    let mut t = PhaseTimings::default();

    let h = timed(&mut t.witness_map, || {
        fft::witness_map_with_rows(
            &m.distinct_rows,
            &m.matrices,
            num_inputs,
            m.num_constraints,
            full,
        )
    })?;

    // The query lengths are fixed by the setup: `a`, `b` have one entry per variable, `l` one
    // per private input, `h` one per power below the domain size minus one.
    let assignment = &full[1..];
    let aux = &full[num_inputs..];
    let h = &h[..pk.h_query.len().min(h.len())];
    let check = |bases: usize, scalars: usize| {
        (bases == scalars)
            .then_some(())
            .ok_or(MsmError::LengthMismatch { bases, scalars })
    };
    check(pk.a_query.len(), full.len())?;
    check(pk.b_g1_query.len(), full.len())?;
    check(pk.b_g2_query.len(), full.len())?;
    check(pk.l_query.len(), aux.len())?;
    check(pk.h_query.len(), h.len())?;

    let (z, w, hs) = timed(&mut t.scalars, || -> Result<_, MsmError> {
        Ok((
            Scalars::new(engine, assignment)?,
            Scalars::new(engine, aux)?,
            Scalars::new(engine, h)?,
        ))
    })?;

    let h_acc = timed(&mut t.msm_h, || hs.g1(&pk.h_query))?;
    let l_acc = timed(&mut t.msm_c, || w.g1(&pk.l_query))?;
    let a_acc = timed(&mut t.msm_a, || z.g1(&pk.a_query[1..]))?;
    let b1_acc = timed(&mut t.msm_b_g1, || z.g1(&pk.b_g1_query[1..]))?;
    let b2_acc = timed(&mut t.msm_b_g2, || z.g2(&pk.b_g2_query[1..]))?;

    let proof = timed(&mut t.finish, || {
        let g_a = pk.delta_g1 * r + pk.a_query[0] + a_acc + pk.vk.alpha_g1;
        let g1_b = if r.is_zero() {
            G1Projective::zero()
        } else {
            pk.delta_g1 * s + pk.b_g1_query[0] + b1_acc + pk.beta_g1
        };
        let g2_b = pk.vk.delta_g2 * s + pk.b_g2_query[0] + b2_acc + pk.vk.beta_g2;
        let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_acc + h_acc;
        Proof {
            a: g_a.into_affine(),
            b: g2_b.into_affine(),
            c: g_c.into_affine(),
        }
    });
    Ok((proof, t))
}

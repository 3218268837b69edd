//! Montgomery-form points as constraints: the twin of [`super::MontPoint`].
//!
//! Every operation allocates its results as witnesses and pins them with one constraint each:
//!
//! * [`MontVar::from_edwards`] (2): `u·(1 − y) = 1 + y`, `v·x = u`;
//! * [`MontVar::to_edwards`] (2): `x·v = u`, `y·(u + 1) = u − 1`;
//! * [`MontVar::add`] (3): `λ·(u₂ − u₁) = v₂ − v₁`, `λ² = λ·λ`, `(v₃ + v₁) = λ·(u₁ − u₃)` with
//!   `u₃ = B·λ² − A − u₁ − u₂` a linear combination;
//! * [`MontVar::double`] (4): `u² = u·u`, `λ·2B·v = 3u² + 2A·u + 1`, then as in `add`.
//!
//! Each constraint determines its result uniquely exactly when its divisor (`1 − y`, `x`, `v`,
//! `u + 1`, `u₂ − u₁`, `2B·v`) is non-zero. A zero divisor with a zero numerator would leave the
//! result free — the way an incomplete formula turns into a forgery — so **every caller must
//! rule those cases out for every satisfying assignment**, not just for honest ones (see
//! [`crate::scalar_mul`] for how it does). With a zero divisor and a non-zero numerator the
//! constraint is simply unsatisfiable. Witness generation never fails: a zero divisor yields 0
//! and an unsatisfied constraint, so a malicious witness is refused by the constraint system,
//! not by a synthesis error.

use super::{coeff_a, coeff_b};
use crate::Fr;
use ark_ed_on_bn254::constraints::EdwardsVar;
use ark_ff::{AdditiveGroup, Field, Zero};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;

/// `num / den` as a witness `q` with the constraint `q·den = num` (1 constraint); `q = 0` when
/// `den = 0` (the constraint then holds only if `num = 0`: see the module docs).
pub fn quotient(num: &FpVar<Fr>, den: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let value = || -> Result<Fr, SynthesisError> {
        Ok(num.value()? * den.value()?.inverse().unwrap_or(Fr::zero()))
    };
    let cs = num.cs().or(den.cs());
    if cs.is_none() {
        return Ok(FpVar::constant(value()?));
    }
    let q = FpVar::new_witness(cs, value)?;
    q.mul_equals(den, num)?;
    Ok(q)
}

/// A Montgomery point `(u, v)` as variables (or constants).
#[derive(Clone, Debug)]
pub struct MontVar {
    /// `u`.
    pub u: FpVar<Fr>,
    /// `v`.
    pub v: FpVar<Fr>,
}

impl MontVar {
    /// A point with constant coordinates.
    pub fn constant(p: &super::MontPoint) -> Self {
        Self {
            u: FpVar::constant(p.u),
            v: FpVar::constant(p.v),
        }
    }

    /// The Montgomery form of the Edwards point `p` (2 constraints). Sound only if `p` is
    /// neither `O` (`y = 1`) nor `(0, −1)` (`x = 0`) in every satisfying assignment.
    pub fn from_edwards(p: &EdwardsVar) -> Result<Self, SynthesisError> {
        let one = FpVar::one();
        let u = quotient(&(&one + &p.y), &(&one - &p.y))?;
        let v = quotient(&u, &p.x)?;
        Ok(Self { u, v })
    }

    /// The Edwards form (2 constraints). Sound only if `v ≠ 0` and `u ≠ −1`, which holds for
    /// every point of the prime-order subgroup other than `O`.
    pub fn to_edwards(&self) -> Result<EdwardsVar, SynthesisError> {
        let one = FpVar::one();
        let x = quotient(&self.u, &self.v)?;
        let y = quotient(&(&self.u - &one), &(&self.u + &one))?;
        Ok(EdwardsVar::new(x, y))
    }

    /// `(u, ±v)`: `self` when `positive`, else `−self` (1 constraint, or none for a constant).
    pub fn with_sign(&self, positive: &Boolean<Fr>) -> Result<Self, SynthesisError> {
        Ok(Self {
            u: self.u.clone(),
            v: FpVar::conditionally_select(positive, &self.v, &self.v.negate()?)?,
        })
    }

    /// `self + q` (3 constraints). Sound only if `u_self ≠ u_q` in every satisfying
    /// assignment, i.e. `q ≠ ±self`.
    pub fn add(&self, q: &Self) -> Result<Self, SynthesisError> {
        let lambda = quotient(&(&q.v - &self.v), &(&q.u - &self.u))?;
        self.with_slope(&lambda, &q.u)
    }

    /// `2·self` (4 constraints). Sound only if `v ≠ 0` (the point is not of order 2).
    pub fn double(&self) -> Result<Self, SynthesisError> {
        let u2 = self.u.square()?;
        let num = &u2 * Fr::from(3u64) + &self.u * coeff_a().double() + Fr::from(1u64);
        let lambda = quotient(&num, &(&self.v * coeff_b().double()))?;
        self.with_slope(&lambda, &self.u)
    }

    /// `u₃ = B·λ² − A − u₁ − u₂`, `v₃ = λ·(u₁ − u₃) − v₁` (2 constraints).
    fn with_slope(&self, lambda: &FpVar<Fr>, other_u: &FpVar<Fr>) -> Result<Self, SynthesisError> {
        let u = lambda.square()? * coeff_b() - coeff_a() - &self.u - other_u;
        let v = lambda * &(&self.u - &u) - &self.v;
        Ok(Self { u, v })
    }
}

/// Test helper: is `cs` still satisfied after adding 1 to witness `index`? The linear
/// combinations are inlined and their cached values dropped, so every constraint sees the
/// change; the assignment is restored afterwards.
#[cfg(test)]
pub(crate) fn satisfied_with_tampered_witness(
    cs: &ark_relations::gr1cs::ConstraintSystemRef<Fr>,
    index: usize,
) -> bool {
    cs.finalize();
    let (original, cached) = {
        let mut inner = cs.borrow_mut().expect("a constraint system");
        let a = &mut inner.assignments;
        let original = a.witness_assignment[index];
        a.witness_assignment[index] += Fr::from(1u64);
        (original, std::mem::take(&mut a.lc_assignment))
    };
    let satisfied = cs.is_satisfied().expect("prove mode");
    let mut inner = cs.borrow_mut().expect("a constraint system");
    inner.assignments.witness_assignment[index] = original;
    inner.assignments.lc_assignment = cached;
    satisfied
}

#[cfg(test)]
mod tests {
    use super::super::MontPoint;
    use super::*;
    use crate::eddsa::generator;
    use ark_ec::CurveGroup;
    use ark_ed_on_bn254::{EdwardsAffine, Fr as Scalar};
    use ark_r1cs_std::eq::EqGadget;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
    use proptest::prelude::*;

    fn point(k: u64) -> EdwardsAffine {
        (generator() * Scalar::from(k)).into_affine()
    }

    fn edwards(cs: &ConstraintSystemRef<Fr>, p: &EdwardsAffine) -> EdwardsVar {
        EdwardsVar::new(
            FpVar::new_witness(cs.clone(), || Ok(p.x)).unwrap(),
            FpVar::new_witness(cs.clone(), || Ok(p.y)).unwrap(),
        )
    }

    fn mont(cs: &ConstraintSystemRef<Fr>, p: &MontPoint) -> MontVar {
        MontVar {
            u: FpVar::new_witness(cs.clone(), || Ok(p.u)).unwrap(),
            v: FpVar::new_witness(cs.clone(), || Ok(p.v)).unwrap(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// gadget == native for the map both ways, addition, doubling and the sign, with the
        /// documented constraint counts.
        #[test]
        fn gadget_equals_native(a in 1u64..u64::MAX, b in 1u64..u64::MAX, sign: bool) {
            prop_assume!(a != b);
            let (pa, pb) = (point(a), point(b));
            let (ma, mb) = (MontPoint::from_edwards(&pa).unwrap(), MontPoint::from_edwards(&pb).unwrap());
            let cs = ConstraintSystem::<Fr>::new_ref();
            let ea = edwards(&cs, &pa);
            let n = cs.num_constraints();
            let va = MontVar::from_edwards(&ea).unwrap();
            prop_assert_eq!(cs.num_constraints() - n, 2);
            prop_assert_eq!((va.u.value().unwrap(), va.v.value().unwrap()), (ma.u, ma.v));
            let vb = mont(&cs, &mb);
            let n = cs.num_constraints();
            let sum = va.add(&vb).unwrap();
            prop_assert_eq!(cs.num_constraints() - n, 3);
            let want = ma.add(&mb).unwrap();
            prop_assert_eq!((sum.u.value().unwrap(), sum.v.value().unwrap()), (want.u, want.v));
            let n = cs.num_constraints();
            let dbl = va.double().unwrap();
            prop_assert_eq!(cs.num_constraints() - n, 4);
            let want = ma.double().unwrap();
            prop_assert_eq!((dbl.u.value().unwrap(), dbl.v.value().unwrap()), (want.u, want.v));
            let s = Boolean::new_witness(cs.clone(), || Ok(sign)).unwrap();
            let signed = vb.with_sign(&s).unwrap();
            let want = if sign { mb } else { mb.neg() };
            prop_assert_eq!(signed.v.value().unwrap(), want.v);
            let n = cs.num_constraints();
            let back = sum.to_edwards().unwrap();
            prop_assert_eq!(cs.num_constraints() - n, 2);
            let want = ma.add(&mb).unwrap().to_edwards().unwrap();
            prop_assert_eq!((back.x.value().unwrap(), back.y.value().unwrap()), (want.x, want.y));
            prop_assert!(cs.is_satisfied().unwrap());
        }
    }

    /// A prover who writes a wrong sum, slope or double is refused: each result is pinned.
    #[test]
    fn wrong_results_are_unsatisfied() {
        let (ma, mb) = (
            MontPoint::from_edwards(&point(3)).unwrap(),
            MontPoint::from_edwards(&point(10)).unwrap(),
        );
        let other = MontPoint::from_edwards(&point(77)).unwrap();
        for op in 0..2 {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let (va, vb) = (mont(&cs, &ma), mont(&cs, &mb));
            let r = if op == 0 {
                va.add(&vb).unwrap()
            } else {
                va.double().unwrap()
            };
            assert!(cs.is_satisfied().unwrap());
            // Claim the result is another point: the system cannot agree.
            let claimed = mont(&cs, &other);
            r.u.enforce_equal(&claimed.u).unwrap();
            r.v.enforce_equal(&claimed.v).unwrap();
            assert!(!cs.is_satisfied().unwrap(), "op {op}");
        }
        // Tamper with each witness of `add`, `double` and `to_edwards` in turn: all are pinned.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (va, vb) = (mont(&cs, &ma), mont(&cs, &mb));
        let first = cs.num_witness_variables();
        let _ = va.add(&vb).unwrap();
        let _ = va.double().unwrap();
        let _ = va.to_edwards().unwrap();
        assert!(cs.is_satisfied().unwrap());
        for i in first..cs.num_witness_variables() {
            assert!(
                !satisfied_with_tampered_witness(&cs, i),
                "witness {i} is free"
            );
        }
    }

    /// The exceptional inputs: the identity has no Montgomery form (unsatisfied); the point of
    /// order 2, `(0, −1)`, maps to `(0, 0)` but leaves `v` free — the reason every caller must
    /// exclude it (the EdDSA gadget does: its base is `8A`, in the prime-order subgroup and not
    /// `O`); and adding a point to its negation has no slope (unsatisfied).
    #[test]
    fn exceptional_inputs_are_unsatisfied_or_excluded() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let e = edwards(
            &cs,
            &EdwardsAffine::new_unchecked(Fr::zero(), Fr::from(1u64)),
        );
        let _ = MontVar::from_edwards(&e).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "identity");

        let cs = ConstraintSystem::<Fr>::new_ref();
        let e = edwards(
            &cs,
            &EdwardsAffine::new_unchecked(Fr::zero(), -Fr::from(1u64)),
        );
        let _ = MontVar::from_edwards(&e).unwrap();
        assert!(cs.is_satisfied().unwrap());
        let v_index = cs.num_witness_variables() - 1;
        assert!(
            satisfied_with_tampered_witness(&cs, v_index),
            "(0, −1): v is not pinned"
        );

        let ma = MontPoint::from_edwards(&point(9)).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let (va, vb) = (mont(&cs, &ma), mont(&cs, &ma.neg()));
        let _ = va.add(&vb).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "P + (−P)");
    }
}

//! The two scalar multiplications as constraints: the twin of [`super::fixed_base_mul`] and
//! [`super::variable_base_mul`], with the same schedule (why it never meets an exceptional case
//! of Montgomery addition is argued in [`super`]).
//!
//! Costs (pinned by `constraint_costs`):
//!
//! * [`fixed_base_mul_var`] 505: per window one product `s_2m·s_2m+1` for the 4-entry constant
//!   lookup (125), 124 Montgomery additions (372), back to Edwards (2), and one Edwards addition
//!   of the constant chosen by the top bit (6);
//! * [`variable_base_mul_var`] 2,059: to Montgomery (2), 253 doublings (1,012), 250 signs (250),
//!   249 additions (747), and in Edwards form the five corrections (48).

use super::{fixed_base_tables, FIXED_WINDOWS, H_BITS, S_BITS, VARIABLE_DIGITS};
use crate::montgomery::gadget::MontVar;
use crate::montgomery::MontPoint;
use crate::Fr;
use ark_ed_on_bn254::constraints::EdwardsVar;
use ark_ed_on_bn254::EdwardsAffine;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::groups::CurveVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_relations::gr1cs::SynthesisError;

/// The entry of a 4-entry constant table selected by two bits, as linear combinations of
/// `1, b0, b1, b0·b1` (the product is the caller's one constraint).
fn lookup4(row: &[MontPoint; 4], b0: &Boolean<Fr>, b1: &Boolean<Fr>, b01: &Boolean<Fr>) -> MontVar {
    let (b0, b1, b01) = (
        FpVar::from(b0.clone()),
        FpVar::from(b1.clone()),
        FpVar::from(b01.clone()),
    );
    let pick = |c: [Fr; 4]| {
        FpVar::constant(c[0])
            + &b0 * (c[1] - c[0])
            + &b1 * (c[2] - c[0])
            + &b01 * (c[3] - c[2] - c[1] + c[0])
    };
    MontVar {
        u: pick(row.map(|p| p.u)),
        v: pick(row.map(|p| p.v)),
    }
}

/// `S·B` for `S` given as [`S_BITS`] little-endian boolean bits (505 constraints), correct for
/// every assignment of the bits.
pub fn fixed_base_mul_var(s_bits: &[Boolean<Fr>]) -> Result<EdwardsVar, SynthesisError> {
    assert_eq!(s_bits.len(), S_BITS, "S has {S_BITS} bits");
    let t = fixed_base_tables();
    let mut acc: Option<MontVar> = None;
    for (m, row) in t.windows.iter().enumerate().take(FIXED_WINDOWS) {
        let (b0, b1) = (&s_bits[2 * m], &s_bits[2 * m + 1]);
        let q = lookup4(row, b0, b1, &(b0 & b1));
        acc = Some(match acc {
            None => q,
            Some(a) => a.add(&q)?,
        });
    }
    let f = acc.expect("at least one window").to_edwards()?;
    let top = FpVar::from(s_bits[S_BITS - 1].clone());
    let pick = |lo: Fr, hi: Fr| FpVar::constant(lo) + &top * (hi - lo);
    let (c, d): (&EdwardsAffine, &EdwardsAffine) = (&t.offset, &t.offset_top);
    Ok(f + EdwardsVar::new(pick(c.x, d.x), pick(c.y, d.y)))
}

/// `h·T` for `h` given as [`H_BITS`] little-endian boolean bits (2,059 constraints).
///
/// Sound only for a base `T` of the prime-order subgroup other than `O` in every satisfying
/// assignment (the EdDSA gadget's `T = 8A` with `8A ≠ O` enforced): for such a base every
/// Montgomery formula below has a non-zero divisor, so each intermediate point is the unique
/// one the constraints allow. For any other base the constraints are unsatisfiable or
/// meaningless, so the caller must enforce it.
pub fn variable_base_mul_var(
    t: &EdwardsVar,
    h_bits: &[Boolean<Fr>],
) -> Result<EdwardsVar, SynthesisError> {
    assert_eq!(h_bits.len(), H_BITS, "h has {H_BITS} bits");
    let mut p = MontVar::from_edwards(t)?; // P_0 = T
    let mut acc: Option<MontVar> = None;
    for i in 0..VARIABLE_DIGITS {
        if i > 0 {
            p = p.double()?; // P_i = 2^i·T
        }
        let q = p.with_sign(&h_bits[i + 1])?; // (2·h_(i+1) − 1)·P_i
        acc = Some(match acc {
            None => q,
            Some(a) => a.add(&q)?,
        });
    }
    // acc = (2·X − 2^250 + 1)·T; the rest in complete Edwards form.
    let mut v = acc.expect("at least one digit").to_edwards()?;
    p = p.double()?; // P_250
    v += p.to_edwards()?; // (2·X + 1)·T
    let minus_t = EdwardsVar::new(t.x.negate()?, t.y.clone());
    v += EdwardsVar::conditionally_select(&h_bits[0], &EdwardsVar::zero(), &minus_t)?;
    for bit in &h_bits[VARIABLE_DIGITS + 1..] {
        p = p.double()?; // P_251, P_252, P_253
        v += EdwardsVar::conditionally_select(bit, &p.to_edwards()?, &EdwardsVar::zero())?;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::super::{fixed_base_mul, variable_base_mul};
    use super::*;
    use crate::eddsa::generator;
    use ark_ec::CurveGroup;
    use ark_ed_on_bn254::Fr as Scalar;
    use ark_ff::AdditiveGroup;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::eq::EqGadget;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
    use proptest::prelude::*;

    fn bits(bytes: &[u8; 32], n: usize) -> Vec<bool> {
        (0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect()
    }

    fn alloc_bits(cs: &ConstraintSystemRef<Fr>, b: &[bool]) -> Vec<Boolean<Fr>> {
        b.iter()
            .map(|&x| Boolean::new_witness(cs.clone(), || Ok(x)).unwrap())
            .collect()
    }

    fn alloc_point(cs: &ConstraintSystemRef<Fr>, p: &EdwardsAffine) -> EdwardsVar {
        EdwardsVar::new(
            FpVar::new_witness(cs.clone(), || Ok(p.x)).unwrap(),
            FpVar::new_witness(cs.clone(), || Ok(p.y)).unwrap(),
        )
    }

    fn value(p: &EdwardsVar) -> (Fr, Fr) {
        (p.x.value().unwrap(), p.y.value().unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        /// gadget == native (== the group law) on random scalars and bases.
        #[test]
        fn gadget_equals_native(s in any::<[u8; 32]>(), h in any::<[u8; 32]>(), k in 1u64..u64::MAX) {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let s = bits(&s, S_BITS);
            let f = fixed_base_mul_var(&alloc_bits(&cs, &s)).unwrap();
            let want = fixed_base_mul(&s).unwrap();
            prop_assert_eq!(value(&f), (want.x, want.y));
            let t = (generator() * Scalar::from(k)).into_affine();
            let h = bits(&h, H_BITS);
            let v = variable_base_mul_var(&alloc_point(&cs, &t), &alloc_bits(&cs, &h)).unwrap();
            let want = variable_base_mul(&t, &h).unwrap();
            prop_assert_eq!(value(&v), (want.x, want.y));
            prop_assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn constraint_costs() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let s = alloc_bits(&cs, &[true; S_BITS]);
        let h = alloc_bits(&cs, &[true; H_BITS]);
        let t = alloc_point(&cs, &generator());
        let n = cs.num_constraints();
        let _ = fixed_base_mul_var(&s).unwrap();
        assert_eq!(cs.num_constraints() - n, 505, "fixed base");
        let n = cs.num_constraints();
        let _ = variable_base_mul_var(&t, &h).unwrap();
        assert_eq!(cs.num_constraints() - n, 2059, "variable base");
    }

    /// Every intermediate point is pinned: changing any single witness of the variable-base
    /// multiplication (a slope, a doubled point, a sum, a conversion) makes the system
    /// unsatisfied, so the prover has no freedom to steer `h·T` anywhere else.
    #[test]
    fn any_wrong_intermediate_assignment_is_unsatisfied() {
        let t = (generator() * Scalar::from(0xdead_beefu64)).into_affine();
        let h: Vec<bool> = (0..H_BITS).map(|i| (i * 7) % 5 < 2).collect();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let tv = alloc_point(&cs, &t);
        let hv = alloc_bits(&cs, &h);
        let first = cs.num_witness_variables();
        let _ = variable_base_mul_var(&tv, &hv).unwrap();
        let last = cs.num_witness_variables();
        assert!(cs.is_satisfied().unwrap());
        assert!(last - first > 1000);
        for i in first..last {
            assert!(
                !crate::montgomery::gadget::satisfied_with_tampered_witness(&cs, i),
                "witness {i} is free"
            );
        }
    }

    /// A result other than `h·T` cannot be claimed: pinned to `(h + 1)·T`, unsatisfied.
    #[test]
    fn wrong_claimed_products_are_unsatisfied() {
        let t = (generator() * Scalar::from(12345u64)).into_affine();
        let h: Vec<bool> = (0..H_BITS).map(|i| i % 2 == 0).collect();
        let wrong = (t * (Scalar::from(1u64) + scalar_of(&h))).into_affine();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let v = variable_base_mul_var(&alloc_point(&cs, &t), &alloc_bits(&cs, &h)).unwrap();
        v.enforce_equal(&alloc_point(&cs, &wrong)).unwrap();
        assert!(!cs.is_satisfied().unwrap());
        let s: Vec<bool> = (0..S_BITS).map(|i| i % 3 == 0).collect();
        let wrong = (generator() * (scalar_of(&s) + Scalar::from(1u64))).into_affine();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let f = fixed_base_mul_var(&alloc_bits(&cs, &s)).unwrap();
        f.enforce_equal(&alloc_point(&cs, &wrong)).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    /// The identity as a base (a small-order key's `8A`) cannot be multiplied: unsatisfied.
    #[test]
    fn identity_base_is_unsatisfied() {
        let o = EdwardsAffine::new_unchecked(Fr::from(0u64), Fr::from(1u64));
        let h: Vec<bool> = (0..H_BITS).map(|i| i % 2 == 1).collect();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let _ = variable_base_mul_var(&alloc_point(&cs, &o), &alloc_bits(&cs, &h)).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }

    fn scalar_of(b: &[bool]) -> Scalar {
        b.iter().rev().fold(Scalar::from(0u64), |a, &x| {
            a.double() + Scalar::from(x as u64)
        })
    }
}

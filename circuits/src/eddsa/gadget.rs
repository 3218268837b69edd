//! EdDSA verification as constraints: the twin of [`super::verify_raw`].
//!
//! Cost (pinned by the `component_costs` test): Poseidon challenge 321, strict bit
//! decomposition of `h` 485 ([`to_bits_strict`]), three doublings of `A` 15, variable-base
//! scalar multiplication `h·(8A)` 2,059 (Montgomery form, least significant digit first, 8 per
//! bit: see [`crate::scalar_mul`]), `S` as 251 bits 251, `S < l` 252 (a range check of
//! `S + 2^251 − l`), fixed-base multiplication `S·B` 505 (signed 2-bit windows in Montgomery
//! form), plus two curve checks (6), the key selection (2), the small-order check `8A ≠ O` (1),
//! `R + h·8A` (6) and the final equality (2). With the message hash (294: its chain id is a
//! constant) that is the 4,199 of `zkr circuit`.

use super::{generator, SignatureWitness};
use crate::poseidon::gadget::poseidon_var;
use crate::range::gadget::{enforce_bits, to_bits_strict};
use crate::scalar_mul::gadget::{fixed_base_mul_var, variable_base_mul_var};
use crate::scalar_mul::S_BITS;
use crate::Fr;
use ark_ec::twisted_edwards::TECurveConfig;
use ark_ed_on_bn254::constraints::EdwardsVar;
use ark_ed_on_bn254::{EdwardsConfig, Fr as Scalar};
use ark_ff::PrimeField;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::groups::CurveVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use num_bigint::BigUint;

/// Enforces that `(x, y)` is on Baby Jubjub: `a·x² + y² = 1 + d·x²·y²` (3 constraints).
pub fn enforce_on_curve(x: &FpVar<Fr>, y: &FpVar<Fr>) -> Result<(), SynthesisError> {
    let x2 = x.square()?;
    let y2 = y.square()?;
    let d = EdwardsConfig::COEFF_D;
    let a = EdwardsConfig::COEFF_A;
    // (d·x²) · y² = a·x² + y² − 1
    (&x2 * d).mul_equals(&y2, &(&x2 * a + &y2 - Fr::from(1u64)))
}

/// `2^251 − l`, the shift that turns `S < l` into a 251-bit range check.
fn s_range_offset() -> Fr {
    let l: BigUint = Scalar::MODULUS.into();
    Fr::from((BigUint::from(1u32) << S_BITS) - l)
}

/// Constrains "`sig` is a valid signature of `msg` under the public key `(pk_x, pk_y)`" when
/// `enabled` is true. When it is false, nothing is checked about the key or the signature (the
/// key is replaced by `B`, so an empty account's `(0, 0)` never enters curve arithmetic), but the
/// constraint system is the same: the circuit's shape never depends on the witness.
pub fn verify_var(
    cs: ConstraintSystemRef<Fr>,
    enabled: &Boolean<Fr>,
    pk_x: &FpVar<Fr>,
    pk_y: &FpVar<Fr>,
    msg: &FpVar<Fr>,
    sig: &SignatureWitness,
) -> Result<(), SynthesisError> {
    let b = generator();
    // The key, or B for slots without a signature; it must be a curve point.
    let a_x = enabled.select(pk_x, &FpVar::constant(b.x))?;
    let a_y = enabled.select(pk_y, &FpVar::constant(b.y))?;
    enforce_on_curve(&a_x, &a_y)?;
    let a = EdwardsVar::new(a_x.clone(), a_y.clone());

    // R, a curve point.
    let r_x = FpVar::new_witness(cs.clone(), || Ok(sig.r_x))?;
    let r_y = FpVar::new_witness(cs.clone(), || Ok(sig.r_y))?;
    enforce_on_curve(&r_x, &r_y)?;
    let r = EdwardsVar::new(r_x.clone(), r_y.clone());

    // h = Poseidon(R, A, m), as its unique (strict) little-endian bits.
    let h = poseidon_var(&[r_x, r_y, a_x, a_y, msg.clone()])?;
    let h_bits = to_bits_strict(&h)?;

    // Right side: R + h·(8·A).
    let mut a8 = a;
    for _ in 0..3 {
        a8.double_in_place()?;
    }
    // A key of small order (8A = O, i.e. x = 0) would verify any (R = S·B, S): refuse it. This
    // is also what the Montgomery-form multiplication needs: on the curve, 8A lies in the
    // prime-order subgroup, and x ≠ 0 there means 8A ≠ O (when the check is disabled, A = B).
    a8.x.conditional_enforce_not_equal(&FpVar::zero(), enabled)?;
    let rhs = r + variable_base_mul_var(&a8, &h_bits)?;

    // Left side: S·B with S < l.
    let s_bits = {
        let s = sig.s.to_u64_digits();
        let bit = |i: usize| {
            s.get(i / 64)
                .map(|w| (w >> (i % 64)) & 1 == 1)
                .unwrap_or(false)
        };
        // An S wider than l's bit length keeps only its low bits; either way the result is
        // either above l - 1 or a different S, and the equation fails.
        (0..S_BITS)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(bit(i))))
            .collect::<Result<Vec<_>, _>>()?
    };
    // S < l  <=>  S + (2^251 − l) < 2^251; both sides stay below 2^252 < p, so nothing wraps.
    let s = Boolean::le_bits_to_fp(&s_bits)?;
    enforce_bits(&(s + s_range_offset()), S_BITS as u32)?;
    let lhs = fixed_base_mul_var(&s_bits)?;

    lhs.conditional_enforce_equal(&rhs, enabled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eddsa::{verify_raw, SecretKey};
    use ark_relations::gr1cs::ConstraintSystem;
    use proptest::prelude::*;

    /// (satisfied, constraints); a witness that cannot even be computed (a division by zero in
    /// curve arithmetic on a non-curve point) counts as unsatisfied: no proof can be made.
    fn run(enabled: bool, pk: (Fr, Fr), msg: Fr, sig: &SignatureWitness) -> (bool, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let en = Boolean::new_witness(cs.clone(), || Ok(enabled)).unwrap();
        let x = FpVar::new_witness(cs.clone(), || Ok(pk.0)).unwrap();
        let y = FpVar::new_witness(cs.clone(), || Ok(pk.1)).unwrap();
        let m = FpVar::new_witness(cs.clone(), || Ok(msg)).unwrap();
        match verify_var(cs.clone(), &en, &x, &y, &m, sig) {
            Ok(()) => (cs.is_satisfied().unwrap(), cs.num_constraints()),
            Err(SynthesisError::DivisionByZero) => (false, cs.num_constraints()),
            Err(e) => panic!("unexpected synthesis error {e:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        /// gadget == native on random keys, messages and (possibly wrong) signatures.
        #[test]
        fn gadget_equals_native(seed in any::<[u8; 32]>(), msg in any::<u64>(), signer_seed in any::<[u8; 32]>(), tamper in 0u8..3) {
            let sk = SecretKey::from_seed(seed);
            let pk = sk.public_key();
            let m = Fr::from(msg);
            let signer = if tamper == 1 { SecretKey::from_seed(signer_seed) } else { sk };
            let mut w = SignatureWitness::from(&signer.sign(m));
            let m_checked = if tamper == 2 { m + Fr::from(1u64) } else { m };
            let native = verify_raw(pk.x(), pk.y(), m_checked, &w);
            prop_assert_eq!(run(true, (pk.x(), pk.y()), m_checked, &w).0, native);
            if tamper == 0 { prop_assert!(native); }
            w.s += 1u32;
            prop_assert_eq!(run(true, (pk.x(), pk.y()), m_checked, &w).0, verify_raw(pk.x(), pk.y(), m_checked, &w));
        }
    }

    #[test]
    fn disabled_check_ignores_signature_but_not_shape() {
        let sk = SecretKey::from_seed([7; 32]);
        let pk = sk.public_key();
        let bad = SignatureWitness::unused();
        let (ok_disabled, n1) = run(
            false,
            (Fr::from(0u64), Fr::from(0u64)),
            Fr::from(1u64),
            &bad,
        );
        assert!(ok_disabled);
        let (ok_enabled, n2) = run(true, (pk.x(), pk.y()), Fr::from(1u64), &bad);
        assert!(!ok_enabled);
        assert_eq!(n1, n2, "same shape either way");
    }

    #[test]
    fn empty_account_key_cannot_sign() {
        // (0, 0) is not a curve point: an empty account can never authorize a spend.
        let (ok, _) = run(
            true,
            (Fr::from(0u64), Fr::from(0u64)),
            Fr::from(1u64),
            &SignatureWitness::unused(),
        );
        assert!(!ok);
    }

    #[test]
    fn s_at_or_above_l_is_unsatisfied() {
        let sk = SecretKey::from_seed([8; 32]);
        let pk = sk.public_key();
        let m = Fr::from(3u64);
        let mut w = SignatureWitness::from(&sk.sign(m));
        w.s += BigUint::from(Scalar::MODULUS); // S + l: same point, non-canonical
        assert!(!run(true, (pk.x(), pk.y()), m, &w).0);
    }
}

#[cfg(test)]
mod cost_probe {
    use super::*;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_relations::gr1cs::ConstraintSystem;

    /// Pins the cost of each part of the verifier (the numbers in the module docs and README).
    #[test]
    fn component_costs() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let b = generator();
        let x = FpVar::new_witness(cs.clone(), || Ok(b.x)).unwrap();
        let y = FpVar::new_witness(cs.clone(), || Ok(b.y)).unwrap();
        let mut n = cs.num_constraints();
        let mut step = |label: &str, expected: usize| {
            let now = cs.num_constraints();
            assert_eq!(now - n, expected, "{label}");
            n = now;
        };
        let h = poseidon_var(&[x.clone(), y.clone(), x.clone(), y.clone(), x.clone()]).unwrap();
        step("challenge", 321);
        let bits = to_bits_strict(&h).unwrap();
        step("h strict bits", 485);
        let mut a = EdwardsVar::new(x.clone(), y.clone());
        for _ in 0..3 {
            a.double_in_place().unwrap();
        }
        step("3 doublings", 15);
        let _ = variable_base_mul_var(&a, &bits).unwrap();
        step("variable-base mul", 2059);
        let s_bits: Vec<_> = (0..S_BITS)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(i % 3 == 0)).unwrap())
            .collect();
        step("S bits", 251);
        let s = Boolean::le_bits_to_fp(&s_bits).unwrap();
        enforce_bits(&(s + s_range_offset()), S_BITS as u32).unwrap();
        step("S < l", 252);
        let _ = fixed_base_mul_var(&s_bits).unwrap();
        step("fixed-base mul", 505);
    }
}

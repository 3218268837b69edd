//! The range-check gadget: the twin of [`super::fits_in_bits`].

use crate::Fr;
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;

/// Enforces `x < 2^bits` and returns the little-endian bits of `x` (`bits + 1` constraints).
///
/// The bits are fresh witnesses, each constrained boolean, and their weighted sum is constrained
/// equal to `x`. Since `bits < 254`, the sum cannot wrap, so the decomposition exists exactly
/// when `x < 2^bits`.
pub fn enforce_bits(x: &FpVar<Fr>, bits: u32) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    assert!(
        bits < Fr::MODULUS_BIT_SIZE - 1,
        "range checks are for small integers"
    );
    if let FpVar::Constant(c) = x {
        return if super::fits_in_bits(c, bits) {
            let b = c.into_bigint().to_bits_le();
            Ok(b[..bits as usize]
                .iter()
                .map(|&v| Boolean::constant(v))
                .collect())
        } else {
            Err(SynthesisError::Unsatisfiable)
        };
    }
    let cs = x.cs();
    let value_bits = x.value().map(|v| v.into_bigint().to_bits_le());
    let bools = (0..bits as usize)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value_bits
                    .as_ref()
                    .map(|b| b[i])
                    .map_err(|_| SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Boolean::le_bits_to_fp(&bools)?.enforce_equal(x)?;
    Ok(bools)
}

/// Enforces `x < 2^64`.
pub fn enforce_u64(x: &FpVar<Fr>) -> Result<(), SynthesisError> {
    enforce_bits(x, 64).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::fits_in_bits;
    use ark_ff::Field;
    use ark_relations::gr1cs::ConstraintSystem;
    use proptest::prelude::*;

    fn check(x: Fr, bits: u32) -> (bool, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let v = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        enforce_bits(&v, bits).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    }

    #[test]
    fn u64_costs_65_constraints() {
        assert_eq!(check(Fr::from(u64::MAX), 64), (true, 65));
    }

    #[test]
    fn wrapped_values_are_refused() {
        // p - 1 is "−1": the value a wrapped subtraction would produce.
        assert!(!check(-Fr::from(1u64), 64).0);
        assert!(!check(Fr::from(u64::MAX) + Fr::from(1u64), 64).0);
        assert!(!check(Fr::from(1u64 << 32), 32).0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// gadget == native: satisfied exactly when the native check says the value fits.
        #[test]
        fn gadget_equals_native(hi in any::<u64>(), lo in any::<u64>(), shift in 0u32..3, bits in prop::sample::select(vec![1u32, 8, 32, 64, 160])) {
            let x = Fr::from(hi) * Fr::from(2u64).pow([64 * shift as u64]) + Fr::from(lo);
            prop_assert_eq!(check(x, bits).0, fits_in_bits(&x, bits));
        }
    }
}

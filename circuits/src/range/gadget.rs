//! The range-check gadget: the twin of [`super::fits_in_bits`].

use crate::Fr;
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;
use num_bigint::BigUint;

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

/// The unique little-endian bits of `x` (as an integer below `p`), 254 of them (485
/// constraints): 254 booleans, their sum equal to `x`, and [`enforce_below_modulus`].
pub fn to_bits_strict(x: &FpVar<Fr>) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let n = Fr::MODULUS_BIT_SIZE as usize;
    let cs = x.cs();
    let value_bits = x.value().map(|v| v.into_bigint().to_bits_le());
    let bits = (0..n)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value_bits
                    .as_ref()
                    .map(|b| b[i])
                    .map_err(|_| SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    weighted_sum(&bits).enforce_equal(x)?;
    enforce_below_modulus(&bits)?;
    Ok(bits)
}

/// `Σ bits[i]·2^i` as a linear combination, with no constraint (unlike
/// `Boolean::le_bits_to_fp`, which for 254 bits also enforces them to be below `p`).
fn weighted_sum(bits: &[Boolean<Fr>]) -> FpVar<Fr> {
    let mut weight = Fr::from(1u64);
    let mut sum = FpVar::zero();
    for b in bits {
        sum += FpVar::from(b.clone()) * weight;
        weight.double_in_place();
    }
    sum
}

/// Bits of `p` below [`MODULUS_SPLIT`]: `p = p_hi·2^28 + 1`.
pub const MODULUS_SPLIT: usize = 28;

/// Enforces that the 254 little-endian `bits`, read as an integer, are below `p` (230
/// constraints), so that a field element has exactly one decomposition.
///
/// `p = p_hi·2^28 + 1`, so with `hi` the top 226 bits and `lo` the low 28 the integer is below
/// `p` iff `hi ≤ p_hi` and, when `hi = p_hi`, `lo = 0`. `p_hi − hi` is a 226-bit range check
/// (`hi` and `p_hi` are below 2^226, so a negative difference wraps to about `p` and fails);
/// equality is `is_zero` of that difference, and `lo = 0` is enforced under it.
pub fn enforce_below_modulus(bits: &[Boolean<Fr>]) -> Result<(), SynthesisError> {
    assert_eq!(bits.len(), Fr::MODULUS_BIT_SIZE as usize);
    let (lo, hi) = bits.split_at(MODULUS_SPLIT);
    let p: BigUint = Fr::MODULUS.into();
    debug_assert_eq!(&p % (1u32 << MODULUS_SPLIT), BigUint::from(1u32));
    let p_hi = Fr::from(p >> MODULUS_SPLIT);
    let diff = FpVar::constant(p_hi) - weighted_sum(hi);
    enforce_bits(&diff, hi.len() as u32)?;
    let at_top = diff.is_zero()?;
    FpVar::from(at_top).mul_equals(&weighted_sum(lo), &FpVar::zero())
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
    use ark_r1cs_std::eq::EqGadget;
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

    fn strict(x: Fr, bits: Option<Vec<bool>>) -> (bool, usize, Vec<bool>) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let v = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let n = cs.num_constraints();
        let out = match bits {
            None => to_bits_strict(&v).unwrap(),
            Some(b) => {
                let b: Vec<_> = b
                    .iter()
                    .map(|&x| Boolean::new_witness(cs.clone(), || Ok(x)).unwrap())
                    .collect();
                Boolean::le_bits_to_fp(&b)
                    .unwrap()
                    .enforce_equal(&v)
                    .unwrap();
                enforce_below_modulus(&b).unwrap();
                b
            }
        };
        let values = out.iter().map(|b| b.value().unwrap()).collect();
        (cs.is_satisfied().unwrap(), cs.num_constraints() - n, values)
    }

    fn bits_of(n: &BigUint) -> Vec<bool> {
        (0..254).map(|i| n.bit(i)).collect()
    }

    #[test]
    fn strict_bits_cost_485_and_cover_the_edges() {
        let p: BigUint = Fr::MODULUS.into();
        for x in [
            Fr::from(0u64),
            Fr::from(1u64),
            -Fr::from(1u64),
            -Fr::from(2u64),
        ] {
            let (ok, cost, bits) = strict(x, None);
            assert!(ok);
            assert_eq!(cost, 485);
            assert_eq!(bits, bits_of(&x.into()));
        }
        // The other decomposition of a small x, x + p < 2^254, is refused, including p itself
        // (x = 0: the top part equals p's, the low part is 1).
        for x in [0u64, 1, 5, 1 << 27, u64::MAX] {
            let alias = BigUint::from(x) + &p;
            assert!(!strict(Fr::from(x), Some(bits_of(&alias))).0, "{x} + p");
        }
        // Just above p at the top: the top part exceeds p's.
        let one = BigUint::from(1u32);
        let alias: BigUint = (&one << 253u32) + (&one << 252u32) + (&one << 251u32);
        assert!(alias > p);
        let x = Fr::from(alias.clone() - &p);
        assert!(!strict(x, Some(bits_of(&alias))).0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// gadget == native: the bits are the canonical ones, the system is satisfied, and the
        /// non-canonical decomposition (when it exists) is refused.
        #[test]
        fn strict_bits_equal_native(bytes in any::<[u8; 32]>()) {
            let x = Fr::from_le_bytes_mod_order(&bytes);
            let (ok, _, bits) = strict(x, None);
            prop_assert!(ok);
            prop_assert_eq!(bits, bits_of(&x.into()));
            let alias = BigUint::from(x) + BigUint::from(Fr::MODULUS);
            if alias.bits() <= 254 {
                prop_assert!(!strict(x, Some(bits_of(&alias))).0);
            }
        }
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

//! Range checks: a field element is an integer below `2^bits`.
//!
//! Balances and amounts are `u64`, nonces `u32`, L1 addresses 160 bits. In the field, `0 - 1` is
//! `p - 1`, a huge number; a range check is what turns "the balance did not go negative" and "the
//! sum did not wrap" into constraints. The gadget costs `bits + 1` constraints: `bits` booleanity
//! constraints and one recomposition.

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::Fr;
use ark_ff::{BigInteger, PrimeField};

/// Native twin of the range-check gadget: is `x < 2^bits`?
pub fn fits_in_bits(x: &Fr, bits: u32) -> bool {
    x.into_bigint().num_bits() <= bits
}

/// `x` as a `u64`, if it is one.
pub fn to_u64(x: &Fr) -> Option<u64> {
    if fits_in_bits(x, 64) {
        Some(x.into_bigint().0[0])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_range() {
        assert!(fits_in_bits(&Fr::from(u64::MAX), 64));
        assert!(!fits_in_bits(&(Fr::from(u64::MAX) + Fr::from(1u64)), 64));
        assert!(!fits_in_bits(&-Fr::from(1u64), 64));
        assert_eq!(to_u64(&Fr::from(42u64)), Some(42));
        assert_eq!(to_u64(&-Fr::from(1u64)), None);
        assert!(fits_in_bits(&Fr::from(0u64), 0));
    }
}

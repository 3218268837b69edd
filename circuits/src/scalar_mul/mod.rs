//! The two scalar multiplications of EdDSA verification, step by step as the circuit does them:
//! the native twin of [`gadget`].
//!
//! Both run in Montgomery form ([`crate::montgomery`]), whose addition is cheap but incomplete:
//! it fails for `P + Q` with `Q = ±P` (or either the identity). The schedules below are built so
//! that this **never** happens, for *every* value of the scalar's bits — not only with high
//! probability — by keeping each accumulator a known multiple of one point of prime order `l`:
//!
//! * **Fixed base `S·B`** ([`fixed_base_mul`]): bits `0..250` of `S` form 125 signed 2-bit
//!   windows `d_m = 2·(s_2m + 2·s_2m+1) − 3 ∈ {−3, −1, 1, 3}`, and window `m` adds the constant
//!   `d_m·4^m·B'` with `B' = B/2 (mod l)`. Before window `m` the accumulator is `a·B'` with `a`
//!   odd and `|a| ≤ 4^m − 1`, while `|d_m·4^m| ≥ 4^m`; so `a ∓ d_m·4^m` is odd, non-zero and at
//!   most `4^(m+1) − 1 ≤ 2^250 − 1 < l` in size: never `0 (mod l)`, so the two points never share
//!   a `u`, and no sum is the identity. `Σ d_m·4^m·B' = S_lo·B − C` with `C = (4^125 − 1)·B'`;
//!   the last bit (`2^250`, where the argument would stop holding) and `C` are added back in
//!   Edwards form (complete) from a table of two constants.
//! * **Variable base `h·T`** ([`variable_base_mul`], `T` of prime order `l`, `T ≠ O`): least
//!   significant digit first. `P_i = 2^i·T` by doubling (`P_i` is never of order 2, so doubling
//!   is defined), and digit `i < 250` adds `d_i·P_i` with `d_i = 2·h_(i+1) − 1 = ±1`. Before
//!   digit `i` the accumulator is `a·T` with `a` odd and `|a| ≤ 2^i − 1`; `a ∓ 2^i` is odd,
//!   non-zero and below `2^250 < l` in size, so again no exceptional case. The sum is
//!   `(2·X − 2^250 + 1)·T` with `X = h_1 … h_250`; adding `P_250`, subtracting `T` when `h_0 = 0`
//!   and adding `P_251`, `P_252`, `P_253` for the top bits (all in complete Edwards form) gives
//!   `h·T` for every `h < 2^254`.
//!
//! The native functions return `None` where the gadget's formulas would have no answer; by the
//! arguments above that only happens for a base outside the prime-order subgroup or equal to
//! `O` (the tests check both claims).

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::eddsa::generator;
use crate::montgomery::MontPoint;
use ark_ec::CurveGroup;
use ark_ed_on_bn254::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
use ark_ff::Field;
use std::sync::OnceLock;

/// Bits of `S` (`S < l < 2^251`).
pub const S_BITS: usize = 251;
/// Bits of the challenge `h` (`h < p < 2^254`).
pub const H_BITS: usize = 254;
/// Signed 2-bit windows of the fixed-base multiplication done in Montgomery form.
pub const FIXED_WINDOWS: usize = 125;
/// Signed digits of the variable-base multiplication done in Montgomery form.
pub const VARIABLE_DIGITS: usize = 250;

/// The constants of the fixed-base schedule.
pub struct FixedBaseTables {
    /// `windows[m][v]` = `(2v − 3)·4^m·B'` in Montgomery form, `v = 0..4`.
    pub windows: Vec<[MontPoint; 4]>,
    /// `C = (4^125 − 1)·B'`, added back when bit 250 of `S` is 0.
    pub offset: EdwardsAffine,
    /// `C + 2^250·B`, added back when bit 250 of `S` is 1.
    pub offset_top: EdwardsAffine,
}

/// The fixed-base tables, computed once.
pub fn fixed_base_tables() -> &'static FixedBaseTables {
    static TABLES: OnceLock<FixedBaseTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let half = Scalar::from(2u64).inverse().expect("l is odd");
        let b_half = generator() * half; // B' = B / 2
        let four = Scalar::from(4u64);
        let mut base = b_half; // 4^m·B'
        let windows = (0..FIXED_WINDOWS)
            .map(|_| {
                let entry = |d: i64| {
                    let p = base * Scalar::from(d.unsigned_abs());
                    let p = if d < 0 { -p } else { p };
                    MontPoint::from_edwards(&p.into_affine()).expect("non-zero multiple of B'")
                };
                let row = [entry(-3), entry(-1), entry(1), entry(3)];
                base *= four;
                row
            })
            .collect();
        // 4^125 − 1 = 2^250 − 1.
        let two_250 = Scalar::from(2u64).pow([250u64]);
        let offset = b_half * (two_250 - Scalar::from(1u64));
        let offset_top = offset + generator() * two_250;
        FixedBaseTables {
            windows,
            offset: offset.into_affine(),
            offset_top: offset_top.into_affine(),
        }
    })
}

/// Native twin of the fixed-base gadget: `S·B` for `S` given as [`S_BITS`] little-endian bits.
pub fn fixed_base_mul(s_bits: &[bool]) -> Option<EdwardsAffine> {
    assert_eq!(s_bits.len(), S_BITS, "S has {S_BITS} bits");
    let t = fixed_base_tables();
    let mut acc: Option<MontPoint> = None;
    for (m, row) in t.windows.iter().enumerate() {
        let v = s_bits[2 * m] as usize + 2 * s_bits[2 * m + 1] as usize;
        let q = row[v];
        acc = Some(match acc {
            None => q,
            Some(a) => a.add(&q)?,
        });
    }
    let f = acc?.to_edwards()?;
    let e = if s_bits[S_BITS - 1] {
        t.offset_top
    } else {
        t.offset
    };
    Some((f + e).into_affine())
}

/// Native twin of the variable-base gadget: `h·T` for `h` given as [`H_BITS`] little-endian
/// bits; `None` where a Montgomery formula has no answer (only for `T = O` or `T` outside the
/// prime-order subgroup).
pub fn variable_base_mul(t: &EdwardsAffine, h_bits: &[bool]) -> Option<EdwardsAffine> {
    assert_eq!(h_bits.len(), H_BITS, "h has {H_BITS} bits");
    let mut p = MontPoint::from_edwards(t)?;
    let mut acc: Option<MontPoint> = None;
    for i in 0..VARIABLE_DIGITS {
        if i > 0 {
            p = p.double()?;
        }
        let q = if h_bits[i + 1] { p } else { p.neg() };
        acc = Some(match acc {
            None => q,
            Some(a) => a.add(&q)?,
        });
    }
    let mut v = EdwardsProjective::from(acc?.to_edwards()?);
    p = p.double()?; // P_250
    v += p.to_edwards()?;
    if !h_bits[0] {
        v -= EdwardsProjective::from(*t);
    }
    for bit in &h_bits[VARIABLE_DIGITS + 1..] {
        p = p.double()?; // P_251, P_252, P_253
        if *bit {
            v += p.to_edwards()?;
        }
    }
    Some(v.into_affine())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, PrimeField, UniformRand, Zero};
    use proptest::prelude::*;

    fn bits(bytes: &[u8; 32], n: usize) -> Vec<bool> {
        (0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect()
    }

    fn value(bits: &[bool]) -> num_bigint::BigUint {
        bits.iter()
            .rev()
            .fold(num_bigint::BigUint::zero(), |a, &b| {
                (a << 1u32) + (b as u32)
            })
    }

    fn scalar(bits: &[bool]) -> Scalar {
        Scalar::from(value(bits))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// `fixed_base_mul` is `S·B` for every 251-bit `S` (also `S ≥ l`).
        #[test]
        fn fixed_base_is_s_times_b(bytes in any::<[u8; 32]>()) {
            let s = bits(&bytes, S_BITS);
            prop_assert_eq!(fixed_base_mul(&s).unwrap(), (generator() * scalar(&s)).into_affine());
        }

        /// `variable_base_mul` is `h·T` for every 254-bit `h` and `T` of prime order.
        #[test]
        fn variable_base_is_h_times_t(bytes in any::<[u8; 32]>(), k in 1u64..u64::MAX) {
            let t = (generator() * Scalar::from(k)).into_affine();
            let h = bits(&bytes, H_BITS);
            prop_assert_eq!(variable_base_mul(&t, &h).unwrap(), (t * scalar(&h)).into_affine());
        }
    }

    /// The extreme scalars, where the schedules' arguments are tightest.
    #[test]
    fn extreme_scalars() {
        let mut rng = ark_std::test_rng();
        let t = (generator() * Scalar::rand(&mut rng)).into_affine();
        let l_minus_1: Vec<bool> = (Scalar::MODULUS.to_bits_le()[..S_BITS])
            .iter()
            .enumerate()
            .map(|(i, &b)| if i == 0 { false } else { b })
            .collect();
        for s in [
            vec![false; S_BITS],
            vec![true; S_BITS],
            l_minus_1,
            (0..S_BITS).map(|i| i == 0).collect(),
            (0..S_BITS).map(|i| i == S_BITS - 1).collect(),
        ] {
            assert_eq!(
                fixed_base_mul(&s).unwrap(),
                (generator() * scalar(&s)).into_affine()
            );
        }
        let p_minus_1: Vec<bool> = crate::Fr::MODULUS.to_bits_le()[..H_BITS]
            .iter()
            .enumerate()
            .map(|(i, &b)| if i == 0 { false } else { b })
            .collect();
        for h in [
            vec![false; H_BITS],
            vec![true; H_BITS],
            p_minus_1,
            (0..H_BITS).map(|i| i == 0).collect(),
            (0..H_BITS).map(|i| i == 1).collect(),
            (0..H_BITS).map(|i| i >= 250).collect(),
        ] {
            assert_eq!(
                variable_base_mul(&t, &h).unwrap(),
                (t * scalar(&h)).into_affine()
            );
        }
    }

    /// The identity and the small-order points are not valid bases: the schedule has no answer
    /// (the circuit rules them out before: `8A ≠ O` for a point `8A` of the subgroup).
    #[test]
    fn bases_outside_the_subgroup_have_no_answer() {
        let h: Vec<bool> = (0..H_BITS).map(|i| i % 3 == 0).collect();
        assert_eq!(variable_base_mul(&EdwardsAffine::zero(), &h), None);
        let order2 = EdwardsAffine::new_unchecked(crate::Fr::zero(), -crate::Fr::from(1u64));
        assert_eq!(variable_base_mul(&order2, &h), None);
    }
}

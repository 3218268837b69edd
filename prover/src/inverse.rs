//! Inversion in BN254's base field `Fq` (and its quadratic extension `Fq2`) by Pornin's
//! optimized binary GCD, for the MSM's batched affine additions.
//!
//! The MSM shares one inversion among a batch of additions (Montgomery's trick); at 2^16 points
//! a batch is 256 additions, and `ark-ff`'s inversion (a bit-by-bit binary extended Euclid,
//! about 6 µs, as much as 270 multiplications) was a seventh of the MSM's time. This one runs
//! the binary GCD 30 steps at a time on 64-bit approximations of the two numbers (the low 31
//! bits and the top 33), records the steps as a 2×2 matrix of small integers, and applies the
//! matrix to the full 256-bit numbers once per 30 steps (T. Pornin, *Optimized Binary GCD for
//! Modular Inversion*, IACR ePrint 2020/972, algorithm 2). The cofactors are kept modulo `p`
//! and divided by `2^30` at each update (a Montgomery-style division), so no correction factor
//! remains at the end.
//!
//! Variable-time (the MSM's inputs are the prover's, and `ark-ff`'s inversion is variable-time
//! too). Property tests compare it with `ark-ff`'s on random and edge-case inputs.

use ark_bn254::{Fq, Fq2};
use ark_ff::{BigInt, BigInteger, Field, PrimeField};

/// The modulus `p`, as four little-endian limbs.
const P: [u64; 4] = <Fq as PrimeField>::MODULUS.0;

/// `−p⁻¹ mod 2^64`: `k = t·NEG_P_INV mod 2^30` makes `t + k·p` a multiple of `2^30`.
const NEG_P_INV: u64 = 0x87d2_0782_e486_6389;

/// `R³ mod p` (`R = 2^256`): the Montgomery form of `R²`. Multiplying the plain inverse of a
/// Montgomery representation by it gives the Montgomery form of the inverse.
const R_CUBED: [u64; 4] = [
    0xb1cd_6daf_da15_30df,
    0x62f2_10e6_a728_3db6,
    0xef7f_0b0c_0ada_0afb,
    0x20fd_6e90_2d59_2544,
];

/// Steps of the binary GCD per update of the full numbers: the cofactors then stay within
/// `±2^30` and two fit one 64-bit word.
const STEPS: u32 = 30;

/// Exact low bits in an approximation (at least `STEPS`); the top 33 bits fill the rest of 64.
const LOW: u32 = 31;

/// More rounds than the algorithm can need (`⌈(2·254 − 1)/30⌉ = 17`, and the last rounds run on
/// exact values); reaching it would mean a bug, and then `ark-ff`'s inversion answers.
const MAX_ROUNDS: usize = 40;

/// A field element that the MSM can invert quickly.
pub trait FastInverse: Field {
    /// `self⁻¹`, or `None` for zero: the same as [`Field::inverse`].
    fn fast_inverse(&self) -> Option<Self>;
}

impl FastInverse for Fq {
    fn fast_inverse(&self) -> Option<Self> {
        inverse_fq(self)
    }
}

impl FastInverse for Fq2 {
    /// `(c₀ + c₁·u)⁻¹ = (c₀ − c₁·u) / (c₀² + c₁²)`, since `u² = −1` in BN254's `Fq2`.
    fn fast_inverse(&self) -> Option<Self> {
        let norm = self.c0.square() + self.c1.square();
        let inv = inverse_fq(&norm)?;
        Some(Fq2::new(self.c0 * inv, -(self.c1 * inv)))
    }
}

/// `x⁻¹` in `Fq`, or `None` for zero.
pub fn inverse_fq(x: &Fq) -> Option<Fq> {
    // The Montgomery representation `x·R mod p` is what gets inverted: its inverse is
    // `x⁻¹·R⁻¹`, and one Montgomery multiplication by `R³` turns that into `x⁻¹·R`.
    match gcd_inverse(&x.0 .0) {
        Some((v, _)) => Some(Fq::new_unchecked(BigInt(v)) * Fq::new_unchecked(BigInt(R_CUBED))),
        None if x.0 .0 == [0; 4] => None,
        None => x.inverse(),
    }
}

/// `x⁻¹ mod p` for `x` in `[1, p)`, and the rounds it took; `None` for zero or (never expected)
/// after [`MAX_ROUNDS`].
fn gcd_inverse(x: &[u64; 4]) -> Option<([u64; 4], usize)> {
    // Invariants: a ≡ u·x and b ≡ v·x (mod p), a ≥ 0, b odd and positive, u and v in [0, p).
    let mut a = *x;
    let mut b = P;
    let mut u = [1, 0, 0, 0];
    let mut v = [0; 4];
    if a == [0; 4] {
        return None;
    }
    for round in 0..MAX_ROUNDS {
        if a == [0; 4] {
            // b is gcd(x, p) = 1 and v ≡ x⁻¹.
            debug_assert_eq!(b, [1, 0, 0, 0]);
            return Some((v, round));
        }
        let n = BigInt(a).num_bits().max(BigInt(b).num_bits()).max(64);
        let [f0, g0, f1, g1] = steps(approximate(&a, n), approximate(&b, n));
        let (a_next, a_negative) = combine(&a, f0, &b, g0);
        let (b_next, b_negative) = combine(&a, f1, &b, g1);
        // A negative result is made positive; its row of the matrix changes sign with it.
        let (f0, g0) = if a_negative { (-f0, -g0) } else { (f0, g0) };
        let (f1, g1) = if b_negative { (-f1, -g1) } else { (f1, g1) };
        let u_next = combine_mod_p(&u, f0, &v, g0);
        v = combine_mod_p(&u, f1, &v, g1);
        u = u_next;
        a = a_next;
        b = b_next;
    }
    None
}

/// The low 31 bits of `x` and, above them, its 33 bits below bit `n`: exact when `n ≤ 64`.
fn approximate(x: &[u64; 4], n: u32) -> u64 {
    let low = x[0] & ((1 << LOW) - 1);
    let shift = n - 33;
    let (limb, off) = ((shift / 64) as usize, shift % 64);
    let mut high = x[limb] >> off;
    if off > 0 && limb + 1 < 4 {
        high |= x[limb + 1] << (64 - off);
    }
    low | (high & ((1 << 33) - 1)) << LOW
}

/// 30 steps of the binary GCD on the approximations `a` and `b` (`b` odd), returned as the
/// matrix `[f0, g0, f1, g1]` with `a' = (f0·a + g0·b)/2^30` and `b' = (f1·a + g1·b)/2^30`.
/// The parity decisions are exact (the low bits are); the comparisons use the top bits.
fn steps(mut a: u64, mut b: u64) -> [i64; 4] {
    // Branch-free: the decisions are data-dependent and unpredictable, so masks cost less than
    // mispredicted branches. The four cofactors are packed two to a word (Pornin's trick):
    // `fg0 = (f0 + 2^31) + 2^32·(g0 + 2^31)`, likewise `fg1`; every step is linear in them, and
    // with `|f|, |g| ≤ 2^30` neither half leaves `[0, 2^32)`.
    const OFFSET: u64 = (1 << 31) + (1 << 63);
    let mut fg0: u64 = 1u64.wrapping_add(OFFSET);
    let mut fg1: u64 = (1u64 << 32).wrapping_add(OFFSET);
    for _ in 0..STEPS {
        let odd = (a & 1).wrapping_neg();
        let swap = odd & ((a < b) as u64).wrapping_neg();
        let t = (a ^ b) & swap;
        a ^= t;
        b ^= t;
        let t = (fg0 ^ fg1) & swap;
        fg0 ^= t;
        fg1 ^= t;
        a -= b & odd;
        fg0 = fg0.wrapping_sub(fg1 & odd).wrapping_add(OFFSET & odd);
        a >>= 1;
        fg1 = fg1.wrapping_add(fg1).wrapping_sub(OFFSET);
    }
    let unpack = |fg: u64| {
        let f = (fg & 0xffff_ffff) as i64 - (1 << 31);
        let g = (fg >> 32) as i64 - (1 << 31);
        (f, g)
    };
    let (f0, g0) = unpack(fg0);
    let (f1, g1) = unpack(fg1);
    [f0, g0, f1, g1]
}

/// `(f·a + g·b) / 2^30` (exact: the matrix makes the low 30 bits zero) as a magnitude and a
/// sign.
fn combine(a: &[u64; 4], f: i64, b: &[u64; 4], g: i64) -> ([u64; 4], bool) {
    let mut t = [0u64; 5];
    let mut carry: i128 = 0;
    for i in 0..4 {
        let s = a[i] as i128 * f as i128 + b[i] as i128 * g as i128 + carry;
        t[i] = s as u64;
        carry = s >> 64;
    }
    t[4] = carry as u64;
    let negative = carry < 0;
    if negative {
        // Two's complement negation of the five limbs.
        let mut borrow = true;
        for limb in t.iter_mut() {
            *limb = !*limb;
            if borrow {
                let (s, c) = limb.overflowing_add(1);
                *limb = s;
                borrow = c;
            }
        }
    }
    (shift_out(&t), negative)
}

/// `(f·u + g·v) / 2^30 mod p` for `u`, `v` in `[0, p)` and `|f|, |g| ≤ 2^30`.
fn combine_mod_p(u: &[u64; 4], f: i64, v: &[u64; 4], g: i64) -> [u64; 4] {
    // f·u ≡ |f|·(p − u) when f < 0, so every term is a non-negative product.
    let (u, f) = if f < 0 {
        (sub(&P, u), f.unsigned_abs())
    } else {
        (*u, f as u64)
    };
    let (v, g) = if g < 0 {
        (sub(&P, v), g.unsigned_abs())
    } else {
        (*v, g as u64)
    };
    // t = f·u + g·v < 2·p·2^30 < 2^285.
    let mut t = [0u64; 5];
    let mut carry: u128 = 0;
    for i in 0..4 {
        let s = u[i] as u128 * f as u128 + v[i] as u128 * g as u128 + carry;
        t[i] = s as u64;
        carry = s >> 64;
    }
    t[4] = carry as u64;
    // Add k·p with k < 2^30 chosen to clear the low 30 bits, then shift them out.
    let k = (t[0].wrapping_mul(NEG_P_INV)) & ((1 << STEPS) - 1);
    let mut carry: u128 = 0;
    for i in 0..4 {
        let s = t[i] as u128 + P[i] as u128 * k as u128 + carry;
        t[i] = s as u64;
        carry = s >> 64;
    }
    t[4] = (t[4] as u128 + carry) as u64;
    let mut out = shift_out(&t);
    // out < (2·p·2^30 + 2^30·p) / 2^30 = 3p.
    while BigInt(out) >= BigInt(P) {
        out = sub(&out, &P);
    }
    out
}

/// `x − y` for `x ≥ y`.
fn sub(x: &[u64; 4], y: &[u64; 4]) -> [u64; 4] {
    let mut d = BigInt(*x);
    let borrow = d.sub_with_borrow(&BigInt(*y));
    debug_assert!(!borrow);
    d.0
}

/// Drops the low `STEPS` bits (zero by construction) of a 5-limb number that fits 256 bits
/// after the shift.
fn shift_out(t: &[u64; 5]) -> [u64; 4] {
    debug_assert_eq!(t[0] & ((1 << STEPS) - 1), 0, "the low bits are cleared");
    debug_assert_eq!(t[4] >> STEPS, 0, "the result fits 256 bits");
    std::array::from_fn(|i| (t[i] >> STEPS) | (t[i + 1] << (64 - STEPS)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, One, UniformRand, Zero};
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn constants_are_what_they_claim() {
        let r = Fq::from(2u64).pow([256u64]);
        assert_eq!(Fq::new_unchecked(BigInt(R_CUBED)), r.square());
        assert_eq!(P[0].wrapping_mul(NEG_P_INV), u64::MAX);
    }

    #[test]
    fn equals_ark_ff_on_random_and_edge_inputs() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let mut inputs: Vec<Fq> = (0..20_000).map(|_| Fq::rand(&mut rng)).collect();
        inputs.extend((1..200u64).map(Fq::from));
        inputs.extend((1..200u64).map(|i| -Fq::from(i)));
        inputs.extend((0..254).map(|i| Fq::from(2u64).pow([i])));
        inputs.extend((0..254).map(|i| -Fq::from(2u64).pow([i])));
        inputs.push(Fq::from(u64::MAX));
        inputs.push(Fq::one().double().inverse().unwrap());
        // Montgomery representations 1 and p − 1, and small ones.
        for limbs in [
            [1, 0, 0, 0],
            [2, 0, 0, 0],
            sub(&P, &[1, 0, 0, 0]),
            sub(&P, &[2, 0, 0, 0]),
        ] {
            inputs.push(Fq::new_unchecked(BigInt(limbs)));
        }
        let mut most = 0;
        for x in inputs {
            assert_eq!(inverse_fq(&x), x.inverse(), "{x}");
            // The fallback to ark-ff is never what answered.
            let (_, rounds) = gcd_inverse(&x.0 .0).expect("within the round limit");
            most = most.max(rounds);
        }
        assert!(most <= 18, "{most} rounds");
        assert_eq!(inverse_fq(&Fq::zero()), None);
    }

    #[test]
    fn fq2_equals_ark_ff() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        for _ in 0..2_000 {
            let x = Fq2::rand(&mut rng);
            assert_eq!(x.fast_inverse(), x.inverse());
        }
        for x in [
            Fq2::new(Fq::zero(), Fq::one()),
            Fq2::new(Fq::one(), Fq::zero()),
        ] {
            assert_eq!(x.fast_inverse(), x.inverse());
        }
        assert_eq!(Fq2::zero().fast_inverse(), None);
    }
}

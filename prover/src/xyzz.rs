//! Points in extended Jacobian ("XYZZ") coordinates, with [`crate::field`]'s multiplication.
//!
//! `(X, Y, ZZ, ZZZ)` stands for the affine point `(X/ZZ, Y/ZZZ)`, with `ZZ³ = ZZZ²`; the point
//! at infinity has `ZZ = ZZZ = 0`. This is `ark-ec`'s `Bucket` (the same formulas from the
//! Explicit-Formulas Database: `madd-2008-s`, `add-2008-s`, `dbl-2008-s-1`, `mdbl-2008-s-1`),
//! with two differences that matter for speed and none for the result: the multiplications
//! are [`FastMul`]'s (assembly; in `Fq2` one reduction per coefficient), and `Y₃`'s two
//! products are one sum of products with one reduction. The MSM keeps its buckets' overflow
//! halves and its running sums in this form; tests compare every case with `ark-ec`.

use crate::field::FastMul;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, Field, Zero};
use std::ops::AddAssign;

/// A point in XYZZ coordinates (see the module docs).
pub struct Xyzz<P: SWCurveConfig> {
    x: P::BaseField,
    y: P::BaseField,
    zz: P::BaseField,
    zzz: P::BaseField,
}

impl<P: SWCurveConfig> Clone for Xyzz<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: SWCurveConfig> Copy for Xyzz<P> {}

impl<P: SWCurveConfig<BaseField: FastMul>> Xyzz<P> {
    /// The point at infinity.
    pub const ZERO: Self = Self {
        x: P::BaseField::ONE,
        y: P::BaseField::ONE,
        zz: P::BaseField::ZERO,
        zzz: P::BaseField::ZERO,
    };

    /// Whether this is the point at infinity.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.zz.is_zero()
    }

    /// The affine point `(x, y)` (not the point at infinity).
    #[inline]
    fn from_xy(x: P::BaseField, y: P::BaseField) -> Self {
        Self {
            x,
            y,
            zz: P::BaseField::ONE,
            zzz: P::BaseField::ONE,
        }
    }

    /// `2·(x, y)` for an affine point (`mdbl-2008-s-1`).
    fn double_affine(x: P::BaseField, y: P::BaseField) -> Self {
        let u = y.double();
        let v = u.fast_square();
        let w = u.fast_mul(&v);
        let s = x.fast_mul(&v);
        let x2 = x.fast_square();
        let m = x2.double() + x2 + P::COEFF_A;
        let x3 = m.fast_square() - s.double();
        Self {
            x: x3,
            y: P::BaseField::fast_sum_of_products(&m, &(s - x3), &-w, &y),
            zz: v,
            zzz: w,
        }
    }

    /// The part both additions share, for points with different `x`: with the operands'
    /// coordinates brought to a common denominator (`U₁, S₁` and `U₂, S₂`), sets `X₃` and `Y₃`
    /// and returns `PP` and `PPP`, by which the caller multiplies `ZZ` and `ZZZ`.
    #[inline(always)]
    fn add_distinct(
        &mut self,
        u1: P::BaseField,
        s1: P::BaseField,
        u2: P::BaseField,
        s2: P::BaseField,
    ) -> (P::BaseField, P::BaseField) {
        let p = u2 - u1;
        let r = s2 - s1;
        let pp = p.fast_square();
        let ppp = p.fast_mul(&pp);
        let q = u1.fast_mul(&pp);
        let x3 = r.fast_square() - ppp - q.double();
        self.y = P::BaseField::fast_sum_of_products(&r, &(q - x3), &-s1, &ppp);
        self.x = x3;
        (pp, ppp)
    }

    /// `self ← 2·self` (`dbl-2008-s-1`).
    fn double_in_place(&mut self) {
        if self.is_zero() {
            return;
        }
        let u = self.y.double();
        let v = u.fast_square();
        let w = u.fast_mul(&v);
        let s = self.x.fast_mul(&v);
        let x2 = self.x.fast_square();
        let mut m = x2.double() + x2;
        if !P::COEFF_A.is_zero() {
            m += P::COEFF_A.fast_mul(&self.zz.fast_square());
        }
        let x3 = m.fast_square() - s.double();
        self.y = P::BaseField::fast_sum_of_products(&m, &(s - x3), &-w, &self.y);
        self.x = x3;
        self.zz = self.zz.fast_mul(&v);
        self.zzz = self.zzz.fast_mul(&w);
    }
}

impl<P: SWCurveConfig<BaseField: FastMul>> AddAssign<&Affine<P>> for Xyzz<P> {
    /// `self ← self + other` (`madd-2008-s`; doubling and opposite points handled).
    fn add_assign(&mut self, other: &Affine<P>) {
        let Some((x2, y2)) = other.xy() else {
            return;
        };
        if self.is_zero() {
            *self = Self::from_xy(x2, y2);
            return;
        }
        let u2 = x2.fast_mul(&self.zz);
        let s2 = y2.fast_mul(&self.zzz);
        if self.x == u2 {
            *self = if self.y == s2 {
                Self::double_affine(x2, y2)
            } else {
                Self::ZERO
            };
            return;
        }
        let (pp, ppp) = self.add_distinct(self.x, self.y, u2, s2);
        self.zz = self.zz.fast_mul(&pp);
        self.zzz = self.zzz.fast_mul(&ppp);
    }
}

impl<P: SWCurveConfig<BaseField: FastMul>> AddAssign<&Xyzz<P>> for Xyzz<P> {
    /// `self ← self + other` (`add-2008-s`; doubling and opposite points handled).
    fn add_assign(&mut self, other: &Xyzz<P>) {
        if other.is_zero() {
            return;
        }
        if self.is_zero() {
            *self = *other;
            return;
        }
        let u1 = self.x.fast_mul(&other.zz);
        let u2 = other.x.fast_mul(&self.zz);
        let s1 = self.y.fast_mul(&other.zzz);
        let s2 = other.y.fast_mul(&self.zzz);
        if u1 == u2 {
            if s1 == s2 {
                self.double_in_place();
            } else {
                *self = Self::ZERO;
            }
            return;
        }
        let (pp, ppp) = self.add_distinct(u1, s1, u2, s2);
        self.zz = self.zz.fast_mul(&pp).fast_mul(&other.zz);
        self.zzz = self.zzz.fast_mul(&ppp).fast_mul(&other.zzz);
    }
}

impl<P: SWCurveConfig<BaseField: FastMul>> From<Xyzz<P>> for Projective<P> {
    /// Jacobian `(X·ZZ, Y·ZZZ, ZZ)`: with `ZZ = Z²`, `ZZZ = Z³` that is `(x·Z⁴, y·Z⁶, Z²)`.
    fn from(p: Xyzz<P>) -> Self {
        if p.is_zero() {
            Projective::zero()
        } else {
            Projective::new_unchecked(p.x.fast_mul(&p.zz), p.y.fast_mul(&p.zzz), p.zz)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::short_weierstrass::Bucket;
    use ark_ec::CurveGroup;
    use ark_ff::UniformRand;
    use rand_chacha::rand_core::SeedableRng;

    /// Every case of both additions against `ark-ec`: random points, a point plus itself
    /// (doubling), plus its opposite (infinity), plus infinity, infinity plus a point, and a
    /// sum of a few hundred terms through both forms.
    fn check<P: SWCurveConfig<BaseField: FastMul>>(points: &[Affine<P>]) {
        let to_proj = |x: Xyzz<P>| Projective::<P>::from(x);
        let from_bucket = |b: Bucket<P>| Projective::<P>::from(b);
        for w in points.windows(2) {
            let (a, b) = (w[0], w[1]);
            let ops: [(Affine<P>, Affine<P>); 5] = [
                (a, b),
                (a, a),
                (a, -a),
                (a, Affine::identity()),
                (Affine::identity(), a),
            ];
            for (p, q) in ops {
                // Mixed addition.
                let mut x = Xyzz::<P>::ZERO;
                x += &p;
                x += &q;
                let mut bk = Bucket::<P>::ZERO;
                bk += &p;
                bk += &q;
                assert_eq!(to_proj(x), from_bucket(bk));
                assert_eq!(to_proj(x), Projective::from(p) + q);
                // Full addition, including an XYZZ operand with ZZ ≠ 1.
                let mut xp = Xyzz::<P>::ZERO;
                xp += &p;
                xp += &b;
                let mut xq = Xyzz::<P>::ZERO;
                xq += &q;
                xq += &b;
                let mut sum = xp;
                sum += &xq;
                assert_eq!(to_proj(sum), Projective::from(p) + q + b + b);
                // The same XYZZ point twice: the full addition's doubling.
                let mut twice = xp;
                twice += &xp;
                assert_eq!(to_proj(twice), (Projective::from(p) + b).double());
                // A point and its opposite with different ZZ: infinity.
                let mut neg = Xyzz::<P>::ZERO;
                neg += &(-b);
                neg += &(-p);
                let mut zero = xp;
                zero += &neg;
                assert!(zero.is_zero());
            }
        }
        // The MSM's running sums: Σ_k Σ_{j ≤ k} P_j.
        let (mut acc, mut running) = (Xyzz::<P>::ZERO, Xyzz::<P>::ZERO);
        let (mut want, mut want_running) = (Projective::<P>::zero(), Projective::<P>::zero());
        for p in points {
            running += p;
            acc += &running;
            want_running += p;
            want += want_running;
        }
        assert_eq!(to_proj(acc), want);
    }

    #[test]
    fn g1_equals_ark_ec() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(21);
        let points: Vec<G1Affine> = (0..200)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        check(&points);
    }

    #[test]
    fn g2_equals_ark_ec() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(22);
        let points: Vec<G2Affine> = (0..100)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        check(&points);
    }
}

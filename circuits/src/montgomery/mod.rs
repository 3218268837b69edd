//! Baby Jubjub in Montgomery form: the twin of [`gadget`].
//!
//! The twisted Edwards curve `x² + y² = 1 + d·x²·y²` (ark-ed-on-bn254's model) is birationally
//! equivalent to the Montgomery curve `B·v² = u³ + A·u² + u` with `A = 168698`, `B = 168700`,
//! through `u = (1 + y) / (1 − y)`, `v = u / x` and back `x = u / v`, `y = (u − 1) / (u + 1)`.
//!
//! Montgomery addition costs 3 constraints and doubling 4, against 6 and 5 in Edwards form, but
//! the formulas are *incomplete*: they have no answer for
//!
//! * the identity `O` (it has no affine Montgomery form: `y = 1`), nor for the point of order 2
//!   `(0, −1)` (`x = 0`) when mapping from Edwards;
//! * `P + Q` with `u_P = u_Q`, that is `Q = ±P`: `P − P = O`, and `P + P` is a doubling, for
//!   which the addition formula's slope is *undetermined* (the dangerous case in a circuit);
//! * doubling a point with `v = 0` (order 2).
//!
//! The functions here return `None` in each of these cases. Their callers ([`crate::scalar_mul`])
//! only ever combine non-zero multiples of one point of prime order `l` whose multipliers are
//! known to stay apart, and say why at each call.

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::Fr;
use ark_ec::twisted_edwards::{MontCurveConfig, TECurveConfig};
use ark_ed_on_bn254::{EdwardsAffine, EdwardsConfig};
use ark_ff::{AdditiveGroup, Field, One, Zero};

/// `A` of the Montgomery form (168698).
pub fn coeff_a() -> Fr {
    <EdwardsConfig as MontCurveConfig>::COEFF_A
}

/// `B` of the Montgomery form (168700).
pub fn coeff_b() -> Fr {
    <EdwardsConfig as MontCurveConfig>::COEFF_B
}

/// An affine point `(u, v)` of the Montgomery form (never the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MontPoint {
    /// `u`.
    pub u: Fr,
    /// `v`.
    pub v: Fr,
}

impl MontPoint {
    /// The Montgomery form of an Edwards point; `None` for `O` and `(0, −1)` (no image).
    pub fn from_edwards(p: &EdwardsAffine) -> Option<Self> {
        let u = (Fr::one() + p.y) * (Fr::one() - p.y).inverse()?;
        let v = u * p.x.inverse()?;
        Some(Self { u, v })
    }

    /// The Edwards form; `None` for the points with `v = 0` or `u = −1` (no image).
    pub fn to_edwards(&self) -> Option<EdwardsAffine> {
        let x = self.u * self.v.inverse()?;
        let y = (self.u - Fr::one()) * (self.u + Fr::one()).inverse()?;
        Some(EdwardsAffine::new_unchecked(x, y))
    }

    /// `B·v² = u³ + A·u² + u`.
    pub fn is_on_curve(&self) -> bool {
        let u2 = self.u.square();
        coeff_b() * self.v.square() == u2 * self.u + coeff_a() * u2 + self.u
    }

    /// `−P = (u, −v)`.
    pub fn neg(&self) -> Self {
        Self {
            u: self.u,
            v: -self.v,
        }
    }

    /// `P + Q` for `u_P ≠ u_Q`; `None` otherwise (`Q = ±P`).
    pub fn add(&self, q: &Self) -> Option<Self> {
        let lambda = (q.v - self.v) * (q.u - self.u).inverse()?;
        Some(self.with_slope(lambda, q.u))
    }

    /// `2P` for `v ≠ 0`; `None` otherwise (`P` of order 2).
    pub fn double(&self) -> Option<Self> {
        let u2 = self.u.square();
        let num = u2.double() + u2 + coeff_a().double() * self.u + Fr::one();
        let lambda = num * (coeff_b().double() * self.v).inverse()?;
        Some(self.with_slope(lambda, self.u))
    }

    /// The third point on the line of slope `lambda` through `self` and a point with
    /// `u = other_u`, reflected: `u₃ = B·λ² − A − u₁ − u₂`, `v₃ = λ·(u₁ − u₃) − v₁`.
    fn with_slope(&self, lambda: Fr, other_u: Fr) -> Self {
        let u = coeff_b() * lambda.square() - coeff_a() - self.u - other_u;
        let v = lambda * (self.u - u) - self.v;
        Self { u, v }
    }
}

/// Sanity of the constants: `A = 2(a + d)/(a − d)`, `B = 4/(a − d)` for the Edwards `a`, `d`.
pub fn constants_match_edwards() -> bool {
    let a = <EdwardsConfig as TECurveConfig>::COEFF_A;
    let d = <EdwardsConfig as TECurveConfig>::COEFF_D;
    let inv = (a - d).inverse().unwrap_or(Fr::zero());
    coeff_a() == (a + d).double() * inv && coeff_b() == Fr::from(4u64) * inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eddsa::generator;
    use ark_ec::CurveGroup;
    use ark_ed_on_bn254::{EdwardsProjective, Fr as Scalar};
    use proptest::prelude::*;

    fn point(k: u64) -> EdwardsAffine {
        (generator() * Scalar::from(k)).into_affine()
    }

    #[test]
    fn constants_are_those_of_the_edwards_curve() {
        assert!(constants_match_edwards());
    }

    #[test]
    fn exceptional_cases_have_no_answer() {
        let o = EdwardsAffine::zero();
        assert_eq!(MontPoint::from_edwards(&o), None, "identity");
        let two_torsion = EdwardsAffine::new_unchecked(Fr::zero(), -Fr::one());
        assert!(two_torsion.is_on_curve());
        assert_eq!(MontPoint::from_edwards(&two_torsion), None, "order 2");
        let p = MontPoint::from_edwards(&point(5)).unwrap();
        assert_eq!(p.add(&p), None, "P + P is a doubling");
        assert_eq!(p.add(&p.neg()), None, "P − P is the identity");
        let order2 = MontPoint {
            u: Fr::zero(),
            v: Fr::zero(),
        };
        assert!(order2.is_on_curve());
        assert_eq!(order2.double(), None);
        assert_eq!(order2.to_edwards(), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Montgomery arithmetic agrees with Edwards arithmetic through the map.
        #[test]
        fn agrees_with_edwards(a in 1u64..u64::MAX, b in 1u64..u64::MAX) {
            prop_assume!(a != b);
            let (pa, pb) = (point(a), point(b));
            let ma = MontPoint::from_edwards(&pa).unwrap();
            let mb = MontPoint::from_edwards(&pb).unwrap();
            prop_assert!(ma.is_on_curve() && mb.is_on_curve());
            prop_assert_eq!(ma.to_edwards().unwrap(), pa);
            let sum = (EdwardsProjective::from(pa) + pb).into_affine();
            prop_assert_eq!(ma.add(&mb).unwrap().to_edwards().unwrap(), sum);
            let dbl = (EdwardsProjective::from(pa) + pa).into_affine();
            prop_assert_eq!(ma.double().unwrap().to_edwards().unwrap(), dbl);
            prop_assert_eq!(ma.neg().to_edwards().unwrap(), -pa);
        }
    }
}

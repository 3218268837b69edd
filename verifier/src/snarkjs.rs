//! snarkjs's JSON layouts for Groth16 over BN254 (`proof.json`, `public.json`,
//! `verification_key.json`), so that `snarkjs groth16 verify` accepts zkr's proofs and zkr reads
//! what snarkjs writes.
//!
//! Points are affine coordinates as decimal strings with a trailing projective `z`
//! (`[x, y, "1"]`, or `["0", "1", "0"]` for the identity); a G2 coordinate is `[c0, c1]`.
//! Parsing is strict: non-decimal text, coordinates at or above the base-field modulus, points
//! off the curve or outside the prime-order subgroup are all refused with a [`FormatError`].

use crate::{Proof, VerifyingKey};
use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{PrimeField, Zero};
use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use zkr_circuits::field::{decimal_below, fr_from_decimal, fr_to_decimal, FieldError};
use zkr_circuits::Fr;

/// A malformed snarkjs file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A number is not decimal or not canonical.
    #[error("{what}: {reason}")]
    Number {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A point is not on the curve.
    #[error("{0}: point is not on the curve")]
    NotOnCurve(&'static str),
    /// A point is not in the prime-order subgroup.
    #[error("{0}: point is not in the prime-order subgroup")]
    NotInSubgroup(&'static str),
    /// Wrong protocol or curve tag, or wrong shape.
    #[error("{0}")]
    Shape(String),
}

fn fq(what: &'static str, s: &str) -> Result<Fq, FormatError> {
    let q: BigUint = Fq::MODULUS.into();
    match decimal_below(s, &q) {
        Ok(n) => Ok(Fq::from(n)),
        Err(e @ FieldError::NotDecimal(_)) => Err(FormatError::Number {
            what,
            reason: e.to_string(),
        }),
        Err(_) => Err(FormatError::Number {
            what,
            reason: "coordinate is not below the base-field modulus".into(),
        }),
    }
}

fn dec<F: PrimeField>(x: &F) -> String {
    let n: BigUint = x.into_bigint().into();
    n.to_str_radix(10)
}

/// `[x, y, z]` of a G1 point.
pub type G1Json = [String; 3];
/// `[[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]` of a G2 point.
pub type G2Json = [[String; 2]; 3];

/// G1 point to JSON.
pub fn g1_to_json(p: &G1Affine) -> G1Json {
    match p.xy() {
        None => ["0".into(), "1".into(), "0".into()],
        Some((x, y)) => [dec(&x), dec(&y), "1".into()],
    }
}

/// G2 point to JSON.
pub fn g2_to_json(p: &G2Affine) -> G2Json {
    match p.xy() {
        None => [
            ["0".into(), "0".into()],
            ["1".into(), "0".into()],
            ["0".into(), "0".into()],
        ],
        Some((x, y)) => [
            [dec(&x.c0), dec(&x.c1)],
            [dec(&y.c0), dec(&y.c1)],
            ["1".into(), "0".into()],
        ],
    }
}

/// Validated G1 point from JSON: `[x, y, "1"]` for a point of the curve's prime-order group, or
/// exactly `["0", "1", "0"]` for the identity (a `z` of 0 with any other `x` or `y` is refused,
/// not read as the identity).
pub fn g1_from_json(what: &'static str, j: &G1Json) -> Result<G1Affine, FormatError> {
    let (x, y, z) = (fq(what, &j[0])?, fq(what, &j[1])?, fq(what, &j[2])?);
    if z.is_zero() {
        if x.is_zero() && y == Fq::from(1u64) {
            return Ok(G1Affine::zero());
        }
        return Err(FormatError::Shape(format!(
            "{what}: z is 0 but the point is not the identity [\"0\", \"1\", \"0\"]"
        )));
    }
    if z != Fq::from(1u64) {
        return Err(FormatError::Shape(format!("{what}: z must be 1 or 0")));
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(FormatError::NotOnCurve(what));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(FormatError::NotInSubgroup(what));
    }
    Ok(p)
}

/// Validated G2 point from JSON: `[x, y, ["1", "0"]]` for a point of G2, or exactly
/// `[["0", "0"], ["1", "0"], ["0", "0"]]` for the identity.
pub fn g2_from_json(what: &'static str, j: &G2Json) -> Result<G2Affine, FormatError> {
    let x = Fq2::new(fq(what, &j[0][0])?, fq(what, &j[0][1])?);
    let y = Fq2::new(fq(what, &j[1][0])?, fq(what, &j[1][1])?);
    let z = Fq2::new(fq(what, &j[2][0])?, fq(what, &j[2][1])?);
    let one = Fq2::new(Fq::from(1u64), Fq::zero());
    if z.is_zero() {
        if x.is_zero() && y == one {
            return Ok(G2Affine::zero());
        }
        return Err(FormatError::Shape(format!(
            "{what}: z is 0 but the point is not the identity [[0, 0], [1, 0], [0, 0]]"
        )));
    }
    if z != one {
        return Err(FormatError::Shape(format!("{what}: z must be 1 or 0")));
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(FormatError::NotOnCurve(what));
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(FormatError::NotInSubgroup(what));
    }
    Ok(p)
}

/// `proof.json` (exactly these fields: an unknown one is refused, as at the top level of a
/// submission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofJson {
    /// A.
    pub pi_a: G1Json,
    /// B.
    pub pi_b: G2Json,
    /// C.
    pub pi_c: G1Json,
    /// "groth16".
    pub protocol: String,
    /// "bn128".
    pub curve: String,
}

fn check_tags(protocol: &str, curve: &str) -> Result<(), FormatError> {
    if protocol != "groth16" {
        return Err(FormatError::Shape(format!(
            "protocol must be \"groth16\", got {protocol:?}"
        )));
    }
    if curve != "bn128" {
        return Err(FormatError::Shape(format!(
            "curve must be \"bn128\", got {curve:?}"
        )));
    }
    Ok(())
}

impl ProofJson {
    /// JSON of a proof.
    pub fn from_proof(p: &Proof) -> Self {
        Self {
            pi_a: g1_to_json(&p.a),
            pi_b: g2_to_json(&p.b),
            pi_c: g1_to_json(&p.c),
            protocol: "groth16".into(),
            curve: "bn128".into(),
        }
    }

    /// The validated proof.
    pub fn to_proof(&self) -> Result<Proof, FormatError> {
        check_tags(&self.protocol, &self.curve)?;
        Ok(Proof {
            a: g1_from_json("pi_a", &self.pi_a)?,
            b: g2_from_json("pi_b", &self.pi_b)?,
            c: g1_from_json("pi_c", &self.pi_c)?,
        })
    }
}

/// `public.json`: the public inputs as decimal strings.
pub fn public_to_json(inputs: &[Fr]) -> Vec<String> {
    inputs.iter().map(fr_to_decimal).collect()
}

/// Parses `public.json`, refusing non-canonical values (>= the scalar-field modulus).
pub fn public_from_json(inputs: &[String]) -> Result<Vec<Fr>, FormatError> {
    inputs
        .iter()
        .map(|s| {
            fr_from_decimal(s).map_err(|e| FormatError::Number {
                what: "public input",
                reason: e.to_string(),
            })
        })
        .collect()
}

/// `verification_key.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationKeyJson {
    /// "groth16".
    pub protocol: String,
    /// "bn128".
    pub curve: String,
    /// Number of public inputs.
    #[serde(rename = "nPublic")]
    pub n_public: usize,
    /// alpha in G1.
    pub vk_alpha_1: G1Json,
    /// beta in G2.
    pub vk_beta_2: G2Json,
    /// gamma in G2.
    pub vk_gamma_2: G2Json,
    /// delta in G2.
    pub vk_delta_2: G2Json,
    /// The input commitments (`gamma_abc_g1`), one more than `nPublic`.
    #[serde(rename = "IC")]
    pub ic: Vec<G1Json>,
}

impl VerificationKeyJson {
    /// JSON of a verifying key.
    pub fn from_vk(vk: &VerifyingKey) -> Self {
        Self {
            protocol: "groth16".into(),
            curve: "bn128".into(),
            n_public: vk.gamma_abc_g1.len().saturating_sub(1),
            vk_alpha_1: g1_to_json(&vk.alpha_g1),
            vk_beta_2: g2_to_json(&vk.beta_g2),
            vk_gamma_2: g2_to_json(&vk.gamma_g2),
            vk_delta_2: g2_to_json(&vk.delta_g2),
            ic: vk.gamma_abc_g1.iter().map(g1_to_json).collect(),
        }
    }

    /// The validated verifying key.
    pub fn to_vk(&self) -> Result<VerifyingKey, FormatError> {
        check_tags(&self.protocol, &self.curve)?;
        // `nPublic` comes from the file: `nPublic + 1` must not wrap (to an empty IC).
        if self.n_public.checked_add(1) != Some(self.ic.len()) {
            return Err(FormatError::Shape(format!(
                "IC has {} points, expected nPublic + 1 = {} + 1",
                self.ic.len(),
                self.n_public
            )));
        }
        Ok(VerifyingKey {
            alpha_g1: g1_from_json("vk_alpha_1", &self.vk_alpha_1)?,
            beta_g2: g2_from_json("vk_beta_2", &self.vk_beta_2)?,
            gamma_g2: g2_from_json("vk_gamma_2", &self.vk_gamma_2)?,
            delta_g2: g2_from_json("vk_delta_2", &self.vk_delta_2)?,
            gamma_abc_g1: self
                .ic
                .iter()
                .map(|p| g1_from_json("IC", p))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;

    fn j(xs: [&str; 3]) -> G1Json {
        xs.map(String::from)
    }

    #[test]
    fn the_identity_has_one_encoding_and_z_zero_is_not_a_wildcard() {
        assert_eq!(
            g1_from_json("p", &j(["0", "1", "0"])).unwrap(),
            G1Affine::zero()
        );
        assert_eq!(
            g1_from_json("p", &g1_to_json(&G1Affine::zero())).unwrap(),
            G1Affine::zero()
        );
        let g = G1Affine::generator();
        assert_eq!(g1_from_json("p", &g1_to_json(&g)).unwrap(), g);
        // Garbage coordinates with z = 0: malformed, not the identity.
        for bad in [["5", "7", "0"], ["0", "0", "0"], ["1", "2", "0"]] {
            assert!(
                matches!(g1_from_json("p", &j(bad)), Err(FormatError::Shape(_))),
                "{bad:?}"
            );
        }
        // Non-numbers are refused whatever z is.
        assert!(matches!(
            g1_from_json("p", &j(["x", "1", "0"])),
            Err(FormatError::Number { .. })
        ));
        let id2 = g2_to_json(&G2Affine::zero());
        assert_eq!(g2_from_json("p", &id2).unwrap(), G2Affine::zero());
        let mut bad2 = id2.clone();
        bad2[0][1] = "3".into();
        assert!(matches!(
            g2_from_json("p", &bad2),
            Err(FormatError::Shape(_))
        ));
        let g2 = G2Affine::generator();
        assert_eq!(g2_from_json("p", &g2_to_json(&g2)).unwrap(), g2);
    }

    #[test]
    fn a_proof_with_an_unknown_field_is_refused() {
        let p = ProofJson {
            pi_a: g1_to_json(&G1Affine::generator()),
            pi_b: g2_to_json(&G2Affine::generator()),
            pi_c: g1_to_json(&G1Affine::generator()),
            protocol: "groth16".into(),
            curve: "bn128".into(),
        };
        let mut v = serde_json::to_value(&p).unwrap();
        assert!(serde_json::from_value::<ProofJson>(v.clone()).is_ok());
        v["extra"] = serde_json::json!(1);
        let e = serde_json::from_value::<ProofJson>(v).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}

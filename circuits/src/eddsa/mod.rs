//! EdDSA over Baby Jubjub with a Poseidon challenge, in the style of circomlib's
//! `EdDSAPoseidonVerifier`.
//!
//! Baby Jubjub is the twisted Edwards curve whose base field is BN254's scalar field, so its
//! points are pairs of our circuit's field elements. We use `ark-ed-on-bn254`'s model of it
//! (`a = 1`, `d = 168696/168700`, isomorphic to circomlib's `a = 168700, d = 168696`), and its
//! prime-order subgroup generator `B` (order `l`, cofactor 8).
//!
//! * keys: `a` = SHA-512(seed)[0..32] mod `l`, `A = a·B`;
//! * sign `m`: `r` = SHA-512(prefix ‖ m) mod `l`, `R = r·B`, `h = Poseidon(R.x, R.y, A.x, A.y, m)`,
//!   `S = r + 8·h·a mod l`;
//! * verify: `S < l`, `8·A ≠ O`, and `S·B = R + h·(8·A)`, with `h` taken as the integer below `p`.
//!
//! Multiplying `A` by the cofactor 8 kills any small-order component of a public key.

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::field::{fr_from_decimal, fr_to_decimal, FieldError};
use crate::poseidon::hash;
use crate::Fr;
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup, PrimeGroup};
use ark_ed_on_bn254::{EdwardsAffine, EdwardsProjective, Fr as Scalar};
use ark_ff::{BigInteger, PrimeField, Zero};
use num_bigint::BigUint;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512};
use std::fmt;

/// Why a key or signature is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EddsaError {
    /// A coordinate is not a canonical field element.
    #[error("bad coordinate: {0}")]
    Field(#[from] FieldError),
    /// The point is not on Baby Jubjub.
    #[error("point is not on the Baby Jubjub curve")]
    NotOnCurve,
    /// The point is not in the prime-order subgroup (or is the identity).
    #[error("public key is not in the prime-order subgroup (or is the identity)")]
    NotInSubgroup,
    /// `S` is not below the subgroup order `l`.
    #[error("signature scalar S is not below the subgroup order")]
    NonCanonicalS,
    /// Hex seed of the wrong shape.
    #[error("secret key must be 64 hex characters")]
    BadSecretKey,
}

/// The subgroup generator `B`.
pub fn generator() -> EdwardsAffine {
    EdwardsAffine::generator()
}

/// A secret key: a 32-byte seed from which the scalar and the nonce prefix are derived.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A key from a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(seed)
    }

    /// A fresh key from the operating system's randomness.
    pub fn random<R: ark_std::rand::RngCore + ark_std::rand::CryptoRng>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self(seed)
    }

    /// The seed as 64 hex characters (for wallet files).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self, EddsaError> {
        let v = hex::decode(s.trim()).map_err(|_| EddsaError::BadSecretKey)?;
        Ok(Self(v.try_into().map_err(|_| EddsaError::BadSecretKey)?))
    }

    fn expand(&self) -> (Scalar, [u8; 32]) {
        let h = Sha512::digest(self.0);
        let mut a = Scalar::from_le_bytes_mod_order(&h[..32]);
        if a.is_zero() {
            a = Scalar::from(1u64); // probability 2^-251; keeps the key well-defined
        }
        (a, h[32..].try_into().expect("32 bytes"))
    }

    /// The public key `a·B`.
    pub fn public_key(&self) -> PublicKey {
        let (a, _) = self.expand();
        PublicKey((generator() * a).into_affine())
    }

    /// Signs the field element `msg` (deterministic nonce).
    pub fn sign(&self, msg: Fr) -> Signature {
        let (a, prefix) = self.expand();
        let pk = self.public_key();
        let mut hasher = Sha512::new();
        hasher.update(prefix);
        hasher.update(msg.into_bigint().to_bytes_le());
        let r = Scalar::from_le_bytes_mod_order(&hasher.finalize());
        let big_r = (generator() * r).into_affine();
        let h = challenge(&big_r, &pk, msg);
        let s = r + Scalar::from(8u64)
            * Scalar::from_le_bytes_mod_order(&h.into_bigint().to_bytes_le())
            * a;
        Signature { r: big_r, s }
    }
}

/// A public key: a point of the prime-order subgroup, other than the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(EdwardsAffine);

impl PublicKey {
    /// Validates coordinates: on the curve, in the prime-order subgroup, not the identity.
    pub fn from_coordinates(x: Fr, y: Fr) -> Result<Self, EddsaError> {
        let p = EdwardsAffine::new_unchecked(x, y);
        if !p.is_on_curve() {
            return Err(EddsaError::NotOnCurve);
        }
        if !p.is_in_correct_subgroup_assuming_on_curve() || p.is_zero() {
            return Err(EddsaError::NotInSubgroup);
        }
        Ok(Self(p))
    }

    /// The x coordinate.
    pub fn x(&self) -> Fr {
        self.0.x
    }

    /// The y coordinate.
    pub fn y(&self) -> Fr {
        self.0.y
    }

    /// The curve point.
    pub fn point(&self) -> EdwardsAffine {
        self.0
    }

    /// Verifies `sig` on `msg`.
    pub fn verify(&self, msg: Fr, sig: &Signature) -> bool {
        verify_raw(self.x(), self.y(), msg, &SignatureWitness::from(sig))
    }
}

/// The challenge `h = Poseidon(R.x, R.y, A.x, A.y, m)`.
pub fn challenge(r: &EdwardsAffine, pk: &PublicKey, msg: Fr) -> Fr {
    hash([r.x, r.y, pk.x(), pk.y(), msg])
}

/// A signature `(R, S)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The commitment point `R = r·B`.
    pub r: EdwardsAffine,
    /// The response `S < l`.
    pub s: Scalar,
}

/// A signature as raw integers, exactly as the circuit reads it: `R`'s coordinates and `S` as
/// an integer that may be out of range (so tests can feed malformed values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureWitness {
    /// `R.x`.
    pub r_x: Fr,
    /// `R.y`.
    pub r_y: Fr,
    /// `S` as an integer (not reduced).
    pub s: BigUint,
}

impl From<&Signature> for SignatureWitness {
    fn from(sig: &Signature) -> Self {
        Self {
            r_x: sig.r.x,
            r_y: sig.r.y,
            s: sig.s.into(),
        }
    }
}

impl SignatureWitness {
    /// Placeholder for slots that carry no signature: `R = B`, `S = 0` (never checked there).
    pub fn unused() -> Self {
        let b = generator();
        Self {
            r_x: b.x,
            r_y: b.y,
            s: BigUint::zero(),
        }
    }
}

/// The verification equation on raw values, the native twin of the gadget: `R` and `A` on the
/// curve, `8·A` not the identity (no small-order key), `S < l`, and `S·B = R + h·(8·A)`.
pub fn verify_raw(pk_x: Fr, pk_y: Fr, msg: Fr, sig: &SignatureWitness) -> bool {
    let a = EdwardsAffine::new_unchecked(pk_x, pk_y);
    let r = EdwardsAffine::new_unchecked(sig.r_x, sig.r_y);
    let l: BigUint = Scalar::MODULUS.into();
    if !a.is_on_curve() || !r.is_on_curve() || sig.s >= l {
        return false;
    }
    let h = hash([sig.r_x, sig.r_y, pk_x, pk_y, msg]);
    let a8: EdwardsProjective = EdwardsProjective::from(a).double().double().double();
    if a8.is_zero() {
        return false; // a small-order key would verify anything
    }
    let rhs = EdwardsProjective::from(r) + a8.mul_bigint(h.into_bigint());
    let s = Scalar::from(sig.s.clone());
    let lhs = generator() * s;
    lhs == rhs
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct P {
            x: String,
            y: String,
        }
        P {
            x: fr_to_decimal(&self.x()),
            y: fr_to_decimal(&self.y()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct P {
            x: String,
            y: String,
        }
        let p = P::deserialize(d)?;
        let parse = |s: &str| fr_from_decimal(s).map_err(EddsaError::from);
        (|| PublicKey::from_coordinates(parse(&p.x)?, parse(&p.y)?))()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Sig {
            r_x: String,
            r_y: String,
            s: String,
        }
        let s_int: BigUint = self.s.into();
        Sig {
            r_x: fr_to_decimal(&self.r.x),
            r_y: fr_to_decimal(&self.r.y),
            s: s_int.to_str_radix(10),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Sig {
            r_x: String,
            r_y: String,
            s: String,
        }
        let sig = Sig::deserialize(d)?;
        (|| {
            let r = EdwardsAffine::new_unchecked(
                fr_from_decimal(&sig.r_x)?,
                fr_from_decimal(&sig.r_y)?,
            );
            if !r.is_on_curve() {
                return Err(EddsaError::NotOnCurve);
            }
            let l: BigUint = Scalar::MODULUS.into();
            let s_int =
                crate::field::decimal_below(&sig.s, &l).map_err(|_| EddsaError::NonCanonicalS)?;
            Ok(Signature {
                r,
                s: Scalar::from(s_int),
            })
        })()
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SecretKey {
        SecretKey::from_seed([i; 32])
    }

    #[test]
    fn sign_verify_and_reject() {
        let sk = key(1);
        let pk = sk.public_key();
        let m = Fr::from(42u64);
        let sig = sk.sign(m);
        assert!(pk.verify(m, &sig));
        assert!(!pk.verify(Fr::from(43u64), &sig), "other message");
        assert!(!key(2).public_key().verify(m, &sig), "other key");
        let mut bad = sig;
        bad.s += Scalar::from(1u64);
        assert!(!pk.verify(m, &bad), "tampered S");
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let sk = key(3);
        let pk = sk.public_key();
        let sig = sk.sign(Fr::from(5u64));
        let pk2: PublicKey = serde_json::from_str(&serde_json::to_string(&pk).unwrap()).unwrap();
        assert_eq!(pk, pk2);
        let sig2: Signature = serde_json::from_str(&serde_json::to_string(&sig).unwrap()).unwrap();
        assert_eq!(sig, sig2);
        assert!(serde_json::from_str::<PublicKey>(r#"{"x":"1","y":"2"}"#).is_err());
        assert!(
            serde_json::from_str::<PublicKey>(r#"{"x":"0","y":"1"}"#).is_err(),
            "identity"
        );
        let l: BigUint = Scalar::MODULUS.into();
        let bad = format!(
            r#"{{"r_x":"{}","r_y":"{}","s":"{}"}}"#,
            fr_to_decimal(&sig.r.x),
            fr_to_decimal(&sig.r.y),
            l
        );
        assert!(serde_json::from_str::<Signature>(&bad).is_err());
        assert_eq!(SecretKey::from_hex(&sk.to_hex()).unwrap(), sk);
        assert!(SecretKey::from_hex("abc").is_err());
    }

    #[test]
    fn malleated_s_plus_l_is_refused() {
        let sk = key(4);
        let pk = sk.public_key();
        let m = Fr::from(9u64);
        let mut w = SignatureWitness::from(&sk.sign(m));
        assert!(verify_raw(pk.x(), pk.y(), m, &w));
        let l: BigUint = Scalar::MODULUS.into();
        w.s += l;
        assert!(!verify_raw(pk.x(), pk.y(), m, &w));
    }
}

//! Field elements at the edges: decimal strings (as snarkjs and circom write them) and bytes.
//!
//! Parsing is strict: a value at or above the field modulus is refused, never reduced, so one
//! number has exactly one encoding.

use crate::Fr;
use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;
use std::str::FromStr;

/// Why a field element could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The text is not the canonical decimal text of a non-negative integer (digits only, no
    /// leading zero).
    #[error("not a canonical decimal integer (digits only, no leading zero): {0:?}")]
    NotDecimal(String),
    /// The integer is at least the field modulus; it is refused, not reduced.
    #[error("not a canonical field element (>= the BN254 scalar field modulus): {0}")]
    NonCanonical(String),
    /// A byte encoding had the wrong length.
    #[error("expected {expected} bytes, got {got}")]
    BadLength {
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
}

/// Longest decimal text quoted back in an error (a hostile input can be a megabyte long).
const QUOTE_MAX: usize = 100;

/// `s` for an error message, cut to [`QUOTE_MAX`] characters.
pub fn quote(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        return s.to_string();
    }
    let head: String = s.chars().take(QUOTE_MAX).collect();
    format!("{head}… ({} bytes)", s.len())
}

/// Whether `s` is the canonical decimal text of a non-negative integer: ASCII digits only, at
/// least one, and no leading zero (except `"0"` itself), so that every integer has exactly one
/// text. Every encoder here writes this form (`to_str_radix(10)`), as snarkjs does.
pub fn is_canonical_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// Parses canonical decimal text (see [`is_canonical_decimal`]) of an integer below `bound`:
/// [`FieldError::NotDecimal`] for any other text, [`FieldError::NonCanonical`] for an integer at
/// or above the bound. Text longer than the bound's is refused before any arithmetic, so a
/// megabyte of digits costs nothing. The error quotes at most 100 characters of `s`.
pub fn decimal_below(s: &str, bound: &BigUint) -> Result<BigUint, FieldError> {
    if !is_canonical_decimal(s) {
        return Err(FieldError::NotDecimal(quote(s)));
    }
    // Canonical text with more digits than the bound's is a larger integer.
    if s.len() > bound.to_str_radix(10).len() {
        return Err(FieldError::NonCanonical(quote(s)));
    }
    let n = BigUint::from_str(s).map_err(|_| FieldError::NotDecimal(quote(s)))?;
    if n >= *bound {
        return Err(FieldError::NonCanonical(quote(s)));
    }
    Ok(n)
}

/// Parses a decimal string into a canonical field element: canonical decimal text (no sign, no
/// leading zero: see [`is_canonical_decimal`]) of a value below p; a value >= p is refused, not
/// reduced.
pub fn fr_from_decimal(s: &str) -> Result<Fr, FieldError> {
    let modulus: BigUint = Fr::MODULUS.into();
    decimal_below(s, &modulus).map(Fr::from)
}

/// The canonical field element equal to `n`, or `None` when `n >= p`.
pub fn fr_from_biguint(n: &BigUint) -> Option<Fr> {
    let modulus: BigUint = Fr::MODULUS.into();
    if n >= &modulus {
        return None;
    }
    Some(Fr::from(n.clone()))
}

/// A field element as a decimal string.
pub fn fr_to_decimal(x: &Fr) -> String {
    let n: BigUint = (*x).into();
    n.to_str_radix(10)
}

/// 32 little-endian bytes of the canonical representative.
pub fn fr_to_bytes(x: &Fr) -> [u8; 32] {
    let v = x.into_bigint().to_bytes_le();
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    out
}

/// Parses 32 little-endian bytes, refusing values >= p.
pub fn fr_from_bytes(bytes: &[u8]) -> Result<Fr, FieldError> {
    if bytes.len() != 32 {
        return Err(FieldError::BadLength {
            expected: 32,
            got: bytes.len(),
        });
    }
    let n = BigUint::from_bytes_le(bytes);
    fr_from_biguint(&n).ok_or_else(|| FieldError::NonCanonical(n.to_str_radix(10)))
}

/// serde helpers: a field element as a decimal string (`#[serde(with = "zkr_circuits::field::decimal")]`).
pub mod decimal {
    use super::*;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(x: &Fr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fr_to_decimal(x))
    }

    /// Deserializes a canonical decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fr, D::Error> {
        let s = String::deserialize(d)?;
        fr_from_decimal(&s).map_err(D::Error::custom)
    }
}

/// serde helpers: a list of field elements as decimal strings
/// (`#[serde(with = "zkr_circuits::field::decimal_vec")]`).
pub mod decimal_vec {
    use super::*;
    use serde::{de::Error, ser::SerializeSeq, Deserialize, Deserializer, Serializer};

    /// Serializes as a list of decimal strings.
    pub fn serialize<S: Serializer>(xs: &[Fr], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(xs.len()))?;
        for x in xs {
            seq.serialize_element(&fr_to_decimal(x))?;
        }
        seq.end()
    }

    /// Deserializes a list of canonical decimal strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Fr>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| fr_from_decimal(s).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip_and_strictness() {
        let x = Fr::from(123456789u64);
        assert_eq!(fr_from_decimal(&fr_to_decimal(&x)).unwrap(), x);
        let p: BigUint = Fr::MODULUS.into();
        assert!(matches!(
            fr_from_decimal(&p.to_str_radix(10)),
            Err(FieldError::NonCanonical(_))
        ));
        let p_minus_1 = (p - 1u32).to_str_radix(10);
        assert_eq!(fr_from_decimal(&p_minus_1).unwrap(), -Fr::from(1u64));
        assert!(fr_from_decimal("-1").is_err());
        assert!(fr_from_decimal("").is_err());
        assert!(fr_from_decimal("12a").is_err());
        // One integer, one text: a leading zero is refused, not read as the same number.
        assert_eq!(fr_from_decimal("0").unwrap(), Fr::from(0u64));
        assert!(matches!(
            fr_from_decimal("07"),
            Err(FieldError::NotDecimal(_))
        ));
        assert!(matches!(
            fr_from_decimal("00"),
            Err(FieldError::NotDecimal(_))
        ));
        // A megabyte of digits is refused by its length, and quoted back cut short.
        let huge = "9".repeat(1 << 20);
        match fr_from_decimal(&huge) {
            Err(FieldError::NonCanonical(q)) => assert!(q.len() < 200, "{}", q.len()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bytes_round_trip_and_strictness() {
        let x = -Fr::from(7u64);
        assert_eq!(fr_from_bytes(&fr_to_bytes(&x)).unwrap(), x);
        assert!(fr_from_bytes(&[0xff; 32]).is_err());
        assert!(fr_from_bytes(&[0; 31]).is_err());
    }
}

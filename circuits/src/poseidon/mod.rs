//! Poseidon over BN254 with circomlib's parameters (x^5 S-box, 8 full rounds, width-dependent
//! partial rounds), as used by circom, snarkjs and iden3.
//!
//! [`native`] computes hashes; [`gadget`] (feature `r1cs`) constrains them. Both read their round
//! constants and MDS matrices from the `light-poseidon` crate, which ships circomlib's values.
//! The permutation costs `3 * (8 * t + partial_rounds) - 3` constraints for width
//! `t = inputs + 1` (the capacity element's first S-box is on a constant): 240 for 2 inputs,
//! 297 for 4 inputs, 321 for 5 inputs.

#[cfg(feature = "r1cs")]
pub mod gadget;
pub mod native;

pub use native::{hash, poseidon, PoseidonError};

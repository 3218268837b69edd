//! Native Poseidon: the twin of [`super::gadget`].

use crate::Fr;
use ark_ff::Zero;
use light_poseidon::{parameters::bn254_x5, PoseidonParameters};
use std::sync::OnceLock;

/// The largest number of inputs circomlib's parameters support (width 13).
pub const MAX_INPUTS: usize = 12;

/// A Poseidon call with an unsupported number of inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// circomlib defines Poseidon for 1 to 12 inputs.
    #[error("Poseidon takes 1 to {MAX_INPUTS} inputs, got {0}")]
    BadArity(usize),
}

/// The circomlib parameters for `inputs` inputs (width `inputs + 1`), computed once.
pub fn parameters(inputs: usize) -> Result<&'static PoseidonParameters<Fr>, PoseidonError> {
    static PARAMS: OnceLock<Vec<PoseidonParameters<Fr>>> = OnceLock::new();
    if inputs == 0 || inputs > MAX_INPUTS {
        return Err(PoseidonError::BadArity(inputs));
    }
    let all = PARAMS.get_or_init(|| {
        (2..=(MAX_INPUTS as u8 + 1))
            .map(|t| bn254_x5::get_poseidon_parameters::<Fr>(t).expect("circomlib widths 2..=13"))
            .collect()
    });
    Ok(&all[inputs - 1])
}

#[inline(always)]
fn sbox(x: Fr) -> Fr {
    let x2 = x * x;
    let x4 = x2 * x2;
    x4 * x
}

/// Poseidon hash of `inputs` (1 to 12 field elements), circomlib-compatible.
///
/// The state starts as `[0, inputs...]`; the output is the first state element after the
/// permutation.
pub fn poseidon(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    let p = parameters(inputs.len())?;
    let t = p.width;
    let mut state = Vec::with_capacity(t);
    state.push(Fr::zero());
    state.extend_from_slice(inputs);
    let half = p.full_rounds / 2;
    let mut next = vec![Fr::zero(); t];
    for round in 0..(p.full_rounds + p.partial_rounds) {
        for (i, s) in state.iter_mut().enumerate() {
            *s += p.ark[round * t + i];
        }
        if round < half || round >= half + p.partial_rounds {
            state.iter_mut().for_each(|s| *s = sbox(*s));
        } else {
            state[0] = sbox(state[0]);
        }
        for (i, n) in next.iter_mut().enumerate() {
            *n = state
                .iter()
                .zip(&p.mds[i])
                .fold(Fr::zero(), |acc, (s, m)| acc + *s * m);
        }
        std::mem::swap(&mut state, &mut next);
    }
    Ok(state[0])
}

/// Poseidon of a fixed-size array: for the call sites whose arity is fixed by the protocol.
pub fn hash<const N: usize>(inputs: [Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS) };
    poseidon(&inputs).expect("arity checked at compile time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fr_from_decimal;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use proptest::prelude::*;

    fn fr(s: &str) -> Fr {
        fr_from_decimal(s).unwrap()
    }

    /// circomlib's published test vectors (circomlib/test/poseidoncircuit.js).
    #[test]
    fn circomlib_vectors() {
        assert_eq!(
            hash([Fr::from(1u64), Fr::from(2u64)]),
            fr("7853200120776062878684798364095072458815029376092732009249414926327459813530")
        );
        assert_eq!(
            hash([Fr::from(3u64), Fr::from(4u64)]),
            fr("14763215145315200506921711489642608356394854266165572616578112107564877678998")
        );
        assert_eq!(
            hash([Fr::from(1u64)]),
            fr("18586133768512220936620570745912940619677854269274689475585506675881198879027")
        );
        assert_eq!(
            hash([1u64, 2, 0, 0, 0].map(Fr::from)),
            fr("1018317224307729531995786483840663576608797660851238720571059489595066344487")
        );
        assert_eq!(
            hash([3u64, 4, 0, 0, 0].map(Fr::from)),
            fr("5811595552068139067952687508729883632420015185677766880877743348592482390548")
        );
        assert_eq!(
            hash([3u64, 4, 5, 10, 23].map(Fr::from)),
            fr("13034429309846638789535561449942021891039729847501137143363028890275222221409")
        );
    }

    #[test]
    fn bad_arity_is_an_error() {
        assert_eq!(poseidon(&[]), Err(PoseidonError::BadArity(0)));
        assert_eq!(
            poseidon(&[Fr::zero(); 13]),
            Err(PoseidonError::BadArity(13))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Our permutation equals light-poseidon's reference implementation.
        #[test]
        fn matches_light_poseidon(n in 1usize..=12, seed in any::<[u64; 12]>()) {
            let inputs: Vec<Fr> = seed[..n].iter().map(|&v| Fr::from(v) * Fr::from(v ^ 0x9e37)).collect();
            let mut reference = Poseidon::<Fr>::new_circom(n).unwrap();
            prop_assert_eq!(poseidon(&inputs).unwrap(), reference.hash(&inputs).unwrap());
        }
    }
}

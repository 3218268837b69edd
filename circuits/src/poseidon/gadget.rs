//! Poseidon as R1CS constraints: the twin of [`super::native`].
//!
//! Each S-box `x^5` costs three multiplications (`x^2`, `x^4`, `x^5`); round constants and the MDS
//! matrix are linear and therefore free. A hash of `n` inputs costs
//! `3 * (8 * (n + 1) + partial_rounds) - 3` constraints: the first S-box of the capacity
//! element acts on a constant and is free. That is 240 for 2 inputs, 297 for 4, 321 for 5.

use super::native::{parameters, PoseidonError};
use crate::Fr;
use ark_ff::Zero;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;

impl From<PoseidonError> for SynthesisError {
    fn from(_: PoseidonError) -> Self {
        SynthesisError::Unsatisfiable
    }
}

/// `Σ coeffs[i] * vars[i] + constant` as one linear combination (no constraint).
pub fn linear_combination(coeffs: &[Fr], vars: &[FpVar<Fr>], constant: Fr) -> FpVar<Fr> {
    let mut c = constant;
    let mut lc_coeffs = Vec::with_capacity(vars.len());
    let mut lc_vars: Vec<&AllocatedFp<Fr>> = Vec::with_capacity(vars.len());
    for (coeff, v) in coeffs.iter().zip(vars) {
        match v {
            FpVar::Constant(k) => c += *coeff * k,
            FpVar::Var(a) => {
                lc_coeffs.push(*coeff);
                lc_vars.push(a);
            }
        }
    }
    match AllocatedFp::linear_combination(lc_coeffs, &lc_vars) {
        None => FpVar::Constant(c),
        Some(a) if c.is_zero() => FpVar::Var(a),
        Some(a) => FpVar::Var(a) + c,
    }
}

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// Constrains and returns Poseidon(`inputs`), circomlib-compatible (1 to 12 inputs).
pub fn poseidon_var(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let p = parameters(inputs.len())?;
    let t = p.width;
    let half = p.full_rounds / 2;
    let rounds = p.full_rounds + p.partial_rounds;

    // State after adding round 0's constants.
    let mut state: Vec<FpVar<Fr>> = std::iter::once(FpVar::Constant(Fr::zero()))
        .chain(inputs.iter().cloned())
        .enumerate()
        .map(|(i, s)| s + p.ark[i])
        .collect();

    for round in 0..rounds {
        if round < half || round >= half + p.partial_rounds {
            state = state.iter().map(sbox).collect::<Result<_, _>>()?;
        } else {
            state[0] = sbox(&state[0])?;
        }
        // MDS, with the next round's constants folded into the same linear combination.
        state = (0..t)
            .map(|i| {
                let next_c = if round + 1 < rounds {
                    p.ark[(round + 1) * t + i]
                } else {
                    Fr::zero()
                };
                linear_combination(&p.mds[i], &state, next_c)
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poseidon::poseidon;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use proptest::prelude::*;

    #[test]
    fn constraint_costs() {
        for (n, expected) in [(2usize, 240usize), (4, 297), (5, 321)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<_> = (0..n)
                .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i as u64))).unwrap())
                .collect();
            let _ = poseidon_var(&vars).unwrap();
            assert_eq!(cs.num_constraints(), expected, "Poseidon with {n} inputs");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// gadget == native on random inputs, and the system is satisfied.
        #[test]
        fn gadget_equals_native(n in 1usize..=6, seed in any::<[u64; 6]>(), constant_mask in any::<u8>()) {
            let inputs: Vec<Fr> = seed[..n].iter().map(|&v| Fr::from(v) * Fr::from(v.rotate_left(17) | 1)).collect();
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<_> = inputs.iter().enumerate().map(|(i, x)| {
                if constant_mask >> i & 1 == 1 { FpVar::Constant(*x) } else { FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap() }
            }).collect();
            let out = poseidon_var(&vars).unwrap();
            prop_assert_eq!(out.value().unwrap(), poseidon(&inputs).unwrap());
            prop_assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn wrong_output_is_unsatisfied() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
        let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
        let out = poseidon_var(&[a, b]).unwrap();
        let claimed = FpVar::new_input(cs.clone(), || Ok(Fr::from(3u64))).unwrap();
        use ark_r1cs_std::eq::EqGadget;
        out.enforce_equal(&claimed).unwrap();
        assert_eq!(cs.is_satisfied(), Ok(false));
    }
}

//! `zkr_prover::r1cs_matrices::extract` gives exactly ark-relations' rows (`finalize`, then
//! `to_matrices`): on the batch circuit, and on a small circuit built to hit every case
//! (nested and repeated LCs, cancellations, scaling, the constant, plain variables as
//! arguments, a variable and the zero variable as constraint arguments).

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, LinearCombination,
    OptimizationGoal, SynthesisError, SynthesisMode, Variable,
};
use ark_relations::utils::matrix::Matrix;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::blank_circuit;
use zkr_prover::r1cs_matrices::{by_ark_relations, extract};

/// The circuit synthesized for its matrices: zkr's extraction and ark-relations'.
fn both<C: ConstraintSynthesizer<Fr>>(circuit: C) -> (Option<Vec<Matrix<Fr>>>, Vec<Matrix<Fr>>) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).unwrap();
    let zkr = extract(&cs.borrow().unwrap());
    (zkr, by_ark_relations(&cs).unwrap())
}

#[test]
fn the_batch_circuits_rows_are_ark_relations() {
    for (depth, slots) in [(2, 1), (4, 2), (6, 1)] {
        let (zkr, ark) = both(blank_circuit(CircuitParams::new(depth, slots).unwrap()));
        let zkr = zkr.expect("the batch circuit nests LCs");
        assert_eq!(zkr.len(), 3);
        for (m, (z, a)) in zkr.iter().zip(&ark).enumerate() {
            assert_eq!(z.len(), a.len(), "matrix {m}: rows");
            for (row, (zr, ar)) in z.iter().zip(a).enumerate() {
                assert_eq!(
                    zr, ar,
                    "depth {depth}, {slots} slots: matrix {m}, row {row}"
                );
            }
        }
    }
}

/// Every case the extraction handles, against ark-relations.
struct Cases;

impl ConstraintSynthesizer<Fr> for Cases {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let x = cs.new_input_variable(|| Ok(Fr::from(3u64)))?;
        let y = cs.new_witness_variable(|| Ok(Fr::from(4u64)))?;
        let z = cs.new_witness_variable(|| Ok(Fr::from(5u64)))?;
        let lc = |terms: &[(Fr, Variable)]| {
            let terms = terms.to_vec();
            move || LinearCombination(terms)
        };
        let one = Fr::from(1u64);
        let two = Fr::from(2u64);
        // s = x + y; t = s − y (= x, y cancels); u = 2s + 3t − 2x + One (= 3x + 2y + 1);
        let s = cs.new_lc(lc(&[(one, x), (one, y)]))?;
        let t = cs.new_lc(lc(&[(one, s), (-one, y)]))?;
        let u = cs.new_lc(lc(&[
            (two, s),
            (Fr::from(3u64), t),
            (-two, x),
            (one, Variable::One),
        ]))?;
        // An LC used by nothing, and one that cancels completely.
        let _unused = cs.new_lc(lc(&[(one, u), (one, z)]))?;
        let zero = cs.new_lc(lc(&[(one, t), (-one, x)]))?;
        // Constraints: LCs, the same LC twice, a plain variable, the zero variable, an LC that
        // is zero, the constant.
        cs.enforce_r1cs_constraint(lc(&[(one, u)]), lc(&[(one, t)]), lc(&[(one, s), (two, z)]))?;
        cs.enforce_r1cs_constraint(lc(&[(one, s)]), lc(&[(one, s)]), lc(&[(one, z)]))?;
        cs.enforce_r1cs_constraint(lc(&[(one, zero)]), lc(&[(one, y)]), lc(&[]))?;
        cs.enforce_r1cs_constraint(
            lc(&[(one, Variable::One)]),
            lc(&[(two, u), (one, t), (one, Variable::Zero)]),
            lc(&[(one, y), (one, y)]),
        )?;
        // A later LC made from an early one again.
        let w = cs.new_lc(lc(&[(Fr::from(7u64), s), (one, u), (one, z)]))?;
        cs.enforce_r1cs_constraint(
            lc(&[(one, w)]),
            lc(&[(one, Variable::One)]),
            lc(&[(one, w)]),
        )?;
        Ok(())
    }
}

#[test]
fn every_case_is_ark_relations() {
    let (zkr, ark) = both(Cases);
    assert_eq!(zkr.expect("the cases nest LCs"), ark);
}

/// No LC refers to another: ark-relations leaves the rows unsorted, so the extraction declines
/// and the caller uses ark-relations' rows.
struct Flat;

impl ConstraintSynthesizer<Fr> for Flat {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let x = cs.new_witness_variable(|| Ok(Fr::from(2u64)))?;
        let y = cs.new_witness_variable(|| Ok(Fr::from(3u64)))?;
        cs.enforce_r1cs_constraint(
            || LinearCombination(vec![(Fr::from(1u64), y), (Fr::from(1u64), x)]),
            || LinearCombination(vec![(Fr::from(1u64), x)]),
            || LinearCombination(vec![(Fr::from(1u64), y)]),
        )
    }
}

#[test]
fn a_circuit_without_nested_lcs_is_left_to_ark_relations() {
    let (zkr, _) = both(Flat);
    assert!(zkr.is_none());
}

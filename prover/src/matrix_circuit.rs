//! A circuit given by its R1CS matrices: each row `i` becomes the constraint
//! `⟨A_i, z⟩ · ⟨B_i, z⟩ = ⟨C_i, z⟩` over the same variables, in the same order.
//!
//! Setup needs the batch circuit's matrices twice: once for zkr (the digest in `circuit.json`,
//! `matrices.bin`, the witness map's row grouping) and once inside ark-groth16's generator, which
//! takes a circuit and synthesizes it again. Synthesizing the batch circuit is the expensive
//! part of both (ark-relations inlines every linear combination of every gadget: 30 s at depth
//! 24 × 32 slots), so the generator gets this circuit instead, built from the matrices of the
//! first synthesis: its rows are already flat, so there is nothing to inline, and its matrices
//! are the same entry for entry. The keys are then exactly the ones the batch circuit gives
//! (`prover/tests/groth16.rs` compares the two setups byte for byte for the same randomness).
//!
//! Only for setup: the variables are allocated without values.

use crate::keys::ConstraintMatrices;
use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
};

/// The circuit whose constraints are `m`'s rows.
pub struct MatrixCircuit<'a>(pub &'a ConstraintMatrices);

impl ConstraintSynthesizer<Fr> for MatrixCircuit<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let m = self.0;
        if m.matrices.len() != 3 || m.num_instance_variables == 0 {
            return Err(SynthesisError::Unsatisfiable);
        }
        // Column j of the matrices: 0 is the constant one, 1 .. l the public inputs, then the
        // witness variables, allocated here in that order so that each gets its column back.
        let mut columns = Vec::with_capacity(m.num_instance_variables + m.num_witness_variables);
        columns.push(Variable::One);
        for _ in 1..m.num_instance_variables {
            columns.push(cs.new_input_variable(|| Err(SynthesisError::AssignmentMissing))?);
        }
        for _ in 0..m.num_witness_variables {
            columns.push(cs.new_witness_variable(|| Err(SynthesisError::AssignmentMissing))?);
        }
        let row = |r: &[(Fr, usize)]| -> Result<LinearCombination<Fr>, SynthesisError> {
            r.iter()
                .map(|&(coeff, col)| {
                    columns
                        .get(col)
                        .map(|&v| (coeff, v))
                        .ok_or(SynthesisError::Unsatisfiable)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(LinearCombination)
        };
        let (a, b, c) = (&m.matrices[0], &m.matrices[1], &m.matrices[2]);
        if [a.len(), b.len(), c.len()] != [m.num_constraints; 3] {
            return Err(SynthesisError::Unsatisfiable);
        }
        for ((a, b), c) in a.iter().zip(b).zip(c) {
            let (a, b, c) = (row(a)?, row(b)?, row(c)?);
            cs.enforce_r1cs_constraint(|| a, || b, || c)?;
        }
        Ok(())
    }
}

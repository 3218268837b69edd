//! The R1CS matrices of a synthesized constraint system, without ark-relations' `finalize`.
//!
//! A gadget's constraint refers to linear combinations (LCs), and an LC may refer to earlier
//! LCs (a Poseidon round's state is a combination of the previous round's). ark-relations'
//! `finalize` inlines every LC into a stored, fully expanded copy (interning each
//! coefficient in a hash map, then sorting each copy), and `to_matrices` reads the constraints'
//! rows from those copies. At depth 24 that is 6.1 million stored terms for 2 slots (so about
//! 95 million for 32) and most of the time it takes to build the matrices (24 s of about 30 s
//! at 32 slots). Here:
//!
//! * an LC is expanded into a dense accumulator indexed by variable (one multiplication and one
//!   addition a term, no hashing), and its nonzero terms are kept sorted by column;
//! * an expanded LC is kept only while something still refers to it (a use count per LC): once
//!   the last LC or constraint that uses it has been expanded, it is dropped;
//! * a constraint's rows are written as soon as its LCs are expanded, in constraint order.
//!
//! The rows are exactly `to_matrices`' after `finalize` (the test compares both on the batch
//! circuit): for each column, the sum of every path's coefficient product, zero sums left out,
//! columns ascending. Where this module's preconditions do not hold — a predicate other than
//! R1CS's, an LC that refers to a later one, or no LC referring to another (where ark-relations
//! does not sort rows at all) — it returns `None`, and the caller uses ark-relations' way.

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_relations::gr1cs::{
    ConstraintSystem, ConstraintSystemRef, SynthesisError, Variable, R1CS_PREDICATE_LABEL,
};
use ark_relations::utils::matrix::Matrix;

use crate::field::FastMul;

/// An expanded LC: `(column, coefficient)`, columns ascending, coefficients nonzero.
type Expanded = Vec<(usize, Fr)>;

/// The A, B and C matrices of `cs` (synthesized with matrices, not finalized), or `None` where
/// the module docs say ark-relations' `finalize` and `to_matrices` must be used instead.
pub fn extract(cs: &ConstraintSystem<Fr>) -> Option<Vec<Matrix<Fr>>> {
    let r1cs = cs.predicate_constraint_systems.get(R1CS_PREDICATE_LABEL)?;
    if cs.predicate_constraint_systems.len() != 1 || r1cs.get_arity() != 3 {
        return None;
    }
    let arguments = r1cs.get_constraints();
    let num_constraints = r1cs.num_constraints();
    let num_lcs = cs.lc_map.num_lcs();
    let num_inputs = cs.num_instance_variables;
    let num_columns = num_inputs + cs.num_witness_variables;

    // Use counts, and the preconditions.
    let mut uses = vec![0u32; num_lcs];
    let mut any_nested = false;
    for (i, lc) in cs.lc_map.iter().enumerate() {
        for (_, v) in lc {
            if let Some(j) = v.get_lc_index() {
                if j >= i {
                    return None;
                }
                uses[j] += 1;
                any_nested = true;
            }
        }
    }
    if !any_nested {
        return None;
    }
    // Each constraint is written once all its LCs are expanded: after the highest one.
    let mut ready_after = vec![0usize; num_constraints];
    for argument in arguments {
        for (k, v) in argument.iter().enumerate() {
            if let Some(j) = v.get_lc_index() {
                if j >= num_lcs {
                    return None;
                }
                uses[j] += 1;
                ready_after[k] = ready_after[k].max(j);
            }
        }
    }

    let mut expanded: Vec<Option<Expanded>> = vec![None; num_lcs];
    let mut accumulator = Accumulator::new(num_columns);
    let mut matrices: Vec<Matrix<Fr>> = (0..3)
        .map(|_| Vec::with_capacity(num_constraints))
        .collect();
    let mut next_constraint = 0;
    for i in 0..num_lcs {
        let direct = cs.get_lc(Variable::symbolic_lc(i));
        for (coefficient, v) in direct.iter() {
            if let Some(j) = v.get_lc_index() {
                accumulator.add_scaled(coefficient, expanded[j].as_ref()?);
                release(&mut uses, &mut expanded, j);
            } else if let Some(column) = v.get_variable_index(num_inputs) {
                accumulator.add(column, *coefficient);
            }
        }
        let terms = accumulator.take();
        if uses[i] > 0 {
            expanded[i] = Some(terms);
        }
        // The constraints whose LCs are all expanded now, in order.
        while next_constraint < num_constraints && ready_after[next_constraint] <= i {
            for (matrix, argument) in matrices.iter_mut().zip(arguments) {
                let v = argument[next_constraint];
                let row = match v.get_lc_index() {
                    Some(j) => {
                        let row = expanded[j].as_ref()?.iter().map(|&(c, f)| (f, c)).collect();
                        release(&mut uses, &mut expanded, j);
                        row
                    }
                    None => match v.get_variable_index(num_inputs) {
                        Some(column) => vec![(Fr::one(), column)],
                        None => Vec::new(),
                    },
                };
                matrix.push(row);
            }
            next_constraint += 1;
        }
    }
    // Every constraint is ready after the last LC (LC 0, the zero LC, always exists).
    debug_assert_eq!(next_constraint, num_constraints);
    Some(matrices)
}

/// One use of LC `j` is done; after its last, its expansion is dropped.
fn release(uses: &mut [u32], expanded: &mut [Option<Expanded>], j: usize) {
    uses[j] -= 1;
    if uses[j] == 0 {
        expanded[j] = None;
    }
}

/// The A, B and C matrices the ark-relations way: `finalize` (every LC stored expanded), then
/// `to_matrices`. What [`extract`] is compared with, and what is used where it declines.
pub fn by_ark_relations(cs: &ConstraintSystemRef<Fr>) -> Result<Vec<Matrix<Fr>>, SynthesisError> {
    cs.finalize();
    cs.to_matrices()?
        .remove(R1CS_PREDICATE_LABEL)
        .ok_or(SynthesisError::PredicateNotFound)
}

/// A sparse sum of terms over a dense array of columns.
struct Accumulator {
    sums: Vec<Fr>,
    touched: Vec<usize>,
    present: Vec<bool>,
}

impl Accumulator {
    fn new(columns: usize) -> Self {
        Self {
            sums: vec![Fr::zero(); columns],
            touched: Vec::new(),
            present: vec![false; columns],
        }
    }

    fn add(&mut self, column: usize, coefficient: Fr) {
        if !self.present[column] {
            self.present[column] = true;
            self.touched.push(column);
        }
        self.sums[column] += coefficient;
    }

    fn add_scaled(&mut self, scale: &Fr, terms: &Expanded) {
        if scale.is_one() {
            for &(column, c) in terms {
                self.add(column, c);
            }
        } else {
            for &(column, c) in terms {
                self.add(column, c.fast_mul(scale));
            }
        }
    }

    /// The nonzero sums, columns ascending; the accumulator is empty again.
    fn take(&mut self) -> Expanded {
        self.touched.sort_unstable();
        let mut out = Vec::with_capacity(self.touched.len());
        for &column in &self.touched {
            let s = std::mem::replace(&mut self.sums[column], Fr::zero());
            self.present[column] = false;
            if !s.is_zero() {
                out.push((column, s));
            }
        }
        self.touched.clear();
        out
    }
}

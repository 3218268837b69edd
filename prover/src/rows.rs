//! The constraint rows' values on an assignment, each distinct linear combination computed
//! once.
//!
//! The first step of Groth16's witness map is the value of every row of A, B and C (each a
//! linear combination of the assignment) — one multiplication per matrix entry whose
//! coefficient is not one, and one random read of the assignment per entry. In the batch
//! circuit the matrices are large: at depth 24 with 32 slots they have 30.0 million entries (B
//! alone 19.8 million: Poseidon's partial rounds leave state words as linear combinations that
//! grow round after round, and every S-box reads one of them), and evaluating every row took
//! about a third of the witness map on one thread (1.0 s, the transforms of 786,432 values about
//! 2 s; `cargo run --release -p zkr-prover --example rows -- 24 32`).
//!
//! Many rows are the same linear combination: an S-box's `x·x = x²` has the same A and B, and
//! its `x⁴·x = x⁵` reads `x` again in B. [`DistinctRows`] finds them once per circuit (when
//! its matrices are built) and evaluates each distinct combination once per proof: 19.2 million
//! entries instead of 30.0 at that size, 0.6 s instead of 1.0 s. Field addition is exact, so the values are exactly
//! those of ark-groth16's `evaluate_constraint`; rows are evaluated on one thread each (arkworks
//! splits every row longer than 100 entries across threads, which costs more than it gains
//! when the rows already run in parallel).

use crate::field::FastMul;
use ark_bn254::Fr;
use ark_ff::{One, Zero};
use ark_relations::gr1cs::Matrix;
use rayon::prelude::*;
use std::collections::HashMap;

/// A row with no entries (its value is zero).
const EMPTY: u32 = u32::MAX;

/// Which rows of a constraint system's matrices are the same linear combination.
#[derive(Debug, Clone, Default)]
pub struct DistinctRows {
    /// Per matrix, per row: the index of its linear combination in `firsts`, or [`EMPTY`].
    ids: Vec<Vec<u32>>,
    /// Each distinct non-empty linear combination: where it first occurs (matrix, row).
    firsts: Vec<(u32, u32)>,
}

impl DistinctRows {
    /// Groups the rows of `matrices` by their linear combination (same coefficients on the
    /// same variables, in the same order, as the matrices store them).
    ///
    /// # Panics
    /// With 2^32 − 1 rows or more in one matrix.
    pub fn new(matrices: &[Matrix<Fr>]) -> Self {
        let mut seen: HashMap<Row<'_>, u32> = HashMap::new();
        let mut firsts = Vec::new();
        let ids = matrices
            .iter()
            .enumerate()
            .map(|(k, m)| {
                assert!(m.len() < EMPTY as usize, "too many rows");
                m.iter()
                    .enumerate()
                    .map(|(r, row)| {
                        if row.is_empty() {
                            return EMPTY;
                        }
                        *seen.entry(Row(row)).or_insert_with(|| {
                            firsts.push((k as u32, r as u32));
                            (firsts.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        Self { ids, firsts }
    }

    /// The number of distinct non-empty linear combinations.
    pub fn len(&self) -> usize {
        self.firsts.len()
    }

    /// Whether every row is empty.
    pub fn is_empty(&self) -> bool {
        self.firsts.is_empty()
    }

    /// The value of each distinct linear combination on `full` (in [`DistinctRows`]' order).
    /// `matrices` must be the ones this was built from.
    pub fn evaluate(&self, matrices: &[Matrix<Fr>], full: &[Fr]) -> Vec<Fr> {
        self.firsts
            .par_iter()
            .with_min_len(256)
            .map(|&(k, r)| lc_value(&matrices[k as usize][r as usize], full))
            .collect()
    }

    /// Writes matrix `k`'s row values into `out` (one per row, from the start), taking them
    /// from `values` ([`DistinctRows::evaluate`]'s result).
    pub fn fill(&self, k: usize, values: &[Fr], out: &mut [Fr]) {
        out.par_iter_mut()
            .zip(&self.ids[k])
            .with_min_len(1024)
            .for_each(|(o, &id)| {
                *o = if id == EMPTY {
                    Fr::zero()
                } else {
                    values[id as usize]
                }
            });
    }
}

/// A row as a hash map key: equal when every entry is equal, hashed on its length and a few
/// entries (hashing all 30 million entries of a large circuit took seconds; rows that hash
/// alike are still compared in full).
#[derive(PartialEq, Eq)]
struct Row<'a>(&'a [(Fr, usize)]);

impl std::hash::Hash for Row<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let r = self.0;
        h.write_usize(r.len());
        let ends = r.iter().take(3).chain(r.iter().rev().take(3));
        for (coeff, index) in ends {
            h.write_usize(*index);
            h.write_u64(coeff.0 .0[0]);
        }
    }
}

/// `Σ coeff · full[index]` over a row's entries, on the calling thread.
fn lc_value(terms: &[(Fr, usize)], full: &[Fr]) -> Fr {
    let mut sum = Fr::zero();
    for (coeff, index) in terms {
        let v = full[*index];
        sum = if coeff.is_one() {
            sum.fast_add(&v)
        } else {
            sum.fast_add(&v.fast_mul(coeff))
        };
    }
    sum
}

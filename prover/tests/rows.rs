//! `DistinctRows` against ark-groth16's `evaluate_constraint`, row by row, on random matrices
//! with many repeated rows (within a matrix and across A, B, C), empty rows and rows that differ
//! in one coefficient or one variable only.

use ark_bn254::Fr;
use ark_ff::{One, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::evaluate_constraint;
use ark_relations::gr1cs::Matrix;
use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkr_prover::rows::DistinctRows;

/// Three matrices of `rows` rows over `vars` variables, where each row is new (0–8 terms), a
/// copy of an earlier row of any matrix, or such a copy with one entry changed.
fn matrices(rows: usize, vars: usize, seed: u64) -> Vec<Matrix<Fr>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut all: Vec<Vec<(Fr, usize)>> = Vec::new();
    let mut out = vec![Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..rows {
        for m in out.iter_mut() {
            let pick = rng.next_u32() % 4;
            let row = if pick == 0 || all.is_empty() {
                let terms = (rng.next_u32() % 9) as usize;
                (0..terms)
                    .map(|_| {
                        let c = if rng.next_u32() % 2 == 0 {
                            Fr::one()
                        } else {
                            Fr::rand(&mut rng)
                        };
                        (c, rng.next_u32() as usize % vars)
                    })
                    .collect()
            } else {
                let mut row = all[rng.next_u32() as usize % all.len()].clone();
                if pick == 3 && !row.is_empty() {
                    let i = rng.next_u32() as usize % row.len();
                    if rng.next_u32() % 2 == 0 {
                        row[i].0 += Fr::one();
                    } else {
                        row[i].1 = (row[i].1 + 1) % vars;
                    }
                }
                row
            };
            all.push(row.clone());
            m.push(row);
        }
    }
    out
}

fn check(rows: usize, vars: usize, seed: u64) {
    let m = matrices(rows, vars, seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 1);
    let full: Vec<Fr> = (0..vars).map(|_| Fr::rand(&mut rng)).collect();
    let d = DistinctRows::new(&m);
    let distinct: std::collections::HashSet<&Vec<(Fr, usize)>> =
        m.iter().flatten().filter(|r| !r.is_empty()).collect();
    assert_eq!(d.len(), distinct.len());
    let values = d.evaluate(&m, &full);
    for (k, mat) in m.iter().enumerate() {
        let mut out = vec![Fr::from(7u64); rows];
        d.fill(k, &values, &mut out);
        for (r, row) in mat.iter().enumerate() {
            let want = evaluate_constraint(row, &full);
            assert_eq!(out[r], want, "matrix {k} row {r}");
            if row.is_empty() {
                assert!(out[r].is_zero());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn values_equal_ark_groth16_row_by_row(rows in 1usize..200, vars in 1usize..30, seed: u64) {
        check(rows, vars, seed);
    }
}

#[test]
fn large_system_on_several_threads() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    pool.install(|| check(5000, 500, 3));
}

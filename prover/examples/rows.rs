//! Where the witness map's first step goes: the matrices' entries, how many of them are in
//! distinct rows, and the time of the row values with arkworks' `evaluate_constraint` on every
//! row against `DistinctRows` (each distinct row once), on one thread, then the whole witness
//! map. The assignment is random (the cost does not depend on the values).
//!
//! `cargo run --release -p zkr-prover --example rows -- 24 32` (depth, slots; building the
//! depth-24 matrices takes about a minute).

use ark_bn254::Fr;
use ark_ff::{One, UniformRand};
use ark_groth16::r1cs_to_qap::evaluate_constraint;
use rayon::prelude::*;
use std::time::Instant;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::ConstraintMatrices;
use zkr_prover::rows::DistinctRows;

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .map(|a| a.parse().expect("a number"))
            .unwrap_or(default)
    };
    let (depth, slots) = (arg(1, 16) as u32, arg(2, 4));
    let t = Instant::now();
    let m = ConstraintMatrices::build(CircuitParams::new(depth, slots).expect("valid parameters"))
        .expect("the circuit synthesizes");
    println!(
        "depth {depth}, {slots} slots: matrices built in {:.1?}",
        t.elapsed()
    );
    for (name, mat) in ["A", "B", "C"].iter().zip(&m.matrices) {
        let entries: usize = mat.iter().map(|r| r.len()).sum();
        println!("  {name}: {} rows, {entries} entries", mat.len());
    }
    let t = Instant::now();
    let distinct = DistinctRows::new(&m.matrices);
    let grouped = t.elapsed();
    let mut seen = std::collections::HashSet::new();
    let distinct_entries: usize = m
        .matrices
        .iter()
        .flatten()
        .filter(|r| !r.is_empty() && seen.insert(r.as_slice()))
        .map(|r| r.len())
        .sum();
    println!(
        "  {} distinct non-empty rows with {distinct_entries} entries (grouped in {grouped:.1?})",
        distinct.len(),
    );

    let vars = m.num_instance_variables + m.num_witness_variables;
    let mut rng = ark_std::test_rng();
    let mut full: Vec<Fr> = (0..vars).map(|_| Fr::rand(&mut rng)).collect();
    full[0] = Fr::one();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    one_thread.install(|| {
        let t = Instant::now();
        for mat in &m.matrices {
            let v: Vec<Fr> = mat
                .par_iter()
                .map(|row| evaluate_constraint(row, &full))
                .collect();
            std::hint::black_box(v);
        }
        println!(
            "row values, every row with evaluate_constraint, 1 thread: {:.2?}",
            t.elapsed()
        );
        let t = Instant::now();
        std::hint::black_box(distinct.evaluate(&m.matrices, &full));
        println!(
            "row values, distinct rows once, 1 thread: {:.2?}",
            t.elapsed()
        );
        let t = Instant::now();
        let h = zkr_prover::fft::witness_map_with_rows(
            &distinct,
            &m.matrices,
            m.num_instance_variables,
            m.num_constraints,
            &full,
        )
        .expect("the domain exists");
        println!(
            "whole witness map ({} coefficients), 1 thread: {:.2?}",
            h.len(),
            t.elapsed()
        );
    });
}

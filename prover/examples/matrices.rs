//! How long it takes to get the batch circuit's constraint matrices: synthesis, then the
//! matrices by zkr's extraction (`r1cs_matrices`) and by ark-relations' `finalize` and
//! `to_matrices`, on one thread, with a check that the two are equal.
//!
//! `cargo run --release -p zkr-prover --example matrices -- 24 32` (depth, slots; ark-relations'
//! way takes about half a minute and 2 GB at that size).

use ark_bn254::Fr;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use std::time::Instant;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::blank_circuit;

fn synthesize(params: CircuitParams) -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    blank_circuit(params)
        .generate_constraints(cs.clone())
        .expect("the circuit synthesizes");
    cs
}

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .map(|a| a.parse().expect("a number"))
            .unwrap_or(default)
    };
    let (depth, slots) = (arg(1, 16) as u32, arg(2, 4));
    let params = CircuitParams::new(depth, slots).expect("valid parameters");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let t = Instant::now();
        let cs = synthesize(params);
        let synthesis = t.elapsed();
        let t = Instant::now();
        let zkr = zkr_prover::r1cs_matrices::extract(&cs.borrow().unwrap())
            .expect("the batch circuit nests linear combinations");
        let extraction = t.elapsed();
        let entries: usize = zkr.iter().flatten().map(Vec::len).sum();
        println!(
            "depth {depth}, {slots} slots: {} constraints, {entries} entries; synthesis {synthesis:.2?}",
            cs.num_constraints()
        );
        println!("zkr's extraction:                   {extraction:.2?}");
        drop(cs);
        let cs = synthesize(params);
        let t = Instant::now();
        let ark = zkr_prover::r1cs_matrices::by_ark_relations(&cs).unwrap();
        println!("ark-relations' finalize + to_matrices: {:.2?}", t.elapsed());
        assert!(zkr == ark, "the two ways disagree");
        println!("equal: yes");
    });
}

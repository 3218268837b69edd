//! Criterion benches of one small batch (depth 16, 2 slots): witness generation, proving and
//! verification.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use zkr_benches::{funded_state, transfers};
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{KeySet, OsRng};

fn batch(c: &mut Criterion) {
    let params = CircuitParams::new(16, 2).unwrap();
    let keys = KeySet::generate(params, Some(1)).unwrap();
    let state = funded_state(params).unwrap();
    let txs = transfers(&state, 0);
    c.bench_function("batch_d16_b2/witness", |b| {
        b.iter(|| black_box(state.apply_batch(black_box(&txs), &[]).unwrap()))
    });
    let first = state.apply_batch(&txs, &[]).unwrap();
    c.bench_function("batch_d16_b2/prove", |b| {
        b.iter(|| black_box(zkr_prover::prove(&keys, &first.witness, &mut OsRng).unwrap()))
    });
    let (proof, public, _) = zkr_prover::prove(&keys, &first.witness, &mut OsRng).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(keys.vk());
    c.bench_function("batch_d16_b2/verify", |b| {
        b.iter(|| {
            assert!(zkr_verifier::verify_proof(
                &pvk,
                black_box(&proof),
                black_box(&public)
            ))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = batch
}
criterion_main!(benches);

//! Criterion benches of the gadgets (constraint synthesis with witness, then a satisfiability
//! check) and of their native twins.

use ark_bn254::Fr;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::ConstraintSystem;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use zkr_circuits::eddsa::{gadget::verify_var, SecretKey, SignatureWitness};
use zkr_circuits::merkle::{gadget::PathVar, PathWitness, SparseMerkleTree};
use zkr_circuits::poseidon::{gadget::poseidon_var, hash};

fn poseidon(c: &mut Criterion) {
    let x = [
        Fr::from(1u64),
        Fr::from(2u64),
        Fr::from(3u64),
        Fr::from(4u64),
    ];
    c.bench_function("poseidon4/native", |b| b.iter(|| hash(black_box(x))));
    c.bench_function("poseidon4/gadget", |b| {
        b.iter(|| {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let v: Vec<_> = x
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let _ = black_box(poseidon_var(&v).unwrap());
        })
    });
}

fn merkle(c: &mut Criterion) {
    let mut tree = SparseMerkleTree::new(24);
    for i in 0..64u64 {
        tree.set(i * 1_000_003 % (1 << 24), Fr::from(i + 1))
            .unwrap();
    }
    let index: u64 = 5_000_015;
    c.bench_function("merkle_update_d24/native", |b| {
        b.iter(|| {
            let mut t = tree.clone();
            t.set(black_box(index), Fr::from(99u64)).unwrap();
            black_box(t.root())
        })
    });
    let w = PathWitness::from_proof(&tree.proof(index).unwrap());
    c.bench_function("merkle_update_d24/gadget", |b| {
        b.iter(|| {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let idx = FpVar::new_witness(cs.clone(), || Ok(Fr::from(index))).unwrap();
            let path = PathVar::new(cs.clone(), &idx, &w).unwrap();
            let old = FpVar::new_witness(cs.clone(), || Ok(Fr::from(6u64))).unwrap();
            let new = FpVar::new_witness(cs.clone(), || Ok(Fr::from(99u64))).unwrap();
            let _ = black_box(path.root(&old).unwrap());
            let _ = black_box(path.root(&new).unwrap());
        })
    });
}

fn eddsa(c: &mut Criterion) {
    let sk = SecretKey::from_seed([3; 32]);
    let pk = sk.public_key();
    let m = Fr::from(77u64);
    let sig = sk.sign(m);
    c.bench_function("eddsa_verify/native", |b| {
        b.iter(|| black_box(pk.verify(m, &sig)))
    });
    let w = SignatureWitness::from(&sig);
    c.bench_function("eddsa_verify/gadget", |b| {
        b.iter(|| {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let en = Boolean::new_witness(cs.clone(), || Ok(true)).unwrap();
            let x = FpVar::new_witness(cs.clone(), || Ok(pk.x())).unwrap();
            let y = FpVar::new_witness(cs.clone(), || Ok(pk.y())).unwrap();
            let mm = FpVar::new_witness(cs.clone(), || Ok(m)).unwrap();
            verify_var(cs.clone(), &en, &x, &y, &mm, &w).unwrap();
            black_box(cs.num_constraints());
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = poseidon, merkle, eddsa
}
criterion_main!(benches);

//! zkr's field multiplications (`zkr_prover::field`) against ark-ff's, side by side: `Fq`,
//! `Fr` and `Fq2` products and `Fq2` squaring, each over 4,096 random pairs of elements.
//!
//! `cargo bench -p zkr-benches --bench field`. Names: `{fq,fr,fq2}/{mul,square}/{zkr,ark-ff}`;
//! the time is per 4,096 operations (independent ones, as in the MSM's batches).

use ark_bn254::{Fq, Fq2, Fr};
use ark_ff::UniformRand;
use criterion::{criterion_group, criterion_main, Criterion};
use rand_chacha::rand_core::SeedableRng;
use std::hint::black_box;
use zkr_prover::field::FastMul;

const N: usize = 4096;

fn field<F: FastMul + UniformRand>(c: &mut Criterion, name: &str) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let xs: Vec<F> = (0..N).map(|_| F::rand(&mut rng)).collect();
    let ys: Vec<F> = (0..N).map(|_| F::rand(&mut rng)).collect();
    let mut out = vec![F::ZERO; N];
    let mut g = c.benchmark_group(name);
    g.bench_function("mul/zkr", |b| {
        b.iter(|| {
            for ((o, x), y) in out.iter_mut().zip(&xs).zip(&ys) {
                *o = x.fast_mul(y);
            }
            black_box(&out);
        })
    });
    g.bench_function("mul/ark-ff", |b| {
        b.iter(|| {
            for ((o, x), y) in out.iter_mut().zip(&xs).zip(&ys) {
                *o = *x * y;
            }
            black_box(&out);
        })
    });
    g.bench_function("square/zkr", |b| {
        b.iter(|| {
            for (o, x) in out.iter_mut().zip(&xs) {
                *o = x.fast_square();
            }
            black_box(&out);
        })
    });
    g.bench_function("square/ark-ff", |b| {
        b.iter(|| {
            for (o, x) in out.iter_mut().zip(&xs) {
                *o = x.square();
            }
            black_box(&out);
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    field::<Fq>(c, "fq");
    field::<Fr>(c, "fr");
    field::<Fq2>(c, "fq2");
}

criterion_group!(field_benches, benches);
criterion_main!(field_benches);

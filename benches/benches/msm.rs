//! zkr's MSM against `ark-ec` 0.6's `VariableBaseMSM::msm`, side by side in one run: BN254 G1
//! and G2, 2^16, 2^18 and 2^20 points, one thread and all threads, random scalars and a real
//! batch circuit's witness.
//!
//! `cargo bench -p zkr-benches --bench msm` runs all of it (long: the largest G2 case with
//! arkworks on one thread takes tens of seconds per iteration); a filter picks a part, e.g.
//! `cargo bench -p zkr-benches --bench msm -- 'g1/'`. Names:
//! `{g1,g2}/{random,witness}/2^{16,18,20}/{1,N}t/{zkr,ark-ec}`.

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::VariableBaseMSM;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use zkr_benches::msm_inputs::{bases, random_scalars, witness_scalars};
use zkr_prover::msm::msm;

fn group<P: SWCurveConfig<ScalarField = Fr, BaseField: zkr_prover::msm::MsmBaseField>>(
    c: &mut Criterion,
    name: &str,
    max_log: u32,
) where
    Projective<P>: ark_ec::PrimeGroup<ScalarField = Fr>,
{
    let n_max = 1usize << max_log;
    let all_bases: Vec<Affine<P>> = bases::<P>(n_max, 1);
    let inputs = [
        ("random", random_scalars(n_max, 2)),
        ("witness", witness_scalars(n_max).expect("a sample batch")),
    ];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    for (kind, scalars) in &inputs {
        let mut g = c.benchmark_group(format!("{name}/{kind}"));
        g.sample_size(10);
        for log in [16u32, 18, 20].into_iter().filter(|&l| l <= max_log) {
            let n = 1usize << log;
            let (b, s) = (&all_bases[..n], &scalars[..n]);
            for &t in &threads {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .expect("thread pool");
                let id = format!("2^{log}/{t}t");
                g.bench_function(BenchmarkId::new(&id, "zkr"), |bench| {
                    bench.iter(|| pool.install(|| black_box(msm(b, s).expect("same lengths"))))
                });
                g.bench_function(BenchmarkId::new(&id, "ark-ec"), |bench| {
                    bench.iter(|| {
                        pool.install(|| {
                            black_box(Projective::<P>::msm(b, s).expect("same lengths"))
                        })
                    })
                });
            }
        }
        g.finish();
    }
}

fn msms(c: &mut Criterion) {
    group::<ark_bn254::g1::Config>(c, "g1", 20);
    group::<ark_bn254::g2::Config>(c, "g2", 20);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500));
    targets = msms
}
criterion_main!(benches);

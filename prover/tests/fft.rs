//! The FFTs and the QAP witness map against ark-poly and ark-groth16, on random inputs.

use ark_bn254::Fr;
use ark_ff::{One, UniformRand};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain, Radix2EvaluationDomain};
use ark_relations::gr1cs::Matrix;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkr_prover::fft::{witness_map, Twiddles};
use zkr_prover::qap::{domain_size, MixedRadixReduction};

fn bitrev(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

fn random_vec(n: usize, seed: u64) -> Vec<Fr> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| Fr::rand(&mut rng)).collect()
}

/// Random sparse matrices: each row has 0–4 terms, coefficients random or one.
fn random_matrices(rows: usize, vars: usize, seed: u64) -> Vec<Matrix<Fr>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..3)
        .map(|_| {
            (0..rows)
                .map(|_| {
                    let terms = (u64::rand(&mut rng) % 5) as usize;
                    (0..terms)
                        .map(|_| {
                            let coeff = if bool::rand(&mut rng) {
                                Fr::one()
                            } else {
                                Fr::rand(&mut rng)
                            };
                            (coeff, (u64::rand(&mut rng) as usize) % vars)
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// ark-groth16's witness map with zkr's reduction: libsnark's on ark-poly's mixed-radix domain.
fn ark_witness_map(m: &[Matrix<Fr>], inputs: usize, constraints: usize, full: &[Fr]) -> Vec<Fr> {
    MixedRadixReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        m,
        inputs,
        constraints,
        full,
    )
    .unwrap()
}

fn check_witness_map(constraints: usize, inputs: usize, witnesses: usize, seed: u64) {
    let vars = inputs + witnesses;
    let m = random_matrices(constraints, vars, seed);
    let mut full = random_vec(vars, seed ^ 0xabc);
    full[0] = Fr::one();
    let ours = witness_map(&m, inputs, constraints, &full).unwrap();
    let theirs = ark_witness_map(&m, inputs, constraints, &full);
    assert_eq!(ours, theirs, "{constraints} constraints, {inputs} inputs");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The inverse transform (unscaled, bit-reversed out) is ark-poly's `ifft` times n.
    #[test]
    fn inverse_transform_equals_ark_poly(log_n in 0u32..=10, seed: u64) {
        let n = 1usize << log_n;
        let v = random_vec(n, seed);
        let mut ours = v.clone();
        Twiddles::new(log_n).unwrap().inverse_unscaled_to_bitrev(&mut ours);
        let d = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
        let theirs = d.ifft(&v);
        let n_fr = Fr::from(n as u64);
        for (p, x) in ours.iter().enumerate() {
            prop_assert_eq!(*x, theirs[bitrev(p, log_n)] * n_fr);
        }
    }

    /// The forward transform (bit-reversed in, natural out) is ark-poly's `fft`.
    #[test]
    fn forward_transform_equals_ark_poly(log_n in 0u32..=10, seed: u64) {
        let n = 1usize << log_n;
        let coeffs = random_vec(n, seed);
        let mut ours: Vec<Fr> = (0..n).map(|p| coeffs[bitrev(p, log_n)]).collect();
        Twiddles::new(log_n).unwrap().forward_from_bitrev(&mut ours);
        let d = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
        prop_assert_eq!(ours, d.fft(&coeffs));
    }

    /// `h` equals ark-groth16's (with the same reduction) on random sparse systems (satisfied
    /// or not: both compute the same polynomial from the same evaluations), whatever the number
    /// of rows: domains of size 2^k, 3·2^k and 9·2^k, rows exactly the domain size or not.
    #[test]
    fn witness_map_equals_ark_groth16(
        constraints in 1usize..300,
        inputs in 1usize..6,
        witnesses in 1usize..40,
        seed: u64,
    ) {
        check_witness_map(constraints, inputs, witnesses, seed);
    }
}

#[test]
fn witness_map_equals_ark_groth16_at_edges() {
    // n = 2 (one constraint, one input), rows + inputs = n exactly, and n = 2^13, large enough
    // for the transforms' parallel paths, on one thread and on three.
    check_witness_map(1, 1, 1, 1);
    check_witness_map(60, 4, 10, 2);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| check_witness_map(5000, 3, 2000, 3 + threads as u64));
    }
}

#[test]
fn witness_map_equals_ark_groth16_on_each_domain_shape() {
    // rows = constraints + inputs: 256 → 2^8, 288 → 9·2^5, 384 → 3·2^7, 385 → 2^9; then
    // 3·2^12 and 9·2^13 (the radix-2 blocks and the radix-f step in parallel), on one thread
    // and on three.
    for (rows, size) in [(256, 256), (288, 288), (384, 384), (385, 512), (257, 288)] {
        assert_eq!(domain_size::<Fr>(rows), Some(size), "{rows} rows");
        check_witness_map(rows - 3, 3, 50, rows as u64);
    }
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            assert_eq!(domain_size::<Fr>(12_000), Some(3 << 12));
            check_witness_map(11_997, 3, 3000, 7 + threads as u64);
            assert_eq!(domain_size::<Fr>(70_000), Some(9 << 13));
            check_witness_map(69_996, 4, 9000, 9 + threads as u64);
        });
    }
}

/// On a power-of-two domain the reduction is exactly ark-groth16's default one.
#[test]
fn power_of_two_domain_is_libsnark_reduction() {
    let m = random_matrices(250, 40, 11);
    let mut full = random_vec(40, 12);
    full[0] = Fr::one();
    assert_eq!(domain_size::<Fr>(256), Some(256));
    let ours = witness_map(&m, 6, 250, &full).unwrap();
    let libsnark = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &m, 6, 250, &full,
    )
    .unwrap();
    assert_eq!(ours, libsnark);
}

/// The depth-24 circuit with 32 slots (634,837 rows) gets a domain of 3·2^18, a quarter below
/// 2^20.
#[test]
fn depth_24_domain_is_three_quarters_of_the_power_of_two() {
    assert_eq!(domain_size::<Fr>(634_837), Some(3 << 18));
}

#[test]
fn domain_beyond_two_adicity_is_refused() {
    assert!(Twiddles::new(29).is_none());
}

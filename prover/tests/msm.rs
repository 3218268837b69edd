//! zkr's MSM equals `ark-ec`'s `VariableBaseMSM::msm`, in G1 and G2, on random inputs, on
//! witness-like inputs (bits, small integers, small negatives) and on adversarial ones.

use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, UniformRand, Zero};
use ark_std::rand::{Rng, SeedableRng};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use zkr_prover::msm::{msm, msm_prepared, MsmError, PreparedScalars};

fn points<P: SWCurveConfig>(n: usize, rng: &mut ChaCha20Rng) -> Vec<Affine<P>> {
    let p: Vec<Projective<P>> = (0..n).map(|_| Projective::<P>::rand(rng)).collect();
    Projective::normalize_batch(&p)
}

/// Scalars of one of several shapes.
fn scalars(n: usize, shape: u8, rng: &mut ChaCha20Rng) -> Vec<Fr> {
    (0..n)
        .map(|_| match shape {
            // uniformly random field elements
            0 => Fr::rand(rng),
            // a Groth16 witness: mostly bits, small integers, a few negatives, some full-size
            1 => match rng.gen_range(0..10) {
                0..=3 => Fr::from(rng.gen_range(0..2u64)),
                4..=5 => Fr::from(rng.gen::<u64>() >> rng.gen_range(0..64)),
                6 => -Fr::from(rng.gen_range(1..1000u64)),
                7 => Fr::zero(),
                _ => Fr::rand(rng),
            },
            // only −1, 0, 1
            2 => [-Fr::one(), Fr::zero(), Fr::one()][rng.gen_range(0..3)],
            // near the modulus and near zero
            _ => {
                let k = Fr::from(rng.gen_range(0..4u64));
                if rng.gen() {
                    k
                } else {
                    -k
                }
            }
        })
        .collect()
}

fn check<P: SWCurveConfig<ScalarField = Fr, BaseField: zkr_prover::msm::MsmBaseField>>(
    bases: &[Affine<P>],
    s: &[Fr],
) {
    let want = Projective::<P>::msm(bases, s).unwrap();
    let got = msm(bases, s).unwrap();
    assert_eq!(got.into_affine(), want.into_affine(), "n = {}", s.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn equals_ark_ec_in_g1(n in 0usize..400, shape in 0u8..4, seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let bases = points::<ark_bn254::g1::Config>(n, &mut rng);
        check(&bases, &scalars(n, shape, &mut rng));
    }

    #[test]
    fn equals_ark_ec_in_g2(n in 0usize..120, shape in 0u8..4, seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let bases = points::<ark_bn254::g2::Config>(n, &mut rng);
        check(&bases, &scalars(n, shape, &mut rng));
    }
}

/// Sizes that split across threads, several rounds per bucket and every window size path.
#[test]
fn equals_ark_ec_on_larger_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for n in [1usize << 12, 5_003, 20_000] {
        let bases = points::<ark_bn254::g1::Config>(n, &mut rng);
        for shape in 0..4 {
            check(&bases, &scalars(n, shape, &mut rng));
        }
    }
    let bases = points::<ark_bn254::g2::Config>(3_001, &mut rng);
    for shape in [0, 1] {
        check(&bases, &scalars(3_001, shape, &mut rng));
    }
}

/// The same with one thread and with three (uneven chunks).
#[test]
fn equals_ark_ec_with_one_and_three_threads() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let bases = points::<ark_bn254::g1::Config>(9_000, &mut rng);
    let s = scalars(9_000, 1, &mut rng);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| check(&bases, &s));
    }
}

#[test]
fn adversarial_scalars_and_points() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let minus_one = Fr::from(Fr::MODULUS_MINUS_ONE_DIV_TWO) * Fr::from(2u64); // r − 1
    assert_eq!(minus_one, -Fr::one());
    for n in [0usize, 1, 2, 3, 7, 100, 3_000, 20_000] {
        let bases = points::<ark_bn254::g1::Config>(n, &mut rng);
        // all zero, all one, all r − 1, all (r − 1)/2 and (r + 1)/2 (the sign boundary)
        check(&bases, &vec![Fr::zero(); n]);
        check(&bases, &vec![Fr::one(); n]);
        check(&bases, &vec![minus_one; n]);
        check(&bases, &vec![Fr::from(Fr::MODULUS_MINUS_ONE_DIV_TWO); n]);
        check(
            &bases,
            &vec![Fr::from(Fr::MODULUS_MINUS_ONE_DIV_TWO) + Fr::one(); n],
        );
        // 2^64 − 1, 2^64, 2^64 + 1 (the boundary between the small and the large class)
        let two64 = Fr::from(u64::MAX) + Fr::one();
        check(&bases, &vec![two64 - Fr::one(); n]);
        check(&bases, &vec![two64; n]);
        check(&bases, &vec![two64 + Fr::one(); n]);

        // one point repeated: every bucket addition is a doubling
        if n > 0 {
            let same = vec![bases[0]; n];
            for shape in 0..4 {
                check(&same, &scalars(n, shape, &mut rng));
            }
            check(&same, &vec![Fr::one(); n]);
            // P and −P alternating with equal scalars: sums cancel to infinity mid-round
            let alt: Vec<G1Affine> = (0..n)
                .map(|i| if i % 2 == 0 { bases[0] } else { -bases[0] })
                .collect();
            check(&alt, &vec![Fr::one(); n]);
            check(&alt, &vec![Fr::from(12345u64); n]);
            check(&alt, &vec![minus_one; n]);
        }
        // points at infinity among the bases
        let mut with_inf = bases.clone();
        for p in with_inf.iter_mut().step_by(3) {
            *p = G1Affine::zero();
        }
        for shape in 0..4 {
            check(&with_inf, &scalars(n, shape, &mut rng));
        }
        // all at infinity
        check(&vec![G1Affine::zero(); n], &scalars(n, 0, &mut rng));
    }
    // G2: repeated points and infinity
    let g2 = points::<ark_bn254::g2::Config>(50, &mut rng);
    let same = vec![g2[0]; 50];
    check(&same, &scalars(50, 0, &mut rng));
    let mut with_inf = g2.clone();
    with_inf[7] = G2Affine::zero();
    check(&with_inf, &scalars(50, 1, &mut rng));
}

#[test]
fn prepared_scalars_are_reusable_across_groups() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let s = scalars(500, 1, &mut rng);
    let p = PreparedScalars::new(&s).unwrap();
    assert_eq!(p.len(), 500);
    let b1 = points::<ark_bn254::g1::Config>(500, &mut rng);
    let b2 = points::<ark_bn254::g2::Config>(500, &mut rng);
    assert_eq!(
        msm_prepared(&b1, &p).unwrap(),
        G1Projective::msm(&b1, &s).unwrap()
    );
    assert_eq!(
        msm_prepared(&b2, &p).unwrap(),
        G2Projective::msm(&b2, &s).unwrap()
    );
    let bigints: Vec<_> = s.iter().map(|x| x.into_bigint()).collect();
    let q = PreparedScalars::from_bigints(&bigints).unwrap();
    assert_eq!(
        msm_prepared(&b1, &q).unwrap(),
        msm_prepared(&b1, &p).unwrap()
    );
}

#[test]
fn length_mismatch_is_an_error_not_a_truncation() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let b = points::<ark_bn254::g1::Config>(3, &mut rng);
    assert_eq!(
        msm(&b, &[Fr::one(); 2]),
        Err(MsmError::LengthMismatch {
            bases: 3,
            scalars: 2
        })
    );
    let p = PreparedScalars::new(&[Fr::one(); 4]).unwrap();
    assert!(msm_prepared(&b, &p).is_err());
}

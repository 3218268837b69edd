//! Fixed-base batch scalar multiplication: `sᵢ·G` for one base `G` and many scalars `sᵢ`, in
//! affine form. This is what a Groth16 setup spends most of its time on: every element of the
//! proving key is the generator of G1 or G2 times a field element derived from the toxic waste
//! (about 2.7 million G1 elements and 0.6 million in G2 at depth 24 × 32 slots).
//!
//! The method is `ark-ec`'s `BatchMulPreprocessing` (a table of `k·2^(cj)·G` for each `c`-bit
//! window `j`, and each `sᵢ·G` the sum of one table entry per window) with the MSM's
//! arithmetic ([`crate::msm`]):
//!
//! * **Signed digits** in `[−2^(c−1), 2^(c−1)]` (negating a point is free), so the table holds
//!   `2^(c−1)` multiples per window instead of `2^c`.
//! * **Batch-affine accumulation.** `ark-ec` sums each scalar's table entries in projective
//!   coordinates (a mixed addition, 11 multiplications) and converts the results to affine at
//!   the end. Here each scalar's running sum is an affine point and the additions of up to
//!   1,024 running sums share one inversion (Montgomery's trick, about 6 multiplications an
//!   addition), so the result needs no conversion. The running sums are the MSM's buckets
//!   ([`crate::msm`]'s `Buckets`, one bucket per scalar): the same exact handling of a
//!   doubling, of opposite points and of the point at infinity, and the same assembly
//!   multiplications ([`crate::field`]).
//! * **Windows by blocks of scalars.** A block of scalars goes through one window at a time, so
//!   that window's part of the table (`2^(c−1)` points) stays in the cache while the block's
//!   additions read it; rayon's threads take blocks.
//!
//! The result is exactly `ark-ec`'s (a group element is a group element; the tests compare the
//! two, and the setup that uses this produces ark-groth16's proving key byte for byte).

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ff::PrimeField;
use rayon::prelude::*;

use crate::msm::{recode, Buckets, MsmBaseField};

/// Scalars per block: one batch of additions is an eighth of a block, 1,024 at this size.
const BLOCK: usize = 1 << 13;

/// The widest window: a G2 table of 2^15 points per window is 4 MiB a window.
const MAX_WINDOW: usize = 16;

/// The multiples `k·2^(c·j)·G` (`1 ≤ k ≤ 2^(c−1)`) of one base, for every `c`-bit window `j` of
/// a scalar of BN254's scalar field.
pub struct FixedBaseTable<P: SWCurveConfig> {
    /// The window size `c`.
    window: usize,
    /// `table[j][k − 1] = k·2^(c·j)·G`.
    table: Vec<Vec<Affine<P>>>,
}

impl<P: SWCurveConfig<ScalarField = Fr, BaseField: MsmBaseField>> FixedBaseTable<P> {
    /// The table for `base`, with the window size that minimises the work for about
    /// `num_scalars` scalars (one addition per scalar and window, against building the table).
    pub fn new(base: Projective<P>, num_scalars: usize) -> Self {
        let window = window_size(num_scalars);
        let half = 1usize << (window - 1);
        // `2^(c·j)·G` for every window.
        let mut window_bases = Vec::with_capacity(windows(window));
        let mut g = base;
        for _ in 0..windows(window) {
            window_bases.push(g);
            for _ in 0..window {
                g.double_in_place();
            }
        }
        let table = window_bases
            .into_par_iter()
            .map(|g| {
                let mut multiples = Vec::with_capacity(half);
                let mut sum = g;
                for _ in 0..half {
                    multiples.push(sum);
                    sum += g;
                }
                Projective::normalize_batch(&multiples)
            })
            .collect();
        Self { window, table }
    }

    /// The window size chosen.
    pub fn window(&self) -> usize {
        self.window
    }

    /// `sᵢ·G` for every scalar, in order.
    pub fn batch_mul(&self, scalars: &[Fr]) -> Vec<Affine<P>> {
        scalars
            .par_chunks(BLOCK)
            .flat_map_iter(|block| self.block_mul(block))
            .collect()
    }

    /// `sᵢ·G` for one block of scalars: each scalar is a bucket (`i + 1`), each window adds
    /// one table entry to every bucket whose digit is not zero.
    fn block_mul(&self, block: &[Fr]) -> Vec<Affine<P>> {
        let c = self.window;
        let entries: Vec<(u32, [u64; 4])> = block
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.into_bigint().0))
            .collect();
        let mut buckets = Buckets::<P>::new(block.len());
        let mut carry = vec![false; block.len()];
        let mut digits = vec![0i32; block.len()];
        for (w, multiples) in self.table.iter().enumerate() {
            recode(&entries, w, c, &mut carry, &mut digits);
            for (i, &d) in digits.iter().enumerate() {
                if d != 0 {
                    let p = multiples[d.unsigned_abs() as usize - 1];
                    buckets.add(i + 1, if d < 0 { -p } else { p });
                }
            }
        }
        debug_assert!(
            carry.iter().all(|c| !c),
            "the top window absorbs the last carry"
        );
        buckets.finish();
        (1..=block.len())
            .map(|b| {
                buckets
                    .affine_sum(b)
                    .unwrap_or_else(|| Projective::from(buckets.sum(b)).into_affine())
            })
            .collect()
    }
}

/// Windows of `c` bits for a scalar below `r < 2^254`: one more than `254 / c`, which absorbs
/// the signed recoding's last carry.
fn windows(c: usize) -> usize {
    Fr::MODULUS_BIT_SIZE as usize / c + 1
}

/// The window size that minimises the estimated work for `n` scalars: one affine addition per
/// scalar and window, and about three additions' worth per table point (a projective addition
/// and the conversion to affine).
fn window_size(n: usize) -> usize {
    (2..=MAX_WINDOW)
        .min_by_key(|&c| windows(c) * (n + (3usize << (c - 1))))
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Projective, G2Projective};
    use ark_ec::PrimeGroup;
    use ark_ff::{Field, One, UniformRand, Zero};
    use rand_chacha::rand_core::SeedableRng;

    /// `batch_mul` against `G·s` for every scalar, for a table built for `sized_for` scalars.
    fn check<P: SWCurveConfig<ScalarField = Fr, BaseField: MsmBaseField>>(
        base: Projective<P>,
        scalars: &[Fr],
        sized_for: usize,
    ) {
        let table = FixedBaseTable::new(base, sized_for);
        let got = table.batch_mul(scalars);
        assert_eq!(got.len(), scalars.len());
        for (i, (s, p)) in scalars.iter().zip(&got).enumerate() {
            assert_eq!(
                *p,
                (base * s).into_affine(),
                "scalar {i} (window {})",
                table.window()
            );
        }
    }

    /// Zero, one, two, −1 (`r − 1`), −2, small integers, powers of two at window boundaries,
    /// and random scalars, in both groups, for several window sizes (table sizes).
    fn scalars(n_random: usize, seed: u64) -> Vec<Fr> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut s = vec![
            Fr::zero(),
            Fr::one(),
            Fr::from(2u64),
            -Fr::one(),
            -Fr::from(2u64),
            Fr::from(u64::MAX),
        ];
        for bit in [7usize, 8, 15, 16, 31, 32, 63, 64, 127, 128, 252, 253] {
            let p = Fr::from(2u64).pow([bit as u64]);
            s.extend([p, p - Fr::one(), -p]);
        }
        s.extend((0..n_random).map(|_| Fr::rand(&mut rng)));
        s
    }

    #[test]
    fn g1_equals_scalar_multiplication() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let base = G1Projective::rand(&mut rng);
        for sized_for in [1, 100, 5_000, 1 << 20] {
            check(base, &scalars(200, sized_for as u64), sized_for);
        }
        check(G1Projective::generator(), &scalars(50, 9), 1000);
    }

    #[test]
    fn g2_equals_scalar_multiplication() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let base = G2Projective::rand(&mut rng);
        for sized_for in [1, 5_000] {
            check(base, &scalars(100, sized_for as u64), sized_for);
        }
    }

    /// More scalars than a block (the blocks' results in order), a block with batches of
    /// additions, a short last block, repeated scalars, and no scalars at all.
    #[test]
    fn blocks_keep_their_order() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let base = G1Projective::rand(&mut rng);
        let mut s: Vec<Fr> = (0..BLOCK + 777).map(|_| Fr::rand(&mut rng)).collect();
        s[5] = s[4];
        s[BLOCK + 1] = -s[1];
        s[BLOCK + 2] = Fr::zero();
        check(base, &s, s.len());
        check(base, &[], 10);
    }

    #[test]
    fn window_size_grows_with_the_scalars() {
        assert!(window_size(10) <= 4);
        let sizes: Vec<usize> = [1usize << 10, 1 << 16, 1 << 20, 1 << 24]
            .iter()
            .map(|&n| window_size(n))
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
        assert!(sizes.iter().all(|&c| c <= MAX_WINDOW));
    }
}

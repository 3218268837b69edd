//! Multi-scalar multiplication (MSM) for BN254's G1 and G2: `Σ sᵢ·Pᵢ`.
//!
//! Groth16's prover is five MSMs (A, B in G1, B in G2, C over the private inputs, H) and a few
//! FFTs; the MSMs are most of its time. This module computes exactly what `ark-ec`'s
//! `VariableBaseMSM::msm` computes (a group element is a group element: property tests compare
//! the two on random and adversarial inputs), with the techniques that make the bucket method
//! cheaper than `ark-ec` 0.6's:
//!
//! 1. **Signed scalars.** A scalar `s > (r − 1)/2` is used as `−(r − s)`: the base is negated
//!    (free on a Weierstrass curve) and the magnitude is at most 253 bits. A witness value such
//!    as `−1` or `−5` is therefore as cheap as `1` or `5`.
//! 2. **Classes by size.** Zero scalars (and points at infinity) are dropped. Scalars of
//!    magnitude 1 (the bits of a circuit's witness) are summed without buckets: one
//!    accumulation of `±Pᵢ`. Magnitudes up to 64 bits (amounts, nonces, indices) and full-size
//!    magnitudes run the bucket method separately, each with the window size that suits its
//!    count and bit length.
//! 3. **Signed-digit windows.** Each `c`-bit window digit is recoded into
//!    `[−2^(c−1), 2^(c−1)]`, so a window needs `2^(c−1)` buckets instead of `2^c − 1`.
//! 4. **Batch-affine bucket accumulation.** Points are sorted into their buckets (a counting
//!    sort), then every bucket is reduced pairwise, all buckets at once, in rounds: each round
//!    adds disjoint pairs of affine points, sharing one field inversion among thousands of
//!    additions (Montgomery's trick). An affine addition then costs about 5 multiplications
//!    and 1 squaring, against 8 and 2 for `ark-ec`'s mixed XYZZ addition. Doublings, opposite
//!    points and points at infinity inside a round are detected and handled exactly.
//! 5. **Threads by chunks of points**, not by windows: each rayon thread runs the whole method
//!    on its share of the points, so the load stays balanced when most scalars are small and
//!    only the lowest windows have work.
//!
//! Not used: the GLV endomorphism. With batch-affine accumulation the work is proportional to
//! (points × windows); GLV doubles the points and halves the windows, which leaves that product
//! unchanged and only shrinks the bucket-reduction term (a few per cent at these sizes), at the
//! price of one scalar decomposition and one base-field multiplication per point.
//!
//! What the batch circuit's witness looks like (depth 16, 4 transfers, 80,000 values): 91%
//! full-size (Poseidon's state), 7% zero, 2% ±1, a few dozen small integers. So its MSMs cost
//! about as much as random ones, and the batch-affine accumulation is what makes them faster;
//! the size classes matter for circuits with more bits.
//!
//! The functions are variable-time: the prover's scalars are its secret witness, but Groth16's
//! zero knowledge is about the proof, and arkworks' MSM is variable-time too.

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::{BigInt, BigInteger, Field, PrimeField, Zero};
use rayon::prelude::*;

/// The top bit of a packed base index: the base is used negated.
const NEG: u32 = 1 << 31;

/// Additions that share one field inversion.
const BATCH: usize = 1024;

/// Below this many points per thread, splitting across threads does not pay.
const MIN_CHUNK: usize = 1 << 11;

/// An MSM's inputs do not fit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MsmError {
    /// `bases` and `scalars` have different lengths.
    #[error("{bases} bases but {scalars} scalars")]
    LengthMismatch {
        /// Number of bases.
        bases: usize,
        /// Number of scalars.
        scalars: usize,
    },
    /// More points than the packed indices can address (2^31 − 1).
    #[error("{0} points: at most 2^31 − 1 are supported")]
    TooLarge(usize),
}

/// The scalars of an MSM, classified once and reusable for several MSMs over the same scalars
/// (Groth16's A, B in G1 and B in G2 share theirs).
#[derive(Debug, Clone, Default)]
pub struct PreparedScalars {
    len: usize,
    /// `±1`: packed base index (top bit: negate) and magnitude 1, in the form the bucket
    /// method takes, so the MSMs sharing these scalars do not rebuild it.
    units: Vec<(u32, u64)>,
    /// Magnitudes of 2 to 64 bits.
    small: Vec<(u32, u64)>,
    /// Magnitudes of 65 bits and more.
    large: Vec<(u32, [u64; 4])>,
}

impl PreparedScalars {
    /// Classifies field elements (see the module docs).
    pub fn new(scalars: &[Fr]) -> Result<Self, MsmError> {
        Self::build(scalars.len(), |i| scalars[i].into_bigint())
    }

    /// Classifies canonical integers below the scalar field's modulus.
    pub fn from_bigints(scalars: &[BigInt<4>]) -> Result<Self, MsmError> {
        Self::build(scalars.len(), |i| scalars[i])
    }

    /// The number of scalars (zeros included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no scalars at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn build(len: usize, get: impl Fn(usize) -> BigInt<4> + Sync) -> Result<Self, MsmError> {
        if len >= NEG as usize {
            return Err(MsmError::TooLarge(len));
        }
        let half = Fr::MODULUS_MINUS_ONE_DIV_TWO;
        let parts: Vec<Self> = (0..len)
            .collect::<Vec<_>>()
            .par_chunks(1 << 14)
            .map(|idx| {
                let mut part = Self::default();
                for &i in idx {
                    let mut s = get(i);
                    if s.is_zero() {
                        continue;
                    }
                    let mut packed = i as u32;
                    if s > half {
                        let mut m = Fr::MODULUS;
                        m.sub_with_borrow(&s);
                        s = m;
                        packed |= NEG;
                    }
                    match s.num_bits() {
                        1 => part.units.push((packed, 1)),
                        2..=64 => part.small.push((packed, s.0[0])),
                        _ => part.large.push((packed, s.0)),
                    }
                }
                part
            })
            .collect();
        let mut all = Self {
            len,
            ..Self::default()
        };
        for p in parts {
            all.units.extend(p.units);
            all.small.extend(p.small);
            all.large.extend(p.large);
        }
        Ok(all)
    }
}

/// `Σ scalars[i]·bases[i]`.
pub fn msm<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[Fr],
) -> Result<Projective<P>, MsmError> {
    if bases.len() != scalars.len() {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len(),
        });
    }
    msm_prepared(bases, &PreparedScalars::new(scalars)?)
}

/// `Σ scalars[i]·bases[i]` for scalars classified beforehand.
pub fn msm_prepared<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &PreparedScalars,
) -> Result<Projective<P>, MsmError> {
    if bases.len() != scalars.len {
        return Err(MsmError::LengthMismatch {
            bases: bases.len(),
            scalars: scalars.len,
        });
    }
    Ok(in_parallel(bases, &scalars.units)
        + in_parallel(bases, &scalars.small)
        + in_parallel(bases, &scalars.large))
}

/// A scalar's magnitude, read `c` bits at a time.
trait Magnitude: Copy + Send + Sync {
    /// Bits `start .. start + c` (c ≤ 32), zero beyond the top.
    fn window(&self, start: usize, c: usize) -> u64;
    /// Index of the highest set bit plus one.
    fn bits(&self) -> usize;
}

impl Magnitude for u64 {
    fn window(&self, start: usize, c: usize) -> u64 {
        if start >= 64 {
            0
        } else {
            (self >> start) & ((1 << c) - 1)
        }
    }
    fn bits(&self) -> usize {
        (64 - self.leading_zeros()) as usize
    }
}

impl Magnitude for [u64; 4] {
    fn window(&self, start: usize, c: usize) -> u64 {
        let (limb, off) = (start / 64, start % 64);
        if limb >= 4 {
            return 0;
        }
        let mut v = self[limb] >> off;
        if off + c > 64 && limb + 1 < 4 {
            v |= self[limb + 1] << (64 - off);
        }
        v & ((1 << c) - 1)
    }
    fn bits(&self) -> usize {
        BigInt(*self).num_bits() as usize
    }
}

/// Drops the entries whose base is the point at infinity, then splits the rest among rayon's
/// threads; each runs [`pippenger`] on its share.
fn in_parallel<P: SWCurveConfig, M: Magnitude>(
    bases: &[Affine<P>],
    entries: &[(u32, M)],
) -> Projective<P> {
    // Points at infinity contribute nothing (a Groth16 query has one for every variable that
    // does not occur in its matrix); dropping them here keeps them out of every window.
    let entries: Vec<(u32, M)> = entries
        .par_iter()
        .filter(|(packed, _)| !bases[(packed & !NEG) as usize].is_zero())
        .copied()
        .collect();
    if entries.is_empty() {
        return Projective::zero();
    }
    let chunks = rayon::current_num_threads()
        .min(entries.len().div_ceil(MIN_CHUNK))
        .max(1);
    let size = entries.len().div_ceil(chunks);
    entries
        .par_chunks(size)
        .map(|chunk| pippenger(bases, chunk))
        .reduce(Projective::zero, |a, b| a + b)
}

/// The window size that minimises the estimated cost for `m` points of `bits`-bit magnitudes:
/// per window, one affine addition per point and about four affine additions' worth of
/// projective additions per bucket (the running-sum reduction).
fn window_size(m: usize, bits: usize) -> usize {
    (1..=20usize)
        .min_by_key(|&c| (bits.div_ceil(c)) * (m + (4usize << (c - 1))))
        .unwrap_or(1)
}

/// The bucket method on one thread, with signed digits and batch-affine accumulation.
fn pippenger<P: SWCurveConfig, M: Magnitude>(
    bases: &[Affine<P>],
    entries: &[(u32, M)],
) -> Projective<P> {
    let bits = entries.iter().map(|(_, s)| s.bits()).max().unwrap_or(0);
    if bits == 0 {
        return Projective::zero();
    }
    let c = window_size(entries.len(), bits);
    let half = 1usize << (c - 1);
    // One more window than `bits / c` absorbs the last carry of the signed recoding.
    let windows = bits / c + 1;

    let mut carry = vec![0u8; entries.len()];
    let mut digit = vec![0i32; entries.len()];
    let mut count = vec![0u32; half + 1];
    let mut acc = Accumulator::<P>::default();
    let mut window_sums = Vec::with_capacity(windows);

    for w in 0..windows {
        // Signed recoding of this window, carrying into the next.
        count.iter_mut().for_each(|n| *n = 0);
        for (j, (_, s)) in entries.iter().enumerate() {
            let raw = s.window(w * c, c) as usize + carry[j] as usize;
            let d = if raw > half {
                carry[j] = 1;
                raw as i32 - (1 << c)
            } else {
                carry[j] = 0;
                raw as i32
            };
            digit[j] = d;
            count[d.unsigned_abs() as usize] += 1;
        }
        count[0] = 0;
        let total: u32 = count.iter().sum();
        if total == 0 {
            window_sums.push(Projective::zero());
            continue;
        }

        // Counting sort of the points into buckets 1..=half (negated for negative digits).
        acc.ranges.clear();
        let mut next = Vec::with_capacity(half + 1);
        let mut start = 0u32;
        for &n in &count {
            next.push(start);
            acc.ranges.push((start, n));
            start += n;
        }
        acc.points.clear();
        acc.points.resize(total as usize, Affine::identity());
        for (j, &(packed, _)) in entries.iter().enumerate() {
            let d = digit[j];
            if d == 0 {
                continue;
            }
            let b = d.unsigned_abs() as usize;
            let mut p = bases[(packed & !NEG) as usize];
            if (packed & NEG != 0) != (d < 0) {
                p = -p;
            }
            acc.points[next[b] as usize] = p;
            next[b] += 1;
        }

        acc.reduce();

        // Σ b·B_b as a running sum from the top bucket down.
        let mut running = Projective::<P>::zero();
        let mut sum = Projective::<P>::zero();
        for &(s, n) in acc.ranges[1..].iter().rev() {
            if n == 1 {
                running += &acc.points[s as usize];
            }
            sum += &running;
        }
        window_sums.push(sum);
    }

    let mut result = Projective::<P>::zero();
    for s in window_sums.iter().rev() {
        for _ in 0..c {
            result.double_in_place();
        }
        result += s;
    }
    result
}

/// What one pairwise addition inside a round turns out to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PairKind {
    /// `a + b` with `a.x ≠ b.x`: slope `(b.y − a.y)/(b.x − a.x)`.
    Add,
    /// `a + a`: slope `(3a.x² + A)/(2a.y)`.
    Double,
    /// `a + (−a)`: the point at infinity.
    Infinity,
    /// One side is the point at infinity: the other side.
    CopyA,
    /// See [`PairKind::CopyA`].
    CopyB,
}

/// Buckets of affine points reduced to one point each by batched pairwise additions.
struct Accumulator<P: SWCurveConfig> {
    /// The points, bucket after bucket.
    points: Vec<Affine<P>>,
    /// Per bucket: first position in `points` and number of points.
    ranges: Vec<(u32, u32)>,
    /// Per pair of a round: position of its first point and position of its result.
    pairs: Vec<(u32, u32)>,
    kinds: Vec<PairKind>,
    denominators: Vec<P::BaseField>,
    prefix: Vec<P::BaseField>,
}

impl<P: SWCurveConfig> Default for Accumulator<P> {
    fn default() -> Self {
        Self {
            points: Vec::new(),
            ranges: Vec::new(),
            pairs: Vec::new(),
            kinds: Vec::with_capacity(BATCH),
            denominators: Vec::with_capacity(BATCH),
            prefix: Vec::with_capacity(BATCH),
        }
    }
}

impl<P: SWCurveConfig> Accumulator<P> {
    /// Reduces every bucket to at most one point (its sum; the point at infinity is kept as
    /// such), in rounds that halve every bucket with two or more points.
    fn reduce(&mut self) {
        loop {
            self.pairs.clear();
            for &(s, n) in &self.ranges {
                for i in 0..n / 2 {
                    self.pairs.push((s + 2 * i, s + i));
                }
            }
            if self.pairs.is_empty() {
                return;
            }
            let pairs = std::mem::take(&mut self.pairs);
            for batch in pairs.chunks(BATCH) {
                self.add_pairs(batch);
            }
            self.pairs = pairs;
            // An odd bucket's last point moves behind its pairs' results.
            for r in self.ranges.iter_mut() {
                let (s, n) = *r;
                if n >= 2 {
                    if n % 2 == 1 {
                        self.points[(s + n / 2) as usize] = self.points[(s + n - 1) as usize];
                    }
                    *r = (s, n.div_ceil(2));
                }
            }
        }
    }

    /// One batch of pairwise additions with one shared inversion. A pair's result goes to a
    /// position no later pair of the round reads (results fill each bucket's front half).
    fn add_pairs(&mut self, batch: &[(u32, u32)]) {
        let one = P::BaseField::ONE;
        self.kinds.clear();
        self.denominators.clear();
        for &(i, _) in batch {
            let (a, b) = (&self.points[i as usize], &self.points[i as usize + 1]);
            let (kind, den) = if a.is_zero() {
                (PairKind::CopyB, one)
            } else if b.is_zero() {
                (PairKind::CopyA, one)
            } else if a.x != b.x {
                (PairKind::Add, b.x - a.x)
            } else if a.y == b.y && !a.y.is_zero() {
                (PairKind::Double, a.y.double())
            } else {
                (PairKind::Infinity, one)
            };
            self.kinds.push(kind);
            self.denominators.push(den);
        }

        // Montgomery's trick: all denominators inverted with one inversion.
        self.prefix.clear();
        let mut product = one;
        for d in &self.denominators {
            self.prefix.push(product);
            product *= d;
        }
        let mut inverse = product
            .inverse()
            .expect("every denominator is non-zero by construction");
        for k in (0..self.denominators.len()).rev() {
            let inv_k = inverse * self.prefix[k];
            inverse *= self.denominators[k];
            self.denominators[k] = inv_k;
        }

        for (k, &(i, out)) in batch.iter().enumerate() {
            let a = self.points[i as usize];
            let b = self.points[i as usize + 1];
            let result = match self.kinds[k] {
                PairKind::CopyA => a,
                PairKind::CopyB => b,
                PairKind::Infinity => Affine::identity(),
                PairKind::Add | PairKind::Double => {
                    let lambda = if self.kinds[k] == PairKind::Add {
                        (b.y - a.y) * self.denominators[k]
                    } else {
                        let x2 = a.x.square();
                        (x2.double() + x2 + P::COEFF_A) * self.denominators[k]
                    };
                    let x3 = lambda.square() - a.x - b.x;
                    let y3 = lambda * (a.x - x3) - a.y;
                    Affine::new_unchecked(x3, y3)
                }
            };
            self.points[out as usize] = result;
        }
    }
}

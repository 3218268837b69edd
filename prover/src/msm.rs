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
//! 4. **Batch-affine bucket accumulation.** Each window streams through the points in order
//!    and adds each to its bucket, kept as an affine point (in G1 exactly one 64-byte cache
//!    line, prefetched a few points before it is needed: at 2^20 points the buckets do not fit
//!    a core's cache, and the bucket read was a fifth of the time). The additions are queued and
//!    computed a batch at a time (an eighth of the buckets, at most 1,024), sharing one field
//!    inversion (Montgomery's trick): an affine addition then costs about 5 multiplications
//!    and 1 squaring, against 8 and 2 for `ark-ec`'s mixed XYZZ addition. The inversion itself
//!    is Pornin's binary GCD ([`crate::inverse`]), a third of `ark-ff`'s time, and the
//!    multiplications are [`crate::field`]'s (in assembly; in G2 an `Fq2` multiplication with
//!    one reduction per coefficient, a third faster than `ark-ff`'s). A point whose
//!    bucket is already in the batch (for evenly spread digits, 1 point in 16 on average)
//!    waits for the next batch; only when many wait (digits concentrated on a few buckets) is
//!    it added to a second, XYZZ half of that bucket instead. Doublings, opposite points and
//!    points at infinity are handled exactly. The buckets' weighted sum `Σ b·B_b` is a running sum in XYZZ
//!    coordinates.
//! 5. **Threads by chunks of points, or by windows for small MSMs.** With at least 2^17 points
//!    a thread, each rayon thread runs the whole method on its share of the points, so the load
//!    stays balanced when most scalars are small and only the lowest windows have work. Below
//!    that, chunks would get small windows and short batches, so the threads take whole windows
//!    over all the points instead (every window is recoded first: the carries run upwards).
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

use crate::field::FastMul;
use crate::inverse::FastInverse;
use crate::xyzz::Xyzz;

/// What the MSM needs of a curve's base field beyond `ark-ff`'s `Field`: a fast inversion
/// (one per batch of additions, [`crate::inverse`]) and a fast multiplication (`ark-ff`'s for
/// `Fq`, [`crate::field`]'s for `Fq2`).
pub trait MsmBaseField: FastInverse + FastMul {}

impl<F: FastInverse + FastMul> MsmBaseField for F {}

/// The top bit of a packed base index: the base is used negated.
const NEG: u32 = 1 << 31;

/// Additions that share one field inversion.
const BATCH: usize = 1024;

/// How many points ahead of the one being added its bucket is prefetched. Measured on the
/// development machine (G1, 2^20 points, one thread): 4, 8, 16 and 32 all within noise of each
/// other, and 15–20% faster than no prefetch.
const PREFETCH_AHEAD: usize = 8;

/// Below this many points per thread, splitting across threads does not pay.
const MIN_CHUNK: usize = 1 << 11;

/// Below this many points per thread, threads split the windows rather than the points.
const MIN_SHARE: usize = 1 << 17;

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
pub fn msm<P: SWCurveConfig<ScalarField = Fr, BaseField: MsmBaseField>>(
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
pub fn msm_prepared<P: SWCurveConfig<ScalarField = Fr, BaseField: MsmBaseField>>(
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
pub(crate) trait Magnitude: Copy + Send + Sync {
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
fn in_parallel<P: SWCurveConfig<BaseField: MsmBaseField>, M: Magnitude>(
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
    let threads = rayon::current_num_threads();
    if threads > 1 && entries.len() >= MIN_CHUNK && entries.len() < threads * MIN_SHARE {
        // Chunks of points this small would get small windows and short batches: give each
        // thread whole windows over all the points instead.
        return pippenger(bases, &entries, true);
    }
    let chunks = threads.min(entries.len().div_ceil(MIN_CHUNK)).max(1);
    let size = entries.len().div_ceil(chunks);
    entries
        .par_chunks(size)
        .map(|chunk| pippenger(bases, chunk, false))
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

/// The bucket method with signed digits and batch-affine accumulation: on the calling thread,
/// or (`by_windows`) with rayon's threads taking whole windows.
fn pippenger<P: SWCurveConfig<BaseField: MsmBaseField>, M: Magnitude>(
    bases: &[Affine<P>],
    entries: &[(u32, M)],
    by_windows: bool,
) -> Projective<P> {
    let bits = entries.iter().map(|(_, s)| s.bits()).max().unwrap_or(0);
    if bits == 0 {
        return Projective::zero();
    }
    let c = window_size(entries.len(), bits);
    let half = 1usize << (c - 1);
    // One more window than `bits / c` absorbs the last carry of the signed recoding.
    let windows = bits / c + 1;
    let n = entries.len();
    let mut carry = vec![false; n];

    let window_sums: Vec<Projective<P>> = if by_windows {
        // The carries run from the lowest window up, so every window is recoded first.
        let mut digits = vec![0i32; windows * n];
        for (w, out) in digits.chunks_mut(n).enumerate() {
            recode(entries, w, c, &mut carry, out);
        }
        digits
            .par_chunks(n)
            .map(|d| window_sum(bases, entries, d, &mut Buckets::new(half)))
            .collect()
    } else {
        let mut digits = vec![0i32; n];
        let mut buckets = Buckets::<P>::new(half);
        (0..windows)
            .map(|w| {
                recode(entries, w, c, &mut carry, &mut digits);
                window_sum(bases, entries, &digits, &mut buckets)
            })
            .collect()
    };

    let mut result = Projective::<P>::zero();
    for s in window_sums.iter().rev() {
        for _ in 0..c {
            result.double_in_place();
        }
        result += s;
    }
    result
}

/// Window `w`'s signed digits (in `[−2^(c−1), 2^(c−1)]`): a window value above 2^(c−1)
/// becomes value − 2^c and carries one into the next window.
pub(crate) fn recode<M: Magnitude>(
    entries: &[(u32, M)],
    w: usize,
    c: usize,
    carry: &mut [bool],
    out: &mut [i32],
) {
    let half = 1usize << (c - 1);
    for (((_, s), carry), out) in entries.iter().zip(carry.iter_mut()).zip(out.iter_mut()) {
        let raw = s.window(w * c, c) as usize + *carry as usize;
        *carry = raw > half;
        *out = if *carry {
            raw as i32 - (1 << c)
        } else {
            raw as i32
        };
    }
}

/// `Σ dᵢ·Pᵢ` for one window's digits: the points go into their buckets, then the buckets'
/// weighted sum `Σ b·B_b` is a running sum from the top bucket down, in extended Jacobian
/// (XYZZ) coordinates (8 multiplications per mixed addition, 12 per full one; Jacobian: 11
/// and 16).
fn window_sum<P: SWCurveConfig<BaseField: MsmBaseField>, M: Magnitude>(
    bases: &[Affine<P>],
    entries: &[(u32, M)],
    digits: &[i32],
    buckets: &mut Buckets<P>,
) -> Projective<P> {
    buckets.clear();
    for (i, ((packed, _), &d)) in entries.iter().zip(digits).enumerate() {
        // The bucket of the point `PREFETCH_AHEAD` places on: the one random read of an
        // addition, started early enough to arrive before it is needed.
        if let Some(&ahead) = digits.get(i + PREFETCH_AHEAD) {
            buckets.prefetch(ahead.unsigned_abs() as usize);
        }
        if d == 0 {
            continue;
        }
        let mut p = bases[(packed & !NEG) as usize];
        if (packed & NEG != 0) != (d < 0) {
            p = -p;
        }
        buckets.add(d.unsigned_abs() as usize, p);
    }
    buckets.finish();

    let mut running = Xyzz::<P>::ZERO;
    let mut sum = Xyzz::<P>::ZERO;
    for b in (1..buckets.points.len()).rev() {
        if buckets.overflow[b].is_zero() {
            if buckets.filled[b] {
                running += &buckets.affine(b);
            }
        } else {
            running += &buckets.sum(b);
        }
        sum += &running;
    }
    Projective::from(sum)
}

/// An affine point without the infinity flag, aligned to a cache line: a G1 bucket is exactly
/// one 64-byte line (`Affine`'s flag makes it 72 bytes, so most buckets would straddle two lines
/// and a random access would miss twice).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Xy<F> {
    x: F,
    y: F,
}

impl<P: SWCurveConfig> From<Affine<P>> for Xy<P::BaseField> {
    fn from(p: Affine<P>) -> Self {
        Self { x: p.x, y: p.y }
    }
}

/// An addition waiting in the batch: bucket `bucket`, whose point was `q` when the addition
/// was queued, gets `p`.
struct Queued<F> {
    bucket: usize,
    q: Xy<F>,
    p: Xy<F>,
}

/// The buckets of one window, filled by batched affine additions.
///
/// Points arrive in the order of the bases (read sequentially); each is added to its bucket.
/// The additions are queued and computed a batch at a time with one shared inversion
/// (Montgomery's trick): about 6 multiplications each, against 8 to 11 for a projective one.
/// A bucket takes part in one addition per batch; a point for a bucket already in the batch
/// waits for the next batch (at most a quarter of a batch waits), and beyond that, or when two
/// waiting points want one bucket, goes to that bucket's second half, kept in extended Jacobian
/// (XYZZ) coordinates and added projectively. A batch is an eighth of the buckets, which keeps
/// such conflicts near 6%; with fewer than 128 buckets (small scalars) there is no batch at all.
///
/// The bucket is read when its addition is queued, not when the batch is computed: the read is
/// the one random memory access of an addition, and the streaming loop prefetches it a few
/// points earlier ([`Buckets::prefetch`]); the batch then runs over its own arrays in order. (A
/// bucket in the batch cannot change before the batch is computed, so the copy stays exact.)
pub(crate) struct Buckets<P: SWCurveConfig> {
    /// The affine halves; meaningful only where `filled`.
    points: Vec<Xy<P::BaseField>>,
    /// Whether a bucket's affine half holds a point (else it is the point at infinity).
    filled: Vec<bool>,
    /// The XYZZ halves.
    overflow: Vec<Xyzz<P>>,
    /// Whether a bucket has an addition in the current batch.
    busy: Vec<bool>,
    /// Additions per batch (0: none, every addition is projective).
    batch_size: usize,
    /// The current batch.
    batch: Vec<Queued<P::BaseField>>,
    /// Points whose bucket was busy, waiting for the next batch (at most a quarter of one).
    waiting: Vec<(usize, Xy<P::BaseField>)>,
    /// Per addition of the batch: its denominator, then its inverse.
    denominators: Vec<P::BaseField>,
    prefix: Vec<P::BaseField>,
}

impl<P: SWCurveConfig<BaseField: MsmBaseField>> Buckets<P> {
    /// Buckets `1..=half` (bucket 0 is never used).
    pub(crate) fn new(half: usize) -> Self {
        let batch_size = if half < 128 { 0 } else { (half / 8).min(BATCH) };
        let origin = Xy {
            x: P::BaseField::ZERO,
            y: P::BaseField::ZERO,
        };
        Self {
            points: vec![origin; half + 1],
            filled: vec![false; half + 1],
            overflow: vec![Xyzz::ZERO; half + 1],
            busy: vec![false; half + 1],
            batch_size,
            batch: Vec::with_capacity(batch_size),
            waiting: Vec::with_capacity(batch_size / 4),
            denominators: Vec::with_capacity(batch_size),
            prefix: Vec::with_capacity(batch_size),
        }
    }

    /// Empties every bucket.
    fn clear(&mut self) {
        self.filled.iter_mut().for_each(|f| *f = false);
        self.overflow.iter_mut().for_each(|o| *o = Xyzz::ZERO);
    }

    /// Adds `p` (not the point at infinity) to bucket `b`.
    pub(crate) fn add(&mut self, b: usize, p: Affine<P>) {
        if !self.filled[b] {
            self.points[b] = p.into();
            self.filled[b] = true;
        } else if self.batch_size == 0 {
            self.overflow[b] += &p;
        } else if self.busy[b] {
            // The bucket is in the batch already: the point waits for the next batch, or, when
            // too many wait (digits concentrated on few buckets), goes to the XYZZ half.
            if self.waiting.len() < self.batch_size / 4 {
                self.waiting.push((b, p.into()));
            } else {
                self.overflow[b] += &p;
            }
        } else {
            self.queue(b, p.into());
            if self.batch.len() >= self.batch_size {
                self.flush();
            }
        }
    }

    /// Queues the addition of `p` to bucket `b`, which is filled and not busy.
    fn queue(&mut self, b: usize, p: Xy<P::BaseField>) {
        self.busy[b] = true;
        let q = self.points[b];
        // The denominator of the slope: x₂ − x₁, or 2y for a doubling; an opposite point (or a
        // doubling of a point with y = 0) empties the bucket and needs no inverse.
        self.denominators.push(if q.x != p.x {
            p.x - q.x
        } else if q.y == p.y && !q.y.is_zero() {
            q.y.double()
        } else {
            P::BaseField::ONE
        });
        self.batch.push(Queued { bucket: b, q, p });
    }

    /// Computes the batch, then gives the waiting points their turn: each is queued for the
    /// next batch (fewer than a batch wait, so they never fill it), or goes to the XYZZ half
    /// if another waiting point took its bucket.
    fn flush(&mut self) {
        self.compute_batch();
        let mut waiting = std::mem::take(&mut self.waiting);
        for (b, p) in waiting.drain(..) {
            if !self.filled[b] {
                self.points[b] = p;
                self.filled[b] = true;
            } else if self.busy[b] {
                self.overflow[b] += &Affine::<P>::new_unchecked(p.x, p.y);
            } else {
                self.queue(b, p);
            }
        }
        self.waiting = waiting;
    }

    /// Asks the processor to bring bucket `b`'s affine half into its cache. A hint only: it
    /// changes no value, and does nothing on other architectures.
    #[inline(always)]
    fn prefetch(&self, b: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(q) = self.points.get(b) {
            // `_mm_prefetch` is an intrinsic of SSE (part of every x86-64 CPU), and Rust marks
            // such calls unsafe outside a `#[target_feature]` function.
            #[allow(unsafe_code)]
            // SAFETY: the addresses are inside a live element of `self.points` (`add` stays
            // within its size), and a prefetch neither reads into the program nor writes: it
            // cannot fault or change a value.
            unsafe {
                // A G1 bucket is one cache line, a G2 bucket two.
                let start = (q as *const Xy<P::BaseField>).cast::<i8>();
                for line in (0..std::mem::size_of::<Xy<P::BaseField>>()).step_by(64) {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        start.add(line),
                    );
                }
            }
        }
    }

    /// Completes every pending addition.
    pub(crate) fn finish(&mut self) {
        while !self.batch.is_empty() || !self.waiting.is_empty() {
            self.flush();
        }
    }

    /// Bucket `b`'s sum.
    pub(crate) fn sum(&self, b: usize) -> Xyzz<P> {
        let mut s = self.overflow[b];
        if self.filled[b] {
            s += &self.affine(b);
        }
        s
    }

    /// Bucket `b`'s sum as an affine point without arithmetic, when its XYZZ half is empty
    /// (the point at infinity if the affine half is empty too); `None` when the XYZZ half holds
    /// a point, and [`Buckets::sum`] is needed.
    pub(crate) fn affine_sum(&self, b: usize) -> Option<Affine<P>> {
        if !self.overflow[b].is_zero() {
            None
        } else if self.filled[b] {
            Some(self.affine(b))
        } else {
            Some(Affine::identity())
        }
    }

    /// Bucket `b`'s affine half (which must be `filled`).
    fn affine(&self, b: usize) -> Affine<P> {
        let q = self.points[b];
        Affine::new_unchecked(q.x, q.y)
    }

    /// Computes the batch's additions with one inversion. Adding a point equal to the
    /// bucket's is a doubling; adding its opposite empties the bucket.
    fn compute_batch(&mut self) {
        let one = P::BaseField::ONE;
        self.prefix.clear();
        let mut product = one;
        for d in &self.denominators {
            self.prefix.push(product);
            product = product.fast_mul(d);
        }
        let mut inverse = product
            .fast_inverse()
            .expect("every denominator is non-zero by construction");
        for k in (0..self.denominators.len()).rev() {
            let inv_k = inverse.fast_mul(&self.prefix[k]);
            inverse = inverse.fast_mul(&self.denominators[k]);
            self.denominators[k] = inv_k;
        }

        for (Queued { bucket: b, q, p }, inv) in self.batch.iter().zip(&self.denominators) {
            let lambda = if q.x != p.x {
                (p.y - q.y).fast_mul(inv)
            } else if q.y == p.y && !q.y.is_zero() {
                let x2 = q.x.square();
                (x2.double() + x2 + P::COEFF_A).fast_mul(inv)
            } else {
                self.filled[*b] = false;
                self.busy[*b] = false;
                continue;
            };
            let x3 = lambda.fast_square() - q.x - p.x;
            let y3 = lambda.fast_mul(&(q.x - x3)) - q.y;
            self.points[*b] = Xy { x: x3, y: y3 };
            self.busy[*b] = false;
        }
        self.batch.clear();
        self.denominators.clear();
    }
}

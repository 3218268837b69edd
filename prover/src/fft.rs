//! FFTs over BN254's scalar field, and the QAP witness map built on them.
//!
//! Groth16's prover turns the constraint evaluations `a`, `b`, `c` (one value per constraint,
//! on the domain `H = {ωⁱ}` of size `n`) into the coefficients of
//! `h(x) = (A(x)·B(x) − C(x)) / Z(x)`. ark-groth16 does it with seven in-order FFTs of size `n`
//! (three inverse, three on the coset `gH`, one inverse on the coset), each with a
//! bit-reversal permutation. [`witness_map`] computes the same `h`, coefficient for
//! coefficient (a test compares the two), with less work and better use of the caches:
//!
//! 1. **No bit reversals.** An inverse transform by decimation in frequency takes values in
//!    natural order and leaves coefficients in bit-reversed order; a forward transform by
//!    decimation in time takes them in that order and returns values in natural order. Paired
//!    like this, the six transforms of `a`, `b`, `c` need no permutation, and the last one
//!    needs a single permutation to put `h`'s coefficients in order.
//! 2. **Scalings folded.** The inverse transform's `1/n` and the coset shift (coefficient `i`
//!    times `gⁱ`) are one multiplication per coefficient, applied in bit-reversed order.
//! 3. **Depth first.** The transforms recurse into halves, so once a sub-transform fits in the
//!    cache all its levels run there, instead of every level streaming the whole vector from
//!    memory; each level's twiddle factors are stored contiguously for the same reason.
//! 4. **Both threads busy.** The largest levels split their butterflies across rayon's
//!    threads, and the two halves of a large transform run in parallel.
//! 5. **Not only powers of two.** The domain is the one [`crate::qap::MixedRadixReduction`]
//!    picks, of size `n = f·2^k` with `f` = 1, 3 or 9 (at depth 24 × 32 slots `3·2^18`, a
//!    quarter below `2^20`). A transform of that size is `f` radix-2 transforms of size `2^k`
//!    and one radix-`f` step across them (a radix-3 butterfly costs one multiplication), so
//!    the work shrinks with `n`.
//!
//! The twiddle tables (`2·2^k` field elements) are kept for the last size used, since a
//! prover proves the same circuit again and again.

use crate::field::FastMul;
use crate::rows::DistinctRows;
use ark_bn254::Fr;
use ark_ff::{FftField, Field, One, Zero};
use ark_relations::gr1cs::{Matrix, SynthesisError};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Sub-transforms at least this long are split across threads.
const PARALLEL_LEN: usize = 1 << 12;

/// The twiddle factors of one domain size.
#[derive(Debug)]
pub struct Twiddles {
    log_n: u32,
    /// Level tables of `ω`: entries `h .. 2h` hold `ω_{2h}^j` for `j < h` (`h` = 1, 2, 4, …,
    /// n/2), where `ω_{2h}` is the primitive `2h`-th root of unity of the domain.
    forward: Vec<Fr>,
    /// The same for `ω⁻¹`.
    inverse: Vec<Fr>,
}

impl Twiddles {
    /// The tables for the domain of size `2^log_n`, the one ark-poly's radix-2 domain uses
    /// (`ω = Fr::get_root_of_unity(n)`). `None` beyond the field's two-adicity.
    pub fn new(log_n: u32) -> Option<Self> {
        if log_n > Fr::TWO_ADICITY {
            return None;
        }
        let n = 1usize << log_n;
        let omega = Fr::get_root_of_unity(n as u64)?;
        let omega_inv = omega.inverse()?;
        Some(Self {
            log_n,
            forward: level_tables(omega, n),
            inverse: level_tables(omega_inv, n),
        })
    }

    /// The domain's size `n`.
    pub fn size(&self) -> usize {
        1 << self.log_n
    }

    /// The tables for `2^log_n`, reusing the last ones built if they have that size.
    pub fn cached(log_n: u32) -> Option<Arc<Self>> {
        static LAST: Mutex<Option<Arc<Twiddles>>> = Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = last.as_ref().filter(|t| t.log_n == log_n) {
            return Some(Arc::clone(t));
        }
        let t = Arc::new(Self::new(log_n)?);
        *last = Some(Arc::clone(&t));
        Some(t)
    }

    /// Values `v` (natural order) to coefficients times `n` (bit-reversed order): the
    /// unscaled inverse transform.
    pub fn inverse_unscaled_to_bitrev(&self, v: &mut [Fr]) {
        assert_eq!(v.len(), self.size(), "vector length is not the domain size");
        dif(v, &self.inverse);
    }

    /// Coefficients (bit-reversed order) to values on the domain (natural order).
    pub fn forward_from_bitrev(&self, v: &mut [Fr]) {
        assert_eq!(v.len(), self.size(), "vector length is not the domain size");
        dit(v, &self.forward);
    }
}

/// `[_, ω_2^0, ω_4^0, ω_4^1, ω_8^0 …]`: the level tables described at [`Twiddles`], of length
/// `n` (entry 0 unused).
fn level_tables(omega: Fr, n: usize) -> Vec<Fr> {
    let mut t = vec![Fr::zero(); n.max(2)];
    if n < 2 {
        return t;
    }
    // Top level: ω^j for j < n/2, by chunks that each start from a power.
    let half = n / 2;
    t[half..]
        .par_chunks_mut(1 << 12)
        .enumerate()
        .for_each(|(k, chunk)| {
            let mut w = omega.pow([(k << 12) as u64]);
            for x in chunk {
                *x = w;
                w *= omega;
            }
        });
    // Each lower level takes every other entry of the one above: ω_{2h}^j = ω_{4h}^{2j}.
    let mut h = half / 2;
    while h >= 1 {
        let (low, high) = t.split_at_mut(2 * h);
        for j in 0..h {
            low[h + j] = high[2 * j];
        }
        h /= 2;
    }
    t
}

/// Applies `butterfly(x, y, w)` to every pair `(lo[j], hi[j])` with twiddle `w[j]`, split
/// across rayon's threads for long levels.
fn level(lo: &mut [Fr], hi: &mut [Fr], w: &[Fr], butterfly: impl Fn(&mut Fr, &mut Fr, &Fr) + Sync) {
    let serial = |lo: &mut [Fr], hi: &mut [Fr], w: &[Fr]| {
        for ((x, y), w) in lo.iter_mut().zip(hi.iter_mut()).zip(w) {
            butterfly(x, y, w);
        }
    };
    if lo.len() * 2 >= PARALLEL_LEN {
        lo.par_chunks_mut(PARALLEL_LEN / 2)
            .zip(hi.par_chunks_mut(PARALLEL_LEN / 2))
            .zip(w.par_chunks(PARALLEL_LEN / 2))
            .for_each(|((lo, hi), w)| serial(lo, hi, w));
    } else {
        serial(lo, hi, w);
    }
}

/// Decimation in frequency, natural order in, bit-reversed order out: `v ← DFT(v)` with the
/// roots in `tw` (level tables).
fn dif(v: &mut [Fr], tw: &[Fr]) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let (lo, hi) = v.split_at_mut(n / 2);
    level(lo, hi, &tw[n / 2..n], |x, y, w| {
        let d = x.fast_sub(y);
        *x = x.fast_add(y);
        *y = d.fast_mul(w);
    });
    if n >= PARALLEL_LEN {
        rayon::join(|| dif(lo, tw), || dif(hi, tw));
    } else {
        dif(lo, tw);
        dif(hi, tw);
    }
}

/// Decimation in time, bit-reversed order in, natural order out: the transpose of [`dif`].
fn dit(v: &mut [Fr], tw: &[Fr]) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let (lo, hi) = v.split_at_mut(n / 2);
    if n >= PARALLEL_LEN {
        rayon::join(|| dit(lo, tw), || dit(hi, tw));
    } else {
        dit(lo, tw);
        dit(hi, tw);
    }
    level(lo, hi, &tw[n / 2..n], |x, y, w| {
        let t = y.fast_mul(w);
        *y = x.fast_sub(&t);
        *x = x.fast_add(&t);
    });
}

/// Index `i` with its lowest `bits` bits reversed.
fn bitrev(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

/// Multiplies the coefficient at each bit-reversed position `p` (coefficient `i = bitrev(p)`)
/// by `scale · shiftⁱ`. Positions are taken in blocks of `L`: for `p = q·L + t`,
/// `bitrev(p) = bitrev(t)·(n/L) + bitrev(q)`, so each block needs one power and a table of `L`.
fn scale_bitrev(v: &mut [Fr], log_n: u32, shift: Fr, scale: Fr) {
    let log_l = log_n.min(10);
    let l = 1usize << log_l;
    let stride = shift.pow([1u64 << (log_n - log_l)]);
    let table: Vec<Fr> = (0..l)
        .map(|t| scale * stride.pow([bitrev(t, log_l) as u64]))
        .collect();
    v.par_chunks_mut(l).enumerate().for_each(|(q, block)| {
        let base = shift.pow([bitrev(q, log_n - log_l) as u64]);
        for (x, s) in block.iter_mut().zip(&table) {
            *x = x.fast_mul(&base.fast_mul(s));
        }
    });
}

/// Puts a vector in bit-reversed order into natural order (an involution).
fn permute_bitrev(v: &mut [Fr], log_n: u32) {
    for i in 0..v.len() {
        let j = bitrev(i, log_n);
        if i < j {
            v.swap(i, j);
        }
    }
}

/// The QAP domain `H = {ωⁱ}` of size `n = f·m`: `m = 2^log_m` and `f ∈ {1, 3, 9}`, as
/// [`crate::qap::domain_size`] picks it, with ark-poly's generator `ω = Fr::get_root_of_unity(n)`
/// (so row `i` of the constraint system is the point `ωⁱ`, as in the setup).
///
/// A transform of size `f·m` is `f` radix-2 transforms of size `m` (on the subgroup generated
/// by `ω^f`) and one radix-`f` step across them (Cooley–Tukey with the split `n = f·m`). A vector
/// is laid out as `f` blocks of `m`: in natural order, value `k₁ + m·k₂` is block `k₂`, entry
/// `k₁`; between the inverse and the forward transform, the coefficient `f·bitrev(p) + i₁` is
/// block `i₁`, entry `p`.
struct Domain {
    /// The small factor, 1, 3 or 9.
    f: usize,
    /// `log₂ m`.
    log_m: u32,
    /// The radix-2 tables for size `m` (root `ω^f`).
    tw: Arc<Twiddles>,
    /// `ω`, of order `n`.
    omega: Fr,
    /// `ω⁻¹`.
    omega_inv: Fr,
}

impl Domain {
    /// The domain for `rows` rows; `None` if the field has no subgroup large enough.
    fn new(rows: usize) -> Option<Self> {
        let n = crate::qap::domain_size::<Fr>(rows)?;
        let log_m = n.trailing_zeros();
        let f = n >> log_m;
        if !matches!(f, 1 | 3 | 9) {
            return None;
        }
        let omega = Fr::get_root_of_unity(n as u64)?;
        let tw = Twiddles::cached(log_m)?;
        // The radix-2 tables must be for the subgroup `ω^f` generates: both roots are powers of
        // the same large-subgroup root in ark-ff, so this holds; checked, since a mismatch would
        // silently give a wrong `h`.
        assert_eq!(
            Fr::get_root_of_unity(1 << log_m),
            Some(omega.pow([f as u64])),
            "radix-2 root is not ω^f"
        );
        Some(Self {
            f,
            log_m,
            tw,
            omega,
            omega_inv: omega.inverse()?,
        })
    }

    /// The domain's size `n = f·m`.
    fn size(&self) -> usize {
        self.f << self.log_m
    }

    /// Values (natural order) to coefficients times `n` (block `i₁`, entry `p` holds
    /// coefficient `f·bitrev(p) + i₁`).
    fn inverse_unscaled(&self, v: &mut [Fr]) {
        if self.f > 1 {
            self.radix_f_inverse(v);
        }
        for block in v.chunks_mut(1 << self.log_m) {
            self.tw.inverse_unscaled_to_bitrev(block);
        }
    }

    /// Coefficients (in [`Domain::inverse_unscaled`]'s layout) to values in natural order.
    fn forward(&self, v: &mut [Fr]) {
        for block in v.chunks_mut(1 << self.log_m) {
            self.tw.forward_from_bitrev(block);
        }
        if self.f > 1 {
            self.radix_f_forward(v);
        }
    }

    /// Multiplies coefficient `i` (in [`Domain::inverse_unscaled`]'s layout) by
    /// `scale · shiftⁱ`: in block `i₁`, `i = f·bitrev(p) + i₁`.
    fn scale(&self, v: &mut [Fr], shift: Fr, scale: Fr) {
        let stride = shift.pow([self.f as u64]);
        let mut s = scale;
        for block in v.chunks_mut(1 << self.log_m) {
            scale_bitrev(block, self.log_m, stride, s);
            s *= shift;
        }
    }

    /// Coefficients in [`Domain::inverse_unscaled`]'s layout, put in natural order.
    fn natural_order(&self, mut v: Vec<Fr>) -> Vec<Fr> {
        if self.f == 1 {
            permute_bitrev(&mut v, self.log_m);
            return v;
        }
        let (f, m, log_m) = (self.f, 1usize << self.log_m, self.log_m);
        let mut out = vec![Fr::zero(); self.size()];
        out.par_chunks_mut(f).enumerate().for_each(|(q, c)| {
            let p = bitrev(q, log_m);
            for (i1, x) in c.iter_mut().enumerate() {
                *x = v[i1 * m + p];
            }
        });
        out
    }

    /// The radix-`f` step of the inverse transform: for each `k₁ < m`, the values
    /// `x_{k₂} = v[k₁ + m·k₂]` become `u_{i₁} = ω^{−i₁·k₁} · Σ_{k₂} ω_f^{−i₁·k₂} x_{k₂}` in block `i₁`
    /// (`ω_f = ω^m`), whose radix-2 inverse transforms are then the coefficients `f·i₂ + i₁`.
    fn radix_f_inverse(&self, v: &mut [Fr]) {
        self.radix_f(v, self.omega_inv, false);
    }

    /// The radix-`f` step of the forward transform, the transpose of
    /// [`Domain::radix_f_inverse`]: block `i₁`'s values `y_{i₁}` at `k₁` become
    /// `v[k₁ + m·k₂] = Σ_{i₁} ω_f^{i₁·k₂} · ω^{i₁·k₁} · y_{i₁}`.
    fn radix_f_forward(&self, v: &mut [Fr]) {
        self.radix_f(v, self.omega, true);
    }

    /// The radix-`f` step with root `root` (`ω` or `ω⁻¹`): at each `k₁`, the `f` values across
    /// the blocks go through an `f`-point DFT (root `root^m`) and are multiplied by
    /// `root^{i·k₁}` (value `i`), the multiplication before the DFT (`twiddle_first`, forward)
    /// or after it (inverse).
    fn radix_f(&self, v: &mut [Fr], root: Fr, twiddle_first: bool) {
        let root_f = root.pow([1u64 << self.log_m]);
        across_blocks(v, 1 << self.log_m, |k0, blocks| {
            let f = blocks.len();
            let mut w = root.pow([k0 as u64]);
            let mut x = [Fr::zero(); 9];
            let twiddle = |x: &mut [Fr], w: Fr| {
                let mut t = Fr::one();
                for x in x.iter_mut() {
                    *x = x.fast_mul(&t);
                    t = t.fast_mul(&w);
                }
            };
            for j in 0..blocks[0].len() {
                for (x, b) in x.iter_mut().zip(blocks.iter()) {
                    *x = b[j];
                }
                if twiddle_first {
                    twiddle(&mut x[..f], w);
                }
                small_dft(&mut x[..f], root_f);
                if !twiddle_first {
                    twiddle(&mut x[..f], w);
                }
                for (x, b) in x[..f].iter().zip(blocks.iter_mut()) {
                    b[j] = *x;
                }
                w *= root;
            }
        });
    }
}

/// Runs `op(k₀, blocks)` over the `f = v.len() / m` blocks of `v` cut into aligned pieces
/// (entries `k₀ ..` of every block), in parallel.
fn across_blocks(v: &mut [Fr], m: usize, op: impl Fn(usize, &mut [&mut [Fr]]) + Sync) {
    const PIECE: usize = 1 << 10;
    let mut pieces: Vec<Vec<&mut [Fr]>> = (0..m.div_ceil(PIECE)).map(|_| Vec::new()).collect();
    for block in v.chunks_mut(m) {
        for (p, c) in pieces.iter_mut().zip(block.chunks_mut(PIECE)) {
            p.push(c);
        }
    }
    pieces
        .into_par_iter()
        .enumerate()
        .for_each(|(i, mut p)| op(i * PIECE, &mut p));
}

/// `x ← DFT(x)` of length 3 or 9 with the primitive root `root` of that order:
/// `y_k = Σ_i root^{i·k} x_i`. Length 3 with one multiplication (`root² = −1 − root`); length 9
/// (domains just above a power of two, rare) directly.
fn small_dft(x: &mut [Fr], root: Fr) {
    match x.len() {
        3 => {
            let (a, b, c) = (x[0], x[1], x[2]);
            let t = root.fast_mul(&b.fast_sub(&c));
            x[0] = a.fast_add(&b).fast_add(&c);
            x[1] = a.fast_sub(&c).fast_add(&t);
            x[2] = a.fast_sub(&b).fast_sub(&t);
        }
        f => {
            let mut powers = [Fr::one(); 9];
            for i in 1..f {
                powers[i] = powers[i - 1] * root;
            }
            let mut input = [Fr::zero(); 9];
            input[..f].copy_from_slice(x);
            for (k, y) in x.iter_mut().enumerate() {
                *y = input[..f]
                    .iter()
                    .enumerate()
                    .map(|(i, xi)| powers[(i * k) % f] * xi)
                    .sum();
            }
        }
    }
}

/// The coefficients of `h(x) = (A(x)·B(x) − C(x)) / Z(x)` for the full assignment
/// `full = [1, public inputs…, witnesses…]`: exactly ark-groth16 0.6's
/// `LibsnarkReduction::witness_map_from_matrices` on the domain of
/// [`crate::qap::MixedRadixReduction`] (the same domain and generator, the same coset generator,
/// the input rows appended to A), computed as the module docs describe. Finds the matrices'
/// repeated rows first; a prover that proves the same circuit again keeps them
/// ([`witness_map_with_rows`]).
pub fn witness_map(
    matrices: &[Matrix<Fr>],
    num_inputs: usize,
    num_constraints: usize,
    full: &[Fr],
) -> Result<Vec<Fr>, SynthesisError> {
    let rows = DistinctRows::new(matrices);
    witness_map_with_rows(&rows, matrices, num_inputs, num_constraints, full)
}

/// [`witness_map`] with the matrices' repeated rows found beforehand (`rows` must have been
/// built from `matrices`).
pub fn witness_map_with_rows(
    distinct: &DistinctRows,
    matrices: &[Matrix<Fr>],
    num_inputs: usize,
    num_constraints: usize,
    full: &[Fr],
) -> Result<Vec<Fr>, SynthesisError> {
    let rows = num_constraints + num_inputs;
    let d = Domain::new(rows).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let n = d.size();
    if matrices.len() != 3 {
        return Err(SynthesisError::Unsatisfiable);
    }

    // Every distinct row's value once, then each matrix's rows from them.
    let values = distinct.evaluate(matrices, full);
    let evaluate = |k: usize| -> Vec<Fr> {
        let mut v = vec![Fr::zero(); n];
        distinct.fill(k, &values, &mut v[..num_constraints]);
        v
    };

    let g = Fr::GENERATOR;
    let n_inv = Fr::from(n as u64).inverse().expect("n is below r");
    // Values on H → coefficients (times n) → divided by n and shifted by g → values on the
    // coset gH (natural order).
    let to_coset = |v: &mut Vec<Fr>| {
        d.inverse_unscaled(v);
        d.scale(v, g, n_inv);
        d.forward(v);
    };

    let mut a = evaluate(0);
    a[num_constraints..rows].copy_from_slice(&full[..num_inputs]);
    to_coset(&mut a);
    let mut b = evaluate(1);
    to_coset(&mut b);
    a.par_iter_mut()
        .zip(&b)
        .for_each(|(a, b)| *a = a.fast_mul(b));
    drop(b);
    let mut c = evaluate(2);
    drop(values);
    to_coset(&mut c);

    // Z(x) = xⁿ − 1 is the constant gⁿ − 1 on the coset.
    let z_inv = (g.pow([n as u64]) - Fr::one())
        .inverse()
        .expect("g is not in H");
    a.par_iter_mut()
        .zip(&c)
        .for_each(|(ab, c)| *ab = ab.fast_sub(c).fast_mul(&z_inv));
    drop(c);

    // Values on gH → coefficients of h: inverse transform, divide by n, unshift by g⁻¹.
    d.inverse_unscaled(&mut a);
    d.scale(&mut a, g.inverse().expect("g is not zero"), n_inv);
    Ok(d.natural_order(a))
}

//! Montgomery multiplication in x86-64 assembly for BN254's two prime fields, and `Fq2`
//! multiplication with one reduction per coefficient: what the MSM and the FFTs spend most of
//! their time on.
//!
//! * [`product`] (`Fq`) and [`product_fr`] (`Fr`): `x·y·R⁻¹ mod p` (`R = 2^256`), the
//!   Montgomery product, four rounds each of one multiply-add row and one reduction row, the
//!   same algorithm as `ark-ff`'s assembly (coarsely integrated operand scanning with MULX,
//!   ADCX and ADOX). The difference is the end: `ark-ff` leaves the final conditional
//!   subtraction of `p` to Rust, a comparison with branches that mispredict on random data;
//!   here it is four subtractions and four conditional moves. Measured on the development
//!   machine (`cargo bench -p zkr-benches --bench field`): 21 ns a multiplication against
//!   `ark-ff`'s 27 ns, and 15–25%
//!   less time for a G1 MSM.
//! * [`mul`] (`Fq2`): with `u² = −1`, `(a₀ + a₁u)(b₀ + b₁u) = (a₀b₀ − a₁b₁) + (a₀b₁ + a₁b₀)u`,
//!   each coefficient a sum of two products `x·y + z·w` (the first with `z = −a₁`).
//!   [`sum_of_products`] computes it the way `ark-ff`'s `Fp::sum_of_products` does (the two
//!   products and the reduction interleaved limb by limb, one Montgomery reduction for both,
//!   which BN254's two spare bits allow), but with MULX/ADCX/ADOX, which `ark-ff` uses only for
//!   a single product: its sum of products is portable Rust, so its `Fq2` multiplication costs
//!   more than four of its assembly `Fq` multiplications (122 ns there; this one 68 ns).
//!
//! * [`sum_fr`] and [`difference_fr`] (`Fr`): addition and subtraction with the reduction by
//!   conditional moves. `ark-ff`'s compare with `p` (a branch that mispredicts half the time on
//!   random values); the FFTs' butterflies are one multiplication, one addition and one
//!   subtraction, and the witness map at depth 24 × 32 slots took 10–15% less time with
//!   these (one thread, `cargo run --release -p zkr-prover --example rows -- 24 32`).
//!
//! The assembly is used when the build may assume BMI2 and ADX (`.cargo/config.toml` sets
//! them for x86-64); otherwise every function here is `ark-ff`'s arithmetic. Tests compare
//! each with `ark-ff`'s on random and edge-case inputs.
//!
//! Why the accumulator needs five limbs and the result one subtraction: with inputs below a
//! modulus `p < 2^254` and `R = 2^256`, `T = x·y + z·w < 2p²`. Each of the four rounds adds
//! `x[i]·y + z[i]·w` and `m·p` (`m < 2^64`) to an accumulator below `3p + 2^192` and divides
//! by `2^64` exactly, so the accumulator never exceeds five limbs (`3p + 3·2^64·p < 2^320`)
//! and neither carry chain leaves the fifth. The result `(T + M·p)/R < 2p²/R + p < 1.4p`
//! needs at most one subtraction of `p`. A single product is the same with `z·w = 0`.

use ark_bn254::{Fq, Fq2, Fr};
use ark_ff::{AdditiveGroup, Field};

/// A field the MSM and the FFTs compute in: `ark-ff`'s arithmetic, or faster code where zkr
/// has it (multiplications in `Fq`, `Fr` and `Fq2`; additions and subtractions in `Fr`).
pub trait FastMul: Field {
    /// `self · other`, equal to `*self * other`.
    #[inline(always)]
    fn fast_mul(&self, other: &Self) -> Self {
        *self * other
    }

    /// `self²`, equal to `self.square()`.
    #[inline(always)]
    fn fast_square(&self) -> Self {
        self.square()
    }

    /// `self + other`, equal to `*self + other`.
    #[inline(always)]
    fn fast_add(&self, other: &Self) -> Self {
        *self + other
    }

    /// `self − other`, equal to `*self - other`.
    #[inline(always)]
    fn fast_sub(&self, other: &Self) -> Self {
        *self - other
    }

    /// `a·b + c·d`.
    #[inline(always)]
    fn fast_sum_of_products(a: &Self, b: &Self, c: &Self, d: &Self) -> Self {
        a.fast_mul(b) + c.fast_mul(d)
    }
}

impl FastMul for Fq {
    #[inline(always)]
    fn fast_mul(&self, other: &Self) -> Self {
        product(self, other)
    }

    #[inline(always)]
    fn fast_square(&self) -> Self {
        product(self, self)
    }

    /// One reduction for both products.
    #[inline(always)]
    fn fast_sum_of_products(a: &Self, b: &Self, c: &Self, d: &Self) -> Self {
        sum_of_products(a, b, c, d)
    }
}

impl FastMul for Fr {
    #[inline(always)]
    fn fast_mul(&self, other: &Self) -> Self {
        product_fr(self, other)
    }

    #[inline(always)]
    fn fast_add(&self, other: &Self) -> Self {
        sum_fr(self, other)
    }

    #[inline(always)]
    fn fast_sub(&self, other: &Self) -> Self {
        difference_fr(self, other)
    }

    #[inline(always)]
    fn fast_square(&self) -> Self {
        product_fr(self, self)
    }
}

impl FastMul for Fq2 {
    #[inline(always)]
    fn fast_mul(&self, other: &Self) -> Self {
        mul(self, other)
    }

    /// `(c₀ + c₁u)² = (c₀ + c₁)(c₀ − c₁) + 2c₀c₁·u`.
    #[inline(always)]
    fn fast_square(&self) -> Self {
        Fq2::new(
            product(&(self.c0 + self.c1), &(self.c0 - self.c1)),
            product(&self.c0.double(), &self.c1),
        )
    }
}

/// `a · b` in `Fq2`: two sums of two products, one reduction each.
#[inline(always)]
pub fn mul(a: &Fq2, b: &Fq2) -> Fq2 {
    Fq2::new(
        sum_of_products(&a.c0, &b.c0, &-a.c1, &b.c1),
        sum_of_products(&a.c0, &b.c1, &a.c1, &b.c0),
    )
}

/// Defines `pub fn $name(x, y) -> $field`: the assembly `asm::$op` on the limbs, modulo
/// `asm::$modulus`, on builds with BMI2 and ADX, and `$fallback` (`ark-ff`'s) otherwise.
macro_rules! asm_or_ark_ff {
    ($(#[$doc:meta])* $name:ident: $field:ident, $op:ident, $modulus:ident, |$x:ident, $y:ident| $fallback:expr) => {
        $(#[$doc])*
        #[inline(always)]
        pub fn $name($x: &$field, $y: &$field) -> $field {
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "bmi2",
                target_feature = "adx"
            ))]
            {
                $field::new_unchecked(ark_ff::BigInt(asm::$op(&$x.0 .0, &$y.0 .0, &asm::$modulus)))
            }
            #[cfg(not(all(
                target_arch = "x86_64",
                target_feature = "bmi2",
                target_feature = "adx"
            )))]
            {
                $fallback
            }
        }
    };
}

asm_or_ark_ff!(
    /// `x·y` in `Fq` (`ark-ff`'s on builds without the assembly).
    product: Fq, product, FQ, |x, y| *x * y
);
asm_or_ark_ff!(
    /// `x·y` in `Fr` (`ark-ff`'s on builds without the assembly).
    product_fr: Fr, product, FR, |x, y| *x * y
);
asm_or_ark_ff!(
    /// `x + y` in `Fr` without a branch (`ark-ff`'s on builds without the assembly).
    sum_fr: Fr, sum, FR, |x, y| *x + y
);
asm_or_ark_ff!(
    /// `x − y` in `Fr` without a branch (`ark-ff`'s on builds without the assembly).
    difference_fr: Fr, difference, FR, |x, y| *x - y
);

/// `x·y + z·w` in `Fq` (`ark-ff`'s on builds without the assembly).
#[inline(always)]
pub fn sum_of_products(x: &Fq, y: &Fq, z: &Fq, w: &Fq) -> Fq {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "bmi2",
        target_feature = "adx"
    ))]
    {
        let (x, y, z, w) = (&x.0 .0, &y.0 .0, &z.0 .0, &w.0 .0);
        Fq::new_unchecked(ark_ff::BigInt(asm::sum_of_products(x, y, z, w, &asm::FQ)))
    }
    #[cfg(not(all(
        target_arch = "x86_64",
        target_feature = "bmi2",
        target_feature = "adx"
    )))]
    {
        Fq::sum_of_products(&[*x, *z], &[*y, *w])
    }
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "bmi2",
    target_feature = "adx"
))]
#[allow(unsafe_code)]
mod asm {
    use ark_ff::{BigInt, MontConfig};

    /// A modulus's four limbs, then `−p⁻¹ mod 2^64` (the Montgomery constant): one array, so
    /// the assembly addresses both through one register. The bound in the module docs needs
    /// `p < 2^254`, which both of BN254's moduli are.
    pub(super) type Modulus = [u64; 5];

    const fn modulus<C: MontConfig<4>>() -> Modulus {
        let p = C::MODULUS.0;
        assert!(p[3] < 1 << 62, "the modulus must be below 2^254");
        [p[0], p[1], p[2], p[3], C::INV]
    }

    /// BN254's base field.
    pub(super) static FQ: Modulus = modulus::<ark_bn254::FqConfig>();
    /// BN254's scalar field.
    pub(super) static FR: Modulus = modulus::<ark_bn254::FrConfig>();

    /// `acc += {a}[i] · {b}` on the five accumulator limbs `r0..r4`: MULX for the products,
    /// ADCX for the low halves' carry chain and ADOX for the high halves', so the two chains
    /// run side by side. The bound in the module docs keeps the sum within five limbs, so
    /// neither chain carries out of `r4`.
    #[rustfmt::skip]
    macro_rules! mul_add_row {
        ($a:literal, $i:literal, $b:literal, $r0:literal, $r1:literal, $r2:literal, $r3:literal, $r4:literal) => {
            concat!(
                "mov rdx, qword ptr [{", $a, "} + ", $i, "]\n",
                "xor eax, eax\n",
                "mulx rcx, rax, qword ptr [{", $b, "}]\n",
                "adcx ", $r0, ", rax\n", "adox ", $r1, ", rcx\n",
                "mulx rcx, rax, qword ptr [{", $b, "} + 8]\n",
                "adcx ", $r1, ", rax\n", "adox ", $r2, ", rcx\n",
                "mulx rcx, rax, qword ptr [{", $b, "} + 16]\n",
                "adcx ", $r2, ", rax\n", "adox ", $r3, ", rcx\n",
                "mulx rcx, rax, qword ptr [{", $b, "} + 24]\n",
                "adcx ", $r3, ", rax\n", "adox ", $r4, ", rcx\n",
                "adc ", $r4, ", 0\n",
            )
        };
    }

    /// One Montgomery round: `m = r0 · (−p⁻¹) mod 2^64`, `acc += m·p`, which makes `r0` zero;
    /// the next round reads the accumulator from `r1` (the division by `2^64`), and the zero
    /// `r0` becomes its top limb.
    #[rustfmt::skip]
    macro_rules! reduce_row {
        ($r0:literal, $r1:literal, $r2:literal, $r3:literal, $r4:literal) => {
            concat!(
                "mov rdx, ", $r0, "\n",
                "imul rdx, qword ptr [{p} + 32]\n",
                "xor eax, eax\n",
                "mulx rcx, rax, qword ptr [{p}]\n",
                "adcx ", $r0, ", rax\n", "adox ", $r1, ", rcx\n",
                "mulx rcx, rax, qword ptr [{p} + 8]\n",
                "adcx ", $r1, ", rax\n", "adox ", $r2, ", rcx\n",
                "mulx rcx, rax, qword ptr [{p} + 16]\n",
                "adcx ", $r2, ", rax\n", "adox ", $r3, ", rcx\n",
                "mulx rcx, rax, qword ptr [{p} + 24]\n",
                "adcx ", $r3, ", rax\n", "adox ", $r4, ", rcx\n",
                "adc ", $r4, ", 0\n",
            )
        };
    }

    /// The Montgomery multiplication around `$rounds` (the rows and reductions, as assembly
    /// templates): the five accumulator limbs `r8..r12` start at zero and rotate one register
    /// per round, so after four rounds the result is `r12, r8, r9, r10` (low to high; `r11` is
    /// zero); `p` is subtracted into scratch registers and the difference kept unless it
    /// borrowed. The inputs are pointers to four limbs, named as the templates use them.
    ///
    /// SAFETY (of the expansion): the assembly reads 32 bytes behind each input pointer (each a
    /// `[u64; 4]`) and 40 behind `p` (a `[u64; 5]`), writes only the registers declared, does
    /// not touch the stack, and needs BMI2 and ADX, which this module's `cfg` requires of the
    /// build.
    macro_rules! montgomery {
        ($p:expr, [$($round:expr),* $(,)?], $($name:ident = $ptr:expr),* $(,)?) => {{
            let (r0, r1, r2, r3): (u64, u64, u64, u64);
            // SAFETY: see the macro's docs.
            unsafe {
                core::arch::asm!(
                    "xor r8d, r8d",
                    "xor r9d, r9d",
                    "xor r10d, r10d",
                    "xor r11d, r11d",
                    "xor r12d, r12d",
                    $($round,)*
                    "mov rax, r12",
                    "sub rax, qword ptr [{p}]",
                    "mov rcx, r8",
                    "sbb rcx, qword ptr [{p} + 8]",
                    "mov rdx, r9",
                    "sbb rdx, qword ptr [{p} + 16]",
                    "mov r11, r10",
                    "sbb r11, qword ptr [{p} + 24]",
                    "cmovnc r12, rax",
                    "cmovnc r8, rcx",
                    "cmovnc r9, rdx",
                    "cmovnc r10, r11",
                    $($name = in(reg) $ptr.as_ptr(),)*
                    p = in(reg) $p.as_ptr(),
                    out("rax") _,
                    out("rcx") _,
                    out("rdx") _,
                    out("r8") r1,
                    out("r9") r2,
                    out("r10") r3,
                    out("r11") _,
                    out("r12") r0,
                    options(pure, readonly, nostack),
                );
            }
            debug_assert!(BigInt([r0, r1, r2, r3]) < BigInt([$p[0], $p[1], $p[2], $p[3]]));
            [r0, r1, r2, r3]
        }};
    }

    /// The Montgomery product `x·y·R⁻¹ mod p` of canonical inputs, canonical.
    #[inline(always)]
    pub(super) fn product(x: &[u64; 4], y: &[u64; 4], p: &'static Modulus) -> [u64; 4] {
        montgomery!(
            p,
            [
                mul_add_row!("x", "0", "y", "r8", "r9", "r10", "r11", "r12"),
                reduce_row!("r8", "r9", "r10", "r11", "r12"),
                mul_add_row!("x", "8", "y", "r9", "r10", "r11", "r12", "r8"),
                reduce_row!("r9", "r10", "r11", "r12", "r8"),
                mul_add_row!("x", "16", "y", "r10", "r11", "r12", "r8", "r9"),
                reduce_row!("r10", "r11", "r12", "r8", "r9"),
                mul_add_row!("x", "24", "y", "r11", "r12", "r8", "r9", "r10"),
                reduce_row!("r11", "r12", "r8", "r9", "r10"),
            ],
            x = x,
            y = y,
        )
    }

    /// `$lines` (assembly on `{x}`, `{y}` and `{p}`, pointers to four limbs each) with four
    /// result registers `{r0}..{r3}` (low to high) and four scratch registers `{t0}..{t3}`.
    ///
    /// SAFETY (of the expansion): the lines may only read 32 bytes behind each pointer and
    /// write the declared registers; nothing touches the stack. The result must be below `p`
    /// (checked in debug builds).
    macro_rules! four_limbs {
        ($x:expr, $y:expr, $p:expr, [$($line:literal),* $(,)?]) => {{
            let (r0, r1, r2, r3): (u64, u64, u64, u64);
            // SAFETY: see the macro's docs.
            unsafe {
                core::arch::asm!(
                    $($line,)*
                    x = in(reg) $x.as_ptr(),
                    y = in(reg) $y.as_ptr(),
                    p = in(reg) $p.as_ptr(),
                    r0 = out(reg) r0,
                    r1 = out(reg) r1,
                    r2 = out(reg) r2,
                    r3 = out(reg) r3,
                    t0 = out(reg) _,
                    t1 = out(reg) _,
                    t2 = out(reg) _,
                    t3 = out(reg) _,
                    options(pure, readonly, nostack),
                );
            }
            debug_assert!(BigInt([r0, r1, r2, r3]) < BigInt([$p[0], $p[1], $p[2], $p[3]]));
            [r0, r1, r2, r3]
        }};
    }

    /// `x + y mod p` of canonical inputs, canonical: the limbs' sum (below `2p < 2^255`, so
    /// it does not carry out), minus `p` unless that borrows (kept with conditional moves).
    #[inline(always)]
    pub(super) fn sum(x: &[u64; 4], y: &[u64; 4], p: &'static Modulus) -> [u64; 4] {
        four_limbs!(
            x,
            y,
            p,
            [
                "mov {r0}, qword ptr [{x}]",
                "add {r0}, qword ptr [{y}]",
                "mov {r1}, qword ptr [{x} + 8]",
                "adc {r1}, qword ptr [{y} + 8]",
                "mov {r2}, qword ptr [{x} + 16]",
                "adc {r2}, qword ptr [{y} + 16]",
                "mov {r3}, qword ptr [{x} + 24]",
                "adc {r3}, qword ptr [{y} + 24]",
                "mov {t0}, {r0}",
                "sub {t0}, qword ptr [{p}]",
                "mov {t1}, {r1}",
                "sbb {t1}, qword ptr [{p} + 8]",
                "mov {t2}, {r2}",
                "sbb {t2}, qword ptr [{p} + 16]",
                "mov {t3}, {r3}",
                "sbb {t3}, qword ptr [{p} + 24]",
                "cmovnc {r0}, {t0}",
                "cmovnc {r1}, {t1}",
                "cmovnc {r2}, {t2}",
                "cmovnc {r3}, {t3}",
            ]
        )
    }

    /// `x − y mod p` of canonical inputs, canonical: the limbs' difference, plus `p` if it
    /// borrowed (added with conditional moves, not a branch).
    #[inline(always)]
    pub(super) fn difference(x: &[u64; 4], y: &[u64; 4], p: &'static Modulus) -> [u64; 4] {
        four_limbs!(
            x,
            y,
            p,
            [
                "xor {t0:e}, {t0:e}",
                "xor {t1:e}, {t1:e}",
                "xor {t2:e}, {t2:e}",
                "xor {t3:e}, {t3:e}",
                "mov {r0}, qword ptr [{x}]",
                "sub {r0}, qword ptr [{y}]",
                "mov {r1}, qword ptr [{x} + 8]",
                "sbb {r1}, qword ptr [{y} + 8]",
                "mov {r2}, qword ptr [{x} + 16]",
                "sbb {r2}, qword ptr [{y} + 16]",
                "mov {r3}, qword ptr [{x} + 24]",
                "sbb {r3}, qword ptr [{y} + 24]",
                "cmovc {t0}, qword ptr [{p}]",
                "cmovc {t1}, qword ptr [{p} + 8]",
                "cmovc {t2}, qword ptr [{p} + 16]",
                "cmovc {t3}, qword ptr [{p} + 24]",
                "add {r0}, {t0}",
                "adc {r1}, {t1}",
                "adc {r2}, {t2}",
                "adc {r3}, {t3}",
            ]
        )
    }

    /// `(x·y + z·w)·R⁻¹ mod p` of canonical inputs, canonical: both products' rows, then one
    /// reduction, per round.
    #[inline(always)]
    pub(super) fn sum_of_products(
        x: &[u64; 4],
        y: &[u64; 4],
        z: &[u64; 4],
        w: &[u64; 4],
        p: &'static Modulus,
    ) -> [u64; 4] {
        montgomery!(
            p,
            [
                mul_add_row!("x", "0", "y", "r8", "r9", "r10", "r11", "r12"),
                mul_add_row!("z", "0", "w", "r8", "r9", "r10", "r11", "r12"),
                reduce_row!("r8", "r9", "r10", "r11", "r12"),
                mul_add_row!("x", "8", "y", "r9", "r10", "r11", "r12", "r8"),
                mul_add_row!("z", "8", "w", "r9", "r10", "r11", "r12", "r8"),
                reduce_row!("r9", "r10", "r11", "r12", "r8"),
                mul_add_row!("x", "16", "y", "r10", "r11", "r12", "r8", "r9"),
                mul_add_row!("z", "16", "w", "r10", "r11", "r12", "r8", "r9"),
                reduce_row!("r10", "r11", "r12", "r8", "r9"),
                mul_add_row!("x", "24", "y", "r11", "r12", "r8", "r9", "r10"),
                mul_add_row!("z", "24", "w", "r11", "r12", "r8", "r9", "r10"),
                reduce_row!("r11", "r12", "r8", "r9", "r10"),
            ],
            x = x,
            y = y,
            z = z,
            w = w,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInt, PrimeField, UniformRand, Zero};
    use rand_chacha::rand_core::SeedableRng;

    /// Elements at the edges: 0, 1, 2, −1, −2, and the Montgomery forms nearest 0, `p` and
    /// `2^192`.
    fn edges<F: PrimeField<BigInt = BigInt<4>>>() -> Vec<F> {
        let mut v = vec![
            F::zero(),
            F::one(),
            F::from(2u64),
            -F::one(),
            -F::from(2u64),
        ];
        for k in 1..4u64 {
            v.push(F::from_bigint(BigInt([k, 0, 0, 0])).unwrap());
            let mut near_p = F::MODULUS;
            near_p.0[0] -= k;
            v.push(F::from_bigint(near_p).unwrap());
        }
        v.push(F::from_bigint(BigInt([u64::MAX, u64::MAX, u64::MAX, 0])).unwrap());
        v.push(F::from_bigint(BigInt([0, 0, 0, 1])).unwrap());
        v
    }

    /// `fast_mul`, `fast_square`, `fast_add` and `fast_sub` equal `ark-ff`'s on 100,000 random
    /// pairs and on every pair of edge elements.
    fn check_field<F: FastMul + UniformRand>(edges: &[F], seed: u64) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let check = |a: F, b: F| {
            assert_eq!(a.fast_mul(&b), a * b, "{a} · {b}");
            assert_eq!(a.fast_square(), a.square(), "{a}²");
            assert_eq!(a.fast_add(&b), a + b, "{a} + {b}");
            assert_eq!(a.fast_sub(&b), a - b, "{a} − {b}");
        };
        for _ in 0..100_000 {
            check(F::rand(&mut rng), F::rand(&mut rng));
        }
        for &a in edges {
            for &b in edges {
                check(a, b);
            }
        }
    }

    #[test]
    fn fq_product_equals_ark_ff() {
        check_field::<Fq>(&edges(), 1);
    }

    #[test]
    fn fr_product_equals_ark_ff() {
        check_field::<Fr>(&edges(), 2);
    }

    #[test]
    fn fq2_mul_equals_ark_ff() {
        let e = edges::<Fq>();
        let mut e2 = Vec::new();
        for &c0 in &e {
            for &c1 in &e {
                e2.push(Fq2::new(c0, c1));
            }
        }
        check_field::<Fq2>(&e2, 3);
    }

    #[test]
    fn sum_of_products_equals_ark_ff() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let check = |x: Fq, y: Fq, z: Fq, w: Fq| {
            assert_eq!(
                sum_of_products(&x, &y, &z, &w),
                x * y + z * w,
                "{x} {y} {z} {w}"
            );
        };
        for _ in 0..100_000 {
            check(
                Fq::rand(&mut rng),
                Fq::rand(&mut rng),
                Fq::rand(&mut rng),
                Fq::rand(&mut rng),
            );
        }
        let e = edges::<Fq>();
        for &x in &e {
            for &y in &e {
                for &z in &e {
                    for &w in &e {
                        check(x, y, z, w);
                    }
                }
            }
        }
    }

    /// The largest products: every input `p − 1` (in Montgomery form, the largest limbs).
    #[test]
    fn largest_inputs() {
        let top = Fq::new_unchecked(BigInt([
            Fq::MODULUS.0[0] - 1,
            Fq::MODULUS.0[1],
            Fq::MODULUS.0[2],
            Fq::MODULUS.0[3],
        ]));
        assert_eq!(
            sum_of_products(&top, &top, &top, &top),
            top * top + top * top
        );
        assert_eq!(product(&top, &top), top * top);
        let top_r = Fr::new_unchecked(BigInt([
            Fr::MODULUS.0[0] - 1,
            Fr::MODULUS.0[1],
            Fr::MODULUS.0[2],
            Fr::MODULUS.0[3],
        ]));
        assert_eq!(product_fr(&top_r, &top_r), top_r * top_r);
        assert!(!top.is_zero());
    }
}

//! `contracts/BabyJubjub.sol` is the twin of `zkr_circuits::eddsa::verify_raw`: through the
//! test harness `contracts/test/EddsaHarness.sol`, its `verify` gives `verify_raw`'s verdict on
//! genuine, tampered and adversarial signatures (small-order keys, keys with a small-order
//! component, points off the curve, out-of-range scalars), refuses non-canonical coordinates,
//! and its `decompress` finds exactly the curve points an encoding names.

use ark_ec::{AffineRepr, CurveGroup};
use ark_ed_on_bn254::{EdwardsAffine, EdwardsConfig, EdwardsProjective, Fr as Scalar};
use ark_ff::{BigInteger, Field, PrimeField, Zero};
use num_bigint::BigUint;
use proptest::prelude::*;
use revm::primitives::{Address, U256};
use std::collections::BTreeMap;
use zkr_circuits::eddsa::{generator, verify_raw, SecretKey, SignatureWitness};
use zkr_circuits::poseidon::hash;
use zkr_circuits::Fr;
use zkr_l1_evm::artifacts::{Artifact, EDDSA_HARNESS, POSEIDON_T6};
use zkr_l1_evm::rollup::{field_word, selector};
use zkr_l1_evm::Chain;

/// `decompress`'s status: the hint is the point's x.
const DECOMPRESSED: u8 = 0;
/// `decompress`'s status: no curve point has that encoding.
const NO_POINT: u8 = 1;
/// `decompress`'s status: a point exists, the hint is not its x.
const BAD_HINT: u8 = 2;

/// A chain with PoseidonT6 and the harness (linked to it) deployed.
struct Harness {
    chain: Chain,
    address: Address,
}

impl Harness {
    /// Deploys PoseidonT6, then the harness linked to it.
    fn deploy() -> Self {
        let mut chain = Chain::new();
        let from = Address::new([7; 20]);
        let t6_code = Artifact::parse(POSEIDON_T6)
            .unwrap()
            .linked_bytecode(&BTreeMap::new())
            .unwrap();
        let t6 = chain.deploy(from, t6_code).unwrap();
        let code = Artifact::parse(EDDSA_HARNESS)
            .unwrap()
            .linked_bytecode(&BTreeMap::from([("PoseidonT6", t6)]))
            .unwrap();
        let address = chain.deploy(from, code).unwrap();
        Self { chain, address }
    }

    /// Calls `signature` with `args`; returns the output words and the call's gas (the whole
    /// transaction's, and its execution's). Panics on a revert: the library never reverts.
    fn call(&mut self, signature: &str, args: &[U256]) -> (Vec<U256>, (u64, u64)) {
        let mut data = selector(signature).to_vec();
        for a in args {
            data.extend_from_slice(&a.to_be_bytes::<32>());
        }
        let out = self.chain.view(self.address, data).unwrap();
        assert!(out.success, "{signature} reverted on {args:?}");
        let words = out.output.chunks(32).map(U256::from_be_slice).collect();
        (words, (out.gas_used, out.execution_gas))
    }

    /// The contract's `verify(pkX, pkY, message, rX, rY, s)` and its gas (the whole
    /// transaction's, and its execution's).
    fn verify_gas(&mut self, args: [U256; 6]) -> (bool, (u64, u64)) {
        let (out, gas) = self.call(
            "verify(uint256,uint256,uint256,uint256,uint256,uint256)",
            &args,
        );
        assert_eq!(out.len(), 1);
        assert!(out[0] <= U256::from(1u64));
        (out[0] == U256::from(1u64), gas)
    }

    /// The contract's `verify(pkX, pkY, message, rX, rY, s)`.
    fn verify(&mut self, args: [U256; 6]) -> bool {
        self.verify_gas(args).0
    }

    /// The contract's `decompress(word, xHint)`.
    fn decompress(&mut self, word: U256, hint: U256) -> (u8, U256) {
        let (out, _) = self.call("decompress(uint256,uint256)", &[word, hint]);
        assert_eq!(out.len(), 2);
        (out[0].to::<u8>(), out[1])
    }

    /// The contract's `onCurve(x, y)`.
    fn on_curve(&mut self, x: U256, y: U256) -> bool {
        let (out, _) = self.call("onCurve(uint256,uint256)", &[x, y]);
        out[0] == U256::from(1u64)
    }

    /// Asserts the contract and `verify_raw` agree on `(pk, msg, sig)`; returns the verdict.
    fn check(&mut self, what: &str, pk: (Fr, Fr), msg: Fr, sig: &SignatureWitness) -> bool {
        let native = verify_raw(pk.0, pk.1, msg, sig);
        let contract = self.verify(words(pk, msg, sig));
        assert_eq!(contract, native, "{what}: contract and verify_raw disagree");
        native
    }
}

/// BN254's scalar field modulus r (Baby Jubjub's base field) as a word.
fn r_word() -> U256 {
    field_word(&-Fr::from(1u64)) + U256::from(1u64)
}

/// The subgroup order l.
fn l_int() -> BigUint {
    Scalar::MODULUS.into()
}

/// A non-negative integer below 2^256 as a word.
fn int_word(n: &BigUint) -> U256 {
    U256::from_be_slice(&n.to_bytes_be())
}

/// The arguments of `verify` for a key, a message and a signature.
fn words(pk: (Fr, Fr), msg: Fr, sig: &SignatureWitness) -> [U256; 6] {
    [
        field_word(&pk.0),
        field_word(&pk.1),
        field_word(&msg),
        field_word(&sig.r_x),
        field_word(&sig.r_y),
        int_word(&sig.s),
    ]
}

/// A point's coordinates.
fn xy(p: &EdwardsAffine) -> (Fr, Fr) {
    (p.x, p.y)
}

/// The affine sum of two points.
fn add(p: &EdwardsAffine, q: &EdwardsAffine) -> EdwardsAffine {
    (*p + *q).into_affine()
}

/// A signature by the scalar `a` under the key `pk` (any point, so that keys with a small-order
/// component can be signed for): `R = nonce·B`, `h = Poseidon(R, pk, msg)`,
/// `S = nonce + 8·h·a mod l`. It verifies exactly when `8·pk = 8·a·B` and `8·pk` is not the
/// identity.
fn sign_with(a: Scalar, nonce: Scalar, pk: &EdwardsAffine, msg: Fr) -> SignatureWitness {
    let r = (generator() * nonce).into_affine();
    let h = hash([r.x, r.y, pk.x, pk.y, msg]);
    let h = Scalar::from_le_bytes_mod_order(&h.into_bigint().to_bytes_le());
    let s = nonce + Scalar::from(8u64) * h * a;
    SignatureWitness {
        r_x: r.x,
        r_y: r.y,
        s: s.into(),
    }
}

/// The curve point with this y and the even x (`odd == false`) or the odd one, if any:
/// x^2 = (1 - y^2) / (1 - d y^2).
fn point_from_y(y: Fr, odd: bool) -> Option<EdwardsAffine> {
    let d = <EdwardsConfig as ark_ec::twisted_edwards::TECurveConfig>::COEFF_D;
    let one = Fr::from(1u64);
    let x = ((one - y * y) / (one - d * y * y)).sqrt()?;
    let x = if x.into_bigint().is_odd() == odd {
        x
    } else {
        -x
    };
    if x.into_bigint().is_odd() != odd {
        return None; // x = 0 has no odd twin
    }
    let p = EdwardsAffine::new_unchecked(x, y);
    assert!(p.is_on_curve());
    Some(p)
}

/// A point of order 8: l·P for the first point P (by y = 2, 3, …) whose l-multiple has order 8.
fn order_eight_point() -> EdwardsAffine {
    (2u64..)
        .filter_map(|y| point_from_y(Fr::from(y), false))
        .map(|p| p.mul_bigint(Scalar::MODULUS).into_affine())
        .find(|t| {
            !(EdwardsProjective::from(*t) * Scalar::from(4u64)).is_zero()
                && (EdwardsProjective::from(*t) * Scalar::from(8u64)).is_zero()
        })
        .unwrap()
}

/// The compressed encoding of a point: y | (x & 1) << 255.
fn compress(p: &EdwardsAffine) -> U256 {
    field_word(&p.y) | (U256::from(p.x.into_bigint().is_odd() as u8) << 255)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Genuine signatures verify in both; a tampered message, S (S + 1, S + l, S = l), R or key
    /// fails in both.
    #[test]
    fn the_contract_gives_verify_raws_verdict_on_genuine_and_tampered_signatures(
        seed in any::<[u8; 32]>(),
        other_seed in any::<[u8; 32]>(),
        m in any::<u64>(),
    ) {
        prop_assume!(seed != other_seed);
        let mut h = Harness::deploy();
        let sk = SecretKey::from_seed(seed);
        let pk = sk.public_key();
        let pk = (pk.x(), pk.y());
        let msg = Fr::from(m);
        let sig = SignatureWitness::from(&sk.sign(msg));
        prop_assert!(h.check("genuine", pk, msg, &sig));
        prop_assert!(!h.check("other message", pk, msg + Fr::from(1u64), &sig));
        let mut s1 = sig.clone();
        s1.s += 1u32;
        prop_assert!(!h.check("S + 1", pk, msg, &s1));
        let mut sl = sig.clone();
        sl.s += l_int();
        prop_assert!(!h.check("S + l", pk, msg, &sl));
        let mut s_l = sig.clone();
        s_l.s = l_int();
        prop_assert!(!h.check("S = l", pk, msg, &s_l));
        let big_r = EdwardsAffine::new_unchecked(sig.r_x, sig.r_y);
        let other_r = add(&big_r, &generator());
        let mut r2 = sig.clone();
        (r2.r_x, r2.r_y) = xy(&other_r);
        prop_assert!(!h.check("other R", pk, msg, &r2));
        let other = SecretKey::from_seed(other_seed).public_key();
        prop_assert!(!h.check("other key", (other.x(), other.y()), msg, &sig));
    }

    /// For random points (in the subgroup and with a small-order component), the right hint
    /// decompresses, the other root and a hint of x + r are bad hints, and the flipped parity
    /// bit names the negated point.
    #[test]
    fn decompress_finds_the_encoded_point(seed in any::<[u8; 32]>()) {
        let mut h = Harness::deploy();
        let k = Scalar::from_le_bytes_mod_order(&seed);
        let p = (generator() * k).into_affine();
        let t2 = EdwardsAffine::new_unchecked(Fr::from(0u64), -Fr::from(1u64));
        for p in [p, add(&p, &t2)] {
            let word = compress(&p);
            let x = field_word(&p.x);
            prop_assert_eq!(h.decompress(word, x), (DECOMPRESSED, x));
            let neg = field_word(&-p.x);
            prop_assert_eq!(h.decompress(word, neg), (BAD_HINT, U256::ZERO));
            prop_assert_eq!(h.decompress(word, x + r_word()), (BAD_HINT, U256::ZERO));
            let flipped = word ^ (U256::from(1u64) << 255);
            prop_assert_eq!(h.decompress(flipped, neg), (DECOMPRESSED, neg));
            prop_assert_eq!(h.decompress(flipped, x), (BAD_HINT, U256::ZERO));
        }
    }
}

/// Keys and signatures crafted against the checks: every verdict is `verify_raw`'s, including
/// the signatures that a missing cofactor or small-order check would let through.
#[test]
fn the_contract_gives_verify_raws_verdict_on_adversarial_inputs() {
    let mut h = Harness::deploy();
    let a = Scalar::from(0x5eed_u64).pow([3u64]) + Scalar::from(12345u64);
    let key = (generator() * a).into_affine();
    let pk = xy(&key);
    let msg = Fr::from(77u64);
    let nonce = Scalar::from(991u64);
    let sig = sign_with(a, nonce, &key, msg);
    assert!(h.check("genuine (crafted key)", pk, msg, &sig));
    // The largest message: a full-width field element.
    let wide = -Fr::from(1u64);
    assert!(h.check("message r - 1", pk, wide, &sign_with(a, nonce, &key, wide)));

    // Keys off the curve, the identity, small-order points.
    assert!(!h.check("A off the curve", (pk.0, pk.1 + Fr::from(1u64)), msg, &sig));
    let t2 = EdwardsAffine::new_unchecked(Fr::from(0u64), -Fr::from(1u64));
    let t4 = EdwardsAffine::new_unchecked(Fr::from(1u64), Fr::from(0u64));
    let t8 = order_eight_point();
    assert!(t2.is_on_curve() && t4.is_on_curve() && t8.is_on_curve());
    assert_eq!(add(&t4, &t4), t2);
    for (name, small) in [
        ("identity", EdwardsAffine::zero()),
        ("order 2", t2),
        ("order 4", t4),
        ("order 8", t8),
    ] {
        // With 8·A = O, S·B = R + h·(8·A) holds for S = nonce: refused only by the 8·A check.
        let forged = SignatureWitness {
            s: nonce.into(),
            ..sign_with(a, nonce, &small, msg)
        };
        assert!(!h.check(name, xy(&small), msg, &forged), "{name}");
        assert!(!h.check(name, xy(&small), msg, &sig), "{name}");
    }

    // A key with a small-order component: 8·A' = 8·A, so a signature made for A' by A's scalar
    // verifies (the cofactor clears the component); A's own signature does not (h differs).
    for (name, small) in [("A + order 2", t2), ("A + order 8", t8)] {
        let odd_key = add(&key, &small);
        let for_odd = sign_with(a, nonce, &odd_key, msg);
        assert!(h.check(name, xy(&odd_key), msg, &for_odd), "{name}");
        assert!(!h.check(name, xy(&odd_key), msg, &sig), "{name}");
    }

    // R off the curve, R with a small-order component, R the identity with S = 0.
    let mut off = sig.clone();
    off.r_y += Fr::from(1u64);
    assert!(!h.check("R off the curve", pk, msg, &off));
    let big_r = EdwardsAffine::new_unchecked(sig.r_x, sig.r_y);
    let mut r_t2 = sig.clone();
    (r_t2.r_x, r_t2.r_y) = xy(&add(&big_r, &t2));
    assert!(!h.check("R + order 2", pk, msg, &r_t2));
    let r_zero = SignatureWitness {
        r_x: Fr::from(0u64),
        r_y: Fr::from(1u64),
        s: BigUint::zero(),
    };
    assert!(!h.check("R = identity, S = 0", pk, msg, &r_zero));

    // Out-of-range S.
    for (name, s) in [
        ("S = l - 1", l_int() - 1u32),
        ("S = 2^253", BigUint::from(1u32) << 253),
        ("S = 2^256 - 1", (BigUint::from(1u32) << 256) - 1u32),
    ] {
        let bad = SignatureWitness { s, ..sig.clone() };
        assert!(!h.check(name, pk, msg, &bad), "{name}");
    }

    // Coordinates of r or more (and a message of r or more) are no field elements: verify_raw
    // accepts their reductions, the contract refuses them.
    let genuine = words(pk, msg, &sig);
    assert!(h.verify(genuine));
    for i in 0..5 {
        let mut w = genuine;
        w[i] += r_word();
        assert!(!h.verify(w), "word {i} + r must be refused");
    }
}

/// `onCurve` accepts curve points with canonical coordinates only.
#[test]
fn on_curve_accepts_canonical_curve_points_only() {
    let mut h = Harness::deploy();
    let b = generator();
    let (bx, by) = (field_word(&b.x), field_word(&b.y));
    let r = r_word();
    let one = U256::from(1u64);
    assert!(h.on_curve(bx, by));
    assert!(h.on_curve(U256::ZERO, one), "identity");
    assert!(h.on_curve(U256::ZERO, r - one), "order 2");
    assert!(h.on_curve(one, U256::ZERO), "order 4");
    assert!(!h.on_curve(bx, by + one));
    assert!(!h.on_curve(bx + r, by));
    assert!(!h.on_curve(bx, by + r));
    assert!(!h.on_curve(U256::ZERO, one + r));
    assert!(!h.on_curve(U256::MAX, U256::MAX));
}

/// Encodings that name no point, and the x = 0 and y = 0 edges.
#[test]
fn decompress_edges() {
    let mut h = Harness::deploy();
    // d is not a square, so 1 - d y^2 is never 0 and the curve's formulas are complete.
    let d = <EdwardsConfig as ark_ec::twisted_edwards::TECurveConfig>::COEFF_D;
    assert!(d.legendre().is_qnr());

    let r = r_word();
    let one = U256::from(1u64);
    let bit = one << 255;
    let nothing = (NO_POINT, U256::ZERO);
    let bad = (BAD_HINT, U256::ZERO);
    // The first y with a non-square ratio: no point, whatever the hint or bit.
    let y = (2u64..)
        .map(Fr::from)
        .find(|y| point_from_y(*y, false).is_none())
        .unwrap();
    for hint in [U256::ZERO, one, U256::from(2u64), r - one, r, U256::MAX] {
        for parity in [U256::ZERO, bit] {
            assert_eq!(h.decompress(field_word(&y) | parity, hint), nothing);
        }
    }
    // y >= r (after masking bit 255).
    for word in [r, r | bit, bit - one, U256::MAX] {
        assert_eq!(h.decompress(word, U256::ZERO), nothing);
        assert_eq!(h.decompress(word, one), nothing);
    }
    // y = ±1: x = 0 only, which is even.
    for y in [one, r - one] {
        assert_eq!(h.decompress(y, U256::ZERO), (DECOMPRESSED, U256::ZERO));
        assert_eq!(h.decompress(y, one), bad);
        assert_eq!(h.decompress(y, r), bad);
        assert_eq!(h.decompress(y | bit, U256::ZERO), nothing);
        assert_eq!(h.decompress(y | bit, one), nothing);
    }
    // y = 0: x = ±1; 1 is odd, r - 1 is even.
    assert_eq!(h.decompress(U256::ZERO, r - one), (DECOMPRESSED, r - one));
    assert_eq!(h.decompress(U256::ZERO, one), bad);
    assert_eq!(h.decompress(bit, one), (DECOMPRESSED, one));
    assert_eq!(h.decompress(bit, r - one), bad);
    assert_eq!(h.decompress(bit, r + one), bad);
}

/// The gas of one `verify` of a genuine signature (quoted in `contracts/BabyJubjub.sol`), and of
/// `decompress` with a right hint and with a bad one (which costs a modexp).
#[test]
fn gas_of_verify_and_decompress() {
    let mut h = Harness::deploy();
    let sk = SecretKey::from_seed([9; 32]);
    let pk = sk.public_key();
    let msg = -Fr::from(3u64);
    let sig = sk.sign(msg);
    let args = words((pk.x(), pk.y()), msg, &SignatureWitness::from(&sig));
    let (ok, (gas, execution)) = h.verify_gas(args);
    assert!(ok);
    println!("BabyJubjub.verify: {gas} gas a call transaction ({execution} execution)");
    assert!(gas < 1_000_000, "{gas} gas");
    let word = compress(&sig.r);
    for (name, hint, status) in [
        ("right hint", sig.r.x, DECOMPRESSED),
        ("bad hint", -sig.r.x, BAD_HINT),
    ] {
        let (out, (gas, execution)) =
            h.call("decompress(uint256,uint256)", &[word, field_word(&hint)]);
        assert_eq!(out[0], U256::from(status));
        println!(
            "BabyJubjub.decompress, {name}: {gas} gas a call transaction ({execution} execution)"
        );
    }
}

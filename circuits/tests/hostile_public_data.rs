//! Hostile input to the public-data and field-element decoders (issue 11, part 5).
//!
//! Every input either decodes to a value that re-encodes to exactly the same bytes (one value,
//! one encoding), or is refused with a typed error; mutated valid encodings never panic; a
//! decoded value never silently differs from what the bytes say (a non-canonical field element is
//! refused, not reduced). Valid encodings are built through the library, and sizes come from its
//! constants, so these properties do not depend on the byte layout.

#[path = "mutate/mod.rs"]
mod mutate;

use ark_ff::PrimeField;
use mutate::*;
use num_bigint::BigUint;
use proptest::prelude::*;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::field::{
    fr_from_bytes, fr_from_decimal, fr_to_bytes, fr_to_decimal, is_canonical_decimal, FieldError,
};
use zkr_circuits::state::State;
use zkr_circuits::tx::{
    decode_public_data, encode_public_data, L1Address, PublicDataError, SlotData, TxType,
    SLOT_BYTES,
};
use zkr_circuits::{CircuitParams, Fr};

fn modulus() -> BigUint {
    Fr::MODULUS.into()
}

/// A valid slot of any type, built through the library's types.
fn valid_slot() -> impl Strategy<Value = SlotData> {
    let index = prop_oneof![
        0u64..20,
        Just(u32::MAX as u64),
        any::<u32>().prop_map(u64::from)
    ];
    let amount = prop_oneof![0u64..1000, Just(u64::MAX), any::<u64>()];
    prop_oneof![
        Just(SlotData::NOOP),
        (index.clone(), index.clone(), amount.clone(), amount.clone()).prop_map(
            |(from, to, amount, fee)| SlotData {
                tx_type: TxType::Transfer,
                from,
                to,
                amount,
                fee,
                aux_x: Fr::from(0u64),
                aux_y: Fr::from(0u64),
                requester: Fr::from(0u64),
            }
        ),
        (index.clone(), amount.clone(), 0u8..4, any::<[u8; 20]>()).prop_map(
            |(to, amount, key, a)| {
                let pk = SecretKey::from_seed([key; 32]).public_key();
                SlotData {
                    tx_type: TxType::Deposit,
                    from: 0,
                    to,
                    amount,
                    fee: 0,
                    aux_x: pk.x(),
                    aux_y: pk.y(),
                    requester: L1Address(a).to_field(),
                }
            }
        ),
        (index.clone(), amount.clone(), any::<[u8; 20]>()).prop_map(|(from, amount, a)| {
            SlotData {
                tx_type: TxType::FullExit,
                from,
                to: 0,
                amount,
                fee: 0,
                aux_x: Fr::from(0u64),
                aux_y: Fr::from(0u64),
                requester: L1Address(a).to_field(),
            }
        }),
        (index, amount.clone(), amount, any::<[u8; 20]>()).prop_map(|(from, amount, fee, a)| {
            SlotData {
                tx_type: TxType::Withdraw,
                from,
                to: 0,
                amount,
                fee,
                aux_x: L1Address(a).to_field(),
                aux_y: Fr::from(0u64),
                requester: Fr::from(0u64),
            }
        }),
    ]
}

/// The encoding of a valid batch of 1 to 4 slots.
fn valid_public_data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(valid_slot(), 1..5).prop_map(|s| encode_public_data(&s))
}

/// The canonicality property of the batch decoder.
fn check_public_data(bytes: &[u8]) {
    match decode_public_data(bytes) {
        Ok(slots) => {
            assert_eq!(
                encode_public_data(&slots),
                bytes,
                "decoded public data re-encodes to other bytes: {slots:?}"
            );
            assert!(slots.iter().all(SlotData::is_canonical));
            // Each slot decodes on its own to the same value.
            for (i, (s, chunk)) in slots.iter().zip(bytes.chunks(SLOT_BYTES)).enumerate() {
                assert_eq!(SlotData::from_bytes(i, chunk).as_ref(), Ok(s));
            }
        }
        Err(PublicDataError::BadLength(n)) => {
            assert_eq!(n, bytes.len());
            assert!(!bytes.len().is_multiple_of(SLOT_BYTES));
        }
        Err(
            PublicDataError::BadType { slot, .. }
            | PublicDataError::OutOfRange { slot }
            | PublicDataError::Field { slot, .. }
            | PublicDataError::NonCanonical { slot, .. },
        ) => {
            assert!(slot < bytes.len() / SLOT_BYTES, "error names slot {slot}");
            // Every slot before it decodes.
            for (i, chunk) in bytes.chunks(SLOT_BYTES).take(slot).enumerate() {
                assert!(SlotData::from_bytes(i, chunk).is_ok());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_public_data_round_trips(slots in prop::collection::vec(valid_slot(), 0..6)) {
        let bytes = encode_public_data(&slots);
        prop_assert_eq!(bytes.len(), slots.len() * SLOT_BYTES);
        prop_assert_eq!(decode_public_data(&bytes), Ok(slots));
    }

    #[test]
    fn mutated_public_data_is_canonical_or_refused(
        bytes in valid_public_data().prop_flat_map(mutated_bytes)
    ) {
        check_public_data(&bytes);
    }

    #[test]
    fn garbage_public_data_is_canonical_or_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..4 * SLOT_BYTES + 3)
    ) {
        check_public_data(&bytes);
    }

    /// A single slot of random bytes, with the type code drawn among the valid ones half of the
    /// time so that the field checks behind it are reached.
    #[test]
    fn a_random_slot_is_canonical_or_refused(
        mut b in prop::collection::vec(any::<u8>(), SLOT_BYTES),
        code in prop_oneof![0u8..4, any::<u8>()],
        zero_tail in any::<bool>(),
    ) {
        b[0] = code;
        if zero_tail {
            // Most random aux fields are >= p; zeros reach the per-type rules instead.
            for x in &mut b[SLOT_BYTES / 2..] {
                *x = 0;
            }
        }
        match SlotData::from_bytes(0, &b) {
            Ok(s) => prop_assert_eq!(s.to_bytes().to_vec(), b),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn a_slot_of_the_wrong_length_is_refused(len in 0usize..3 * SLOT_BYTES) {
        prop_assume!(len != SLOT_BYTES);
        let b = vec![0u8; len];
        prop_assert_eq!(SlotData::from_bytes(0, &b), Err(PublicDataError::BadLength(len)));
    }

    /// Replaying decoded public data (what `zkr reconstruct` does with an L1's record) on a
    /// small state either succeeds or is a typed error: never a panic, whatever indices and
    /// amounts the (canonical, but otherwise arbitrary) slots carry.
    #[test]
    fn replaying_arbitrary_canonical_slots_never_panics(
        slots in prop::collection::vec(valid_slot(), 1..6)
    ) {
        let genesis = zkr_circuits::Genesis {
            chain_id: 5,
            operator: SecretKey::from_seed([9; 32]).public_key(),
            operator_l1: L1Address([9; 20]),
        };
        let state = State::genesis(CircuitParams::new(4, 8).unwrap(), &genesis);
        let _ = state.replay(&slots);
    }

    /// 32 bytes decode iff their little-endian integer is below p, to exactly that integer.
    #[test]
    fn field_bytes_are_canonical_or_refused(
        b in prop_oneof![
            any::<[u8; 32]>(),
            // Near the modulus, where reduction would hide.
            (0u64..1000, any::<bool>()).prop_map(|(d, above)| {
                let p = modulus();
                let n = if above { p + d } else { p - 1u32 - d };
                let mut v = n.to_bytes_le();
                v.resize(32, 0);
                <[u8; 32]>::try_from(v).unwrap()
            }),
        ]
    ) {
        let n = BigUint::from_bytes_le(&b);
        match fr_from_bytes(&b) {
            Ok(x) => {
                prop_assert!(n < modulus());
                prop_assert_eq!(fr_to_bytes(&x), b);
                prop_assert_eq!(BigUint::from(x), n);
            }
            Err(e) => {
                prop_assert!(n >= modulus());
                prop_assert!(matches!(e, FieldError::NonCanonical(_)), "{e:?}");
            }
        }
    }

    #[test]
    fn field_bytes_of_the_wrong_length_are_refused(b in prop::collection::vec(any::<u8>(), 0..70)) {
        prop_assume!(b.len() != 32);
        prop_assert_eq!(
            fr_from_bytes(&b),
            Err(FieldError::BadLength { expected: 32, got: b.len() })
        );
    }

    /// Decimal text decodes iff it is canonical text (digits, no leading zero) of an integer
    /// below p, and then re-encodes to the same text.
    #[test]
    fn field_decimals_are_canonical_or_refused(
        s in prop_oneof![
            "[0-9]{1,80}",
            "0[0-9]{1,5}",
            "[-+ ]?[0-9]{1,10}[ a-f.eE_]?[0-9]{0,3}",
            "\\PC{0,20}",
            (0u64..1000, any::<bool>()).prop_map(|(d, above)| {
                let p = modulus();
                (if above { p + d } else { p - 1u32 - d }).to_str_radix(10)
            }),
        ]
    ) {
        match fr_from_decimal(&s) {
            Ok(x) => {
                prop_assert_eq!(fr_to_decimal(&x), s.clone());
                prop_assert!(is_canonical_decimal(&s));
            }
            Err(FieldError::NotDecimal(_)) => prop_assert!(!is_canonical_decimal(&s)),
            Err(FieldError::NonCanonical(_)) => {
                prop_assert!(is_canonical_decimal(&s));
                prop_assert!(s.parse::<BigUint>().unwrap() >= modulus());
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// A field element is an L1 address iff it is below 2^160, and then it is that address.
    #[test]
    fn addresses_from_field_elements(
        x in prop_oneof![
            any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
            any::<[u8; 20]>().prop_map(|a| L1Address(a).to_field()),
            (0u64..4).prop_map(|d| Fr::from(BigUint::from(1u32) << 160) + Fr::from(d)),
        ]
    ) {
        let n = BigUint::from(x);
        match L1Address::from_field(&x) {
            Some(a) => {
                prop_assert!(n.bits() <= 160);
                prop_assert_eq!(a.to_field(), x);
            }
            None => prop_assert!(n.bits() > 160),
        }
    }
}

/// Regression: a leading zero was read as the same number, so one field element had many
/// decimal texts ("7", "07", "007", …) although the docs promise exactly one.
#[test]
fn a_decimal_with_a_leading_zero_is_refused() {
    assert!(matches!(
        fr_from_decimal("07"),
        Err(FieldError::NotDecimal(_))
    ));
    assert!(matches!(
        fr_from_decimal("00"),
        Err(FieldError::NotDecimal(_))
    ));
    assert_eq!(fr_from_decimal("0"), Ok(Fr::from(0u64)));
}

/// Regression: a megabyte of digits was parsed into a big integer (quadratic time) before the
/// bound check, and quoted whole in the error; it is now refused by its length alone.
#[test]
fn a_megabyte_of_digits_is_refused_quickly() {
    let huge = "1".repeat(1 << 20);
    let t = std::time::Instant::now();
    for _ in 0..100 {
        match fr_from_decimal(&huge) {
            Err(FieldError::NonCanonical(q)) => assert!(q.len() < 200),
            other => panic!("{other:?}"),
        }
    }
    assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
}

//! Hostile JSON to the transaction decoders (issue 11, part 5): `Tx` (what `POST /tx` and batch
//! files carry), `Transfer`, `Withdraw`, `Deposit`, public keys, signatures, L1 addresses, state
//! snapshots and circuit parameters.
//!
//! Every input is either refused with an error or decodes to a value whose own JSON is the input's
//! JSON value (same fields, same numbers, same canonical decimal strings): nothing is dropped,
//! reduced, defaulted or read loosely. The one tolerated difference is an L1 address's spelling
//! (`0x` is optional and hex digits may be upper case), which names the same 20 bytes.

#[path = "mutate/mod.rs"]
mod mutate;

use mutate::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use zkr_circuits::account::Account;
use zkr_circuits::eddsa::{PublicKey, SecretKey, Signature};
use zkr_circuits::state::{IndexedAccount, State, StateSnapshot};
use zkr_circuits::tx::{Deposit, L1Address, Transfer, Tx, Withdraw};
use zkr_circuits::CircuitParams;

/// `v` with every string that is an L1 address in any accepted spelling written canonically.
fn normalize_addresses(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(a) = s.parse::<L1Address>() {
                *s = a.to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize_addresses),
        Value::Object(m) => m.values_mut().for_each(normalize_addresses),
        _ => {}
    }
}

/// Decodes `bytes` as `T`: an error, or a value whose JSON is the input's (up to L1 address
/// spelling) and which decodes back to itself.
fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    let Ok(decoded) = serde_json::from_slice::<T>(bytes) else {
        return;
    };
    let mut input: Value = serde_json::from_slice(bytes).expect("T decoded, so it is JSON");
    let mut out = serde_json::to_value(&decoded).unwrap();
    normalize_addresses(&mut input);
    normalize_addresses(&mut out);
    assert_eq!(
        input,
        out,
        "{} decoded from {} re-encodes differently",
        std::any::type_name::<T>(),
        String::from_utf8_lossy(bytes)
    );
    let again: T = serde_json::from_value(out).unwrap();
    assert_eq!(again, decoded);
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn transfer() -> Tx {
    Tx::Transfer(Transfer::signed(&key(1), 1, 1, 2, 10, 1, 3))
}

fn withdraw() -> Tx {
    Tx::Withdraw(Withdraw::signed(
        &key(2),
        1,
        2,
        7,
        1,
        0,
        L1Address([0xab; 20]),
    ))
}

fn deposit() -> Tx {
    Tx::Deposit(Deposit {
        pubkey: key(3).public_key(),
        amount: 5,
        from: L1Address([0xde; 20]),
    })
}

fn full_exit() -> Tx {
    Tx::FullExit(zkr_circuits::tx::FullExit {
        account: 3,
        requester: L1Address([0xfe; 20]),
    })
}

fn valid_tx() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(transfer()),
        Just(withdraw()),
        Just(deposit()),
        Just(full_exit()),
        Just(Tx::Noop)
    ]
    .prop_map(|t| serde_json::to_value(t).unwrap())
}

fn snapshot() -> StateSnapshot {
    let genesis = zkr_circuits::Genesis {
        chain_id: 5,
        operator: key(0).public_key(),
        operator_l1: L1Address([0x0b; 20]),
    };
    let mut s = State::genesis(CircuitParams::new(4, 2).unwrap(), &genesis).snapshot();
    s.accounts = (0..3)
        .map(|i| IndexedAccount {
            index: i as u64 * 5,
            account: Account {
                pubkey: key(i).public_key(),
                balance: 100 + i as u64,
                nonce: i as u32,
                owner: L1Address([i; 20]),
            },
        })
        .collect();
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_tx_json(bytes in valid_tx().prop_flat_map(hostile_json)) {
        check::<Tx>(&bytes);
    }

    #[test]
    fn hostile_transfer_and_withdraw_json(
        bytes in prop_oneof![Just(transfer()), Just(withdraw())]
            .prop_map(|t| match t {
                Tx::Transfer(t) => serde_json::to_value(t).unwrap(),
                Tx::Withdraw(w) => serde_json::to_value(w).unwrap(),
                _ => unreachable!(),
            })
            .prop_flat_map(hostile_json)
    ) {
        check::<Transfer>(&bytes);
        check::<Withdraw>(&bytes);
    }

    #[test]
    fn hostile_key_signature_and_address_json(
        bytes in prop_oneof![
            Just(serde_json::to_value(key(4).public_key()).unwrap()),
            Just(serde_json::to_value(key(4).sign(7u64.into())).unwrap()),
            Just(serde_json::to_value(L1Address([0x5c; 20])).unwrap()),
            Just(serde_json::to_value(Deposit { pubkey: key(5).public_key(), amount: 1, from: L1Address([1; 20]) }).unwrap()),
        ]
        .prop_flat_map(hostile_json)
    ) {
        check::<PublicKey>(&bytes);
        check::<Signature>(&bytes);
        check::<L1Address>(&bytes);
        check::<Deposit>(&bytes);
    }

    /// A state snapshot (the starting state of a batch file) decodes strictly, and a decoded one
    /// becomes a state or a typed error, never a panic.
    #[test]
    fn hostile_snapshot_json(
        bytes in hostile_json(serde_json::to_value(snapshot()).unwrap())
    ) {
        check::<StateSnapshot>(&bytes);
        check::<CircuitParams>(&bytes);
        if let Ok(s) = serde_json::from_slice::<StateSnapshot>(&bytes) {
            let _ = State::from_snapshot(&s);
        }
    }
}

/// Regression: serde ignores the fields of an internally tagged unit variant, so a noop with any
/// other fields (`{"type": "noop", "amount": 5}`) was read as a plain noop.
#[test]
fn a_noop_with_fields_is_refused() {
    assert_eq!(
        serde_json::from_str::<Tx>(r#"{"type":"noop"}"#).unwrap(),
        Tx::Noop
    );
    for bad in [
        r#"{"type":"noop","amount":5}"#,
        r#"{"type":"noop","_____":"0"}"#,
        r#"{"amount":5,"type":"noop"}"#,
    ] {
        let e = serde_json::from_str::<Tx>(bad).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{bad}: {e}");
    }
    // The other types keep refusing unknown fields too.
    let mut v = serde_json::to_value(transfer()).unwrap();
    v["extra"] = Value::from(1);
    assert!(serde_json::from_value::<Tx>(v).is_err());
}

/// Regression: circuit parameters (in `l1.json`, `circuit.json`, batch files and proof jobs)
/// ignored unknown fields, so a misspelt `"batchsize"` beside the real one went unnoticed.
#[test]
fn circuit_parameters_with_an_unknown_field_are_refused() {
    let mut v = serde_json::to_value(CircuitParams::new(4, 2).unwrap()).unwrap();
    assert!(serde_json::from_value::<CircuitParams>(v.clone()).is_ok());
    v["batchsize"] = Value::from(8);
    assert!(serde_json::from_value::<CircuitParams>(v).is_err());
}

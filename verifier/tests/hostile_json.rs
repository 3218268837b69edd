//! Hostile input to the L1's decoders (issue 11, part 5): snarkjs proof, public-input and
//! verifying-key JSON, batch submissions (decoded, then judged by the contract) and the L1 state
//! file `l1.json`.
//!
//! A decoder answers a typed error or a value whose own encoding is the input's (one value, one
//! encoding); the contract answers a typed rejection and changes nothing, in memory or on disk.

#[path = "../../circuits/tests/mutate/mod.rs"]
mod mutate;

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, PrimeField};
use mutate::*;
use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::public::num_inputs;
use zkr_circuits::tx::{encode_public_data, L1Address, SlotData, TxType};
use zkr_circuits::{CircuitParams, Fr};
use zkr_verifier::snarkjs::{
    g1_from_json, g2_from_json, g2_to_json, public_from_json, public_to_json, FormatError,
    ProofJson, VerificationKeyJson,
};
use zkr_verifier::{BatchSubmission, L1Contract, L1Error, L1State, Proof, VerifyingKey};

fn g1(k: u64) -> G1Affine {
    (G1Affine::generator() * Fr::from(k)).into_affine()
}

fn g2(k: u64) -> G2Affine {
    (G2Affine::generator() * Fr::from(k)).into_affine()
}

fn params() -> CircuitParams {
    CircuitParams::new(4, 2).unwrap()
}

/// A verifying key of the right size for `params()` (not from a setup: no proof verifies under
/// it, which is what a hostile submission meets).
fn vk() -> VerifyingKey {
    VerifyingKey {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (0..=num_inputs(params().batch_size) as u64)
            .map(|i| g1(11 + i))
            .collect(),
    }
}

fn proof(k: u64) -> Proof {
    Proof {
        a: g1(k),
        b: g2(k + 1),
        c: if k.is_multiple_of(5) {
            G1Affine::zero()
        } else {
            g1(k + 2)
        },
    }
}

/// Decodes `bytes` as a proof: an error, or a proof whose JSON is the input's.
fn check_proof(bytes: &[u8]) {
    let Ok(j) = serde_json::from_slice::<ProofJson>(bytes) else {
        return;
    };
    match j.to_proof() {
        Ok(p) => assert_eq!(
            ProofJson::from_proof(&p),
            j,
            "{}",
            String::from_utf8_lossy(bytes)
        ),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn check_vk(bytes: &[u8]) {
    let Ok(j) = serde_json::from_slice::<VerificationKeyJson>(bytes) else {
        return;
    };
    match j.to_vk() {
        Ok(vk) => {
            let back = VerificationKeyJson::from_vk(&vk);
            assert_eq!(back, j, "{}", String::from_utf8_lossy(bytes));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A point of the twist (the curve G2 lives on) near `x`, almost surely outside G2.
fn twist_point(x0: [u8; 32], x1: [u8; 32], greatest: bool) -> G2Affine {
    let mut x = Fq2::new(
        Fq::from_le_bytes_mod_order(&x0),
        Fq::from_le_bytes_mod_order(&x1),
    );
    loop {
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, greatest) {
            return p;
        }
        x += Fq2::ONE;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_proof_json(
        bytes in (1u64..50)
            .prop_map(|k| serde_json::to_value(ProofJson::from_proof(&proof(k))).unwrap())
            .prop_flat_map(hostile_json)
    ) {
        check_proof(&bytes);
    }

    #[test]
    fn hostile_verification_key_json(
        bytes in hostile_json(serde_json::to_value(VerificationKeyJson::from_vk(&vk())).unwrap())
    ) {
        check_vk(&bytes);
    }

    /// Coordinates: decimal text below the base-field modulus, else refused; a point decodes
    /// only if it is on the curve and in the group, and then re-encodes to the same text.
    #[test]
    fn random_coordinates(
        x in prop_oneof!["[0-9]{1,78}", "0[0-9]{1,3}", "\\PC{0,8}"],
        y in prop_oneof!["[0-9]{1,78}", Just("2".to_string())],
        z in prop_oneof![Just("1".to_string()), Just("0".to_string()), "[0-9]{1,3}"],
    ) {
        let j = [x, y, z];
        if let Ok(p) = g1_from_json("p", &j) {
            prop_assert_eq!(zkr_verifier::snarkjs::g1_to_json(&p), j);
        }
    }

    /// Points of the twist outside G2 are refused as such, never accepted.
    #[test]
    fn g2_points_outside_the_group_are_refused(
        x0 in any::<[u8; 32]>(),
        x1 in any::<[u8; 32]>(),
        greatest in any::<bool>(),
    ) {
        let p = twist_point(x0, x1, greatest);
        prop_assume!(!p.is_in_correct_subgroup_assuming_on_curve());
        prop_assert_eq!(
            g2_from_json("p", &g2_to_json(&p)),
            Err(FormatError::NotInSubgroup("p"))
        );
        // The same x with a wrong y is off the curve.
        let mut off = g2_to_json(&p);
        let y = p.y + Fq2::ONE;
        off[1] = [y.c0.into_bigint().to_string(), y.c1.into_bigint().to_string()];
        prop_assert_eq!(g2_from_json("p", &off), Err(FormatError::NotOnCurve("p")));
    }

    #[test]
    fn hostile_public_json(
        bytes in hostile_json(Value::from(public_to_json(&[Fr::from(1u64), -Fr::from(1u64), Fr::from(0u64)])))
    ) {
        if let Ok(v) = serde_json::from_slice::<Vec<String>>(&bytes) {
            if let Ok(xs) = public_from_json(&v) {
                prop_assert_eq!(public_to_json(&xs), v);
            }
        }
    }
}

/// The operator of the test deployments (account 0's key and owner).
fn operator() -> (zkr_circuits::eddsa::PublicKey, L1Address) {
    (
        SecretKey::from_seed([9; 32]).public_key(),
        L1Address([9; 20]),
    )
}

/// A contract persisted in `dir` with L1 balances and two queued deposits.
fn contract(dir: &Path) -> L1Contract {
    let mut l1 = L1Contract::open(&dir.join("l1.json"), params(), vk(), Some(operator())).unwrap();
    let payer = L1Address([7; 20]);
    l1.mint(payer, 1000).unwrap();
    l1.mint(L1Address([8; 20]), 5).unwrap();
    l1.deposit(payer, SecretKey::from_seed([1; 32]).public_key(), 10)
        .unwrap();
    l1.deposit(payer, SecretKey::from_seed([2; 32]).public_key(), 20)
        .unwrap();
    l1
}

/// A submission that passes every check up to the proof: batch 1 from the current root,
/// consuming the first queued deposit and withdrawing to an L1 address.
fn submission(l1: &L1Contract) -> BatchSubmission {
    let zkr_circuits::tx::PriorityOp::Deposit(d) = l1.state().queue[0].request else {
        panic!("the first request is a deposit")
    };
    let slots = [
        SlotData {
            tx_type: TxType::Deposit,
            from: 0,
            to: 1,
            amount: d.amount,
            fee: 0,
            aux_x: d.pubkey.x(),
            aux_y: d.pubkey.y(),
            requester: d.from.to_field(),
        },
        SlotData {
            tx_type: TxType::Withdraw,
            from: 1,
            to: 0,
            amount: 3,
            fee: 1,
            aux_x: L1Address([9; 20]).to_field(),
            aux_y: Fr::from(0u64),
            requester: Fr::from(0u64),
        },
    ];
    assert_eq!(slots.len(), params().batch_size);
    BatchSubmission {
        number: 1,
        old_root: fr_to_decimal(&l1.state_root()),
        new_root: fr_to_decimal(&Fr::from(12345u64)),
        public_data: hex::encode(encode_public_data(&slots)),
        proof: ProofJson::from_proof(&proof(3)),
    }
}

/// The contract's whole state and its file, to compare before and after.
fn snapshot(l1: &L1Contract, dir: &Path) -> (L1State, Vec<u8>) {
    (
        l1.state().clone(),
        std::fs::read(dir.join("l1.json")).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Mutated submissions: a typed rejection, and nothing changes (no valid proof exists for
    /// them under this key, and none of them is the unmutated one's valid proof either).
    #[test]
    fn hostile_submissions_are_rejected_and_change_nothing(
        bytes in {
            let dir = tempfile::tempdir().unwrap();
            let l1 = contract(dir.path());
            hostile_json(serde_json::to_value(submission(&l1)).unwrap())
        }
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut l1 = contract(dir.path());
        let before = snapshot(&l1, dir.path());
        if let Ok(s) = serde_json::from_slice::<BatchSubmission>(&bytes) {
            // Decoding is strict: the value's own JSON is the input's.
            let input: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(serde_json::to_value(&s).unwrap(), input);
            let e = l1.submit_batch(&s).unwrap_err();
            prop_assert!(!e.to_string().is_empty());
        }
        prop_assert_eq!(snapshot(&l1, dir.path()), before);
    }

    /// A damaged `l1.json`: opening it is a typed error (and leaves the file as it was), or a
    /// state that passes the contract's own consistency check.
    #[test]
    fn hostile_state_files(
        bytes in {
            let dir = tempfile::tempdir().unwrap();
            let l1 = contract(dir.path());
            let mut s = l1.state().clone();
            // One accepted batch in the record, so that its fields are mutated too.
            s.batches.push(zkr_verifier::AcceptedBatch {
                number: 1,
                old_root: s.state_root,
                new_root: Fr::from(77u64),
                public_data: hex::encode(encode_public_data(&[SlotData::NOOP; 2])),
                requests: vec![],
                withdrawals: vec![(L1Address([3; 20]), 4)],
            });
            s.state_root = Fr::from(77u64);
            hostile_json(serde_json::to_value(s).unwrap())
        }
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l1.json");
        std::fs::write(&path, &bytes).unwrap();
        match L1Contract::open(&path, params(), vk(), Some(operator())) {
            Ok(l1) => prop_assert!(l1.state().check().is_ok()),
            Err(e) => {
                prop_assert!(
                    matches!(e, L1Error::Corrupt { .. } | L1Error::KeyMismatch { .. }),
                    "{e}"
                );
                prop_assert_eq!(std::fs::read(&path).unwrap(), bytes);
            }
        }
    }
}

/// Regression: `nPublic` is read from the file, and `nPublic + 1` wrapped to 0 for
/// `usize::MAX` (or panicked, with overflow checks), so a key with no `IC` at all was accepted
/// as a key for 2^64 − 1 inputs.
#[test]
fn an_n_public_of_usize_max_is_refused() {
    let mut j = VerificationKeyJson::from_vk(&vk());
    j.n_public = usize::MAX;
    j.ic.clear();
    assert!(matches!(j.to_vk(), Err(FormatError::Shape(_))));
}

/// Regression: coordinates with a leading zero were read as the same number, so one point had
/// many texts.
#[test]
fn a_coordinate_with_a_leading_zero_is_refused() {
    let mut j = zkr_verifier::snarkjs::g1_to_json(&g1(1));
    assert!(g1_from_json("p", &j).is_ok());
    j[0] = format!("0{}", j[0]);
    assert!(matches!(
        g1_from_json("p", &j),
        Err(FormatError::Number { .. })
    ));
}

/// Regression: a state file whose balance is near `u128::MAX` made the next credit wrap
/// (silently, without overflow checks) to a small balance; it is now refused without a change.
#[test]
fn a_credit_that_would_overflow_an_l1_balance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l1.json");
    let a = L1Address([1; 20]);
    {
        let mut l1 = L1Contract::open(&path, params(), vk(), Some(operator())).unwrap();
        l1.mint(a, 1).unwrap();
    }
    let mut s: L1State = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    s.l1_balances.insert(a, u128::MAX);
    std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
    let mut l1 = L1Contract::open(&path, params(), vk(), Some(operator())).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(l1.mint(a, 1).is_err());
    assert_eq!(l1.balance(&a), u128::MAX);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Regression: a state file was trusted as it was read; batches out of order or with broken
/// root chains, or a deposit queue out of id order, are now refused as corrupt.
#[test]
fn an_inconsistent_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l1.json");
    drop(contract(dir.path()));
    let good: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let corrupt = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        match L1Contract::open(&path, params(), vk(), Some(operator())) {
            Err(L1Error::Corrupt { .. }) => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted {v}"),
        }
    };
    corrupt(&|v| v["state_root"] = Value::from("5"));
    corrupt(&|v| v["next_request_id"] = Value::from(1));
    corrupt(&|v| {
        let q = v["queue"].as_array_mut().unwrap();
        q.swap(0, 1);
    });
    corrupt(&|v| {
        v["params"]["batch_size"] = Value::from(0);
    });
}

//! `contracts/Rollup.sol` in revm with real proofs: honest batches are accepted and settle,
//! every forged batch the Rust L1 refuses is refused with nothing changed, both L1s agree on a
//! mixed sequence, and the gas of each batch is reported.

mod common;

use ark_ed_on_bn254::EdwardsAffine;
use common::*;
use proptest::prelude::*;
use revm::primitives::{Address, U256};
use zkr_circuits::eddsa::{PublicKey, SecretKey};
use zkr_circuits::state::State;
use zkr_circuits::tx::{encode_public_data, Deposit, FullExit, PriorityOp, Tx, SLOT_BYTES};
use zkr_circuits::Fr;
use zkr_l1_evm::rollup::{deposit_hint, evm_address, field_word, fr_from_word};
use zkr_l1_evm::{
    rejection_kind, EvmL1Error, EvmRejection, EvmRollup, EvmSubmission, Outcome, RollupEvent,
};
use zkr_verifier::{BatchSubmission, L1Contract};

const R: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
const Q: &str = "21888242871839275222246405745257275088696311157297823662689037894645226208583";

fn evm(s: &BatchSubmission) -> EvmSubmission {
    EvmSubmission::from_submission(s).unwrap()
}

fn refusal(r: Result<zkr_l1_evm::Accepted, EvmL1Error>) -> EvmRejection {
    match r {
        Err(EvmL1Error::Rejected(e)) => e,
        Err(e) => panic!("not a contract refusal: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

fn queue_of(r: &mut EvmRollup) -> Vec<PriorityOp> {
    r.queued_requests(0, 256)
        .unwrap()
        .into_iter()
        .map(|q| q.request)
        .collect()
}

/// A point of the G2 twist outside the prime-order subgroup.
fn non_subgroup_g2() -> ark_bn254::G2Affine {
    use ark_ff::Field;
    (1u64..)
        .find_map(|i| {
            let x = ark_bn254::Fq2::new(ark_bn254::Fq::from(i), ark_bn254::Fq::ONE);
            ark_bn254::G2Affine::get_point_from_x_unchecked(x, false)
                .filter(|p| !p.is_in_correct_subgroup_assuming_on_curve())
        })
        .unwrap()
}

fn report_gas(label: &str, o: &Outcome, slots: usize) {
    println!(
        "gas {label}: {} paid ({} execution + {} intrinsic - {} refund), {} execution per slot, {} paid per slot",
        o.gas_used,
        o.execution_gas,
        o.intrinsic_gas,
        o.gas_refunded,
        o.execution_gas / slots as u64,
        o.gas_used / slots as u64
    );
}

#[test]
fn honest_batches_are_accepted_settle_and_rebuild_from_events() {
    let mut r = deploy();
    let genesis_root = r.state_root().unwrap();
    let (g, root) = r.genesis().unwrap();
    assert_eq!(
        field_word(&root),
        genesis_root,
        "genesisRoot() is the root it started at"
    );
    assert_eq!(
        State::genesis(params(), &g).root(),
        root,
        "the operator's account 0 and nothing else"
    );
    let alice_l1 = Address::new([0xa1; 20]);
    let bob_l1 = evm_address(&BOB_L1);
    evm_deposit(&mut r, alice_l1, &alice(), 100);
    evm_deposit(&mut r, bob_l1, &bob(), 50);
    assert_eq!(r.pending_requests().unwrap(), 2);
    assert_eq!(r.chain.balance(r.deployment.rollup), wei(150));
    assert_eq!(
        r.chain.balance(alice_l1),
        U256::ZERO,
        "the deposit locked the ETH"
    );

    let outs = three_batches(&g);
    assert!(matches!(
        queue_of(&mut r)[0],
        PriorityOp::Deposit(Deposit {
            amount: 100,
            from: ALICE_L1,
            ..
        })
    ));
    for (i, out) in outs.iter().enumerate() {
        let number = i as u64 + 1;
        let sub = submission(number, out);
        let acc = r.submit_batch(&evm(&sub)).unwrap();
        report_gas(
            &format!("batch {number}"),
            &acc.outcome,
            out.public_data.len(),
        );
        assert_eq!(r.state_root().unwrap(), field_word(&out.state.root()));
        assert_eq!(r.batch_count().unwrap(), number);
        assert!(acc.events.contains(&RollupEvent::BatchAccepted {
            number,
            old_root: field_word(&out.public.old_root),
            new_root: field_word(&out.public.new_root),
            first_request: if number == 1 { 0 } else { 2 },
            request_count: out.priority_consumed as u64,
            public_data: encode_public_data(&out.public_data),
        }));
    }
    assert_eq!(r.pending_requests().unwrap(), 0);

    // Batch 2's withdrawal: credited once, claimable once, paid in wei.
    assert!(r.events.contains(&RollupEvent::WithdrawalCredited {
        number: 2,
        to: bob_l1,
        amount: 30
    }));
    assert_eq!(r.withdrawable(bob_l1).unwrap(), wei(30));
    let acc = r.claim(bob_l1).unwrap();
    assert_eq!(
        acc.events,
        vec![RollupEvent::Claimed {
            to: bob_l1,
            wei: wei(30)
        }]
    );
    assert_eq!(r.chain.balance(bob_l1), wei(30));
    assert_eq!(r.withdrawable(bob_l1).unwrap(), U256::ZERO);
    assert_eq!(refusal(r.claim(bob_l1)), EvmRejection::NothingToClaim);
    assert_eq!(r.chain.balance(bob_l1), wei(30));
    assert_eq!(r.chain.balance(r.deployment.rollup), wei(120));

    // The events alone rebuild the L2 state: replay every accepted batch's public data.
    let mut state = State::genesis(params(), &g);
    assert_eq!(field_word(&state.root()), genesis_root);
    let mut deposits_seen = 0;
    for e in &r.events {
        if let RollupEvent::BatchAccepted {
            old_root,
            new_root,
            first_request,
            request_count,
            public_data,
            ..
        } = e
        {
            assert_eq!(field_word(&state.root()), *old_root);
            assert_eq!(*first_request, deposits_seen);
            deposits_seen += request_count;
            let slots = zkr_circuits::tx::decode_public_data(public_data).unwrap();
            state = state.replay(&slots).unwrap();
            assert_eq!(field_word(&state.root()), *new_root);
        }
    }
    assert_eq!(field_word(&state.root()), r.state_root().unwrap());
    assert_eq!(state.root(), outs[2].state.root());
}

#[test]
fn every_forged_batch_is_refused_and_nothing_changes() {
    let mut r = deploy();
    evm_deposit(&mut r, Address::new([0xa1; 20]), &alice(), 100);
    evm_deposit(&mut r, Address::new([0xb0; 20]), &bob(), 50);
    let outs = three_batches(&genesis(&mut r));
    let sub1 = submission(1, &outs[0]);

    let check = |r: &mut EvmRollup, s: &EvmSubmission, expect: &dyn Fn(&EvmRejection) -> bool| {
        let before = r.snapshot().unwrap();
        let events = r.events.len();
        let err = refusal(r.submit_batch(s));
        assert!(expect(&err), "unexpected refusal: {err}");
        assert_eq!(r.snapshot().unwrap(), before, "state changed after {err}");
        assert_eq!(r.events.len(), events);
    };
    let honest = evm(&sub1);

    let mut s = honest.clone();
    s.number = 2;
    check(&mut r, &s, &|e| {
        *e == EvmRejection::OutOfOrder {
            expected: 1,
            got: 2,
        }
    });
    let mut s = honest.clone();
    s.new_root = U256::from_str_radix(R, 10).unwrap();
    check(&mut r, &s, &|e| {
        *e == EvmRejection::NonCanonicalInput { field: 1 }
    });
    let mut s = honest.clone();
    s.old_root += U256::from_str_radix(R, 10).unwrap();
    check(&mut r, &s, &|e| {
        *e == EvmRejection::NonCanonicalInput { field: 0 }
    });
    let mut s = honest.clone();
    s.old_root = U256::from(123u64);
    check(&mut r, &s, &|e| {
        matches!(e, EvmRejection::WrongOldRoot { .. })
    });
    // Public data: truncated, a bad type code, a non-canonical slot, a non-canonical field.
    let mut s = honest.clone();
    s.public_data.truncate(100);
    check(&mut r, &s, &|e| {
        matches!(e, EvmRejection::MalformedPublicData { reason: 0, .. })
    });
    let mut s = honest.clone();
    s.public_data[SLOT_BYTES] = 9;
    check(&mut r, &s, &|e| {
        *e == EvmRejection::MalformedPublicData { slot: 1, reason: 1 }
    });
    let mut s = honest.clone();
    s.public_data[1] = 1; // a deposit with a sender
    check(&mut r, &s, &|e| {
        *e == EvmRejection::MalformedPublicData { slot: 0, reason: 3 }
    });
    let mut s = honest.clone();
    s.public_data[25..57].copy_from_slice(&[0xff; 32]); // aux_x >= r
    check(&mut r, &s, &|e| {
        *e == EvmRejection::MalformedPublicData { slot: 0, reason: 2 }
    });
    // Deposits out of queue order, and a tampered deposit amount.
    let mut s = honest.clone();
    let (a, b) = s.public_data.split_at(SLOT_BYTES);
    s.public_data = [b, a].concat();
    check(&mut r, &s, &|e| {
        *e == EvmRejection::QueueMismatch { index: 0 }
    });
    let mut s = honest.clone();
    s.public_data[SLOT_BYTES + 9] ^= 1;
    check(&mut r, &s, &|e| {
        *e == EvmRejection::QueueMismatch { index: 1 }
    });
    // Proof points: off the curve, a coordinate >= q, swapped, B from another proof.
    let mut s = honest.clone();
    s.pa[0] = U256::from(1u64);
    check(&mut r, &s, &|e| *e == EvmRejection::MalformedProof);
    let mut s = honest.clone();
    s.pc[1] = U256::from_str_radix(Q, 10).unwrap();
    check(&mut r, &s, &|e| *e == EvmRejection::MalformedProof);
    let mut s = honest.clone();
    s.pb[0][0] += U256::from_str_radix(Q, 10).unwrap();
    check(&mut r, &s, &|e| *e == EvmRejection::MalformedProof);
    // B on the twist but outside G2's prime-order subgroup: the Rust L1 calls it malformed, the
    // pairing precompile refuses it (so the contract says BadProof: the documented difference).
    let b = non_subgroup_g2();
    let mut rust_sub = sub1.clone();
    rust_sub.proof.pi_b = zkr_verifier::snarkjs::g2_to_json(&b);
    assert!(matches!(
        rust_sub.proof.to_proof(),
        Err(zkr_verifier::snarkjs::FormatError::NotInSubgroup(_))
    ));
    let mut s = honest.clone();
    s.pb = zkr_verifier::solidity::g2_words(&b).map(|c| c.map(|v| field_word(&v)));
    check(&mut r, &s, &|e| *e == EvmRejection::BadProof);
    let mut s = honest.clone();
    std::mem::swap(&mut s.pa, &mut s.pc);
    check(&mut r, &s, &|e| *e == EvmRejection::BadProof);
    let other = evm(&submission(1, &outs[0])); // a second, different proof of the same batch
    assert_ne!(other.pa, honest.pa);
    let mut s = honest.clone();
    s.pb = other.pb;
    check(&mut r, &s, &|e| *e == EvmRejection::BadProof);
    // A valid proof of another transition: claim another new root, or another batch's proof.
    let mut s = honest.clone();
    s.new_root = U256::from(42u64);
    check(&mut r, &s, &|e| *e == EvmRejection::BadProof);
    let alone = State::genesis(params(), &genesis(&mut r))
        .apply_batch(
            &[Tx::Deposit(Deposit {
                pubkey: alice().public_key(),
                amount: 100,
                from: ALICE_L1,
            })],
            &queue_of(&mut r),
        )
        .unwrap();
    let mut s = evm(&submission(1, &alone));
    (s.new_root, s.public_data) = (honest.new_root, honest.public_data.clone());
    check(&mut r, &s, &|e| *e == EvmRejection::BadProof);
    // Truncated calldata: the ABI decoder reverts with no rollup error.
    let mut data = honest.calldata();
    data.truncate(data.len() - 40);
    let before = r.snapshot().unwrap();
    assert!(matches!(
        refusal(r.submit_calldata(data)),
        EvmRejection::Other(_)
    ));
    let mut data = honest.calldata();
    data.truncate(4 + 32 * 5);
    assert!(matches!(
        refusal(r.submit_calldata(data)),
        EvmRejection::Other(_)
    ));
    assert_eq!(r.snapshot().unwrap(), before);

    // The honest batch is accepted; then its replay is refused.
    r.submit_batch(&honest).unwrap();
    check(&mut r, &honest, &|e| {
        *e == EvmRejection::Replayed {
            expected: 2,
            got: 1,
        }
    });
    // Batch 2 claims a deposit the queue does not hold.
    let sub2 = evm(&submission(2, &outs[1]));
    let mut s = sub2.clone();
    s.public_data[..SLOT_BYTES].copy_from_slice(&honest.public_data[..SLOT_BYTES]);
    check(&mut r, &s, &|e| {
        *e == EvmRejection::QueueMismatch { index: u64::MAX }
    });
    r.submit_batch(&sub2).unwrap();
}

/// `[x, y, hint.x, hint.y]` for a point, with the hint computed as for a real key.
fn key_words(x: Fr, y: Fr) -> [U256; 4] {
    let (hx, hy) = deposit_hint(&EdwardsAffine::new_unchecked(x, y));
    [x, y, hx, hy].map(|v| field_word(&v))
}

#[test]
fn deposits_take_positive_whole_gwei_and_subgroup_keys_only() {
    let mut r = deploy();
    let from = Address::new([0xa1; 20]);
    r.chain.fund(from, U256::from(10u64).pow(U256::from(30u64)));
    let pk = alice().public_key();
    let before = r.snapshot().unwrap();
    for value in [
        U256::ZERO,
        U256::from(1u64),
        wei(1) + U256::from(1u64),
        U256::from(u64::MAX) * wei(1) + wei(1),
    ] {
        assert_eq!(
            refusal(r.deposit(from, &pk, value)),
            EvmRejection::BadDepositAmount(value)
        );
    }
    let r_word = U256::from_str_radix(R, 10).unwrap();
    let good = key_words(pk.x(), pk.y());
    let mut bad: Vec<(&str, [U256; 4])> = vec![
        ("off the curve", key_words(Fr::from(1u64), Fr::from(2u64))),
        ("the identity", key_words(Fr::from(0u64), Fr::from(1u64))),
        // On the curve, but plus the point (0, -1) of order 2: outside the subgroup.
        ("outside the subgroup", key_words(-pk.x(), -pk.y())),
        ("hint of another key", {
            let mut w = good;
            w[2..].copy_from_slice(&key_words(bob().public_key().x(), bob().public_key().y())[2..]);
            w
        }),
        (
            "the key as its own hint",
            [good[0], good[1], good[0], good[1]],
        ),
    ];
    let mut w = good;
    w[0] += r_word;
    bad.push(("non-canonical x", w));
    let mut w = good;
    w[3] += r_word;
    bad.push(("non-canonical hint", w));
    for (label, words) in &bad {
        assert_eq!(
            refusal(r.deposit_raw(from, *words, wei(5))),
            EvmRejection::InvalidPublicKey,
            "{label}"
        );
    }
    // The Rust side refuses the same keys.
    for (label, words) in &bad[..3] {
        let (x, y) = (
            fr_from_word(words[0]).unwrap(),
            fr_from_word(words[1]).unwrap(),
        );
        assert!(PublicKey::from_coordinates(x, y).is_err(), "{label}");
    }
    assert_eq!(r.snapshot().unwrap(), before);

    let acc = r.deposit(from, &pk, wei(u64::MAX)).unwrap();
    println!(
        "gas deposit: {} paid ({} execution)",
        acc.outcome.gas_used, acc.outcome.execution_gas
    );
    assert_eq!(
        acc.events,
        vec![RollupEvent::DepositQueued {
            id: 0,
            from,
            pk_x: good[0],
            pk_y: good[1],
            amount: u64::MAX
        }]
    );
    assert_eq!(r.chain.balance(r.deployment.rollup), wei(u64::MAX));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    /// The contract's subgroup test agrees with zkr's on random keys and their order-2 shifts.
    #[test]
    fn the_key_check_agrees_with_zkrs(seed in any::<[u8; 32]>()) {
        let mut r = deploy();
        let from = Address::new([0xa1; 20]);
        r.chain.fund(from, wei(10));
        let pk = zkr_circuits::eddsa::SecretKey::from_seed(seed).public_key();
        prop_assert!(r.deposit(from, &pk, wei(1)).is_ok());
        prop_assert!(PublicKey::from_coordinates(-pk.x(), -pk.y()).is_err());
        prop_assert_eq!(
            refusal(r.deposit_raw(from, key_words(-pk.x(), -pk.y()), wei(1))),
            EvmRejection::InvalidPublicKey
        );
    }
}

#[test]
fn both_l1s_give_the_same_verdicts_and_roots_on_the_same_sequence() {
    let mut r = deploy();
    let mut rust = L1Contract::new(params(), keys().vk().clone(), genesis(&mut r));
    for (l1, who, key, amount) in [
        (ALICE_L1, 0xa1u8, alice(), 100u64),
        (BOB_L1, 0xb0, bob(), 50),
    ] {
        rust.mint(l1, 1000).unwrap();
        rust.deposit(l1, key.public_key(), amount).unwrap();
        evm_deposit(&mut r, Address::new([who; 20]), &key, amount);
    }
    let outs = three_batches(&genesis(&mut r));

    // Forgeries of an honest submission, each a class the Rust L1 refuses.
    type Forge = (&'static str, fn(&mut BatchSubmission));
    let forgeries: [Forge; 14] = [
        ("number + 1", |s| s.number += 1),
        ("number - 1", |s| s.number -= 1),
        ("wrong old root", |s| s.old_root = "123".into()),
        ("old root >= r", |s| s.old_root = R.into()),
        ("new root >= r", |s| s.new_root = R.into()),
        ("another new root", |s| s.new_root = "42".into()),
        ("public data one slot short", |s| {
            s.public_data.truncate(s.public_data.len() - 178)
        }),
        ("bad type code", |s| s.public_data.replace_range(0..2, "09")),
        ("tampered amount", |s| {
            let b = u8::from_str_radix(&s.public_data[18..20], 16).unwrap() ^ 1;
            s.public_data.replace_range(18..20, &format!("{b:02x}"));
        }),
        ("slots swapped", |s| {
            let (a, b) = s.public_data.split_at(178);
            s.public_data = format!("{b}{a}");
        }),
        ("A off the curve", |s| s.proof.pi_a[0] = "1".into()),
        ("C.y = q", |s| s.proof.pi_c[1] = Q.into()),
        ("A and C swapped", |s| {
            std::mem::swap(&mut s.proof.pi_a, &mut s.proof.pi_c)
        }),
        ("B negated", |s| {
            let neg = |v: &str| {
                let q = num_bigint::BigUint::parse_bytes(Q.as_bytes(), 10).unwrap();
                let v = num_bigint::BigUint::parse_bytes(v.as_bytes(), 10).unwrap();
                ((&q - &v) % &q).to_string()
            };
            for c in 0..2 {
                s.proof.pi_b[1][c] = neg(&s.proof.pi_b[1][c]);
            }
        }),
    ];

    let mut refused = 0;
    let mut compare =
        |rust: &mut L1Contract, r: &mut EvmRollup, label: &str, s: &BatchSubmission| {
            let rv = rust.submit_batch(s);
            let ev = r.submit_batch(&evm(s));
            match (&rv, &ev) {
                (Ok(_), Ok(_)) => {}
                (Err(a), Err(EvmL1Error::Rejected(b))) => {
                    assert_eq!(rejection_kind(a), b.kind(), "{label}: {a} vs {b}");
                    refused += 1;
                }
                _ => panic!("{label}: the L1s disagree: rust {rv:?}, evm {ev:?}"),
            }
            assert_eq!(
                field_word(&rust.state_root()),
                r.state_root().unwrap(),
                "{label}: roots differ"
            );
            assert_eq!(rust.state().batches.len() as u64, r.batch_count().unwrap());
            assert_eq!(
                rust.state().queue.len() as u64,
                r.pending_requests().unwrap()
            );
            rv.is_ok()
        };

    for (i, out) in outs.iter().enumerate() {
        let honest = submission(i as u64 + 1, out);
        for (label, forge) in &forgeries {
            let mut s = honest.clone();
            forge(&mut s);
            assert!(
                !compare(&mut rust, &mut r, label, &s),
                "{label} was accepted"
            );
        }
        // A valid proof of another batch, with this batch's claims.
        if i > 0 {
            let mut s = submission(i as u64, &outs[i - 1]);
            s.number = honest.number;
            (s.old_root, s.new_root, s.public_data) = (
                honest.old_root.clone(),
                honest.new_root.clone(),
                honest.public_data.clone(),
            );
            assert!(!compare(&mut rust, &mut r, "another batch's proof", &s));
        }
        assert!(compare(&mut rust, &mut r, "honest", &honest));
        assert!(!compare(&mut rust, &mut r, "replay", &honest));
    }
    assert!(refused >= 3 * 15);
    assert_eq!(
        U256::from(rust.balance(&BOB_L1) + 50 - 1000) * wei(1),
        r.withdrawable(evm_address(&BOB_L1)).unwrap(),
        "both credited bob's withdrawal"
    );
}

#[test]
fn a_batch_signed_for_another_deployment_is_refused() {
    let mut r = deploy();
    let here = genesis(&mut r);
    evm_deposit(&mut r, Address::new([0xa1; 20]), &alice(), 100);
    evm_deposit(&mut r, Address::new([0xb0; 20]), &bob(), 50);
    // The same keys, operator and transactions, signed and proven for another chain id: the
    // roots are the same (the chain id is not in the tree), the aux chain is not.
    let other = zkr_circuits::Genesis {
        chain_id: here.chain_id ^ 1,
        ..here
    };
    let theirs = three_batches(&other);
    let ours = three_batches(&here);
    assert_eq!(theirs[0].public.new_root, ours[0].public.new_root);
    let before = r.snapshot().unwrap();
    let s = EvmSubmission::from_submission(&submission(1, &theirs[0])).unwrap();
    match r.submit_batch(&s) {
        Err(EvmL1Error::Rejected(EvmRejection::BadProof)) => {}
        other => panic!("expected BadProof, got {other:?}"),
    }
    assert_eq!(r.snapshot().unwrap(), before, "nothing changed");
    let s = EvmSubmission::from_submission(&submission(1, &ours[0])).unwrap();
    r.submit_batch(&s).unwrap();
}

/// Users leave without the operator: `requestFullExit` queues a request that batches consume
/// in order; the owner (whose deposit opened the account) is credited its whole balance, a
/// stranger's request pays nothing, a batch taking them out of order is refused, and an index
/// outside the tree cannot be queued.
#[test]
fn full_exits_pay_owners_and_only_owners() {
    let mut r = deploy();
    let g = genesis(&mut r);
    evm_deposit(&mut r, evm_address(&ALICE_L1), &alice(), 100);
    evm_deposit(&mut r, evm_address(&BOB_L1), &bob(), 50);
    let outs = three_batches(&g);
    r.submit_batch(&evm(&submission(1, &outs[0]))).unwrap();

    let mallory = Address::new([0x66; 20]);
    r.chain.fund(mallory, wei(1));
    assert_eq!(
        refusal(r.request_full_exit(mallory, 16)),
        EvmRejection::NoSuchAccount(16),
        "the tree holds 16 accounts"
    );
    let acc = r.request_full_exit(evm_address(&BOB_L1), 1).unwrap();
    assert!(acc.events.contains(&RollupEvent::FullExitQueued {
        id: 2,
        requester: evm_address(&BOB_L1),
        account: 1,
    }));
    r.request_full_exit(mallory, 1).unwrap();
    let queue = queue_of(&mut r);
    assert_eq!(
        queue,
        [
            PriorityOp::FullExit(FullExit {
                account: 1,
                requester: BOB_L1,
            }),
            PriorityOp::FullExit(FullExit {
                account: 1,
                requester: zkr_circuits::tx::L1Address(mallory.into_array()),
            }),
        ]
    );
    assert_eq!(r.pending_requests().unwrap(), 2);

    // Out of order: refused, nothing changes.
    let state = &outs[0].state;
    let swapped = state
        .apply_batch(&[queue[1].tx(), queue[0].tx()], &[queue[1], queue[0]])
        .unwrap();
    let before = r.snapshot().unwrap();
    assert_eq!(
        refusal(r.submit_batch(&evm(&submission(2, &swapped)))),
        EvmRejection::QueueMismatch { index: 0 }
    );
    assert_eq!(r.snapshot().unwrap(), before);

    // In order: bob is credited his 50 units, mallory nothing; bob claims them.
    let out = state
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    let acc = r.submit_batch(&evm(&submission(2, &out))).unwrap();
    assert!(acc.events.contains(&RollupEvent::WithdrawalCredited {
        number: 2,
        to: evm_address(&BOB_L1),
        amount: 50,
    }));
    assert_eq!(r.withdrawable(evm_address(&BOB_L1)).unwrap(), wei(50));
    assert_eq!(r.withdrawable(mallory).unwrap(), U256::ZERO);
    assert_eq!(r.pending_requests().unwrap(), 0);
    assert_eq!(r.state_root().unwrap(), field_word(&out.state.root()));
    let bob_before = r.chain.balance(evm_address(&BOB_L1));
    r.claim(evm_address(&BOB_L1)).unwrap();
    assert!(r.chain.balance(evm_address(&BOB_L1)) > bob_before);

    // The Rust L1 reads the same requests back from the events.
    let batches = zkr_l1_evm::settle::accepted_batches(&r.events, 2).unwrap();
    assert_eq!(batches[0].requests.len(), 2);
    assert_eq!(batches[0].withdrawals, vec![(BOB_L1, 50)]);
}

/// The exodus tests' circuit: depth 8, so a withdrawal's path has two 8-ary levels
/// (`PoseidonT9`) and one 4-ary level (`PoseidonT5`) — the tests' key (depth 4) has only 4-ary
/// levels.
fn exodus_params() -> zkr_circuits::CircuitParams {
    zkr_circuits::CircuitParams::new(8, 2).unwrap()
}

fn exodus_keys() -> &'static zkr_prover::keys::KeySet {
    static K: std::sync::OnceLock<zkr_prover::keys::KeySet> = std::sync::OnceLock::new();
    K.get_or_init(|| zkr_prover::keys::KeySet::generate(exodus_params(), Some(8)).unwrap())
}

fn exodus_submission(number: u64, out: &zkr_circuits::state::BatchOutput) -> EvmSubmission {
    let mut rng = zkr_prover::keys::OsRng;
    let (proof, _, _) = zkr_prover::prove(exodus_keys(), &out.witness, &mut rng).unwrap();
    evm(&BatchSubmission::new(
        number,
        out.public.old_root,
        out.public.new_root,
        &out.public_data,
        &proof,
    ))
}

/// Exodus mode on the EVM contract (issue 11, part 2): the operator censors a full exit (it
/// keeps proving batches that skip it) and then stops; once the request is overdue anyone
/// switches the contract to exodus mode; no batch, deposit or request is accepted any more;
/// queued deposits are refunded; each owner withdraws its balance once with a Merkle path under
/// the last verified root; every forged withdrawal is refused with nothing changed; and in the
/// end every wei deposited has been paid out, none more.
#[test]
fn an_operator_that_censors_then_stops_leaves_its_users_an_exodus() {
    let params = exodus_params();
    let mut r =
        EvmRollup::deploy_for_key(params, exodus_keys().vk(), &alice().public_key()).unwrap();
    let g = genesis(&mut r);
    let deadline = zkr_l1_evm::rollup::DEFAULT_PRIORITY_DEADLINE_S;
    assert_eq!(
        r.view_word("priorityDeadline()", &[]).unwrap(),
        U256::from(deadline)
    );
    let (alice_l1, bob_l1) = (evm_address(&ALICE_L1), evm_address(&BOB_L1));
    evm_deposit(&mut r, alice_l1, &alice(), 100);
    evm_deposit(&mut r, bob_l1, &bob(), 50);
    let queue = queue_of(&mut r);
    let out1 = State::genesis(params, &g)
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    r.submit_batch(&exodus_submission(1, &out1)).unwrap();
    let bob_index = out1.state.index_of(&bob().public_key()).unwrap();

    // Bob asks for a full exit and carol deposits; the operator proves a batch that skips both
    // (a transfer only), then stops. Too early for exodus: refused, nothing changes.
    r.request_full_exit(bob_l1, bob_index).unwrap();
    let carol = Address::new([0xca; 20]);
    evm_deposit(&mut r, carol, &SecretKey::from_seed([3; 32]), 20);
    let t = zkr_circuits::tx::Transfer::signed(&alice(), g.chain_id, 0, bob_index, 10, 2, 0);
    let out2 = out1.state.apply_batch(&[Tx::Transfer(t)], &[]).unwrap();
    r.submit_batch(&exodus_submission(2, &out2)).unwrap();
    let state = out2.state.clone();
    assert_eq!(r.state_root().unwrap(), field_word(&state.root()));
    let due = r.oldest_deadline().unwrap().unwrap();
    assert_eq!(due, r.chain.timestamp() + deadline);
    let before = r.snapshot().unwrap();
    r.chain.advance_time(deadline);
    assert_eq!(
        refusal(r.activate_exodus(carol)),
        EvmRejection::NotOverdue {
            time: U256::from(due),
            due: U256::from(due)
        }
    );
    let bob_account = *state.account(bob_index).unwrap();
    let path = |i: u64| state.proof(i).unwrap().siblings;
    assert_eq!(
        refusal(r.exodus_withdraw(carol, bob_index, &bob_account, &path(bob_index))),
        EvmRejection::ExodusNotActive
    );
    assert_eq!(
        refusal(r.refund_deposits(carol, 10)),
        EvmRejection::ExodusNotActive
    );
    assert_eq!(r.snapshot().unwrap(), before);
    assert!(!r.exodus().unwrap());

    // One second later anyone (carol) switches the contract to exodus mode.
    r.chain.advance_time(1);
    let acc = r.activate_exodus(carol).unwrap();
    assert_eq!(
        acc.events,
        [RollupEvent::ExodusActivated {
            overdue_request: 2,
            root: field_word(&state.root())
        }]
    );
    assert!(r.exodus().unwrap());
    assert_eq!(refusal(r.activate_exodus(carol)), EvmRejection::Exodus);
    let t = zkr_circuits::tx::Transfer::signed(&alice(), g.chain_id, 0, bob_index, 1, 0, 1);
    let out3 = state.apply_batch(&[Tx::Transfer(t)], &[]).unwrap();
    assert_eq!(
        refusal(r.submit_batch(&exodus_submission(3, &out3))),
        EvmRejection::Exodus
    );
    r.chain.fund(carol, wei(5));
    assert_eq!(
        refusal(r.deposit(carol, &bob().public_key(), wei(5))),
        EvmRejection::Exodus
    );
    assert_eq!(refusal(r.request_full_exit(carol, 0)), EvmRejection::Exodus);

    // The queue is refunded in chunks: bob's full exit is dropped, carol's deposit credited.
    assert_eq!(r.refund_deposits(carol, 1).unwrap().events, []);
    assert_eq!(
        r.refund_deposits(carol, 10).unwrap().events,
        [RollupEvent::DepositRefunded {
            id: 3,
            to: carol,
            amount: 20
        }]
    );
    assert_eq!(r.pending_requests().unwrap(), 0);
    assert_eq!(r.withdrawable(carol).unwrap(), wei(20));

    // Forged withdrawals: another account's leaf, a tampered balance, owner or nonce, a wrong
    // or short path, a sibling not below r, an empty index with made-up fields (the empty leaf
    // hashes to 0, whatever its fields say), an index outside the tree. Nothing changes.
    let alice_index = state.index_of(&alice().public_key()).unwrap();
    let alice_account = *state.account(alice_index).unwrap();
    let empty = (0..params.capacity())
        .find(|i| state.account(*i).is_none())
        .unwrap();
    let r_word = U256::from_str_radix(R, 10).unwrap();
    let before = r.snapshot().unwrap();
    let forged: Vec<(u64, zkr_circuits::account::Account, Vec<Vec<Fr>>)> = vec![
        (bob_index, alice_account, path(bob_index)),
        (alice_index, bob_account, path(bob_index)),
        (
            bob_index,
            zkr_circuits::account::Account {
                balance: bob_account.balance + 1,
                ..bob_account
            },
            path(bob_index),
        ),
        (
            bob_index,
            zkr_circuits::account::Account {
                owner: zkr_circuits::tx::L1Address([0x66; 20]),
                ..bob_account
            },
            path(bob_index),
        ),
        (
            bob_index,
            zkr_circuits::account::Account {
                nonce: bob_account.nonce + 1,
                ..bob_account
            },
            path(bob_index),
        ),
        (bob_index, bob_account, {
            let mut p = path(bob_index);
            p[1][3] += Fr::from(1u64);
            p
        }),
        (bob_index, bob_account, path(bob_index)[1..].to_vec()),
        (
            empty,
            zkr_circuits::account::Account {
                balance: 1_000,
                owner: zkr_circuits::tx::L1Address(carol.into_array()),
                ..bob_account
            },
            path(empty),
        ),
    ];
    for (index, account, siblings) in forged {
        assert_eq!(
            refusal(r.exodus_withdraw(carol, index, &account, &siblings)),
            EvmRejection::BadExitProof(index),
            "index {index}"
        );
    }
    // A sibling of r (not reduced to 0): refused.
    let mut words = bob_path_words(&path(bob_index));
    words[0] = r_word;
    assert_eq!(
        refusal(raw_exodus_withdraw(
            &mut r,
            carol,
            bob_index,
            &bob_account,
            &words
        )),
        EvmRejection::BadExitProof(bob_index)
    );
    // The empty leaf itself, key (0, 0), with a balance: refused.
    let mut zero_key = vec![
        U256::from(empty),
        U256::ZERO,
        U256::ZERO,
        U256::from(1_000u64),
        U256::ZERO,
        U256::from_be_slice(carol.as_slice()),
    ];
    zero_key.extend(dynamic_array(&bob_path_words(&path(empty))));
    let data = zkr_l1_evm::rollup::call_data(zkr_l1_evm::rollup::EXODUS_WITHDRAW, &zero_key);
    assert_eq!(
        refusal(r.send_raw(carol, data)),
        EvmRejection::BadExitProof(empty)
    );
    assert_eq!(
        refusal(r.exodus_withdraw(carol, params.capacity(), &bob_account, &path(bob_index))),
        EvmRejection::NoSuchAccount(params.capacity())
    );
    assert_eq!(r.snapshot().unwrap(), before);
    assert_eq!(r.withdrawable(bob_l1).unwrap(), U256::ZERO);

    // Bob's own withdrawal, presented by carol: bob is credited his balance, once.
    let acc = r
        .exodus_withdraw(carol, bob_index, &bob_account, &path(bob_index))
        .unwrap();
    report_gas("exodusWithdraw (depth 8)", &acc.outcome, 1);
    assert_eq!(
        acc.events,
        [RollupEvent::ExodusWithdrawal {
            account: bob_index,
            owner: bob_l1,
            amount: bob_account.balance
        }]
    );
    assert_eq!(
        refusal(r.exodus_withdraw(carol, bob_index, &bob_account, &path(bob_index))),
        EvmRejection::AlreadyExited(bob_index)
    );
    // Everyone else withdraws too; then everybody claims. Every wei deposited (alice 100, bob
    // 50, carol 20) went out again: the contract holds nothing.
    for (index, account) in state.accounts() {
        if *index != bob_index {
            r.exodus_withdraw(carol, *index, account, &path(*index))
                .unwrap();
        }
    }
    let owners: std::collections::BTreeSet<Address> = state
        .accounts()
        .values()
        .map(|a| evm_address(&a.owner))
        .chain([carol])
        .collect();
    let mut paid = U256::ZERO;
    for who in owners {
        let owed = r.withdrawable(who).unwrap();
        if owed > U256::ZERO {
            let before = r.chain.balance(who);
            r.claim(who).unwrap();
            paid += r.chain.balance(who) - before;
        }
    }
    assert_eq!(paid, wei(170));
    assert_eq!(r.chain.balance(r.deployment.rollup), U256::ZERO);
}

fn bob_path_words(siblings: &[Vec<Fr>]) -> Vec<U256> {
    siblings.iter().flatten().map(field_word).collect()
}

/// The ABI tail of a `uint256[]` that is the last of seven arguments: offset, length, elements.
fn dynamic_array(words: &[U256]) -> Vec<U256> {
    let mut out = vec![U256::from(7 * 32), U256::from(words.len())];
    out.extend_from_slice(words);
    out
}

fn raw_exodus_withdraw(
    r: &mut EvmRollup,
    from: Address,
    index: u64,
    account: &zkr_circuits::account::Account,
    siblings: &[U256],
) -> Result<zkr_l1_evm::Accepted, EvmL1Error> {
    r.send_raw(
        from,
        zkr_l1_evm::rollup::exodus_withdraw_call(index, account, siblings),
    )
}

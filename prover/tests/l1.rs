//! The L1 contract's acceptance rule, end to end with real proofs: every rejection class leaves
//! the L1 state byte-for-byte unchanged, and a restart keeps the accepted state.

use std::sync::OnceLock;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::tx::{L1Address, Transfer, Tx, Withdraw, SLOT_BYTES};
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{KeySet, OsRng};
use zkr_prover::prove;
use zkr_verifier::{BatchSubmission, DepositError, L1Contract, Rejection};

fn params() -> CircuitParams {
    CircuitParams::new(4, 2).unwrap()
}

fn keys() -> &'static KeySet {
    static K: OnceLock<KeySet> = OnceLock::new();
    K.get_or_init(|| KeySet::generate(params(), Some(11)).unwrap())
}

fn alice() -> SecretKey {
    SecretKey::from_seed([1; 32])
}
fn bob() -> SecretKey {
    SecretKey::from_seed([2; 32])
}
const ALICE_L1: L1Address = L1Address([0xa1; 20]);
const BOB_L1: L1Address = L1Address([0xb0; 20]);

fn submission(number: u64, out: &BatchOutput) -> BatchSubmission {
    let (proof, _, _) = prove(keys(), &out.witness, &mut OsRng).unwrap();
    BatchSubmission::new(
        number,
        out.public.old_root,
        out.public.new_root,
        &out.public_data,
        &proof,
    )
}

/// An L1 with two queued deposits, and the first batch (consuming them) proven.
fn setup(path: &std::path::Path) -> (L1Contract, BatchOutput, BatchSubmission) {
    // Alice runs the rollup: account 0 is hers from genesis.
    let mut l1 = L1Contract::open(
        path,
        params(),
        keys().vk().clone(),
        Some((alice().public_key(), ALICE_L1)),
    )
    .unwrap();
    l1.mint(ALICE_L1, 1000).unwrap();
    l1.mint(BOB_L1, 1000).unwrap();
    l1.deposit(ALICE_L1, alice().public_key(), 100).unwrap();
    l1.deposit(BOB_L1, bob().public_key(), 50).unwrap();
    let queue = l1.state().pending();
    let out = State::genesis(params(), l1.genesis())
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    let sub = submission(1, &out);
    (l1, out, sub)
}

#[test]
fn accepts_valid_batches_credits_withdrawals_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l1.json");
    let (mut l1, out1, sub1) = setup(&path);
    assert_eq!(l1.balance(&ALICE_L1), 900);
    let r = l1.submit_batch(&sub1).unwrap();
    assert_eq!(r.requests_consumed, 2);
    assert!(l1.state().queue.is_empty());
    assert_eq!(l1.state_root(), out1.state.root());

    // Batch 2: a transfer and a withdrawal to an L1 address.
    let s = &out1.state;
    let chain = l1.genesis().chain_id;
    let t = Transfer::signed(&alice(), chain, 0, 1, 10, 2, 0);
    let w = Withdraw::signed(&bob(), chain, 1, 30, 1, 0, BOB_L1);
    let out2 = s
        .apply_batch(&[Tx::Transfer(t), Tx::Withdraw(w)], &[])
        .unwrap();
    let r = l1.submit_batch(&submission(2, &out2)).unwrap();
    assert_eq!(r.withdrawals, vec![(BOB_L1, 30)]);
    assert_eq!(l1.balance(&BOB_L1), 950 + 30);
    assert_eq!(l1.state_root(), out2.state.root());

    // Restart: the accepted state is back, byte for byte.
    let before = std::fs::read(&path).unwrap();
    drop(l1);
    let l1 = L1Contract::open(&path, params(), keys().vk().clone(), None).unwrap();
    assert_eq!(l1.state().batches.len(), 2);
    assert_eq!(l1.state_root(), out2.state.root());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // While it is open, nobody else opens it (not even this process).
    match L1Contract::open(&path, params(), keys().vk().clone(), None) {
        Err(zkr_verifier::L1Error::InUse { .. }) => {}
        other => panic!("expected InUse, got {:?}", other.err()),
    }
    drop(l1);
    // A different key refuses the stored state.
    let other = KeySet::generate(params(), Some(12)).unwrap();
    match L1Contract::open(&path, params(), other.vk().clone(), None) {
        Err(zkr_verifier::L1Error::KeyMismatch { .. }) => {}
        other => panic!("expected KeyMismatch, got {:?}", other.err()),
    }
    // Another operator than the one it was deployed with is refused.
    match L1Contract::open(
        &path,
        params(),
        keys().vk().clone(),
        Some((bob().public_key(), ALICE_L1)),
    ) {
        Err(zkr_verifier::L1Error::OperatorMismatch { .. }) => {}
        other => panic!("expected OperatorMismatch, got {:?}", other.err()),
    }
    // Closed, it opens again (with or without naming its operator).
    let vk = || keys().vk().clone();
    assert!(L1Contract::open(
        &path,
        params(),
        vk(),
        Some((alice().public_key(), ALICE_L1))
    )
    .is_ok());
    assert!(L1Contract::open(&path, params(), vk(), None).is_ok());
    // A new deployment needs its operator.
    match L1Contract::open(&dir.path().join("new.json"), params(), vk(), None) {
        Err(zkr_verifier::L1Error::NoOperator { .. }) => {}
        other => panic!("expected NoOperator, got {:?}", other.err()),
    }
}

/// Two deployments of the same circuit, with the same keys and operator, start at the same root
/// but draw different chain ids; a batch proven for one is refused by the other, and a batch
/// built from transfers signed for one is refused natively by the other's state.
#[test]
fn a_batch_of_one_deployment_is_refused_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let (mut here, out1, sub1) = setup(&dir.path().join("here.json"));
    let (mut there, _, _) = setup(&dir.path().join("there.json"));
    assert_ne!(here.genesis().chain_id, there.genesis().chain_id);
    assert_eq!(here.state_root(), there.state_root());
    let before = there.state().clone();
    assert_eq!(there.submit_batch(&sub1), Err(Rejection::BadProof));
    assert_eq!(there.state(), &before);
    here.submit_batch(&sub1).unwrap();

    // A transfer signed for `here` does not execute on `there`'s state.
    let t = Transfer::signed(&alice(), here.genesis().chain_id, 0, 1, 10, 2, 0);
    let there_state = State::from_snapshot(&zkr_circuits::state::StateSnapshot {
        chain_id: there.genesis().chain_id,
        ..out1.state.snapshot()
    })
    .unwrap();
    assert!(matches!(
        there_state.apply_batch(&[Tx::Transfer(t)], &[]),
        Err(zkr_circuits::state::TransitionError::BadSignature { .. })
    ));
    assert!(out1.state.apply_batch(&[Tx::Transfer(t)], &[]).is_ok());
}

#[test]
fn every_rejection_leaves_the_state_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l1.json");
    let (mut l1, out1, sub1) = setup(&path);

    let check =
        |l1: &mut L1Contract, sub: &BatchSubmission, expect: &dyn Fn(&Rejection) -> bool| {
            let file_before = std::fs::read(&path).unwrap();
            let state_before = l1.state().clone();
            let err = l1.submit_batch(sub).unwrap_err();
            assert!(expect(&err), "unexpected rejection: {err}");
            assert_eq!(l1.state(), &state_before);
            assert_eq!(std::fs::read(&path).unwrap(), file_before);
        };

    let p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    let mut s = sub1.clone();
    s.number = 2;
    check(&mut l1, &s, &|e| {
        matches!(
            e,
            Rejection::OutOfOrder {
                expected: 1,
                got: 2
            }
        )
    });
    let mut s = sub1.clone();
    s.new_root = p.into();
    check(&mut l1, &s, &|e| {
        matches!(
            e,
            Rejection::NonCanonicalInput {
                field: "new_root",
                ..
            }
        )
    });
    let mut s = sub1.clone();
    s.old_root = "123".into();
    check(&mut l1, &s, &|e| {
        matches!(e, Rejection::WrongOldRoot { .. })
    });
    let mut s = sub1.clone();
    s.public_data.truncate(20);
    check(&mut l1, &s, &|e| {
        matches!(e, Rejection::MalformedPublicData(_))
    });
    let mut s = sub1.clone();
    s.public_data = "zz".into();
    check(&mut l1, &s, &|e| {
        matches!(e, Rejection::MalformedPublicData(_))
    });
    // Deposits out of order: swap the two deposit slots.
    let mut s = sub1.clone();
    let (a, b) = s.public_data.split_at(2 * SLOT_BYTES);
    s.public_data = format!("{b}{a}");
    check(&mut l1, &s, &|e| matches!(e, Rejection::QueueMismatch(_)));
    // Off-curve and non-canonical proof points.
    let mut s = sub1.clone();
    s.proof.pi_a[0] = "1".into();
    check(&mut l1, &s, &|e| matches!(e, Rejection::MalformedProof(_)));
    let mut s = sub1.clone();
    s.proof.pi_c[1] =
        "21888242871839275222246405745257275088696311157297823662689037894645226208583".into();
    check(&mut l1, &s, &|e| matches!(e, Rejection::MalformedProof(_)));
    // A valid-looking proof for another transition: claim a different new root.
    let mut s = sub1.clone();
    s.new_root = "42".into();
    check(&mut l1, &s, &|e| matches!(e, Rejection::BadProof));
    // Swapped proof points.
    let mut s = sub1.clone();
    std::mem::swap(&mut s.proof.pi_a, &mut s.proof.pi_c);
    check(&mut l1, &s, &|e| matches!(e, Rejection::BadProof));

    // The honest submission is accepted; then a replay is refused.
    l1.submit_batch(&sub1).unwrap();
    check(&mut l1, &sub1, &|e| {
        matches!(
            e,
            Rejection::Replayed {
                expected: 2,
                got: 1
            }
        )
    });
    let _ = out1;
}

#[test]
fn deposits_need_l1_funds() {
    let genesis = zkr_circuits::Genesis {
        chain_id: 7,
        operator: alice().public_key(),
        operator_l1: ALICE_L1,
    };
    let mut l1 = L1Contract::new(params(), keys().vk().clone(), genesis);
    assert_eq!(
        l1.deposit(ALICE_L1, alice().public_key(), 0),
        Err(DepositError::ZeroAmount)
    );
    assert!(matches!(
        l1.deposit(ALICE_L1, alice().public_key(), 5),
        Err(DepositError::InsufficientL1Balance { .. })
    ));
    assert!(l1.state().queue.is_empty());
    // A full exit of an index outside the tree (16 accounts) could never be consumed.
    assert!(matches!(
        l1.request_full_exit(ALICE_L1, 16),
        Err(zkr_verifier::FullExitError::NoSuchAccount { account: 16, .. })
    ));
    assert!(l1.state().queue.is_empty());
}

/// Users leave without the operator: full exits queued on L1 are consumed in queue order; the
/// owner is paid its whole balance on L1, a stranger's request is consumed with nothing paid,
/// and a batch that takes the requests out of order is refused.
#[test]
fn full_exits_pay_owners_and_only_owners_and_cannot_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l1, out1, sub1) = setup(&dir.path().join("l1.json"));
    l1.submit_batch(&sub1).unwrap();
    let mallory = L1Address([0x66; 20]);
    // Bob (account 1, opened by BOB_L1's deposit) asks for his balance; mallory asks for it too.
    let bob_id = l1.request_full_exit(BOB_L1, 1).unwrap();
    let mallory_id = l1.request_full_exit(mallory, 1).unwrap();
    assert_eq!((bob_id, mallory_id), (2, 3));
    let queue = l1.state().pending();

    // The requests must be consumed in queue order: mallory's before bob's is refused.
    let before = l1.state().clone();
    let swapped = out1
        .state
        .apply_batch(&[queue[1].tx(), queue[0].tx()], &[queue[1], queue[0]])
        .unwrap();
    assert_eq!(
        l1.submit_batch(&submission(2, &swapped)),
        Err(Rejection::QueueMismatch(
            "request 0 of the batch is not queued request #2".into()
        ))
    );
    assert_eq!(l1.state(), &before);

    // The honest batch: bob is paid his whole 50, mallory's request changes nothing.
    let out2 = out1
        .state
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    assert_eq!(out2.withdrawals, vec![(BOB_L1, 50)]);
    let bob_before = l1.balance(&BOB_L1);
    let r = l1.submit_batch(&submission(2, &out2)).unwrap();
    assert_eq!(r.requests_consumed, 2);
    assert_eq!(r.withdrawals, vec![(BOB_L1, 50)]);
    assert_eq!(l1.balance(&BOB_L1), bob_before + 50);
    assert_eq!(l1.balance(&mallory), 0);
    assert!(l1.state().queue.is_empty());
    assert_eq!(out2.state.account(1).unwrap().balance, 0);
    assert_eq!(l1.state_root(), out2.state.root());
}

/// Exodus mode (issue 11, part 2, on the Rust L1): an operator that stops leaves a queued
/// request past its deadline; anyone then freezes the L1, queued deposits are refunded, and
/// every owner withdraws its balance once with a Merkle proof under the last verified root.
#[test]
fn exodus_after_an_overdue_request_pays_owners_once_and_refunds_queued_deposits() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l1, out1, sub1) = setup(&dir.path().join("l1.json"));
    l1.submit_batch(&sub1).unwrap();
    let state = out1.state.clone();
    // Bob asks for a full exit; carol deposits; the operator never proves again.
    l1.request_full_exit(BOB_L1, 1).unwrap();
    let carol = L1Address([0xca; 20]);
    l1.mint(carol, 40).unwrap();
    l1.deposit(carol, SecretKey::from_seed([3; 32]).public_key(), 40)
        .unwrap();
    assert_eq!(l1.balance(&carol), 0);

    // Too early: refused, nothing changes.
    let before = l1.state().clone();
    assert!(matches!(
        l1.activate_exodus(),
        Err(zkr_verifier::ExodusError::NotOverdue { .. })
    ));
    assert!(matches!(
        l1.exodus_withdraw(
            1,
            state.account(1).unwrap(),
            state.proof(1).unwrap().siblings
        ),
        Err(zkr_verifier::ExodusError::NotActive)
    ));
    assert_eq!(l1.state(), &before);

    // Past the deadline: anyone freezes the L1; carol's deposit comes back.
    l1.advance_clock(l1.state().priority_deadline_s + 1);
    l1.activate_exodus().unwrap();
    assert_eq!(l1.balance(&carol), 40);
    assert!(l1.state().queue.is_empty());
    assert_eq!(l1.submit_batch(&sub1), Err(Rejection::Exodus));
    assert!(matches!(
        l1.request_full_exit(BOB_L1, 1),
        Err(zkr_verifier::FullExitError::Exodus)
    ));

    // Another account's leaf, a wrong path, a tampered balance: refused.
    let bob = *state.account(1).unwrap();
    let path = |i| state.proof(i).unwrap().siblings;
    let before = l1.state().clone();
    for (index, account, siblings) in [
        (1, *state.account(0).unwrap(), path(1)),
        (0, bob, path(1)),
        (
            1,
            zkr_circuits::account::Account {
                balance: bob.balance + 1,
                ..bob
            },
            path(1),
        ),
        (1, bob, {
            let mut p = path(1);
            p[0][0] += zkr_circuits::Fr::from(1u64);
            p
        }),
        (1, bob, path(1)[1..].to_vec()),
    ] {
        assert_eq!(
            l1.exodus_withdraw(index, &account, siblings),
            Err(zkr_verifier::ExodusError::BadProof(index))
        );
    }
    assert_eq!(l1.state(), &before);

    // Bob withdraws his 50 to his L1 address, once; alice (account 0) her 100.
    let bob_before = l1.balance(&BOB_L1);
    assert_eq!(l1.exodus_withdraw(1, &bob, path(1)), Ok((BOB_L1, 50)));
    assert_eq!(l1.balance(&BOB_L1), bob_before + 50);
    assert_eq!(
        l1.exodus_withdraw(1, &bob, path(1)),
        Err(zkr_verifier::ExodusError::AlreadyExited(1))
    );
    let alice = *state.account(0).unwrap();
    assert_eq!(l1.exodus_withdraw(0, &alice, path(0)), Ok((ALICE_L1, 100)));
    // It survives a restart.
    let saved = l1.state().clone();
    drop(l1);
    let l1 = L1Contract::open(
        &dir.path().join("l1.json"),
        params(),
        keys().vk().clone(),
        None,
    )
    .unwrap();
    assert_eq!(l1.state(), &saved);
}

/// An operator that censors (issue 11, part 2): it keeps proving batches but never includes
/// bob's full exit. The L1 accepts those batches (a batch need not consume the queue), but the
/// deadline still runs: once it passes, anyone switches to exodus mode, and bob withdraws under
/// the root of the operator's last batch.
#[test]
fn an_operator_that_censors_a_full_exit_still_faces_exodus() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l1, out1, sub1) = setup(&dir.path().join("l1.json"));
    l1.submit_batch(&sub1).unwrap();
    l1.request_full_exit(BOB_L1, 1).unwrap();
    let c = l1.genesis().chain_id;
    let t = Transfer::signed(&alice(), c, 0, 1, 5, 1, 0);
    let out2 = out1.state.apply_batch(&[Tx::Transfer(t)], &[]).unwrap();
    l1.submit_batch(&submission(2, &out2)).unwrap();
    assert_eq!(l1.state().queue.len(), 1, "bob's request is still waiting");
    assert!(matches!(
        l1.activate_exodus(),
        Err(zkr_verifier::ExodusError::NotOverdue { .. })
    ));
    l1.advance_clock(l1.state().priority_deadline_s + 1);
    l1.activate_exodus().unwrap();
    let s = &out2.state;
    let bob = *s.account(1).unwrap();
    assert_eq!(bob.balance, 55, "50 deposited, 5 received from alice");
    let before = l1.balance(&BOB_L1);
    assert_eq!(
        l1.exodus_withdraw(1, &bob, s.proof(1).unwrap().siblings),
        Ok((BOB_L1, 55))
    );
    assert_eq!(l1.balance(&BOB_L1), before + 55);
}

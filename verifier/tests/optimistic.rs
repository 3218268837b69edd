//! The optimistic L1 (`zkr_verifier::optimistic`): an honest batch finalizes after its window
//! and only then pays its withdrawals; a batch with a wrong root, or with a transaction the
//! circuit would refuse, is found by the watcher's step-by-step check, challenged with a
//! one-step fraud proof and reverted with every batch after it (their requests back in the
//! queue, their bonds forfeited: half to the challenger); a false challenge, a challenge with a witness that is not
//! genuine and a challenge after the window are refused and change nothing; malformed posts are
//! refused.

use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::State;
use zkr_circuits::step::{find_fraud, StepIndex, StepWitness, Violation};
use zkr_circuits::tx::{
    encode_public_data, L1Address, PriorityOp, SlotData, Transfer, Tx, Withdraw,
};
use zkr_circuits::witness::SlotTx;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_verifier::optimistic::{
    ChallengeError, OptimisticConfig, OptimisticL1, OptimisticSubmission, PostError,
};
use zkr_verifier::Rejection;

const WINDOW: u64 = 60;
const BOND: u64 = 1_000;
const POSTER: L1Address = L1Address([0x0b; 20]);
const ALICE_L1: L1Address = L1Address([0xa1; 20]);
const BOB_L1: L1Address = L1Address([0xb0; 20]);
const WATCHER: L1Address = L1Address([0x77; 20]);

fn params() -> CircuitParams {
    CircuitParams::new(4, 2).unwrap()
}
fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}
fn genesis() -> Genesis {
    Genesis {
        chain_id: 42,
        operator: key(9).public_key(),
        operator_l1: POSTER,
    }
}

/// An optimistic L1 with alice's and bob's deposits queued, and the state before any batch.
fn setup() -> (OptimisticL1, State) {
    let mut l1 = OptimisticL1::new(
        params(),
        genesis(),
        OptimisticConfig {
            challenge_window_s: WINDOW,
            bond: BOND,
        },
    );
    l1.mint(POSTER, 10 * BOND).unwrap();
    for (who, k, amount) in [(ALICE_L1, 1, 100), (BOB_L1, 2, 50)] {
        l1.mint(who, amount).unwrap();
        l1.deposit(who, key(k).public_key(), amount).unwrap();
    }
    (l1, State::genesis(params(), &genesis()))
}

/// Batch 1: both deposits. Batch 2: alice pays bob 10 (fee 2), bob withdraws 30 (fee 1).
fn honest_batches(s0: &State, l1: &OptimisticL1) -> Vec<(State, OptimisticSubmission)> {
    honest_batches_for(s0, l1, genesis().chain_id)
}

fn honest_batches_for(s0: &State, l1: &OptimisticL1, c: u64) -> Vec<(State, OptimisticSubmission)> {
    let queue = l1.pending();
    let txs1: Vec<Tx> = queue.iter().map(PriorityOp::tx).collect();
    let out1 = s0.apply_batch(&txs1, &queue).unwrap();
    let a = out1.state.index_of(&key(1).public_key()).unwrap();
    let b = out1.state.index_of(&key(2).public_key()).unwrap();
    let txs2 = vec![
        Tx::Transfer(Transfer::signed(&key(1), c, a, b, 10, 2, 0)),
        Tx::Withdraw(Withdraw::signed(&key(2), c, b, 30, 1, 0, BOB_L1)),
    ];
    let out2 = out1.state.apply_batch(&txs2, &[]).unwrap();
    vec![
        (
            out1.state.clone(),
            OptimisticSubmission::from_batch(1, &out1, &txs1).unwrap(),
        ),
        (
            out2.state.clone(),
            OptimisticSubmission::from_batch(2, &out2, &txs2).unwrap(),
        ),
    ]
}

#[test]
fn an_honest_batch_finalizes_after_its_window_and_only_then_pays() {
    let (mut l1, s0) = setup();
    let batches = honest_batches(&s0, &l1);
    let genesis_root = l1.head_root();
    for (_, sub) in &batches {
        l1.post_batch(POSTER, sub).unwrap();
    }
    assert_eq!(l1.balance(&POSTER), 8 * BOND as u128, "two bonds locked");
    assert_eq!(l1.head_root(), batches[1].0.root());
    assert_eq!(l1.final_root(), genesis_root, "nothing final yet");
    assert_eq!(
        l1.balance(&BOB_L1),
        0,
        "the withdrawal waits for the window"
    );

    // A watcher replays each batch from the state before it and finds nothing to challenge;
    // a challenge of an honest step is refused.
    let mut state = s0.clone();
    for (b, (after, _)) in l1.batches().iter().zip(&batches) {
        assert_eq!(find_fraud(&state, &b.steps()).unwrap(), None);
        state = after.clone();
    }
    let before = l1.clone();
    let honest = {
        let b = &l1.batches()[1];
        let probe = batches[0].0.clone();
        // The honest witness of step 0, through a fraud search that pretends the posted root
        // was different.
        let mut roots = b.step_roots.clone();
        roots[0] = zkr_circuits::Fr::from(7u64);
        let posted = zkr_circuits::step::PostedSteps {
            step_roots: roots,
            ..b.steps()
        };
        find_fraud(&probe, &posted).unwrap().unwrap()
    };
    assert_eq!(
        l1.challenge(WATCHER, 2, honest.step, &honest.witness),
        Err(ChallengeError::NoFraud {
            number: 2,
            step: StepIndex::Slot(0)
        })
    );
    assert_eq!(l1.batches(), before.batches());

    // The window passes: both batches final, the withdrawal paid, the bonds back.
    l1.advance_clock(WINDOW + 1);
    assert_eq!(l1.finalize().unwrap(), vec![1, 2]);
    assert_eq!(l1.final_root(), batches[1].0.root());
    assert_eq!(l1.balance(&BOB_L1), 30);
    assert_eq!(l1.balance(&POSTER), 10 * BOND as u128);
    // Too late to challenge now.
    assert!(matches!(
        l1.challenge(WATCHER, 2, honest.step, &honest.witness),
        Err(ChallengeError::Final { number: 2, .. })
    ));
}

/// Posts `slots` as batch `number` from `state`, with the roots a dishonest operator computes
/// mechanically (no rule checked), and the given signatures.
fn dishonest(
    number: u64,
    state: &State,
    slots: Vec<SlotTx>,
    txs_sigs: Vec<Option<zkr_circuits::eddsa::Signature>>,
) -> OptimisticSubmission {
    let mut b = state.witness_builder();
    let old_root = b.root();
    let mut roots = Vec::new();
    let mut data = Vec::new();
    for s in slots {
        data.push(SlotData {
            tx_type: s.tx_type,
            from: s.from,
            to: s.to,
            amount: zkr_circuits::field::fr_to_decimal(&s.amount)
                .parse()
                .unwrap(),
            fee: zkr_circuits::field::fr_to_decimal(&s.fee).parse().unwrap(),
            aux_x: s.aux_x,
            aux_y: s.aux_y,
            requester: s.requester,
        });
        b.push(s).unwrap();
        roots.push(b.root());
    }
    let (w, _) = b.finish().unwrap();
    let mut sigs = txs_sigs;
    sigs.resize(data.len(), None);
    use zkr_circuits::field::fr_to_decimal;
    OptimisticSubmission {
        number,
        old_root: fr_to_decimal(&old_root),
        new_root: fr_to_decimal(&w.public.new_root),
        public_data: hex::encode(encode_public_data(&data)),
        signatures: sigs,
        step_roots: roots.iter().map(fr_to_decimal).collect(),
    }
}

#[test]
fn a_fraudulent_batch_is_found_challenged_and_reverted_with_everything_after_it() {
    let (mut l1, s0) = setup();
    let batches = honest_batches(&s0, &l1);
    l1.post_batch(POSTER, &batches[0].1).unwrap();
    let s1 = batches[0].0.clone();
    let c = genesis().chain_id;
    let a = s1.index_of(&key(1).public_key()).unwrap();
    let b = s1.index_of(&key(2).public_key()).unwrap();

    // Batch 2 consumes carol's deposit (honestly) and then moves 90 of alice's balance to bob
    // with a signature bob forged; its roots are what the builder computes, no rule checked.
    let carol = L1Address([0xca; 20]);
    l1.mint(carol, 5).unwrap();
    l1.deposit(carol, key(3).public_key(), 5).unwrap();
    let deposit = match l1.pending()[0] {
        PriorityOp::Deposit(d) => d,
        other => panic!("{other:?}"),
    };
    let forged = Transfer::signed(&key(2), c, a, b, 90, 0, 0);
    let index = s1.deposit_index(&deposit.pubkey, deposit.amount).unwrap();
    let bad = dishonest(
        2,
        &s1,
        vec![SlotTx::deposit(&deposit, index), SlotTx::transfer(&forged)],
        vec![None, Some(forged.signature)],
    );
    l1.post_batch(POSTER, &bad).unwrap();
    assert!(l1.pending().is_empty());
    // Batch 3 builds on it: two noops, no fee, so every root is batch 2's new root.
    let r = bad.new_root.clone();
    let third = OptimisticSubmission {
        number: 3,
        old_root: r.clone(),
        new_root: r.clone(),
        public_data: hex::encode(encode_public_data(&[SlotData::NOOP, SlotData::NOOP])),
        signatures: vec![None, None],
        step_roots: vec![r.clone(), r],
    };
    l1.post_batch(POSTER, &third).unwrap();
    assert_eq!(l1.batches().len(), 3);

    // The watcher checks batch 2 from its own state after batch 1: step 1 breaks rule 5.
    let fraud = find_fraud(&s1, &l1.batches()[1].steps()).unwrap().unwrap();
    assert_eq!(fraud.step, StepIndex::Slot(1));
    assert_eq!(fraud.violation, Some(Violation::BadSignature));

    // A witness that is not genuine, a witness of the wrong kind, a batch that does not exist,
    // a step it does not have: refused, nothing changes.
    let before = l1.clone();
    let mut fake = fraud.witness.clone();
    if let StepWitness::Slot(w) = &mut fake {
        w.sender.leaf.balance += zkr_circuits::Fr::from(1u64);
    }
    assert!(matches!(
        l1.challenge(WATCHER, 2, fraud.step, &fake),
        Err(ChallengeError::BadWitness(_))
    ));
    assert_eq!(
        l1.challenge(WATCHER, 2, StepIndex::Fees, &fraud.witness),
        Err(ChallengeError::WitnessKind(StepIndex::Fees))
    );
    assert_eq!(
        l1.challenge(WATCHER, 9, fraud.step, &fraud.witness),
        Err(ChallengeError::NoSuchBatch(9))
    );
    assert_eq!(
        l1.challenge(WATCHER, 2, StepIndex::Slot(5), &fraud.witness),
        Err(ChallengeError::NoSuchStep {
            number: 2,
            step: StepIndex::Slot(5)
        })
    );
    assert_eq!(l1.batches(), before.batches());
    assert_eq!(l1.balance(&WATCHER), 0);

    // The fraud proof: batches 2 and 3 reverted, carol's deposit back in the queue, both bonds
    // forfeited: half to the watcher, half burned.
    let poster_before = l1.balance(&POSTER);
    let proven = l1
        .challenge(WATCHER, 2, fraud.step, &fraud.witness)
        .unwrap();
    assert_eq!(proven.reverted, vec![2, 3]);
    assert_eq!(proven.violation, Some(Violation::BadSignature));
    assert_eq!(proven.reward, BOND as u128);
    assert_eq!(l1.balance(&WATCHER), BOND as u128);
    assert_eq!(l1.balance(&POSTER), poster_before);
    assert_eq!(l1.head_root(), s1.root());
    assert_eq!(l1.pending(), vec![PriorityOp::Deposit(deposit)]);
    assert_eq!(l1.frauds().len(), 1);

    // A wrong root alone (every transaction valid) is fraud too: the honest batch 2 with its
    // first step root replaced; the fraud proof shows the step ends elsewhere.
    let mut lying = batches[1].1.clone();
    lying.step_roots[0] = zkr_circuits::field::fr_to_decimal(&zkr_circuits::Fr::from(7u64));
    // (Carol's deposit waits in the queue; this batch consumes no request.)
    l1.post_batch(POSTER, &lying).unwrap();
    let fraud = find_fraud(&s1, &l1.batches()[1].steps()).unwrap().unwrap();
    assert_eq!(fraud.step, StepIndex::Slot(0));
    assert_eq!(fraud.violation, None);
    let proven = l1
        .challenge(WATCHER, 2, fraud.step, &fraud.witness)
        .unwrap();
    assert_eq!(proven.reverted, vec![2]);
    assert_eq!(l1.balance(&WATCHER), BOND as u128 + BOND as u128 / 2);

    // The operator posts batch 2 honestly; it finalizes after the window.
    l1.post_batch(POSTER, &batches[1].1).unwrap();
    assert_eq!(find_fraud(&s1, &l1.batches()[1].steps()).unwrap(), None);
    l1.advance_clock(WINDOW + 1);
    assert_eq!(l1.finalize().unwrap(), vec![1, 2]);
    assert_eq!(l1.final_root(), batches[1].0.root());
}

#[test]
fn malformed_posts_are_refused_and_change_nothing() {
    let (mut l1, s0) = setup();
    let batches = honest_batches(&s0, &l1);
    let good = &batches[0].1;
    let before = l1.clone();
    let mut wrong_count = good.clone();
    wrong_count.signatures.pop();
    let mut sig_on_deposit = good.clone();
    let t = Transfer::signed(&key(1), 42, 0, 0, 0, 0, 0);
    sig_on_deposit.signatures[0] = Some(t.signature);
    let mut few_roots = good.clone();
    few_roots.step_roots.pop();
    let mut non_canonical_root = good.clone();
    non_canonical_root.step_roots[0] =
        "21888242871839275222246405745257275088548364400416034343698204186575808495617".into();
    for (sub, what) in [
        (&wrong_count, "signature count"),
        (&sig_on_deposit, "a signature on a deposit"),
        (&few_roots, "one root short"),
    ] {
        assert!(
            matches!(l1.post_batch(POSTER, sub), Err(PostError::Malformed(_))),
            "{what}"
        );
    }
    // A transfer to an index outside the 16-account tree: no fraud proof could show it wrong,
    // so it is refused at posting.
    let mut outside = good.clone();
    let mut data = hex::decode(&good.public_data).unwrap();
    let to_outside = SlotData {
        tx_type: zkr_circuits::tx::TxType::Transfer,
        from: 1,
        to: 16,
        amount: 1,
        fee: 0,
        aux_x: Default::default(),
        aux_y: Default::default(),
        requester: Default::default(),
    };
    data[121..].copy_from_slice(&encode_public_data(&[to_outside]));
    outside.public_data = hex::encode(&data);
    outside.signatures[1] = Some(t.signature);
    match l1.post_batch(POSTER, &outside) {
        Err(PostError::Malformed(m)) => assert!(m.contains("outside the tree"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        l1.post_batch(POSTER, &non_canonical_root),
        Err(PostError::Rejected(Rejection::NonCanonicalInput { .. }))
    ));
    assert!(matches!(
        l1.post_batch(POSTER, &batches[1].1),
        Err(PostError::Rejected(Rejection::OutOfOrder { .. }))
    ));
    assert!(matches!(
        l1.post_batch(L1Address([0x99; 20]), good),
        Err(PostError::NoBond { .. })
    ));
    // Deposits in another order than queued.
    let q = l1.pending();
    let swapped = [q[1], q[0]];
    let txs: Vec<Tx> = swapped.iter().map(PriorityOp::tx).collect();
    let out = s0.apply_batch(&txs, &swapped).unwrap();
    let sub = OptimisticSubmission::from_batch(1, &out, &txs).unwrap();
    assert!(matches!(
        l1.post_batch(POSTER, &sub),
        Err(PostError::Rejected(Rejection::QueueMismatch(_)))
    ));
    assert_eq!(l1.batches(), before.batches());
    assert_eq!(l1.pending(), before.pending());
    assert_eq!(l1.balance(&POSTER), before.balance(&POSTER));
    // A batch's data: the public data, its signatures and its roots.
    assert_eq!(
        batches[1].1.data_bytes(),
        2 * 121 + 2 * 64 + 32 * (2 + 2),
        "two slots, two signatures, four roots"
    );
}

#[test]
fn the_optimistic_l1_persists_locks_and_refuses_other_deployments_or_damage() {
    use zkr_verifier::L1Error;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("optimistic.json");
    let config = OptimisticConfig {
        challenge_window_s: WINDOW,
        bond: BOND,
    };
    let op = Some((key(9).public_key(), POSTER));
    let mut l1 = OptimisticL1::open(&path, params(), op, config).unwrap();
    let g = *l1.genesis();
    assert_eq!((g.operator, g.operator_l1), (key(9).public_key(), POSTER));
    l1.mint(POSTER, 10 * BOND).unwrap();
    for (who, k, amount) in [(ALICE_L1, 1, 100), (BOB_L1, 2, 50)] {
        l1.mint(who, amount).unwrap();
        l1.deposit(who, key(k).public_key(), amount).unwrap();
    }
    let batches = honest_batches_for(&State::genesis(params(), &g), &l1, g.chain_id);
    l1.post_batch(POSTER, &batches[0].1).unwrap();
    // A second process (or handle) on the same file is refused while this one holds it.
    assert!(matches!(
        OptimisticL1::open(&path, params(), op, config),
        Err(L1Error::InUse { .. })
    ));
    // A refused post changes nothing on disk either.
    let on_disk = std::fs::read(&path).unwrap();
    assert!(l1.post_batch(POSTER, &batches[0].1).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), on_disk);
    let saved = l1.state().clone();
    drop(l1);
    let l1 = OptimisticL1::open(&path, params(), op, config).unwrap();
    assert_eq!(l1.state(), &saved);
    drop(l1);
    // Another window, another deployment, a damaged file: refused.
    let other = OptimisticConfig {
        challenge_window_s: WINDOW + 1,
        bond: BOND,
    };
    assert!(matches!(
        OptimisticL1::open(&path, params(), op, other),
        Err(L1Error::KeyMismatch { .. })
    ));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    assert!(matches!(
        OptimisticL1::open(&path, params(), op, config),
        Err(L1Error::Corrupt { .. })
    ));
}

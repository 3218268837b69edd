//! The native one-step executor (`zkr_circuits::step`) is the twin of the slot constraints: on
//! random valid batches it walks the same roots, step by step, to the circuit's new root; on
//! witnesses that break one rule (built as `soundness.rs` builds them) the circuit is
//! unsatisfied *and* the step executor names the broken rule; and a witness that is not genuine
//! (a path of another index, a leaf not under the root) proves nothing.

mod common;

use common::*;
use proptest::prelude::*;
use zkr_circuits::account::AccountLeaf;
use zkr_circuits::eddsa::SignatureWitness;
use zkr_circuits::merkle::MerkleProof;
use zkr_circuits::state::State;
use zkr_circuits::step::{
    execute_fees, execute_slot, slot_step, LeafProof, SlotStepWitness, StepError, StepOutcome,
    Violation,
};
use zkr_circuits::tx::{Deposit, FullExit, L1Address, PriorityOp, SlotData, Transfer, Tx};
use zkr_circuits::witness::{BatchWitness, LeafWitness, SlotTx, SlotWitness};
use zkr_circuits::Fr;

fn leaf_proof(index: u64, w: &LeafWitness) -> LeafProof {
    LeafProof {
        leaf: w.leaf,
        path: MerkleProof {
            index,
            siblings: w.path.siblings.clone(),
        },
    }
}

/// A slot as an optimistic batch posts it, with the leaves a challenger would supply.
fn posted(s: &SlotWitness) -> (SlotData, Option<SignatureWitness>, SlotStepWitness) {
    slot_step(s).expect("the tests' slots fit their integer types")
}

/// Where the step executor stops: the first slot that breaks a rule, or the fee step's root
/// that differs from the witness's new root.
#[derive(Debug, PartialEq)]
enum Verdict {
    Valid,
    Breaks(usize, Violation),
    WrongNewRoot,
}

/// Runs every step of `w` natively, from its old root, as an L1 judging challenges would.
fn native_verdict(w: &BatchWitness) -> Verdict {
    let mut root = w.old_root;
    let mut fees = 0u128;
    for (i, s) in w.slots.iter().enumerate() {
        let (data, sig, step) = posted(s);
        match execute_slot(&w.params, CHAIN, root, &data, sig.as_ref(), &step).unwrap() {
            StepOutcome::Valid { post_root } => root = post_root,
            StepOutcome::Invalid(v) => return Verdict::Breaks(i, v),
        }
        fees += data.fee as u128;
    }
    let op = leaf_proof(0, &w.operator);
    match execute_fees(&w.params, root, fees, &op).unwrap() {
        StepOutcome::Valid { post_root } if post_root == w.public.new_root => Verdict::Valid,
        StepOutcome::Valid { .. } => Verdict::WrongNewRoot,
        StepOutcome::Invalid(v) => Verdict::Breaks(w.slots.len(), v),
    }
}

/// Accounts: 0 operator (10), 1 (100), 2 (100), 3 (u64::MAX - 5).
fn state() -> State {
    funded(params(), &[10, 100, 100, u64::MAX - 5])
}

fn full_exit(account: u64, requester: L1Address, amount: u64) -> SlotTx {
    SlotTx::full_exit(&FullExit { account, requester }, amount)
}

/// Both twins refuse: the circuit is unsatisfied and the step executor names `expected`.
#[track_caller]
fn both_refuse(w: &BatchWitness, expected: Verdict) {
    assert!(!check(w).satisfied, "the circuit accepted it");
    assert_eq!(native_verdict(w), expected);
}

#[test]
fn each_broken_rule_is_refused_by_both_twins() {
    let s = state();
    let mut forged = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    forged.signature.s += 1u32;
    both_refuse(
        &build(&s, vec![forged]),
        Verdict::Breaks(0, Violation::BadSignature),
    );

    let other_key = Transfer::signed(&key(2), CHAIN, 1, 2, 10, 1, 0);
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&other_key)]),
        Verdict::Breaks(0, Violation::BadSignature),
    );
    let other_chain = Transfer::signed(&key(1), CHAIN + 1, 1, 2, 10, 1, 0);
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&other_chain)]),
        Verdict::Breaks(0, Violation::BadSignature),
    );
    let future_nonce = Transfer::signed(&key(1), CHAIN, 1, 2, 10, 1, 1);
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&future_nonce)]),
        Verdict::Breaks(0, Violation::BadSignature),
    );
    let once = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    both_refuse(
        &build(&s, vec![once.clone(), once]),
        Verdict::Breaks(1, Violation::BadSignature),
    );
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 2, 100, 1))]),
        Verdict::Breaks(
            0,
            Violation::InsufficientBalance {
                balance: 100,
                needed: 101,
            },
        ),
    );
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 3, 10, 0))]),
        Verdict::Breaks(0, Violation::BalanceOverflow),
    );
    both_refuse(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 9, 10, 1))]),
        Verdict::Breaks(0, Violation::NoReceiver),
    );
    let d = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    both_refuse(
        &build(&s, vec![SlotTx::deposit(&d, 2)]),
        Verdict::Breaks(0, Violation::DepositKeyMismatch),
    );
    let thief = L1Address([0x66; 20]);
    both_refuse(
        &build(&s, vec![full_exit(2, thief, 100)]),
        Verdict::Breaks(
            0,
            Violation::WrongExitAmount {
                expected: 0,
                got: 100,
            },
        ),
    );
    for short in [60, 0] {
        both_refuse(
            &build(&s, vec![full_exit(1, DEPOSITOR, short)]),
            Verdict::Breaks(
                0,
                Violation::WrongExitAmount {
                    expected: 100,
                    got: short,
                },
            ),
        );
    }
    // The fee step: fees not credited to the operator. Every slot is valid; the batch's new
    // root is not the one the fee step gives.
    let b = {
        let mut b = s.witness_builder();
        b.push(SlotTx::transfer(&transfer(&s, 1, 2, 10, 3)))
            .unwrap();
        b.finish_with(|_, leaf| leaf).unwrap().0
    };
    both_refuse(&b, Verdict::WrongNewRoot);
}

#[test]
fn a_witness_that_is_not_genuine_proves_nothing() {
    let s = state();
    let w = build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 2, 10, 1))]);
    let (data, sig, step) = posted(&w.slots[0]);
    let run =
        |st: &SlotStepWitness| execute_slot(&w.params, CHAIN, w.old_root, &data, sig.as_ref(), st);
    assert!(matches!(run(&step), Ok(StepOutcome::Valid { .. })));
    // The sender's leaf with a tampered balance: not under the root.
    let mut t = step.clone();
    t.sender.leaf.balance = Fr::from(1_000u64);
    assert_eq!(run(&t), Err(StepError::NotUnderRoot { which: "sender" }));
    // Another account's genuine leaf and path, for the slot's sender.
    let mut t = step.clone();
    let other = s.proof(2).unwrap();
    t.sender = LeafProof {
        leaf: s.account(2).unwrap().leaf(),
        path: other,
    };
    assert_eq!(
        run(&t),
        Err(StepError::WrongPath {
            which: "sender",
            expected: 1,
            got: 2
        })
    );
    // A path one level short; a receiver's leaf under the pre-root instead of the mid root.
    let mut t = step.clone();
    t.sender.path.siblings.pop();
    assert!(matches!(run(&t), Err(StepError::WrongPath { .. })));
    let mut t = step.clone();
    t.receiver = LeafProof {
        leaf: s.account(2).unwrap().leaf(),
        path: s.proof(2).unwrap(),
    };
    assert_eq!(run(&t), Err(StepError::NotUnderRoot { which: "receiver" }));
    // An empty leaf that claims a balance (the empty-leaf rule).
    let mut t = step;
    t.receiver.leaf = AccountLeaf {
        balance: Fr::from(5u64),
        ..AccountLeaf::EMPTY
    };
    assert!(run(&t).is_err());
}

#[derive(Debug, Clone)]
enum Op {
    Transfer(u64, u64, u64, u64),
    Withdraw(u64, u64, u64),
    Deposit(u8, u64),
    FullExit(u64, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..5, 0u64..5, 0u64..60, 0u64..4).prop_map(|(f, t, a, fee)| Op::Transfer(f, t, a, fee)),
        (0u64..5, 0u64..60, 0u64..4).prop_map(|(f, a, fee)| Op::Withdraw(f, a, fee)),
        (0u8..8, 1u64..1000).prop_map(|(k, a)| Op::Deposit(k, a)),
        (0u64..6, any::<bool>()).prop_map(|(a, owner)| Op::FullExit(a, owner)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// On random batches the native transition accepts, the step executor walks from the old
    /// root to the circuit's new root, every step valid.
    #[test]
    fn valid_batches_execute_step_by_step_to_the_new_root(ops in prop::collection::vec(op(), 1..4)) {
        let s = funded(params(), &[10, 100, 100, 50, 7]);
        let mut state = s;
        for chunk in ops.chunks(params().batch_size) {
            let mut txs = Vec::new();
            let mut queue = Vec::new();
            for o in chunk {
                let nonce = |i: u64| state.account(i).map_or(0, |a| a.nonce);
                match *o {
                    Op::Transfer(f, t, a, fee) => txs.push(Tx::Transfer(
                        Transfer::signed(&key(f as u8), CHAIN, f, t, a, fee, nonce(f)),
                    )),
                    Op::Withdraw(f, a, fee) => txs.push(Tx::Withdraw(
                        zkr_circuits::tx::Withdraw::signed(
                            &key(f as u8), CHAIN, f, a, fee, nonce(f), L1Address([7; 20]),
                        ),
                    )),
                    Op::Deposit(k, a) => {
                        let d = Deposit { pubkey: key(k).public_key(), amount: a, from: DEPOSITOR };
                        queue.push(PriorityOp::Deposit(d));
                        txs.push(PriorityOp::Deposit(d).tx());
                    }
                    Op::FullExit(account, owner) => {
                        let f = FullExit {
                            account,
                            requester: if owner { DEPOSITOR } else { L1Address([0x66; 20]) },
                        };
                        queue.push(PriorityOp::FullExit(f));
                        txs.push(Tx::FullExit(f));
                    }
                }
            }
            // Invalid combinations (a nonce used twice in one batch, an overdraft) are the
            // native transition's to refuse; only accepted batches are judged here.
            let Ok(out) = state.apply_batch(&txs, &queue) else { continue };
            prop_assert!(check(&out.witness).satisfied);
            prop_assert_eq!(native_verdict(&out.witness), Verdict::Valid);
            prop_assert_eq!(out.witness.public.new_root, out.state.root());
            state = out.state;
        }
    }
}

#[test]
fn a_batch_of_every_type_executes_step_by_step_to_the_new_root() {
    let s = state();
    let exit = FullExit {
        account: 2,
        requester: DEPOSITOR,
    };
    let dep = Deposit {
        pubkey: key(6).public_key(),
        amount: 40,
        from: DEPOSITOR,
    };
    let queue = [PriorityOp::Deposit(dep), PriorityOp::FullExit(exit)];
    let out = s
        .apply_batch(
            &[
                PriorityOp::Deposit(dep).tx(),
                Tx::Transfer(transfer(&s, 1, 2, 10, 2)),
                Tx::FullExit(exit),
            ],
            &queue,
        )
        .unwrap();
    assert!(check(&out.witness).satisfied);
    assert_eq!(native_verdict(&out.witness), Verdict::Valid);
    let w = withdraw(&out.state, 1, 5, 1, L1Address([9; 20]));
    let out2 = out.state.apply_batch(&[Tx::Withdraw(w)], &[]).unwrap();
    assert_eq!(native_verdict(&out2.witness), Verdict::Valid);
}

#[test]
fn a_step_witness_round_trips_through_json_and_refuses_non_canonical_values() {
    use zkr_circuits::step::{StepIndex, StepWitness};
    let s = state();
    let w = build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 2, 10, 1))]);
    let (_, _, step) = posted(&w.slots[0]);
    let sw = StepWitness::Slot(step);
    let json = serde_json::to_string(&sw).unwrap();
    assert_eq!(serde_json::from_str::<StepWitness>(&json).unwrap(), sw);
    let fees = StepWitness::Fees(leaf_proof(0, &w.operator));
    let json = serde_json::to_string(&fees).unwrap();
    assert_eq!(serde_json::from_str::<StepWitness>(&json).unwrap(), fees);
    assert_eq!(
        serde_json::to_string(&StepIndex::Slot(3)).unwrap(),
        r#"{"slot":3}"#
    );
    assert_eq!(
        serde_json::to_string(&StepIndex::Fees).unwrap(),
        r#""fees""#
    );
    // A sibling equal to the modulus, and an unknown field: refused, never reduced or ignored.
    let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    let json = serde_json::to_string(&fees).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut bad = v.clone();
    bad["fees"]["siblings"][0][0] = serde_json::json!(r);
    assert!(serde_json::from_value::<StepWitness>(bad).is_err());
    let mut extra = v;
    extra["fees"]["leaf"]["extra"] = serde_json::json!("1");
    assert!(serde_json::from_value::<StepWitness>(extra).is_err());
}

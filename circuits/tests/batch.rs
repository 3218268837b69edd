//! Valid batches: random mixes of all five types satisfy the circuit, and the circuit's new
//! root is the native one.

mod common;

use ark_ff::Zero;
use common::*;
use proptest::prelude::*;
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::public::PublicInputs;
use zkr_circuits::state::TransitionError;
use zkr_circuits::tx::{Deposit, FullExit, L1Address, PriorityOp, Tx, TxType};
use zkr_circuits::Fr;

#[derive(Debug, Clone)]
enum Op {
    Transfer {
        from: u64,
        to: u64,
        amount_pct: u64,
        fee: u64,
    },
    Withdraw {
        from: u64,
        amount_pct: u64,
        fee: u64,
    },
    Deposit {
        key: u8,
        amount: u64,
    },
    FullExit {
        account: u64,
        by_owner: bool,
    },
    Noop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Senders exclude the operator (account 0): fees reach it only at the end of the batch,
        // so the one-transaction-at-a-time view below would let it spend fees it has not got yet.
        4 => (1u64..5, 0u64..5, 0u64..=100, 0u64..3).prop_map(|(from, to, amount_pct, fee)| Op::Transfer { from, to, amount_pct, fee }),
        2 => (1u64..5, 0u64..=100, 0u64..3).prop_map(|(from, amount_pct, fee)| Op::Withdraw { from, amount_pct, fee }),
        2 => (0u8..8, 0u64..1000).prop_map(|(key, amount)| Op::Deposit { key, amount }),
        // Accounts 1..5 are owned by DEPOSITOR, 0 by the operator, 6 and 7 are empty.
        1 => (0u64..8, any::<bool>()).prop_map(|(account, by_owner)| Op::FullExit { account, by_owner }),
        1 => Just(Op::Noop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn random_valid_batches_satisfy_the_circuit(ops in prop::collection::vec(op(), 3)) {
        let p = params();
        let mut state = funded(p, &[10, 1000, 2000, 3000, 4000]);
        let mut queue = Vec::new();
        let mut txs = Vec::new();
        // Build the batch against a running native state so every transaction is valid.
        for op in ops {
            let tx = match op {
                Op::Transfer { from, to, amount_pct, fee } => {
                    let bal = state.account(from).unwrap().balance;
                    let fee = fee.min(bal);
                    Tx::Transfer(transfer(&state, from, to, (bal - fee) * amount_pct / 100, fee))
                }
                Op::Withdraw { from, amount_pct, fee } => {
                    let bal = state.account(from).unwrap().balance;
                    let fee = fee.min(bal);
                    Tx::Withdraw(withdraw(&state, from, (bal - fee) * amount_pct / 100, fee, L1Address([from as u8; 20])))
                }
                Op::Deposit { key: k, amount } => {
                    let d = Deposit { pubkey: key(k).public_key(), amount, from: DEPOSITOR };
                    queue.push(PriorityOp::Deposit(d));
                    Tx::Deposit(d)
                }
                Op::FullExit { account, by_owner } => {
                    let requester = if by_owner { DEPOSITOR } else { L1Address([0x99; 20]) };
                    let f = FullExit { account, requester };
                    queue.push(PriorityOp::FullExit(f));
                    Tx::FullExit(f)
                }
                Op::Noop => Tx::Noop,
            };
            // Advance the running state by this one transaction (its own single-slot view).
            let own_deposit: Vec<PriorityOp> = tx.priority_op().into_iter().collect();
            state = state.apply_batch(&[tx], &own_deposit).unwrap().state;
            txs.push(tx);
        }
        let start = funded(p, &[10, 1000, 2000, 3000, 4000]);
        let out = start.apply_batch(&txs, &queue).unwrap();
        let r = BatchCircuit::new(out.witness.clone()).unwrap().check().unwrap();
        prop_assert!(r.satisfied, "failed: {:?}", r.failed_rule());
        // The circuit's root is the native root; the public values are what the L1 recomputes.
        prop_assert_eq!(out.public.new_root, out.state.root());
        prop_assert_eq!(out.public.old_root, start.root());
        prop_assert_eq!(
            &out.public,
            &PublicInputs::from_public_data(CHAIN, start.root(), out.state.root(), &out.public_data)
        );
        // The deposit and full-exit slots carry the queued requests, in order.
        let requests: Vec<_> = out
            .public_data
            .iter()
            .filter(|s| matches!(s.tx_type, TxType::Deposit | TxType::FullExit))
            .map(|s| match s.tx_type {
                TxType::Deposit => (s.aux_x, s.aux_y, s.amount, s.requester),
                _ => (Fr::from(s.from), Fr::zero(), 0, s.requester),
            })
            .collect();
        let queued: Vec<_> = queue[..out.priority_consumed]
            .iter()
            .map(|q| match q {
                PriorityOp::Deposit(d) => (d.pubkey.x(), d.pubkey.y(), d.amount, d.from.to_field()),
                PriorityOp::FullExit(f) => (Fr::from(f.account), Fr::zero(), 0, f.requester.to_field()),
            })
            .collect();
        prop_assert_eq!(requests, queued);
        // Anyone can rebuild the state from the public data alone.
        prop_assert_eq!(start.replay(&out.public_data).unwrap().root(), out.state.root());
    }
}

#[test]
fn circuit_shape_does_not_depend_on_the_witness() {
    let p = params();
    let state = funded(p, &[10, 100, 100]);
    let a = state.apply_batch(&[], &[]).unwrap();
    let b = state
        .apply_batch(
            &[
                Tx::Transfer(transfer(&state, 1, 2, 5, 1)),
                Tx::Withdraw(withdraw(&state, 2, 5, 1, L1Address([1; 20]))),
            ],
            &[],
        )
        .unwrap();
    let ra = BatchCircuit::new(a.witness).unwrap().check().unwrap();
    let rb = BatchCircuit::new(b.witness).unwrap().check().unwrap();
    assert!(ra.satisfied && rb.satisfied);
    assert_eq!(ra.num_constraints, rb.num_constraints);
    assert_eq!(ra.num_witness_variables, rb.num_witness_variables);
    assert_eq!(
        ra.num_instance_variables,
        1 + zkr_circuits::public::num_inputs(p.batch_size),
        "the constant 1, the two roots, the aux chain and one packed element per slot"
    );
}

#[test]
fn fees_go_to_the_operator_and_withdrawals_are_reported() {
    let p = params();
    let state = funded(p, &[10, 100, 100]);
    let addr = L1Address([7; 20]);
    let out = state
        .apply_batch(
            &[
                Tx::Transfer(transfer(&state, 1, 2, 30, 2)),
                Tx::Withdraw(withdraw(&state, 2, 50, 3, addr)),
            ],
            &[],
        )
        .unwrap();
    assert_eq!(out.state.account(0).unwrap().balance, 15);
    assert_eq!(out.state.account(1).unwrap().balance, 68);
    assert_eq!(out.state.account(2).unwrap().balance, 77);
    assert_eq!(out.state.account(2).unwrap().nonce, 1);
    assert_eq!(out.withdrawals, vec![(addr, 50)]);
    assert_eq!(out.fees, 5);
    assert!(check(&out.witness).satisfied);
}

#[test]
fn native_transition_refuses_invalid_transactions_with_typed_errors() {
    let p = params();
    let state = funded(p, &[10, 100, 100]);
    let t = transfer(&state, 1, 2, 5, 1);
    let err = |txs: &[Tx], q: &[PriorityOp]| state.apply_batch(txs, q).unwrap_err();

    let mut forged = t;
    forged.amount = 6;
    assert!(matches!(
        err(&[Tx::Transfer(forged)], &[]),
        TransitionError::BadSignature { slot: 0, index: 1 }
    ));
    assert!(matches!(
        err(&[Tx::Transfer(t), Tx::Transfer(t)], &[]),
        TransitionError::BadNonce {
            slot: 1,
            expected: 1,
            got: 0,
            ..
        }
    ));
    assert!(matches!(
        err(&[Tx::Transfer(transfer(&state, 1, 2, 100, 1))], &[]),
        TransitionError::InsufficientBalance { .. }
    ));
    assert!(matches!(
        err(&[Tx::Transfer(transfer(&state, 1, 9, 1, 0))], &[]),
        TransitionError::UnknownAccount { index: 9, .. }
    ));
    assert!(matches!(
        err(&[Tx::Transfer(transfer(&state, 1, 16, 1, 0))], &[]),
        TransitionError::IndexOutOfRange { index: 16, .. }
    ));
    assert!(matches!(
        err(&[Tx::Noop; 4], &[]),
        TransitionError::TooManyTransactions { got: 4, max: 3 }
    ));
    let d1 = Deposit {
        pubkey: key(5).public_key(),
        amount: 1,
        from: DEPOSITOR,
    };
    let d2 = Deposit {
        pubkey: key(6).public_key(),
        amount: 2,
        from: DEPOSITOR,
    };
    assert!(matches!(
        err(&[Tx::Deposit(d2)], &[d1.into(), d2.into()]),
        TransitionError::PriorityOutOfOrder { slot: 0, .. }
    ));
    assert!(matches!(
        err(&[Tx::Deposit(d1)], &[]),
        TransitionError::PriorityOutOfOrder { .. }
    ));

    let rich = funded(p, &[10, u64::MAX, 100]);
    let to_rich = transfer(&rich, 2, 1, 1, 0);
    assert!(matches!(
        rich.apply_batch(&[Tx::Transfer(to_rich)], &[]).unwrap_err(),
        TransitionError::BalanceOverflow { index: 1, .. }
    ));
    // The input state is untouched by a failed batch.
    assert_eq!(state.account(1).unwrap().nonce, 0);
}

#[test]
fn deposits_top_up_existing_accounts_by_key() {
    let p = params();
    let state = funded(p, &[10, 100]);
    let d = Deposit {
        pubkey: key(1).public_key(),
        amount: 5,
        from: DEPOSITOR,
    };
    let out = state.apply_batch(&[Tx::Deposit(d)], &[d.into()]).unwrap();
    assert_eq!(out.state.account(1).unwrap().balance, 105);
    assert_eq!(out.public_data[0].to, 1);
    assert!(check(&out.witness).satisfied);
}

#[test]
fn transfer_constraint_budget_at_2_pow_24_accounts() {
    // Budget from the design: at most 25,000 constraints per transfer at 2^24 accounts, and
    // the aim of issue 9: at most 20,000.
    let p = zkr_circuits::CircuitParams::new(24, 1).unwrap();
    let out = zkr_circuits::state::State::genesis(p, &common::genesis())
        .apply_batch(&[], &[])
        .unwrap();
    let r = BatchCircuit::new(out.witness)
        .unwrap()
        .constraint_report()
        .unwrap();
    let per_transfer = r.constraints.per_tx["transfer"];
    assert!(
        per_transfer <= 20_000,
        "{per_transfer} constraints per transfer"
    );
    let c = &r.constraints.per_slot_components;
    assert_eq!(per_transfer, 19_607, "update README.md if this changes");
    assert_eq!(
        c["merkle_paths"], 13_300,
        "update README.md if this changes"
    );
    assert_eq!(c["signature"], 4_202, "update README.md if this changes");
    // The public inputs: one constraint binds the packed slot, 298 the aux chain's step.
    assert_eq!(c["public_data"], 1, "update README.md if this changes");
    assert_eq!(c["aux_chain"], 298, "update README.md if this changes");
    assert_eq!(
        r.constraints.per_batch_overhead, 7_377,
        "update README.md if this changes"
    );
    let slot_sum: usize = r.constraints.per_slot_components.values().sum();
    assert_eq!(slot_sum, per_transfer);
    assert_eq!(
        r.constraints.total,
        per_transfer + r.constraints.per_batch_overhead
    );
}

#[test]
fn deposits_fill_gaps_and_overflowing_deposits_open_a_new_account() {
    use zkr_circuits::tx::{SlotData, TxType};
    let p = params();
    // Someone else's valid batch put a deposit at index 5, leaving 3 and 4 empty.
    let state = funded(p, &[10, 100, u64::MAX - 5]);
    let stranger = key(9).public_key();
    let gap = SlotData {
        tx_type: TxType::Deposit,
        from: 0,
        to: 5,
        amount: 7,
        fee: 0,
        aux_x: stranger.x(),
        aux_y: stranger.y(),
        requester: DEPOSITOR.to_field(),
    };
    let state = state.replay(&[gap]).unwrap();
    // The honest sequencer puts the next new key at 3, the lowest free index.
    let d = Deposit {
        pubkey: key(6).public_key(),
        amount: 1,
        from: DEPOSITOR,
    };
    let out = state.apply_batch(&[Tx::Deposit(d)], &[d.into()]).unwrap();
    assert_eq!(out.public_data[0].to, 3);
    assert!(check(&out.witness).satisfied);
    // A deposit that would overflow account 2 opens a new account for the same key.
    let big = Deposit {
        pubkey: key(2).public_key(),
        amount: 10,
        from: DEPOSITOR,
    };
    let out = out
        .state
        .apply_batch(&[Tx::Deposit(big)], &[big.into()])
        .unwrap();
    assert_eq!(out.public_data[0].to, 4);
    assert_eq!(out.state.account(4).unwrap().balance, 10);
    assert!(check(&out.witness).satisfied);
    // Snapshots keep both accounts of the key.
    let again = zkr_circuits::state::State::from_snapshot(&out.state.snapshot()).unwrap();
    assert_eq!(again.root(), out.state.root());
}

#[test]
fn setup_mode_synthesizes_the_same_shape_without_values() {
    // Groth16's setup synthesizes without witness values: no gadget may need one outside its
    // witness closures (the Montgomery-form gadgets compute every value lazily).
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
    let p = params();
    let state = funded(p, &[10, 100, 100]);
    let out = state
        .apply_batch(&[Tx::Transfer(transfer(&state, 1, 2, 5, 1))], &[])
        .unwrap();
    let circuit = BatchCircuit::new(out.witness).unwrap();
    let prove = circuit.check().unwrap();
    let cs = ConstraintSystem::<zkr_circuits::Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).unwrap();
    assert_eq!(cs.num_constraints(), prove.num_constraints);
    assert_eq!(cs.num_witness_variables(), prove.num_witness_variables);
}

#[test]
fn witnesses_with_paths_of_the_wrong_depth_are_refused() {
    let p = params();
    let state = funded(p, &[10, 100]);
    let mut w = state.apply_batch(&[], &[]).unwrap().witness;
    w.slots[0].sender.path.siblings.pop();
    assert!(BatchCircuit::new(w).is_err());
}

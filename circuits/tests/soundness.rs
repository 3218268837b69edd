//! Soundness: one negative test per rule of a valid batch.
//!
//! Each test builds a witness by hand with [`WitnessBuilder`] — bypassing every native check —
//! so that it breaks exactly one rule while everything else stays consistent (paths, later
//! slots, the public values). It then asserts that the constraint system is unsatisfied *and*
//! that the first failing constraint belongs to the rule that was broken. A test that failed
//! somewhere else would be a test of the wrong thing.

mod common;

use ark_ff::{One, Zero};
use common::*;
use num_bigint::BigUint;
use zkr_circuits::account::AccountLeaf;
use zkr_circuits::eddsa::SignatureWitness;
use zkr_circuits::public::aux_chain;
use zkr_circuits::state::State;
use zkr_circuits::tx::{pack, Deposit, L1Address, SlotData, Transfer, TxType};
use zkr_circuits::witness::{BatchWitness, SlotTx};
use zkr_circuits::Fr;

/// Accounts: 0 operator (10), 1 (100), 2 (100), 3 (u64::MAX - 5).
fn state() -> State {
    funded(params(), &[10, 100, 100, u64::MAX - 5])
}

fn honest(state: &State) -> BatchWitness {
    build(state, vec![SlotTx::transfer(&transfer(state, 1, 2, 10, 1))])
}

#[test]
fn the_honest_baseline_is_satisfied() {
    assert!(check(&honest(&state())).satisfied);
}

#[test]
fn forged_signature() {
    let s = state();
    let mut tx = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    tx.signature.s += 1u32;
    assert_breaks(&build(&s, vec![tx]), Some(0), "sender signature");
}

#[test]
fn signature_by_another_key() {
    let s = state();
    let t = Transfer::signed(&key(2), CHAIN, 1, 2, 10, 1, 0); // account 2 signs for account 1
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&t)]),
        Some(0),
        "sender signature",
    );
}

#[test]
fn signature_for_another_rollup() {
    let s = state();
    let t = Transfer::signed(&key(1), CHAIN + 1, 1, 2, 10, 1, 0);
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&t)]),
        Some(0),
        "sender signature",
    );
}

#[test]
fn transfer_signature_replayed_as_withdrawal() {
    let s = state();
    let t = transfer(&s, 1, 2, 10, 1);
    let mut tx = SlotTx::transfer(&t);
    tx.tx_type = TxType::Withdraw;
    tx.to = 0;
    assert_breaks(&build(&s, vec![tx]), Some(0), "sender signature");
}

#[test]
fn wrong_nonce() {
    let s = state();
    // Correctly signed, but for nonce 1 while the account's nonce is 0.
    let t = Transfer::signed(&key(1), CHAIN, 1, 2, 10, 1, 1);
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&t)]),
        Some(0),
        "signed nonce is the sender's nonce",
    );
}

#[test]
fn replayed_transaction() {
    let s = state();
    let tx = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    assert_breaks(
        &build(&s, vec![tx.clone(), tx]),
        Some(1),
        "signed nonce is the sender's nonce",
    );
}

#[test]
fn amount_greater_than_balance() {
    let s = state();
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 2, 100, 1))]),
        Some(0),
        "sender balance covers amount + fee",
    );
}

#[test]
fn receiver_balance_overflow() {
    let s = state();
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 3, 10, 0))]),
        Some(0),
        "receiver balance does not overflow",
    );
}

#[test]
fn amount_that_wraps_the_field() {
    // amount = p - 1 ("-1"): the sender would *gain* 1 and the receiver lose 1, and every
    // other constraint (signature included: it is signed over the same packed value) holds.
    let s = state();
    let mut tx = SlotTx::transfer(&transfer(&s, 1, 2, 0, 0));
    tx.amount = -Fr::one();
    let msg = zkr_circuits::tx::signed_message(CHAIN, tx.packed(), Fr::zero(), 0);
    tx.signature = (&key(1).sign(msg)).into();
    assert_breaks(&build(&s, vec![tx]), Some(0), "amount is u64");
}

#[test]
fn fee_that_wraps_the_field() {
    let s = state();
    let mut tx = SlotTx::transfer(&transfer(&s, 1, 2, 0, 0));
    tx.fee = -Fr::one();
    let msg = zkr_circuits::tx::signed_message(CHAIN, tx.packed(), Fr::zero(), 0);
    tx.signature = (&key(1).sign(msg)).into();
    assert_breaks(&build(&s, vec![tx]), Some(0), "fee is u64");
}

#[test]
fn wrong_merkle_sibling() {
    let s = state();
    let mut w = honest(&s);
    w.slots[0].sender.path.siblings[0][1] += Fr::one();
    assert_breaks(&w, Some(0), "sender leaf is under the old root");
    let mut w = honest(&s);
    w.slots[0].receiver.path.siblings[1][0] += Fr::one();
    assert_breaks(&w, Some(0), "receiver leaf is under the intermediate root");
}

#[test]
fn wrong_old_leaf() {
    let s = state();
    let mut w = honest(&s);
    w.slots[0].sender.leaf.balance += Fr::from(1000u64); // claim a richer sender
    assert_breaks(&w, Some(0), "sender leaf is under the old root");
}

#[test]
fn path_bits_that_do_not_match_the_index() {
    let s = state();
    let mut w = honest(&s);
    w.slots[0].from = Fr::from(3u64); // path is account 1's
    assert_breaks(&w, Some(0), "sender path bits spell `from`");
}

#[test]
fn path_bits_that_are_not_boolean() {
    let s = state();
    let mut w = build(&s, vec![SlotTx::transfer(&transfer(&s, 2, 1, 10, 1))]);
    // Index 2 is bits [0, 1, 0, 0]; write it as [2, 0, 0, 0], which sums to 2 too.
    assert_eq!(w.slots[0].sender.path.bits[1], Fr::one());
    w.slots[0].sender.path.bits[0] = Fr::from(2u64);
    w.slots[0].sender.path.bits[1] = Fr::zero();
    assert_breaks(&w, Some(0), "sender path bits spell `from`");
}

#[test]
fn new_root_not_matching_the_updates() {
    let s = state();
    // Claim a root in which the receiver got 1 more than was sent.
    let mut b = s.witness_builder();
    b.push_with(
        SlotTx::transfer(&transfer(&s, 1, 2, 10, 1)),
        zkr_circuits::witness::sender_effect,
        |tx, l| AccountLeaf {
            balance: l.balance + tx.amount + Fr::one(),
            ..l
        },
    )
    .unwrap();
    // The claimed root flows into later slots' paths; fill the batch so the slot is the last
    // one whose update differs and the first mismatch is where the circuit uses that root.
    let w = b.finish().unwrap().0;
    assert_breaks(&w, Some(1), "sender leaf is under the old root");
    // And a claimed new root that is simply different.
    let mut w = honest(&s);
    w.public.new_root += Fr::one();
    assert_breaks(&w, None, "new root and aux chain are public");
}

#[test]
fn claimed_old_root_is_not_the_one_the_batch_starts_from() {
    let s = state();
    let mut w = honest(&s);
    w.public.old_root += Fr::one();
    assert_breaks(&w, Some(0), "sender leaf is under the old root");
}

#[test]
fn tampered_public_data() {
    // The L1 sees another amount than the one the circuit moved.
    let s = state();
    let mut w = honest(&s);
    w.public.packed[0] = pack(TxType::Transfer, 1, 2, 11, 1);
    assert_breaks(&w, Some(0), "packed slot is the public input");
    // A padding slot the L1 would read as a transfer.
    let mut w = honest(&s);
    w.public.packed[1] = pack(TxType::Transfer, 1, 2, 10, 1);
    assert_breaks(&w, Some(1), "packed slot is the public input");
}

#[test]
fn withdrawal_to_another_address_than_the_public_one() {
    let s = state();
    let w = build(
        &s,
        vec![SlotTx::withdraw(&withdraw(
            &s,
            1,
            10,
            1,
            L1Address([9; 20]),
        ))],
    );
    // The L1 would credit [8; 20], which is not the address the sender signed.
    let mut forged = w.clone();
    let mut slot = SlotData::NOOP;
    slot.tx_type = TxType::Withdraw;
    slot.aux_x = L1Address([8; 20]).to_field();
    forged.public.aux_chain = aux_chain(CHAIN, &[slot]);
    assert_breaks(&forged, None, "new root and aux chain are public");
    assert!(check(&w).satisfied);
}

#[test]
fn deposit_not_matching_the_queue() {
    let s = state();
    let queued = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    let claimed = Deposit {
        pubkey: key(5).public_key(),
        amount: 5000,
        from: DEPOSITOR,
    };
    let mut w = build(&s, vec![SlotTx::deposit(&claimed, 4)]);
    // The L1 checks the public amount against its queue, which holds the 50, not the 5000.
    w.public.packed[0] = pack(TxType::Deposit, 0, 4, queued.amount, 0);
    assert_breaks(&w, Some(0), "packed slot is the public input");
}

#[test]
fn deposit_with_another_key_than_the_queued_one() {
    let s = state();
    let queued = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    let claimed = Deposit {
        pubkey: key(6).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    let mut w = build(&s, vec![SlotTx::deposit(&claimed, 4)]);
    // The L1 hashes the key of its queue into the aux chain.
    let queued_slot = SlotData {
        tx_type: TxType::Deposit,
        from: 0,
        to: 4,
        amount: 50,
        fee: 0,
        aux_x: queued.pubkey.x(),
        aux_y: queued.pubkey.y(),
        requester: DEPOSITOR.to_field(),
    };
    w.public.aux_chain = aux_chain(CHAIN, &[queued_slot]);
    assert_breaks(&w, None, "new root and aux chain are public");
}

#[test]
fn deposit_into_someone_elses_account() {
    let s = state();
    let d = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    assert_breaks(
        &build(&s, vec![SlotTx::deposit(&d, 2)]),
        Some(0),
        "deposit key matches the account",
    );
}

#[test]
fn transfer_to_an_empty_account() {
    let s = state();
    assert_breaks(
        &build(&s, vec![SlotTx::transfer(&transfer(&s, 1, 9, 10, 1))]),
        Some(0),
        "transfer receiver exists",
    );
}

#[test]
fn deposit_to_the_empty_key() {
    // A deposit to key (0, 0) would create an "empty" leaf holding a balance.
    let s = state();
    let mut tx = SlotTx::deposit(
        &Deposit {
            pubkey: key(5).public_key(),
            amount: 50,
            from: DEPOSITOR,
        },
        4,
    );
    tx.aux_x = Fr::zero();
    tx.aux_y = Fr::zero();
    assert_breaks(&build(&s, vec![tx]), Some(0), "receiver new leaf hash");
}

#[test]
fn withdraw_with_a_bad_signature() {
    let s = state();
    let mut tx = SlotTx::withdraw(&withdraw(&s, 1, 10, 1, L1Address([9; 20])));
    tx.aux_x = L1Address([8; 20]).to_field(); // redirect the funds
    assert_breaks(&build(&s, vec![tx]), Some(0), "sender signature");
}

#[test]
fn withdraw_address_beyond_160_bits() {
    let s = state();
    let mut tx = SlotTx::withdraw(&withdraw(&s, 1, 10, 1, L1Address([9; 20])));
    tx.aux_x = -Fr::one();
    let msg = zkr_circuits::tx::signed_message(CHAIN, tx.packed(), tx.aux_x, 0);
    tx.signature = (&key(1).sign(msg)).into();
    assert_breaks(
        &build(&s, vec![tx]),
        Some(0),
        "withdrawal address is 160 bits",
    );
}

#[test]
fn noop_that_changes_state() {
    let s = state();
    // A noop slot whose sender (the operator, index 0) gains 1000. The circuit computes the
    // noop's (unchanged) leaf itself, so the claimed change is caught at the first use of the
    // claimed state: the noop's own receiver read (index 0 again).
    let mut b = s.witness_builder();
    b.push_with(
        SlotTx::noop(),
        |_, l| AccountLeaf {
            balance: l.balance + Fr::from(1000u64),
            ..l
        },
        |_, l| l,
    )
    .unwrap();
    assert_breaks(
        &b.finish().unwrap().0,
        Some(0),
        "receiver leaf is under the intermediate root",
    );
}

#[test]
fn noop_with_nonzero_fields() {
    let s = state();
    let mut tx = SlotTx::noop();
    tx.amount = Fr::from(5u64);
    assert_breaks(&build(&s, vec![tx]), Some(0), "unused fields are zero");
    let mut tx = SlotTx::noop();
    tx.to = 2;
    assert_breaks(&build(&s, vec![tx]), Some(0), "unused fields are zero");
}

#[test]
fn unsigned_slot_types_cannot_charge_fees() {
    let s = state();
    let mut tx = SlotTx::deposit(
        &Deposit {
            pubkey: key(5).public_key(),
            amount: 50,
            from: DEPOSITOR,
        },
        4,
    );
    tx.fee = Fr::from(3u64);
    assert_breaks(&build(&s, vec![tx]), Some(0), "unused fields are zero");
}

#[test]
fn fee_not_credited() {
    let s = state();
    let mut b = s.witness_builder();
    b.push(SlotTx::transfer(&transfer(&s, 1, 2, 10, 1)))
        .unwrap();
    let w = b.finish_with(|_fees, leaf| leaf).unwrap().0;
    assert_breaks(&w, None, "new root and aux chain are public");
}

#[test]
fn signature_scalar_not_below_the_subgroup_order() {
    let s = state();
    let mut tx = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    let l: BigUint = BigUint::from(<ark_ed_on_bn254::Fr as ark_ff::PrimeField>::MODULUS);
    tx.signature.s = SignatureWitness::from(&key(1).sign(Fr::one())).s.clone() + l;
    assert!(!check(&build(&s, vec![tx])).satisfied);
}

#[test]
fn empty_builder_matches_native_empty_batch() {
    let genesis = zkr_circuits::state::State::genesis(params(), &genesis());
    let (w, _) = genesis.witness_builder().finish().unwrap();
    assert!(check(&w).satisfied);
    let native = genesis.apply_batch(&[], &[]).unwrap();
    assert_eq!(native.witness.public_inputs(), w.public_inputs());
}

/// A prover that uses another deployment's chain id consistently (signatures made for it, the
/// aux chain started from it) builds a satisfiable witness, but for other public inputs: the
/// L1 recomputes `aux_chain` from its own chain id, and the circuit refuses the pair.
#[test]
fn a_batch_signed_for_another_deployment_does_not_prove_this_one() {
    use zkr_circuits::public::PublicInputs;
    use zkr_circuits::state::StateSnapshot;
    use zkr_circuits::tx::{Tx, Withdraw};
    let here = state();
    let other = State::from_snapshot(&StateSnapshot {
        chain_id: CHAIN + 1,
        ..here.snapshot()
    })
    .unwrap();
    assert_eq!(other.root(), here.root(), "the chain id is not in the tree");
    let t = Transfer::signed(&key(1), CHAIN + 1, 1, 2, 10, 1, 0);
    let to = L1Address([7; 20]);
    let w = Withdraw::signed(&key(2), CHAIN + 1, 2, 5, 0, 0, to);
    for txs in [
        vec![Tx::Transfer(t)],
        vec![Tx::Transfer(t), Tx::Withdraw(w)],
    ] {
        assert!(
            here.apply_batch(&txs, &[]).is_err(),
            "natively refused here"
        );
        let out = other.apply_batch(&txs, &[]).unwrap();
        let mut witness = out.witness;
        assert!(check(&witness).satisfied, "valid on its own deployment");
        witness.public = PublicInputs::from_public_data(
            CHAIN,
            witness.public.old_root,
            witness.public.new_root,
            &out.public_data,
        );
        assert_breaks(&witness, None, "new root and aux chain are public");
    }
}

#[test]
fn small_order_key_cannot_be_spent_from_without_its_owner() {
    // A key of order 2, (0, -1): 8·A is the identity, so S·B = R + h·8A holds for R = S·B
    // whatever h is. The L1 never queues such a key (PublicKey validation); the circuit refuses
    // to accept a signature under it anyway.
    let s = state();
    let low = (Fr::zero(), -Fr::one());
    let mut b = s.witness_builder();
    let mut dep = SlotTx::deposit(
        &Deposit {
            pubkey: key(5).public_key(),
            amount: 100,
            from: DEPOSITOR,
        },
        4,
    );
    dep.aux_x = low.0;
    dep.aux_y = low.1;
    b.push(dep).unwrap();
    let mut t = SlotTx::transfer(&transfer(&s, 1, 2, 10, 0));
    t.from = 4;
    t.nonce = Fr::zero();
    let g = zkr_circuits::eddsa::generator();
    t.signature = SignatureWitness {
        r_x: g.x,
        r_y: g.y,
        s: BigUint::from(1u32),
    }; // R = 1·B
    b.push(t).unwrap();
    assert_breaks(&b.finish().unwrap().0, Some(1), "sender signature");
}

// Full exits and owners (issue 11, part 1). Accounts 1..3 are owned by DEPOSITOR, account 0 by
// the operator's L1 address.

fn full_exit(account: u64, requester: L1Address, amount: u64) -> SlotTx {
    SlotTx::full_exit(&zkr_circuits::tx::FullExit { account, requester }, amount)
}

#[test]
fn a_full_exit_by_the_owner_pays_the_whole_balance_and_by_anyone_else_nothing() {
    use zkr_circuits::tx::{FullExit, PriorityOp, Tx};
    let s = state();
    // Honest: the owner gets 100, a stranger's request is consumed and changes nothing.
    let mine = FullExit {
        account: 1,
        requester: DEPOSITOR,
    };
    let theirs = FullExit {
        account: 2,
        requester: L1Address([0x66; 20]),
    };
    let empty = FullExit {
        account: 9,
        requester: DEPOSITOR,
    };
    let queue: Vec<PriorityOp> = vec![mine.into(), theirs.into(), empty.into()];
    let out = s
        .apply_batch(
            &[
                Tx::FullExit(mine),
                Tx::FullExit(theirs),
                Tx::FullExit(empty),
            ],
            &queue,
        )
        .unwrap();
    assert!(check(&out.witness).satisfied);
    assert_eq!(out.withdrawals, vec![(DEPOSITOR, 100)]);
    assert_eq!(out.state.account(1).unwrap().balance, 0);
    assert_eq!(out.state.account(2).unwrap().balance, 100);
    assert_eq!(
        [
            out.public_data[0].amount,
            out.public_data[1].amount,
            out.public_data[2].amount
        ],
        [100, 0, 0]
    );
    // Anyone rebuilds it from the public data.
    assert_eq!(s.replay(&out.public_data).unwrap().root(), out.state.root());
}

#[test]
fn a_full_exit_that_pays_someone_who_does_not_own_the_account() {
    let s = state();
    let thief = L1Address([0x66; 20]);
    assert_breaks(
        &build(&s, vec![full_exit(2, thief, 100)]),
        Some(0),
        "full exit pays the owner the whole balance",
    );
}

#[test]
fn a_full_exit_that_pays_the_owner_less_than_the_balance() {
    let s = state();
    assert_breaks(
        &build(&s, vec![full_exit(1, DEPOSITOR, 60)]),
        Some(0),
        "full exit pays the owner the whole balance",
    );
}

#[test]
fn a_full_exit_of_the_owner_consumed_as_a_no_op() {
    // An operator that would rather not pay: it consumes the owner's request with amount 0.
    let s = state();
    assert_breaks(
        &build(&s, vec![full_exit(1, DEPOSITOR, 0)]),
        Some(0),
        "full exit pays the owner the whole balance",
    );
}

#[test]
fn a_full_exit_that_charges_a_fee() {
    let s = state();
    let mut tx = full_exit(1, DEPOSITOR, 100);
    tx.fee = Fr::from(1u64);
    assert_breaks(&build(&s, vec![tx]), Some(0), "unused fields are zero");
}

#[test]
fn a_full_exit_requested_by_someone_else_than_the_queued_requester() {
    // The slot pays DEPOSITOR (who owns account 1), but the L1 queued the request for a
    // stranger: the L1's aux chain has the stranger, the proof has DEPOSITOR.
    let s = state();
    let w = build(&s, vec![full_exit(1, DEPOSITOR, 100)]);
    assert!(check(&w).satisfied);
    let mut forged = w.clone();
    let mut slot = SlotData::NOOP;
    slot.tx_type = TxType::FullExit;
    slot.from = 1;
    slot.amount = 100;
    slot.requester = L1Address([0x66; 20]).to_field();
    forged.public.aux_chain = aux_chain(CHAIN, &[slot]);
    assert_breaks(&forged, None, "new root and aux chain are public");
}

#[test]
fn an_empty_leaf_that_claims_an_owner() {
    // An empty index whose leaf claims owner = requester, to be paid out of thin air (balance
    // stays 0 by the empty-leaf rule; the owner must be 0 as well).
    let s = state();
    let mut b = s.witness_builder();
    b.push_with(full_exit(9, DEPOSITOR, 0), |_, leaf| leaf, |_, leaf| leaf)
        .unwrap();
    let mut w = b.finish().unwrap().0;
    w.slots[0].sender.leaf.owner = DEPOSITOR.to_field();
    assert_breaks(&w, Some(0), "sender leaf hash");
}

#[test]
fn a_deposit_that_opens_an_account_for_another_owner_than_its_payer() {
    // The witness makes the attacker the owner of the new account 4 and hashes the attacker into
    // the aux chain; the L1 hashes the payer its queue recorded.
    let s = state();
    let attacker = L1Address([0x66; 20]);
    let d = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: attacker,
    };
    let w = build(&s, vec![SlotTx::deposit(&d, 4)]);
    assert!(check(&w).satisfied);
    let mut forged = w.clone();
    let queued = SlotData {
        tx_type: TxType::Deposit,
        from: 0,
        to: 4,
        amount: 50,
        fee: 0,
        aux_x: d.pubkey.x(),
        aux_y: d.pubkey.y(),
        requester: DEPOSITOR.to_field(),
    };
    forged.public.aux_chain = aux_chain(CHAIN, &[queued]);
    assert_breaks(&forged, None, "new root and aux chain are public");
}

#[test]
fn a_deposit_that_opens_an_account_without_making_its_payer_the_owner() {
    // The witness's new leaf keeps owner 0 (or anyone) instead of the payer: the circuit's own
    // new leaf has the payer, so the batch cannot end at the witness's root.
    let s = state();
    let d = Deposit {
        pubkey: key(5).public_key(),
        amount: 50,
        from: DEPOSITOR,
    };
    let mut b = s.witness_builder();
    b.push_with(
        SlotTx::deposit(&d, 4),
        zkr_circuits::witness::sender_effect,
        |tx, leaf| AccountLeaf {
            owner: L1Address([0x66; 20]).to_field(),
            ..zkr_circuits::witness::receiver_effect(tx, leaf)
        },
    )
    .unwrap();
    // The witness's root flows into the next slot's paths, where the circuit's own root (with
    // the payer as owner) no longer matches.
    let w = b.finish().unwrap().0;
    assert_breaks(&w, Some(1), "sender leaf is under the old root");
}

#[test]
fn a_top_up_deposit_that_changes_the_owner() {
    // Account 1 exists (owned by DEPOSITOR); a stranger tops it up and the witness hands the
    // account to the stranger.
    let s = state();
    let stranger = L1Address([0x66; 20]);
    let d = Deposit {
        pubkey: key(1).public_key(),
        amount: 5,
        from: stranger,
    };
    let mut b = s.witness_builder();
    b.push_with(
        SlotTx::deposit(&d, 1),
        zkr_circuits::witness::sender_effect,
        |tx, leaf| AccountLeaf {
            owner: stranger.to_field(),
            ..zkr_circuits::witness::receiver_effect(tx, leaf)
        },
    )
    .unwrap();
    let w = b.finish().unwrap().0;
    assert_breaks(&w, Some(1), "sender leaf is under the old root");
    // Honestly, the stranger's top-up leaves DEPOSITOR the owner.
    let out = s
        .apply_batch(&[zkr_circuits::tx::Tx::Deposit(d)], &[d.into()])
        .unwrap();
    assert_eq!(out.state.account(1).unwrap().owner, DEPOSITOR);
    assert!(check(&out.witness).satisfied);
}

#[test]
fn a_transfer_that_carries_a_requester() {
    let s = state();
    let mut tx = SlotTx::transfer(&transfer(&s, 1, 2, 10, 1));
    tx.requester = DEPOSITOR.to_field();
    assert_breaks(&build(&s, vec![tx]), Some(0), "unused fields are zero");
}

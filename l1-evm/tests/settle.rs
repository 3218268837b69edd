//! The rollup read back and settled on through `zkr_l1_evm::settle`, on the in-memory chain:
//! the queue, the accepted batches rebuilt from the events alone and the head equal the Rust
//! L1's after the same deposits and batches; attaching refuses an address without code and a
//! contract that is not a rollup; a replayed submission is refused as `Replayed`. (The same code
//! on anvil over JSON-RPC: `node/tests/anvil_e2e.rs`.)

mod common;

use common::*;
use revm::primitives::Address;
use zkr_l1_evm::rollup::evm_address;
use zkr_l1_evm::settle::accepted_batches;
use zkr_l1_evm::{EvmL1Error, EvmRejection, EvmRollup};
use zkr_verifier::L1Contract;

#[test]
fn the_contract_read_back_equals_the_rust_l1() {
    let mut r = deploy();
    let mut rust = L1Contract::new(params(), keys().vk().clone(), genesis(&mut r));
    for (l1, key, amount) in [(ALICE_L1, alice(), 100u64), (BOB_L1, bob(), 50)] {
        rust.mint(l1, 1000).unwrap();
        rust.deposit(l1, key.public_key(), amount).unwrap();
        evm_deposit(&mut r, evm_address(&l1), &key, amount);
    }
    let queue: Vec<_> = rust.state().queue.iter().copied().collect();
    assert_eq!(r.queued_requests(0, 256).unwrap(), queue);
    assert_eq!(r.queued_requests(1, 256).unwrap(), queue[1..]);
    assert_eq!(r.queued_requests(0, 1).unwrap(), queue[..1]);

    for (i, out) in three_batches(&genesis(&mut r)).iter().enumerate() {
        let s = submission(i as u64 + 1, out);
        rust.submit_batch(&s).unwrap();
        r.settle(&s).unwrap();
        // Once accepted, the same submission is refused and changes nothing.
        assert!(matches!(
            r.settle(&s),
            Err(EvmL1Error::Rejected(EvmRejection::Replayed { .. }))
        ));
    }
    assert!(r.queued_requests(0, 256).unwrap().is_empty());

    // A fresh handle on the same chain, with no memory of the transactions: everything comes
    // from the contract's storage and logs.
    let address = r.deployment.rollup;
    let mut again = EvmRollup::attach(r.chain, address, Address::ZERO).unwrap();
    let head = again.head().unwrap();
    assert_eq!(head.state_root, rust.state_root());
    assert_eq!(head.batches, 3);
    assert_eq!(again.batch_size().unwrap(), params().batch_size as u64);
    let events = again.read_events().unwrap();
    assert_eq!(accepted_batches(&events, 1).unwrap(), rust.state().batches);
    assert_eq!(
        accepted_batches(&events, 3).unwrap(),
        rust.state().batches[2..]
    );
}

#[test]
fn attaching_refuses_no_code_and_contracts_that_are_not_a_rollup() {
    let r = deploy();
    let poseidon = r.deployment.poseidon;
    let e = EvmRollup::attach(r.chain, Address::new([0x77; 20]), Address::ZERO)
        .err()
        .unwrap();
    assert!(matches!(e, EvmL1Error::NoCode(_)), "{e}");
    let r = deploy();
    let e = EvmRollup::attach(r.chain, poseidon, Address::ZERO)
        .err()
        .unwrap();
    assert!(matches!(e, EvmL1Error::NotARollup { .. }), "{e}");
}

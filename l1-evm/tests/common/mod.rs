//! Helpers shared by the contract tests: the tests' key, proofs, and a deployed rollup.

#![allow(dead_code)]

use revm::primitives::{Address, U256};
use std::sync::OnceLock;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::tx::L1Address;
use zkr_circuits::tx::{Deposit, PriorityOp, Transfer, Tx, Withdraw};
use zkr_circuits::{CircuitParams, Genesis};
use zkr_l1_evm::artifacts::{
    Artifact, TEST_KEY_BATCH_SIZE, TEST_KEY_DEPTH, TEST_KEY_SEED, TEST_VERIFIER,
};
use zkr_l1_evm::rollup::UNIT_WEI;
use zkr_l1_evm::EvmRollup;
use zkr_prover::keys::{KeySet, OsRng};
use zkr_verifier::BatchSubmission;

/// The circuit of `contracts/test/Verifier.sol`.
pub fn params() -> CircuitParams {
    CircuitParams::new(TEST_KEY_DEPTH, TEST_KEY_BATCH_SIZE).unwrap()
}

/// The tests' key: the seeded setup `contracts/test/Verifier.sol` was rendered from.
pub fn keys() -> &'static KeySet {
    static K: OnceLock<KeySet> = OnceLock::new();
    K.get_or_init(|| KeySet::generate(params(), Some(TEST_KEY_SEED)).unwrap())
}

/// A fresh chain with the rollup deployed for the tests' key.
pub fn deploy() -> EvmRollup {
    let verifier = Artifact::parse(TEST_VERIFIER).unwrap();
    EvmRollup::deploy(params(), &verifier, &alice().public_key()).unwrap()
}

/// The deployment's chain id and operator (alice: account 0 is hers from genesis).
pub fn genesis(r: &mut EvmRollup) -> Genesis {
    r.genesis().unwrap().0
}

pub fn alice() -> SecretKey {
    SecretKey::from_seed([1; 32])
}
pub fn bob() -> SecretKey {
    SecretKey::from_seed([2; 32])
}
pub const ALICE_L1: L1Address = L1Address([0xa1; 20]);
pub const BOB_L1: L1Address = L1Address([0xb0; 20]);

/// `units` circuit units in wei.
pub fn wei(units: u64) -> U256 {
    U256::from(units) * U256::from(UNIT_WEI)
}

/// Deposits `units` for `key` from `from` on the EVM rollup (funding `from` first).
pub fn evm_deposit(r: &mut EvmRollup, from: Address, key: &SecretKey, units: u64) {
    let bal = r.chain.balance(from);
    r.chain.fund(from, bal + wei(units));
    r.deposit(from, &key.public_key(), wei(units)).unwrap();
}

/// Proves `out` as batch `number`.
pub fn submission(number: u64, out: &BatchOutput) -> BatchSubmission {
    let (proof, _, _) = zkr_prover::prove(keys(), &out.witness, &mut OsRng).unwrap();
    BatchSubmission::new(
        number,
        out.public.old_root,
        out.public.new_root,
        &out.public_data,
        &proof,
    )
}

/// Batch 1: both queued deposits. Batch 2: alice pays bob 10 (fee 2), bob withdraws 30 (fee 1)
/// to BOB_L1. Batch 3: two transfers. Signed for the deployment `g`.
pub fn three_batches(g: &Genesis) -> Vec<BatchOutput> {
    let queue = [
        PriorityOp::Deposit(Deposit {
            pubkey: alice().public_key(),
            amount: 100,
            from: ALICE_L1,
        }),
        PriorityOp::Deposit(Deposit {
            pubkey: bob().public_key(),
            amount: 50,
            from: BOB_L1,
        }),
    ];
    let out1 = State::genesis(params(), g)
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    let c = g.chain_id;
    let t = Transfer::signed(&alice(), c, 0, 1, 10, 2, 0);
    let w = Withdraw::signed(&bob(), c, 1, 30, 1, 0, BOB_L1);
    let out2 = out1
        .state
        .apply_batch(&[Tx::Transfer(t), Tx::Withdraw(w)], &[])
        .unwrap();
    let t1 = Transfer::signed(&alice(), c, 0, 1, 5, 1, 1);
    let t2 = Transfer::signed(&bob(), c, 1, 0, 3, 1, 1);
    let out3 = out2
        .state
        .apply_batch(&[Tx::Transfer(t1), Tx::Transfer(t2)], &[])
        .unwrap();
    vec![out1, out2, out3]
}

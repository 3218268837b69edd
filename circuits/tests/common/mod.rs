//! Shared fixtures: small circuits (depth 4 = 16 accounts, 3 slots) and funded states.
#![allow(dead_code)]

use zkr_circuits::circuit::{BatchCircuit, CheckResult};
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::State;
use zkr_circuits::tx::{Deposit, L1Address, PriorityOp, Transfer, Tx, Withdraw};
use zkr_circuits::witness::BatchWitness;
use zkr_circuits::{CircuitParams, Genesis};

/// The test deployment's chain id (any value: the circuit does not depend on it).
pub const CHAIN: u64 = 0x5eed_c0de;

/// The L1 address that pays the tests' deposits (and so owns the accounts they open).
pub const DEPOSITOR: L1Address = L1Address([0xd0; 20]);

/// The operator's L1 address (owner of account 0).
pub const OPERATOR_L1: L1Address = L1Address([0x0b; 20]);

/// The test deployment: the operator's account 0 belongs to `key(0)`.
pub fn genesis() -> Genesis {
    Genesis {
        chain_id: CHAIN,
        operator: key(0).public_key(),
        operator_l1: OPERATOR_L1,
    }
}

pub fn params() -> CircuitParams {
    CircuitParams::new(4, 3).unwrap()
}

pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i + 1; 32])
}

/// Accounts 0..n funded with `balances`, by deposit batches from genesis (account 0 is the
/// operator's from genesis; its deposit tops it up).
pub fn funded(p: CircuitParams, balances: &[u64]) -> State {
    let queue: Vec<PriorityOp> = balances
        .iter()
        .enumerate()
        .map(|(i, &amount)| {
            PriorityOp::Deposit(Deposit {
                pubkey: key(i as u8).public_key(),
                amount,
                from: DEPOSITOR,
            })
        })
        .collect();
    let mut state = State::genesis(p, &genesis());
    for chunk in queue.chunks(p.batch_size) {
        let txs: Vec<Tx> = chunk.iter().map(PriorityOp::tx).collect();
        let out = state.apply_batch(&txs, chunk).unwrap();
        assert!(check(&out.witness).satisfied);
        state = out.state;
    }
    state
}

pub fn transfer(state: &State, from: u64, to: u64, amount: u64, fee: u64) -> Transfer {
    let nonce = state.account(from).unwrap().nonce;
    Transfer::signed(&key(from as u8), CHAIN, from, to, amount, fee, nonce)
}

pub fn withdraw(state: &State, from: u64, amount: u64, fee: u64, to: L1Address) -> Withdraw {
    let nonce = state.account(from).unwrap().nonce;
    Withdraw::signed(&key(from as u8), CHAIN, from, amount, fee, nonce, to)
}

pub fn check(w: &BatchWitness) -> CheckResult {
    BatchCircuit::new(w.clone()).unwrap().check().unwrap()
}

/// Asserts the circuit is unsatisfied and that the first failing constraint belongs to `rule`
/// in `slot` (so the witness broke that rule and nothing else before it).
#[track_caller]
pub fn assert_breaks(w: &BatchWitness, slot: Option<usize>, rule: &str) {
    let r = check(w);
    assert!(
        !r.satisfied,
        "expected the circuit to be unsatisfied (rule {rule:?})"
    );
    assert_eq!(
        r.failed_rule(),
        Some((slot, rule_static(rule))),
        "first failing rule"
    );
}

fn rule_static(rule: &str) -> &'static str {
    Box::leak(rule.to_string().into_boxed_str())
}

/// Builds a batch from raw slots with the honest effects (no native check: a test breaks a rule
/// by choosing the slots).
pub fn build(
    state: &State,
    slots: Vec<zkr_circuits::witness::SlotTx>,
) -> zkr_circuits::witness::BatchWitness {
    let mut b = state.witness_builder();
    for s in slots {
        b.push(s).unwrap();
    }
    b.finish().unwrap().0
}

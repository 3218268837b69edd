//! Hostile files to what `zkr prove` and `zkr reconstruct` read (issue 11, part 5): a batch
//! file (starting state, deposit queue, transactions) and an L1 state's record of accepted
//! batches. A damaged file is refused when it is decoded, or its state, batch or replay is a
//! typed error: never a panic, and a decoded file is exactly the file (its own JSON is the
//! input's).

#[path = "../../circuits/tests/mutate/mod.rs"]
mod mutate;

use mutate::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use zkr_circuits::state::State;
use zkr_circuits::tx::{encode_public_data, Deposit, L1Address, PriorityOp, Tx};
use zkr_circuits::{CircuitParams, Fr};
use zkr_node::cmd::example::{example, example_genesis, example_key, BatchFile, EXAMPLE_PAYER};
use zkr_node::cmd::reconstruct::replay;
use zkr_verifier::AcceptedBatch;

fn params() -> CircuitParams {
    CircuitParams::new(4, 8).unwrap()
}

/// Address spellings differ (`0x` optional, upper-case hex): written canonically.
fn normalize_addresses(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(a) = s.parse::<L1Address>() {
                *s = a.to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize_addresses),
        Value::Object(m) => m.values_mut().for_each(normalize_addresses),
        _ => {}
    }
}

#[test]
fn hostile_batch_files() {
    let file = example(params()).unwrap();
    // The example is a valid batch.
    let state = State::from_snapshot(&file.state).unwrap();
    state.apply_batch(&file.transactions, &file.queue).unwrap();
    let valid = serde_json::to_value(&file).unwrap();
    let mut runner = TestRunner::new(Config::with_cases(128));
    runner
        .run(&hostile_json(valid), |bytes| {
            let Ok(b) = serde_json::from_slice::<BatchFile>(&bytes) else {
                return Ok(());
            };
            let mut input: Value = serde_json::from_slice(&bytes).unwrap();
            let mut out = serde_json::to_value(&b).unwrap();
            normalize_addresses(&mut input);
            normalize_addresses(&mut out);
            assert_eq!(input, out, "{}", String::from_utf8_lossy(&bytes));
            if let Ok(state) = State::from_snapshot(&b.state) {
                let _ = state.apply_batch(&b.transactions, &b.queue);
            }
            Ok(())
        })
        .unwrap();
}

/// The accepted batches of an L1 state, replayed as `zkr reconstruct` does: a damaged record is
/// an error (bad hex, bad public data, broken root chain, an impossible transition), never a
/// panic.
#[test]
fn hostile_batch_records_replay_or_fail() {
    // Batch 1 from the genesis state: a deposit into the operator's account 0, one into a new
    // account.
    let genesis = example_genesis();
    let empty = State::genesis(params(), &genesis);
    let deps: Vec<PriorityOp> = (0..2u8)
        .map(|i| {
            PriorityOp::Deposit(Deposit {
                pubkey: example_key(i).public_key(),
                amount: 10 + i as u64,
                from: EXAMPLE_PAYER,
            })
        })
        .collect();
    let txs: Vec<Tx> = deps.iter().map(PriorityOp::tx).collect();
    let out = empty.apply_batch(&txs, &deps).unwrap();
    let record = vec![AcceptedBatch {
        number: 1,
        old_root: empty.root(),
        new_root: out.state.root(),
        public_data: hex::encode(encode_public_data(&out.public_data)),
        requests: vec![],
        withdrawals: vec![],
    }];
    let (_, r) = replay(params(), &genesis, &record, out.state.root()).unwrap();
    assert!(r.matches_l1);
    let valid = serde_json::to_value(&record).unwrap();
    let mut runner = TestRunner::new(Config::with_cases(128));
    runner
        .run(&hostile_json(valid), |bytes| {
            if let Ok(batches) = serde_json::from_slice::<Vec<AcceptedBatch>>(&bytes) {
                let _ = replay(params(), &genesis, &batches, Fr::from(0u64));
            }
            Ok(())
        })
        .unwrap();
}

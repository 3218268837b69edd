//! Gas of the contracts on revm (Cancun), printed as a table: `cargo test --release -p
//! zkr-l1-evm --test gas -- --nocapture`. The numbers are measured, not asserted, except
//! that a batch costs more than its Groth16 check.

mod common;

use common::*;
use revm::primitives::{Address, U256};
use zkr_circuits::poseidon::hash;
use zkr_circuits::Fr;
use zkr_l1_evm::rollup::{field_word, keyed_verifier_init_code, selector, verify_proof_calldata};
use zkr_l1_evm::{EvmSubmission, Outcome};

fn line(what: &str, o: &Outcome, per: Option<(usize, &str)>) {
    let per = per
        .map(|(n, unit)| format!("{:>9} per {unit}", o.gas_used / n as u64))
        .unwrap_or_default();
    println!(
        "| {what:<44} | {:>9} | {:>9} | {:>8} | {:>7} | {per}",
        o.gas_used, o.execution_gas, o.intrinsic_gas, o.gas_refunded
    );
}

#[test]
fn gas_of_deposits_batches_claims_and_their_parts() {
    let mut r = deploy();
    println!(
        "| {:<44} | {:>9} | {:>9} | {:>8} | {:>7} |",
        "call (revm, Cancun, solc 0.8.28, runs 1e6)", "paid", "execution", "intrinsic", "refund"
    );
    let alice_l1 = Address::new([0xa1; 20]);
    let bob_l1 = zkr_l1_evm::rollup::evm_address(&BOB_L1);
    r.chain.fund(alice_l1, wei(1000));
    r.chain.fund(bob_l1, wei(1000));
    let acc = r
        .deposit(alice_l1, &alice().public_key(), wei(100))
        .unwrap();
    line("deposit (first)", &acc.outcome, None);
    let acc = r.deposit(bob_l1, &bob().public_key(), wei(50)).unwrap();
    line("deposit", &acc.outcome, None);

    let outs = three_batches(&genesis(&mut r));
    let labels = [
        "batch 1: 2 deposits",
        "batch 2: 1 transfer + 1 withdrawal",
        "batch 3: 2 transfers",
    ];
    let mut batch_gas = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        let s = EvmSubmission::from_submission(&submission(i as u64 + 1, out)).unwrap();
        // The Groth16 check alone: verifyProof as a call to the verifier.
        if i == 2 {
            let signals = out.public.to_vec();
            let words: Vec<U256> = signals.iter().map(field_word).collect();
            let data = verify_proof_calldata(&s, &words);
            let n = signals.len();
            let v = r.chain.view(r.deployment.verifier, data.clone()).unwrap();
            assert!(v.success && v.output[31] == 1, "the proof verifies");
            line(
                &format!("Groth16Verifier.verifyProof ({n} inputs)"),
                &v,
                None,
            );
            // The same check with the key given at deployment (what `zkr demo --l1 evm` uses).
            let keyed_code = keyed_verifier_init_code(keys().vk()).unwrap();
            let keyed = r.chain.deploy(r.operator, keyed_code).unwrap();
            let k = r.chain.view(keyed, data).unwrap();
            assert!(k.success && k.output[31] == 1, "the proof verifies");
            line(
                &format!("Groth16KeyedVerifier.verifyProof ({n} inputs)"),
                &k,
                None,
            );
            let mut data = selector("hash(uint256[4])").to_vec();
            let x = [1u64, 2, 3, 4].map(Fr::from);
            for v in x {
                data.extend_from_slice(&field_word(&v).to_be_bytes::<32>());
            }
            let h = r.chain.view(r.deployment.poseidon, data).unwrap();
            assert_eq!(U256::from_be_slice(&h.output), field_word(&hash(x)));
            line("PoseidonT5.hash (4 inputs)", &h, None);
            batch_gas.push(v.execution_gas);
        }
        let acc = r.submit_batch(&s).unwrap();
        line(
            labels[i],
            &acc.outcome,
            Some((out.public_data.len(), "slot")),
        );
        batch_gas.push(acc.outcome.execution_gas);
    }
    let acc = r.claim(bob_l1).unwrap();
    line("claim", &acc.outcome, None);
    assert!(
        batch_gas[3] > batch_gas[2],
        "a batch costs more than its proof check"
    );
}

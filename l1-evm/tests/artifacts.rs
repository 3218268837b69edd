//! The committed contract artifacts: the test verifier is what `zkr export-verifier` renders for
//! the tests' key, the ABI has every error and event the Rust side decodes, the contracts fit
//! EIP-170, and Solidity's Poseidon is zkr's Poseidon.

mod common;

use common::keys;
use proptest::prelude::*;
use revm::primitives::{Address, U256};
use std::collections::BTreeMap;
use zkr_circuits::poseidon::hash;
use zkr_circuits::Fr;
use zkr_l1_evm::artifacts::{
    Artifact, KEYED_VERIFIER, POSEIDON_T3, POSEIDON_T4, POSEIDON_T5, ROLLUP, TEST_VERIFIER,
    TEST_VERIFIER_SOL,
};
use zkr_l1_evm::rollup::{field_word, selector, ERRORS, EVENTS};
use zkr_l1_evm::Chain;

/// Set to rewrite `contracts/test/Verifier.sol` from the tests' key (then run
/// `node build.mjs` in contracts/ and commit both).
const UPDATE: &str = "ZKR_UPDATE_TEST_VERIFIER";

#[test]
fn the_test_verifier_is_the_rendering_of_the_tests_key() {
    let rendered = zkr_verifier::solidity::render_verifier(keys().vk());
    if std::env::var_os(UPDATE).is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/test/Verifier.sol"
        );
        std::fs::write(path, &rendered).unwrap();
        return;
    }
    assert!(
        rendered == TEST_VERIFIER_SOL,
        "contracts/test/Verifier.sol is stale (the circuit or the renderer changed): rerun this \
         test with {UPDATE}=1, then `node build.mjs` in contracts/, and commit both"
    );
}

fn abi_signatures(artifact: &str, kind: &str) -> Vec<String> {
    let a = Artifact::parse(artifact).unwrap();
    a.abi
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .map(|e| {
            let types: Vec<&str> = e["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["type"].as_str().unwrap())
                .collect();
            format!("{}({})", e["name"].as_str().unwrap(), types.join(","))
        })
        .collect()
}

#[test]
fn the_rollup_abi_has_exactly_the_errors_and_events_the_client_decodes() {
    let mut errors = abi_signatures(ROLLUP, "error");
    let mut events = abi_signatures(ROLLUP, "event");
    errors.sort();
    events.sort();
    let mut want_errors: Vec<String> = ERRORS.iter().map(|s| s.to_string()).collect();
    let mut want_events: Vec<String> = EVENTS.iter().map(|s| s.to_string()).collect();
    want_errors.sort();
    want_events.sort();
    assert_eq!(errors, want_errors);
    assert_eq!(events, want_events);
    let fns = abi_signatures(ROLLUP, "function");
    assert!(fns.contains(&zkr_l1_evm::rollup::SUBMIT_BATCH.to_string()));
    // snarkjs's verifier for the tests' key: 3 + 2 public inputs.
    let inputs = zkr_circuits::public::num_inputs(zkr_l1_evm::artifacts::TEST_KEY_BATCH_SIZE);
    assert_eq!(
        abi_signatures(TEST_VERIFIER, "function"),
        vec![format!(
            "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[{inputs}])"
        )]
    );
    // The keyed verifier answers that call in its fallback, for its key's N.
    let mut keyed = abi_signatures(KEYED_VERIFIER, "function");
    keyed.sort();
    assert_eq!(
        keyed,
        ["inputPoints()", "nPublic()", "verifyProofSelector()"].map(String::from)
    );
    let abi: serde_json::Value = serde_json::from_str(KEYED_VERIFIER).unwrap();
    assert!(abi["abi"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "fallback"));
}

#[test]
fn every_contract_fits_eip_170() {
    for a in [
        ROLLUP,
        POSEIDON_T3,
        POSEIDON_T4,
        POSEIDON_T5,
        TEST_VERIFIER,
        KEYED_VERIFIER,
    ] {
        let a = Artifact::parse(a).unwrap();
        assert!(
            a.deployed_size() > 0 && a.deployed_size() <= 24_576,
            "{}",
            a.contract_name
        );
    }
}

fn deploy_lib(chain: &mut Chain, artifact: &str) -> Address {
    let from = Address::new([7; 20]);
    let code = Artifact::parse(artifact)
        .unwrap()
        .linked_bytecode(&BTreeMap::new())
        .unwrap();
    chain.deploy(from, code).unwrap()
}

fn poseidon_call(chain: &mut Chain, lib: &Address, inputs: &[Fr]) -> U256 {
    let sig = format!("hash(uint256[{}])", inputs.len());
    let mut data = selector(&sig).to_vec();
    for x in inputs {
        data.extend_from_slice(&field_word(x).to_be_bytes::<32>());
    }
    let out = chain.view(*lib, data).unwrap();
    assert!(out.success, "{sig} reverted");
    U256::from_be_slice(&out.output)
}

#[test]
fn solidity_poseidon_of_1_2_is_circomlibs_value_and_zkrs() {
    let mut chain = Chain::new();
    let t3 = deploy_lib(&mut chain, POSEIDON_T3);
    let got = poseidon_call(&mut chain, &t3, &[Fr::from(1u64), Fr::from(2u64)]);
    let circomlib = U256::from_str_radix(
        "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a",
        16,
    )
    .unwrap();
    assert_eq!(got, circomlib);
    assert_eq!(got, field_word(&hash([Fr::from(1u64), Fr::from(2u64)])));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// PoseidonT4 (the aux chain's hash) and PoseidonT5 equal zkr's Poseidon.
    #[test]
    fn solidity_poseidon_t5_equals_zkrs(a in any::<[u64; 4]>(), b in any::<[u64; 4]>()) {
        let mut chain = Chain::new();
        let t5 = deploy_lib(&mut chain, POSEIDON_T5);
        // Full-width field elements: a·2^192 + b mixes the high limbs in.
        let shift = ark_ff::Field::pow(&Fr::from(2u64), [192]);
        let x: [Fr; 4] = std::array::from_fn(|i| Fr::from(a[i]) * shift + Fr::from(b[i]));
        prop_assert_eq!(poseidon_call(&mut chain, &t5, &x), field_word(&hash(x)));
        let t4 = deploy_lib(&mut chain, POSEIDON_T4);
        let y = [x[0], x[1], x[2]];
        prop_assert_eq!(poseidon_call(&mut chain, &t4, &y), field_word(&hash(y)));
    }
}

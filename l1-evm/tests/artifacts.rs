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
    Artifact, EDDSA_HARNESS, KEYED_VERIFIER, OPTIMISTIC_ROLLUP, POSEIDON_T3, POSEIDON_T4,
    POSEIDON_T5, POSEIDON_T6, POSEIDON_T9, ROLLUP, STEP_EXECUTOR, TEST_VERIFIER, TEST_VERIFIER_SOL,
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
        POSEIDON_T6,
        POSEIDON_T9,
        TEST_VERIFIER,
        KEYED_VERIFIER,
        OPTIMISTIC_ROLLUP,
        STEP_EXECUTOR,
        EDDSA_HARNESS,
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

    /// PoseidonT6 (the account leaf) and PoseidonT9 (zkr's own, the 8-ary tree nodes) equal
    /// zkr's Poseidon on full-width field elements.
    #[test]
    fn solidity_poseidon_t6_and_t9_equal_zkrs(a in any::<[u64; 8]>(), b in any::<[u64; 8]>()) {
        let mut chain = Chain::new();
        let shift = ark_ff::Field::pow(&Fr::from(2u64), [192]);
        let x: [Fr; 8] = std::array::from_fn(|i| Fr::from(a[i]) * shift + Fr::from(b[i]));
        let t9 = deploy_lib(&mut chain, POSEIDON_T9);
        prop_assert_eq!(poseidon_call(&mut chain, &t9, &x), field_word(&hash(x)));
        let t6 = deploy_lib(&mut chain, POSEIDON_T6);
        let y = [x[0], x[1], x[2], x[3], x[4]];
        prop_assert_eq!(poseidon_call(&mut chain, &t6, &y), field_word(&hash(y)));
    }
}

/// PoseidonT9 at the edges: all zeros, all r - 1 (the largest field element), one input of r
/// (refused, never reduced to 0); and its gas.
#[test]
fn solidity_poseidon_t9_edges_and_gas() {
    let mut chain = Chain::new();
    let t9 = deploy_lib(&mut chain, POSEIDON_T9);
    let minus_one = -Fr::from(1u64);
    for x in [[Fr::from(0u64); 8], [minus_one; 8]] {
        assert_eq!(poseidon_call(&mut chain, &t9, &x), field_word(&hash(x)));
    }
    let mut data = selector("hash(uint256[8])").to_vec();
    let r = field_word(&minus_one) + U256::from(1u64);
    for i in 0..8 {
        let w = if i == 5 { r } else { U256::ZERO };
        data.extend_from_slice(&w.to_be_bytes::<32>());
    }
    let out = chain.view(t9, data.clone()).unwrap();
    assert!(!out.success, "an input of r must be refused");
    data[4 + 5 * 32..4 + 6 * 32].copy_from_slice(&U256::from(7u64).to_be_bytes::<32>());
    let out = chain.view(t9, data).unwrap();
    assert!(out.success);
    eprintln!(
        "PoseidonT9.hash: {} gas a call ({} execution)",
        out.gas_used, out.execution_gas
    );
    assert!(out.execution_gas < 400_000, "{} gas", out.execution_gas);
}

/// Set to rewrite `contracts/PoseidonT9Constants.sol` from zkr's Poseidon parameters (then run
/// `node build.mjs` in contracts/ and commit both).
const UPDATE_POSEIDON: &str = "ZKR_UPDATE_POSEIDON";

/// The Solidity source of Poseidon's width-9 constants, from the parameters zkr's native Poseidon
/// uses (circomlib's): round constants round-major, then the MDS matrix row-major, as 32-byte
/// big-endian words, one round (or one row) per line.
fn poseidon_t9_constants_source() -> String {
    use ark_ff::{BigInteger, PrimeField};
    let p = zkr_circuits::poseidon::native::parameters(8).unwrap();
    assert_eq!(p.width, 9);
    assert_eq!(p.ark.len(), p.width * (p.full_rounds + p.partial_rounds));
    let word = |x: &Fr| hex::encode(x.into_bigint().to_bytes_be());
    let line = |xs: &[Fr]| {
        let words: Vec<String> = xs.iter().map(word).collect();
        format!("    hex\"{}\"", words.join(""))
    };
    let mut lines: Vec<String> = p.ark.chunks(p.width).map(line).collect();
    lines.extend(p.mds.iter().map(|row| line(row)));
    format!(
        "// SPDX-License-Identifier: MIT OR Apache-2.0\n\
         // Generated from zkr's Poseidon parameters (circomlib's, width 9) by\n\
         //   ZKR_UPDATE_POSEIDON=1 cargo test --release -p zkr-l1-evm --test artifacts\n\
         // Do not edit: the test fails when this file and the parameters differ.\n\
         pragma solidity 0.8.28;\n\n\
         // Full rounds of Poseidon with 8 inputs (half before the partial rounds, half after).\n\
         uint256 constant POSEIDON_T9_FULL_ROUNDS = {};\n\
         // Partial rounds of Poseidon with 8 inputs.\n\
         uint256 constant POSEIDON_T9_PARTIAL_ROUNDS = {};\n\
         // The round constants ({} words: 9 a round, round-major), then the MDS matrix (81 words,\n\
         // row-major: next[i] = sum_j M[i][j] * state[j]), 32-byte big-endian words.\n\
         bytes constant POSEIDON_T9_CONSTANTS =\n{};\n",
        p.full_rounds,
        p.partial_rounds,
        p.ark.len(),
        lines.join("\n")
    )
}

#[test]
fn the_poseidon_t9_constants_are_zkrs_parameters() {
    let source = poseidon_t9_constants_source();
    if std::env::var_os(UPDATE_POSEIDON).is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../contracts/PoseidonT9Constants.sol"
        );
        std::fs::write(path, &source).unwrap();
        return;
    }
    assert!(
        source == zkr_l1_evm::artifacts::POSEIDON_T9_CONSTANTS_SOL,
        "contracts/PoseidonT9Constants.sol is stale: rerun this test with {UPDATE_POSEIDON}=1, \
         then `node build.mjs` in contracts/, and commit both"
    );
}

//! `zkr demo --l1 evm`: the demo settled on `contracts/Rollup.sol` in the embedded EVM, at a
//! small size (depth 4, 2 slots, 3 batches), against `zkr demo` on the Rust L1.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `zkr demo` at depth 4, 2 slots per batch, 3 batches, 2 users in `dir`, with `extra`.
fn demo(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkr"))
        .args([
            "demo",
            "--depth",
            "4",
            "--batch-size",
            "2",
            "--batches",
            "3",
            "--users",
            "2",
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn u(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} is not an integer: {v}"))
}

fn f(v: &Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number: {v}"))
}

/// The pairing precompile's price for Groth16's 4 pairs (EIP-1108: 45,000 + 4 × 34,000): no
/// batch whose proof the contract checked can cost less.
const PAIRING_GAS: u64 = 181_000;

#[test]
fn the_evm_demo_settles_on_the_contract_and_reports_gas() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = demo(dir.path(), &["--l1", "evm", "--json"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let s = json(&out);
    assert_eq!(u(&s, "batches_verified"), 3, "{s}");
    let root = s["l1_state_root"].as_str().unwrap();
    assert_eq!(
        root,
        s["l2_state_root"].as_str().unwrap(),
        "contract root = node root"
    );
    assert_ne!(root, "0");

    let total = u(&s, "l1_gas_total");
    let txs = u(&s, "deposits") + u(&s, "transfers") + u(&s, "withdrawals");
    assert!(txs > 0);
    let per_tx = f(&s, "l1_gas_per_tx");
    assert!(per_tx > 0.0);
    assert!(
        (per_tx - total as f64 / txs as f64).abs() < 1e-6,
        "l1_gas_per_tx {per_tx} = l1_gas_total {total} / {txs} transactions"
    );
    let batches = s["per_batch"].as_array().unwrap();
    assert_eq!(batches.len(), 3);
    let mut sum = 0;
    for b in batches {
        assert_eq!(b["l1_result"], "accepted", "{b}");
        let gas = u(b, "l1_gas");
        assert!(gas > PAIRING_GAS, "a batch pays at least its pairing: {b}");
        let n = u(b, "transactions");
        assert!(
            (f(b, "l1_gas_per_tx") - gas as f64 / n.max(1) as f64).abs() < 1e-6,
            "{b}"
        );
        sum += gas;
    }
    assert_eq!(sum, total, "the batches' gas adds up to l1_gas_total");

    // The human summary prints the gas and the contract's refusal of the forged batch; the keys
    // are cached by now, the EVM chain is new.
    let (code, out, err) = demo(dir.path(), &["--l1", "evm"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("L1 gas per batch:"), "{out}");
    assert!(out.contains("L1 gas per tx:"), "{out}");
    assert!(
        out.contains("forged batch:       rejected: the Groth16 proof does not verify"),
        "{out}"
    );
    assert!(out.contains("L1 logs:            replaying"), "{out}");
    assert!(out.contains("(equal)"), "{out}");
    assert!(
        !dir.path().join("l1.json").exists(),
        "the EVM run writes no Rust L1"
    );
}

#[test]
fn the_rust_l1_demo_has_no_gas_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = demo(dir.path(), &["--json"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let s = json(&out);
    assert_eq!(s["l1_state_root"], s["l2_state_root"]);
    for field in ["l1_gas_total", "l1_gas_per_tx"] {
        assert!(
            s.get(field).is_none(),
            "{field} is absent on the Rust L1: {s}"
        );
    }
    for b in s["per_batch"].as_array().unwrap() {
        assert!(
            b.get("l1_gas").is_none() && b.get("l1_gas_per_tx").is_none(),
            "{b}"
        );
    }
}

//! `zkr gas`: real proven batches on the embedded EVM, their gas per transaction, and the plain
//! L1 transactions of the same chain. One run at 32 slots checks the target of issue 10 (a
//! transfer through the rollup costs less L1 gas than a plain ETH transfer); one at 1 and 2
//! slots checks the report's shape and the refusals.

use serde_json::Value;
use std::process::Command;

fn zkr_gas(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkr"))
        .arg("gas")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(args: &[&str]) -> Value {
    let (code, out, err) = zkr_gas(args);
    assert_eq!(code, 0, "zkr gas {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn batch<'a>(r: &'a Value, slots: u64, kind: &str) -> &'a Value {
    r["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["batch_size"] == slots && b["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} batch of {slots} slots in {r}"))
}

fn u(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} is not a number in {v}"))
}

#[test]
fn a_transfer_in_a_full_32_slot_batch_costs_less_l1_gas_than_a_plain_eth_transfer() {
    let r = report(&["--depth", "6", "--batch-sizes", "32", "--json"]);
    let eth = u(&r["baselines"], "eth_transfer");
    assert_eq!(eth, 21_000, "a plain ETH transfer");
    let t = batch(&r, 32, "transfers");
    assert_eq!(u(t, "transfers"), 32);
    assert_eq!(u(t, "public_inputs"), 35);
    let per_tx = u(t, "gas_per_tx");
    assert_eq!(per_tx, u(t, "gas_paid") / 32);
    assert!(
        per_tx <= 21_000,
        "a transfer costs {per_tx} gas at 32 slots, more than a plain ETH transfer"
    );
    // The Groth16 check is the largest part, and it is paid once per batch.
    assert!(u(t, "verify_execution_gas") < u(t, "gas_paid"));
    // A mixed batch pays a Poseidon hash for each deposit and withdrawal.
    let m = batch(&r, 32, "mixed");
    assert_eq!(
        (u(m, "transfers"), u(m, "deposits"), u(m, "withdrawals")),
        (16, 8, 8)
    );
    assert!(u(m, "gas_paid") > u(t, "gas_paid"));
    assert!(u(&r["baselines"], "rollup_claim") > 21_000);
}

#[test]
fn small_batches_report_every_kind_and_cost_more_per_transaction() {
    let r = report(&["--depth", "4", "--batch-sizes", "1,2", "--json"]);
    assert!(r["evm"].as_str().unwrap().contains("Cancun"));
    let b = &r["baselines"];
    assert_eq!(u(b, "eth_transfer"), 21_000);
    assert!(u(b, "erc20_transfer_new_holder") > u(b, "erc20_transfer_existing_holder"));
    assert!(u(b, "erc20_transfer_existing_holder") > 21_000);
    assert!(u(b, "rollup_deposit") > 21_000);
    assert!(b["rollup_claim"].is_null(), "no withdrawal below 4 slots");
    assert!(u(b, "poseidon_t5_execution") > u(b, "poseidon_t4_execution"));
    for slots in [1, 2] {
        for kind in ["deposits", "transfers", "mixed"] {
            let x = batch(&r, slots, kind);
            assert_eq!(u(x, "public_inputs"), 3 + slots);
            assert_eq!(
                u(x, "deposits") + u(x, "transfers") + u(x, "withdrawals"),
                slots,
                "every slot used"
            );
            assert!(u(x, "gas_paid") > u(x, "verify_execution_gas"));
        }
    }
    // The verifier is shared: two transfers cost less each than one alone.
    let one = u(batch(&r, 1, "transfers"), "gas_per_tx");
    let two = u(batch(&r, 2, "transfers"), "gas_per_tx");
    assert!(two < one, "{two} per transfer at 2 slots, {one} at 1");
    // Two slots of a mixed batch: a transfer and a deposit.
    let m = batch(&r, 2, "mixed");
    assert_eq!((u(m, "transfers"), u(m, "deposits")), (1, 1));
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let (code, _, err) = zkr_gas(&["--batch-sizes", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("at least 1 slot"), "{err}");
    // Depth 2 holds 4 accounts; 4 slots need 4 senders and a depositor.
    let (code, _, err) = zkr_gas(&["--depth", "2", "--batch-sizes", "4"]);
    assert_ne!(code, 0);
    assert!(err.contains("raise --depth"), "{err}");
}

//! The optimistic rollup's processes on loopback: `zkr optimistic-l1` accepts an honest batch
//! and a fraudulent one (it checks nothing it would have to execute); `zkr watch` finds the
//! forged transfer step by step and proves it with a one-step fraud proof: the batch is
//! reverted, half the bond paid to the watcher. A false challenge and a malformed one are refused
//! with nothing changed; the honest batch then finalizes after its window; the L1 restarts
//! after `kill -9` with everything it accepted.

#[allow(dead_code)]
mod common;

use common::{http, spawn, Proc};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::state::State;
use zkr_circuits::tx::{encode_public_data, PriorityOp, SlotData, Transfer, Tx};
use zkr_circuits::witness::SlotTx;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_verifier::optimistic::OptimisticSubmission;

const ZKR: &str = env!("CARGO_BIN_EXE_zkr");
const WINDOW_S: u64 = 4;
const BOND: u64 = 500;
const POSTER: &str = "0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
const WATCHER: &str = "0x7777777777777777777777777777777777777777";

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn start_l1(d: &Path) -> Proc {
    let w = WINDOW_S.to_string();
    let b = BOND.to_string();
    spawn(
        d,
        &[
            "optimistic-l1",
            "--data-dir",
            "opt",
            "--depth",
            "4",
            "--batch-size",
            "2",
            "--operator",
            "operator",
            "--window-s",
            &w,
            "--bond",
            &b,
            "--listen",
            "127.0.0.1:0",
        ],
    )
}

fn get(l1: &Proc, path: &str) -> Value {
    let (code, body) = http(&l1.addr, "GET", path, b"");
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn post(l1: &Proc, path: &str, v: &Value) -> (u16, Value) {
    let (code, body) = http(&l1.addr, "POST", path, v.to_string().as_bytes());
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(secs), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_watcher_process_proves_a_fraud_and_an_honest_batch_finalizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The wallet with the operator's key (account 0's from genesis).
    let op = SecretKey::from_seed(common::OPERATOR_SEED);
    std::fs::write(
        d.join("zkr-wallet.json"),
        json!({"keys": [{"name": "operator", "secret_key": op.to_hex(), "l1_address": POSTER}]})
            .to_string(),
    )
    .unwrap();
    let mut l1 = start_l1(d);
    let g = get(&l1, "/genesis");
    let params = CircuitParams::new(4, 2).unwrap();
    let genesis = Genesis {
        chain_id: g["chain_id"].as_u64().unwrap(),
        operator: op.public_key(),
        operator_l1: POSTER.parse().unwrap(),
    };
    assert_eq!(g["window_s"], WINDOW_S);

    // Deposits, then batch 1 (honest) consuming them.
    post(&l1, "/mint", &json!({"to": POSTER, "amount": 10 * BOND}));
    let users = [
        (1u8, "0x00000000000000000000000000000000000000a1", 100u64),
        (2, "0x00000000000000000000000000000000000000b0", 50),
    ];
    let mut queue = Vec::new();
    for (k, addr, amount) in users {
        post(&l1, "/mint", &json!({"to": addr, "amount": amount}));
        let (code, _) = post(
            &l1,
            "/deposit",
            &json!({"from": addr, "pubkey": key(k).public_key(), "amount": amount}),
        );
        assert_eq!(code, 200);
        queue.push(PriorityOp::Deposit(zkr_circuits::tx::Deposit {
            pubkey: key(k).public_key(),
            amount,
            from: addr.parse().unwrap(),
        }));
    }
    let s0 = State::genesis(params, &genesis);
    let txs: Vec<Tx> = queue.iter().map(PriorityOp::tx).collect();
    let out1 = s0.apply_batch(&txs, &queue).unwrap();
    let b1 = OptimisticSubmission::from_batch(1, &out1, &txs).unwrap();
    let (code, r) = post(&l1, "/batch", &json!({"poster": POSTER, "batch": b1}));
    assert_eq!(code, 200, "{r}");

    // Batch 2: a forged transfer of 90 from alice's account to bob's, roots computed
    // mechanically. The L1 accepts it.
    let s1 = out1.state.clone();
    let (a, b) = (
        s1.index_of(&key(1).public_key()).unwrap(),
        s1.index_of(&key(2).public_key()).unwrap(),
    );
    let forged = Transfer::signed(&key(2), genesis.chain_id, a, b, 90, 0, 0);
    let mut bld = s1.witness_builder();
    let mut roots = Vec::new();
    for slot in [SlotTx::transfer(&forged), SlotTx::noop()] {
        bld.push(slot).unwrap();
        roots.push(fr_to_decimal(&bld.root()));
    }
    let (w, _) = bld.finish().unwrap();
    let data = [
        SlotData {
            tx_type: zkr_circuits::tx::TxType::Transfer,
            from: a,
            to: b,
            amount: 90,
            fee: 0,
            aux_x: Default::default(),
            aux_y: Default::default(),
            requester: Default::default(),
        },
        SlotData::NOOP,
    ];
    let bad = OptimisticSubmission {
        number: 2,
        old_root: fr_to_decimal(&w.old_root),
        new_root: fr_to_decimal(&w.public.new_root),
        public_data: hex::encode(encode_public_data(&data)),
        signatures: vec![Some(forged.signature), None],
        step_roots: roots,
    };
    let (code, r) = post(&l1, "/batch", &json!({"poster": POSTER, "batch": bad}));
    assert_eq!(code, 200, "{r}");
    assert_eq!(get(&l1, "/root")["batches"], 2);

    // A false challenge (batch 1's honest first step) and a malformed one: refused.
    let honest = zkr_circuits::step::find_fraud(
        &s0,
        &zkr_circuits::step::PostedSteps {
            slots: out1.public_data.clone(),
            signatures: vec![None, None],
            step_roots: vec![Default::default(), Default::default()],
            new_root: out1.public.new_root,
        },
    )
    .unwrap()
    .unwrap();
    let (code, r) = post(
        &l1,
        "/challenge",
        &json!({"challenger": WATCHER, "number": 1, "step": honest.step, "witness": honest.witness}),
    );
    assert_eq!((code, r["kind"].as_str()), (422, Some("no_fraud")), "{r}");
    let (code, r) = post(
        &l1,
        "/challenge",
        &json!({"challenger": WATCHER, "number": 2, "step": "fees"}),
    );
    assert_eq!(code, 400, "{r}");
    assert_eq!(get(&l1, "/root")["batches"], 2);

    // The watcher: finds and proves the fraud.
    let mut watch = Command::new(ZKR)
        .args([
            "watch",
            "--l1",
            &format!("http://{}", l1.addr),
            "--address",
            WATCHER,
            "--poll-ms",
            "100",
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the watcher's fraud proof", 30, || {
        get(&l1, "/root")["frauds"] == 1
    });
    let _ = watch.kill();
    let _ = watch.wait();
    let frauds = get(&l1, "/frauds");
    assert_eq!(frauds[0]["number"], 2, "{frauds}");
    assert_eq!(frauds[0]["reverted"], json!([2]), "{frauds}");
    assert_eq!(frauds[0]["violation"], "bad_signature", "{frauds}");
    assert_eq!(
        get(&l1, &format!("/balance/{WATCHER}"))["balance"],
        (BOND / 2).to_string(),
        "half the bond to the watcher, half burned"
    );
    let root = get(&l1, "/root");
    assert_eq!(root["batches"], 1);
    assert_eq!(root["head_root"], fr_to_decimal(&s1.root()));

    // `zkr watch --once` on what remains: batch 1 checked, nothing to challenge.
    let out = Command::new(ZKR)
        .args([
            "watch",
            "--once",
            "--l1",
            &format!("http://{}", l1.addr),
            "--address",
            WATCHER,
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(lines.contains(r#""event":"checked""#), "{lines}");
    assert!(!lines.contains("challenged"), "{lines}");

    // The L1, killed with SIGKILL, restarts with everything it accepted; past the window the
    // honest batch is final.
    drop(l1);
    l1 = start_l1(d);
    assert_eq!(get(&l1, "/root")["batches"], 1);
    assert_eq!(get(&l1, "/frauds")[0]["number"], 2);
    wait_until("batch 1 to be final", WINDOW_S + 10, || {
        get(&l1, "/root")["final_batches"] == 1
    });
    assert_eq!(get(&l1, "/root")["final_root"], fr_to_decimal(&s1.root()));
}

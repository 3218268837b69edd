//! `zkr l1` as a real process on loopback: deposits, a proven batch, typed HTTP errors, and a
//! restart that keeps the accepted state.

mod common;

use common::{http, setup_keys, spawn, Proc};
use std::path::Path;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::State;
use zkr_circuits::tx::{Deposit, L1Address, PriorityOp};
use zkr_prover::keys::{KeySet, OsRng};
use zkr_verifier::BatchSubmission;

/// `zkr l1` on `l1data` with the keys in `keys`, on a free port.
const L1_ARGS: [&str; 9] = [
    "l1",
    "--data-dir",
    "l1data",
    "--keys",
    "keys",
    "--listen",
    "127.0.0.1:0",
    "--operator",
    "operator",
];

fn start(dir: &Path) -> Proc {
    spawn(dir, &L1_ARGS)
}

#[test]
fn l1_service_accepts_proven_batches_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 5);
    let l1 = start(d);
    let a = &l1.addr;

    // A second `zkr l1` on the same data directory refuses to start, and says why.
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_zkr"))
        .args(L1_ARGS)
        .current_dir(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while second.try_wait().unwrap().is_none() {
        if t.elapsed() > std::time::Duration::from_secs(30) {
            second.kill().unwrap();
            panic!("a second zkr l1 started on a data directory in use");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = second.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another process"), "{err}");

    let (c, body) = http(a, "GET", "/root", b"");
    assert_eq!(c, 200, "{body}");
    let root0: serde_json::Value = serde_json::from_str(&body).unwrap();

    // Bad input: 4xx with a JSON error, and the service keeps running.
    assert_eq!(http(a, "POST", "/deposit", b"{not json").0, 400);
    assert_eq!(
        http(
            a,
            "POST",
            "/deposit",
            br#"{"from":"0x01","pubkey":{"x":"1","y":"2"},"amount":5}"#
        )
        .0,
        400
    );
    assert_eq!(http(a, "GET", "/nowhere", b"").0, 404);
    assert_eq!(http(a, "POST", "/batch", &vec![b' '; 2 << 20]).0, 413);
    let (c, body) = http(a, "GET", "/balance/0xzz", b"");
    assert_eq!(c, 400, "{body}");

    // Fund two L1 accounts and deposit two L2 keys.
    let alice = SecretKey::from_seed([1; 32]);
    let bob = SecretKey::from_seed([2; 32]);
    let addr = |b: u8| L1Address([b; 20]);
    for (who, key) in [(1u8, &alice), (2, &bob)] {
        let mint = serde_json::json!({ "to": addr(who), "amount": 100 });
        assert_eq!(http(a, "POST", "/mint", mint.to_string().as_bytes()).0, 200);
        let dep =
            serde_json::json!({ "from": addr(who), "pubkey": key.public_key(), "amount": 60 });
        let (c, body) = http(a, "POST", "/deposit", dep.to_string().as_bytes());
        assert_eq!(c, 200, "{body}");
    }
    let over = serde_json::json!({ "from": addr(1), "pubkey": alice.public_key(), "amount": 1000 });
    let (c, body) = http(a, "POST", "/deposit", over.to_string().as_bytes());
    assert_eq!(c, 422, "{body}");
    assert!(body.contains("deposit_refused"));

    // Prove the batch that consumes both deposits and submit it.
    let keys = KeySet::load(&d.join("keys")).unwrap();
    let (c, body) = http(a, "GET", "/queue", b"");
    assert_eq!(c, 200, "{body}");
    let queued: Vec<zkr_verifier::QueuedRequest> = serde_json::from_str(&body).unwrap();
    let queue: Vec<PriorityOp> = queued.iter().map(|q| q.request).collect();
    assert_eq!(
        queue,
        [
            PriorityOp::Deposit(Deposit {
                pubkey: alice.public_key(),
                amount: 60,
                from: addr(1),
            }),
            PriorityOp::Deposit(Deposit {
                pubkey: bob.public_key(),
                amount: 60,
                from: addr(2),
            }),
        ]
    );
    // Full exits: malformed, and an account outside the tree (16 accounts), are refused.
    assert_eq!(http(a, "POST", "/full-exit", b"{\"account\": 1}").0, 400);
    let far = serde_json::json!({ "requester": addr(2), "account": 16 });
    let (c, body) = http(a, "POST", "/full-exit", far.to_string().as_bytes());
    assert_eq!(c, 422, "{body}");
    assert!(body.contains("full_exit_refused"), "{body}");
    let (c, body) = http(a, "GET", "/genesis", b"");
    assert_eq!(c, 200, "{body}");
    let g: serde_json::Value = serde_json::from_str(&body).unwrap();
    let genesis = zkr_circuits::Genesis {
        chain_id: g["chain_id"].as_u64().unwrap(),
        operator: serde_json::from_value(g["operator"].clone()).unwrap(),
        operator_l1: serde_json::from_value(g["operator_l1"].clone()).unwrap(),
    };
    assert_eq!(genesis.operator, alice.public_key(), "alice operates it");
    let genesis_state = State::genesis(keys.meta.params, &genesis);
    assert_eq!(
        g["genesis_root"],
        zkr_circuits::field::fr_to_decimal(&genesis_state.root())
    );
    assert_eq!(root0["state_root"], g["genesis_root"]);
    let out = genesis_state
        .apply_batch(&[queue[0].tx(), queue[1].tx()], &queue)
        .unwrap();
    let (proof, _, _) = zkr_prover::prove(&keys, &out.witness, &mut OsRng).unwrap();
    let sub = BatchSubmission::new(
        1,
        out.public.old_root,
        out.public.new_root,
        &out.public_data,
        &proof,
    );
    let mut forged = sub.clone();
    forged.new_root = "7".into();
    let (c, body) = http(
        a,
        "POST",
        "/batch",
        serde_json::to_string(&forged).unwrap().as_bytes(),
    );
    assert_eq!(c, 422, "{body}");
    assert!(body.contains("bad_proof"), "{body}");
    let (c, body) = http(
        a,
        "POST",
        "/batch",
        serde_json::to_string(&sub).unwrap().as_bytes(),
    );
    assert_eq!(c, 200, "{body}");
    let (c, body) = http(
        a,
        "POST",
        "/batch",
        serde_json::to_string(&sub).unwrap().as_bytes(),
    );
    assert_eq!(c, 422);
    assert!(body.contains("replayed"), "{body}");

    let (_, body) = http(a, "GET", "/root", b"");
    let root1: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_ne!(root0["state_root"], root1["state_root"]);
    assert_eq!(root1["batches"], 1);
    assert_eq!(root1["pending_requests"], 0);
    let (_, body) = http(a, "GET", "/batches?from=1", b"");
    assert!(body.contains(&sub.public_data));

    // Restart: the accepted state is still there.
    drop(l1);
    let l1 = start(d);
    let (_, body) = http(&l1.addr, "GET", "/root", b"");
    let root2: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(root1, root2);
}

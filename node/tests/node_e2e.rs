//! `zkr l1` and `zkr node` as real processes on loopback, driven by the wallet commands:
//! deposits, transfers and withdrawals all final, roots equal, withdrawals credited on L1,
//! `zkr reconstruct` equal; bad input on the node's API; a node killed with SIGKILL in the
//! middle of a run restarts and loses nothing; a node pointed at another L1 refuses to start.

mod common;

use common::{setup_keys, spawn, Proc};

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const ZKR: &str = env!("CARGO_BIN_EXE_zkr");

fn start_l1(dir: &Path, data: &str) -> Proc {
    spawn(
        dir,
        &[
            "l1",
            "--data-dir",
            data,
            "--keys",
            "keys",
            "--listen",
            "127.0.0.1:0",
            "--wallet",
            "w.json",
            "--operator",
            "operator",
        ],
    )
}

/// `zkr node` on `DIR/node` with the shared keys, against `l1`, on a free port.
fn node_args(l1: &Proc, batch_timeout_ms: u64) -> Vec<String> {
    [
        "node",
        "--data-dir",
        "node",
        "--keys",
        "keys",
        "--l1",
        &format!("http://{}", l1.addr),
        "--listen",
        "127.0.0.1:0",
        "--batch-timeout-ms",
        &batch_timeout_ms.to_string(),
    ]
    .map(String::from)
    .to_vec()
}

fn start_node(dir: &Path, l1: &Proc, batch_timeout_ms: u64) -> Proc {
    let args = node_args(l1, batch_timeout_ms);
    spawn(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Runs `zkr ARGS` in `dir` to completion.
fn zkr(dir: &Path, args: &[&str]) -> Output {
    Command::new(ZKR)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs `zkr ARGS`, asserts success, parses its JSON output.
fn zkr_json(dir: &Path, args: &[&str]) -> Value {
    let out = zkr(dir, args);
    assert!(
        out.status.success(),
        "zkr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One HTTP/1.1 request; returns (status, parsed JSON body).
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let (status, body) = common::http(addr, method, path, body);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn wait_until(what: &str, timeout_s: u64, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(timeout_s),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Keys for depth 4 (16 accounts) and 2 slots per batch, and a wallet with `names`.
fn prepare(dir: &Path, names: &[&str]) {
    setup_keys(dir, 11);
    for n in names {
        zkr_json(dir, &["wallet", "new", "--wallet", "w.json", "--name", n]);
    }
}

fn deposit(dir: &Path, l1: &Proc, name: &str, amount: u64) {
    let url = format!("http://{}", l1.addr);
    zkr_json(
        dir,
        &[
            "deposit",
            "--wallet",
            "w.json",
            "--name",
            name,
            "--amount",
            &amount.to_string(),
            "--mint",
            "--l1",
            &url,
        ],
    );
}

fn account(dir: &Path, node: &Proc, name: &str) -> Option<Value> {
    let url = format!("http://{}", node.addr);
    let out = zkr(
        dir,
        &[
            "account", "--wallet", "w.json", "--name", name, "--node", &url,
        ],
    );
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn l1_root(l1: &Proc) -> String {
    http(&l1.addr, "GET", "/root", b"").1["state_root"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn deposits_transfers_withdrawals_settle_on_l1_and_bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, &["operator", "alice", "bob"]);
    let l1 = start_l1(d, "l1");
    let node = start_node(d, &l1, 300);
    let nurl = format!("http://{}", node.addr);

    deposit(d, &l1, "operator", 1);
    deposit(d, &l1, "alice", 1000);
    deposit(d, &l1, "bob", 500);
    wait_until("the deposits to be executed", 60, || {
        account(d, &node, "bob").is_some()
    });
    let alice = account(d, &node, "alice").unwrap();
    assert_eq!(alice["balance"], 1000);
    let alice_index = alice["index"].as_u64().unwrap();

    // A transfer and a withdrawal, each followed to finality.
    let t = zkr_json(
        d,
        &[
            "transfer",
            "--wallet",
            "w.json",
            "--name",
            "alice",
            "--to",
            "bob",
            "--amount",
            "300",
            "--fee",
            "2",
            "--node",
            &nurl,
            "--wait",
            "--timeout-s",
            "120",
        ],
    );
    assert_eq!(t["status"], "final", "{t}");
    let hash = t["hash"].as_str().unwrap().to_string();
    let w = zkr_json(
        d,
        &[
            "withdraw",
            "--wallet",
            "w.json",
            "--name",
            "bob",
            "--amount",
            "700",
            "--fee",
            "1",
            "--node",
            &nurl,
            "--wait",
            "--timeout-s",
            "120",
        ],
    );
    assert_eq!(w["status"], "final", "{w}");
    assert_eq!(account(d, &node, "alice").unwrap()["balance"], 698);
    assert_eq!(account(d, &node, "bob").unwrap()["balance"], 99);
    assert_eq!(account(d, &node, "operator").unwrap()["balance"], 4);

    // The withdrawal was credited on L1 to bob's address.
    let bob_l1 = zkr_json(d, &["wallet", "list", "--wallet", "w.json"])["keys"][2]["l1_address"]
        .as_str()
        .unwrap()
        .to_string();
    let (c, bal) = http(&l1.addr, "GET", &format!("/balance/{bob_l1}"), b"");
    assert_eq!(c, 200);
    assert_eq!(
        bal["balance"], "700",
        "bob minted 500, deposited 500, withdrew 700"
    );

    // Every stage is visible through the CLI.
    let shown = zkr_json(d, &["tx", &hash, "--node", &nurl]);
    assert_eq!(shown["status"], "final");
    assert!(shown["batch"].as_u64().unwrap() >= 1);

    // Roots: node, L1 and a reconstruction from the L1's data alone agree.
    let (_, status) = http(&node.addr, "GET", "/status", b"");
    assert_eq!(status["final_root"], status["state_root"], "{status}");
    assert_eq!(status["final_root"].as_str().unwrap(), l1_root(&l1));
    let rec = zkr_json(d, &["reconstruct", "--data-dir", "l1", "--json"]);
    assert_eq!(rec["state_root"].as_str().unwrap(), l1_root(&l1));

    // Bad input: 4xx with a JSON error and a kind; nothing changes, the node keeps running.
    let a = &node.addr;
    let acct = |i: u64| http(a, "GET", &format!("/account/{i}"), b"").1;
    let before = acct(alice_index);
    let next_nonce = before["next_nonce"].as_u64().unwrap();
    let kind = |(c, v): (u16, Value)| (c, v["kind"].as_str().unwrap_or("").to_string());
    assert_eq!(
        kind(http(a, "POST", "/tx", b"{not json")),
        (400, "malformed_request".into())
    );
    assert_eq!(
        kind(http(a, "POST", "/tx", br#"{"type":"transfer"}"#)).0,
        400
    );
    assert_eq!(
        kind(http(a, "GET", "/account/99", b"")),
        (404, "unknown_account".into())
    );
    assert_eq!(kind(http(a, "GET", "/account/x", b"")).0, 400);
    assert_eq!(kind(http(a, "GET", "/tx/0x12", b"")).0, 400);
    assert_eq!(kind(http(a, "GET", "/nowhere", b"")).0, 404);
    assert_eq!(kind(http(a, "POST", "/tx", &vec![b' '; 100_000])).0, 413);

    // Signed transactions that break one rule each, built from a valid one.
    let sk_hex = {
        let w: Value = serde_json::from_slice(&std::fs::read(d.join("w.json")).unwrap()).unwrap();
        w["keys"][1]["secret_key"].as_str().unwrap().to_string()
    };
    let sk = zkr_circuits::eddsa::SecretKey::from_hex(&sk_hex).unwrap();
    let chain = status["chain_id"].as_u64().unwrap();
    let bob_index = account(d, &node, "bob").unwrap()["index"].as_u64().unwrap();
    let transfer = |to: u64, amount: u64, nonce: u64| {
        zkr_circuits::tx::Tx::Transfer(zkr_circuits::tx::Transfer::signed(
            &sk,
            chain,
            alice_index,
            to,
            amount,
            0,
            nonce as u32,
        ))
    };
    let post =
        |tx: &zkr_circuits::tx::Tx| kind(http(a, "POST", "/tx", &serde_json::to_vec(tx).unwrap()));
    assert_eq!(
        post(&transfer(bob_index, 1, next_nonce - 1)),
        (422, "stale_nonce".into())
    );
    assert_eq!(
        post(&transfer(bob_index, 1, next_nonce + 1)),
        (422, "future_nonce".into())
    );
    assert_eq!(
        post(&transfer(bob_index, 699, next_nonce)),
        (422, "insufficient_balance".into())
    );
    assert_eq!(
        post(&transfer(15, 1, next_nonce)),
        (422, "unknown_account".into())
    );
    let mut forged = transfer(bob_index, 1, next_nonce);
    if let zkr_circuits::tx::Tx::Transfer(t) = &mut forged {
        t.amount = 2; // the signature was for 1
    }
    assert_eq!(post(&forged), (422, "bad_signature".into()));
    let deposit_tx = zkr_circuits::tx::Tx::Deposit(zkr_circuits::tx::Deposit {
        pubkey: sk.public_key(),
        amount: 5,
        from: Default::default(),
    });
    assert_eq!(post(&deposit_tx), (422, "unsupported_type".into()));
    // A full exit is an L1 request too, never an L2 transaction.
    let exit_tx = zkr_circuits::tx::Tx::FullExit(zkr_circuits::tx::FullExit {
        account: alice_index,
        requester: Default::default(),
    });
    assert_eq!(post(&exit_tx), (422, "unsupported_type".into()));
    // A valid one is accepted once; the same again is a duplicate.
    let ok = transfer(bob_index, 1, next_nonce);
    assert_eq!(post(&ok).0, 200);
    assert_eq!(post(&ok), (409, "duplicate".into()));
    // Pending spending counts: 698 - 1 left, so 698 is too much now.
    assert_eq!(
        post(&transfer(bob_index, 698, next_nonce + 1)),
        (422, "insufficient_balance".into())
    );
    let after = acct(alice_index);
    assert_eq!(after["next_nonce"].as_u64().unwrap(), next_nonce + 1);
    assert_eq!(after["spendable"].as_u64().unwrap(), 697);
    assert_eq!(http(a, "GET", "/status", b"").0, 200);

    // A client that announces a body and sends it slowly does not block everyone else.
    let mut slow = std::net::TcpStream::connect(a).unwrap();
    write!(
        slow,
        "POST /tx HTTP/1.1\r\nHost: {a}\r\nContent-Length: 60000\r\n\r\n{{"
    )
    .unwrap();
    slow.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert_eq!(http(a, "GET", "/status", b"").0, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(slow);
}

#[test]
fn a_killed_node_restarts_from_rocksdb_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, &["operator", "alice", "bob"]);
    let l1 = start_l1(d, "l1");
    // A long batch timeout: an odd transaction count leaves the last one in the mempool, so the
    // kill below always lands with an acknowledged, unexecuted transaction.
    let mut node = start_node(d, &l1, 3000);
    deposit(d, &l1, "operator", 1);
    deposit(d, &l1, "alice", 1000);
    deposit(d, &l1, "bob", 1000);
    wait_until("the deposits to be executed", 60, || {
        account(d, &node, "bob").is_some()
    });

    // Submit transfers without waiting, and kill the node while batches are in flight.
    let mut hashes = Vec::new();
    for i in 0..7 {
        let (from, to) = if i % 2 == 0 {
            ("alice", "bob")
        } else {
            ("bob", "alice")
        };
        let nurl = format!("http://{}", node.addr);
        let t = zkr_json(
            d,
            &[
                "transfer", "--wallet", "w.json", "--name", from, "--to", to, "--amount", "10",
                "--fee", "1", "--node", &nurl,
            ],
        );
        assert_eq!(t["status"], "pending");
        hashes.push(t["hash"].as_str().unwrap().to_string());
    }
    let (_, s) = http(&node.addr, "GET", "/status", b"");
    assert!(
        s["mempool"].as_u64().unwrap() > 0,
        "the kill should land mid-run: {s}"
    );
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    drop(node);

    // Restart on the same database: every acknowledged transaction becomes final.
    let node = start_node(d, &l1, 300);
    let nurl = format!("http://{}", node.addr);
    for h in &hashes {
        let v = zkr_json(
            d,
            &["tx", h, "--node", &nurl, "--wait", "--timeout-s", "120"],
        );
        assert_eq!(v["status"], "final", "{v}");
    }
    // alice sent 4 × (10 + 1) and received 3 × 10; bob sent 3 × 11 and received 4 × 10.
    assert_eq!(account(d, &node, "alice").unwrap()["balance"], 986);
    assert_eq!(account(d, &node, "bob").unwrap()["balance"], 1007);
    wait_until("the node to settle everything", 60, || {
        let (_, s) = http(&node.addr, "GET", "/status", b"");
        s["batches"]["final"] == s["batches"]["sealed"] && s["mempool"] == 0
    });
    let (_, s) = http(&node.addr, "GET", "/status", b"");
    assert_eq!(s["state_root"].as_str().unwrap(), l1_root(&l1));
    drop(node);

    // The same node database against another L1 (fresh, root = empty tree): refused, with why.
    let other = start_l1(d, "other-l1");
    let args = node_args(&other, 300);
    let out = zkr(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to start") && err.contains("L1"),
        "{err}"
    );
}

/// A user leaves through the L1 alone: `zkr full-exit` queues a request on `zkr l1`, the node
/// must include it, and the whole balance is credited to the owner's L1 address; a request by
/// someone who does not own the account is consumed and pays nothing.
#[test]
fn a_full_exit_queued_on_l1_pays_the_owner_and_only_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, &["operator", "alice", "mallory"]);
    let l1 = start_l1(d, "l1");
    let node = start_node(d, &l1, 300);
    let lurl = format!("http://{}", l1.addr);
    deposit(d, &l1, "alice", 1000);
    deposit(d, &l1, "mallory", 5);
    wait_until("the deposits to be executed", 60, || {
        account(d, &node, "mallory").is_some()
    });
    let alice = account(d, &node, "alice").unwrap();
    let index = alice["index"].as_u64().unwrap().to_string();
    let addresses = zkr_json(d, &["wallet", "list", "--wallet", "w.json"]);
    let l1_of = |i: usize| {
        addresses["keys"][i]["l1_address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let balance =
        |a: &str| http(&l1.addr, "GET", &format!("/balance/{a}"), b"").1["balance"].clone();
    assert_eq!(
        balance(&l1_of(1)),
        "0",
        "alice minted 1000 and deposited it"
    );

    // Mallory asks for alice's account, then alice does (by index: no node needed).
    let m = zkr_json(
        d,
        &[
            "full-exit",
            "--wallet",
            "w.json",
            "--name",
            "mallory",
            "--index",
            &index,
            "--l1",
            &lurl,
        ],
    );
    let a = zkr_json(
        d,
        &[
            "full-exit",
            "--wallet",
            "w.json",
            "--name",
            "alice",
            "--index",
            &index,
            "--l1",
            &lurl,
        ],
    );
    assert_eq!(
        (m["request_id"].as_u64(), a["request_id"].as_u64()),
        (Some(2), Some(3))
    );
    wait_until("the full exits to be final", 120, || {
        // The L1's queue empty means a batch it accepted consumed both requests.
        let q = http(&l1.addr, "GET", "/root", b"").1;
        let s = http(&node.addr, "GET", "/status", b"").1;
        q["pending_requests"] == 0 && s["batches"]["final"] == s["batches"]["sealed"]
    });
    assert_eq!(
        balance(&l1_of(1)),
        "1000",
        "alice got her whole balance on L1"
    );
    assert_eq!(balance(&l1_of(2)), "0", "mallory got nothing");
    assert_eq!(account(d, &node, "alice").unwrap()["balance"], 0);
    assert_eq!(account(d, &node, "mallory").unwrap()["balance"], 5);
    let rec = zkr_json(d, &["reconstruct", "--data-dir", "l1", "--json"]);
    assert_eq!(rec["state_root"].as_str().unwrap(), l1_root(&l1));

    // An account outside the tree (16 accounts) is refused with a clear error.
    let out = zkr(
        d,
        &[
            "full-exit",
            "--wallet",
            "w.json",
            "--name",
            "alice",
            "--index",
            "16",
            "--l1",
            &lurl,
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
}

/// Exodus mode as real processes: the operator stops while a full exit waits; past the L1's
/// priority deadline anyone switches the L1 to exodus mode, and each owner withdraws once with a
/// Merkle proof that `zkr exit` builds from the L1's public data alone.
#[test]
fn an_operator_that_stops_leaves_its_users_an_exodus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    prepare(d, &["operator", "alice", "bob"]);
    let l1 = spawn(
        d,
        &[
            "l1",
            "--data-dir",
            "l1",
            "--keys",
            "keys",
            "--listen",
            "127.0.0.1:0",
            "--wallet",
            "w.json",
            "--operator",
            "operator",
            "--priority-deadline-s",
            "3",
        ],
    );
    let lurl = format!("http://{}", l1.addr);
    let node = start_node(d, &l1, 300);
    deposit(d, &l1, "alice", 1000);
    deposit(d, &l1, "bob", 500);
    wait_until("the deposits to be final", 120, || {
        // The accounts first, then the heights: both deposits sealed, and every sealed batch
        // final on L1.
        if account(d, &node, "bob").is_none() || account(d, &node, "alice").is_none() {
            return false;
        }
        let s = http(&node.addr, "GET", "/status", b"").1;
        s["batches"]["sealed"].as_u64() >= Some(1)
            && s["batches"]["final"] == s["batches"]["sealed"]
    });
    drop(node); // the operator stops

    let addresses = zkr_json(d, &["wallet", "list", "--wallet", "w.json"]);
    let l1_of = |i: usize| {
        addresses["keys"][i]["l1_address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let balance =
        |a: &str| http(&l1.addr, "GET", &format!("/balance/{a}"), b"").1["balance"].clone();
    let wallet = |cmd: &str, name: &str| {
        zkr(
            d,
            &[cmd, "--wallet", "w.json", "--name", name, "--l1", &lurl],
        )
    };
    // Alice asks to leave; nobody includes it. Too early, exodus is refused, and so is an exit.
    let r = zkr_json(
        d,
        &[
            "full-exit",
            "--wallet",
            "w.json",
            "--name",
            "alice",
            "--index",
            "1",
            "--l1",
            &lurl,
        ],
    );
    assert!(r["request_id"].is_u64(), "{r}");
    let early = zkr(d, &["exodus", "--l1", &lurl]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("overdue"));
    assert!(!wallet("exit", "alice").status.success());

    std::thread::sleep(Duration::from_secs(4));
    let on = zkr_json(d, &["exodus", "--l1", &lurl]);
    assert_eq!(on["exodus"], true, "{on}");
    let (_, root) = http(&l1.addr, "GET", "/root", b"");
    assert_eq!(root["exodus"], true);

    let out = wallet("exit", "alice");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paid: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(paid["amount"], 1000, "{paid}");
    assert_eq!(balance(&l1_of(1)), "1000");
    // Once only.
    let again = wallet("exit", "alice");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already withdrawn"));
    assert_eq!(balance(&l1_of(1)), "1000");
    // Bob too; no more deposits.
    assert!(wallet("exit", "bob").status.success());
    assert_eq!(balance(&l1_of(2)), "500");
    let dep = zkr(
        d,
        &[
            "deposit", "--wallet", "w.json", "--name", "bob", "--amount", "1", "--mint", "--l1",
            &lurl,
        ],
    );
    assert!(!dep.status.success());
}

//! Remote provers (`zkr prover`) as real processes on loopback, working for a node that proves
//! nothing itself (`zkr node --local-provers 0`): two workers share the jobs; a worker killed
//! with SIGKILL in the middle of a proof loses its lease and the batch becomes final anyway; a
//! worker that uploads a wrong proof, a proof for another job or a malformed one is refused and
//! nothing is lost, and one with other keys refuses to work; a worker that leases a job and never answers loses it when its lease
//! expires; a worker outlives a node that is killed and restarted under it.

mod common;

use common::{setup_keys, spawn, spawn_logged, Proc};

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ZKR: &str = env!("CARGO_BIN_EXE_zkr");

/// One HTTP/1.1 request; returns (status, parsed JSON body).
fn http(addr: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(body).unwrap()
    };
    let (status, text) = common::http(addr, method, path, &bytes);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn get(addr: &str, path: &str) -> Value {
    let (status, v) = http(addr, "GET", path, &Value::Null);
    assert_eq!(status, 200, "GET {path}: {v}");
    v
}

/// Status and `kind` of a refused request.
fn refusal((status, v): (u16, Value)) -> (u16, String) {
    (status, v["kind"].as_str().unwrap_or("").to_string())
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

/// An L1 and a node that proves nothing itself, on loopback, with keys for depth 4 and 2 slots
/// per batch, and a wallet.
struct Rollup {
    l1: Proc,
    node: Proc,
}

impl Rollup {
    fn start(d: &Path, lease_ms: u64, names: &[&str]) -> Self {
        setup_keys(d, 23);
        // The wallet starts with the operator's key (`zkr l1 --operator operator` gives it
        // account 0 from genesis); the other names are new keys.
        std::fs::copy(d.join("zkr-wallet.json"), d.join("w.json")).unwrap();
        for n in names.iter().filter(|n| **n != "operator") {
            let out = Command::new(ZKR)
                .args(["wallet", "new", "--wallet", "w.json", "--name", n])
                .current_dir(d)
                .output()
                .unwrap();
            assert!(out.status.success());
        }
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
                "--operator",
                "operator",
            ],
        );
        let node = start_node(d, &l1, lease_ms, "127.0.0.1:0");
        Self { l1, node }
    }

    /// Deposits (minted on the L1) in this order; every two fill a batch.
    fn deposit(&self, d: &Path, deposits: &[(&str, u64)]) {
        let url = format!("http://{}", self.l1.addr);
        for (name, amount) in deposits {
            let out = Command::new(ZKR)
                .args(["deposit", "--wallet", "w.json", "--name", name, "--mint"])
                .args(["--amount", &amount.to_string(), "--l1", &url])
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    fn status(&self) -> Value {
        get(&self.node.addr, "/status")
    }

    fn wait_sealed(&self, n: u64) {
        wait_until(&format!("{n} sealed batches"), 60, || {
            self.status()["batches"]["sealed"] == n
        });
    }

    /// Waits until every sealed batch is final, then checks that nothing is left: no job, an
    /// empty mempool, and the node's root equal to the L1's.
    fn wait_all_final(&self, sealed: u64, timeout_s: u64) {
        wait_until("every batch to be final", timeout_s, || {
            let s = self.status();
            assert!(s["halted"].is_null(), "{s}");
            s["batches"]["final"] == sealed
        });
        let s = self.status();
        assert_eq!(s["batches"]["sealed"], sealed, "{s}");
        assert_eq!(s["mempool"], 0);
        assert_eq!(s["requests_waiting"], 0);
        assert_eq!(s["final_root"], s["state_root"]);
        assert_eq!(
            s["final_root"],
            get(&self.l1.addr, "/root")["state_root"],
            "the node's root is the L1's"
        );
        assert_eq!(self.jobs(), Vec::<Value>::new());
    }

    fn jobs(&self) -> Vec<Value> {
        get(&self.node.addr, "/prover/jobs")["jobs"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// (batch, state) of every job waiting for a proof.
    fn job_states(&self) -> Vec<(u64, String)> {
        self.jobs()
            .iter()
            .map(|j| {
                (
                    j["batch"].as_u64().unwrap(),
                    j["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn batch(&self, n: u64) -> Value {
        get(&self.node.addr, &format!("/batch/{n}"))
    }

    /// A raw lease request, as a worker named `worker`.
    fn lease(&self, worker: &str) -> (u16, Value) {
        http(
            &self.node.addr,
            "POST",
            "/prover/lease",
            &json!({ "worker": worker }),
        )
    }

    /// Leases the next job; returns (batch, lease id).
    fn lease_job(&self, worker: &str) -> (u64, String) {
        let (status, v) = self.lease(worker);
        assert_eq!(status, 200, "{v}");
        let job = &v["job"];
        assert!(job.is_object(), "a job waits: {v}");
        (
            job["batch"].as_u64().unwrap(),
            job["lease_id"].as_str().unwrap().to_string(),
        )
    }

    fn upload(&self, lease_id: &str, batch: u64, proof: &Value) -> (u16, String) {
        refusal(http(
            &self.node.addr,
            "POST",
            "/prover/proof",
            &json!({ "lease_id": lease_id, "batch": batch, "proof": proof }),
        ))
    }

    fn renew(&self, lease_id: &str) -> (u16, Value) {
        http(
            &self.node.addr,
            "POST",
            "/prover/renew",
            &json!({ "lease_id": lease_id }),
        )
    }

    /// `zkr prover` named `name`, one thread, polling every 100 ms; ready when it returns.
    fn worker(&self, d: &Path, name: &str) -> (Proc, std::sync::mpsc::Receiver<String>) {
        let url = format!("http://{}", self.node.addr);
        spawn_logged(
            d,
            &[
                "prover",
                "--node",
                &url,
                "--keys",
                "keys",
                "--threads",
                "1",
                "--poll-ms",
                "100",
                "--name",
                name,
            ],
            &[("RUST_LOG", "zkr=info"), ("NO_COLOR", "1")],
        )
    }
}

/// `zkr node` on `DIR/node` that proves nothing itself, against `l1`.
fn start_node(d: &Path, l1: &Proc, lease_ms: u64, listen: &str) -> Proc {
    let l1_url = format!("http://{}", l1.addr);
    let lease = lease_ms.to_string();
    spawn(
        d,
        &[
            "node",
            "--data-dir",
            "node",
            "--keys",
            "keys",
            "--l1",
            &l1_url,
            "--listen",
            listen,
            "--batch-timeout-ms",
            "300",
            "--local-provers",
            "0",
            "--lease-ms",
            &lease,
        ],
    )
}

/// Sends SIGTERM and waits for a clean exit.
fn terminate(p: &mut Proc) {
    // SAFETY: signalling our own child process.
    let rc = unsafe { libc::kill(p.child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let t = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert!(status.success(), "a stopped worker exits with 0: {status}");
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the worker did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_workers_share_the_jobs_and_every_batch_becomes_final() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rollup = Rollup::start(d, 5000, &["operator", "alice", "bob", "carol"]);
    // Eight deposits: four full batches, queued before any worker runs.
    rollup.deposit(
        d,
        &[
            ("operator", 1),
            ("alice", 100),
            ("bob", 200),
            ("carol", 300),
            ("alice", 10),
            ("bob", 20),
            ("carol", 30),
            ("alice", 1),
        ],
    );
    rollup.wait_sealed(4);
    let queued: Vec<(u64, String)> = (1..=4).map(|n| (n, "queued".to_string())).collect();
    assert_eq!(
        rollup.job_states(),
        queued,
        "the node proves nothing itself"
    );

    // Both workers start at once (each loads its keys); a worker proves one batch at a time,
    // so while one proves, the other leases the next.
    let ((mut w1, _log1), (mut w2, _log2)) = std::thread::scope(|s| {
        let w1 = s.spawn(|| rollup.worker(d, "w1"));
        let w2 = s.spawn(|| rollup.worker(d, "w2"));
        (w1.join().unwrap(), w2.join().unwrap())
    });
    rollup.wait_all_final(4, 120);
    let provers: BTreeSet<String> = (1..=4)
        .map(|n| {
            let b = rollup.batch(n);
            assert_eq!(b["stage"], "final");
            assert!(b["proof"]["pi_a"].is_array(), "{b}");
            b["prover"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        provers,
        BTreeSet::from(["w1".to_string(), "w2".to_string()]),
        "both workers proved"
    );
    // The deposits are in the accounts (all transactions final).
    let balances: Vec<Value> = (0..4)
        .map(|i| get(&rollup.node.addr, &format!("/account/{i}"))["balance"].clone())
        .collect();
    assert_eq!(balances, [json!(1), json!(111), json!(220), json!(330)]);

    terminate(&mut w1);
    terminate(&mut w2);
}

#[test]
fn a_worker_killed_mid_proof_loses_its_lease_and_the_batch_becomes_final() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rollup = Rollup::start(d, 1500, &["operator", "alice", "bob", "carol"]);
    rollup.deposit(
        d,
        &[
            ("operator", 1),
            ("alice", 100),
            ("bob", 200),
            ("carol", 300),
        ],
    );
    rollup.wait_sealed(2);

    let (mut doomed, log) = rollup.worker(d, "doomed");
    // Its log says when it starts proving; the node says which batch it leased.
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker starts proving");
        if line.contains("proving") {
            break;
        }
    }
    let leased: Vec<Value> = rollup
        .jobs()
        .into_iter()
        .filter(|j| j["worker"] == "doomed")
        .collect();
    assert_eq!(leased.len(), 1, "{leased:?}");
    let n = leased[0]["batch"].as_u64().unwrap();
    assert_eq!(leased[0]["state"], "leased");
    doomed.child.kill().unwrap(); // SIGKILL, in the middle of the proof
    doomed.child.wait().unwrap();
    assert_eq!(
        rollup.batch(n)["stage"],
        "included",
        "killed before its proof"
    );
    assert!(
        rollup.job_states().contains(&(n, "leased".to_string())),
        "the job stays leased until the lease expires"
    );

    let (_rescuer, _log) = rollup.worker(d, "rescuer");
    rollup.wait_all_final(2, 120);
    assert_eq!(rollup.batch(n)["prover"], "rescuer");
    assert_eq!(
        get(&rollup.node.addr, "/account/3")["balance"],
        300,
        "every deposit is final"
    );
}

#[test]
fn wrong_proofs_and_proofs_for_another_job_are_refused_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Leases long enough that none expires here (expiry is the other tests' subject).
    let rollup = Rollup::start(d, 20_000, &["operator", "alice", "bob", "carol"]);
    rollup.deposit(
        d,
        &[
            ("operator", 1),
            ("alice", 100),
            ("bob", 200),
            ("carol", 300),
        ],
    );
    rollup.wait_sealed(2);
    let a = rollup.node.addr.clone();
    let queued = |n: u64| (n, "queued".to_string());
    let leased = |n: u64| (n, "leased".to_string());

    // A worker with other keys (another setup of the same circuit) refuses to work: exit 2.
    let out = Command::new(ZKR)
        .args([
            "setup",
            "--depth",
            "4",
            "--batch-size",
            "2",
            "--keys",
            "other",
        ])
        .args(["--seed", "99"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let node_url = format!("http://{a}");
    let mut stranger = Command::new(ZKR)
        .args([
            "prover",
            "--node",
            &node_url,
            "--keys",
            "other",
            "--poll-ms",
            "100",
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(status) = stranger.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = stranger.kill();
            panic!("a worker with other keys kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
    // The same, as a raw request: refused before anything is leased.
    let (status, v) = http(
        &a,
        "POST",
        "/prover/lease",
        &json!({ "worker": "x", "key_fingerprint": "00".repeat(32) }),
    );
    assert_eq!(refusal((status, v)), (409, "wrong_keys".into()));
    assert_eq!(rollup.job_states(), [queued(1), queued(2)]);

    // A job carries what a worker needs: the lease, the circuit, the key, the witness.
    let (status, v) = rollup.lease("mallory");
    assert_eq!(status, 200);
    let job = &v["job"];
    assert_eq!(job["batch"], 1, "oldest first");
    let l1 = job["lease_id"].as_str().unwrap().to_string();
    assert_eq!(l1.len(), 32, "128 random bits");
    assert_eq!(job["lease_ms"], 20_000);
    assert!(job["deadline_unix_ms"].as_u64().unwrap() > 0);
    assert_eq!(v["params"]["depth"], 4);
    assert_eq!(v["params"]["batch_size"], 2);
    assert_eq!(v["key_fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(job["witness"]["slots"].as_array().unwrap().len(), 2);
    let inputs = job["public_inputs"].as_array().unwrap();
    assert_eq!(
        inputs.len(),
        3 + 2,
        "two roots, the aux chain, one per slot"
    );
    assert!(inputs
        .iter()
        .all(|x| x.as_str().unwrap().parse::<f64>().is_ok()));
    let (b2, l2) = rollup.lease_job("mallory");
    assert_eq!(b2, 2);
    assert_ne!(l1, l2);
    assert!(rollup.lease("mallory").1["job"].is_null(), "nothing left");
    assert_eq!(rollup.job_states(), [leased(1), leased(2)]);

    // A lease the node never issued.
    let some_proof = json!({"pi_a": ["1", "2", "1"], "pi_b": [["0","0"],["0","0"],["1","0"]], "pi_c": ["1","2","1"], "protocol": "groth16", "curve": "bn128"});
    assert_eq!(
        rollup.upload(&"ab".repeat(16), 1, &some_proof),
        (404, "unknown_lease".into())
    );
    // A proof for another job than the lease's: refused, the lease ends, its job is queued.
    assert_eq!(
        rollup.upload(&l1, 2, &some_proof),
        (409, "wrong_batch".into())
    );
    assert_eq!(rollup.job_states(), [queued(1), leased(2)]);
    assert_eq!(
        rollup.upload(&l1, 1, &some_proof),
        (404, "unknown_lease".into()),
        "an ended lease is gone"
    );
    // A malformed proof (a point off the curve): refused, the job is queued again.
    let (_, l3) = rollup.lease_job("mallory");
    let off_curve = json!({"pi_a": ["1", "3", "1"], "pi_b": [["0","0"],["0","0"],["1","0"]], "pi_c": ["1","2","1"], "protocol": "groth16", "curve": "bn128"});
    assert_eq!(
        rollup.upload(&l3, 1, &off_curve),
        (422, "malformed_proof".into())
    );
    assert_eq!(rollup.job_states(), [queued(1), leased(2)]);
    assert_eq!(
        refusal(http(&a, "POST", "/prover/proof", &json!({"lease_id": l3}))),
        (400, "malformed_request".into())
    );

    // An honest worker proves batch 2 while mallory holds batch 1 (renewing her lease), then
    // stops; its proof is public.
    let (_, l4) = rollup.lease_job("mallory");
    assert_eq!(rollup.renew(&l2).0, 200);
    assert_eq!(
        http(&a, "POST", "/prover/release", &json!({ "lease_id": l2 })).0,
        200
    );
    assert_eq!(rollup.job_states(), [leased(1), queued(2)]);
    let (mut honest, _log) = rollup.worker(d, "honest");
    wait_until("batch 2 to be proven", 60, || {
        assert_eq!(rollup.renew(&l4).0, 200, "mallory's lease stays live");
        rollup.batch(2)["proof"].is_object()
    });
    honest.child.kill().unwrap();
    honest.child.wait().unwrap();
    let proof2 = rollup.batch(2)["proof"].clone();
    assert_eq!(rollup.batch(2)["prover"], "honest");
    assert_eq!(rollup.batch(2)["stage"], "proven", "waits for batch 1");

    // A valid proof, but of another batch: it does not verify for batch 1's public input.
    assert_eq!(
        rollup.upload(&l4, 1, &proof2),
        (422, "invalid_proof".into())
    );
    assert_eq!(rollup.job_states(), [queued(1)]);
    // A tampered proof: valid points, A and C swapped.
    let (_, l5) = rollup.lease_job("mallory");
    let mut tampered = proof2.clone();
    tampered["pi_a"] = proof2["pi_c"].clone();
    tampered["pi_c"] = proof2["pi_a"].clone();
    assert_eq!(
        rollup.upload(&l5, 1, &tampered),
        (422, "invalid_proof".into())
    );
    // Batch 2's proof again, under a lease for batch 1 naming batch 2.
    let (_, l6) = rollup.lease_job("mallory");
    assert_eq!(rollup.upload(&l6, 2, &proof2), (409, "wrong_batch".into()));
    assert_eq!(rollup.job_states(), [queued(1)]);
    assert_eq!(rollup.status()["batches"]["proven"], 0, "nothing accepted");

    // Nothing was lost: an honest worker proves batch 1 and everything becomes final.
    let (_honest2, _log) = rollup.worker(d, "honest-2");
    rollup.wait_all_final(2, 120);
    assert_eq!(rollup.batch(1)["prover"], "honest-2");
    assert_eq!(rollup.batch(2)["prover"], "honest");
    assert_eq!(get(&a, "/account/3")["balance"], 300);
}

#[test]
fn a_worker_that_never_answers_loses_its_job_when_the_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rollup = Rollup::start(d, 1000, &["operator", "alice"]);
    rollup.deposit(d, &[("operator", 1), ("alice", 100)]);
    rollup.wait_sealed(1);
    let (n, silent) = rollup.lease_job("silent");
    assert_eq!(n, 1);

    let (_worker, _log) = rollup.worker(d, "honest");
    rollup.wait_all_final(1, 120);
    assert_eq!(rollup.batch(1)["prover"], "honest");
    assert_eq!(get(&rollup.node.addr, "/account/1")["balance"], 100);

    // The silent worker comes back: its lease is over and the batch is proven.
    assert_eq!(
        refusal(rollup.renew(&silent)),
        (409, "already_proven".into())
    );
    let proof = rollup.batch(1)["proof"].clone();
    assert_eq!(
        rollup.upload(&silent, 1, &proof),
        (409, "already_proven".into())
    );
}

#[test]
fn a_worker_outlives_a_node_killed_and_restarted_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rollup = Rollup::start(d, 5000, &["operator", "alice", "bob", "carol"]);
    rollup.deposit(
        d,
        &[
            ("operator", 1),
            ("alice", 100),
            ("bob", 200),
            ("carol", 300),
        ],
    );
    rollup.wait_sealed(2);
    // The node must come back on the same address: move it to a known free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    rollup.node.child.kill().unwrap();
    rollup.node.child.wait().unwrap(); // it holds the database's lock until it is gone
    rollup.node = start_node(d, &rollup.l1, 5000, &listen);
    assert_eq!(rollup.node.addr, listen);

    let (mut worker, log) = rollup.worker(d, "steady");
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker starts proving");
        if line.contains("proving") {
            break;
        }
    }
    // SIGKILL the node while the worker proves; its lease dies with the node.
    rollup.node.child.kill().unwrap();
    rollup.node.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500)); // the worker finds nobody there
    assert!(worker.child.try_wait().unwrap().is_none());
    rollup.node = start_node(d, &rollup.l1, 5000, &listen);

    rollup.wait_all_final(2, 120);
    for n in 1..=2 {
        assert_eq!(rollup.batch(n)["prover"], "steady");
    }
    assert!(
        worker.child.try_wait().unwrap().is_none(),
        "the worker keeps working"
    );
    // Its first proof was for a lease the restarted node never issued: dropped, then redone.
    let said: Vec<String> = log.try_iter().collect();
    assert!(
        said.iter().any(|l| l.contains("does not know this lease")),
        "{said:?}"
    );
}

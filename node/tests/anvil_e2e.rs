//! The local rollup on a real EVM chain: anvil (Foundry's local node) as a process on loopback,
//! the Solidity L1 deployed on it by `zkr l1 deploy`, `zkr node --l1-rpc` settling there over
//! JSON-RPC, deposits and a claim as real L1 transactions from the wallet, a transfer and a
//! withdrawal to `final`, and the node's root, the contract's root and `zkr reconstruct`'s root
//! from the contract's logs all equal; then a node killed with SIGKILL restarts by syncing from
//! the chain. Bad input (no code at the rollup's address, no operator key, an unreachable chain)
//! is refused with a clear message. And exodus: an operator that stops with a full exit queued;
//! `zkr exodus` refused until the request is overdue, then on; `zkr exit` withdrawing and
//! claiming each account once, from the contract's logs alone.
//!
//! anvil comes from npm (`@foundry-rs/anvil` in contracts/package.json, installed by `npm ci`
//! in contracts/, as `.ci/run` does); `ANVIL=/path/to/anvil` or an `anvil` on `PATH` also
//! works. Without it these tests fail and say how to install it.

mod common;

use common::{setup_keys, spawn_with_env, Proc};

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ZKR: &str = env!("CARGO_BIN_EXE_zkr");

/// anvil's first development key (public knowledge; a local chain only).
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// The anvil binary: `ANVIL`, else the one npm installed in contracts/node_modules (the
/// platform package's binary itself, not the Node.js wrapper in `.bin`, so that killing it
/// kills the chain), else `anvil` on `PATH`.
fn anvil_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("ANVIL") {
        return PathBuf::from(p);
    }
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/node_modules");
    if let Ok(dir) = std::fs::read_dir(modules.join("@foundry-rs")) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let bin = e.path().join("bin/anvil");
            if name.starts_with("anvil-") && bin.is_file() {
                return bin;
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("anvil").is_file() {
                return d.join("anvil");
            }
        }
    }
    panic!(
        "anvil not found: these tests run the rollup on a local anvil chain. Install it with \
         `npm ci` in contracts/ (it brings @foundry-rs/anvil, as .ci/run does), or set \
         ANVIL=/path/to/anvil"
    );
}

/// A local anvil chain on a free loopback port, killed (SIGKILL) when dropped.
struct Anvil {
    child: Child,
    url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_anvil() -> Anvil {
    let bin = anvil_binary();
    let child = Command::new(&bin)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let mut anvil = Anvil {
        child,
        url: String::new(),
    };
    let mut out = BufReader::new(anvil.child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "{} exited before listening",
            bin.display()
        );
        if let Some(addr) = line.trim().strip_prefix("Listening on ") {
            anvil.url = format!("http://{addr}");
            std::thread::spawn(move || {
                let mut sink = String::new();
                let _ = out.read_to_string(&mut sink);
            });
            return anvil;
        }
    }
}

/// Runs `zkr ARGS` in `dir` with `envs`, to completion.
fn zkr(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(ZKR)
        .args(args)
        .env_remove("ZKR_L1_KEY")
        .envs(envs.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs `zkr ARGS`, asserts success, parses its JSON output.
fn zkr_json(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Value {
    let out = zkr(dir, args, envs);
    assert!(
        out.status.success(),
        "zkr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `zkr ARGS`, asserts it fails, returns its stderr.
fn zkr_fails(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = zkr(dir, args, envs);
    assert!(!out.status.success(), "zkr {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
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

fn deploy(dir: &Path, anvil: &Anvil) -> String {
    deploy_with(dir, anvil, &[])["rollup"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `zkr l1 deploy … --json` with `extra` arguments; its JSON.
fn deploy_with(dir: &Path, anvil: &Anvil, extra: &[&str]) -> Value {
    let mut args = vec![
        "l1",
        "deploy",
        "--rpc",
        &anvil.url,
        "--keys",
        "keys",
        "--operator",
        "operator",
        "--json",
    ];
    args.extend_from_slice(extra);
    let d = zkr_json(dir, &args, &[("ZKR_L1_KEY", DEV_KEY)]);
    assert_eq!(d["chain_id"], 31337, "{d}");
    assert_eq!(d["batch_size"], 2, "{d}");
    d
}

/// A wallet `w.json` holding the operator's key (from `setup_keys`) and new keys `names`.
fn wallet_with(dir: &Path, names: &[&str]) {
    std::fs::copy(dir.join("zkr-wallet.json"), dir.join("w.json")).unwrap();
    for name in names {
        zkr_json(
            dir,
            &["wallet", "new", "--wallet", "w.json", "--name", name],
            &[],
        );
    }
}

/// `zkr account --name NAME` against the node at `node_url`, if the node knows the account.
fn account_on(dir: &Path, node_url: &str, name: &str) -> Option<Value> {
    let out = zkr(
        dir,
        &[
            "account", "--wallet", "w.json", "--name", name, "--node", node_url,
        ],
        &[],
    );
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn start_node(dir: &Path, anvil: &Anvil, rollup: &str) -> Proc {
    spawn_with_env(
        dir,
        &[
            "node",
            "--data-dir",
            "node",
            "--keys",
            "keys",
            "--l1-rpc",
            &anvil.url,
            "--rollup",
            rollup,
            "--listen",
            "127.0.0.1:0",
            "--batch-timeout-ms",
            "300",
        ],
        &[("ZKR_L1_KEY", DEV_KEY)],
    )
}

fn status(node: &Proc) -> Value {
    let (code, body) = common::http(&node.addr, "GET", "/status", b"");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn evm<'a>(anvil: &'a Anvil, rollup: &'a str) -> [&'a str; 6] {
    [
        "--wallet", "w.json", "--l1-rpc", &anvil.url, "--rollup", rollup,
    ]
}

#[test]
fn a_rollup_on_anvil_settles_deposits_transfers_and_a_claimed_withdrawal() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 17);
    let anvil = start_anvil();
    let rollup = deploy(d, &anvil);
    let mut node = start_node(d, &anvil, &rollup);
    let nurl = format!("http://{}", node.addr);
    let ev = evm(&anvil, &rollup);

    // The wallet starts with the operator's key (account 0 is its from genesis: `deploy` named
    // it), and gets two users.
    wallet_with(d, &["alice", "bob"]);
    // Deposits: real `deposit` transactions, paid by each key's own L1 account (funded by
    // anvil's faucet, `--mint`).
    for (i, (name, amount)) in [("operator", "1"), ("alice", "1000"), ("bob", "10")]
        .into_iter()
        .enumerate()
    {
        let mut args = vec!["deposit", "--name", name, "--amount", amount, "--mint"];
        args.extend(ev);
        let r = zkr_json(d, &args, &[]);
        assert_eq!(r["deposit_id"], i as u64, "{r}");
    }
    let account = |name: &str| account_on(d, &nurl, name);
    wait_until("the deposits to be executed", 60, || {
        account("bob").is_some()
    });
    assert_eq!(account("alice").unwrap()["balance"], 1000);

    let wait = ["--node", &nurl, "--wait", "--timeout-s", "120"];
    let mut args = vec![
        "transfer", "--wallet", "w.json", "--name", "alice", "--to", "bob", "--amount", "300",
        "--fee", "2",
    ];
    args.extend(wait);
    let t = zkr_json(d, &args, &[]);
    assert_eq!(t["status"], "final", "{t}");
    let mut args = vec![
        "withdraw", "--wallet", "w.json", "--name", "bob", "--amount", "100", "--fee", "1",
    ];
    args.extend(wait);
    let w = zkr_json(d, &args, &[]);
    assert_eq!(w["status"], "final", "{w}");
    assert_eq!(account("bob").unwrap()["balance"], 10 + 300 - 100 - 1);

    // The withdrawal, credited by the contract when its batch was accepted, claimed on L1 by
    // bob's own L1 key; a second claim finds nothing.
    let mut args = vec!["claim", "--name", "bob"];
    args.extend(ev);
    let c = zkr_json(d, &args, &[]);
    assert_eq!(c["claimed"], "100", "{c}");
    assert_eq!(c["claimed_wei"], "100000000000", "{c}");
    let again = zkr_fails(d, &args, &[]);
    assert!(again.contains("nothing to claim"), "{again}");

    // Three roots: the node's, the contract's, and the one rebuilt from the contract's logs.
    let s = status(&node);
    let fin = s["batches"]["final"].as_u64().unwrap();
    assert!(fin >= 3, "{s}");
    assert_eq!(s["batches"]["sealed"].as_u64().unwrap(), fin, "{s}");
    let node_root = s["final_root"].as_str().unwrap().to_string();
    let r = zkr_json(
        d,
        &[
            "reconstruct",
            "--l1-rpc",
            &anvil.url,
            "--rollup",
            &rollup,
            "--json",
        ],
        &[],
    );
    assert_eq!(r["matches_l1"], true, "{r}");
    assert_eq!(r["batches"].as_u64().unwrap(), fin, "{r}");
    assert_eq!(r["accounts"], 3, "{r}");
    assert_eq!(
        r["l1_state_root"], node_root,
        "the contract's root is the node's"
    );
    assert_eq!(
        r["state_root"], node_root,
        "the logs rebuild the node's root"
    );

    // A node killed with SIGKILL restarts from RocksDB and syncs with the chain.
    drop(node);
    node = start_node(d, &anvil, &rollup);
    let s = status(&node);
    assert_eq!(s["batches"]["final"].as_u64().unwrap(), fin, "{s}");
    assert_eq!(s["final_root"].as_str().unwrap(), node_root, "{s}");
    assert!(s["halted"].is_null(), "{s}");
    eprintln!("anvil end to end: {:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
fn bad_l1_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 18);
    let anvil = start_anvil();
    let key = [("ZKR_L1_KEY", DEV_KEY)];

    // Deploying without a key says where the key goes.
    let e = zkr_fails(
        d,
        &[
            "l1",
            "deploy",
            "--rpc",
            &anvil.url,
            "--keys",
            "keys",
            "--operator",
            "operator",
        ],
        &[],
    );
    assert!(e.contains("--l1-key") && e.contains("ZKR_L1_KEY"), "{e}");
    // A malformed key.
    let e = zkr_fails(
        d,
        &[
            "l1",
            "deploy",
            "--rpc",
            &anvil.url,
            "--keys",
            "keys",
            "--operator",
            "operator",
        ],
        &[("ZKR_L1_KEY", "0x1234")],
    );
    assert!(e.contains("32 bytes of hex"), "{e}");
    // An unreachable chain (nothing listens on port 9 of loopback).
    let e = zkr_fails(
        d,
        &[
            "l1",
            "deploy",
            "--rpc",
            "http://127.0.0.1:9",
            "--keys",
            "keys",
            "--operator",
            "operator",
        ],
        &key,
    );
    assert!(e.contains("connecting to http://127.0.0.1:9"), "{e}");

    // A node pointed at an address without code refuses to start, and says so.
    let nobody = "0x00000000000000000000000000000000000000aa";
    let node = |rollup: &str, envs: &[(&str, &str)]| {
        zkr_fails(
            d,
            &[
                "node",
                "--data-dir",
                "node",
                "--keys",
                "keys",
                "--l1-rpc",
                &anvil.url,
                "--rollup",
                rollup,
                "--listen",
                "127.0.0.1:0",
            ],
            envs,
        )
    };
    let e = node(nobody, &key);
    assert!(e.contains("no contract at"), "{e}");
    // Without the operator's key.
    let rollup = deploy(d, &anvil);
    let e = node(&rollup, &[]);
    assert!(e.contains("operator's L1 key"), "{e}");
    // Reconstructing from an address that is not a rollup (the deployer's account).
    let e = zkr_fails(
        d,
        &[
            "reconstruct",
            "--l1-rpc",
            &anvil.url,
            "--rollup",
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        ],
        &[],
    );
    assert!(e.contains("no contract at"), "{e}");
    // An empty rollup reconstructs to the empty tree.
    let r = zkr_json(
        d,
        &[
            "reconstruct",
            "--l1-rpc",
            &anvil.url,
            "--rollup",
            &rollup,
            "--json",
        ],
        &[],
    );
    assert_eq!(r["matches_l1"], true, "{r}");
    assert_eq!(r["batches"], 0, "{r}");
}

/// A transaction sent and not mined (anvil with automining off) is `NoReceipt`, and while it is
/// pending no batch is submitted (`InFlight`, nothing sent); once it is mined, the submission
/// goes to the contract again, which judges it (here: a proof of nothing, refused).
#[test]
fn no_batch_is_sent_while_a_transaction_of_the_operator_is_pending() {
    use serde_json::json;
    use zkr_l1_evm::rpc::{address_of, parse_private_key, RpcChain};
    use zkr_l1_evm::{ChainError, EvmChain, EvmL1Error, EvmRollup, U256};

    let dir = tempfile::tempdir().unwrap();
    setup_keys(dir.path(), 19);
    let (meta, vk) = zkr_prover::keys::KeySet::load_vk(&dir.path().join("keys")).unwrap();
    let anvil = start_anvil();
    let key = parse_private_key(DEV_KEY).unwrap();
    let operator = address_of(&key);
    let mut chain = RpcChain::connect(&anvil.url).unwrap();
    chain.add_key(key);
    chain.receipt_timeout = Duration::from_secs(1);
    let code = zkr_l1_evm::rollup::keyed_verifier_init_code(&vk).unwrap();
    let op_key = zkr_circuits::eddsa::SecretKey::from_seed(common::OPERATOR_SEED).public_key();
    let mut r = EvmRollup::deploy_on(
        chain,
        operator,
        meta.params,
        code,
        &op_key,
        zkr_l1_evm::rollup::DEFAULT_PRIORITY_DEADLINE_S,
    )
    .unwrap();

    // A batch of noops from the genesis root, with an all-identity proof.
    let genesis = r.head().unwrap().state_root;
    let submission = zkr_verifier::BatchSubmission {
        number: 1,
        old_root: zkr_circuits::field::fr_to_decimal(&genesis),
        new_root: zkr_circuits::field::fr_to_decimal(&genesis),
        public_data: "00".repeat(zkr_circuits::tx::SLOT_BYTES * meta.params.batch_size),
        proof: zkr_verifier::snarkjs::ProofJson::from_proof(&Default::default()),
    };

    r.chain.request("evm_setAutomine", json!([false])).unwrap();
    let alice = zkr_circuits::eddsa::SecretKey::from_seed([7; 32]).public_key();
    let e = r
        .deposit(operator, &alice, U256::from(1_000_000_000u64))
        .err()
        .unwrap();
    assert!(
        matches!(e, EvmL1Error::Chain(ChainError::NoReceipt { .. })),
        "{e}"
    );
    assert_eq!(r.chain.in_flight(operator).unwrap(), 1);
    let e = r.settle(&submission).err().unwrap();
    assert!(matches!(e, EvmL1Error::InFlight { count: 1, .. }), "{e}");
    assert_eq!(
        r.chain.in_flight(operator).unwrap(),
        1,
        "nothing more was sent"
    );

    r.chain.request("evm_mine", json!([])).unwrap();
    assert_eq!(r.chain.in_flight(operator).unwrap(), 0);
    assert_eq!(
        r.queued_requests(0, 10).unwrap().len(),
        1,
        "the deposit was mined"
    );
    // Whatever the contract makes of it (here `BadProof`), it is its verdict, and nothing is sent.
    let e = r.settle(&submission).err().unwrap();
    assert!(matches!(e, EvmL1Error::Rejected(_)), "{e}");
    assert_eq!(
        r.chain.in_flight(operator).unwrap(),
        0,
        "a refused batch is never sent"
    );
}

/// Exodus on the contract, through the commands a user has: the operator stops with a full exit
/// queued; `zkr exodus` is refused until the request is overdue, then switches the contract to
/// exodus mode; `zkr exit` rebuilds the state from the contract's logs alone and withdraws each
/// account to its owner, once, and claims it.
#[test]
fn an_operator_that_stops_on_anvil_leaves_its_users_an_exodus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 19);
    let anvil = start_anvil();
    let deadline_s = 3;
    let dl = deadline_s.to_string();
    let out = deploy_with(d, &anvil, &["--priority-deadline-s", &dl]);
    assert_eq!(out["priority_deadline_s"], deadline_s, "{out}");
    let rollup = out["rollup"].as_str().unwrap().to_string();
    let node = start_node(d, &anvil, &rollup);
    let nurl = format!("http://{}", node.addr);
    let ev = evm(&anvil, &rollup);
    wallet_with(d, &["alice", "bob"]);
    for (name, amount) in [("alice", "1000"), ("bob", "10")] {
        let mut args = vec!["deposit", "--name", name, "--amount", amount, "--mint"];
        args.extend(ev);
        zkr_json(d, &args, &[]);
    }
    let account = |name: &str| account_on(d, &nurl, name);
    wait_until("the deposits to be final on L1", 120, || {
        if account("alice").is_none() || account("bob").is_none() {
            return false;
        }
        let s = status(&node);
        let fin = s["batches"]["final"].as_u64().unwrap_or(0);
        fin >= 1 && s["batches"]["sealed"].as_u64() == Some(fin) && s["requests_waiting"] == 0
    });
    let alice_index = account("alice").unwrap()["index"].as_u64().unwrap();
    drop(node); // the operator stops

    // Alice asks to leave; nobody includes it. Too early: exodus is refused, and so is an exit.
    let idx = alice_index.to_string();
    let mut args = vec!["full-exit", "--name", "alice", "--index", &idx];
    args.extend(ev);
    zkr_json(d, &args, &[]);
    let mut exodus = vec!["exodus", "--name", "bob"];
    exodus.extend(ev);
    let early = zkr_fails(d, &exodus, &[]);
    assert!(early.contains("no queued request is overdue"), "{early}");
    let mut exit_alice = vec!["exit", "--name", "alice"];
    exit_alice.extend(ev);
    let refused = zkr_fails(d, &exit_alice, &[]);
    assert!(refused.contains("not in exodus mode"), "{refused}");

    // Past the deadline (anvil's blocks carry the wall-clock time), bob switches it on.
    std::thread::sleep(Duration::from_secs(deadline_s + 1));
    let on = zkr_json(d, &exodus, &[]);
    assert_eq!(on["exodus"], true, "{on}");
    assert_eq!(on["activated"], true, "{on}");
    let again = zkr_json(d, &exodus, &[]);
    assert_eq!(again["activated"], false, "{again}");

    // Each withdraws to its own L1 address from the logs alone, once; the claim follows.
    let a = zkr_json(d, &exit_alice, &[]);
    assert_eq!(a["amount"], 1000, "{a}");
    assert_eq!(a["claimed_wei"], "1000000000000", "{a}");
    let twice = zkr_fails(d, &exit_alice, &[]);
    assert!(twice.contains("already withdrawn"), "{twice}");
    let mut exit_bob = vec!["exit", "--name", "bob"];
    exit_bob.extend(ev);
    let b = zkr_json(d, &exit_bob, &[]);
    assert_eq!(b["amount"], 10, "{b}");
    assert_eq!(b["claimed_wei"], "10000000000", "{b}");
    // No batch is accepted any more: a deposit is refused too.
    let mut dep = vec!["deposit", "--name", "bob", "--amount", "1", "--mint"];
    dep.extend(ev);
    let refused = zkr_fails(d, &dep, &[]);
    assert!(refused.contains("exodus mode"), "{refused}");
}

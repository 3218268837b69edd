//! Helpers shared by the tests that run `zkr` services as processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const ZKR: &str = env!("CARGO_BIN_EXE_zkr");

/// The seed of the operator's key in the wallet [`setup_keys`] writes.
pub const OPERATOR_SEED: [u8; 32] = [1; 32];

/// Keys for depth 4 (16 accounts) and 2 slots per batch in `DIR/keys` (seeded: tests only), and
/// the default wallet `DIR/zkr-wallet.json` holding the key `operator` (seed [`OPERATOR_SEED`]),
/// which `zkr l1 --operator operator` makes the owner of account 0.
pub fn setup_keys(dir: &Path, seed: u64) {
    let operator = zkr_circuits::eddsa::SecretKey::from_seed(OPERATOR_SEED);
    let l1_key = "0b".repeat(32);
    let l1_address =
        zkr_l1_evm::rpc::address_of(&zkr_l1_evm::rpc::parse_private_key(&l1_key).unwrap());
    let wallet = serde_json::json!({ "keys": [{
        "name": "operator",
        "secret_key": operator.to_hex(),
        "l1_address": l1_address.to_string().to_lowercase(),
        "l1_secret_key": l1_key,
    }]});
    std::fs::write(dir.join("zkr-wallet.json"), wallet.to_string()).unwrap();
    let out = Command::new(ZKR)
        .args([
            "setup",
            "--depth",
            "4",
            "--batch-size",
            "2",
            "--keys",
            "keys",
            "--seed",
        ])
        .arg(seed.to_string())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One HTTP/1.1 request on a fresh connection; returns (status, body).
pub fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    // A server that never answers fails the test instead of hanging it.
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    // The server may answer (413) and close before reading a large body.
    let _ = s.write_all(body);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    /// The process.
    pub child: Child,
    /// The address it listens on.
    pub addr: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `zkr ARGS` in `dir` and reads the `http://ADDR` it prints when it listens.
#[allow(dead_code)] // not every test binary that includes this module needs it
pub fn spawn(dir: &Path, args: &[&str]) -> Proc {
    spawn_with_env(dir, args, &[])
}

/// [`spawn`] with the environment variables `envs` set.
pub fn spawn_with_env(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    let child = Command::new(ZKR)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned by a `Proc` from here on, so a failed assertion still kills and reaps it.
    let mut proc = Proc {
        child,
        addr: String::new(),
    };
    let mut out = BufReader::new(proc.child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "zkr {args:?} exited before listening"
        );
        if let Some(rest) = line.split("http://").nth(1) {
            proc.addr = rest.split_whitespace().next().unwrap().to_string();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                let _ = out.read_to_string(&mut sink);
            });
            return proc;
        }
    }
}

/// Starts `zkr ARGS` in `dir` like [`spawn`], with `envs` set and its stderr (the log) sent
/// line by line to the returned receiver.
#[allow(dead_code)] // not every test binary that includes this module needs it
pub fn spawn_logged(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Proc, std::sync::mpsc::Receiver<String>) {
    let child = Command::new(ZKR)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proc = Proc {
        child,
        addr: String::new(),
    };
    let err = BufReader::new(proc.child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in err.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = BufReader::new(proc.child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "zkr {args:?} exited before it was ready"
        );
        if let Some(rest) = line.split("http://").nth(1) {
            proc.addr = rest.split_whitespace().next().unwrap().to_string();
            std::thread::spawn(move || {
                let mut sink = String::new();
                let _ = out.read_to_string(&mut sink);
            });
            return (proc, rx);
        }
    }
}

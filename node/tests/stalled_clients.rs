//! `zkr l1` and `zkr node` as real processes on loopback with clients that connect and stall:
//! heads announcing a large body and then nothing, half a request line, nothing at all. Many
//! more of them than the old server's four threads and the new one's runtime threads; while they
//! hang, `GET /root` and `GET /status` still answer at once. A body that does not arrive gets
//! 408, a stalled head and an idle keep-alive connection are closed, bodies over the limit get
//! 413 (announced or streamed), connections past the cap wait for a free slot, and ordinary
//! requests still work.

mod common;

use common::{http, setup_keys, spawn, spawn_with_env, Proc};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Stalled clients of each kind (three kinds).
const EACH: usize = 16;
/// How fast a service must answer while they stall.
const BOUND: Duration = Duration::from_secs(2);
/// The deadlines the short-deadline processes run with (see `node/src/http.rs`).
const SHORT_MS: u64 = 1000;
/// `node/src/http.rs`'s `MAX_CONNECTIONS`.
const MAX_CONNECTIONS: usize = 256;

fn l1_args() -> [&'static str; 9] {
    [
        "l1",
        "--data-dir",
        "l1data",
        "--keys",
        "keys",
        "--listen",
        "127.0.0.1:0",
        "--operator",
        "operator",
    ]
}

fn short_deadlines() -> [(&'static str, String); 2] {
    [
        ("ZKR_HTTP_TEST_HEAD_TIMEOUT_MS", SHORT_MS.to_string()),
        ("ZKR_HTTP_TEST_BODY_TIMEOUT_MS", SHORT_MS.to_string()),
    ]
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Opens `EACH` clients of each kind and leaves them hanging: a `POST path` head announcing
/// `body` bytes (under the service's limit) and no body, half a request line, nothing.
fn stall(addr: &str, path: &str, body: usize) -> Vec<TcpStream> {
    let mut all = Vec::new();
    for _ in 0..EACH {
        let mut s = connect(addr);
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {body}\r\n\r\n{{"
        )
        .unwrap();
        all.push(s);
        let mut s = connect(addr);
        s.write_all(b"GET /ro").unwrap();
        all.push(s);
        all.push(connect(addr));
    }
    // Let the server take them all before the checks.
    std::thread::sleep(Duration::from_millis(300));
    all
}

/// Every stalled client is still connected and has been answered nothing.
fn assert_still_hanging(clients: &[TcpStream]) {
    for (i, s) in clients.iter().enumerate() {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let r = (&*s).read(&mut b);
        assert!(
            matches!(&r, Err(e) if e.kind() == ErrorKind::WouldBlock),
            "stalled client {i} was answered or closed: {r:?}"
        );
        s.set_nonblocking(false).unwrap();
    }
}

/// `GET path` answers 200 within [`BOUND`], five times over.
fn assert_answers(addr: &str, path: &str) {
    for _ in 0..5 {
        let t = Instant::now();
        let (c, body) = http(addr, "GET", path, b"");
        let took = t.elapsed();
        assert_eq!(c, 200, "GET {path} while clients stall: {body}");
        assert!(took < BOUND, "GET {path} took {took:?} while clients stall");
    }
}

/// Reads one answer (head and `Content-Length` body) off a kept-alive connection.
fn read_answer(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed before a whole answer");
        buf.extend_from_slice(&b[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if body.len() >= len {
                let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
                return (status, body[..len].to_string());
            }
        }
    }
}

/// Waits until the server closes `s` (end of stream or reset), and returns how long it took.
fn closed_after(s: &mut TcpStream) -> Duration {
    let t = Instant::now();
    let mut b = [0u8; 1024];
    loop {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return t.elapsed(),
            Ok(_) => {}
        }
    }
}

/// The whole answer on `s` after the client stops writing, as (status, body).
fn answer_of(s: &mut TcpStream) -> (u16, String) {
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

fn kind(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v["kind"].as_str().unwrap_or_default().to_string()
}

#[test]
fn l1_answers_while_many_clients_stall() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 7);
    let l1 = spawn(d, &l1_args());
    let a = &l1.addr;

    // 48 stalled clients, with a body under `zkr l1`'s 1 MiB limit announced.
    let stalled = stall(a, "/batch", 1_000_000);
    assert_answers(a, "/root");
    // Ordinary requests, refused ones included, still work.
    assert_eq!(http(a, "POST", "/deposit", b"{not json").0, 400);
    assert_eq!(http(a, "GET", "/nowhere", b"").0, 404);
    assert_eq!(http(a, "GET", "/queue", b"").0, 200);
    // A body announced over the limit is refused at once, without being sent.
    let t = Instant::now();
    let mut s = connect(a);
    write!(
        s,
        "POST /batch HTTP/1.1\r\nHost: {a}\r\nContent-Length: 2000000\r\n\r\n"
    )
    .unwrap();
    let (c, body) = answer_of(&mut s);
    assert_eq!((c, kind(&body).as_str()), (413, "too_large"), "{body}");
    assert!(t.elapsed() < BOUND);
    // A chunked body (no length announced) is cut off once it passes the limit.
    let mut s = connect(a);
    write!(
        s,
        "POST /batch HTTP/1.1\r\nHost: {a}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..40 {
        // The server may answer and close before all of it is sent.
        if write!(s, "{:x}\r\n", chunk.len()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let (c, body) = answer_of(&mut s);
    assert_eq!((c, kind(&body).as_str()), (413, "too_large"), "{body}");
    // The stalled clients were there all along.
    assert_still_hanging(&stalled);
}

#[test]
fn stalled_requests_get_408_or_are_closed_after_the_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 8);
    let envs = short_deadlines();
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let l1 = spawn_with_env(d, &l1_args(), &envs);
    let a = &l1.addr;
    let short = Duration::from_millis(SHORT_MS);
    let late = short + BOUND;

    // A body that stops halfway: 408 after the body deadline.
    let mut body_staller = connect(a);
    write!(
        body_staller,
        "POST /deposit HTTP/1.1\r\nHost: {a}\r\nContent-Length: 100\r\n\r\n{{\"from\""
    )
    .unwrap();
    let mut head_staller = connect(a);
    head_staller.write_all(b"GET /root HTTP/1.1\r\nHo").unwrap();
    let mut silent = connect(a);
    // A keep-alive connection: two answers, then idle until the server closes it.
    let mut keep = connect(a);
    for _ in 0..2 {
        write!(keep, "GET /root HTTP/1.1\r\nHost: {a}\r\n\r\n").unwrap();
        let (c, body) = read_answer(&mut keep);
        assert_eq!(c, 200, "{body}");
    }
    let t = Instant::now();
    let (c, body) = answer_of(&mut body_staller);
    let took = t.elapsed();
    assert_eq!(
        (c, kind(&body).as_str()),
        (408, "request_timeout"),
        "{body}"
    );
    assert!(took < late, "408 after {took:?}");
    for (what, s) in [
        ("half a head", &mut head_staller),
        ("nothing", &mut silent),
        ("an idle keep-alive connection", &mut keep),
    ] {
        let took = closed_after(s);
        assert!(took < late, "{what}: closed after {took:?}");
    }
    // The service itself is fine.
    assert_eq!(http(a, "GET", "/root", b"").0, 200);
}

#[test]
fn connections_past_the_cap_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 10);
    // Silent connections hold their slots for 3 s (long enough to open them all on a busy
    // machine), then the head deadline closes them.
    let hold = Duration::from_millis(3000);
    let ms = hold.as_millis().to_string();
    let l1 = spawn_with_env(
        d,
        &l1_args(),
        &[("ZKR_HTTP_TEST_HEAD_TIMEOUT_MS", ms.as_str())],
    );
    let a = &l1.addr;
    let opened = Instant::now();
    let silent: Vec<TcpStream> = (0..MAX_CONNECTIONS).map(|_| connect(a)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let (c, body) = http(a, "GET", "/root", b"");
    let took = t.elapsed();
    assert_eq!(c, 200, "{body}");
    // Served when the first silent connections were closed, not before.
    let freed = (opened + hold).saturating_duration_since(t);
    assert!(
        took + Duration::from_millis(100) >= freed && took < hold + BOUND,
        "GET /root past the cap answered after {took:?}, slots freed after {freed:?}"
    );
    assert!(took > Duration::from_millis(300), "{took:?}: not held back");
    drop(silent);
}

fn node_args(l1: &Proc) -> Vec<String> {
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
        "--local-provers",
        "0",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn node_answers_while_many_clients_stall() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup_keys(d, 9);
    let l1 = spawn(d, &l1_args());
    let args = node_args(&l1);
    let node = spawn(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let a = &node.addr;

    // 48 stalled clients, with a body under the node's 64 KiB limit announced.
    let stalled = stall(a, "/tx", 60_000);
    assert_answers(a, "/status");
    assert_eq!(http(a, "GET", "/account/9", b"").0, 404);
    assert_eq!(http(a, "POST", "/tx", b"{not json").0, 400);
    let (c, body) = http(a, "POST", "/tx", &vec![b' '; 100_000]);
    assert_eq!((c, kind(&body).as_str()), (413, "too_large"), "{body}");
    assert_still_hanging(&stalled);
}

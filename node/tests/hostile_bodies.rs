//! Hostile request bodies and paths to the L1 service's and the node's HTTP handlers, called
//! in-process (issue 11, part 5), and hostile proof jobs to the remote prover's decoder.
//!
//! Every request is answered: a 2xx for a request that is valid after all, else a 4xx with a
//! non-empty `kind` — never a 5xx, never a panic — and a refused request changes nothing: the
//! L1's root, queue, balances, batches and file on disk, the node's roots, accounts, mempool,
//! batch heights and deposits waiting are what they were before it.

#[path = "../../circuits/tests/mutate/mod.rs"]
mod mutate;

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use mutate::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::public::num_inputs;
use zkr_circuits::state::State;
use zkr_circuits::tx::{
    encode_public_data, Deposit, L1Address, PriorityOp, SlotData, Transfer, Tx, TxType,
};
use zkr_circuits::{CircuitParams, Fr, Genesis};
use zkr_node::cmd::l1;
use zkr_node::http::Method;
use zkr_node::node::api;
use zkr_node::node::core::{Core, SequencerConfig};
use zkr_node::node::job::WitnessJson;
use zkr_node::node::store::Store;
use zkr_verifier::snarkjs::ProofJson;
use zkr_verifier::{BatchSubmission, L1Contract, Proof, QueuedRequest, VerifyingKey};

fn params() -> CircuitParams {
    CircuitParams::new(4, 2).unwrap()
}

/// The deployment of the node tests: account 0 is `key(1)`'s from genesis.
fn genesis() -> Genesis {
    Genesis {
        chain_id: 0x4057,
        operator: key(1).public_key(),
        operator_l1: L1Address([1; 20]),
    }
}

fn g1(k: u64) -> G1Affine {
    (G1Affine::generator() * Fr::from(k)).into_affine()
}

fn g2(k: u64) -> G2Affine {
    (G2Affine::generator() * Fr::from(k)).into_affine()
}

/// A verifying key of the right size (no proof verifies under it).
fn vk() -> VerifyingKey {
    VerifyingKey {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (0..=num_inputs(params().batch_size) as u64)
            .map(|i| g1(11 + i))
            .collect(),
    }
}

fn proof_json() -> ProofJson {
    ProofJson::from_proof(&Proof {
        a: g1(4),
        b: g2(5),
        c: g1(6),
    })
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

thread_local! {
    /// How many answers had each status, to show that the requests reach past the parser.
    static STATUSES: RefCell<std::collections::BTreeMap<u16, usize>> = RefCell::default();
}

/// The statuses seen since the last call, and resets the tally.
fn statuses() -> std::collections::BTreeMap<u16, usize> {
    STATUSES.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

/// The answer's status and `kind`, checked: 2xx, or 4xx with a non-empty kind.
fn check_answer((status, body): &(u16, String), request: &[u8]) -> bool {
    STATUSES.with(|s| *s.borrow_mut().entry(*status).or_default() += 1);
    let req = String::from_utf8_lossy(request);
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    if (200..300).contains(status) {
        return true;
    }
    assert!(
        (400..500).contains(status),
        "status {status} ({body}) for {req}"
    );
    let kind = v["kind"].as_str().unwrap_or("");
    assert!(!kind.is_empty(), "no kind in {body} for {req}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    false
}

/// Everything the L1 holds, and its file.
fn l1_view(c: &L1Contract, dir: &Path) -> (String, Vec<u8>) {
    (
        serde_json::to_string(c.state()).unwrap(),
        std::fs::read(dir.join("l1.json")).unwrap(),
    )
}

fn l1_contract(dir: &Path) -> L1Contract {
    let operator = (key(1).public_key(), L1Address([1; 20]));
    let mut c = L1Contract::open(&dir.join("l1.json"), params(), vk(), Some(operator)).unwrap();
    c.mint(L1Address([7; 20]), 1000).unwrap();
    c.deposit(L1Address([7; 20]), key(1).public_key(), 10)
        .unwrap();
    c
}

fn l1_bodies(c: &L1Contract) -> Vec<(&'static str, Value)> {
    let PriorityOp::Deposit(d) = c.state().queue[0].request else {
        panic!("the first request is a deposit")
    };
    let slots = [
        SlotData {
            tx_type: TxType::Deposit,
            from: 0,
            to: 1,
            amount: d.amount,
            fee: 0,
            aux_x: d.pubkey.x(),
            aux_y: d.pubkey.y(),
            requester: d.from.to_field(),
        },
        SlotData::NOOP,
    ];
    let submission = BatchSubmission {
        number: 1,
        old_root: fr_to_decimal(&c.state_root()),
        new_root: fr_to_decimal(&Fr::from(99u64)),
        public_data: hex::encode(encode_public_data(&slots)),
        proof: proof_json(),
    };
    vec![
        ("/mint", json!({ "to": L1Address([7; 20]), "amount": 5 })),
        (
            "/deposit",
            json!({ "from": L1Address([7; 20]), "pubkey": key(2).public_key(), "amount": 3 }),
        ),
        (
            "/full-exit",
            json!({ "requester": L1Address([7; 20]), "account": 1 }),
        ),
        ("/batch", serde_json::to_value(submission).unwrap()),
    ]
}

/// A hostile path segment.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[0-9]{1,30}",
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0x".to_string() + &"ab".repeat(20)),
        Just("0x".to_string() + &"ab".repeat(32)),
        Just("0x".to_string() + &"zz".repeat(32)),
        Just("%00".to_string()),
        Just("..".to_string()),
    ]
}

/// Mutated bodies to every `POST` of `zkr l1`, and hostile `GET` paths.
#[test]
fn l1_service_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let c = RefCell::new(l1_contract(dir.path()));
    let bodies = l1_bodies(&c.borrow());
    let strategy = (0..bodies.len())
        .prop_flat_map(move |i| {
            let (path, v) = bodies[i].clone();
            (Just(path), hostile_json(v))
        })
        .boxed();
    let mut runner = TestRunner::new(Config::with_cases(192));
    runner
        .run(&strategy, |(path, body)| {
            let mut c = c.borrow_mut();
            let before = l1_view(&c, dir.path());
            let answer = l1::handle(&mut c, &Method::Post, path, &body);
            let ok = check_answer(&answer, &body);
            assert!(!(ok && path == "/batch"), "a batch without a valid proof");
            if !ok {
                assert_eq!(l1_view(&c, dir.path()), before, "{answer:?}");
            }
            Ok(())
        })
        .unwrap();
    let seen = statuses();
    eprintln!("zkr l1, POST: {seen:?}");
    let past_the_parser: usize = seen
        .iter()
        .filter(|(s, _)| **s != 400)
        .map(|(_, n)| n)
        .sum();
    assert!(
        seen.get(&400) > Some(&20) && past_the_parser > 5,
        "{seen:?}"
    );

    let mut runner = TestRunner::new(Config::with_cases(64));
    let gets = (
        prop_oneof![
            Just("/balance/"),
            Just("/batches?from="),
            Just("/root?"),
            Just("/queue/"),
            Just("/genesis"),
            Just("/")
        ],
        segment(),
        prop_oneof![Just(Method::Get), Just(Method::Post), Just(Method::Delete)],
        garbage(),
    );
    runner
        .run(&gets, |(prefix, seg, method, body)| {
            let mut c = c.borrow_mut();
            let before = l1_view(&c, dir.path());
            let url = format!("{prefix}{seg}");
            let answer = l1::handle(&mut c, &method, &url, &body);
            check_answer(&answer, url.as_bytes());
            assert_eq!(l1_view(&c, dir.path()), before, "{url}: {answer:?}");
            Ok(())
        })
        .unwrap();
    eprintln!("zkr l1, paths: {:?}", statuses());
}

fn config() -> SequencerConfig {
    SequencerConfig {
        batch_timeout: Duration::from_millis(1),
        mempool_max: 8,
        lease: Duration::from_secs(60),
    }
}

/// What the node's clients can see of its state.
fn node_view(core: &mut Core) -> Value {
    let accounts: Vec<_> = (0..4)
        .map(|i| {
            let (_, body) = api::handle(core, &Method::Get, &format!("/account/{i}"), b"");
            body
        })
        .collect();
    json!({
        "status": api::status(core),
        "root": fr_to_decimal(&core.state().root()),
        "accounts": accounts,
        "heights": core.heights(),
    })
}

/// A node with two funded accounts and a sealed batch whose proof job is leased.
fn node(dir: &Path) -> (Core, String) {
    let mut core = Core::open(
        Store::open(dir).unwrap(),
        params(),
        genesis(),
        config(),
        &VerifyingKey::default(),
    )
    .unwrap();
    let queued = |id: u64, sk: &SecretKey, amount| QueuedRequest {
        id,
        request: PriorityOp::Deposit(Deposit {
            pubkey: sk.public_key(),
            amount,
            from: L1Address([id as u8; 20]),
        }),
    };
    core.observe_l1_queue(&[queued(0, &key(1), 5), queued(1, &key(2), 100)]);
    core.seal_if_due(Instant::now() + Duration::from_secs(1))
        .unwrap()
        .unwrap();
    let fp = core.key_fingerprint().to_string();
    let (status, body) = api::handle(
        &mut core,
        &Method::Post,
        "/prover/lease",
        json!({ "worker": "w", "key_fingerprint": fp })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let lease: Value = serde_json::from_str(&body).unwrap();
    let lease_id = lease["job"]["lease_id"].as_str().unwrap().to_string();
    (core, lease_id)
}

/// Mutated bodies to every `POST` of `zkr node`, and hostile `GET` paths.
#[test]
fn node_api_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let (core, lease_id) = node(dir.path());
    let core = RefCell::new(core);
    let fp = core.borrow().key_fingerprint().to_string();
    let chain = genesis().chain_id;
    let bodies: Vec<(&'static str, Value)> = vec![
        (
            "/tx",
            serde_json::to_value(Tx::Transfer(Transfer::signed(
                &key(2),
                chain,
                1,
                0,
                10,
                1,
                0,
            )))
            .unwrap(),
        ),
        (
            "/tx",
            serde_json::to_value(Tx::Withdraw(zkr_circuits::tx::Withdraw::signed(
                &key(2),
                chain,
                1,
                10,
                1,
                0,
                L1Address([5; 20]),
            )))
            .unwrap(),
        ),
        (
            "/prover/lease",
            json!({ "worker": "w2", "key_fingerprint": fp }),
        ),
        ("/prover/renew", json!({ "lease_id": lease_id })),
        ("/prover/release", json!({ "lease_id": lease_id })),
        (
            "/prover/proof",
            json!({ "lease_id": lease_id, "batch": 1, "proof": proof_json(),
                    "synthesis_s": 1.5, "prove_s": 2.5 }),
        ),
    ];
    let strategy = (0..bodies.len())
        .prop_flat_map(move |i| {
            let (path, v) = bodies[i].clone();
            (Just(path), hostile_json(v))
        })
        .boxed();
    let mut runner = TestRunner::new(Config::with_cases(192));
    runner
        .run(&strategy, |(path, body)| {
            let mut core = core.borrow_mut();
            let before = node_view(&mut core);
            let answer = api::handle(&mut core, &Method::Post, path, &body);
            if !check_answer(&answer, &body) {
                // A refused request changes nothing a client can see (a refused proof upload
                // may hand its job back to the queue: that is the lease table's business).
                assert_eq!(node_view(&mut core), before, "{path}: {answer:?}");
            }
            Ok(())
        })
        .unwrap();
    let seen = statuses();
    eprintln!("zkr node, POST: {seen:?}");
    let past_the_parser: usize = seen
        .iter()
        .filter(|(s, _)| **s != 400)
        .map(|(_, n)| n)
        .sum();
    assert!(
        seen.get(&400) > Some(&20) && past_the_parser > 5,
        "{seen:?}"
    );

    let mut runner = TestRunner::new(Config::with_cases(64));
    let gets = (
        prop_oneof![
            Just("/account/"),
            Just("/account/key/"),
            Just("/tx/"),
            Just("/batch/"),
            Just("/prover/"),
            Just("/status/"),
        ],
        segment(),
        prop::option::of(segment()),
        prop_oneof![Just(Method::Get), Just(Method::Post), Just(Method::Put)],
        garbage(),
    );
    runner
        .run(&gets, |(prefix, seg, more, method, body)| {
            let mut core = core.borrow_mut();
            let before = node_view(&mut core);
            let url = match more {
                Some(m) => format!("{prefix}{seg}/{m}"),
                None => format!("{prefix}{seg}"),
            };
            let answer = api::handle(&mut core, &method, &url, &body);
            if !check_answer(&answer, url.as_bytes()) {
                assert_eq!(node_view(&mut core), before, "{url}: {answer:?}");
            }
            Ok(())
        })
        .unwrap();
    eprintln!("zkr node, paths: {:?}", statuses());
}

/// A proof job's witness as the remote prover receives it: mutated, it is refused when it is
/// decoded or when the circuit is built from it (its shape is checked), never a panic.
#[test]
fn hostile_proof_jobs() {
    let deps = [
        PriorityOp::Deposit(Deposit {
            pubkey: key(1).public_key(),
            amount: 5,
            from: L1Address([1; 20]),
        }),
        PriorityOp::Deposit(Deposit {
            pubkey: key(2).public_key(),
            amount: 100,
            from: L1Address([2; 20]),
        }),
    ];
    let s1 = State::genesis(params(), &genesis())
        .apply_batch(&deps.map(|d| d.tx()), &deps)
        .unwrap()
        .state;
    let t = Tx::Transfer(Transfer::signed(
        &key(2),
        genesis().chain_id,
        1,
        0,
        10,
        1,
        0,
    ));
    let w = s1.apply_batch(&[t], &[]).unwrap().witness;
    let valid = serde_json::to_value(WitnessJson::from_witness(&w)).unwrap();
    let mut runner = TestRunner::new(Config::with_cases(128));
    runner
        .run(&hostile_json(valid), |bytes| {
            if let Ok(j) = serde_json::from_slice::<WitnessJson>(&bytes) {
                if let Ok(w) = j.to_witness() {
                    // What was decoded is exactly what was sent.
                    let input: Value = serde_json::from_slice(&bytes).unwrap();
                    let again = serde_json::to_value(WitnessJson::from_witness(&w)).unwrap();
                    assert_eq!(again, input, "{}", String::from_utf8_lossy(&bytes));
                    let _ = BatchCircuit::new(w);
                }
            }
            Ok(())
        })
        .unwrap();
}

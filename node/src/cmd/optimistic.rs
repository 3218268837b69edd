//! `zkr optimistic-l1`: the optimistic twin of `zkr l1` as a local HTTP JSON service
//! ([`zkr_verifier::optimistic::OptimisticL1`]); and `zkr watch`: the watcher that checks every
//! batch it posts, step by step, and challenges the first wrong step with a one-step fraud proof.
//!
//! `zkr optimistic-l1 --data-dir DIR --depth D --batch-size B --operator NAME [--window-s S]
//! [--bond U]` keeps its state in `DIR/optimistic.json` (replaced atomically on every change,
//! locked while it runs). No keys: nothing is proven. Batches become final lazily, on the first
//! request after their window.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /genesis` | | `{"chain_id", "operator", "operator_l1", "genesis_root", "params", "window_s", "bond"}` |
//! | `GET /root` | | `{"head_root", "final_root", "batches", "final_batches", "pending_requests", "frauds"}` |
//! | `GET /batches?from=N` | | posted batches with number ≥ N: `{"number", "old_root", "new_root", "public_data", "signatures", "step_roots", "poster", "posted_at", "requests", "withdrawals", "is_final"}` |
//! | `GET /frauds` | | frauds proven: `{"number", "step", "violation", "reverted", "reward"}` |
//! | `GET /balance/0x…` | | `{"address", "balance"}` |
//! | `POST /mint` | `{"to", "amount"}` | credits L1 funds (the local faucet) |
//! | `POST /deposit` | `{"from", "pubkey", "amount"}` | `{"id"}` |
//! | `POST /batch` | `{"poster", "batch": OptimisticSubmission}` | `{"number"}`, or 422 with the refusal's kind |
//! | `POST /challenge` | `{"challenger", "number", "step": {"slot": i} or "fees", "witness": {"slot": {"sender", "receiver"}} or {"fees": LEAF}}` | the fraud proven (`reverted`, `reward`), or 422 with the refusal's kind (`no_fraud`, `bad_witness`, `final`, …) |
//!
//! Errors are JSON `{"error", "kind"}` (400 malformed, 404 unknown path, 413 too large, 422
//! refused by the rules), served by [`crate::http::serve`] with its deadlines and limits.
//!
//! `zkr watch --l1 URL --address 0x…` polls `GET /batches`, rebuilds the state from the posted
//! public data (final batches replayed, pending ones checked step by step with
//! [`zkr_circuits::step::find_fraud`]) and, at the first wrong step, posts its fraud proof from
//! `--address` (which a proven fraud's reward, half the forfeited bonds, is paid to). It prints one JSON line per event: `{"event":
//! "checked", "batch"}`, `{"event": "challenged", "batch", "step", "violation", "reverted",
//! "reward"}`; `--once` checks what is posted and exits (0; 1 if a final batch does not replay).

use super::l1::{DepositBody, MintBody};
use crate::http::{error, json, parse, Answer, Method};
use crate::node::client::JsonClient;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::{json as j, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::field::{fr_from_decimal, fr_to_decimal};
use zkr_circuits::state::State;
use zkr_circuits::step::{find_fraud, StepIndex, StepWitness};
use zkr_circuits::tx::L1Address;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_verifier::optimistic::{
    ChallengeError, FraudProven, OptimisticConfig, OptimisticL1, OptimisticSubmission, PostError,
    PostedBatch,
};

/// Arguments of `zkr optimistic-l1`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory of the L1's state (`optimistic.json`).
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8547")]
    listen: String,
    /// Tree depth of the rollup (2^depth accounts).
    #[arg(long)]
    depth: u32,
    /// Slots per batch.
    #[arg(long)]
    batch_size: usize,
    /// The operator's key in the wallet: account 0 is its from genesis (a new L1 needs it).
    #[arg(long)]
    operator: Option<String>,
    /// The wallet holding `--operator`.
    #[arg(long, default_value = "zkr-wallet.json")]
    wallet: PathBuf,
    /// Seconds a batch can be challenged after it is posted.
    #[arg(long, default_value_t = 60)]
    window_s: u64,
    /// Units a poster locks per batch, paid to whoever proves it fraudulent.
    #[arg(long, default_value_t = 1_000_000)]
    bond: u64,
}

/// Largest request body: a batch of 1,024 slots with signatures and roots is ~350 KB.
const MAX_BODY: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    poster: L1Address,
    batch: OptimisticSubmission,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeBody {
    challenger: L1Address,
    number: u64,
    step: StepIndex,
    witness: StepWitness,
}

fn post_kind(e: &PostError) -> &'static str {
    match e {
        PostError::Rejected(r) => zkr_l1_evm::rejection_kind(r),
        PostError::Malformed(_) => "malformed",
        PostError::NoBond { .. } => "no_bond",
        PostError::Storage(_) => "storage",
    }
}

fn challenge_kind(e: &ChallengeError) -> &'static str {
    match e {
        ChallengeError::NoSuchBatch(_) => "no_such_batch",
        ChallengeError::Final { .. } => "final",
        ChallengeError::NoSuchStep { .. } => "no_such_step",
        ChallengeError::WitnessKind(_) => "witness_kind",
        ChallengeError::BadWitness(_) => "bad_witness",
        ChallengeError::NoFraud { .. } => "no_fraud",
        ChallengeError::Storage(_) => "storage",
    }
}

/// Handles one request against the optimistic L1.
pub fn handle(l1: &mut OptimisticL1, method: &Method, url: &str, body: &[u8]) -> Answer {
    if let Err(e) = l1.finalize() {
        return error(500, "storage", e);
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    match (method, path) {
        (Method::Get, "/genesis") => {
            let g = l1.genesis();
            json(
                200,
                &j!({
                    "chain_id": g.chain_id,
                    "operator": g.operator,
                    "operator_l1": g.operator_l1,
                    "genesis_root": fr_to_decimal(&l1.state().genesis_root),
                    "params": l1.params(),
                    "window_s": l1.config().challenge_window_s,
                    "bond": l1.config().bond,
                }),
            )
        }
        (Method::Get, "/root") => json(
            200,
            &j!({
                "head_root": fr_to_decimal(&l1.head_root()),
                "final_root": fr_to_decimal(&l1.final_root()),
                "batches": l1.batches().len(),
                "final_batches": l1.batches().iter().filter(|b| b.is_final).count(),
                "pending_requests": l1.pending().len(),
                "frauds": l1.frauds().len(),
            }),
        ),
        (Method::Get, "/batches") => {
            let from = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("from="))
                .map(|v| v.parse::<u64>())
                .transpose();
            match from {
                Ok(from) => {
                    let from = from.unwrap_or(1);
                    let list: Vec<&PostedBatch> =
                        l1.batches().iter().filter(|b| b.number >= from).collect();
                    json(200, &list)
                }
                Err(e) => error(400, "bad_request", format!("from: {e}")),
            }
        }
        (Method::Get, "/frauds") => json(200, &l1.frauds()),
        (Method::Get, p) if p.starts_with("/balance/") => {
            match p["/balance/".len()..].parse::<L1Address>() {
                Ok(a) => json(
                    200,
                    &j!({"address": a, "balance": l1.balance(&a).to_string()}),
                ),
                Err(e) => error(400, "bad_request", e),
            }
        }
        (Method::Post, "/mint") => match parse::<MintBody>(body) {
            Ok(m) => match l1.mint(m.to, m.amount) {
                Ok(()) => json(200, &j!({"to": m.to, "amount": m.amount})),
                Err(e) => error(500, "storage", e),
            },
            Err(a) => a,
        },
        (Method::Post, "/deposit") => match parse::<DepositBody>(body) {
            Ok(d) => match l1.deposit(d.from, d.pubkey, d.amount) {
                Ok(id) => json(200, &j!({"id": id})),
                Err(e @ zkr_verifier::DepositError::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, "deposit_refused", e),
            },
            Err(a) => a,
        },
        (Method::Post, "/batch") => match parse::<BatchBody>(body) {
            Ok(b) => match l1.post_batch(b.poster, &b.batch) {
                Ok(n) => json(200, &j!({"number": n})),
                Err(e @ PostError::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, post_kind(&e), e),
            },
            Err(a) => a,
        },
        (Method::Post, "/challenge") => match parse::<ChallengeBody>(body) {
            Ok(c) => match l1.challenge(c.challenger, c.number, c.step, &c.witness) {
                Ok(f) => json(200, &f),
                Err(e @ ChallengeError::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, challenge_kind(&e), e),
            },
            Err(a) => a,
        },
        _ => error(404, "not_found", format!("no route {path}")),
    }
}

/// Runs `zkr optimistic-l1`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("creating {}", a.data_dir.display()))?;
    let operator = a
        .operator
        .as_deref()
        .map(|name| super::wallet::operator_of(&a.wallet, name))
        .transpose()?;
    let config = OptimisticConfig {
        challenge_window_s: a.window_s,
        bond: a.bond,
    };
    let l1 = OptimisticL1::open(
        &a.data_dir.join("optimistic.json"),
        params,
        operator,
        config,
    )?;
    let server = crate::http::bind(&a.listen)?;
    let addr = crate::http::listening_on(&server, &a.listen);
    println!(
        "zkr optimistic-l1 listening on http://{addr} (head root {}, {} batches, window {} s, chain id {})",
        fr_to_decimal(&l1.head_root()),
        l1.batches().len(),
        a.window_s,
        l1.genesis().chain_id
    );
    std::io::stdout().flush().ok();
    // One request at a time against the contract: every call is atomic.
    crate::http::serve_exclusive(server, MAX_BODY, l1, handle);
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `zkr watch`.
#[derive(clap::Args)]
pub struct WatchArgs {
    /// URL of the optimistic L1 (`zkr optimistic-l1`).
    #[arg(long, default_value = "http://127.0.0.1:8547")]
    l1: String,
    /// The watcher's L1 address: a proven fraud's reward (half the forfeited bonds) is paid to it.
    #[arg(long)]
    address: L1Address,
    /// Milliseconds between polls.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Check what is posted now, then exit.
    #[arg(long)]
    once: bool,
}

#[derive(Deserialize)]
struct GenesisView {
    chain_id: u64,
    operator: PublicKey,
    operator_l1: L1Address,
    genesis_root: String,
    params: CircuitParams,
}

fn line(v: Value) {
    println!("{v}");
    std::io::stdout().flush().ok();
}

/// Runs `zkr watch`.
pub fn run_watch(a: WatchArgs) -> anyhow::Result<ExitCode> {
    let l1 = JsonClient::new(&a.l1);
    let g: GenesisView = l1.get("/genesis").context("reading the L1's genesis")?;
    let genesis = Genesis {
        chain_id: g.chain_id,
        operator: g.operator,
        operator_l1: g.operator_l1,
    };
    let genesis_state = State::genesis(g.params, &genesis);
    if fr_from_decimal(&g.genesis_root).ok() != Some(genesis_state.root()) {
        bail!("the L1's genesis root is not the genesis of its operator's account");
    }
    let mut seen = Replayed {
        roots: Vec::new(),
        state: genesis_state.clone(),
    };
    loop {
        match watch_once(&l1, &genesis_state, &a.address, &mut seen) {
            Ok(()) => {}
            Err(e) if a.once => return Err(e),
            Err(e) => tracing::warn!(error = %e, "watching the L1"),
        }
        if a.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(a.poll_ms));
    }
}

/// What the watcher already checked: the posted batches' `(number, new_root)` in order, and the
/// state after them. A posted batch never changes, so the next pass starts from there as long as
/// the L1 still lists the same prefix (after a revert it starts again from genesis).
struct Replayed {
    roots: Vec<(u64, zkr_circuits::Fr)>,
    state: State,
}

/// One pass: checks the posted batches not yet checked, step by step from the state before
/// them, and challenges the first wrong step.
fn watch_once(
    l1: &JsonClient,
    genesis: &State,
    me: &L1Address,
    seen: &mut Replayed,
) -> anyhow::Result<()> {
    let batches: Vec<PostedBatch> = l1.get("/batches?from=1")?;
    let same_prefix = seen.roots.len() <= batches.len()
        && seen
            .roots
            .iter()
            .zip(&batches)
            .all(|(r, b)| *r == (b.number, b.new_root));
    if !same_prefix {
        seen.roots.clear();
        seen.state = genesis.clone();
    }
    for b in &batches[seen.roots.len()..] {
        let state = &seen.state;
        if !b.is_final {
            if let Some(f) = find_fraud(state, &b.steps())? {
                let proven: FraudProven = l1
                    .post(
                        "/challenge",
                        &j!({"challenger": me, "number": b.number, "step": f.step, "witness": f.witness}),
                    )
                    .with_context(|| format!("challenging batch {}", b.number))?;
                line(j!({
                    "event": "challenged",
                    "batch": b.number,
                    "step": f.step,
                    "violation": f.violation.map(|v| v.to_string()),
                    "reverted": proven.reverted,
                    "reward": proven.reward,
                }));
                return Ok(());
            }
        }
        let next = state.replay(&b.slots).with_context(|| {
            format!(
                "batch {} ({}) does not replay: a fraud went unchallenged",
                b.number,
                if b.is_final { "final" } else { "pending" }
            )
        })?;
        if next.root() != b.new_root {
            bail!(
                "batch {}: the replayed root differs from the posted one",
                b.number
            );
        }
        seen.state = next;
        seen.roots.push((b.number, b.new_root));
        line(j!({"event": "checked", "batch": b.number, "final": b.is_final}));
    }
    Ok(())
}

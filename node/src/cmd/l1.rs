//! `zkr l1`: the L1 contract as a local HTTP JSON service.
//!
//! Requests are handled one at a time against one [`L1Contract`], so every call is atomic; the
//! contract persists its state in `DATA_DIR/l1.json` (replaced atomically on every change) and
//! holds an exclusive lock on `DATA_DIR/l1.json.lock` while it runs: a second `zkr l1` (or a
//! `zkr demo`) on the same directory refuses to start.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /genesis` | | `{"chain_id", "operator": {"x", "y"}, "operator_l1", "genesis_root"}`: the deployment's chain id (drawn at random when it was created; every L2 signature binds it), the operator's key and L1 address (account 0's key and owner from genesis) and the root it started from |
//! | `GET /root` | | `{"state_root", "batches", "pending_requests", "exodus", "oldest_deadline"}` (unix seconds after which the oldest queued request is overdue, or null) |
//! | `GET /batches?from=N` | | accepted batches with number ≥ N (their public data included) |
//! | `GET /queue` | | the pending priority queue: `[{"id", "request": {"type": "deposit", "pubkey", "amount", "from"} or {"type": "full_exit", "account", "requester"}}]` |
//! | `GET /balance/0x…` | | `{"address", "balance"}` (L1 balance) |
//! | `POST /mint` | `{"to", "amount"}` | credits L1 funds (the local L1's genesis faucet) |
//! | `POST /deposit` | `{"from", "pubkey": {"x", "y"}, "amount"}` | `{"id"}`; `from` pays and owns the account the deposit opens |
//! | `POST /full-exit` | `{"requester", "account"}` | `{"id"}`: queues a full exit; the batch that consumes it pays the account's whole balance to `requester` if `requester` owns it, and nothing otherwise (422 `full_exit_refused` for an index outside the tree) |
//! | `POST /exodus` | | switches to exodus mode once the oldest queued request is overdue (422 `exodus_refused` before): no more batches, deposits or requests; queued deposits refunded |
//! | `POST /exodus/withdraw` | `{"index", "account": {"pubkey", "balance", "nonce", "owner"}, "siblings": [["…", …], …]}` | in exodus mode, pays the account's balance to its owner once, if the leaf and path give the last verified root: `{"index", "owner", "amount"}` |
//! | `POST /batch` | a `BatchSubmission` | the receipt, or 422 with the typed rejection |
//!
//! Errors are JSON `{"error": "...", "kind": "..."}` with status 400 (malformed JSON or
//! values), 404 (unknown path), 408 `request_timeout` (body not received in time), 413 (body
//! over 1 MiB), 422 (refused by the contract's rules).
//!
//! The server is [`crate::http::serve`]: a client that connects and stalls holds one of its
//! [`crate::http::MAX_CONNECTIONS`] connection slots until a deadline closes it
//! ([`crate::http::HEAD_TIMEOUT`] for the request head, [`crate::http::BODY_TIMEOUT`] for the
//! body), never a thread; the others keep being answered.
//!
//! `zkr l1 deploy --rpc URL --keys DIR` deploys the Solidity twin instead, on an EVM chain
//! reached over JSON-RPC (e.g. anvil): PoseidonT5, `Groth16KeyedVerifier` with the verifying key
//! of `DIR`, and `Rollup` at the genesis root (the operator's account 0 alone); it prints the
//! rollup's address, which `zkr node --l1-rpc URL --rollup ADDRESS` settles on (see
//! docs/anvil.md).
//!
//! Both need the operator: `--operator NAME` names a key of the wallet (`--wallet`, default
//! `zkr-wallet.json`), whose L2 key owns account 0, the account every fee goes to, from genesis.
//! A restarted `zkr l1` reads it from its state (and refuses another one).

use super::util::spinner;
use crate::http::{error, json, parse, Answer, Method};
use anyhow::Context;
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::tx::L1Address;
use zkr_prover::keys::KeySet;
use zkr_verifier::{
    BatchSubmission, DepositError, ExodusError, FullExitError, L1Contract, Rejection,
};

/// Largest accepted request body.
pub const MAX_BODY: usize = 1 << 20;

/// Arguments of `zkr l1`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<L1Command>,
    /// Directory of the L1's state (`l1.json`).
    #[arg(long, required = true)]
    data_dir: Option<PathBuf>,
    /// Key directory from `zkr setup` (its verifying key and circuit parameters).
    #[arg(long, required = true)]
    keys: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8545")]
    listen: String,
    /// The operator's key in the wallet: its L2 key owns account 0 (every fee) from genesis.
    /// Needed when the L1 is created; a restart reads it from the state.
    #[arg(long)]
    operator: Option<String>,
    /// The wallet holding `--operator`.
    #[arg(long, default_value = "zkr-wallet.json")]
    wallet: PathBuf,
    /// How long a queued deposit or full exit may wait, in seconds, before anyone can switch the
    /// L1 to exodus mode (a deployment parameter: set when the L1 is created).
    #[arg(long)]
    priority_deadline_s: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExitBody {
    index: u64,
    account: zkr_circuits::account::Account,
    /// Siblings per level, leaf level first, as decimal strings.
    siblings: Vec<Vec<String>>,
}

/// `POST /mint` (also `zkr optimistic-l1`'s).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MintBody {
    pub(crate) to: L1Address,
    pub(crate) amount: u64,
}

/// `POST /deposit` (also `zkr optimistic-l1`'s).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DepositBody {
    pub(crate) from: L1Address,
    pub(crate) pubkey: PublicKey,
    pub(crate) amount: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullExitBody {
    requester: L1Address,
    account: u64,
}

fn rejection_kind(r: &Rejection) -> &'static str {
    match r {
        Rejection::Replayed { .. } => "replayed",
        Rejection::OutOfOrder { .. } => "out_of_order",
        Rejection::NonCanonicalInput { .. } => "non_canonical_input",
        Rejection::WrongOldRoot { .. } => "wrong_old_root",
        Rejection::MalformedPublicData(_) => "malformed_public_data",
        Rejection::QueueMismatch(_) => "queue_mismatch",
        Rejection::Exodus => "exodus",
        Rejection::MalformedProof(_) => "malformed_proof",
        Rejection::BadProof => "bad_proof",
        Rejection::Storage(_) => "storage",
    }
}

/// Handles one request against the contract.
pub fn handle(l1: &mut L1Contract, method: &Method, url: &str, body: &[u8]) -> Answer {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    match (method, path) {
        (Method::Get, "/root") => json(
            200,
            &serde_json::json!({
                "state_root": fr_to_decimal(&l1.state_root()),
                "batches": l1.state().batches.len(),
                "pending_requests": l1.state().queue.len(),
                "exodus": l1.state().exodus,
                "oldest_deadline": l1.oldest_deadline(),
            }),
        ),
        (Method::Get, "/genesis") => json(
            200,
            &serde_json::json!({
                "chain_id": l1.genesis().chain_id,
                "operator": l1.genesis().operator,
                "operator_l1": l1.genesis().operator_l1,
                "genesis_root": fr_to_decimal(&l1.genesis_root()),
                "params": l1.state().params,
            }),
        ),
        (Method::Get, "/batches") => {
            let from = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("from="))
                .map(|v| v.parse::<u64>())
                .transpose();
            match from {
                Err(e) => error(400, "malformed_request", format!("bad `from`: {e}")),
                Ok(from) => {
                    let from = from.unwrap_or(1);
                    let list: Vec<_> = l1
                        .state()
                        .batches
                        .iter()
                        .filter(|b| b.number >= from)
                        .collect();
                    json(200, &list)
                }
            }
        }
        (Method::Get, "/queue") => json(200, &l1.state().queue),
        (Method::Get, p) if p.starts_with("/balance/") => {
            match p["/balance/".len()..].parse::<L1Address>() {
                Ok(a) => json(
                    200,
                    &serde_json::json!({ "address": a, "balance": l1.balance(&a).to_string() }),
                ),
                Err(e) => error(400, "malformed_request", e),
            }
        }
        (Method::Post, "/mint") => match parse::<MintBody>(body) {
            Err(a) => a,
            Ok(m) => match l1.mint(m.to, m.amount) {
                Ok(()) => json(
                    200,
                    &serde_json::json!({ "balance": l1.balance(&m.to).to_string() }),
                ),
                Err(e) => error(500, "storage", e),
            },
        },
        (Method::Post, "/deposit") => match parse::<DepositBody>(body) {
            Err(a) => a,
            Ok(d) => match l1.deposit(d.from, d.pubkey, d.amount) {
                Ok(id) => json(200, &serde_json::json!({ "id": id })),
                Err(e @ DepositError::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, "deposit_refused", e),
            },
        },
        (Method::Post, "/full-exit") => match parse::<FullExitBody>(body) {
            Err(a) => a,
            Ok(f) => match l1.request_full_exit(f.requester, f.account) {
                Ok(id) => json(200, &serde_json::json!({ "id": id })),
                Err(e @ FullExitError::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, "full_exit_refused", e),
            },
        },
        (Method::Post, "/exodus") => match l1.activate_exodus() {
            Ok(()) => json(200, &serde_json::json!({ "exodus": true })),
            Err(e @ ExodusError::Storage(_)) => error(500, "storage", e),
            Err(e) => error(422, "exodus_refused", e),
        },
        (Method::Post, "/exodus/withdraw") => match parse::<ExitBody>(body) {
            Err(a) => a,
            Ok(x) => match x
                .siblings
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|v| zkr_circuits::field::fr_from_decimal(v))
                        .collect()
                })
                .collect::<Result<Vec<Vec<_>>, _>>()
            {
                Err(e) => error(400, "malformed_request", format!("bad sibling: {e}")),
                Ok(siblings) => match l1.exodus_withdraw(x.index, &x.account, siblings) {
                    Ok((owner, amount)) => json(
                        200,
                        &serde_json::json!({ "index": x.index, "owner": owner, "amount": amount }),
                    ),
                    Err(e @ ExodusError::Storage(_)) => error(500, "storage", e),
                    Err(e) => error(422, "exodus_refused", e),
                },
            },
        },
        (Method::Post, "/batch") => match parse::<BatchSubmission>(body) {
            Err(a) => a,
            Ok(s) => match l1.submit_batch(&s) {
                Ok(r) => json(200, &r),
                Err(e @ Rejection::Storage(_)) => error(500, "storage", e),
                Err(e) => error(422, rejection_kind(&e), e),
            },
        },
        _ => error(404, "not_found", format!("no endpoint {method} {path}")),
    }
}

/// `zkr l1 …`: a subcommand instead of serving the Rust L1.
#[derive(clap::Subcommand)]
pub enum L1Command {
    /// Deploy the Solidity L1 (PoseidonT5 and PoseidonT6, the Groth16 verifier for the key in
    /// `--keys`, Rollup) on an EVM chain over JSON-RPC, e.g. anvil; print the rollup's address.
    Deploy(DeployArgs),
}

/// Arguments of `zkr l1 deploy`.
#[derive(clap::Args)]
pub struct DeployArgs {
    /// JSON-RPC URL of the chain (anvil: `http://127.0.0.1:8545`).
    #[arg(long)]
    rpc: String,
    /// Key directory from `zkr setup`: the verifier is made for its verifying key, the rollup
    /// for its batch size and depth.
    #[arg(long)]
    keys: PathBuf,
    /// The deployer's L1 private key (hex), which pays for the deployment. Prefer the
    /// environment variable to the command line.
    #[arg(long, env = "ZKR_L1_KEY", hide_env_values = true)]
    l1_key: Option<String>,
    /// The operator's key in the wallet: its L2 key owns account 0 (every fee) from genesis.
    #[arg(long)]
    operator: String,
    /// The wallet holding `--operator`.
    #[arg(long, default_value = "zkr-wallet.json")]
    wallet: PathBuf,
    /// How long a queued deposit or full exit may wait, in seconds, before anyone can switch the
    /// contract to exodus mode (fixed at deployment; 1 to 2^32 - 1).
    #[arg(long, default_value_t = zkr_l1_evm::rollup::DEFAULT_PRIORITY_DEADLINE_S)]
    priority_deadline_s: u64,
    /// Print the addresses as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `zkr l1 deploy`.
fn deploy(a: DeployArgs) -> anyhow::Result<ExitCode> {
    use zkr_l1_evm::rpc::{address_of, parse_private_key, RpcChain};
    let key = a.l1_key.as_deref().ok_or_else(|| {
        anyhow::anyhow!(
            "deploying needs the deployer's L1 key: --l1-key HEX or ZKR_L1_KEY \
             (on a local anvil, its first development key: see docs/anvil.md)"
        )
    })?;
    let key = parse_private_key(key).context("--l1-key / ZKR_L1_KEY")?;
    let deployer = address_of(&key);
    let (operator, _) = super::wallet::operator_of(&a.wallet, &a.operator)?;
    let (meta, vk) = KeySet::load_vk(&a.keys)
        .with_context(|| format!("loading the verifying key from {}", a.keys.display()))?;
    let params = meta.params;
    let mut chain =
        RpcChain::connect(&a.rpc).with_context(|| format!("connecting to {}", a.rpc))?;
    chain.add_key(key);
    let chain_id = chain.chain_id();
    let mut r = zkr_l1_evm::EvmRollup::deploy_for_key_on(
        chain,
        deployer,
        params,
        &vk,
        &operator,
        a.priority_deadline_s,
    )
    .with_context(|| format!("deploying on {}", a.rpc))?;
    let (g, genesis) = r
        .genesis()
        .context("reading the deployed rollup's genesis")?;
    let d = r.deployment;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "rollup": d.rollup.to_string(),
                "verifier": d.verifier.to_string(),
                "poseidon": d.poseidon.to_string(),
                "poseidon_t6": d.poseidon_t6.to_string(),
                "priority_deadline_s": a.priority_deadline_s,
                "deployer": deployer.to_string(),
                "rpc": a.rpc,
                "chain_id": chain_id,
                "depth": params.depth,
                "batch_size": params.batch_size,
                "genesis_root": fr_to_decimal(&genesis),
                "rollup_chain_id": g.chain_id,
                "operator": g.operator,
            }))?
        );
    } else {
        println!(
            "rollup {} deployed on {} (chain {chain_id}) by {deployer}: depth {}, batch size {}, root {}, rollup chain id {}, priority deadline {} s; verifier {}, PoseidonT5 {}, PoseidonT6 {}",
            d.rollup,
            a.rpc,
            params.depth,
            params.batch_size,
            fr_to_decimal(&genesis),
            g.chain_id,
            a.priority_deadline_s,
            d.verifier,
            d.poseidon,
            d.poseidon_t6
        );
        println!(
            "settle on it with: zkr node --l1-rpc {} --rollup {} --keys {} --data-dir DIR",
            a.rpc,
            d.rollup,
            a.keys.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `zkr l1` until killed, or `zkr l1 deploy`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if let Some(L1Command::Deploy(d)) = a.command {
        return deploy(d);
    }
    let (Some(data_dir), Some(keys)) = (a.data_dir, a.keys) else {
        anyhow::bail!("give --data-dir and --keys (or a subcommand: `zkr l1 deploy`)");
    };
    let pb = spinner("loading the verifying key");
    let (meta, vk) = KeySet::load_vk(&keys)?;
    pb.finish_and_clear();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let operator = a
        .operator
        .as_deref()
        .map(|name| super::wallet::operator_of(&a.wallet, name))
        .transpose()?;
    let l1 = L1Contract::open(&data_dir.join("l1.json"), meta.params, vk, operator).map_err(
        |e| match e {
            zkr_verifier::L1Error::NoOperator { .. } => anyhow::anyhow!(
                "{e}: give --operator NAME, a key of the wallet (--wallet FILE); \
                 create one with `zkr wallet new --name NAME`"
            ),
            e => e.into(),
        },
    )?;
    let mut l1 = l1;
    if let Some(s) = a.priority_deadline_s {
        l1.set_priority_deadline(s)
            .map_err(|e| anyhow::anyhow!("--priority-deadline-s: {e}"))?;
    }
    let server = crate::http::bind(&a.listen)?;
    let addr = crate::http::listening_on(&server, &a.listen);
    println!(
        "zkr l1 listening on http://{addr} (root {}, {} batches, chain id {})",
        fr_to_decimal(&l1.state_root()),
        l1.state().batches.len(),
        l1.genesis().chain_id
    );
    std::io::stdout().flush().ok();
    // One request at a time against the contract: every call is atomic.
    crate::http::serve_exclusive(server, MAX_BODY, l1, handle);
    Ok(ExitCode::SUCCESS)
}

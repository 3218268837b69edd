//! `zkr node`: the sequencer and prover as a long-running service.
//!
//! Four activities share one [`Core`] behind a mutex:
//!
//! - **API** (the main thread): answers HTTP requests ([`super::api`]).
//! - **Sequencer**: every 300 ms reads the L1's deposit queue; seals a batch when `batch_size`
//!   items wait, or when the oldest waited `--batch-timeout-ms` (the rest is noop padding).
//! - **Prover** (`--local-provers`, 0 for none): takes queued proof jobs and proves them with
//!   the prover pool (one worker per batch, `--prover-threads` split between them), then stores
//!   each proof. Remote provers (`zkr prover`) lease jobs from the same queue over the API
//!   (`/prover/...`); their proofs are verified before they are stored.
//! - **Settler**: submits proven batches to the L1 in order; a batch is final when the L1
//!   accepted it. An L1 that is down is retried; an L1 that refuses a batch or disagrees with
//!   this node's roots stops the node, which says why (`GET /status`, `halted`).
//!
//! At start the node rebuilds its state from RocksDB ([`Core::open`]) and checks it against
//! the L1 ([`Core::reconcile`]); it refuses to start when they disagree.
//!
//! The L1 is either the Rust L1 served by `zkr l1` (`--l1 URL`) or the rollup contract on an
//! EVM chain (`--l1-rpc URL --rollup ADDRESS`, with the operator's key in `--l1-key` or
//! `ZKR_L1_KEY`): the same rules on both, through [`L1`].

use super::client::JsonClient;
use super::core::{check_genesis_root, Core, NodeError, SequencerConfig};
use super::l1::{EvmL1, HttpL1, L1Error, L1};
use super::store::Store;
use crate::cmd::util::spinner;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::params::CircuitParams;
use zkr_l1_evm::rpc::{address_of, parse_private_key, RpcChain};
use zkr_l1_evm::Address;
use zkr_prover::keys::KeySet;
use zkr_prover::pool::{prove_all, PoolConfig};
use zkr_verifier::snarkjs::ProofJson;

/// Arguments of `zkr node`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory of the node's RocksDB database (`DIR/db`) and, without `--keys`, its keys.
    #[arg(long)]
    data_dir: PathBuf,
    /// URL of the L1 service (`zkr l1`).
    #[arg(
        long,
        default_value = "http://127.0.0.1:8545",
        conflicts_with = "l1_rpc"
    )]
    l1: String,
    /// Settle on the rollup contract of an EVM chain instead: its JSON-RPC URL (e.g. anvil's
    /// `http://127.0.0.1:8545`). Needs `--rollup` and the operator's key.
    #[arg(long, requires = "rollup")]
    l1_rpc: Option<String>,
    /// The rollup contract's address on `--l1-rpc` (as `zkr l1 deploy` printed it).
    #[arg(long, requires = "l1_rpc")]
    rollup: Option<Address>,
    /// The operator's L1 private key (hex), which signs and pays for the batch transactions on
    /// `--l1-rpc`. Prefer the environment variable to the command line.
    #[arg(long, env = "ZKR_L1_KEY", hide_env_values = true)]
    l1_key: Option<String>,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8546")]
    listen: String,
    /// Key directory from `zkr setup` (the L1 must use the same one). Without it, keys for
    /// `--depth` and `--batch-size` are loaded from or generated into `DATA_DIR/keys`.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Tree depth when generating keys.
    #[arg(long, default_value_t = 16)]
    depth: u32,
    /// Batch size when generating keys.
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Seal a partial batch when its oldest item waited this long (milliseconds).
    #[arg(long, default_value_t = 2000)]
    batch_timeout_ms: u64,
    /// Most transactions in the mempool.
    #[arg(long, default_value_t = 4096)]
    mempool_max: usize,
    /// Prover threads in all, for this node's own provers (default: the machine's cores).
    #[arg(long)]
    prover_threads: Option<usize>,
    /// Batches this node proves at once itself (default: as many as prover threads; 0: none,
    /// every proof comes from `zkr prover` workers).
    #[arg(long)]
    local_provers: Option<usize>,
    /// How long a remote prover's lease on a proof job lasts, in milliseconds; workers renew
    /// it while they prove. A job whose lease expires is queued again.
    #[arg(long, default_value_t = 30_000)]
    lease_ms: u64,
}

type Shared = Arc<Mutex<Core>>;

fn lock(core: &Shared) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the L1's root and the batches after this node's last final one, and reconciles.
fn sync_with_l1<L: L1>(l1: &mut L, core: &Shared) -> Result<(), String> {
    let from = lock(core).heights().2 + 1;
    let head = l1.head().map_err(|e| e.to_string())?;
    let newer = l1.batches_from(from).map_err(|e| e.to_string())?;
    lock(core)
        .reconcile(head.batches, head.state_root, &newer)
        .map_err(|e| e.to_string())
}

fn sequencer<L: L1>(core: Shared, mut l1: L) {
    let mut last_poll: Option<Instant> = None;
    let mut warned = false;
    loop {
        if last_poll.is_none_or(|t| t.elapsed() >= Duration::from_millis(300)) {
            last_poll = Some(Instant::now());
            let from = lock(&core).next_l1_request_id();
            match l1.requests_from(from) {
                Ok(q) => {
                    lock(&core).observe_l1_queue(&q);
                    warned = false;
                }
                Err(e) if !warned => {
                    tracing::warn!(error = %e, "cannot read the L1's deposit queue; retrying");
                    warned = true;
                }
                Err(_) => {}
            }
        }
        {
            let mut c = lock(&core);
            match c.seal_if_due(Instant::now()) {
                Ok(Some(b)) => tracing::debug!(
                    batch = b.number,
                    txs = b.txs,
                    execute_ms = b.execute.as_secs_f64() * 1e3,
                    "batch sealed"
                ),
                Ok(None) => {}
                Err(e) => c.halt(e.to_string()),
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn prover(core: Shared, keys: Arc<KeySet>, provers: usize, threads: usize) {
    loop {
        let jobs = lock(&core).take_jobs(provers, Instant::now());
        if jobs.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let workers = jobs.len().min(threads).max(1);
        let config = PoolConfig {
            workers,
            threads_per_worker: (threads / workers).max(1),
        };
        let numbers: Vec<u64> = jobs.iter().map(|j| j.number).collect();
        let results = prove_all(
            config,
            keys.clone(),
            jobs.into_iter().map(|j| j.witness).collect(),
        );
        let mut c = lock(&core);
        for (n, r) in numbers.into_iter().zip(results) {
            match r.result {
                Ok((proof, _, t)) => {
                    let stored = c.store_proof(
                        n,
                        ProofJson::from_proof(&proof),
                        t.synthesis.as_secs_f64(),
                        t.proving.as_secs_f64(),
                        "local",
                    );
                    match stored {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::info!(batch = n, "a remote prover's proof was accepted first")
                        }
                        Err(e) => c.halt(e.to_string()),
                    }
                }
                Err(e) => {
                    c.release_job(n);
                    c.halt(format!("proving batch {n} failed: {e}"));
                }
            }
        }
    }
}

fn settler<L: L1>(core: Shared, mut l1: L) {
    let mut warned = false;
    loop {
        let next = lock(&core).next_submission();
        let sub = match next {
            Err(e) => {
                lock(&core).halt(e.to_string());
                continue;
            }
            Ok(None) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Ok(Some(s)) => s,
        };
        let n = sub.number;
        match l1.submit(&sub) {
            Ok(()) => {
                warned = false;
                let mut c = lock(&core);
                if let Err(e) = c.mark_final(n) {
                    c.halt(e.to_string());
                }
            }
            // Accepted before (the node died between the L1's answer and its own write, or the
            // answer was lost): check the L1's record against ours and catch up.
            Err(L1Error::Refused { kind, .. }) if kind == "replayed" => {
                if let Err(e) = sync_with_l1(&mut l1, &core) {
                    lock(&core).halt(e);
                }
            }
            Err(L1Error::Refused { kind, message }) => {
                let why = match sync_with_l1(&mut l1, &core) {
                    Err(e) => e,
                    Ok(()) => format!("the L1 refused batch {n} ({kind}): {message}"),
                };
                lock(&core).halt(why);
            }
            // Any other refusal of a well-formed submission: this node and the L1 disagree.
            Err(L1Error::Disagrees(why)) => {
                lock(&core).halt(format!("the L1 refused batch {n} with {why}"));
            }
            Err(L1Error::Unavailable(e)) => {
                if !warned {
                    tracing::warn!(error = %e, batch = n, "cannot submit to the L1; retrying");
                    warned = true;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// Runs `work` on a named thread; if it panics, the node halts and says why (instead of
/// silently losing the thread while the API keeps accepting transactions).
fn supervise(
    core: &Shared,
    name: &'static str,
    work: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    let core = core.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                lock(&core).halt(format!("the {name} thread panicked: {msg}"));
            }
        })?;
    Ok(())
}

/// Runs `zkr node` until killed.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("creating {}", a.data_dir.display()))?;
    let threads = a
        .prover_threads
        .unwrap_or_else(|| PoolConfig::default_for_machine().workers)
        .max(1);
    let local_provers = a.local_provers.unwrap_or(threads);

    // A node that proves nothing itself needs only the verifying key (to check uploads).
    let pb = spinner("loading the keys");
    let (params, vk, keys) = match &a.keys {
        Some(dir) if local_provers == 0 => {
            let (meta, vk) = KeySet::load_vk(dir)
                .with_context(|| format!("loading the verifying key from {}", dir.display()))?;
            (meta.params, vk, None)
        }
        Some(dir) => {
            let k = KeySet::load(dir)
                .with_context(|| format!("loading keys from {}", dir.display()))?;
            (k.meta.params, k.vk().clone(), Some(k))
        }
        None => {
            let params = CircuitParams::new(a.depth, a.batch_size)?;
            let dir = KeySet::cache_dir(&a.data_dir.join("keys"), &params);
            pb.set_message(format!("loading or generating keys in {}", dir.display()));
            let (k, _) = KeySet::load_or_generate(&dir, params, None)?;
            println!(
                "keys: {} (start `zkr l1 --keys` and `zkr prover --keys` with this directory)",
                dir.display()
            );
            (k.meta.params, k.vk().clone(), Some(k))
        }
    };
    pb.finish_and_clear();
    match (a.l1_rpc.clone(), a.rollup) {
        (Some(url), Some(rollup)) => {
            let key = a.l1_key.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "settling on {url} needs the operator's L1 key: --l1-key HEX or ZKR_L1_KEY \
                     (on a local anvil, its first development key: see docs/anvil.md)"
                )
            })?;
            let key = parse_private_key(key).context("--l1-key / ZKR_L1_KEY")?;
            let operator = address_of(&key);
            let mut chain =
                RpcChain::connect(&url).with_context(|| format!("connecting to {url}"))?;
            chain.add_key(key);
            let mut l1 = EvmL1::attach(chain, rollup, operator)
                .with_context(|| format!("the rollup at {rollup} on {url}"))?;
            let slots = l1.0.batch_size().map_err(anyhow::Error::from)?;
            if slots != params.batch_size as u64 {
                anyhow::bail!(
                    "the rollup at {rollup} takes batches of {slots} slots; these keys are for {}",
                    params.batch_size
                );
            }
            tracing::info!(%rollup, %operator, chain_id = l1.0.chain.chain_id(), "settling on an EVM chain");
            let core = open_core(&a, &mut l1, params, &vk)?;
            serve(a, core, l1, keys, params, local_provers, threads)
        }
        _ => {
            let mut l1 = HttpL1(JsonClient::new(&a.l1));
            let core = open_core(&a, &mut l1, params, &vk)?;
            serve(a, core, l1, keys, params, local_provers, threads)
        }
    }
}

/// Reads the L1's deployment (chain id, operator, genesis root), checks the genesis root, and
/// opens the node's database for it.
fn open_core<L: L1>(
    a: &Args,
    l1: &mut L,
    params: CircuitParams,
    vk: &zkr_verifier::VerifyingKey,
) -> anyhow::Result<Shared> {
    let (genesis, root) = l1
        .genesis()
        .map_err(|e| anyhow::anyhow!("refusing to start: reading the L1's genesis: {e}"))?;
    check_genesis_root(params, &genesis, root).map_err(|e| anyhow::anyhow!(e))?;
    let store = Store::open(&a.data_dir.join("db"))
        .with_context(|| format!("opening the database in {}", a.data_dir.display()))?;
    let core = Core::open(
        store,
        params,
        genesis,
        SequencerConfig {
            batch_timeout: Duration::from_millis(a.batch_timeout_ms),
            mempool_max: a.mempool_max,
            lease: Duration::from_millis(a.lease_ms.max(1)),
        },
        vk,
    )
    .map_err(|e: NodeError| anyhow::anyhow!("refusing to start: {e}"))?;
    Ok(Arc::new(Mutex::new(core)))
}

/// Syncs with the L1, then runs the API, the sequencer, the prover and the settler on it.
fn serve<L: L1>(
    a: Args,
    core: Shared,
    mut l1: L,
    keys: Option<KeySet>,
    params: CircuitParams,
    local_provers: usize,
    threads: usize,
) -> anyhow::Result<ExitCode> {
    sync_with_l1(&mut l1, &core).map_err(|e| anyhow::anyhow!("refusing to start: {e}"))?;

    let server = crate::http::bind(&a.listen)?;
    let addr = server
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| a.listen.clone());
    {
        let c = lock(&core);
        let (sealed, proven, fin) = c.heights();
        println!(
            "zkr node listening on http://{addr} (depth {}, batch size {}; batches sealed {sealed}, proven {proven}, final {fin}; root {}; local provers {local_provers}, lease {} ms, key {})",
            params.depth,
            params.batch_size,
            fr_to_decimal(&c.state().root()),
            a.lease_ms,
            c.key_fingerprint(),
        );
    }
    std::io::stdout().flush().ok();

    {
        let (c, l) = (core.clone(), l1.clone());
        supervise(&core, "sequencer", move || sequencer(c, l))?;
    }
    if let Some(keys) = keys.filter(|_| local_provers > 0) {
        let keys = Arc::new(keys);
        let c = core.clone();
        supervise(&core, "prover", move || {
            prover(c, keys, local_provers, threads)
        })?;
    }
    {
        let (c, l) = (core.clone(), l1.clone());
        supervise(&core, "settler", move || settler(c, l))?;
    }
    crate::http::serve(server, super::api::MAX_BODY, move |method, url, body| {
        super::api::handle(&mut lock(&core), method, url, body)
    });
    Ok(ExitCode::SUCCESS)
}

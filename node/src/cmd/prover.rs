//! `zkr prover`: a prover on another machine (or another process) that works for a node.
//!
//! It loops: lease the oldest queued proof job from the node (`POST /prover/lease`), prove it
//! with [`zkr_prover::prove::prove`] on `--threads` threads, renew the lease while proving
//! (`POST /prover/renew`, every third of the lease), and upload the proof
//! (`POST /prover/proof`). The node verifies every proof before it accepts it. A node that
//! cannot be reached is retried (the wait grows to 10 s); a node with other keys (its key
//! fingerprint differs) is refused at once, exit 2. On SIGTERM or Ctrl-C the worker gives its
//! job back (`POST /prover/release`) so that the node can hand it out again at once, and exits
//! with 0. The job API and the lease rules are in `docs/node.md`.

use crate::node::client::{ClientError, JsonClient};
use crate::node::job::WitnessJson;
use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zkr_circuits::field::{fr_from_decimal, fr_to_decimal};
use zkr_circuits::params::CircuitParams;
use zkr_prover::keys::{KeySet, OsRng};
use zkr_verifier::contract::vk_digest;
use zkr_verifier::snarkjs::ProofJson;

/// Arguments of `zkr prover`.
#[derive(clap::Args)]
pub struct Args {
    /// URL of the node (`zkr node`) to work for.
    #[arg(long, default_value = "http://127.0.0.1:8546")]
    node: String,
    /// Key directory from `zkr setup`: the same keys as the node's.
    #[arg(long)]
    keys: PathBuf,
    /// Threads per proof (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Wait between two lease requests when no job is queued, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// This worker's name in the node's logs and in `GET /batch/N` (`prover`); default: the
    /// host name and the process id.
    #[arg(long)]
    name: Option<String>,
}

/// Set by SIGTERM or SIGINT.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Sleeps up to `d`, waking early when a stop was asked for.
fn nap(d: Duration) {
    let end = Instant::now() + d;
    while !stopping() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

#[derive(Deserialize)]
struct LeaseAnswer {
    job: Option<JobJson>,
    params: CircuitParams,
    key_fingerprint: String,
}

#[derive(Deserialize)]
struct JobJson {
    batch: u64,
    lease_id: String,
    lease_ms: u64,
    public_inputs: Vec<String>,
    witness: WitnessJson,
}

/// The state of this worker, shared by the proving loop and the lease keeper.
struct Worker {
    node: JsonClient,
    keys: KeySet,
    fingerprint: String,
    name: String,
    pool: rayon::ThreadPool,
    poll: Duration,
}

/// What to do after a lease request.
enum Next {
    Work(Box<JobJson>),
    Wait(Duration),
    Exit(ExitCode),
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// Runs `zkr prover` until stopped.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    #[cfg(unix)]
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
    let keys =
        KeySet::load(&a.keys).with_context(|| format!("loading keys from {}", a.keys.display()))?;
    let threads = a
        .threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("prove-{i}"))
        .build()
        .context("starting the proving threads")?;
    let w = Worker {
        node: JsonClient::new(&a.node),
        fingerprint: vk_digest(keys.vk()),
        name: a.name.unwrap_or_else(default_name),
        keys,
        pool,
        poll: Duration::from_millis(a.poll_ms.max(1)),
    };
    let p = w.keys.meta.params;
    println!(
        "zkr prover {} working for {} (depth {}, batch size {}, {threads} thread(s), key {})",
        w.name,
        a.node.trim_end_matches('/'),
        p.depth,
        p.batch_size,
        w.fingerprint
    );
    std::io::stdout().flush().ok();

    let mut failures = 0u32;
    while !stopping() {
        match w.lease(&mut failures) {
            Next::Work(job) => w.work(*job),
            Next::Wait(d) => nap(d),
            Next::Exit(code) => return Ok(code),
        }
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

impl Worker {
    /// The wait after `failures` failed requests in a row: the poll interval, doubled each time,
    /// at most 10 s.
    fn backoff(&self, failures: u32) -> Duration {
        (self.poll * 2u32.saturating_pow(failures.min(16))).min(Duration::from_secs(10))
    }

    /// Asks the node for a job. `failures` counts the failed requests in a row.
    fn lease(&self, failures: &mut u32) -> Next {
        let body = json!({ "worker": self.name, "key_fingerprint": self.fingerprint });
        match self.node.post::<_, LeaseAnswer>("/prover/lease", &body) {
            Ok(ans) => {
                if *failures > 0 {
                    tracing::info!("the node answers again");
                    *failures = 0;
                }
                if ans.params != self.keys.meta.params || ans.key_fingerprint != self.fingerprint {
                    if let Some(job) = &ans.job {
                        self.release(&job.lease_id);
                    }
                    tracing::error!(
                        node_params = ?ans.params,
                        node_key = %ans.key_fingerprint,
                        our_key = %self.fingerprint,
                        "the node proves with other keys; start the worker with the node's key directory"
                    );
                    return Next::Exit(ExitCode::from(2));
                }
                match ans.job {
                    Some(job) => Next::Work(Box::new(job)),
                    None => Next::Wait(self.poll),
                }
            }
            Err(ClientError::Status { kind, message, .. }) if kind == "wrong_keys" => {
                tracing::error!(%message, "the node proves with other keys; start the worker with the node's key directory");
                Next::Exit(ExitCode::from(2))
            }
            Err(ClientError::Status {
                status: 503,
                message,
                ..
            }) => {
                if *failures == 0 {
                    tracing::warn!(%message, "the node has stopped; waiting");
                }
                *failures += 1;
                Next::Wait(self.backoff(*failures))
            }
            Err(e @ ClientError::Status { .. }) => {
                tracing::error!(error = %e, "the node refuses to lease jobs (is this a zkr node?)");
                Next::Exit(ExitCode::from(2))
            }
            Err(e) => {
                if *failures == 0 {
                    tracing::warn!(error = %e, "cannot reach the node; retrying");
                }
                *failures += 1;
                Next::Wait(self.backoff(*failures))
            }
        }
    }

    /// Gives a job back; errors are logged (the lease expires anyway).
    fn release(&self, lease_id: &str) {
        let r = self
            .node
            .post::<_, serde_json::Value>("/prover/release", &json!({ "lease_id": lease_id }));
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not give the job back; its lease will expire");
        }
    }

    /// Proves one leased job and uploads the proof.
    fn work(&self, job: JobJson) {
        let n = job.batch;
        let witness = match job.witness.to_witness() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(batch = n, error = %e, "the node sent a witness that does not decode; giving the job back");
                self.release(&job.lease_id);
                nap(self.poll);
                return;
            }
        };
        let announced: Result<Vec<_>, _> = job
            .public_inputs
            .iter()
            .map(|s| fr_from_decimal(s))
            .collect();
        if announced.ok() != Some(witness.public_inputs()) {
            tracing::error!(
                batch = n,
                "the job's public inputs are not its witness's; giving the job back"
            );
            self.release(&job.lease_id);
            nap(self.poll);
            return;
        }
        tracing::info!(batch = n, lease_ms = job.lease_ms, "proving");
        let done = AtomicBool::new(false);
        let t = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| self.keep_lease(&job, &done));
            let r = self
                .pool
                .install(|| zkr_prover::prove::prove(&self.keys, &witness, &mut OsRng));
            done.store(true, Ordering::SeqCst);
            r
        });
        let (proof, public, timings) = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(batch = n, error = %e, "proving failed; giving the job back");
                self.release(&job.lease_id);
                nap(self.poll);
                return;
            }
        };
        tracing::info!(
            batch = n,
            prove_s = t.elapsed().as_secs_f64(),
            new_root = %public.get(1).map(fr_to_decimal).unwrap_or_default(),
            "proven; uploading"
        );
        let body = json!({
            "lease_id": job.lease_id,
            "batch": n,
            "proof": ProofJson::from_proof(&proof),
            "synthesis_s": timings.synthesis.as_secs_f64(),
            "prove_s": timings.proving.as_secs_f64(),
        });
        self.upload(n, &body);
    }

    /// Uploads a proof, retrying while the node cannot be reached.
    fn upload(&self, n: u64, body: &serde_json::Value) {
        let mut wait = Duration::from_millis(200);
        let mut warned = false;
        loop {
            match self
                .node
                .post::<_, serde_json::Value>("/prover/proof", body)
            {
                Ok(_) => {
                    tracing::info!(batch = n, "proof accepted");
                    return;
                }
                Err(ClientError::Status { kind, .. }) if kind == "already_proven" => {
                    tracing::info!(batch = n, "another prover's proof was accepted first");
                    return;
                }
                Err(ClientError::Status { kind, .. }) if kind == "unknown_lease" => {
                    tracing::warn!(
                        batch = n,
                        "the node does not know this lease (it restarted?); proof dropped"
                    );
                    return;
                }
                Err(e @ ClientError::Status { .. }) => {
                    tracing::error!(batch = n, error = %e, "the node refused the proof");
                    return;
                }
                Err(e) => {
                    if stopping() {
                        return;
                    }
                    if !warned {
                        tracing::warn!(batch = n, error = %e, "cannot upload the proof; retrying");
                        warned = true;
                    }
                    nap(wait);
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// While the proof runs: renews the lease every third of its duration, and on SIGTERM or
    /// Ctrl-C gives the job back and exits.
    fn keep_lease(&self, job: &JobJson, done: &AtomicBool) {
        let every = Duration::from_millis((job.lease_ms / 3).max(50));
        let mut next = Instant::now() + every;
        let mut renewing = true;
        while !done.load(Ordering::SeqCst) {
            if stopping() {
                tracing::info!(batch = job.batch, "stopping: giving the job back");
                self.release(&job.lease_id);
                std::process::exit(0);
            }
            if renewing && Instant::now() >= next {
                let r = self.node.post::<_, serde_json::Value>(
                    "/prover/renew",
                    &json!({ "lease_id": job.lease_id }),
                );
                match r {
                    Ok(_) => {}
                    Err(ClientError::Status { kind, message, .. }) => {
                        // Expired, proven by someone else, or unknown: a valid proof may still
                        // be accepted while the batch is unproven, so the proof goes on.
                        tracing::warn!(batch = job.batch, %kind, %message, "lease not renewed; proving on");
                        renewing = false;
                    }
                    Err(e) => {
                        tracing::warn!(batch = job.batch, error = %e, "cannot renew the lease; retrying")
                    }
                }
                next = Instant::now() + every;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

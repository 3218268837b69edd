//! A pool that proves several batches at once.
//!
//! One Groth16 proof does not use many cores well (the multi-scalar multiplications scale, the
//! FFTs and the sequential parts less so), so when batches queue up it pays to run several
//! proofs side by side, each on a few threads. A pool has `workers` OS threads, each with its own
//! rayon thread pool of `threads_per_worker` threads; jobs are taken in order from a shared
//! queue and results come back in submission order.

use crate::keys::{KeySet, OsRng};
use crate::prove::{prove, ProveError, ProveTimings};
use ark_bn254::{Bn254, Fr};
use ark_groth16::Proof;
use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use zkr_circuits::witness::BatchWitness;

/// Pool configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Proofs in flight at once.
    pub workers: usize,
    /// Threads each proof may use.
    pub threads_per_worker: usize,
}

impl PoolConfig {
    /// The default: one single-threaded worker per core (several proofs in parallel beat one
    /// proof on all cores when batches queue up — see the README's pool measurements).
    pub fn default_for_machine() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            workers: cores,
            threads_per_worker: 1,
        }
    }
}

/// The result of one job.
pub struct PoolResult {
    /// Proof and public inputs, or why it failed.
    pub result: Result<(Proof<Bn254>, Vec<Fr>, ProveTimings), ProveError>,
    /// Which worker ran it.
    pub worker: usize,
    /// Wall time from the job's start to its end.
    pub wall: Duration,
}

/// Proves `witnesses` with the pool described by `config`; results are in input order.
pub fn prove_all(
    config: PoolConfig,
    keys: Arc<KeySet>,
    witnesses: Vec<BatchWitness>,
) -> Vec<PoolResult> {
    let n = witnesses.len();
    let queue: Arc<Mutex<VecDeque<(usize, BatchWitness)>>> =
        Arc::new(Mutex::new(witnesses.into_iter().enumerate().collect()));
    let (tx, rx) = mpsc::channel();
    let workers = config.workers.max(1).min(n.max(1));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let queue = queue.clone();
            let keys = keys.clone();
            let tx = tx.clone();
            let threads = config.threads_per_worker.max(1);
            std::thread::spawn(move || {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(move |i| format!("prover-{w}-{i}"))
                    .build()
                    .expect("building a rayon pool");
                loop {
                    let job = queue.lock().expect("queue lock").pop_front();
                    let Some((i, witness)) = job else { break };
                    let t = Instant::now();
                    let result = pool.install(|| prove(&keys, &witness, &mut OsRng));
                    let _ = tx.send((
                        i,
                        PoolResult {
                            result,
                            worker: w,
                            wall: t.elapsed(),
                        },
                    ));
                }
            })
        })
        .collect();
    drop(tx);
    let mut out: Vec<Option<PoolResult>> = (0..n).map(|_| None).collect();
    for (i, r) in rx {
        out[i] = Some(r);
    }
    for h in handles {
        let _ = h.join();
    }
    out.into_iter()
        .map(|r| {
            r.unwrap_or(PoolResult {
                result: Err(ProveError::Synthesis(
                    ark_relations::gr1cs::SynthesisError::Unsatisfiable,
                )),
                worker: usize::MAX,
                wall: Duration::ZERO,
            })
        })
        .collect()
}

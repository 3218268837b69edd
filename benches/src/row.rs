//! One row of `zkr bench`, and pool throughput.

use crate::floor::floor;
use crate::machine::{peak_memory, reset_peak_memory};
use ark_ff::Zero;
use ark_serialize::CanonicalSerialize;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::tx::{Deposit, PriorityOp, Transfer, Tx};
use zkr_circuits::witness::BatchWitness;
use zkr_circuits::{CircuitParams, Genesis};
use zkr_prover::groth16::{MsmEngine, PhaseTimings};
use zkr_prover::keys::{KeyError, KeySet, OsRng};
use zkr_prover::pool::{prove_all, PoolConfig};
use zkr_prover::ProveError;

/// Median, min and max of repeated measurements, seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

impl Stats {
    /// Of a non-empty list of durations.
    pub fn of(d: &[Duration]) -> Self {
        let mut v: Vec<f64> = d.iter().map(|x| x.as_secs_f64()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n == 0 {
            0.0
        } else if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Self {
            median,
            min: v.first().copied().unwrap_or(0.0),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

/// The Groth16 prover's phases, milliseconds (see `zkr_prover::groth16::PhaseTimings`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhasesMs {
    /// The QAP witness map (constraint evaluation and seven FFTs).
    pub witness_map: f64,
    /// Preparing the MSMs' scalars.
    pub scalars: f64,
    /// MSM A (G1, all variables).
    pub msm_a: f64,
    /// MSM B in G1 (all variables).
    pub msm_b_g1: f64,
    /// MSM B in G2 (all variables).
    pub msm_b_g2: f64,
    /// MSM C (G1, private inputs).
    pub msm_c: f64,
    /// MSM H (G1, the quotient's coefficients).
    pub msm_h: f64,
    /// Randomisation and final additions.
    pub finish: f64,
}

impl PhasesMs {
    /// The median of each phase over several proofs.
    pub fn median(t: &[PhaseTimings]) -> Self {
        let m = |f: fn(&PhaseTimings) -> Duration| {
            Stats::of(&t.iter().map(f).collect::<Vec<_>>()).median * 1e3
        };
        Self {
            witness_map: m(|t| t.witness_map),
            scalars: m(|t| t.scalars),
            msm_a: m(|t| t.msm_a),
            msm_b_g1: m(|t| t.msm_b_g1),
            msm_b_g2: m(|t| t.msm_b_g2),
            msm_c: m(|t| t.msm_c),
            msm_h: m(|t| t.msm_h),
            finish: m(|t| t.finish),
        }
    }

    /// The five MSMs together.
    pub fn msm_total(&self) -> f64 {
        self.msm_a + self.msm_b_g1 + self.msm_b_g2 + self.msm_c + self.msm_h
    }
}

/// One measured configuration.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Tree depth.
    pub depth: u32,
    /// Slots per batch.
    pub batch_size: usize,
    /// Threads the prover used.
    pub threads: usize,
    /// Constraints.
    pub constraints: usize,
    /// Variables (instance + witness).
    pub variables: usize,
    /// Setup time (once per batch size), s.
    pub setup_s: f64,
    /// Native execution and witness generation (median), ms.
    pub witness_ms: f64,
    /// Constraint synthesis: the assignment, without matrices (median), ms.
    pub synthesis_ms: f64,
    /// Synthesis + Groth16 prover, s.
    pub prove_s: Stats,
    /// zkr's Groth16 prover phase by phase (median over the runs), ms.
    pub phases_ms: PhasesMs,
    /// The same prover (matrices built once) with `ark-ec`'s MSM instead of zkr's, which is
    /// what ark-groth16's `create_proof_with_reduction_and_matrices` computes: synthesis +
    /// prover, one run, s.
    pub arkworks_msm_prove_s: f64,
    /// Its phases, ms.
    pub arkworks_msm_phases_ms: PhasesMs,
    /// Verification with a prepared key (median), ms.
    pub verify_ms: f64,
    /// Proof size, compressed, bytes.
    pub proof_bytes: usize,
    /// Proving key size, uncompressed, bytes.
    pub proving_key_bytes: usize,
    /// Peak resident memory while proving, bytes (0 if unknown).
    pub peak_memory_bytes: u64,
    /// `batch_size / prove_s.median`.
    pub proven_tx_per_s: f64,
    /// The Groth16 floor: a synthetic circuit of the same size, proved the same way, s.
    pub floor_prove_s: Stats,
    /// `prove_s.median / floor_prove_s.median`.
    pub prove_over_floor: f64,
    /// arkworks' standard `create_random_proof_with_reduction` (what `Groth16::prove` runs),
    /// which rebuilds the constraint matrices for every proof, with the keys' QAP reduction
    /// (`zkr_prover::qap::Groth16`: ark-poly's transforms on the same domain): one run, s.
    pub standard_prove_s: f64,
    /// Peak resident memory of that standard proof, bytes.
    pub standard_peak_memory_bytes: u64,
}

/// Errors of a measurement.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Keys.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Proving.
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// Building the sample batches.
    #[error("building sample batches: {0}")]
    Sample(String),
    /// The floor measurement.
    #[error(transparent)]
    Floor(#[from] crate::floor::FloorError),
    /// Thread pool.
    #[error("thread pool: {0}")]
    Pool(String),
}

fn key(i: u64) -> SecretKey {
    let mut seed = [0x5a; 32];
    seed[..8].copy_from_slice(&i.to_le_bytes());
    SecretKey::from_seed(seed)
}

/// The benches' deployment: any chain id will do (the circuit does not depend on it); account 0
/// is `key(0)`'s from genesis.
pub fn bench_genesis() -> Genesis {
    Genesis {
        chain_id: 0xbe9c,
        operator: key(0).public_key(),
        operator_l1: Default::default(),
    }
}

/// A funded state with `batch_size + 1` accounts (created by deposit batches).
pub fn funded_state(params: CircuitParams) -> Result<State, BenchError> {
    let n = params.batch_size as u64 + 1;
    let mut state = State::genesis(params, &bench_genesis());
    let deposits: Vec<PriorityOp> = (0..n)
        .map(|i| {
            PriorityOp::Deposit(Deposit {
                pubkey: key(i).public_key(),
                amount: 1_000_000,
                from: Default::default(),
            })
        })
        .collect();
    for chunk in deposits.chunks(params.batch_size) {
        let txs: Vec<Tx> = chunk.iter().map(PriorityOp::tx).collect();
        state = state.apply_batch(&txs, chunk).map_err(sample_err)?.state;
    }
    Ok(state)
}

/// A full batch of signed transfers on `state` (round `round` of a rotation between accounts).
pub fn transfers(state: &State, round: u64) -> Vec<Tx> {
    let b = state.params().batch_size as u64;
    let n = b + 1;
    (0..b)
        .map(|j| {
            let from = (j + round) % n;
            let to = (from + 1) % n;
            let nonce = state.account(from).map(|a| a.nonce).unwrap_or(0);
            Tx::Transfer(Transfer::signed(
                &key(from),
                state.chain_id(),
                from,
                to,
                10,
                1,
                nonce,
            ))
        })
        .collect()
}

fn sample_err(e: zkr_circuits::state::TransitionError) -> BenchError {
    BenchError::Sample(e.to_string())
}

/// `count` consecutive full batches of transfers (the worst case is every case: a slot costs the
/// same whatever its type), each with the time its native execution took.
pub fn sample_batches(
    params: CircuitParams,
    count: usize,
) -> Result<Vec<(BatchOutput, Duration)>, BenchError> {
    let mut state = funded_state(params)?;
    let mut out = Vec::with_capacity(count);
    for round in 0..count as u64 {
        let txs = transfers(&state, round);
        // Signatures are made above; the timed part is the node's work: checking and executing
        // the batch and building its witness.
        let t = Instant::now();
        let o = state.apply_batch(&txs, &[]).map_err(sample_err)?;
        let elapsed = t.elapsed();
        state = o.state.clone();
        out.push((o, elapsed));
    }
    Ok(out)
}

/// Measures one (batch size, threads) configuration with already generated keys.
pub fn measure_row(
    keys: &KeySet,
    setup: Duration,
    threads: usize,
    runs: usize,
) -> Result<BenchRow, BenchError> {
    let params = keys.meta.params;
    let runs = runs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| BenchError::Pool(e.to_string()))?;
    let batches = sample_batches(params, runs)?;
    let pvk = ark_groth16::prepare_verifying_key(keys.vk());

    reset_peak_memory();
    let mut prove_times = Vec::new();
    let mut synth = Vec::new();
    let mut verify = Vec::new();
    let mut phases = Vec::new();
    let mut proof_bytes = 0;
    for (b, _) in &batches {
        let (proof, public, t) =
            pool.install(|| zkr_prover::prove(keys, &b.witness, &mut OsRng))?;
        prove_times.push(t.synthesis + t.proving);
        synth.push(t.synthesis);
        phases.push(t.phases);
        proof_bytes = proof.compressed_size();
        for _ in 0..5 {
            let t = Instant::now();
            let ok = zkr_verifier::verify_proof(&pvk, &proof, &public);
            verify.push(t.elapsed());
            assert!(ok, "a fresh proof verifies");
        }
    }
    let peak = peak_memory().unwrap_or(0);

    // The same prover with ark-ec's MSM: the speedup of zkr's MSM, phase by phase.
    let circuit = zkr_circuits::circuit::BatchCircuit::new(batches[0].0.witness.clone())
        .map_err(|e| BenchError::Sample(e.to_string()))?;
    let (arkworks_msm_prove_s, arkworks_phases) = pool.install(|| {
        let t = Instant::now();
        let full = zkr_prover::prove::assignment(circuit, &keys.matrices)
            .map_err(|e| BenchError::Sample(e.to_string()))?;
        let (_, phases) = zkr_prover::prove::prove_assignment_with(
            &keys.pk,
            &keys.matrices,
            &full,
            &mut OsRng,
            MsmEngine::Arkworks,
        )
        .map_err(|e| BenchError::Sample(e.to_string()))?;
        Ok::<_, BenchError>((t.elapsed().as_secs_f64(), phases))
    })?;

    // The same proof the standard way, rebuilding the matrices (what zkr avoids).
    reset_peak_memory();
    let circuit = zkr_circuits::circuit::BatchCircuit::new(batches[0].0.witness.clone())
        .map_err(|e| BenchError::Sample(e.to_string()))?;
    let t = Instant::now();
    pool.install(|| {
        zkr_prover::qap::Groth16::create_random_proof_with_reduction(circuit, &keys.pk, &mut OsRng)
    })
    .map_err(|e| BenchError::Sample(e.to_string()))?;
    let standard_prove_s = t.elapsed().as_secs_f64();
    let standard_peak = peak_memory().unwrap_or(0);

    let m = &keys.matrices;
    let floor_times = pool.install(|| {
        floor(
            m.num_constraints,
            m.num_instance_variables - 1,
            m.num_witness_variables,
            runs,
        )
    })?;
    let prove_s = Stats::of(&prove_times);
    let floor_prove_s = Stats::of(&floor_times);
    let witness: Vec<Duration> = batches.iter().map(|(_, d)| *d).collect();
    Ok(BenchRow {
        depth: params.depth,
        batch_size: params.batch_size,
        threads,
        constraints: m.num_constraints,
        variables: m.num_instance_variables + m.num_witness_variables,
        setup_s: setup.as_secs_f64(),
        witness_ms: Stats::of(&witness).median * 1e3,
        synthesis_ms: Stats::of(&synth).median * 1e3,
        prove_s,
        phases_ms: PhasesMs::median(&phases),
        arkworks_msm_prove_s,
        arkworks_msm_phases_ms: PhasesMs::median(&[arkworks_phases]),
        verify_ms: Stats::of(&verify).median * 1e3,
        proof_bytes,
        proving_key_bytes: keys.pk.uncompressed_size(),
        peak_memory_bytes: peak,
        proven_tx_per_s: if prove_s.median.is_zero() {
            0.0
        } else {
            params.batch_size as f64 / prove_s.median
        },
        floor_prove_s,
        prove_over_floor: prove_s.median / floor_prove_s.median,
        standard_prove_s,
        standard_peak_memory_bytes: standard_peak,
    })
}

/// Throughput of a pool configuration on queued batches.
#[derive(Debug, Clone, Serialize)]
pub struct PoolRow {
    /// Proofs in flight.
    pub workers: usize,
    /// Threads per proof.
    pub threads_per_worker: usize,
    /// Batches proved.
    pub batches: usize,
    /// Slots per batch.
    pub batch_size: usize,
    /// Wall time for all of them, s.
    pub wall_s: f64,
    /// Batches per second.
    pub batches_per_s: f64,
    /// Proven transactions per second.
    pub tx_per_s: f64,
}

/// Proves `witnesses` with `config` and measures the wall time.
pub fn pool_throughput(
    keys: Arc<KeySet>,
    witnesses: Vec<BatchWitness>,
    config: PoolConfig,
) -> Result<PoolRow, BenchError> {
    let n = witnesses.len();
    let b = keys.meta.params.batch_size;
    let t = Instant::now();
    let results = prove_all(config, keys, witnesses);
    let wall = t.elapsed().as_secs_f64();
    for r in results {
        r.result?;
    }
    Ok(PoolRow {
        workers: config.workers,
        threads_per_worker: config.threads_per_worker,
        batches: n,
        batch_size: b,
        wall_s: wall,
        batches_per_s: n as f64 / wall,
        tx_per_s: (n * b) as f64 / wall,
    })
}

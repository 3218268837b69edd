//! `zkr bench` and `zkr bench-pool`: proving time per batch, its floor, and its scaling.

use super::circuit::fmt;
use super::util::bytes;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use zkr_benches::{measure_row, pool_throughput, sample_batches, BenchRow, Machine, PoolRow};
use zkr_circuits::CircuitParams;
use zkr_prover::keys::KeySet;
use zkr_prover::pool::PoolConfig;

/// Arguments of `zkr bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth in address bits.
    #[arg(long, default_value_t = 16)]
    depth: u32,
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2, 4])]
    batch_sizes: Vec<usize>,
    /// Prover thread counts, comma-separated (default: all cores).
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// Proofs per configuration (the median is reported, with min and max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print the JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the rows as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also draw prove time and proven tx/s against batch size (SVG).
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// The `--json` report of `zkr bench`.
#[derive(Serialize)]
struct Report {
    machine: Machine,
    date_unix: u64,
    depth: u32,
    runs: usize,
    rows: Vec<BenchRow>,
}

fn progress(len: u64) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("static template"),
    );
    pb
}

/// Runs `zkr bench`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let machine = Machine::detect();
    let threads = if a.threads.is_empty() {
        vec![machine.cores]
    } else {
        a.threads.clone()
    };
    let pb = progress((a.batch_sizes.len() * (1 + threads.len())) as u64);
    let mut rows = Vec::new();
    for &b in &a.batch_sizes {
        let params = CircuitParams::new(a.depth, b)?;
        pb.set_message(format!("setup, batch size {b}"));
        let t = Instant::now();
        // Setup randomness does not affect timings; a seed keeps the run reproducible.
        let keys = KeySet::generate(params, Some(0xbe7c4))?;
        let setup = t.elapsed();
        pb.inc(1);
        for &th in &threads {
            pb.set_message(format!(
                "batch size {b}, {th} thread(s): {} proofs and their floor",
                a.runs
            ));
            rows.push(measure_row(&keys, setup, th, a.runs)?);
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let report = Report {
        machine,
        date_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        depth: a.depth,
        runs: a.runs,
        rows,
    };
    if let Some(path) = &a.csv {
        std::fs::write(path, csv(&report.rows))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &a.plot {
        let m = &report.machine;
        let title = format!(
            "zkr bench — depth {} — {} ({} cores)",
            report.depth, m.cpu_model, m.cores
        );
        super::plot::plot(path, &report.rows, &title)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(r: &Report) {
    let m = &r.machine;
    println!(
        "zkr bench — depth {} (2^{} accounts) — {} ({} cores, {}) — {} runs per row, median [min–max]",
        r.depth,
        r.depth,
        m.cpu_model,
        m.cores,
        bytes(m.memory_bytes),
        r.runs
    );
    println!(
        "{:>5} {:>3} {:>10} {:>8} {:>9} {:>8} {:>20} {:>8} {:>8} {:>8} {:>9} {:>8} {:>6}",
        "batch",
        "thr",
        "constr.",
        "setup s",
        "witn. ms",
        "synth ms",
        "prove s",
        "floor s",
        "ratio",
        "tx/s",
        "verify ms",
        "pk",
        "peak"
    );
    for x in &r.rows {
        println!(
            "{:>5} {:>3} {:>10} {:>8.2} {:>9.1} {:>8.1} {:>20} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>8} {:>6}",
            x.batch_size,
            x.threads,
            fmt(x.constraints),
            x.setup_s,
            x.witness_ms,
            x.synthesis_ms,
            format!("{:.2} [{:.2}–{:.2}]", x.prove_s.median, x.prove_s.min, x.prove_s.max),
            x.floor_prove_s.median,
            x.prove_over_floor,
            x.proven_tx_per_s,
            x.verify_ms,
            bytes(x.proving_key_bytes as u64),
            bytes(x.peak_memory_bytes)
        );
    }
    println!();
    println!("where the prove time goes (ms, median): zkr's Groth16 prover phase by phase, and the same prover with ark-ec's MSM (one run)");
    println!(
        "{:>5} {:>3} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>6} {:>9} {:>9} {:>6}",
        "batch",
        "thr",
        "QAP/FFT",
        "scalars",
        "A",
        "B G1",
        "B G2",
        "C",
        "H",
        "MSMs zkr",
        "MSMs ark",
        "×",
        "ark s",
        "zkr s",
        "×"
    );
    for x in &r.rows {
        let p = &x.phases_ms;
        let a = &x.arkworks_msm_phases_ms;
        println!(
            "{:>5} {:>3} {:>8.0} {:>7.0} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>8.0} {:>9.0} {:>9.0} {:>6.2} {:>9.2} {:>9.2} {:>6.2}",
            x.batch_size,
            x.threads,
            p.witness_map,
            p.scalars,
            p.msm_a,
            p.msm_b_g1,
            p.msm_b_g2,
            p.msm_c,
            p.msm_h,
            p.msm_total(),
            a.msm_total(),
            a.msm_total() / p.msm_total(),
            x.arkworks_msm_prove_s,
            x.prove_s.median,
            x.arkworks_msm_prove_s / x.prove_s.median
        );
    }
    println!();
    println!("matrix reuse: arkworks' standard prove rebuilds the R1CS matrices for every proof; zkr builds them once.");
    println!(
        "{:>5} {:>3} {:>12} {:>12} {:>8} {:>12} {:>12} {:>8}",
        "batch", "thr", "standard s", "zkr s", "saved", "std. peak", "zkr peak", "saved"
    );
    for x in &r.rows {
        println!(
            "{:>5} {:>3} {:>12.2} {:>12.2} {:>7.0}% {:>12} {:>12} {:>7.0}%",
            x.batch_size,
            x.threads,
            x.standard_prove_s,
            x.prove_s.median,
            100.0 * (1.0 - x.prove_s.median / x.standard_prove_s),
            bytes(x.standard_peak_memory_bytes),
            bytes(x.peak_memory_bytes),
            if x.standard_peak_memory_bytes > 0 {
                100.0 * (1.0 - x.peak_memory_bytes as f64 / x.standard_peak_memory_bytes as f64)
            } else {
                0.0
            }
        );
    }
    if let Some(x) = r.rows.first() {
        println!("proof: {} bytes (compressed). prove s = synthesis + Groth16 prover; floor = a synthetic circuit of the same size proved the same way.", x.proof_bytes);
    }
}

fn csv(rows: &[BenchRow]) -> String {
    let mut s = String::from("depth,batch_size,threads,constraints,variables,setup_s,witness_ms,synthesis_ms,prove_s,prove_min_s,prove_max_s,floor_prove_s,prove_over_floor,proven_tx_per_s,verify_ms,proof_bytes,proving_key_bytes,peak_memory_bytes,standard_prove_s,standard_peak_memory_bytes,arkworks_msm_prove_s,witness_map_ms,scalars_ms,msm_a_ms,msm_b_g1_ms,msm_b_g2_ms,msm_c_ms,msm_h_ms,finish_ms,ark_witness_map_ms,ark_msm_a_ms,ark_msm_b_g1_ms,ark_msm_b_g2_ms,ark_msm_c_ms,ark_msm_h_ms\n");
    for x in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{:.4},{:.3},{:.3},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{},{},{:.4},{},{:.4},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1}\n",
            x.depth,
            x.batch_size,
            x.threads,
            x.constraints,
            x.variables,
            x.setup_s,
            x.witness_ms,
            x.synthesis_ms,
            x.prove_s.median,
            x.prove_s.min,
            x.prove_s.max,
            x.floor_prove_s.median,
            x.prove_over_floor,
            x.proven_tx_per_s,
            x.verify_ms,
            x.proof_bytes,
            x.proving_key_bytes,
            x.peak_memory_bytes,
            x.standard_prove_s,
            x.standard_peak_memory_bytes,
            x.arkworks_msm_prove_s,
            x.phases_ms.witness_map,
            x.phases_ms.scalars,
            x.phases_ms.msm_a,
            x.phases_ms.msm_b_g1,
            x.phases_ms.msm_b_g2,
            x.phases_ms.msm_c,
            x.phases_ms.msm_h,
            x.phases_ms.finish,
            x.arkworks_msm_phases_ms.witness_map,
            x.arkworks_msm_phases_ms.msm_a,
            x.arkworks_msm_phases_ms.msm_b_g1,
            x.arkworks_msm_phases_ms.msm_b_g2,
            x.arkworks_msm_phases_ms.msm_c,
            x.arkworks_msm_phases_ms.msm_h
        ));
    }
    s
}

/// Arguments of `zkr bench-pool`.
#[derive(clap::Args)]
pub struct PoolArgs {
    /// Tree depth in address bits.
    #[arg(long, default_value_t = 16)]
    depth: u32,
    /// Slots per batch.
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Queued batches to prove.
    #[arg(long, default_value_t = 4)]
    batches: usize,
    /// Worker counts to compare (threads per worker = cores / workers).
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2])]
    workers: Vec<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct PoolReport {
    machine: Machine,
    depth: u32,
    default_config: (usize, usize),
    rows: Vec<PoolRow>,
}

/// Runs `zkr bench-pool`.
pub fn run_pool(a: PoolArgs) -> anyhow::Result<ExitCode> {
    let machine = Machine::detect();
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    let pb = super::util::spinner("setup and sample batches");
    let keys = Arc::new(KeySet::generate(params, Some(0xbe7c4))?);
    let witnesses: Vec<_> = sample_batches(params, a.batches)?
        .into_iter()
        .map(|(o, _)| o.witness)
        .collect();
    let mut configs: Vec<PoolConfig> = a
        .workers
        .iter()
        .map(|&w| PoolConfig {
            workers: w.max(1),
            threads_per_worker: (machine.cores / w.max(1)).max(1),
        })
        .collect();
    let default = PoolConfig::default_for_machine();
    if !configs.contains(&default) {
        configs.push(default);
    }
    let mut rows = Vec::new();
    for c in configs {
        pb.set_message(format!(
            "{} batches on {} worker(s) × {} thread(s)",
            a.batches, c.workers, c.threads_per_worker
        ));
        rows.push(pool_throughput(keys.clone(), witnesses.clone(), c)?);
    }
    pb.finish_and_clear();
    let report = PoolReport {
        machine,
        depth: a.depth,
        default_config: (default.workers, default.threads_per_worker),
        rows,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &report.machine;
    println!(
        "zkr bench-pool — depth {}, {} batches of {} slots — {} ({} cores); default pool: {} worker(s) × {} thread(s)",
        a.depth, a.batches, a.batch_size, m.cpu_model, m.cores, default.workers, default.threads_per_worker
    );
    println!(
        "{:>8} {:>12} {:>8} {:>11} {:>8}",
        "workers", "thr/worker", "wall s", "batches/s", "tx/s"
    );
    for r in &report.rows {
        println!(
            "{:>8} {:>12} {:>8.2} {:>11.3} {:>8.2}",
            r.workers, r.threads_per_worker, r.wall_s, r.batches_per_s, r.tx_per_s
        );
    }
    Ok(ExitCode::SUCCESS)
}

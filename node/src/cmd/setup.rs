//! `zkr setup`: the circuit-specific Groth16 setup, written to a key directory.

use super::circuit::fmt;
use super::util::{bytes, file_size, secs, spinner};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{KeySet, KeySource};

/// Arguments of `zkr setup`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth in address bits (even, at most 32).
    #[arg(long)]
    depth: u32,
    /// Transaction slots per batch.
    #[arg(long)]
    batch_size: usize,
    /// Directory for the key files.
    #[arg(long)]
    keys: PathBuf,
    /// INSECURE: derive the toxic waste from this seed (reproducible tests and benchmarks only).
    #[arg(long)]
    seed: Option<u64>,
    /// Run the setup even if the directory already holds keys for this circuit.
    #[arg(long)]
    force: bool,
}

/// Runs `zkr setup`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    eprintln!(
        "WARNING: local trusted setup{}: keys for prototypes and teaching, not for value.",
        if a.seed.is_some() {
            " from a fixed seed (INSECURE: anyone can forge proofs)"
        } else {
            " from OS randomness"
        }
    );
    let t = Instant::now();
    let pb = spinner(format!(
        "Groth16 setup for depth {} × {} slots",
        a.depth, a.batch_size
    ));
    let (keys, source) = if a.force {
        let k = KeySet::generate(params, a.seed)?;
        k.save(&a.keys)?;
        (k, KeySource::Generated)
    } else {
        KeySet::load_or_generate(&a.keys, params, a.seed)?
    };
    pb.finish_and_clear();
    println!(
        "setup {}: {} constraints, {} in {}; proving key {}, verifying key {}, constraint matrices {} ({})",
        if source == KeySource::Cached {
            "reused cached keys"
        } else {
            "done"
        },
        fmt(keys.meta.num_constraints),
        if source == KeySource::Cached {
            "loaded"
        } else {
            "generated"
        },
        secs(t.elapsed()),
        bytes(file_size(&a.keys, "proving_key.bin")),
        bytes(file_size(&a.keys, "verifying_key.bin")),
        bytes(file_size(&a.keys, zkr_prover::matrix_file::FILE)),
        a.keys.display()
    );
    Ok(ExitCode::SUCCESS)
}

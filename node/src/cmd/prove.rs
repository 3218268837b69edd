//! `zkr prove`: prove a batch file, writing snarkjs-compatible `proof.json` and `public.json`.

use super::circuit::fmt;
use super::example::BatchFile;
use super::util::{millis, read_json, secs, spinner, write_json};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::state::State;
use zkr_circuits::tx::encode_public_data;
use zkr_prover::keys::{KeySet, OsRng};
use zkr_verifier::snarkjs::{public_to_json, ProofJson};

/// `transition.json`: the transition the public inputs stand for, for readers and for the L1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransitionFile {
    /// The deployment's chain id (the aux chain starts from it).
    pub chain_id: u64,
    /// Root before (decimal).
    pub old_root: String,
    /// Root after (decimal).
    pub new_root: String,
    /// Hash chain of the deposit keys and withdrawal addresses (decimal).
    pub aux_chain: String,
    /// The public data (hex).
    pub public_data: String,
}

/// Arguments of `zkr prove`.
#[derive(clap::Args)]
pub struct Args {
    /// Key directory from `zkr setup`.
    #[arg(long)]
    keys: PathBuf,
    /// Batch file (see `zkr example-batch`).
    #[arg(long)]
    batch: PathBuf,
    /// Output directory for proof.json, public.json and transition.json.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `zkr prove`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let batch: BatchFile = read_json(&a.batch)?;
    let state = State::from_snapshot(&batch.state).context("the batch's starting state")?;

    let t = Instant::now();
    let out = state
        .apply_batch(&batch.transactions, &batch.queue)
        .context("the batch is not valid")?;
    let witness_time = t.elapsed();

    let pb = spinner("loading and validating the proving key");
    let t = Instant::now();
    let keys = KeySet::load(&a.keys)?;
    let load_time = t.elapsed();
    pb.set_message(format!(
        "proving ({} constraints)",
        fmt(keys.meta.num_constraints)
    ));
    let (proof, public, timings) = zkr_prover::prove(&keys, &out.witness, &mut OsRng)?;
    pb.finish_and_clear();

    let proof_json = ProofJson::from_proof(&proof);
    write_json(&a.out.join("proof.json"), &proof_json)?;
    write_json(&a.out.join("public.json"), &public_to_json(&public))?;
    write_json(
        &a.out.join("transition.json"),
        &TransitionFile {
            chain_id: state.chain_id(),
            old_root: fr_to_decimal(&out.public.old_root),
            new_root: fr_to_decimal(&out.public.new_root),
            aux_chain: fr_to_decimal(&out.public.aux_chain),
            public_data: hex::encode(encode_public_data(&out.public_data)),
        },
    )?;
    println!(
        "proved {} slots ({} constraints): witness {}, key load {} (of which R1CS matrices {}, {}), synthesis {}, prove {}, self-check {}; proof 256 B (compressed) -> {}",
        keys.meta.params.batch_size,
        fmt(keys.meta.num_constraints),
        millis(witness_time),
        secs(load_time),
        secs(keys.matrices.synthesis_time),
        keys.matrices.source,
        millis(timings.synthesis),
        secs(timings.proving),
        millis(timings.self_check),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

//! `zkr export-verifier`: render the Solidity Groth16 verifier for a key directory.
//!
//! The output is `Verifier.sol` in the layout of snarkjs's exported verifier (contract
//! `Groth16Verifier`, `verifyProof(_pA, _pB, _pC, _pubSignals)`), with the key's constants. The
//! rollup contract (`contracts/Rollup.sol`) calls it with the batch's public inputs (old root,
//! new root, aux chain, one packed element per slot) as the public signals.

use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_prover::keys::KeySet;

/// Arguments of `zkr export-verifier`.
#[derive(clap::Args)]
pub struct Args {
    /// Key directory (from `zkr setup`); its verifying_key.bin is used.
    #[arg(long)]
    keys: PathBuf,
    /// Where to write the contract.
    #[arg(long, default_value = "Verifier.sol")]
    out: PathBuf,
}

/// Runs `zkr export-verifier`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (meta, vk) = KeySet::load_vk(&a.keys)
        .with_context(|| format!("loading the verifying key from {}", a.keys.display()))?;
    let sol = zkr_verifier::solidity::render_verifier(&vk);
    std::fs::write(&a.out, sol).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} (Groth16 verifier for depth {}, batch size {}, {} public input(s); {})",
        a.out.display(),
        meta.params.depth,
        meta.params.batch_size,
        meta.num_public_inputs,
        meta.setup
    );
    Ok(ExitCode::SUCCESS)
}

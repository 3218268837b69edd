//! `zkr verify`: check a proof directory against a key directory.
//!
//! Exit status: 0 valid, 1 invalid (with the reason), 2 malformed input (with a message).

use super::prove::TransitionFile;
use super::util::{millis, read_json};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use zkr_circuits::field::fr_from_decimal;
use zkr_circuits::public::PublicInputs;
use zkr_prover::keys::KeySet;
use zkr_verifier::snarkjs::{public_from_json, ProofJson, VerificationKeyJson};

/// Arguments of `zkr verify`.
#[derive(clap::Args)]
pub struct Args {
    /// Key directory (its verification_key.json is used).
    #[arg(long)]
    keys: PathBuf,
    /// Proof directory from `zkr prove` (proof.json, public.json, optionally transition.json).
    #[arg(long)]
    proof: PathBuf,
}

/// Runs `zkr verify`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let vk_json: VerificationKeyJson = read_json(&a.keys.join("verification_key.json"))?;
    let vk = vk_json.to_vk().context("verification_key.json")?;
    if let Ok(meta) = KeySet::read_meta(&a.keys) {
        if meta.num_public_inputs != vk_json.n_public {
            anyhow::bail!("verification_key.json does not match circuit.json");
        }
    }
    let proof = read_json::<ProofJson>(&a.proof.join("proof.json"))?
        .to_proof()
        .context("proof.json")?;
    let public_strings: Vec<String> = read_json(&a.proof.join("public.json"))?;
    let public = public_from_json(&public_strings).context("public.json")?;
    if public.len() != vk_json.n_public {
        anyhow::bail!(
            "public.json has {} inputs, the key expects {}",
            public.len(),
            vk_json.n_public
        );
    }

    // If the transition is there, recompute the public inputs the way the L1 does.
    let transition_path = a.proof.join("transition.json");
    if transition_path.exists() {
        let t: TransitionFile = read_json(&transition_path)?;
        let f = |s: &str, what: &str| {
            fr_from_decimal(s).with_context(|| format!("transition.json: {what}"))
        };
        let old_root = f(&t.old_root, "old_root")?;
        let new_root = f(&t.new_root, "new_root")?;
        let aux_chain = f(&t.aux_chain, "aux_chain")?;
        let data = hex::decode(&t.public_data).context("transition.json: public_data")?;
        let slots =
            zkr_circuits::tx::decode_public_data(&data).context("transition.json: public_data")?;
        let inputs = PublicInputs::from_public_data(t.chain_id, old_root, new_root, &slots);
        if inputs.aux_chain != aux_chain {
            println!("INVALID: transition.json's public data does not hash to its aux_chain");
            return Ok(ExitCode::from(1));
        }
        if inputs.to_vec() != public {
            println!("INVALID: public.json is not the public inputs of transition.json");
            return Ok(ExitCode::from(1));
        }
    }

    let t = Instant::now();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    let ok = zkr_verifier::verify_proof(&pvk, &proof, &public);
    let elapsed = t.elapsed();
    if ok {
        println!("OK: the proof verifies ({})", millis(elapsed));
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "INVALID: the Groth16 pairing check fails for these public inputs ({})",
            millis(elapsed)
        );
        Ok(ExitCode::from(1))
    }
}

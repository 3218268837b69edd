//! `zkr reconstruct`: rebuild the L2 state from the L1's accepted public data alone.

use super::util::read_json;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::state::State;
use zkr_circuits::tx::decode_public_data;
use zkr_verifier::L1State;

/// Arguments of `zkr reconstruct`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory holding the L1's state (`l1.json`).
    #[arg(long)]
    data_dir: PathBuf,
    /// Print `{"state_root": ..., ...}` instead of text.
    #[arg(long)]
    json: bool,
}

/// The result of a reconstruction.
#[derive(Debug, Serialize)]
pub struct Reconstruction {
    /// The rebuilt state's root (decimal).
    pub state_root: String,
    /// The L1's root (decimal).
    pub l1_state_root: String,
    /// Whether they are equal.
    pub matches_l1: bool,
    /// Batches replayed.
    pub batches: usize,
    /// Accounts in the rebuilt state.
    pub accounts: usize,
}

/// Replays every accepted batch of an L1 state.
pub fn reconstruct(l1: &L1State) -> anyhow::Result<(State, Reconstruction)> {
    let mut state = State::new(l1.params);
    for b in &l1.batches {
        let data = hex::decode(&b.public_data)?;
        let slots = decode_public_data(&data)?;
        if state.root() != b.old_root {
            anyhow::bail!(
                "batch {}: old root does not follow from the previous batches",
                b.number
            );
        }
        state = state.replay(&slots)?;
        if state.root() != b.new_root {
            anyhow::bail!(
                "batch {}: replayed root differs from the accepted root",
                b.number
            );
        }
    }
    let r = Reconstruction {
        state_root: fr_to_decimal(&state.root()),
        l1_state_root: fr_to_decimal(&l1.state_root),
        matches_l1: state.root() == l1.state_root,
        batches: l1.batches.len(),
        accounts: state.accounts().len(),
    };
    Ok((state, r))
}

/// Runs `zkr reconstruct`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let l1: L1State = read_json(&a.data_dir.join("l1.json"))?;
    let (_, r) = reconstruct(&l1)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "replayed {} batches from the L1's public data: {} accounts, state root {} ({})",
            r.batches,
            r.accounts,
            r.state_root,
            if r.matches_l1 {
                "equal to the L1's root"
            } else {
                "DIFFERENT from the L1's root"
            }
        );
    }
    Ok(if r.matches_l1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

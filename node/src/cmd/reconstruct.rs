//! `zkr reconstruct`: rebuild the L2 state from the L1's accepted public data alone: the Rust
//! L1's `l1.json`, or the rollup contract's event logs on an EVM chain (`--l1-rpc --rollup`).

use super::util::read_json;
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::params::{CircuitParams, MAX_DEPTH};
use zkr_circuits::state::State;
use zkr_circuits::tx::decode_public_data;
use zkr_circuits::{Fr, Genesis};
use zkr_l1_evm::rpc::RpcChain;
use zkr_l1_evm::settle::accepted_batches;
use zkr_l1_evm::{Address, EvmChain, EvmRollup};
use zkr_verifier::{AcceptedBatch, L1State};

/// Arguments of `zkr reconstruct`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory holding the L1's state (`l1.json`).
    #[arg(long, required_unless_present = "l1_rpc", conflicts_with = "l1_rpc")]
    data_dir: Option<PathBuf>,
    /// Or: the JSON-RPC URL of an EVM chain, to rebuild from the rollup contract's event logs
    /// (`BatchAccepted`) alone.
    #[arg(long, requires = "rollup")]
    l1_rpc: Option<String>,
    /// The rollup contract's address on `--l1-rpc`.
    #[arg(long, requires = "l1_rpc")]
    rollup: Option<Address>,
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
    replay(l1.params, &l1.genesis, &l1.batches, l1.state_root)
}

/// Replays `batches` (all of them, from the first) from the genesis state of `params` and
/// `genesis` (the operator's account 0), and compares the result with the L1's root.
pub fn replay(
    params: CircuitParams,
    genesis: &Genesis,
    batches: &[AcceptedBatch],
    l1_root: Fr,
) -> anyhow::Result<(State, Reconstruction)> {
    let mut state = State::genesis(params, genesis);
    for b in batches {
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
        l1_state_root: fr_to_decimal(&l1_root),
        matches_l1: state.root() == l1_root,
        batches: batches.len(),
        accounts: state.accounts().len(),
    };
    Ok((state, r))
}

/// The depth whose genesis state (for `genesis`, with any batch size) has root `root` (the
/// contract keeps no depth: its genesis root names it).
fn depth_of_genesis(genesis: &Genesis, root: Fr) -> Option<u32> {
    (2..=MAX_DEPTH).step_by(2).find(|d| {
        CircuitParams::new(*d, 1).is_ok_and(|p| State::genesis(p, genesis).root() == root)
    })
}

/// Reads the rollup's events on an EVM chain and replays them.
fn from_chain(url: &str, rollup: Address) -> anyhow::Result<(State, Reconstruction)> {
    let chain = RpcChain::connect(url).with_context(|| format!("connecting to {url}"))?;
    // Reading only: no key, no operator.
    let mut r = EvmRollup::attach(chain, rollup, Address::ZERO)
        .with_context(|| format!("the rollup at {rollup} on {url}"))?;
    replay_contract(&mut r)
}

/// Replays the batches of the rollup contract `r` from its `BatchAccepted` events alone (its
/// shape from its genesis root, its chain id and operator from its views), and compares the
/// result with its current root.
pub fn replay_contract<C: EvmChain>(
    r: &mut EvmRollup<C>,
) -> anyhow::Result<(State, Reconstruction)> {
    let head = r.head()?;
    let batch_size = r.batch_size()?;
    let batches = accepted_batches(&r.read_events()?, 1)?;
    let (genesis, genesis_root) = r.genesis()?;
    let depth = depth_of_genesis(&genesis, genesis_root).with_context(|| {
        format!(
            "the rollup's genesis root {} is not the genesis of its operator's account at any supported depth",
            fr_to_decimal(&genesis_root)
        )
    })?;
    if head.batches != batches.len() as u64 {
        anyhow::bail!(
            "the rollup counts {} batches but its logs hold {}",
            head.batches,
            batches.len()
        );
    }
    let params = CircuitParams::new(depth, usize::try_from(batch_size)?)?;
    replay(params, &genesis, &batches, head.state_root)
}

/// Runs `zkr reconstruct`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (_, r) = match (&a.data_dir, &a.l1_rpc, a.rollup) {
        (_, Some(url), Some(rollup)) => from_chain(url, rollup)?,
        (Some(dir), _, _) => reconstruct(&read_json::<L1State>(&dir.join("l1.json"))?)?,
        _ => anyhow::bail!("give --data-dir DIR, or --l1-rpc URL and --rollup ADDRESS"),
    };
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

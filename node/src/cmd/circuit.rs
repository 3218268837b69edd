//! `zkr circuit`: where the constraints go.

use anyhow::Context;
use std::process::ExitCode;
use zkr_circuits::circuit::meter::{Component, ConstraintReport};
use zkr_circuits::circuit::BatchCircuit;
use zkr_circuits::state::State;
use zkr_circuits::CircuitParams;

/// Arguments of `zkr circuit`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth in address bits (2^depth accounts; even, at most 32).
    #[arg(long, default_value_t = 16)]
    depth: u32,
    /// Transaction slots per batch.
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The constraint report of the batch circuit for `params` (synthesized on an all-noop batch:
/// the circuit's shape does not depend on the witness).
pub fn report(params: CircuitParams) -> anyhow::Result<ConstraintReport> {
    let placeholder = zkr_circuits::Genesis {
        chain_id: 0,
        operator: zkr_circuits::eddsa::SecretKey::from_seed([0; 32]).public_key(),
        operator_l1: Default::default(),
    };
    let out = State::genesis(params, &placeholder)
        .apply_batch(&[], &[])
        .context("building a sample batch")?;
    let circuit = BatchCircuit::new(out.witness)?;
    Ok(circuit.constraint_report()?)
}

/// Runs `zkr circuit`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    let r = report(params)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let c = &r.constraints;
    println!(
        "Batch circuit: depth {} (2^{} accounts, tree levels of {:?} address bits), {} slots",
        r.depth,
        r.depth,
        zkr_circuits::merkle::level_bits(r.depth),
        r.batch_size
    );
    println!();
    println!("Per transaction slot (every slot enforces every rule, so all types cost the same):");
    for t in ["transfer", "withdraw", "deposit", "full_exit", "noop"] {
        println!("  {:<22} {:>10}", t, fmt(c.per_tx[t]));
    }
    println!();
    println!(
        "{:<24} {:>12} {:>12} {:>7}",
        "component", "per slot", "batch", "share"
    );
    for comp in Component::ALL {
        let name = comp.name();
        let batch = c.components.get(name).copied().unwrap_or(0);
        let slot = c.per_slot_components.get(name).copied().unwrap_or(0);
        println!(
            "  {:<22} {:>12} {:>12} {:>6.1}%",
            name,
            if slot > 0 { fmt(slot) } else { "-".into() },
            fmt(batch),
            100.0 * batch as f64 / c.total as f64
        );
    }
    println!(
        "  {:<22} {:>12} {:>12}",
        "unattributed",
        "",
        fmt(c.total - c.components.values().sum::<usize>())
    );
    println!(
        "  {:<22} {:>12} {:>12}",
        "total",
        fmt(c.per_tx["transfer"]),
        fmt(c.total)
    );
    println!();
    println!(
        "Per batch: {} constraints of overhead (fee credit, new root and aux chain); {} witness variables; {} public inputs (2 roots, the aux chain, one per slot).",
        fmt(c.per_batch_overhead),
        fmt(r.witness_variables),
        r.instance_variables - 1
    );
    Ok(ExitCode::SUCCESS)
}

/// 12345 -> "12,345".
pub fn fmt(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

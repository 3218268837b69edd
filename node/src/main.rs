//! `zkr`: the command line of the zkr rollup.

mod cmd;

use clap::{Parser, Subcommand};

/// zkr — a ZK-rollup with Groth16 validity proofs on BN254.
#[derive(Parser)]
#[command(name = "zkr", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the batch circuit's constraint counts, per transaction type and per component.
    Circuit(cmd::circuit::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Circuit(a) => cmd::circuit::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

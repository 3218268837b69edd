//! `zkr`: the command line of the zkr rollup.

use zkr_node::{cmd, node};

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
    /// Run an end-to-end local rollup: L1, wallets, deposits, transfers, withdrawals, proofs,
    /// until a few batches are final on L1.
    Demo(cmd::demo::Args),
    /// Run the rollup node: mempool, sequencer, RocksDB state, prover pool, L1 settlement,
    /// HTTP JSON API.
    Node(node::service::Args),
    /// Work for a node as a remote prover: lease proof jobs over its API, prove, upload.
    Prover(cmd::prover::Args),
    /// Wallet keys: `wallet new`, `wallet list`.
    #[command(subcommand)]
    Wallet(cmd::wallet::WalletCommand),
    /// Queue an L1 deposit to a wallet key's L2 account.
    Deposit(cmd::wallet::DepositArgs),
    /// Claim on L1 the withdrawals the rollup contract credited to a wallet key's L1 address.
    Claim(cmd::wallet::ClaimArgs),
    /// Queue on L1 a full exit of a wallet key's L2 account: the operator must include it, and
    /// the whole balance is paid to the key's L1 address if that address owns the account.
    FullExit(cmd::wallet::FullExitArgs),
    /// Switch the Rust L1 to exodus mode (once the oldest queued request is overdue).
    Exodus(cmd::wallet::ExodusArgs),
    /// In exodus mode, withdraw a wallet key's account with a Merkle proof built from the L1's
    /// public data alone.
    Exit(cmd::wallet::ExitArgs),
    /// Sign and submit an L2 transfer to the node.
    Transfer(cmd::wallet::TransferArgs),
    /// Sign and submit a withdrawal to L1 to the node.
    Withdraw(cmd::wallet::WithdrawArgs),
    /// Show an L2 account (balance, nonce, next nonce) from the node.
    Account(cmd::wallet::AccountArgs),
    /// Show a transaction's status: pending, included, proven, final, rejected.
    Tx(cmd::wallet::TxArgs),
    /// Serve the L1 contract over HTTP JSON (deposits, batches, roots, balances), or
    /// `l1 deploy` the Solidity L1 on an EVM chain.
    L1(cmd::l1::Args),
    /// Rebuild the L2 state from the L1's accepted public data alone and print its root.
    Reconstruct(cmd::reconstruct::Args),
    /// Print the batch circuit's constraint counts, per transaction type and per component.
    Circuit(cmd::circuit::Args),
    /// Run the circuit-specific Groth16 setup and write the key files.
    Setup(cmd::setup::Args),
    /// Write a valid sample batch (deposits, transfers, a withdrawal) with its starting state.
    ExampleBatch(cmd::example::Args),
    /// Prove a batch file; writes proof.json and public.json (snarkjs layout).
    Prove(cmd::prove::Args),
    /// Verify a proof: exit 0 valid, 1 invalid, 2 malformed input.
    Verify(cmd::verify::Args),
    /// Write the Solidity Groth16 verifier for a key directory (snarkjs's layout).
    ExportVerifier(cmd::export_verifier::Args),
    /// Measure what a transaction through the rollup costs in L1 gas (embedded EVM) for several
    /// batch sizes, beside a plain ETH and ERC-20 transfer.
    Gas(cmd::gas::Args),
    /// Run one workload through an L1 alone, a ZK rollup and an optimistic rollup, and compare
    /// L1 cost, throughput, time to finality, off-chain work and trust (`--fraud`: a live fraud
    /// against both).
    Compare(cmd::compare::Args),
    /// Run the optimistic twin of the L1 as a local HTTP service: batches posted without a
    /// proof, final after a challenge window, reverted by a one-step fraud proof.
    OptimisticL1(cmd::optimistic::Args),
    /// Watch an optimistic L1: check every posted batch step by step and challenge the first
    /// wrong step with a one-step fraud proof.
    Watch(cmd::optimistic::WatchArgs),
    /// Measure setup / witness / synthesis / prove / verify per batch size and thread count,
    /// against the Groth16 floor.
    Bench(cmd::bench::Args),
    /// Measure the prover pool's throughput on queued batches for several worker counts.
    BenchPool(cmd::bench::PoolArgs),
}

fn main() -> std::process::ExitCode {
    // Behave like a Unix tool when the reader goes away (`zkr circuit --json | head`): die
    // quietly from SIGPIPE instead of panicking on a failed write to stdout.
    // SAFETY: setting a signal disposition to its default before any thread is started.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // A worker's log is its only output: it logs its own events at `info` unless RUST_LOG
    // says otherwise.
    let rust_log = std::env::var("RUST_LOG").ok();
    let default = match &cli.command {
        Command::Prover(_) => "zkr=info",
        _ => "error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(rust_log.as_deref(), default))
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Reconstruct(a) => cmd::reconstruct::run(a),
        Command::L1(a) => cmd::l1::run(a),
        Command::Node(a) => node::service::run(a),
        Command::Prover(a) => cmd::prover::run(a),
        Command::Wallet(c) => cmd::wallet::run_wallet(c),
        Command::Deposit(a) => cmd::wallet::run_deposit(a),
        Command::Claim(a) => cmd::wallet::run_claim(a),
        Command::FullExit(a) => cmd::wallet::run_full_exit(a),
        Command::Exodus(a) => cmd::wallet::run_exodus(a),
        Command::Exit(a) => cmd::wallet::run_exit(a),
        Command::Transfer(a) => cmd::wallet::run_transfer(a),
        Command::Withdraw(a) => cmd::wallet::run_withdraw(a),
        Command::Account(a) => cmd::wallet::run_account(a),
        Command::Tx(a) => cmd::wallet::run_tx(a),
        Command::Circuit(a) => cmd::circuit::run(a),
        Command::Setup(a) => cmd::setup::run(a),
        Command::ExampleBatch(a) => cmd::example::run(a),
        Command::Prove(a) => cmd::prove::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::ExportVerifier(a) => cmd::export_verifier::run(a),
        Command::Gas(a) => cmd::gas::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::OptimisticL1(a) => cmd::optimistic::run(a),
        Command::Watch(a) => cmd::optimistic::run_watch(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::BenchPool(a) => cmd::bench::run_pool(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// The log filter: `RUST_LOG` (or `default` when it is unset or empty), with arkworks' constraint
/// spans (target `gr1cs`, one per gadget call, hundreds of thousands per proof) turned off unless
/// `RUST_LOG` names that target itself. An `info` filter would otherwise enable them, and
/// recording their fields made `zkr prove` take minutes instead of a second and `zkr node` grow
/// by hundreds of megabytes a second while it synthesized the circuit.
fn log_filter(rust_log: Option<&str>, default: &str) -> tracing_subscriber::EnvFilter {
    let spec = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or(default);
    let spec = if spec.contains("gr1cs") {
        spec.to_string()
    } else {
        format!("{spec},gr1cs=off")
    };
    tracing_subscriber::EnvFilter::new(spec)
}

//! `zkr example-batch`: a valid sample batch with its starting state.

use super::util::write_json;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::{State, StateSnapshot};
use zkr_circuits::tx::{Deposit, L1Address, PriorityOp, Transfer, Tx, Withdraw};
use zkr_circuits::{CircuitParams, Genesis};

/// A batch file: the starting state, the L1's pending deposits, and the transactions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    /// The state the batch starts from.
    pub state: StateSnapshot,
    /// The L1 priority queue, deposits and full exits (oldest first).
    pub queue: Vec<PriorityOp>,
    /// The transactions, in order (padded with noops up to the batch size).
    pub transactions: Vec<Tx>,
}

/// Arguments of `zkr example-batch`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth in address bits.
    #[arg(long)]
    depth: u32,
    /// Transaction slots per batch.
    #[arg(long)]
    batch_size: usize,
    /// Where to write the batch file.
    #[arg(long)]
    out: PathBuf,
}

/// Example key number `i` (deterministic: these are sample accounts, not wallets).
pub fn example_key(i: u8) -> SecretKey {
    SecretKey::from_seed([0xE0 ^ i; 32])
}

/// The L1 address of the example's depositors (the owner of the accounts they open).
pub const EXAMPLE_PAYER: L1Address = L1Address([0xe0; 20]);

/// The example's deployment: chain id 1, and account 0 is `example_key(0)`'s from genesis,
/// owned by [`EXAMPLE_PAYER`].
pub fn example_genesis() -> Genesis {
    Genesis {
        chain_id: 1,
        operator: example_key(0).public_key(),
        operator_l1: EXAMPLE_PAYER,
    }
}

/// Builds the example: accounts 0 (operator), 1, 2 exist; the batch deposits into a new
/// account, then alternates transfers and a withdrawal until the batch is full.
pub fn example(params: CircuitParams) -> anyhow::Result<BatchFile> {
    // Starting state: three funded accounts, created by a deposit batch of their own (the
    // operator's tops up its account 0).
    let mut state = State::genesis(params, &example_genesis());
    let genesis: Vec<PriorityOp> = (0..3u8)
        .map(|i| {
            PriorityOp::Deposit(Deposit {
                pubkey: example_key(i).public_key(),
                amount: 1_000 * (i as u64 + 1),
                from: EXAMPLE_PAYER,
            })
        })
        .collect();
    for chunk in genesis.chunks(params.batch_size) {
        let txs: Vec<Tx> = chunk.iter().map(PriorityOp::tx).collect();
        state = state.apply_batch(&txs, chunk)?.state;
    }
    let queue = vec![PriorityOp::Deposit(Deposit {
        pubkey: example_key(3).public_key(),
        amount: 500,
        from: EXAMPLE_PAYER,
    })];
    let mut txs = vec![queue[0].tx()];
    let mut nonces = [0u32; 3];
    let mut k = 0u64;
    while txs.len() < params.batch_size {
        let from = 1 + (k % 2);
        let tx = if k == 1 {
            Tx::Withdraw(Withdraw::signed(
                &example_key(from as u8),
                state.chain_id(),
                from,
                100,
                1,
                nonces[from as usize],
                L1Address([0x11; 20]),
            ))
        } else {
            let to = if from == 1 { 2 } else { 1 };
            Tx::Transfer(Transfer::signed(
                &example_key(from as u8),
                state.chain_id(),
                from,
                to,
                10 + k,
                1,
                nonces[from as usize],
            ))
        };
        nonces[from as usize] += 1;
        txs.push(tx);
        k += 1;
    }
    // Check it natively before handing it out.
    state.apply_batch(&txs, &queue)?;
    Ok(BatchFile {
        state: state.snapshot(),
        queue,
        transactions: txs,
    })
}

/// Runs `zkr example-batch`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    let file = example(params)?;
    write_json(&a.out, &file)?;
    let count = |t: &str| {
        file.transactions
            .iter()
            .filter(|x| format!("{x:?}").starts_with(t))
            .count()
    };
    println!(
        "wrote {}: {} accounts, {} deposit(s), {} transfer(s), {} withdrawal(s)",
        a.out.display(),
        file.state.accounts.len(),
        count("Deposit"),
        count("Transfer"),
        count("Withdraw")
    );
    Ok(ExitCode::SUCCESS)
}

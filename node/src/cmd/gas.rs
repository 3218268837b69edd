//! `zkr gas`: what a transaction through the rollup costs on an EVM L1, beside the plain L1
//! transactions it replaces.
//!
//! For every batch size it runs the Groth16 setup (seeded: a measurement, not a deployment),
//! deploys `Rollup.sol` with `Groth16KeyedVerifier` for that key on a fresh embedded EVM (revm,
//! Cancun), and submits real, proven batches, full to the last slot:
//!
//! 1. **deposits**: every slot a deposit (opens the accounts the next batches use);
//! 2. **transfers**: every slot a transfer between two of those accounts;
//! 3. **mixed**: transfer, deposit, transfer, withdrawal, repeated (half transfers, a quarter
//!    deposits, a quarter withdrawals; a 1-slot batch is one transfer).
//!
//! Gas per transaction is the `submitBatch` transaction's gas (what the sender pays: execution
//! plus intrinsic, less refunds) divided by the batch's slots. Deposits also paid for their own
//! `deposit` transaction on L1, reported apart. On the same chain, in the same run: a plain ETH
//! transfer and an ERC-20 `transfer` (`contracts/test/Token.sol`) to a new and to an existing
//! holder, and the Groth16 check alone for each key. Gas depends on the EVM's rules and the
//! bytecode only, not on the machine.

use super::util::spinner;
use anyhow::{bail, Context};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::tx::{Deposit, L1Address, PriorityOp, Transfer, Tx, TxType, Withdraw};
use zkr_circuits::CircuitParams;
use zkr_l1_evm::artifacts::{Artifact, POSEIDON_T5, TOKEN};
use zkr_l1_evm::rollup::{evm_address, field_word, selector, verify_proof_calldata, UNIT_WEI};
use zkr_l1_evm::{Address, Chain, EvmRollup, EvmSubmission, Outcome, U256};
use zkr_prover::keys::KeySet;
use zkr_prover::keys::OsRng;
use zkr_verifier::BatchSubmission;

/// Arguments of `zkr gas`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth of the circuits (gas does not depend on it; it must hold the accounts the
    /// batches open: about 1.3 × the largest batch size, plus one).
    #[arg(long, default_value_t = 6)]
    pub depth: u32,
    /// Batch sizes (slots per batch), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    pub batch_sizes: Vec<usize>,
    /// Print the report as JSON (documented in docs/gas.md) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also draw gas per transaction against batch size into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// One submitted batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchGas {
    /// Slots of the batch (all of them used).
    pub batch_size: usize,
    /// `deposits`, `transfers` or `mixed`.
    pub kind: &'static str,
    /// Deposit slots.
    pub deposits: usize,
    /// Transfer slots.
    pub transfers: usize,
    /// Withdrawal slots.
    pub withdrawals: usize,
    /// Public inputs of the proof (3 + batch size).
    pub public_inputs: usize,
    /// `submitBatch`: what the sender pays (execution + intrinsic − refund).
    pub gas_paid: u64,
    /// `submitBatch`: execution gas.
    pub gas_execution: u64,
    /// `submitBatch`: intrinsic gas (21,000 and the calldata).
    pub gas_intrinsic: u64,
    /// `submitBatch`: refund.
    pub gas_refunded: u64,
    /// `gas_paid / batch_size`.
    pub gas_per_tx: u64,
    /// Execution gas of the key's `verifyProof` called alone with this batch's proof.
    pub verify_execution_gas: u64,
    /// Calldata bytes of `submitBatch`.
    pub calldata_bytes: usize,
}

/// The plain L1 transactions, measured on a fresh chain of the same EVM.
#[derive(Debug, Clone, Serialize)]
pub struct Baselines {
    /// A plain ETH transfer between two accounts.
    pub eth_transfer: u64,
    /// ERC-20 `transfer` to an address that holds none of the token yet.
    pub erc20_transfer_new_holder: u64,
    /// ERC-20 `transfer` to an address that already holds some.
    pub erc20_transfer_existing_holder: u64,
    /// A rollup `deposit` transaction (the first deposit of a queue pays more: it opens the
    /// queue's counter).
    pub rollup_deposit: u64,
    /// A rollup `claim` of a withdrawal (`null` when no batch had a withdrawal: the mixed batch
    /// has one from 4 slots on).
    pub rollup_claim: Option<u64>,
    /// Execution gas of `PoseidonT4.hash` (3 inputs; the aux chain's hash before full exits), called alone.
    pub poseidon_t4_execution: u64,
    /// Execution gas of `PoseidonT5.hash` (4 inputs), the aux chain's hash, called alone.
    pub poseidon_t5_execution: u64,
}

/// `zkr gas --json`.
#[derive(Debug, Clone, Serialize)]
pub struct GasReport {
    /// The EVM and the compiler.
    pub evm: &'static str,
    /// Tree depth of the circuits.
    pub depth: u32,
    /// Every batch, by batch size and kind.
    pub batches: Vec<BatchGas>,
    /// The plain L1 transactions.
    pub baselines: Baselines,
}

/// What the report says about the EVM.
pub const EVM: &str = "revm 43 at Cancun; contracts by solc 0.8.28, optimizer runs 1,000,000";

/// Runs `zkr gas`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.batch_sizes.is_empty() || a.batch_sizes.contains(&0) {
        bail!("--batch-sizes: give one or more sizes of at least 1 slot");
    }
    let mut batches = Vec::new();
    let mut rollup_deposit = 0;
    let mut rollup_claim = None;
    for &b in &a.batch_sizes {
        let m = measure(a.depth, b, !a.json)?;
        rollup_deposit = m.deposit_gas;
        rollup_claim = m.claim_gas.or(rollup_claim);
        batches.extend(m.batches);
    }
    let mut baselines = baselines()?;
    baselines.rollup_deposit = rollup_deposit;
    baselines.rollup_claim = rollup_claim;
    let report = GasReport {
        evm: EVM,
        depth: a.depth,
        batches,
        baselines,
    };
    if let Some(path) = &a.plot {
        plot(path, &report).with_context(|| format!("drawing {}", path.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&report, a.plot.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

/// The batches of one batch size, and a deposit's and a claim's gas.
struct SizeGas {
    batches: Vec<BatchGas>,
    deposit_gas: u64,
    claim_gas: Option<u64>,
}

/// The L2 key of user `i` (seeded: the same users in every run).
fn user(i: usize) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    seed[31] = 0x9a;
    SecretKey::from_seed(seed)
}

/// The L1 address of user `i`.
fn l1_address(i: usize) -> L1Address {
    let mut a = [0x5au8; 20];
    a[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    L1Address(a)
}

/// Deposit of each user, in units (1 unit = 1 gwei).
const DEPOSIT_UNITS: u64 = 1_000_000;

/// Sets up the circuit of `batch_size` slots and submits the three batches.
fn measure(depth: u32, batch_size: usize, progress: bool) -> anyhow::Result<SizeGas> {
    let params = CircuitParams::new(depth, batch_size)?;
    // The users of the transfers (at least two), and the mixed batch's new depositors.
    let senders = batch_size.max(2);
    let mixed = mixed_types(batch_size);
    let newcomers = mixed.iter().filter(|t| **t == TxType::Deposit).count();
    let accounts = senders + newcomers;
    if accounts as u128 > 1u128 << depth {
        bail!(
            "--depth {depth} holds {} accounts; {batch_size} slots need {accounts}: raise --depth",
            1u128 << depth
        );
    }
    let pb = progress.then(|| spinner(format!("{batch_size} slots: Groth16 setup")));
    let keys = KeySet::generate(params, Some(0x6a5))?;
    // User 0 operates the rollup: account 0 (every fee) is its key's from genesis.
    let mut rollup = EvmRollup::deploy_for_key(params, keys.vk(), &user(0).public_key())
        .context("deploying the rollup on the embedded EVM")?;
    let (genesis, _) = rollup.genesis()?;

    // Every user deposits on L1.
    let mut deposit_gas = 0;
    let mut queue = Vec::new();
    for i in 0..accounts {
        let who = evm_address(&l1_address(i));
        let wei = U256::from(DEPOSIT_UNITS) * U256::from(UNIT_WEI);
        rollup.chain.fund(who, wei * U256::from(2u8));
        let acc = rollup.deposit(who, &user(i).public_key(), wei)?;
        deposit_gas = acc.outcome.gas_used;
        queue.push(PriorityOp::Deposit(Deposit {
            pubkey: user(i).public_key(),
            amount: DEPOSIT_UNITS,
            from: l1_address(i),
        }));
    }

    let mut state = State::genesis(params, &genesis);
    let mut number = 0;
    let mut batches = Vec::new();
    let mut submit = |state: &mut State,
                      txs: Vec<Tx>,
                      queue: &mut Vec<PriorityOp>,
                      kind: &'static str,
                      record: bool|
     -> anyhow::Result<()> {
        number += 1;
        if let Some(pb) = &pb {
            pb.set_message(format!(
                "{batch_size} slots: proving batch {number} ({kind})"
            ));
        }
        let out = state
            .apply_batch(&txs, queue)
            .with_context(|| format!("batch {number} ({kind}) is not valid"))?;
        let (proof, public, _) = zkr_prover::prove(&keys, &out.witness, &mut OsRng)?;
        let sub = BatchSubmission::new(
            number,
            out.public.old_root,
            out.public.new_root,
            &out.public_data,
            &proof,
        );
        let evm = EvmSubmission::from_submission(&sub)?;
        let verify = verify_alone(&mut rollup, &evm, &public)?;
        let calldata_bytes = evm.calldata().len();
        let acc = rollup
            .submit_batch(&evm)
            .with_context(|| format!("batch {number} ({kind}) refused by the contract"))?;
        queue.drain(..out.priority_consumed);
        if record {
            batches.push(row(
                batch_size,
                kind,
                &out,
                &acc.outcome,
                verify,
                calldata_bytes,
            ));
        }
        *state = out.state;
        Ok(())
    };

    // 1. Deposits: the first `senders` users, in batches of `batch_size`.
    for (k, chunk) in queue.clone()[..senders].chunks(batch_size).enumerate() {
        let txs = chunk.iter().map(PriorityOp::tx).collect();
        submit(&mut state, txs, &mut queue, "deposits", k == 0)?;
    }
    let index = |state: &State, i: usize| {
        state
            .index_of(&user(i).public_key())
            .context("a depositor has no account")
    };
    let nonce = |state: &State, ix: u64| state.account(ix).map(|a| a.nonce).unwrap_or(0);

    // 2. Transfers: user j pays user j + 1 (mod the senders).
    let mut txs = Vec::new();
    for j in 0..batch_size {
        let (from, to) = (index(&state, j)?, index(&state, (j + 1) % senders)?);
        txs.push(Tx::Transfer(Transfer::signed(
            &user(j),
            genesis.chain_id,
            from,
            to,
            10,
            1,
            nonce(&state, from),
        )));
    }
    submit(&mut state, txs, &mut queue, "transfers", true)?;

    // 3. Mixed: transfer, deposit, transfer, withdrawal, ...
    let mut txs = Vec::new();
    let mut next_deposit = 0;
    for (j, t) in mixed.iter().enumerate() {
        let from = index(&state, j % senders)?;
        let n = nonce(&state, from) + txs_from(&txs, from);
        txs.push(match t {
            TxType::Transfer => Tx::Transfer(Transfer::signed(
                &user(j % senders),
                genesis.chain_id,
                from,
                index(&state, (j + 1) % senders)?,
                10,
                1,
                n,
            )),
            TxType::Withdraw => Tx::Withdraw(Withdraw::signed(
                &user(j % senders),
                genesis.chain_id,
                from,
                1_000,
                1,
                n,
                l1_address(j % senders),
            )),
            _ => {
                next_deposit += 1;
                queue[next_deposit - 1].tx()
            }
        });
    }
    submit(&mut state, txs, &mut queue, "mixed", true)?;

    // A claim of one of the mixed batch's withdrawals.
    let mut claim_gas = None;
    if let Some(j) = mixed.iter().position(|t| *t == TxType::Withdraw) {
        let who = evm_address(&l1_address(j % senders));
        claim_gas = Some(rollup.claim(who)?.outcome.gas_used);
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok(SizeGas {
        batches,
        deposit_gas,
        claim_gas,
    })
}

/// Transactions already in `txs` that `from` signs (their nonces come before the next one's).
fn txs_from(txs: &[Tx], from: u64) -> u32 {
    txs.iter()
        .filter(|t| match t {
            Tx::Transfer(t) => t.from == from,
            Tx::Withdraw(w) => w.from == from,
            _ => false,
        })
        .count() as u32
}

/// The mixed batch's slot types: transfer, deposit, transfer, withdrawal, repeated.
fn mixed_types(batch_size: usize) -> Vec<TxType> {
    const PATTERN: [TxType; 4] = [
        TxType::Transfer,
        TxType::Deposit,
        TxType::Transfer,
        TxType::Withdraw,
    ];
    (0..batch_size).map(|i| PATTERN[i % 4]).collect()
}

fn row(
    batch_size: usize,
    kind: &'static str,
    out: &BatchOutput,
    o: &Outcome,
    verify_execution_gas: u64,
    calldata_bytes: usize,
) -> BatchGas {
    let count = |t: TxType| out.public_data.iter().filter(|s| s.tx_type == t).count();
    BatchGas {
        batch_size,
        kind,
        deposits: count(TxType::Deposit),
        transfers: count(TxType::Transfer),
        withdrawals: count(TxType::Withdraw),
        public_inputs: out.public.to_vec().len(),
        gas_paid: o.gas_used,
        gas_execution: o.execution_gas,
        gas_intrinsic: o.intrinsic_gas,
        gas_refunded: o.gas_refunded,
        gas_per_tx: o.gas_used / batch_size as u64,
        verify_execution_gas,
        calldata_bytes,
    }
}

/// Execution gas of the deployed verifier's `verifyProof` alone, for this proof and inputs.
fn verify_alone(
    r: &mut EvmRollup,
    s: &EvmSubmission,
    public: &[zkr_circuits::Fr],
) -> anyhow::Result<u64> {
    let signals: Vec<U256> = public.iter().map(field_word).collect();
    let data = verify_proof_calldata(s, &signals);
    let o = r.chain.view(r.deployment.verifier, data)?;
    if !o.success || o.output.len() != 32 || o.output[31] != 1 {
        bail!("the verifier does not accept the batch's own proof");
    }
    Ok(o.execution_gas)
}

/// The plain transactions and Poseidon's gas, on a fresh chain.
fn baselines() -> anyhow::Result<Baselines> {
    let mut chain = Chain::new();
    let alice = Address::new([0xa1; 20]);
    let bob = Address::new([0xb0; 20]);
    let carol = Address::new([0xc0; 20]);
    let eth = U256::from(10u64).pow(U256::from(18u64));
    chain.fund(alice, eth * U256::from(100u8));
    chain.fund(bob, eth);
    let plain = chain.send(alice, bob, Vec::new(), eth)?;
    ensure(&plain, "ETH transfer")?;

    let token = Artifact::parse(TOKEN)?;
    let mut code = token.linked_bytecode(&Default::default())?;
    code.extend_from_slice(&(eth * U256::from(1_000_000u32)).to_be_bytes::<32>());
    let token = chain.deploy(alice, code)?;
    let transfer = |to: Address| {
        let mut data = selector("transfer(address,uint256)").to_vec();
        data.extend_from_slice(&U256::from_be_slice(to.as_slice()).to_be_bytes::<32>());
        data.extend_from_slice(&eth.to_be_bytes::<32>());
        data
    };
    let new_holder = chain.send(alice, token, transfer(carol), U256::ZERO)?;
    ensure(&new_holder, "ERC-20 transfer to a new holder")?;
    let existing = chain.send(alice, token, transfer(carol), U256::ZERO)?;
    ensure(&existing, "ERC-20 transfer to an existing holder")?;

    let hash = |chain: &mut Chain, lib: Address, n: usize| -> anyhow::Result<u64> {
        let mut data = selector(&format!("hash(uint256[{n}])")).to_vec();
        for i in 0..n {
            data.extend_from_slice(&U256::from(i + 1).to_be_bytes::<32>());
        }
        let o = chain.view(lib, data)?;
        ensure(&o, "Poseidon")?;
        Ok(o.execution_gas)
    };
    let t4 = Artifact::parse(zkr_l1_evm::artifacts::POSEIDON_T4)?;
    let t4 = chain.deploy(alice, t4.linked_bytecode(&Default::default())?)?;
    let t5 = Artifact::parse(POSEIDON_T5)?;
    let t5 = chain.deploy(alice, t5.linked_bytecode(&Default::default())?)?;
    Ok(Baselines {
        eth_transfer: plain.gas_used,
        erc20_transfer_new_holder: new_holder.gas_used,
        erc20_transfer_existing_holder: existing.gas_used,
        rollup_deposit: 0,
        rollup_claim: None,
        poseidon_t4_execution: hash(&mut chain, t4, 3)?,
        poseidon_t5_execution: hash(&mut chain, t5, 4)?,
    })
}

fn ensure(o: &Outcome, what: &str) -> anyhow::Result<()> {
    if !o.success {
        bail!(
            "{what} failed on the embedded EVM: {}",
            hex::encode(&o.output)
        );
    }
    Ok(())
}

fn print_tables(r: &GasReport, plot: Option<&std::path::Path>) {
    let n = |x: u64| super::circuit::fmt(x as usize);
    println!("Gas on L1 ({}), circuits of depth {}:", r.evm, r.depth);
    println!();
    println!("| slots | batch | deposits | transfers | withdrawals | public inputs | submitBatch gas | gas per tx | of which Groth16 check (execution) |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for b in &r.batches {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | **{}** | {} |",
            b.batch_size,
            b.kind,
            b.deposits,
            b.transfers,
            b.withdrawals,
            b.public_inputs,
            n(b.gas_paid),
            n(b.gas_per_tx),
            n(b.verify_execution_gas)
        );
    }
    let bl = &r.baselines;
    println!();
    println!("| plain L1 transaction, same chain | gas |");
    println!("|---|---:|");
    println!("| ETH transfer | {} |", n(bl.eth_transfer));
    println!(
        "| ERC-20 transfer to a new holder | {} |",
        n(bl.erc20_transfer_new_holder)
    );
    println!(
        "| ERC-20 transfer to an existing holder | {} |",
        n(bl.erc20_transfer_existing_holder)
    );
    println!(
        "| rollup `deposit` (L1 side of a deposit) | {} |",
        n(bl.rollup_deposit)
    );
    println!(
        "| rollup `claim` (L1 side of a withdrawal) | {} |",
        bl.rollup_claim
            .map(n)
            .unwrap_or_else(|| "— (no withdrawal below 4 slots)".into())
    );
    println!(
        "| `PoseidonT4.hash` / `PoseidonT5.hash` alone (execution) | {} / {} |",
        n(bl.poseidon_t4_execution),
        n(bl.poseidon_t5_execution)
    );
    if let Some(best) = r
        .batches
        .iter()
        .filter(|b| b.kind == "transfers")
        .max_by_key(|b| b.batch_size)
    {
        println!();
        println!(
            "At {} slots a transfer through the rollup costs {} gas on L1: {:.2}× a plain ETH transfer ({}).",
            best.batch_size,
            n(best.gas_per_tx),
            best.gas_per_tx as f64 / bl.eth_transfer as f64,
            n(bl.eth_transfer)
        );
    }
    if let Some(p) = plot {
        println!("Plot: {}", p.display());
    }
}

/// Gas per transaction against batch size (log scale), with the plain transactions as lines.
fn plot(path: &std::path::Path, r: &GasReport) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let e = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let max_b = r.batches.iter().map(|b| b.batch_size).max().unwrap_or(1) as f64;
    let max_y = r.batches.iter().map(|b| b.gas_per_tx).max().unwrap_or(1) as f64 * 1.3;
    let min_y = 5_000f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "L1 gas per transaction through the rollup (revm, Cancun)",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((1f64..max_b * 1.2).log_scale(), (min_y..max_y).log_scale())
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("slots per batch (log)")
        .y_desc("gas per transaction (log)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{:.0}k", y / 1000.0))
        .draw()
        .map_err(|x| e(&x))?;
    for (kind, color) in [("transfers", BLUE), ("mixed", RED), ("deposits", GREEN)] {
        let pts: Vec<(f64, f64)> = r
            .batches
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| (b.batch_size as f64, b.gas_per_tx as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(format!("rollup: {kind} batch"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(|x| e(&x))?;
    }
    let bl = &r.baselines;
    for (label, gas, color) in [
        ("plain ETH transfer", bl.eth_transfer, BLACK),
        (
            "ERC-20 transfer (existing holder)",
            bl.erc20_transfer_existing_holder,
            MAGENTA,
        ),
        (
            "ERC-20 transfer (new holder)",
            bl.erc20_transfer_new_holder,
            CYAN,
        ),
    ] {
        let y = gas as f64;
        chart
            .draw_series(LineSeries::new(
                vec![(1.0, y), (max_b * 1.2, y)],
                color.stroke_width(1),
            ))
            .map_err(|x| e(&x))?
            .label(format!("{label}: {gas}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(1))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

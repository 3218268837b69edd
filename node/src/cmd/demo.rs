//! `zkr demo`: an end-to-end local rollup on this machine, in one process.
//!
//! An L1 contract (persisted in `DATA_DIR/l1.json`), wallets with L1 funds, deposits through the
//! L1 queue, a sequencer that executes random transfers and withdrawals off-chain and closes
//! batches, a prover pool that proves queued batches in parallel, and the L1 accepting each
//! batch only with a valid proof. A batch is final when the L1 accepted it.
//!
//! With `--l1 evm` the L1 is `contracts/Rollup.sol` in an embedded EVM instead (revm, in memory
//! for the run; see [`super::demo_l1`]): the same flow, with the gas of every batch.

use super::circuit::fmt;
use super::demo_l1::{DemoL1, L1Kind};
use super::util::{bytes, spinner};
use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zkr_circuits::eddsa::SecretKey;
use zkr_circuits::field::fr_to_decimal;
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::tx::{L1Address, Transfer, Tx, TxType, Withdraw, SLOT_BYTES};
use zkr_circuits::CircuitParams;
use zkr_prover::keys::{KeySet, KeySource, OsRng};
use zkr_prover::pool::{prove_all, PoolConfig};
use zkr_verifier::BatchSubmission;

/// Arguments of `zkr demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory (L1 state and cached keys); a fresh temporary directory if omitted.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Tree depth in address bits (2^depth accounts).
    #[arg(long, default_value_t = 16)]
    depth: u32,
    /// Slots per batch.
    #[arg(long, default_value_t = 4)]
    batch_size: usize,
    /// Batches to run to finality.
    #[arg(long, default_value_t = 3)]
    batches: usize,
    /// Users (wallets) besides the operator, on the first run in a data directory.
    #[arg(long, default_value_t = 4)]
    users: usize,
    /// Print the JSON summary on stdout instead of tables.
    #[arg(long)]
    json: bool,
    /// The L1: `rust` (the Rust L1, saved in DATA_DIR/l1.json) or `evm` (the Solidity contracts
    /// in an embedded EVM, deployed fresh for the run with this demo's key; reports gas).
    #[arg(long, value_enum, default_value_t = L1Kind::Rust)]
    l1: L1Kind,
}

/// One batch's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// L1 batch number.
    pub number: u64,
    /// Non-noop transactions.
    pub transactions: usize,
    /// Deposits, transfers, withdrawals.
    pub deposits: usize,
    /// Transfers.
    pub transfers: usize,
    /// Withdrawals.
    pub withdrawals: usize,
    /// Constraints of the circuit.
    pub constraints: usize,
    /// Native execution + witness, ms.
    pub witness_ms: f64,
    /// Proving (synthesis + prover), s.
    pub prove_s: f64,
    /// L1 verification (whole submit_batch), ms.
    pub l1_verify_ms: f64,
    /// The L1's answer.
    pub l1_result: String,
    /// `--l1 evm` only (absent otherwise): gas the batch's `submitBatch` transaction paid
    /// (execution + intrinsic − refund).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_gas: Option<u64>,
    /// `--l1 evm` only (absent otherwise): `l1_gas / transactions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_gas_per_tx: Option<f64>,
    /// From the batch's execution to its acceptance on L1, s.
    pub finality_s: f64,
}

/// The `--json` summary.
#[derive(Debug, Serialize)]
pub struct DemoSummary {
    /// Parameters.
    pub depth: u32,
    /// Slots per batch.
    pub batch_size: usize,
    /// Data directory.
    pub data_dir: String,
    /// Whether the data directory is kept (given with --data-dir).
    pub data_dir_kept: bool,
    /// Batches the L1 accepted.
    pub batches_verified: usize,
    /// The L1's root (decimal).
    pub l1_state_root: String,
    /// The node's root (decimal).
    pub l2_state_root: String,
    /// Transfers executed.
    pub transfers: usize,
    /// Deposits executed.
    pub deposits: usize,
    /// Withdrawals executed.
    pub withdrawals: usize,
    /// Transactions executed per second by the sequencer (native execution + witness).
    pub l2_tx_per_s: f64,
    /// Transactions proven per second (wall time of the prover pool).
    pub proven_tx_per_s: f64,
    /// Median finality latency, s.
    pub finality_median_s: f64,
    /// L1 verification time per transaction, ms (verification is per batch, amortized).
    pub l1_verify_ms_per_tx: f64,
    /// Public data posted to L1 per transaction, bytes.
    pub l1_bytes_per_tx: f64,
    /// `--l1 evm` only (absent otherwise): gas of every accepted batch's `submitBatch`, summed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_gas_total: Option<u64>,
    /// `--l1 evm` only (absent otherwise): `l1_gas_total` per transaction (deposits, transfers
    /// and withdrawals; noop slots are not transactions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_gas_per_tx: Option<f64>,
    /// Whether the keys came from the cache.
    pub keys_cached: bool,
    /// Setup time (0 if cached), s.
    pub setup_s: f64,
    /// Time to get the keys, s: the setup, or loading them from the cache.
    pub keys_s: f64,
    /// Total wall time, s.
    pub total_s: f64,
    /// Prover pool: workers × threads.
    pub pool: (usize, usize),
    /// Per batch.
    pub per_batch: Vec<BatchSummary>,
}

fn bar(mp: &MultiProgress, len: u64, prefix: &str) -> ProgressBar {
    let pb = mp.add(ProgressBar::new(len));
    pb.set_style(
        ProgressStyle::with_template("{prefix:>10} {bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("static template"),
    );
    pb.set_prefix(prefix.to_string());
    pb
}

/// Runs `zkr demo`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let total = Instant::now();
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    if a.users < 2 {
        anyhow::bail!("--users must be at least 2");
    }
    let _tmp;
    let data_dir = match &a.data_dir {
        Some(d) => d.clone(),
        None => {
            _tmp = TempDir::new()?;
            _tmp.0.clone()
        }
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let quiet = a.json;
    let say = |s: String| {
        if !quiet {
            println!("{s}");
        }
    };
    say(format!(
        "zkr demo: depth {} (2^{} accounts), {} slots per batch, {} batches; data in {}",
        a.depth,
        a.depth,
        a.batch_size,
        a.batches,
        data_dir.display()
    ));
    if a.l1 == L1Kind::Evm {
        say("L1: contracts/Rollup.sol in an embedded EVM (revm, Cancun), in memory for this run; 1 unit = 1 gwei".into());
    }
    say(
        "WARNING: the Groth16 setup is local: keys for prototypes and teaching, not for value."
            .into(),
    );

    // 1. Keys (cached under the data directory).
    let pb = spinner("Groth16 setup (or loading cached keys)");
    let t = Instant::now();
    let (keys, source) = KeySet::load_or_generate(
        &KeySet::cache_dir(&data_dir.join("keys"), &params),
        params,
        None,
    )?;
    let setup_time = t.elapsed();
    pb.finish_and_clear();
    let keys = Arc::new(keys);
    say(format!(
        "keys: {} constraints, {} in {:.1} s",
        fmt(keys.meta.num_constraints),
        if source == KeySource::Cached {
            "loaded from the cache"
        } else {
            "generated"
        },
        setup_time.as_secs_f64()
    ));

    // 2. The L1, with funded wallets. Wallet 0 is the operator: account 0, where every fee
    //    goes, is its key's from genesis.
    // Wallets persist in the data directory, so a second run continues with the same accounts.
    let wallets_path = data_dir.join("demo_wallets.json");
    let first_run = !wallets_path.exists();
    let everyone: Vec<SecretKey> = if first_run {
        let mut rng = OsRng;
        let keys: Vec<SecretKey> = (0..=a.users).map(|_| SecretKey::random(&mut rng)).collect();
        let hexes: Vec<String> = keys.iter().map(|k| k.to_hex()).collect();
        super::util::write_json(&wallets_path, &hexes)?;
        keys
    } else {
        let hexes: Vec<String> = super::util::read_json(&wallets_path)?;
        hexes
            .iter()
            .map(|h| SecretKey::from_hex(h))
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}: bad secret key", wallets_path.display()))?
    };
    if everyone.len() < 3 {
        anyhow::bail!(
            "{}: need an operator and at least two users",
            wallets_path.display()
        );
    }
    let l1_addr = |i: usize| {
        let mut a = [0u8; 20];
        a[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        L1Address(a)
    };
    let l1_path = data_dir.join("l1.json");
    let mut l1 = DemoL1::open(
        a.l1,
        &l1_path,
        params,
        keys.vk(),
        &everyone[0].public_key(),
        l1_addr(0),
    )?;
    // Rebuild the L2 state from the L1 (a rerun on the same directory continues from there; the
    // EVM chain is new on every run).
    let genesis = l1.genesis()?;
    let mut state = match &l1 {
        DemoL1::Rust(c) => super::reconstruct::reconstruct(c.state())?.0,
        DemoL1::Evm(_) => State::genesis(params, &genesis),
    };
    for (i, k) in everyone.iter().enumerate() {
        // The operator (wallet 0) owns account 0 from genesis; it deposits a token amount.
        let amount = if i == 0 { 1 } else { 10_000 + 1_000 * i as u64 };
        l1.fund_and_deposit(l1_addr(i), k.public_key(), amount)?;
    }
    let queue = l1.queue()?;
    say(format!(
        "L1: {} wallets funded, {} deposits queued",
        everyone.len(),
        queue.len()
    ));

    // 3. Sequencer: execute batches off-chain (deposits first, then random transfers and some
    //    withdrawals), each one a pure state transition that also yields its witness.
    let mp = if quiet {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let seq_bar = bar(&mp, a.batches as u64, "execute");
    let prove_bar = bar(&mp, a.batches as u64, "prove");
    let l1_bar = bar(&mp, a.batches as u64, "L1 verify");
    let mut traffic =
        super::util::Xorshift(0x9e37_79b9_7f4a_7c15 ^ total.elapsed().as_nanos() as u64 | 1);
    let mut executed: Vec<(BatchOutput, Duration, Instant)> = Vec::new();
    let mut queue_offset = 0usize;
    // Units withdrawn to each L1 address, for the check that the L1 credits them.
    let mut withdrawn: BTreeMap<L1Address, u64> = BTreeMap::new();
    let mut exec_time = Duration::ZERO;
    for _ in 0..a.batches {
        let batch_start = queue_offset;
        let mut txs = Vec::new();
        let mut view = state.clone();
        while txs.len() < a.batch_size {
            let tx = if queue_offset < queue.len() {
                queue_offset += 1;
                queue[queue_offset - 1].tx()
            } else {
                // A random user with an account and funds sends to another account.
                let w = 1 + traffic.below(everyone.len() as u64 - 1) as usize;
                let key = &everyone[w];
                let Some(from) = view.index_of(&key.public_key()) else {
                    break;
                };
                let acc = *view.account(from).expect("indexed account exists");
                if acc.balance < 2 {
                    break;
                }
                let amount = 1 + traffic.below(acc.balance / 4);
                if traffic.below(5) == 0 {
                    Tx::Withdraw(Withdraw::signed(
                        key,
                        view.chain_id(),
                        from,
                        amount,
                        1,
                        acc.nonce,
                        l1_addr(w),
                    ))
                } else {
                    let n = view.accounts().len() as u64;
                    let to = (from + 1 + traffic.below(n - 1)) % n;
                    Tx::Transfer(Transfer::signed(
                        key,
                        view.chain_id(),
                        from,
                        to,
                        amount,
                        1,
                        acc.nonce,
                    ))
                }
            };
            // Each transaction is checked against the running view, as a mempool would.
            let own: Vec<_> = tx.priority_op().into_iter().collect();
            view = view
                .apply_batch(&[tx], &own)
                .context("sequencer produced an invalid transaction")?
                .state;
            if let Tx::Withdraw(w) = &tx {
                *withdrawn.entry(w.l1_address).or_default() += w.amount;
            }
            txs.push(tx);
        }
        let pending = &queue[batch_start..];
        let t = Instant::now();
        let out = state.apply_batch(&txs, pending)?;
        let dt = t.elapsed();
        exec_time += dt;
        state = out.state.clone();
        executed.push((out, dt, Instant::now()));
        seq_bar.inc(1);
    }
    seq_bar.finish_with_message("executed");

    // 4. Prove the queued batches with the pool.
    let pool = PoolConfig::default_for_machine();
    prove_bar.set_message(format!(
        "{} worker(s) × {} thread(s)",
        pool.workers, pool.threads_per_worker
    ));
    let t = Instant::now();
    let results = prove_all(
        pool,
        keys.clone(),
        executed.iter().map(|(o, _, _)| o.witness.clone()).collect(),
    );
    let prove_wall = t.elapsed();
    prove_bar.set_position(a.batches as u64);
    prove_bar.finish_with_message("proven");

    // 5. Submit to the L1 in order; final only when accepted.
    let mut per_batch = Vec::new();
    let mut finality = Vec::new();
    let mut verify_total = Duration::ZERO;
    let mut txs_total = 0;
    let (mut n_dep, mut n_tr, mut n_wd) = (0, 0, 0);
    let mut last_submission = None;
    let mut gas_total: Option<u64> = None;
    for ((out, witness_time, executed_at), r) in executed.iter().zip(results) {
        let (proof, _, timings) = r.result?;
        let number = l1.batch_count()? + 1;
        let sub = BatchSubmission::new(
            number,
            out.public.old_root,
            out.public.new_root,
            &out.public_data,
            &proof,
        );
        let t = Instant::now();
        let verdict = l1.submit(&sub);
        let dt = t.elapsed();
        verify_total += dt;
        let count = |ty: TxType| out.public_data.iter().filter(|s| s.tx_type == ty).count();
        let (d, tr, w) = (
            count(TxType::Deposit),
            count(TxType::Transfer),
            count(TxType::Withdraw),
        );
        n_dep += d;
        n_tr += tr;
        n_wd += w;
        txs_total += d + tr + w;
        let gas = verdict.as_ref().ok().copied().flatten();
        if let Some(g) = gas {
            *gas_total.get_or_insert(0) += g;
        }
        let fin = executed_at.elapsed().as_secs_f64();
        finality.push(fin);
        per_batch.push(BatchSummary {
            number,
            transactions: d + tr + w,
            deposits: d,
            transfers: tr,
            withdrawals: w,
            constraints: keys.meta.num_constraints,
            witness_ms: witness_time.as_secs_f64() * 1e3,
            prove_s: (timings.synthesis + timings.proving).as_secs_f64(),
            l1_verify_ms: dt.as_secs_f64() * 1e3,
            l1_result: match &verdict {
                Ok(_) => "accepted".into(),
                Err(e) => format!("rejected: {e}"),
            },
            l1_gas: gas,
            l1_gas_per_tx: gas.map(|g| g as f64 / (d + tr + w).max(1) as f64),
            finality_s: fin,
        });
        l1_bar.inc(1);
        verdict.context("the L1 rejected an honest batch")?;
        last_submission = Some(sub);
    }
    l1_bar.finish_with_message("final on L1");
    mp.clear().ok();

    // 6. The L1 accepts nothing without a valid proof: replay the last proof for a batch that
    //    claims a different new root.
    let forged = match last_submission {
        Some(mut bad) => {
            let root = l1.state_root()?;
            let count = l1.batch_count()?;
            bad.number = count + 1;
            bad.old_root = fr_to_decimal(&root);
            bad.new_root = fr_to_decimal(&(root + zkr_circuits::Fr::from(1u64)));
            let refused = match l1.submit(&bad) {
                Err(e) => format!("rejected: {e}"),
                Ok(_) => anyhow::bail!("the L1 accepted a forged batch"),
            };
            if l1.state_root()? != root || l1.batch_count()? != count {
                anyhow::bail!("the L1 refused a forged batch but changed its state");
            }
            refused
        }
        None => "no batch to forge".into(),
    };

    // 7. On the EVM: every withdrawal is credited to its L1 address and claimable in wei.
    let claimed = l1.claim_withdrawals(&withdrawn)?;
    //    And its logs alone rebuild the L2 state.
    let from_events = l1.root_from_events(params)?;
    if let Some(root) = from_events {
        if root != l1.state_root()? {
            anyhow::bail!("replaying the contract's BatchAccepted logs gives another root");
        }
    }

    finality.sort_by(|x, y| x.total_cmp(y));
    let summary = DemoSummary {
        depth: a.depth,
        batch_size: a.batch_size,
        data_dir: data_dir.display().to_string(),
        data_dir_kept: a.data_dir.is_some(),
        batches_verified: per_batch.len(),
        l1_state_root: fr_to_decimal(&l1.state_root()?),
        l2_state_root: fr_to_decimal(&state.root()),
        transfers: n_tr,
        deposits: n_dep,
        withdrawals: n_wd,
        l2_tx_per_s: txs_total as f64 / exec_time.as_secs_f64().max(1e-9),
        proven_tx_per_s: txs_total as f64 / prove_wall.as_secs_f64(),
        finality_median_s: finality.get(finality.len() / 2).copied().unwrap_or(0.0),
        l1_verify_ms_per_tx: verify_total.as_secs_f64() * 1e3 / txs_total.max(1) as f64,
        l1_bytes_per_tx: (a.batch_size * SLOT_BYTES * per_batch.len()) as f64
            / txs_total.max(1) as f64,
        l1_gas_total: gas_total,
        l1_gas_per_tx: gas_total.map(|g| g as f64 / txs_total.max(1) as f64),
        keys_cached: source == KeySource::Cached,
        setup_s: if source == KeySource::Cached {
            0.0
        } else {
            setup_time.as_secs_f64()
        },
        keys_s: setup_time.as_secs_f64(),
        total_s: total.elapsed().as_secs_f64(),
        pool: (pool.workers, pool.threads_per_worker),
        per_batch,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, a.l1, &forged, claimed, from_events.is_some());
    }
    Ok(if summary.l1_state_root == summary.l2_state_root {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(
    s: &DemoSummary,
    l1: L1Kind,
    forged: &str,
    claimed: Option<zkr_l1_evm::U256>,
    rebuilt_from_events: bool,
) {
    println!();
    println!(
        "{:>5} {:>4} {:>4} {:>4} {:>4} {:>10} {:>10} {:>8} {:>10} {:>10}  L1 result",
        "batch",
        "txs",
        "dep",
        "trf",
        "wdr",
        "constr.",
        "witness ms",
        "prove s",
        "verify ms",
        "final s"
    );
    for b in &s.per_batch {
        println!(
            "{:>5} {:>4} {:>4} {:>4} {:>4} {:>10} {:>10.1} {:>8.2} {:>10.2} {:>10.2}  {}",
            b.number,
            b.transactions,
            b.deposits,
            b.transfers,
            b.withdrawals,
            fmt(b.constraints),
            b.witness_ms,
            b.prove_s,
            b.l1_verify_ms,
            b.finality_s,
            b.l1_result
        );
    }
    println!();
    println!(
        "L2 executed:        {:.0} tx/s (native execution + witness)",
        s.l2_tx_per_s
    );
    println!(
        "proven:             {:.2} tx/s (prover pool: {} worker(s) × {} thread(s))",
        s.proven_tx_per_s, s.pool.0, s.pool.1
    );
    println!(
        "finality latency:   {:.1} s median (executed → proven → verified on L1)",
        s.finality_median_s
    );
    println!(
        "L1 work per tx:     {:.2} ms verification, {} of public data",
        s.l1_verify_ms_per_tx,
        bytes(s.l1_bytes_per_tx as u64)
    );
    if let (Some(total), Some(per_tx)) = (s.l1_gas_total, s.l1_gas_per_tx) {
        println!("L1 gas per batch:   submitBatch, paid (execution + intrinsic − refund)");
        for b in &s.per_batch {
            if let (Some(g), Some(per)) = (b.l1_gas, b.l1_gas_per_tx) {
                println!(
                    "  batch {:<3}        {:>9} gas, {:>7} per tx ({} dep, {} trf, {} wdr){}",
                    b.number,
                    fmt(g as usize),
                    fmt(per as usize),
                    b.deposits,
                    b.transfers,
                    b.withdrawals,
                    if b.transfers > 0 && b.transfers == b.transactions {
                        " = per transfer"
                    } else {
                        ""
                    }
                );
            }
        }
        println!(
            "L1 gas per tx:      {} ({} in all; a plain ETH transfer is 21,000)",
            fmt(per_tx as usize),
            fmt(total as usize)
        );
    }
    if let Some(wei) = claimed {
        let units = wei / zkr_l1_evm::U256::from(zkr_l1_evm::rollup::UNIT_WEI);
        println!(
            "withdrawals:        credited by the contract and claimed: {units} units = {wei} wei"
        );
    }
    println!("forged batch:       {forged}");
    if rebuilt_from_events {
        println!("L1 logs:            replaying the BatchAccepted public data rebuilds the contract's root");
    }
    println!(
        "roots:              L1 {} / L2 {} ({})",
        short(&s.l1_state_root),
        short(&s.l2_state_root),
        if s.l1_state_root == s.l2_state_root {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    println!(
        "keys:               {} ({:.1} s); total {:.1} s{}",
        if s.keys_cached {
            "loaded from the cache"
        } else {
            "generated"
        },
        s.keys_s,
        s.total_s,
        if s.data_dir_kept {
            ""
        } else {
            ". With --data-dir the keys are cached and a second run is faster."
        }
    );
    if l1 == L1Kind::Evm {
        println!(
            "L1 chain:           in memory, gone with this run ({})",
            if s.data_dir_kept {
                "the data directory keeps the keys and wallets"
            } else {
                "and the temporary data directory is removed"
            }
        );
    } else if s.data_dir_kept {
        println!(
            "check:              zkr reconstruct --data-dir {}",
            s.data_dir
        );
    } else {
        println!(
            "data:               a temporary directory, removed now; pass --data-dir to keep it"
        );
    }
}

fn short(s: &str) -> String {
    if s.len() > 16 {
        format!("{}…{}", &s[..8], &s[s.len() - 6..])
    } else {
        s.to_string()
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("zkr-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

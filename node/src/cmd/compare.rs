//! `zkr compare`: one workload through an L1 alone, a ZK rollup and an optimistic rollup,
//! measured side by side on this machine.
//!
//! The workload (seeded): `--users` users each hold 1,000,000 units; `--transfers` random
//! transfers between them, then one withdrawal. Then:
//!
//! - **L1 alone**: every transfer is an ERC-20 `transfer` (`contracts/test/Token.sol`) on the
//!   embedded EVM (revm, Cancun): measured gas, final in one L1 block.
//! - **ZK rollup**: the users deposit into `contracts/Rollup.sol` on the same kind of chain; the
//!   transfers are executed in batches of `--batch-size` by the native state transition, proven
//!   with Groth16 (this machine, all its threads) and submitted with `submitBatch`: measured
//!   gas, proving time and the time from a batch's sealing to its acceptance on L1 — then it is
//!   final, withdrawals included.
//! - **Optimistic rollup**: the same workload and transition, posted without a proof to
//!   `contracts/OptimisticRollup.sol` ([`zkr_l1_evm::optimistic`]) on its own embedded chain,
//!   with a signature for each transfer and withdrawal and the root after each slot; a watcher
//!   checks every posted batch step by step from the posted data ([`find_fraud`]). Final once
//!   the challenge window (`--window-s`) has passed (the chain's clock is advanced past it, not
//!   waited for) and `finalizeBatch` has credited its withdrawals: measured gas of posting and
//!   finalizing. Each deployment has its own chain id, so each rollup has its own L2 state and
//!   its users sign the workload once per rollup.
//!
//! `--fraud` adds a live fraud: the optimistic operator posts a batch with a forged transfer
//! and the watcher proves it on chain with a one-step fraud proof (the batch is reverted, half
//! the bond paid to the watcher, half burned); the ZK operator tries the same forged transfer
//! (the circuit has no satisfying witness, so it cannot be proven) and then a real proof with a
//! false new root (the contract refuses it).

use super::util::spinner;
use anyhow::{bail, Context};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zkr_circuits::eddsa::{SecretKey, Signature};
use zkr_circuits::state::{BatchOutput, State};
use zkr_circuits::step::find_fraud;
use zkr_circuits::tx::{Deposit, L1Address, PriorityOp, Transfer, Tx, Withdraw};
use zkr_circuits::witness::SlotTx;
use zkr_circuits::CircuitParams;
use zkr_l1_evm::artifacts::{Artifact, TOKEN};
use zkr_l1_evm::chain::TX_GAS_LIMIT;
use zkr_l1_evm::optimistic::{EvmOptimistic, EvmOptimisticBatch};
use zkr_l1_evm::rollup::{evm_address, selector, UNIT_WEI};
use zkr_l1_evm::Address;
use zkr_l1_evm::{Chain, EvmRejection, EvmRollup, EvmSubmission, U256};
use zkr_prover::keys::{KeySet, OsRng};
use zkr_verifier::optimistic::OptimisticSubmission;
use zkr_verifier::BatchSubmission;

/// Arguments of `zkr compare`.
#[derive(clap::Args)]
pub struct Args {
    /// Tree depth (2^depth accounts) of the rollups.
    #[arg(long, default_value_t = 8)]
    pub depth: u32,
    /// Slots per rollup batch.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Transfers in the workload (a withdrawal follows them).
    #[arg(long, default_value_t = 32)]
    pub transfers: usize,
    /// Users (each opens one account).
    #[arg(long, default_value_t = 4)]
    pub users: usize,
    /// Seed of the workload and of the (local, insecure) Groth16 setup.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The optimistic rollup's challenge window, in seconds (7 days on Optimism).
    #[arg(long, default_value_t = 60)]
    pub window_s: u64,
    /// Also stage a fraud against both rollups.
    #[arg(long)]
    pub fraud: bool,
    /// Print the report as JSON (documented in docs/l1-vs-l2.md) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw L1 gas and time to finality per transfer into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Seconds of one Ethereum slot: the block time assumed for "final in one block" and for the L1
/// throughput bounds.
pub const L1_BLOCK_S: f64 = 12.0;

/// The workload.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// Tree depth.
    pub depth: u32,
    /// Slots per batch.
    pub batch_size: usize,
    /// Users.
    pub users: usize,
    /// Transfers.
    pub transfers: usize,
    /// Withdrawals (one, after the transfers).
    pub withdrawals: usize,
    /// Seed.
    pub seed: u64,
    /// Rollup batches of transfers (the last one also holds the withdrawal).
    pub batches: usize,
    /// Threads of this machine's prover.
    pub threads: usize,
}

/// One column of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// `l1`, `zk` or `optimistic`.
    pub name: &'static str,
    /// L1 gas per transfer (see `gas_basis`).
    pub l1_gas_per_transfer: u64,
    /// What `l1_gas_per_transfer` counts.
    pub gas_basis: &'static str,
    /// Bytes the L1 receives per transfer (calldata of the L1 transactions, divided by the
    /// transfers they carry).
    pub l1_bytes_per_transfer: f64,
    /// Transfers per second this machine executes (the native state transition).
    pub executed_per_s: f64,
    /// Transfers per second made final on L1: the slower of what this machine proves (ZK) and
    /// what L1 blocks hold (30,000,000 gas per 12 s).
    pub final_per_s: f64,
    /// Seconds from a transfer's batch being sealed to its finality on L1 (`null` for L1 alone:
    /// one block).
    pub transfer_finality_s: Option<f64>,
    /// Seconds from a withdrawal's batch being sealed to the funds being claimable on L1.
    pub withdrawal_finality_s: Option<f64>,
    /// Off-chain work per transfer: proving seconds (ZK), a watcher's re-execution (optimistic).
    pub offchain_s_per_transfer: f64,
    /// What must hold for the result to be right.
    pub trusts: &'static str,
}

/// The staged fraud (`--fraud`).
#[derive(Debug, Clone, Serialize)]
pub struct FraudReport {
    /// Optimistic: the step the watcher showed, and the rule it breaks.
    pub optimistic_step: String,
    /// Optimistic: the batches reverted.
    pub optimistic_reverted: Vec<u64>,
    /// Optimistic: paid to the watcher, half the forfeited bonds (units of 1 gwei).
    pub optimistic_reward: u64,
    /// Optimistic: the gas of the watcher's `challenge` transaction (one step re-executed on
    /// chain: its leaves' Merkle paths and, for a signed slot, the EdDSA check).
    pub optimistic_challenge_gas: u64,
    /// ZK: what the prover said about the forged transfer.
    pub zk_prover: String,
    /// ZK: what the contract said about a real proof with a false new root.
    pub zk_contract: String,
}

/// `zkr compare --json`.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    /// The EVM.
    pub evm: &'static str,
    /// The workload.
    pub workload: Workload,
    /// L1 alone, ZK rollup, optimistic rollup.
    pub columns: Vec<Column>,
    /// Seconds of the Groth16 setup (once per circuit; not per transfer).
    pub zk_setup_s: f64,
    /// Gas of one `deposit` into the ZK rollup (every rollup user pays one to enter).
    pub zk_deposit_gas: u64,
    /// The optimistic column's gas per transfer, split: `postBatch` ...
    pub optimistic_post_gas_per_transfer: u64,
    /// ... and `finalizeBatch` (after the window: withdrawals credited, bond returned).
    pub optimistic_finalize_gas_per_transfer: u64,
    /// The optimistic challenge window, seconds.
    pub window_s: u64,
    /// The staged fraud, with `--fraud`.
    pub fraud: Option<FraudReport>,
}

fn user(seed: u64, i: usize) -> SecretKey {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    SecretKey::from_seed(s)
}

fn l1_address(i: usize) -> L1Address {
    let mut a = [0u8; 20];
    a[0] = 0xc0;
    a[12..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    L1Address(a)
}

/// Units each user starts with.
const FUNDS: u64 = 1_000_000;

/// The optimistic poster's bond per batch, in units (1 unit = 1 gwei: 0.001 ETH).
const BOND_UNITS: u64 = 1_000_000;

/// Runs `zkr compare`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if a.users < 2 {
        bail!("--users must be at least 2");
    }
    if a.transfers == 0 {
        bail!("--transfers must be at least 1");
    }
    // The contract keeps times in 32 bits, and its priority deadline (twice the window here)
    // must be longer than the window.
    if a.window_s == 0 || a.window_s > u32::MAX as u64 / 2 {
        bail!(
            "--window-s must be 1 to {} seconds (the contract keeps twice it as a 32-bit time)",
            u32::MAX / 2
        );
    }
    let params = CircuitParams::new(a.depth, a.batch_size)?;
    if (a.users as u128 + 1) > params.capacity() as u128 {
        bail!(
            "--depth {} holds {} accounts: too few for {} users and the operator",
            a.depth,
            params.capacity(),
            a.users
        );
    }
    let progress = !a.json;
    let threads = rayon::current_num_threads();

    // The workload: transfers between random pairs of users, then a withdrawal by user 0.
    let mut rng = super::util::Xorshift(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let pairs: Vec<(usize, usize, u64)> = (0..a.transfers)
        .map(|_| {
            let from = rng.below(a.users as u64) as usize;
            let to = (from + 1 + rng.below(a.users as u64 - 1) as usize) % a.users;
            (from, to, 1 + rng.below(1_000))
        })
        .collect();

    // ---- L1 alone: ERC-20 transfers on the embedded EVM. ----
    let pb = progress.then(|| spinner("L1 alone: ERC-20 transfers on the embedded EVM"));
    let l1 = l1_alone(&a, &pairs)?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }

    // ---- The two rollups, each on its own embedded chain ----
    let pb = progress.then(|| spinner("ZK rollup: Groth16 setup"));
    let t = Instant::now();
    let keys = KeySet::generate(params, Some(a.seed))?;
    let zk_setup_s = t.elapsed().as_secs_f64();
    let operator = user(a.seed, usize::MAX - 1);
    let mut rollup = EvmRollup::deploy_for_key(params, keys.vk(), &operator.public_key())
        .context("deploying the rollup on the embedded EVM")?;
    let (genesis, _) = rollup.genesis()?;
    let bond = U256::from(BOND_UNITS) * U256::from(UNIT_WEI);
    let mut opt = EvmOptimistic::deploy(
        zkr_l1_evm::rollup::OPERATOR,
        params,
        &operator.public_key(),
        a.window_s,
        bond,
        2 * a.window_s,
    )
    .context("deploying the optimistic rollup on the embedded EVM")?;
    let poster = opt.operator;
    opt.chain.fund(poster, bond * U256::from(1_000_000u32));
    let mut queue = Vec::new();
    let mut deposit_gas = 0;
    for i in 0..a.users {
        let who = evm_address(&l1_address(i));
        let wei = U256::from(FUNDS) * U256::from(UNIT_WEI);
        let key = user(a.seed, i).public_key();
        rollup.chain.fund(who, wei * U256::from(2u8));
        deposit_gas = rollup.deposit(who, &key, wei)?.outcome.gas_used;
        opt.chain.fund(who, wei * U256::from(2u8));
        opt.deposit(who, &key, wei)?;
        queue.push(PriorityOp::Deposit(Deposit {
            pubkey: key,
            amount: FUNDS,
            from: l1_address(i),
        }));
    }

    // Each rollup has its own chain id (bound into every signature), so each has its own L2
    // state; the deposits enter both first (not measured per transfer: every design needs its
    // users on board, and the L1-alone users were funded at deployment too).
    let mut state = State::genesis(params, &genesis);
    let mut opt_state = State::genesis(params, &opt.genesis);
    let mut opt_posted: Vec<EvmOptimisticBatch> = Vec::new();
    let mut number = 0u64;
    for chunk in queue.chunks(a.batch_size) {
        number += 1;
        let txs: Vec<Tx> = chunk.iter().map(PriorityOp::tx).collect();
        let out = state.apply_batch(&txs, chunk)?;
        let (proof, _, _) = zkr_prover::prove(&keys, &out.witness, &mut OsRng)?;
        let sub = BatchSubmission::new(
            number,
            out.public.old_root,
            out.public.new_root,
            &out.public_data,
            &proof,
        );
        rollup.submit_batch(&EvmSubmission::from_submission(&sub)?)?;
        state = out.state;
        let out = opt_state.apply_batch(&txs, chunk)?;
        let b = EvmOptimisticBatch::from_submission(&OptimisticSubmission::from_batch(
            number, &out, &txs,
        )?)?;
        opt.post_batch(poster, &b)?;
        opt_posted.push(b);
        opt_state = out.state;
    }
    let deposit_batches = opt_posted.len();

    // The transfer batches, then the withdrawal in the last one: the same workload, signed for
    // each rollup.
    let zk_batches = workload(&a, &pairs, &state, genesis.chain_id)?;
    let opt_batches = workload(&a, &pairs, &opt_state, opt.genesis.chain_id)?;
    let mut zk_gas = 0u64;
    let mut zk_calldata = 0usize;
    let mut opt_post_gas = 0u64;
    let mut opt_bytes = 0usize;
    let mut exec = Duration::ZERO;
    let mut prove = Duration::ZERO;
    let mut watch = Duration::ZERO;
    let mut zk_latency = Vec::new();
    let mut last_out = None;
    for (k, (txs, opt_txs)) in zk_batches.iter().zip(&opt_batches).enumerate() {
        if let Some(pb) = &pb {
            pb.set_message(format!(
                "ZK and optimistic rollups: batch {} of {}",
                k + 1,
                zk_batches.len()
            ));
        }
        number += 1;
        let sealed = Instant::now();
        let out = state
            .apply_batch(txs, &[])
            .with_context(|| format!("batch {number}"))?;
        exec += sealed.elapsed();
        let t = Instant::now();
        let (proof, _, _) = zkr_prover::prove(&keys, &out.witness, &mut OsRng)?;
        prove += t.elapsed();
        let sub = BatchSubmission::new(
            number,
            out.public.old_root,
            out.public.new_root,
            &out.public_data,
            &proof,
        );
        let evm = EvmSubmission::from_submission(&sub)?;
        zk_calldata += evm.calldata().len();
        let acc = rollup
            .submit_batch(&evm)
            .with_context(|| format!("batch {number} refused by the contract"))?;
        zk_gas += acc.outcome.gas_used;
        zk_latency.push(sealed.elapsed().as_secs_f64());
        state = out.state.clone();
        last_out = Some(out);

        // The same batch, optimistic: posted without a proof, then checked step by step by a
        // watcher from the state before it, reading only the posted data.
        let out = opt_state
            .apply_batch(opt_txs, &[])
            .with_context(|| format!("optimistic batch {number}"))?;
        let b = EvmOptimisticBatch::from_submission(&OptimisticSubmission::from_batch(
            number, &out, opt_txs,
        )?)?;
        opt_bytes += b.post_calldata().len();
        opt_post_gas += opt
            .post_batch(poster, &b)
            .with_context(|| format!("optimistic batch {number} refused by the contract"))?
            .gas_used;
        let t = Instant::now();
        let steps = b.steps().context("the posted batch does not decode")?;
        if let Some(f) = find_fraud(&opt_state, &steps)? {
            bail!("the watcher found a fraud in an honest batch: {f:?}");
        }
        watch += t.elapsed();
        opt_state = out.state;
        opt_posted.push(b);
    }

    // The withdrawal: claimable on the ZK rollup now; on the optimistic one once its batch is
    // final, after the window.
    rollup
        .claim(evm_address(&l1_address(0)))
        .context("claiming the ZK rollup's withdrawal")?;
    let user0 = evm_address(&l1_address(0));
    match opt.finalize(poster, &opt_posted[0]) {
        Err(zkr_l1_evm::optimistic::EvmOptimisticError::Rejected(r)) if r.name == "NotFinalYet" => {
        }
        other => bail!("the optimistic rollup finalized a batch inside its window: {other:?}"),
    }
    if opt.withdrawable(user0)? != U256::ZERO {
        bail!("the optimistic withdrawal was credited before its window closed");
    }
    opt.chain.advance_time(a.window_s + 1);
    let mut opt_finalize_gas = 0u64;
    for (i, b) in opt_posted.iter().enumerate() {
        let o = opt
            .finalize(poster, b)
            .with_context(|| format!("finalizing optimistic batch {}", b.number))?;
        if i >= deposit_batches {
            opt_finalize_gas += o.gas_used;
            opt_bytes += b.finalize_calldata().len();
        }
    }
    if opt.withdrawable(user0)? != U256::from(100u64) * U256::from(UNIT_WEI) {
        bail!("the optimistic withdrawal was not credited after its window");
    }
    opt.claim(user0)
        .context("claiming the optimistic rollup's withdrawal")?;
    if opt.final_root()? != zkr_l1_evm::rollup::field_word(&opt_state.root())
        || rollup.state_root()? != zkr_l1_evm::rollup::field_word(&state.root())
    {
        bail!("a rollup's contract disagrees with the native state transition on the final root");
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }

    let n = a.transfers as f64 + 1.0; // the withdrawal is a transaction of the batches too
    let zk_gas_per = zk_gas as f64 / n;
    let opt_gas_per = (opt_post_gas + opt_finalize_gas) as f64 / n;
    let l1_capacity = |gas_per: f64| TX_GAS_LIMIT as f64 / gas_per / L1_BLOCK_S;
    let exec_per_s = n / exec.as_secs_f64();
    let prove_per_s = n / prove.as_secs_f64();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let columns = vec![
        Column {
            name: "l1",
            l1_gas_per_transfer: l1.gas_per_transfer,
            gas_basis: "measured: ERC-20 transfer transactions (execution + intrinsic)",
            l1_bytes_per_transfer: l1.calldata_bytes as f64,
            executed_per_s: l1_capacity(l1.gas_per_transfer as f64),
            final_per_s: l1_capacity(l1.gas_per_transfer as f64),
            transfer_finality_s: None,
            withdrawal_finality_s: None,
            offchain_s_per_transfer: 0.0,
            trusts: "the L1's consensus only",
        },
        Column {
            name: "zk",
            l1_gas_per_transfer: zk_gas_per.round() as u64,
            gas_basis: "measured: submitBatch transactions (calldata, Groth16 check, storage) / transactions",
            l1_bytes_per_transfer: zk_calldata as f64 / n,
            executed_per_s: exec_per_s,
            final_per_s: prove_per_s.min(l1_capacity(zk_gas_per)),
            transfer_finality_s: Some(mean(&zk_latency)),
            withdrawal_finality_s: zk_latency.last().copied(),
            offchain_s_per_transfer: prove.as_secs_f64() / n,
            trusts: "the soundness of Groth16 and of its trusted setup (and the L1)",
        },
        Column {
            name: "optimistic",
            l1_gas_per_transfer: opt_gas_per.round() as u64,
            gas_basis: "measured: postBatch and finalizeBatch transactions (calldata, commitment, bond, withdrawals) / transactions",
            l1_bytes_per_transfer: opt_bytes as f64 / n,
            executed_per_s: exec_per_s,
            // Posting needs no proof: what L1 blocks hold is the bound.
            final_per_s: l1_capacity(opt_gas_per),
            transfer_finality_s: Some(a.window_s as f64),
            withdrawal_finality_s: Some(a.window_s as f64),
            offchain_s_per_transfer: watch.as_secs_f64() / n,
            trusts: "one honest watcher online within each challenge window (and the L1)",
        },
    ];
    let fraud = if a.fraud {
        Some(stage_fraud(
            &state,
            &opt_state,
            &mut opt,
            &mut rollup,
            &keys,
            number,
            last_out.as_ref().expect("a batch"),
        )?)
    } else {
        None
    };
    let report = CompareReport {
        evm: super::gas::EVM,
        workload: Workload {
            depth: a.depth,
            batch_size: a.batch_size,
            users: a.users,
            transfers: a.transfers,
            withdrawals: 1,
            seed: a.seed,
            batches: zk_batches.len(),
            threads,
        },
        columns,
        zk_setup_s,
        zk_deposit_gas: deposit_gas,
        optimistic_post_gas_per_transfer: (opt_post_gas as f64 / n).round() as u64,
        optimistic_finalize_gas_per_transfer: (opt_finalize_gas as f64 / n).round() as u64,
        window_s: a.window_s,
        fraud,
    };
    if let Some(p) = &a.plot {
        plot(p, &report).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report, a.plot.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

/// L1 alone: the transfers as ERC-20 transfers.
struct L1Alone {
    gas_per_transfer: u64,
    calldata_bytes: usize,
}

fn l1_alone(a: &Args, pairs: &[(usize, usize, u64)]) -> anyhow::Result<L1Alone> {
    let mut chain = Chain::new();
    let deployer = evm_address(&l1_address(usize::MAX - 2));
    let unit = U256::from(UNIT_WEI);
    let supply = U256::from(FUNDS) * unit * U256::from(a.users as u64 + 1);
    let token = Artifact::parse(TOKEN)?;
    let mut code = token.linked_bytecode(&Default::default())?;
    code.extend_from_slice(&supply.to_be_bytes::<32>());
    let token = chain.deploy(deployer, code)?;
    let transfer = |to: &L1Address, amount: U256| {
        let mut data = selector("transfer(address,uint256)").to_vec();
        data.extend_from_slice(&U256::from_be_slice(&to.0).to_be_bytes::<32>());
        data.extend_from_slice(&amount.to_be_bytes::<32>());
        data
    };
    // Every user holds FUNDS units of the token, as every rollup user deposits them.
    for i in 0..a.users {
        let o = chain.send(
            deployer,
            token,
            transfer(&l1_address(i), U256::from(FUNDS) * unit),
            U256::ZERO,
        )?;
        if !o.success {
            bail!("funding user {i} with the token failed");
        }
    }
    let mut gas = 0u64;
    let mut bytes = 0usize;
    for &(from, to, amount) in pairs {
        let data = transfer(&l1_address(to), U256::from(amount) * unit);
        bytes += data.len();
        let o = chain.send(evm_address(&l1_address(from)), token, data, U256::ZERO)?;
        if !o.success {
            bail!("an ERC-20 transfer failed");
        }
        gas += o.gas_used;
    }
    Ok(L1Alone {
        gas_per_transfer: gas / pairs.len() as u64,
        calldata_bytes: bytes / pairs.len(),
    })
}

/// `--fraud`: a forged transfer (account 1 robbed for account 2 with a signature by a key that
/// is neither's) through both rollups.
fn stage_fraud(
    state: &State,
    opt_state: &State,
    opt: &mut EvmOptimistic,
    rollup: &mut EvmRollup,
    keys: &KeySet,
    number: u64,
    last: &BatchOutput,
) -> anyhow::Result<FraudReport> {
    // Optimistic: the operator posts it with roots computed mechanically, no rule checked.
    let (w, roots, data, signature) = forge(opt_state)?;
    use zkr_circuits::field::fr_to_decimal;
    let mut signatures = vec![Some(signature)];
    signatures.resize(data.len(), None);
    let b = EvmOptimisticBatch::from_submission(&OptimisticSubmission {
        number: number + 1,
        old_root: fr_to_decimal(&w.old_root),
        new_root: fr_to_decimal(&w.public.new_root),
        public_data: hex::encode(zkr_circuits::tx::encode_public_data(&data)),
        signatures,
        step_roots: roots.iter().map(fr_to_decimal).collect(),
    })?;
    opt.post_batch(opt.operator, &b)
        .context("posting the forged batch")?;
    // The watcher reads the posted batch, finds the first bad step from its own state and
    // proves it on chain.
    let steps = b.steps().context("the posted batch does not decode")?;
    let fraud = find_fraud(opt_state, &steps)?.context("the watcher missed the forged transfer")?;
    let watcher = Address::new([0x77; 20]);
    let (outcome, proven) = opt
        .challenge(watcher, &b, fraud.step, &fraud.witness)
        .context("the watcher's challenge was refused")?;
    if opt.head_root()? != zkr_l1_evm::rollup::field_word(&opt_state.root()) {
        bail!("the challenge did not revert the optimistic rollup to its last honest root");
    }

    // ZK: the forged transfer has no satisfying witness, so no proof; and a real proof of the
    // last honest batch presented with a false new root is refused.
    let (w, _, data, _) = forge(state)?;
    let zk_prover = match zkr_prover::prove(keys, &w, &mut OsRng) {
        Ok(_) => bail!("the prover proved a forged transfer"),
        Err(e) => e.to_string(),
    };
    let (proof, _, _) = zkr_prover::prove(keys, &last.witness, &mut OsRng)?;
    let lie = BatchSubmission::new(number + 1, state.root(), w.public.new_root, &data, &proof);
    let zk_contract = match rollup.submit_batch(&EvmSubmission::from_submission(&lie)?) {
        Ok(_) => bail!("the contract accepted a false root"),
        Err(zkr_l1_evm::EvmL1Error::Rejected(r @ EvmRejection::BadProof)) => r.to_string(),
        Err(e) => e.to_string(),
    };
    Ok(FraudReport {
        optimistic_step: format!(
            "{:?}: {}",
            fraud.step,
            fraud
                .violation
                .map_or("a wrong root".to_string(), |v| v.to_string())
        ),
        optimistic_reverted: (proven.number..proven.number + proven.reverted).collect(),
        optimistic_reward: (proven.reward / U256::from(UNIT_WEI)).try_into()?,
        optimistic_challenge_gas: outcome.gas_used,
        zk_prover,
        zk_contract,
    })
}

/// The forged batch on `state`: account 1 pays half its balance to account 2 under a signature
/// by another key, then noops; built mechanically (no rule checked). Returns its witness, the
/// root after each slot, its public data and the forged signature.
fn forge(
    state: &State,
) -> anyhow::Result<(
    zkr_circuits::witness::BatchWitness,
    Vec<zkr_circuits::Fr>,
    Vec<zkr_circuits::tx::SlotData>,
    Signature,
)> {
    let params = *state.params();
    let (victim, thief) = (1u64, 2u64);
    let account = state.account(victim).context("account 1 is empty")?;
    let forged = Transfer::signed(
        &SecretKey::from_seed([0xee; 32]),
        state.chain_id(),
        victim,
        thief,
        account.balance / 2,
        0,
        account.nonce,
    );
    let mut data = vec![zkr_circuits::tx::SlotData {
        tx_type: zkr_circuits::tx::TxType::Transfer,
        from: victim,
        to: thief,
        amount: forged.amount,
        fee: 0,
        aux_x: zkr_circuits::Fr::from(0u64),
        aux_y: zkr_circuits::Fr::from(0u64),
        requester: zkr_circuits::Fr::from(0u64),
    }];
    data.resize(params.batch_size, zkr_circuits::tx::SlotData::NOOP);
    let mut slots = vec![SlotTx::transfer(&forged)];
    slots.resize(params.batch_size, SlotTx::noop());
    let mut b = state.witness_builder();
    let mut roots = Vec::new();
    for s in slots {
        b.push(s)?;
        roots.push(b.root());
    }
    let (w, _) = b.finish()?;
    Ok((w, roots, data, forged.signature))
}

/// The workload's transactions on `state` (whose accounts the users opened), signed for
/// `chain_id`, in batches: the transfers of `pairs`, then a withdrawal of 100 units by user 0 to
/// its L1 address.
fn workload(
    a: &Args,
    pairs: &[(usize, usize, u64)],
    state: &State,
    chain_id: u64,
) -> anyhow::Result<Vec<Vec<Tx>>> {
    let index = |i: usize| {
        state
            .index_of(&user(a.seed, i).public_key())
            .context("a user has no account")
    };
    let mut nonces = std::collections::HashMap::new();
    let mut nonce = |f: u64| -> u32 {
        let n = nonces
            .entry(f)
            .or_insert_with(|| state.account(f).map_or(0, |x| x.nonce));
        *n += 1;
        *n - 1
    };
    let mut txs = Vec::new();
    for &(from, to, amount) in pairs {
        let (f, t) = (index(from)?, index(to)?);
        txs.push(Tx::Transfer(Transfer::signed(
            &user(a.seed, from),
            chain_id,
            f,
            t,
            amount,
            1,
            nonce(f),
        )));
    }
    let f = index(0)?;
    txs.push(Tx::Withdraw(Withdraw::signed(
        &user(a.seed, 0),
        chain_id,
        f,
        100,
        1,
        nonce(f),
        l1_address(0),
    )));
    Ok(txs.chunks(a.batch_size).map(|c| c.to_vec()).collect())
}

fn print_table(r: &CompareReport, plot: Option<&std::path::Path>) {
    let w = &r.workload;
    println!(
        "zkr compare: {} transfers and {} withdrawal among {} users; rollups of depth {} in batches of {} ({} batches); {} threads",
        w.transfers, w.withdrawals, w.users, w.depth, w.batch_size, w.batches, w.threads
    );
    println!("EVM: {}", r.evm);
    let c = &r.columns;
    let cell = |f: &dyn Fn(&Column) -> String| c.iter().map(f).collect::<Vec<_>>();
    let rows: Vec<(&str, Vec<String>)> = vec![
        (
            "L1 gas per transfer",
            cell(&|x| format!("{}", x.l1_gas_per_transfer)),
        ),
        (
            "L1 bytes per transfer",
            cell(&|x| format!("{:.0}", x.l1_bytes_per_transfer)),
        ),
        (
            "executed transfers/s",
            cell(&|x| format!("{:.0}", x.executed_per_s)),
        ),
        (
            "final transfers/s",
            cell(&|x| format!("{:.1}", x.final_per_s)),
        ),
        (
            "transfer final after",
            cell(&|x| {
                x.transfer_finality_s
                    .map_or("1 L1 block".into(), |s| format!("{s:.1} s"))
            }),
        ),
        (
            "withdrawal claimable after",
            cell(&|x| {
                x.withdrawal_finality_s
                    .map_or("(on L1 already)".into(), |s| format!("{s:.1} s"))
            }),
        ),
        (
            "off-chain s per transfer",
            cell(&|x| format!("{:.4}", x.offchain_s_per_transfer)),
        ),
    ];
    println!("| | L1 alone | ZK rollup | optimistic rollup |");
    println!("|---|---:|---:|---:|");
    for (label, v) in rows {
        println!("| {label} | {} |", v.join(" | "));
    }
    for x in c {
        println!("{}: gas = {}; trusts {}", x.name, x.gas_basis, x.trusts);
    }
    println!(
        "ZK setup {:.1} s (once per circuit); a deposit into the ZK rollup {} gas; optimistic window {} s (7 days on Optimism); L1 throughput bounds assume 30,000,000 gas per {} s block",
        r.zk_setup_s, r.zk_deposit_gas, r.window_s, L1_BLOCK_S
    );
    if let Some(f) = &r.fraud {
        println!("fraud, optimistic: the watcher showed {}; batches {:?} reverted, {} units (half their bonds) paid to the watcher; the challenge cost {} gas", f.optimistic_step, f.optimistic_reverted, f.optimistic_reward, f.optimistic_challenge_gas);
        println!(
            "fraud, ZK: the prover: {}; the contract, given a real proof and a false root: {}",
            f.zk_prover, f.zk_contract
        );
    }
    if let Some(p) = plot {
        println!("plot: {}", p.display());
    }
}

fn plot(path: &std::path::Path, r: &CompareReport) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let e = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (left, right) = root.split_horizontally(450);
    let names = ["L1 alone", "ZK rollup", "optimistic"];
    let colors = [BLACK, BLUE, RED];
    let gas: Vec<f64> = r
        .columns
        .iter()
        .map(|c| c.l1_gas_per_transfer as f64)
        .collect();
    let fin: Vec<f64> = r
        .columns
        .iter()
        .map(|c| c.transfer_finality_s.unwrap_or(L1_BLOCK_S))
        .collect();
    for (area, values, title, unit) in [
        (&left, &gas, "L1 gas per transfer (log)", ""),
        (
            &right,
            &fin,
            "seconds to finality (log; L1 alone: one 12 s block)",
            " s",
        ),
    ] {
        let max = values.iter().cloned().fold(1.0, f64::max) * 2.0;
        let min = values
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min)
            .max(1e-3)
            / 2.0;
        let mut c = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..3f64, (min..max).log_scale())
            .map_err(|x| e(&x))?;
        c.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .draw()
            .map_err(|x| e(&x))?;
        for (i, v) in values.iter().enumerate() {
            let color = colors[i];
            c.draw_series(std::iter::once(Rectangle::new(
                [(i as f64 + 0.2, min), (i as f64 + 0.8, *v)],
                color.filled(),
            )))
            .map_err(|x| e(&x))?
            .label(format!("{}: {v:.1}{unit}", names[i]))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

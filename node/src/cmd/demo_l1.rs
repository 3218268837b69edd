//! The L1 that `zkr demo` settles on: the Rust L1 (`L1Contract`, persisted in
//! `DATA_DIR/l1.json`) or `contracts/Rollup.sol` in an embedded EVM (revm, in memory for the
//! run), behind the few calls the demo makes.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::state::State;
use zkr_circuits::tx::{decode_public_data, L1Address, PriorityOp};
use zkr_circuits::{CircuitParams, Fr, Genesis};
use zkr_l1_evm::rollup::{evm_address, fr_from_word, EncodeError, UNIT_WEI};
use zkr_l1_evm::{EvmL1Error, EvmRejection, EvmRollup, EvmSubmission, RollupEvent, U256};
use zkr_verifier::{BatchSubmission, L1Contract, Rejection, VerifyingKey};

/// Which L1 `zkr demo` settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum L1Kind {
    /// The Rust L1 (`zkr_verifier::L1Contract`), saved in `DATA_DIR/l1.json`.
    Rust,
    /// `contracts/Rollup.sol` and its verifier in an embedded EVM (revm at Cancun), deployed
    /// fresh for the run with the demo's verifying key; reports gas.
    Evm,
}

/// Why the L1 refused a batch (nothing changed on it).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The Rust L1's refusal.
    #[error(transparent)]
    Rust(#[from] Rejection),
    /// The contract's refusal (it reverted with one of its errors).
    #[error(transparent)]
    Contract(EvmRejection),
    /// The EVM's refusal, or an unusable artifact.
    #[error(transparent)]
    Evm(EvmL1Error),
    /// The submission has no `submitBatch` calldata form.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The demo's L1.
pub enum DemoL1 {
    /// The Rust L1.
    Rust(Box<L1Contract>),
    /// The rollup contract on an in-memory EVM chain.
    Evm(Box<EvmRollup>),
}

impl DemoL1 {
    /// Opens the Rust L1 at `path` (deploying it there, with `operator`'s account 0 owned by
    /// `operator_l1`, if it does not exist), or deploys the contracts for `vk` and `operator` on
    /// a fresh EVM chain (where account 0's owner is the deployer, [`zkr_l1_evm::rollup::OPERATOR`]).
    pub fn open(
        kind: L1Kind,
        path: &Path,
        params: CircuitParams,
        vk: &VerifyingKey,
        operator: &PublicKey,
        operator_l1: L1Address,
    ) -> anyhow::Result<Self> {
        Ok(match kind {
            L1Kind::Rust => DemoL1::Rust(Box::new(L1Contract::open(
                path,
                params,
                vk.clone(),
                Some((*operator, operator_l1)),
            )?)),
            L1Kind::Evm => DemoL1::Evm(Box::new(
                EvmRollup::deploy_for_key(params, vk, operator)
                    .context("deploying the rollup contracts on the embedded EVM")?,
            )),
        })
    }

    /// The deployment's chain id and operator.
    pub fn genesis(&mut self) -> anyhow::Result<Genesis> {
        Ok(match self {
            DemoL1::Rust(l1) => *l1.genesis(),
            DemoL1::Evm(r) => r.genesis().context("reading the rollup's genesis")?.0,
        })
    }

    /// Funds `from` on L1 with `amount` units and deposits them for `pubkey`: on the EVM, a
    /// `deposit` transaction that locks `amount` gwei in the contract.
    pub fn fund_and_deposit(
        &mut self,
        from: L1Address,
        pubkey: PublicKey,
        amount: u64,
    ) -> anyhow::Result<()> {
        match self {
            DemoL1::Rust(l1) => {
                l1.mint(from, amount)?;
                l1.deposit(from, pubkey, amount)?;
            }
            DemoL1::Evm(r) => {
                let who = evm_address(&from);
                let wei = U256::from(amount) * U256::from(UNIT_WEI);
                let balance = r.chain.balance(who);
                r.chain.fund(who, balance + wei);
                r.deposit(who, &pubkey, wei)
                    .with_context(|| format!("deposit of {amount} units from {who}"))?;
            }
        }
        Ok(())
    }

    /// The requests waiting in the L1's priority queue, oldest first (on the EVM: read from the
    /// contract's storage).
    pub fn queue(&mut self) -> anyhow::Result<Vec<PriorityOp>> {
        match self {
            DemoL1::Rust(l1) => Ok(l1.state().pending()),
            DemoL1::Evm(r) => Ok(r
                .queued_requests(0, u64::MAX)
                .context("reading the rollup's queue")?
                .into_iter()
                .map(|q| q.request)
                .collect()),
        }
    }

    /// Batches accepted so far.
    pub fn batch_count(&mut self) -> anyhow::Result<u64> {
        match self {
            DemoL1::Rust(l1) => Ok(l1.state().batches.len() as u64),
            DemoL1::Evm(r) => Ok(r.batch_count()?),
        }
    }

    /// The L1's state root.
    pub fn state_root(&mut self) -> anyhow::Result<Fr> {
        match self {
            DemoL1::Rust(l1) => Ok(l1.state_root()),
            DemoL1::Evm(r) => {
                let w = r.state_root()?;
                fr_from_word(w).context("the contract's root is not below r")
            }
        }
    }

    /// Submits a batch. Accepted: `Some(gas)` on the EVM (what the sender pays: execution and
    /// intrinsic gas less the refund), `None` on the Rust L1.
    pub fn submit(&mut self, s: &BatchSubmission) -> Result<Option<u64>, Refusal> {
        match self {
            DemoL1::Rust(l1) => l1.submit_batch(s).map(|_| None).map_err(Refusal::from),
            DemoL1::Evm(r) => {
                let e = EvmSubmission::from_submission(s)?;
                match r.submit_batch(&e) {
                    Ok(accepted) => Ok(Some(accepted.outcome.gas_used)),
                    Err(EvmL1Error::Rejected(why)) => Err(Refusal::Contract(why)),
                    Err(other) => Err(Refusal::Evm(other)),
                }
            }
        }
    }

    /// On the EVM: the L2 root rebuilt from the contract's logs alone, replaying the public data
    /// of every `BatchAccepted` from the genesis state (the data-availability record); `None` on
    /// the Rust L1 (`zkr reconstruct` does that from `l1.json`).
    pub fn root_from_events(&mut self, params: CircuitParams) -> anyhow::Result<Option<Fr>> {
        let DemoL1::Evm(r) = self else {
            return Ok(None);
        };
        let (genesis, _) = r.genesis().context("reading the rollup's genesis")?;
        let mut state = State::genesis(params, &genesis);
        for e in &r.events {
            if let RollupEvent::BatchAccepted {
                number,
                public_data,
                ..
            } = e
            {
                let slots = decode_public_data(public_data)
                    .with_context(|| format!("batch {number}: public data in the log"))?;
                state = state
                    .replay(&slots)
                    .with_context(|| format!("batch {number}: replaying the log"))?;
            }
        }
        Ok(Some(state.root()))
    }

    /// On the EVM: checks that every withdrawal of the run was credited to its L1 address (in
    /// wei, 1 unit = 1 gwei) and claims it, checking the ETH arrives. `withdrawn`: units per
    /// address. Returns the wei claimed. `None` on the Rust L1 (its credits are L1 balances in
    /// `l1.json`, checked by its own tests).
    pub fn claim_withdrawals(
        &mut self,
        withdrawn: &BTreeMap<L1Address, u64>,
    ) -> anyhow::Result<Option<U256>> {
        let DemoL1::Evm(r) = self else {
            return Ok(None);
        };
        let mut total = U256::ZERO;
        for (to, units) in withdrawn {
            let who = evm_address(to);
            let want = U256::from(*units) * U256::from(UNIT_WEI);
            let credited = r.withdrawable(who)?;
            if credited != want {
                anyhow::bail!(
                    "{who}: the contract credits {credited} wei, the batches withdrew {want} wei"
                );
            }
            let before = r.chain.balance(who);
            r.claim(who).with_context(|| format!("claim by {who}"))?;
            let got = r.chain.balance(who) - before;
            if got != want {
                anyhow::bail!("{who}: claimed {got} wei, expected {want} wei");
            }
            total += got;
        }
        Ok(Some(total))
    }
}

//! A deployed rollup on any [`EvmChain`], read back and settled on, in the Rust L1's terms:
//! what `zkr node --l1-rpc`, the wallet and `zkr reconstruct --l1-rpc` need.
//!
//! - [`EvmRollup::attach`]: the rollup at an address (checked: there is code, and it answers
//!   the rollup's views);
//! - [`EvmRollup::queued_deposits`]: the deposit queue from the contract's storage, as the Rust
//!   L1's [`QueuedDeposit`]s;
//! - [`accepted_batches`]: the accepted batches rebuilt from the contract's events alone, as the
//!   Rust L1's [`AcceptedBatch`] records (public data, deposits consumed, withdrawals credited);
//! - [`EvmRollup::settle`]: a [`BatchSubmission`] encoded by [`EvmSubmission`] and sent, at
//!   most one at a time (no second transaction while one of the operator's is pending).

use crate::chain::EvmChain;
use crate::rollup::{
    fr_from_word, small, Accepted, Deployment, EvmL1Error, EvmRollup, EvmSubmission, RollupEvent,
};
use revm::primitives::{Address, U256};
use std::collections::BTreeMap;
use zkr_circuits::eddsa::PublicKey;
use zkr_circuits::tx::{Deposit, L1Address};
use zkr_circuits::Fr;
use zkr_verifier::{AcceptedBatch, BatchSubmission, QueuedDeposit};

/// The rollup's root and batch count, read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// `stateRoot()`.
    pub state_root: Fr,
    /// `batchCount()`: the last accepted batch's number (0: none yet).
    pub batches: u64,
}

fn root(word: U256, what: &str) -> Result<Fr, EvmL1Error> {
    fr_from_word(word).ok_or_else(|| EvmL1Error::Events(format!("{what} {word} is not below r")))
}

fn l1_address(a: Address) -> L1Address {
    L1Address(a.into_array())
}

impl<C: EvmChain> EvmRollup<C> {
    /// The rollup already deployed at `rollup` on `chain`, with `operator` submitting batches
    /// (it needs a key on `chain` only to send). Refuses an address without code, or whose
    /// code does not answer `batchSize()`, `stateRoot()`, `verifier()` and the genesis views.
    pub fn attach(mut chain: C, rollup: Address, operator: Address) -> Result<Self, EvmL1Error> {
        if chain.code_len(rollup)? == 0 {
            return Err(EvmL1Error::NoCode(rollup));
        }
        let mut r = Self {
            chain,
            deployment: Deployment {
                poseidon: Address::ZERO,
                verifier: Address::ZERO,
                rollup,
            },
            events: Vec::new(),
            operator,
        };
        let not_a_rollup = |e: EvmL1Error| match e {
            EvmL1Error::Chain(c) => EvmL1Error::Chain(c),
            other => EvmL1Error::NotARollup {
                address: rollup,
                why: other.to_string(),
            },
        };
        let verifier = r.view_word("verifier()", &[]).map_err(not_a_rollup)?;
        r.deployment.verifier = Address::from_slice(&verifier.to_be_bytes::<32>()[12..]);
        r.batch_size().map_err(not_a_rollup)?;
        r.head().map_err(not_a_rollup)?;
        r.genesis().map_err(not_a_rollup)?;
        Ok(r)
    }

    /// `batchSize()`: slots per batch.
    pub fn batch_size(&mut self) -> Result<u64, EvmL1Error> {
        let v = self.view_word("batchSize()", &[])?;
        small(v).ok_or(EvmL1Error::BadReturn("batchSize()"))
    }

    /// The current root and batch count.
    pub fn head(&mut self) -> Result<Head, EvmL1Error> {
        let state_root = root(self.state_root()?, "stateRoot()")?;
        let batches = self.batch_count()?;
        Ok(Head {
            state_root,
            batches,
        })
    }

    /// Every event the rollup emitted on the chain, in chain order (whoever sent the
    /// transactions).
    pub fn read_events(&mut self) -> Result<Vec<RollupEvent>, EvmL1Error> {
        Ok(self
            .chain
            .logs(self.deployment.rollup)?
            .iter()
            .filter_map(RollupEvent::decode)
            .collect())
    }

    /// The queued deposits with id `from` or more (at most `limit` of them), from the
    /// contract's storage (`depositHead`, `depositTail`, `deposits(id)`), in queue order.
    pub fn queued_deposits(
        &mut self,
        from: u64,
        limit: u64,
    ) -> Result<Vec<QueuedDeposit>, EvmL1Error> {
        let head: u64 = small(self.view_word("depositHead()", &[])?)
            .ok_or(EvmL1Error::BadReturn("depositHead()"))?;
        let tail: u64 = small(self.view_word("depositTail()", &[])?)
            .ok_or(EvmL1Error::BadReturn("depositTail()"))?;
        let start = head.max(from);
        let end = tail.min(start.saturating_add(limit));
        let mut out = Vec::new();
        for id in start..end {
            let [x, y, amount, payer] =
                self.view_words::<4>("deposits(uint64)", &[U256::from(id)])?;
            let bad = |why: &str| EvmL1Error::Events(format!("queued deposit {id}: {why}"));
            let pubkey = PublicKey::from_coordinates(
                fr_from_word(x).ok_or_else(|| bad("x is not below r"))?,
                fr_from_word(y).ok_or_else(|| bad("y is not below r"))?,
            )
            .map_err(|e| bad(&e.to_string()))?;
            out.push(QueuedDeposit {
                id,
                from: l1_address(Address::from_slice(&payer.to_be_bytes::<32>()[12..])),
                deposit: Deposit {
                    pubkey,
                    amount: small(amount).ok_or_else(|| bad("amount over 64 bits"))?,
                },
            });
        }
        Ok(out)
    }

    /// Submits `s` from the operator, encoded by [`EvmSubmission`]: at most one submission on
    /// its way at a time. While a transaction of the operator is pending (sent earlier, by this
    /// process or one that died, and neither mined nor dropped), nothing is sent and the answer
    /// is [`EvmL1Error::InFlight`]: ask again later, when the chain's state tells whether that
    /// batch went through (a batch already accepted is then refused as `Replayed`).
    pub fn settle(&mut self, s: &BatchSubmission) -> Result<Accepted, EvmL1Error> {
        let count = self.chain.in_flight(self.operator)?;
        if count > 0 {
            return Err(EvmL1Error::InFlight {
                from: self.operator,
                count,
            });
        }
        let sub = EvmSubmission::from_submission(s)?;
        self.submit_batch(&sub)
    }
}

/// The accepted batches numbered `from` or more, rebuilt from the rollup's events alone
/// (`BatchAccepted` for the roots and the public data, `DepositQueued` for the deposits each
/// consumed, `WithdrawalCredited` for the withdrawals), in order.
pub fn accepted_batches(
    events: &[RollupEvent],
    from: u64,
) -> Result<Vec<AcceptedBatch>, EvmL1Error> {
    let mut queued = BTreeMap::new();
    let mut withdrawals: BTreeMap<u64, Vec<(L1Address, u64)>> = BTreeMap::new();
    for e in events {
        match e {
            RollupEvent::DepositQueued {
                id,
                from: payer,
                pk_x,
                pk_y,
                amount,
            } => {
                queued.insert(*id, (*payer, *pk_x, *pk_y, *amount));
            }
            RollupEvent::WithdrawalCredited { number, to, amount } => withdrawals
                .entry(*number)
                .or_default()
                .push((l1_address(*to), *amount)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for e in events {
        let RollupEvent::BatchAccepted {
            number,
            old_root,
            new_root,
            first_deposit,
            deposit_count,
            public_data,
        } = e
        else {
            continue;
        };
        if *number < from {
            continue;
        }
        let mut deposits = Vec::new();
        for id in *first_deposit..first_deposit.saturating_add(*deposit_count) {
            let bad = |why: &str| {
                EvmL1Error::Events(format!("batch {number} consumed deposit {id}: {why}"))
            };
            let (payer, x, y, amount) = queued.get(&id).ok_or_else(|| bad("never queued"))?;
            let pubkey = PublicKey::from_coordinates(
                fr_from_word(*x).ok_or_else(|| bad("x is not below r"))?,
                fr_from_word(*y).ok_or_else(|| bad("y is not below r"))?,
            )
            .map_err(|e| bad(&e.to_string()))?;
            deposits.push(QueuedDeposit {
                id,
                from: l1_address(*payer),
                deposit: Deposit {
                    pubkey,
                    amount: *amount,
                },
            });
        }
        out.push(AcceptedBatch {
            number: *number,
            old_root: root(*old_root, "an old root")?,
            new_root: root(*new_root, "a new root")?,
            public_data: hex::encode(public_data),
            deposits,
            withdrawals: withdrawals.remove(number).unwrap_or_default(),
        });
    }
    Ok(out)
}

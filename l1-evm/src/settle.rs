//! A deployed rollup on any [`EvmChain`], read back and settled on, in the Rust L1's terms:
//! what `zkr node --l1-rpc`, the wallet and `zkr reconstruct --l1-rpc` need.
//!
//! - [`EvmRollup::attach`]: the rollup at an address (checked: there is code, and it answers
//!   the rollup's views);
//! - [`EvmRollup::queued_requests`]: the priority queue (deposits and full exits) from the
//!   contract's storage, as the Rust L1's [`QueuedRequest`]s;
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
use zkr_circuits::tx::{Deposit, FullExit, L1Address, PriorityOp};
use zkr_circuits::Fr;
use zkr_verifier::{AcceptedBatch, BatchSubmission, QueuedRequest};

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
                poseidon_t6: Address::ZERO,
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

    /// The queued requests (deposits and full exits) with id `from` or more (at most `limit`
    /// of them), from the contract's storage (`queueHead`, `queueTail`, `requests(id)`), in
    /// queue order.
    pub fn queued_requests(
        &mut self,
        from: u64,
        limit: u64,
    ) -> Result<Vec<QueuedRequest>, EvmL1Error> {
        let head: u64 = small(self.view_word("queueHead()", &[])?)
            .ok_or(EvmL1Error::BadReturn("queueHead()"))?;
        let tail: u64 = small(self.view_word("queueTail()", &[])?)
            .ok_or(EvmL1Error::BadReturn("queueTail()"))?;
        let start = head.max(from);
        let end = tail.min(start.saturating_add(limit));
        let mut out = Vec::new();
        for id in start..end {
            // (pkX, pkY, value, from, queuedAt): a full exit has the key (0, 0).
            let [x, y, value, payer, _queued_at] =
                self.view_words::<5>("requests(uint64)", &[U256::from(id)])?;
            let bad = |why: &str| EvmL1Error::Events(format!("queued request {id}: {why}"));
            let from = l1_address(Address::from_slice(&payer.to_be_bytes::<32>()[12..]));
            let value: u64 = small(value).ok_or_else(|| bad("value over 64 bits"))?;
            let request = match (x.is_zero(), y.is_zero()) {
                (_, false) => PriorityOp::Deposit(Deposit {
                    pubkey: PublicKey::from_coordinates(
                        fr_from_word(x).ok_or_else(|| bad("x is not below r"))?,
                        fr_from_word(y).ok_or_else(|| bad("y is not below r"))?,
                    )
                    .map_err(|e| bad(&e.to_string()))?,
                    amount: value,
                    from,
                }),
                (true, true) => PriorityOp::FullExit(FullExit {
                    account: value,
                    requester: from,
                }),
                (false, true) => return Err(bad("a key with y = 0 is neither request")),
            };
            out.push(QueuedRequest { id, request });
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
/// (`BatchAccepted` for the roots and the public data, `DepositQueued` and `FullExitQueued` for
/// the requests each consumed, `WithdrawalCredited` for the withdrawals and full exits paid), in
/// order.
pub fn accepted_batches(
    events: &[RollupEvent],
    from: u64,
) -> Result<Vec<AcceptedBatch>, EvmL1Error> {
    let mut queued: BTreeMap<u64, Result<PriorityOp, String>> = BTreeMap::new();
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
                let key = fr_from_word(*pk_x)
                    .zip(fr_from_word(*pk_y))
                    .ok_or_else(|| "the key is not below r".to_string())
                    .and_then(|(x, y)| {
                        PublicKey::from_coordinates(x, y).map_err(|e| e.to_string())
                    });
                let op = key.map(|pubkey| {
                    PriorityOp::Deposit(Deposit {
                        pubkey,
                        amount: *amount,
                        from: l1_address(*payer),
                    })
                });
                queued.insert(*id, op);
            }
            RollupEvent::FullExitQueued {
                id,
                requester,
                account,
            } => {
                let op = PriorityOp::FullExit(FullExit {
                    account: *account,
                    requester: l1_address(*requester),
                });
                queued.insert(*id, Ok(op));
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
            first_request,
            request_count,
            public_data,
        } = e
        else {
            continue;
        };
        if *number < from {
            continue;
        }
        let mut requests = Vec::new();
        for id in *first_request..first_request.saturating_add(*request_count) {
            let bad = |why: &str| {
                EvmL1Error::Events(format!("batch {number} consumed request {id}: {why}"))
            };
            let request = queued
                .get(&id)
                .ok_or_else(|| bad("never queued"))?
                .clone()
                .map_err(|e| bad(&e))?;
            requests.push(QueuedRequest { id, request });
        }
        out.push(AcceptedBatch {
            number: *number,
            old_root: root(*old_root, "an old root")?,
            new_root: root(*new_root, "a new root")?,
            public_data: hex::encode(public_data),
            requests,
            withdrawals: withdrawals.remove(number).unwrap_or_default(),
        });
    }
    Ok(out)
}

//! The optimistic L1: the same rollup, its batches posted without a proof.
//!
//! [`OptimisticL1`] is the twin of [`crate::L1Contract`] for an optimistic rollup, built to be
//! measured beside it (`zkr compare`). A batch is the same public data, plus what a fraud proof
//! needs and a validity proof makes unnecessary: a signature for every transfer and withdrawal
//! and the root after every slot. It is checked on arrival only for what the L1 can check
//! without executing it (number, roots, encoding, the priority queue, the poster's bond), and
//! its root becomes **final** only when its challenge window has passed with no fraud proven.
//!
//! Anyone may challenge a pending batch with a **one-step fraud proof**: a step index and the
//! leaves that step touches, with their Merkle paths under the posted pre-root. The L1 executes
//! that single step natively ([`zkr_circuits::step`]); if the step breaks a rule, or its honest
//! post-root is not the posted one, the batch and every batch after it are reverted (their
//! requests go back to the queue, in order), and the batch's bond goes to the challenger. A
//! challenge that shows no fraud, names a final batch, or carries witnesses that are not
//! genuine is refused and changes nothing.
//!
//! Withdrawals are credited when their batch becomes final, not before: that is the optimistic
//! rollup's exit delay. What it trusts: one honest, online watcher per window
//! (`zkr watch`), where the validity rollup trusts the soundness of Groth16 and its setup.
//!
//! The window is measured on the L1's clock, which tests advance ([`OptimisticL1::advance_clock`]).

use crate::contract::{consumed_requests, l1_payouts};
use crate::{QueuedRequest, Rejection};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use zkr_circuits::eddsa::{PublicKey, Signature, SignatureWitness};
use zkr_circuits::field::fr_from_decimal;
use zkr_circuits::state::State;
use zkr_circuits::step::{
    execute_fees, execute_slot, StepError, StepIndex, StepOutcome, StepWitness, Violation,
};
use zkr_circuits::tx::{decode_public_data, Deposit, L1Address, PriorityOp, SlotData, TxType};
use zkr_circuits::{CircuitParams, Fr, Genesis};

/// Deployment parameters of an optimistic rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptimisticConfig {
    /// Seconds a batch can be challenged after it is posted (7 days on Optimism; seconds in a
    /// demo).
    pub challenge_window_s: u64,
    /// Units the poster locks per batch, paid to whoever proves it fraudulent.
    pub bond: u64,
}

/// A batch as the optimistic operator posts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimisticSubmission {
    /// The batch number it claims (last posted + 1).
    pub number: u64,
    /// The root it starts from (decimal).
    pub old_root: String,
    /// The root it ends at, after the fee step (decimal).
    pub new_root: String,
    /// The public data, hex (the encoding of `zkr_circuits::tx`, as for a proven batch).
    pub public_data: String,
    /// One entry per slot: the signature of a transfer or withdrawal, `null` for other slots.
    pub signatures: Vec<Option<Signature>>,
    /// The root after each slot (decimal), one per slot.
    pub step_roots: Vec<String>,
}

impl OptimisticSubmission {
    /// The honest submission of batch `number`: the output of
    /// [`zkr_circuits::state::State::apply_batch`] for `txs`, with the transactions' signatures
    /// and the root after each slot.
    pub fn from_batch(
        number: u64,
        out: &zkr_circuits::state::BatchOutput,
        txs: &[zkr_circuits::tx::Tx],
    ) -> Result<Self, StepError> {
        use zkr_circuits::field::fr_to_decimal;
        use zkr_circuits::tx::Tx;
        let mut signatures: Vec<Option<Signature>> = txs
            .iter()
            .map(|t| match t {
                Tx::Transfer(t) => Some(t.signature),
                Tx::Withdraw(w) => Some(w.signature),
                _ => None,
            })
            .collect();
        signatures.resize(out.public_data.len(), None);
        let roots = zkr_circuits::step::step_roots(&out.witness)?;
        Ok(Self {
            number,
            old_root: fr_to_decimal(&out.public.old_root),
            new_root: fr_to_decimal(&out.public.new_root),
            public_data: hex::encode(zkr_circuits::tx::encode_public_data(&out.public_data)),
            signatures,
            step_roots: roots.iter().map(fr_to_decimal).collect(),
        })
    }

    /// Bytes an L1 would receive as data for this batch: the public data, 64 bytes per
    /// signature and 32 per posted root (the two batch roots and one per slot).
    pub fn data_bytes(&self) -> usize {
        self.public_data.len() / 2
            + 64 * self.signatures.iter().flatten().count()
            + 32 * (2 + self.step_roots.len())
    }
}

/// A posted batch, pending or final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedBatch {
    /// Batch number.
    pub number: u64,
    /// Root before.
    pub old_root: Fr,
    /// Root after (after the fee step).
    pub new_root: Fr,
    /// The slots.
    pub slots: Vec<SlotData>,
    /// The signatures, one per slot.
    pub signatures: Vec<Option<SignatureWitness>>,
    /// The root after each slot.
    pub step_roots: Vec<Fr>,
    /// Who posted it (and locked the bond).
    pub poster: L1Address,
    /// When (L1 seconds).
    pub posted_at: u64,
    /// The requests it consumed, in order.
    pub requests: Vec<QueuedRequest>,
    /// Withdrawals and full exits it pays, credited when it becomes final.
    pub withdrawals: Vec<(L1Address, u64)>,
    /// Final: its window passed without a fraud proof.
    pub is_final: bool,
}

impl PostedBatch {
    /// The last second at which it can be challenged.
    pub fn challengeable_until(&self, window_s: u64) -> u64 {
        self.posted_at.saturating_add(window_s)
    }

    /// The posted pre-root and post-root of `step`, if the batch has it.
    pub fn step_bounds(&self, step: StepIndex) -> Option<(Fr, Fr)> {
        match step {
            StepIndex::Slot(i) if i < self.slots.len() => {
                let pre = if i == 0 {
                    self.old_root
                } else {
                    self.step_roots[i - 1]
                };
                Some((pre, self.step_roots[i]))
            }
            StepIndex::Fees => Some((*self.step_roots.last()?, self.new_root)),
            StepIndex::Slot(_) => None,
        }
    }

    /// The steps as [`zkr_circuits::step::find_fraud`] reads them.
    pub fn steps(&self) -> zkr_circuits::step::PostedSteps {
        zkr_circuits::step::PostedSteps {
            slots: self.slots.clone(),
            signatures: self.signatures.clone(),
            step_roots: self.step_roots.clone(),
            new_root: self.new_root,
        }
    }
}

/// Why a posted batch was refused. A refused batch changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// What the validity rollup's L1 refuses too (number, roots, public data, queue).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The signatures or step roots do not match the slots.
    #[error("malformed batch: {0}")]
    Malformed(String),
    /// The poster's L1 balance does not cover the bond.
    #[error("the poster {poster} has {balance} on L1, the bond is {bond}")]
    NoBond {
        /// The poster.
        poster: L1Address,
        /// Its balance.
        balance: u128,
        /// The bond.
        bond: u64,
    },
}

/// Why a challenge was refused. A refused challenge changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// No such batch (never posted, or reverted).
    #[error("batch {0} is not posted")]
    NoSuchBatch(u64),
    /// The batch is final: its window has passed.
    #[error("batch {number} is final (its window closed at {until}, now {now})")]
    Final {
        /// The batch.
        number: u64,
        /// The end of its window.
        until: u64,
        /// The L1's time.
        now: u64,
    },
    /// The batch has no such step.
    #[error("batch {number} has no step {step:?}")]
    NoSuchStep {
        /// The batch.
        number: u64,
        /// The step named.
        step: StepIndex,
    },
    /// The witness is not a witness of that step (a slot step's for the fee step, or the
    /// reverse).
    #[error("the witness is not for a {0:?} step")]
    WitnessKind(StepIndex),
    /// The witness is not genuine: it proves nothing.
    #[error("the witness proves nothing: {0}")]
    BadWitness(#[from] StepError),
    /// The step follows every rule and ends at its posted root: no fraud.
    #[error("step {step:?} of batch {number} follows the rules and ends at its posted root")]
    NoFraud {
        /// The batch.
        number: u64,
        /// The step.
        step: StepIndex,
    },
}

/// A fraud the L1 accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudProven {
    /// The fraudulent batch.
    pub number: u64,
    /// The step shown.
    pub step: StepIndex,
    /// The rule broken, or `None` when the step ends elsewhere than posted.
    pub violation: Option<Violation>,
    /// Every batch reverted (the fraudulent one and all after it).
    pub reverted: Vec<u64>,
    /// The bond paid to the challenger.
    pub reward: u64,
}

/// The optimistic L1 (see the module docs). In memory: built to be measured and taught beside
/// [`crate::L1Contract`].
#[derive(Debug, Clone)]
pub struct OptimisticL1 {
    params: CircuitParams,
    genesis: Genesis,
    config: OptimisticConfig,
    genesis_root: Fr,
    batches: Vec<PostedBatch>,
    queue: VecDeque<QueuedRequest>,
    next_request_id: u64,
    l1_balances: BTreeMap<L1Address, u128>,
    frauds: Vec<FraudProven>,
    clock_offset_s: u64,
}

impl OptimisticL1 {
    /// A fresh optimistic rollup at the genesis root of `genesis`.
    pub fn new(params: CircuitParams, genesis: Genesis, config: OptimisticConfig) -> Self {
        Self {
            params,
            genesis,
            config,
            genesis_root: State::genesis(params, &genesis).root(),
            batches: Vec::new(),
            queue: VecDeque::new(),
            next_request_id: 0,
            l1_balances: BTreeMap::new(),
            frauds: Vec::new(),
            clock_offset_s: 0,
        }
    }

    /// The circuit shape (the same transition as the validity rollup's).
    pub fn params(&self) -> &CircuitParams {
        &self.params
    }

    /// The deployment.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The window and bond.
    pub fn config(&self) -> &OptimisticConfig {
        &self.config
    }

    /// The L1's time: unix seconds, plus what [`Self::advance_clock`] added.
    pub fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .saturating_add(self.clock_offset_s)
    }

    /// Moves the L1's clock forward (tests and demos: a window passes without waiting).
    pub fn advance_clock(&mut self, seconds: u64) {
        self.clock_offset_s = self.clock_offset_s.saturating_add(seconds);
    }

    /// Every posted batch not reverted, in order.
    pub fn batches(&self) -> &[PostedBatch] {
        &self.batches
    }

    /// The frauds proven so far.
    pub fn frauds(&self) -> &[FraudProven] {
        &self.frauds
    }

    /// The root of the last posted batch (pending or final): what the next batch builds on.
    pub fn head_root(&self) -> Fr {
        self.batches
            .last()
            .map_or(self.genesis_root, |b| b.new_root)
    }

    /// The root of the last final batch: what L1 users can rely on.
    pub fn final_root(&self) -> Fr {
        self.batches
            .iter()
            .rev()
            .find(|b| b.is_final)
            .map_or(self.genesis_root, |b| b.new_root)
    }

    /// Requests waiting in the queue, oldest first.
    pub fn pending(&self) -> Vec<PriorityOp> {
        self.queue.iter().map(|q| q.request).collect()
    }

    /// An L1 address's balance.
    pub fn balance(&self, a: &L1Address) -> u128 {
        self.l1_balances.get(a).copied().unwrap_or(0)
    }

    /// Credits `amount` to `to` (the local faucet).
    pub fn mint(&mut self, to: L1Address, amount: u64) {
        *self.l1_balances.entry(to).or_default() += amount as u128;
    }

    fn debit(&mut self, from: L1Address, amount: u64) -> Result<(), u128> {
        let b = self.l1_balances.entry(from).or_default();
        if *b < amount as u128 {
            return Err(*b);
        }
        *b -= amount as u128;
        Ok(())
    }

    /// Queues a deposit of `amount` from `from`'s L1 balance to the L2 key `pubkey`; returns
    /// its id.
    pub fn deposit(
        &mut self,
        from: L1Address,
        pubkey: PublicKey,
        amount: u64,
    ) -> Result<u64, crate::DepositError> {
        if amount == 0 {
            return Err(crate::DepositError::ZeroAmount);
        }
        self.debit(from, amount)
            .map_err(|balance| crate::DepositError::InsufficientL1Balance {
                from,
                balance,
                amount,
            })?;
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.queue.push_back(QueuedRequest {
            id,
            request: PriorityOp::Deposit(Deposit {
                pubkey,
                amount,
                from,
            }),
        });
        Ok(id)
    }

    /// Makes final every pending batch whose window has passed (in order: a batch is final only
    /// after the one before it), crediting its withdrawals and returning its bond; returns
    /// their numbers.
    pub fn finalize(&mut self) -> Vec<u64> {
        let now = self.now();
        let window = self.config.challenge_window_s;
        let mut done = Vec::new();
        for i in 0..self.batches.len() {
            let b = &self.batches[i];
            if b.is_final {
                continue;
            }
            if now <= b.challengeable_until(window) {
                break;
            }
            let (poster, withdrawals, number) = (b.poster, b.withdrawals.clone(), b.number);
            self.batches[i].is_final = true;
            *self.l1_balances.entry(poster).or_default() += self.config.bond as u128;
            for (a, amount) in withdrawals {
                *self.l1_balances.entry(a).or_default() += amount as u128;
            }
            done.push(number);
        }
        done
    }

    /// Posts a batch from `poster`, locking the bond. Checked: the number is the next one, the
    /// roots are canonical and the old root is the head root, the public data decodes into the
    /// circuit's number of slots, the deposits and full exits are the next requests of the
    /// queue, a signature accompanies exactly the transfers and withdrawals, and there is one
    /// root per slot. Not checked: anything that needs executing the batch — that is what
    /// challenges are for.
    pub fn post_batch(
        &mut self,
        poster: L1Address,
        s: &OptimisticSubmission,
    ) -> Result<u64, PostError> {
        self.finalize();
        let expected = self.batches.len() as u64 + 1;
        if s.number != expected {
            return Err(if s.number < expected {
                Rejection::Replayed {
                    expected,
                    got: s.number,
                }
            } else {
                Rejection::OutOfOrder {
                    expected,
                    got: s.number,
                }
            }
            .into());
        }
        let canonical = |field: &'static str, v: &str| {
            fr_from_decimal(v).map_err(|e| Rejection::NonCanonicalInput {
                field,
                reason: e.to_string(),
            })
        };
        let old_root = canonical("old_root", &s.old_root)?;
        let new_root = canonical("new_root", &s.new_root)?;
        if old_root != self.head_root() {
            return Err(Rejection::WrongOldRoot {
                expected: zkr_circuits::field::fr_to_decimal(&self.head_root()),
                got: s.old_root.clone(),
            }
            .into());
        }
        let data = hex::decode(&s.public_data)
            .map_err(|e| Rejection::MalformedPublicData(e.to_string()))?;
        let slots =
            decode_public_data(&data).map_err(|e| Rejection::MalformedPublicData(e.to_string()))?;
        if slots.len() != self.params.batch_size {
            return Err(Rejection::MalformedPublicData(format!(
                "{} slots, the circuit has {}",
                slots.len(),
                self.params.batch_size
            ))
            .into());
        }
        let requests = consumed_requests(&self.queue, &slots)?;
        if s.signatures.len() != slots.len() || s.step_roots.len() != slots.len() {
            return Err(PostError::Malformed(format!(
                "{} slots, {} signatures, {} step roots",
                slots.len(),
                s.signatures.len(),
                s.step_roots.len()
            )));
        }
        for (i, (slot, sig)) in slots.iter().zip(&s.signatures).enumerate() {
            let sends = matches!(slot.tx_type, TxType::Transfer | TxType::Withdraw);
            if sends != sig.is_some() {
                return Err(PostError::Malformed(format!(
                    "slot {i}: a signature goes with exactly the transfers and withdrawals"
                )));
            }
        }
        let step_roots = s
            .step_roots
            .iter()
            .map(|r| canonical("step_roots", r))
            .collect::<Result<Vec<Fr>, _>>()?;
        let bond = self.config.bond;
        self.debit(poster, bond)
            .map_err(|balance| PostError::NoBond {
                poster,
                balance,
                bond,
            })?;
        for _ in &requests {
            self.queue.pop_front();
        }
        self.batches.push(PostedBatch {
            number: s.number,
            old_root,
            new_root,
            withdrawals: l1_payouts(&slots),
            slots,
            signatures: s
                .signatures
                .iter()
                .map(|o| o.as_ref().map(SignatureWitness::from))
                .collect(),
            step_roots,
            poster,
            posted_at: self.now(),
            requests,
            is_final: false,
        });
        Ok(s.number)
    }

    /// A one-step fraud proof against batch `number` at `step`, from `challenger`. If the step
    /// breaks a rule or ends elsewhere than posted, the batch and all after it are reverted,
    /// their requests return to the queue, and the batch's bond goes to the challenger (the
    /// bonds of the later batches return to their posters).
    pub fn challenge(
        &mut self,
        challenger: L1Address,
        number: u64,
        step: StepIndex,
        witness: &StepWitness,
    ) -> Result<FraudProven, ChallengeError> {
        self.finalize();
        let now = self.now();
        let pos = self
            .batches
            .iter()
            .position(|b| b.number == number)
            .ok_or(ChallengeError::NoSuchBatch(number))?;
        let b = &self.batches[pos];
        if b.is_final {
            return Err(ChallengeError::Final {
                number,
                until: b.challengeable_until(self.config.challenge_window_s),
                now,
            });
        }
        let (pre, posted_post) = b
            .step_bounds(step)
            .ok_or(ChallengeError::NoSuchStep { number, step })?;
        let outcome = match (step, witness) {
            (StepIndex::Slot(i), StepWitness::Slot(w)) => execute_slot(
                &self.params,
                self.genesis.chain_id,
                pre,
                &b.slots[i],
                b.signatures[i].as_ref(),
                w,
            )?,
            (StepIndex::Fees, StepWitness::Fees(op)) => {
                let fees = b.slots.iter().map(|s| s.fee as u128).sum();
                execute_fees(&self.params, pre, fees, op)?
            }
            _ => return Err(ChallengeError::WitnessKind(step)),
        };
        let violation = match outcome {
            StepOutcome::Valid { post_root } if post_root == posted_post => {
                return Err(ChallengeError::NoFraud { number, step })
            }
            StepOutcome::Valid { .. } => None,
            StepOutcome::Invalid(v) => Some(v),
        };
        // Fraud: revert this batch and everything after it.
        let reverted: Vec<PostedBatch> = self.batches.drain(pos..).collect();
        let bond = self.config.bond;
        for (k, r) in reverted.iter().enumerate().rev() {
            for q in r.requests.iter().rev() {
                self.queue.push_front(*q);
            }
            let to = if k == 0 { challenger } else { r.poster };
            *self.l1_balances.entry(to).or_default() += bond as u128;
        }
        let proven = FraudProven {
            number,
            step,
            violation,
            reverted: reverted.iter().map(|r| r.number).collect(),
            reward: bond,
        };
        self.frauds.push(proven.clone());
        Ok(proven)
    }
}

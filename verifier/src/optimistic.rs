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
//! requests go back to the queue, in order) and their bonds forfeited: half to the challenger,
//! half burned — a poster who challenges its own fraud still loses half, and one who built on a
//! batch without checking it loses its bond too (`contracts/OptimisticRollup.sol`, the EVM
//! twin, does the same). A
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
use std::fs;
use std::path::{Path, PathBuf};
use zkr_circuits::eddsa::{PublicKey, Signature, SignatureWitness};
use zkr_circuits::field::fr_from_decimal;
use zkr_circuits::state::State;
use zkr_circuits::step::{
    execute_fees, execute_slot, StepError, StepIndex, StepOutcome, StepWitness, Violation,
};
use zkr_circuits::tx::{decode_public_data, Deposit, L1Address, PriorityOp, SlotData, TxType};
use zkr_circuits::{CircuitParams, Fr, Genesis};

/// serde helpers: slots as the hex of their public-data encoding.
mod public_data_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use zkr_circuits::tx::{decode_public_data, encode_public_data, SlotData};

    pub fn serialize<S: Serializer>(slots: &[SlotData], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(encode_public_data(slots)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SlotData>, D::Error> {
        let h = String::deserialize(d)?;
        let bytes = hex::decode(&h).map_err(D::Error::custom)?;
        decode_public_data(&bytes).map_err(D::Error::custom)
    }
}

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

/// A posted batch, pending or final. In JSON (`GET /batches` of `zkr optimistic-l1`), roots as
/// decimal strings and the slots as the public data's hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostedBatch {
    /// Batch number.
    pub number: u64,
    /// Root before.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub old_root: Fr,
    /// Root after (after the fee step).
    #[serde(with = "zkr_circuits::field::decimal")]
    pub new_root: Fr,
    /// The slots.
    #[serde(rename = "public_data", with = "public_data_hex")]
    pub slots: Vec<SlotData>,
    /// The signatures, one per slot.
    pub signatures: Vec<Option<Signature>>,
    /// The root after each slot.
    #[serde(with = "zkr_circuits::field::decimal_vec")]
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

    /// The signatures as the step executor reads them.
    pub fn witness_signatures(&self) -> Vec<Option<SignatureWitness>> {
        self.signatures
            .iter()
            .map(|o| o.as_ref().map(SignatureWitness::from))
            .collect()
    }

    /// The steps as [`zkr_circuits::step::find_fraud`] reads them.
    pub fn steps(&self) -> zkr_circuits::step::PostedSteps {
        zkr_circuits::step::PostedSteps {
            slots: self.slots.clone(),
            signatures: self.witness_signatures(),
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
    /// The new state could not be persisted; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
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
    /// The new state could not be persisted; nothing changed.
    #[error("storage error (nothing changed): {0}")]
    Storage(String),
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudProven {
    /// The fraudulent batch.
    pub number: u64,
    /// The step shown.
    pub step: StepIndex,
    /// The rule broken, or `None` when the step ends elsewhere than posted.
    pub violation: Option<Violation>,
    /// Every batch reverted (the fraudulent one and all after it).
    pub reverted: Vec<u64>,
    /// Paid to the challenger: half the bonds of the reverted batches (the rest is burned).
    pub reward: u128,
}

/// The optimistic L1 (see the module docs): in memory ([`OptimisticL1::new`]), or persisted in
/// one JSON file replaced atomically after every change ([`OptimisticL1::open`]).
#[derive(Debug, Clone)]
pub struct OptimisticL1 {
    s: OptimisticState,
    /// Where the state persists (`None`: in memory only).
    path: Option<PathBuf>,
    /// An exclusive lock on `path` + `.lock` while open.
    _lock: Option<std::sync::Arc<fs::File>>,
    clock_offset_s: u64,
}

/// Everything the optimistic L1 holds. Persisted as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimisticState {
    /// The circuit shape (the transition the fraud proofs re-execute).
    pub params: CircuitParams,
    /// The deployment.
    pub genesis: Genesis,
    /// Window and bond.
    pub config: OptimisticConfig,
    /// The genesis root.
    #[serde(with = "zkr_circuits::field::decimal")]
    pub genesis_root: Fr,
    /// Posted batches not reverted, in order.
    pub batches: Vec<PostedBatch>,
    /// Requests not yet consumed, oldest first.
    pub queue: VecDeque<QueuedRequest>,
    /// The id the next request gets.
    pub next_request_id: u64,
    /// L1 balances.
    pub l1_balances: BTreeMap<L1Address, u128>,
    /// Frauds proven.
    pub frauds: Vec<FraudProven>,
}

impl OptimisticL1 {
    /// A fresh optimistic rollup at the genesis root of `genesis`.
    pub fn new(params: CircuitParams, genesis: Genesis, config: OptimisticConfig) -> Self {
        Self {
            s: OptimisticState {
                params,
                genesis,
                config,
                genesis_root: State::genesis(params, &genesis).root(),
                batches: Vec::new(),
                queue: VecDeque::new(),
                next_request_id: 0,
                l1_balances: BTreeMap::new(),
                frauds: Vec::new(),
            },
            path: None,
            _lock: None,
            clock_offset_s: 0,
        }
    }

    /// The circuit shape (the same transition as the validity rollup's).
    pub fn params(&self) -> &CircuitParams {
        &self.s.params
    }

    /// The deployment.
    pub fn genesis(&self) -> &Genesis {
        &self.s.genesis
    }

    /// The window and bond.
    pub fn config(&self) -> &OptimisticConfig {
        &self.s.config
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
        &self.s.batches
    }

    /// The frauds proven so far.
    pub fn frauds(&self) -> &[FraudProven] {
        &self.s.frauds
    }

    /// The root of the last posted batch (pending or final): what the next batch builds on.
    pub fn head_root(&self) -> Fr {
        self.s
            .batches
            .last()
            .map_or(self.s.genesis_root, |b| b.new_root)
    }

    /// The root of the last final batch: what L1 users can rely on.
    pub fn final_root(&self) -> Fr {
        self.s
            .batches
            .iter()
            .rev()
            .find(|b| b.is_final)
            .map_or(self.s.genesis_root, |b| b.new_root)
    }

    /// Requests waiting in the queue, oldest first.
    pub fn pending(&self) -> Vec<PriorityOp> {
        self.s.queue.iter().map(|q| q.request).collect()
    }

    /// An L1 address's balance.
    pub fn balance(&self, a: &L1Address) -> u128 {
        self.s.l1_balances.get(a).copied().unwrap_or(0)
    }

    fn mint_inner(&mut self, to: L1Address, amount: u64) -> Result<(), String> {
        let b = self.s.l1_balances.entry(to).or_default();
        *b = b
            .checked_add(amount as u128)
            .ok_or_else(|| format!("the L1 balance of {to} would overflow"))?;
        Ok(())
    }

    fn debit(&mut self, from: L1Address, amount: u64) -> Result<(), u128> {
        let b = self.s.l1_balances.entry(from).or_default();
        if *b < amount as u128 {
            return Err(*b);
        }
        *b -= amount as u128;
        Ok(())
    }

    fn deposit_inner(
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
        let id = self.s.next_request_id;
        self.s.next_request_id += 1;
        self.s.queue.push_back(QueuedRequest {
            id,
            request: PriorityOp::Deposit(Deposit {
                pubkey,
                amount,
                from,
            }),
        });
        Ok(id)
    }

    fn finalize_inner(&mut self) -> Vec<u64> {
        let now = self.now();
        let window = self.s.config.challenge_window_s;
        let mut done = Vec::new();
        for i in 0..self.s.batches.len() {
            let b = &self.s.batches[i];
            if b.is_final {
                continue;
            }
            if now <= b.challengeable_until(window) {
                break;
            }
            let (poster, withdrawals, number) = (b.poster, b.withdrawals.clone(), b.number);
            self.s.batches[i].is_final = true;
            *self.s.l1_balances.entry(poster).or_default() += self.s.config.bond as u128;
            for (a, amount) in withdrawals {
                *self.s.l1_balances.entry(a).or_default() += amount as u128;
            }
            done.push(number);
        }
        done
    }

    fn post_batch_inner(
        &mut self,
        poster: L1Address,
        s: &OptimisticSubmission,
    ) -> Result<u64, PostError> {
        self.finalize_inner();
        let expected = self.s.batches.len() as u64 + 1;
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
        if slots.len() != self.s.params.batch_size {
            return Err(Rejection::MalformedPublicData(format!(
                "{} slots, the circuit has {}",
                slots.len(),
                self.s.params.batch_size
            ))
            .into());
        }
        // Every index must address the tree: a step at an index outside it has no Merkle path,
        // so no fraud proof could show it wrong (the circuit refuses it through the path bits).
        let capacity = self.s.params.capacity();
        if let Some((i, slot)) = slots
            .iter()
            .enumerate()
            .find(|(_, d)| d.from >= capacity || d.to >= capacity)
        {
            return Err(PostError::Malformed(format!(
                "slot {i}: account {} is outside the tree of {capacity} accounts",
                slot.from.max(slot.to)
            )));
        }
        let requests = consumed_requests(&self.s.queue, &slots)?;
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
        let bond = self.s.config.bond;
        self.debit(poster, bond)
            .map_err(|balance| PostError::NoBond {
                poster,
                balance,
                bond,
            })?;
        for _ in &requests {
            self.s.queue.pop_front();
        }
        self.s.batches.push(PostedBatch {
            number: s.number,
            old_root,
            new_root,
            withdrawals: l1_payouts(&slots),
            slots,
            signatures: s.signatures.clone(),
            step_roots,
            poster,
            posted_at: self.now(),
            requests,
            is_final: false,
        });
        Ok(s.number)
    }

    fn challenge_inner(
        &mut self,
        challenger: L1Address,
        number: u64,
        step: StepIndex,
        witness: &StepWitness,
    ) -> Result<FraudProven, ChallengeError> {
        self.finalize_inner();
        let now = self.now();
        let pos = self
            .s
            .batches
            .iter()
            .position(|b| b.number == number)
            .ok_or(ChallengeError::NoSuchBatch(number))?;
        let b = &self.s.batches[pos];
        if b.is_final {
            return Err(ChallengeError::Final {
                number,
                until: b.challengeable_until(self.s.config.challenge_window_s),
                now,
            });
        }
        let (pre, posted_post) = b
            .step_bounds(step)
            .ok_or(ChallengeError::NoSuchStep { number, step })?;
        let outcome = match (step, witness) {
            (StepIndex::Slot(i), StepWitness::Slot(w)) => execute_slot(
                &self.s.params,
                self.s.genesis.chain_id,
                pre,
                &b.slots[i],
                b.signatures[i]
                    .as_ref()
                    .map(SignatureWitness::from)
                    .as_ref(),
                w,
            )?,
            (StepIndex::Fees, StepWitness::Fees(op)) => {
                let fees = b.slots.iter().map(|s| s.fee as u128).sum();
                execute_fees(&self.s.params, pre, fees, op)?
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
        let reverted: Vec<PostedBatch> = self.s.batches.drain(pos..).collect();
        for r in reverted.iter().rev() {
            for q in r.requests.iter().rev() {
                self.s.queue.push_front(*q);
            }
        }
        let reward = self.s.config.bond as u128 * reverted.len() as u128 / 2;
        *self.s.l1_balances.entry(challenger).or_default() += reward;
        let proven = FraudProven {
            number,
            step,
            violation,
            reverted: reverted.iter().map(|r| r.number).collect(),
            reward,
        };
        self.s.frauds.push(proven.clone());
        Ok(proven)
    }

    /// Credits `amount` to `to` (the local faucet).
    pub fn mint(&mut self, to: L1Address, amount: u64) -> Result<(), String> {
        self.transact(|l1| l1.mint_inner(to, amount), |e| e)
    }

    /// Queues a deposit of `amount` from `from`'s L1 balance to the L2 key `pubkey`; returns
    /// its id.
    pub fn deposit(
        &mut self,
        from: L1Address,
        pubkey: PublicKey,
        amount: u64,
    ) -> Result<u64, crate::DepositError> {
        self.transact(
            |l1| l1.deposit_inner(from, pubkey, amount),
            crate::DepositError::Storage,
        )
    }

    /// Makes final every pending batch whose window has passed (in order: a batch is final only
    /// after the one before it), crediting its withdrawals and returning its bond; returns
    /// their numbers.
    pub fn finalize(&mut self) -> Result<Vec<u64>, String> {
        // The common case (every request of the service asks) is that nothing is due: answer
        // it without copying the state.
        let now = self.now();
        let window = self.s.config.challenge_window_s;
        let due = self
            .s
            .batches
            .iter()
            .find(|b| !b.is_final)
            .is_some_and(|b| now > b.challengeable_until(window));
        if !due {
            return Ok(Vec::new());
        }
        self.transact(|l1| Ok(l1.finalize_inner()), |e| e)
    }

    /// Posts a batch from `poster`, locking the bond. Checked: the number is the next one, the
    /// roots are canonical and the old root is the head root, the public data decodes into the
    /// circuit's number of slots, the deposits and full exits are the next requests of the
    /// queue, every account index lies in the tree, a signature accompanies exactly the
    /// transfers and withdrawals, and there is one root per slot. Not checked: anything that needs executing the batch — that is what
    /// challenges are for.
    pub fn post_batch(
        &mut self,
        poster: L1Address,
        s: &OptimisticSubmission,
    ) -> Result<u64, PostError> {
        self.transact(|l1| l1.post_batch_inner(poster, s), PostError::Storage)
    }

    /// A one-step fraud proof against batch `number` at `step`, from `challenger`. If the step
    /// breaks a rule or ends elsewhere than posted, the batch and all after it are reverted,
    /// their requests return to the queue, and their bonds are forfeited: half to the
    /// challenger, half burned.
    pub fn challenge(
        &mut self,
        challenger: L1Address,
        number: u64,
        step: StepIndex,
        witness: &StepWitness,
    ) -> Result<FraudProven, ChallengeError> {
        self.transact(
            |l1| l1.challenge_inner(challenger, number, step, witness),
            ChallengeError::Storage,
        )
    }

    /// Runs `f` on the state; keeps its changes only if it succeeds and they persist.
    fn transact<T, E>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
        storage: impl FnOnce(String) -> E,
    ) -> Result<T, E> {
        let before = self.s.clone();
        let out = f(self).and_then(|v| {
            if self.s == before {
                return Ok(v);
            }
            crate::contract::write_atomically(self.path.as_deref(), &self.s)
                .map(|()| v)
                .map_err(storage)
        });
        if out.is_err() {
            self.s = before;
        }
        out
    }

    /// The whole state (what is persisted).
    pub fn state(&self) -> &OptimisticState {
        &self.s
    }

    /// Opens the optimistic L1 persisted at `path`, or deploys it there. A stored one must have
    /// the same shape and configuration (and `operator`, when given); a new one needs
    /// `operator` (the operator's L2 key and L1 address: account 0's from genesis) and draws its
    /// chain id from the operating system's randomness, as [`crate::L1Contract::open`] does. No
    /// other process may have it open (an exclusive lock on `path` + `.lock`).
    pub fn open(
        path: &Path,
        params: CircuitParams,
        operator: Option<(PublicKey, L1Address)>,
        config: OptimisticConfig,
    ) -> Result<Self, crate::L1Error> {
        use crate::L1Error;
        let lock = crate::contract::lock_beside(path)?;
        let mut l1 = match fs::read(path) {
            Ok(bytes) => {
                let s: OptimisticState =
                    serde_json::from_slice(&bytes).map_err(|e| L1Error::Corrupt {
                        path: path.into(),
                        reason: e.to_string(),
                    })?;
                if s.params != params || s.config != config {
                    return Err(L1Error::KeyMismatch {
                        path: path.into(),
                        reason: format!(
                            "stored {:?} and {:?}, opened with {:?} and {:?}",
                            s.params, s.config, params, config
                        ),
                    });
                }
                let stored = (s.genesis.operator, s.genesis.operator_l1);
                if let Some(given) = operator.filter(|o| *o != stored) {
                    return Err(L1Error::OperatorMismatch {
                        path: path.into(),
                        stored: format!("{:?}", stored),
                        given: format!("{:?}", given),
                    });
                }
                let mut l1 = Self::new(params, s.genesis, config);
                l1.s = s;
                l1
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let Some((operator, operator_l1)) = operator else {
                    return Err(L1Error::NoOperator { path: path.into() });
                };
                let genesis = Genesis {
                    chain_id: crate::contract::random_chain_id()?,
                    operator,
                    operator_l1,
                };
                let l1 = Self::new(params, genesis, config);
                crate::contract::write_atomically(Some(path), &l1.s).map_err(|e| L1Error::Io {
                    path: path.into(),
                    source: std::io::Error::other(e),
                })?;
                l1
            }
            Err(source) => {
                return Err(L1Error::Io {
                    path: path.into(),
                    source,
                })
            }
        };
        l1.path = Some(path.to_path_buf());
        l1._lock = Some(std::sync::Arc::new(lock));
        Ok(l1)
    }
}

//! The rollup state and its pure, checked state transition.
//!
//! [`State::apply_batch`] is a pure function: it takes a state, a list of transactions and a view
//! of the L1 priority queue (deposits and full exits), and returns the next state, the public data, the public inputs and
//! the full circuit witness — or a typed [`TransitionError`] naming the first invalid
//! transaction. The input state is never modified. The batch circuit mirrors it rule by rule.

use crate::account::{Account, AccountLeaf};
use crate::eddsa::PublicKey;
use crate::genesis::Genesis;
use crate::merkle::{MerkleError, SparseMerkleTree};
use crate::params::{CircuitParams, OPERATOR_INDEX};
use crate::public::PublicInputs;
use crate::tx::{L1Address, PriorityOp, SlotData, Tx, TxType};
use crate::witness::{BatchWitness, SlotTx, WitnessBuilder};
use crate::Fr;
use ark_ff::Zero;
use std::collections::{BTreeMap, HashMap};

/// Why a batch is invalid. Slot numbers count from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// More transactions than the circuit has slots.
    #[error("{got} transactions do not fit a batch of {max} slots")]
    TooManyTransactions {
        /// Number given.
        got: usize,
        /// Batch size.
        max: usize,
    },
    /// An index beyond the tree.
    #[error("slot {slot}: account index {index} is outside the tree (2^{depth} accounts)")]
    IndexOutOfRange {
        /// Slot.
        slot: usize,
        /// Index.
        index: u64,
        /// Tree depth.
        depth: u32,
    },
    /// No account at this index.
    #[error("slot {slot}: unknown account {index}")]
    UnknownAccount {
        /// Slot.
        slot: usize,
        /// Index.
        index: u64,
    },
    /// The signature does not verify under the sender's key.
    #[error("slot {slot}: bad signature for account {index}")]
    BadSignature {
        /// Slot.
        slot: usize,
        /// Sender.
        index: u64,
    },
    /// The nonce is not the sender's current nonce.
    #[error("slot {slot}: bad nonce for account {index}: expected {expected}, got {got}")]
    BadNonce {
        /// Slot.
        slot: usize,
        /// Sender.
        index: u64,
        /// Current nonce.
        expected: u32,
        /// Signed nonce.
        got: u32,
    },
    /// The sender's nonce is at its maximum.
    #[error("slot {slot}: account {index} has used all its nonces")]
    NonceOverflow {
        /// Slot.
        slot: usize,
        /// Sender.
        index: u64,
    },
    /// The balance does not cover amount + fee.
    #[error("slot {slot}: account {index} has {balance}, needs {needed}")]
    InsufficientBalance {
        /// Slot.
        slot: usize,
        /// Sender.
        index: u64,
        /// Balance.
        balance: u64,
        /// amount + fee (saturated).
        needed: u128,
    },
    /// A balance would exceed `u64::MAX`.
    #[error("slot {slot}: balance of account {index} would overflow")]
    BalanceOverflow {
        /// Slot (`batch_size` for the operator's fee credit).
        slot: usize,
        /// Account.
        index: u64,
    },
    /// The batch's fees exceed `u64::MAX`.
    #[error("slot {slot}: the batch's fees overflow")]
    FeeOverflow {
        /// Slot.
        slot: usize,
    },
    /// A deposit or full exit that is not the next request of the L1 queue.
    #[error("slot {slot}: not the next request of the L1 queue (expected {expected:?})")]
    PriorityOutOfOrder {
        /// Slot.
        slot: usize,
        /// The queue's next request, if any.
        expected: Option<PriorityOp>,
    },
    /// No free index is left for a new account.
    #[error("slot {slot}: the account tree is full")]
    TreeFull {
        /// Slot.
        slot: usize,
    },
    /// Fees were collected but the operator account does not exist.
    #[error("fees were collected but the operator account {OPERATOR_INDEX} does not exist")]
    OperatorMissing,
    /// Internal inconsistency (a bug): the witness disagrees with the typed state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<MerkleError> for TransitionError {
    fn from(e: MerkleError) -> Self {
        TransitionError::Internal(e.to_string())
    }
}

/// The L2 state: accounts and the tree over them.
#[derive(Debug, Clone)]
pub struct State {
    params: CircuitParams,
    chain_id: u64,
    tree: SparseMerkleTree,
    accounts: BTreeMap<u64, Account>,
    by_key: HashMap<PublicKey, u64>,
}

/// A serializable picture of a state: its parameters and accounts (the tree is rebuilt).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSnapshot {
    /// Circuit parameters.
    pub params: CircuitParams,
    /// The deployment's chain id.
    pub chain_id: u64,
    /// Accounts by index.
    pub accounts: Vec<IndexedAccount>,
}

/// An account with its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedAccount {
    /// Index in the tree.
    pub index: u64,
    /// The account.
    #[serde(flatten)]
    pub account: Account,
}

/// Why a snapshot cannot be a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Bad parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamsError),
    /// Index out of range.
    #[error("account index {0} is outside the tree")]
    IndexOutOfRange(u64),
    /// Two accounts at one index.
    #[error("duplicate account index {0}")]
    Duplicate(u64),
}

/// The result of a valid batch.
#[derive(Debug, Clone)]
pub struct BatchOutput {
    /// The state after the batch.
    pub state: State,
    /// The circuit witness.
    pub witness: BatchWitness,
    /// The public data, one entry per slot (noops included).
    pub public_data: Vec<SlotData>,
    /// The proof's public inputs.
    pub public: PublicInputs,
    /// How many requests of the L1 priority queue (deposits, full exits) the batch consumed.
    pub priority_consumed: usize,
    /// What the L1 credits once the batch is verified: withdrawals and full exits paid.
    pub withdrawals: Vec<(L1Address, u64)>,
    /// Fees credited to the operator.
    pub fees: u64,
}

impl State {
    /// The state a deployment starts from: the operator's account at index
    /// [`OPERATOR_INDEX`] and nothing else ([`crate::genesis`]).
    pub fn genesis(params: CircuitParams, genesis: &Genesis) -> Self {
        let mut state = Self::empty(params, genesis.chain_id);
        state
            .set(OPERATOR_INDEX, genesis.operator_account())
            .expect("index 0 is in every tree");
        state
    }

    /// A state without any account (the base of [`State::genesis`] and of snapshots).
    fn empty(params: CircuitParams, chain_id: u64) -> Self {
        Self {
            params,
            chain_id,
            tree: SparseMerkleTree::new(params.depth),
            accounts: BTreeMap::new(),
            by_key: HashMap::new(),
        }
    }

    /// Rebuilds a state from a snapshot (validating indices). One key may own several accounts
    /// (a deposit that would overflow its account opens another).
    pub fn from_snapshot(s: &StateSnapshot) -> Result<Self, SnapshotError> {
        s.params.validate()?;
        let mut state = State::empty(s.params, s.chain_id);
        for a in &s.accounts {
            if a.index >= s.params.capacity() {
                return Err(SnapshotError::IndexOutOfRange(a.index));
            }
            if state.accounts.contains_key(&a.index) {
                return Err(SnapshotError::Duplicate(a.index));
            }
            state
                .set(a.index, a.account)
                .map_err(|_| SnapshotError::IndexOutOfRange(a.index))?;
        }
        Ok(state)
    }

    /// A snapshot of this state.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            params: self.params,
            chain_id: self.chain_id,
            accounts: self
                .accounts
                .iter()
                .map(|(i, a)| IndexedAccount {
                    index: *i,
                    account: *a,
                })
                .collect(),
        }
    }

    /// The circuit parameters this state is for.
    pub fn params(&self) -> &CircuitParams {
        &self.params
    }

    /// The deployment's chain id, which every signature binds.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The state root.
    pub fn root(&self) -> Fr {
        self.tree.root()
    }

    /// The account at `index`.
    pub fn account(&self, index: u64) -> Option<&Account> {
        self.accounts.get(&index)
    }

    /// All accounts, by index.
    pub fn accounts(&self) -> &BTreeMap<u64, Account> {
        &self.accounts
    }

    /// The index of an account owned by `pubkey` (the most recently written one, if several).
    pub fn index_of(&self, pubkey: &PublicKey) -> Option<u64> {
        self.by_key.get(pubkey).copied()
    }

    /// The index a deposit of `amount` for `pubkey` goes to: the key's account if it can take
    /// the amount without overflowing, else the lowest empty index (so an overflowing deposit
    /// opens a second account instead of blocking the L1 queue). `None` when the tree is full.
    pub fn deposit_index(&self, pubkey: &PublicKey, amount: u64) -> Option<u64> {
        if let Some(i) = self.index_of(pubkey) {
            if self.accounts[&i].balance.checked_add(amount).is_some() {
                return Some(i);
            }
        }
        self.lowest_free_index()
    }

    /// The lowest index without an account. Accounts need not be contiguous: anyone holding the
    /// proving key may submit batches, and the circuit accepts a deposit to any empty leaf.
    pub fn lowest_free_index(&self) -> Option<u64> {
        let mut next = 0u64;
        for &i in self.accounts.keys() {
            if i != next {
                break;
            }
            next += 1;
        }
        (next < self.params.capacity()).then_some(next)
    }

    fn set(&mut self, index: u64, account: Account) -> Result<(), MerkleError> {
        self.tree.set(index, account.leaf().hash())?;
        self.by_key.insert(account.pubkey, index);
        self.accounts.insert(index, account);
        Ok(())
    }

    /// The authentication path of account `index` under [`State::root`] (what an owner presents
    /// to the L1 in exodus mode).
    pub fn proof(&self, index: u64) -> Result<crate::merkle::MerkleProof, MerkleError> {
        self.tree.proof(index)
    }

    /// A witness builder positioned at this state (for building batches by hand, e.g. in
    /// soundness tests).
    pub fn witness_builder(&self) -> WitnessBuilder {
        let leaves: HashMap<u64, AccountLeaf> =
            self.accounts.iter().map(|(i, a)| (*i, a.leaf())).collect();
        WitnessBuilder::new(self.params, self.chain_id, self.tree.clone(), leaves)
    }

    /// Applies a batch: validates every transaction in order, pads with noops, credits fees,
    /// and returns the next state with its witness. `queue` is the L1's priority queue (pending
    /// deposits and full exits), oldest first; deposit and full-exit transactions must consume
    /// it in order.
    pub fn apply_batch(
        &self,
        txs: &[Tx],
        queue: &[PriorityOp],
    ) -> Result<BatchOutput, TransitionError> {
        let p = self.params;
        if txs.len() > p.batch_size {
            return Err(TransitionError::TooManyTransactions {
                got: txs.len(),
                max: p.batch_size,
            });
        }
        let mut next = self.clone();
        let leaves: HashMap<u64, AccountLeaf> =
            self.accounts.iter().map(|(i, a)| (*i, a.leaf())).collect();
        let mut builder = WitnessBuilder::new(p, self.chain_id, self.tree.clone(), leaves);
        let mut public_data = Vec::with_capacity(p.batch_size);
        let mut priority_consumed = 0;
        let mut withdrawals = Vec::new();
        let mut fees: u64 = 0;

        for (slot, tx) in txs.iter().enumerate() {
            let in_range = |index: u64| {
                if index >= p.capacity() {
                    Err(TransitionError::IndexOutOfRange {
                        slot,
                        index,
                        depth: p.depth,
                    })
                } else {
                    Ok(())
                }
            };
            if let Some(op) = tx.priority_op() {
                let expected = queue.get(priority_consumed);
                if expected != Some(&op) {
                    return Err(TransitionError::PriorityOutOfOrder {
                        slot,
                        expected: expected.copied(),
                    });
                }
                priority_consumed += 1;
            }
            let (data, slot_tx) = match tx {
                Tx::Noop => (SlotData::NOOP, SlotTx::noop()),
                Tx::Transfer(t) => {
                    in_range(t.from)?;
                    in_range(t.to)?;
                    if !next.accounts.contains_key(&t.to) {
                        return Err(TransitionError::UnknownAccount { slot, index: t.to });
                    }
                    let sender = next.debit(
                        slot,
                        t.from,
                        t.amount,
                        t.fee,
                        t.nonce,
                        t.message(self.chain_id),
                        &t.signature,
                    )?;
                    next.set(t.from, sender)?;
                    next.credit(slot, t.to, t.amount)?;
                    fees = fees
                        .checked_add(t.fee)
                        .ok_or(TransitionError::FeeOverflow { slot })?;
                    let data = SlotData {
                        tx_type: TxType::Transfer,
                        from: t.from,
                        to: t.to,
                        amount: t.amount,
                        fee: t.fee,
                        aux_x: Fr::zero(),
                        aux_y: Fr::zero(),
                        requester: Fr::zero(),
                    };
                    (data, SlotTx::transfer(t))
                }
                Tx::Withdraw(w) => {
                    in_range(w.from)?;
                    let sender = next.debit(
                        slot,
                        w.from,
                        w.amount,
                        w.fee,
                        w.nonce,
                        w.message(self.chain_id),
                        &w.signature,
                    )?;
                    next.set(w.from, sender)?;
                    fees = fees
                        .checked_add(w.fee)
                        .ok_or(TransitionError::FeeOverflow { slot })?;
                    withdrawals.push((w.l1_address, w.amount));
                    let data = SlotData {
                        tx_type: TxType::Withdraw,
                        from: w.from,
                        to: 0,
                        amount: w.amount,
                        fee: w.fee,
                        aux_x: w.l1_address.to_field(),
                        aux_y: Fr::zero(),
                        requester: Fr::zero(),
                    };
                    (data, SlotTx::withdraw(w))
                }
                Tx::FullExit(f) => {
                    in_range(f.account)?;
                    let amount = match next.accounts.get(&f.account) {
                        Some(a) if a.owner == f.requester => a.balance,
                        _ => 0,
                    };
                    if amount > 0 {
                        let mut a = next.accounts[&f.account];
                        a.balance = 0;
                        next.set(f.account, a)?;
                        withdrawals.push((f.requester, amount));
                    }
                    let data = SlotData {
                        tx_type: TxType::FullExit,
                        from: f.account,
                        to: 0,
                        amount,
                        fee: 0,
                        aux_x: Fr::zero(),
                        aux_y: Fr::zero(),
                        requester: f.requester.to_field(),
                    };
                    (data, SlotTx::full_exit(f, amount))
                }
                Tx::Deposit(d) => {
                    let index = next
                        .deposit_index(&d.pubkey, d.amount)
                        .ok_or(TransitionError::TreeFull { slot })?;
                    let mut account = next.accounts.get(&index).copied().unwrap_or(Account {
                        pubkey: d.pubkey,
                        balance: 0,
                        nonce: 0,
                        owner: d.from,
                    });
                    account.balance = account
                        .balance
                        .checked_add(d.amount)
                        .ok_or(TransitionError::BalanceOverflow { slot, index })?;
                    next.set(index, account)?;
                    let data = SlotData {
                        tx_type: TxType::Deposit,
                        from: 0,
                        to: index,
                        amount: d.amount,
                        fee: 0,
                        aux_x: d.pubkey.x(),
                        aux_y: d.pubkey.y(),
                        requester: d.from.to_field(),
                    };
                    (data, SlotTx::deposit(d, index))
                }
            };
            builder.push(slot_tx)?;
            public_data.push(data);
        }
        public_data.resize(p.batch_size, SlotData::NOOP);

        next.credit_fees(fees, p.batch_size)?;

        let (witness, tree) = builder.finish()?;
        if tree.root() != next.tree.root() {
            return Err(TransitionError::Internal(
                "witness root differs from the typed state's root".into(),
            ));
        }
        let public = witness.public.clone();
        Ok(BatchOutput {
            state: next,
            witness,
            public_data,
            public,
            priority_consumed,
            withdrawals,
            fees,
        })
    }

    /// Replays a batch from its public data alone — no signatures, no witness — as anyone can
    /// from the L1's data-availability record. Deposits carry their key and index, transfers
    /// and withdrawals their indices, amounts and fees; each sender's nonce goes up by one and
    /// the fees go to the operator. Data the L1 accepted always replays; anything else is a
    /// typed error.
    pub fn replay(&self, slots: &[SlotData]) -> Result<State, TransitionError> {
        let mut next = self.clone();
        let mut fees: u64 = 0;
        for (slot, d) in slots.iter().enumerate() {
            match d.tx_type {
                TxType::Noop => {}
                TxType::Deposit => {
                    let pubkey = PublicKey::from_coordinates(d.aux_x, d.aux_y).map_err(|e| {
                        TransitionError::Internal(format!("slot {slot}: deposit key: {e}"))
                    })?;
                    let owner = L1Address::from_field(&d.requester).ok_or_else(|| {
                        TransitionError::Internal(format!(
                            "slot {slot}: the deposit's payer is not an L1 address"
                        ))
                    })?;
                    let mut a = next.accounts.get(&d.to).copied().unwrap_or(Account {
                        pubkey,
                        balance: 0,
                        nonce: 0,
                        owner,
                    });
                    if a.pubkey != pubkey {
                        return Err(TransitionError::Internal(format!(
                            "slot {slot}: deposit into another key's account"
                        )));
                    }
                    a.balance = a
                        .balance
                        .checked_add(d.amount)
                        .ok_or(TransitionError::BalanceOverflow { slot, index: d.to })?;
                    next.set(d.to, a)?;
                }
                TxType::FullExit => {
                    if d.amount > 0 {
                        let mut a =
                            *next
                                .accounts
                                .get(&d.from)
                                .ok_or(TransitionError::UnknownAccount {
                                    slot,
                                    index: d.from,
                                })?;
                        if a.balance != d.amount || a.owner.to_field() != d.requester {
                            return Err(TransitionError::Internal(format!(
                                "slot {slot}: a full exit pays the owner's whole balance"
                            )));
                        }
                        a.balance = 0;
                        next.set(d.from, a)?;
                    }
                }
                TxType::Transfer | TxType::Withdraw => {
                    let mut a =
                        *next
                            .accounts
                            .get(&d.from)
                            .ok_or(TransitionError::UnknownAccount {
                                slot,
                                index: d.from,
                            })?;
                    let needed = d.amount as u128 + d.fee as u128;
                    if needed > a.balance as u128 {
                        return Err(TransitionError::InsufficientBalance {
                            slot,
                            index: d.from,
                            balance: a.balance,
                            needed,
                        });
                    }
                    a.balance -= needed as u64;
                    a.nonce = a
                        .nonce
                        .checked_add(1)
                        .ok_or(TransitionError::NonceOverflow {
                            slot,
                            index: d.from,
                        })?;
                    next.set(d.from, a)?;
                    if d.tx_type == TxType::Transfer {
                        next.credit(slot, d.to, d.amount)?;
                    }
                    fees = fees
                        .checked_add(d.fee)
                        .ok_or(TransitionError::FeeOverflow { slot })?;
                }
            }
        }
        next.credit_fees(fees, slots.len())?;
        Ok(next)
    }

    /// Credits a batch's fees to the operator's account (`slot` names the end of the batch in
    /// errors).
    fn credit_fees(&mut self, fees: u64, slot: usize) -> Result<(), TransitionError> {
        if fees == 0 {
            return Ok(());
        }
        if !self.accounts.contains_key(&OPERATOR_INDEX) {
            return Err(TransitionError::OperatorMissing);
        }
        self.credit(slot, OPERATOR_INDEX, fees)
    }

    /// Adds `amount` to an existing account, refusing a `u64` overflow.
    fn credit(&mut self, slot: usize, index: u64, amount: u64) -> Result<(), TransitionError> {
        let mut a = *self
            .accounts
            .get(&index)
            .ok_or(TransitionError::UnknownAccount { slot, index })?;
        a.balance = a
            .balance
            .checked_add(amount)
            .ok_or(TransitionError::BalanceOverflow { slot, index })?;
        self.set(index, a)?;
        Ok(())
    }

    /// Checks and applies the sender side of a transfer or withdrawal; returns the new sender.
    #[allow(clippy::too_many_arguments)]
    fn debit(
        &self,
        slot: usize,
        index: u64,
        amount: u64,
        fee: u64,
        nonce: u32,
        msg: Fr,
        sig: &crate::eddsa::Signature,
    ) -> Result<Account, TransitionError> {
        let mut a = *self
            .accounts
            .get(&index)
            .ok_or(TransitionError::UnknownAccount { slot, index })?;
        if !a.pubkey.verify(msg, sig) {
            return Err(TransitionError::BadSignature { slot, index });
        }
        if nonce != a.nonce {
            return Err(TransitionError::BadNonce {
                slot,
                index,
                expected: a.nonce,
                got: nonce,
            });
        }
        a.nonce = a
            .nonce
            .checked_add(1)
            .ok_or(TransitionError::NonceOverflow { slot, index })?;
        let needed = amount as u128 + fee as u128;
        if needed > a.balance as u128 {
            return Err(TransitionError::InsufficientBalance {
                slot,
                index,
                balance: a.balance,
                needed,
            });
        }
        a.balance -= needed as u64;
        Ok(a)
    }
}

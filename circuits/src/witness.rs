//! The batch witness: every value the circuit reads, and the builder that computes it.
//!
//! [`WitnessBuilder`] applies slots *mechanically*, in field arithmetic, exactly as the circuit
//! computes them, with no validity checks: it subtracts without looking at the balance, credits
//! without looking for overflow, and records any signature it is given. The checked native
//! transition ([`crate::state::State::apply_batch`]) validates each transaction first and then
//! drives this builder; soundness tests drive it directly with transactions that break a rule,
//! so the rest of the witness stays consistent and only that rule's constraints can fail.

use crate::account::AccountLeaf;
use crate::eddsa::SignatureWitness;
use crate::merkle::{MerkleError, PathWitness, SparseMerkleTree};
use crate::params::{CircuitParams, OPERATOR_INDEX};
use crate::public::{aux_step, enters_aux_chain, PublicInputs};
use crate::tx::{pack_raw, Deposit, FullExit, Transfer, TxType, Withdraw};
use crate::Fr;
use ark_ff::{One, Zero};
use std::collections::HashMap;

/// A leaf before its update, with its authentication path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafWitness {
    /// The leaf's fields before the update.
    pub leaf: AccountLeaf,
    /// Its path under the running root.
    pub path: PathWitness,
}

/// One slot's transaction, as raw field elements (indices as integers, to address the tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTx {
    /// Slot type.
    pub tx_type: TxType,
    /// Sender index (0 for deposits and noops).
    pub from: u64,
    /// Receiver index (0 for withdrawals and noops).
    pub to: u64,
    /// Amount.
    pub amount: Fr,
    /// Fee.
    pub fee: Fr,
    /// The nonce the sender signed.
    pub nonce: Fr,
    /// Deposit key x or withdrawal address.
    pub aux_x: Fr,
    /// Deposit key y.
    pub aux_y: Fr,
    /// The L1 address that queued a deposit or a full exit.
    pub requester: Fr,
    /// Signature (placeholder for unsigned types).
    pub signature: SignatureWitness,
}

impl SlotTx {
    /// The padding slot.
    pub fn noop() -> Self {
        Self {
            tx_type: TxType::Noop,
            from: 0,
            to: 0,
            amount: Fr::zero(),
            fee: Fr::zero(),
            nonce: Fr::zero(),
            aux_x: Fr::zero(),
            aux_y: Fr::zero(),
            requester: Fr::zero(),
            signature: SignatureWitness::unused(),
        }
    }

    /// The slot for a signed transfer.
    pub fn transfer(t: &Transfer) -> Self {
        Self {
            tx_type: TxType::Transfer,
            from: t.from,
            to: t.to,
            amount: Fr::from(t.amount),
            fee: Fr::from(t.fee),
            nonce: Fr::from(t.nonce),
            aux_x: Fr::zero(),
            aux_y: Fr::zero(),
            requester: Fr::zero(),
            signature: (&t.signature).into(),
        }
    }

    /// The slot for a signed withdrawal.
    pub fn withdraw(w: &Withdraw) -> Self {
        Self {
            tx_type: TxType::Withdraw,
            from: w.from,
            to: 0,
            amount: Fr::from(w.amount),
            fee: Fr::from(w.fee),
            nonce: Fr::from(w.nonce),
            aux_x: w.l1_address.to_field(),
            aux_y: Fr::zero(),
            requester: Fr::zero(),
            signature: (&w.signature).into(),
        }
    }

    /// The slot for a deposit credited to account `index`.
    pub fn deposit(d: &Deposit, index: u64) -> Self {
        Self {
            tx_type: TxType::Deposit,
            from: 0,
            to: index,
            amount: Fr::from(d.amount),
            fee: Fr::zero(),
            nonce: Fr::zero(),
            aux_x: d.pubkey.x(),
            aux_y: d.pubkey.y(),
            requester: d.from.to_field(),
            signature: SignatureWitness::unused(),
        }
    }

    /// The slot for a full exit paying `amount` (the account's balance when the requester owns
    /// it, else 0).
    pub fn full_exit(f: &FullExit, amount: u64) -> Self {
        Self {
            tx_type: TxType::FullExit,
            from: f.account,
            to: 0,
            amount: Fr::from(amount),
            fee: Fr::zero(),
            nonce: Fr::zero(),
            aux_x: Fr::zero(),
            aux_y: Fr::zero(),
            requester: f.requester.to_field(),
            signature: SignatureWitness::unused(),
        }
    }

    /// Whether this slot debits its sender (transfer or withdrawal).
    pub fn sends(&self) -> bool {
        matches!(self.tx_type, TxType::Transfer | TxType::Withdraw)
    }

    /// The packed public-data element.
    pub fn packed(&self) -> Fr {
        pack_raw(
            self.tx_type,
            Fr::from(self.from),
            Fr::from(self.to),
            self.amount,
            self.fee,
        )
    }
}

/// The rule-following effect on the sender: `balance -= amount + fee` and `nonce += 1` for
/// transfers and withdrawals; `balance -= amount` for a full exit; nothing otherwise.
pub fn sender_effect(tx: &SlotTx, leaf: AccountLeaf) -> AccountLeaf {
    if tx.tx_type == TxType::FullExit {
        return AccountLeaf {
            balance: leaf.balance - tx.amount,
            ..leaf
        };
    }
    if !tx.sends() {
        return leaf;
    }
    AccountLeaf {
        balance: leaf.balance - tx.amount - tx.fee,
        nonce: leaf.nonce + Fr::one(),
        ..leaf
    }
}

/// The rule-following effect on the receiver: `balance += amount` for transfers and deposits,
/// and a deposit writes its key, and its payer as the owner when it creates the account.
pub fn receiver_effect(tx: &SlotTx, leaf: AccountLeaf) -> AccountLeaf {
    match tx.tx_type {
        TxType::Transfer => AccountLeaf {
            balance: leaf.balance + tx.amount,
            ..leaf
        },
        TxType::Deposit => AccountLeaf {
            pk_x: tx.aux_x,
            pk_y: tx.aux_y,
            balance: leaf.balance + tx.amount,
            nonce: leaf.nonce,
            owner: if leaf.is_empty() {
                tx.requester
            } else {
                leaf.owner
            },
        },
        TxType::Noop | TxType::Withdraw | TxType::FullExit => leaf,
    }
}

/// Everything the circuit reads for one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWitness {
    /// Slot type.
    pub tx_type: TxType,
    /// Sender index.
    pub from: Fr,
    /// Receiver index.
    pub to: Fr,
    /// Amount.
    pub amount: Fr,
    /// Fee.
    pub fee: Fr,
    /// Signed nonce.
    pub nonce: Fr,
    /// Deposit key x or withdrawal address.
    pub aux_x: Fr,
    /// Deposit key y.
    pub aux_y: Fr,
    /// The L1 address that queued a deposit or a full exit.
    pub requester: Fr,
    /// Signature.
    pub signature: SignatureWitness,
    /// The sender's leaf and path before the slot.
    pub sender: LeafWitness,
    /// The receiver's leaf and path after the sender's update.
    pub receiver: LeafWitness,
}

/// Everything the batch circuit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchWitness {
    /// The circuit shape.
    pub params: CircuitParams,
    /// The deployment's chain id: checked in every signature, and the aux chain's start.
    pub chain_id: Fr,
    /// Root before the batch.
    pub old_root: Fr,
    /// The slots, exactly `params.batch_size` of them.
    pub slots: Vec<SlotWitness>,
    /// The operator's leaf and path before the fees are credited.
    pub operator: LeafWitness,
    /// The public values the builder computed (the proof's public inputs).
    pub public: PublicInputs,
}

impl BatchWitness {
    /// The proof's public inputs (see [`crate::public`]).
    pub fn public_inputs(&self) -> Vec<Fr> {
        self.public.to_vec()
    }
}

/// Builds a [`BatchWitness`] slot by slot (see the module docs).
#[derive(Debug, Clone)]
pub struct WitnessBuilder {
    params: CircuitParams,
    chain_id: Fr,
    tree: SparseMerkleTree,
    leaves: HashMap<u64, AccountLeaf>,
    old_root: Fr,
    slots: Vec<SlotWitness>,
    packed: Vec<Fr>,
    aux_chain: Fr,
    fee_total: Fr,
}

impl WitnessBuilder {
    /// Starts from a tree and its non-empty leaves, on the deployment `chain_id`.
    pub fn new(
        params: CircuitParams,
        chain_id: u64,
        tree: SparseMerkleTree,
        leaves: HashMap<u64, AccountLeaf>,
    ) -> Self {
        let old_root = tree.root();
        let chain_id = Fr::from(chain_id);
        Self {
            params,
            chain_id,
            tree,
            leaves,
            old_root,
            slots: Vec::new(),
            packed: Vec::new(),
            aux_chain: chain_id,
            fee_total: Fr::zero(),
        }
    }

    /// The current leaf at `index`.
    pub fn leaf(&self, index: u64) -> AccountLeaf {
        self.leaves
            .get(&index)
            .copied()
            .unwrap_or(AccountLeaf::EMPTY)
    }

    /// The current root.
    pub fn root(&self) -> Fr {
        self.tree.root()
    }

    /// The current authentication path of `index`.
    pub fn proof(&self, index: u64) -> Result<crate::merkle::MerkleProof, MerkleError> {
        self.tree.proof(index)
    }

    /// The witness of the slot pushed last.
    pub fn last_slot(&self) -> Option<&SlotWitness> {
        self.slots.last()
    }

    fn update(
        &mut self,
        index: u64,
        f: impl FnOnce(AccountLeaf) -> AccountLeaf,
    ) -> Result<LeafWitness, MerkleError> {
        let leaf = self.leaf(index);
        let path = PathWitness::from_proof(&self.tree.proof(index)?);
        let new = f(leaf);
        self.tree.set(index, new.hash())?;
        if new == AccountLeaf::EMPTY {
            self.leaves.remove(&index);
        } else {
            self.leaves.insert(index, new);
        }
        Ok(LeafWitness { leaf, path })
    }

    /// Appends a slot with the rule-following effects.
    pub fn push(&mut self, tx: SlotTx) -> Result<(), MerkleError> {
        self.push_with(tx, sender_effect, receiver_effect)
    }

    /// Appends a slot with custom effects on the sender and the receiver (for tests that build
    /// a witness breaking one rule).
    pub fn push_with(
        &mut self,
        tx: SlotTx,
        sender: impl FnOnce(&SlotTx, AccountLeaf) -> AccountLeaf,
        receiver: impl FnOnce(&SlotTx, AccountLeaf) -> AccountLeaf,
    ) -> Result<(), MerkleError> {
        let s = self.update(tx.from, |l| sender(&tx, l))?;
        let r = self.update(tx.to, |l| receiver(&tx, l))?;
        self.packed.push(tx.packed());
        if enters_aux_chain(tx.tx_type) {
            self.aux_chain = aux_step(self.aux_chain, tx.aux_x, tx.aux_y, tx.requester);
        }
        self.fee_total += tx.fee;
        self.slots.push(SlotWitness {
            tx_type: tx.tx_type,
            from: Fr::from(tx.from),
            to: Fr::from(tx.to),
            amount: tx.amount,
            fee: tx.fee,
            nonce: tx.nonce,
            aux_x: tx.aux_x,
            aux_y: tx.aux_y,
            requester: tx.requester,
            signature: tx.signature,
            sender: s,
            receiver: r,
        });
        Ok(())
    }

    /// Number of slots so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no slot was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The fees collected so far.
    pub fn fee_total(&self) -> Fr {
        self.fee_total
    }

    /// Pads with noops, credits the fees to the operator, and returns the witness and the tree.
    pub fn finish(self) -> Result<(BatchWitness, SparseMerkleTree), MerkleError> {
        self.finish_with(|fees, leaf| AccountLeaf {
            balance: leaf.balance + fees,
            ..leaf
        })
    }

    /// [`Self::finish`] with a custom fee credit (for tests).
    pub fn finish_with(
        mut self,
        credit: impl FnOnce(Fr, AccountLeaf) -> AccountLeaf,
    ) -> Result<(BatchWitness, SparseMerkleTree), MerkleError> {
        while self.slots.len() < self.params.batch_size {
            self.push(SlotTx::noop())?;
        }
        let fees = self.fee_total;
        let operator = self.update(OPERATOR_INDEX, |l| credit(fees, l))?;
        let public = PublicInputs {
            old_root: self.old_root,
            new_root: self.tree.root(),
            aux_chain: self.aux_chain,
            packed: self.packed,
        };
        Ok((
            BatchWitness {
                params: self.params,
                chain_id: self.chain_id,
                old_root: self.old_root,
                slots: self.slots,
                operator,
                public,
            },
            self.tree,
        ))
    }
}

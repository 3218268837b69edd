//! One step of a batch, executed natively from the leaves it touches: the L1's half of a
//! one-step fraud proof.
//!
//! A batch is `B` slot steps and one fee step. Slot step `i` takes the root `R_i` to `R_{i+1}`
//! by the rules of [`crate::circuit`] (1–14, 6b, 11b) applied to one slot; the fee step credits
//! the sum of the fees to the operator's account (rule 15) and gives the batch's new root. An
//! optimistic rollup posts every intermediate root with the batch; a challenger who disagrees
//! with step `i` hands the L1 the leaves that step touches, each with its Merkle path under the
//! posted pre-root (the receiver's under the root after the sender's update), and the L1 runs
//! that one step here:
//!
//! - the witnesses must be genuine — each path leads from its leaf at the slot's index to the
//!   root it claims — or the challenge proves nothing ([`StepError`]);
//! - with genuine witnesses, the step either breaks a rule ([`StepOutcome::Invalid`]: the batch
//!   holds a transaction the circuit would refuse) or yields the honest post-root
//!   ([`StepOutcome::Valid`]), which the L1 compares with the posted one.
//!
//! Nothing here trusts the challenger beyond the paths: with the tree's hash collision
//! resistant, a path that verifies pins the leaf's true fields. This is the native twin of the
//! slot constraints ([`crate::circuit::slot`]) — the tests check that both refuse the same
//! witnesses — written over the posted slot ([`SlotData`]) instead of witness variables: the
//! encoding rules (2, 3, 13) hold already for any slot that decodes.

use crate::account::AccountLeaf;
use crate::eddsa::{verify_raw, SignatureWitness};
use crate::merkle::{level_bits, MerkleProof};
use crate::params::{CircuitParams, OPERATOR_INDEX};
use crate::tx::{signed_message, SlotData, TxType};
use crate::Fr;
use ark_ff::{BigInteger, PrimeField, Zero};
use serde::{Deserialize, Serialize};

/// A witness the step cannot use: it proves nothing about the batch either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A path for another index than the slot's, or of another shape than the tree's.
    #[error("the {which} path is for index {got}, of another shape, or outside the tree (expected index {expected})")]
    WrongPath {
        /// `sender`, `receiver` or `operator`.
        which: &'static str,
        /// The index the slot names.
        expected: u64,
        /// The path's index.
        got: u64,
    },
    /// The leaf and path do not lead to the root they should.
    #[error("the {which} leaf and path do not lead to the step's root")]
    NotUnderRoot {
        /// `sender`, `receiver` or `operator`.
        which: &'static str,
    },
    /// The batch breaks a rule (or carries a field no slot can encode): it has no honest
    /// step roots.
    #[error("the batch breaks a rule: it has no honest step roots")]
    NotHonest,
    /// A leaf field that is not an integer of its width (a balance is u64, a nonce u32, an
    /// owner 160 bits): no leaf under a valid root has one.
    #[error("the {which} leaf has a field out of range")]
    BadLeaf {
        /// `sender`, `receiver` or `operator`.
        which: &'static str,
    },
}

/// A rule a step breaks: the batch contains something the circuit refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Violation {
    /// Rule 5: the signature does not verify under the sender's key over
    /// `Poseidon(chain_id, packed, aux_x, nonce)` with the sender's current nonce (so a stale or
    /// future nonce fails here too: rule 6).
    #[error("the signature does not verify under the sender's key and nonce")]
    BadSignature,
    /// Rule 6: the sender's nonce would pass 2^32 − 1.
    #[error("the sender's nonce would overflow")]
    NonceOverflow,
    /// Rule 6b: a full exit's amount is not the owner's whole balance (or 0 for a stranger).
    #[error("the full exit's amount is {got}, the rule gives {expected}")]
    WrongExitAmount {
        /// Amount the rule gives.
        expected: u64,
        /// Amount posted.
        got: u64,
    },
    /// Rule 7: the balance does not cover amount + fee.
    #[error("the sender's balance {balance} does not cover {needed}")]
    InsufficientBalance {
        /// Balance.
        balance: u64,
        /// Amount + fee.
        needed: u128,
    },
    /// Rule 10: a transfer to an empty account.
    #[error("the transfer's receiver does not exist")]
    NoReceiver,
    /// Rule 10: a deposit to an account of another key.
    #[error("the deposit's key is not the account's key")]
    DepositKeyMismatch,
    /// Rules 11 and 15: a credit would pass 2^64 − 1.
    #[error("the credit would overflow the balance")]
    BalanceOverflow,
}

/// What a genuine step gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step follows every rule and ends at this root.
    Valid {
        /// The honest post-root.
        post_root: Fr,
    },
    /// The step breaks a rule.
    Invalid(Violation),
}

/// A leaf and its authentication path (the path's `index` is the leaf's). In JSON,
/// `{"index", "leaf": {"pk_x", "pk_y", "balance", "nonce", "owner"}, "siblings": [["…", …], …]}`
/// (field elements as decimal strings, siblings per level from the leaves up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LeafProofJson", into = "LeafProofJson")]
pub struct LeafProof {
    /// The leaf's fields.
    pub leaf: AccountLeaf,
    /// Its path.
    pub path: MerkleProof,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafProofJson {
    index: u64,
    leaf: AccountLeaf,
    siblings: Vec<Vec<String>>,
}

impl From<LeafProof> for LeafProofJson {
    fn from(p: LeafProof) -> Self {
        Self {
            index: p.path.index,
            leaf: p.leaf,
            siblings: p
                .path
                .siblings
                .iter()
                .map(|l| l.iter().map(crate::field::fr_to_decimal).collect())
                .collect(),
        }
    }
}

impl TryFrom<LeafProofJson> for LeafProof {
    type Error = String;
    fn try_from(j: LeafProofJson) -> Result<Self, String> {
        let siblings = j
            .siblings
            .iter()
            .map(|l| {
                l.iter()
                    .map(|x| crate::field::fr_from_decimal(x).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<Fr>, String>>()
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            leaf: j.leaf,
            path: MerkleProof {
                index: j.index,
                siblings,
            },
        })
    }
}

/// What a challenger supplies for a slot step: the sender's leaf under the step's pre-root, and
/// the receiver's under the root after the sender's update (for slots that touch one account,
/// the "receiver" is still read, at index `to`, as the circuit reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotStepWitness {
    /// The sender (index `from`) before the step.
    pub sender: LeafProof,
    /// The receiver (index `to`) after the sender's update.
    pub receiver: LeafProof,
}

/// A leaf's fields as the integers they must be under a valid root.
struct Fields {
    balance: u64,
    nonce: u32,
}

fn small(x: &Fr, bits: usize) -> Option<u128> {
    let b = x.into_bigint();
    if b.num_bits() as usize > bits {
        return None;
    }
    let limbs = b.as_ref();
    Some(limbs[0] as u128 | ((limbs[1] as u128) << 64))
}

fn fields(leaf: &AccountLeaf, which: &'static str) -> Result<Fields, StepError> {
    let bad = StepError::BadLeaf { which };
    let balance = small(&leaf.balance, 64).ok_or(bad.clone())? as u64;
    let nonce = small(&leaf.nonce, 32).ok_or(bad.clone())? as u32;
    small(&leaf.owner, 160).ok_or(bad.clone())?;
    if leaf.is_empty() && (balance != 0 || nonce != 0 || !leaf.owner.is_zero()) {
        return Err(bad);
    }
    Ok(Fields { balance, nonce })
}

/// Checks `p` is a path of the tree of `params` for `index`, from `p.leaf` to `root`.
fn check_proof(
    params: &CircuitParams,
    p: &LeafProof,
    index: u64,
    root: Fr,
    which: &'static str,
) -> Result<Fields, StepError> {
    let levels = level_bits(params.depth);
    let shape_ok = p.path.index == index
        && index < params.capacity()
        && p.path.siblings.len() == levels.len()
        && p.path
            .siblings
            .iter()
            .zip(&levels)
            .all(|(s, bits)| s.len() + 1 == 1 << bits);
    if !shape_ok {
        return Err(StepError::WrongPath {
            which,
            expected: index,
            got: p.path.index,
        });
    }
    if !p.path.verify(root, p.leaf.hash()) {
        return Err(StepError::NotUnderRoot { which });
    }
    fields(&p.leaf, which)
}

/// Slot step: runs `slot` (with `signature` for a transfer or withdrawal) from `pre_root` on the
/// deployment `chain_id`, reading the touched leaves from `w`.
pub fn execute_slot(
    params: &CircuitParams,
    chain_id: u64,
    pre_root: Fr,
    slot: &SlotData,
    signature: Option<&SignatureWitness>,
    w: &SlotStepWitness,
) -> Result<StepOutcome, StepError> {
    let sender = check_proof(params, &w.sender, slot.from, pre_root, "sender")?;
    let s = w.sender.leaf;
    let sends = matches!(slot.tx_type, TxType::Transfer | TxType::Withdraw);
    let invalid = |v| Ok(StepOutcome::Invalid(v));

    // Rules 5, 6: signature over the current nonce, and the nonce's room.
    if sends {
        let msg = signed_message(chain_id, slot.packed(), slot.aux_x, sender.nonce);
        let sig = signature.cloned().unwrap_or_else(SignatureWitness::unused);
        if !verify_raw(s.pk_x, s.pk_y, msg, &sig) {
            return invalid(Violation::BadSignature);
        }
        if sender.nonce == u32::MAX {
            return invalid(Violation::NonceOverflow);
        }
    }
    // Rule 6b: a full exit pays the owner its whole balance, a stranger nothing.
    if slot.tx_type == TxType::FullExit {
        let expected = if s.owner == slot.requester {
            sender.balance
        } else {
            0
        };
        if slot.amount != expected {
            return invalid(Violation::WrongExitAmount {
                expected,
                got: slot.amount,
            });
        }
    }
    // Rule 7: the balance covers the debit.
    let debit: u128 = match slot.tx_type {
        TxType::Transfer | TxType::Withdraw => slot.amount as u128 + slot.fee as u128,
        TxType::FullExit => slot.amount as u128,
        TxType::Noop | TxType::Deposit => 0,
    };
    if debit > sender.balance as u128 {
        return invalid(Violation::InsufficientBalance {
            balance: sender.balance,
            needed: debit,
        });
    }
    // Rule 8: the sender's update.
    let new_sender = AccountLeaf {
        balance: Fr::from(sender.balance - debit as u64),
        nonce: Fr::from(sender.nonce as u64 + sends as u64),
        ..s
    };
    let mid_root = w.sender.path.root(new_sender.hash());

    // Rules 9–12: the receiver.
    let receiver = check_proof(params, &w.receiver, slot.to, mid_root, "receiver")?;
    let r = w.receiver.leaf;
    if slot.tx_type == TxType::Transfer && r.is_empty() {
        return invalid(Violation::NoReceiver);
    }
    let deposit = slot.tx_type == TxType::Deposit;
    if deposit && !r.is_empty() && (r.pk_x != slot.aux_x || r.pk_y != slot.aux_y) {
        return invalid(Violation::DepositKeyMismatch);
    }
    let credit = match slot.tx_type {
        TxType::Transfer | TxType::Deposit => slot.amount,
        _ => 0,
    };
    let Some(balance) = receiver.balance.checked_add(credit) else {
        return invalid(Violation::BalanceOverflow);
    };
    let new_receiver = AccountLeaf {
        pk_x: if deposit { slot.aux_x } else { r.pk_x },
        pk_y: if deposit { slot.aux_y } else { r.pk_y },
        balance: Fr::from(balance),
        nonce: r.nonce,
        owner: if deposit && r.is_empty() {
            slot.requester
        } else {
            r.owner
        },
    };
    Ok(StepOutcome::Valid {
        post_root: w.receiver.path.root(new_receiver.hash()),
    })
}

/// Fee step: credits `fees` (the sum of the batch's fees) to the operator's account, read from
/// `operator` under `pre_root` (the root after the last slot).
pub fn execute_fees(
    params: &CircuitParams,
    pre_root: Fr,
    fees: u128,
    operator: &LeafProof,
) -> Result<StepOutcome, StepError> {
    let op = check_proof(params, operator, OPERATOR_INDEX, pre_root, "operator")?;
    if operator.leaf.is_empty() && fees > 0 {
        // (Never under a valid root: account 0 is the operator's from genesis.)
        return Ok(StepOutcome::Invalid(Violation::NoReceiver));
    }
    let Some(balance) = u64::try_from(op.balance as u128 + fees).ok() else {
        return Ok(StepOutcome::Invalid(Violation::BalanceOverflow));
    };
    let new = AccountLeaf {
        balance: Fr::from(balance),
        ..operator.leaf
    };
    Ok(StepOutcome::Valid {
        post_root: operator.path.root(new.hash()),
    })
}

/// Which step of a batch: slot `i` (0 ≤ i < B), or the fee step that follows them. In JSON,
/// `{"slot": i}` or `"fees"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepIndex {
    /// The slot at this position.
    Slot(usize),
    /// The fee credit, after the last slot.
    Fees,
}

/// A step's witness, as a challenger hands it to the L1. In JSON, `{"slot": {"sender",
/// "receiver"}}` or `{"fees": LEAF_PROOF}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepWitness {
    /// The leaves of a slot step.
    Slot(SlotStepWitness),
    /// The operator's leaf under the root after the last slot.
    Fees(LeafProof),
}

/// What a challenger found: the first step of a posted batch that breaks a rule or does not
/// end at its posted root, with the witness that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fraud {
    /// The step.
    pub step: StepIndex,
    /// Its witness, read from the challenger's own copy of the state.
    pub witness: StepWitness,
    /// The rule it breaks, or `None` when it follows the rules but ends elsewhere than posted.
    pub violation: Option<Violation>,
}

/// A batch as an optimistic rollup posts it: its slots (public data), a signature for each
/// transfer and withdrawal, and the root after each slot; the fee step ends at `new_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedSteps {
    /// The slots.
    pub slots: Vec<SlotData>,
    /// One per slot (`None` for slots that carry no signature).
    pub signatures: Vec<Option<SignatureWitness>>,
    /// The root after each slot.
    pub step_roots: Vec<Fr>,
    /// The root after the fee step: the batch's new root.
    pub new_root: Fr,
}

fn leaf_proof(index: u64, w: &crate::witness::LeafWitness) -> LeafProof {
    LeafProof {
        leaf: w.leaf,
        path: MerkleProof {
            index,
            siblings: w.path.siblings.clone(),
        },
    }
}

fn step_witness(s: &crate::witness::SlotWitness, from: u64, to: u64) -> SlotStepWitness {
    SlotStepWitness {
        sender: leaf_proof(from, &s.sender),
        receiver: leaf_proof(to, &s.receiver),
    }
}

/// A slot of a batch witness as an optimistic batch posts it — its public data and, for a
/// transfer or withdrawal, its signature — with the leaves a challenger would hand the L1.
/// `None` when a field does not fit its integer type (no posted slot can carry it).
pub fn slot_step(
    s: &crate::witness::SlotWitness,
) -> Option<(SlotData, Option<SignatureWitness>, SlotStepWitness)> {
    let int = |x: &Fr| small(x, 64).map(|v| v as u64);
    let (from, to) = (int(&s.from)?, int(&s.to)?);
    let slot = SlotData {
        tx_type: s.tx_type,
        from,
        to,
        amount: int(&s.amount)?,
        fee: int(&s.fee)?,
        aux_x: s.aux_x,
        aux_y: s.aux_y,
        requester: s.requester,
    };
    let sends = matches!(s.tx_type, TxType::Transfer | TxType::Withdraw);
    Some((
        slot,
        sends.then(|| s.signature.clone()),
        step_witness(s, from, to),
    ))
}

/// The roots after each slot of an honest batch witness (what an optimistic operator posts
/// beside the batch), computed by running each step from the witness's leaves. A witness that
/// breaks a rule has no honest roots: [`StepError::NotHonest`].
pub fn step_roots(w: &crate::witness::BatchWitness) -> Result<Vec<Fr>, StepError> {
    let chain_id = small(&w.chain_id, 64).ok_or(StepError::NotHonest)? as u64;
    let mut root = w.old_root;
    let mut out = Vec::with_capacity(w.slots.len());
    for s in &w.slots {
        let (slot, sig, step) = slot_step(s).ok_or(StepError::NotHonest)?;
        match execute_slot(&w.params, chain_id, root, &slot, sig.as_ref(), &step)? {
            StepOutcome::Valid { post_root } => root = post_root,
            StepOutcome::Invalid(_) => return Err(StepError::NotHonest),
        }
        out.push(root);
    }
    Ok(out)
}

/// Checks a posted batch step by step against `state` (the state before it, which the
/// challenger rebuilt from the L1's data) and returns the first step that breaks a rule or
/// does not end at its posted root, with its witness; `None` when every step holds.
///
/// The witnesses come from a [`crate::witness::WitnessBuilder`] over `state`, which applies
/// each slot mechanically: as long as the steps before `i` hold, its root is the posted pre-root
/// of step `i`, so the leaves and paths it gives for step `i` are genuine.
pub fn find_fraud(
    state: &crate::state::State,
    posted: &PostedSteps,
) -> Result<Option<Fraud>, StepError> {
    let params = *state.params();
    let chain_id = state.chain_id();
    let mut b = state.witness_builder();
    let mut fees: u128 = 0;
    for (i, slot) in posted.slots.iter().enumerate() {
        let pre = b.root();
        let nonce = b.leaf(slot.from).nonce;
        let signature = posted
            .signatures
            .get(i)
            .cloned()
            .flatten()
            .unwrap_or_else(SignatureWitness::unused);
        let tx = crate::witness::SlotTx {
            tx_type: slot.tx_type,
            from: slot.from,
            to: slot.to,
            amount: Fr::from(slot.amount),
            fee: Fr::from(slot.fee),
            nonce,
            aux_x: slot.aux_x,
            aux_y: slot.aux_y,
            requester: slot.requester,
            signature,
        };
        b.push(tx).map_err(|_| StepError::WrongPath {
            which: "sender",
            expected: slot.from,
            got: slot.from,
        })?;
        let s = b.last_slot().expect("just pushed");
        let witness = step_witness(s, slot.from, slot.to);
        let sig = posted.signatures.get(i).and_then(|s| s.as_ref());
        let violation = match execute_slot(&params, chain_id, pre, slot, sig, &witness)? {
            StepOutcome::Valid { post_root } if posted.step_roots.get(i) == Some(&post_root) => {
                fees += slot.fee as u128;
                continue;
            }
            StepOutcome::Valid { .. } => None,
            StepOutcome::Invalid(v) => Some(v),
        };
        return Ok(Some(Fraud {
            step: StepIndex::Slot(i),
            witness: StepWitness::Slot(witness),
            violation,
        }));
    }
    let operator = LeafProof {
        leaf: b.leaf(OPERATOR_INDEX),
        path: b
            .proof(OPERATOR_INDEX)
            .map_err(|_| StepError::NotUnderRoot { which: "operator" })?,
    };
    let violation = match execute_fees(&params, b.root(), fees, &operator)? {
        StepOutcome::Valid { post_root } if post_root == posted.new_root => return Ok(None),
        StepOutcome::Valid { .. } => None,
        StepOutcome::Invalid(v) => Some(v),
    };
    Ok(Some(Fraud {
        step: StepIndex::Fees,
        witness: StepWitness::Fees(operator),
        violation,
    }))
}

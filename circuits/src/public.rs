//! The proof's public inputs: what the L1 checks, laid out so that checking it is cheap on an EVM.
//!
//! ```text
//! inputs    = [old_root, new_root, aux_chain, packed_0, …, packed_{B−1}]      (3 + B elements)
//! packed_i  = type + from·2^8 + to·2^40 + amount·2^72 + fee·2^136            (slot i, < 2^200)
//! aux_chain = fold(chain_id, slot ↦ Poseidon(acc, aux_x, aux_y, requester))
//!             (deposit, withdrawal and full-exit slots)
//! ```
//!
//! The L1 recomputes every input from what it holds (its current root, its chain id, the deposit
//! queue) or receives (the new root, the public data), so a proof for these inputs proves exactly
//! the transition the L1 is about to record.
//!
//! The chain starts from the deployment's chain id ([`crate::genesis`]): the circuit uses the
//! same witnessed chain id in every signature check, so a proof of signatures made for another
//! deployment ends at another `aux_chain` (or, with no deposit or withdrawal in the batch, at
//! the other chain id itself) and the L1 refuses it, at no cost in constraints or inputs.
//!
//! ## Why this layout (see docs/design.md, "The batch commitment")
//!
//! Each public input costs a Groth16 verifier one elliptic-curve multiplication and addition
//! (≈ 6,150 gas on an EVM) and costs the circuit one constraint; a Poseidon hash costs the
//! circuit ≈ 250 constraints but an EVM ≈ 18,000–51,000 gas. So the per-slot data that every slot
//! has — the packed element, 200 bits, one field element — is a public input of its own, and
//! only the field elements a deposit, a withdrawal or a full exit adds (the deposit's L2 key and
//! payer, the withdrawal's L1 address, the full exit's requester) are hashed, into a chain that
//! transfers and noops do not touch. A transfer then costs the L1 one public input, not a
//! Poseidon hash. A deposit's amount and receiver, a full exit's account, are in the packed
//! element; the key, payer and requester in the chain; the L1 checks them against its queue.

use crate::poseidon::hash;
use crate::tx::{SlotData, TxType};
use crate::Fr;
use serde::{Deserialize, Serialize};

/// Number of public inputs before the per-slot ones (old root, new root, aux chain).
pub const HEADER_INPUTS: usize = 3;

/// Number of public inputs of the batch circuit for `batch_size` slots.
pub fn num_inputs(batch_size: usize) -> usize {
    HEADER_INPUTS + batch_size
}

/// Whether a slot of this type enters the aux chain (its aux fields carry L1 data).
pub fn enters_aux_chain(t: TxType) -> bool {
    matches!(t, TxType::Deposit | TxType::Withdraw | TxType::FullExit)
}

/// One step of the aux chain, on a slot's L1 data: a deposit's key and payer, a withdrawal's
/// address, a full exit's requester (the unused fields are 0).
pub fn aux_step(acc: Fr, aux_x: Fr, aux_y: Fr, requester: Fr) -> Fr {
    hash([acc, aux_x, aux_y, requester])
}

/// The aux chain of a batch's public data on the deployment `chain_id`.
pub fn aux_chain(chain_id: u64, slots: &[SlotData]) -> Fr {
    slots
        .iter()
        .filter(|s| enters_aux_chain(s.tx_type))
        .fold(Fr::from(chain_id), |acc, s| {
            aux_step(acc, s.aux_x, s.aux_y, s.requester)
        })
}

/// The values a batch proof is verified against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicInputs {
    /// State root before the batch.
    #[serde(with = "crate::field::decimal")]
    pub old_root: Fr,
    /// State root after the batch.
    #[serde(with = "crate::field::decimal")]
    pub new_root: Fr,
    /// Hash chain from the chain id over the deposit keys and withdrawal addresses, in slot
    /// order.
    #[serde(with = "crate::field::decimal")]
    pub aux_chain: Fr,
    /// Each slot's packed element (type, indices, amount, fee), in slot order.
    #[serde(with = "crate::field::decimal_vec")]
    pub packed: Vec<Fr>,
}

impl PublicInputs {
    /// The inputs of a batch from `old_root` to `new_root` with this public data, on the
    /// deployment `chain_id`.
    pub fn from_public_data(chain_id: u64, old_root: Fr, new_root: Fr, slots: &[SlotData]) -> Self {
        Self {
            old_root,
            new_root,
            aux_chain: aux_chain(chain_id, slots),
            packed: slots.iter().map(SlotData::packed).collect(),
        }
    }

    /// The Groth16 proof's public inputs, in the order the circuit allocates them.
    pub fn to_vec(&self) -> Vec<Fr> {
        let mut v = Vec::with_capacity(HEADER_INPUTS + self.packed.len());
        v.extend([self.old_root, self.new_root, self.aux_chain]);
        v.extend_from_slice(&self.packed);
        v
    }
}

//! The proof's public inputs: what the L1 checks, laid out so that checking it is cheap on an EVM.
//!
//! ```text
//! inputs    = [old_root, new_root, aux_chain, packed_0, …, packed_{B−1}]      (3 + B elements)
//! packed_i  = type + from·2^8 + to·2^40 + amount·2^72 + fee·2^136            (slot i, < 2^200)
//! aux_chain = fold(0, slot ↦ Poseidon(acc, aux_x, aux_y))   (deposit and withdrawal slots only)
//! ```
//!
//! The L1 recomputes every input from what it holds (its current root, the deposit queue) or
//! receives (the new root, the public data), so a proof for these inputs proves exactly the
//! transition the L1 is about to record.
//!
//! ## Why this layout (see docs/design.md, "The batch commitment")
//!
//! Each public input costs a Groth16 verifier one elliptic-curve multiplication and addition
//! (≈ 6,150 gas on an EVM) and costs the circuit one constraint; a Poseidon hash costs the
//! circuit ≈ 250 constraints but an EVM ≈ 18,000–51,000 gas. So the per-slot data that every slot
//! has — the packed element, 200 bits, one field element — is a public input of its own, and
//! only the two field elements a deposit or a withdrawal adds (the deposit's L2 key, the
//! withdrawal's L1 address) are hashed, into a chain that transfers and noops do not touch. A
//! transfer then costs the L1 one public input, not a Poseidon hash. A deposit's amount and
//! receiver are in its packed element; its key is in the chain; the L1 checks both against its
//! queue.

use crate::poseidon::hash;
use crate::tx::{SlotData, TxType};
use crate::Fr;
use ark_ff::Zero;
use serde::{Deserialize, Serialize};

/// Number of public inputs before the per-slot ones (old root, new root, aux chain).
pub const HEADER_INPUTS: usize = 3;

/// Number of public inputs of the batch circuit for `batch_size` slots.
pub fn num_inputs(batch_size: usize) -> usize {
    HEADER_INPUTS + batch_size
}

/// Whether a slot of this type enters the aux chain (its aux fields carry L1 data).
pub fn enters_aux_chain(t: TxType) -> bool {
    matches!(t, TxType::Deposit | TxType::Withdraw)
}

/// One step of the aux chain, on a deposit's key or a withdrawal's address (and 0).
pub fn aux_step(acc: Fr, aux_x: Fr, aux_y: Fr) -> Fr {
    hash([acc, aux_x, aux_y])
}

/// The aux chain of a batch's public data.
pub fn aux_chain(slots: &[SlotData]) -> Fr {
    slots
        .iter()
        .filter(|s| enters_aux_chain(s.tx_type))
        .fold(Fr::zero(), |acc, s| aux_step(acc, s.aux_x, s.aux_y))
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
    /// Hash chain of the deposit keys and withdrawal addresses, in slot order.
    #[serde(with = "crate::field::decimal")]
    pub aux_chain: Fr,
    /// Each slot's packed element (type, indices, amount, fee), in slot order.
    #[serde(with = "crate::field::decimal_vec")]
    pub packed: Vec<Fr>,
}

impl PublicInputs {
    /// The inputs of a batch from `old_root` to `new_root` with this public data.
    pub fn from_public_data(old_root: Fr, new_root: Fr, slots: &[SlotData]) -> Self {
        Self {
            old_root,
            new_root,
            aux_chain: aux_chain(slots),
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

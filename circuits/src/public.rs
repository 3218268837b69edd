//! The proof's public input: one field element committing to everything the L1 checks.
//!
//! ```text
//! pubdata_hash  = fold(0, slot ↦ Poseidon(acc, packed, aux_x, aux_y))
//! deposit_chain = fold(0, deposit ↦ Poseidon(acc, pk.x, pk.y, amount))   (deposit slots only)
//! commitment    = Poseidon(old_root, new_root, pubdata_hash, deposit_chain)
//! ```
//!
//! The L1 recomputes all four inputs from what it holds (its current root, the queue) or
//! receives (the new root, the public data), so a proof for this commitment proves exactly the
//! transition the L1 is about to record.

use crate::poseidon::hash;
use crate::tx::{Deposit, SlotData, TxType};
use crate::Fr;
use ark_ff::Zero;
use serde::{Deserialize, Serialize};

/// One step of the public-data hash chain, on a slot's three field elements.
pub fn pubdata_step(acc: Fr, packed: Fr, aux_x: Fr, aux_y: Fr) -> Fr {
    hash([acc, packed, aux_x, aux_y])
}

/// Hash of a batch's public data.
pub fn pubdata_hash(slots: &[SlotData]) -> Fr {
    slots.iter().fold(Fr::zero(), |acc, s| {
        pubdata_step(acc, s.packed(), s.aux_x, s.aux_y)
    })
}

/// One step of the deposit hash chain.
pub fn deposit_step(acc: Fr, pk_x: Fr, pk_y: Fr, amount: Fr) -> Fr {
    hash([acc, pk_x, pk_y, amount])
}

/// Hash chain over the deposits a batch consumes, in queue order.
pub fn deposit_chain<'a>(deposits: impl IntoIterator<Item = &'a Deposit>) -> Fr {
    deposits.into_iter().fold(Fr::zero(), |acc, d| {
        deposit_step(acc, d.pubkey.x(), d.pubkey.y(), Fr::from(d.amount))
    })
}

/// The deposit chain as read off the public data (deposit slots only).
pub fn deposit_chain_of_slots(slots: &[SlotData]) -> Fr {
    slots
        .iter()
        .filter(|s| s.tx_type == TxType::Deposit)
        .fold(Fr::zero(), |acc, s| {
            deposit_step(acc, s.aux_x, s.aux_y, Fr::from(s.amount))
        })
}

/// The values a batch proof commits to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInputs {
    /// State root before the batch.
    #[serde(with = "crate::field::decimal")]
    pub old_root: Fr,
    /// State root after the batch.
    #[serde(with = "crate::field::decimal")]
    pub new_root: Fr,
    /// Hash of the public data.
    #[serde(with = "crate::field::decimal")]
    pub pubdata_hash: Fr,
    /// Hash chain of the consumed deposits.
    #[serde(with = "crate::field::decimal")]
    pub deposit_chain: Fr,
}

impl PublicInputs {
    /// The single public input of the Groth16 proof.
    pub fn commitment(&self) -> Fr {
        hash([
            self.old_root,
            self.new_root,
            self.pubdata_hash,
            self.deposit_chain,
        ])
    }
}

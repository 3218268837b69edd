//! The proof-job wire format shared by the node (`POST /prover/lease`) and the remote prover
//! (`zkr prover`): a batch witness as JSON, field elements as canonical decimal strings.
//!
//! [`BatchWitness`] itself has no serde form (the circuit crate keeps its types free of wire
//! concerns), so [`WitnessJson`] mirrors it field by field. Decoding refuses non-canonical field
//! elements; the shape (slot count, path lengths) is checked by the circuit when the worker
//! builds it, and a witness that does not satisfy the circuit cannot produce a proof the node
//! accepts, since the node verifies against its own public input.

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use zkr_circuits::account::AccountLeaf;
use zkr_circuits::eddsa::SignatureWitness;
use zkr_circuits::field::{decimal, decimal_below};
use zkr_circuits::merkle::PathWitness;
use zkr_circuits::params::CircuitParams;
use zkr_circuits::public::PublicInputs;
use zkr_circuits::tx::TxType;
use zkr_circuits::witness::{BatchWitness, LeafWitness, SlotWitness};
use zkr_circuits::Fr;

/// A field element as a canonical decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Dec(#[serde(with = "decimal")] pub Fr);

/// A signature as the circuit reads it (`s` is an unreduced integer, decimal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureJson {
    /// `R.x`.
    pub r_x: Dec,
    /// `R.y`.
    pub r_y: Dec,
    /// `S`, decimal.
    pub s: String,
}

/// A leaf with its authentication path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafJson {
    /// Public key x.
    pub pk_x: Dec,
    /// Public key y.
    pub pk_y: Dec,
    /// Balance.
    pub balance: Dec,
    /// Nonce.
    pub nonce: Dec,
    /// Owner (an L1 address as a field element).
    pub owner: Dec,
    /// Little-endian index bits.
    pub bits: Vec<Dec>,
    /// Siblings per level (3 or 7), leaf level first.
    pub siblings: Vec<Vec<Dec>>,
}

/// One slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotJson {
    /// Slot type.
    pub tx_type: TxType,
    /// Sender index.
    pub from: Dec,
    /// Receiver index.
    pub to: Dec,
    /// Amount.
    pub amount: Dec,
    /// Fee.
    pub fee: Dec,
    /// Signed nonce.
    pub nonce: Dec,
    /// Deposit key x or withdrawal address.
    pub aux_x: Dec,
    /// Deposit key y.
    pub aux_y: Dec,
    /// The L1 address that queued a deposit or a full exit.
    pub requester: Dec,
    /// Signature.
    pub signature: SignatureJson,
    /// The sender's leaf and path before the slot.
    pub sender: LeafJson,
    /// The receiver's leaf and path after the sender's update.
    pub receiver: LeafJson,
}

/// A whole batch witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessJson {
    /// The circuit shape.
    pub params: CircuitParams,
    /// The deployment's chain id (a witness of the circuit).
    pub chain_id: Dec,
    /// Root before the batch.
    pub old_root: Dec,
    /// The slots.
    pub slots: Vec<SlotJson>,
    /// The operator's leaf and path before the fee credit.
    pub operator: LeafJson,
    /// The proof's public inputs.
    pub public: PublicInputs,
}

/// Why a witness does not decode.
#[derive(Debug, thiserror::Error)]
pub enum WitnessDecodeError {
    /// A signature's `s` is not the canonical decimal text of an integer below 2^256.
    #[error("slot {slot}: signature s is not a canonical decimal integer below 2^256")]
    BadS {
        /// Slot index.
        slot: usize,
    },
}

fn leaf_to_json(l: &LeafWitness) -> LeafJson {
    LeafJson {
        pk_x: Dec(l.leaf.pk_x),
        pk_y: Dec(l.leaf.pk_y),
        balance: Dec(l.leaf.balance),
        nonce: Dec(l.leaf.nonce),
        owner: Dec(l.leaf.owner),
        bits: l.path.bits.iter().copied().map(Dec).collect(),
        siblings: l
            .path
            .siblings
            .iter()
            .map(|s| s.iter().copied().map(Dec).collect())
            .collect(),
    }
}

fn leaf_from_json(l: &LeafJson) -> LeafWitness {
    LeafWitness {
        leaf: AccountLeaf {
            pk_x: l.pk_x.0,
            pk_y: l.pk_y.0,
            balance: l.balance.0,
            nonce: l.nonce.0,
            owner: l.owner.0,
        },
        path: PathWitness {
            bits: l.bits.iter().map(|b| b.0).collect(),
            siblings: l
                .siblings
                .iter()
                .map(|s| s.iter().map(|d| d.0).collect())
                .collect(),
        },
    }
}

impl WitnessJson {
    /// The wire form of a witness.
    pub fn from_witness(w: &BatchWitness) -> Self {
        Self {
            params: w.params,
            old_root: Dec(w.old_root),
            slots: w
                .slots
                .iter()
                .map(|s| SlotJson {
                    tx_type: s.tx_type,
                    from: Dec(s.from),
                    to: Dec(s.to),
                    amount: Dec(s.amount),
                    fee: Dec(s.fee),
                    nonce: Dec(s.nonce),
                    aux_x: Dec(s.aux_x),
                    aux_y: Dec(s.aux_y),
                    requester: Dec(s.requester),
                    signature: SignatureJson {
                        r_x: Dec(s.signature.r_x),
                        r_y: Dec(s.signature.r_y),
                        s: s.signature.s.to_str_radix(10),
                    },
                    sender: leaf_to_json(&s.sender),
                    receiver: leaf_to_json(&s.receiver),
                })
                .collect(),
            operator: leaf_to_json(&w.operator),
            public: w.public.clone(),
            chain_id: Dec(w.chain_id),
        }
    }

    /// The witness back.
    pub fn to_witness(&self) -> Result<BatchWitness, WitnessDecodeError> {
        let slots = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // Canonical decimal text below 2^256 (not `parse_bytes`, which takes `+`, `_`
                // and leading zeros, and any length).
                let sig_s = decimal_below(&s.signature.s, &(BigUint::from(1u8) << 256))
                    .map_err(|_| WitnessDecodeError::BadS { slot: i })?;
                Ok(SlotWitness {
                    tx_type: s.tx_type,
                    from: s.from.0,
                    to: s.to.0,
                    amount: s.amount.0,
                    fee: s.fee.0,
                    nonce: s.nonce.0,
                    aux_x: s.aux_x.0,
                    aux_y: s.aux_y.0,
                    requester: s.requester.0,
                    signature: SignatureWitness {
                        r_x: s.signature.r_x.0,
                        r_y: s.signature.r_y.0,
                        s: sig_s,
                    },
                    sender: leaf_from_json(&s.sender),
                    receiver: leaf_from_json(&s.receiver),
                })
            })
            .collect::<Result<Vec<_>, WitnessDecodeError>>()?;
        Ok(BatchWitness {
            params: self.params,
            chain_id: self.chain_id.0,
            old_root: self.old_root.0,
            slots,
            operator: leaf_from_json(&self.operator),
            public: self.public.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkr_circuits::eddsa::SecretKey;
    use zkr_circuits::state::State;
    use zkr_circuits::tx::{Deposit, PriorityOp, Transfer, Tx};

    #[test]
    fn a_witness_survives_the_wire_and_bad_numbers_are_refused() {
        let params = CircuitParams::new(4, 2).unwrap();
        let (op, alice) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let deps = [
            PriorityOp::Deposit(Deposit {
                pubkey: op.public_key(),
                amount: 5,
                from: Default::default(),
            }),
            PriorityOp::Deposit(Deposit {
                pubkey: alice.public_key(),
                amount: 100,
                from: Default::default(),
            }),
        ];
        let genesis = zkr_circuits::Genesis {
            chain_id: 99,
            operator: op.public_key(),
            operator_l1: Default::default(),
        };
        let s1 = State::genesis(params, &genesis)
            .apply_batch(&deps.map(|d| d.tx()), &deps)
            .unwrap()
            .state;
        let t = Tx::Transfer(Transfer::signed(&alice, genesis.chain_id, 1, 0, 10, 1, 0));
        let w = s1.apply_batch(&[t], &[]).unwrap().witness;
        let text = serde_json::to_string(&WitnessJson::from_witness(&w)).unwrap();
        let back: WitnessJson = serde_json::from_str(&text).unwrap();
        assert_eq!(back.to_witness().unwrap(), w);

        // A field element at the modulus and a non-decimal S are refused, not reduced.
        let modulus: BigUint = <Fr as ark_ff::PrimeField>::MODULUS.into();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["old_root"] = serde_json::Value::String(modulus.to_str_radix(10));
        assert!(serde_json::from_value::<WitnessJson>(v).is_err());
        let mut bad = back.clone();
        bad.slots[0].signature.s = "12x".into();
        assert!(matches!(
            bad.to_witness(),
            Err(WitnessDecodeError::BadS { slot: 0 })
        ));
        // One integer, one text: `+`, `_` and leading zeros are refused, as is an unknown field.
        for s in ["+1", "1_0", "01", ""] {
            let mut bad = back.clone();
            bad.slots[0].signature.s = s.into();
            assert!(bad.to_witness().is_err(), "{s:?}");
        }
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["slots"][0]["sender"]["extra"] = serde_json::Value::Null;
        assert!(serde_json::from_value::<WitnessJson>(v).is_err());
    }
}

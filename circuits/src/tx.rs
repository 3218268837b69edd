//! Transactions and their public data.
//!
//! | type | code | signed | effect |
//! |---|---|---|---|
//! | noop | 0 | no | nothing (pads a batch to the circuit's fixed size) |
//! | transfer | 1 | by the sender | `from -= amount + fee`, `to += amount`, sender nonce + 1 |
//! | deposit | 2 | no (from the L1 queue) | `to += amount`; creates the account if `to` is empty |
//! | withdraw | 3 | by the sender | `from -= amount + fee`, sender nonce + 1; the L1 credits `amount` to an L1 address |
//! | full exit | 4 | no (from the L1 queue) | when the requester owns `from`: `amount` = its whole balance, which the L1 credits to the requester; otherwise `amount` = 0 and nothing changes |
//!
//! Fees of a batch are summed and credited once, at the end of the batch, to the operator's
//! account ([`crate::params::OPERATOR_INDEX`]).
//!
//! Deposits and full exits are *priority requests*: queued on L1 by an L1 account, in one queue,
//! and consumed by batches strictly in queue order ([`PriorityOp`]).
//!
//! ## Public data (per slot, fixed size, 121 bytes)
//!
//! | bytes | field |
//! |---|---|
//! | 0..25 | `packed = type + from·2^8 + to·2^40 + amount·2^72 + fee·2^136`, little-endian |
//! | 25..57 | `aux_x`: deposit key x, or withdrawal L1 address, else 0 (little-endian) |
//! | 57..89 | `aux_y`: deposit key y, else 0 (little-endian) |
//! | 89..121 | `requester`: the L1 address that queued a deposit (the owner of an account it opens) or a full exit, else 0 (little-endian) |
//!
//! This is enough to rebuild the state without any signature: deposits carry the key and the
//! index chosen for it, transfers and withdrawals carry indices, amounts and fees, and every
//! transfer or withdrawal increments its sender's nonce by one.
//!
//! ## Signed message
//!
//! `Poseidon(chain_id, packed, aux_x, nonce)`: binds the rollup, the type, both indices, amount,
//! fee, the nonce and (for withdrawals) the L1 address, so a signature cannot be replayed across
//! rollups, types, accounts or nonces.

use crate::eddsa::{PublicKey, SecretKey, Signature};
use crate::field::{fr_from_bytes, fr_to_bytes, FieldError};
use crate::poseidon::hash;
use crate::range::fits_in_bits;
use crate::Fr;
use ark_ff::{AdditiveGroup, BigInteger, PrimeField, Zero};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The four slot types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum TxType {
    /// Padding.
    Noop = 0,
    /// L2 transfer.
    Transfer = 1,
    /// L1 → L2 deposit.
    Deposit = 2,
    /// L2 → L1 withdrawal.
    Withdraw = 3,
    /// A full exit queued on L1 by the account's owner.
    FullExit = 4,
}

impl TxType {
    /// All types, in code order.
    pub const ALL: [TxType; 5] = [
        TxType::Noop,
        TxType::Transfer,
        TxType::Deposit,
        TxType::Withdraw,
        TxType::FullExit,
    ];

    /// The type for a code byte.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            TxType::Noop => "noop",
            TxType::Transfer => "transfer",
            TxType::Deposit => "deposit",
            TxType::Withdraw => "withdraw",
            TxType::FullExit => "full_exit",
        }
    }
}

/// A 20-byte L1 address (hex with `0x` in JSON).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct L1Address(pub [u8; 20]);

impl L1Address {
    /// The address as a field element (big-endian integer below 2^160).
    pub fn to_field(&self) -> Fr {
        Fr::from_be_bytes_mod_order(&self.0)
    }

    /// The address for a field element below 2^160.
    pub fn from_field(x: &Fr) -> Option<Self> {
        if !fits_in_bits(x, 160) {
            return None;
        }
        let be = x.into_bigint().to_bytes_be();
        let mut out = [0u8; 20];
        out.copy_from_slice(&be[be.len() - 20..]);
        Some(Self(out))
    }
}

impl fmt::Display for L1Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for L1Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for L1Address {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let h = s.strip_prefix("0x").unwrap_or(s);
        let v = hex::decode(h).map_err(|e| format!("bad L1 address {s:?}: {e}"))?;
        let a: [u8; 20] = v
            .try_into()
            .map_err(|_| format!("bad L1 address {s:?}: expected 20 bytes"))?;
        Ok(Self(a))
    }
}

impl Serialize for L1Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for L1Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Bit offsets of the packed slot fields: type, from, to, amount, fee.
pub const PACK_SHIFTS: [u64; 5] = [0, 8, 40, 72, 136];

/// `type + from·2^8 + to·2^40 + amount·2^72 + fee·2^136`.
pub fn pack(tx_type: TxType, from: u64, to: u64, amount: u64, fee: u64) -> Fr {
    pack_raw(
        tx_type,
        Fr::from(from),
        Fr::from(to),
        Fr::from(amount),
        Fr::from(fee),
    )
}

/// [`pack`] on raw field elements (what the circuit computes, in-range or not).
pub fn pack_raw(tx_type: TxType, from: Fr, to: Fr, amount: Fr, fee: Fr) -> Fr {
    let two = Fr::from(2u64);
    [Fr::from(tx_type as u64), from, to, amount, fee]
        .iter()
        .zip(PACK_SHIFTS)
        .map(|(v, s)| *v * two.pow([s]))
        .sum()
}

use ark_ff::Field;

/// The message a sender signs.
pub fn signed_message(chain_id: u64, packed: Fr, aux_x: Fr, nonce: u32) -> Fr {
    hash([Fr::from(chain_id), packed, aux_x, Fr::from(nonce)])
}

/// A signed L2 transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Sender's account index.
    pub from: u64,
    /// Receiver's account index (must exist).
    pub to: u64,
    /// Amount received.
    pub amount: u64,
    /// Fee paid to the operator.
    pub fee: u64,
    /// The sender's current nonce.
    pub nonce: u32,
    /// The sender's signature over [`Transfer::message`].
    pub signature: Signature,
}

impl Transfer {
    /// A transfer signed with `sk`.
    pub fn signed(
        sk: &SecretKey,
        chain_id: u64,
        from: u64,
        to: u64,
        amount: u64,
        fee: u64,
        nonce: u32,
    ) -> Self {
        let msg = signed_message(
            chain_id,
            pack(TxType::Transfer, from, to, amount, fee),
            Fr::zero(),
            nonce,
        );
        Self {
            from,
            to,
            amount,
            fee,
            nonce,
            signature: sk.sign(msg),
        }
    }

    /// The message the sender signs.
    pub fn message(&self, chain_id: u64) -> Fr {
        signed_message(
            chain_id,
            pack(TxType::Transfer, self.from, self.to, self.amount, self.fee),
            Fr::zero(),
            self.nonce,
        )
    }
}

/// A signed withdrawal to an L1 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    /// The account that withdraws.
    pub from: u64,
    /// Amount credited on L1.
    pub amount: u64,
    /// Fee paid to the operator.
    pub fee: u64,
    /// The sender's current nonce.
    pub nonce: u32,
    /// Where the L1 credits the amount.
    pub l1_address: L1Address,
    /// The sender's signature over [`Withdraw::message`].
    pub signature: Signature,
}

impl Withdraw {
    /// A withdrawal signed with `sk`.
    pub fn signed(
        sk: &SecretKey,
        chain_id: u64,
        from: u64,
        amount: u64,
        fee: u64,
        nonce: u32,
        l1_address: L1Address,
    ) -> Self {
        let msg = signed_message(
            chain_id,
            pack(TxType::Withdraw, from, 0, amount, fee),
            l1_address.to_field(),
            nonce,
        );
        Self {
            from,
            amount,
            fee,
            nonce,
            l1_address,
            signature: sk.sign(msg),
        }
    }

    /// The message the sender signs.
    pub fn message(&self, chain_id: u64) -> Fr {
        signed_message(
            chain_id,
            pack(TxType::Withdraw, self.from, 0, self.amount, self.fee),
            self.l1_address.to_field(),
            self.nonce,
        )
    }
}

/// A deposit from the L1 queue: credit `amount` to the account of `pubkey` (created if needed,
/// owned by `from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deposit {
    /// The L2 key to credit.
    pub pubkey: PublicKey,
    /// Amount.
    pub amount: u64,
    /// The L1 account that paid: the owner of the account the deposit opens (a deposit into an
    /// existing account leaves its owner as it was).
    pub from: L1Address,
}

/// A full exit from the L1 queue: `requester` asks for the whole balance of account `account`
/// on L1. It is paid only if `requester` owns the account; otherwise the request is consumed
/// and changes nothing (a request for someone else's account never blocks the queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullExit {
    /// The account to empty.
    pub account: u64,
    /// The L1 address that queued the request (and is paid, if it owns the account).
    pub requester: L1Address,
}

/// A request of the L1's priority queue: the batches consume them in queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PriorityOp {
    /// A deposit.
    Deposit(Deposit),
    /// A full exit.
    FullExit(FullExit),
}

impl From<Deposit> for PriorityOp {
    fn from(d: Deposit) -> Self {
        PriorityOp::Deposit(d)
    }
}

impl From<FullExit> for PriorityOp {
    fn from(f: FullExit) -> Self {
        PriorityOp::FullExit(f)
    }
}

impl PriorityOp {
    /// The batch transaction that consumes this request.
    pub fn tx(&self) -> Tx {
        match self {
            PriorityOp::Deposit(d) => Tx::Deposit(*d),
            PriorityOp::FullExit(f) => Tx::FullExit(*f),
        }
    }

    /// The L1 address that queued it.
    pub fn requester(&self) -> L1Address {
        match self {
            PriorityOp::Deposit(d) => d.from,
            PriorityOp::FullExit(f) => f.requester,
        }
    }
}

/// One transaction of a batch. In JSON, `{"type": "noop"}` or the transaction's fields beside
/// its `"type"`; an unknown field is refused, for a noop as for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Tx {
    /// Padding.
    Noop,
    /// L2 transfer.
    Transfer(Transfer),
    /// The next request of the L1 queue, a deposit.
    Deposit(Deposit),
    /// Withdrawal to L1.
    Withdraw(Withdraw),
    /// The next request of the L1 queue, a full exit.
    FullExit(FullExit),
}

impl<'de> Deserialize<'de> for Tx {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // serde ignores the other fields of an internally tagged unit variant; a noop is read as
        // a struct without fields instead, so that `{"type": "noop", "amount": 5}` is refused
        // rather than silently read as a noop.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoFields {}
        #[derive(Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Wire {
            Noop(NoFields),
            Transfer(Transfer),
            Deposit(Deposit),
            Withdraw(Withdraw),
            FullExit(FullExit),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Noop(NoFields {}) => Tx::Noop,
            Wire::Transfer(t) => Tx::Transfer(t),
            Wire::Deposit(t) => Tx::Deposit(t),
            Wire::Withdraw(t) => Tx::Withdraw(t),
            Wire::FullExit(t) => Tx::FullExit(t),
        })
    }
}

impl Tx {
    /// The slot type.
    pub fn tx_type(&self) -> TxType {
        match self {
            Tx::Noop => TxType::Noop,
            Tx::Transfer(_) => TxType::Transfer,
            Tx::Deposit(_) => TxType::Deposit,
            Tx::Withdraw(_) => TxType::Withdraw,
            Tx::FullExit(_) => TxType::FullExit,
        }
    }

    /// The priority request this transaction consumes, if any.
    pub fn priority_op(&self) -> Option<PriorityOp> {
        match self {
            Tx::Deposit(d) => Some(PriorityOp::Deposit(*d)),
            Tx::FullExit(f) => Some(PriorityOp::FullExit(*f)),
            _ => None,
        }
    }
}

/// Size of one slot's public data in bytes.
pub const SLOT_BYTES: usize = 121;

/// One slot's public data (see the module docs for the encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotData {
    /// Slot type.
    pub tx_type: TxType,
    /// Sender index (0 for deposits and noops).
    pub from: u64,
    /// Receiver index (deposit target; 0 for withdrawals and noops).
    pub to: u64,
    /// Amount.
    pub amount: u64,
    /// Fee.
    pub fee: u64,
    /// Deposit key x or withdrawal address.
    pub aux_x: Fr,
    /// Deposit key y.
    pub aux_y: Fr,
    /// The L1 address that queued a deposit or a full exit (else 0).
    pub requester: Fr,
}

/// Public data that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicDataError {
    /// The byte length is not a whole number of slots.
    #[error("public data is {0} bytes, not a multiple of {SLOT_BYTES}")]
    BadLength(usize),
    /// Unknown type code.
    #[error("slot {slot}: unknown type code {code}")]
    BadType {
        /// Slot number.
        slot: usize,
        /// The code.
        code: u8,
    },
    /// An index does not fit 32 bits.
    #[error("slot {slot}: field out of range")]
    OutOfRange {
        /// Slot number.
        slot: usize,
    },
    /// A field element is not canonical.
    #[error("slot {slot}: {source}")]
    Field {
        /// Slot number.
        slot: usize,
        /// The cause.
        source: FieldError,
    },
    /// The fields are not the canonical encoding of any transaction.
    #[error("slot {slot}: not a canonical {tx_type:?} encoding")]
    NonCanonical {
        /// Slot number.
        slot: usize,
        /// Its type.
        tx_type: TxType,
    },
}

impl SlotData {
    /// The padding slot.
    pub const NOOP: SlotData = SlotData {
        tx_type: TxType::Noop,
        from: 0,
        to: 0,
        amount: 0,
        fee: 0,
        aux_x: Fr::ZERO,
        aux_y: Fr::ZERO,
        requester: Fr::ZERO,
    };

    /// The packed first field element.
    pub fn packed(&self) -> Fr {
        pack(self.tx_type, self.from, self.to, self.amount, self.fee)
    }

    /// The fixed-size byte encoding.
    pub fn to_bytes(&self) -> [u8; SLOT_BYTES] {
        let mut out = [0u8; SLOT_BYTES];
        out[0] = self.tx_type as u8;
        out[1..5].copy_from_slice(&(self.from as u32).to_le_bytes());
        out[5..9].copy_from_slice(&(self.to as u32).to_le_bytes());
        out[9..17].copy_from_slice(&self.amount.to_le_bytes());
        out[17..25].copy_from_slice(&self.fee.to_le_bytes());
        out[25..57].copy_from_slice(&fr_to_bytes(&self.aux_x));
        out[57..89].copy_from_slice(&fr_to_bytes(&self.aux_y));
        out[89..121].copy_from_slice(&fr_to_bytes(&self.requester));
        out
    }

    /// Decodes one slot, refusing anything that is not the canonical encoding of a transaction.
    pub fn from_bytes(slot: usize, b: &[u8]) -> Result<Self, PublicDataError> {
        if b.len() != SLOT_BYTES {
            return Err(PublicDataError::BadLength(b.len()));
        }
        let tx_type =
            TxType::from_code(b[0]).ok_or(PublicDataError::BadType { slot, code: b[0] })?;
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")) as u64;
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let field = |i: usize| {
            fr_from_bytes(&b[i..i + 32]).map_err(|source| PublicDataError::Field { slot, source })
        };
        let d = SlotData {
            tx_type,
            from: u32_at(1),
            to: u32_at(5),
            amount: u64_at(9),
            fee: u64_at(17),
            aux_x: field(25)?,
            aux_y: field(57)?,
            requester: field(89)?,
        };
        if !d.is_canonical() {
            return Err(PublicDataError::NonCanonical { slot, tx_type });
        }
        Ok(d)
    }

    /// The per-type zero fields the circuit enforces, and addresses below 2^160.
    pub fn is_canonical(&self) -> bool {
        let z = |x: &Fr| x.is_zero();
        let address = |x: &Fr| fits_in_bits(x, 160);
        match self.tx_type {
            TxType::Noop => *self == SlotData::NOOP,
            TxType::Transfer => z(&self.aux_x) && z(&self.aux_y) && z(&self.requester),
            TxType::Deposit => self.from == 0 && self.fee == 0 && address(&self.requester),
            TxType::Withdraw => {
                self.to == 0 && z(&self.aux_y) && z(&self.requester) && address(&self.aux_x)
            }
            TxType::FullExit => {
                self.to == 0
                    && self.fee == 0
                    && z(&self.aux_x)
                    && z(&self.aux_y)
                    && address(&self.requester)
            }
        }
    }
}

/// Encodes a batch's public data.
pub fn encode_public_data(slots: &[SlotData]) -> Vec<u8> {
    slots.iter().flat_map(|s| s.to_bytes()).collect()
}

/// Decodes a batch's public data.
pub fn decode_public_data(bytes: &[u8]) -> Result<Vec<SlotData>, PublicDataError> {
    if !bytes.len().is_multiple_of(SLOT_BYTES) {
        return Err(PublicDataError::BadLength(bytes.len()));
    }
    bytes
        .chunks(SLOT_BYTES)
        .enumerate()
        .map(|(i, c)| SlotData::from_bytes(i, c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_bytes_round_trip_and_canonicality() {
        let pk = SecretKey::from_seed([1; 32]).public_key();
        let slots = [
            SlotData::NOOP,
            SlotData {
                tx_type: TxType::Transfer,
                from: 3,
                to: 7,
                amount: u64::MAX,
                fee: 9,
                aux_x: Fr::zero(),
                aux_y: Fr::zero(),
                requester: Fr::zero(),
            },
            SlotData {
                tx_type: TxType::Deposit,
                from: 0,
                to: 2,
                amount: 5,
                fee: 0,
                aux_x: pk.x(),
                aux_y: pk.y(),
                requester: L1Address([0xcd; 20]).to_field(),
            },
            SlotData {
                tx_type: TxType::Withdraw,
                from: 4,
                to: 0,
                amount: 5,
                fee: 1,
                aux_x: L1Address([0xab; 20]).to_field(),
                aux_y: Fr::zero(),
                requester: Fr::zero(),
            },
            SlotData {
                tx_type: TxType::FullExit,
                from: 4,
                to: 0,
                amount: 77,
                fee: 0,
                aux_x: Fr::zero(),
                aux_y: Fr::zero(),
                requester: L1Address([0xef; 20]).to_field(),
            },
        ];
        let bytes = encode_public_data(&slots);
        assert_eq!(bytes.len(), 5 * SLOT_BYTES);
        assert_eq!(decode_public_data(&bytes).unwrap(), slots);
        // Packed value matches the byte layout of the first 25 bytes.
        for s in &slots {
            let b = s.to_bytes();
            assert_eq!(Fr::from_le_bytes_mod_order(&b[..25]), s.packed());
        }
        let mut bad = bytes.clone();
        bad[0] = 9;
        assert!(matches!(
            decode_public_data(&bad),
            Err(PublicDataError::BadType { .. })
        ));
        // A requester that is not an L1 address, a full exit with a fee, a transfer with a
        // requester: not canonical.
        for (slot, at, byte) in [(2usize, 89 + 20, 1u8), (4, 17, 1), (1, 89, 1)] {
            let mut bad = bytes.clone();
            bad[slot * SLOT_BYTES + at] = byte;
            assert!(
                matches!(
                    decode_public_data(&bad),
                    Err(PublicDataError::NonCanonical { .. })
                ),
                "slot {slot} byte {at}"
            );
        }
        let mut bad = bytes.clone();
        bad[1] = 1; // a noop with a sender
        assert!(matches!(
            decode_public_data(&bad),
            Err(PublicDataError::NonCanonical { .. })
        ));
        assert!(matches!(
            decode_public_data(&bytes[1..]),
            Err(PublicDataError::BadLength(_))
        ));
    }

    #[test]
    fn address_field_round_trip() {
        let a: L1Address = "0x00112233445566778899aabbccddeeff00112233"
            .parse()
            .unwrap();
        assert_eq!(L1Address::from_field(&a.to_field()), Some(a));
        assert!("0x1234".parse::<L1Address>().is_err());
        assert_eq!(L1Address::from_field(&-Fr::from(1u64)), None);
    }

    #[test]
    fn messages_bind_type_and_fields() {
        let sk = SecretKey::from_seed([2; 32]);
        let t = Transfer::signed(&sk, 1, 1, 2, 10, 1, 0);
        let w = Withdraw::signed(&sk, 1, 1, 10, 1, 0, L1Address::default());
        assert_ne!(t.message(1), w.message(1));
        assert_ne!(t.message(1), t.message(2), "chain id is bound");
        assert!(sk.public_key().verify(t.message(1), &t.signature));
        let json = serde_json::to_string(&Tx::Transfer(t)).unwrap();
        assert_eq!(serde_json::from_str::<Tx>(&json).unwrap(), Tx::Transfer(t));
    }
}

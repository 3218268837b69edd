//! Accounts and their leaves.
//!
//! An account is a public key, a `u64` balance, a `u32` nonce and its owner: the L1 address that
//! opened it (the first deposit's payer, or the operator's for account 0 at genesis). Its leaf in
//! the account tree is `Poseidon(pk.x, pk.y, balance, nonce, owner)`; an empty slot is the leaf
//! `0`. "Empty" is encoded as the public key `(0, 0)`, which is not a point of Baby Jubjub,
//! together with balance, nonce and owner zero — the circuit enforces that an empty key never
//! carries any of them.
//!
//! The owner is what lets a user leave without the operator: a full exit queued on L1 by the
//! owner pays out the whole balance, whoever runs the rollup (see [`crate::tx::FullExit`]).

use crate::eddsa::PublicKey;
use crate::poseidon::hash;
use crate::tx::L1Address;
use crate::Fr;
use ark_ff::{AdditiveGroup, Zero};
use serde::{Deserialize, Serialize};

/// A rollup account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The key that signs for this account.
    pub pubkey: PublicKey,
    /// Balance, in the rollup's smallest unit.
    pub balance: u64,
    /// Number of transactions this account has sent.
    pub nonce: u32,
    /// The L1 address that opened the account: a full exit pays only to it.
    pub owner: L1Address,
}

impl Account {
    /// The account's leaf, as field elements.
    pub fn leaf(&self) -> AccountLeaf {
        AccountLeaf {
            pk_x: self.pubkey.x(),
            pk_y: self.pubkey.y(),
            balance: Fr::from(self.balance),
            nonce: Fr::from(self.nonce),
            owner: self.owner.to_field(),
        }
    }
}

/// A leaf as the circuit sees it: five field elements, not necessarily a well-formed account.
/// In JSON, five decimal strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLeaf {
    /// Public key x (0 for an empty leaf).
    #[serde(with = "crate::field::decimal")]
    pub pk_x: Fr,
    /// Public key y (0 for an empty leaf).
    #[serde(with = "crate::field::decimal")]
    pub pk_y: Fr,
    /// Balance.
    #[serde(with = "crate::field::decimal")]
    pub balance: Fr,
    /// Nonce.
    #[serde(with = "crate::field::decimal")]
    pub nonce: Fr,
    /// Owner (an L1 address as a field element).
    #[serde(with = "crate::field::decimal")]
    pub owner: Fr,
}

impl AccountLeaf {
    /// The empty leaf.
    pub const EMPTY: AccountLeaf = AccountLeaf {
        pk_x: Fr::ZERO,
        pk_y: Fr::ZERO,
        balance: Fr::ZERO,
        nonce: Fr::ZERO,
        owner: Fr::ZERO,
    };

    /// Whether the key is the empty marker `(0, 0)`.
    pub fn is_empty(&self) -> bool {
        self.pk_x.is_zero() && self.pk_y.is_zero()
    }

    /// The leaf hash: `0` for an empty key, else `Poseidon(pk.x, pk.y, balance, nonce, owner)`.
    pub fn hash(&self) -> Fr {
        if self.is_empty() {
            Fr::zero()
        } else {
            hash([self.pk_x, self.pk_y, self.balance, self.nonce, self.owner])
        }
    }
}

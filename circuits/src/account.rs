//! Accounts and their leaves.
//!
//! An account is a public key, a `u64` balance and a `u32` nonce. Its leaf in the account tree is
//! `Poseidon(pk.x, pk.y, balance, nonce)`; an empty slot is the leaf `0`. "Empty" is encoded as
//! the public key `(0, 0)`, which is not a point of Baby Jubjub, together with balance and nonce
//! zero — the circuit enforces that an empty key never carries a balance or a nonce.

use crate::eddsa::PublicKey;
use crate::poseidon::hash;
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
}

impl Account {
    /// The account's leaf, as field elements.
    pub fn leaf(&self) -> AccountLeaf {
        AccountLeaf {
            pk_x: self.pubkey.x(),
            pk_y: self.pubkey.y(),
            balance: Fr::from(self.balance),
            nonce: Fr::from(self.nonce),
        }
    }
}

/// A leaf as the circuit sees it: four field elements, not necessarily a well-formed account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountLeaf {
    /// Public key x (0 for an empty leaf).
    pub pk_x: Fr,
    /// Public key y (0 for an empty leaf).
    pub pk_y: Fr,
    /// Balance.
    pub balance: Fr,
    /// Nonce.
    pub nonce: Fr,
}

impl AccountLeaf {
    /// The empty leaf.
    pub const EMPTY: AccountLeaf = AccountLeaf {
        pk_x: Fr::ZERO,
        pk_y: Fr::ZERO,
        balance: Fr::ZERO,
        nonce: Fr::ZERO,
    };

    /// Whether the key is the empty marker `(0, 0)`.
    pub fn is_empty(&self) -> bool {
        self.pk_x.is_zero() && self.pk_y.is_zero()
    }

    /// The leaf hash: `0` for an empty key, else `Poseidon(pk.x, pk.y, balance, nonce)`.
    pub fn hash(&self) -> Fr {
        if self.is_empty() {
            Fr::zero()
        } else {
            hash([self.pk_x, self.pk_y, self.balance, self.nonce])
        }
    }
}

//! What a rollup deployment starts from: its chain id and the operator's account.
//!
//! * **Chain id.** Every signed message binds a chain id ([`crate::tx::signed_message`]), so a
//!   signature made for one deployment is worthless on another. The id is chosen by the L1 at
//!   deployment (the Rust L1 draws it from the operating system's randomness; the EVM contract
//!   derives it from the EVM chain id and its own address) and is *not* part of the circuit:
//!   the batch circuit takes it as a witness, uses it in every signature check, and starts the
//!   aux chain from it, so the public `aux_chain` the L1 recomputes from its own chain id binds
//!   the proof to that chain id (see [`crate::public`]). One trusted setup serves every
//!   deployment of a circuit shape.
//! * **The operator's account.** Account [`crate::params::OPERATOR_INDEX`], which collects every fee, belongs
//!   to the operator from genesis: the genesis state holds it, with balance and nonce 0, so no
//!   depositor can take it by depositing first.

use crate::account::Account;
use crate::eddsa::PublicKey;
use crate::tx::L1Address;
use serde::{Deserialize, Serialize};

/// A deployment's starting point; with the circuit parameters it fixes the genesis state and
/// root ([`crate::state::State::genesis`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The deployment's chain id, bound into every signed message.
    pub chain_id: u64,
    /// The operator's L2 key: the key of account [`crate::params::OPERATOR_INDEX`] from genesis.
    pub operator: PublicKey,
    /// The operator's L1 address: the owner of that account (where a full exit of it pays).
    pub operator_l1: L1Address,
}

impl Genesis {
    /// The operator's account at genesis (index [`crate::params::OPERATOR_INDEX`]).
    pub fn operator_account(&self) -> Account {
        Account {
            pubkey: self.operator,
            balance: 0,
            nonce: 0,
            owner: self.operator_l1,
        }
    }
}

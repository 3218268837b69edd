//! An account leaf as constraints: the twin of [`crate::account::AccountLeaf`].

use crate::account::AccountLeaf;
use crate::poseidon::gadget::poseidon_var;
use crate::Fr;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// A leaf's five fields as variables.
#[derive(Clone)]
pub struct LeafVar {
    /// Public key x.
    pub pk_x: FpVar<Fr>,
    /// Public key y.
    pub pk_y: FpVar<Fr>,
    /// Balance.
    pub balance: FpVar<Fr>,
    /// Nonce.
    pub nonce: FpVar<Fr>,
    /// Owner (L1 address).
    pub owner: FpVar<Fr>,
}

impl LeafVar {
    /// Allocates a leaf's fields as witnesses.
    pub fn new_witness(
        cs: ConstraintSystemRef<Fr>,
        leaf: &AccountLeaf,
    ) -> Result<Self, SynthesisError> {
        Ok(Self {
            pk_x: FpVar::new_witness(cs.clone(), || Ok(leaf.pk_x))?,
            pk_y: FpVar::new_witness(cs.clone(), || Ok(leaf.pk_y))?,
            balance: FpVar::new_witness(cs.clone(), || Ok(leaf.balance))?,
            nonce: FpVar::new_witness(cs.clone(), || Ok(leaf.nonce))?,
            owner: FpVar::new_witness(cs, || Ok(leaf.owner))?,
        })
    }

    /// Whether the key is the empty marker `(0, 0)`, enforcing the empty-leaf rule: an empty key
    /// carries balance, nonce and owner 0, so "empty" has exactly one encoding.
    pub fn is_empty(&self) -> Result<Boolean<Fr>, SynthesisError> {
        let empty = self.pk_x.is_zero()? & self.pk_y.is_zero()?;
        self.balance
            .conditional_enforce_equal(&FpVar::zero(), &empty)?;
        self.nonce
            .conditional_enforce_equal(&FpVar::zero(), &empty)?;
        self.owner
            .conditional_enforce_equal(&FpVar::zero(), &empty)?;
        Ok(empty)
    }

    /// The leaf hash: `0` when `empty`, else `Poseidon(pk.x, pk.y, balance, nonce, owner)`.
    pub fn hash(&self, empty: &Boolean<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let h = poseidon_var(&[
            self.pk_x.clone(),
            self.pk_y.clone(),
            self.balance.clone(),
            self.nonce.clone(),
            self.owner.clone(),
        ])?;
        empty.select(&FpVar::zero(), &h)
    }
}

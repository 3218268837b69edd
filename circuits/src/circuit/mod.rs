//! The batch circuit: every rule of a valid batch, as constraints.
//!
//! [`BatchCircuit`] is a `ConstraintSynthesizer` for one [`CircuitParams`] (depth, batch size).
//! Its public inputs are `[old_root, new_root, aux_chain, packed_0, …, packed_{B−1}]` (see
//! [`crate::public`]). The deployment's chain id is a witness: every signature is checked over
//! it and the aux chain starts from it, so the public `aux_chain` binds it (rule 16).
//!
//! ## The rules, per slot (see [`slot`] for the code)
//!
//! 1. **Type.** Exactly one of noop / transfer / deposit / withdraw / full exit.
//! 2. **Canonical encoding.** Fields a type does not use are zero (a noop is all zeros; a
//!    deposit has no sender, fee or nonce; a transfer no aux and no requester; a withdrawal no
//!    receiver and no requester; a full exit no receiver, fee, nonce or aux), and a withdrawal
//!    address is below 2^160.
//! 3. **Ranges.** Amount and fee are `u64`.
//! 4. **Sender membership.** The sender's old leaf lies at index `from` under the running root;
//!    the path bits are boolean and spell `from`.
//! 5. **Signature.** For transfers and withdrawals, a valid EdDSA signature by the sender's key
//!    over `Poseidon(chain_id, packed, aux_x, nonce)`.
//! 6. **Nonce.** For transfers and withdrawals, the signed nonce is the sender's nonce; the
//!    sender's nonce becomes `nonce + 1` and stays a `u32`.
//!
//!    6b. **Full exit.** A full exit's amount is the account's whole balance when the requester
//!    is the account's owner, and 0 otherwise; the account is debited that amount. No
//!    signature: the L1 queued the request for the requester, and only the owner is paid.
//! 7. **Balance.** The sender's new balance `balance − amount − fee` is a `u64`, i.e. the
//!    balance covered amount + fee (a wrapped subtraction is ≈ p and fails the range check).
//! 8. **Sender update.** The running root becomes the root of the sender's new leaf.
//! 9. **Receiver membership.** The receiver's leaf lies at `to` under that root.
//! 10. **Receiver exists / key matches.** A transfer's receiver is not empty; a deposit goes
//!     to an empty leaf (creating the account) or to a leaf with the deposit's key.
//! 11. **No overflow.** The receiver's new balance `balance + credit` is a `u64`.
//!
//!     11b. **Owner.** A deposit that opens an account (an empty leaf) makes its payer (the
//!     slot's requester) the owner; every other update keeps the owner.
//! 12. **Receiver update.** The running root becomes the root of the receiver's new leaf.
//! 13. **Public data.** The slot's public input equals its `packed` element, built from the
//!     very variables the rules above constrain (type, indices, amount, fee).
//! 14. **Aux chain.** A slot's L1 data (`aux_x, aux_y, requester`: a deposit's key and payer, a
//!     withdrawal's address, a full exit's requester) enters the aux hash chain; transfers and
//!     noops leave it unchanged (their fields are zero by rule 2).
//!
//! ## Per batch
//!
//! 15. **Fees.** The sum of all fees is credited to the operator's account (index 0), whose new
//!     balance is a `u64`.
//! 16. **Roots and chain.** The first slot starts from the public `old_root`; the root after the
//!     fee credit equals the public `new_root`, and the aux chain, started from the chain id the
//!     signatures were checked over, equals the public `aux_chain` after the last slot.
//!
//! Every leaf hash also enforces the empty-leaf rule (an empty key has balance, nonce and owner
//! 0).

pub mod leaf;
pub mod meter;
pub mod slot;

use crate::merkle::gadget::PathVar;
use crate::params::{CircuitParams, OPERATOR_INDEX};
use crate::range::gadget::enforce_u64;
use crate::witness::BatchWitness;
use crate::Fr;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError,
};
use leaf::LeafVar;
use meter::{Component, ConstraintReport, Meter, Span};
use slot::{synthesize_slot, Accumulators};

/// Errors building a circuit.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// The witness does not match the parameters (slot count or path lengths).
    #[error(
        "witness does not fit the circuit: {got} slots for {expected}, or paths of the wrong depth"
    )]
    WrongShape {
        /// Slots in the witness.
        got: usize,
        /// Slots in the circuit.
        expected: usize,
    },
    /// Synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// The batch circuit for one witness (or for setup: any valid witness of the right shape).
#[derive(Debug, Clone)]
pub struct BatchCircuit {
    /// The witness the constraints are evaluated on.
    pub witness: BatchWitness,
}

impl BatchCircuit {
    /// A circuit for `witness`, checking its shape.
    pub fn new(witness: BatchWitness) -> Result<Self, CircuitError> {
        let expected = witness.params.batch_size;
        let depth = witness.params.depth;
        let path_ok =
            |p: &crate::merkle::PathWitness| witness.params.validate().is_ok() && p.fits(depth);
        let paths_ok = path_ok(&witness.operator.path)
            && witness
                .slots
                .iter()
                .all(|s| path_ok(&s.sender.path) && path_ok(&s.receiver.path));
        if witness.slots.len() != expected || witness.params.validate().is_err() || !paths_ok {
            return Err(CircuitError::WrongShape {
                got: witness.slots.len(),
                expected,
            });
        }
        Ok(Self { witness })
    }

    /// The circuit's parameters.
    pub fn params(&self) -> &CircuitParams {
        &self.witness.params
    }

    /// The public inputs (`3 + batch_size` elements, see [`crate::public`]).
    pub fn public_inputs(&self) -> Vec<Fr> {
        self.witness.public_inputs()
    }

    /// Synthesizes into a fresh constraint system and reports whether it is satisfied, with
    /// the spans of every rule (for tests and `zkr circuit`).
    pub fn check(&self) -> Result<CheckResult, CircuitError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let spans = self.synthesize(cs.clone())?;
        let satisfied = cs.is_satisfied()?;
        let first_failure = if satisfied {
            None
        } else {
            cs.which_is_unsatisfied()?.and_then(|s| {
                s.rsplit(" - ")
                    .next()
                    .and_then(|i| i.trim().parse::<usize>().ok())
            })
        };
        Ok(CheckResult {
            satisfied,
            num_constraints: cs.num_constraints(),
            num_witness_variables: cs.num_witness_variables(),
            num_instance_variables: cs.num_instance_variables(),
            first_failure,
            spans,
        })
    }

    /// Constraint counts per component and per transaction type.
    pub fn constraint_report(&self) -> Result<ConstraintReport, CircuitError> {
        let r = self.check()?;
        let p = self.params();
        Ok(ConstraintReport::from_spans(
            p.depth,
            p.batch_size,
            &r.spans,
            r.num_constraints,
            r.num_witness_variables,
            r.num_instance_variables,
        ))
    }

    /// Generates the constraints, returning the span of every rule.
    pub fn synthesize(&self, cs: ConstraintSystemRef<Fr>) -> Result<Vec<Span>, SynthesisError> {
        let w = &self.witness;
        let p = w.params;
        let m = Meter::new(cs.clone());

        // The public inputs, allocated first and in the order of `PublicInputs::to_vec`.
        let input = |v: Fr| FpVar::new_input(cs.clone(), || Ok(v));
        let old_root = input(w.public.old_root)?;
        let new_root = input(w.public.new_root)?;
        let aux_chain = input(w.public.aux_chain)?;
        let packed = (0..p.batch_size)
            .map(|i| input(w.public.packed.get(i).copied().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;

        // The chain id every signature is checked over; the aux chain starts from it.
        let chain_id = FpVar::new_witness(cs.clone(), || Ok(w.chain_id))?;

        let mut root = old_root;
        let mut acc = Accumulators {
            aux_chain: chain_id.clone(),
            chain_id,
            fee_total: FpVar::zero(),
        };
        for (i, slot) in w.slots.iter().enumerate() {
            root = synthesize_slot(cs.clone(), &m, i, &root, &packed[i], slot, &mut acc)?;
        }

        // Rule 15: the fees go to the operator.
        let root = m.span(
            None,
            Component::FeeCredit,
            "fees credited to the operator",
            || {
                let op = LeafVar::new_witness(cs.clone(), &w.operator.leaf)?;
                let index = FpVar::constant(Fr::from(OPERATOR_INDEX));
                let path = PathVar::new(cs.clone(), &index, &w.operator.path)?;
                let empty = op.is_empty()?;
                path.root(&op.hash(&empty)?)?.enforce_equal(&root)?;
                let credited = LeafVar {
                    balance: &op.balance + &acc.fee_total,
                    ..op
                };
                enforce_u64(&credited.balance)?;
                let empty = credited.is_empty()?;
                path.root(&credited.hash(&empty)?)
            },
        )?;

        // Rule 16: the batch ends at the public new root and aux chain.
        m.span(
            None,
            Component::Roots,
            "new root and aux chain are public",
            || {
                root.enforce_equal(&new_root)?;
                acc.aux_chain.enforce_equal(&aux_chain)
            },
        )?;
        Ok(m.into_spans())
    }
}

impl ConstraintSynthesizer<Fr> for BatchCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs).map(|_| ())
    }
}

/// The outcome of [`BatchCircuit::check`].
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// Whether every constraint holds.
    pub satisfied: bool,
    /// Number of constraints.
    pub num_constraints: usize,
    /// Number of witness variables.
    pub num_witness_variables: usize,
    /// Number of instance variables (1 + public inputs).
    pub num_instance_variables: usize,
    /// Index of the first unsatisfied constraint.
    pub first_failure: Option<usize>,
    /// Spans of every rule.
    pub spans: Vec<Span>,
}

impl CheckResult {
    /// The rule (and slot) the first unsatisfied constraint belongs to.
    pub fn failed_rule(&self) -> Option<(Option<usize>, &'static str)> {
        let i = self.first_failure?;
        self.spans
            .iter()
            .filter(|s| s.start <= i && i < s.end)
            .min_by_key(|s| s.end - s.start)
            .map(|s| (s.slot, s.rule))
    }
}

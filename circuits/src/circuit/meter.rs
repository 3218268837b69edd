//! Constraint accounting: which rule and which component each constraint belongs to.
//!
//! The batch circuit wraps every rule in [`Meter::span`], which records the range of constraint
//! indices the rule produced. [`ConstraintReport`] sums them per component (what `zkr circuit`
//! prints), and the soundness tests use the spans to check that a broken witness fails in the
//! rule it breaks, not somewhere else by accident.

use crate::Fr;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Where constraints go, at the granularity `zkr circuit` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Merkle path hashing and position selection (old and new root of each update).
    MerklePaths,
    /// Leaf hashes (old and new) and the empty-leaf rule.
    LeafHashes,
    /// EdDSA: message hash, challenge, scalar multiplications.
    Signature,
    /// u64 / u32 / 160-bit range checks.
    RangeChecks,
    /// Each slot's packed element equals its public input.
    PublicData,
    /// The hash chain of deposit keys and withdrawal addresses.
    AuxChain,
    /// Type flags, canonical encodings, nonce and balance arithmetic, selections.
    TxLogic,
    /// Crediting the batch's fees to the operator (once per batch, its path included).
    FeeCredit,
    /// The batch's final root and aux chain equal their public inputs.
    Roots,
}

impl Component {
    /// All components, in report order.
    pub const ALL: [Component; 9] = [
        Component::MerklePaths,
        Component::LeafHashes,
        Component::Signature,
        Component::RangeChecks,
        Component::PublicData,
        Component::AuxChain,
        Component::TxLogic,
        Component::FeeCredit,
        Component::Roots,
    ];

    /// snake_case name (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            Component::MerklePaths => "merkle_paths",
            Component::LeafHashes => "leaf_hashes",
            Component::Signature => "signature",
            Component::RangeChecks => "range_checks",
            Component::PublicData => "public_data",
            Component::AuxChain => "aux_chain",
            Component::TxLogic => "tx_logic",
            Component::FeeCredit => "fee_credit",
            Component::Roots => "roots",
        }
    }
}

/// A contiguous range of constraints produced by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The slot, or `None` for batch-level rules.
    pub slot: Option<usize>,
    /// The component the rule belongs to.
    pub component: Component,
    /// The rule, in words (e.g. "sender balance covers amount + fee").
    pub rule: &'static str,
    /// First constraint index.
    pub start: usize,
    /// One past the last constraint index.
    pub end: usize,
}

/// Records spans while a circuit is synthesized.
#[derive(Debug)]
pub struct Meter {
    cs: ConstraintSystemRef<Fr>,
    spans: RefCell<Vec<Span>>,
}

impl Meter {
    /// A meter over `cs`.
    pub fn new(cs: ConstraintSystemRef<Fr>) -> Self {
        Self {
            cs,
            spans: RefCell::new(Vec::new()),
        }
    }

    /// Runs `f` and records the constraints it added under `rule`.
    pub fn span<T>(
        &self,
        slot: Option<usize>,
        component: Component,
        rule: &'static str,
        f: impl FnOnce() -> Result<T, SynthesisError>,
    ) -> Result<T, SynthesisError> {
        let start = self.cs.num_constraints();
        let out = f()?;
        let end = self.cs.num_constraints();
        if end > start {
            self.spans.borrow_mut().push(Span {
                slot,
                component,
                rule,
                start,
                end,
            });
        }
        Ok(out)
    }

    /// The recorded spans.
    pub fn into_spans(self) -> Vec<Span> {
        self.spans.into_inner()
    }
}

/// Constraint counts of a batch circuit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConstraintReport {
    /// Tree depth (address bits).
    pub depth: u32,
    /// Slots per batch.
    pub batch_size: usize,
    /// Counts.
    pub constraints: ConstraintCounts,
    /// Witness variables.
    pub witness_variables: usize,
    /// Public inputs (including the constant 1).
    pub instance_variables: usize,
}

/// The `constraints` object of [`ConstraintReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConstraintCounts {
    /// All constraints of the circuit.
    pub total: usize,
    /// Constraints of one slot holding each transaction type. Every slot enforces every rule
    /// (the circuit's shape cannot depend on the witness), so the four are equal.
    pub per_tx: BTreeMap<&'static str, usize>,
    /// Per component, summed over the whole batch.
    pub components: BTreeMap<&'static str, usize>,
    /// Per component, for one slot (the last one).
    pub per_slot_components: BTreeMap<&'static str, usize>,
    /// Batch-level constraints (fee credit and commitment), paid once per batch.
    pub per_batch_overhead: usize,
}

impl ConstraintReport {
    /// Builds the report from the spans of a synthesized circuit.
    pub fn from_spans(
        depth: u32,
        batch_size: usize,
        spans: &[Span],
        total: usize,
        witness_variables: usize,
        instance_variables: usize,
    ) -> Self {
        let mut components: BTreeMap<&'static str, usize> =
            Component::ALL.iter().map(|c| (c.name(), 0)).collect();
        let mut slot0: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut overhead = 0;
        for s in spans {
            let n = s.end - s.start;
            *components.entry(s.component.name()).or_default() += n;
            match s.slot {
                Some(0) => *slot0.entry(s.component.name()).or_default() += n,
                Some(_) => {}
                None => overhead += n,
            }
        }
        let per_slot: usize = slot0.values().sum();
        // Every slot enforces every rule, so every type costs the same.
        let per_tx = crate::tx::TxType::ALL
            .into_iter()
            .map(|t| (t.name(), per_slot))
            .collect();
        Self {
            depth,
            batch_size,
            constraints: ConstraintCounts {
                total,
                per_tx,
                components,
                per_slot_components: slot0,
                per_batch_overhead: overhead,
            },
            witness_variables,
            instance_variables,
        }
    }
}

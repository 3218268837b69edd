//! Merkle paths as constraints: the twin of [`super::MerkleProof`].
//!
//! A [`PathVar`] holds the position bits of one leaf index and the siblings of its path. The bits
//! are constrained boolean and tied to the index (`Σ bit_i · 2^i = index`), so the path can only
//! be the path of that index. [`PathVar::root`] hashes a leaf up the path; calling it for the old
//! and the new leaf with the same `PathVar` is a verify-and-update: the siblings and the
//! position selectors are shared between the two.

use super::PathWitness;
use crate::poseidon::gadget::poseidon_var;
use crate::Fr;
use ark_ff::AdditiveGroup;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// One level of a path: the position selectors and the three siblings.
#[derive(Clone)]
struct LevelVar {
    /// `e[p]` is 1 exactly when the node sits at position `p` (0..4).
    e: [FpVar<Fr>; 4],
    siblings: [FpVar<Fr>; 3],
    /// Sibling-only products, shared by every leaf hashed up this path.
    e0_s0_minus_s1: FpVar<Fr>,
    e3_s2_minus_s1: FpVar<Fr>,
}

/// The authentication path of one leaf index, allocated as witnesses.
#[derive(Clone)]
pub struct PathVar {
    levels: Vec<LevelVar>,
}

impl PathVar {
    /// Allocates the path and constrains its bits to be boolean and to spell `index`.
    pub fn new(
        cs: ConstraintSystemRef<Fr>,
        index: &FpVar<Fr>,
        w: &PathWitness,
    ) -> Result<Self, SynthesisError> {
        let bits = w
            .bits
            .iter()
            .map(|b| FpVar::new_witness(cs.clone(), || Ok(*b)))
            .collect::<Result<Vec<_>, _>>()?;
        // Booleanity: b · (b − 1) = 0.
        for b in &bits {
            b.mul_equals(&(b - Fr::from(1u64)), &FpVar::zero())?;
        }
        // The bits spell the index.
        let mut weight = Fr::from(1u64);
        let mut sum = FpVar::zero();
        for b in &bits {
            sum += b * weight;
            weight.double_in_place();
        }
        sum.enforce_equal(index)?;

        let levels = w
            .siblings
            .iter()
            .zip(bits.chunks(2))
            .map(|(sib, b)| {
                let siblings = [0, 1, 2].map(|k| FpVar::new_witness(cs.clone(), || Ok(sib[k])));
                let [s0, s1, s2] = siblings;
                let siblings = [s0?, s1?, s2?];
                let b01 = &b[0] * &b[1];
                let e = [
                    FpVar::one() - &b[0] - &b[1] + &b01,
                    &b[0] - &b01,
                    &b[1] - &b01,
                    b01,
                ];
                let e0_s0_minus_s1 = &e[0] * (&siblings[0] - &siblings[1]);
                let e3_s2_minus_s1 = &e[3] * (&siblings[2] - &siblings[1]);
                Ok(LevelVar {
                    e,
                    siblings,
                    e0_s0_minus_s1,
                    e3_s2_minus_s1,
                })
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?;
        Ok(Self { levels })
    }

    /// The root reached by hashing `leaf` up this path (3 + 297 constraints per level).
    ///
    /// The children are `cur` and the three siblings in some order, so once the first three
    /// are placed (one product each) the fourth is their sum's complement, a linear
    /// combination: `c3 = cur + s0 + s1 + s2 − c0 − c1 − c2`.
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let mut cur = leaf.clone();
        for l in &self.levels {
            let [s0, s1, s2] = &l.siblings;
            let c0 = s0 + &l.e[0] * (&cur - s0);
            let c1 = s1 + &l.e0_s0_minus_s1 + &l.e[1] * (&cur - s1);
            let c2 = s1 + &l.e[2] * (&cur - s1) + &l.e3_s2_minus_s1;
            let c3 = &cur + s0 + s1 + s2 - &c0 - &c1 - &c2;
            cur = poseidon_var(&[c0, c1, c2, c3])?;
        }
        Ok(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::SparseMerkleTree;
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::ConstraintSystem;
    use proptest::prelude::*;

    fn run(
        tree: &SparseMerkleTree,
        index: u64,
        w: &PathWitness,
        leaf: Fr,
        new_leaf: Fr,
    ) -> (bool, Fr, Fr) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let idx = FpVar::new_witness(cs.clone(), || Ok(Fr::from(index))).unwrap();
        let path = PathVar::new(cs.clone(), &idx, w).unwrap();
        let root = FpVar::new_input(cs.clone(), || Ok(tree.root())).unwrap();
        let leaf = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
        path.root(&leaf).unwrap().enforce_equal(&root).unwrap();
        let new_leaf = FpVar::new_witness(cs.clone(), || Ok(new_leaf)).unwrap();
        let new_root = path.root(&new_leaf).unwrap();
        (
            cs.is_satisfied().unwrap(),
            root.value().unwrap(),
            new_root.value().unwrap(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// gadget == native: verify-and-update gives the native tree's new root.
        #[test]
        fn update_matches_native(fill in prop::collection::vec((0u64..64, 1u64..1000), 0..6), index in 0u64..64, v in 1u64..1000) {
            let mut tree = SparseMerkleTree::new(6);
            for (i, x) in fill { tree.set(i, Fr::from(x)).unwrap(); }
            let old = tree.leaf(index).unwrap();
            let w = PathWitness::from_proof(&tree.proof(index).unwrap());
            let mut updated = tree.clone();
            updated.set(index, Fr::from(v)).unwrap();
            let (ok, _, new_root) = run(&tree, index, &w, old, Fr::from(v));
            prop_assert!(ok);
            prop_assert_eq!(new_root, updated.root());
        }
    }

    #[test]
    fn wrong_sibling_leaf_or_index_is_unsatisfied() {
        let mut tree = SparseMerkleTree::new(4);
        tree.set(6, Fr::from(11u64)).unwrap();
        tree.set(9, Fr::from(12u64)).unwrap();
        let w = PathWitness::from_proof(&tree.proof(6).unwrap());
        assert!(run(&tree, 6, &w, Fr::from(11u64), Fr::from(1u64)).0);
        // Wrong leaf.
        assert!(!run(&tree, 6, &w, Fr::from(10u64), Fr::from(1u64)).0);
        // Wrong sibling.
        let mut bad = w.clone();
        bad.siblings[1][2] += Fr::from(1u64);
        assert!(!run(&tree, 6, &bad, Fr::from(11u64), Fr::from(1u64)).0);
        // Bits of index 6 claimed for index 7.
        assert!(!run(&tree, 7, &w, Fr::from(11u64), Fr::from(1u64)).0);
    }

    #[test]
    fn each_level_costs_300_per_leaf() {
        let tree = SparseMerkleTree::new(6);
        let w = PathWitness::from_proof(&tree.proof(37).unwrap());
        let cs = ConstraintSystem::<Fr>::new_ref();
        let idx = FpVar::new_witness(cs.clone(), || Ok(Fr::from(37u64))).unwrap();
        let path = PathVar::new(cs.clone(), &idx, &w).unwrap();
        let leaf = FpVar::new_witness(cs.clone(), || Ok(Fr::from(0u64))).unwrap();
        let n = cs.num_constraints();
        let root = path.root(&leaf).unwrap();
        assert_eq!(cs.num_constraints() - n, 3 * 300);
        assert_eq!(root.value().unwrap(), tree.root());
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn non_boolean_bits_are_unsatisfied() {
        // Index 2 written as bits [2, 0, 0, 0]: the sum is right, the bits are not boolean.
        let tree = SparseMerkleTree::new(4);
        let mut w = PathWitness::from_proof(&tree.proof(2).unwrap());
        w.bits = vec![
            Fr::from(2u64),
            Fr::from(0u64),
            Fr::from(0u64),
            Fr::from(0u64),
        ];
        assert!(!run(&tree, 2, &w, Fr::from(0u64), Fr::from(0u64)).0);
    }
}

//! Merkle paths as constraints: the twin of [`super::MerkleProof`].
//!
//! A [`PathVar`] holds the position bits of one leaf index and the siblings of its path. The bits
//! are constrained boolean and tied to the index (`Σ bit_i · 2^i = index`), so the path can only
//! be the path of that index. [`PathVar::root`] hashes a leaf up the path; calling it for the old
//! and the new leaf with the same `PathVar` is a verify-and-update: the siblings, the position
//! selectors and the sibling-only products are shared between the two.
//!
//! Placing the node among its `n − 1` siblings (`n` = 4 or 8 children, `k` = 2 or 3 bits): the
//! one-hot selectors `e_j` are polynomials in the level's bits (`2^k − k − 1` products: 1 or 4);
//! with `g_j = [j < position] = Σ_{i > j} e_i`, child `j` is
//! `s_(j−1) + g_j·(s_j − s_(j−1)) + e_j·(cur − s_(j−1))` (child 0: `s_0 + e_0·(cur − s_0)`),
//! where `g_j·(s_j − s_(j−1))` involves siblings only (`n − 2` products per path) and
//! `e_j·(cur − s_(j−1))` is one product per child and leaf; the last child is the
//! complement of the others in `cur + Σ s`, a linear combination. Per level and leaf hashed:
//! 3 + 297 (4-ary) or 7 + 402 (8-ary) constraints.

use super::PathWitness;
use crate::poseidon::gadget::poseidon_var;
use crate::Fr;
use ark_ff::AdditiveGroup;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};

/// One level of a path: the position selectors, the siblings, and the sibling-only products.
#[derive(Clone)]
struct LevelVar {
    /// `e[p]` is 1 exactly when the node sits at position `p`.
    e: Vec<FpVar<Fr>>,
    siblings: Vec<FpVar<Fr>>,
    /// `shift[j − 1] = g_j·(s_j − s_(j−1))` for `j = 1 .. n − 2`.
    shift: Vec<FpVar<Fr>>,
}

impl LevelVar {
    fn new(bits: &[FpVar<Fr>], siblings: Vec<FpVar<Fr>>) -> Result<Self, SynthesisError> {
        let n = 1usize << bits.len();
        // mono[mask] = Π_{t ∈ mask} bit_t.
        let mut mono: Vec<FpVar<Fr>> = vec![FpVar::one(); n];
        for mask in 1..n {
            let low = mask.trailing_zeros() as usize;
            let rest = mask & (mask - 1);
            mono[mask] = if rest == 0 {
                bits[low].clone()
            } else {
                &mono[rest] * &bits[low]
            };
        }
        // e_j = Π_t (bit_t if t ∈ j else 1 − bit_t) = Σ_{mask ⊇ j} (−1)^{|mask \ j|} mono[mask].
        let e: Vec<FpVar<Fr>> = (0..n)
            .map(|j| {
                (0..n)
                    .filter(|mask| mask & j == j)
                    .fold(FpVar::zero(), |acc, mask| {
                        if (mask ^ j).count_ones() % 2 == 0 {
                            acc + &mono[mask]
                        } else {
                            acc - &mono[mask]
                        }
                    })
            })
            .collect();
        let shift = (1..n - 1)
            .map(|j| {
                let g_j = e[j + 1..].iter().fold(FpVar::zero(), |a, x| a + x);
                g_j * (&siblings[j] - &siblings[j - 1])
            })
            .collect();
        Ok(Self { e, siblings, shift })
    }

    /// The children of this level's node, with `cur` at the position.
    fn children(&self, cur: &FpVar<Fr>) -> Vec<FpVar<Fr>> {
        let s = &self.siblings;
        let n = self.e.len();
        let mut c = Vec::with_capacity(n);
        c.push(&s[0] + &self.e[0] * (cur - &s[0]));
        for j in 1..n - 1 {
            c.push(&s[j - 1] + &self.shift[j - 1] + &self.e[j] * (cur - &s[j - 1]));
        }
        let total = s.iter().fold(cur.clone(), |a, x| a + x);
        let last = c.iter().fold(total, |a, x| a - x);
        c.push(last);
        c
    }
}

/// The authentication path of one leaf index, allocated as witnesses.
#[derive(Clone)]
pub struct PathVar {
    levels: Vec<LevelVar>,
}

impl PathVar {
    /// Allocates the path and constrains its bits to be boolean and to spell `index`.
    ///
    /// The shape (bits per level) is read from the witness's siblings (3 or 7 per level); the
    /// circuit checks it against its depth before synthesis ([`PathWitness::fits`]).
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

        let mut rest = &bits[..];
        let mut levels = Vec::with_capacity(w.siblings.len());
        for sib in &w.siblings {
            let k = (sib.len() + 1).trailing_zeros() as usize;
            if !matches!(sib.len(), 3 | 7) || rest.len() < k {
                return Err(SynthesisError::Unsatisfiable);
            }
            let (level_bits, tail) = rest.split_at(k);
            rest = tail;
            let siblings = sib
                .iter()
                .map(|s| FpVar::new_witness(cs.clone(), || Ok(*s)))
                .collect::<Result<Vec<_>, _>>()?;
            levels.push(LevelVar::new(level_bits, siblings)?);
        }
        if !rest.is_empty() {
            return Err(SynthesisError::Unsatisfiable);
        }
        Ok(Self { levels })
    }

    /// The root reached by hashing `leaf` up this path (per level 3 + 297 constraints when
    /// 4-ary, 7 + 402 when 8-ary).
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
        let mut cur = leaf.clone();
        for l in &self.levels {
            cur = poseidon_var(&l.children(&cur))?;
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
        fn update_matches_native(depth in prop::sample::select(vec![2u32, 4, 6, 8]), fill in prop::collection::vec((0u64..256, 1u64..1000), 0..6), index in 0u64..256, v in 1u64..1000) {
            let index = index % (1 << depth);
            let mut tree = SparseMerkleTree::new(depth);
            let fill: Vec<(u64, u64)> = fill.into_iter().map(|(i, x)| (i % (1 << depth), x)).collect();
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
    fn constraint_costs_per_level() {
        // depth 4: two 4-ary levels; depth 6: two 8-ary levels; depth 8: two 8-ary, one 4-ary.
        for (depth, index, path_cost, root_cost) in [
            (4u32, 9u64, 5 + 2 * 3, 2 * 300),
            (6, 37, 7 + 2 * 10, 2 * 409),
            (8, 200, 9 + 2 * 10 + 3, 2 * 409 + 300),
        ] {
            let tree = SparseMerkleTree::new(depth);
            let w = PathWitness::from_proof(&tree.proof(index).unwrap());
            let cs = ConstraintSystem::<Fr>::new_ref();
            let idx = FpVar::new_witness(cs.clone(), || Ok(Fr::from(index))).unwrap();
            let n = cs.num_constraints();
            let path = PathVar::new(cs.clone(), &idx, &w).unwrap();
            assert_eq!(cs.num_constraints() - n, path_cost, "depth {depth} path");
            let leaf = FpVar::new_witness(cs.clone(), || Ok(Fr::from(0u64))).unwrap();
            let n = cs.num_constraints();
            let root = path.root(&leaf).unwrap();
            assert_eq!(cs.num_constraints() - n, root_cost, "depth {depth} root");
            assert_eq!(root.value().unwrap(), tree.root());
            assert!(cs.is_satisfied().unwrap());
        }
    }

    #[test]
    fn wrong_sibling_or_index_at_8_ary_levels_is_unsatisfied() {
        let mut tree = SparseMerkleTree::new(8);
        tree.set(200, Fr::from(11u64)).unwrap();
        tree.set(13, Fr::from(12u64)).unwrap();
        let w = PathWitness::from_proof(&tree.proof(200).unwrap());
        assert!(run(&tree, 200, &w, Fr::from(11u64), Fr::from(1u64)).0);
        for (level, k) in [(0usize, 0usize), (0, 6), (1, 3), (2, 2)] {
            let mut bad = w.clone();
            bad.siblings[level][k] += Fr::from(1u64);
            assert!(
                !run(&tree, 200, &bad, Fr::from(11u64), Fr::from(1u64)).0,
                "{level} {k}"
            );
        }
        assert!(!run(&tree, 201, &w, Fr::from(11u64), Fr::from(1u64)).0);
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

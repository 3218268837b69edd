//! The account tree: a sparse Merkle tree of Poseidon hashes, 8-ary where the depth allows.
//!
//! A tree of depth `d` (address bits) has levels of 3 address bits (8 children) and, when `d` is
//! not a multiple of 3, one or two levels of 2 bits (4 children) at the top: `d = 3q` gives `q`
//! 8-ary levels, `d = 3q + 2` adds one 4-ary level, `d = 3q + 1` uses `q − 1` 8-ary and two
//! 4-ary levels ([`level_bits`]). Each internal node is `Poseidon(children)`, and an empty leaf
//! is `0`. Only non-empty subtrees are stored; an empty subtree of height `h` hashes to the
//! precomputed `empty[h]`.
//!
//! Why 8-ary: a binary path of depth 24 costs 24 Poseidon(2) hashes (24 × 240 = 5,760
//! constraints), a 4-ary path 12 Poseidon(4) hashes (12 × 297 = 3,564), an 8-ary path 8
//! Poseidon(8) hashes (8 × 402 = 3,216), plus a few constraints per level to place the node
//! among its siblings (`zkr circuit` prints the counts).

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::poseidon::poseidon;
use crate::Fr;
use ark_ff::Zero;
use std::collections::HashMap;

/// Merkle errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The index does not address a leaf of this tree.
    #[error("leaf index {index} out of range for a tree of depth {depth}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree's depth in address bits.
        depth: u32,
    },
    /// A proof has the wrong number of levels.
    #[error("proof has {got} levels, expected {expected}")]
    BadProofLength {
        /// Levels in the proof.
        got: usize,
        /// Levels of the tree.
        expected: usize,
    },
}

/// Address bits per level, leaf level first: 3 (8-ary) for as many levels as the depth allows,
/// then one or two levels of 2 (4-ary) for the rest. `depth` is at least 2.
pub fn level_bits(depth: u32) -> Vec<u32> {
    assert!(depth >= 2, "a tree has at least 2 address bits");
    let (eights, fours) = match depth % 3 {
        0 => (depth / 3, 0),
        1 => (depth / 3 - 1, 2),
        _ => (depth / 3, 1),
    };
    let mut bits = vec![3; eights as usize];
    bits.extend(std::iter::repeat_n(2, fours));
    bits
}

/// Hash of a node's children (4 or 8 of them).
pub fn node_hash(children: &[Fr]) -> Fr {
    poseidon(children).expect("4 or 8 children")
}

/// Places `current` at `position` among its `siblings` (in tree order).
pub fn children(current: Fr, position: usize, siblings: &[Fr]) -> Vec<Fr> {
    let mut out = siblings.to_vec();
    out.insert(position, current);
    out
}

/// An authentication path: the siblings at each level (3 or 7), leaf level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    /// The leaf index the path belongs to.
    pub index: u64,
    /// Siblings per level, from the leaves up.
    pub siblings: Vec<Vec<Fr>>,
}

impl MerkleProof {
    /// The root obtained by hashing `leaf` up this path.
    pub fn root(&self, leaf: Fr) -> Fr {
        let mut shift = 0;
        self.siblings.iter().fold(leaf, |cur, sib| {
            let bits = arity_bits(sib.len());
            let position = ((self.index >> shift) & ((1u64 << bits) - 1)) as usize;
            shift += bits;
            node_hash(&children(cur, position, sib))
        })
    }

    /// Does `leaf` sit at `self.index` under `root`?
    pub fn verify(&self, root: Fr, leaf: Fr) -> bool {
        self.root(leaf) == root
    }
}

/// Address bits of a level with `siblings` siblings (3 → 2, 7 → 3).
fn arity_bits(siblings: usize) -> u32 {
    (siblings + 1).trailing_zeros()
}

/// Raw witness values of a path: position bits (little-endian, one per address bit) and
/// siblings.
///
/// Bits are field elements, not `bool`s, so that tests can feed non-boolean values and watch
/// the booleanity constraints refuse them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathWitness {
    /// Little-endian index bits, one per address bit of the tree.
    pub bits: Vec<Fr>,
    /// Siblings per level (3 or 7), leaf level first.
    pub siblings: Vec<Vec<Fr>>,
}

impl PathWitness {
    /// The honest witness for a native proof.
    pub fn from_proof(proof: &MerkleProof) -> Self {
        let depth: u32 = proof.siblings.iter().map(|s| arity_bits(s.len())).sum();
        Self {
            bits: (0..depth)
                .map(|i| Fr::from((proof.index >> i) & 1))
                .collect(),
            siblings: proof.siblings.clone(),
        }
    }

    /// Whether the path has the shape of a tree of `depth` address bits.
    pub fn fits(&self, depth: u32) -> bool {
        let levels = level_bits(depth);
        self.bits.len() == depth as usize
            && self.siblings.len() == levels.len()
            && self
                .siblings
                .iter()
                .zip(&levels)
                .all(|(s, &b)| s.len() + 1 == 1 << b)
    }
}

/// Sparse Merkle tree over `2^depth` leaves (8-ary levels, and 4-ary ones: see [`level_bits`]).
#[derive(Debug, Clone)]
pub struct SparseMerkleTree {
    depth: u32,
    /// Address bits of each level, leaf level first.
    levels: Vec<u32>,
    /// `empty[h]`: the hash of an empty subtree of height `h` (`empty[0] = 0`).
    empty: Vec<Fr>,
    /// Non-empty nodes, keyed by (height, index at that height).
    nodes: HashMap<(usize, u64), Fr>,
}

impl SparseMerkleTree {
    /// An empty tree of `depth` address bits (`depth` even, at most 62).
    pub fn new(depth: u32) -> Self {
        assert!(
            depth.is_multiple_of(2) && (2..=62).contains(&depth),
            "depth must be even"
        );
        let levels = level_bits(depth);
        let mut empty = vec![Fr::zero()];
        for (h, bits) in levels.iter().enumerate() {
            empty.push(node_hash(&vec![empty[h]; 1 << bits]));
        }
        Self {
            depth,
            levels,
            empty,
            nodes: HashMap::new(),
        }
    }

    /// Address bits.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    fn check(&self, index: u64) -> Result<(), MerkleError> {
        if index >> self.depth != 0 {
            return Err(MerkleError::IndexOutOfRange {
                index,
                depth: self.depth,
            });
        }
        Ok(())
    }

    fn node(&self, height: usize, index: u64) -> Fr {
        self.nodes
            .get(&(height, index))
            .copied()
            .unwrap_or(self.empty[height])
    }

    /// The root hash.
    pub fn root(&self) -> Fr {
        self.node(self.levels.len(), 0)
    }

    /// The root of an empty tree of this depth.
    pub fn empty_root(&self) -> Fr {
        self.empty[self.levels.len()]
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u64) -> Result<Fr, MerkleError> {
        self.check(index)?;
        Ok(self.node(0, index))
    }

    /// The authentication path of `index`.
    pub fn proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        self.check(index)?;
        let mut idx = index;
        let siblings = self
            .levels
            .iter()
            .enumerate()
            .map(|(h, &bits)| {
                let arity = 1u64 << bits;
                let first = idx & !(arity - 1);
                let sib = (0..arity)
                    .filter(|&j| first + j != idx)
                    .map(|j| self.node(h, first + j))
                    .collect();
                idx >>= bits;
                sib
            })
            .collect();
        Ok(MerkleProof { index, siblings })
    }

    /// Sets the leaf at `index` and rehashes its path to the root.
    pub fn set(&mut self, index: u64, leaf: Fr) -> Result<(), MerkleError> {
        self.check(index)?;
        let mut idx = index;
        self.store(0, idx, leaf);
        for h in 1..=self.levels.len() {
            let bits = self.levels[h - 1];
            idx >>= bits;
            let first = idx << bits;
            let children: Vec<Fr> = (0..1u64 << bits)
                .map(|j| self.node(h - 1, first + j))
                .collect();
            let hash = node_hash(&children);
            self.store(h, idx, hash);
        }
        Ok(())
    }

    fn store(&mut self, height: usize, index: u64, value: Fr) {
        if value == self.empty[height] {
            self.nodes.remove(&(height, index));
        } else {
            self.nodes.insert((height, index), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_and_updates() {
        let mut t = SparseMerkleTree::new(4);
        let empty_root = t.root();
        assert_eq!(empty_root, t.empty_root());
        t.set(5, Fr::from(7u64)).unwrap();
        let p = t.proof(5).unwrap();
        assert!(p.verify(t.root(), Fr::from(7u64)));
        assert!(!p.verify(t.root(), Fr::from(8u64)));
        // A second leaf changes the root and keeps both proofs valid.
        t.set(15, Fr::from(9u64)).unwrap();
        assert!(t.proof(5).unwrap().verify(t.root(), Fr::from(7u64)));
        assert!(t.proof(15).unwrap().verify(t.root(), Fr::from(9u64)));
        // Clearing returns to the empty root and the sparse store empties.
        t.set(5, Fr::zero()).unwrap();
        t.set(15, Fr::zero()).unwrap();
        assert_eq!(t.root(), empty_root);
        assert!(t.nodes.is_empty());
    }

    #[test]
    fn out_of_range_index_is_an_error() {
        let t = SparseMerkleTree::new(4);
        assert_eq!(
            t.proof(16),
            Err(MerkleError::IndexOutOfRange {
                index: 16,
                depth: 4
            })
        );
    }

    #[test]
    fn proof_root_matches_recomputation_from_scratch() {
        for depth in [2u32, 4, 6, 8, 10] {
            let mut t = SparseMerkleTree::new(depth);
            let n = 1u64 << depth;
            for i in [0u64, 1, 17, 63, 42, n - 1] {
                t.set(i % n, Fr::from(i * 1000 + 1)).unwrap();
            }
            // Recompute the root densely, level by level.
            let mut layer: Vec<Fr> = (0..n).map(|i| t.leaf(i).unwrap()).collect();
            for bits in level_bits(depth) {
                layer = layer.chunks(1 << bits).map(node_hash).collect();
            }
            assert_eq!(layer, vec![t.root()], "depth {depth}");
            for i in [0u64, 5 % n, n - 1] {
                let p = t.proof(i).unwrap();
                assert!(p.verify(t.root(), t.leaf(i).unwrap()));
                assert!(PathWitness::from_proof(&p).fits(depth));
            }
        }
    }

    #[test]
    fn levels_are_8_ary_where_the_depth_allows() {
        assert_eq!(level_bits(2), vec![2]);
        assert_eq!(level_bits(4), vec![2, 2]);
        assert_eq!(level_bits(6), vec![3, 3]);
        assert_eq!(level_bits(16), vec![3, 3, 3, 3, 2, 2]);
        assert_eq!(level_bits(24), vec![3; 8]);
        for d in (2..=62).step_by(2) {
            assert_eq!(level_bits(d).iter().sum::<u32>(), d);
        }
    }
}

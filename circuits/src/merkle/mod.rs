//! The account tree: a sparse 4-ary Merkle tree of Poseidon hashes.
//!
//! A tree of depth `d` (address bits) has `d / 2` levels; each internal node is
//! `Poseidon(child0, child1, child2, child3)`, and an empty leaf is `0`. Only non-empty subtrees
//! are stored; an empty subtree of height `h` hashes to the precomputed `empty[h]`.
//!
//! Why 4-ary: a binary path of depth 24 costs 24 Poseidon(2) hashes (24 × 240 = 5,760
//! constraints); a 4-ary path costs 12 Poseidon(4) hashes (12 × 297 = 3,564) plus a few
//! constraints per level to place the node among its siblings (`zkr circuit` prints the counts).

#[cfg(feature = "r1cs")]
pub mod gadget;

use crate::poseidon::hash;
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

/// Hash of four children.
pub fn node_hash(children: [Fr; 4]) -> Fr {
    hash(children)
}

/// Places `current` at `position` (0..4) among its three `siblings` (in tree order).
pub fn children(current: Fr, position: usize, siblings: &[Fr; 3]) -> [Fr; 4] {
    let mut out = [Fr::zero(); 4];
    let mut s = siblings.iter();
    for (i, c) in out.iter_mut().enumerate() {
        *c = if i == position {
            current
        } else {
            *s.next().expect("three siblings")
        };
    }
    out
}

/// An authentication path: the three siblings at each level, leaf level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    /// The leaf index the path belongs to.
    pub index: u64,
    /// Siblings per level, from the leaves up.
    pub siblings: Vec<[Fr; 3]>,
}

impl MerkleProof {
    /// The root obtained by hashing `leaf` up this path.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |cur, (level, sib)| {
                node_hash(children(cur, position(self.index, level), sib))
            })
    }

    /// Does `leaf` sit at `self.index` under `root`?
    pub fn verify(&self, root: Fr, leaf: Fr) -> bool {
        self.root(leaf) == root
    }
}

/// The position (0..4) of `index`'s ancestor at `level` among its siblings.
pub fn position(index: u64, level: usize) -> usize {
    ((index >> (2 * level)) & 3) as usize
}

/// Raw witness values of a path: position bits (little-endian, two per level) and siblings.
///
/// Bits are field elements, not `bool`s, so that tests can feed non-boolean values and watch
/// the booleanity constraints refuse them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathWitness {
    /// Little-endian index bits, `2 * levels` of them.
    pub bits: Vec<Fr>,
    /// Siblings per level, leaf level first.
    pub siblings: Vec<[Fr; 3]>,
}

impl PathWitness {
    /// The honest witness for a native proof.
    pub fn from_proof(proof: &MerkleProof) -> Self {
        let levels = proof.siblings.len();
        Self {
            bits: (0..2 * levels)
                .map(|i| Fr::from((proof.index >> i) & 1))
                .collect(),
            siblings: proof.siblings.clone(),
        }
    }
}

/// Sparse 4-ary Merkle tree over `2^depth` leaves.
#[derive(Debug, Clone)]
pub struct SparseMerkleTree {
    depth: u32,
    /// `empty[h]`: the hash of an empty subtree of height `h` (`empty[0] = 0`).
    empty: Vec<Fr>,
    /// Non-empty nodes, keyed by (height, index at that height).
    nodes: HashMap<(usize, u64), Fr>,
}

impl SparseMerkleTree {
    /// An empty tree of `depth` address bits (`depth` even).
    pub fn new(depth: u32) -> Self {
        assert!(depth.is_multiple_of(2) && depth <= 62, "depth must be even");
        let levels = (depth / 2) as usize;
        let mut empty = vec![Fr::zero()];
        for h in 0..levels {
            empty.push(node_hash([empty[h]; 4]));
        }
        Self {
            depth,
            empty,
            nodes: HashMap::new(),
        }
    }

    /// Address bits.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    fn levels(&self) -> usize {
        (self.depth / 2) as usize
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
        self.node(self.levels(), 0)
    }

    /// The root of an empty tree of this depth.
    pub fn empty_root(&self) -> Fr {
        self.empty[self.levels()]
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u64) -> Result<Fr, MerkleError> {
        self.check(index)?;
        Ok(self.node(0, index))
    }

    /// The authentication path of `index`.
    pub fn proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        self.check(index)?;
        let siblings = (0..self.levels())
            .map(|h| {
                let idx = index >> (2 * h);
                let first = idx & !3;
                let pos = idx & 3;
                let mut sib = [Fr::zero(); 3];
                let mut k = 0;
                for j in 0..4u64 {
                    if j != pos {
                        sib[k] = self.node(h, first + j);
                        k += 1;
                    }
                }
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
        for h in 1..=self.levels() {
            idx >>= 2;
            let first = idx * 4;
            let hash = node_hash(std::array::from_fn(|j| self.node(h - 1, first + j as u64)));
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
        let mut t = SparseMerkleTree::new(6);
        for i in [0u64, 1, 17, 63, 42] {
            t.set(i, Fr::from(i * 1000 + 1)).unwrap();
        }
        // Recompute the root densely.
        let mut layer: Vec<Fr> = (0..64u64).map(|i| t.leaf(i).unwrap()).collect();
        while layer.len() > 1 {
            layer = layer
                .chunks(4)
                .map(|c| node_hash([c[0], c[1], c[2], c[3]]))
                .collect();
        }
        assert_eq!(layer[0], t.root());
    }
}

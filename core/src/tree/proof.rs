//! Merkle paths and their verification, written step by step so that the in-circuit twin
//! (in the `prover` crate) can mirror the computation exactly.
//!
//! Layout: `siblings[i]` is the sibling of the path node at height `i` (height 0 = the
//! leaf), so the last sibling is a child of the root. Bit `i` of the leaf index (from the
//! least significant) says whether the path node at height `i` is the right child.

use serde::{Deserialize, Serialize};

use super::config::{fits, shr};
use crate::hash::{hash_two, Digest};

/// The parent of `node` given its `sibling` and whether `node` is the right child:
/// the one step of every path computation.
pub fn path_step(node: Digest, sibling: Digest, node_is_right: bool) -> Digest {
    if node_is_right {
        hash_two(sibling, node)
    } else {
        hash_two(node, sibling)
    }
}

/// The siblings of a leaf's path, from the leaf up: proves a leaf's value under a root.
///
/// The proof's length is the tree's depth; it carries no index and no leaf, which the
/// verifier supplies (in a rollup they come from the operation being checked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// `siblings[i]` is the sibling at height `i` (0 = the leaf's sibling).
    pub siblings: Vec<Digest>,
}

impl MerkleProof {
    /// The depth of the tree this proof is for.
    pub fn depth(&self) -> u32 {
        self.siblings.len() as u32
    }

    /// The root implied by `leaf` at `index` with these siblings. Only the low
    /// [`Self::depth`] bits of `index` are read; [`Self::verify`] refuses larger indices.
    pub fn compute_root(&self, index: u64, leaf: Digest) -> Digest {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |node, (height, &sibling)| {
                path_step(node, sibling, shr(index, height as u32) & 1 == 1)
            })
    }

    /// Whether `leaf` is at `index` in the tree with root `root`.
    pub fn verify(&self, index: u64, leaf: Digest, root: Digest) -> bool {
        fits(index, self.depth()) && self.compute_root(index, leaf) == root
    }

    /// Whether replacing `old_leaf` by `new_leaf` at `index` turns `old_root` into
    /// `new_root`: both roots are computed along the same path with the same siblings
    /// (which the change doesn't touch), exactly what the circuit checks per operation.
    pub fn verify_update(
        &self,
        index: u64,
        old_leaf: Digest,
        new_leaf: Digest,
        old_root: Digest,
        new_root: Digest,
    ) -> bool {
        self.verify(index, old_leaf, old_root) && self.verify(index, new_leaf, new_root)
    }
}

/// The witness of one leaf write: the path (taken before the write, and still valid after
/// it) with both leaf values and both roots, as the sequencer hands it to the prover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafUpdate {
    /// The global leaf index written.
    pub index: u64,
    /// The leaf before the write.
    pub old_leaf: Digest,
    /// The leaf after the write.
    pub new_leaf: Digest,
    /// The state root before the write.
    pub old_root: Digest,
    /// The state root after the write.
    pub new_root: Digest,
    /// The siblings of the leaf's path, shared by both roots.
    pub proof: MerkleProof,
}

impl LeafUpdate {
    /// Checks the write with [`MerkleProof::verify_update`].
    pub fn verify(&self) -> bool {
        self.proof.verify_update(
            self.index,
            self.old_leaf,
            self.new_leaf,
            self.old_root,
            self.new_root,
        )
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;
    use crate::{field::F, hash::hash_elements};

    fn leaf(n: u64) -> Digest {
        hash_elements(&[F::from_canonical_u64(n)])
    }

    #[test]
    fn bit_i_of_the_index_says_right_child_at_height_i() {
        let (a, s0, s1) = (leaf(1), leaf(2), leaf(3));
        let proof = MerkleProof {
            siblings: vec![s0, s1],
        };
        // index 2 = 0b10: left child at height 0, right child at height 1.
        assert_eq!(proof.compute_root(2, a), hash_two(s1, hash_two(a, s0)));
        // index 1 = 0b01: right child at height 0, left child at height 1.
        assert_eq!(proof.compute_root(1, a), hash_two(hash_two(s0, a), s1));
        let root = proof.compute_root(2, a);
        assert!(proof.verify(2, a, root));
        assert!(
            !proof.verify(2 + 4, a, root),
            "bits above the depth are refused"
        );
        assert!(!proof.verify(3, a, root));
        assert!(!proof.verify(2, s0, root));
    }

    #[test]
    fn proofs_serialize_as_hex_digests() {
        let proof = MerkleProof {
            siblings: vec![leaf(1), Digest::ZERO],
        };
        let json = serde_json::to_string(&proof).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"siblings":["{}","0x{}"]}}"#, leaf(1), "0".repeat(64))
        );
        assert_eq!(serde_json::from_str::<MerkleProof>(&json).unwrap(), proof);
    }

    #[test]
    fn a_64_deep_proof_reads_every_index_bit() {
        let proof = MerkleProof {
            siblings: (0..64).map(leaf).collect(),
        };
        let root = proof.compute_root(u64::MAX, leaf(99));
        assert!(proof.verify(u64::MAX, leaf(99), root));
        assert!(!proof.verify(u64::MAX >> 1, leaf(99), root));
        // Longer (malformed) proofs don't panic: missing index bits read as 0.
        let long = MerkleProof {
            siblings: (0..70).map(leaf).collect(),
        };
        let _ = long.compute_root(u64::MAX, leaf(1));
    }
}

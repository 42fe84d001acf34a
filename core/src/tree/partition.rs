//! One sparse subtree: a partition of the state tree, or the top tree over the partition
//! roots.

use std::collections::HashMap;

use super::{
    config::{check_index, MAX_DEPTH},
    empty::EmptyHashes,
    proof::MerkleProof,
};
use crate::{
    hash::{hash_two, Digest},
    Error, Result,
};

/// A sparse Merkle subtree that stores only its non-empty nodes (2^32 slots can't be
/// materialised); every missing node is the empty subtree digest of its height.
///
/// Its leaves sit at height `base_height` of the whole state tree: 0 for a partition, so
/// an empty leaf is [`Digest::ZERO`]; `D - P` for the top tree, whose leaves are the
/// partition roots. `Clone` is a deep copy, linear in the number of stored nodes.
#[derive(Clone, Debug)]
pub struct PartitionTree {
    depth: u32,
    base_height: u32,
    /// `levels[h]`: the nodes at height `h` (0 = leaves) that differ from the empty digest
    /// of that height, by index within the level.
    levels: Vec<HashMap<u64, Digest>>,
    empty: &'static EmptyHashes,
}

impl PartitionTree {
    /// An empty partition of `depth` levels (leaves at height 0).
    pub fn new(depth: u32) -> Result<Self> {
        Self::with_base_height(depth, 0)
    }

    /// An empty subtree of `depth` levels whose leaves are roots of height-`base_height`
    /// subtrees (so an empty leaf is the empty digest of that height).
    pub fn with_base_height(depth: u32, base_height: u32) -> Result<Self> {
        if depth
            .checked_add(base_height)
            .is_none_or(|top| top > MAX_DEPTH)
        {
            return Err(Error::InvalidTreeConfig {
                depth: depth.saturating_add(base_height),
                partition_bits: 0,
                reason: "depth must be at most 64",
            });
        }
        Ok(Self {
            depth,
            base_height,
            levels: vec![HashMap::new(); depth as usize + 1],
            empty: EmptyHashes::get(),
        })
    }

    /// The number of levels: proofs have this many siblings.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The root of the subtree.
    pub fn root(&self) -> Digest {
        self.node(self.depth, 0)
    }

    /// The leaf at `index` (the empty leaf if never written).
    pub fn get_leaf(&self, index: u64) -> Result<Digest> {
        check_index(index, self.depth)?;
        Ok(self.node(0, index))
    }

    /// Writes one leaf, rehashes its path and returns the previous leaf.
    pub fn set_leaf(&mut self, index: u64, leaf: Digest) -> Result<Digest> {
        let old = self.get_leaf(index)?;
        self.write_leaves(&[(index, leaf)]);
        Ok(old)
    }

    /// Writes many leaves, hashing every affected node once (not once per leaf). A later
    /// write to the same index wins. Nothing is written if any index is out of range.
    pub fn set_leaves(&mut self, updates: &[(u64, Digest)]) -> Result<()> {
        for &(index, _) in updates {
            check_index(index, self.depth)?;
        }
        self.write_leaves(updates);
        Ok(())
    }

    /// The siblings of the path from leaf `index` to the root, from the leaf up.
    pub fn prove(&self, index: u64) -> Result<MerkleProof> {
        check_index(index, self.depth)?;
        let siblings = (0..self.depth)
            .map(|height| self.node(height, (index >> height) ^ 1))
            .collect();
        Ok(MerkleProof { siblings })
    }

    /// The node at `height` (0 = leaves) and `index` within that level.
    pub fn node(&self, height: u32, index: u64) -> Digest {
        self.levels[height as usize]
            .get(&index)
            .copied()
            .unwrap_or_else(|| self.empty_at(height))
    }

    /// The non-empty leaves, by index, in no particular order.
    pub fn leaves(&self) -> impl Iterator<Item = (u64, Digest)> + '_ {
        self.levels[0].iter().map(|(&index, &leaf)| (index, leaf))
    }

    /// How many nodes are stored (a measure of memory use).
    pub fn stored_nodes(&self) -> usize {
        self.levels.iter().map(HashMap::len).sum()
    }

    /// Writes leaves whose indices were checked, then rehashes each dirty node once,
    /// level by level.
    pub(crate) fn write_leaves(&mut self, updates: &[(u64, Digest)]) {
        let mut dirty = Vec::with_capacity(updates.len());
        for &(index, leaf) in updates {
            self.store(0, index, leaf);
            dirty.push(index);
        }
        dirty.sort_unstable();
        dirty.dedup();
        for height in 0..self.depth {
            // Parents of a sorted list stay sorted, so `dedup` removes every repeat.
            for index in dirty.iter_mut() {
                *index >>= 1;
            }
            dirty.dedup();
            for &parent in &dirty {
                let left = self.node(height, parent << 1);
                let right = self.node(height, (parent << 1) | 1);
                self.store(height + 1, parent, hash_two(left, right));
            }
        }
    }

    /// Stores a node, or forgets it when it is the empty digest (so memory follows the
    /// non-empty leaves, also after deletions).
    fn store(&mut self, height: u32, index: u64, digest: Digest) {
        let level = &mut self.levels[height as usize];
        if digest == self.empty.at(self.base_height + height) {
            level.remove(&index);
        } else {
            level.insert(index, digest);
        }
    }

    fn empty_at(&self, height: u32) -> Digest {
        self.empty.at(self.base_height + height)
    }
}

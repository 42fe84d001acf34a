//! The state tree: `2^P` partition subtrees under a top tree of `P` levels.

use rayon::prelude::*;

use super::{
    config::TreeConfig,
    partition::PartitionTree,
    proof::{LeafUpdate, MerkleProof},
};
use crate::{hash::Digest, Error, Result};

/// The sparse Merkle tree of all account leaves, split into partitions so that a batch of
/// updates is rehashed in parallel, one partition per task.
///
/// Its root is the plain depth-`D` sparse Merkle root of the leaves, whatever `P` is.
/// `Clone` is a deep copy, linear in the number of stored nodes.
#[derive(Clone, Debug)]
pub struct StateTree {
    config: TreeConfig,
    partitions: Vec<PartitionTree>,
    /// The top `P` levels; its leaves are the partition roots.
    top: PartitionTree,
}

impl StateTree {
    /// An empty tree of the given shape: its root is `EmptyHashes::get().at(D)`.
    pub fn new(config: TreeConfig) -> Self {
        let partition_depth = config.partition_depth();
        let partition = PartitionTree::new(partition_depth).expect("validated config");
        Self {
            config,
            partitions: vec![partition; config.num_partitions()],
            top: PartitionTree::with_base_height(config.partition_bits(), partition_depth)
                .expect("validated config"),
        }
    }

    /// The tree's shape.
    pub fn config(&self) -> TreeConfig {
        self.config
    }

    /// The state root.
    pub fn root(&self) -> Digest {
        self.top.root()
    }

    /// The root of partition `partition`.
    pub fn partition_root(&self, partition: usize) -> Result<Digest> {
        Ok(self.partition(partition)?.root())
    }

    /// Partition `partition`, for reads (e.g. proving a partition on its own).
    pub fn partition(&self, partition: usize) -> Result<&PartitionTree> {
        self.partitions
            .get(partition)
            .ok_or(Error::PartitionOutOfRange {
                partition,
                partitions: self.partitions.len(),
            })
    }

    /// The leaf at global `index` (the empty leaf, [`Digest::ZERO`], if never written).
    pub fn get_leaf(&self, index: u64) -> Result<Digest> {
        self.config.check_index(index)?;
        self.partitions[self.config.partition_of(index)].get_leaf(self.config.local_index(index))
    }

    /// Writes one leaf, rehashes its path up to the state root and returns the previous
    /// leaf.
    pub fn set_leaf(&mut self, index: u64, leaf: Digest) -> Result<Digest> {
        self.config.check_index(index)?;
        let partition = self.config.partition_of(index);
        let tree = &mut self.partitions[partition];
        let old = tree.set_leaf(self.config.local_index(index), leaf)?;
        self.top.write_leaves(&[(partition as u64, tree.root())]);
        Ok(old)
    }

    /// Writes one leaf and returns the witness of the write (its path, both leaves and
    /// both roots), which is what the circuit checks for one operation.
    pub fn set_leaf_with_proof(&mut self, index: u64, leaf: Digest) -> Result<LeafUpdate> {
        let proof = self.prove(index)?;
        let old_root = self.root();
        let old_leaf = self.set_leaf(index, leaf)?;
        Ok(LeafUpdate {
            index,
            old_leaf,
            new_leaf: leaf,
            old_root,
            new_root: self.root(),
            proof,
        })
    }

    /// Writes a batch of leaves: groups them by partition, rehashes the touched partitions
    /// in parallel (each affected node once), then the top tree.
    ///
    /// Within one batch a later write to the same index wins, exactly as if the writes
    /// were applied one by one with [`Self::set_leaf`]. Nothing is written if any index is
    /// out of range.
    pub fn apply_updates(&mut self, updates: &[(u64, Digest)]) -> Result<()> {
        for &(index, _) in updates {
            self.config.check_index(index)?;
        }
        let mut groups = vec![Vec::new(); self.partitions.len()];
        for &(index, leaf) in updates {
            let local = self.config.local_index(index);
            groups[self.config.partition_of(index)].push((local, leaf));
        }
        self.partitions
            .par_iter_mut()
            .zip(groups.par_iter())
            .filter(|(_, group)| !group.is_empty())
            .for_each(|(tree, group)| tree.write_leaves(group));
        let roots: Vec<(u64, Digest)> = groups
            .iter()
            .enumerate()
            .filter(|(_, group)| !group.is_empty())
            .map(|(partition, _)| (partition as u64, self.partitions[partition].root()))
            .collect();
        self.top.write_leaves(&roots);
        Ok(())
    }

    /// The full-depth proof of leaf `index`: its path inside its partition (`D - P`
    /// siblings) followed by the partition root's path in the top tree (`P` siblings),
    /// so `siblings[i]` is the sibling at height `i` of the whole tree.
    pub fn prove(&self, index: u64) -> Result<MerkleProof> {
        self.config.check_index(index)?;
        let partition = self.config.partition_of(index);
        let mut proof = self.partitions[partition].prove(self.config.local_index(index))?;
        proof
            .siblings
            .extend(self.top.prove(partition as u64)?.siblings);
        Ok(proof)
    }

    /// The path of partition `partition`'s root to the state root (`P` siblings): proves
    /// a partition root, e.g. when partitions are proven separately and then aggregated.
    pub fn prove_partition_root(&self, partition: usize) -> Result<MerkleProof> {
        self.partition(partition)?;
        self.top.prove(partition as u64)
    }

    /// The non-empty leaves by global index, in no particular order.
    pub fn leaves(&self) -> impl Iterator<Item = (u64, Digest)> + '_ {
        self.partitions
            .iter()
            .enumerate()
            .flat_map(move |(partition, tree)| {
                tree.leaves()
                    .map(move |(local, leaf)| (self.config.global_index(partition, local), leaf))
            })
    }

    /// How many nodes are stored, over all partitions and the top tree.
    pub fn stored_nodes(&self) -> usize {
        self.partitions
            .iter()
            .map(PartitionTree::stored_nodes)
            .sum::<usize>()
            + self.top.stored_nodes()
    }
}

impl Default for StateTree {
    /// An empty tree of the default shape.
    fn default() -> Self {
        Self::new(TreeConfig::default())
    }
}

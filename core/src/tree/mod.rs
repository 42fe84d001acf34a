//! The partitioned sparse Merkle tree of accounts, whose root is the rollup's state root.
//!
//! The tree has `2^D` leaf slots (default `D = 32`) hashed pairwise with Poseidon
//! ([`hash_two`](crate::hash::hash_two)); a never-written leaf is
//! [`Digest::ZERO`](crate::hash::Digest::ZERO) and an empty subtree of height `h` has the
//! precomputed digest [`EmptyHashes::at`]`(h)`, so only non-empty nodes are stored.
//!
//! To rehash large batches in parallel the tree is cut into `2^P` partitions (default
//! `P = 4`): the top `P` bits of a leaf index choose a [`PartitionTree`] of depth `D - P`,
//! and a top tree of `P` levels hashes the partition roots into the state root. The cut
//! is invisible in the result: the root only depends on `D` and the leaves.
//!
//! A [`MerkleProof`] lists the siblings from the leaf up; bit `i` of the leaf index says
//! whether the path node at height `i` is the right child ([`path_step`]), which is the
//! convention the in-circuit twin mirrors.
//!
//! - [`TreeConfig`]: the shape and the index arithmetic.
//! - [`EmptyHashes`]: the empty subtree digests.
//! - [`PartitionTree`]: one sparse subtree.
//! - [`StateTree`]: the partitions and the top tree.
//! - [`MerkleProof`], [`LeafUpdate`]: membership and update proofs.

mod config;
mod empty;
mod partition;
mod proof;
mod state;
#[cfg(test)]
mod tests;

pub use config::{
    TreeConfig, DEFAULT_DEPTH, DEFAULT_PARTITION_BITS, MAX_DEPTH, MAX_PARTITION_BITS,
};
pub use empty::EmptyHashes;
pub use partition::PartitionTree;
pub use proof::{path_step, LeafUpdate, MerkleProof};
pub use state::StateTree;

//! The tree against a dead-simple reference: a map of leaves and a recursive root.

use std::{collections::BTreeMap, sync::OnceLock};

use plonky2::{field::types::Field, hash::hash_types::HashOut};
use proptest::prelude::*;

use super::*;
use crate::{
    field::F,
    hash::{hash_elements, hash_two, Digest},
    Error,
};

/// Empty subtree digests computed here, independently of [`EmptyHashes`].
fn reference_empty(height: u32) -> Digest {
    static TABLE: OnceLock<Vec<Digest>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![Digest::ZERO];
        for _ in 0..64 {
            let last = *table.last().unwrap();
            table.push(hash_two(last, last));
        }
        table
    })[height as usize]
}

/// The reference tree: the written leaves and a plain recursion over the index space.
struct Reference {
    depth: u32,
    leaves: BTreeMap<u64, Digest>,
}

impl Reference {
    fn new(depth: u32) -> Self {
        Self {
            depth,
            leaves: BTreeMap::new(),
        }
    }

    fn set(&mut self, index: u64, leaf: Digest) {
        self.leaves.insert(index, leaf);
    }

    fn leaf(&self, index: u64) -> Digest {
        self.leaves.get(&index).copied().unwrap_or(Digest::ZERO)
    }

    /// The node at `height` and position `index` in its level: the empty digest if no
    /// leaf was written below it, else the hash of its two children.
    fn node(&self, height: u32, index: u64) -> Digest {
        let first = u128::from(index) << height;
        let end = (u128::from(index) + 1) << height;
        let written = self
            .leaves
            .range(first as u64..)
            .next()
            .is_some_and(|(&i, _)| u128::from(i) < end);
        if !written {
            reference_empty(height)
        } else if height == 0 {
            self.leaves[&index]
        } else {
            hash_two(
                self.node(height - 1, 2 * index),
                self.node(height - 1, 2 * index + 1),
            )
        }
    }

    fn root(&self) -> Digest {
        self.node(self.depth, 0)
    }

    fn siblings(&self, index: u64) -> Vec<Digest> {
        (0..self.depth)
            .map(|h| self.node(h, (index >> h) ^ 1))
            .collect()
    }
}

fn config(depth: u32, bits: u32) -> TreeConfig {
    TreeConfig::new(depth, bits).unwrap()
}

/// A cheap distinct leaf (not a hash, so it can't collide with [`marker`]).
fn leaf(n: u64) -> Digest {
    Digest(HashOut {
        elements: [F::from_noncanonical_u64(n), F::ONE, F::ZERO, F::ZERO],
    })
}

/// A leaf that no generated update writes, so its path is unique in the tree.
fn marker(n: u64) -> Digest {
    hash_elements(&[
        F::from_canonical_u64(0x6d61726b),
        F::from_noncanonical_u64(n),
    ])
}

fn mask(depth: u32) -> u64 {
    if depth >= 64 {
        u64::MAX
    } else {
        (1 << depth) - 1
    }
}

fn arb_config() -> impl Strategy<Value = TreeConfig> {
    prop_oneof![
        Just(config(8, 0)),
        Just(config(8, 2)),
        Just(config(8, 4)),
        Just(config(8, 8)),
        Just(config(32, 4)),
        Just(config(32, 0)),
        Just(config(64, 0)),
        Just(config(64, 4)),
        Just(config(1, 0)),
        Just(config(1, 1)),
    ]
}

/// Indices that hit both ends of the index space often (so writes repeat and touch the
/// first and last partitions) as well as anywhere in between.
fn arb_index(depth: u32) -> impl Strategy<Value = u64> {
    (any::<u64>(), 0..4u8).prop_map(move |(x, kind)| match kind {
        0 => x & 7 & mask(depth),
        1 => mask(depth) - (x & 7 & mask(depth)),
        _ => x & mask(depth),
    })
}

/// Leaves, sometimes the empty leaf (a deletion).
fn arb_leaf() -> impl Strategy<Value = Digest> {
    prop_oneof![1 => Just(Digest::ZERO), 4 => (0..1000u64).prop_map(leaf)]
}

fn arb_updates(depth: u32, max: usize) -> impl Strategy<Value = Vec<(u64, Digest)>> {
    prop::collection::vec((arb_index(depth), arb_leaf()), 0..max)
}

fn arb_case() -> impl Strategy<Value = (TreeConfig, Vec<(u64, Digest)>, u64)> {
    arb_config().prop_flat_map(|config| {
        (
            Just(config),
            arb_updates(config.depth(), 40),
            arb_index(config.depth()),
        )
    })
}

fn build(config: TreeConfig, updates: &[(u64, Digest)]) -> StateTree {
    let mut tree = StateTree::new(config);
    tree.apply_updates(updates).unwrap();
    tree
}

fn reference(depth: u32, updates: &[(u64, Digest)]) -> Reference {
    let mut reference = Reference::new(depth);
    for &(index, leaf) in updates {
        reference.set(index, leaf);
    }
    reference
}

fn tampered(digest: Digest) -> Digest {
    hash_two(digest, digest)
}

proptest! {
    #[test]
    fn sequential_writes_match_the_reference((config, updates, _) in arb_case()) {
        let mut tree = StateTree::new(config);
        let mut reference = Reference::new(config.depth());
        for &(index, leaf) in &updates {
            prop_assert_eq!(tree.set_leaf(index, leaf).unwrap(), reference.leaf(index));
            reference.set(index, leaf);
        }
        prop_assert_eq!(tree.root(), reference.root());
        for p in 0..config.num_partitions() {
            prop_assert_eq!(
                tree.partition_root(p).unwrap(),
                reference.node(config.partition_depth(), p as u64)
            );
        }
        for &(index, _) in &updates {
            prop_assert_eq!(tree.get_leaf(index).unwrap(), reference.leaf(index));
        }
        let mut leaves: Vec<_> = tree.leaves().collect();
        leaves.sort_by_key(|&(index, _)| index);
        let expected: Vec<_> = reference
            .leaves
            .iter()
            .filter(|(_, leaf)| **leaf != Digest::ZERO)
            .map(|(&i, &leaf)| (i, leaf))
            .collect();
        prop_assert_eq!(leaves, expected);
    }

    #[test]
    fn a_batch_equals_sequential_writes((config, updates, split) in arb_case()) {
        let mut sequential = StateTree::new(config);
        for &(index, leaf) in &updates {
            sequential.set_leaf(index, leaf).unwrap();
        }
        let one_batch = build(config, &updates);
        // Two batches, split anywhere: batches compose like single writes.
        let at = (split as usize) % (updates.len() + 1);
        let mut two_batches = build(config, &updates[..at]);
        two_batches.apply_updates(&updates[at..]).unwrap();
        for batched in [&one_batch, &two_batches] {
            prop_assert_eq!(batched.root(), sequential.root());
            for p in 0..config.num_partitions() {
                prop_assert_eq!(batched.partition_root(p), sequential.partition_root(p));
            }
            prop_assert_eq!(batched.stored_nodes(), sequential.stored_nodes());
        }
    }

    #[test]
    fn the_root_does_not_depend_on_the_partitioning(
        (depth, updates) in prop_oneof![Just(8u32), Just(32u32), Just(64u32)]
            .prop_flat_map(|depth| (Just(depth), arb_updates(depth, 40)))
    ) {
        let expected = reference(depth, &updates).root();
        for bits in [0, 1, 2, 4, 8] {
            let tree = build(config(depth, bits), &updates);
            prop_assert_eq!(tree.root(), expected, "partition bits {}", bits);
        }
    }

    #[test]
    fn proofs_verify_and_tampering_fails((config, updates, probe) in arb_case()) {
        let depth = config.depth();
        let mut tree = build(config, &updates);
        let mut reference = reference(depth, &updates);

        // Any index, written or not, proves its current leaf, with the reference's path.
        for index in updates.iter().map(|&(i, _)| i).chain([probe, 0, mask(depth)]) {
            let proof = tree.prove(index).unwrap();
            prop_assert_eq!(&proof.siblings, &reference.siblings(index));
            prop_assert!(proof.verify(index, tree.get_leaf(index).unwrap(), tree.root()));
        }

        // A leaf that appears once in the tree: no other index, leaf or sibling proves it.
        let unique = marker(probe);
        tree.set_leaf(probe, unique).unwrap();
        reference.set(probe, unique);
        let root = tree.root();
        prop_assert_eq!(root, reference.root());
        let proof = tree.prove(probe).unwrap();
        prop_assert_eq!(proof.depth(), depth);
        prop_assert!(proof.verify(probe, unique, root));
        prop_assert!(!proof.verify(probe, Digest::ZERO, root));
        prop_assert!(!proof.verify(probe, tampered(unique), root));
        prop_assert!(!proof.verify(probe, unique, tampered(root)));
        for bit in 0..depth {
            prop_assert!(!proof.verify(probe ^ (1 << bit), unique, root), "index bit {}", bit);
            let mut bad = proof.clone();
            bad.siblings[bit as usize] = tampered(bad.siblings[bit as usize]);
            prop_assert!(!bad.verify(probe, unique, root), "sibling {}", bit);
        }
        if depth < 64 {
            prop_assert!(!proof.verify(probe + (1 << depth), unique, root));
        }
        let mut short = proof.clone();
        short.siblings.pop();
        prop_assert!(!short.verify(probe, unique, root));
    }

    #[test]
    fn update_proofs_verify_and_tampering_fails(
        (config, updates, writes) in arb_config().prop_flat_map(|config| (
            Just(config),
            arb_updates(config.depth(), 20),
            arb_updates(config.depth(), 10),
        ))
    ) {
        let depth = config.depth();
        let mut tree = build(config, &updates);
        let mut reference = reference(depth, &updates);
        for &(index, leaf) in &writes {
            let old_root = tree.root();
            let update = tree.set_leaf_with_proof(index, leaf).unwrap();
            reference.set(index, leaf);
            prop_assert!(update.verify());
            prop_assert_eq!(update.index, index);
            prop_assert_eq!(update.old_root, old_root);
            prop_assert_eq!(update.new_root, tree.root());
            prop_assert_eq!(update.new_root, reference.root());
            prop_assert_eq!(update.new_leaf, leaf);
            prop_assert_eq!(&update.proof, &tree.prove(index).unwrap(), "siblings unchanged");

            let check = |u: &LeafUpdate| u.verify();
            let mut bad = update.clone();
            bad.old_leaf = tampered(update.old_leaf);
            prop_assert!(!check(&bad));
            let mut bad = update.clone();
            bad.new_leaf = tampered(update.new_leaf);
            prop_assert!(!check(&bad));
            let mut bad = update.clone();
            bad.new_root = tampered(update.new_root);
            prop_assert!(!check(&bad));
            let mut bad = update.clone();
            bad.old_root = tampered(update.old_root);
            prop_assert!(!check(&bad));
            if update.old_leaf != update.new_leaf {
                let mut bad = update.clone();
                std::mem::swap(&mut bad.old_root, &mut bad.new_root);
                prop_assert!(!check(&bad));
            }
            for height in 0..depth as usize {
                let mut bad = update.clone();
                bad.proof.siblings[height] = tampered(bad.proof.siblings[height]);
                prop_assert!(!check(&bad), "sibling {}", height);
            }
            if depth < 64 {
                let mut bad = update.clone();
                bad.index += 1 << depth;
                prop_assert!(!check(&bad));
            }
        }
    }
}

#[test]
fn empty_trees_have_the_empty_root() {
    let empty = EmptyHashes::get();
    for (depth, bits) in [
        (1, 0),
        (1, 1),
        (8, 0),
        (8, 4),
        (8, 8),
        (32, 4),
        (64, 0),
        (64, 16),
    ] {
        let tree = StateTree::new(config(depth, bits));
        assert_eq!(tree.root(), empty.at(depth), "{depth}/{bits}");
        assert_eq!(tree.root(), reference_empty(depth));
        assert_eq!(tree.partition_root(0).unwrap(), empty.at(depth - bits));
        assert_eq!(tree.stored_nodes(), 0);
        for index in [0, mask(depth)] {
            let proof = tree.prove(index).unwrap();
            assert_eq!(
                proof.siblings,
                (0..depth).map(|h| empty.at(h)).collect::<Vec<_>>()
            );
            assert!(proof.verify(index, Digest::ZERO, tree.root()));
        }
    }
    assert_eq!(StateTree::default().root(), empty.at(32));
}

#[test]
fn a_small_tree_by_hand() {
    let (a, b, z) = (leaf(1), leaf(2), Digest::ZERO);
    let expected = hash_two(hash_two(a, z), hash_two(z, b));
    for bits in [0, 1, 2] {
        let mut tree = StateTree::new(config(2, bits));
        tree.set_leaf(0, a).unwrap();
        tree.set_leaf(3, b).unwrap();
        assert_eq!(tree.root(), expected, "partition bits {bits}");
        assert_eq!(tree.prove(3).unwrap().siblings, vec![z, hash_two(a, z)]);
    }
    let tree = build(config(2, 1), &[(0, a), (3, b)]);
    assert_eq!(tree.partition_root(0).unwrap(), hash_two(a, z));
    assert_eq!(tree.partition_root(1).unwrap(), hash_two(z, b));
    assert_eq!(
        tree.prove_partition_root(1).unwrap().siblings,
        vec![hash_two(a, z)]
    );
    assert!(tree
        .prove_partition_root(1)
        .unwrap()
        .verify(1, hash_two(z, b), expected));
}

#[test]
fn the_last_write_to_an_index_in_a_batch_wins() {
    let updates = [(5, leaf(1)), (9, leaf(2)), (5, leaf(3)), (9, Digest::ZERO)];
    let tree = build(config(8, 2), &updates);
    assert_eq!(tree.get_leaf(5).unwrap(), leaf(3));
    assert_eq!(tree.get_leaf(9).unwrap(), Digest::ZERO);
    assert_eq!(tree.root(), build(config(8, 2), &[(5, leaf(3))]).root());
}

#[test]
fn deleting_every_leaf_restores_the_empty_root_and_frees_memory() {
    let config = TreeConfig::default();
    let indices: Vec<u64> = (0..200u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9) & mask(32))
        .collect();
    let mut tree = build(
        config,
        &indices.iter().map(|&i| (i, leaf(i))).collect::<Vec<_>>(),
    );
    assert!(tree.stored_nodes() > 200);
    let deletions: Vec<_> = indices.iter().map(|&i| (i, Digest::ZERO)).collect();
    tree.apply_updates(&deletions).unwrap();
    assert_eq!(tree.root(), EmptyHashes::get().at(32));
    assert_eq!(tree.stored_nodes(), 0);
}

#[test]
fn a_large_parallel_batch_matches_sequential_writes() {
    let default = TreeConfig::default();
    let updates: Vec<(u64, Digest)> = (0..3000u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32, leaf(i)))
        .collect();
    let batched = build(default, &updates);
    let mut sequential = StateTree::new(default);
    for &(index, leaf) in &updates {
        sequential.set_leaf(index, leaf).unwrap();
    }
    assert_eq!(batched.root(), sequential.root());
    assert!((0..16).all(|p| batched.partition_root(p).unwrap() != EmptyHashes::get().at(28)));
    assert_eq!(batched.root(), build(config(32, 0), &updates).root());
}

#[test]
fn out_of_range_indices_are_refused_and_batches_are_atomic() {
    let mut tree = StateTree::new(config(8, 2));
    let too_big = || Error::LeafIndexOutOfRange {
        index: 256,
        depth: 8,
    };
    assert_eq!(tree.set_leaf(256, leaf(1)), Err(too_big()));
    assert_eq!(tree.get_leaf(256), Err(too_big()));
    assert_eq!(tree.prove(256), Err(too_big()));
    assert_eq!(
        tree.apply_updates(&[(1, leaf(1)), (256, leaf(2))]),
        Err(too_big())
    );
    assert_eq!(
        tree.root(),
        EmptyHashes::get().at(8),
        "nothing of a refused batch is written"
    );
    assert_eq!(
        tree.partition_root(4),
        Err(Error::PartitionOutOfRange {
            partition: 4,
            partitions: 4
        })
    );
    assert!(tree.prove_partition_root(4).is_err());

    let mut partition = PartitionTree::new(6).unwrap();
    assert!(partition
        .set_leaves(&[(0, leaf(1)), (64, leaf(2))])
        .is_err());
    assert_eq!(partition.root(), EmptyHashes::get().at(6));
    assert!(PartitionTree::with_base_height(60, 5).is_err());
}

#[test]
fn a_partition_tree_proves_its_own_leaves() {
    let mut partition = PartitionTree::new(10).unwrap();
    partition
        .set_leaves(&[(3, leaf(3)), (700, leaf(700)), (3, leaf(4))])
        .unwrap();
    assert_eq!(partition.set_leaf(700, leaf(5)).unwrap(), leaf(700));
    assert_eq!(partition.get_leaf(3).unwrap(), leaf(4));
    let mut reference = Reference::new(10);
    reference.set(3, leaf(4));
    reference.set(700, leaf(5));
    assert_eq!(partition.root(), reference.root());
    for index in [3, 700, 0, 1023] {
        let proof = partition.prove(index).unwrap();
        assert!(proof.verify(index, partition.get_leaf(index).unwrap(), partition.root()));
    }
}

#[test]
fn leaf_updates_round_trip_through_json() {
    let mut tree = StateTree::new(config(8, 2));
    let update = tree.set_leaf_with_proof(77, leaf(1)).unwrap();
    let json = serde_json::to_string(&update).unwrap();
    let back: LeafUpdate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, update);
    assert!(back.verify());
}

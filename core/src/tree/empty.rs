//! The digests of empty subtrees, which stand in for every node that was never written.

use std::sync::OnceLock;

use super::config::MAX_DEPTH;
use crate::hash::{hash_two, Digest};

/// The root of an empty subtree of every height `0..=64`: `at(0)` is the empty leaf
/// [`Digest::ZERO`] and `at(h + 1) = hash_two(at(h), at(h))`.
///
/// They don't depend on the tree's shape, so one global table (65 hashes, computed on first
/// use) serves every tree: see [`EmptyHashes::get`].
#[derive(Debug)]
pub struct EmptyHashes {
    digests: [Digest; MAX_DEPTH as usize + 1],
}

impl EmptyHashes {
    /// The shared table.
    pub fn get() -> &'static Self {
        static TABLE: OnceLock<EmptyHashes> = OnceLock::new();
        TABLE.get_or_init(Self::compute)
    }

    /// The root of an empty subtree of height `height` (panics above 64).
    pub fn at(&self, height: u32) -> Digest {
        self.digests[height as usize]
    }

    /// All of them, by height: what an in-circuit twin embeds as constants.
    pub fn as_slice(&self) -> &[Digest] {
        &self.digests
    }

    fn compute() -> Self {
        let mut digests = [Digest::ZERO; MAX_DEPTH as usize + 1];
        for height in 1..digests.len() {
            digests[height] = hash_two(digests[height - 1], digests[height - 1]);
        }
        Self { digests }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hashes_chain_from_the_zero_leaf() {
        let empty = EmptyHashes::get();
        assert_eq!(empty.as_slice().len(), 65);
        assert_eq!(empty.at(0), Digest::ZERO);
        assert_eq!(empty.at(1), hash_two(Digest::ZERO, Digest::ZERO));
        for height in 0..64 {
            assert_eq!(
                empty.at(height + 1),
                hash_two(empty.at(height), empty.at(height))
            );
            assert_ne!(empty.at(height + 1), empty.at(height));
        }
    }
}

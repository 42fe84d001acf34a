//! The shape of the state tree and the arithmetic that splits a leaf index into
//! (partition, local index).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The default total depth: 2^32 account slots.
pub const DEFAULT_DEPTH: u32 = 32;
/// The default number of partition bits: 16 partitions, updated in parallel.
pub const DEFAULT_PARTITION_BITS: u32 = 4;
/// The largest supported depth, so that every leaf index fits in a `u64`.
pub const MAX_DEPTH: u32 = 64;
/// The most partition bits allowed: one `PartitionTree` is allocated per partition, so
/// this caps that allocation at 65,536 subtrees.
pub const MAX_PARTITION_BITS: u32 = 16;

/// The validated shape of a state tree: `2^depth` leaf slots split into
/// `2^partition_bits` partitions by the top `partition_bits` bits of the leaf index.
///
/// The partitioning never changes the state root (it only decides how work is split), so
/// two configs with the same `depth` give the same root for the same leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTreeConfig")]
pub struct TreeConfig {
    depth: u32,
    partition_bits: u32,
}

/// The unvalidated form read by serde, so that a config file can't bypass validation.
#[derive(Deserialize)]
struct RawTreeConfig {
    depth: u32,
    partition_bits: u32,
}

impl TryFrom<RawTreeConfig> for TreeConfig {
    type Error = Error;

    fn try_from(raw: RawTreeConfig) -> Result<Self> {
        Self::new(raw.depth, raw.partition_bits)
    }
}

impl Default for TreeConfig {
    /// Depth 32 with 16 partitions, the architecture's default.
    fn default() -> Self {
        Self {
            depth: DEFAULT_DEPTH,
            partition_bits: DEFAULT_PARTITION_BITS,
        }
    }
}

impl TreeConfig {
    /// Validates a shape: `1 <= depth <= 64` and
    /// `partition_bits <= min(depth, MAX_PARTITION_BITS)`.
    pub fn new(depth: u32, partition_bits: u32) -> Result<Self> {
        let reason = if depth == 0 {
            Some("depth must be at least 1")
        } else if depth > MAX_DEPTH {
            Some("depth must be at most 64")
        } else if partition_bits > depth {
            Some("partition bits must not exceed the depth")
        } else if partition_bits > MAX_PARTITION_BITS {
            Some("partition bits must be at most 16")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidTreeConfig {
                depth,
                partition_bits,
                reason,
            }),
            None => Ok(Self {
                depth,
                partition_bits,
            }),
        }
    }

    /// The total depth `D`: proofs have `D` siblings.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The number `P` of top index bits that choose the partition.
    pub fn partition_bits(&self) -> u32 {
        self.partition_bits
    }

    /// The depth `D - P` of each partition subtree.
    pub fn partition_depth(&self) -> u32 {
        self.depth - self.partition_bits
    }

    /// The number `2^P` of partitions.
    pub fn num_partitions(&self) -> usize {
        1 << self.partition_bits
    }

    /// Refuses an index that is not below `2^depth`.
    pub fn check_index(&self, index: u64) -> Result<()> {
        check_index(index, self.depth)
    }

    /// The partition holding leaf `index` (its top `P` bits). `index` must be valid
    /// ([`Self::check_index`]); higher bits are ignored.
    pub fn partition_of(&self, index: u64) -> usize {
        let partition = shr(index, self.partition_depth()) & low_mask(self.partition_bits);
        partition as usize
    }

    /// The index of leaf `index` inside its partition (its low `D - P` bits).
    pub fn local_index(&self, index: u64) -> u64 {
        index & low_mask(self.partition_depth())
    }

    /// The global leaf index of `local` in `partition`, the inverse of
    /// ([`Self::partition_of`], [`Self::local_index`]) for valid inputs.
    pub fn global_index(&self, partition: usize, local: u64) -> u64 {
        debug_assert!(partition < self.num_partitions(), "partition out of range");
        debug_assert!(
            fits(local, self.partition_depth()),
            "local index out of range"
        );
        shl(partition as u64, self.partition_depth()) | local
    }
}

/// Whether `index` is below `2^depth` (every `u64` is, for depth 64).
pub(crate) fn fits(index: u64, depth: u32) -> bool {
    shr(index, depth) == 0
}

/// Refuses an index that is not below `2^depth`.
pub(crate) fn check_index(index: u64, depth: u32) -> Result<()> {
    if fits(index, depth) {
        Ok(())
    } else {
        Err(Error::LeafIndexOutOfRange { index, depth })
    }
}

/// `value >> bits`, which is 0 (not an overflow) for `bits >= 64`.
pub(crate) fn shr(value: u64, bits: u32) -> u64 {
    value.checked_shr(bits).unwrap_or(0)
}

/// `value << bits`, which is 0 (not an overflow) for `bits >= 64`.
fn shl(value: u64, bits: u32) -> u64 {
    value.checked_shl(bits).unwrap_or(0)
}

/// The mask of the low `bits` bits (all ones for `bits >= 64`).
fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_impossible_shapes() {
        assert!(TreeConfig::new(0, 0).is_err());
        assert!(TreeConfig::new(65, 0).is_err());
        assert!(TreeConfig::new(8, 9).is_err());
        assert!(TreeConfig::new(40, 17).is_err());
        assert_eq!(
            TreeConfig::new(8, 9),
            Err(Error::InvalidTreeConfig {
                depth: 8,
                partition_bits: 9,
                reason: "partition bits must not exceed the depth"
            })
        );
        for (depth, bits) in [(1, 0), (1, 1), (8, 8), (32, 4), (64, 0), (64, 16)] {
            assert!(TreeConfig::new(depth, bits).is_ok(), "{depth}/{bits}");
        }
        assert_eq!(TreeConfig::default(), TreeConfig::new(32, 4).unwrap());
    }

    #[test]
    fn serde_validates() {
        let config: TreeConfig = serde_json::from_str(r#"{"depth":8,"partition_bits":2}"#).unwrap();
        assert_eq!(config, TreeConfig::new(8, 2).unwrap());
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"depth":8,"partition_bits":2}"#
        );
        assert!(serde_json::from_str::<TreeConfig>(r#"{"depth":8,"partition_bits":9}"#).is_err());
    }

    #[test]
    fn index_split_round_trips() {
        let config = TreeConfig::default();
        assert_eq!(config.num_partitions(), 16);
        assert_eq!(config.partition_depth(), 28);
        let index = 0xB123_4567;
        assert_eq!(config.partition_of(index), 0xB);
        assert_eq!(config.local_index(index), 0x123_4567);
        assert_eq!(config.global_index(0xB, 0x123_4567), index);
        assert!(config.check_index(u32::MAX as u64).is_ok());
        assert_eq!(
            config.check_index(1 << 32),
            Err(Error::LeafIndexOutOfRange {
                index: 1 << 32,
                depth: 32
            })
        );

        // The shift edge cases: one 64-deep partition, and partitions of a single leaf.
        let whole = TreeConfig::new(64, 0).unwrap();
        assert_eq!(whole.partition_of(u64::MAX), 0);
        assert_eq!(whole.local_index(u64::MAX), u64::MAX);
        assert_eq!(whole.global_index(0, u64::MAX), u64::MAX);
        assert!(whole.check_index(u64::MAX).is_ok());
        let split = TreeConfig::new(64, 4).unwrap();
        assert_eq!(split.partition_of(u64::MAX), 15);
        assert_eq!(split.local_index(u64::MAX), u64::MAX >> 4);
        let leaves_only = TreeConfig::new(4, 4).unwrap();
        assert_eq!(leaves_only.partition_of(13), 13);
        assert_eq!(leaves_only.local_index(13), 0);
        assert_eq!(leaves_only.global_index(13, 0), 13);
    }
}

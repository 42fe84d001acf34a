//! The crate's one error type.

/// Why a value of the domain model was refused.
///
/// Every variant names the offending input, so that a sequencer can forward it to the user
/// as the reason of a rejection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Text that should be hex is not, or has the wrong length.
    #[error("invalid hex for {what}: {reason}")]
    InvalidHex {
        /// The kind of value being decoded.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A field element encoding that is not the canonical one (its value is not below p).
    #[error("non-canonical field element {value:#018x} in {what}")]
    NonCanonicalField {
        /// The kind of value being decoded.
        what: &'static str,
        /// The raw 64-bit value, which is at least the Goldilocks modulus.
        value: u64,
    },
    // --- ecgfp5 / schnorr variants (owned by the signature module) ---
    /// A GF(p^5) element that encodes no ECgFp5 group element.
    #[error("invalid ECgFp5 point encoding in {what}")]
    InvalidPoint {
        /// The kind of value being decoded.
        what: &'static str,
    },
    /// A scalar encoding whose value is not below the group order n.
    #[error("non-canonical scalar in {what}: not below the group order")]
    NonCanonicalScalar {
        /// The kind of value being decoded.
        what: &'static str,
    },
    /// A key that would make signatures trivially forgeable: a zero secret key or the
    /// neutral element as public key.
    #[error("degenerate key in {what}")]
    DegenerateKey {
        /// The kind of value being decoded.
        what: &'static str,
    },
    /// A signature that does not verify for the given public key and message.
    #[error("invalid signature")]
    InvalidSignature,
    // --- tree variants (owned by the tree module) ---
    /// A tree shape that cannot be built (see `tree::TreeConfig::new`).
    #[error("invalid tree config (depth {depth}, partition bits {partition_bits}): {reason}")]
    InvalidTreeConfig {
        /// The requested total depth.
        depth: u32,
        /// The requested number of partition bits.
        partition_bits: u32,
        /// Which bound it breaks.
        reason: &'static str,
    },
    /// A leaf index that does not fit in the tree (it must be below `2^depth`).
    #[error("leaf index {index} out of range for a tree of depth {depth}")]
    LeafIndexOutOfRange {
        /// The offending index.
        index: u64,
        /// The depth of the (sub)tree it was used on.
        depth: u32,
    },
    /// A partition number that does not exist in the tree.
    #[error("partition {partition} out of range ({partitions} partitions)")]
    PartitionOutOfRange {
        /// The offending partition number.
        partition: usize,
        /// How many partitions the tree has.
        partitions: usize,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

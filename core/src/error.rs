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
    // --- account and execution variants ---
    /// The sender (or an account looked up) has no account.
    #[error("account {account} does not exist")]
    UnknownAccount {
        /// The account's address.
        account: String,
    },
    /// Genesis lists an account twice.
    #[error("account {account} is listed twice")]
    DuplicateAccount {
        /// The account's address.
        account: String,
    },
    /// A transfer's nonce is not the sender's next nonce.
    #[error("nonce {got} is not the account's next nonce {expected}")]
    NonceMismatch {
        /// The account's next nonce.
        expected: u32,
        /// The transfer's nonce.
        got: u32,
    },
    /// The sender cannot pay amount plus fee.
    #[error("balance {balance} is less than the {needed} the transfer debits")]
    InsufficientBalance {
        /// The sender's balance.
        balance: u64,
        /// Amount plus fee.
        needed: u64,
    },
    /// Amount plus fee (or a sum of fees) does not fit 64 bits.
    #[error("amount plus fee overflows 64 bits")]
    AmountOverflow,
    /// A credit would push a balance past `u64::MAX`.
    #[error("crediting {amount} would overflow the balance {balance}")]
    BalanceOverflow {
        /// The recipient's balance.
        balance: u64,
        /// The credited amount.
        amount: u64,
    },
    /// The sender has used every nonce (2^32 transfers).
    #[error("the account's nonces are exhausted")]
    NonceExhausted,
    /// A partition has no free account index left.
    #[error("partition {partition} is full")]
    PartitionFull {
        /// The full partition.
        partition: usize,
    },
    /// A stored account is not where its key and creation order put it.
    #[error("account {account} cannot be at index {index}")]
    MisplacedAccount {
        /// The account's address.
        account: String,
        /// The index it was stored at.
        index: u64,
    },
    /// Independently executed partitions disagree on a cross-partition message chain: the
    /// batch was split or executed wrongly (a bug, never a user's fault).
    #[error("message chain from partition {from} to partition {to} does not match")]
    MessageChainMismatch {
        /// The sending partition.
        from: usize,
        /// The receiving partition.
        to: usize,
    },
    /// A token number other than 0 (ETH) and 1 (the test token).
    #[error("unknown token {token} (0: ETH, 1: the test token)")]
    UnknownToken {
        /// The number read.
        token: u8,
    },
    /// A batch's deposits that are not the next ones of the L1 queue, in order.
    #[error("deposit #{got} is not the next one of the L1 queue (#{expected})")]
    DepositOutOfOrder {
        /// The queue index the batch had to consume next.
        expected: u64,
        /// The queue index it holds.
        got: u64,
    },
    /// More deposits than a batch consumes ([`crate::deposit::MAX_DEPOSITS_PER_BATCH`]).
    #[error("{count} deposits in one batch (at most {max})", max = crate::deposit::MAX_DEPOSITS_PER_BATCH)]
    TooManyDeposits {
        /// How many there are.
        count: usize,
    },
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
    // --- batch data variants ---
    /// An amount or fee that no packed float represents exactly, or that is not below the
    /// Goldilocks order, so it cannot be posted to L1 (the sequencer refuses such a
    /// transfer).
    #[error("{what} {value} is not packable: no mantissa/exponent pair below the field order represents it exactly")]
    UnpackableValue {
        /// "amount" or "fee".
        what: &'static str,
        /// The offending value.
        value: u64,
    },
    /// A packed float that is not the one encoding of a postable value: a smaller exponent
    /// represents the same value, or the value is not below the Goldilocks order.
    #[error("invalid packed {what} (mantissa {mantissa}, exponent {exponent}): {reason}")]
    InvalidPackedFloat {
        /// "amount" or "fee".
        what: &'static str,
        /// The mantissa field.
        mantissa: u64,
        /// The exponent field.
        exponent: u32,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// Batch data whose version byte is not the one this code decodes.
    #[error("unsupported batch data version {version} (expected {expected})")]
    UnsupportedBatchVersion {
        /// The version byte read.
        version: u8,
        /// The version this code encodes and decodes.
        expected: u8,
    },
    /// Batch data that is not a version byte followed by whole chunks (truncated, or with
    /// trailing bytes).
    #[error(
        "batch data of {len} bytes is not a version byte and whole chunks of {chunk} bytes",
        chunk = crate::batch_data::CHUNK_DATA_BYTES
    )]
    InvalidBatchDataLength {
        /// The length of the input.
        len: usize,
    },
    /// Compact (L1) batch data that does not expand: a truncated chunk, or more records
    /// than a chunk holds (`batch_data::compact`).
    #[error("compact batch data, at byte {at}: {reason}")]
    InvalidCompactData {
        /// Offset of the offending chunk header (or count) in the calldata.
        at: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// A batch without chunks: every batch posts at least one, so that its proof has a
    /// data chain to state.
    #[error("batch data without chunks")]
    EmptyBatchData,
    /// A chunk with more records of one kind than the chunk circuit has slots for.
    #[error("{count} {what} in a chunk of capacity {capacity}")]
    ChunkOverCapacity {
        /// "transfers" or "new accounts".
        what: &'static str,
        /// How many there are.
        count: usize,
        /// How many fit.
        capacity: usize,
    },
    /// A chunk of batch data that does not decode (or encode), with its position.
    #[error("invalid chunk #{chunk} of batch data: {source}")]
    InvalidChunk {
        /// The chunk's position in the batch.
        chunk: usize,
        /// Why it was refused.
        source: Box<Error>,
    },
    /// A record of a chunk that does not decode (or encode), with its position.
    #[error("invalid {what} record #{record}: {source}")]
    InvalidBatchRecord {
        /// "transfer" or "new account".
        what: &'static str,
        /// The record's position in its list within the chunk.
        record: usize,
        /// Why it was refused.
        source: Box<Error>,
    },
    /// A record that is not canonical: an unknown tag, bytes in an empty record, nonzero
    /// padding or a used record after an empty one (each would give one batch a second
    /// encoding, hence a second commitment).
    #[error("malformed record: {reason}")]
    MalformedBatchRecord {
        /// Which rule it breaks.
        reason: &'static str,
    },
    // --- genesis variants ---
    /// A genesis file whose stated state root is not the root of its accounts: the file was
    /// edited by hand or corrupted, and starting from it would fork from every other node.
    #[error("genesis state root mismatch: the file states {stated}, its accounts give {computed}")]
    GenesisRootMismatch {
        /// The root written in the file.
        stated: String,
        /// The root rebuilt from the file's accounts.
        computed: String,
    },
    /// A genesis file that cannot be read, parsed or written.
    #[error("genesis file {path}: {reason}")]
    GenesisFile {
        /// The file's path.
        path: String,
        /// What went wrong (the I/O or JSON error).
        reason: String,
    },
}

impl Error {
    /// A short machine-readable code of the error, for API clients to branch on.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidHex { .. }
            | Error::NonCanonicalField { .. }
            | Error::InvalidPoint { .. }
            | Error::NonCanonicalScalar { .. }
            | Error::DegenerateKey { .. } => "malformed",
            Error::InvalidSignature => "bad_signature",
            Error::UnknownAccount { .. } => "unknown_account",
            Error::DuplicateAccount { .. } => "duplicate_account",
            Error::NonceMismatch { .. } => "nonce_mismatch",
            Error::InsufficientBalance { .. } => "insufficient_balance",
            Error::AmountOverflow => "amount_overflow",
            Error::BalanceOverflow { .. } => "balance_overflow",
            Error::NonceExhausted => "nonce_exhausted",
            Error::PartitionFull { .. } => "partition_full",
            Error::UnknownToken { .. } => "unknown_token",
            _ => "internal",
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

//! The crate's one error type.

use rollup_core::hash::Digest;

/// What can stop the sequencer or one of its stages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or lost a query (retryable: the database may come back).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be migrated at start.
    #[error("migrating the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A socket or file could not be used.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The domain model refused something (a bad genesis, an invalid batch).
    #[error(transparent)]
    Core(#[from] rollup_core::Error),
    /// The database belongs to another chain than the genesis file describes.
    #[error("genesis mismatch: {0}")]
    GenesisMismatch(String),
    /// The state rebuilt from the stored accounts does not have the newest batch's root.
    #[error("state rebuilt from Postgres has root {rebuilt}, but batch {batch} stored root {stored}: refusing to run on a corrupt state")]
    RootMismatch {
        /// The newest batch (0: genesis).
        batch: u64,
        /// Its stored root.
        stored: Digest,
        /// The rebuilt state's root.
        rebuilt: Digest,
    },
    /// A stored value does not decode.
    #[error("corrupt database: {0}")]
    Corrupt(String),
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// A file the wallet would create exists already (keys are never overwritten).
    #[error("{} already exists: refusing to overwrite it", path.display())]
    AlreadyExists {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    FileIo {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A key file does not parse.
    #[error("invalid key file {}: {reason}", path.display())]
    InvalidKeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A key file's secret key does not give the public key it states.
    #[error("key file {} states public key {stated} but its secret key gives {derived}", path.display())]
    KeyMismatch {
        /// The file.
        path: std::path::PathBuf,
        /// The stated key (hex; a `PublicKey` would make every `Result` of the crate large).
        stated: String,
        /// The key derived from the secret (hex).
        derived: String,
    },
    /// An amount or fee has no exact encoding in the compact L1 calldata format.
    #[error("{what} {value} cannot be posted to L1 exactly (at most {mantissa_bits} significant bits times a power of ten); the nearest lower value that can is {nearest_lower}")]
    UnpackableValue {
        /// "amount" or "fee".
        what: &'static str,
        /// The value.
        value: u64,
        /// The mantissa width of the format.
        mantissa_bits: u32,
        /// The largest packable value below it.
        nearest_lower: u64,
    },
    /// The sequencer's API could not be reached.
    #[error("sequencer at {url}: {source}")]
    Http {
        /// The URL called.
        url: String,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The sequencer's API refused a request.
    #[error("the sequencer refused ({status}): {reason}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Machine-readable reason.
        reason: String,
        /// Explanation.
        message: String,
    },
    /// A critical task of the node stopped.
    #[error("task {0} stopped")]
    TaskStopped(&'static str),
    /// The L1 node refused or lost a request (retryable: the node may come back).
    #[error("L1: {0}")]
    L1(String),
    /// L1 and Postgres disagree, or L1 refuses a batch for good (fatal: posting again
    /// would only burn gas).
    #[error("settlement: {0}")]
    Settlement(String),
    /// The L1 data does not replay into the state the contract holds (a wrong address,
    /// or a bug in the restorer: verified data always replays).
    #[error("restore: {0}")]
    Restore(String),
}

impl Error {
    /// Whether retrying the same operation later can succeed (a database outage), as
    /// opposed to a fatal condition that must stop the node.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Database(_) | Error::L1(_))
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

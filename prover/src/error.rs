//! The crate's one error type.

/// Why a proof could not be produced or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// plonky2 refused to prove (an unsatisfied constraint: a wrong witness) or to verify.
    #[error("proof system: {0}")]
    Proof(#[from] anyhow::Error),
    /// The database refused or lost a query (retryable: the database may come back).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be migrated at start.
    #[error("migrating the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A socket could not be used (the metrics listener).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A batch's job plan is not a graph the queue can run (a duplicate key, a dependency
    /// on an unknown or later job, more or less than one final job), or it differs from
    /// the plan already stored for the batch.
    #[error("job plan of batch {batch}: {reason}")]
    InvalidPlan {
        /// The batch.
        batch: u64,
        /// What is wrong.
        reason: String,
    },
    /// A stored value breaks the queue's invariants.
    #[error("corrupt job queue: {0}")]
    Corrupt(String),
    /// Public inputs that are not a statement of the expected shape.
    #[error("statement: {0}")]
    Statement(String),
    /// A sealed batch whose witness cannot be built (it disagrees with the state it is
    /// said to follow, or with its own stored calldata).
    #[error("witness: {0}")]
    Witness(String),
    /// The domain model refused an input.
    #[error(transparent)]
    Core(#[from] rollup_core::Error),
    /// Jobs were created for a batch the database does not hold.
    #[error("batch {0} is not stored")]
    UnknownBatch(u64),
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

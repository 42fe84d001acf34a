//! The crate's one error type.

/// What can stop the sequencer or one of its stages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or lost a query.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be migrated at start.
    #[error("migrating the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A socket could not be bound or served.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

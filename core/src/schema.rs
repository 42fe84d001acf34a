//! The Postgres schema shared by every service that touches the database.
//!
//! The SQL lives in the repository's `migrations/` and is embedded at compile time, so a
//! binary always migrates to exactly the schema it was built against. Both the sequencer
//! and the prover workers run [`migrate`] at start; sqlx serialises concurrent runs with
//! an advisory lock, so starting many workers at once is safe.

use sqlx::{migrate::Migrator, PgPool};

/// The project's migrations, embedded from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

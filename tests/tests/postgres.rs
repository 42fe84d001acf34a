//! The schema migrates on the Postgres that `make test` started, and its constraints hold.

use rollup_core::schema::{migrate, MIGRATOR};
use sqlx::PgPool;

async fn insert_batch(db: &PgPool, number: i64, root_len: usize) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO batches (number, old_root, new_root, data_commitment, data, transfer_count, fees)
         VALUES ($1, $2, $2, $3, '\\x01', 0, 0)",
    )
    .bind(number)
    .bind(vec![7u8; root_len])
    .bind(vec![9u8; 32])
    .execute(db)
    .await
    .map(drop)
}

#[sqlx::test(migrations = false)]
async fn migrations_apply_once_and_are_idempotent(db: PgPool) {
    migrate(&db).await.expect("first migration run");
    migrate(&db).await.expect("a second run is a no-op");

    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(applied, MIGRATOR.iter().count() as i64);
    assert!(applied >= 1);
}

#[sqlx::test(migrations = false)]
async fn batches_table_refuses_malformed_rows(db: PgPool) {
    migrate(&db).await.unwrap();

    insert_batch(&db, 1, 32).await.expect("a well-formed batch");
    let duplicate = insert_batch(&db, 1, 32).await.unwrap_err();
    assert_eq!(
        duplicate.as_database_error().unwrap().code().as_deref(),
        Some("23505")
    );
    let short_root = insert_batch(&db, 2, 31).await.unwrap_err();
    assert_eq!(
        short_root.as_database_error().unwrap().code().as_deref(),
        Some("23514")
    );
    let genesis = insert_batch(&db, 0, 32).await.unwrap_err();
    assert_eq!(
        genesis.as_database_error().unwrap().code().as_deref(),
        Some("23514")
    );
}

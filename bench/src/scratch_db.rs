//! Databases of a benchmark's own on the Postgres of `DATABASE_URL`: created fresh for a
//! run and dropped after it, so runs never see each other's rows.

use sqlx::{Connection, Executor, PgConnection};

/// The URL of database `name` on the server of `admin_url` (query parameters kept).
pub fn database_url(admin_url: &str, name: &str) -> String {
    let (url, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(url, query)| (url, Some(query)));
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Creates database `name` and returns its URL.
pub async fn create(admin_url: &str, name: &str) -> Result<String, sqlx::Error> {
    admin_execute(admin_url, format!("CREATE DATABASE {name}")).await?;
    Ok(database_url(admin_url, name))
}

/// Drops database `name`, closing whatever connections it still has.
pub async fn drop(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    admin_execute(
        admin_url,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

async fn admin_execute(admin_url: &str, sql: String) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(admin_url).await?;
    admin.execute(sqlx::AssertSqlSafe(sql)).await?;
    admin.close().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_replace_the_name_and_keep_the_query() {
        assert_eq!(
            database_url("postgres://u:p@h:5432/postgres", "b"),
            "postgres://u:p@h:5432/b"
        );
        assert_eq!(
            database_url("postgres://h/postgres?sslmode=disable", "b"),
            "postgres://h/b?sslmode=disable"
        );
    }
}

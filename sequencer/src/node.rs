//! Assembles the sequencer's stages and runs them until shutdown.

use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;

use crate::{api, config::Config, Result};

/// Connects to Postgres, migrates the schema, and serves the API until Ctrl-C or SIGTERM.
///
/// The one place that shows the service's shape: each stage added to the pipeline is
/// started here, and the node stops when any of them stops.
pub async fn launch(config: Config) -> Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(config.db_connections)
        .connect(&config.database_url)
        .await?;
    rollup_core::schema::migrate(&db).await?;
    tracing::info!(target: "sequencer::node", "database migrated");

    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(target: "sequencer::api", address = %listener.local_addr()?, "serving the HTTP API");
    axum::serve(listener, api::router(api::AppState { db }))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!(target: "sequencer::node", "stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

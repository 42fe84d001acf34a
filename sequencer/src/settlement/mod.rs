//! Settlement: posts every proven batch to the Rollup contract on L1, in order, and
//! follows it until it is confirmed; and hands the contract's deposits, once confirmed, to
//! the sequencer.
//!
//! ## Architecture
//!
//! ```text
//! batches (sequencer) ─┐
//!                      ├─> poster: reconcile open txs ─> post next batch ─> l1_transactions
//! prover_jobs (final) ─┘        ^ receipts, nonces            | sign, record, broadcast
//!                               └────────── L1 (Rollup.sol) <─┘
//! ```
//!
//! - [`contract`]: the Rollup's interface and the L1 encoding of roots.
//! - [`store`]: `l1_transactions` (migrations/0003_settlement.sql) and the reads of the
//!   batch rows and final proofs.
//! - [`proofs`]: the seam between the stored final proof and the verifier's layout.
//! - [`poster`]: the loop. [`metrics`]: Prometheus.
//! - [`deposits`]: the deposit watcher (L1 `Deposit` events, `confirmations` deep, into
//!   the `deposits` table the batcher consumes).
//! - [`deploy`]: deploys the contracts from forge's build output (`rollup deploy`).
//!
//! ## Why it neither loses nor double-posts a batch
//!
//! The contract is the source of truth for what is posted: `lastVerifiedBatch()` says
//! which batch comes next, and it refuses any other number, so a second transaction for a
//! batch can at worst revert. Postgres is the source of truth for what the module may
//! have sent: every transaction is signed, written to `l1_transactions` with its raw bytes
//! and only then broadcast. Each pass first reconciles every recorded transaction that may
//! still land (receipts; a nonce used by another transaction means it never will; one the
//! node does not know is rebroadcast byte for byte, same hash and nonce), and posts a new
//! transaction only when none is open. After a crash at any point the next start
//! therefore finds either the transaction (and follows it) or nothing sent (and posts).
//! One module per database: it holds a Postgres advisory lock while it runs.
//!
//! A transaction is confirmed once its block is `confirmations` deep (its own block
//! counts); a receipt that disappears before that (a reorg) puts it back to `sent`. One
//! batch is in flight at a time: batches are proven one after the other anyway, and a
//! batch can only follow a verified one.
//!
//! ## Running it
//!
//! A separate thin binary, `settlement` (sequencer/src/bin/settlement.rs), next to the
//! sequencer on the same database: it needs no state of the node, only its tables, so it
//! can be restarted, or run on another machine, independently.

pub mod contract;
pub mod deploy;
pub mod deposits;
pub mod metrics;
pub mod poster;
pub mod proofs;
pub mod store;

#[cfg(test)]
mod tests;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use axum::{routing::get, Router};
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

pub use metrics::SettlementMetrics;
pub use poster::{Progress, Settler};
pub use proofs::{ProofEncoder, StoredAsL1};
pub use store::SettlementStore;

use crate::Result;

/// EIP-7825's cap on one transaction's gas: no batch transaction may ask for more.
pub const TX_GAS_CAP: u64 = 1 << 24;

/// How the module posts.
#[derive(Clone, Debug)]
pub struct SettlementConfig {
    /// The L1 node's JSON-RPC URL.
    pub l1_url: String,
    /// The Rollup contract.
    pub rollup: Address,
    /// The operator's key (must hold the contract's operator role).
    pub operator: PrivateKeySigner,
    /// Blocks a transaction's block must be deep (its own included) to count as final.
    pub confirmations: u64,
    /// How often to look for new batches and receipts.
    pub poll_interval: Duration,
    /// How long a transaction may wait unmined before it is replaced with higher fees.
    pub resubmit_after: Duration,
    /// How long after sending a transaction whose nonce L1 reports used may still lack a
    /// receipt before it counts as replaced: a node can report the sender's nonce moved on
    /// before it serves the receipt of the transaction that moved it (seen on Anvil while
    /// it mines a 7M-gas verification), and a transaction wrongly counted as dropped would
    /// leave its batch verified on L1 with no record of how. Longer on an L1 whose nodes
    /// lag behind each other.
    pub receipt_grace: Duration,
    /// How many reverted transactions of one batch stop the module (a revert that
    /// repeats is a bug or a wrong deployment, not bad luck).
    pub max_reverts: u64,
}

/// Connects to Postgres (and migrates), checks the operator against the contract, serves
/// `GET /metrics` and `GET /health` on `listen`, and posts until Ctrl-C or SIGTERM, or a
/// fatal error.
pub async fn launch(
    config: SettlementConfig,
    database_url: &str,
    listen: SocketAddr,
    encoder: Arc<dyn ProofEncoder>,
) -> Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(4)
        .connect(database_url)
        .await?;
    rollup_core::schema::migrate(&db).await?;
    let metrics = SettlementMetrics::new();
    let provider = alloy::providers::RootProvider::new_http(
        config
            .l1_url
            .parse()
            .map_err(|e| crate::Error::Config(format!("L1 URL {}: {e}", config.l1_url)))?,
    );
    let watcher = deposits::DepositWatcher::new(
        provider,
        config.rollup,
        config.confirmations,
        db.clone(),
        metrics.clone(),
    );
    let poll_interval = config.poll_interval;
    let settler = Settler::connect(
        config,
        SettlementStore::new(db.clone()),
        encoder,
        metrics.clone(),
    )
    .await?;

    let cancel = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(target: "sequencer::settlement", address = %listener.local_addr()?, "serving metrics");
    let app = Router::new()
        .route("/metrics", get(move || async move { metrics.render() }))
        .route("/health", get(|| async { "ok" }));
    let serve_cancel = cancel.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(serve_cancel.cancelled_owned())
            .await
    });
    let signal_cancel = cancel.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_cancel.cancel();
    });
    let watch_cancel = cancel.clone();
    let watching = async move {
        let outcome = watcher.run(poll_interval, watch_cancel.clone()).await;
        // A broken queue chain stops everything: posting on would not help.
        watch_cancel.cancel();
        outcome
    };
    let (outcome, watched) = tokio::join!(settler.run(cancel.clone()), watching);
    cancel.cancel();
    let outcome = outcome.and(watched);
    let _ = server.await;
    outcome
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
}

//! `settlement`: posts proven batches to the Rollup contract on L1 (see
//! `sequencer::settlement`, which does the work).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use clap::Parser;
use sequencer::settlement::{self, SettlementConfig, StoredAsL1};

/// Posts every proven batch of the sequencer's database to L1, in order.
#[derive(Debug, Parser)]
#[command(name = "settlement", version, about)]
struct Cli {
    /// Postgres connection URL (the sequencer's and the prover's database).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The L1 node's JSON-RPC URL.
    #[arg(
        long,
        env = "SETTLEMENT_L1_URL",
        default_value = "http://127.0.0.1:8545"
    )]
    l1: String,
    /// The Rollup contract's address.
    #[arg(long, env = "SETTLEMENT_ROLLUP")]
    rollup: Address,
    /// The operator's private key (hex); prefer the environment to the command line,
    /// which other users of the machine can read.
    #[arg(long, env = "SETTLEMENT_OPERATOR_KEY", hide_env_values = true)]
    operator_key: PrivateKeySigner,
    /// Blocks deep (its own block counted) a batch transaction must be to be final.
    #[arg(long, env = "SETTLEMENT_CONFIRMATIONS", default_value_t = 1)]
    confirmations: u64,
    /// Milliseconds between passes when there is nothing to post.
    #[arg(long, env = "SETTLEMENT_POLL_MS", default_value_t = 500)]
    poll_ms: u64,
    /// Seconds an unmined transaction waits before it is replaced with higher fees.
    #[arg(long, env = "SETTLEMENT_RESUBMIT_SECS", default_value_t = 120)]
    resubmit_secs: u64,
    /// Seconds a sent transaction whose nonce L1 reports used may lack a receipt before it
    /// counts as replaced (nodes can report the nonce before they serve the receipt).
    #[arg(long, env = "SETTLEMENT_RECEIPT_GRACE_SECS", default_value_t = 30)]
    receipt_grace_secs: u64,
    /// Reverted transactions of one batch after which the module stops.
    #[arg(long, env = "SETTLEMENT_MAX_REVERTS", default_value_t = 3)]
    max_reverts: u64,
    /// Where to serve `GET /metrics` and `GET /health`.
    #[arg(long, env = "SETTLEMENT_LISTEN", default_value = "127.0.0.1:9464")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = SettlementConfig {
        l1_url: cli.l1,
        rollup: cli.rollup,
        operator: cli.operator_key,
        confirmations: cli.confirmations.max(1),
        poll_interval: Duration::from_millis(cli.poll_ms.max(10)),
        resubmit_after: Duration::from_secs(cli.resubmit_secs.max(1)),
        receipt_grace: Duration::from_secs(cli.receipt_grace_secs),
        max_reverts: cli.max_reverts.max(1),
    };
    settlement::launch(config, &cli.database_url, cli.listen, Arc::new(StoredAsL1)).await?;
    Ok(())
}

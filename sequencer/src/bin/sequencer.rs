//! `sequencer`: runs the L2 node (see the crate docs for its stages).

use clap::Parser;
use sequencer::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    sequencer::node::launch(Config::parse()).await?;
    Ok(())
}

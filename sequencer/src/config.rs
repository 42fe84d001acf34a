//! Flags and environment of the `sequencer` binary.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use crate::{mempool::MempoolConfig, node::NodeConfig};

/// How to run a sequencer; every flag can also be set by the environment variable named.
///
/// The number of partitions and the tree depth are part of the chain's identity (they fix
/// every account's index), so they come from the genesis file, not from flags.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "sequencer", version, about = "The rollup's L2 sequencer node")]
pub struct Config {
    /// Postgres connection URL; the schema is migrated at start.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address of the HTTP API. Loopback by default: expose it through a proxy on purpose.
    #[arg(long, env = "SEQUENCER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The genesis file (`rollup genesis` writes one): chain id, tree shape, funded accounts.
    #[arg(long, env = "SEQUENCER_GENESIS")]
    pub genesis: PathBuf,
    /// Most connections the node keeps to Postgres.
    #[arg(long, env = "SEQUENCER_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
    /// A batch is sealed when this many transfers are ready...
    #[arg(long, env = "SEQUENCER_MAX_BATCH_SIZE", default_value_t = 4096)]
    pub max_batch_size: usize,
    /// Most L1 deposits a batch consumes (the queue drains over batches, oldest first).
    #[arg(long, env = "SEQUENCER_MAX_DEPOSITS_PER_BATCH", default_value_t = 64)]
    pub max_deposits_per_batch: usize,
    /// ...or when this many milliseconds passed since the last one.
    #[arg(long, env = "SEQUENCER_BATCH_INTERVAL_MS", default_value_t = 200)]
    pub batch_interval_ms: u64,
    /// Most transfers the mempool holds; beyond it submissions get 429.
    #[arg(long, env = "SEQUENCER_MEMPOOL_CAPACITY", default_value_t = 200_000)]
    pub mempool_capacity: usize,
    /// How far ahead of an account's next nonce a transfer may wait.
    #[arg(long, env = "SEQUENCER_MAX_NONCE_GAP", default_value_t = 64)]
    pub max_nonce_gap: u32,
    /// Seconds a future-nonce transfer may wait before it is rejected as expired.
    #[arg(long, env = "SEQUENCER_FUTURE_TTL_SECS", default_value_t = 600)]
    pub future_ttl_secs: u64,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SEQUENCER_MAX_BODY_BYTES", default_value_t = 8 << 20)]
    pub max_body_bytes: usize,
    /// Most transfers in one submission.
    #[arg(
        long,
        env = "SEQUENCER_MAX_TRANSFERS_PER_REQUEST",
        default_value_t = 10_000
    )]
    pub max_transfers_per_request: usize,
}

impl Config {
    /// The limits the node applies.
    pub fn node_config(&self) -> NodeConfig {
        NodeConfig {
            max_batch_size: self.max_batch_size.max(1),
            max_deposits_per_batch: self
                .max_deposits_per_batch
                .clamp(1, rollup_core::deposit::MAX_DEPOSITS_PER_BATCH),
            batch_interval: Duration::from_millis(self.batch_interval_ms.max(1)),
            mempool: MempoolConfig {
                capacity: self.mempool_capacity,
                max_nonce_gap: self.max_nonce_gap,
                future_ttl: Duration::from_secs(self.future_ttl_secs),
            },
            max_transfers_per_request: self.max_transfers_per_request.max(1),
        }
    }
}

//! Flags and environment of the `sequencer` binary.

use std::net::SocketAddr;

/// How to run a sequencer; every flag can also be set by the environment variable named.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "sequencer", version, about = "The rollup's L2 sequencer node")]
pub struct Config {
    /// Postgres connection URL; the schema is migrated at start.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address of the HTTP API. Loopback by default: expose it through a proxy on purpose.
    #[arg(long, env = "SEQUENCER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Most connections the node keeps to Postgres.
    #[arg(long, env = "SEQUENCER_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,
}

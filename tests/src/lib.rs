//! Shared fixtures of the integration tests: the real services, started on loopback.
//!
//! Postgres is the one `make test` started (its URL in `DATABASE_URL`); every test gets a
//! database of its own through `#[sqlx::test]`. Anvil is the npm-pinned binary from
//! `contracts/node_modules`, started per test on a free port.

use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance, NodeError};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pinned anvil binary: `ANVIL_BIN` if set, else the one `make test` installed.
pub fn anvil_binary() -> PathBuf {
    std::env::var_os("ANVIL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("contracts/node_modules/.bin/anvil"))
}

/// Starts Anvil on a free loopback port with the EIP-7825 transaction gas cap enforced, as
/// every test of L1 behaviour must run. It is killed when the instance is dropped.
pub fn spawn_anvil(chain_id: u64) -> Result<AnvilInstance, NodeError> {
    Anvil::at(anvil_binary())
        .chain_id(chain_id)
        .args(["--host", "127.0.0.1", "--enable-tx-gas-limit"])
        .try_spawn()
}

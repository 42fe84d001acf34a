//! The L2 node users submit transfers to.
//!
//! ## Architecture
//! The sequencer is a pipeline of stages, one module each:
//!
//! ```text
//! api -> admission -> mempool -> journal (durable, then 202)
//!                        \-> batcher: seal -> execute partitions (rayon) -> store (one tx)
//! ```
//!
//! - [`api`]: the HTTP surface (axum).
//! - [`admission`]: stateless checks in parallel (signatures), then the mempool.
//! - [`mempool`]: per-account nonce order against the pending state, bounded, expiring.
//! - [`journal`]: group commit of acknowledged transfers before they are acknowledged.
//! - [`batcher`]: sealing by size or time, execution in partitions (`rollup_core`), storage.
//! - [`store`]: Postgres, bulk writes, one transaction per batch.
//! - [`node`]: shared state, crash recovery, and [`node::launch`], which runs every stage
//!   and stops them all when one stops.
//! - [`rejection`]: why a transfer is refused, as a machine-readable reason.
//! - [`metrics`], [`config`]: Prometheus metrics, flags and environment.
//! - [`client`]: the HTTP client of the API, for the wallet CLI and tools.
//! - [`wallet`]: key files, signing postable transfers and creating a genesis (the
//!   library of the `rollup` binary).
//! - [`settlement`]: posts proven batches to the Rollup contract on L1 and follows them to
//!   confirmation (the `settlement` binary).
//! - [`restore`]: rebuilds the L2 state from L1 alone (`rollup restore`).
//! - [`bridge`]: a user's L1 side of the rollup: deposits into the Rollup's queue and
//!   claims of withdrawn funds (`rollup deposit`, `rollup claim`).

pub mod admission;
pub mod api;
pub mod batcher;
pub mod bridge;
pub mod client;
pub mod config;
pub mod error;
pub mod journal;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod rejection;
pub mod restore;
pub mod settlement;
pub mod store;
pub mod wallet;

pub use error::{Error, Result};

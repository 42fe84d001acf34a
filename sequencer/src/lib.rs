//! The L2 node users submit transfers to.
//!
//! ## Architecture
//! The sequencer is a pipeline of stages, one module each (most are still to be built; the
//! README's status table says which exist):
//!
//! ```text
//! api -> mempool -> batch -> partitions (execute) -> store -> proving jobs -> settlement
//! ```
//!
//! - [`config`]: flags and environment.
//! - [`api`]: the HTTP surface (axum).
//! - [`node`]: [`node::launch`] assembles the stages and runs them until shutdown.

pub mod api;
pub mod config;
pub mod error;
pub mod node;

pub use error::{Error, Result};

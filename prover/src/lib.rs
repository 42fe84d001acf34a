//! The rollup's circuits and the prover workers that prove every sealed batch.
//!
//! ## Architecture
//! Proofs follow the batch's own structure (see `shared/ARCHITECTURE.md`): chunk proofs of
//! one partition's operations, aggregated by recursion into partition proofs and one batch
//! proof, then wrapped in a proof that is cheap to verify on L1.
//!
//! - [`circuits`]: in-circuit twins of the domain model in `rollup-core`, each beside the
//!   native function it mirrors.
//! - [`queue`]: the proving jobs in Postgres (claim, lease, complete) and the worker
//!   runtime that runs a prover over them.
//! - [`service`]: the planner that turns sealed batches into jobs, and the executor that
//!   proves them with the circuits (the `prover` binary runs both).

pub mod circuits;
pub mod error;
pub mod queue;
pub mod service;
pub mod solidity;

pub use error::{Error, Result};

//! The prover service: what turns sealed batches into proven ones, with only Postgres
//! shared between the sequencer and any number of prover processes.
//!
//! - [`planner`]: follows the sealed batches, replays them on its own copy of the state to
//!   build their witnesses (checked against what the sequencer stored), and creates each
//!   batch's proving jobs ([`crate::circuits::aggregation::tree::ProofPlan`]) in the queue.
//!   Every prover process runs one; creating a batch's jobs twice changes nothing.
//! - [`executor`]: proves a claimed job with the circuits ([`crate::queue::worker::JobExecutor`]);
//!   the final job's result is the wrapper proof in the on-chain verifier's encoding
//!   ([`crate::solidity::encode_proof`]), checked natively first.
//!
//! The queue itself ([`crate::queue`]) leases jobs to workers and keeps their results.

pub mod executor;
pub mod planner;

pub use executor::CircuitExecutor;
pub use planner::{load_batch, plan_jobs, Planner};

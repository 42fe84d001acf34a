//! Parallel execution of a batch, one partition per task, with the same result as the
//! sequential reference ([`State::apply_transfer`](crate::state::State::apply_transfer)).
//!
//! 1. [`split_batch`]: the batch, in order, becomes one list of [`Operation`]s per
//!    partition. A transfer inside a partition is one operation; a transfer across
//!    partitions is a [`Operation::Send`] in the sender's partition and a
//!    [`Operation::Receive`] in the recipient's, tied together by a message.
//! 2. [`PartitionState::execute`](crate::state::PartitionState::execute): each partition
//!    runs its operations alone (in parallel, rayon) and keeps, per counterpart partition,
//!    a running Poseidon hash of the messages it sent and received ([`chain_step`]).
//! 3. [`State::execute_batch`](crate::state::State::execute_batch): every sent chain must
//!    equal the matching received chain; then the partitions' new leaves are written and
//!    the partition roots rehashed in parallel.
//! 4. [`BatchOutcome::steps`] lists each partition's leaf updates ([`Step`]) and
//!    [`plan_chunks`] cuts them into the fixed-capacity [`Chunk`]s that chunk proofs cover
//!    and the calldata posts.
//!
//! Execution never checks signatures (stateless, done before) and the sequencer only seals
//! transfers that are valid in sequential order, so every check here passing is the norm;
//! a failure leaves the state untouched.

mod batch;
mod chunks;
mod operation;
mod partition;
mod step;
#[cfg(test)]
mod tests;

pub use batch::BatchOutcome;
pub use chunks::{plan_chunks, Chunk, CHUNK_STEPS};
pub use operation::{chain_step, split_batch, Operation, CHAIN_STEP_ELEMENTS};
pub use partition::{PartitionOutcome, Recipients};
pub use step::Step;

//! The chunk circuit: a fixed number of one partition's leaf updates (CIRCUITS.md §3).
//!
//! A chunk has [`CHUNK_STEPS`] slots (leaf updates), [`CHUNK_TRANSFERS`] signature units
//! and [`CHUNK_NEW_ACCOUNTS`] new-account units. Every debit slot takes the next unit in
//! order (so a signature costs rows only where a transfer debits, not for receives); every
//! created account takes the next new-account unit. Units are also the calldata records:
//! the chunk hashes exactly the bytes L1 hashes.
//!
//! Per slot: the leaf before is proven in the current root (or empty, for a creation),
//! the rules of the step are applied (nonce, balance without underflow or overflow, the
//! transfer's signature through its unit), and the new leaf gives the next root. Per
//! cross-partition half, the message extends the chain to or from its counterpart.
//!
//! - [`statement`]: the public statement, native and in circuit.
//! - [`circuit`]: the constraints.
//! - [`witness`]: chunk witnesses from a batch's steps and the state before it.

pub mod circuit;
pub mod data;
pub mod statement;
#[cfg(test)]
pub(crate) mod tests;
pub mod witness;

pub use circuit::{ChunkCircuit, ChunkParams};
pub use rollup_core::{
    batch_data::{CHUNK_DEPOSITS, CHUNK_NEW_ACCOUNTS, CHUNK_TRANSFERS, CHUNK_WITHDRAWALS},
    execution::CHUNK_STEPS,
};
pub use statement::{chains_commitment, Statement, StatementTarget, STATEMENT_LEN};
pub use witness::{
    BatchWitness, ChunkWitness, DepositWitness, NewAccountWitness, SlotWitness, UnitWitness,
    WithdrawalWitness,
};

//! The rollup's domain model: what the sequencer executes, the prover proves and L1 checks.
//!
//! Every format here is designed for the circuit as much as for Rust: fixed widths,
//! Goldilocks-native encodings and Poseidon (exactly plonky2's) for every state hash, so
//! that native code and its in-circuit twin in the `prover` crate compute the same values.
//!
//! ## Architecture
//! - [`field`]: the Goldilocks field and canonical (hex) encodings of its elements.
//! - [`hash`]: Poseidon digests, the one hash of the state.
//! - [`ecgfp5`]: the ECgFp5 curve over GF(p^5), the group of the signatures.
//! - [`schnorr`]: Schnorr signatures over ECgFp5 with a Poseidon challenge.
//! - [`tree`]: the partitioned sparse Merkle tree of accounts.
//! - [`token`]: the two tokens every account holds (ETH and the test token).
//! - [`account`], [`transfer`], [`withdrawal`], [`transaction`]: what a leaf commits to,
//!   and what users sign.
//! - [`deposit`]: the L1 deposit queue's entries and its Keccak chain.
//! - [`state`]: accounts by partition with the tree over them; the sequential reference
//!   executor.
//! - [`execution`]: a batch split into partitions, executed in parallel, tied together by
//!   message chains.
//! - [`batch_data`]: a batch's compact L1 calldata (16 bytes a transfer, in fixed-size
//!   chunks) and its Keccak-256 data chain, from which anyone can rebuild the state.
//! - [`statement`]: the one hash of a batch (roots, data commitment, fees) that its proof
//!   exposes and L1 recomputes.
//! - [`genesis`]: the `genesis.json` a deployment starts from: chain id, tree shape, funded
//!   accounts and the state root they must give.
//! - `schema` (feature `db`): the Postgres schema every service migrates to at start.

pub mod account;
pub mod batch_data;
pub mod deposit;
pub mod ecgfp5;
pub mod error;
pub mod execution;
pub mod field;
pub mod genesis;
pub mod hash;
#[cfg(feature = "db")]
pub mod schema;
pub mod schnorr;
pub mod state;
pub mod statement;
pub mod token;
pub mod transaction;
pub mod transfer;
pub mod tree;
pub mod withdrawal;

pub use error::{Error, Result};

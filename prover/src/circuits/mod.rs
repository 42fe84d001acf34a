//! In-circuit twins of the domain model: each gadget mirrors a native function of
//! `rollup-core` and is tested against it on the same inputs.
//!
//! Every circuit of the rollup is built over Goldilocks with its quadratic extension and
//! Poseidon Merkle commitments ([`C`]); only the final wrapper proof for L1 uses Keccak.

pub mod digest;

use plonky2::plonk::config::PoseidonGoldilocksConfig;

/// The extension degree of every rollup circuit.
pub const D: usize = 2;
/// The configuration of the chunk and aggregation circuits.
pub type C = PoseidonGoldilocksConfig;
/// The base field, as the domain model defines it.
pub type F = rollup_core::field::F;

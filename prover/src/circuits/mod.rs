//! In-circuit twins of the domain model: each gadget mirrors a native function of
//! `rollup-core` and is tested against it on the same inputs.
//!
//! - [`gfp5`]: GF(p^5) arithmetic (`Gfp5Target`, the `CircuitBuilderGfp5` trait).
//! - [`curve`]: ECgFp5 points: complete group law, encoding, validated decoding and
//!   windowed scalar multiplications.
//! - [`schnorr`]: verification of the rollup's Schnorr signatures.
//! - [`uint`], [`float`]: u64 limbs with carry checks; packed base-10 floats (calldata).
//! - [`state`], [`transfer`]: leaves, partitions and Merkle paths; messages and chains.
//! - [`chunk`]: the chunk circuit and witnesses from sealed batches (CIRCUITS.md).
//! - [`aggregation`]: merges, range nodes over partitions and the top, and the plan that
//!   proves a batch through them.
//! - [`gates`]: custom plonky2 gates (GF(p^5) products, point doubling and mixed addition)
//!   that the gadgets above place in shared rows, with a `GateSerializer` listing them.
//! - [`serialization`]: the crate's one gate list and one witness-generator list, and the
//!   byte codec of every circuit struct; [`cache`]: circuit sets stored on disk, keyed by
//!   the configuration and the circuit sources, checked against their digests on load.
//! - [`keccak`]: Keccak-256 over fixed-length byte streams (the data chain and the top
//!   statement), on its own XOR and round gates, with the byte/u32-word conversions.
//!
//! Every circuit of the rollup is built over Goldilocks with its quadratic extension and
//! Poseidon Merkle commitments ([`C`]); only the final wrapper proof for L1 uses Keccak.

pub mod aggregation;
pub mod cache;
pub mod chunk;
pub mod curve;
pub mod digest;
pub mod float;
pub mod gates;
pub mod gfp5;
pub mod keccak;
pub mod schnorr;
pub mod serialization;
pub mod state;
pub mod transfer;
pub mod uint;
pub mod wrapper;

use plonky2::plonk::config::PoseidonGoldilocksConfig;

/// The extension degree of every rollup circuit.
pub const D: usize = 2;
/// The configuration of the chunk and aggregation circuits.
pub type C = PoseidonGoldilocksConfig;
/// The base field, as the domain model defines it.
pub type F = rollup_core::field::F;

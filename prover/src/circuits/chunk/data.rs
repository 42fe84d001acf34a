//! The chunk's part of the data commitment: `d_after = keccak256(d_before || records)`
//! (CIRCUITS.md §2), on bytes as little-endian bit groups (the Keccak gadget's order).

use plonky2::{
    iop::target::{BoolTarget, Target},
    plonk::circuit_builder::CircuitBuilder,
};

use crate::circuits::{keccak::CircuitBuilderKeccak, D, F};

/// A byte in circuit: its bits, least significant first.
pub type ByteTarget = [BoolTarget; 8];

/// The big-endian bytes of a number given by its little-endian bits (a multiple of 8).
pub fn bits_to_bytes_be(bits: &[BoolTarget]) -> Vec<ByteTarget> {
    assert_eq!(bits.len() % 8, 0, "whole bytes");
    bits.chunks(8)
        .rev()
        .map(|byte| byte.try_into().expect("8 bits"))
        .collect()
}

/// `keccak256(before || bytes)` with `before` and the result as 8 u32 words.
pub fn data_chain_circuit(
    builder: &mut CircuitBuilder<F, D>,
    before: &[Target; 8],
    bytes: &[ByteTarget],
) -> [Target; 8] {
    let mut input = builder.u32_words_to_bits(before);
    input.extend(bytes.iter().flatten());
    let digest = builder.keccak256(&input);
    builder
        .bits_to_u32_words(&digest)
        .try_into()
        .expect("8 words")
}

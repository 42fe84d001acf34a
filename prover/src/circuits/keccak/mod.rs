//! Keccak-256 in circuit, the twin of Solidity's `keccak256` (tiny_keccak's `Keccak::v256`,
//! as rollup-core computes the data chain), over inputs whose length is fixed when the
//! circuit is built.
//!
//! The chunk circuit hashes `d || chunk_bytes` (CIRCUITS.md §2) and the top circuit its
//! statement (§5) so that L1 can recompute both over calldata; Keccak is a large share of
//! their rows, so the permutation runs on custom gates:
//!
//! - [`XorGate`]: n-input XORs as parities (13 XOR5 or 26 XOR2 per row);
//! - [`KeccakRoundGate`]: theta's correction, rho, pi, chi, iota and the next round's
//!   column parities for one 25-bit slice in one row.
//!
//! A round is 64 round-gate rows plus 320 XOR2 (theta's D, 12.3 rows); a permutation adds
//! the 320 XOR5 of the first round's column parities (24.6 rows): 1,856 rows per
//! Keccak-f\[1600\] ([`ROWS_PER_PERMUTATION`], measured by a test), where XORs on
//! `ArithmeticGate` alone cost about 13,000.
//!
//! Rows are bounded by routed wires (80 per row), each bit costing one wherever it enters
//! or leaves a gate. Folding the next round's column parities into the round gate is what
//! pays: a chi-only gate (5 a + 5 d + 5 outputs per 5-bit row of a slice) plus separate
//! XOR5 parities would route 7,680 wires per round (96 rows) against 6,160 here (77 rows).
//! Folding D (10 parities per bit) or theta's parities (25 inputs per 5 outputs) into
//! the round gate would route more, not less.
//!
//! # Bit order
//!
//! Everything is bits: a byte string is a `[BoolTarget]` stream with bit j (least
//! significant first) of byte i at index 8 i + j, which is also Keccak's little-endian lane
//! order (stream bit k is bit k mod 64 of lane k / 64, lane index x + 5 y). Callers turn
//! field elements into big-endian byte streams with [`CircuitBuilderKeccak::be_bytes_bits`]
//! and back with [`CircuitBuilderKeccak::be_bits_to_target`]; the u32-word helpers follow
//! CIRCUITS.md §3 (word i = bytes 4i..4i+4 big-endian).
//!
//! Inputs must be bits (`BoolTarget`s that some gate constrains, as the helpers' outputs
//! are); every bit these gadgets output is constrained to be a bit.

pub mod round_gate;
pub mod xor_gate;

use plonky2::{
    field::extension::Extendable,
    hash::hash_types::RichField,
    iop::{
        target::{BoolTarget, Target},
        witness::{Witness, WitnessWrite},
    },
    plonk::circuit_builder::CircuitBuilder,
};

pub use round_gate::KeccakRoundGate;
pub use xor_gate::XorGate;

use round_gate::SLICE;

/// Bytes absorbed per permutation by Keccak-256 (1600 - 2 * 256 bits).
pub const RATE_BYTES: usize = 136;
/// Bits of the Keccak-f\[1600\] state.
pub const STATE_BITS: usize = 1600;
/// Bits of a Keccak-256 digest.
pub const DIGEST_BITS: usize = 256;
/// Rows of one in-circuit Keccak-f\[1600\] in the standard recursion config when several
/// permutations share the XOR rows (a lone one takes one more, for its partly filled
/// XOR rows); a test keeps it honest, and sizing circuits can use it.
pub const ROWS_PER_PERMUTATION: usize = 1856;

/// Lane bits.
const LANE: usize = 64;

/// Keccak-f\[1600\]'s iota constants.
const ROUND_CONSTANTS: [u64; 24] = [
    0x0000000000000001,
    0x0000000000008082,
    0x800000000000808a,
    0x8000000080008000,
    0x000000000000808b,
    0x0000000080000001,
    0x8000000080008081,
    0x8000000000008009,
    0x000000000000008a,
    0x0000000000000088,
    0x0000000080008009,
    0x000000008000000a,
    0x000000008000808b,
    0x800000000000008b,
    0x8000000000008089,
    0x8000000000008003,
    0x8000000000008002,
    0x8000000000000080,
    0x000000000000800a,
    0x800000008000000a,
    0x8000000080008081,
    0x8000000000008080,
    0x0000000080000001,
    0x8000000080008008,
];

/// Rho's rotation of lane (x, y), indexed `[x][y]`.
const RHO: [[usize; 5]; 5] = [
    [0, 36, 3, 41, 18],
    [1, 44, 10, 45, 2],
    [62, 6, 43, 15, 61],
    [28, 55, 25, 21, 56],
    [27, 20, 39, 8, 14],
];

/// The constraints of a Keccak gate, written once over any [`Alg`] so that the native,
/// packed, extension-field and recursive evaluations cannot drift apart.
///
/// [`Alg`]: crate::circuits::gates::Alg
pub(crate) trait BitGate {
    /// Every constraint of a row, given its wires and the gate's constants.
    fn constraints<A: crate::circuits::gates::Alg>(
        &self,
        cx: &mut A,
        wires: &[A::V],
        constants: &[A::V],
    ) -> Vec<A::V>;
    /// Wires of a row.
    fn num_wires(&self) -> usize;
}

/// The evaluation methods of `Gate<F, D>` for a [`BitGate`] (inside the `impl Gate` block).
macro_rules! impl_bit_gate_evals {
    () => {
        fn eval_unfiltered(
            &self,
            vars: plonky2::plonk::vars::EvaluationVars<F, D>,
        ) -> Vec<F::Extension> {
            let mut cx = $crate::circuits::gates::Plain::new(
                <F::Extension as plonky2::field::types::Field>::from_canonical_u64,
            );
            $crate::circuits::keccak::BitGate::constraints(
                self,
                &mut cx,
                vars.local_wires,
                vars.local_constants,
            )
        }

        fn eval_unfiltered_base_one(
            &self,
            vars: plonky2::plonk::vars::EvaluationVarsBase<F>,
            mut yield_constr: plonky2::gates::util::StridedConstraintConsumer<F>,
        ) {
            let n = $crate::circuits::keccak::BitGate::num_wires(self);
            let wires: Vec<F> = (0..n).map(|i| vars.local_wires[i]).collect();
            let constants: Vec<F> =
                (0..<Self as plonky2::gates::gate::Gate<F, D>>::num_constants(self))
                    .map(|i| vars.local_constants[i])
                    .collect();
            let mut cx = $crate::circuits::gates::Plain::new(
                <F as plonky2::field::types::Field>::from_canonical_u64,
            );
            yield_constr.many($crate::circuits::keccak::BitGate::constraints(
                self, &mut cx, &wires, &constants,
            ));
        }

        fn eval_unfiltered_base_batch(
            &self,
            vars: plonky2::plonk::vars::EvaluationVarsBaseBatch<F>,
        ) -> Vec<F> {
            use plonky2::gates::packed_util::PackedEvaluableBase;
            self.eval_unfiltered_base_batch_packed(vars)
        }

        fn eval_unfiltered_circuit(
            &self,
            builder: &mut plonky2::plonk::circuit_builder::CircuitBuilder<F, D>,
            vars: plonky2::plonk::vars::EvaluationTargets<D>,
        ) -> Vec<plonky2::iop::ext_target::ExtensionTarget<D>> {
            let mut cx = $crate::circuits::gates::Circ(builder);
            $crate::circuits::keccak::BitGate::constraints(
                self,
                &mut cx,
                vars.local_wires,
                vars.local_constants,
            )
        }
    };
}
pub(crate) use impl_bit_gate_evals;

/// Packed base-field evaluation for a [`BitGate`] (the prover's hot path).
macro_rules! impl_bit_gate_packed {
    ($gate:ty) => {
        impl<
                F: plonky2::hash::hash_types::RichField + plonky2::field::extension::Extendable<D>,
                const D: usize,
            > plonky2::gates::packed_util::PackedEvaluableBase<F, D> for $gate
        {
            fn eval_unfiltered_base_packed<P: plonky2::field::packed::PackedField<Scalar = F>>(
                &self,
                vars: plonky2::plonk::vars::EvaluationVarsBasePacked<P>,
                mut yield_constr: plonky2::gates::util::StridedConstraintConsumer<P>,
            ) {
                let n = $crate::circuits::keccak::BitGate::num_wires(self);
                let wires: Vec<P> = (0..n).map(|i| vars.local_wires[i]).collect();
                let constants: Vec<P> = (0
                    ..<Self as plonky2::gates::gate::Gate<F, D>>::num_constants(self))
                    .map(|i| vars.local_constants[i])
                    .collect();
                let mut cx = $crate::circuits::gates::Plain::new(|c: u64| {
                    P::from(<F as plonky2::field::types::Field>::from_canonical_u64(c))
                });
                yield_constr.many($crate::circuits::keccak::BitGate::constraints(
                    self, &mut cx, &wires, &constants,
                ));
            }
        }
    };
}

impl_bit_gate_packed!(XorGate);
impl_bit_gate_packed!(KeccakRoundGate);

/// A bit of a padded Keccak stream or state: constants (padding, the zero initial state)
/// fold away instead of costing XORs.
#[derive(Clone, Copy, Debug)]
enum Bit {
    Const(bool),
    Var(BoolTarget),
}

impl Bit {
    fn target<F: RichField + Extendable<D>, const D: usize>(
        self,
        builder: &mut CircuitBuilder<F, D>,
    ) -> BoolTarget {
        match self {
            Bit::Const(b) => builder.constant_bool(b),
            Bit::Var(t) => t,
        }
    }

    fn xor<F: RichField + Extendable<D>, const D: usize>(
        self,
        other: Bit,
        builder: &mut CircuitBuilder<F, D>,
    ) -> Bit {
        match (self, other) {
            (Bit::Const(a), Bit::Const(b)) => Bit::Const(a ^ b),
            (Bit::Var(t), Bit::Const(false)) | (Bit::Const(false), Bit::Var(t)) => Bit::Var(t),
            (Bit::Var(t), Bit::Const(true)) | (Bit::Const(true), Bit::Var(t)) => {
                Bit::Var(builder.not(t))
            }
            (Bit::Var(a), Bit::Var(b)) => Bit::Var(XorGate::apply(builder, &[a, b])),
        }
    }
}

/// Keccak gadgets on the circuit builder.
pub trait CircuitBuilderKeccak {
    /// Keccak-256 (Ethereum's, padding 0x01 ... 0x80) of a byte stream whose length,
    /// `input.len() / 8` bytes, is fixed by the circuit: pad10*1 is a constant, and each
    /// 136-byte block costs one permutation (a 384-byte input, three). Returns the digest's
    /// byte stream (byte i of the digest in bits 8 i..8 i + 8, least significant first).
    fn keccak256(&mut self, input: &[BoolTarget]) -> [BoolTarget; DIGEST_BITS];

    /// Keccak-f\[1600\] of a state given as its 1600 bits (stream order: lane x + 5 y, bit
    /// z at 64 (x + 5 y) + z); about [`ROWS_PER_PERMUTATION`] rows.
    fn keccak_f(&mut self, state: &[BoolTarget]) -> Vec<BoolTarget>;

    /// The `num_bytes` big-endian bytes of x, as a stream; also range-checks
    /// x < 2^(8 num_bytes) (`num_bytes` <= 7; one `BaseSumGate` row). A u32 word is
    /// `be_bytes_bits(x, 4)`; a packed amount, `be_bytes_bits(x, 5)`.
    fn be_bytes_bits(&mut self, x: Target, num_bytes: usize) -> Vec<BoolTarget>;

    /// The value of big-endian bytes given as a stream (at most 7 bytes): the inverse of
    /// [`Self::be_bytes_bits`].
    fn be_bits_to_target(&mut self, bits: &[BoolTarget]) -> Target;

    /// The stream of u32 words (each range-checked), word i giving bytes 4i..4i+4
    /// big-endian: how the data chain's 8 public inputs become the first 32 bytes hashed.
    fn u32_words_to_bits(&mut self, words: &[Target]) -> Vec<BoolTarget>;

    /// The u32 words of a stream of a multiple of 4 bytes, word i = bytes 4i..4i+4
    /// big-endian: how a digest becomes 8 public inputs.
    fn bits_to_u32_words(&mut self, bits: &[BoolTarget]) -> Vec<Target>;
}

impl<F: RichField + Extendable<D>, const D: usize> CircuitBuilderKeccak for CircuitBuilder<F, D> {
    fn keccak256(&mut self, input: &[BoolTarget]) -> [BoolTarget; DIGEST_BITS] {
        assert!(
            input.len().is_multiple_of(8),
            "the input is a whole number of bytes"
        );
        let len = input.len() / 8;
        let padded_len = (len / RATE_BYTES + 1) * RATE_BYTES;
        let mut stream: Vec<Bit> = input.iter().map(|&b| Bit::Var(b)).collect();
        stream.resize(8 * padded_len, Bit::Const(false));
        // pad10*1 with Keccak's domain byte 0x01; both ends in one byte when len = 135.
        stream[8 * len] = Bit::Const(true);
        stream[8 * padded_len - 1] = Bit::Const(true);

        let mut state = vec![Bit::Const(false); STATE_BITS];
        for block in stream.chunks(8 * RATE_BYTES) {
            for (s, &m) in state.iter_mut().zip(block) {
                *s = s.xor(m, self);
            }
            let bits: Vec<BoolTarget> = state.iter().map(|b| b.target(self)).collect();
            state = self.keccak_f(&bits).into_iter().map(Bit::Var).collect();
        }
        std::array::from_fn(|k| match state[k] {
            Bit::Var(t) => t,
            Bit::Const(_) => unreachable!("every bit is a permutation output"),
        })
    }

    fn keccak_f(&mut self, state: &[BoolTarget]) -> Vec<BoolTarget> {
        assert_eq!(state.len(), STATE_BITS);
        let bit = |a: &[BoolTarget], x: usize, y: usize, z: usize| a[LANE * (x + 5 * y) + z];
        let mut a = state.to_vec();
        let mut parity: Vec<[BoolTarget; LANE]> = (0..5)
            .map(|x| {
                std::array::from_fn(|z| {
                    let column: Vec<_> = (0..5).map(|y| bit(&a, x, y, z)).collect();
                    XorGate::apply(self, &column)
                })
            })
            .collect();
        for rc in ROUND_CONSTANTS {
            // Theta: D[x][z] = C[x - 1][z] ^ C[x + 1][z - 1].
            let d: Vec<[BoolTarget; LANE]> = (0..5)
                .map(|x| {
                    std::array::from_fn(|z| {
                        let (left, right) = (parity[(x + 4) % 5][z], parity[(x + 1) % 5]);
                        XorGate::apply(self, &[left, right[(z + LANE - 1) % LANE]])
                    })
                })
                .collect();
            let mut next = a.clone();
            let mut next_parity = parity.clone();
            for z in 0..LANE {
                // Rho and pi: lane (x, y) rotated by RHO[x][y] goes to (y, 2x + 3y).
                let (mut a_in, mut d_in) = ([a[0]; SLICE], [a[0]; SLICE]);
                for (x, rho_x) in RHO.iter().enumerate() {
                    for (y, &rho) in rho_x.iter().enumerate() {
                        let i = y + 5 * ((2 * x + 3 * y) % 5);
                        let src = (z + LANE - rho) % LANE;
                        a_in[i] = bit(&a, x, y, src);
                        d_in[i] = d[x][src];
                    }
                }
                let slice = KeccakRoundGate::apply(self, &a_in, &d_in, (rc >> z) & 1 == 1);
                for (i, &out) in slice.out.iter().enumerate() {
                    next[LANE * i + z] = out;
                }
                for (column, &p) in next_parity.iter_mut().zip(&slice.parity) {
                    column[z] = p;
                }
            }
            a = next;
            parity = next_parity;
        }
        a
    }

    fn be_bytes_bits(&mut self, x: Target, num_bytes: usize) -> Vec<BoolTarget> {
        assert!(
            num_bytes <= 7,
            "{num_bytes} bytes do not fit below the field's order"
        );
        let le = self.split_le(x, 8 * num_bytes);
        be_order(&le)
    }

    fn be_bits_to_target(&mut self, bits: &[BoolTarget]) -> Target {
        assert!(bits.len().is_multiple_of(8) && bits.len() <= 56);
        self.le_sum(be_order(bits).into_iter())
    }

    fn u32_words_to_bits(&mut self, words: &[Target]) -> Vec<BoolTarget> {
        words
            .iter()
            .flat_map(|&w| self.be_bytes_bits(w, 4))
            .collect()
    }

    fn bits_to_u32_words(&mut self, bits: &[BoolTarget]) -> Vec<Target> {
        assert!(
            bits.len().is_multiple_of(32),
            "the stream is a whole number of u32 words"
        );
        bits.chunks(32)
            .map(|word| self.be_bits_to_target(word))
            .collect()
    }
}

/// Reverses the byte order of a little-endian bit string (bits within a byte stay least
/// significant first): the map between a number's bits and its big-endian byte stream,
/// which is its own inverse.
fn be_order(bits: &[BoolTarget]) -> Vec<BoolTarget> {
    bits.chunks(8).rev().flatten().copied().collect()
}

/// The stream of a byte string (bit j of byte i at 8 i + j): the native twin of what the
/// gadgets take and return.
pub fn bytes_to_bits(bytes: &[u8]) -> Vec<bool> {
    bytes
        .iter()
        .flat_map(|&byte| (0..8).map(move |j| (byte >> j) & 1 == 1))
        .collect()
}

/// Sets a stream's targets to the bits of `bytes`.
pub fn set_bytes_target<F: RichField>(
    witness: &mut impl WitnessWrite<F>,
    bits: &[BoolTarget],
    bytes: &[u8],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        bits.len() == 8 * bytes.len(),
        "stream and bytes differ in length"
    );
    for (&target, value) in bits.iter().zip(bytes_to_bits(bytes)) {
        witness.set_bool_target(target, value)?;
    }
    Ok(())
}

/// The bytes of a stream in a (generated) witness.
pub fn get_bytes<F: RichField>(witness: &impl Witness<F>, bits: &[BoolTarget]) -> Vec<u8> {
    bits.chunks(8)
        .map(|byte| {
            byte.iter()
                .enumerate()
                .map(|(j, &b)| u8::from(witness.get_bool_target(b)) << j)
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests;

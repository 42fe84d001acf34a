//! Packed base-10 floats in circuit: the twin of `rollup_core::batch_data::FloatFormat`.
//!
//! The calldata posts amounts and fees as `(mantissa, exponent)` words; the circuit proves
//! that the u64 it executes with is exactly `mantissa * 10^exponent` and that the word is
//! the canonical one, so the posted bytes and the executed value cannot disagree.

use plonky2::{
    field::types::{Field, Field64},
    iop::{
        target::{BoolTarget, Target},
        witness::WitnessWrite,
    },
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::batch_data::FloatFormat;

use super::{uint::U64Target, D, F};

/// The packed word of a value, as bits.
#[derive(Clone, Debug)]
pub struct PackedFloatTarget {
    /// The mantissa, little-endian bits.
    pub mantissa: Vec<BoolTarget>,
    /// The exponent, little-endian bits.
    pub exponent: Vec<BoolTarget>,
    mantissa_value: Target,
    exponent_value: Target,
}

crate::circuits::serialization::persist_struct!(PackedFloatTarget {
    mantissa,
    exponent,
    mantissa_value,
    exponent_value,
});

impl PackedFloatTarget {
    /// The word `(mantissa << exponent_bits) | exponent`, little-endian bits.
    pub fn word_bits(&self) -> Vec<BoolTarget> {
        [self.exponent.clone(), self.mantissa.clone()].concat()
    }
}

/// 10^e below the field order (e <= 19), else `None`.
fn pow10(exponent: u32) -> Option<u64> {
    10u64.checked_pow(exponent)
}

/// Constrains `value == mantissa * 10^exponent` with a canonical packed word of `format`,
/// for a value below the field order (as the native format requires). The word is a
/// witness filled by [`set_packed_float_target`].
pub fn packed_float_circuit(
    builder: &mut CircuitBuilder<F, D>,
    format: FloatFormat,
    value: U64Target,
) -> PackedFloatTarget {
    let mantissa_bits = format.mantissa_bits() as usize;
    let exponent_bits = format.exponent_bits() as usize;
    let mantissa_value = builder.add_virtual_target();
    let exponent_value = builder.add_virtual_target();
    let mantissa = builder.split_le(mantissa_value, mantissa_bits);
    let exponent = builder.split_le(exponent_value, exponent_bits);

    // Tables over every exponent: 10^e, and the largest mantissa keeping m * 10^e below p
    // (zero where 10^e itself overflows, which leaves only m = 0, refused below as
    // non-canonical for e > 0).
    let entries = 1usize << exponent_bits;
    let (powers, bounds): (Vec<Target>, Vec<Target>) = (0..entries as u32)
        .map(|e| match pow10(e) {
            Some(pow) => (
                builder.constant(F::from_canonical_u64(pow)),
                builder.constant(F::from_canonical_u64(
                    format.max_mantissa().min((F::ORDER - 1) / pow),
                )),
            ),
            None => (builder.zero(), builder.zero()),
        })
        .unzip();
    let power = builder.random_access(exponent_value, powers);
    let bound = builder.random_access(exponent_value, bounds);
    let headroom = builder.sub(bound, mantissa_value);
    builder.range_check(headroom, mantissa_bits);

    // Below p, so the field product is the integer product.
    let product = builder.mul(mantissa_value, power);
    let two_32 = builder.constant(F::from_canonical_u64(1 << 32));
    let limbs_value = builder.mul_add(value.hi, two_32, value.lo);
    builder.connect(limbs_value, product);
    // The limbs must be the value's own, not those of value + p.
    let all_ones = builder.constant(F::from_canonical_u32(u32::MAX));
    let high_is_max = builder.is_equal(value.hi, all_ones);
    let wrapped = builder.mul(high_is_max.target, value.lo);
    builder.assert_zero(wrapped);

    // Canonical: with e > 0, 10 m must not fit the mantissa (else e - 1 would do).
    let zero = builder.zero();
    let exponent_is_zero = builder.is_equal(exponent_value, zero);
    let ten = builder.constant(F::from_canonical_u64(10));
    let limit = builder.constant(F::from_canonical_u64(format.max_mantissa() + 1));
    let ten_m = builder.mul(ten, mantissa_value);
    let excess = builder.sub(ten_m, limit);
    let one = builder.one();
    let needed = builder.sub(one, exponent_is_zero.target);
    let checked = builder.mul(needed, excess);
    builder.range_check(checked, mantissa_bits + 4);

    PackedFloatTarget {
        mantissa,
        exponent,
        mantissa_value,
        exponent_value,
    }
}

/// Fills the packed word of `value` (its canonical encoding; a value without one makes
/// the proof fail, as the sequencer never seals such a value).
pub fn set_packed_float_target(
    witness: &mut impl WitnessWrite<F>,
    target: &PackedFloatTarget,
    format: FloatFormat,
    value: u64,
) -> anyhow::Result<()> {
    let (mantissa, exponent) = format.pack_parts(value).unwrap_or((0, 0));
    witness.set_target(target.mantissa_value, F::from_canonical_u64(mantissa))?;
    witness.set_target(target.exponent_value, F::from_canonical_u32(exponent))
}

#[cfg(test)]
mod tests {
    use plonky2::{iop::witness::PartialWitness, plonk::circuit_data::CircuitConfig};
    use rollup_core::batch_data::{AMOUNT_FORMAT, FEE_FORMAT};

    use super::*;
    use crate::circuits::{
        uint::{add_virtual_u64_target, set_u64_target},
        C,
    };

    /// Proves the packing of `value` with the word `(mantissa, exponent)`; a refused word
    /// fails either way plonky2 reports it (an error, or a generator's assertion on a value
    /// out of its range).
    fn prove(format: FloatFormat, value: u64, word: Option<(u64, u32)>) -> anyhow::Result<()> {
        std::panic::catch_unwind(|| try_prove(format, value, word))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("witness generation refused the word")))
    }

    fn try_prove(format: FloatFormat, value: u64, word: Option<(u64, u32)>) -> anyhow::Result<()> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let value_target = add_virtual_u64_target(&mut builder);
        let packed = packed_float_circuit(&mut builder, format, value_target);
        let circuit = builder.build::<C>();
        let mut witness = PartialWitness::new();
        set_u64_target(&mut witness, value_target, value)?;
        match word {
            None => set_packed_float_target(&mut witness, &packed, format, value)?,
            Some((m, e)) => {
                witness.set_target(packed.mantissa_value, F::from_canonical_u64(m))?;
                witness.set_target(packed.exponent_value, F::from_canonical_u32(e))?;
            }
        }
        circuit.verify(circuit.prove(witness)?)
    }

    #[test]
    fn canonical_words_of_packable_values_are_proven() {
        for value in [0, 1, 999, 34_359_738_367, 34_359_738_370, 5 * 10u64.pow(18)] {
            assert!(AMOUNT_FORMAT.is_packable(value), "{value}");
            prove(AMOUNT_FORMAT, value, None).unwrap();
        }
        for value in [0, 2047, 20_470, 10u64.pow(19)] {
            assert!(FEE_FORMAT.is_packable(value), "{value}");
            prove(FEE_FORMAT, value, None).unwrap();
        }
    }

    #[test]
    fn non_canonical_or_wrong_words_are_refused() {
        // 1000 = 1000 * 10^0 canonically; 100 * 10^1 is a second encoding.
        assert!(prove(AMOUNT_FORMAT, 1000, Some((100, 1))).is_err());
        // Zero with a nonzero exponent.
        assert!(prove(AMOUNT_FORMAT, 0, Some((0, 3))).is_err());
        // A word of another value.
        assert!(prove(AMOUNT_FORMAT, 1000, Some((1001, 0))).is_err());
        // The field wraps: m * 10^e above p would reduce to a small value.
        let wrapping_m = (F::ORDER / 10u64.pow(19)) + 1;
        let wrapped = ((wrapping_m as u128 * 10u128.pow(19)) % F::ORDER as u128) as u64;
        assert!(prove(FEE_FORMAT, wrapped, Some((wrapping_m, 19))).is_err());
    }
}

//! u64 values as two 32-bit limbs in circuit, the layout of `rollup_core::field::u64_to_limbs`
//! (balances, amounts and fees), with carry-checked addition and subtraction.
//!
//! Limbs never leave `[0, 2^32)`, so sums and differences of limbs stay far below the field
//! order and the checks are exact integer checks.

use plonky2::{
    field::types::Field,
    iop::{
        target::{BoolTarget, Target},
        witness::WitnessWrite,
    },
    plonk::circuit_builder::CircuitBuilder,
};

use super::{D, F};

/// A u64 in circuit: low and high 32-bit limbs.
#[derive(Clone, Copy, Debug)]
pub struct U64Target {
    /// Bits 0..32.
    pub lo: Target,
    /// Bits 32..64.
    pub hi: Target,
}

impl U64Target {
    /// The limbs, low first (the order hashed into leaves and messages).
    pub fn limbs(&self) -> [Target; 2] {
        [self.lo, self.hi]
    }
}

/// A fresh u64 whose limbs are range-checked to 32 bits.
pub fn add_virtual_u64_target(builder: &mut CircuitBuilder<F, D>) -> U64Target {
    let value = U64Target {
        lo: builder.add_virtual_target(),
        hi: builder.add_virtual_target(),
    };
    builder.range_check(value.lo, 32);
    builder.range_check(value.hi, 32);
    value
}

/// A u64 constant.
pub fn constant_u64(builder: &mut CircuitBuilder<F, D>, value: u64) -> U64Target {
    U64Target {
        lo: builder.constant(F::from_canonical_u32(value as u32)),
        hi: builder.constant(F::from_canonical_u32((value >> 32) as u32)),
    }
}

/// Fills a u64 target.
pub fn set_u64_target(
    witness: &mut impl WitnessWrite<F>,
    target: U64Target,
    value: u64,
) -> anyhow::Result<()> {
    witness.set_target(target.lo, F::from_canonical_u32(value as u32))?;
    witness.set_target(target.hi, F::from_canonical_u32((value >> 32) as u32))
}

/// `a + b`, constrained not to overflow 64 bits (the twin of `u64::checked_add` succeeding).
pub fn add_u64_circuit(
    builder: &mut CircuitBuilder<F, D>,
    a: U64Target,
    b: U64Target,
) -> U64Target {
    let low_sum = builder.add(a.lo, b.lo);
    let (lo, carry) = builder.split_low_high(low_sum, 32, 33);
    let high_sum = builder.add(a.hi, b.hi);
    let hi = builder.add(high_sum, carry);
    builder.range_check(hi, 32);
    U64Target { lo, hi }
}

/// `a - b`, constrained not to underflow (the twin of `u64::checked_sub` succeeding).
pub fn sub_u64_circuit(
    builder: &mut CircuitBuilder<F, D>,
    a: U64Target,
    b: U64Target,
) -> U64Target {
    // a.lo - b.lo + 2^32 lies in [1, 2^33): its bit 32 says whether no borrow is needed.
    let two_32 = builder.constant(F::from_canonical_u64(1 << 32));
    let low_diff = builder.sub(a.lo, b.lo);
    let shifted = builder.add(low_diff, two_32);
    let (lo, no_borrow) = builder.split_low_high(shifted, 32, 33);
    let high_diff = builder.sub(a.hi, b.hi);
    // hi = a.hi - b.hi - 1 + no_borrow; a negative value wraps far above 2^32.
    let one = builder.one();
    let borrow = builder.sub(one, no_borrow);
    let hi = builder.sub(high_diff, borrow);
    builder.range_check(hi, 32);
    U64Target { lo, hi }
}

/// `value` if `condition`, else zero.
pub fn mask_u64(
    builder: &mut CircuitBuilder<F, D>,
    condition: BoolTarget,
    value: U64Target,
) -> U64Target {
    U64Target {
        lo: builder.mul(condition.target, value.lo),
        hi: builder.mul(condition.target, value.hi),
    }
}

/// `a` if `condition`, else `b` (limb-wise).
pub fn select_u64(
    builder: &mut CircuitBuilder<F, D>,
    condition: BoolTarget,
    a: U64Target,
    b: U64Target,
) -> U64Target {
    U64Target {
        lo: builder.select(condition, a.lo, b.lo),
        hi: builder.select(condition, a.hi, b.hi),
    }
}

/// Constrains `a == b` when `condition` holds.
pub fn conditional_assert_eq(
    builder: &mut CircuitBuilder<F, D>,
    condition: Target,
    a: Target,
    b: Target,
) {
    let difference = builder.sub(a, b);
    let product = builder.mul(condition, difference);
    builder.assert_zero(product);
}

/// Constrains the limbs of `a` and `b` equal when `condition` holds.
pub fn conditional_assert_eq_u64(
    builder: &mut CircuitBuilder<F, D>,
    condition: Target,
    a: U64Target,
    b: U64Target,
) {
    conditional_assert_eq(builder, condition, a.lo, b.lo);
    conditional_assert_eq(builder, condition, a.hi, b.hi);
}

#[cfg(test)]
mod tests {
    use plonky2::{iop::witness::PartialWitness, plonk::circuit_data::CircuitConfig};

    use super::*;
    use crate::circuits::C;

    /// Proves `op(a, b) == expected`; `Err` when the circuit refuses the inputs.
    fn run(
        op: fn(&mut CircuitBuilder<F, D>, U64Target, U64Target) -> U64Target,
        a: u64,
        b: u64,
        expected: u64,
    ) -> anyhow::Result<()> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let [ta, tb, te] = [(); 3].map(|()| add_virtual_u64_target(&mut builder));
        let result = op(&mut builder, ta, tb);
        builder.connect(result.lo, te.lo);
        builder.connect(result.hi, te.hi);
        let circuit = builder.build::<C>();
        let mut witness = PartialWitness::new();
        set_u64_target(&mut witness, ta, a)?;
        set_u64_target(&mut witness, tb, b)?;
        set_u64_target(&mut witness, te, expected)?;
        circuit.verify(circuit.prove(witness)?)
    }

    #[test]
    fn addition_and_subtraction_match_native_at_the_limb_boundaries() {
        let cases = [
            (0, 0),
            (u32::MAX as u64, 1),
            (1 << 32, (1 << 32) - 1),
            (u64::MAX - 5, 5),
            (0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321),
        ];
        for (a, b) in cases {
            run(add_u64_circuit, a, b, a + b).unwrap();
            let (hi, lo) = (a.max(b), a.min(b));
            run(sub_u64_circuit, hi, lo, hi - lo).unwrap();
        }
    }

    #[test]
    fn overflow_and_underflow_cannot_be_proven() {
        // The wrapped results are what a cheating prover would claim.
        assert!(run(add_u64_circuit, u64::MAX, 1, 0).is_err());
        assert!(run(add_u64_circuit, u64::MAX - 1, 3, 1).is_err());
        assert!(run(sub_u64_circuit, 5, 6, u64::MAX).is_err());
        assert!(run(sub_u64_circuit, 1 << 32, (1 << 32) + 1, u64::MAX).is_err());
    }

    #[test]
    fn a_wrong_result_cannot_be_proven() {
        assert!(run(add_u64_circuit, 7, 8, 16).is_err());
        assert!(run(sub_u64_circuit, 7, 3, 3).is_err());
    }
}

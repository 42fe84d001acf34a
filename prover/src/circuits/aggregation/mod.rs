//! Recursive aggregation of chunk proofs into one batch proof (CIRCUITS.md §1).
//!
//! - [`merge`]: two proofs of the same partition (chunks, then merges) into one, the
//!   right one optional so that any chunk count folds up; every merge level has the same
//!   [`Shape`], so a partition proof of any height can be verified by one circuit.
//! - [`range`]: two adjacent partition ranges into one, mirroring the state tree above the
//!   partitions; a range the batch did not touch needs no proof.
//! - [`top`]: the whole state: message chains cross-checked, the data chain anchored, and
//!   the batch statement hashed with Keccak for L1.
//! - [`tree`]: builds every circuit of a configuration and proves a batch through them.

pub mod merge;
pub mod range;
pub mod shape;
#[cfg(test)]
mod tests;
pub mod top;
pub mod tree;

use plonky2::{
    hash::hash_types::HashOutTarget,
    iop::target::{BoolTarget, Target},
    plonk::{circuit_builder::CircuitBuilder, proof::ProofWithPublicInputs},
};

pub use shape::Shape;

use super::{chunk::StatementTarget, uint::conditional_assert_eq, D, F};
use crate::circuits::C;

/// A proof of any rollup circuit but the wrapper.
pub type Proof = ProofWithPublicInputs<F, C, D>;

/// Constrains two digests equal when `condition` holds.
pub(crate) fn conditional_assert_eq_hash(
    builder: &mut CircuitBuilder<F, D>,
    condition: Target,
    a: HashOutTarget,
    b: HashOutTarget,
) {
    for (x, y) in a.elements.into_iter().zip(b.elements) {
        conditional_assert_eq(builder, condition, x, y);
    }
}

/// Constrains two data-chain values equal when `condition` holds.
pub(crate) fn conditional_assert_eq_words(
    builder: &mut CircuitBuilder<F, D>,
    condition: Target,
    a: &[Target; 8],
    b: &[Target; 8],
) {
    for (x, y) in a.iter().zip(b) {
        conditional_assert_eq(builder, condition, *x, *y);
    }
}

/// `a` if `condition`, else `b`, word-wise.
pub(crate) fn select_words(
    builder: &mut CircuitBuilder<F, D>,
    condition: BoolTarget,
    a: &[Target; 8],
    b: &[Target; 8],
) -> [Target; 8] {
    std::array::from_fn(|i| builder.select(condition, a[i], b[i]))
}

/// The statement of an inner proof's public inputs.
pub(crate) fn inner_statement(public_inputs: &[Target]) -> StatementTarget {
    StatementTarget::from_targets(public_inputs)
}

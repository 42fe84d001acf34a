//! Merging two consecutive proofs of one partition (chunk proofs, or merges of them).

use plonky2::{
    iop::{
        target::BoolTarget,
        witness::{PartialWitness, WitnessWrite},
    },
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{CircuitConfig, CircuitData, CommonCircuitData, VerifierOnlyCircuitData},
        proof::ProofWithPublicInputsTarget,
    },
};

use super::{
    conditional_assert_eq_hash, conditional_assert_eq_words, inner_statement, select_words, Proof,
    Shape,
};
use crate::{
    circuits::{
        chunk::StatementTarget,
        digest::select_hash_circuit,
        uint::{add_u64_circuit, conditional_assert_eq, mask_u64},
        C, D, F,
    },
    Result,
};

/// Verifies a left proof and an optional right proof of the same inner circuit, covering
/// consecutive runs of one partition's chunks, and states the run they cover together.
/// Without a right proof the statement is the left one's (a level with an odd count).
pub struct MergeCircuit {
    /// The circuit's prover and verifier data.
    pub data: CircuitData<F, C, D>,
    left: ProofWithPublicInputsTarget<D>,
    right: ProofWithPublicInputsTarget<D>,
    has_right: BoolTarget,
}

crate::circuits::serialization::persist_struct!(MergeCircuit {
    data,
    left,
    right,
    has_right
});

impl MergeCircuit {
    /// Builds the merge of two proofs of the circuit with `inner_common` and
    /// `inner_verifier`, padded to `shape` if given.
    pub fn build(
        inner_common: &CommonCircuitData<F, D>,
        inner_verifier: &VerifierOnlyCircuitData<C, D>,
        shape: Option<&Shape>,
    ) -> Self {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let verifier = builder.constant_verifier_data(inner_verifier);
        let left = builder.add_virtual_proof_with_pis(inner_common);
        let right = builder.add_virtual_proof_with_pis(inner_common);
        // Without a right proof, the left one fills its place (verified twice, ignored).
        builder.verify_proof::<C>(&left, &verifier, inner_common);
        builder.verify_proof::<C>(&right, &verifier, inner_common);
        let has_right = builder.add_virtual_bool_target_safe();
        let statement = merge_statements(
            &mut builder,
            &inner_statement(&left.public_inputs),
            &inner_statement(&right.public_inputs),
            has_right,
        );
        statement.register(&mut builder);
        if let Some(shape) = shape {
            shape.pad(&mut builder);
        }
        Self {
            data: builder.build::<C>(),
            left,
            right,
            has_right,
        }
    }

    /// Proves the merge of `left` and `right` (consecutive), or lifts `left` alone.
    pub fn prove(&self, left: &Proof, right: Option<&Proof>) -> Result<Proof> {
        let mut witness = PartialWitness::new();
        witness.set_proof_with_pis_target(&self.left, left)?;
        witness.set_proof_with_pis_target(&self.right, right.unwrap_or(left))?;
        witness.set_bool_target(self.has_right, right.is_some())?;
        Ok(self.data.prove(witness)?)
    }
}

/// The statement of `left` followed by `right` (when `has_right`), with continuity checked.
fn merge_statements(
    builder: &mut CircuitBuilder<F, D>,
    left: &StatementTarget,
    right: &StatementTarget,
    has_right: BoolTarget,
) -> StatementTarget {
    let b = has_right.target;
    conditional_assert_eq(builder, b, left.partition, right.partition);
    conditional_assert_eq_hash(builder, b, left.new_root, right.old_root);
    conditional_assert_eq_hash(builder, b, left.chains_after, right.chains_before);
    conditional_assert_eq_words(builder, b, &left.data_after, &right.data_before);
    StatementTarget {
        partition: left.partition,
        old_root: left.old_root,
        new_root: select_hash_circuit(builder, has_right, right.new_root, left.new_root),
        chains_before: left.chains_before,
        chains_after: select_hash_circuit(
            builder,
            has_right,
            right.chains_after,
            left.chains_after,
        ),
        data_before: left.data_before,
        data_after: select_words(builder, has_right, &right.data_after, &left.data_after),
        fees: std::array::from_fn(|token| {
            let right_fee = mask_u64(builder, has_right, right.fees[token]);
            add_u64_circuit(builder, left.fees[token], right_fee)
        }),
    }
}

//! Merging two adjacent ranges of partitions, level by level up the state tree.

use plonky2::{
    field::types::Field,
    hash::hash_types::HashOutTarget,
    iop::{
        target::{BoolTarget, Target},
        witness::{PartialWitness, WitnessWrite},
    },
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{
            CircuitConfig, CircuitData, CommonCircuitData, VerifierCircuitTarget,
            VerifierOnlyCircuitData,
        },
        proof::ProofWithPublicInputsTarget,
    },
};
use rollup_core::hash::{hash_two, Digest};

use super::{
    conditional_assert_eq_hash, conditional_assert_eq_words, inner_statement, select_words, Proof,
    Shape,
};
use crate::{
    circuits::{
        chunk::{chains_commitment, StatementTarget},
        digest::{hash_two_circuit, select_hash_circuit, set_digest_target},
        uint::{add_u64_circuit, mask_u64},
        C, D, F,
    },
    Error, Result,
};

/// The chains commitment of a range of `2^level` partitions that sent and received
/// nothing (every range node of the level would state it).
pub fn untouched_chains(level: usize, partitions: usize) -> Digest {
    let zeros = vec![Digest::ZERO; partitions];
    (0..level).fold(chains_commitment(&zeros, &zeros), |digest, _| {
        hash_two(digest, digest)
    })
}

/// What the children of a range node are proofs of.
pub enum RangeInner<'a> {
    /// Partition proofs: merges of any height, all of one shape, named by index.
    Partitions {
        /// Their common data.
        common: &'a CommonCircuitData<F, D>,
        /// Their verifier data, by index.
        verifiers: Vec<&'a VerifierOnlyCircuitData<C, D>>,
    },
    /// Range nodes of the level below.
    Ranges {
        /// Their common data.
        common: &'a CommonCircuitData<F, D>,
        /// Their verifier data.
        verifier: &'a VerifierOnlyCircuitData<C, D>,
    },
}

/// One child of a range node when proving.
#[derive(Clone, Copy)]
pub enum RangeChild<'a> {
    /// A range the batch touched, with its proof and (for partition proofs) the index of
    /// the proof's circuit among the allowed ones.
    Proven(&'a Proof, usize),
    /// A range the batch left alone, with its (unchanged) subtree root.
    Untouched(Digest),
}

struct ChildTargets {
    proof: ProofWithPublicInputsTarget<D>,
    verifier_index: Option<Target>,
    touched: BoolTarget,
    root: HashOutTarget,
}

/// Verifies up to two children covering `[a, a + 2^(level-1))` and
/// `[a + 2^(level-1), a + 2^level)` and states the range they cover together: roots
/// hashed like the state tree's nodes, chains commitments paired, the data chain
/// continued from left to right.
pub struct RangeCircuit {
    /// The circuit's prover and verifier data.
    pub data: CircuitData<F, C, D>,
    children: [ChildTargets; 2],
}

crate::circuits::serialization::persist_struct!(RangeCircuit { data, children });
crate::circuits::serialization::persist_struct!(ChildTargets {
    proof,
    verifier_index,
    touched,
    root,
});

impl RangeCircuit {
    /// Builds the node of `level` (1: its children are partitions) for a tree of
    /// `2^partition_bits` partitions, padded to `shape` if given.
    pub fn build(
        level: usize,
        partition_bits: usize,
        inner: &RangeInner<'_>,
        shape: Option<&Shape>,
    ) -> Self {
        assert!(
            level >= 1 && level <= partition_bits,
            "levels run from 1 to the partition bits"
        );
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let children = [0, 1].map(|_| add_child(&mut builder, inner));
        let statements = [0, 1].map(|i| inner_statement(&children[i].proof.public_inputs));
        let statement = combine(&mut builder, level, partition_bits, &children, &statements);
        statement.register(&mut builder);
        if let Some(shape) = shape {
            shape.pad(&mut builder);
        }
        Self {
            data: builder.build::<C>(),
            children,
        }
    }

    /// Proves the node; at least one child must be proven.
    pub fn prove(&self, left: RangeChild<'_>, right: RangeChild<'_>) -> Result<Proof> {
        let some_proof = match (left, right) {
            (RangeChild::Proven(proof, index), _) | (_, RangeChild::Proven(proof, index)) => {
                (proof, index)
            }
            _ => return Err(Error::Witness("a range node needs a proven child".into())),
        };
        let mut witness = PartialWitness::new();
        for (targets, child) in self.children.iter().zip([left, right]) {
            let ((proof, index), touched, root) = match child {
                RangeChild::Proven(proof, index) => ((proof, index), true, Digest::ZERO),
                RangeChild::Untouched(root) => (some_proof, false, root),
            };
            witness.set_proof_with_pis_target(&targets.proof, proof)?;
            if let Some(target) = targets.verifier_index {
                witness.set_target(target, F::from_canonical_usize(index))?;
            }
            witness.set_bool_target(targets.touched, touched)?;
            set_digest_target(&mut witness, targets.root, root)?;
        }
        Ok(self.data.prove(witness)?)
    }
}

fn add_child(builder: &mut CircuitBuilder<F, D>, inner: &RangeInner<'_>) -> ChildTargets {
    let (proof, verifier_index) = match inner {
        RangeInner::Ranges { common, verifier } => {
            let verifier = builder.constant_verifier_data(verifier);
            let proof = builder.add_virtual_proof_with_pis(common);
            builder.verify_proof::<C>(&proof, &verifier, common);
            (proof, None)
        }
        RangeInner::Partitions { common, verifiers } => {
            // The proof's verifier data is one of the allowed ones, picked by index.
            let count = verifiers.len().next_power_of_two().max(2);
            let pick = |i: usize| verifiers[i.min(verifiers.len() - 1)];
            let index = builder.add_virtual_target();
            let cap_height = common.config.fri_config.cap_height;
            let verifier = builder.add_virtual_verifier_data(cap_height);
            let flat_targets = flatten_verifier_targets(&verifier);
            let flat_values: Vec<Vec<F>> = (0..count).map(|i| flatten_verifier(pick(i))).collect();
            for (position, target) in flat_targets.into_iter().enumerate() {
                let column = flat_values
                    .iter()
                    .map(|values| builder.constant(values[position]))
                    .collect();
                let chosen = builder.random_access(index, column);
                builder.connect(chosen, target);
            }
            let proof = builder.add_virtual_proof_with_pis(common);
            builder.verify_proof::<C>(&proof, &verifier, common);
            (proof, Some(index))
        }
    };
    ChildTargets {
        proof,
        verifier_index,
        touched: builder.add_virtual_bool_target_safe(),
        root: builder.add_virtual_hash(),
    }
}

/// A verifier data's cap and digest elements, in a fixed order.
fn flatten_verifier(data: &VerifierOnlyCircuitData<C, D>) -> Vec<F> {
    data.constants_sigmas_cap
        .0
        .iter()
        .flat_map(|hash| hash.elements)
        .chain(data.circuit_digest.elements)
        .collect()
}

/// The targets of a verifier data, in the order of [`flatten_verifier`].
fn flatten_verifier_targets(target: &VerifierCircuitTarget) -> Vec<Target> {
    target
        .constants_sigmas_cap
        .0
        .iter()
        .flat_map(|hash| hash.elements)
        .chain(target.circuit_digest.elements)
        .collect()
}

fn combine(
    builder: &mut CircuitBuilder<F, D>,
    level: usize,
    partition_bits: usize,
    children: &[ChildTargets; 2],
    statements: &[StatementTarget; 2],
) -> StatementTarget {
    let partitions = 1usize << partition_bits;
    let below = untouched_chains(level - 1, partitions);
    let below = builder.constant_hash(below.0);
    let here = builder.constant_hash(untouched_chains(level, partitions).0);
    let half = builder.constant(F::from_canonical_usize(1 << (level - 1)));
    let [(lt, left), (rt, right)] = [0, 1].map(|i| (children[i].touched, &statements[i]));

    // At least one child is proven; a proven child starts from empty chains (level 1) or
    // from the constant of its level.
    let neither = {
        let left_untouched = builder.not(lt);
        let right_untouched = builder.not(rt);
        builder.and(left_untouched, right_untouched)
    };
    builder.assert_zero(neither.target);
    for (touched, statement) in [(lt, left), (rt, right)] {
        conditional_assert_eq_hash(builder, touched.target, statement.chains_before, below);
    }

    // Partitions: the right range follows the left one, and the node is aligned.
    let right_from_left = builder.add(left.partition, half);
    let both = builder.and(lt, rt);
    crate::circuits::uint::conditional_assert_eq(
        builder,
        both.target,
        right.partition,
        right_from_left,
    );
    let left_from_right = builder.sub(right.partition, half);
    let first = builder.select(lt, left.partition, left_from_right);
    let bits = builder.split_le(first, partition_bits);
    for bit in &bits[..level] {
        builder.assert_zero(bit.target);
    }

    // Roots: an untouched child keeps its root.
    let [left_old, left_new, right_old, right_new] = [
        (lt, left.old_root, 0),
        (lt, left.new_root, 0),
        (rt, right.old_root, 1),
        (rt, right.new_root, 1),
    ]
    .map(|(touched, root, child)| {
        select_hash_circuit(builder, touched, root, children[child].root)
    });
    let old_root = hash_two_circuit(builder, left_old, right_old);
    let new_root = hash_two_circuit(builder, left_new, right_new);

    let left_chains = select_hash_circuit(builder, lt, left.chains_after, below);
    let right_chains = select_hash_circuit(builder, rt, right.chains_after, below);
    let chains_after = hash_two_circuit(builder, left_chains, right_chains);

    // The data chain runs left to right through the proven children.
    conditional_assert_eq_words(builder, both.target, &left.data_after, &right.data_before);
    let data_before = select_words(builder, lt, &left.data_before, &right.data_before);
    let data_after = select_words(builder, rt, &right.data_after, &left.data_after);

    StatementTarget {
        partition: first,
        old_root,
        new_root,
        chains_before: here,
        chains_after,
        data_before,
        data_after,
        fees: std::array::from_fn(|token| {
            let left_fee = mask_u64(builder, lt, left.fees[token]);
            let right_fee = mask_u64(builder, rt, right.fees[token]);
            add_u64_circuit(builder, left_fee, right_fee)
        }),
    }
}

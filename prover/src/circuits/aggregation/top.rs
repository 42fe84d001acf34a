//! The top of the proof tree: the whole state tree's range proof, with the message chains
//! cross-checked and the batch statement hashed for L1 (CIRCUITS.md §4, §5).

use plonky2::{
    field::types::PrimeField64,
    hash::hash_types::HashOutTarget,
    iop::{
        target::{BoolTarget, Target},
        witness::{PartialWitness, WitnessWrite},
    },
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{CircuitConfig, CircuitData, CommonCircuitData, VerifierOnlyCircuitData},
        proof::ProofWithPublicInputsTarget,
    },
};
use rollup_core::hash::Digest;

use super::{inner_statement, Proof};
use crate::{
    circuits::{
        chunk::data::ByteTarget,
        curve::canonical_bits_64,
        digest::{hash_elements_circuit, hash_two_circuit, set_digest_target},
        keccak::CircuitBuilderKeccak,
        C, D, F,
    },
    Error, Result,
};

/// Verifies the range proof over all partitions and exposes the batch statement's hash as
/// 8 u32 public inputs (`rollup_core::statement::BatchStatement::public_inputs`).
pub struct TopCircuit {
    /// The circuit's prover and verifier data.
    pub data: CircuitData<F, C, D>,
    inner: ProofWithPublicInputsTarget<D>,
    chains: Vec<Vec<HashOutTarget>>,
}

crate::circuits::serialization::persist_struct!(TopCircuit {
    data,
    inner,
    chains
});

/// The 8 big-endian bytes of a canonical field element, as bit groups.
fn element_be_bytes(builder: &mut CircuitBuilder<F, D>, x: Target) -> Vec<ByteTarget> {
    let bits = canonical_bits_64(builder, x);
    bits.chunks(8)
        .rev()
        .map(|byte| byte.try_into().expect("8 bits"))
        .collect()
}

impl TopCircuit {
    /// Builds the top over range proofs of all `2^partition_bits` partitions.
    pub fn build(
        partition_bits: usize,
        inner_common: &CommonCircuitData<F, D>,
        inner_verifier: &VerifierOnlyCircuitData<C, D>,
    ) -> Self {
        let partitions = 1usize << partition_bits;
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let verifier = builder.constant_verifier_data(inner_verifier);
        let inner = builder.add_virtual_proof_with_pis(inner_common);
        builder.verify_proof::<C>(&inner, &verifier, inner_common);
        let statement = inner_statement(&inner.public_inputs);

        // The range covers every partition and the data chain starts empty.
        builder.assert_zero(statement.partition);
        for word in statement.data_before {
            builder.assert_zero(word);
        }

        // Every partition's chains, committed as the range nodes did, and every message
        // sent from a to b received by b from a, in the same order.
        let chains: Vec<Vec<HashOutTarget>> = (0..partitions)
            .map(|_| {
                (0..2 * partitions)
                    .map(|_| builder.add_virtual_hash())
                    .collect()
            })
            .collect();
        let mut level: Vec<HashOutTarget> = chains
            .iter()
            .map(|own| {
                let elements: Vec<Target> = own.iter().flat_map(|c| c.elements).collect();
                hash_elements_circuit(&mut builder, &elements)
            })
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| hash_two_circuit(&mut builder, pair[0], pair[1]))
                .collect();
        }
        builder.connect_hashes(level[0], statement.chains_after);
        for (from, own) in chains.iter().enumerate() {
            for (to, sent) in own[..partitions].iter().enumerate() {
                builder.connect_hashes(*sent, chains[to][partitions + from]);
            }
        }

        // keccak(old root || new root || data commitment || ETH fees || token fees).
        let mut preimage: Vec<ByteTarget> = Vec::new();
        for root in [statement.old_root, statement.new_root] {
            for element in root.elements {
                preimage.extend(element_be_bytes(&mut builder, element));
            }
        }
        let mut bits: Vec<BoolTarget> = preimage.iter().flatten().copied().collect();
        bits.extend(builder.u32_words_to_bits(&statement.data_after));
        for fee in statement.fees {
            bits.extend(builder.u32_words_to_bits(&[fee.hi, fee.lo]));
        }
        let hash = builder.keccak256(&bits);
        let words = builder.bits_to_u32_words(&hash);
        builder.register_public_inputs(&words);

        Self {
            data: builder.build::<C>(),
            inner,
            chains,
        }
    }

    /// Proves the top over `inner` with every partition's final chains (sent, then
    /// received; zeros for a partition the batch did not touch).
    pub fn prove(&self, inner: &Proof, chains: &[Vec<Digest>]) -> Result<Proof> {
        if chains.len() != self.chains.len() {
            return Err(Error::Witness(format!(
                "chains of {} partitions, expected {}",
                chains.len(),
                self.chains.len()
            )));
        }
        let mut witness = PartialWitness::new();
        witness.set_proof_with_pis_target(&self.inner, inner)?;
        for (targets, values) in self.chains.iter().zip(chains) {
            for (target, value) in targets.iter().zip(values) {
                set_digest_target(&mut witness, *target, *value)?;
            }
        }
        Ok(self.data.prove(witness)?)
    }
}

/// The statement hash words of a top proof's public inputs.
pub fn statement_words(proof: &Proof) -> Result<[u32; 8]> {
    let words: Vec<u32> = proof
        .public_inputs
        .iter()
        .map(|x| u32::try_from(x.to_canonical_u64()).ok())
        .collect::<Option<_>>()
        .ok_or_else(|| Error::Statement("a statement word above 32 bits".into()))?;
    words
        .try_into()
        .map_err(|_| Error::Statement("the top proof exposes 8 words".into()))
}

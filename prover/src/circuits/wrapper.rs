//! The wrapper: one proof, cheap to verify on L1, of "I verified the top proof".
//!
//! The top of the proof tree (CIRCUITS.md §1) is a Poseidon proof with
//! `standard_recursion_config`: cheap to verify in circuit, expensive on the EVM (Poseidon
//! Merkle paths, 28 FRI queries). The wrapper verifies it once in circuit and proves that
//! with [`WrapperConfig`] (`KeccakGoldilocksConfig`): Merkle trees and the transcript use
//! Keccak, which the EVM computes natively, and FRI runs at a high rate so that few queries,
//! hence few Merkle paths in calldata, reach the security target. The wrapper re-exposes the
//! inner public inputs unchanged, in order, so the L1 contract checks the top statement.
//!
//! ## FRI parameters and their security
//! plonky2's conjectured security of FRI is `rate_bits * num_query_rounds +
//! proof_of_work_bits` bits (each query of a rate-`2^-r` code catches a far-from-code word
//! with probability `1 - 2^-r` under the conjecture; grinding adds `pow` bits). We take
//! [`WRAPPER_RATE_BITS`] = 6, [`WRAPPER_NUM_QUERIES`] = 14 and [`WRAPPER_POW_BITS`] = 20:
//! `6 * 14 + 20 = 104 >= 100` bits. Against the standard `3 * 28 + 16`, the proof carries
//! half the Merkle paths and openings, which is what L1 pays for (calldata and Keccak per
//! path node); the price is a 2^6-fold LDE, paid once per batch by the prover, and a 2^20
//! grind (about a second).
//!
//! Arity 2^4 reductions with a final polynomial of at most 2^5 coefficients keep FRI to two
//! layers for this circuit's size. The cap height [`WRAPPER_CAP_HEIGHT`] = 4 balances the
//! caps (2^h hashes per tree, sent once) against the paths (one sibling fewer per level, in
//! every query and tree): the calldata `2^h + q (depth - h)` per tree is smallest near
//! `2^h = q ln 2`, i.e. h = 3 or 4 for q = 14; 4 also shortens the Keccak work per path.
//! The Solidity verifier is generated from whatever these constants produce
//! (`solidity::generate`), so changing them needs only a regeneration.

use plonky2::{
    fri::{reduction_strategies::FriReductionStrategy, FriConfig},
    iop::witness::{PartialWitness, WitnessWrite},
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{
            CircuitConfig, CircuitData, CommonCircuitData, VerifierCircuitTarget,
            VerifierOnlyCircuitData,
        },
        config::KeccakGoldilocksConfig,
        proof::{ProofWithPublicInputs, ProofWithPublicInputsTarget},
    },
};

use super::{C, D, F};
use crate::Result;

/// The configuration of the wrapper proof: Keccak Merkle trees and transcript.
pub type WrapperConfig = KeccakGoldilocksConfig;

/// log2 of the wrapper's FRI blow-up factor.
pub const WRAPPER_RATE_BITS: usize = 6;
/// FRI query rounds of the wrapper.
pub const WRAPPER_NUM_QUERIES: usize = 14;
/// Proof-of-work (grinding) bits of the wrapper.
pub const WRAPPER_POW_BITS: u32 = 20;
/// Height of the wrapper's Merkle caps.
pub const WRAPPER_CAP_HEIGHT: usize = 4;

/// plonky2's conjectured FRI security, in bits, of a configuration.
pub fn conjectured_security_bits(fri: &FriConfig) -> usize {
    fri.rate_bits * fri.num_query_rounds + fri.proof_of_work_bits as usize
}

/// The wrapper's circuit configuration: the standard recursion layout (135 wires, 80
/// routed, so Poseidon fits one row) with the high-rate FRI described in the module doc.
pub fn wrapper_config() -> CircuitConfig {
    CircuitConfig {
        fri_config: FriConfig {
            rate_bits: WRAPPER_RATE_BITS,
            cap_height: WRAPPER_CAP_HEIGHT,
            proof_of_work_bits: WRAPPER_POW_BITS,
            reduction_strategy: FriReductionStrategy::ConstantArityBits(4, 5),
            num_query_rounds: WRAPPER_NUM_QUERIES,
        },
        ..CircuitConfig::standard_recursion_config()
    }
}

/// The wrapper circuit for one inner circuit: built once from the inner circuit's data, then
/// used to wrap every proof of it.
pub struct WrapperCircuit {
    /// The wrapper's own circuit (the Solidity verifier is generated from its common and
    /// verifier-only data).
    pub data: CircuitData<F, WrapperConfig, D>,
    inner_proof: ProofWithPublicInputsTarget<D>,
    inner_verifier: VerifierCircuitTarget,
    inner_verifier_data: VerifierOnlyCircuitData<C, D>,
}

crate::circuits::serialization::persist_struct!(WrapperCircuit {
    data,
    inner_proof,
    inner_verifier,
    inner_verifier_data,
});

impl WrapperCircuit {
    /// Builds the wrapper of proofs of the inner circuit described by `inner_common` and
    /// `inner_verifier`. The inner verifier key is a constant of the wrapper, so a wrapper
    /// proof speaks only of that exact inner circuit.
    pub fn new(
        inner_common: &CommonCircuitData<F, D>,
        inner_verifier: &VerifierOnlyCircuitData<C, D>,
    ) -> Self {
        Self::with_config(wrapper_config(), inner_common, inner_verifier)
    }

    /// [`Self::new`] with another wrapper configuration (tests and parameter studies).
    pub fn with_config(
        config: CircuitConfig,
        inner_common: &CommonCircuitData<F, D>,
        inner_verifier: &VerifierOnlyCircuitData<C, D>,
    ) -> Self {
        let mut builder = CircuitBuilder::<F, D>::new(config);
        let inner_proof = builder.add_virtual_proof_with_pis(inner_common);
        let vd = builder.constant_verifier_data(inner_verifier);
        builder.verify_proof::<C>(&inner_proof, &vd, inner_common);
        builder.register_public_inputs(&inner_proof.public_inputs);
        let data = builder.build::<WrapperConfig>();
        Self {
            data,
            inner_proof,
            inner_verifier: vd,
            inner_verifier_data: inner_verifier.clone(),
        }
    }

    /// Proves that `inner` verifies; the wrapper proof's public inputs are `inner`'s.
    pub fn prove(
        &self,
        inner: &ProofWithPublicInputs<F, C, D>,
    ) -> Result<ProofWithPublicInputs<F, WrapperConfig, D>> {
        let mut pw = PartialWitness::new();
        pw.set_proof_with_pis_target(&self.inner_proof, inner)?;
        pw.set_verifier_data_target(&self.inner_verifier, &self.inner_verifier_data)?;
        Ok(self.data.prove(pw)?)
    }

    /// Verifies a wrapper proof natively (the reference the on-chain verifier must agree with).
    pub fn verify(&self, proof: &ProofWithPublicInputs<F, WrapperConfig, D>) -> Result<()> {
        Ok(self.data.verify(proof.clone())?)
    }
}

/// A stand-in for the top circuit until it exists: a real `standard_recursion_config`
/// Poseidon proof whose circuit exposes `num_public_inputs` public inputs (the top circuit
/// exposes 8 u32 words). It squares a chain of values so the circuit is not trivial.
pub mod stand_in {
    use plonky2::{
        field::types::Field,
        iop::witness::{PartialWitness, WitnessWrite},
        plonk::{
            circuit_builder::CircuitBuilder, circuit_data::CircuitConfig,
            circuit_data::CircuitData, proof::ProofWithPublicInputs,
        },
    };

    use super::super::{C, D, F};
    use crate::Result;

    /// The stand-in circuit and the targets of its private inputs.
    pub struct StandIn {
        /// The circuit.
        pub data: CircuitData<F, C, D>,
        seeds: Vec<plonky2::iop::target::Target>,
    }

    impl StandIn {
        /// Builds a stand-in exposing `num_public_inputs` inputs, each a function of one seed.
        pub fn new(num_public_inputs: usize) -> Self {
            let mut builder =
                CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
            let seeds: Vec<_> = (0..num_public_inputs)
                .map(|_| builder.add_virtual_target())
                .collect();
            for &seed in &seeds {
                let mut x = seed;
                for _ in 0..16 {
                    x = builder.mul_add(x, x, seed);
                }
                let hash = builder
                    .hash_n_to_hash_no_pad::<plonky2::hash::poseidon::PoseidonHash>(vec![seed, x]);
                // The exposed word is the seed; the hash only gives the circuit Poseidon rows
                // like the top circuit's.
                builder.register_public_input(seed);
                let _ = hash;
            }
            let data = builder.build::<C>();
            Self { data, seeds }
        }

        /// Proves the stand-in with the given public inputs (u32 words).
        pub fn prove(&self, words: &[u32]) -> Result<ProofWithPublicInputs<F, C, D>> {
            let mut pw = PartialWitness::new();
            for (&t, &w) in self.seeds.iter().zip(words) {
                pw.set_target(t, F::from_canonical_u32(w))?;
            }
            Ok(self.data.prove(pw)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;

    #[test]
    fn wrapper_config_reaches_100_bits() {
        let config = wrapper_config();
        assert!(conjectured_security_bits(&config.fri_config) >= 100);
        assert!(!config.zero_knowledge);
    }

    #[test]
    fn wrapper_proves_and_verifies_and_reexposes_inputs() {
        let inner = stand_in::StandIn::new(8);
        let words: Vec<u32> = (0..8).map(|i| 0x1234_5678 ^ (i * 0x0101_0101)).collect();
        let inner_proof = inner.prove(&words).unwrap();
        let wrapper = WrapperCircuit::new(&inner.data.common, &inner.data.verifier_only);
        let common = &wrapper.data.common;
        eprintln!(
            "wrapper: degree_bits {}, gates {:?}, arities {:?}, security {} bits",
            common.degree_bits(),
            common.gates.iter().map(|g| g.0.id()).collect::<Vec<_>>(),
            common.fri_params.reduction_arity_bits,
            conjectured_security_bits(&common.config.fri_config),
        );
        let proof = wrapper.prove(&inner_proof).unwrap();
        assert_eq!(proof.public_inputs, inner_proof.public_inputs);
        wrapper.verify(&proof).unwrap();
        let mut bad = proof.clone();
        bad.public_inputs[0] += F::ONE;
        assert!(wrapper.verify(&bad).is_err());
    }
}

//! Transfers in circuit: twins of `Transfer::message` and `execution::chain_step`.

use plonky2::{
    field::types::Field, hash::hash_types::HashOutTarget, iop::target::Target,
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::transfer::TRANSFER_DOMAIN;

use super::{digest::hash_elements_circuit, gfp5::Gfp5Target, uint::U64Target, D, F};

/// The twin of `Transfer::message`, for a chain id fixed by the circuit: Poseidon of
/// domain || chain id (2 limbs) || from (5) || to (5) || amount (2) || fee (2) || nonce.
pub fn transfer_message_circuit(
    builder: &mut CircuitBuilder<F, D>,
    chain_id: u64,
    from: Gfp5Target,
    to: Gfp5Target,
    amount: U64Target,
    fee: U64Target,
    nonce: Target,
) -> HashOutTarget {
    let mut inputs = vec![
        builder.constant(F::from_canonical_u64(TRANSFER_DOMAIN)),
        builder.constant(F::from_canonical_u32(chain_id as u32)),
        builder.constant(F::from_canonical_u32((chain_id >> 32) as u32)),
    ];
    inputs.extend(from.targets());
    inputs.extend(to.targets());
    inputs.extend(amount.limbs());
    inputs.extend(fee.limbs());
    inputs.push(nonce);
    hash_elements_circuit(builder, &inputs)
}

/// The twin of `chain_step`: Poseidon of chain (4) || to (5) || to_index || amount (2).
pub fn chain_step_circuit(
    builder: &mut CircuitBuilder<F, D>,
    chain: HashOutTarget,
    to: Gfp5Target,
    to_index: Target,
    amount: U64Target,
) -> HashOutTarget {
    let mut inputs = chain.elements.to_vec();
    inputs.extend(to.targets());
    inputs.push(to_index);
    inputs.extend(amount.limbs());
    hash_elements_circuit(builder, &inputs)
}

#[cfg(test)]
mod tests {
    use plonky2::{
        iop::witness::{PartialWitness, WitnessWrite},
        plonk::circuit_data::CircuitConfig,
    };
    use rollup_core::{
        execution::chain_step, hash::hash_elements, schnorr::SecretKey, transfer::Transfer,
    };

    use super::*;
    use crate::circuits::{
        digest::set_digest_target,
        gfp5::set_gfp5_target,
        uint::{add_virtual_u64_target, set_u64_target},
        C,
    };

    #[test]
    fn message_and_chain_step_match_native() {
        let transfer = Transfer {
            chain_id: 0x1_0000_0007,
            from: SecretKey::random().public_key(),
            to: SecretKey::random().public_key(),
            amount: u64::MAX - 3,
            fee: 1 << 40,
            nonce: u32::MAX - 1,
        };
        let chain = hash_elements(&[F::from_canonical_u64(5)]);
        let to_index = 0xdead_beef;

        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let from = Gfp5Target(builder.add_virtual_target_arr());
        let to = Gfp5Target(builder.add_virtual_target_arr());
        let amount = add_virtual_u64_target(&mut builder);
        let fee = add_virtual_u64_target(&mut builder);
        let nonce = builder.add_virtual_target();
        let chain_target = builder.add_virtual_hash();
        let index_target = builder.add_virtual_target();
        let message = transfer_message_circuit(
            &mut builder,
            transfer.chain_id,
            from,
            to,
            amount,
            fee,
            nonce,
        );
        let step = chain_step_circuit(&mut builder, chain_target, to, index_target, amount);
        let expected_message = builder.add_virtual_hash();
        let expected_step = builder.add_virtual_hash();
        builder.connect_hashes(message, expected_message);
        builder.connect_hashes(step, expected_step);
        let circuit = builder.build::<C>();

        let mut witness = PartialWitness::new();
        set_gfp5_target(&mut witness, from, &transfer.from.encoding()).unwrap();
        set_gfp5_target(&mut witness, to, &transfer.to.encoding()).unwrap();
        set_u64_target(&mut witness, amount, transfer.amount).unwrap();
        set_u64_target(&mut witness, fee, transfer.fee).unwrap();
        witness
            .set_target(nonce, F::from_canonical_u32(transfer.nonce))
            .unwrap();
        set_digest_target(&mut witness, chain_target, chain).unwrap();
        witness
            .set_target(index_target, F::from_canonical_u64(to_index))
            .unwrap();
        set_digest_target(&mut witness, expected_message, transfer.message()).unwrap();
        set_digest_target(
            &mut witness,
            expected_step,
            chain_step(chain, &transfer.to, to_index, transfer.amount),
        )
        .unwrap();
        circuit.verify(circuit.prove(witness).unwrap()).unwrap();
    }
}

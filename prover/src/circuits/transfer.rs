//! Transfers in circuit: twins of `Transfer::message` and `execution::chain_step`.

use plonky2::{
    field::types::Field,
    hash::hash_types::HashOutTarget,
    iop::target::{BoolTarget, Target},
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::{transfer::TRANSFER_DOMAIN, withdrawal::WITHDRAWAL_DOMAIN};

use super::{digest::hash_elements_circuit, gfp5::Gfp5Target, uint::U64Target, D, F};

/// The twin of `Transfer::message` and `Withdrawal::message`, for a chain id fixed by the
/// circuit: Poseidon of domain (the withdrawal's if `withdrawal`, else the transfer's) ||
/// chain id (2 limbs) || from (5) || destination (5: the recipient's key, or the L1
/// address's words) || amount (2) || fee (2) || nonce || token.
#[allow(clippy::too_many_arguments)]
pub fn message_circuit(
    builder: &mut CircuitBuilder<F, D>,
    chain_id: u64,
    withdrawal: BoolTarget,
    from: Gfp5Target,
    destination: [Target; 5],
    amount: U64Target,
    fee: U64Target,
    nonce: Target,
    token: BoolTarget,
) -> HashOutTarget {
    let withdrawal_domain = builder.constant(F::from_canonical_u64(WITHDRAWAL_DOMAIN));
    let transfer_domain = builder.constant(F::from_canonical_u64(TRANSFER_DOMAIN));
    let mut inputs = vec![
        builder.select(withdrawal, withdrawal_domain, transfer_domain),
        builder.constant(F::from_canonical_u32(chain_id as u32)),
        builder.constant(F::from_canonical_u32((chain_id >> 32) as u32)),
    ];
    inputs.extend(from.targets());
    inputs.extend(destination);
    inputs.extend(amount.limbs());
    inputs.extend(fee.limbs());
    inputs.push(nonce);
    inputs.push(token.target);
    hash_elements_circuit(builder, &inputs)
}

/// The twin of `chain_step`: Poseidon of chain (4) || to (5) || to_index || amount (2) ||
/// token.
pub fn chain_step_circuit(
    builder: &mut CircuitBuilder<F, D>,
    chain: HashOutTarget,
    to: Gfp5Target,
    to_index: Target,
    token: BoolTarget,
    amount: U64Target,
) -> HashOutTarget {
    let mut inputs = chain.elements.to_vec();
    inputs.extend(to.targets());
    inputs.push(to_index);
    inputs.extend(amount.limbs());
    inputs.push(token.target);
    hash_elements_circuit(builder, &inputs)
}

#[cfg(test)]
mod tests {
    use plonky2::{
        iop::witness::{PartialWitness, WitnessWrite},
        plonk::circuit_data::CircuitConfig,
    };
    use rollup_core::{
        account::Payment,
        execution::chain_step,
        hash::{hash_elements, Digest},
        schnorr::{PublicKey, SecretKey},
        token::Token,
        transfer::Transfer,
        withdrawal::{L1Address, Withdrawal},
    };

    use super::*;
    use crate::circuits::{
        digest::set_digest_target,
        gfp5::set_gfp5_target,
        uint::{add_virtual_u64_target, set_u64_target},
        C,
    };

    /// Proves `message_circuit` on the given values against the native `expected` digest
    /// (a mismatch fails the proof).
    fn check_message(
        expected: Digest,
        chain_id: u64,
        withdrawal: bool,
        from: &PublicKey,
        destination: [F; 5],
        payment: Payment,
    ) {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let is_withdrawal = builder.add_virtual_bool_target_safe();
        let token = builder.add_virtual_bool_target_safe();
        let from_target = Gfp5Target(builder.add_virtual_target_arr());
        let destination_target: [Target; 5] = builder.add_virtual_target_arr();
        let amount = add_virtual_u64_target(&mut builder);
        let fee = add_virtual_u64_target(&mut builder);
        let nonce = builder.add_virtual_target();
        let message = message_circuit(
            &mut builder,
            chain_id,
            is_withdrawal,
            from_target,
            destination_target,
            amount,
            fee,
            nonce,
            token,
        );
        let expected_target = builder.add_virtual_hash();
        builder.connect_hashes(message, expected_target);
        let circuit = builder.build::<C>();

        let mut witness = PartialWitness::new();
        witness.set_bool_target(is_withdrawal, withdrawal).unwrap();
        witness
            .set_bool_target(token, payment.token.is_test_token())
            .unwrap();
        set_gfp5_target(&mut witness, from_target, &from.encoding()).unwrap();
        for (target, value) in destination_target.iter().zip(destination) {
            witness.set_target(*target, value).unwrap();
        }
        set_u64_target(&mut witness, amount, payment.amount).unwrap();
        set_u64_target(&mut witness, fee, payment.fee).unwrap();
        witness
            .set_target(nonce, F::from_canonical_u32(payment.nonce))
            .unwrap();
        set_digest_target(&mut witness, expected_target, expected).unwrap();
        circuit.verify(circuit.prove(witness).unwrap()).unwrap();
    }

    #[test]
    fn transfer_messages_match_native_for_both_tokens() {
        for token in Token::ALL {
            let transfer = Transfer {
                chain_id: 0x1_0000_0007,
                from: SecretKey::random().public_key(),
                to: SecretKey::random().public_key(),
                amount: u64::MAX - 3,
                fee: 1 << 40,
                nonce: u32::MAX - 1,
                token,
            };
            check_message(
                transfer.message(),
                transfer.chain_id,
                false,
                &transfer.from,
                transfer.to.encoding().to_fields(),
                transfer.payment(),
            );
        }
    }

    #[test]
    fn withdrawal_messages_match_native() {
        let withdrawal = Withdrawal {
            chain_id: 0x1_0000_0007,
            from: SecretKey::random().public_key(),
            recipient: L1Address(std::array::from_fn(|i| 0xf0 ^ i as u8)),
            token: Token::TestToken,
            amount: 123_456_789,
            fee: 77,
            nonce: 9,
        };
        check_message(
            withdrawal.message(),
            withdrawal.chain_id,
            true,
            &withdrawal.from,
            withdrawal.recipient.to_fields(),
            withdrawal.payment(),
        );
    }

    #[test]
    fn chain_steps_match_native_for_both_tokens() {
        let chain = hash_elements(&[F::from_canonical_u64(5)]);
        let to = SecretKey::random().public_key();
        let (to_index, amount) = (0xdead_beef, u64::MAX - 3);
        for token in Token::ALL {
            let mut builder =
                CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
            let chain_target = builder.add_virtual_hash();
            let to_target = Gfp5Target(builder.add_virtual_target_arr());
            let index_target = builder.add_virtual_target();
            let token_target = builder.add_virtual_bool_target_safe();
            let amount_target = add_virtual_u64_target(&mut builder);
            let step = chain_step_circuit(
                &mut builder,
                chain_target,
                to_target,
                index_target,
                token_target,
                amount_target,
            );
            let expected = builder.add_virtual_hash();
            builder.connect_hashes(step, expected);
            let circuit = builder.build::<C>();

            let mut witness = PartialWitness::new();
            set_digest_target(&mut witness, chain_target, chain).unwrap();
            set_gfp5_target(&mut witness, to_target, &to.encoding()).unwrap();
            witness
                .set_target(index_target, F::from_canonical_u64(to_index))
                .unwrap();
            witness
                .set_bool_target(token_target, token.is_test_token())
                .unwrap();
            set_u64_target(&mut witness, amount_target, amount).unwrap();
            set_digest_target(
                &mut witness,
                expected,
                chain_step(chain, &to, to_index, token, amount),
            )
            .unwrap();
            circuit.verify(circuit.prove(witness).unwrap()).unwrap();
        }
    }
}

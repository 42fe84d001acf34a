//! The state tree in circuit: twins of `Account::leaf`, `partition_of_key` and
//! `MerkleProof::compute_root` in `rollup-core`.

use plonky2::{
    field::types::Field,
    hash::{
        hash_types::{HashOutTarget, NUM_HASH_OUT_ELTS},
        hashing::PlonkyPermutation,
        poseidon::{PoseidonHash, PoseidonPermutation},
    },
    iop::target::{BoolTarget, Target},
    plonk::{circuit_builder::CircuitBuilder, config::AlgebraicHasher},
};

use rollup_core::token::TOKENS;

use super::{
    curve::canonical_bits_64, digest::hash_elements_circuit, gfp5::Gfp5Target, uint::U64Target, D,
    F,
};

/// The twin of `Account::leaf`: Poseidon(key (5) || ETH balance lo, hi || token balance
/// lo, hi || nonce).
pub fn leaf_circuit(
    builder: &mut CircuitBuilder<F, D>,
    key: Gfp5Target,
    balances: [U64Target; TOKENS],
    nonce: Target,
) -> HashOutTarget {
    let mut inputs = key.targets().to_vec();
    for balance in balances {
        inputs.extend(balance.limbs());
    }
    inputs.push(nonce);
    hash_elements_circuit(builder, &inputs)
}

/// The twin of `partition_of_key`: the low `partition_bits` bits of the canonical first
/// element of Poseidon(key), as a number.
pub fn partition_of_key_circuit(
    builder: &mut CircuitBuilder<F, D>,
    key: Gfp5Target,
    partition_bits: usize,
) -> Target {
    let digest = hash_elements_circuit(builder, &key.targets());
    let bits = canonical_bits_64(builder, digest.elements[0]);
    builder.le_sum(bits[..partition_bits].iter())
}

/// The twin of `MerkleProof::compute_root`: the root over `leaf` at the index whose
/// little-endian bits are `index_bits` (bit i set: the node at height i is a right child),
/// one Poseidon row per level (the gate's swap wire orders the pair).
pub fn merkle_root_circuit(
    builder: &mut CircuitBuilder<F, D>,
    leaf: HashOutTarget,
    index_bits: &[BoolTarget],
    siblings: &[HashOutTarget],
) -> HashOutTarget {
    assert_eq!(index_bits.len(), siblings.len(), "one sibling per level");
    let zero = builder.zero();
    let mut node = leaf;
    for (bit, sibling) in index_bits.iter().zip(siblings) {
        // hash_two(left, right) is one permutation of left || right || 0000.
        let mut state = [zero; 12];
        state[..NUM_HASH_OUT_ELTS].copy_from_slice(&node.elements);
        state[NUM_HASH_OUT_ELTS..2 * NUM_HASH_OUT_ELTS].copy_from_slice(&sibling.elements);
        let output = PoseidonHash::permute_swapped(PoseidonPermutation::new(state), *bit, builder);
        let elements = output.squeeze();
        node = HashOutTarget::from_partial(&elements[..NUM_HASH_OUT_ELTS], zero);
    }
    node
}

/// Constant `F::from_canonical_u64` of a small number.
pub fn small_constant(builder: &mut CircuitBuilder<F, D>, value: u64) -> Target {
    builder.constant(F::from_canonical_u64(value))
}

#[cfg(test)]
mod tests {
    use plonky2::{
        iop::witness::{PartialWitness, WitnessWrite},
        plonk::circuit_data::CircuitConfig,
    };
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use rollup_core::{
        account::{partition_of_key, Account},
        schnorr::SecretKey,
        tree::{PartitionTree, TreeConfig},
    };

    use super::*;
    use crate::circuits::{
        digest::set_digest_target,
        gfp5::set_gfp5_target,
        uint::{add_virtual_u64_target, set_u64_target},
        C,
    };

    #[test]
    fn leaf_partition_and_root_match_native() {
        let mut rng = StdRng::seed_from_u64(11);
        let depth = 6;
        let mut tree = PartitionTree::new(depth).unwrap();
        let accounts: Vec<Account> = (0..5)
            .map(|i| Account {
                public_key: SecretKey::random().public_key(),
                balances: [rng.gen(), rng.gen()],
                nonce: i,
            })
            .collect();
        for (i, account) in accounts.iter().enumerate() {
            tree.set_leaf(i as u64 * 7, account.leaf()).unwrap();
        }
        let config = TreeConfig::new(depth + 3, 3).unwrap();

        for (i, account) in accounts.iter().enumerate() {
            let index = i as u64 * 7;
            let mut builder =
                CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
            let key = Gfp5Target(builder.add_virtual_target_arr());
            let balances = [(); TOKENS].map(|_| add_virtual_u64_target(&mut builder));
            let nonce = builder.add_virtual_target();
            let index_target = builder.add_virtual_target();
            let bits = builder.split_le(index_target, depth as usize);
            let siblings: Vec<_> = (0..depth).map(|_| builder.add_virtual_hash()).collect();
            let leaf = leaf_circuit(&mut builder, key, balances, nonce);
            let root = merkle_root_circuit(&mut builder, leaf, &bits, &siblings);
            let partition = partition_of_key_circuit(&mut builder, key, 3);
            let expected_partition = small_constant(
                &mut builder,
                partition_of_key(&account.public_key, &config) as u64,
            );
            builder.connect(partition, expected_partition);
            let expected_root = builder.add_virtual_hash();
            builder.connect_hashes(root, expected_root);
            let circuit = builder.build::<C>();

            let proof = tree.prove(index).unwrap();
            let mut witness = PartialWitness::new();
            set_gfp5_target(&mut witness, key, &account.public_key.encoding()).unwrap();
            for (target, value) in balances.iter().zip(account.balances) {
                set_u64_target(&mut witness, *target, value).unwrap();
            }
            witness
                .set_target(nonce, F::from_canonical_u32(account.nonce))
                .unwrap();
            witness
                .set_target(index_target, F::from_canonical_u64(index))
                .unwrap();
            for (target, sibling) in siblings.iter().zip(&proof.siblings) {
                set_digest_target(&mut witness, *target, *sibling).unwrap();
            }
            set_digest_target(&mut witness, expected_root, tree.root()).unwrap();
            circuit.verify(circuit.prove(witness).unwrap()).unwrap();
        }
    }
}

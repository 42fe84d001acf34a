//! Poseidon digests in circuit: the twins of `rollup_core::hash`.

use plonky2::{
    hash::{hash_types::HashOutTarget, poseidon::PoseidonHash},
    iop::{
        target::{BoolTarget, Target},
        witness::WitnessWrite,
    },
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::hash::Digest;

use super::{D, F};

/// A digest in circuit: four targets, constrained like `rollup_core::hash::Digest`.
pub type DigestTarget = HashOutTarget;

/// The in-circuit twin of [`rollup_core::hash::hash_elements`].
pub fn hash_elements_circuit(
    builder: &mut CircuitBuilder<F, D>,
    inputs: &[Target],
) -> DigestTarget {
    builder.hash_n_to_hash_no_pad::<PoseidonHash>(inputs.to_vec())
}

/// The in-circuit twin of [`rollup_core::hash::hash_two`].
pub fn hash_two_circuit(
    builder: &mut CircuitBuilder<F, D>,
    left: DigestTarget,
    right: DigestTarget,
) -> DigestTarget {
    hash_elements_circuit(builder, &[left.elements, right.elements].concat())
}

/// `a` if `condition`, else `b`, element by element (a root or chain that a step may or may
/// not change).
pub fn select_hash_circuit(
    builder: &mut CircuitBuilder<F, D>,
    condition: BoolTarget,
    a: DigestTarget,
    b: DigestTarget,
) -> DigestTarget {
    HashOutTarget {
        elements: std::array::from_fn(|i| builder.select(condition, a.elements[i], b.elements[i])),
    }
}

/// Fills a digest target with a native digest.
pub fn set_digest_target(
    witness: &mut impl WitnessWrite<F>,
    target: DigestTarget,
    value: Digest,
) -> anyhow::Result<()> {
    witness.set_hash_target(target, value.0)
}

#[cfg(test)]
mod tests {
    use plonky2::{
        field::types::Sample,
        iop::witness::PartialWitness,
        plonk::{circuit_data::CircuitConfig, config::Hasher},
    };
    use rollup_core::hash::{hash_elements, hash_two};

    use super::*;
    use crate::circuits::C;

    /// Builds a circuit that hashes `n` private inputs and the pair of two private digests,
    /// and constrains both results to equal private expected digests.
    struct Fixture {
        inputs: Vec<Target>,
        left: DigestTarget,
        right: DigestTarget,
        expected_hash: DigestTarget,
        expected_pair: DigestTarget,
    }

    fn prove(inputs: &[F], left: Digest, right: Digest, expected: (Digest, Digest)) -> bool {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let fixture = Fixture {
            inputs: builder.add_virtual_targets(inputs.len()),
            left: builder.add_virtual_hash(),
            right: builder.add_virtual_hash(),
            expected_hash: builder.add_virtual_hash(),
            expected_pair: builder.add_virtual_hash(),
        };
        let hash = hash_elements_circuit(&mut builder, &fixture.inputs);
        let pair = hash_two_circuit(&mut builder, fixture.left, fixture.right);
        builder.connect_hashes(hash, fixture.expected_hash);
        builder.connect_hashes(pair, fixture.expected_pair);
        let data = builder.build::<C>();

        let mut witness = PartialWitness::new();
        witness.set_target_arr(&fixture.inputs, inputs).unwrap();
        set_digest_target(&mut witness, fixture.left, left).unwrap();
        set_digest_target(&mut witness, fixture.right, right).unwrap();
        set_digest_target(&mut witness, fixture.expected_hash, expected.0).unwrap();
        set_digest_target(&mut witness, fixture.expected_pair, expected.1).unwrap();
        match data.prove(witness) {
            Ok(proof) => data.verify(proof).is_ok(),
            Err(_) => false,
        }
    }

    #[test]
    fn circuit_hashes_equal_native_hashes_and_wrong_digests_cannot_be_proven() {
        let inputs = F::rand_vec(13);
        let (left, right) = (
            hash_elements(&F::rand_vec(3)),
            hash_elements(&F::rand_vec(5)),
        );
        let native = (hash_elements(&inputs), hash_two(left, right));
        assert!(
            prove(&inputs, left, right, native),
            "native digests must be provable"
        );

        let wrong = Digest(PoseidonHash::hash_no_pad(&F::rand_vec(13)));
        assert!(
            !prove(&inputs, left, right, (wrong, native.1)),
            "a wrong hash proved"
        );
        assert!(
            !prove(&inputs, left, right, (native.0, hash_two(right, left))),
            "a swapped pair proved"
        );
    }
}

//! Schnorr signature verification in circuit: the twin of
//! `rollup_core::schnorr::PublicKey::verify`.
//!
//! The public key enters as its encoding w (what leaves and messages hash), decoded with
//! validation (an invalid encoding or the neutral makes the proof fail, as
//! `PublicKey::from_bytes` refuses them). Then R' = [s] G + [e] PK (shared doublings),
//! R' must not be the neutral, and Poseidon(enc(R') || enc(PK) || message) must equal e.

use plonky2::{
    hash::{hash_types::HashOutTarget, poseidon::PoseidonHash},
    iop::witness::WitnessWrite,
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::schnorr::Signature;

use super::{
    curve::{
        add_virtual_scalar_target, canonical_bits_64, decode_nonneutral_point_circuit,
        encode_point_with_flag, mul_add_generator_bits, scalar_bits_circuit, set_scalar_target,
        ScalarTarget,
    },
    gfp5::Gfp5Target,
    D, F,
};

/// A signature in circuit.
#[derive(Clone, Copy, Debug)]
pub struct SignatureTarget {
    /// The challenge digest e (its limbs are the 64-bit words of the 256-bit integer e).
    pub e: HashOutTarget,
    /// The response s, as ten 32-bit limbs (checked below n by the verification).
    pub s: ScalarTarget,
}

/// A fresh signature target filled by [`set_signature_target`].
pub fn add_virtual_signature_target(builder: &mut CircuitBuilder<F, D>) -> SignatureTarget {
    SignatureTarget {
        e: builder.add_virtual_hash(),
        s: add_virtual_scalar_target(builder),
    }
}

/// Fills a signature target.
pub fn set_signature_target(
    witness: &mut impl WitnessWrite<F>,
    target: &SignatureTarget,
    signature: &Signature,
) -> anyhow::Result<()> {
    witness.set_hash_target(target.e, signature.e.0)?;
    set_scalar_target(witness, target.s, &signature.s)
}

/// Constrains `signature` to be a valid signature of `message` under the public key
/// encoded as `pk_enc` (native `PublicKey::from_bytes` then `PublicKey::verify`).
pub fn verify_schnorr_circuit(
    builder: &mut CircuitBuilder<F, D>,
    pk_enc: Gfp5Target,
    message: HashOutTarget,
    signature: &SignatureTarget,
) {
    let public_key = decode_nonneutral_point_circuit(builder, pk_enc);
    let e_bits: Vec<_> = signature
        .e
        .elements
        .iter()
        .flat_map(|&limb| canonical_bits_64(builder, limb))
        .collect();
    let s_bits = scalar_bits_circuit(builder, signature.s);
    let r = mul_add_generator_bits(builder, &s_bits, &e_bits, public_key);
    let (r_enc, r_is_neutral) = encode_point_with_flag(builder, r);
    builder.assert_zero(r_is_neutral.target);
    let inputs = [r_enc.0.as_slice(), &pk_enc.0, &message.elements].concat();
    let challenge = builder.hash_n_to_hash_no_pad::<PoseidonHash>(inputs);
    builder.connect_hashes(challenge, signature.e);
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use plonky2::{
        field::types::{Field, Sample},
        iop::witness::PartialWitness,
        plonk::circuit_data::CircuitConfig,
    };
    use rollup_core::{
        ecgfp5::{scalar::ORDER, Gfp5, Point, Scalar},
        hash::{hash_elements, Digest},
        schnorr::SecretKey,
    };

    use super::*;
    use crate::circuits::{
        curve::set_scalar_limbs,
        gfp5::{set_gfp5_target, CircuitBuilderGfp5},
        C,
    };

    /// n + s as five 64-bit limbs (a non-canonical response for the same point), if it
    /// fits in 320 bits.
    fn add_order(s: &Scalar) -> Option<[u64; 5]> {
        let mut out = [0u64; 5];
        let mut carry = 0u128;
        for (i, limb) in out.iter_mut().enumerate() {
            let sum = u128::from(s.limbs()[i]) + u128::from(ORDER[i]) + carry;
            *limb = sum as u64;
            carry = sum >> 64;
        }
        (carry == 0).then_some(out)
    }

    #[test]
    fn signatures_verify_in_circuit_and_forgeries_cannot_be_proven() {
        let start = Instant::now();
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let pk = builder.add_virtual_gfp5();
        let message = builder.add_virtual_hash();
        let signature = add_virtual_signature_target(&mut builder);
        verify_schnorr_circuit(&mut builder, pk, message, &signature);
        println!(
            "one Schnorr verification: {} gates (standard recursion config)",
            builder.num_gates()
        );
        let data = builder.build::<C>();
        println!(
            "degree 2^{}, built in {:?}",
            data.common.degree_bits(),
            start.elapsed()
        );

        let prove = |pk_enc: &Gfp5, m: &Digest, e: Digest, s: [u64; 5]| {
            let mut pw = PartialWitness::new();
            set_gfp5_target(&mut pw, pk, pk_enc).unwrap();
            pw.set_hash_target(message, m.0).unwrap();
            pw.set_hash_target(signature.e, e.0).unwrap();
            set_scalar_limbs(&mut pw, signature.s, s).unwrap();
            data.prove(pw)
        };

        let keys = [
            SecretKey::from_scalar(Scalar::from_u64(0x1234_5678)).unwrap(),
            SecretKey::random(),
        ];
        let m = hash_elements(&F::rand_vec(4));
        let other = hash_elements(&F::rand_vec(4));
        for key in &keys {
            let sig = key.sign(&m);
            key.public_key().verify(&m, &sig).unwrap();
            let pk_enc = key.public_key().encoding();
            let t = Instant::now();
            let proof = prove(&pk_enc, &m, sig.e, sig.s.limbs()).expect("a valid signature");
            println!("proved in {:?}", t.elapsed());
            data.verify(proof).unwrap();
            // set_signature_target fills the same values.
            let mut pw = PartialWitness::new();
            set_gfp5_target(&mut pw, pk, &pk_enc).unwrap();
            pw.set_hash_target(message, m.0).unwrap();
            set_signature_target(&mut pw, &signature, &sig).unwrap();
            data.verify(data.prove(pw).unwrap()).unwrap();
        }

        let key = &keys[0];
        let sig = key.sign(&m);
        let pk_enc = key.public_key().encoding();
        // Wrong message, wrong key.
        assert!(prove(&pk_enc, &other, sig.e, sig.s.limbs()).is_err());
        let other_pk = keys[1].public_key().encoding();
        assert!(prove(&other_pk, &m, sig.e, sig.s.limbs()).is_err());
        // Tampered s and e.
        let tampered_s = sig.s + Scalar::ONE;
        assert!(prove(&pk_enc, &m, sig.e, tampered_s.limbs()).is_err());
        let mut e = sig.e;
        e.0.elements[2] += F::ONE;
        assert!(prove(&pk_enc, &m, e, sig.s.limbs()).is_err());
        // s + n gives the same R' but is not a canonical scalar.
        if let Some(limbs) = add_order(&sig.s) {
            assert!(prove(&pk_enc, &m, sig.e, limbs).is_err());
        }
        // An invalid encoding and the neutral as keys.
        let invalid = (1u64..)
            .map(|i| Gfp5::from_u64s_reduce([i, 7, 0, 0, 0]))
            .find(|w| Point::decode(w).is_none())
            .unwrap();
        assert!(prove(&invalid, &m, sig.e, sig.s.limbs()).is_err());
        assert!(prove(&Gfp5::ZERO, &m, sig.e, sig.s.limbs()).is_err());
        // A signature under another key is no signature under this one.
        let sig1 = keys[1].sign(&m);
        assert!(prove(&pk_enc, &m, sig1.e, sig1.s.limbs()).is_err());
        println!("total {:?}", start.elapsed());
    }
}

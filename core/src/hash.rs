//! Poseidon digests: the hash of every piece of state, natively and in circuit.
//!
//! These wrap plonky2's `PoseidonHash` so that the prover's circuits
//! (`hash_n_to_hash_no_pad::<PoseidonHash>` and `two_to_one` on targets) compute the very
//! same values.

use std::{fmt, str::FromStr};

use plonky2::{
    hash::{hash_types::HashOut, poseidon::PoseidonHash},
    plonk::config::Hasher,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    field::{decode_hex, encode_hex, fields_from_bytes, fields_to_bytes, F},
    Result,
};

/// A Poseidon digest of four field elements, shown as 32 bytes of hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Digest(pub HashOut<F>);

impl Digest {
    /// The all-zero digest, the conventional "nothing" (e.g. an empty message chain).
    pub const ZERO: Self = Self(HashOut {
        elements: [plonky2::field::types::Field::ZERO; 4],
    });

    /// The four field elements of the digest.
    pub fn elements(&self) -> [F; 4] {
        self.0.elements
    }

    /// The canonical 32-byte encoding (four little-endian words).
    pub fn to_bytes(&self) -> [u8; 32] {
        fields_to_bytes(&self.0.elements)
            .try_into()
            .expect("4 words")
    }

    /// Decodes the canonical 32-byte encoding, refusing non-canonical words.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(Self(HashOut {
            elements: fields_from_bytes::<4>(bytes, "digest")?,
        }))
    }
}

/// Hashes a sequence of field elements (Poseidon sponge, no padding, as plonky2's
/// `hash_no_pad`). Inputs are fixed-width per use, so no padding is needed for safety.
pub fn hash_elements(inputs: &[F]) -> Digest {
    Digest(PoseidonHash::hash_no_pad(inputs))
}

/// Hashes two digests into one: the node hash of the Merkle trees and the step of chains.
pub fn hash_two(left: Digest, right: Digest) -> Digest {
    Digest(PoseidonHash::two_to_one(left.0, right.0))
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.to_bytes()))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::from_bytes(&decode_hex(s, 32, "digest")?)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::{Field, Sample};

    use super::*;

    #[test]
    fn digest_round_trips_through_json_and_rejects_non_canonical_words() {
        let digest = hash_elements(&F::rand_vec(7));
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json.len(), 2 + 2 + 64);
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);

        let mut bytes = digest.to_bytes();
        bytes[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let bad = encode_hex(&bytes);
        assert!(bad.parse::<Digest>().is_err());
    }

    #[test]
    fn hashing_is_poseidon_and_order_sensitive() {
        let (a, b) = (hash_elements(&[F::ONE]), hash_elements(&[F::TWO]));
        assert_ne!(a, b);
        assert_ne!(hash_two(a, b), hash_two(b, a));
        // A four-element input is absorbed in one permutation with no padding, so its digest
        // is the first four lanes of the Poseidon permutation of (input, 0, ..., 0).
        let input = [
            F::ONE,
            F::TWO,
            F::from_canonical_u64(3),
            F::from_canonical_u64(4),
        ];
        let mut state = [F::ZERO; 12];
        state[..4].copy_from_slice(&input);
        let permuted = <F as plonky2::hash::poseidon::Poseidon>::poseidon(state);
        assert_eq!(hash_elements(&input).elements(), permuted[..4]);
    }
}

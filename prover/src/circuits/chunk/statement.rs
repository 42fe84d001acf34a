//! The statement a chunk proof makes (CIRCUITS.md §3), shared by the merge and range
//! nodes so that continuity checks compare like with like.

use plonky2::{
    field::types::{Field, PrimeField64},
    hash::hash_types::{HashOut, HashOutTarget},
    iop::target::Target,
    plonk::circuit_builder::CircuitBuilder,
};
use rollup_core::{
    hash::{hash_elements, Digest},
    token::TOKENS,
};

use crate::{
    circuits::{uint::U64Target, D, F},
    Error, Result,
};

/// Number of public inputs of a statement.
pub const STATEMENT_LEN: usize = 1 + 4 + 4 + 4 + 4 + 8 + 8 + 2 * TOKENS;

/// What a chunk (or a run of a partition's chunks, or a range of partitions) proves: the
/// roots, message chains and data chain before and after, and the fees collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// The partition (for a range node: the first partition of the range).
    pub partition: usize,
    /// The subtree root before.
    pub old_root: Digest,
    /// The subtree root after.
    pub new_root: Digest,
    /// The chains commitment before ([`chains_commitment`]).
    pub chains_before: Digest,
    /// The chains commitment after.
    pub chains_after: Digest,
    /// The data chain before (Keccak-256 value).
    pub data_before: [u8; 32],
    /// The data chain after.
    pub data_after: [u8; 32],
    /// Fees paid by the operations covered, per token.
    pub fees: [u64; TOKENS],
}

/// The 8 big-endian u32 words of a 32-byte value, as the circuits expose it.
pub fn bytes_to_words(bytes: &[u8; 32]) -> [u32; 8] {
    std::array::from_fn(|i| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap()))
}

/// The inverse of [`bytes_to_words`].
pub fn words_to_bytes(words: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A partition's chains commitment: Poseidon over its `sent` then `received` chains.
pub fn chains_commitment(sent: &[Digest], received: &[Digest]) -> Digest {
    let elements: Vec<F> = sent
        .iter()
        .chain(received)
        .flat_map(|digest| digest.elements())
        .collect();
    hash_elements(&elements)
}

impl Statement {
    /// The public inputs, in the order of CIRCUITS.md §3.
    pub fn to_public_inputs(&self) -> Vec<F> {
        let mut out = Vec::with_capacity(STATEMENT_LEN);
        out.push(F::from_canonical_usize(self.partition));
        for digest in [
            self.old_root,
            self.new_root,
            self.chains_before,
            self.chains_after,
        ] {
            out.extend(digest.elements());
        }
        for bytes in [&self.data_before, &self.data_after] {
            out.extend(bytes_to_words(bytes).map(F::from_canonical_u32));
        }
        for fee in self.fees {
            out.push(F::from_canonical_u32(fee as u32));
            out.push(F::from_canonical_u32((fee >> 32) as u32));
        }
        out
    }

    /// Reads a statement back from public inputs.
    pub fn from_public_inputs(inputs: &[F]) -> Result<Self> {
        if inputs.len() != STATEMENT_LEN {
            return Err(Error::Statement(format!(
                "{} public inputs, expected {STATEMENT_LEN}",
                inputs.len()
            )));
        }
        let value = |i: usize| inputs[i].to_canonical_u64();
        let digest = |at: usize| Digest(HashOut::from_partial(&inputs[at..at + 4]));
        let bytes = |at: usize| -> Result<[u8; 32]> {
            let mut words = [0u32; 8];
            for (i, word) in words.iter_mut().enumerate() {
                *word = u32::try_from(value(at + i))
                    .map_err(|_| Error::Statement("a data word above 32 bits".into()))?;
            }
            Ok(words_to_bytes(&words))
        };
        Ok(Self {
            partition: value(0) as usize,
            old_root: digest(1),
            new_root: digest(5),
            chains_before: digest(9),
            chains_after: digest(13),
            data_before: bytes(17)?,
            data_after: bytes(25)?,
            fees: std::array::from_fn(|token| {
                value(33 + 2 * token) | (value(34 + 2 * token) << 32)
            }),
        })
    }
}

/// A statement in circuit.
#[derive(Clone, Copy, Debug)]
pub struct StatementTarget {
    /// See [`Statement::partition`].
    pub partition: Target,
    /// See [`Statement::old_root`].
    pub old_root: HashOutTarget,
    /// See [`Statement::new_root`].
    pub new_root: HashOutTarget,
    /// See [`Statement::chains_before`].
    pub chains_before: HashOutTarget,
    /// See [`Statement::chains_after`].
    pub chains_after: HashOutTarget,
    /// See [`Statement::data_before`]: 8 u32 words.
    pub data_before: [Target; 8],
    /// See [`Statement::data_after`].
    pub data_after: [Target; 8],
    /// See [`Statement::fees`].
    pub fees: [U64Target; TOKENS],
}

impl StatementTarget {
    /// The statement's targets in public-input order.
    pub fn targets(&self) -> Vec<Target> {
        let mut out = vec![self.partition];
        for digest in [
            self.old_root,
            self.new_root,
            self.chains_before,
            self.chains_after,
        ] {
            out.extend(digest.elements);
        }
        out.extend(self.data_before);
        out.extend(self.data_after);
        for fee in self.fees {
            out.extend(fee.limbs());
        }
        out
    }

    /// Views public-input targets (of this circuit or of a verified inner proof) as a
    /// statement.
    pub fn from_targets(targets: &[Target]) -> Self {
        assert_eq!(
            targets.len(),
            STATEMENT_LEN,
            "a statement has {STATEMENT_LEN} inputs"
        );
        let digest = |at: usize| HashOutTarget::from_vec(targets[at..at + 4].to_vec());
        Self {
            partition: targets[0],
            old_root: digest(1),
            new_root: digest(5),
            chains_before: digest(9),
            chains_after: digest(13),
            data_before: targets[17..25].try_into().unwrap(),
            data_after: targets[25..33].try_into().unwrap(),
            fees: std::array::from_fn(|token| U64Target {
                lo: targets[33 + 2 * token],
                hi: targets[34 + 2 * token],
            }),
        }
    }

    /// Registers the statement as the circuit's public inputs.
    pub fn register(&self, builder: &mut CircuitBuilder<F, D>) {
        builder.register_public_inputs(&self.targets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_round_trip_through_public_inputs() {
        let statement = Statement {
            partition: 3,
            old_root: hash_elements(&[F::ONE]),
            new_root: hash_elements(&[F::TWO]),
            chains_before: chains_commitment(&[Digest::ZERO], &[Digest::ZERO]),
            chains_after: hash_elements(&[F::ZERO]),
            data_before: [7; 32],
            data_after: std::array::from_fn(|i| i as u8),
            fees: [u64::MAX - 1, 1 << 40],
        };
        let inputs = statement.to_public_inputs();
        assert_eq!(inputs.len(), STATEMENT_LEN);
        assert_eq!(Statement::from_public_inputs(&inputs).unwrap(), statement);
        assert!(Statement::from_public_inputs(&inputs[1..]).is_err());
    }
}

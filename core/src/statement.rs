//! The statement of a batch that L1 checks its proof against: one Keccak-256 hash that the
//! contract recomputes from its stored root, the claimed new root and fees (per token), and
//! the calldata's data commitment (prover/CIRCUITS.md §5). Deposits need no term of their
//! own: their records are in the calldata, which L1 checks against its queue.

use plonky2::field::types::PrimeField64;
use tiny_keccak::{Hasher, Keccak};

use crate::{hash::Digest, token::TOKENS};

/// Bytes hashed: old root (32) || new root (32) || data commitment (32) || ETH fees (8) ||
/// token fees (8).
pub const STATEMENT_PREIMAGE_BYTES: usize = 96 + 8 * TOKENS;

/// What a batch proof proves, as L1 sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchStatement {
    /// The state root before the batch (L1's current root).
    pub old_root: Digest,
    /// The state root after.
    pub new_root: Digest,
    /// The data commitment of the batch's calldata (the last data-chain value).
    pub data_commitment: [u8; 32],
    /// The fees the batch's operations paid per token (to the operator, on L1).
    pub fees: [u64; TOKENS],
}

/// A digest as L1 stores it: its four canonical elements as big-endian u64 words.
pub fn digest_to_be_bytes(digest: &Digest) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, element) in out.chunks_exact_mut(8).zip(digest.elements()) {
        chunk.copy_from_slice(&element.to_canonical_u64().to_be_bytes());
    }
    out
}

impl BatchStatement {
    /// The hashed bytes, in the order of [`STATEMENT_PREIMAGE_BYTES`].
    pub fn preimage(&self) -> [u8; STATEMENT_PREIMAGE_BYTES] {
        let mut out = [0u8; STATEMENT_PREIMAGE_BYTES];
        out[..32].copy_from_slice(&digest_to_be_bytes(&self.old_root));
        out[32..64].copy_from_slice(&digest_to_be_bytes(&self.new_root));
        out[64..96].copy_from_slice(&self.data_commitment);
        for (bytes, fee) in out[96..].chunks_exact_mut(8).zip(self.fees) {
            bytes.copy_from_slice(&fee.to_be_bytes());
        }
        out
    }

    /// Keccak-256 of the preimage (Solidity's `keccak256(abi.encodePacked(...))`).
    pub fn hash(&self) -> [u8; 32] {
        let mut hasher = Keccak::v256();
        hasher.update(&self.preimage());
        let mut out = [0u8; 32];
        hasher.finalize(&mut out);
        out
    }

    /// The proof's public inputs: the hash as 8 big-endian u32 words.
    pub fn public_inputs(&self) -> [u32; 8] {
        let hash = self.hash();
        std::array::from_fn(|i| u32::from_be_bytes(hash[4 * i..4 * i + 4].try_into().unwrap()))
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;

    use super::*;
    use crate::{field::F, hash::hash_elements};

    #[test]
    fn preimage_layout_is_pinned() {
        let statement = BatchStatement {
            old_root: Digest::ZERO,
            new_root: hash_elements(&[F::ONE]),
            data_commitment: [0xab; 32],
            fees: [0x0102_0304_0506_0708, 0x1112_1314_1516_1718],
        };
        let preimage = statement.preimage();
        assert_eq!(&preimage[..32], &[0u8; 32]);
        assert_eq!(
            &preimage[32..40],
            &statement.new_root.elements()[0]
                .to_canonical_u64()
                .to_be_bytes()
        );
        assert_eq!(&preimage[64..96], &[0xab; 32]);
        assert_eq!(&preimage[96..104], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            &preimage[104..],
            &[0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]
        );
        let words = statement.public_inputs();
        assert_eq!(words[0].to_be_bytes(), statement.hash()[..4]);
        assert_ne!(
            statement.hash(),
            BatchStatement {
                fees: [statement.fees[0], 0],
                ..statement
            }
            .hash()
        );
    }
}

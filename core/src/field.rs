//! The Goldilocks field (p = 2^64 - 2^32 + 1) exactly as plonky2 defines it, with the
//! canonical byte and hex encodings every public type uses.
//!
//! Decoding is strict: a 64-bit word that is not below p is refused rather than reduced,
//! so each value has exactly one encoding (a hash of an encoding can't be malleated).

use plonky2::field::types::{Field, Field64, PrimeField64};

use crate::{Error, Result};

/// The rollup's base field.
pub type F = plonky2::field::goldilocks_field::GoldilocksField;

/// The Goldilocks modulus.
pub const MODULUS: u64 = F::ORDER;

/// Builds a field element from a `u64`, refusing non-canonical values.
pub fn field_from_canonical_u64(value: u64, what: &'static str) -> Result<F> {
    if value >= MODULUS {
        return Err(Error::NonCanonicalField { what, value });
    }
    Ok(F::from_canonical_u64(value))
}

/// Splits a `u64` into its low and high 32-bit halves as field elements: the fixed-width
/// form in which balances, amounts and fees enter hashes and circuits (a `u64` does not
/// fit one Goldilocks element, two range-checked halves always do).
pub fn u64_to_limbs(value: u64) -> [F; 2] {
    [
        F::from_canonical_u32(value as u32),
        F::from_canonical_u32((value >> 32) as u32),
    ]
}

/// Encodes field elements as little-endian 8-byte words.
pub fn fields_to_bytes(elements: &[F]) -> Vec<u8> {
    elements
        .iter()
        .flat_map(|e| e.to_canonical_u64().to_le_bytes())
        .collect()
}

/// Decodes `N` field elements from `8 * N` little-endian bytes, refusing non-canonical words.
pub fn fields_from_bytes<const N: usize>(bytes: &[u8], what: &'static str) -> Result<[F; N]> {
    if bytes.len() != 8 * N {
        return Err(Error::InvalidHex {
            what,
            reason: format!("expected {} bytes, got {}", 8 * N, bytes.len()),
        });
    }
    let mut out = [F::ZERO; N];
    for (slot, word) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let value = u64::from_le_bytes(word.try_into().expect("chunks of 8"));
        *slot = field_from_canonical_u64(value, what)?;
    }
    Ok(out)
}

/// Decodes `0x`-prefixed (or bare) hex into exactly `len` bytes.
pub fn decode_hex(text: &str, len: usize, what: &'static str) -> Result<Vec<u8>> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|e| Error::InvalidHex {
        what,
        reason: e.to_string(),
    })?;
    if bytes.len() != len {
        return Err(Error::InvalidHex {
            what,
            reason: format!("expected {len} bytes, got {}", bytes.len()),
        });
    }
    Ok(bytes)
}

/// Encodes bytes as `0x`-prefixed lowercase hex, the format of every public type.
pub fn encode_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_values_round_trip_and_the_modulus_is_refused() {
        let values = [
            F::ZERO,
            F::ONE,
            F::NEG_ONE,
            F::from_canonical_u64(0x1234_5678_9abc),
        ];
        let bytes = fields_to_bytes(&values);
        assert_eq!(fields_from_bytes::<4>(&bytes, "test").unwrap(), values);

        let mut bad = bytes.clone();
        bad[..8].copy_from_slice(&MODULUS.to_le_bytes());
        assert_eq!(
            fields_from_bytes::<4>(&bad, "test"),
            Err(Error::NonCanonicalField {
                what: "test",
                value: MODULUS
            })
        );
        assert!(fields_from_bytes::<3>(&bytes, "test").is_err());
    }

    #[test]
    fn hex_requires_the_exact_length() {
        assert_eq!(decode_hex("0x0102", 2, "x").unwrap(), vec![1, 2]);
        assert_eq!(decode_hex("0102", 2, "x").unwrap(), vec![1, 2]);
        assert!(decode_hex("0x010203", 2, "x").is_err());
        assert!(decode_hex("0xzz02", 2, "x").is_err());
        assert_eq!(encode_hex(&[0xab, 0x01]), "0xab01");
    }
}

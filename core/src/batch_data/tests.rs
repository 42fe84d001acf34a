use std::{collections::HashSet, time::Instant};

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use crate::{ecgfp5::Scalar, schnorr::SecretKey};

const MAX_AMOUNT_MANTISSA: u64 = (1 << 35) - 1;
const MAX_FEE_MANTISSA: u64 = (1 << 11) - 1;

/// Independent reference of representability: strip the trailing zeros of the value, what
/// is left is the smallest possible mantissa.
fn representable(value: u64, max_mantissa: u64) -> bool {
    if value == 0 {
        return true;
    }
    let mut rest = value;
    while rest.is_multiple_of(10) {
        rest /= 10;
    }
    rest <= max_mantissa
}

/// The 5 bytes of an arbitrary (mantissa, exponent) amount pair, canonical or not.
fn raw_amount(mantissa: u64, exponent: u64) -> [u8; 5] {
    let word = ((mantissa << 5) | exponent).to_be_bytes();
    [word[3], word[4], word[5], word[6], word[7]]
}

/// The 2 bytes of an arbitrary (mantissa, exponent) fee pair.
fn raw_fee(mantissa: u16, exponent: u16) -> [u8; 2] {
    ((mantissa << 5) | exponent).to_be_bytes()
}

fn keys(count: usize, seed: u64) -> Vec<PublicKey> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            SecretKey::from_scalar(Scalar::random(&mut rng))
                .unwrap()
                .public_key()
        })
        .collect()
}

/// A packable value drawn from the packed space (mantissa, exponent), so that large
/// exponents and full mantissas are exercised.
fn packable(rng: &mut StdRng, max_mantissa: u64) -> u64 {
    loop {
        let mantissa = rng.gen_range(0..=max_mantissa) >> rng.gen_range(0..36);
        let exponent = rng.gen_range(0..20usize);
        if let Some(value) = mantissa.checked_mul(POW10[exponent]) {
            return value;
        }
    }
}

fn random_batch(
    rng: &mut StdRng,
    pool: &[PublicKey],
    accounts: usize,
    transfers: usize,
) -> BatchData {
    BatchData {
        new_accounts: (0..accounts)
            .map(|_| pool[rng.gen_range(0..pool.len())])
            .collect(),
        transfers: (0..transfers)
            .map(|_| TransferRecord {
                from: rng.gen(),
                to: rng.gen(),
                amount: packable(rng, MAX_AMOUNT_MANTISSA),
                fee: packable(rng, MAX_FEE_MANTISSA),
            })
            .collect(),
    }
}

/// A small valid batch and its encoding, for the malformed-data tests.
fn sample() -> (BatchData, Vec<u8>) {
    let batch = BatchData {
        new_accounts: keys(2, 7),
        transfers: vec![
            TransferRecord {
                from: 0,
                to: 1,
                amount: 1_000_000,
                fee: 20_470,
            },
            TransferRecord {
                from: u32::MAX,
                to: 5,
                amount: 10u64.pow(19),
                fee: 0,
            },
            TransferRecord {
                from: 3,
                to: 3,
                amount: MAX_AMOUNT_MANTISSA,
                fee: MAX_FEE_MANTISSA,
            },
        ],
    };
    let bytes = batch.encode().unwrap();
    (batch, bytes)
}

/// Offset of transfer `index`'s record in an encoding with `accounts` new accounts.
fn record_offset(accounts: usize, index: usize) -> usize {
    1 + 4 + PUBLIC_KEY_BYTES * accounts + 4 + TRANSFER_BYTES * index
}

#[test]
fn formats_have_the_documented_widths() {
    assert_eq!(AMOUNT_FORMAT.mantissa_bits(), 35);
    assert_eq!(AMOUNT_FORMAT.exponent_bits(), 5);
    assert_eq!(AMOUNT_FORMAT.bits(), 40);
    assert_eq!(AMOUNT_FORMAT.max_mantissa(), MAX_AMOUNT_MANTISSA);
    assert_eq!(AMOUNT_FORMAT.max_exponent(), 31);
    assert_eq!(FEE_FORMAT.mantissa_bits(), 11);
    assert_eq!(FEE_FORMAT.exponent_bits(), 5);
    assert_eq!(FEE_FORMAT.bits(), 16);
    assert_eq!(FEE_FORMAT.max_mantissa(), MAX_FEE_MANTISSA);
    assert_eq!(POW10[19], 10_000_000_000_000_000_000);
}

#[test]
fn amount_edge_cases() {
    // (value, canonical (mantissa, exponent)) for packable values.
    let packable = [
        (0, (0, 0)),
        (1, (1, 0)),
        (10, (10, 0)),
        (MAX_AMOUNT_MANTISSA, (MAX_AMOUNT_MANTISSA, 0)),
        // 2^35 = 34359738368 needs 36 bits and ends in 8: not packable (below); 2^35 * 10
        // neither, but (2^35 - 1) * 10 is, with exponent 1.
        (MAX_AMOUNT_MANTISSA * 10, (MAX_AMOUNT_MANTISSA, 1)),
        (34_359_738_370, (3_435_973_837, 1)),
        (10u64.pow(19), (10u64.pow(10), 9)),
        (18_000_000_000_000_000_000, (18_000_000_000, 9)),
    ];
    for (value, (mantissa, exponent)) in packable {
        assert_eq!(
            AMOUNT_FORMAT.pack_parts(value),
            Some((mantissa, exponent)),
            "{value}"
        );
        let bytes = pack_amount(value).unwrap();
        assert_eq!(bytes, raw_amount(mantissa, u64::from(exponent)), "{value}");
        assert_eq!(unpack_amount(&bytes), Ok(value));
        assert!(is_packable_amount(value));
    }
    for value in [
        1 << 35,
        (1 << 35) * 10,
        MAX_AMOUNT_MANTISSA + 1,
        34_359_738_371,
        u64::MAX,
        u64::MAX - 5,
        10u64.pow(19) + 1,
    ] {
        assert_eq!(pack_amount(value), None, "{value}");
        assert!(!is_packable_amount(value), "{value}");
    }
}

#[test]
fn fee_edge_cases() {
    let packable = [
        (0, (0, 0)),
        (1, (1, 0)),
        (2047, (2047, 0)),
        (20_470, (2047, 1)),
        (2_047_000, (2047, 3)),
        (10u64.pow(19), (1000, 16)),
    ];
    for (value, (mantissa, exponent)) in packable {
        assert_eq!(
            FEE_FORMAT.pack_parts(value),
            Some((mantissa, exponent)),
            "{value}"
        );
        let bytes = pack_fee(value).unwrap();
        assert_eq!(bytes, raw_fee(mantissa as u16, exponent as u16), "{value}");
        assert_eq!(unpack_fee(&bytes), Ok(value));
        assert!(is_packable_fee(value));
    }
    // 2048 needs 12 bits; 20480 = 2048 * 10 too, and 204.8 * 100 is not an integer.
    for value in [2048, 2049, 20_480, 20_471, 2_048_000, u64::MAX] {
        assert_eq!(pack_fee(value), None, "{value}");
        assert!(!is_packable_fee(value), "{value}");
    }
}

#[test]
fn non_canonical_and_overflowing_floats_are_refused() {
    // 100 is (100, 0); (10, 1) and (1, 2) are other spellings of it.
    assert_eq!(unpack_amount(&raw_amount(100, 0)), Ok(100));
    assert_eq!(unpack_fee(&raw_fee(100, 0)), Ok(100));
    for (mantissa, exponent) in [(10, 1), (1, 2), (0, 1), (0, 31), (3_435_973_836, 1)] {
        let err = unpack_amount(&raw_amount(mantissa, exponent)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidPackedFloat { what: "amount", .. }),
            "{mantissa} {exponent}: {err}"
        );
    }
    for (mantissa, exponent) in [(10, 1), (1, 2), (0, 1), (204, 1)] {
        assert!(matches!(
            unpack_fee(&raw_fee(mantissa, exponent)),
            Err(Error::InvalidPackedFloat { what: "fee", .. })
        ));
    }
    // The largest canonical mantissa with exponent 1 is fine: (3435973837, 1).
    assert_eq!(
        unpack_amount(&raw_amount(3_435_973_837, 1)),
        Ok(34_359_738_370)
    );
    // Overflows: 18446744073.709551615e9 does not fit, nor anything with exponent >= 20.
    for (mantissa, exponent) in [
        (18_446_744_074, 9),
        (MAX_AMOUNT_MANTISSA, 9),
        (MAX_AMOUNT_MANTISSA, 31),
        (MAX_AMOUNT_MANTISSA, 20),
    ] {
        assert_eq!(
            unpack_amount(&raw_amount(mantissa, exponent)),
            Err(Error::InvalidPackedFloat {
                what: "amount",
                mantissa,
                exponent: exponent as u32,
                reason: "the value overflows a u64",
            })
        );
    }
    assert_eq!(
        unpack_amount(&raw_amount(18_446_744_073, 9)),
        Ok(18_446_744_073_000_000_000)
    );
    assert!(matches!(
        unpack_fee(&raw_fee(MAX_FEE_MANTISSA as u16, 31)),
        Err(Error::InvalidPackedFloat { .. })
    ));
    // Out-of-range fields only reach the parts API; the word API refuses high bits.
    assert!(AMOUNT_FORMAT.unpack_parts(1 << 35, 0).is_err());
    assert!(AMOUNT_FORMAT.unpack_parts(1, 32).is_err());
    assert!(AMOUNT_FORMAT.unpack_word(1 << 40).is_err());
}

#[test]
fn every_fee_word_decodes_to_its_own_canonical_encoding_or_is_refused() {
    let mut values = HashSet::new();
    for word in 0..=u16::MAX {
        let bytes = word.to_be_bytes();
        match unpack_fee(&bytes) {
            Ok(value) => {
                assert_eq!(pack_fee(value), Some(bytes), "word {word:#06x}");
                assert!(values.insert(value), "two words for {value}");
            }
            Err(_) => {
                let (mantissa, exponent) = (u64::from(word >> 5), u32::from(word & 31));
                let canonical = exponent == 0 || mantissa * 10 > MAX_FEE_MANTISSA;
                let fits =
                    mantissa.checked_mul(10u64.pow(exponent.min(19))).is_some() && exponent < 20;
                assert!(!(canonical && fits), "word {word:#06x} refused");
            }
        }
    }
    // Exponent 0: 2048 values; exponents 1..=19: the 1843 mantissas 205..=2047 each, minus
    // the overflowing ones with exponent 16..=19.
    let overflowing: usize = (16..20)
        .map(|e| {
            (205..=MAX_FEE_MANTISSA)
                .filter(|m| m.checked_mul(10u64.pow(e)).is_none())
                .count()
        })
        .sum();
    assert_eq!(values.len(), 2048 + 19 * 1843 - overflowing);
}

#[test]
fn batch_layout_is_pinned() {
    let key = keys(1, 3)[0];
    let batch = BatchData {
        new_accounts: vec![key],
        transfers: vec![TransferRecord {
            from: 1,
            to: 0x0203_0405,
            amount: 1_000_000,
            fee: 20_470,
        }],
    };
    let mut expected = vec![1, 0, 0, 0, 1];
    expected.extend_from_slice(&key.to_bytes());
    expected.extend_from_slice(&[0, 0, 0, 1]);
    expected.extend_from_slice(&[0, 0, 0, 1, 2, 3, 4, 5]);
    // 1000000 << 5 = 0x01e84800; (2047 << 5) | 1 = 0xffe1.
    expected.extend_from_slice(&[0x00, 0x01, 0xe8, 0x48, 0x00, 0xff, 0xe1]);
    assert_eq!(batch.encode().unwrap(), expected);
    assert_eq!(BatchData::decode(&expected), Ok(batch));
    assert_eq!(
        BatchData::default().encode().unwrap(),
        vec![1, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        BatchData::decode(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
        Ok(BatchData::default())
    );
}

#[test]
fn random_batches_round_trip_with_the_exact_length() {
    let pool = keys(16, 11);
    let mut rng = StdRng::seed_from_u64(5);
    for (accounts, transfers) in [(0, 0), (1, 0), (0, 1), (3, 7), (16, 100), (5, 4096)] {
        let batch = random_batch(&mut rng, &pool, accounts, transfers);
        let bytes = batch.encode().unwrap();
        assert_eq!(bytes.len(), 1 + 4 + 40 * accounts + 4 + 15 * transfers);
        assert_eq!(bytes.len(), BatchData::encoded_len(accounts, transfers));
        assert_eq!(BatchData::decode(&bytes).unwrap(), batch);
        assert_eq!(batch.commitment(), Ok(DataCommitment::of(&bytes)));
    }
    // Transfers cost exactly 15 bytes each: 4096 more transfers, 61440 more bytes.
    assert_eq!(
        BatchData::encoded_len(0, 4096) - BatchData::encoded_len(0, 0),
        4096 * 15
    );
}

#[test]
fn unpackable_values_are_not_encoded() {
    let mut batch = sample().0;
    batch.transfers[1].amount = u64::MAX;
    assert_eq!(
        batch.encode(),
        Err(Error::InvalidBatchItem {
            what: "transfer amount",
            index: 1,
            source: Box::new(Error::UnpackableValue {
                what: "amount",
                value: u64::MAX
            }),
        })
    );
    let mut batch = sample().0;
    batch.transfers[2].fee = 2048;
    assert_eq!(
        batch.encode(),
        Err(Error::InvalidBatchItem {
            what: "transfer fee",
            index: 2,
            source: Box::new(Error::UnpackableValue {
                what: "fee",
                value: 2048
            }),
        })
    );
    assert!(batch.commitment().is_err());
}

#[test]
fn every_truncation_and_any_trailing_byte_is_refused() {
    let (_, bytes) = sample();
    for len in 0..bytes.len() {
        let err = BatchData::decode(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, Error::TruncatedBatchData { .. }),
            "prefix {len}: {err}"
        );
    }
    for extra in [0u8, 1, 0xff] {
        let mut longer = bytes.clone();
        longer.push(extra);
        assert_eq!(
            BatchData::decode(&longer),
            Err(Error::TrailingBatchData { extra: 1 })
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; TRANSFER_BYTES]);
    assert_eq!(
        BatchData::decode(&longer),
        Err(Error::TrailingBatchData { extra: 15 })
    );
}

#[test]
fn other_versions_are_refused() {
    let (_, bytes) = sample();
    for version in [0u8, 2, 0xff] {
        let mut other = bytes.clone();
        other[0] = version;
        assert_eq!(
            BatchData::decode(&other),
            Err(Error::UnsupportedBatchVersion {
                version,
                expected: 1
            })
        );
    }
}

#[test]
fn counts_that_do_not_match_the_length_are_refused() {
    let (_, bytes) = sample();
    let transfer_count_at = 1 + 4 + 2 * PUBLIC_KEY_BYTES;
    assert_eq!(
        &bytes[transfer_count_at..transfer_count_at + 4],
        &[0, 0, 0, 3]
    );
    // One transfer too many: truncated; one too few: trailing bytes.
    let mut more = bytes.clone();
    more[transfer_count_at + 3] = 4;
    assert_eq!(
        BatchData::decode(&more),
        Err(Error::TruncatedBatchData {
            what: "transfers",
            needed: 60,
            remaining: 45
        })
    );
    let mut fewer = bytes.clone();
    fewer[transfer_count_at + 3] = 2;
    assert_eq!(
        BatchData::decode(&fewer),
        Err(Error::TrailingBatchData { extra: 15 })
    );
    // A new account count off by one shifts everything: refused either way.
    for count in [1u8, 3] {
        let mut other = bytes.clone();
        other[4] = count;
        assert!(BatchData::decode(&other).is_err());
    }
}

#[test]
fn huge_counts_in_short_inputs_fail_fast_without_allocating() {
    let start = Instant::now();
    let transfers = [1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0];
    assert_eq!(
        BatchData::decode(&transfers),
        Err(Error::TruncatedBatchData {
            what: "transfers",
            needed: u64::from(u32::MAX) * 15,
            remaining: 1
        })
    );
    let accounts = [1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0];
    assert_eq!(
        BatchData::decode(&accounts),
        Err(Error::TruncatedBatchData {
            what: "new accounts",
            needed: u64::from(u32::MAX) * 40,
            remaining: 5
        })
    );
    // Capacity for u32::MAX records would be 4 billion items: an allocation this slow
    // or this large would abort or blow the time budget.
    assert!(start.elapsed().as_secs() < 1);
}

#[test]
fn invalid_public_keys_are_refused() {
    let (_, bytes) = sample();
    let second_key = 1 + 4 + PUBLIC_KEY_BYTES;
    // Non-canonical words (all at least p), the neutral's encoding (w = 0), and a canonical
    // w that is no group element.
    let off_curve = (1u8..)
        .map(|w| {
            let mut key = [0u8; PUBLIC_KEY_BYTES];
            key[0] = w;
            key
        })
        .find(|key| PublicKey::from_bytes(key).is_err())
        .unwrap();
    for bad in [[0xff; PUBLIC_KEY_BYTES], [0; PUBLIC_KEY_BYTES], off_curve] {
        let mut other = bytes.clone();
        other[second_key..second_key + PUBLIC_KEY_BYTES].copy_from_slice(&bad);
        let err = BatchData::decode(&other).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidBatchItem {
                what: "new account",
                index: 1,
                source: Box::new(PublicKey::from_bytes(&bad).unwrap_err()),
            }
        );
    }
}

#[test]
fn non_canonical_floats_in_records_are_refused() {
    let (_, bytes) = sample();
    // Transfer 0 has amount 1000000 = (1000000, 0): respell it (100000, 1).
    let amount_at = record_offset(2, 0) + 8;
    assert_eq!(&bytes[amount_at..amount_at + 5], &raw_amount(1_000_000, 0));
    let mut other = bytes.clone();
    other[amount_at..amount_at + 5].copy_from_slice(&raw_amount(100_000, 1));
    assert!(matches!(
        BatchData::decode(&other),
        Err(Error::InvalidBatchItem {
            what: "transfer amount",
            index: 0,
            ..
        })
    ));
    // An overflowing amount in transfer 2.
    let amount_at = record_offset(2, 2) + 8;
    let mut other = bytes.clone();
    other[amount_at..amount_at + 5].copy_from_slice(&raw_amount(MAX_AMOUNT_MANTISSA, 25));
    assert!(matches!(
        BatchData::decode(&other),
        Err(Error::InvalidBatchItem {
            what: "transfer amount",
            index: 2,
            ..
        })
    ));
    // Transfer 1 has fee 0: respell it (0, 3).
    let fee_at = record_offset(2, 1) + 13;
    assert_eq!(&bytes[fee_at..fee_at + 2], &[0, 0]);
    let mut other = bytes.clone();
    other[fee_at..fee_at + 2].copy_from_slice(&raw_fee(0, 3));
    assert_eq!(
        BatchData::decode(&other),
        Err(Error::InvalidBatchItem {
            what: "transfer fee",
            index: 1,
            source: Box::new(Error::InvalidPackedFloat {
                what: "fee",
                mantissa: 0,
                exponent: 3,
                reason: "not canonical: a smaller exponent represents the value",
            }),
        })
    );
}

#[test]
fn commitment_is_keccak_256() {
    // Ethereum's keccak256 test vectors (SHA3-256("") would be a7ffc6f8...).
    assert_eq!(
        encode_hex(&data_commitment(b"")),
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
    assert_eq!(
        encode_hex(&data_commitment(b"abc")),
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    );
    let commitment = DataCommitment::of(b"");
    let text = commitment.to_string();
    assert_eq!(
        text,
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
    assert_eq!(text.parse::<DataCommitment>(), Ok(commitment));
    let json = serde_json::to_string(&commitment).unwrap();
    assert_eq!(json, format!("\"{text}\""));
    assert_eq!(
        serde_json::from_str::<DataCommitment>(&json).unwrap(),
        commitment
    );
    assert!("0x1234".parse::<DataCommitment>().is_err());
    assert!(serde_json::from_str::<DataCommitment>("\"0xzz\"").is_err());
}

#[test]
fn commitment_changes_with_every_single_byte() {
    let (batch, bytes) = sample();
    let base = batch.commitment().unwrap();
    let mut seen = HashSet::from([base]);
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut other = bytes.clone();
            other[i] ^= flip;
            assert!(
                seen.insert(DataCommitment::of(&other)),
                "byte {i} flip {flip}"
            );
        }
    }
}

proptest! {
    #[test]
    fn packed_amounts_round_trip(mantissa in 0..=MAX_AMOUNT_MANTISSA, exponent in 0..20usize) {
        if let Some(value) = mantissa.checked_mul(POW10[exponent]) {
            let bytes = pack_amount(value).expect("m * 10^e is packable");
            prop_assert_eq!(unpack_amount(&bytes), Ok(value));
            prop_assert!(is_packable_amount(value));
        }
    }

    #[test]
    fn packed_fees_round_trip(mantissa in 0..=MAX_FEE_MANTISSA, exponent in 0..20usize) {
        if let Some(value) = mantissa.checked_mul(POW10[exponent]) {
            let bytes = pack_fee(value).expect("m * 10^e is packable");
            prop_assert_eq!(unpack_fee(&bytes), Ok(value));
            prop_assert!(is_packable_fee(value));
        }
    }

    #[test]
    fn packing_succeeds_iff_representable(value in any::<u64>()) {
        prop_assert_eq!(pack_amount(value).is_some(), representable(value, MAX_AMOUNT_MANTISSA));
        prop_assert_eq!(pack_fee(value).is_some(), representable(value, MAX_FEE_MANTISSA));
        if let Some(bytes) = pack_amount(value) {
            prop_assert_eq!(unpack_amount(&bytes), Ok(value));
        }
        if let Some(bytes) = pack_fee(value) {
            prop_assert_eq!(unpack_fee(&bytes), Ok(value));
        }
    }

    #[test]
    fn packing_near_the_boundary_matches_the_reference(
        rest in any::<u64>(),
        shift in 20..64u32,
        zeros in 0..20usize,
    ) {
        // rest >> shift has 0 to 44 bits: both sides of the 35- and 11-bit mantissas.
        if let Some(value) = (rest >> shift).checked_mul(POW10[zeros]) {
            prop_assert_eq!(is_packable_amount(value), representable(value, MAX_AMOUNT_MANTISSA));
            prop_assert_eq!(is_packable_fee(value), representable(value, MAX_FEE_MANTISSA));
            if let Some(bytes) = pack_amount(value) {
                prop_assert_eq!(unpack_amount(&bytes), Ok(value));
            }
            if let Some(bytes) = pack_fee(value) {
                prop_assert_eq!(unpack_fee(&bytes), Ok(value));
            }
        }
    }

    #[test]
    fn amount_words_decode_only_to_their_own_encoding(bytes in any::<[u8; 5]>()) {
        if let Ok(value) = unpack_amount(&bytes) {
            prop_assert_eq!(pack_amount(value), Some(bytes));
        }
    }

    #[test]
    fn random_batches_round_trip(seed in any::<u64>(), accounts in 0..6usize, transfers in 0..40usize) {
        let pool = keys(4, seed);
        let mut rng = StdRng::seed_from_u64(seed);
        let batch = random_batch(&mut rng, &pool, accounts, transfers);
        let bytes = batch.encode().unwrap();
        prop_assert_eq!(bytes.len(), BatchData::encoded_len(accounts, transfers));
        prop_assert_eq!(BatchData::decode(&bytes), Ok(batch));
    }
}

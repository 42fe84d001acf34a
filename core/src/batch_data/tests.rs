use std::collections::HashSet;

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use crate::{ecgfp5::Scalar, schnorr::SecretKey};

const MAX_AMOUNT_MANTISSA: u64 = (1 << 35) - 1;
const MAX_FEE_MANTISSA: u64 = (1 << 11) - 1;
/// The Goldilocks order, spelled out rather than taken from `field`.
const P: u64 = 0xffff_ffff_0000_0001;

/// Independent reference of postability: below p, and stripping the trailing zeros of the
/// value leaves the smallest possible mantissa, which must fit.
fn representable(value: u64, max_mantissa: u64) -> bool {
    if value >= P {
        return false;
    }
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
        match mantissa.checked_mul(POW10[exponent]) {
            Some(value) if value < P => return value,
            _ => {}
        }
    }
}

fn random_transfer(rng: &mut StdRng) -> TransferRecord {
    TransferRecord {
        from: rng.gen(),
        to: rng.gen(),
        amount: packable(rng, MAX_AMOUNT_MANTISSA),
        fee: packable(rng, MAX_FEE_MANTISSA),
    }
}

fn random_chunk(rng: &mut StdRng, pool: &[PublicKey]) -> ChunkData {
    let transfers = rng.gen_range(0..=CHUNK_TRANSFERS);
    let accounts = rng.gen_range(0..=CHUNK_NEW_ACCOUNTS);
    ChunkData {
        transfers: (0..transfers).map(|_| random_transfer(rng)).collect(),
        new_accounts: (0..accounts)
            .map(|_| NewAccountRecord {
                index: rng.gen(),
                public_key: pool[rng.gen_range(0..pool.len())],
            })
            .collect(),
    }
}

fn random_batch(rng: &mut StdRng, pool: &[PublicKey], chunks: usize) -> BatchData {
    BatchData {
        chunks: (0..chunks).map(|_| random_chunk(rng, pool)).collect(),
    }
}

/// Offset in the calldata of transfer record `record` of chunk `chunk`.
fn transfer_at(chunk: usize, record: usize) -> usize {
    1 + CHUNK_DATA_BYTES * chunk + TRANSFER_RECORD_BYTES * record
}

/// Offset in the calldata of new-account record `record` of chunk `chunk`.
fn account_at(chunk: usize, record: usize) -> usize {
    1 + CHUNK_DATA_BYTES * chunk
        + TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS
        + NEW_ACCOUNT_RECORD_BYTES * record
}

/// A small valid batch and its encoding, for the malformed-data tests: chunk 0 has three
/// transfers and two new accounts, chunk 1 a full chunk of transfers and one new account,
/// chunk 2 nothing (a partition touched only by receives).
fn sample() -> (BatchData, Vec<u8>) {
    let pool = keys(3, 7);
    let mut rng = StdRng::seed_from_u64(1);
    let batch = BatchData {
        chunks: vec![
            ChunkData {
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
                new_accounts: vec![
                    NewAccountRecord {
                        index: 7,
                        public_key: pool[0],
                    },
                    NewAccountRecord {
                        index: u32::MAX,
                        public_key: pool[1],
                    },
                ],
            },
            ChunkData {
                transfers: (0..CHUNK_TRANSFERS)
                    .map(|_| random_transfer(&mut rng))
                    .collect(),
                new_accounts: vec![NewAccountRecord {
                    index: 0,
                    public_key: pool[2],
                }],
            },
            ChunkData::default(),
        ],
    };
    let bytes = batch.encode().unwrap();
    (batch, bytes)
}

/// The chunk's error wrapped as [`BatchData`] reports it.
fn in_chunk(chunk: usize, source: Error) -> Error {
    Error::InvalidChunk {
        chunk,
        source: Box::new(source),
    }
}

/// A record's error wrapped as [`BatchData`] reports it.
fn in_record(chunk: usize, what: &'static str, record: usize, source: Error) -> Error {
    in_chunk(
        chunk,
        Error::InvalidBatchRecord {
            what,
            record,
            source: Box::new(source),
        },
    )
}

fn malformed(reason: &'static str) -> Error {
    Error::MalformedBatchRecord { reason }
}

#[test]
fn formats_and_layout_have_the_documented_widths() {
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
    assert_eq!(MODULUS, P);
    assert_eq!(BATCH_DATA_VERSION, 2);
    assert_eq!((CHUNK_TRANSFERS, CHUNK_NEW_ACCOUNTS), (32, 4));
    assert_eq!(
        TRANSFER_RECORD_BYTES,
        1 + 4 + 4 + PACKED_AMOUNT_BYTES + PACKED_FEE_BYTES
    );
    assert_eq!(NEW_ACCOUNT_RECORD_BYTES, 1 + 4 + 3 + PUBLIC_KEY_BYTES);
    assert_eq!(CHUNK_DATA_BYTES, 704);
    assert_eq!(BatchData::encoded_len(3), 1 + 3 * 704);
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
        // The largest postable amount: p = 18446744069414584321.
        (18_446_744_069_000_000_000, (18_446_744_069, 9)),
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
        // Representable floats, but not below p: the circuit would read them minus p.
        18_446_744_070_000_000_000,
        18_446_744_073_000_000_000,
        P,
        P - 1,
    ] {
        assert_eq!(pack_amount(value), None, "{value}");
        assert_eq!(AMOUNT_FORMAT.pack_word(value), None, "{value}");
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
        // The largest postable fee.
        (18_440_000_000_000_000_000, (1844, 16)),
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
    // 2048 needs 12 bits; 20480 = 2048 * 10 too, and 204.8 * 100 is not an integer. No fee
    // float lands in [p, 2^64): 1844e16 is below p and 1845e16 overflows.
    for value in [2048, 2049, 20_480, 20_471, 2_048_000, u64::MAX, P] {
        assert_eq!(pack_fee(value), None, "{value}");
        assert!(!is_packable_fee(value), "{value}");
    }
}

#[test]
fn non_canonical_and_out_of_field_floats_are_refused() {
    // 100 is (100, 0); (10, 1) and (1, 2) are other spellings of it.
    assert_eq!(unpack_amount(&raw_amount(100, 0)), Ok(100));
    assert_eq!(unpack_fee(&raw_fee(100, 0)), Ok(100));
    for (mantissa, exponent) in [(10, 1), (1, 2), (0, 1), (0, 31), (3_435_973_836, 1)] {
        assert_eq!(
            unpack_amount(&raw_amount(mantissa, exponent)),
            Err(Error::InvalidPackedFloat {
                what: "amount",
                mantissa,
                exponent: exponent as u32,
                reason: "not canonical: a smaller exponent represents the value",
            })
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
    // Not below p: 18446744070e9 is above p without overflowing a u64, the others overflow.
    let out_of_field = "the value is not below the Goldilocks order";
    for (mantissa, exponent) in [
        (18_446_744_070, 9),
        (18_446_744_073, 9),
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
                reason: out_of_field,
            })
        );
    }
    assert_eq!(
        unpack_amount(&raw_amount(18_446_744_069, 9)),
        Ok(18_446_744_069_000_000_000)
    );
    assert_eq!(
        unpack_fee(&raw_fee(1845, 16)),
        Err(Error::InvalidPackedFloat {
            what: "fee",
            mantissa: 1845,
            exponent: 16,
            reason: out_of_field,
        })
    );
    assert_eq!(
        unpack_fee(&raw_fee(1844, 16)),
        Ok(18_440_000_000_000_000_000)
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
        let (mantissa, exponent) = (u64::from(word >> 5), u32::from(word & 31));
        let canonical = exponent == 0 || mantissa * 10 > MAX_FEE_MANTISSA;
        let below_p = exponent < 20
            && mantissa
                .checked_mul(10u64.pow(exponent))
                .is_some_and(|v| v < P);
        match unpack_fee(&bytes) {
            Ok(value) => {
                assert!(canonical && below_p, "word {word:#06x} accepted");
                assert_eq!(pack_fee(value), Some(bytes), "word {word:#06x}");
                assert!(values.insert(value), "two words for {value}");
            }
            Err(_) => assert!(!(canonical && below_p), "word {word:#06x} refused"),
        }
    }
    // Exponent 0: 2048 values; exponents 1..=19: the 1843 mantissas 205..=2047 each, minus
    // those whose value is not below p (exponents 16..=19).
    let too_large: usize = (16..20)
        .map(|e| {
            (205..=MAX_FEE_MANTISSA)
                .filter(|m| m.checked_mul(10u64.pow(e)).is_none_or(|v| v >= P))
                .count()
        })
        .sum();
    assert_eq!(values.len(), 2048 + 19 * 1843 - too_large);
}

#[test]
fn largest_packable_at_most_is_packable_and_maximal() {
    for value in [
        0,
        1,
        2047,
        2048,
        2049,
        20_491,
        123_456_789,
        (1 << 35) + 1,
        10u64.pow(19) + 7,
        P - 1,
        P,
        u64::MAX,
    ] {
        for format in [AMOUNT_FORMAT, FEE_FORMAT] {
            let best = format.largest_packable_at_most(value);
            assert!(best <= value && format.is_packable(best), "{value}");
            if format.is_packable(value) {
                assert_eq!(best, value);
            }
        }
    }
    assert_eq!(
        AMOUNT_FORMAT.largest_packable_at_most(u64::MAX),
        18_446_744_069_000_000_000
    );
    assert_eq!(
        FEE_FORMAT.largest_packable_at_most(u64::MAX),
        18_440_000_000_000_000_000
    );
    assert_eq!(FEE_FORMAT.largest_packable_at_most(2049), 2047);
    assert_eq!(FEE_FORMAT.largest_packable_at_most(20_491), 20_470);
    for value in 0..30_000 {
        let fee = FEE_FORMAT.largest_packable_at_most(value);
        assert!(((fee + 1)..=value).all(|v| !is_packable_fee(v)), "{value}");
    }
}

#[test]
fn batch_layout_is_pinned() {
    let key = keys(1, 3)[0];
    let batch = BatchData {
        chunks: vec![ChunkData {
            transfers: vec![TransferRecord {
                from: 1,
                to: 0x0203_0405,
                amount: 1_000_000,
                fee: 20_470,
            }],
            new_accounts: vec![NewAccountRecord {
                index: 0x0a0b_0c0d,
                public_key: key,
            }],
        }],
    };
    let mut expected = vec![2];
    // Tag, from, to; 1000000 << 5 = 0x01e84800; (2047 << 5) | 1 = 0xffe1.
    expected.extend_from_slice(&[1, 0, 0, 0, 1, 2, 3, 4, 5]);
    expected.extend_from_slice(&[0x00, 0x01, 0xe8, 0x48, 0x00, 0xff, 0xe1]);
    expected.extend_from_slice(&[0; 31 * 16]);
    expected.extend_from_slice(&[1, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0]);
    expected.extend_from_slice(&key.to_bytes());
    expected.extend_from_slice(&[0; 3 * 48]);
    assert_eq!(expected.len(), 1 + 704);
    assert_eq!(batch.encode().unwrap(), expected);
    assert_eq!(BatchData::decode(&expected), Ok(batch.clone()));
    assert_eq!(batch.chunks[0].encode().unwrap().as_slice(), &expected[1..]);

    // The smallest batch: one empty chunk.
    let empty = BatchData {
        chunks: vec![ChunkData::default()],
    };
    let mut expected = vec![0u8; 1 + 704];
    expected[0] = 2;
    assert_eq!(empty.encode().unwrap(), expected);
    assert_eq!(BatchData::decode(&expected), Ok(empty));
}

#[test]
fn records_have_the_documented_layout() {
    let record = TransferRecord {
        from: 0x0102_0304,
        to: 0xfffe_fdfc,
        amount: 0,
        fee: 0,
    };
    let bytes = record.encode().unwrap();
    assert_eq!(
        bytes,
        [1, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(TransferRecord::decode(&bytes), Ok(Some(record)));
    assert_eq!(TransferRecord::decode(&[0; 16]), Ok(None));

    let key = keys(1, 4)[0];
    let account = NewAccountRecord {
        index: 0,
        public_key: key,
    };
    let bytes = account.encode();
    assert_eq!(bytes[..8], [1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(bytes[8..], key.to_bytes());
    assert_eq!(NewAccountRecord::decode(&bytes), Ok(Some(account)));
    assert_eq!(NewAccountRecord::decode(&[0; 48]), Ok(None));
}

#[test]
fn random_batches_round_trip_with_the_exact_length() {
    let pool = keys(16, 11);
    let mut rng = StdRng::seed_from_u64(5);
    for chunks in [1, 2, 3, 10, 100] {
        let batch = random_batch(&mut rng, &pool, chunks);
        let bytes = batch.encode().unwrap();
        assert_eq!(bytes.len(), 1 + 704 * chunks);
        assert_eq!(bytes.len(), BatchData::encoded_len(chunks));
        assert_eq!(BatchData::decode(&bytes).unwrap(), batch);
        let encoded = batch.encode_chunks().unwrap();
        assert_eq!(encoded.concat(), bytes[1..]);
        assert_eq!(calldata_chunks(&bytes).unwrap(), encoded.as_slice());
        assert_eq!(batch.commitment(), DataCommitment::of_calldata(&bytes));
    }
}

#[test]
fn a_full_chunk_posts_sixteen_bytes_a_transfer() {
    let pool = keys(CHUNK_NEW_ACCOUNTS, 9);
    let mut rng = StdRng::seed_from_u64(8);
    let chunk = ChunkData {
        transfers: (0..CHUNK_TRANSFERS)
            .map(|_| random_transfer(&mut rng))
            .collect(),
        new_accounts: (0..CHUNK_NEW_ACCOUNTS as u32)
            .map(|i| NewAccountRecord {
                index: i,
                public_key: pool[i as usize],
            })
            .collect(),
    };
    let bytes = chunk.encode().unwrap();
    // No empty record: every transfer record is tagged, every byte after the transfers
    // belongs to a key record.
    let transfers_end = TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS;
    for (i, record) in bytes[..transfers_end]
        .chunks(TRANSFER_RECORD_BYTES)
        .enumerate()
    {
        assert_eq!(record, chunk.transfers[i].encode().unwrap());
    }
    for (i, record) in bytes[transfers_end..]
        .chunks(NEW_ACCOUNT_RECORD_BYTES)
        .enumerate()
    {
        assert_eq!(record, chunk.new_accounts[i].encode());
    }
    assert_eq!(ChunkData::decode(&bytes), Ok(chunk));
}

#[test]
fn over_capacity_is_refused_on_encode() {
    let (batch, _) = sample();
    let mut more = batch.clone();
    let extra = more.chunks[1].transfers[0];
    more.chunks[1].transfers.push(extra);
    let over = || Error::ChunkOverCapacity {
        what: "transfers",
        count: CHUNK_TRANSFERS + 1,
        capacity: CHUNK_TRANSFERS,
    };
    assert_eq!(more.chunks[1].encode(), Err(over()));
    assert_eq!(more.encode(), Err(in_chunk(1, over())));
    assert_eq!(more.commitment(), Err(in_chunk(1, over())));

    let mut more = batch.clone();
    let extra = more.chunks[0].new_accounts[0];
    while more.chunks[0].new_accounts.len() <= CHUNK_NEW_ACCOUNTS {
        more.chunks[0].new_accounts.push(extra);
    }
    assert_eq!(
        more.encode(),
        Err(in_chunk(
            0,
            Error::ChunkOverCapacity {
                what: "new accounts",
                count: CHUNK_NEW_ACCOUNTS + 1,
                capacity: CHUNK_NEW_ACCOUNTS,
            }
        ))
    );
}

#[test]
fn unpackable_values_are_not_encoded() {
    for (chunk, record, amount, fee, value_what, value) in [
        (0, 1, u64::MAX, 0, "amount", u64::MAX),
        (1, 15, P, 0, "amount", P),
        (0, 2, 1, 2048, "fee", 2048),
        (1, 0, 1, P, "fee", P),
    ] {
        let mut batch = sample().0;
        batch.chunks[chunk].transfers[record].amount = amount;
        batch.chunks[chunk].transfers[record].fee = fee;
        let expected = || {
            in_record(
                chunk,
                "transfer",
                record,
                Error::UnpackableValue {
                    what: value_what,
                    value,
                },
            )
        };
        assert_eq!(batch.encode(), Err(expected()));
        assert_eq!(batch.commitment(), Err(expected()));
    }
}

#[test]
fn a_batch_has_at_least_one_chunk() {
    let empty = BatchData::default();
    assert_eq!(empty.encode(), Err(Error::EmptyBatchData));
    assert_eq!(empty.commitment(), Err(Error::EmptyBatchData));
    assert_eq!(BatchData::decode(&[2]), Err(Error::EmptyBatchData));
    assert_eq!(
        DataCommitment::of_calldata(&[2]),
        Err(Error::EmptyBatchData)
    );
    assert_eq!(
        BatchData::decode(&[]),
        Err(Error::InvalidBatchDataLength { len: 0 })
    );
}

#[test]
fn every_truncation_and_any_trailing_bytes_are_refused_or_change_the_batch() {
    let (batch, bytes) = sample();
    let commitment = batch.commitment().unwrap();
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        match len {
            0 => assert_eq!(
                BatchData::decode(prefix),
                Err(Error::InvalidBatchDataLength { len: 0 })
            ),
            1 => assert_eq!(BatchData::decode(prefix), Err(Error::EmptyBatchData)),
            // At a chunk boundary the prefix is a batch of fewer chunks: another batch,
            // with another commitment (L1 hashes the calldata's full length).
            _ if (len - 1) % CHUNK_DATA_BYTES == 0 => {
                let chunks = (len - 1) / CHUNK_DATA_BYTES;
                let shorter = BatchData::decode(prefix).unwrap();
                assert_eq!(shorter.chunks, batch.chunks[..chunks]);
                assert_ne!(shorter.commitment().unwrap(), commitment);
            }
            _ => {
                assert_eq!(
                    BatchData::decode(prefix),
                    Err(Error::InvalidBatchDataLength { len }),
                    "prefix {len}"
                );
                assert_eq!(
                    DataCommitment::of_calldata(prefix),
                    Err(Error::InvalidBatchDataLength { len })
                );
            }
        }
    }
    for extra in [1, 2, 15, 16, 48, 351, 353] {
        for fill in [0u8, 1, 0xff] {
            let mut longer = bytes.clone();
            longer.extend(std::iter::repeat_n(fill, extra));
            assert_eq!(
                BatchData::decode(&longer),
                Err(Error::InvalidBatchDataLength { len: longer.len() }),
                "{extra} bytes of {fill}"
            );
        }
    }
    // A whole empty chunk more is another batch (a fourth partition touched).
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; CHUNK_DATA_BYTES]);
    let decoded = BatchData::decode(&longer).unwrap();
    assert_eq!(decoded.chunks.len(), 4);
    assert_ne!(decoded.commitment().unwrap(), commitment);
}

#[test]
fn other_versions_are_refused() {
    let (_, bytes) = sample();
    for version in [0u8, 1, 3, 0xff] {
        let mut other = bytes.clone();
        other[0] = version;
        let refused = || Error::UnsupportedBatchVersion {
            version,
            expected: 2,
        };
        assert_eq!(BatchData::decode(&other), Err(refused()));
        assert_eq!(DataCommitment::of_calldata(&other), Err(refused()));
        // Whatever the length: the version is read first.
        assert_eq!(BatchData::decode(&other[..5]), Err(refused()));
    }
    // The empty batch of version 1.
    assert_eq!(
        BatchData::decode(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(Error::UnsupportedBatchVersion {
            version: 1,
            expected: 2
        })
    );
}

#[test]
fn used_records_after_empty_ones_are_refused() {
    let (_, bytes) = sample();
    // Chunk 0 uses transfer records 0..3: a copy of record 0 at 4 leaves 3 empty.
    let mut other = bytes.clone();
    other.copy_within(transfer_at(0, 0)..transfer_at(0, 1), transfer_at(0, 4));
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            0,
            "transfer",
            4,
            malformed("a used record after an empty one")
        ))
    );
    // At 3 it just extends the list.
    let mut other = bytes.clone();
    other.copy_within(transfer_at(0, 0)..transfer_at(0, 1), transfer_at(0, 3));
    assert_eq!(
        BatchData::decode(&other).unwrap().chunks[0].transfers.len(),
        4
    );
    // Chunk 1 uses key record 0: moving it to 1 leaves 0 empty.
    let mut other = bytes.clone();
    other.copy_within(account_at(1, 0)..account_at(1, 1), account_at(1, 1));
    other[account_at(1, 0)..account_at(1, 1)].fill(0);
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            1,
            "new account",
            1,
            malformed("a used record after an empty one")
        ))
    );
}

#[test]
fn bytes_outside_used_fields_are_refused() {
    let (_, bytes) = sample();
    let empty_with_bytes = || malformed("an empty record (tag 0) with nonzero bytes");
    let bad_tag = || malformed("a tag other than 0 (empty) or 1 (used)");
    for value in [1u8, 0x80] {
        // Every byte but the tag of an empty transfer record (chunk 0, record 5).
        for i in 1..TRANSFER_RECORD_BYTES {
            let mut other = bytes.clone();
            other[transfer_at(0, 5) + i] = value;
            assert_eq!(
                BatchData::decode(&other),
                Err(in_record(0, "transfer", 5, empty_with_bytes())),
                "byte {i}"
            );
        }
        // Every byte of an empty key record (chunk 1, record 1) and of the empty chunk 2.
        for i in 1..NEW_ACCOUNT_RECORD_BYTES {
            let mut other = bytes.clone();
            other[account_at(1, 1) + i] = value;
            assert_eq!(
                BatchData::decode(&other),
                Err(in_record(1, "new account", 1, empty_with_bytes())),
                "byte {i}"
            );
        }
        for i in 1..CHUNK_DATA_BYTES {
            let mut other = bytes.clone();
            other[1 + 2 * CHUNK_DATA_BYTES + i] = value;
            let err = BatchData::decode(&other).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidChunk { chunk: 2, source }
                    if matches!(**source, Error::InvalidBatchRecord { .. })),
                "byte {i}: {err}"
            );
        }
        // The padding of a used key record.
        for i in 5..8 {
            let mut other = bytes.clone();
            other[account_at(0, 1) + i] = value;
            assert_eq!(
                BatchData::decode(&other),
                Err(in_record(
                    0,
                    "new account",
                    1,
                    malformed("nonzero padding between the index and the key")
                )),
                "byte {i}"
            );
        }
    }
    // Tags other than 0 and 1, on used and on empty records.
    for tag in [2u8, 0x80, 0xff] {
        for (at, chunk, what, record) in [
            (transfer_at(0, 0), 0, "transfer", 0),
            (transfer_at(0, 3), 0, "transfer", 3),
            (transfer_at(1, 15), 1, "transfer", 15),
            (account_at(0, 0), 0, "new account", 0),
            (account_at(1, 1), 1, "new account", 1),
        ] {
            let mut other = bytes.clone();
            other[at] = tag;
            assert_eq!(
                BatchData::decode(&other),
                Err(in_record(chunk, what, record, bad_tag())),
                "tag {tag} at {at}"
            );
        }
    }
    // Tag 0 on a used record: the record's fields remain, so it is refused too.
    let mut other = bytes.clone();
    other[transfer_at(0, 2)] = 0;
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(0, "transfer", 2, empty_with_bytes()))
    );
}

#[test]
fn invalid_public_keys_are_refused() {
    let (_, bytes) = sample();
    let second_key = account_at(0, 1) + 8;
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
        assert_eq!(
            BatchData::decode(&other),
            Err(in_record(
                0,
                "new account",
                1,
                PublicKey::from_bytes(&bad).unwrap_err()
            ))
        );
    }
}

#[test]
fn non_canonical_and_out_of_field_floats_in_records_are_refused() {
    let (batch, bytes) = sample();
    // Chunk 0, transfer 0 has amount 1000000 = (1000000, 0): respell it (100000, 1).
    let amount_at = transfer_at(0, 0) + 9;
    assert_eq!(&bytes[amount_at..amount_at + 5], &raw_amount(1_000_000, 0));
    let mut other = bytes.clone();
    other[amount_at..amount_at + 5].copy_from_slice(&raw_amount(100_000, 1));
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            0,
            "transfer",
            0,
            Error::InvalidPackedFloat {
                what: "amount",
                mantissa: 100_000,
                exponent: 1,
                reason: "not canonical: a smaller exponent represents the value",
            }
        ))
    );
    // Amounts not below p in chunk 1, transfer 15.
    for (mantissa, exponent) in [(18_446_744_070, 9), (MAX_AMOUNT_MANTISSA, 25)] {
        let amount_at = transfer_at(1, 15) + 9;
        let mut other = bytes.clone();
        other[amount_at..amount_at + 5].copy_from_slice(&raw_amount(mantissa, exponent));
        assert_eq!(
            BatchData::decode(&other),
            Err(in_record(
                1,
                "transfer",
                15,
                Error::InvalidPackedFloat {
                    what: "amount",
                    mantissa,
                    exponent: exponent as u32,
                    reason: "the value is not below the Goldilocks order",
                }
            ))
        );
    }
    // Chunk 0, transfer 1 has fee 0: respell it (0, 3).
    let fee_at = transfer_at(0, 1) + 14;
    assert_eq!(batch.chunks[0].transfers[1].fee, 0);
    assert_eq!(&bytes[fee_at..fee_at + 2], &[0, 0]);
    let mut other = bytes.clone();
    other[fee_at..fee_at + 2].copy_from_slice(&raw_fee(0, 3));
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            0,
            "transfer",
            1,
            Error::InvalidPackedFloat {
                what: "fee",
                mantissa: 0,
                exponent: 3,
                reason: "not canonical: a smaller exponent represents the value",
            }
        ))
    );
}

#[test]
fn keccak_is_ethereums() {
    // Ethereum's keccak256 test vectors (SHA3-256("") would be a7ffc6f8...).
    assert_eq!(
        encode_hex(&keccak256(b"")),
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
    assert_eq!(
        encode_hex(&keccak256(b"abc")),
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    );
}

#[test]
fn commitment_is_the_keccak_chain_over_the_chunks() {
    // Computed with an independent Keccak-256 (a from-scratch Python Keccak-f[1600],
    // checked against the vectors above): d1 = keccak256(0^32 || chunk0), d2 =
    // keccak256(d1 || 0^704), chunk0 holding the pinned transfer record alone.
    let record = TransferRecord {
        from: 1,
        to: 0x0203_0405,
        amount: 1_000_000,
        fee: 20_470,
    };
    let batch = BatchData {
        chunks: vec![
            ChunkData {
                transfers: vec![record],
                new_accounts: vec![],
            },
            ChunkData::default(),
        ],
    };
    let chunks = batch.encode_chunks().unwrap();
    let d1 = data_chain_step(&[0; 32], &chunks[0]);
    assert_eq!(
        encode_hex(&d1),
        "0x11c8223ad50f39b72f8a2f8d08e09080c8201891357006f945ab35e9b2b22db8"
    );
    let d2 = data_chain_step(&d1, &chunks[1]);
    assert_eq!(
        encode_hex(&d2),
        "0xf210bec296f6f9ff63102a80ab1d48aac1f14ef803d4c8141c514d46648ec771"
    );
    assert_eq!(
        encode_hex(&data_chain_step(&[0; 32], &[0; CHUNK_DATA_BYTES])),
        "0x2dc385777a0d4b21e52cdc3f9b392b29408f1e30cf01e6f83b90cc4be03a16e6"
    );
    assert_eq!(batch.commitment(), Ok(DataCommitment(d2)));
    assert_eq!(
        DataCommitment::of_calldata(&batch.encode().unwrap()),
        Ok(DataCommitment(d2))
    );
    assert_eq!(DataCommitment::of_chunks(&chunks[..1]), DataCommitment(d1));
    assert_eq!(DataCommitment::of_chunks([]), DataCommitment::CHAIN_START);

    // On a larger batch: the step is keccak256 of the concatenation, folded in order.
    let (batch, bytes) = sample();
    let mut link = [0u8; 32];
    for chunk in bytes[1..].chunks(CHUNK_DATA_BYTES) {
        link = keccak256(&[&link[..], chunk].concat());
    }
    assert_eq!(batch.commitment(), Ok(DataCommitment(link)));
}

#[test]
fn commitment_words_are_big_endian_quarters() {
    let commitment = DataCommitment(std::array::from_fn(|i| i as u8));
    assert_eq!(
        commitment.words(),
        [
            0x0001_0203,
            0x0405_0607,
            0x0809_0a0b,
            0x0c0d_0e0f,
            0x1011_1213,
            0x1415_1617,
            0x1819_1a1b,
            0x1c1d_1e1f
        ]
    );
    assert_eq!(DataCommitment::from_words(commitment.words()), commitment);
}

#[test]
fn commitment_text_and_json_are_0x_hex() {
    let commitment = DataCommitment(keccak256(b""));
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
fn commitment_changes_with_every_single_chunk_byte() {
    let (batch, bytes) = sample();
    let base = batch.commitment().unwrap();
    let mut seen = HashSet::from([base]);
    // The L1 contract hashes the chunks without decoding them: any change is a new
    // commitment, valid batch or not.
    for i in 1..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut other = bytes.clone();
            other[i] ^= flip;
            let commitment = DataCommitment::of_calldata(&other).unwrap();
            assert!(seen.insert(commitment), "byte {i} flip {flip}");
        }
    }
    // The version byte is not hashed, but no other version is accepted.
    let mut other = bytes.clone();
    other[0] ^= 1;
    assert!(DataCommitment::of_calldata(&other).is_err());
}

proptest! {
    #[test]
    fn packed_amounts_round_trip(mantissa in 0..=MAX_AMOUNT_MANTISSA, exponent in 0..20usize) {
        if let Some(value) = mantissa.checked_mul(POW10[exponent]).filter(|v| *v < P) {
            let bytes = pack_amount(value).expect("m * 10^e below p is packable");
            prop_assert_eq!(unpack_amount(&bytes), Ok(value));
            prop_assert!(is_packable_amount(value));
        }
    }

    #[test]
    fn packed_fees_round_trip(mantissa in 0..=MAX_FEE_MANTISSA, exponent in 0..20usize) {
        if let Some(value) = mantissa.checked_mul(POW10[exponent]).filter(|v| *v < P) {
            let bytes = pack_fee(value).expect("m * 10^e below p is packable");
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
    fn packing_near_p_matches_the_reference(below in 0..1u64 << 40) {
        // Values within 2^40 of p on both sides, rounded to a few trailing zeros.
        for value in [P - 1 - below, P.saturating_add(below)] {
            for value in [value, value / 1_000_000_000 * 1_000_000_000] {
                prop_assert_eq!(is_packable_amount(value), representable(value, MAX_AMOUNT_MANTISSA));
                prop_assert_eq!(is_packable_fee(value), representable(value, MAX_FEE_MANTISSA));
            }
        }
    }

    #[test]
    fn amount_words_decode_only_to_their_own_encoding(bytes in any::<[u8; 5]>()) {
        if let Ok(value) = unpack_amount(&bytes) {
            prop_assert!(value < P);
            prop_assert_eq!(pack_amount(value), Some(bytes));
        }
    }

    #[test]
    fn random_batches_round_trip(seed in any::<u64>(), chunks in 1..6usize) {
        let pool = keys(4, seed);
        let mut rng = StdRng::seed_from_u64(seed);
        let batch = random_batch(&mut rng, &pool, chunks);
        let bytes = batch.encode().unwrap();
        prop_assert_eq!(bytes.len(), BatchData::encoded_len(chunks));
        prop_assert_eq!(BatchData::decode(&bytes), Ok(batch.clone()));
        // L1's compact form: only the used records, and exactly these bytes back.
        let compacted = compact::compact(&bytes).unwrap();
        let used: usize = batch
            .chunks
            .iter()
            .map(|c| {
                c.transfers.len() * TRANSFER_RECORD_BYTES
                    + c.new_accounts.len() * NEW_ACCOUNT_RECORD_BYTES
            })
            .sum();
        prop_assert_eq!(compacted.len(), 1 + chunks * compact::CHUNK_HEADER_BYTES + used);
        prop_assert_eq!(compact::expand(&compacted), Ok(bytes));
    }

    #[test]
    fn every_accepted_mutation_is_canonical(at in 1..1 + 3 * CHUNK_DATA_BYTES, value in any::<u8>()) {
        // Whatever one byte becomes, the calldata is refused or is the one encoding of
        // what it decodes to.
        let (_, mut bytes) = sample();
        bytes[at] = value;
        if let Ok(batch) = BatchData::decode(&bytes) {
            prop_assert_eq!(batch.encode(), Ok(bytes));
        }
    }
}

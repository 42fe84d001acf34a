use std::collections::HashSet;

use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use crate::{ecgfp5::Scalar, schnorr::SecretKey, token::Token, withdrawal::L1Address};

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

fn random_token(rng: &mut StdRng) -> Token {
    if rng.gen() {
        Token::TestToken
    } else {
        Token::Eth
    }
}

fn random_transfer(rng: &mut StdRng) -> TransferRecord {
    TransferRecord {
        token: random_token(rng),
        withdrawal: false,
        from: rng.gen(),
        to: rng.gen(),
        amount: packable(rng, MAX_AMOUNT_MANTISSA),
        fee: packable(rng, MAX_FEE_MANTISSA),
    }
}

/// A chunk with random records in every list; its first withdrawal-count transfer records
/// are withdrawals (so that the counts match, as the decoder requires).
fn random_chunk(rng: &mut StdRng, pool: &[PublicKey]) -> ChunkData {
    let transfers = rng.gen_range(0..=CHUNK_TRANSFERS);
    let accounts = rng.gen_range(0..=CHUNK_NEW_ACCOUNTS);
    let deposits = rng.gen_range(0..=CHUNK_DEPOSITS);
    let withdrawals = rng.gen_range(0..=CHUNK_WITHDRAWALS.min(transfers));
    let mut transfer_records: Vec<TransferRecord> =
        (0..transfers).map(|_| random_transfer(rng)).collect();
    for record in &mut transfer_records[..withdrawals] {
        record.withdrawal = true;
        record.to = 0;
    }
    ChunkData {
        new_accounts: (0..accounts)
            .map(|_| NewAccountRecord {
                index: rng.gen(),
                public_key: pool[rng.gen_range(0..pool.len())],
            })
            .collect(),
        deposits: (0..deposits)
            .map(|_| DepositRecord {
                token: random_token(rng),
                offset: rng.gen(),
                index: rng.gen(),
                amount: rng.gen(),
                public_key: pool[rng.gen_range(0..pool.len())],
            })
            .collect(),
        withdrawals: transfer_records[..withdrawals]
            .iter()
            .map(|debit| WithdrawalRecord {
                token: debit.token,
                amount: debit.amount,
                recipient: L1Address(rng.gen()),
            })
            .collect(),
        transfers: transfer_records,
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

/// Offset in the calldata of deposit record `record` of chunk `chunk`.
fn deposit_at(chunk: usize, record: usize) -> usize {
    1 + CHUNK_DATA_BYTES * chunk
        + TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS
        + NEW_ACCOUNT_RECORD_BYTES * CHUNK_NEW_ACCOUNTS
        + DEPOSIT_RECORD_BYTES * record
}

/// Offset in the calldata of withdrawal record `record` of chunk `chunk`.
fn withdrawal_at(chunk: usize, record: usize) -> usize {
    1 + CHUNK_DATA_BYTES * chunk
        + TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS
        + NEW_ACCOUNT_RECORD_BYTES * CHUNK_NEW_ACCOUNTS
        + DEPOSIT_RECORD_BYTES * CHUNK_DEPOSITS
        + WITHDRAWAL_RECORD_BYTES * record
}

/// The reason both codecs give when a chunk's withdrawal records do not pair up with its
/// withdrawal transfer records.
const UNPAIRED: &str = "withdrawal records do not match the chunk's withdrawals";

/// A small valid batch and its encoding, for the malformed-data tests:
/// - chunk 0: three transfers (the last of the test token), two new accounts and two
///   deposits (the second with every field at its maximum), no withdrawal;
/// - chunk 1: a full list of transfers of which 1 and 31 are withdrawals, one new account,
///   a full list of deposits and the two withdrawal records;
/// - chunk 2: nothing (a partition touched only by receives).
fn sample() -> (BatchData, Vec<u8>) {
    let pool = keys(3, 7);
    let mut rng = StdRng::seed_from_u64(1);
    let mut full: Vec<TransferRecord> = (0..CHUNK_TRANSFERS)
        .map(|_| random_transfer(&mut rng))
        .collect();
    for record in [1, CHUNK_TRANSFERS - 1] {
        full[record].withdrawal = true;
        full[record].to = 0;
    }
    // Each payout repeats its withdrawal's token and amount (the decoder checks the pair).
    (full[1].token, full[1].amount) = (Token::Eth, 1);
    (
        full[CHUNK_TRANSFERS - 1].token,
        full[CHUNK_TRANSFERS - 1].amount,
    ) = (Token::TestToken, MAX_AMOUNT_MANTISSA);
    let batch = BatchData {
        chunks: vec![
            ChunkData {
                transfers: vec![
                    TransferRecord {
                        token: Token::Eth,
                        withdrawal: false,
                        from: 0,
                        to: 1,
                        amount: 1_000_000,
                        fee: 20_470,
                    },
                    TransferRecord {
                        token: Token::Eth,
                        withdrawal: false,
                        from: u32::MAX,
                        to: 5,
                        amount: 10u64.pow(19),
                        fee: 0,
                    },
                    TransferRecord {
                        token: Token::TestToken,
                        withdrawal: false,
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
                deposits: vec![
                    DepositRecord {
                        token: Token::Eth,
                        offset: 0,
                        index: 9,
                        amount: 5,
                        public_key: pool[0],
                    },
                    DepositRecord {
                        token: Token::TestToken,
                        offset: u16::MAX,
                        index: u32::MAX,
                        amount: u64::MAX,
                        public_key: pool[2],
                    },
                ],
                withdrawals: vec![],
            },
            ChunkData {
                transfers: full,
                new_accounts: vec![NewAccountRecord {
                    index: 0,
                    public_key: pool[2],
                }],
                deposits: (0..CHUNK_DEPOSITS as u16)
                    .map(|i| DepositRecord {
                        token: random_token(&mut rng),
                        offset: 2 + i,
                        index: rng.gen(),
                        amount: rng.gen(),
                        public_key: pool[usize::from(i) % pool.len()],
                    })
                    .collect(),
                withdrawals: vec![
                    WithdrawalRecord {
                        token: Token::Eth,
                        amount: 1,
                        recipient: L1Address([0x11; 20]),
                    },
                    WithdrawalRecord {
                        token: Token::TestToken,
                        amount: MAX_AMOUNT_MANTISSA,
                        recipient: L1Address([0xff; 20]),
                    },
                ],
            },
            ChunkData::default(),
        ],
    };
    let bytes = batch.encode().unwrap();
    (batch, bytes)
}

/// A public key spelled out (one of the devnet genesis keys), so that the pinned layout and
/// commitment below can be rebuilt byte for byte outside Rust.
const PINNED_KEY: &str =
    "0x67815a1bb9bb2857630f2343b46afc84ab3a0d1fa6ee1f280da8e86163254eb9b66bcd9fa81855e6";

/// The batch of the pinned layout and commitment: chunk 0 has one record of every kind (a
/// transfer of ETH, a withdrawal of the test token with its payout, a new account and a
/// deposit of the test token), chunk 1 none.
fn pinned_batch() -> BatchData {
    let key: PublicKey = PINNED_KEY.parse().unwrap();
    BatchData {
        chunks: vec![
            ChunkData {
                transfers: vec![
                    TransferRecord {
                        token: Token::Eth,
                        withdrawal: false,
                        from: 1,
                        to: 0x0203_0405,
                        amount: 1_000_000,
                        fee: 20_470,
                    },
                    TransferRecord {
                        token: Token::TestToken,
                        withdrawal: true,
                        from: 0x0a0b_0c0d,
                        to: 0,
                        amount: 10u64.pow(19),
                        fee: 2_047_000,
                    },
                ],
                new_accounts: vec![NewAccountRecord {
                    index: 0x1122_3344,
                    public_key: key,
                }],
                deposits: vec![DepositRecord {
                    token: Token::TestToken,
                    offset: 0x0102,
                    index: 0x0304_0506,
                    amount: 0x0708_090a_0b0c_0d0e,
                    public_key: key,
                }],
                withdrawals: vec![WithdrawalRecord {
                    token: Token::TestToken,
                    amount: 10u64.pow(19),
                    recipient: L1Address(std::array::from_fn(|i| 0x21 + i as u8)),
                }],
            },
            ChunkData::default(),
        ],
    }
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
    assert_eq!(BATCH_DATA_VERSION, 5);
    assert_eq!(
        (
            CHUNK_TRANSFERS,
            CHUNK_NEW_ACCOUNTS,
            CHUNK_DEPOSITS,
            CHUNK_WITHDRAWALS
        ),
        (32, 4, 4, 4)
    );
    assert_eq!((RECORD_USED, RECORD_TOKEN, RECORD_WITHDRAWAL), (1, 2, 4));
    assert_eq!(
        (PACKED_AMOUNT_BYTES, PACKED_FEE_BYTES, PUBLIC_KEY_BYTES),
        (5, 2, 40)
    );
    // Tag, from, to, amount, fee.
    assert_eq!(TRANSFER_RECORD_BYTES, 1 + 4 + 4 + 5 + 2);
    assert_eq!(TRANSFER_RECORD_BYTES, 16);
    // Tag, index, padding, key.
    assert_eq!(NEW_ACCOUNT_RECORD_BYTES, 1 + 4 + 3 + 40);
    // Tag, zero, queue offset, index, amount, key.
    assert_eq!(DEPOSIT_RECORD_BYTES, 1 + 1 + 2 + 4 + 8 + 40);
    // Tag, zeros, amount, recipient.
    assert_eq!(WITHDRAWAL_RECORD_BYTES, 1 + 3 + 8 + 20);
    assert_eq!(
        (
            TRANSFER_LIST_BYTES,
            NEW_ACCOUNT_LIST_BYTES,
            DEPOSIT_LIST_BYTES,
            WITHDRAWAL_LIST_BYTES
        ),
        (32 * 16, 4 * 48, 4 * 56, 4 * 32)
    );
    assert_eq!(CHUNK_DATA_BYTES, 512 + 192 + 224 + 128);
    assert_eq!(CHUNK_DATA_BYTES, 1056);
    assert_eq!(BatchData::encoded_len(1), 1057);
    assert_eq!(BatchData::encoded_len(3), 1 + 3 * 1056);
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
    let batch = pinned_batch();
    let key = decode_hex(PINNED_KEY, 40, "key").unwrap();
    let mut expected = vec![5];
    // Transfer of ETH: tag 1, from, to; 1000000 << 5 = 0x01e84800; (2047 << 5) | 1 = 0xffe1.
    expected.extend_from_slice(&[1, 0, 0, 0, 1, 2, 3, 4, 5]);
    expected.extend_from_slice(&[0x00, 0x01, 0xe8, 0x48, 0x00, 0xff, 0xe1]);
    // Withdrawal of the test token: tag 1 | 2 | 4 = 7, from, to 0; 10^19 = (10^10, 9):
    // (10^10 << 5) | 9 = 0x4a817c8009; 2047000 = (2047, 3): (2047 << 5) | 3 = 0xffe3.
    expected.extend_from_slice(&[7, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0]);
    expected.extend_from_slice(&[0x4a, 0x81, 0x7c, 0x80, 0x09, 0xff, 0xe3]);
    expected.extend_from_slice(&[0; 30 * 16]);
    // New account: tag 1, index, 3 zero bytes, key.
    expected.extend_from_slice(&[1, 0x11, 0x22, 0x33, 0x44, 0, 0, 0]);
    expected.extend_from_slice(&key);
    expected.extend_from_slice(&[0; 3 * 48]);
    // Deposit of the test token: tag 3, zero, offset, index, amount (u64 BE), key.
    expected.extend_from_slice(&[3, 0, 1, 2, 3, 4, 5, 6]);
    expected.extend_from_slice(&[7, 8, 9, 10, 11, 12, 13, 14]);
    expected.extend_from_slice(&key);
    expected.extend_from_slice(&[0; 3 * 56]);
    // Its payout: tag 3, 3 zero bytes, 10^19 = 0x8ac7230489e80000 (u64 BE), recipient.
    expected.extend_from_slice(&[3, 0, 0, 0]);
    expected.extend_from_slice(&[0x8a, 0xc7, 0x23, 0x04, 0x89, 0xe8, 0x00, 0x00]);
    expected.extend(0x21..0x35u8);
    expected.extend_from_slice(&[0; 3 * 32]);
    assert_eq!(expected.len(), 1 + 1056);
    // Chunk 1: nothing.
    expected.extend_from_slice(&[0; 1056]);
    assert_eq!(batch.encode().unwrap(), expected);
    assert_eq!(BatchData::decode(&expected), Ok(batch.clone()));
    assert_eq!(
        batch.chunks[0].encode().unwrap().as_slice(),
        &expected[1..1057]
    );
    assert_eq!(
        batch.chunks[1].encode().unwrap().as_slice(),
        &expected[1057..]
    );

    // The smallest batch: one empty chunk.
    let empty = BatchData {
        chunks: vec![ChunkData::default()],
    };
    let mut expected = vec![0u8; 1 + 1056];
    expected[0] = 5;
    assert_eq!(empty.encode().unwrap(), expected);
    assert_eq!(BatchData::decode(&expected), Ok(empty));
}

#[test]
fn records_have_the_documented_layout() {
    let record = TransferRecord {
        token: Token::Eth,
        withdrawal: false,
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
fn deposit_and_withdrawal_records_have_the_documented_layout() {
    let key = keys(1, 5)[0];
    for (token, tag) in [(Token::Eth, 1u8), (Token::TestToken, 3)] {
        let deposit = DepositRecord {
            token,
            offset: 0xa1a2,
            index: 0xb1b2_b3b4,
            amount: 0xc1c2_c3c4_c5c6_c7c8,
            public_key: key,
        };
        let bytes = deposit.encode();
        assert_eq!(bytes[0], tag, "{token}");
        assert_eq!(bytes[1], 0, "zero byte after the tag");
        assert_eq!(bytes[2..4], [0xa1, 0xa2], "queue offset");
        assert_eq!(bytes[4..8], [0xb1, 0xb2, 0xb3, 0xb4], "global index");
        assert_eq!(
            bytes[8..16],
            [0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8],
            "amount"
        );
        assert_eq!(bytes[16..], key.to_bytes(), "key");
        assert_eq!(DepositRecord::decode(&bytes), Ok(Some(deposit)));

        let recipient = L1Address(std::array::from_fn(|i| 0xe0 + i as u8));
        let withdrawal = WithdrawalRecord {
            token,
            amount: 0xd1d2_d3d4_d5d6_d7d8,
            recipient,
        };
        let bytes = withdrawal.encode();
        assert_eq!(bytes[..4], [tag, 0, 0, 0], "{token}");
        assert_eq!(
            bytes[4..12],
            [0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8],
            "amount"
        );
        assert_eq!(bytes[12..], recipient.0, "recipient");
        assert_eq!(WithdrawalRecord::decode(&bytes), Ok(Some(withdrawal)));
    }
    assert_eq!(DepositRecord::decode(&[0; 56]), Ok(None));
    assert_eq!(WithdrawalRecord::decode(&[0; 32]), Ok(None));
    // Raw u64 amounts: the extremes round-trip (no float packing here).
    for amount in [0, 1, u64::MAX] {
        let deposit = DepositRecord {
            token: Token::Eth,
            offset: 0,
            index: 0,
            amount,
            public_key: key,
        };
        assert_eq!(DepositRecord::decode(&deposit.encode()), Ok(Some(deposit)));
        let withdrawal = WithdrawalRecord {
            token: Token::TestToken,
            amount,
            recipient: L1Address::default(),
        };
        assert_eq!(
            WithdrawalRecord::decode(&withdrawal.encode()),
            Ok(Some(withdrawal))
        );
    }
}

#[test]
fn transfer_record_tags_give_the_token_and_the_withdrawal_flag() {
    for (tag, token, withdrawal) in [
        (1u8, Token::Eth, false),
        (3, Token::TestToken, false),
        (5, Token::Eth, true),
        (7, Token::TestToken, true),
    ] {
        // A record built by hand: from 0x01020304, to 0 (as a withdrawal's must be), amount
        // 1 and fee 1, i.e. words (1 << 5) | 0.
        let bytes = [tag, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0x20];
        let record = TransferRecord {
            token,
            withdrawal,
            from: 0x0102_0304,
            to: 0,
            amount: 1,
            fee: 1,
        };
        assert_eq!(
            TransferRecord::decode(&bytes),
            Ok(Some(record)),
            "tag {tag}"
        );
        assert_eq!(record.encode(), Ok(bytes), "tag {tag}");
    }
}

#[test]
fn unknown_tags_are_refused_in_every_record_kind() {
    let unknown = || malformed("an unknown tag");
    let key = keys(1, 6)[0];
    // Valid records of each kind (a transfer to 0, so that withdrawal tags fit it too).
    let mut transfer = [0u8; 16];
    transfer[1..5].copy_from_slice(&[0, 0, 0, 9]);
    let account = NewAccountRecord {
        index: 9,
        public_key: key,
    }
    .encode();
    let deposit = DepositRecord {
        token: Token::Eth,
        offset: 1,
        index: 9,
        amount: 3,
        public_key: key,
    }
    .encode();
    let withdrawal = WithdrawalRecord {
        token: Token::Eth,
        amount: 3,
        recipient: L1Address([0x42; 20]),
    }
    .encode();
    for tag in 1..=u8::MAX {
        let mut bytes = transfer;
        bytes[0] = tag;
        let decoded = TransferRecord::decode(&bytes);
        if [1, 3, 5, 7].contains(&tag) {
            assert!(matches!(decoded, Ok(Some(_))), "transfer tag {tag}");
        } else {
            assert_eq!(decoded, Err(unknown()), "transfer tag {tag}");
        }
        let mut bytes = account;
        bytes[0] = tag;
        let decoded = NewAccountRecord::decode(&bytes);
        if tag == 1 {
            assert!(matches!(decoded, Ok(Some(_))));
        } else {
            assert_eq!(decoded, Err(unknown()), "new-account tag {tag}");
        }
        // Deposit and withdrawal records have a token bit but no withdrawal bit.
        let mut bytes = deposit;
        bytes[0] = tag;
        let decoded = DepositRecord::decode(&bytes);
        if [1, 3].contains(&tag) {
            assert!(matches!(decoded, Ok(Some(_))), "deposit tag {tag}");
        } else {
            assert_eq!(decoded, Err(unknown()), "deposit tag {tag}");
        }
        let mut bytes = withdrawal;
        bytes[0] = tag;
        let decoded = WithdrawalRecord::decode(&bytes);
        if [1, 3].contains(&tag) {
            assert!(matches!(decoded, Ok(Some(_))), "withdrawal tag {tag}");
        } else {
            assert_eq!(decoded, Err(unknown()), "withdrawal tag {tag}");
        }
    }
    // Tag 0 with bytes after it is neither empty nor used, in every kind.
    let empty_with_bytes = || malformed("an empty record (tag 0) with nonzero bytes");
    let mut bytes = transfer;
    bytes[0] = 0;
    assert_eq!(TransferRecord::decode(&bytes), Err(empty_with_bytes()));
    let mut bytes = account;
    bytes[0] = 0;
    assert_eq!(NewAccountRecord::decode(&bytes), Err(empty_with_bytes()));
    let mut bytes = deposit;
    bytes[0] = 0;
    assert_eq!(DepositRecord::decode(&bytes), Err(empty_with_bytes()));
    let mut bytes = withdrawal;
    bytes[0] = 0;
    assert_eq!(WithdrawalRecord::decode(&bytes), Err(empty_with_bytes()));
}

#[test]
fn nonzero_padding_is_refused_in_deposit_and_withdrawal_records() {
    let key = keys(1, 6)[0];
    let deposit = DepositRecord {
        token: Token::TestToken,
        offset: 1,
        index: 9,
        amount: 3,
        public_key: key,
    }
    .encode();
    let withdrawal = WithdrawalRecord {
        token: Token::TestToken,
        amount: 3,
        recipient: L1Address([0x42; 20]),
    }
    .encode();
    for value in [1u8, 0x80, 0xff] {
        let mut bytes = deposit;
        bytes[1] = value;
        assert_eq!(
            DepositRecord::decode(&bytes),
            Err(malformed("nonzero padding after a deposit's tag"))
        );
        for i in 1..4 {
            let mut bytes = withdrawal;
            bytes[i] = value;
            assert_eq!(
                WithdrawalRecord::decode(&bytes),
                Err(malformed("nonzero padding after a withdrawal's tag")),
                "byte {i}"
            );
        }
    }
    // In a batch, the error names the chunk and the record.
    let (_, bytes) = sample();
    let mut other = bytes.clone();
    other[deposit_at(0, 1) + 1] = 1;
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            0,
            "deposit",
            1,
            malformed("nonzero padding after a deposit's tag")
        ))
    );
    for i in 1..4 {
        let mut other = bytes.clone();
        other[withdrawal_at(1, 1) + i] = 0x80;
        assert_eq!(
            BatchData::decode(&other),
            Err(in_record(
                1,
                "withdrawal",
                1,
                malformed("nonzero padding after a withdrawal's tag")
            )),
            "byte {i}"
        );
    }
}

#[test]
fn a_withdrawal_transfer_record_names_no_recipient() {
    let names = || malformed("a withdrawal's transfer record names a recipient");
    for tag in [5u8, 7] {
        for i in 5..9 {
            for value in [1u8, 0xff] {
                let mut bytes = [tag, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0];
                assert!(matches!(TransferRecord::decode(&bytes), Ok(Some(_))));
                bytes[i] = value;
                assert_eq!(
                    TransferRecord::decode(&bytes),
                    Err(names()),
                    "tag {tag} byte {i}"
                );
                // The same bytes as a plain transfer are a transfer to that account.
                bytes[0] = tag & !RECORD_WITHDRAWAL;
                assert!(matches!(
                    TransferRecord::decode(&bytes),
                    Ok(Some(TransferRecord { withdrawal: false, to, .. })) if to != 0
                ));
            }
        }
    }
    // In a batch: chunk 1's transfer 31 is a withdrawal.
    let (batch, bytes) = sample();
    assert!(batch.chunks[1].transfers[31].withdrawal);
    let mut other = bytes.clone();
    other[transfer_at(1, 31) + 8] = 1;
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(1, "transfer", 31, names()))
    );
}

#[test]
fn withdrawal_records_pair_up_with_withdrawal_transfer_records() {
    let unpaired = || malformed(UNPAIRED);
    let (batch, bytes) = sample();
    // Encoding: one withdrawal record too many, or too few, in a chunk.
    let mut extra = batch.clone();
    let payout = extra.chunks[1].withdrawals[0];
    extra.chunks[1].withdrawals.push(payout);
    assert_eq!(extra.chunks[1].encode(), Err(unpaired()));
    assert_eq!(extra.encode(), Err(in_chunk(1, unpaired())));
    assert_eq!(extra.commitment(), Err(in_chunk(1, unpaired())));
    let mut missing = batch.clone();
    missing.chunks[1].withdrawals.pop();
    assert_eq!(missing.encode(), Err(in_chunk(1, unpaired())));
    // A withdrawal record in a chunk without withdrawals (chunk 0), and a withdrawal in a
    // chunk whose payout is in another chunk.
    let mut moved = batch.clone();
    let payout = moved.chunks[1].withdrawals.pop().unwrap();
    moved.chunks[0].withdrawals.push(payout);
    assert_eq!(moved.encode(), Err(in_chunk(0, unpaired())));
    // A withdrawal flag set or cleared on a transfer record.
    let mut flagged = batch.clone();
    flagged.chunks[0].transfers[0].withdrawal = true;
    flagged.chunks[0].transfers[0].to = 0;
    assert_eq!(flagged.encode(), Err(in_chunk(0, unpaired())));
    let mut cleared = batch.clone();
    cleared.chunks[1].transfers[1].withdrawal = false;
    assert_eq!(cleared.encode(), Err(in_chunk(1, unpaired())));
    // A payout of another amount or token than its withdrawal debits.
    let mut more_paid = batch.clone();
    more_paid.chunks[1].withdrawals[0].amount += 1;
    assert_eq!(more_paid.encode(), Err(in_chunk(1, unpaired())));
    let mut other_token = batch.clone();
    other_token.chunks[1].withdrawals[0].token = Token::TestToken;
    assert_eq!(other_token.encode(), Err(in_chunk(1, unpaired())));
    let mut tampered = bytes.clone();
    tampered[withdrawal_at(1, 0) + 11] ^= 1;
    assert_eq!(BatchData::decode(&tampered), Err(in_chunk(1, unpaired())));

    // Decoding: the same faults, in the bytes.
    // The withdrawal bit cleared on chunk 1's transfer 1 (a valid transfer to account 0).
    let mut other = bytes.clone();
    assert_eq!(
        other[transfer_at(1, 1)] & RECORD_WITHDRAWAL,
        RECORD_WITHDRAWAL
    );
    other[transfer_at(1, 1)] &= !RECORD_WITHDRAWAL;
    assert_eq!(BatchData::decode(&other), Err(in_chunk(1, unpaired())));
    // The withdrawal bit set on chunk 0's transfer 1 with its recipient cleared.
    let mut other = bytes.clone();
    other[transfer_at(0, 1)] |= RECORD_WITHDRAWAL;
    other[transfer_at(0, 1) + 5..transfer_at(0, 1) + 9].fill(0);
    assert_eq!(BatchData::decode(&other), Err(in_chunk(0, unpaired())));
    // Chunk 1's last withdrawal record emptied, or a third one added.
    let mut other = bytes.clone();
    other[withdrawal_at(1, 1)..withdrawal_at(1, 2)].fill(0);
    assert_eq!(BatchData::decode(&other), Err(in_chunk(1, unpaired())));
    let mut other = bytes.clone();
    other.copy_within(
        withdrawal_at(1, 0)..withdrawal_at(1, 1),
        withdrawal_at(1, 2),
    );
    assert_eq!(BatchData::decode(&other), Err(in_chunk(1, unpaired())));
    // A withdrawal record in chunk 0, which has no withdrawal.
    let mut other = bytes.clone();
    other.copy_within(
        withdrawal_at(1, 0)..withdrawal_at(1, 1),
        withdrawal_at(0, 0),
    );
    assert_eq!(BatchData::decode(&other), Err(in_chunk(0, unpaired())));
    // Moving the record there too (chunk 1 then lacks one) is refused at chunk 0 first.
    other[withdrawal_at(1, 1)..withdrawal_at(1, 2)].fill(0);
    assert_eq!(BatchData::decode(&other), Err(in_chunk(0, unpaired())));
}

#[test]
fn random_batches_round_trip_with_the_exact_length() {
    let pool = keys(16, 11);
    let mut rng = StdRng::seed_from_u64(5);
    for chunks in [1, 2, 3, 10, 100] {
        let batch = random_batch(&mut rng, &pool, chunks);
        let bytes = batch.encode().unwrap();
        assert_eq!(bytes.len(), 1 + 1056 * chunks);
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
    // Every list full; the withdrawals are spread over the transfer list.
    let mut transfers: Vec<TransferRecord> = (0..CHUNK_TRANSFERS)
        .map(|_| random_transfer(&mut rng))
        .collect();
    for record in [0, 9, 20, CHUNK_TRANSFERS - 1] {
        transfers[record].withdrawal = true;
        transfers[record].to = 0;
    }
    let payouts: Vec<WithdrawalRecord> = transfers
        .iter()
        .filter(|t| t.withdrawal)
        .map(|debit| WithdrawalRecord {
            token: debit.token,
            amount: debit.amount,
            recipient: L1Address(rng.gen()),
        })
        .collect();
    let chunk = ChunkData {
        transfers,
        new_accounts: (0..CHUNK_NEW_ACCOUNTS as u32)
            .map(|i| NewAccountRecord {
                index: i,
                public_key: pool[i as usize],
            })
            .collect(),
        deposits: (0..CHUNK_DEPOSITS as u16)
            .map(|i| DepositRecord {
                token: random_token(&mut rng),
                offset: i,
                index: rng.gen(),
                amount: rng.gen(),
                public_key: pool[usize::from(i)],
            })
            .collect(),
        withdrawals: payouts,
    };
    let bytes = chunk.encode().unwrap();
    // No empty record: each list's bytes are its records' encodings back to back, 16
    // bytes a transfer, and every record is tagged.
    let (transfers, rest) = bytes.split_at(16 * 32);
    let (accounts, rest) = rest.split_at(48 * 4);
    let (deposits, withdrawals) = rest.split_at(56 * 4);
    assert_eq!(withdrawals.len(), 32 * 4);
    for (i, record) in transfers.chunks(16).enumerate() {
        assert_ne!(record[0], 0);
        assert_eq!(record, chunk.transfers[i].encode().unwrap());
    }
    for (i, record) in accounts.chunks(48).enumerate() {
        assert_eq!(record[0], 1);
        assert_eq!(record, chunk.new_accounts[i].encode());
    }
    for (i, record) in deposits.chunks(56).enumerate() {
        assert_ne!(record[0], 0);
        assert_eq!(record, chunk.deposits[i].encode());
    }
    for (i, record) in withdrawals.chunks(32).enumerate() {
        assert_ne!(record[0], 0);
        assert_eq!(record, chunk.withdrawals[i].encode());
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

    // Chunk 1's deposit list is full.
    let mut more = batch.clone();
    let extra = more.chunks[1].deposits[0];
    more.chunks[1].deposits.push(extra);
    let over = || Error::ChunkOverCapacity {
        what: "deposits",
        count: CHUNK_DEPOSITS + 1,
        capacity: CHUNK_DEPOSITS,
    };
    assert_eq!(more.chunks[1].encode(), Err(over()));
    assert_eq!(more.encode(), Err(in_chunk(1, over())));

    // Five withdrawals, each with its payout (so that only the capacity is wrong).
    let mut more = batch.clone();
    let withdrawal = TransferRecord {
        withdrawal: true,
        to: 0,
        ..batch.chunks[0].transfers[0]
    };
    more.chunks[0].transfers = vec![withdrawal; CHUNK_WITHDRAWALS + 1];
    let payout = WithdrawalRecord {
        token: withdrawal.token,
        amount: withdrawal.amount,
        recipient: L1Address([0x42; 20]),
    };
    more.chunks[0].withdrawals = vec![payout; CHUNK_WITHDRAWALS + 1];
    let over = || Error::ChunkOverCapacity {
        what: "withdrawals",
        count: CHUNK_WITHDRAWALS + 1,
        capacity: CHUNK_WITHDRAWALS,
    };
    assert_eq!(more.chunks[0].encode(), Err(over()));
    assert_eq!(more.encode(), Err(in_chunk(0, over())));
    // One fewer is a full, valid list.
    more.chunks[0].transfers.pop();
    more.chunks[0].withdrawals.pop();
    assert_eq!(
        BatchData::decode(&more.encode().unwrap()).unwrap().chunks[0],
        more.chunks[0]
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
    assert_eq!(BatchData::decode(&[5]), Err(Error::EmptyBatchData));
    assert_eq!(
        DataCommitment::of_calldata(&[5]),
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
    // 2 was the chunked layout without deposit and withdrawal records, 3 and 4 are
    // compact forms.
    for version in [0u8, 1, 2, 3, 4, 6, 0xff] {
        let mut other = bytes.clone();
        other[0] = version;
        let refused = || Error::UnsupportedBatchVersion {
            version,
            expected: 5,
        };
        assert_eq!(BatchData::decode(&other), Err(refused()));
        assert_eq!(DataCommitment::of_calldata(&other), Err(refused()));
        // Whatever the length: the version is read first.
        assert_eq!(BatchData::decode(&other[..5]), Err(refused()));
    }
    // The empty batch of version 2: one 704-byte chunk.
    let mut old = vec![0u8; 1 + 704];
    old[0] = 2;
    assert_eq!(
        BatchData::decode(&old),
        Err(Error::UnsupportedBatchVersion {
            version: 2,
            expected: 5
        })
    );
    // L1's compact form of the sample is not padded data.
    let compacted = compact::compact(&bytes).unwrap();
    assert_eq!(
        BatchData::decode(&compacted),
        Err(Error::UnsupportedBatchVersion {
            version: 4,
            expected: 5
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
    // Chunk 0 uses deposit records 0..2: a copy of record 0 at 3 leaves 2 empty.
    let mut other = bytes.clone();
    other.copy_within(deposit_at(0, 0)..deposit_at(0, 1), deposit_at(0, 3));
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            0,
            "deposit",
            3,
            malformed("a used record after an empty one")
        ))
    );
    // Chunk 1 uses withdrawal records 0..2: moving record 1 to 3 leaves 2 empty (the
    // count still matches the withdrawals: the order is what is refused).
    let mut other = bytes.clone();
    other.copy_within(
        withdrawal_at(1, 1)..withdrawal_at(1, 2),
        withdrawal_at(1, 3),
    );
    other[withdrawal_at(1, 1)..withdrawal_at(1, 2)].fill(0);
    assert_eq!(
        BatchData::decode(&other),
        Err(in_record(
            1,
            "withdrawal",
            3,
            malformed("a used record after an empty one")
        ))
    );
}

#[test]
fn bytes_outside_used_fields_are_refused() {
    let (_, bytes) = sample();
    let empty_with_bytes = || malformed("an empty record (tag 0) with nonzero bytes");
    let unknown_tag = || malformed("an unknown tag");
    for value in [1u8, 0x80] {
        // Every byte but the tag of an empty record of each kind: transfer (chunk 0,
        // record 5), new account (chunk 1, record 1), deposit (chunk 0, record 2) and
        // withdrawal (chunk 1, record 2).
        for (at, len, chunk, what, record) in [
            (transfer_at(0, 5), TRANSFER_RECORD_BYTES, 0, "transfer", 5),
            (
                account_at(1, 1),
                NEW_ACCOUNT_RECORD_BYTES,
                1,
                "new account",
                1,
            ),
            (deposit_at(0, 2), DEPOSIT_RECORD_BYTES, 0, "deposit", 2),
            (
                withdrawal_at(1, 2),
                WITHDRAWAL_RECORD_BYTES,
                1,
                "withdrawal",
                2,
            ),
        ] {
            for i in 1..len {
                let mut other = bytes.clone();
                other[at + i] = value;
                assert_eq!(
                    BatchData::decode(&other),
                    Err(in_record(chunk, what, record, empty_with_bytes())),
                    "{what} byte {i}"
                );
            }
        }
        // Every byte of the empty chunk 2 but the first tag of a list, which can start
        // a valid list: refused as a record (and a lone withdrawal record as unpaired).
        let first_withdrawal = withdrawal_at(0, 0) - 1;
        for i in 1..CHUNK_DATA_BYTES {
            let mut other = bytes.clone();
            other[1 + 2 * CHUNK_DATA_BYTES + i] = value;
            let err = BatchData::decode(&other).unwrap_err();
            if i == first_withdrawal && value == 1 {
                assert_eq!(err, in_chunk(2, malformed(UNPAIRED)));
                continue;
            }
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
    // Unknown tags, on used and on empty records: bits other than the used, token and
    // (on transfer records only) withdrawal bits, a tag without the used bit, and token
    // or withdrawal bits where the kind has none.
    let transfer_tags = [2u8, 4, 6, 8, 9, 0x80, 0xff];
    let account_tags = [2u8, 3, 5, 7, 9, 0x80, 0xff];
    let payment_tags = [2u8, 4, 5, 7, 9, 0x80, 0xff];
    for (tags, at, chunk, what, record) in [
        (&transfer_tags, transfer_at(0, 0), 0, "transfer", 0),
        (&transfer_tags, transfer_at(0, 3), 0, "transfer", 3),
        (&transfer_tags, transfer_at(1, 15), 1, "transfer", 15),
        (&transfer_tags, transfer_at(1, 31), 1, "transfer", 31),
        (&account_tags, account_at(0, 0), 0, "new account", 0),
        (&account_tags, account_at(1, 1), 1, "new account", 1),
        (&payment_tags, deposit_at(0, 1), 0, "deposit", 1),
        (&payment_tags, deposit_at(0, 2), 0, "deposit", 2),
        (&payment_tags, deposit_at(1, 3), 1, "deposit", 3),
        (&payment_tags, withdrawal_at(1, 0), 1, "withdrawal", 0),
        (&payment_tags, withdrawal_at(1, 2), 1, "withdrawal", 2),
    ] {
        for &tag in tags {
            let mut other = bytes.clone();
            other[at] = tag;
            assert_eq!(
                BatchData::decode(&other),
                Err(in_record(chunk, what, record, unknown_tag())),
                "tag {tag} at {at}"
            );
        }
    }
    // Tag 0 on a used record: the record's fields remain, so it is refused too.
    for (at, chunk, what, record) in [
        (transfer_at(0, 2), 0, "transfer", 2),
        (deposit_at(0, 1), 0, "deposit", 1),
        (withdrawal_at(1, 1), 1, "withdrawal", 1),
    ] {
        let mut other = bytes.clone();
        other[at] = 0;
        assert_eq!(
            BatchData::decode(&other),
            Err(in_record(chunk, what, record, empty_with_bytes()))
        );
    }
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
    // The key of deposit 1 of chunk 1 too (after tag, zero, offset, index and amount).
    let deposit_key = deposit_at(1, 1) + 16;
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
        let mut other = bytes.clone();
        other[deposit_key..deposit_key + PUBLIC_KEY_BYTES].copy_from_slice(&bad);
        assert_eq!(
            BatchData::decode(&other),
            Err(in_record(
                1,
                "deposit",
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
    // Computed independently of this crate: a Python script built chunk 0 of
    // `pinned_batch` from the documented layout (its own float packing, the records
    // byte by byte, PINNED_KEY spelled out) and chunk 1 as 1056 zero bytes, then hashed
    // with pycryptodome's Keccak-256 (`Crypto.Hash.keccak`, checked against
    // keccak256("") above): d1 = keccak256(0^32 || chunk0), d2 = keccak256(d1 || 0^1056),
    // and keccak256(0^32 || 0^1056) for a lone empty chunk.
    let batch = pinned_batch();
    let chunks = batch.encode_chunks().unwrap();
    let d1 = data_chain_step(&[0; 32], &chunks[0]);
    assert_eq!(
        encode_hex(&d1),
        "0xdb969d223cd8fa8cba2124e06021ac6df030ac3aa01b683a7848ff00b85cdff8"
    );
    let d2 = data_chain_step(&d1, &chunks[1]);
    assert_eq!(
        encode_hex(&d2),
        "0xcb8cbcfc8133128ee6615476037884e994663f678cfc979fcbe96706eafc1a48"
    );
    assert_eq!(
        encode_hex(&data_chain_step(&[0; 32], &[0; CHUNK_DATA_BYTES])),
        "0x6d9fa425e81b789c60a2a69b0da9bceb0a2912ddafc0d71226d7ed1064a052eb"
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
                    + c.deposits.len() * DEPOSIT_RECORD_BYTES
                    + c.withdrawals.len() * WITHDRAWAL_RECORD_BYTES
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

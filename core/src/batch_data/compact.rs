//! The L1 form of batch data (version 4): each chunk without its padding.
//!
//! The circuits and the data chain work on fixed [`CHUNK_DATA_BYTES`]-byte chunks (version
//! 5, [`super`]), whose empty records are zero bytes. Posting those zeros costs 4 gas each,
//! and a batch that touches many partitions lightly is mostly padding. So L1 receives each
//! chunk as the counts of its records up to the last non-empty one of each list and those
//! records, and the contract puts the zeros back before hashing: the data chain, hence the
//! statement and the proof, are those of the padded chunks, unchanged.
//!
//! | field                 | bytes  | meaning                                          |
//! |-----------------------|--------|--------------------------------------------------|
//! | version               | 1      | [`COMPACT_DATA_VERSION`]                         |
//! | per chunk: header     | 2      | `t + 33 a` (`t <= 32` transfer, `a <= 4` new-account records: at most 164), then `d + 5 w` (`d <= 4` deposit, `w <= 4` withdrawal records: at most 24) |
//! | per chunk: records    | 16 t + 48 a + 56 d + 32 w | the chunk's first `t` transfer, `a` new-account, `d` deposit and `w` withdrawal records |
//!
//! A chunk expands to each list's posted records followed by zeros up to its capacity.
//! [`compact`] posts every record up to the last one with a non-zero byte, so
//! `expand(compact(x)) == x` for any version-5 data, canonical or not: what the contract
//! hashes is exactly what was proven.

use super::{
    calldata_chunks, BATCH_DATA_VERSION, CHUNK_DATA_BYTES, CHUNK_DEPOSITS, CHUNK_NEW_ACCOUNTS,
    CHUNK_TRANSFERS, CHUNK_WITHDRAWALS, DEPOSIT_RECORD_BYTES, NEW_ACCOUNT_RECORD_BYTES,
    TRANSFER_RECORD_BYTES, WITHDRAWAL_RECORD_BYTES,
};
use crate::{Error, Result};

/// The version byte of compact calldata: what the Rollup contract accepts.
pub const COMPACT_DATA_VERSION: u8 = 4;
/// Bytes of a chunk's header: `t + 33 a`, then `d + 5 w`.
pub const CHUNK_HEADER_BYTES: usize = 2;
/// The radix of the first header byte: one more than the largest transfer count.
pub const HEADER_RADIX: usize = CHUNK_TRANSFERS + 1;
/// The radix of the second header byte: one more than the largest deposit count.
pub const SECOND_HEADER_RADIX: usize = CHUNK_DEPOSITS + 1;

/// The record lists of a chunk, in order: record size and capacity.
const LISTS: [(usize, usize); 4] = [
    (TRANSFER_RECORD_BYTES, CHUNK_TRANSFERS),
    (NEW_ACCOUNT_RECORD_BYTES, CHUNK_NEW_ACCOUNTS),
    (DEPOSIT_RECORD_BYTES, CHUNK_DEPOSITS),
    (WITHDRAWAL_RECORD_BYTES, CHUNK_WITHDRAWALS),
];

/// Records of `records` up to and including the last one with a non-zero byte.
fn posted_records(records: &[u8], record_bytes: usize) -> usize {
    records
        .chunks_exact(record_bytes)
        .rposition(|record| record.iter().any(|&b| b != 0))
        .map_or(0, |last| last + 1)
}

/// The compact L1 calldata of version-5 batch data (`BatchData::encode`).
pub fn compact(data: &[u8]) -> Result<Vec<u8>> {
    let chunks = calldata_chunks(data)?;
    let mut out = Vec::with_capacity(1 + chunks.len() * CHUNK_HEADER_BYTES + data.len() / 4);
    out.push(COMPACT_DATA_VERSION);
    for chunk in chunks {
        let mut counts = [0usize; 4];
        let mut lists = Vec::with_capacity(4);
        let mut at = 0;
        for (count, &(record_bytes, capacity)) in counts.iter_mut().zip(&LISTS) {
            let list = &chunk[at..at + record_bytes * capacity];
            *count = posted_records(list, record_bytes);
            lists.push(&list[..*count * record_bytes]);
            at += record_bytes * capacity;
        }
        let [t, a, d, w] = counts;
        // At most 32 + 33 * 4 = 164 and 4 + 5 * 4 = 24: one byte each.
        out.push((t + HEADER_RADIX * a) as u8);
        out.push((d + SECOND_HEADER_RADIX * w) as u8);
        for list in lists {
            out.extend_from_slice(list);
        }
    }
    Ok(out)
}

/// The version-5 batch data of compact calldata, checking what the L1 contract checks: the
/// version byte, record counts within a chunk's capacity, whole chunks, at least one.
pub fn expand(calldata: &[u8]) -> Result<Vec<u8>> {
    let malformed = |at: usize, reason: &'static str| Error::InvalidCompactData { at, reason };
    let Some((&version, mut rest)) = calldata.split_first() else {
        return Err(Error::InvalidBatchDataLength { len: 0 });
    };
    if version != COMPACT_DATA_VERSION {
        return Err(Error::UnsupportedBatchVersion {
            version,
            expected: COMPACT_DATA_VERSION,
        });
    }
    let mut out = vec![BATCH_DATA_VERSION];
    while !rest.is_empty() {
        let at = calldata.len() - rest.len();
        let [first, second, records @ ..] = rest else {
            return Err(malformed(at, "truncated chunk header"));
        };
        let (first, second) = (usize::from(*first), usize::from(*second));
        let counts = [
            first % HEADER_RADIX,
            first / HEADER_RADIX,
            second % SECOND_HEADER_RADIX,
            second / SECOND_HEADER_RADIX,
        ];
        if counts[1] > CHUNK_NEW_ACCOUNTS {
            return Err(malformed(at, "more new-account records than a chunk holds"));
        }
        if counts[3] > CHUNK_WITHDRAWALS {
            return Err(malformed(at, "more withdrawal records than a chunk holds"));
        }
        let posted: usize = counts
            .iter()
            .zip(&LISTS)
            .map(|(count, (record_bytes, _))| count * record_bytes)
            .sum();
        if records.len() < posted {
            return Err(malformed(at, "truncated chunk records"));
        }
        let mut chunk = [0u8; CHUNK_DATA_BYTES];
        let (mut list_at, mut read) = (0, 0);
        for (count, &(record_bytes, capacity)) in counts.iter().zip(&LISTS) {
            let bytes = count * record_bytes;
            chunk[list_at..list_at + bytes].copy_from_slice(&records[read..read + bytes]);
            read += bytes;
            list_at += record_bytes * capacity;
        }
        out.extend_from_slice(&chunk);
        rest = &records[posted..];
    }
    if out.len() == 1 {
        return Err(Error::EmptyBatchData);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_data::DataCommitment;

    /// Version-5 data with the given leading non-zero records per list, per chunk.
    fn padded(counts: &[[usize; 4]]) -> Vec<u8> {
        let mut data = vec![BATCH_DATA_VERSION];
        for (i, counts) in counts.iter().enumerate() {
            let mut chunk = [0u8; CHUNK_DATA_BYTES];
            let mut at = 0;
            for (list, (&count, &(record_bytes, capacity))) in counts.iter().zip(&LISTS).enumerate()
            {
                for (j, byte) in chunk[at..at + count * record_bytes].iter_mut().enumerate() {
                    *byte = (i + j + list) as u8 | 1;
                }
                at += record_bytes * capacity;
            }
            data.extend_from_slice(&chunk);
        }
        data
    }

    #[test]
    fn compact_drops_only_the_padding_and_expands_back() {
        let data = padded(&[[3, 1, 2, 1], [0, 0, 0, 0], [32, 4, 4, 4], [1, 0, 0, 2]]);
        let compacted = compact(&data).unwrap();
        let records = (3 + 32 + 1) * TRANSFER_RECORD_BYTES
            + 5 * NEW_ACCOUNT_RECORD_BYTES
            + 6 * DEPOSIT_RECORD_BYTES
            + 7 * WITHDRAWAL_RECORD_BYTES;
        assert_eq!(compacted.len(), 1 + 4 * CHUNK_HEADER_BYTES + records);
        assert_eq!(&compacted[..3], &[COMPACT_DATA_VERSION, 3 + 33, 2 + 5]);
        assert_eq!(expand(&compacted).unwrap(), data);
        assert_eq!(
            DataCommitment::of_calldata(&expand(&compacted).unwrap()).unwrap(),
            DataCommitment::of_calldata(&data).unwrap(),
            "the contract hashes what the circuits proved"
        );
    }

    #[test]
    fn a_zero_record_before_a_used_one_is_posted() {
        // Not canonical, but lossless: records up to the last non-zero one are kept.
        let mut data = padded(&[[0, 0, 0, 0]]);
        data[1 + 2 * TRANSFER_RECORD_BYTES] = 1;
        let compacted = compact(&data).unwrap();
        assert_eq!(
            compacted[1..3],
            [3, 0],
            "three transfer records, nothing else"
        );
        assert_eq!(expand(&compacted).unwrap(), data);
    }

    #[test]
    fn malformed_calldata_is_refused() {
        let good = compact(&padded(&[[2, 1, 1, 1], [1, 0, 0, 0]])).unwrap();
        let first_chunk = 1 + 2 + 2 * 16 + 48 + 56 + 32;
        assert_eq!(expand(&good[..1]), Err(Error::EmptyBatchData));
        assert_eq!(expand(&[]), Err(Error::InvalidBatchDataLength { len: 0 }));
        for cut in 2..good.len() {
            if cut == first_chunk {
                continue; // a whole first chunk: a valid one-chunk batch
            }
            assert!(
                matches!(expand(&good[..cut]), Err(Error::InvalidCompactData { .. })),
                "truncated at {cut}"
            );
        }
        let mut wrong_version = good.clone();
        wrong_version[0] = BATCH_DATA_VERSION;
        assert!(matches!(
            expand(&wrong_version),
            Err(Error::UnsupportedBatchVersion { version: 5, .. })
        ));
        // First headers 165 to 255 would hold 5 or more new accounts.
        for header in 165..=255u8 {
            let mut too_many = good.clone();
            too_many[1] = header;
            assert!(matches!(
                expand(&too_many),
                Err(Error::InvalidCompactData { at: 1, .. })
            ));
        }
        // Second headers 25 to 255 would hold 5 or more withdrawals.
        for header in 25..=255u8 {
            let mut too_many = good.clone();
            too_many[2] = header;
            assert!(matches!(
                expand(&too_many),
                Err(Error::InvalidCompactData { at: 1, .. })
            ));
        }
        // The largest headers: every list full.
        let full = padded(&[[32, 4, 4, 4]]);
        assert_eq!(compact(&full).unwrap()[1..3], [164, 24]);
        assert_eq!(expand(&compact(&full).unwrap()).unwrap(), full);
    }

    #[test]
    fn compact_refuses_what_is_not_version_5_data() {
        assert!(compact(&[BATCH_DATA_VERSION]).is_err());
        assert!(compact(&[COMPACT_DATA_VERSION, 0, 0]).is_err());
    }
}

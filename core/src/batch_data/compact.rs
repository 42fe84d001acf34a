//! The L1 form of batch data (version 3): each chunk without its padding.
//!
//! The circuits and the data chain work on fixed [`CHUNK_DATA_BYTES`]-byte chunks (version
//! 2, [`super`]), whose empty records are zero bytes. Posting those zeros costs 4 gas each,
//! and a batch that touches many partitions lightly is mostly padding (64 transfers over 16
//! partitions post 16 chunks of which ~90% is zero). So L1 receives each chunk as the counts
//! of its records up to the last non-empty one and those records, and the contract puts the
//! zeros back before hashing: the data chain, hence the statement and the proof, are those
//! of the padded chunks, unchanged.
//!
//! | field                 | bytes  | meaning                                          |
//! |-----------------------|--------|--------------------------------------------------|
//! | version               | 1      | [`COMPACT_DATA_VERSION`]                         |
//! | per chunk: header     | 1      | `t + 33 a`: `t <= 32` transfer records and `a <= 4` new-account records posted (so at most 164) |
//! | per chunk: records    | 16 t + 48 a | the chunk's first `t` transfer records, then its first `a` new-account records |
//!
//! A chunk expands to its `t` transfer records, zeros up to [`CHUNK_TRANSFERS`] records, its
//! `a` new-account records and zeros up to [`CHUNK_NEW_ACCOUNTS`]. [`compact`] posts every
//! record up to the last one with a non-zero byte, so `expand(compact(x)) == x` for any
//! version-2 data, canonical or not: what the contract hashes is exactly what was proven.

use super::{
    calldata_chunks, BATCH_DATA_VERSION, CHUNK_DATA_BYTES, CHUNK_NEW_ACCOUNTS, CHUNK_TRANSFERS,
    NEW_ACCOUNT_RECORD_BYTES, TRANSFER_RECORD_BYTES,
};
use crate::{Error, Result};

/// The version byte of compact calldata: what the Rollup contract accepts.
pub const COMPACT_DATA_VERSION: u8 = 3;
/// Bytes of a chunk's header: both record counts in one byte, `t + HEADER_RADIX * a`.
pub const CHUNK_HEADER_BYTES: usize = 1;
/// The radix of the header byte: one more than the largest transfer count.
pub const HEADER_RADIX: usize = CHUNK_TRANSFERS + 1;
/// Where the new-account records start in a padded chunk.
const ACCOUNTS_OFFSET: usize = TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS;

/// Records of `records` up to and including the last one with a non-zero byte.
fn posted_records(records: &[u8], record_bytes: usize) -> usize {
    records
        .chunks_exact(record_bytes)
        .rposition(|record| record.iter().any(|&b| b != 0))
        .map_or(0, |last| last + 1)
}

/// The compact L1 calldata of version-2 batch data (`BatchData::encode`).
pub fn compact(data: &[u8]) -> Result<Vec<u8>> {
    let chunks = calldata_chunks(data)?;
    let mut out = Vec::with_capacity(1 + chunks.len() * CHUNK_HEADER_BYTES + data.len() / 4);
    out.push(COMPACT_DATA_VERSION);
    for chunk in chunks {
        let (transfers, accounts) = chunk.split_at(ACCOUNTS_OFFSET);
        let t = posted_records(transfers, TRANSFER_RECORD_BYTES);
        let a = posted_records(accounts, NEW_ACCOUNT_RECORD_BYTES);
        // At most 32 + 33 * 4 = 164: one byte.
        out.push((t + HEADER_RADIX * a) as u8);
        out.extend_from_slice(&transfers[..t * TRANSFER_RECORD_BYTES]);
        out.extend_from_slice(&accounts[..a * NEW_ACCOUNT_RECORD_BYTES]);
    }
    Ok(out)
}

/// The version-2 batch data of compact calldata, checking what the L1 contract checks: the
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
        let [header, records @ ..] = rest else {
            unreachable!("rest is not empty");
        };
        let (t, a) = (
            usize::from(*header) % HEADER_RADIX,
            usize::from(*header) / HEADER_RADIX,
        );
        if a > CHUNK_NEW_ACCOUNTS {
            return Err(malformed(at, "more new-account records than a chunk holds"));
        }
        let (transfer_bytes, account_bytes) =
            (t * TRANSFER_RECORD_BYTES, a * NEW_ACCOUNT_RECORD_BYTES);
        if records.len() < transfer_bytes + account_bytes {
            return Err(malformed(at, "truncated chunk records"));
        }
        let mut chunk = [0u8; CHUNK_DATA_BYTES];
        chunk[..transfer_bytes].copy_from_slice(&records[..transfer_bytes]);
        chunk[ACCOUNTS_OFFSET..ACCOUNTS_OFFSET + account_bytes]
            .copy_from_slice(&records[transfer_bytes..transfer_bytes + account_bytes]);
        out.extend_from_slice(&chunk);
        rest = &records[transfer_bytes + account_bytes..];
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

    /// Version-2 data of `chunks` chunks with `t` and `a` leading non-zero records each.
    fn padded(counts: &[(usize, usize)]) -> Vec<u8> {
        let mut data = vec![BATCH_DATA_VERSION];
        for (i, &(t, a)) in counts.iter().enumerate() {
            let mut chunk = [0u8; CHUNK_DATA_BYTES];
            for (j, byte) in chunk[..t * TRANSFER_RECORD_BYTES].iter_mut().enumerate() {
                *byte = (i + j) as u8 | 1;
            }
            for byte in &mut chunk[ACCOUNTS_OFFSET..ACCOUNTS_OFFSET + a * NEW_ACCOUNT_RECORD_BYTES]
            {
                *byte = 0x5a;
            }
            data.extend_from_slice(&chunk);
        }
        data
    }

    #[test]
    fn compact_drops_only_the_padding_and_expands_back() {
        let data = padded(&[(3, 1), (0, 0), (32, 4), (1, 0)]);
        let compacted = compact(&data).unwrap();
        let records = (3 + 32 + 1) * TRANSFER_RECORD_BYTES + 5 * NEW_ACCOUNT_RECORD_BYTES;
        assert_eq!(compacted.len(), 1 + 4 * CHUNK_HEADER_BYTES + records);
        assert_eq!(&compacted[..2], &[COMPACT_DATA_VERSION, 3 + 33]);
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
        let mut data = padded(&[(0, 0)]);
        data[1 + 2 * TRANSFER_RECORD_BYTES] = 1;
        let compacted = compact(&data).unwrap();
        assert_eq!(compacted[1], 3, "three transfer records, no new account");
        assert_eq!(expand(&compacted).unwrap(), data);
    }

    #[test]
    fn malformed_calldata_is_refused() {
        let good = compact(&padded(&[(2, 1), (1, 0)])).unwrap();
        assert_eq!(expand(&good[..1]), Err(Error::EmptyBatchData));
        assert_eq!(expand(&[]), Err(Error::InvalidBatchDataLength { len: 0 }));
        for cut in 2..good.len() {
            if cut == 1 + 1 + 2 * 16 + 48 {
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
            Err(Error::UnsupportedBatchVersion { version: 2, .. })
        ));
        // Headers 165 to 255 would hold 5 or more new accounts.
        for header in 165..=255u8 {
            let mut too_many = good.clone();
            too_many[1] = header;
            assert!(matches!(
                expand(&too_many),
                Err(Error::InvalidCompactData { at: 1, .. })
            ));
        }
        // The largest header: 32 transfers and 4 new accounts.
        let full = padded(&[(32, 4)]);
        assert_eq!(compact(&full).unwrap()[1], 164);
        assert_eq!(expand(&compact(&full).unwrap()).unwrap(), full);
    }

    #[test]
    fn compact_refuses_what_is_not_version_2_data() {
        assert!(compact(&[BATCH_DATA_VERSION]).is_err());
        assert!(compact(&[COMPACT_DATA_VERSION, 0, 0]).is_err());
    }
}

//! The compact L1 calldata of a batch: what anyone needs to rebuild the L2 state, posted
//! once per batch and committed to with Keccak-256.
//!
//! Amounts and fees are posted as base-10 floats (zkSync Lite style) so that a transfer
//! takes 15 bytes. Every byte string has at most one meaning and every batch exactly one
//! encoding (canonical): the L1 contract hashes the calldata and the circuits bind the same
//! hash, so two encodings of one batch would be two different commitments.
//!
//! ## Layout (version 1)
//!
//! | field               | bytes  | encoding                                        |
//! |---------------------|--------|-------------------------------------------------|
//! | version             | 1      | [`BATCH_DATA_VERSION`]                          |
//! | new account count k | 4      | u32 big-endian                                  |
//! | new account keys    | 40 k   | [`PublicKey::to_bytes`], in global index order  |
//! | transfer count n    | 4      | u32 big-endian                                  |
//! | transfers           | 15 n   | from (u32 BE) , to (u32 BE), amount (5), fee (2)|
//!
//! Nothing may follow the last transfer. Total: `1 + 4 + 40 k + 4 + 15 n` bytes
//! ([`BatchData::encoded_len`]).
//!
//! ## Packed floats
//!
//! A float with `M` mantissa bits and `E` exponent bits is the big-endian `(M + E)`-bit word
//! `(m << E) | e`, worth `m * 10^e`: amounts are 40 bits (`M = 35`, `E = 5`, 5 bytes),
//! fees 16 bits (`M = 11`, `E = 5`, 2 bytes). The canonical encoding of a value uses the
//! smallest exponent that represents it exactly; decoding refuses any other (`e > 0` while
//! `m * 10` still fits the mantissa, which includes zero with `e > 0`) and any value above
//! `u64::MAX`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tiny_keccak::{Hasher, Keccak};

use crate::{
    field::{decode_hex, encode_hex},
    schnorr::PublicKey,
    Error, Result,
};

/// The version byte this code encodes and the only one it decodes, so that a future layout
/// can be told apart on L1.
pub const BATCH_DATA_VERSION: u8 = 1;
/// Bytes of one transfer record: from (4) + to (4) + packed amount (5) + packed fee (2).
pub const TRANSFER_BYTES: usize = 15;
/// Bytes of one new account's public key ([`PublicKey::to_bytes`]).
pub const PUBLIC_KEY_BYTES: usize = 40;
/// Bytes of a packed amount.
pub const PACKED_AMOUNT_BYTES: usize = 5;
/// Bytes of a packed fee.
pub const PACKED_FEE_BYTES: usize = 2;

/// Powers of ten that fit a u64 (10^0 to 10^19): any larger exponent overflows unless the
/// mantissa is zero, which is not canonical.
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// The shape of a packed base-10 float, shared with its circuit twin so that both pack and
/// range-check with the same widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatFormat {
    mantissa_bits: u32,
    exponent_bits: u32,
    what: &'static str,
}

/// Amounts: 35-bit mantissa, 5-bit exponent, 40 bits.
pub const AMOUNT_FORMAT: FloatFormat = FloatFormat::new(35, 5, "amount");
/// Fees: 11-bit mantissa, 5-bit exponent, 16 bits.
pub const FEE_FORMAT: FloatFormat = FloatFormat::new(11, 5, "fee");

impl FloatFormat {
    /// A format of `mantissa_bits + exponent_bits` bits; `what` names the value in errors.
    ///
    /// Panics (at compile time in a `const`) unless `1 <= mantissa_bits <= 60` (so that
    /// `m * 10` never overflows), `1 <= exponent_bits <= 8` and the word fits a u64.
    pub const fn new(mantissa_bits: u32, exponent_bits: u32, what: &'static str) -> Self {
        assert!(
            mantissa_bits >= 1 && mantissa_bits <= 60,
            "mantissa bits out of range"
        );
        assert!(
            exponent_bits >= 1 && exponent_bits <= 8,
            "exponent bits out of range"
        );
        assert!(
            mantissa_bits + exponent_bits <= 64,
            "the word must fit a u64"
        );
        Self {
            mantissa_bits,
            exponent_bits,
            what,
        }
    }

    /// Width of the mantissa field, for the circuit's range checks.
    pub const fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }

    /// Width of the exponent field, for the circuit's range checks.
    pub const fn exponent_bits(&self) -> u32 {
        self.exponent_bits
    }

    /// Width of the packed word: mantissa bits + exponent bits.
    pub const fn bits(&self) -> u32 {
        self.mantissa_bits + self.exponent_bits
    }

    /// The largest mantissa, `2^mantissa_bits - 1`.
    pub const fn max_mantissa(&self) -> u64 {
        (1u64 << self.mantissa_bits) - 1
    }

    /// The largest exponent field, `2^exponent_bits - 1` (exponents above 19 only ever
    /// overflow a u64).
    pub const fn max_exponent(&self) -> u32 {
        (1u32 << self.exponent_bits) - 1
    }

    /// The canonical (mantissa, exponent) of a value: the smallest exponent e with
    /// `value % 10^e == 0` and `value / 10^e` fitting the mantissa; `None` if there is
    /// none, i.e. the value cannot be posted.
    pub fn pack_parts(&self, value: u64) -> Option<(u64, u32)> {
        let last = self.max_exponent().min(POW10.len() as u32 - 1);
        for exponent in 0..=last {
            let pow = POW10[exponent as usize];
            if !value.is_multiple_of(pow) {
                // No larger power of ten divides it either.
                return None;
            }
            let mantissa = value / pow;
            if mantissa <= self.max_mantissa() {
                return Some((mantissa, exponent));
            }
        }
        None
    }

    /// The canonical packed word `(m << exponent_bits) | e` of a value, `None` if the value
    /// is not representable.
    pub fn pack_word(&self, value: u64) -> Option<u64> {
        self.pack_parts(value)
            .map(|(mantissa, exponent)| (mantissa << self.exponent_bits) | u64::from(exponent))
    }

    /// Whether a value has a packed encoding, so that the sequencer can refuse a transfer
    /// that could not be posted.
    pub fn is_packable(&self, value: u64) -> bool {
        self.pack_parts(value).is_some()
    }

    /// The value `m * 10^e` of a (mantissa, exponent) pair, refusing fields out of range,
    /// non-canonical pairs (a smaller exponent would do) and values above `u64::MAX`.
    pub fn unpack_parts(&self, mantissa: u64, exponent: u32) -> Result<u64> {
        let invalid = |reason| Error::InvalidPackedFloat {
            what: self.what,
            mantissa,
            exponent,
            reason,
        };
        if mantissa > self.max_mantissa() || exponent > self.max_exponent() {
            return Err(invalid("field out of range"));
        }
        if exponent > 0 && mantissa * 10 <= self.max_mantissa() {
            return Err(invalid(
                "not canonical: a smaller exponent represents the value",
            ));
        }
        POW10
            .get(exponent as usize)
            .and_then(|pow| mantissa.checked_mul(*pow))
            .ok_or_else(|| invalid("the value overflows a u64"))
    }

    /// The value of a packed word, refusing bits above [`bits`](Self::bits) and everything
    /// [`unpack_parts`](Self::unpack_parts) refuses.
    pub fn unpack_word(&self, word: u64) -> Result<u64> {
        if self.bits() < 64 && word >> self.bits() != 0 {
            return Err(Error::InvalidPackedFloat {
                what: self.what,
                mantissa: word >> self.exponent_bits,
                exponent: (word & u64::from(self.max_exponent())) as u32,
                reason: "bits set above the packed word",
            });
        }
        let exponent = (word & u64::from(self.max_exponent())) as u32;
        self.unpack_parts(word >> self.exponent_bits, exponent)
    }
}

/// The 5 big-endian bytes of an amount's canonical packed word, `None` if the amount cannot
/// be posted.
pub fn pack_amount(value: u64) -> Option<[u8; PACKED_AMOUNT_BYTES]> {
    let word = AMOUNT_FORMAT.pack_word(value)?.to_be_bytes();
    let mut out = [0u8; PACKED_AMOUNT_BYTES];
    out.copy_from_slice(&word[8 - PACKED_AMOUNT_BYTES..]);
    Some(out)
}

/// The amount of 5 packed bytes, refusing non-canonical and overflowing encodings.
pub fn unpack_amount(bytes: &[u8; PACKED_AMOUNT_BYTES]) -> Result<u64> {
    let mut word = [0u8; 8];
    word[8 - PACKED_AMOUNT_BYTES..].copy_from_slice(bytes);
    AMOUNT_FORMAT.unpack_word(u64::from_be_bytes(word))
}

/// Whether an amount can be posted (the sequencer refuses transfers of other amounts).
pub fn is_packable_amount(value: u64) -> bool {
    AMOUNT_FORMAT.is_packable(value)
}

/// The 2 big-endian bytes of a fee's canonical packed word, `None` if the fee cannot be
/// posted.
pub fn pack_fee(value: u64) -> Option<[u8; PACKED_FEE_BYTES]> {
    let word = FEE_FORMAT.pack_word(value)?;
    // The word has 16 bits by construction.
    Some((word as u16).to_be_bytes())
}

/// The fee of 2 packed bytes, refusing non-canonical encodings.
pub fn unpack_fee(bytes: &[u8; PACKED_FEE_BYTES]) -> Result<u64> {
    FEE_FORMAT.unpack_word(u64::from(u16::from_be_bytes(*bytes)))
}

/// Whether a fee can be posted (the sequencer refuses transfers with other fees).
pub fn is_packable_fee(value: u64) -> bool {
    FEE_FORMAT.is_packable(value)
}

/// Keccak-256 of the bytes, exactly Solidity's `keccak256(data)` (not SHA3-256), so that
/// the L1 contract recomputes it over the calldata.
pub fn data_commitment(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    hasher.update(bytes);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}

/// The Keccak-256 commitment to a batch's calldata, typed so that it is not mistaken for a
/// Poseidon digest; shown and serialised as `0x`-hex like the L1 `bytes32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataCommitment(pub [u8; 32]);

impl DataCommitment {
    /// The commitment to encoded batch data (see [`data_commitment`]).
    pub fn of(bytes: &[u8]) -> Self {
        Self(data_commitment(bytes))
    }

    /// The 32 bytes, in the order of the L1 `bytes32`.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for DataCommitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl FromStr for DataCommitment {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bytes = decode_hex(s, 32, "data commitment")?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&bytes);
        Ok(Self(out))
    }
}

impl Serialize for DataCommitment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DataCommitment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One transfer as posted: what a restorer needs to replay it (signatures and nonces are
/// not posted; the validity proof vouches for them).
///
/// Account indices are global leaf indices of the state tree, which has depth at most 32
/// for this format so that they fit the 4-byte fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferRecord {
    /// Global index of the sender's account.
    pub from: u32,
    /// Global index of the recipient's account.
    pub to: u32,
    /// Amount moved; must be packable ([`is_packable_amount`]).
    pub amount: u64,
    /// Fee paid by the sender; must be packable ([`is_packable_fee`]).
    pub fee: u64,
}

impl TransferRecord {
    /// The 15-byte record: from, to (u32 BE), packed amount, packed fee.
    pub fn encode(&self, index: u32) -> Result<[u8; TRANSFER_BYTES]> {
        let unpackable = |what, format: FloatFormat, value| Error::InvalidBatchItem {
            what,
            index,
            source: Box::new(Error::UnpackableValue {
                what: format.what,
                value,
            }),
        };
        let amount = pack_amount(self.amount)
            .ok_or_else(|| unpackable("transfer amount", AMOUNT_FORMAT, self.amount))?;
        let fee =
            pack_fee(self.fee).ok_or_else(|| unpackable("transfer fee", FEE_FORMAT, self.fee))?;
        let mut out = [0u8; TRANSFER_BYTES];
        out[..4].copy_from_slice(&self.from.to_be_bytes());
        out[4..8].copy_from_slice(&self.to.to_be_bytes());
        out[8..13].copy_from_slice(&amount);
        out[13..].copy_from_slice(&fee);
        Ok(out)
    }

    /// Decodes a 15-byte record, refusing non-canonical floats; `index` is the record's
    /// position, named in errors.
    pub fn decode(bytes: &[u8; TRANSFER_BYTES], index: u32) -> Result<Self> {
        let item = |what| {
            move |source| Error::InvalidBatchItem {
                what,
                index,
                source: Box::new(source),
            }
        };
        let word = |range: std::ops::Range<usize>| {
            let mut out = [0u8; 4];
            out.copy_from_slice(&bytes[range]);
            u32::from_be_bytes(out)
        };
        let mut amount = [0u8; PACKED_AMOUNT_BYTES];
        amount.copy_from_slice(&bytes[8..13]);
        let fee = [bytes[13], bytes[14]];
        Ok(Self {
            from: word(0..4),
            to: word(4..8),
            amount: unpack_amount(&amount).map_err(item("transfer amount"))?,
            fee: unpack_fee(&fee).map_err(item("transfer fee"))?,
        })
    }
}

/// Everything a batch posts to L1: the keys of the accounts it creates and its transfers,
/// enough for anyone to rebuild the L2 state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchData {
    /// Public keys of the accounts this batch creates, in the order of their global
    /// indices (the restorer derives each index from the key's partition).
    pub new_accounts: Vec<PublicKey>,
    /// The batch's transfers, in execution order.
    pub transfers: Vec<TransferRecord>,
}

/// A cursor over the input that checks every length before anything is read or allocated.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next `needed` bytes, or `TruncatedBatchData` naming `what`.
    fn take(&mut self, needed: u64, what: &'static str) -> Result<&'a [u8]> {
        match usize::try_from(needed) {
            Ok(len) if len <= self.bytes.len() => {
                let (head, tail) = self.bytes.split_at(len);
                self.bytes = tail;
                Ok(head)
            }
            _ => Err(Error::TruncatedBatchData {
                what,
                needed,
                remaining: self.bytes.len(),
            }),
        }
    }

    /// The next big-endian u32.
    fn u32(&mut self, what: &'static str) -> Result<u32> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
}

impl BatchData {
    /// The encoded length of a batch with `new_accounts` keys and `transfers` records:
    /// `1 + 4 + 40 new_accounts + 4 + 15 transfers`, for sizing batches against calldata
    /// limits.
    pub const fn encoded_len(new_accounts: usize, transfers: usize) -> usize {
        1 + 4 + PUBLIC_KEY_BYTES * new_accounts + 4 + TRANSFER_BYTES * transfers
    }

    /// The canonical calldata (see the module documentation); fails if a list is longer
    /// than a u32 count or an amount or fee is not packable.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let count = |what, len: usize| {
            u32::try_from(len).map_err(|_| Error::TooManyBatchItems { what, count: len })
        };
        let account_count = count("new accounts", self.new_accounts.len())?;
        let transfer_count = count("transfers", self.transfers.len())?;
        let mut out = Vec::with_capacity(Self::encoded_len(
            self.new_accounts.len(),
            self.transfers.len(),
        ));
        out.push(BATCH_DATA_VERSION);
        out.extend_from_slice(&account_count.to_be_bytes());
        for key in &self.new_accounts {
            out.extend_from_slice(&key.to_bytes());
        }
        out.extend_from_slice(&transfer_count.to_be_bytes());
        for (index, transfer) in (0u32..).zip(&self.transfers) {
            out.extend_from_slice(&transfer.encode(index)?);
        }
        Ok(out)
    }

    /// Decodes calldata, refusing anything but the canonical encoding of a batch: another
    /// version, truncated data or counts that overrun it, trailing bytes, invalid public
    /// keys and non-canonical floats.
    ///
    /// All lengths are checked against the input before any allocation or key decoding,
    /// so a forged count costs nothing.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader { bytes };
        let version = reader.take(1, "version")?[0];
        if version != BATCH_DATA_VERSION {
            return Err(Error::UnsupportedBatchVersion {
                version,
                expected: BATCH_DATA_VERSION,
            });
        }
        let account_count = reader.u32("new account count")?;
        let keys = reader.take(
            u64::from(account_count) * PUBLIC_KEY_BYTES as u64,
            "new accounts",
        )?;
        let transfer_count = reader.u32("transfer count")?;
        let records = reader.take(
            u64::from(transfer_count) * TRANSFER_BYTES as u64,
            "transfers",
        )?;
        if !reader.bytes.is_empty() {
            return Err(Error::TrailingBatchData {
                extra: reader.bytes.len(),
            });
        }

        let new_accounts = (0u32..)
            .zip(keys.chunks_exact(PUBLIC_KEY_BYTES))
            .map(|(index, key)| {
                PublicKey::from_bytes(key).map_err(|source| Error::InvalidBatchItem {
                    what: "new account",
                    index,
                    source: Box::new(source),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let transfers = (0u32..)
            .zip(records.chunks_exact(TRANSFER_BYTES))
            .map(|(index, record)| {
                let mut record_bytes = [0u8; TRANSFER_BYTES];
                record_bytes.copy_from_slice(record);
                TransferRecord::decode(&record_bytes, index)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            new_accounts,
            transfers,
        })
    }

    /// The Keccak-256 commitment to the encoded batch, as the L1 contract computes it over
    /// the calldata.
    pub fn commitment(&self) -> Result<DataCommitment> {
        Ok(DataCommitment::of(&self.encode()?))
    }
}

#[cfg(test)]
mod tests;

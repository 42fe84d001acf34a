//! The compact L1 calldata of a batch (version 5, chunked): what anyone needs to rebuild
//! the L2 state, posted once per batch and committed to with a Keccak-256 chain over its
//! chunks (`prover/CIRCUITS.md` §2).
//!
//! The calldata is cut into fixed-size chunks so that one chunk circuit, of fixed
//! capacity, proves the records of one chunk and extends the data chain by one step: the
//! chain runs through every chunk of every partition in (partition, chunk) order, like the
//! state roots do, and the L1 contract recomputes it over the calldata.
//!
//! Every byte string has at most one meaning and every batch exactly one encoding
//! (canonical): the L1 contract hashes the calldata and the circuits bind the same hash, so
//! two encodings of one batch would be two different commitments. Hence the strict decoder:
//! unknown tags, nonzero padding, bytes in an empty record and used records after an empty
//! one are all refused.
//!
//! ## Layout (version 5)
//!
//! | field        | bytes                    | encoding                                   |
//! |--------------|--------------------------|--------------------------------------------|
//! | version      | 1                        | [`BATCH_DATA_VERSION`]                     |
//! | chunks       | [`CHUNK_DATA_BYTES`] × k | k >= 1 chunks, (partition, chunk) order     |
//!
//! A chunk is four record lists: [`CHUNK_TRANSFERS`] transfer records (one per signed
//! operation: transfers and withdrawals), [`CHUNK_NEW_ACCOUNTS`] new-account records,
//! [`CHUNK_DEPOSITS`] deposit records and [`CHUNK_WITHDRAWALS`] withdrawal records, used
//! records first in each list, empty ones all zero:
//!
//! | record      | bytes | fields                                                          |
//! |-------------|-------|-----------------------------------------------------------------|
//! | transfer    | 16    | tag (1), from (u32 BE), to (u32 BE; 0 for a withdrawal), amount (5), fee (2) |
//! | new account | 48    | tag (1), global index (u32 BE), 3 zero bytes, [`PublicKey::to_bytes`] (40) |
//! | deposit     | 56    | tag (1), zero (1), queue offset (u16 BE), global index (u32 BE), amount (u64 BE), key (40) |
//! | withdrawal  | 32    | tag (1), 3 zero bytes, amount (u64 BE), L1 recipient (20)        |
//! | empty       | same  | all zero (tag 0)                                                |
//!
//! A used tag is `1 | token << 1` ([`RECORD_USED`], [`RECORD_TOKEN`]), and a transfer
//! record of a withdrawal also sets [`RECORD_WITHDRAWAL`]: 1 or 3 for a transfer of ETH or
//! the test token, 5 or 7 for a withdrawal. The `i`-th withdrawal record of a chunk is paid
//! by its `i`-th withdrawal; a deposit's queue offset is its position in the segment of the
//! L1 queue the batch consumes (deposit records are in partition order, not queue order).
//! Indices are global leaf indices of the state tree (depth at most 32 for this format).
//!
//! ## On L1: compact calldata
//!
//! The Rollup contract receives this data without its padding ([`compact`], version 4):
//! each chunk as its record counts and records, expanded back to these chunks before
//! hashing, so that empty records cost no calldata.
//!
//! ## Cost
//!
//! A transfer posts one 16-byte record, in its sender's partition: the credit in the
//! recipient's partition is tied to it by a message chain (§4) and posts no record, so
//! receives cost nothing. A new account posts 48 bytes (its index and key), a deposit 56
//! (what L1 rehashes against its queue) and a withdrawal 16 + 32 (its debit and its
//! payout). Records fill a partition's chunks in order, so the padding (empty records) of a
//! partition sits in its last chunk, as long as chunks are only cut when a list is full: a
//! partition with `t` signed operations, `a` new accounts, `d` deposits and `w` withdrawals
//! then costs `CHUNK_DATA_BYTES * max(1, ceil(t / 32), ceil(a / 4), ceil(d / 4), ceil(w /
//! 4))` bytes, and a batch one version byte more than the sum over the partitions it
//! touches (on L1 the padding is not posted, [`compact`]). Where chunks are cut is the chunk planner's choice
//! (`execution::plan_chunks`), bound by the chunk circuit's other capacities.
//!
//! ## Packed floats
//!
//! A float with `M` mantissa bits and `E` exponent bits is the big-endian `(M + E)`-bit word
//! `(m << E) | e`, worth `m * 10^e`: amounts are 40 bits (`M = 35`, `E = 5`, 5 bytes),
//! fees 16 bits (`M = 11`, `E = 5`, 2 bytes). The canonical encoding of a value uses the
//! smallest exponent that represents it exactly; decoding refuses any other (`e > 0` while
//! `m * 10` still fits the mantissa, which includes zero with `e > 0`).
//!
//! A posted value must also be below the Goldilocks order `p = 2^64 - 2^32 + 1`
//! ([`MODULUS`]): the circuits unpack `m * 10^e` as one field element, so a value `v >= p`
//! would be proved as `v - p`, a different amount than the one executed. Such values are
//! neither packed nor unpacked (the sequencer refuses them like any unpackable value).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tiny_keccak::{Hasher, Keccak};

use crate::{
    field::{decode_hex, encode_hex, MODULUS},
    schnorr::PublicKey,
    token::Token,
    withdrawal::L1Address,
    Error, Result,
};

/// The version byte this code encodes and the only one it decodes, so that a future layout
/// can be told apart (version 2 had no deposit or withdrawal records; 3 and 4 are compact
/// forms, [`compact`]).
pub const BATCH_DATA_VERSION: u8 = 5;
/// Transfer records in a chunk: the chunk circuit's transfer capacity.
pub const CHUNK_TRANSFERS: usize = 32;
/// New-account records in a chunk: the chunk circuit's account-creation capacity.
pub const CHUNK_NEW_ACCOUNTS: usize = 4;
/// Deposit records in a chunk: the chunk circuit's deposit capacity.
pub const CHUNK_DEPOSITS: usize = 4;
/// Withdrawal records in a chunk: the chunk circuit's withdrawal capacity.
pub const CHUNK_WITHDRAWALS: usize = 4;
/// Bytes of one transfer record: tag (1) + from (4) + to (4) + packed amount (5) + packed
/// fee (2).
pub const TRANSFER_RECORD_BYTES: usize = 16;
/// Bytes of one new-account record: tag (1) + global index (4) + padding (3) + public key
/// (40); the padding keeps the key 8-byte aligned within the record.
pub const NEW_ACCOUNT_RECORD_BYTES: usize = 48;
/// Bytes of one deposit record: tag (1) + zero (1) + queue offset (2) + global index (4) +
/// amount (8) + public key (40).
pub const DEPOSIT_RECORD_BYTES: usize = 56;
/// Bytes of one withdrawal record: tag (1) + zeros (3) + amount (8) + L1 recipient (20).
pub const WITHDRAWAL_RECORD_BYTES: usize = 32;
/// Bytes of the transfer list of a chunk.
pub const TRANSFER_LIST_BYTES: usize = TRANSFER_RECORD_BYTES * CHUNK_TRANSFERS;
/// Bytes of the new-account list of a chunk.
pub const NEW_ACCOUNT_LIST_BYTES: usize = NEW_ACCOUNT_RECORD_BYTES * CHUNK_NEW_ACCOUNTS;
/// Bytes of the deposit list of a chunk.
pub const DEPOSIT_LIST_BYTES: usize = DEPOSIT_RECORD_BYTES * CHUNK_DEPOSITS;
/// Bytes of the withdrawal list of a chunk.
pub const WITHDRAWAL_LIST_BYTES: usize = WITHDRAWAL_RECORD_BYTES * CHUNK_WITHDRAWALS;
/// Bytes of one chunk: what one step of the data chain hashes after the previous link.
pub const CHUNK_DATA_BYTES: usize =
    TRANSFER_LIST_BYTES + NEW_ACCOUNT_LIST_BYTES + DEPOSIT_LIST_BYTES + WITHDRAWAL_LIST_BYTES;
/// The tag bit of a used record (an empty record is all zero, tag included).
pub const RECORD_USED: u8 = 1;
/// The tag bit of a record of the test token (token 1).
pub const RECORD_TOKEN: u8 = 2;
/// The tag bit of a transfer record that is a withdrawal.
pub const RECORD_WITHDRAWAL: u8 = 4;
/// Bytes of one new account's public key ([`PublicKey::to_bytes`]).
pub const PUBLIC_KEY_BYTES: usize = 40;
/// Bytes of a packed amount.
pub const PACKED_AMOUNT_BYTES: usize = 5;
/// Bytes of a packed fee.
pub const PACKED_FEE_BYTES: usize = 2;

/// Offset of the public key in a new-account record (after tag, index and padding).
const KEY_OFFSET: usize = NEW_ACCOUNT_RECORD_BYTES - PUBLIC_KEY_BYTES;

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
    /// none or the value is not below the Goldilocks order (the circuits would read it
    /// modulo p, see the module documentation), i.e. the value cannot be posted.
    pub fn pack_parts(&self, value: u64) -> Option<(u64, u32)> {
        if value >= MODULUS {
            return None;
        }
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
    /// non-canonical pairs (a smaller exponent would do) and values not below the
    /// Goldilocks order p, which the circuits could not tell from `value - p`.
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
            .filter(|value| *value < MODULUS)
            .ok_or_else(|| invalid("the value is not below the Goldilocks order"))
    }

    /// The largest postable value at most `value` (0 always is), so that a wallet can
    /// suggest an amount or fee instead of a refused one.
    pub fn largest_packable_at_most(&self, value: u64) -> u64 {
        // Capping below p first keeps every candidate below p; each candidate
        // `min(value / 10^e, max_mantissa) * 10^e` is then packable and at most `value`,
        // and the largest packable value at most `value` is one of them.
        let value = value.min(MODULUS - 1);
        POW10[..=self.max_exponent().min(POW10.len() as u32 - 1) as usize]
            .iter()
            .map(|pow| (value / pow).min(self.max_mantissa()) * pow)
            .max()
            .unwrap_or(0)
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

/// The amount of 5 packed bytes, refusing non-canonical encodings and values not below p.
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
/// the L1 contract recomputes what the circuits bind.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    hasher.update(bytes);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}

/// One step of the data chain, `keccak256(prev || chunk)`: what a chunk proof states about
/// its chunk, so that the proofs of consecutive chunks chain like their roots do.
pub fn data_chain_step(prev: &[u8; 32], chunk: &[u8; CHUNK_DATA_BYTES]) -> [u8; 32] {
    let mut hasher = Keccak::v256();
    hasher.update(prev);
    hasher.update(chunk);
    let mut out = [0u8; 32];
    hasher.finalize(&mut out);
    out
}

/// The chunks of calldata, after checking only what the L1 contract checks: the version
/// byte and a length of `1 + k * CHUNK_DATA_BYTES` with `k >= 1`. The records themselves
/// are checked by [`BatchData::decode`] (and, on L1, by the validity proof).
pub fn calldata_chunks(bytes: &[u8]) -> Result<&[[u8; CHUNK_DATA_BYTES]]> {
    let Some((&version, rest)) = bytes.split_first() else {
        return Err(Error::InvalidBatchDataLength { len: 0 });
    };
    if version != BATCH_DATA_VERSION {
        return Err(Error::UnsupportedBatchVersion {
            version,
            expected: BATCH_DATA_VERSION,
        });
    }
    let (chunks, extra) = rest.as_chunks::<CHUNK_DATA_BYTES>();
    if !extra.is_empty() {
        return Err(Error::InvalidBatchDataLength { len: bytes.len() });
    }
    if chunks.is_empty() {
        return Err(Error::EmptyBatchData);
    }
    Ok(chunks)
}

/// The commitment to a batch's calldata: the last link of the data chain over its chunks
/// (`d_0 = 0`, `d_{i+1} = keccak256(d_i || chunk_i)`). Typed so that it is not mistaken
/// for a Poseidon digest; shown and serialised as `0x`-hex like the L1 `bytes32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataCommitment(pub [u8; 32]);

impl DataCommitment {
    /// The start of every data chain, `d_0`: 32 zero bytes.
    pub const CHAIN_START: Self = Self([0; 32]);

    /// The data chain from [`CHAIN_START`](Self::CHAIN_START) over encoded chunks, in
    /// order; over a whole batch's chunks it is the batch's commitment, over a prefix the
    /// link a later chunk proof starts from.
    pub fn of_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8; CHUNK_DATA_BYTES]>) -> Self {
        Self(chunks.into_iter().fold(Self::CHAIN_START.0, |link, chunk| {
            data_chain_step(&link, chunk)
        }))
    }

    /// The commitment to calldata as the L1 contract computes it: version and length are
    /// checked ([`calldata_chunks`]), the records are not.
    pub fn of_calldata(bytes: &[u8]) -> Result<Self> {
        Ok(Self::of_chunks(calldata_chunks(bytes)?))
    }

    /// The 32 bytes, in the order of the L1 `bytes32`.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 8 u32 public inputs the circuits expose the commitment as: word i is bytes
    /// `4i..4i+4` big-endian (`CIRCUITS.md` §3).
    pub fn words(&self) -> [u32; 8] {
        let (words, _) = self.0.as_chunks::<4>();
        std::array::from_fn(|i| u32::from_be_bytes(words[i]))
    }

    /// The commitment of 8 public-input words, the inverse of [`words`](Self::words), to
    /// compare a proof's statement with a batch.
    pub fn from_words(words: [u32; 8]) -> Self {
        let mut out = [0u8; 32];
        for (bytes, word) in out.as_chunks_mut::<4>().0.iter_mut().zip(words) {
            *bytes = word.to_be_bytes();
        }
        Self(out)
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

/// The tag of a used record with its token, `None` for an empty one; refuses anything that
/// is neither empty (all zero) nor used with a tag among `bits` (set bits beyond
/// [`RECORD_USED`]).
fn record_tag(record: &[u8], bits: u8) -> Result<Option<(u8, Token)>> {
    let malformed = |reason| Err(Error::MalformedBatchRecord { reason });
    match record.split_first() {
        Some((0, body)) if body.iter().all(|b| *b == 0) => Ok(None),
        Some((0, _)) => malformed("an empty record (tag 0) with nonzero bytes"),
        Some((&tag, _)) if tag & RECORD_USED != 0 && tag & !(RECORD_USED | bits) == 0 => {
            let token = if tag & RECORD_TOKEN != 0 {
                Token::TestToken
            } else {
                Token::Eth
            };
            Ok(Some((tag, token)))
        }
        _ => malformed("an unknown tag"),
    }
}

/// The tag of a used record of `token`, with `extra` bits.
fn used_tag(token: Token, extra: u8) -> u8 {
    RECORD_USED
        | if token.is_test_token() {
            RECORD_TOKEN
        } else {
            0
        }
        | extra
}

/// Refuses nonzero padding bytes.
fn check_zero(bytes: &[u8], reason: &'static str) -> Result<()> {
    if bytes.iter().any(|b| *b != 0) {
        return Err(Error::MalformedBatchRecord { reason });
    }
    Ok(())
}

/// The big-endian u32 at `at`.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// One signed operation as posted (a transfer, or a withdrawal's debit): what a restorer
/// needs to replay it (signatures and nonces are not posted; the validity proof vouches for
/// them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferRecord {
    /// The token moved and paid as fee.
    pub token: Token,
    /// Whether this is a withdrawal (its recipient is in the chunk's withdrawal records).
    pub withdrawal: bool,
    /// Global index of the sender's account.
    pub from: u32,
    /// Global index of the recipient's account (0 for a withdrawal).
    pub to: u32,
    /// Amount moved; must be packable ([`is_packable_amount`]).
    pub amount: u64,
    /// Fee paid by the sender; must be packable ([`is_packable_fee`]).
    pub fee: u64,
}

impl TransferRecord {
    /// The 16-byte used record; fails with [`Error::UnpackableValue`] if the amount or the
    /// fee cannot be posted.
    pub fn encode(&self) -> Result<[u8; TRANSFER_RECORD_BYTES]> {
        let unpackable = |format: FloatFormat, value| Error::UnpackableValue {
            what: format.what,
            value,
        };
        let amount =
            pack_amount(self.amount).ok_or_else(|| unpackable(AMOUNT_FORMAT, self.amount))?;
        let fee = pack_fee(self.fee).ok_or_else(|| unpackable(FEE_FORMAT, self.fee))?;
        if self.withdrawal && self.to != 0 {
            return Err(Error::MalformedBatchRecord {
                reason: "a withdrawal's transfer record names a recipient",
            });
        }
        let mut out = [0u8; TRANSFER_RECORD_BYTES];
        out[0] = used_tag(
            self.token,
            if self.withdrawal {
                RECORD_WITHDRAWAL
            } else {
                0
            },
        );
        out[1..5].copy_from_slice(&self.from.to_be_bytes());
        out[5..9].copy_from_slice(&self.to.to_be_bytes());
        out[9..14].copy_from_slice(&amount);
        out[14..].copy_from_slice(&fee);
        Ok(out)
    }

    /// Decodes a record: `None` for an empty one; refuses unknown tags, bytes in an empty
    /// record and non-canonical floats.
    pub fn decode(bytes: &[u8; TRANSFER_RECORD_BYTES]) -> Result<Option<Self>> {
        let Some((tag, token)) = record_tag(bytes, RECORD_TOKEN | RECORD_WITHDRAWAL)? else {
            return Ok(None);
        };
        let withdrawal = tag & RECORD_WITHDRAWAL != 0;
        if withdrawal {
            check_zero(
                &bytes[5..9],
                "a withdrawal's transfer record names a recipient",
            )?;
        }
        let mut amount = [0u8; PACKED_AMOUNT_BYTES];
        amount.copy_from_slice(&bytes[9..14]);
        Ok(Some(Self {
            token,
            withdrawal,
            from: u32_at(bytes, 1),
            to: u32_at(bytes, 5),
            amount: unpack_amount(&amount)?,
            fee: unpack_fee(&[bytes[14], bytes[15]])?,
        }))
    }
}

/// An account the batch creates: its global index and key, which is all a restorer needs
/// to insert its (empty) leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewAccountRecord {
    /// Global index of the new account's leaf.
    pub index: u32,
    /// The account's public key (its address).
    pub public_key: PublicKey,
}

impl NewAccountRecord {
    /// The 48-byte used record: tag, index (u32 BE), 3 zero bytes, the key.
    pub fn encode(&self) -> [u8; NEW_ACCOUNT_RECORD_BYTES] {
        let mut out = [0u8; NEW_ACCOUNT_RECORD_BYTES];
        out[0] = RECORD_USED;
        out[1..5].copy_from_slice(&self.index.to_be_bytes());
        out[KEY_OFFSET..].copy_from_slice(&self.public_key.to_bytes());
        out
    }

    /// Decodes a record: `None` for an empty one; refuses unknown tags, bytes in an empty
    /// record, nonzero padding and invalid public keys ([`PublicKey::from_bytes`]).
    pub fn decode(bytes: &[u8; NEW_ACCOUNT_RECORD_BYTES]) -> Result<Option<Self>> {
        if record_tag(bytes, 0)?.is_none() {
            return Ok(None);
        }
        check_zero(
            &bytes[5..KEY_OFFSET],
            "nonzero padding between the index and the key",
        )?;
        Ok(Some(Self {
            index: u32_at(bytes, 1),
            public_key: PublicKey::from_bytes(&bytes[KEY_OFFSET..])?,
        }))
    }
}

/// A deposit as posted: the credit, and what L1 rehashes to check it against its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepositRecord {
    /// The token deposited.
    pub token: Token,
    /// The deposit's position in the batch's segment of the L1 queue.
    pub offset: u16,
    /// Global index of the credited account.
    pub index: u32,
    /// The amount, in L2 units.
    pub amount: u64,
    /// The credited key (as queued on L1).
    pub public_key: PublicKey,
}

impl DepositRecord {
    /// The 56-byte used record.
    pub fn encode(&self) -> [u8; DEPOSIT_RECORD_BYTES] {
        let mut out = [0u8; DEPOSIT_RECORD_BYTES];
        out[0] = used_tag(self.token, 0);
        out[2..4].copy_from_slice(&self.offset.to_be_bytes());
        out[4..8].copy_from_slice(&self.index.to_be_bytes());
        out[8..16].copy_from_slice(&self.amount.to_be_bytes());
        out[16..].copy_from_slice(&self.public_key.to_bytes());
        out
    }

    /// Decodes a record: `None` for an empty one.
    pub fn decode(bytes: &[u8; DEPOSIT_RECORD_BYTES]) -> Result<Option<Self>> {
        let Some((_, token)) = record_tag(bytes, RECORD_TOKEN)? else {
            return Ok(None);
        };
        check_zero(&bytes[1..2], "nonzero padding after a deposit's tag")?;
        let mut amount = [0u8; 8];
        amount.copy_from_slice(&bytes[8..16]);
        Ok(Some(Self {
            token,
            offset: u16::from_be_bytes([bytes[2], bytes[3]]),
            index: u32_at(bytes, 4),
            amount: u64::from_be_bytes(amount),
            public_key: PublicKey::from_bytes(&bytes[16..])?,
        }))
    }
}

/// A withdrawal's payout as posted: what L1 credits to its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawalRecord {
    /// The token withdrawn.
    pub token: Token,
    /// The amount, in L2 units.
    pub amount: u64,
    /// Who is paid on L1.
    pub recipient: L1Address,
}

impl WithdrawalRecord {
    /// The 32-byte used record.
    pub fn encode(&self) -> [u8; WITHDRAWAL_RECORD_BYTES] {
        let mut out = [0u8; WITHDRAWAL_RECORD_BYTES];
        out[0] = used_tag(self.token, 0);
        out[4..12].copy_from_slice(&self.amount.to_be_bytes());
        out[12..].copy_from_slice(&self.recipient.0);
        out
    }

    /// Decodes a record: `None` for an empty one.
    pub fn decode(bytes: &[u8; WITHDRAWAL_RECORD_BYTES]) -> Result<Option<Self>> {
        let Some((_, token)) = record_tag(bytes, RECORD_TOKEN)? else {
            return Ok(None);
        };
        check_zero(&bytes[1..4], "nonzero padding after a withdrawal's tag")?;
        let mut amount = [0u8; 8];
        amount.copy_from_slice(&bytes[4..12]);
        let mut recipient = [0u8; 20];
        recipient.copy_from_slice(&bytes[12..]);
        Ok(Some(Self {
            token,
            amount: u64::from_be_bytes(amount),
            recipient: L1Address(recipient),
        }))
    }
}

/// What one chunk posts: at most [`CHUNK_TRANSFERS`] signed operations,
/// [`CHUNK_NEW_ACCOUNTS`] new accounts, [`CHUNK_DEPOSITS`] deposits and
/// [`CHUNK_WITHDRAWALS`] withdrawal payouts of one partition, the unit one chunk proof
/// covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkData {
    /// The chunk's transfers and withdrawals' debits, in execution order.
    pub transfers: Vec<TransferRecord>,
    /// The accounts the chunk creates, in creation order.
    pub new_accounts: Vec<NewAccountRecord>,
    /// The deposits the chunk credits, in execution order (the queue order of this
    /// partition's deposits).
    pub deposits: Vec<DepositRecord>,
    /// The payouts of the chunk's withdrawals, in their order.
    pub withdrawals: Vec<WithdrawalRecord>,
}

/// Decodes one list of fixed-size records: used ones first, then empty ones; errors name
/// the record's kind and position.
fn decode_records<const N: usize, T>(
    bytes: &[u8],
    what: &'static str,
    decode: impl Fn(&[u8; N]) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let mut used = Vec::new();
    let mut seen_empty = false;
    for (record, bytes) in bytes.as_chunks::<N>().0.iter().enumerate() {
        let invalid = |source| Error::InvalidBatchRecord {
            what,
            record,
            source: Box::new(source),
        };
        match decode(bytes).map_err(invalid)? {
            None => seen_empty = true,
            Some(_) if seen_empty => {
                return Err(invalid(Error::MalformedBatchRecord {
                    reason: "a used record after an empty one",
                }))
            }
            Some(item) => used.push(item),
        }
    }
    Ok(used)
}

impl ChunkData {
    /// The canonical chunk: used records first, the rest zero; fails if a list exceeds
    /// its capacity ([`Error::ChunkOverCapacity`]) or a value cannot be posted.
    pub fn encode(&self) -> Result<[u8; CHUNK_DATA_BYTES]> {
        let check = |what, count, capacity| {
            if count > capacity {
                return Err(Error::ChunkOverCapacity {
                    what,
                    count,
                    capacity,
                });
            }
            Ok(())
        };
        check("transfers", self.transfers.len(), CHUNK_TRANSFERS)?;
        check("new accounts", self.new_accounts.len(), CHUNK_NEW_ACCOUNTS)?;
        check("deposits", self.deposits.len(), CHUNK_DEPOSITS)?;
        check("withdrawals", self.withdrawals.len(), CHUNK_WITHDRAWALS)?;
        self.check_withdrawal_pairs()?;
        let mut out = [0u8; CHUNK_DATA_BYTES];
        let (transfers, rest) = out.split_at_mut(TRANSFER_LIST_BYTES);
        let (accounts, rest) = rest.split_at_mut(NEW_ACCOUNT_LIST_BYTES);
        let (deposits, withdrawals) = rest.split_at_mut(DEPOSIT_LIST_BYTES);
        let transfer_slots = transfers.as_chunks_mut::<TRANSFER_RECORD_BYTES>().0;
        for (record, (slot, transfer)) in transfer_slots.iter_mut().zip(&self.transfers).enumerate()
        {
            *slot = transfer
                .encode()
                .map_err(|source| Error::InvalidBatchRecord {
                    what: "transfer",
                    record,
                    source: Box::new(source),
                })?;
        }
        let account_slots = accounts.as_chunks_mut::<NEW_ACCOUNT_RECORD_BYTES>().0;
        for (slot, account) in account_slots.iter_mut().zip(&self.new_accounts) {
            *slot = account.encode();
        }
        let deposit_slots = deposits.as_chunks_mut::<DEPOSIT_RECORD_BYTES>().0;
        for (slot, deposit) in deposit_slots.iter_mut().zip(&self.deposits) {
            *slot = deposit.encode();
        }
        let withdrawal_slots = withdrawals.as_chunks_mut::<WITHDRAWAL_RECORD_BYTES>().0;
        for (slot, withdrawal) in withdrawal_slots.iter_mut().zip(&self.withdrawals) {
            *slot = withdrawal.encode();
        }
        Ok(out)
    }

    /// Decodes a chunk, refusing anything but the canonical encoding of its records
    /// (errors name the record: [`Error::InvalidBatchRecord`]).
    pub fn decode(bytes: &[u8; CHUNK_DATA_BYTES]) -> Result<Self> {
        let (transfers, rest) = bytes.split_at(TRANSFER_LIST_BYTES);
        let (accounts, rest) = rest.split_at(NEW_ACCOUNT_LIST_BYTES);
        let (deposits, withdrawals) = rest.split_at(DEPOSIT_LIST_BYTES);
        let data = Self {
            transfers: decode_records(transfers, "transfer", TransferRecord::decode)?,
            new_accounts: decode_records(accounts, "new account", NewAccountRecord::decode)?,
            deposits: decode_records(deposits, "deposit", DepositRecord::decode)?,
            withdrawals: decode_records(withdrawals, "withdrawal", WithdrawalRecord::decode)?,
        };
        data.check_withdrawal_pairs()?;
        Ok(data)
    }

    /// The i-th withdrawal record pays the i-th withdrawal: same count, token and amount
    /// (what the chunk circuit binds), so no other bytes have a meaning.
    fn check_withdrawal_pairs(&self) -> Result<()> {
        let mut debits = self.transfers.iter().filter(|t| t.withdrawal);
        let paired = self.withdrawals.iter().all(|payout| {
            debits
                .next()
                .is_some_and(|debit| debit.token == payout.token && debit.amount == payout.amount)
        });
        if !paired || debits.next().is_some() {
            return Err(Error::MalformedBatchRecord {
                reason: "withdrawal records do not match the chunk's withdrawals",
            });
        }
        Ok(())
    }
}

/// Everything a batch posts to L1: its chunks in (partition, chunk) order, enough for
/// anyone to rebuild the L2 state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchData {
    /// The chunks, at least one; how records are split into chunks is the batcher's
    /// choice, fixed by the proofs (each chunk proof covers exactly one).
    pub chunks: Vec<ChunkData>,
}

impl BatchData {
    /// The encoded length of a batch of `chunks` chunks, `1 + chunks * CHUNK_DATA_BYTES`,
    /// for sizing batches against calldata limits.
    pub const fn encoded_len(chunks: usize) -> usize {
        1 + CHUNK_DATA_BYTES * chunks
    }

    /// The encoded chunks, in order; fails on an empty batch or an invalid chunk
    /// ([`Error::InvalidChunk`] names it).
    pub fn encode_chunks(&self) -> Result<Vec<[u8; CHUNK_DATA_BYTES]>> {
        if self.chunks.is_empty() {
            return Err(Error::EmptyBatchData);
        }
        self.chunks
            .iter()
            .enumerate()
            .map(|(chunk, data)| {
                data.encode().map_err(|source| Error::InvalidChunk {
                    chunk,
                    source: Box::new(source),
                })
            })
            .collect()
    }

    /// The canonical calldata (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let chunks = self.encode_chunks()?;
        let mut out = Vec::with_capacity(Self::encoded_len(chunks.len()));
        out.push(BATCH_DATA_VERSION);
        out.extend(chunks.iter().flatten());
        Ok(out)
    }

    /// Decodes calldata, refusing anything but the canonical encoding of a batch: another
    /// version, a length that is not `1 + k * CHUNK_DATA_BYTES` with `k >= 1`, and any
    /// chunk [`ChunkData::decode`] refuses ([`Error::InvalidChunk`] names it).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let chunks = calldata_chunks(bytes)?
            .iter()
            .enumerate()
            .map(|(chunk, data)| {
                ChunkData::decode(data).map_err(|source| Error::InvalidChunk {
                    chunk,
                    source: Box::new(source),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { chunks })
    }

    /// The commitment to the encoded batch, as the L1 contract computes it over the
    /// calldata ([`DataCommitment::of_calldata`]).
    pub fn commitment(&self) -> Result<DataCommitment> {
        Ok(DataCommitment::of_chunks(&self.encode_chunks()?))
    }
}

pub mod compact;

#[cfg(test)]
mod tests;

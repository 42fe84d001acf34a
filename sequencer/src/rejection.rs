//! Why a transfer is refused: one machine-readable reason per case, each with its HTTP
//! status, shared by admission, the API and the rejections recorded in Postgres.

use axum::http::StatusCode;

/// A refused transfer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The request is not a well-formed transfer (JSON, hex, canonical encodings).
    #[error("malformed transfer: {0}")]
    Malformed(String),
    /// The signature does not verify against the sender's key.
    #[error("the signature does not verify for the sender's key")]
    BadSignature,
    /// Signed for another rollup deployment.
    #[error("signed for chain {got}, this rollup is chain {expected}")]
    WrongChain {
        /// This rollup's chain id.
        expected: u64,
        /// The transfer's.
        got: u64,
    },
    /// The nonce was already used.
    #[error("nonce too low: the account's next nonce is {expected}")]
    NonceTooLow {
        /// The sender's pending nonce.
        expected: u32,
    },
    /// The nonce is too far ahead of the account's.
    #[error("nonce too far ahead: the account's next nonce is {expected}, at most {max_gap} ahead are held")]
    NonceTooFar {
        /// The sender's pending nonce.
        expected: u32,
        /// How far ahead transfers may wait.
        max_gap: u32,
    },
    /// Another waiting transfer of the sender already has this nonce.
    #[error("another pending transfer of this account has this nonce")]
    NonceTaken,
    /// The sender's pending balance can't pay amount plus fee.
    #[error("insufficient balance: {balance} available, {needed} needed")]
    InsufficientBalance {
        /// The sender's pending balance.
        balance: u64,
        /// Amount plus fee.
        needed: u64,
    },
    /// Amounts overflow 64 bits (amount plus fee, or the recipient's balance).
    #[error("amount overflow: {0}")]
    Overflow(String),
    /// The sender has no account.
    #[error("the sender has no account")]
    UnknownAccount,
    /// The same transfer is already pending.
    #[error("this transfer is already pending")]
    Duplicate,
    /// The mempool is full: back off and retry.
    #[error("the mempool is full, retry later")]
    MempoolFull,
    /// An amount or fee has no exact encoding in the compact L1 format.
    #[error("{what} {value} cannot be posted to L1 exactly (at most 35 significant bits for amounts, 11 for fees, times a power of ten)")]
    Unpackable {
        /// "amount" or "fee".
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A future-nonce transfer waited too long for its gap to fill.
    #[error("expired before the nonces before it arrived")]
    Expired,
}

impl Rejection {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::WrongChain { .. } => "wrong_chain",
            Rejection::NonceTooLow { .. } => "nonce_too_low",
            Rejection::NonceTooFar { .. } => "nonce_too_far",
            Rejection::NonceTaken => "nonce_taken",
            Rejection::InsufficientBalance { .. } => "insufficient_balance",
            Rejection::Overflow(_) => "amount_overflow",
            Rejection::UnknownAccount => "unknown_account",
            Rejection::Duplicate => "duplicate",
            Rejection::MempoolFull => "mempool_full",
            Rejection::Unpackable { .. } => "unpackable_amount",
            Rejection::Expired => "expired",
        }
    }

    /// The HTTP status: 429 for back-pressure, 409 for a duplicate, 422 for a well-formed
    /// transfer the state refuses, 400 for a malformed one.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::MempoolFull => StatusCode::TOO_MANY_REQUESTS,
            Rejection::Duplicate => StatusCode::CONFLICT,
            Rejection::Malformed(_) | Rejection::Unpackable { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl From<rollup_core::Error> for Rejection {
    fn from(error: rollup_core::Error) -> Self {
        use rollup_core::Error;
        match error {
            Error::InsufficientBalance { balance, needed } => {
                Rejection::InsufficientBalance { balance, needed }
            }
            Error::NonceMismatch { expected, got } if got < expected => {
                Rejection::NonceTooLow { expected }
            }
            Error::UnknownAccount { .. } => Rejection::UnknownAccount,
            Error::InvalidSignature => Rejection::BadSignature,
            error @ (Error::AmountOverflow
            | Error::BalanceOverflow { .. }
            | Error::NonceExhausted) => Rejection::Overflow(error.to_string()),
            other => Rejection::Malformed(other.to_string()),
        }
    }
}

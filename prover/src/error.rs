//! The crate's one error type.

/// Why a proof could not be produced or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// plonky2 refused to prove (an unsatisfied constraint: a wrong witness) or to verify.
    #[error("proof system: {0}")]
    Proof(#[from] anyhow::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

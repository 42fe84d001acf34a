//! From the proof the prover stored to the bytes the L1 verifier takes.
//!
//! The final job of a batch stores its wrapper proof (`prover_jobs.result`); the on-chain
//! verifier takes its own fixed layout (`prover::solidity::encode_proof`). Turning one into
//! the other needs the wrapper circuit's `CommonCircuitData` (to parse plonky2's bytes),
//! which only a process that built the circuits has, and this crate is kept independent of
//! the prover. Hence this seam: by default ([`StoredAsL1`]) settlement posts the stored
//! bytes as they are, which is right when the prover stores the verifier's layout for the
//! final job (nothing else reads that job's result); a deployment whose prover stores
//! plonky2's own bytes plugs in an encoder that holds the circuit data.

use crate::Result;

/// Turns a batch's stored final proof into the verifier's calldata layout.
pub trait ProofEncoder: Send + Sync + 'static {
    /// The `proof` argument of `commitBatch` for batch `batch`.
    fn to_l1(&self, batch: u64, stored: &[u8]) -> Result<Vec<u8>>;
}

/// The stored bytes are already in the verifier's layout.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoredAsL1;

impl ProofEncoder for StoredAsL1 {
    fn to_l1(&self, _batch: u64, stored: &[u8]) -> Result<Vec<u8>> {
        Ok(stored.to_vec())
    }
}

impl<F> ProofEncoder for F
where
    F: Fn(u64, &[u8]) -> Result<Vec<u8>> + Send + Sync + 'static,
{
    fn to_l1(&self, batch: u64, stored: &[u8]) -> Result<Vec<u8>> {
        self(batch, stored)
    }
}

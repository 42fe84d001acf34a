//! Admission: the checks a transfer or withdrawal passes before it is acknowledged.
//!
//! Stateless checks (chain id, L1-packable amounts, the signature: by far the most
//! expensive) run first, in parallel over a submission with rayon on a blocking thread.
//! Then, under the mempool lock, each transfer is admitted against the pending state, and
//! the accepted ones are handed to the journal in admission order. The caller acknowledges
//! them only once the journal has made them durable.

use std::time::Instant;

use rayon::prelude::*;
use rollup_core::{
    batch_data::{is_packable_amount, is_packable_fee},
    hash::Digest,
    transaction::SignedTransaction,
};
use tokio::sync::oneshot;

use crate::{
    journal::JournalRequest,
    mempool::{Entry, Placement},
    node::Node,
    rejection::Rejection,
};

/// The outcome of one submitted transfer.
pub type Admission = Result<(Digest, Placement), Rejection>;

/// Checks what needs no state: chain id, packable amounts, signature.
pub fn check_stateless(chain_id: u64, signed: &SignedTransaction) -> Result<(), Rejection> {
    let transaction = signed.transaction();
    if transaction.chain_id() != chain_id {
        return Err(Rejection::WrongChain {
            expected: chain_id,
            got: transaction.chain_id(),
        });
    }
    let payment = transaction.payment();
    if !is_packable_amount(payment.amount) {
        return Err(Rejection::Unpackable {
            what: "amount",
            value: payment.amount,
        });
    }
    if !is_packable_fee(payment.fee) {
        return Err(Rejection::Unpackable {
            what: "fee",
            value: payment.fee,
        });
    }
    signed.verify().map_err(|_| Rejection::BadSignature)
}

impl Node {
    /// Admits a submission and waits until its accepted transfers are durable. Returns one
    /// outcome per operation, in order; `Err` if the journal failed (nothing
    /// acknowledged).
    pub async fn submit(&self, transfers: Vec<SignedTransaction>) -> crate::Result<Vec<Admission>> {
        let chain_id = self.chain_id;
        let started = Instant::now();
        let (transfers, checks) = tokio::task::spawn_blocking(move || {
            let checks: Vec<Result<(), Rejection>> = transfers
                .par_iter()
                .map(|t| check_stateless(chain_id, t))
                .collect();
            (transfers, checks)
        })
        .await
        .map_err(|_| crate::Error::TaskStopped("signature verification"))?;
        self.metrics
            .signature_seconds
            .observe(started.elapsed().as_secs_f64());

        let (outcomes, durable) = {
            let state = self.state.read().expect("state lock");
            let mut mempool = self.mempool.lock().expect("mempool lock");
            let now = Instant::now();
            let mut accepted: Vec<Entry> = Vec::new();
            let outcomes: Vec<Admission> = transfers
                .into_iter()
                .zip(checks)
                .map(|(transfer, check)| {
                    check?;
                    let (entry, placement) = mempool.admit(&state, transfer, now)?;
                    let hash = entry.hash;
                    accepted.push(entry);
                    Ok((hash, placement))
                })
                .collect();
            self.metrics.mempool_ready.set(mempool.ready_len() as i64);
            self.metrics.mempool_future.set(mempool.future_len() as i64);
            let durable = if accepted.is_empty() {
                None
            } else {
                // Sent under the mempool lock, so the journal sees admission order.
                let (ack, durable) = oneshot::channel();
                self.journal
                    .send(JournalRequest {
                        entries: accepted,
                        ack,
                    })
                    .map_err(|_| crate::Error::TaskStopped("journal"))?;
                Some(durable)
            };
            (outcomes, durable)
        };
        if let Some(durable) = durable {
            durable
                .await
                .map_err(|_| crate::Error::TaskStopped("journal"))??;
        }
        for outcome in &outcomes {
            match outcome {
                Ok(_) => self.metrics.transfers_accepted.inc(),
                Err(rejection) => self
                    .metrics
                    .transfers_rejected
                    .with_label_values(&[rejection.reason()])
                    .inc(),
            }
        }
        Ok(outcomes)
    }
}

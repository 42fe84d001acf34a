//! The batcher: seals batches by size or time, executes them in parallel partitions and
//! stores them, and only then counts their transfers executed.
//!
//! Each round takes the next L1 deposits the settlement module has seen (consecutive, in
//! queue order, at most `max_deposits_per_batch`) and a durable prefix of the mempool's
//! ready queue (valid in order by the mempool's invariant; deposits only add funds, so
//! crediting them first keeps it valid), executes them on the state (rayon, on a blocking
//! thread), encodes its L1 calldata, and writes batch, positions, consumed deposits and
//! account states in one Postgres transaction. A failed write is retried (the state in memory is already ahead, so the
//! node can't go on without it); the transfers leave the mempool only once it succeeded.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rollup_core::{
    batch_data::{BatchData, DataCommitment},
    deposit::Deposit,
    state::State,
    transaction::Transaction,
};
use tokio_util::sync::CancellationToken;

use crate::{mempool::Entry, node::Node, store::SealedBatch, Error, Result};

/// Executes `deposits` then `entries` as batch `number` on `state` and builds what is
/// stored of it.
pub fn seal(
    state: &mut State,
    number: u64,
    deposits: &[Deposit],
    entries: &[Entry],
) -> Result<SealedBatch> {
    let transactions: Vec<Transaction> = entries
        .iter()
        .map(|e| e.transaction.transaction())
        .collect();
    let outcome = state.execute(deposits, &transactions)?;
    let data = BatchData {
        chunks: outcome
            .chunks()
            .iter()
            .map(|chunk| chunk.data())
            .collect::<rollup_core::Result<_>>()?,
    }
    .encode()?;
    Ok(SealedBatch {
        number,
        old_root: outcome.old_root,
        new_root: outcome.new_root,
        transfers: entries.iter().map(|e| e.hash).collect(),
        deposits: deposits.iter().map(|d| d.index).collect(),
        accounts: outcome.accounts,
        fees: outcome.fees,
        data_commitment: DataCommitment::of_calldata(&data)?,
        data,
    })
}

/// Runs the batcher until cancelled; returns an error only on a fatal condition.
pub async fn run(node: Arc<Node>, mut next_number: u64, cancel: CancellationToken) -> Result<()> {
    let interval = node.config.batch_interval;
    let mut next_deposit = node.store.next_deposit_index().await?;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(interval) => {},
            () = node.batch_ready.notified() => {},
        }
        expire_stale(&node).await;
        let entries = node
            .mempool
            .lock()
            .expect("mempool lock")
            .next_batch(node.config.max_batch_size);
        let deposits = match node
            .store
            .next_deposits(next_deposit, node.config.max_deposits_per_batch)
            .await
        {
            Ok(deposits) => deposits,
            Err(error) => {
                tracing::warn!(target: "sequencer::batch", %error, "reading L1 deposits failed; sealing without");
                Vec::new()
            }
        };
        if entries.is_empty() && deposits.is_empty() {
            continue;
        }

        let started = Instant::now();
        let worker = Arc::clone(&node);
        let deposit_count = deposits.len();
        let sealed = tokio::task::spawn_blocking(move || {
            let mut state = worker.state.write().expect("state lock");
            seal(&mut state, next_number, &deposits, &entries)
        })
        .await
        .map_err(|_| Error::TaskStopped("batch execution"))??;
        node.metrics
            .execution_seconds
            .observe(started.elapsed().as_secs_f64());

        let started = Instant::now();
        let mut backoff = Duration::from_millis(100);
        while let Err(error) = node.store.store_batch(&sealed).await {
            if !error.is_retryable() {
                return Err(error);
            }
            tracing::error!(target: "sequencer::batch", batch = sealed.number, %error, "storing the batch failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        node.metrics
            .store_seconds
            .observe(started.elapsed().as_secs_f64());

        let size = sealed.transfers.len();
        {
            let mut mempool = node.mempool.lock().expect("mempool lock");
            mempool.remove_executed(size);
            node.metrics.mempool_ready.set(mempool.ready_len() as i64);
        }
        node.metrics.transfers_executed.inc_by(size as u64);
        node.metrics.batches_sealed.inc();
        node.metrics.latest_batch.set(sealed.number as i64);
        node.metrics.batch_size.observe(size as f64);
        next_deposit += deposit_count as u64;
        tracing::info!(
            target: "sequencer::batch",
            batch = sealed.number,
            transfers = size,
            deposits = deposit_count,
            new_root = %sealed.new_root,
            data_bytes = sealed.data.len(),
            "batch sealed and stored"
        );
        next_number += 1;
    }
}

/// Records future-nonce transfers that waited too long as rejected.
async fn expire_stale(node: &Node) {
    let expired = node
        .mempool
        .lock()
        .expect("mempool lock")
        .expire(Instant::now());
    if expired.is_empty() {
        return;
    }
    let rows: Vec<_> = expired
        .iter()
        .map(|(e, r)| (e.hash, r.reason(), r.to_string()))
        .collect();
    for (_, rejection) in &expired {
        node.metrics
            .transfers_rejected
            .with_label_values(&[rejection.reason()])
            .inc();
    }
    if let Err(error) = node.store.reject(&rows).await {
        // They stay pending in Postgres and are re-admitted (and expire again) after a restart.
        tracing::warn!(target: "sequencer::mempool", %error, "recording expired transfers failed");
    }
}

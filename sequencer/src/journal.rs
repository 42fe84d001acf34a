//! The journal: makes acknowledged transfers durable before they are acknowledged.
//!
//! One task drains the requests admission sends (in admission order), writes whatever has
//! accumulated in one bulk statement (group commit), marks those transfers durable in the
//! mempool, then releases the waiting requests. If a write fails the task stops with the
//! error, which stops the node: nothing unwritten was acknowledged, and a restart recovers
//! every transfer that was.

use std::{sync::Arc, time::Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{mempool::Entry, node::Node, Result};

/// Transfers to make durable, and where to say when they are.
#[derive(Debug)]
pub struct JournalRequest {
    /// The accepted transfers, in admission order.
    pub entries: Vec<Entry>,
    /// Answered once they are committed.
    pub ack: oneshot::Sender<Result<()>>,
}

/// Most transfers one journal write takes.
const MAX_GROUP: usize = 16_384;

/// Runs the journal until its channel closes or a write fails.
pub async fn run(
    node: Arc<Node>,
    mut requests: mpsc::UnboundedReceiver<JournalRequest>,
    cancel: CancellationToken,
) -> Result<()> {
    loop {
        let first = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            request = requests.recv() => match request {
                Some(request) => request,
                None => return Ok(()),
            },
        };
        let mut group = vec![first];
        let mut count = group[0].entries.len();
        while count < MAX_GROUP {
            match requests.try_recv() {
                Ok(request) => {
                    count += request.entries.len();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        let entries: Vec<Entry> = group
            .iter()
            .flat_map(|r| r.entries.iter().cloned())
            .collect();
        let started = Instant::now();
        let written = node.store.insert_transfers(&entries).await;
        node.metrics
            .journal_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Err(error) = written {
            tracing::error!(target: "sequencer::journal", %error, "journal write failed: stopping");
            for request in group {
                let _ = request.ack.send(Err(crate::Error::TaskStopped("journal")));
            }
            return Err(error);
        }
        let durable_below = entries.iter().map(|e| e.seq + 1).max().unwrap_or(0);
        let ready = {
            let mut mempool = node.mempool.lock().expect("mempool lock");
            mempool.mark_durable_below(durable_below);
            mempool.ready_len()
        };
        if ready >= node.config.max_batch_size {
            node.batch_ready.notify_one();
        }
        for request in group {
            let _ = request.ack.send(Ok(()));
        }
    }
}

//! Following sealed batches and creating their proving jobs.

use std::time::Duration;

use sqlx::Row;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use rollup_core::{
    deposit::Deposit,
    genesis::Genesis,
    hash::Digest,
    schema::{deposit_from_row, transaction_from_row, DEPOSIT_COLUMNS, TRANSACTION_COLUMNS},
    state::State,
    transaction::SignedTransaction,
};

use crate::{
    circuits::{
        aggregation::tree::ProofPlan,
        chunk::{BatchWitness, ChunkParams},
    },
    queue::{JobQueue, NewJob},
    Error, Result,
};

/// A sealed batch's inputs: the L1 deposits it consumed (queue order) and its signed
/// transfers and withdrawals (batch order).
pub async fn load_batch(
    queue: &JobQueue,
    batch: u64,
) -> Result<(Vec<Deposit>, Vec<SignedTransaction>)> {
    // The column lists are constants: nothing user-supplied reaches the SQL text.
    let deposits = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DEPOSIT_COLUMNS} FROM deposits WHERE batch_number = $1 ORDER BY queue_index"
    )))
    .bind(batch as i64)
    .fetch_all(queue.pool())
    .await?
    .iter()
    .map(|row| deposit_from_row(row).map_err(Error::Corrupt))
    .collect::<Result<_>>()?;
    let transactions = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TRANSACTION_COLUMNS}
         FROM batch_transfers b JOIN transfers t ON t.hash = b.hash
         WHERE b.batch_number = $1 ORDER BY b.position"
    )))
    .bind(batch as i64)
    .fetch_all(queue.pool())
    .await?
    .iter()
    .map(|row| transaction_from_row(row).map_err(Error::Corrupt))
    .collect::<Result<_>>()?;
    Ok((deposits, transactions))
}

/// The jobs of a batch: one per node of its plan, keyed `{kind}/{node}`, each with its
/// self-contained input.
pub fn plan_jobs(witness: &BatchWitness, plan: &ProofPlan) -> Result<Vec<NewJob>> {
    let key = |id: usize| format!("{}/{id}", plan.nodes[id].kind());
    (0..plan.nodes.len())
        .map(|id| {
            let input = serde_json::to_vec(&plan.input(witness, id))
                .map_err(|e| Error::Witness(format!("encoding a job input: {e}")))?;
            Ok(NewJob::over(
                key(id),
                plan.nodes[id].kind(),
                input,
                plan.nodes[id].dependencies().into_iter().map(key),
            ))
        })
        .collect()
}

/// Follows sealed batches in order on its own copy of the state.
pub struct Planner {
    queue: JobQueue,
    params: ChunkParams,
    merge_levels: usize,
    state: State,
    next: u64,
}

impl Planner {
    /// A planner from the genesis state, caught up with every batch that already has
    /// jobs (replayed without witnesses).
    pub async fn start(queue: JobQueue, genesis: &Genesis, merge_levels: usize) -> Result<Self> {
        let mut planner = Self {
            queue,
            params: ChunkParams {
                tree: genesis.tree,
                chain_id: genesis.chain_id,
            },
            merge_levels,
            state: genesis.state()?,
            next: 1,
        };
        let planned: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(batch_number), 0) FROM prover_jobs")
                .fetch_one(planner.queue.pool())
                .await?;
        while planner.next <= planned as u64 {
            planner.replay_next().await?;
        }
        info!(target: "prover::planner", next = planner.next, "planner caught up");
        Ok(planner)
    }

    /// The next batch to plan.
    pub fn next_batch(&self) -> u64 {
        self.next
    }

    async fn stored_roots(&self, batch: u64) -> Result<Option<(Digest, Digest, Vec<u8>)>> {
        let row = sqlx::query("SELECT old_root, new_root, data FROM batches WHERE number = $1")
            .bind(batch as i64)
            .fetch_optional(self.queue.pool())
            .await?;
        row.map(|row| -> Result<_> {
            Ok((
                Digest::from_bytes(&row.try_get::<Vec<u8>, _>("old_root")?)?,
                Digest::from_bytes(&row.try_get::<Vec<u8>, _>("new_root")?)?,
                row.try_get::<Vec<u8>, _>("data")?,
            ))
        })
        .transpose()
    }

    /// Executes the next batch without proving it (its jobs exist already).
    async fn replay_next(&mut self) -> Result<()> {
        let batch = self.next;
        let (old_root, new_root, _) = self
            .stored_roots(batch)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("batch {batch} has jobs but is not stored")))?;
        let (deposits, transactions) = load_batch(&self.queue, batch).await?;
        let plain: Vec<_> = transactions.iter().map(|t| t.transaction()).collect();
        let outcome = self.state.execute(&deposits, &plain)?;
        if outcome.old_root != old_root || outcome.new_root != new_root {
            return Err(Error::Corrupt(format!(
                "batch {batch} does not replay to its stored roots"
            )));
        }
        self.next += 1;
        Ok(())
    }

    /// Plans the next batch if it is sealed; returns whether it did.
    pub async fn plan_next(&mut self) -> Result<bool> {
        let batch = self.next;
        let Some((old_root, new_root, data)) = self.stored_roots(batch).await? else {
            return Ok(false);
        };
        let has_jobs: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM prover_jobs WHERE batch_number = $1)")
                .bind(batch as i64)
                .fetch_one(self.queue.pool())
                .await?;
        if has_jobs {
            // Another prover process planned it.
            self.replay_next().await?;
            return Ok(true);
        }
        let (deposits, transactions) = load_batch(&self.queue, batch).await?;
        let params = self.params;
        let merge_levels = self.merge_levels;
        let mut state = std::mem::replace(&mut self.state, State::new(params.tree));
        let (state, planned) = tokio::task::spawn_blocking(move || {
            let planned = (|| -> Result<_> {
                let witness = BatchWitness::generate_advancing(
                    &params,
                    &mut state,
                    &deposits,
                    &transactions,
                )?;
                let partition_bits = params.tree.partition_bits() as usize;
                let plan = ProofPlan::new(&witness, partition_bits, merge_levels)?;
                let jobs = plan_jobs(&witness, &plan)?;
                Ok((witness, jobs))
            })();
            (state, planned)
        })
        .await
        .map_err(|e| Error::Witness(format!("witness generation panicked: {e}")))?;
        self.state = state;
        let (witness, jobs) = planned?;
        if witness.outcome.old_root != old_root
            || witness.outcome.new_root != new_root
            || witness.calldata != data
        {
            return Err(Error::Corrupt(format!(
                "batch {batch} does not execute to what the sequencer stored"
            )));
        }
        let created = self.queue.create_jobs(batch, &jobs).await?;
        info!(
            target: "prover::planner",
            batch,
            transfers = witness.outcome.steps.iter().flatten().count(),
            chunks = witness.chunks.len(),
            jobs = jobs.len(),
            created,
            "batch planned"
        );
        self.next += 1;
        Ok(true)
    }

    /// Plans batches as they are sealed until cancelled.
    pub async fn run(mut self, poll: Duration, cancel: CancellationToken) -> Result<()> {
        loop {
            match self.plan_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(Error::Database(error)) => {
                    warn!(target: "prover::planner", %error, "database unavailable, retrying");
                }
                Err(error) => return Err(error),
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}

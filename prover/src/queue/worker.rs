//! The worker runtime: claim a job, prove it on a blocking thread while a heartbeat keeps
//! the lease, then complete or fail it; again until cancelled.
//!
//! [`launch`] assembles a whole prover process (pool, migrations, N workers, the metrics
//! refresher and the `/metrics` server) around one [`JobExecutor`], so the `prover`
//! binary only parses its flags and picks the executor.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::postgres::PgPoolOptions;
use tokio::{net::TcpListener, sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{
    metrics::{self, QueueMetrics},
    ClaimedJob, Completion, FailOutcome, JobQueue, Lease, WorkerId,
};
use crate::{Error, Result};

/// What turns a claimed job into its result (a proof). Runs on a blocking thread: proving
/// is CPU-bound and may take minutes. An error fails the attempt (the job is retried while
/// it has attempts left); so does a panic.
pub trait JobExecutor: Send + Sync + 'static {
    /// Proves `job` from its input and its dependencies' results.
    fn prove(&self, job: &ClaimedJob) -> Result<Vec<u8>>;
}

impl<F> JobExecutor for F
where
    F: Fn(&ClaimedJob) -> Result<Vec<u8>> + Send + Sync + 'static,
{
    fn prove(&self, job: &ClaimedJob) -> Result<Vec<u8>> {
        self(job)
    }
}

/// How one worker uses the queue.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How long a claim or a heartbeat holds a job: a dead worker's job is taken over this
    /// long after its last heartbeat. Renewed every third of it.
    pub lease: Duration,
    /// How long an idle worker waits before it looks for a job again.
    pub idle_poll: Duration,
    /// The host name recorded for the worker.
    pub host: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(250),
            host: host_name(),
        }
    }
}

/// This machine's name, for the workers table.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Runs one worker until `cancel`: registers it, then claims, proves and completes jobs.
/// Database errors are logged and retried (the database may come back); only a failed
/// registration ends it with an error. On cancellation a job being proven is released
/// back to the queue at once, without counting the attempt.
pub async fn run_worker<E: JobExecutor>(
    queue: JobQueue,
    executor: Arc<E>,
    config: WorkerConfig,
    metrics: QueueMetrics,
    cancel: CancellationToken,
) -> Result<()> {
    let worker = queue
        .register_worker(&config.host, std::process::id())
        .await?;
    tracing::info!(target: "prover::worker", worker = worker.0, host = %config.host, lease = ?config.lease, "worker started");
    let (current_tx, current_rx) = watch::channel(None::<Lease>);
    let beats = cancel.child_token();
    let heartbeat = tokio::spawn(heartbeat(
        queue.clone(),
        worker,
        config.lease,
        current_rx,
        beats.clone(),
    ));

    while !cancel.is_cancelled() {
        let job = match queue.claim(worker, config.lease).await {
            Ok(Some(job)) => Arc::new(job),
            Ok(None) => {
                idle(&cancel, config.idle_poll).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(target: "prover::worker", worker = worker.0, %error, "claim failed");
                idle(&cancel, config.idle_poll.max(Duration::from_secs(1))).await;
                continue;
            }
        };
        let lease = job.lease;
        current_tx.send_replace(Some(lease));
        tracing::info!(
            target: "prover::worker",
            worker = worker.0, job = lease.job.0, batch = job.batch, key = %job.key,
            kind = %job.kind, attempt = lease.attempt, deps = job.deps.len(),
            "proving"
        );
        let started = Instant::now();
        let proving = {
            let executor = Arc::clone(&executor);
            let job = Arc::clone(&job);
            tokio::task::spawn_blocking(move || executor.prove(&job))
        };
        let outcome = tokio::select! {
            joined = proving => joined,
            () = cancel.cancelled() => {
                // The blocking thread cannot be interrupted; its result is dropped.
                match queue.release(&lease).await {
                    Ok(true) => tracing::info!(target: "prover::worker", worker = worker.0, job = lease.job.0, "stopping: job released"),
                    Ok(false) => {}
                    Err(error) => tracing::warn!(target: "prover::worker", worker = worker.0, job = lease.job.0, %error, "stopping: could not release the job; it returns when its lease expires"),
                }
                current_tx.send_replace(None);
                break;
            }
        };
        let elapsed = started.elapsed();
        let result = match outcome {
            Ok(result) => result,
            Err(joined) => Err(Error::Proof(anyhow::anyhow!(
                "executor panicked: {}",
                panic_message(joined)
            ))),
        };
        match result {
            Ok(proof) => finish(&queue, &metrics, &job, &proof, elapsed, &cancel).await,
            Err(error) => fail(&queue, &metrics, &job, &error.to_string(), &cancel).await,
        }
        current_tx.send_replace(None);
    }

    beats.cancel();
    let _ = heartbeat.await;
    if let Err(error) = queue.deregister_worker(worker).await {
        tracing::warn!(target: "prover::worker", worker = worker.0, %error, "could not record the worker's stop");
    }
    tracing::info!(target: "prover::worker", worker = worker.0, "worker stopped");
    Ok(())
}

/// Stores a proof and records it (retried on database errors: the proof is expensive).
async fn finish(
    queue: &JobQueue,
    metrics: &QueueMetrics,
    job: &ClaimedJob,
    proof: &[u8],
    elapsed: Duration,
    cancel: &CancellationToken,
) {
    let lease = &job.lease;
    let completed = retry(cancel, "storing a proof", || {
        queue.complete(lease, proof, elapsed)
    })
    .await;
    match completed {
        Some(done @ (Completion::Stored { .. } | Completion::AlreadyStored)) => {
            let made_ready = match done {
                Completion::Stored { made_ready } => made_ready,
                _ => 0,
            };
            metrics
                .jobs_done
                .with_label_values(&[job.kind.as_str()])
                .inc();
            metrics
                .proving_seconds
                .with_label_values(&[job.kind.as_str()])
                .observe(elapsed.as_secs_f64());
            tracing::info!(
                target: "prover::worker",
                worker = lease.worker.0, job = lease.job.0, batch = job.batch, key = %job.key,
                kind = %job.kind, seconds = elapsed.as_secs_f64(), bytes = proof.len(),
                made_ready, final_proof = job.is_final,
                "proved"
            );
        }
        Some(Completion::LeaseLost) => {
            metrics.leases_lost.inc();
            tracing::warn!(
                target: "prover::worker",
                worker = lease.worker.0, job = lease.job.0, key = %job.key,
                seconds = elapsed.as_secs_f64(),
                "proved, but the lease was taken over: result discarded"
            );
        }
        _ => {}
    }
}

/// Records a failed attempt.
async fn fail(
    queue: &JobQueue,
    metrics: &QueueMetrics,
    job: &ClaimedJob,
    error: &str,
    cancel: &CancellationToken,
) {
    let lease = &job.lease;
    metrics
        .attempts_failed
        .with_label_values(&[job.kind.as_str()])
        .inc();
    let outcome = retry(cancel, "recording a failure", || queue.fail(lease, error)).await;
    let (worker, id, attempt, max) = (lease.worker.0, lease.job.0, lease.attempt, job.max_attempts);
    match outcome {
        Some(FailOutcome::Retrying) => {
            tracing::warn!(target: "prover::worker", worker, job = id, key = %job.key, attempt, max, %error, "attempt failed; the job will be retried");
        }
        Some(FailOutcome::Failed) => {
            metrics
                .jobs_failed
                .with_label_values(&[job.kind.as_str()])
                .inc();
            tracing::error!(target: "prover::worker", worker, job = id, key = %job.key, attempt, %error, "job failed: out of attempts");
        }
        Some(FailOutcome::LeaseLost) => {
            metrics.leases_lost.inc();
            tracing::warn!(target: "prover::worker", worker, job = id, key = %job.key, %error, "attempt failed after its lease was taken over");
        }
        None => {}
    }
}

/// Runs a queue write until it succeeds or the worker is cancelled (`None`). The writes
/// retried here are idempotent under their lease.
async fn retry<T, F, Fut>(cancel: &CancellationToken, what: &str, mut write: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        match write().await {
            Ok(value) => return Some(value),
            Err(error) => {
                tracing::warn!(target: "prover::worker", %error, "{what} failed; retrying");
                tokio::select! {
                    () = cancel.cancelled() => return None,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Renews the worker's liveness and the lease of the job it proves, every third of the
/// lease, until cancelled.
async fn heartbeat(
    queue: JobQueue,
    worker: WorkerId,
    lease: Duration,
    current: watch::Receiver<Option<Lease>>,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(lease / 3);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(error) = queue.worker_heartbeat(worker).await {
            tracing::warn!(target: "prover::worker", worker = worker.0, %error, "worker heartbeat failed");
        }
        let held = *current.borrow();
        let Some(held) = held else { continue };
        match queue.heartbeat(&held, lease).await {
            Ok(true) => {}
            // The job may have just been completed; only a lease still current was lost.
            Ok(false) if *current.borrow() == Some(held) => {
                tracing::warn!(target: "prover::worker", worker = worker.0, job = held.job.0, "lease lost: another worker took the job over");
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(target: "prover::worker", worker = worker.0, job = held.job.0, %error, "lease renewal failed");
            }
        }
    }
}

async fn idle(cancel: &CancellationToken, wait: Duration) {
    tokio::select! {
        () = cancel.cancelled() => {}
        () = tokio::time::sleep(wait) => {}
    }
}

fn panic_message(joined: tokio::task::JoinError) -> String {
    match joined.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into()),
        Err(joined) => joined.to_string(),
    }
}

/// A prover process: what the `prover` binary's flags set.
#[derive(Clone, Debug)]
pub struct ProverConfig {
    /// Postgres, shared with the sequencer and every other worker.
    pub database_url: String,
    /// Workers in this process (each proves one job at a time; a proof uses every core
    /// through rayon, so one per machine is usually right).
    pub workers: usize,
    /// Lease, idle poll and host of each worker.
    pub worker: WorkerConfig,
    /// Where to serve `GET /metrics` (none: no server).
    pub metrics_listen: Option<SocketAddr>,
    /// How often the queue-wide gauges are read from Postgres.
    pub metrics_refresh: Duration,
}

impl Default for ProverConfig {
    fn default() -> Self {
        Self {
            database_url: "postgres://postgres:postgres@127.0.0.1:5432/postgres".into(),
            workers: 1,
            worker: WorkerConfig::default(),
            metrics_listen: None,
            metrics_refresh: Duration::from_secs(5),
        }
    }
}

/// Runs a prover process until `cancel`: connects and migrates the database, starts the
/// workers around `executor`, the metrics refresher and the metrics server. Returns when
/// cancelled (after the workers released their jobs), or with the error of a critical
/// task that stopped.
pub async fn launch<E: JobExecutor>(
    config: ProverConfig,
    executor: E,
    cancel: CancellationToken,
) -> Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(config.workers as u32 * 2 + 2)
        .connect(&config.database_url)
        .await?;
    rollup_core::schema::migrate(&pool).await?;
    let queue = JobQueue::new(pool);
    let metrics = QueueMetrics::new();
    let executor = Arc::new(executor);
    let cancel = cancel.child_token();
    let mut tasks: JoinSet<(&'static str, Result<()>)> = JoinSet::new();

    for _ in 0..config.workers.max(1) {
        let task = run_worker(
            queue.clone(),
            Arc::clone(&executor),
            config.worker.clone(),
            metrics.clone(),
            cancel.clone(),
        );
        tasks.spawn(async move { ("worker", task.await) });
    }
    {
        let task = metrics::refresh(
            queue.clone(),
            metrics.clone(),
            config.metrics_refresh,
            config.worker.lease * 2,
            cancel.clone(),
        );
        tasks.spawn(async move {
            task.await;
            ("metrics refresher", Ok(()))
        });
    }
    if let Some(address) = config.metrics_listen {
        let listener = TcpListener::bind(address).await?;
        tracing::info!(target: "prover::metrics", address = %listener.local_addr()?, "serving /metrics");
        let app = metrics::router(metrics.clone());
        let stop = cancel.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            ("metrics server", served.map_err(Error::from))
        });
    }

    let mut outcome = Ok(());
    while let Some(joined) = tasks.join_next().await {
        let stopped = match joined {
            Ok((_, Ok(()))) if cancel.is_cancelled() => continue,
            Ok((name, Ok(()))) => Error::Proof(anyhow::anyhow!("critical task {name} stopped")),
            Ok((name, Err(error))) => {
                tracing::error!(target: "prover::worker", task = name, %error, "critical task failed");
                error
            }
            Err(joined) => Error::Proof(anyhow::anyhow!("a prover task panicked: {joined}")),
        };
        if outcome.is_ok() {
            outcome = Err(stopped);
        }
        cancel.cancel();
    }
    outcome
}

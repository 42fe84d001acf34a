//! The proving job queue: every proof a sealed batch needs, as a graph of jobs in Postgres
//! that any number of workers take, prove and complete.
//!
//! ## Architecture
//! - A batch's jobs are created at once ([`JobQueue::create_jobs`]) from a plan that names
//!   each job and the jobs it aggregates. A job with nothing to wait for is `ready`; the
//!   others are `pending` until their last dependency is done.
//! - A worker [claims](JobQueue::claim) one ready job (or a running one whose lease
//!   expired) with `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait for each
//!   other nor get the same job. The claim gives a [`Lease`]: the job, the worker and the
//!   attempt number, a fencing token that every later write checks. The worker renews it
//!   ([`JobQueue::heartbeat`]) while it proves.
//! - [`JobQueue::complete`] stores the proof only under a lease still held, and in the
//!   same transaction makes the jobs waiting for it ready; [`JobQueue::fail`] sends the
//!   job back to the queue until it runs out of attempts. So a worker that dies loses
//!   nothing but its attempt, and no job is ever stored twice with different results.
//! - The job whose proof nothing else consumes is the batch's *final* job: when it is done,
//!   the batch is proven ([`JobQueue::batch_status`], [`JobQueue::batch_proof`]).
//!
//! The queue does not know what a job proves: `kind` and `input` are the executor's
//! business ([`worker::JobExecutor`]). [`worker`] runs the claim → prove → complete loop,
//! [`metrics`] exposes the queue to Prometheus. Schema: `migrations/0002_prover_jobs.sql`.

pub mod metrics;
pub mod worker;

#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    time::Duration,
};

use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::{Error, Result};

/// Attempts a job gets by default before it is marked failed.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// A job's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

/// A registered worker's row id: the owner a lease names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobStatus {
    /// Waits for dependencies.
    Pending,
    /// Can be claimed.
    Ready,
    /// Leased to a worker.
    Running,
    /// Its result is stored.
    Done,
    /// Out of attempts; its last error is kept.
    Failed,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Ready,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
    ];

    /// The name stored in the database and shown in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Ready => "ready",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| Error::Corrupt(format!("job status {name:?}")))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One job of a batch's plan, as [`JobQueue::create_jobs`] takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    /// Unique within the batch (e.g. `chunk/3/0`): dependencies name jobs by it.
    pub key: String,
    /// What it proves (e.g. `chunk`, `merge`, `wrap`): the executor dispatches on it and
    /// metrics are labelled by it.
    pub kind: String,
    /// The job's own input, opaque to the queue.
    pub input: Vec<u8>,
    /// Keys of the jobs whose results it consumes, in the order the executor receives
    /// them. Each must come earlier in the plan, which keeps the graph acyclic.
    pub deps: Vec<String>,
}

impl NewJob {
    /// A job without dependencies.
    pub fn leaf(key: impl Into<String>, kind: impl Into<String>, input: Vec<u8>) -> Self {
        Self {
            key: key.into(),
            kind: kind.into(),
            input,
            deps: Vec::new(),
        }
    }

    /// A job that consumes the results of `deps`.
    pub fn over<S: Into<String>>(
        key: impl Into<String>,
        kind: impl Into<String>,
        input: Vec<u8>,
        deps: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            key: key.into(),
            kind: kind.into(),
            input,
            deps: deps.into_iter().map(Into::into).collect(),
        }
    }
}

/// The right to work on a job: valid while the job is running under this owner and this
/// attempt. A worker whose lease expired and was claimed again holds a stale `Lease`, and
/// every write through it is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The worker holding it.
    pub worker: WorkerId,
    /// The attempt (1 for the first claim): the fencing token.
    pub attempt: u32,
}

/// The result of a job this one consumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepResult {
    /// The dependency's key.
    pub key: String,
    /// Its kind.
    pub kind: String,
    /// Its stored result (a proof).
    pub result: Vec<u8>,
}

/// A claimed job: everything an executor needs to prove it.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// The lease to renew and to complete or fail it with.
    pub lease: Lease,
    /// Its batch.
    pub batch: u64,
    /// Its key within the batch.
    pub key: String,
    /// What it proves.
    pub kind: String,
    /// Its own input.
    pub input: Vec<u8>,
    /// The results of its dependencies, in the plan's order.
    pub deps: Vec<DepResult>,
    /// Whether its result is the batch's proof.
    pub is_final: bool,
    /// The attempts it gets in all.
    pub max_attempts: u32,
}

/// What [`JobQueue::complete`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The result is stored; `made_ready` jobs that waited for it can now be claimed.
    Stored {
        /// Dependents whose last dependency this was.
        made_ready: u32,
    },
    /// The same lease had already stored this same result (a retried call).
    AlreadyStored,
    /// The lease is no longer held (it expired and the job was claimed again, or the job
    /// ended otherwise): nothing was written.
    LeaseLost,
}

/// What [`JobQueue::fail`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    /// The job is ready again for another attempt.
    Retrying,
    /// The job ran out of attempts and is marked failed.
    Failed,
    /// The lease is no longer held: nothing was written.
    LeaseLost,
}

/// A batch's proving progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchProgress {
    /// The batch.
    pub batch: u64,
    /// Jobs in all.
    pub jobs: u32,
    /// Jobs waiting for dependencies.
    pub pending: u32,
    /// Jobs ready to be claimed.
    pub ready: u32,
    /// Jobs being proven.
    pub running: u32,
    /// Jobs done.
    pub done: u32,
    /// Jobs out of attempts: the batch cannot be proven until they are requeued.
    pub failed: u32,
    /// Whether the final proof is stored.
    pub proven: bool,
}

/// A job that ran out of attempts, for the API and operators.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FailedJob {
    /// Its id.
    pub id: i64,
    /// Its batch.
    pub batch: u64,
    /// Its key.
    pub key: String,
    /// Its kind.
    pub kind: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error.
    pub error: String,
    /// When it was marked failed (RFC 3339, UTC).
    pub failed_at: String,
}

/// A worker that renewed its heartbeat recently.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WorkerInfo {
    /// Its id.
    pub id: i64,
    /// Its host.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it registered (RFC 3339, UTC).
    pub started_at: String,
    /// Seconds since its last heartbeat.
    pub heartbeat_age_seconds: f64,
    /// Jobs it is running now.
    pub running_jobs: u32,
}

/// Queue depth: jobs of one kind in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Depth {
    /// The kind.
    pub kind: String,
    /// The status (never `done`: done jobs are history, not depth).
    pub status: JobStatus,
    /// How many.
    pub jobs: u64,
}

/// The job queue over a migrated Postgres pool: cheap to clone, shared by every worker of
/// a process.
#[derive(Clone, Debug)]
pub struct JobQueue {
    db: PgPool,
    max_attempts: u32,
}

/// Seconds as Postgres' `make_interval` takes them.
fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl JobQueue {
    /// Wraps a migrated pool; jobs get [`DEFAULT_MAX_ATTEMPTS`].
    pub fn new(db: PgPool) -> Self {
        Self {
            db,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Sets the attempts each job created from now on gets before it is marked failed.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// The pool (health checks).
    pub fn pool(&self) -> &PgPool {
        &self.db
    }

    /// Creates a batch's jobs and their dependencies in one transaction. Idempotent: if
    /// the batch has jobs already, nothing changes (whatever state they are in) and it
    /// returns `false`, provided the stored plan has the same keys, kinds and
    /// dependencies; a different plan is refused. Returns `true` when it created them.
    ///
    /// The plan must be in dependency order (each job after the jobs it consumes) and end
    /// in exactly one final job, which nothing consumes: its result is the batch's proof.
    pub async fn create_jobs(&self, batch: u64, plan: &[NewJob]) -> Result<bool> {
        let is_final = validate_plan(batch, plan)?;
        let mut tx = self.db.begin().await?;
        // Serialises concurrent creators of the same batch without blocking the
        // sequencer's foreign-key checks on the row (those take KEY SHARE).
        let locked = sqlx::query("SELECT number FROM batches WHERE number = $1 FOR NO KEY UPDATE")
            .bind(batch as i64)
            .fetch_optional(&mut *tx)
            .await?;
        if locked.is_none() {
            return Err(Error::UnknownBatch(batch));
        }
        let stored = stored_plan(&mut tx, batch).await?;
        if !stored.is_empty() {
            let wanted: BTreeMap<String, (String, Vec<String>)> = plan
                .iter()
                .map(|job| (job.key.clone(), (job.kind.clone(), job.deps.clone())))
                .collect();
            if stored != wanted {
                return Err(Error::InvalidPlan {
                    batch,
                    reason: format!(
                        "the batch already has a different plan of {} jobs stored",
                        stored.len()
                    ),
                });
            }
            tx.rollback().await?;
            return Ok(false);
        }

        let keys: Vec<&str> = plan.iter().map(|job| job.key.as_str()).collect();
        let kinds: Vec<&str> = plan.iter().map(|job| job.kind.as_str()).collect();
        let inputs: Vec<&[u8]> = plan.iter().map(|job| job.input.as_slice()).collect();
        let pending: Vec<i32> = plan.iter().map(|job| job.deps.len() as i32).collect();
        let rows = sqlx::query(
            "INSERT INTO prover_jobs
                 (batch_number, kind, job_key, input, is_final, status, pending_deps, max_attempts)
             SELECT $1, t.kind, t.job_key, t.input, t.is_final,
                    CASE WHEN t.pending_deps = 0 THEN 'ready' ELSE 'pending' END,
                    t.pending_deps, $2
             FROM UNNEST($3::text[], $4::text[], $5::bytea[], $6::boolean[], $7::integer[])
                  AS t(kind, job_key, input, is_final, pending_deps)
             RETURNING id, job_key",
        )
        .bind(batch as i64)
        .bind(self.max_attempts as i32)
        .bind(&kinds)
        .bind(&keys)
        .bind(&inputs)
        .bind(&is_final)
        .bind(&pending)
        .fetch_all(&mut *tx)
        .await?;
        let ids: HashMap<String, i64> = rows
            .into_iter()
            .map(|row| (row.get("job_key"), row.get("id")))
            .collect();

        let (mut job_ids, mut dep_ids, mut positions) = (Vec::new(), Vec::new(), Vec::new());
        for job in plan {
            for (position, dep) in job.deps.iter().enumerate() {
                job_ids.push(ids[&job.key]);
                dep_ids.push(ids[dep]);
                positions.push(position as i32);
            }
        }
        sqlx::query(
            "INSERT INTO prover_job_deps (job_id, dep_id, position)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::integer[])",
        )
        .bind(&job_ids)
        .bind(&dep_ids)
        .bind(&positions)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(target: "prover::queue", batch, jobs = plan.len(), "created proving jobs");
        Ok(true)
    }

    /// Claims one job for `worker`: the oldest batch's first ready job, or a running job
    /// whose lease expired (its worker died or stalled). Sets a lease of `lease` from now
    /// and counts the attempt. A job whose lease expired on its last attempt is marked
    /// failed instead of being claimed. Returns `None` when nothing can be claimed.
    pub async fn claim(&self, worker: WorkerId, lease: Duration) -> Result<Option<ClaimedJob>> {
        let mut tx = self.db.begin().await?;
        let id: i64 = loop {
            let candidate = sqlx::query(
                "SELECT id, status, attempts, max_attempts FROM prover_jobs
                 WHERE status = 'ready' OR (status = 'running' AND lease_expires_at < now())
                 ORDER BY batch_number, id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = candidate else {
                tx.commit().await?;
                return Ok(None);
            };
            let id: i64 = row.get("id");
            let expired = row.get::<&str, _>("status") == "running";
            if expired && row.get::<i32, _>("attempts") >= row.get::<i32, _>("max_attempts") {
                sqlx::query(
                    "UPDATE prover_jobs
                     SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
                         last_error = format('lease of worker %s expired on the last of %s attempts',
                                             lease_owner, attempts)
                     WHERE id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tracing::warn!(target: "prover::queue", job = id, "lease expired on the last attempt: job failed");
                continue;
            }
            if expired {
                tracing::warn!(target: "prover::queue", job = id, worker = worker.0, "taking over a job whose lease expired");
            }
            break id;
        };
        let row = sqlx::query(
            "UPDATE prover_jobs
             SET status = 'running', lease_owner = $2,
                 lease_expires_at = now() + make_interval(secs => $3),
                 attempts = attempts + 1, started_at = now(),
                 last_error = CASE WHEN status = 'running'
                                   THEN format('lease of worker %s expired', lease_owner)
                                   ELSE last_error END
             WHERE id = $1
             RETURNING batch_number, job_key, kind, input, is_final, attempts, max_attempts",
        )
        .bind(id)
        .bind(worker.0)
        .bind(secs(lease))
        .fetch_one(&mut *tx)
        .await?;
        let deps = sqlx::query(
            "SELECT c.job_key, c.kind, c.result FROM prover_job_deps d
             JOIN prover_jobs c ON c.id = d.dep_id
             WHERE d.job_id = $1
             ORDER BY d.position",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|dep| {
            let key: String = dep.get("job_key");
            let result: Option<Vec<u8>> = dep.get("result");
            let result = result.ok_or_else(|| {
                Error::Corrupt(format!(
                    "job {id} is claimable but its dependency {key} has no result"
                ))
            })?;
            Ok(DepResult {
                key,
                kind: dep.get("kind"),
                result,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(ClaimedJob {
            lease: Lease {
                job: JobId(id),
                worker,
                attempt: row.get::<i32, _>("attempts") as u32,
            },
            batch: row.get::<i64, _>("batch_number") as u64,
            key: row.get("job_key"),
            kind: row.get("kind"),
            input: row.get("input"),
            deps,
            is_final: row.get("is_final"),
            max_attempts: row.get::<i32, _>("max_attempts") as u32,
        }))
    }

    /// Extends a lease to `lease` from now, if it is still held. Returns whether it is: a
    /// worker that gets `false` has lost the job and its result will be refused.
    pub async fn heartbeat(&self, held: &Lease, lease: Duration) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE prover_jobs SET lease_expires_at = now() + make_interval(secs => $4)
             WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3",
        )
        .bind(held.job.0)
        .bind(held.worker.0)
        .bind(held.attempt as i32)
        .bind(secs(lease))
        .execute(&self.db)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Stores a job's result, if the lease is still held, marks it done and makes ready
    /// the jobs for which it was the last dependency, all in one transaction. A result is
    /// written at most once: a stale lease, or a job already done, writes nothing.
    /// `proving` is the time the executor spent, kept for the record.
    pub async fn complete(
        &self,
        held: &Lease,
        result: &[u8],
        proving: Duration,
    ) -> Result<Completion> {
        let mut tx = self.db.begin().await?;
        let stored = sqlx::query(
            "UPDATE prover_jobs
             SET status = 'done', result = $4, finished_at = now(), proving_seconds = $5,
                 lease_expires_at = NULL
             WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3",
        )
        .bind(held.job.0)
        .bind(held.worker.0)
        .bind(held.attempt as i32)
        .bind(result)
        .bind(proving.as_secs_f64())
        .execute(&mut *tx)
        .await?;
        if stored.rows_affected() == 0 {
            let same: Option<bool> = sqlx::query_scalar(
                "SELECT status = 'done' AND lease_owner = $2 AND attempts = $3 AND result = $4
                 FROM prover_jobs WHERE id = $1",
            )
            .bind(held.job.0)
            .bind(held.worker.0)
            .bind(held.attempt as i32)
            .bind(result)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(if same == Some(true) {
                Completion::AlreadyStored
            } else {
                Completion::LeaseLost
            });
        }
        // Dependents are locked in id order, so two completions that share dependents
        // cannot deadlock.
        let statuses: Vec<String> = sqlx::query_scalar(
            "WITH waiting AS (
                 SELECT j.id FROM prover_jobs j
                 JOIN prover_job_deps d ON d.job_id = j.id
                 WHERE d.dep_id = $1
                 ORDER BY j.id
                 FOR UPDATE OF j
             )
             UPDATE prover_jobs j
             SET pending_deps = j.pending_deps - 1,
                 status = CASE WHEN j.pending_deps = 1 THEN 'ready' ELSE j.status END
             FROM waiting
             WHERE j.id = waiting.id AND j.status = 'pending'
             RETURNING j.status",
        )
        .bind(held.job.0)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Completion::Stored {
            made_ready: statuses.iter().filter(|status| *status == "ready").count() as u32,
        })
    }

    /// Records a failed attempt under a held lease: the job goes back to the queue if it
    /// has attempts left, else it is marked failed with `error` (which stays visible in
    /// [`failed_jobs`](Self::failed_jobs)). Jobs waiting for a failed job stay pending.
    pub async fn fail(&self, held: &Lease, error: &str) -> Result<FailOutcome> {
        let status: Option<String> = sqlx::query_scalar(
            "UPDATE prover_jobs
             SET status = CASE WHEN attempts < max_attempts THEN 'ready' ELSE 'failed' END,
                 lease_owner = CASE WHEN attempts < max_attempts THEN NULL ELSE lease_owner END,
                 finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
                 lease_expires_at = NULL, last_error = $4
             WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3
             RETURNING status",
        )
        .bind(held.job.0)
        .bind(held.worker.0)
        .bind(held.attempt as i32)
        .bind(error)
        .fetch_optional(&self.db)
        .await?;
        Ok(match status.as_deref() {
            None => FailOutcome::LeaseLost,
            Some("ready") => FailOutcome::Retrying,
            Some(_) => FailOutcome::Failed,
        })
    }

    /// Gives a held job back without counting the attempt (a worker shutting down in the
    /// middle of a proof), so another worker takes it at once instead of after the lease
    /// expires. Returns whether the lease was still held.
    pub async fn release(&self, held: &Lease) -> Result<bool> {
        let released = sqlx::query(
            "UPDATE prover_jobs
             SET status = 'ready', attempts = attempts - 1, lease_owner = NULL,
                 lease_expires_at = NULL
             WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3",
        )
        .bind(held.job.0)
        .bind(held.worker.0)
        .bind(held.attempt as i32)
        .execute(&self.db)
        .await?;
        Ok(released.rows_affected() == 1)
    }

    /// Gives a batch's failed jobs a fresh set of attempts (after the cause was fixed).
    /// Returns how many were requeued.
    pub async fn requeue_failed(&self, batch: u64) -> Result<u64> {
        let requeued = sqlx::query(
            "UPDATE prover_jobs
             SET status = 'ready', attempts = 0, lease_owner = NULL, finished_at = NULL
             WHERE batch_number = $1 AND status = 'failed'",
        )
        .bind(batch as i64)
        .execute(&self.db)
        .await?;
        Ok(requeued.rows_affected())
    }

    /// Registers a worker process; its heartbeat must then be renewed with
    /// [`worker_heartbeat`](Self::worker_heartbeat) for it to count as live.
    pub async fn register_worker(&self, host: &str, pid: u32) -> Result<WorkerId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO prover_workers (host, pid) VALUES ($1, $2) RETURNING id",
        )
        .bind(host)
        .bind(pid as i32)
        .fetch_one(&self.db)
        .await?;
        Ok(WorkerId(id))
    }

    /// Records that a worker is alive.
    pub async fn worker_heartbeat(&self, worker: WorkerId) -> Result<()> {
        sqlx::query("UPDATE prover_workers SET last_heartbeat = now() WHERE id = $1")
            .bind(worker.0)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Records that a worker stopped cleanly (it no longer counts as live).
    pub async fn deregister_worker(&self, worker: WorkerId) -> Result<()> {
        sqlx::query("UPDATE prover_workers SET stopped_at = now() WHERE id = $1")
            .bind(worker.0)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Workers that have not stopped and renewed their heartbeat within `window`.
    pub async fn live_workers(&self, window: Duration) -> Result<Vec<WorkerInfo>> {
        let rows = sqlx::query(
            "SELECT w.id, w.host, w.pid,
                    to_char(w.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS started_at,
                    extract(epoch FROM now() - w.last_heartbeat)::float8 AS age,
                    (SELECT count(*) FROM prover_jobs j
                     WHERE j.status = 'running' AND j.lease_owner = w.id) AS running
             FROM prover_workers w
             WHERE w.stopped_at IS NULL
               AND w.last_heartbeat > now() - make_interval(secs => $1)
             ORDER BY w.id",
        )
        .bind(secs(window))
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| WorkerInfo {
                id: row.get("id"),
                host: row.get("host"),
                pid: row.get::<i32, _>("pid") as u32,
                started_at: row.get("started_at"),
                heartbeat_age_seconds: row.get("age"),
                running_jobs: count(row.get("running")),
            })
            .collect())
    }

    /// Jobs not done, per kind and status: the queue's depth.
    pub async fn depth(&self) -> Result<Vec<Depth>> {
        let rows = sqlx::query(
            "SELECT kind, status, count(*) AS jobs FROM prover_jobs
             WHERE status <> 'done'
             GROUP BY kind, status
             ORDER BY kind, status",
        )
        .fetch_all(&self.db)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Depth {
                    kind: row.get("kind"),
                    status: JobStatus::parse(row.get("status"))?,
                    jobs: row.get::<i64, _>("jobs") as u64,
                })
            })
            .collect()
    }

    /// A batch's progress, or `None` if it has no jobs.
    pub async fn batch_status(&self, batch: u64) -> Result<Option<BatchProgress>> {
        let row = sqlx::query(
            "SELECT count(*) AS jobs,
                    count(*) FILTER (WHERE status = 'pending') AS pending,
                    count(*) FILTER (WHERE status = 'ready') AS ready,
                    count(*) FILTER (WHERE status = 'running') AS running,
                    count(*) FILTER (WHERE status = 'done') AS done,
                    count(*) FILTER (WHERE status = 'failed') AS failed,
                    coalesce(bool_or(is_final AND status = 'done'), false) AS proven
             FROM prover_jobs WHERE batch_number = $1",
        )
        .bind(batch as i64)
        .fetch_one(&self.db)
        .await?;
        let jobs = count(row.get("jobs"));
        if jobs == 0 {
            return Ok(None);
        }
        Ok(Some(BatchProgress {
            batch,
            jobs,
            pending: count(row.get("pending")),
            ready: count(row.get("ready")),
            running: count(row.get("running")),
            done: count(row.get("done")),
            failed: count(row.get("failed")),
            proven: row.get("proven"),
        }))
    }

    /// The batch's proof (its final job's result), once stored.
    pub async fn batch_proof(&self, batch: u64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT result FROM prover_jobs
             WHERE batch_number = $1 AND is_final AND status = 'done'",
        )
        .bind(batch as i64)
        .fetch_optional(&self.db)
        .await?
        .flatten())
    }

    /// Jobs out of attempts, newest first, with their last error.
    pub async fn failed_jobs(&self, limit: u32) -> Result<Vec<FailedJob>> {
        let rows = sqlx::query(
            "SELECT id, batch_number, job_key, kind, attempts, coalesce(last_error, '') AS error,
                    to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS failed_at
             FROM prover_jobs WHERE status = 'failed'
             ORDER BY finished_at DESC, id DESC
             LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| FailedJob {
                id: row.get("id"),
                batch: row.get::<i64, _>("batch_number") as u64,
                key: row.get("job_key"),
                kind: row.get("kind"),
                attempts: row.get::<i32, _>("attempts") as u32,
                error: row.get("error"),
                failed_at: row
                    .get::<Option<String>, _>("failed_at")
                    .unwrap_or_default(),
            })
            .collect())
    }
}

/// Checks a plan and returns, per job, whether it is the final one.
fn validate_plan(batch: u64, plan: &[NewJob]) -> Result<Vec<bool>> {
    let invalid = |reason: String| Error::InvalidPlan { batch, reason };
    if plan.is_empty() {
        return Err(invalid("no jobs".into()));
    }
    let mut seen = HashSet::new();
    let mut consumed = HashSet::new();
    for job in plan {
        if job.key.is_empty() || job.kind.is_empty() {
            return Err(invalid("a job has an empty key or kind".into()));
        }
        let mut own = HashSet::new();
        for dep in &job.deps {
            if !seen.contains(dep.as_str()) {
                return Err(invalid(format!(
                    "job {} depends on {dep}, which is not an earlier job of the plan",
                    job.key
                )));
            }
            if !own.insert(dep.as_str()) {
                return Err(invalid(format!("job {} depends on {dep} twice", job.key)));
            }
            consumed.insert(dep.as_str());
        }
        if !seen.insert(job.key.as_str()) {
            return Err(invalid(format!("duplicate job key {}", job.key)));
        }
    }
    let is_final: Vec<bool> = plan
        .iter()
        .map(|job| !consumed.contains(job.key.as_str()))
        .collect();
    let finals = is_final.iter().filter(|&&f| f).count();
    if finals != 1 {
        return Err(invalid(format!(
            "{finals} jobs are consumed by no other job; a plan ends in exactly one final proof"
        )));
    }
    Ok(is_final)
}

/// The plan stored for a batch: key → (kind, dependency keys in order).
async fn stored_plan(
    tx: &mut Transaction<'_, Postgres>,
    batch: u64,
) -> Result<BTreeMap<String, (String, Vec<String>)>> {
    let rows = sqlx::query(
        "SELECT j.job_key, j.kind,
                coalesce(array_agg(c.job_key ORDER BY d.position)
                         FILTER (WHERE c.job_key IS NOT NULL), '{}') AS deps
         FROM prover_jobs j
         LEFT JOIN prover_job_deps d ON d.job_id = j.id
         LEFT JOIN prover_jobs c ON c.id = d.dep_id
         WHERE j.batch_number = $1
         GROUP BY j.id, j.job_key, j.kind",
    )
    .bind(batch as i64)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get("job_key"), (row.get("kind"), row.get("deps"))))
        .collect())
}

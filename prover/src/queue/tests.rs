//! The job queue and the worker runtime against a real Postgres (each test gets its own
//! database from `#[sqlx::test]`).
//!
//! The executor used here hashes (Poseidon) a job's kind, input and its dependencies'
//! results, so a batch's final result depends on every job having received exactly its
//! children's results, in order: the queue is checked end to end without a prover.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use plonky2::field::types::Field;
use rollup_core::{field::F, hash::hash_elements};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    metrics::{refresh_once, QueueMetrics},
    worker::{run_worker, WorkerConfig},
    *,
};

const LONG: Duration = Duration::from_secs(60);

async fn seed_batch(db: &PgPool, number: u64) {
    sqlx::query(
        "INSERT INTO batches (number, old_root, new_root, data_commitment, data, transfer_count, fees)
         VALUES ($1, $2, $2, $2, $3, 0, 0)",
    )
    .bind(number as i64)
    .bind(vec![0u8; 32])
    .bind(vec![2u8])
    .execute(db)
    .await
    .unwrap();
}

/// The shape of a batch's proof tree: chunks, merged pairwise (a lone right child is
/// absent), then one wrap job.
fn tree_plan(chunks: usize) -> Vec<NewJob> {
    let mut plan: Vec<NewJob> = (0..chunks)
        .map(|i| {
            NewJob::leaf(
                format!("chunk/{i}"),
                "chunk",
                format!("input {i}").into_bytes(),
            )
        })
        .collect();
    let mut level: Vec<String> = plan.iter().map(|job| job.key.clone()).collect();
    let mut height = 1;
    while level.len() > 1 {
        let mut next = Vec::new();
        for (i, pair) in level.chunks(2).enumerate() {
            let key = format!("merge/{height}/{i}");
            plan.push(NewJob::over(
                &key,
                "merge",
                vec![height as u8],
                pair.to_vec(),
            ));
            next.push(key);
        }
        level = next;
        height += 1;
    }
    plan.push(NewJob::over("wrap", "wrap", b"wrap".to_vec(), level));
    plan
}

/// What the test executor computes: Poseidon over the kind, the input and the children's
/// results.
fn digest(kind: &str, input: &[u8], children: &[&[u8]]) -> Vec<u8> {
    let mut elements: Vec<F> = Vec::new();
    for part in std::iter::once(kind.as_bytes())
        .chain(std::iter::once(input))
        .chain(children.iter().copied())
    {
        elements.push(F::from_canonical_u64(part.len() as u64));
        elements.extend(part.iter().map(|&b| F::from_canonical_u8(b)));
    }
    hash_elements(&elements).to_bytes().to_vec()
}

fn prove(job: &ClaimedJob) -> Vec<u8> {
    let children: Vec<&[u8]> = job.deps.iter().map(|dep| dep.result.as_slice()).collect();
    digest(&job.kind, &job.input, &children)
}

/// The final result computed without the queue.
fn expected_proof(plan: &[NewJob]) -> Vec<u8> {
    let mut results: HashMap<&str, Vec<u8>> = HashMap::new();
    for job in plan {
        let children: Vec<&[u8]> = job
            .deps
            .iter()
            .map(|d| results[d.as_str()].as_slice())
            .collect();
        let result = digest(&job.kind, &job.input, &children);
        results.insert(&job.key, result);
    }
    results.remove(plan.last().unwrap().key.as_str()).unwrap()
}

async fn worker(queue: &JobQueue, name: &str) -> WorkerId {
    queue.register_worker(name, 1).await.unwrap()
}

async fn claim_all(queue: &JobQueue, worker: WorkerId) -> Vec<ClaimedJob> {
    let mut jobs = Vec::new();
    while let Some(job) = queue.claim(worker, LONG).await.unwrap() {
        jobs.push(job);
    }
    jobs
}

async fn job_row(db: &PgPool, key: &str) -> (String, i32, i32, Option<Vec<u8>>) {
    sqlx::query_as(
        "SELECT status, pending_deps, attempts, result FROM prover_jobs WHERE job_key = $1",
    )
    .bind(key)
    .fetch_one(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_dependencies_make_jobs_ready_in_order(db: PgPool) {
    seed_batch(&db, 1).await;
    let queue = JobQueue::new(db.clone());
    let plan = tree_plan(4);
    assert!(queue.create_jobs(1, &plan).await.unwrap());
    let w = worker(&queue, "a").await;

    let metrics = QueueMetrics::new();
    refresh_once(&queue, &metrics, LONG, &mut BTreeSet::new())
        .await
        .unwrap();
    let depth =
        |kind: &str, status: &str| metrics.queue_depth.with_label_values(&[kind, status]).get();
    assert_eq!(depth("chunk", "ready"), 4);
    assert_eq!(depth("merge", "pending"), 3);
    assert_eq!(depth("wrap", "pending"), 1);
    assert_eq!(metrics.live_workers.get(), 1);

    // Only the chunks can be claimed, oldest first.
    let chunks = claim_all(&queue, w).await;
    let keys: Vec<&str> = chunks.iter().map(|job| job.key.as_str()).collect();
    assert_eq!(keys, ["chunk/0", "chunk/1", "chunk/2", "chunk/3"]);
    assert!(chunks
        .iter()
        .all(|job| job.deps.is_empty() && job.lease.attempt == 1));
    let progress = queue.batch_status(1).await.unwrap().unwrap();
    assert_eq!(
        (progress.jobs, progress.running, progress.pending),
        (8, 4, 4)
    );

    // merge/1/0 waits for both its chunks.
    let done = queue
        .complete(&chunks[0].lease, &prove(&chunks[0]), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(done, Completion::Stored { made_ready: 0 });
    assert!(queue.claim(w, LONG).await.unwrap().is_none());
    assert_eq!(job_row(&db, "merge/1/0").await.1, 1);
    let done = queue
        .complete(&chunks[1].lease, &prove(&chunks[1]), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(done, Completion::Stored { made_ready: 1 });
    let merge = queue.claim(w, LONG).await.unwrap().unwrap();
    assert_eq!(merge.key, "merge/1/0");
    let deps: Vec<(&str, &[u8])> = merge
        .deps
        .iter()
        .map(|d| (d.key.as_str(), d.result.as_slice()))
        .collect();
    assert_eq!(
        deps,
        [
            ("chunk/0", prove(&chunks[0]).as_slice()),
            ("chunk/1", prove(&chunks[1]).as_slice())
        ]
    );

    // Finish the tree in claim order; the wrap is last and is the batch's proof.
    for job in &chunks[2..] {
        queue
            .complete(&job.lease, &prove(job), Duration::ZERO)
            .await
            .unwrap();
    }
    queue
        .complete(&merge.lease, &prove(&merge), Duration::ZERO)
        .await
        .unwrap();
    let mut order = Vec::new();
    while let Some(job) = queue.claim(w, LONG).await.unwrap() {
        assert!(
            queue.claim(w, LONG).await.unwrap().is_none(),
            "one level at a time here"
        );
        order.push(job.key.clone());
        assert!(!queue.batch_status(1).await.unwrap().unwrap().proven);
        queue
            .complete(&job.lease, &prove(&job), Duration::from_millis(5))
            .await
            .unwrap();
    }
    assert_eq!(order, ["merge/1/1", "merge/2/0", "wrap"]);
    let progress = queue.batch_status(1).await.unwrap().unwrap();
    assert!(progress.proven);
    assert_eq!((progress.done, progress.jobs), (8, 8));
    assert_eq!(
        queue.batch_proof(1).await.unwrap().unwrap(),
        expected_proof(&plan)
    );
    assert!(queue.batch_status(2).await.unwrap().is_none());

    refresh_once(
        &queue,
        &metrics,
        LONG,
        &mut BTreeSet::from(["chunk".to_owned()]),
    )
    .await
    .unwrap();
    assert_eq!(depth("chunk", "ready"), 0, "stale depth is reset");
    assert!(queue.depth().await.unwrap().is_empty());
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_concurrent_claims_never_share_a_job(db: PgPool) {
    const LEAVES: usize = 300;
    seed_batch(&db, 1).await;
    seed_batch(&db, 2).await;
    let queue = JobQueue::new(db.clone());
    for batch in [1, 2] {
        let mut plan: Vec<NewJob> = (0..LEAVES)
            .map(|i| NewJob::leaf(format!("leaf/{i}"), "chunk", vec![i as u8]))
            .collect();
        let keys: Vec<String> = plan.iter().map(|job| job.key.clone()).collect();
        plan.push(NewJob::over("final", "wrap", vec![], keys));
        queue.create_jobs(batch, &plan).await.unwrap();
    }

    let mut claimers = tokio::task::JoinSet::new();
    for c in 0..12 {
        let queue = queue.clone();
        claimers.spawn(async move {
            let me = queue
                .register_worker(&format!("claimer-{c}"), c)
                .await
                .unwrap();
            let mut claimed = Vec::new();
            while let Some(job) = queue.claim(me, LONG).await.unwrap() {
                let result = format!("{}:{}", job.lease.job, me).into_bytes();
                let done = queue
                    .complete(&job.lease, &result, Duration::ZERO)
                    .await
                    .unwrap();
                assert!(matches!(done, Completion::Stored { .. }), "{done:?}");
                claimed.push((job.lease.job, me));
            }
            claimed
        });
    }
    let mut owners = HashMap::new();
    while let Some(claimed) = claimers.join_next().await {
        for (job, owner) in claimed.unwrap() {
            assert!(
                owners.insert(job, owner).is_none(),
                "job {job} claimed twice"
            );
        }
    }
    // Claimers that found the queue empty before a final job became ready may have
    // stopped; whatever is left is claimable by one more.
    let late = worker(&queue, "late").await;
    for job in claim_all(&queue, late).await {
        queue
            .complete(&job.lease, b"late", Duration::ZERO)
            .await
            .unwrap();
        assert!(owners.insert(job.lease.job, late).is_none());
    }
    assert_eq!(owners.len(), 2 * (LEAVES + 1));
    let rows: Vec<(i64, Vec<u8>, i32)> =
        sqlx::query_as("SELECT id, result, attempts FROM prover_jobs WHERE status = 'done'")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2 * (LEAVES + 1));
    for (id, result, attempts) in rows {
        assert_eq!(attempts, 1);
        let owner = owners[&JobId(id)];
        if owner != late {
            assert_eq!(result, format!("{id}:{owner}").into_bytes());
        }
    }
    for batch in [1, 2] {
        assert!(queue.batch_status(batch).await.unwrap().unwrap().proven);
    }
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_expired_lease_is_taken_over_and_the_old_holder_refused(db: PgPool) {
    seed_batch(&db, 1).await;
    let queue = JobQueue::new(db.clone());
    queue
        .create_jobs(1, &[NewJob::leaf("only", "wrap", b"x".to_vec())])
        .await
        .unwrap();
    let (a, b) = (worker(&queue, "a").await, worker(&queue, "b").await);

    let held = queue
        .claim(a, Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    assert!(
        queue.claim(b, LONG).await.unwrap().is_none(),
        "a live lease is not taken"
    );
    // A heartbeat keeps it past the original expiry.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(queue
        .heartbeat(&held.lease, Duration::from_millis(300))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(queue.claim(b, LONG).await.unwrap().is_none());

    // Then a stops renewing it; b takes it over.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let taken = queue.claim(b, LONG).await.unwrap().unwrap();
    assert_eq!(taken.lease.job, held.lease.job);
    assert_eq!((taken.lease.worker, taken.lease.attempt), (b, 2));
    let error: String = sqlx::query_scalar("SELECT last_error FROM prover_jobs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(error, format!("lease of worker {a} expired"));

    // a's lease is dead for every write.
    assert!(!queue.heartbeat(&held.lease, LONG).await.unwrap());
    assert_eq!(
        queue
            .complete(&held.lease, b"from a", Duration::ZERO)
            .await
            .unwrap(),
        Completion::LeaseLost
    );
    assert_eq!(
        queue.fail(&held.lease, "a failed").await.unwrap(),
        FailOutcome::LeaseLost
    );
    assert!(!queue.release(&held.lease).await.unwrap());
    // Even a lease of the same worker with an older attempt is refused.
    let stale_b = Lease {
        attempt: 1,
        ..taken.lease
    };
    assert!(!queue.heartbeat(&stale_b, LONG).await.unwrap());

    assert!(queue.heartbeat(&taken.lease, LONG).await.unwrap());
    assert_eq!(
        queue
            .complete(&taken.lease, b"from b", Duration::ZERO)
            .await
            .unwrap(),
        Completion::Stored { made_ready: 0 }
    );
    assert_eq!(
        queue
            .complete(&held.lease, b"from a", Duration::ZERO)
            .await
            .unwrap(),
        Completion::LeaseLost
    );
    assert_eq!(queue.batch_proof(1).await.unwrap().unwrap(), b"from b");
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_failing_jobs_are_retried_then_failed_with_their_error(db: PgPool) {
    seed_batch(&db, 1).await;
    seed_batch(&db, 2).await;
    let queue = JobQueue::new(db.clone()).with_max_attempts(3);
    let plan = [
        NewJob::leaf("chunk/0", "chunk", vec![0]),
        NewJob::over("wrap", "wrap", vec![], ["chunk/0"]),
    ];
    queue.create_jobs(1, &plan).await.unwrap();
    let w = worker(&queue, "w").await;

    for attempt in 1..=3u32 {
        let job = queue.claim(w, LONG).await.unwrap().unwrap();
        assert_eq!((job.key.as_str(), job.lease.attempt), ("chunk/0", attempt));
        let outcome = queue
            .fail(&job.lease, &format!("boom {attempt}"))
            .await
            .unwrap();
        let expected = if attempt < 3 {
            FailOutcome::Retrying
        } else {
            FailOutcome::Failed
        };
        assert_eq!(outcome, expected);
        // A failed attempt cannot be completed afterwards.
        assert_eq!(
            queue
                .complete(&job.lease, b"late", Duration::ZERO)
                .await
                .unwrap(),
            Completion::LeaseLost
        );
    }
    assert!(
        queue.claim(w, LONG).await.unwrap().is_none(),
        "its dependent stays pending"
    );
    let failed = queue.failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0].batch,
            failed[0].key.as_str(),
            failed[0].attempts,
            failed[0].error.as_str()
        ),
        (1, "chunk/0", 3, "boom 3")
    );
    assert!(failed[0].failed_at.ends_with('Z'));
    let progress = queue.batch_status(1).await.unwrap().unwrap();
    assert_eq!(
        (progress.failed, progress.pending, progress.proven),
        (1, 1, false)
    );
    let depth = queue.depth().await.unwrap();
    assert!(depth.contains(&Depth {
        kind: "chunk".into(),
        status: JobStatus::Failed,
        jobs: 1
    }));

    // An operator requeues it after a fix; it then proves the batch.
    assert_eq!(queue.requeue_failed(1).await.unwrap(), 1);
    let job = queue.claim(w, LONG).await.unwrap().unwrap();
    assert_eq!(job.lease.attempt, 1);
    queue
        .complete(&job.lease, b"ok", Duration::ZERO)
        .await
        .unwrap();
    let wrap = queue.claim(w, LONG).await.unwrap().unwrap();
    queue
        .complete(&wrap.lease, b"proof", Duration::ZERO)
        .await
        .unwrap();
    assert!(queue.batch_status(1).await.unwrap().unwrap().proven);
    assert!(queue.failed_jobs(10).await.unwrap().is_empty());

    // A lease that expires on the last attempt fails the job instead of a new claim.
    let once = JobQueue::new(db.clone()).with_max_attempts(1);
    once.create_jobs(2, &[NewJob::leaf("only", "wrap", vec![])])
        .await
        .unwrap();
    let job = once
        .claim(w, Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(once.claim(w, LONG).await.unwrap().is_none());
    let failed = once.failed_jobs(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error,
        format!("lease of worker {w} expired on the last of 1 attempts")
    );
    assert_eq!(
        once.complete(&job.lease, b"late", Duration::ZERO)
            .await
            .unwrap(),
        Completion::LeaseLost
    );
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_create_jobs_is_idempotent_and_checks_the_plan(db: PgPool) {
    seed_batch(&db, 1).await;
    seed_batch(&db, 2).await;
    let queue = JobQueue::new(db.clone());
    let plan = tree_plan(3);

    // Concurrent creators: exactly one creates.
    let mut creators = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (queue, plan) = (queue.clone(), plan.clone());
        creators.spawn(async move { queue.create_jobs(1, &plan).await.unwrap() });
    }
    let mut created = 0;
    while let Some(outcome) = creators.join_next().await {
        created += usize::from(outcome.unwrap());
    }
    assert_eq!(created, 1);

    // Progress is kept when the plan is created again.
    let w = worker(&queue, "w").await;
    let job = queue.claim(w, LONG).await.unwrap().unwrap();
    queue
        .complete(&job.lease, b"r", Duration::ZERO)
        .await
        .unwrap();
    let before: Vec<(String, String, i32, i32)> = sqlx::query_as(
        "SELECT job_key, status, pending_deps, attempts FROM prover_jobs ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(!queue.create_jobs(1, &plan).await.unwrap());
    let after: Vec<(String, String, i32, i32)> = sqlx::query_as(
        "SELECT job_key, status, pending_deps, attempts FROM prover_jobs ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(before, after);
    assert_eq!(after.len(), plan.len());

    // A different plan for the same batch is refused.
    let other = tree_plan(4);
    assert!(matches!(
        queue.create_jobs(1, &other).await,
        Err(Error::InvalidPlan { batch: 1, .. })
    ));

    // Plans the queue cannot run.
    let leaf = |key: &str| NewJob::leaf(key, "chunk", vec![]);
    let over = |key: &str, deps: &[&str]| NewJob::over(key, "merge", vec![], deps.to_vec());
    let invalid: [Vec<NewJob>; 6] = [
        vec![],
        vec![over("m", &["a"]), leaf("a")],
        vec![leaf("a"), leaf("a"), over("m", &["a"])],
        vec![leaf("a"), leaf("b")],
        vec![leaf("a"), over("m", &["a", "a"])],
        vec![leaf("a"), over("m", &["m"])],
    ];
    for plan in invalid {
        let refused = queue.create_jobs(2, &plan).await;
        assert!(
            matches!(refused, Err(Error::InvalidPlan { batch: 2, .. })),
            "{plan:?}: {refused:?}"
        );
    }
    assert!(queue.batch_status(2).await.unwrap().is_none());
    assert!(matches!(
        queue.create_jobs(9, &plan).await,
        Err(Error::UnknownBatch(9))
    ));
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_complete_is_idempotent_and_never_overwrites_a_result(db: PgPool) {
    seed_batch(&db, 1).await;
    let queue = JobQueue::new(db.clone());
    let plan = tree_plan(2);
    queue.create_jobs(1, &plan).await.unwrap();
    let w = worker(&queue, "w").await;
    let chunks = claim_all(&queue, w).await;
    assert_eq!(chunks.len(), 2);

    let first = &chunks[0].lease;
    assert_eq!(
        queue.complete(first, b"X", Duration::ZERO).await.unwrap(),
        Completion::Stored { made_ready: 0 }
    );
    // A retried call (its acknowledgement lost) is recognised ...
    assert_eq!(
        queue.complete(first, b"X", Duration::ZERO).await.unwrap(),
        Completion::AlreadyStored
    );
    // ... a different result is never written ...
    assert_eq!(
        queue.complete(first, b"Y", Duration::ZERO).await.unwrap(),
        Completion::LeaseLost
    );
    assert_eq!(
        queue.fail(first, "late").await.unwrap(),
        FailOutcome::LeaseLost
    );
    assert!(!queue.release(first).await.unwrap());
    let (status, _, _, result) = job_row(&db, "chunk/0").await;
    assert_eq!(
        (status.as_str(), result.as_deref()),
        ("done", Some(&b"X"[..]))
    );
    // ... and the dependent counted the completion once.
    let (status, pending, _, _) = job_row(&db, "merge/1/0").await;
    assert_eq!((status.as_str(), pending), ("pending", 1));

    assert_eq!(
        queue
            .complete(&chunks[1].lease, b"Z", Duration::ZERO)
            .await
            .unwrap(),
        Completion::Stored { made_ready: 1 }
    );
    let merge = queue.claim(w, LONG).await.unwrap().unwrap();
    let results: Vec<&[u8]> = merge.deps.iter().map(|d| d.result.as_slice()).collect();
    assert_eq!(results, [&b"X"[..], &b"Z"[..]]);
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_workers_prove_batches_together(db: PgPool) {
    let queue = JobQueue::new(db.clone());
    let plans = [tree_plan(8), tree_plan(5)];
    for (i, plan) in plans.iter().enumerate() {
        seed_batch(&db, i as u64 + 1).await;
        queue.create_jobs(i as u64 + 1, plan).await.unwrap();
    }
    let jobs: usize = plans.iter().map(Vec::len).sum();

    // A real computation over the inputs and children; one attempt fails, one panics.
    let failed_once = Arc::new(AtomicBool::new(false));
    let panicked_once = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let executor = {
        let (failed_once, panicked_once, calls) =
            (failed_once.clone(), panicked_once.clone(), calls.clone());
        move |job: &ClaimedJob| -> crate::Result<Vec<u8>> {
            calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            if job.batch == 1 && job.key == "merge/1/1" && !failed_once.swap(true, Ordering::SeqCst)
            {
                return Err(anyhow::anyhow!("transient").into());
            }
            if job.batch == 2 && job.key == "chunk/4" && !panicked_once.swap(true, Ordering::SeqCst)
            {
                panic!("executor bug");
            }
            Ok(prove(job))
        }
    };
    let executor = Arc::new(executor);
    let metrics = QueueMetrics::new();
    let cancel = CancellationToken::new();
    let config = WorkerConfig {
        lease: Duration::from_secs(3),
        idle_poll: Duration::from_millis(20),
        host: "test".into(),
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..3 {
        workers.spawn(run_worker(
            queue.clone(),
            executor.clone(),
            config.clone(),
            metrics.clone(),
            cancel.clone(),
        ));
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut proven = 0;
        for batch in [1, 2] {
            proven += usize::from(queue.batch_status(batch).await.unwrap().unwrap().proven);
        }
        if proven == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "batches not proven in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(queue.live_workers(LONG).await.unwrap().len(), 3);
    cancel.cancel();
    while let Some(stopped) = workers.join_next().await {
        stopped.unwrap().unwrap();
    }
    assert!(
        queue.live_workers(LONG).await.unwrap().is_empty(),
        "workers deregistered"
    );

    for (i, plan) in plans.iter().enumerate() {
        let proof = queue.batch_proof(i as u64 + 1).await.unwrap().unwrap();
        assert_eq!(proof, expected_proof(plan));
    }
    assert_eq!(calls.load(Ordering::SeqCst), jobs + 2);
    let total = |vec: &prometheus::IntCounterVec, kinds: &[&str]| -> u64 {
        kinds
            .iter()
            .map(|k| vec.with_label_values(&[*k]).get())
            .sum()
    };
    let kinds = ["chunk", "merge", "wrap"];
    assert_eq!(total(&metrics.jobs_done, &kinds) as usize, jobs);
    assert_eq!(total(&metrics.attempts_failed, &kinds), 2);
    assert_eq!(total(&metrics.jobs_failed, &kinds), 0);
    assert_eq!(
        metrics
            .proving_seconds
            .with_label_values(&["wrap"])
            .get_sample_count(),
        2
    );
    let rendered = metrics.render();
    assert!(
        rendered.contains("prover_jobs_done_total{kind=\"chunk\"} 13"),
        "{rendered}"
    );
    let retried: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT job_key, attempts, last_error FROM prover_jobs WHERE attempts <> 1 ORDER BY job_key",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(retried.len(), 2);
    assert_eq!(retried[0].0, "chunk/4");
    assert_eq!(
        retried[0].2.as_deref(),
        Some("proof system: executor panicked: executor bug")
    );
    assert_eq!(retried[1].0, "merge/1/1");
    assert_eq!(retried[1].2.as_deref(), Some("proof system: transient"));
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn queue_heartbeat_keeps_slow_jobs_and_cancel_releases_them(db: PgPool) {
    seed_batch(&db, 1).await;
    let queue = JobQueue::new(db.clone());
    let plan = tree_plan(2);
    queue.create_jobs(1, &plan).await.unwrap();

    // Each job takes four leases' worth of time; the heartbeat must keep every one.
    let lease = Duration::from_millis(300);
    let slow = Arc::new(|job: &ClaimedJob| -> crate::Result<Vec<u8>> {
        std::thread::sleep(Duration::from_millis(1200));
        Ok(prove(job))
    });
    let metrics = QueueMetrics::new();
    let cancel = CancellationToken::new();
    let config = WorkerConfig {
        lease,
        idle_poll: Duration::from_millis(20),
        host: "test".into(),
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..2 {
        workers.spawn(run_worker(
            queue.clone(),
            slow.clone(),
            config.clone(),
            metrics.clone(),
            cancel.clone(),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !queue.batch_status(1).await.unwrap().unwrap().proven {
        assert!(Instant::now() < deadline, "batch not proven in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    while let Some(stopped) = workers.join_next().await {
        stopped.unwrap().unwrap();
    }
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM prover_jobs")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(
        attempts.iter().all(|&a| a == 1),
        "no lease was taken over: {attempts:?}"
    );
    assert_eq!(metrics.leases_lost.get(), 0);
    assert_eq!(
        queue.batch_proof(1).await.unwrap().unwrap(),
        expected_proof(&plan)
    );

    // A worker stopped in the middle of a proof gives the job back at once.
    seed_batch(&db, 2).await;
    queue
        .create_jobs(2, &[NewJob::leaf("only", "wrap", vec![])])
        .await
        .unwrap();
    let stuck = Arc::new(|_: &ClaimedJob| -> crate::Result<Vec<u8>> {
        std::thread::sleep(Duration::from_secs(3));
        Ok(b"too late".to_vec())
    });
    let cancel = CancellationToken::new();
    let running = tokio::spawn(run_worker(
        queue.clone(),
        stuck,
        WorkerConfig {
            lease: LONG,
            ..config
        },
        metrics.clone(),
        cancel.clone(),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while queue.batch_status(2).await.unwrap().unwrap().running == 0 {
        assert!(Instant::now() < deadline, "job not claimed in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Instant::now();
    cancel.cancel();
    running.await.unwrap().unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(1),
        "the worker did not wait for the proof"
    );
    let (status, _, attempts, result) = job_row(&db, "only").await;
    assert_eq!((status.as_str(), attempts, result), ("ready", 0, None));
}

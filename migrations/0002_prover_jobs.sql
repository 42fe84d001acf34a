-- The prover's job queue: every proof a sealed batch needs, as a graph of jobs that any
-- number of workers, on any number of machines, take from here with
-- `FOR UPDATE SKIP LOCKED`. Nothing else coordinates them.
--
-- A worker holds a job by a lease: `lease_owner` plus `lease_expires_at`, renewed by a
-- heartbeat. A job whose lease expired (its worker died or hangs) can be claimed again.
-- Each claim increments `attempts`, and (job, owner, attempts) is the lease's fencing
-- token: a worker whose lease was taken over can neither renew it nor store a result, so
-- no job ever ends with two different results.
--
-- Times are the database's clock (`now()`), never a worker's, so workers on machines with
-- skewed clocks still agree on when a lease expires.

-- The prover workers that ever registered. A worker is live while it renews
-- `last_heartbeat`; a stopped one records when it stopped.
CREATE TABLE prover_workers (
    id             BIGSERIAL   PRIMARY KEY,
    -- Where it runs (host name, as the worker reports it) and its process id.
    host           TEXT        NOT NULL,
    pid            INTEGER     NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
    stopped_at     TIMESTAMPTZ
);

-- One row per proof to produce.
CREATE TABLE prover_jobs (
    id               BIGSERIAL   PRIMARY KEY,
    batch_number     BIGINT      NOT NULL REFERENCES batches (number),
    -- What it proves ('chunk', 'merge', 'range', 'top', 'wrap'): chooses the circuit, and
    -- labels metrics. The queue itself does not interpret it.
    kind             TEXT        NOT NULL CHECK (kind <> ''),
    -- Names the job within its batch (e.g. 'chunk/3/0'), so that creating a batch's jobs
    -- twice is recognised and the plan's dependencies can name their jobs.
    job_key          TEXT        NOT NULL CHECK (job_key <> ''),
    -- The job's own input (a witness, a description of what to aggregate): opaque here.
    input            BYTEA       NOT NULL,
    -- The one job of the batch no other job depends on: its result is the batch's proof.
    is_final         BOOLEAN     NOT NULL,
    -- pending: waits for dependencies; ready: can be claimed; running: leased to a
    -- worker; done: result stored; failed: out of attempts, with `last_error`.
    status           TEXT        NOT NULL
                     CHECK (status IN ('pending', 'ready', 'running', 'done', 'failed')),
    -- Dependencies not yet done.
    pending_deps     INTEGER     NOT NULL CHECK (pending_deps >= 0),
    attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     INTEGER     NOT NULL CHECK (max_attempts >= 1),
    lease_owner      BIGINT      REFERENCES prover_workers (id) ON DELETE SET NULL,
    lease_expires_at TIMESTAMPTZ,
    last_error       TEXT,
    -- The proof, written once: by the holder of the lease, when it completes the job.
    result           BYTEA,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When the latest attempt was claimed, and when the job ended (done or failed).
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    -- Seconds the successful attempt spent proving (as its worker measured it).
    proving_seconds  DOUBLE PRECISION,
    UNIQUE (batch_number, job_key),
    CHECK ((status = 'done') = (result IS NOT NULL)),
    CHECK (status <> 'pending' OR pending_deps > 0),
    CHECK (status = 'pending' OR pending_deps = 0),
    CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK (status = 'running' OR lease_expires_at IS NULL)
);

-- What each job aggregates, in order (`position`: left child first): a job's claim returns
-- its dependencies' results in this order.
CREATE TABLE prover_job_deps (
    job_id   BIGINT  NOT NULL REFERENCES prover_jobs (id),
    dep_id   BIGINT  NOT NULL REFERENCES prover_jobs (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (job_id, position),
    UNIQUE (job_id, dep_id),
    CHECK (job_id <> dep_id)
);

-- Completing a job finds the jobs that wait for it.
CREATE INDEX prover_job_deps_by_dep ON prover_job_deps (dep_id);

-- The claim: ready jobs, oldest batch first (a batch's aggregation jobs go before the
-- next batch's chunks, which keeps the time from sealed to proven short) ...
CREATE INDEX prover_jobs_ready ON prover_jobs (batch_number, id) WHERE status = 'ready';
-- ... and running jobs whose lease expired.
CREATE INDEX prover_jobs_leases ON prover_jobs (lease_expires_at) WHERE status = 'running';
-- Queue depth per kind and status (done jobs, the bulk of the table, are not counted).
CREATE INDEX prover_jobs_open ON prover_jobs (kind, status) WHERE status <> 'done';
-- A batch's final proof.
CREATE UNIQUE INDEX prover_jobs_final ON prover_jobs (batch_number) WHERE is_final;

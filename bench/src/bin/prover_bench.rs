//! `prover_bench`: the prover service end to end, as the devnet runs it: the release
//! `prover` binary proving a batch the release `sequencer` binary sealed, both on a fresh
//! Postgres database.
//!
//! Per case (transfers T, workers W): a devnet-shaped genesis (depth 32, 16 partitions,
//! chain id 31337, the default merge levels, so the circuits cached in `--cache-dir` are
//! loaded, not built) funding 2 accounts per transfer, and T pre-signed uniform transfers
//! across all partitions (as `circuit_bench --full` proves). The provers start first and
//! the case waits until each serves `/health` (circuits loaded, so loading is not
//! counted); then the sequencer starts with `--max-batch-size T` and a one-hour batch
//! interval, so that the T transfers, POSTed in one array, seal as one batch at once.
//! Sealed → proven is read from the database's own clock (`batches.sealed_at` to the
//! final job's `prover_jobs.finished_at`); the wall clock and the provers' CPU seconds
//! (`/proc/<pid>/stat`) are read from when the batch is seen sealed to when its final
//! proof is seen done. `markdown::PROVER_SERVICE` explains the figures; they are merged
//! into `--out` (default `bench/results.json`) and `RESULTS.md` beside it is regenerated.
//! Progress goes to stderr.

use std::{
    collections::BTreeMap,
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use bench::{
    e2e::proc_cpu_seconds,
    markdown,
    proving::{
        clock_ticks, funded_accounts, signed_uniform_batch, DEVNET_CHAIN_ID as CHAIN_ID,
        DEVNET_PARTITION_BITS as PARTITION_BITS, DEVNET_TREE_DEPTH as TREE_DEPTH,
    },
    recorder::Recorder,
    results::machine_description,
    scratch_db,
};
use clap::Parser;
use integration_tests::{free_port, Service};
use prover::circuits::aggregation::tree::DEFAULT_MERGE_LEVELS;
use rollup_core::{
    genesis::{Genesis, GenesisAccount},
    tree::TreeConfig,
};
use serde_json::Value;
use sqlx::{postgres::PgPoolOptions, PgPool, Row};

/// Throughput and latency of the prover service (real processes, one sealed batch).
#[derive(Debug, Parser)]
struct Args {
    /// 32 transfers in 2 partitions with 1 worker, then with 2 workers (the default): a
    /// batch of two chunks, so two workers have two chunk proofs to share.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The quick cases, then 256 transfers over all 16 partitions with 1 and 2 workers and
    /// 1,024 with 2 workers.
    #[arg(long)]
    full: bool,
    /// One case of this many transfers instead of the mode's (with `--workers`).
    #[arg(long)]
    transfers: Option<usize>,
    /// Workers of the `--transfers` case.
    #[arg(long, default_value_t = 1, requires = "transfers")]
    workers: usize,
    /// Runs each worker in a prover process of its own (`--workers 1` each) instead of
    /// one process with `--workers W`: each process holds its own copy of the circuits
    /// (about 3.3 GB resident, 5 GB while proving), so only on a machine with the memory.
    #[arg(long)]
    process_per_worker: bool,
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// Prints the figures without writing the results file or the page.
    #[arg(long)]
    dry_run: bool,
    /// The circuits of the devnet's shape, built once (`circuit_bench` or the devnet's
    /// provers build them there).
    #[arg(long, default_value = "target/circuit-cache")]
    cache_dir: PathBuf,
    /// The sequencer binary (default: `sequencer` next to this binary).
    #[arg(long)]
    sequencer_bin: Option<PathBuf>,
    /// The prover binary (default: `prover` next to this binary).
    #[arg(long)]
    prover_bin: Option<PathBuf>,
    /// Postgres on which each case creates (and drops) a database of its own.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Gives up on a case after this long from the seal (default: 30 minutes plus 10 s
    /// per transfer; a small batch still proves a chunk per partition it touches).
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
}

/// The workload's seed: the same batch on every run.
const SEED: u64 = 0x9_b0_be_u64;
/// The quick cases' batch: 32 transfers among the accounts of 2 partitions (one chunk
/// each, proven in minutes), and the batches `--full` adds (the sizes) over all
/// 16 partitions.
const QUICK_TRANSFERS: usize = 32;
const QUICK_PARTITIONS: usize = 2;
const FULL_TRANSFERS: [usize; 2] = [256, 1024];
/// How long the provers may take to load the circuits (slow on a busy machine).
const READY_TIMEOUT: Duration = Duration::from_secs(900);
/// How long the sequencer may take to serve `/health`.
const SEQUENCER_START: Duration = Duration::from_secs(300);
/// Polls of the database while waiting for the seal, then for the final proof.
const SEAL_POLL: Duration = Duration::from_millis(50);
const PROOF_POLL: Duration = Duration::from_millis(500);
/// Interval of the progress lines.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// The sequencer's batch interval: far longer than a case, so that only the size cap
/// (`--max-batch-size T`) seals.
const BATCH_INTERVAL_MS: u64 = 3_600_000;
/// The kinds of job, in the order of the proof tree.
const KINDS: [&str; 5] = ["chunk", "merge", "range", "top", "wrap"];

/// One case to measure.
#[derive(Clone, Copy, Debug)]
struct Case {
    transfers: usize,
    workers: usize,
    /// The partitions whose accounts send and receive (the first ones).
    partitions: usize,
}

impl Case {
    /// `1worker`, `2workers`: the metric names' worker part.
    fn workers_label(self) -> String {
        if self.workers == 1 {
            "1worker".to_owned()
        } else {
            format!("{}workers", self.workers)
        }
    }

    fn label(self) -> String {
        format!(
            "{} tx in {} partitions, {}",
            self.transfers,
            self.partitions,
            self.workers_label()
        )
    }
}

/// What one case measured.
#[derive(Debug)]
struct Outcome {
    case: Case,
    /// `batches.sealed_at` → the final job's `finished_at` (the database's clock).
    sealed_to_proven_s: f64,
    /// `batches.sealed_at` → the batch's first job's `created_at` (planning: witness
    /// generation and job inserts).
    planned_s: f64,
    /// Seen sealed → seen proven, on this process's clock.
    wall_s: f64,
    /// The prover processes' CPU seconds over that interval.
    cpu_s: f64,
    /// Jobs of the batch, by kind.
    jobs: BTreeMap<String, usize>,
    /// Sum of the jobs' `proving_seconds` (each as its worker measured it).
    job_seconds: f64,
}

/// A prover process, killed (and reaped) when dropped.
struct Prover {
    child: Child,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Prover {
    /// The last lines of its log, for error messages.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn cpu_seconds(&self, ticks: f64) -> Result<f64> {
        let pid = self.child.id();
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        proc_cpu_seconds(&stat, ticks).context("parsing /proc/<pid>/stat")
    }
}

impl Drop for Prover {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A case's scratch database, dropped (with its connections) when this is dropped, also
/// when the case fails or panics (`Service::start` panics if the sequencer won't start).
struct ScratchDatabase {
    admin_url: String,
    name: String,
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the benchmark's runtime: use a small one of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| Ok(runtime.block_on(scratch_db::drop(&admin_url, &name))?))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop the scratch database {}: {dropped:?}",
                self.name
            );
        }
    }
}

/// Everything the cases share.
struct Setup<'a> {
    args: &'a Args,
    sequencer_bin: &'a Path,
    prover_bin: &'a Path,
    work_dir: &'a Path,
    http: reqwest::Client,
    ticks: f64,
}

/// Starts the provers of `case` and waits until every one serves `/health` (its circuits
/// are loaded by then: the metrics server starts after them).
async fn start_provers(
    ctx: &Setup<'_>,
    case: Case,
    database_url: &str,
    genesis: &Path,
    name: &str,
) -> Result<Vec<Prover>> {
    let (processes, per_process) = if ctx.args.process_per_worker {
        (case.workers, 1)
    } else {
        (1, case.workers)
    };
    let mut provers = Vec::with_capacity(processes);
    for i in 0..processes {
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let log = ctx.work_dir.join(format!("{name}_prover{i}.log"));
        let log_file =
            fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(ctx.prover_bin)
            .args(["--database-url", database_url, "--genesis"])
            .arg(genesis)
            .arg("--cache-dir")
            .arg(&ctx.args.cache_dir)
            .args(["--workers", &per_process.to_string()])
            .args(["--metrics-listen", &metrics.to_string()])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", ctx.prover_bin.display()))?;
        provers.push(Prover {
            child,
            metrics,
            log,
        });
    }
    let started = Instant::now();
    for (i, prover) in provers.iter_mut().enumerate() {
        loop {
            let url = format!("http://{}/health", prover.metrics);
            if let Ok(response) = ctx.http.get(&url).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            if let Some(status) = prover.child.try_wait()? {
                bail!(
                    "prover {i} exited during start ({status}):\n{}",
                    prover.log_tail()
                );
            }
            ensure!(
                started.elapsed() < READY_TIMEOUT,
                "prover {i} did not become ready in {READY_TIMEOUT:?}:\n{}",
                prover.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    eprintln!(
        "[{}] {processes} prover process(es) × {per_process} worker(s) ready in {:.1} s \
         (circuits loaded from {})",
        case.label(),
        started.elapsed().as_secs_f64(),
        ctx.args.cache_dir.display()
    );
    Ok(provers)
}

/// Jobs of batch `batch` by kind and status.
async fn job_counts(pool: &PgPool, batch: i64) -> Result<BTreeMap<(String, String), usize>> {
    let rows = sqlx::query(
        "SELECT kind, status, count(*) AS n FROM prover_jobs WHERE batch_number = $1 \
         GROUP BY kind, status",
    )
    .bind(batch)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get("kind")?, row.try_get("status")?),
                row.try_get::<i64, _>("n")? as usize,
            ))
        })
        .collect()
}

/// `chunk 3/20 (2 running), merge 0/17, ...`.
fn describe_progress(counts: &BTreeMap<(String, String), usize>) -> String {
    if counts.is_empty() {
        return "not planned yet".to_owned();
    }
    let mut kinds: Vec<&str> = KINDS.to_vec();
    for (kind, _) in counts.keys() {
        if !kinds.contains(&kind.as_str()) {
            kinds.push(kind);
        }
    }
    kinds
        .iter()
        .filter_map(|&kind| {
            let of = |status: &str| {
                counts
                    .get(&(kind.to_owned(), status.to_owned()))
                    .copied()
                    .unwrap_or(0)
            };
            let total: usize = counts
                .iter()
                .filter(|((k, _), _)| k == kind)
                .map(|(_, n)| n)
                .sum();
            (total > 0).then(|| {
                let running = of("running");
                let running = if running > 0 {
                    format!(" ({running} running)")
                } else {
                    String::new()
                };
                format!("{kind} {}/{total}{running}", of("done"))
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One case: a fresh database, the provers, then the sequencer and the batch.
async fn run_case(ctx: &Setup<'_>, case: Case) -> Result<Outcome> {
    let label = case.label();
    let transfers = case.transfers;
    let tree = TreeConfig::new(TREE_DEPTH, PARTITION_BITS)?;
    let accounts = funded_accounts(transfers);
    eprintln!(
        "[{label}] genesis of {accounts} accounts over {} partitions, signing {transfers} \
         uniform transfers",
        case.partitions
    );
    let batch = signed_uniform_batch(tree, CHAIN_ID, case.partitions, accounts, transfers, SEED)
        .context("building the workload")?;
    // The genesis accounts partition by partition, in their creation order: the same
    // indices, hence the same state.
    let genesis_accounts = batch
        .state
        .partitions()
        .iter()
        .flat_map(|partition| partition.accounts())
        .map(|account| GenesisAccount {
            public_key: account.public_key,
            balance: account.balance(rollup_core::token::Token::Eth),
        })
        .collect();
    let genesis = Genesis::new(CHAIN_ID, tree, genesis_accounts).context("genesis")?;
    ensure!(
        genesis.state_root == batch.state.root(),
        "the genesis file does not give the workload's state"
    );
    let name = format!(
        "bench_prover_{}_{}_{}",
        std::process::id(),
        transfers,
        case.workers
    );
    let genesis_path = ctx.work_dir.join(format!("{name}_genesis.json"));
    fs::write(&genesis_path, genesis.to_json())?;
    let body = serde_json::to_vec(&batch.transfers).context("serialising the transfers")?;
    drop(batch);

    let admin_url = &ctx.args.database_url;
    let url = scratch_db::create(admin_url, &name)
        .await
        .context("creating the case's database (DATABASE_URL; `make postgres` starts one)")?;
    let database = ScratchDatabase {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let outcome = async {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .context("connecting to the case's database")?;
        let mut provers = start_provers(ctx, case, &url, &genesis_path, &name).await?;
        let outcome = measure(ctx, case, &url, &genesis_path, &body, &pool, &mut provers)
            .await
            .with_context(|| {
                provers
                    .iter()
                    .map(|p| format!("prover log tail:\n{}", p.log_tail()))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        pool.close().await;
        outcome
    }
    .await;
    // The processes are killed (dropped) by now; their connections go with the database.
    drop(database);
    let outcome = outcome?;
    for entry in fs::read_dir(ctx.work_dir)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(outcome)
}

/// Starts the sequencer, submits the batch and follows it from sealed to proven.
async fn measure(
    ctx: &Setup<'_>,
    case: Case,
    database_url: &str,
    genesis: &Path,
    body: &[u8],
    pool: &PgPool,
    provers: &mut [Prover],
) -> Result<Outcome> {
    let label = case.label();
    let transfers = case.transfers;
    let address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
    let args: Vec<String> = [
        "--database-url",
        database_url,
        "--listen",
        &address.to_string(),
        "--genesis",
        &genesis.display().to_string(),
        "--max-batch-size",
        &transfers.to_string(),
        "--batch-interval-ms",
        &BATCH_INTERVAL_MS.to_string(),
        "--max-transfers-per-request",
        &transfers.max(10_000).to_string(),
    ]
    .map(String::from)
    .to_vec();
    // Generous: on a busy machine its migrations and genesis take a while.
    let sequencer = Service::start(ctx.sequencer_bin, &args, address, SEQUENCER_START).await;

    let response = ctx
        .http
        .post(sequencer.url("/v1/transfers"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await
        .context("POST /v1/transfers")?;
    let answer: Value = response.json().await.context("the submission's answer")?;
    let results = answer
        .get("results")
        .and_then(Value::as_array)
        .with_context(|| format!("the submission was refused: {answer}"))?;
    let accepted = results.iter().filter(|r| r.get("hash").is_some()).count();
    ensure!(
        accepted == transfers,
        "{accepted} of {transfers} transfers accepted: {:?}",
        results.iter().find(|r| r.get("hash").is_none())
    );

    // The seal: one batch of every transfer.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (batch, sealed_count) = loop {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(number), 0) AS number, COALESCE(SUM(transfer_count), 0) AS n \
             FROM batches",
        )
        .fetch_one(pool)
        .await?;
        let (number, count): (i64, i64) = (row.try_get("number")?, row.try_get("n")?);
        if count as usize >= transfers {
            break (number, count);
        }
        ensure!(
            Instant::now() < deadline,
            "the batch was not sealed in 120 s"
        );
        tokio::time::sleep(SEAL_POLL).await;
    };
    let sealed_seen = Instant::now();
    let cpu_before: f64 = provers
        .iter()
        .map(|p| p.cpu_seconds(ctx.ticks))
        .sum::<Result<f64>>()?;
    ensure!(
        batch == 1 && sealed_count as usize == transfers,
        "expected one batch of {transfers} transfers, got {batch} batches of {sealed_count}"
    );
    eprintln!("[{label}] batch {batch} sealed with {transfers} transfers; proving");

    let timeout = ctx
        .args
        .timeout
        .unwrap_or(Duration::from_secs(1800 + 10 * transfers as u64));
    let mut last_progress = Instant::now();
    let proven_seen = loop {
        let row = sqlx::query(
            "SELECT status, last_error FROM prover_jobs WHERE batch_number = $1 AND is_final",
        )
        .bind(batch)
        .fetch_optional(pool)
        .await?;
        let now = Instant::now();
        if let Some(row) = &row {
            let status: String = row.try_get("status")?;
            match status.as_str() {
                "done" => break now,
                "failed" => bail!(
                    "the final job failed: {:?}",
                    row.try_get::<Option<String>, _>("last_error")?
                ),
                _ => {}
            }
        }
        let failed: Option<String> = sqlx::query_scalar(
            "SELECT kind || ': ' || COALESCE(last_error, '') FROM prover_jobs \
             WHERE batch_number = $1 AND status = 'failed' LIMIT 1",
        )
        .bind(batch)
        .fetch_optional(pool)
        .await?;
        if let Some(failed) = failed {
            bail!("a job failed: {failed}");
        }
        for (i, prover) in provers.iter_mut().enumerate() {
            if let Some(status) = prover.child.try_wait()? {
                bail!("prover {i} exited ({status}):\n{}", prover.log_tail());
            }
        }
        if now - last_progress >= PROGRESS_EVERY {
            last_progress = now;
            let cpu: f64 = provers
                .iter()
                .map(|p| p.cpu_seconds(ctx.ticks))
                .sum::<Result<f64>>()?;
            eprintln!(
                "[{label}] {:>5.0} s: {}; provers' CPU {:.0} s",
                (now - sealed_seen).as_secs_f64(),
                describe_progress(&job_counts(pool, batch).await?),
                cpu - cpu_before
            );
        }
        ensure!(
            now - sealed_seen < timeout,
            "the batch was not proven in {timeout:?}: {}",
            describe_progress(&job_counts(pool, batch).await?)
        );
        tokio::time::sleep(PROOF_POLL).await;
    };
    let cpu_after: f64 = provers
        .iter()
        .map(|p| p.cpu_seconds(ctx.ticks))
        .sum::<Result<f64>>()?;
    drop(sequencer);

    let row = sqlx::query(
        "SELECT EXTRACT(EPOCH FROM (SELECT finished_at FROM prover_jobs \
                  WHERE batch_number = $1 AND is_final) - b.sealed_at)::float8 AS proven, \
                EXTRACT(EPOCH FROM (SELECT MIN(created_at) FROM prover_jobs \
                  WHERE batch_number = $1) - b.sealed_at)::float8 AS planned, \
                (SELECT COALESCE(SUM(proving_seconds), 0) FROM prover_jobs \
                  WHERE batch_number = $1)::float8 AS job_seconds \
         FROM batches b WHERE b.number = $1",
    )
    .bind(batch)
    .fetch_one(pool)
    .await?;
    let jobs = job_counts(pool, batch).await?.into_iter().fold(
        BTreeMap::new(),
        |mut jobs, ((kind, _), n)| {
            *jobs.entry(kind).or_default() += n;
            jobs
        },
    );
    Ok(Outcome {
        case,
        sealed_to_proven_s: row.try_get("proven")?,
        planned_s: row.try_get("planned")?,
        wall_s: (proven_seen - sealed_seen).as_secs_f64(),
        cpu_s: cpu_after - cpu_before,
        jobs,
        job_seconds: row.try_get("job_seconds")?,
    })
}

/// Records one case's figures under `prover.service_<figure>_<workers>_<transfers>`.
fn record_case(rec: &mut Recorder, outcome: &Outcome) {
    let case = outcome.case;
    let suffix = format!("{}_{}", case.workers_label(), case.transfers);
    let t = case.transfers as f64;
    let figures = [
        ("tps", t / outcome.sealed_to_proven_s, "tx/s"),
        ("sealed_to_proven_s", outcome.sealed_to_proven_s, "s"),
        ("planned_s", outcome.planned_s, "s"),
        ("wall_s", outcome.wall_s, "s"),
        ("cpu_s", outcome.cpu_s, "s"),
        ("cores_used", outcome.cpu_s / outcome.wall_s, "cores"),
        ("transfers_per_core_second", t / outcome.cpu_s, "tx/s"),
        ("job_seconds", outcome.job_seconds, "s"),
    ];
    for (figure, value, unit) in figures {
        rec.record(&format!("prover.service_{figure}_{suffix}"), &[value], unit);
    }
    rec.record_one(
        &format!("prover.service_jobs_{suffix}"),
        outcome.jobs.values().sum::<usize>() as f64,
        "jobs",
    );
}

/// The load average, for the notes (a shared machine's figures depend on it).
fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A sibling binary of this one (`target/<profile>/<name>`), unless given.
fn binary(given: &Option<PathBuf>, name: &str) -> Result<PathBuf> {
    let path = match given {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark binary's directory")?
            .join(name),
    };
    ensure!(
        path.exists(),
        "{} is not built: `cargo build --release -p {name} --bin {name}`",
        path.display()
    );
    Ok(path)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let cases: Vec<Case> = match args.transfers {
        Some(transfers) => {
            ensure!(
                transfers > 0 && args.workers > 0,
                "--transfers and --workers must be positive"
            );
            vec![Case {
                transfers,
                workers: args.workers,
                partitions: 1 << PARTITION_BITS,
            }]
        }
        None => {
            let case = |transfers, workers, partitions| Case {
                transfers,
                workers,
                partitions,
            };
            let mut cases = vec![
                case(QUICK_TRANSFERS, 1, QUICK_PARTITIONS),
                case(QUICK_TRANSFERS, 2, QUICK_PARTITIONS),
            ];
            if args.full {
                let all = 1 << PARTITION_BITS;
                cases.extend([
                    case(FULL_TRANSFERS[0], 1, all),
                    case(FULL_TRANSFERS[0], 2, all),
                    case(FULL_TRANSFERS[1], 2, all),
                ]);
            }
            cases
        }
    };
    let sequencer_bin = binary(&args.sequencer_bin, "sequencer")?;
    let prover_bin = binary(&args.prover_bin, "prover")?;
    eprintln!(
        "prover_bench: {} on {}; depth {TREE_DEPTH}, {} partitions, chain id {CHAIN_ID}, \
         {DEFAULT_MERGE_LEVELS} merge levels; {}",
        cases
            .iter()
            .map(|case| case.label())
            .collect::<Vec<_>>()
            .join("; "),
        machine_description(),
        1 << PARTITION_BITS,
        if args.process_per_worker {
            "one prover process per worker"
        } else {
            "one prover process with W workers"
        }
    );
    let work_dir = std::env::temp_dir().join(format!("prover_bench_{}", std::process::id()));
    fs::create_dir_all(&work_dir)?;
    let ctx = Setup {
        args: &args,
        sequencer_bin: &sequencer_bin,
        prover_bin: &prover_bin,
        work_dir: &work_dir,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?,
        ticks: clock_ticks(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let mut rec = Recorder::default();
    let mut outcomes = Vec::new();
    let run = (|| -> Result<()> {
        for &case in &cases {
            let outcome = runtime.block_on(run_case(&ctx, case))?;
            eprintln!(
                "[{}] sealed → proven {:.1} s ({:.3} tx/s; planned after {:.2} s), wall {:.1} s, \
                 provers' CPU {:.1} s ({:.2} cores, {:.3} tx per CPU-second); jobs {:?}, \
                 {:.1} s proving",
                case.label(),
                outcome.sealed_to_proven_s,
                case.transfers as f64 / outcome.sealed_to_proven_s,
                outcome.planned_s,
                outcome.wall_s,
                outcome.cpu_s,
                outcome.cpu_s / outcome.wall_s,
                case.transfers as f64 / outcome.cpu_s,
                outcome.jobs,
                outcome.job_seconds,
            );
            record_case(&mut rec, &outcome);
            outcomes.push(outcome);
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&work_dir);
    run?;

    // The headline figures: sealed → proven with the most workers measured per batch
    // size, and the 2-vs-1 speedup on the same batch.
    let find = |transfers: usize, workers: usize| {
        outcomes
            .iter()
            .find(|o| o.case.transfers == transfers && o.case.workers == workers)
    };
    for transfers in [QUICK_TRANSFERS, FULL_TRANSFERS[0], FULL_TRANSFERS[1]] {
        if let Some(best) = outcomes
            .iter()
            .filter(|o| o.case.transfers == transfers)
            .max_by_key(|o| o.case.workers)
        {
            rec.record(
                &format!("prover.sealed_to_proven_s_{transfers}"),
                &[best.sealed_to_proven_s],
                "s",
            );
            rec.record_one(
                &format!("prover.sealed_to_proven_workers_{transfers}"),
                best.case.workers as f64,
                "workers",
            );
        }
    }
    for transfers in [QUICK_TRANSFERS, FULL_TRANSFERS[0]] {
        if let (Some(one), Some(two)) = (find(transfers, 1), find(transfers, 2)) {
            rec.record(
                &format!("prover.workers_speedup_2v1_{transfers}"),
                &[one.sealed_to_proven_s / two.sealed_to_proven_s],
                "x",
            );
        }
    }
    if let Some(load) = load_average() {
        rec.record_one("prover.service_load_average", load, "load");
    }
    if args.dry_run {
        eprintln!("--dry-run: {} figures not written", rec.results.len());
        return Ok(());
    }
    markdown::write_results_and_page(&args.out, rec.results, "prover_bench", started)
}

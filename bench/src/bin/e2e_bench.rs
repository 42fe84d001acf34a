//! `e2e_bench`: the sequencer end to end, as users see it: the release `sequencer` binary
//! against Postgres, loaded over HTTP with pre-signed transfers by concurrent clients.
//!
//! Per workload (`uniform`, `hot`) and per run, a fresh database and sequencer process
//! are set up off the measured path; the run then submits every transfer, waits until all
//! accepted ones are executed, and reads the sequencer's metrics and CPU time. Figures are
//! medians over runs (`markdown::E2E_LOAD` explains them); they are merged into `--out`
//! (default `bench/results.json`) and `RESULTS.md` beside it is regenerated. Progress goes
//! to stderr.

use std::{
    collections::{BTreeMap, HashMap},
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use bench::{
    e2e::{
        proc_cpu_seconds, prometheus_value, rounds_workload, Contention, RoundsSpec, Shape,
        HOT_RECIPIENTS,
    },
    markdown::{self, E2E_REJECTED_PREFIX},
    plots::{self, Chart, Series},
    recorder::Recorder,
    results::{machine_description, Results},
    scratch_db,
    stats::percentile,
    workload::SplitMix64,
};
use clap::Parser;
use rayon::prelude::*;
use rollup_core::{
    account::partition_of_key,
    genesis::{Genesis, GenesisAccount},
    schnorr::{PublicKey, SecretKey},
    transfer::{SignedTransfer, Transfer},
    tree::TreeConfig,
};
use serde_json::Value;

/// End-to-end load of the sequencer over HTTP.
#[derive(Debug, Parser)]
struct Args {
    /// 2,000 accounts, 20,000 transfers, 5 runs per workload (the default).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// 10,000 accounts, 100,000 transfers, 5 runs per workload.
    #[arg(long)]
    full: bool,
    /// The results file to merge into; `RESULTS.md` is regenerated beside it.
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// The sequencer binary (default: `sequencer` next to this binary).
    #[arg(long)]
    sequencer_bin: Option<PathBuf>,
    /// Postgres on which each run creates (and drops) a database of its own.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Transfers per POSTed array.
    #[arg(long, default_value_t = 256)]
    array: usize,
    /// Target submission rate in transfers/s (default: as fast as acknowledged).
    #[arg(long)]
    rate: Option<f64>,
    /// Runs per workload (overrides the mode's).
    #[arg(long)]
    runs: Option<usize>,
    /// Funded accounts (overrides the mode's).
    #[arg(long)]
    accounts: Option<usize>,
    /// Transfers per run (overrides the mode's).
    #[arg(long)]
    transfers: Option<usize>,
    /// Contention of a custom workload, run instead of the two standard ones (metrics
    /// suffixed `_custom`): hot recipients (the first funded accounts)...
    #[arg(long)]
    hot_accounts: Option<usize>,
    /// ...the share of transfers sent to them...
    #[arg(long)]
    hot_share: Option<f64>,
    /// ...the share of a genesis sender's transfers that fund a fresh account (which
    /// spends later)...
    #[arg(long)]
    fresh_share: Option<f64>,
    /// ...and the share of the other transfers whose recipient is in another partition
    /// than the sender (default: as uniform recipients fall, 15/16 with 16 partitions).
    #[arg(long)]
    cross_partition_share: Option<f64>,
}

impl Args {
    /// The custom contention, if any of its options is given.
    fn custom_contention(&self) -> Result<Option<Contention>> {
        if self.hot_accounts.is_none()
            && self.hot_share.is_none()
            && self.fresh_share.is_none()
            && self.cross_partition_share.is_none()
        {
            return Ok(None);
        }
        let share = |name: &str, value: Option<f64>| -> Result<f64> {
            let value = value.unwrap_or(0.0);
            ensure!(
                (0.0..=1.0).contains(&value),
                "--{name} must be between 0 and 1"
            );
            Ok(value)
        };
        let hot_share = share("hot-share", self.hot_share)?;
        let hot_recipients =
            self.hot_accounts
                .unwrap_or(if hot_share > 0.0 { HOT_RECIPIENTS } else { 0 });
        ensure!(
            hot_share == 0.0 || hot_recipients > 0,
            "--hot-share needs --hot-accounts above 0"
        );
        Ok(Some(Contention {
            hot_recipients,
            hot_share,
            fresh_share: share("fresh-share", self.fresh_share)?,
            cross_partition_share: match self.cross_partition_share {
                Some(value) => Some(share("cross-partition-share", Some(value))?),
                None => None,
            },
        }))
    }
}

/// Chain id of the benchmark's genesis and transfers.
const CHAIN_ID: u64 = 31337;
/// Genesis balance of every funded account: far above what a run spends.
const BALANCE: u64 = 1_000_000_000;
/// One transfer in this many is followed to execution by polling its status.
const SAMPLE_EVERY: usize = 64;
/// Interval of the status polls of sampled transfers.
const STATUS_POLL: Duration = Duration::from_millis(20);
/// The status poller moves on after this many sampled transfers in a row are still
/// pending: later ones were admitted later, so they are very likely pending too.
const PENDING_IN_A_ROW: usize = 4;
/// Interval of `/metrics` polls once every transfer is submitted (the end-time
/// granularity), and while submitting (progress only).
const METRICS_POLL: Duration = Duration::from_millis(25);
const METRICS_POLL_SUBMITTING: Duration = Duration::from_millis(250);
/// After every transfer is submitted, execution is over when the executed count has not
/// moved for this long (batches are sealed every 100 ms).
const STALL: Duration = Duration::from_secs(5);

/// Sizes and run count.
#[derive(Clone, Copy, Debug)]
struct Plan {
    runs: usize,
    accounts: usize,
    transfers: usize,
}

const QUICK: Plan = Plan {
    runs: 5,
    accounts: 2_000,
    transfers: 20_000,
};
const FULL: Plan = Plan {
    runs: 5,
    accounts: 10_000,
    transfers: 100_000,
};

/// What one run measured.
#[derive(Debug)]
struct RunOutcome {
    submitted: usize,
    accepted: usize,
    /// Accepted but never executed (the executed count stalled below the accepted one).
    unexecuted: usize,
    rejected: BTreeMap<String, usize>,
    e2e_tps: f64,
    accept_tps: f64,
    /// Submit → seen executed, of the sampled transfers.
    latencies_ms: Vec<f64>,
    /// The sequencer process's CPU seconds over the drive.
    cpu_seconds: f64,
    signature_seconds: f64,
    execution_seconds: f64,
    store_seconds: f64,
    journal_seconds: f64,
}

/// A sampled transfer: when its array was submitted, when it was first seen executed.
struct Sample {
    hash: String,
    submitted: Instant,
    seen: Option<Instant>,
}

/// State the clients, the status poller and the metrics watcher share during a run.
struct Shared {
    next_array: AtomicUsize,
    submitted: AtomicUsize,
    accepted: AtomicUsize,
    executed: AtomicU64,
    done_submitting: AtomicBool,
    /// Set once execution is over, or stalled: the sampled transfers left can't execute
    /// any more (when all executed, the poller finishes seeing them instead).
    finished: AtomicBool,
    samples: Mutex<Vec<Sample>>,
}

/// What one client saw.
#[derive(Default)]
struct ClientTally {
    rejected: BTreeMap<String, usize>,
    last_response: Option<Instant>,
}

/// The sequencer process of a run, killed (and reaped) when dropped.
struct Sequencer {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Sequencer {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The last lines of its log, for error messages.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 if unknown).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn process_cpu_seconds(pid: u32, ticks: f64) -> Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    proc_cpu_seconds(&stat, ticks).context("parsing /proc/<pid>/stat")
}

/// Starts the sequencer on a free loopback port and waits for `GET /health`.
async fn start_sequencer(
    binary: &Path,
    database_url: &str,
    genesis: &Path,
    log: PathBuf,
    transfers: usize,
    array: usize,
    http: &reqwest::Client,
) -> Result<Sequencer> {
    let address = format!("127.0.0.1:{}", free_port()?);
    let log_file = fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let child = Command::new(binary)
        .args(["--database-url", database_url, "--listen", &address])
        .arg("--genesis")
        .arg(genesis)
        .args(["--max-batch-size", "4096", "--batch-interval-ms", "100"])
        .args([
            "--mempool-capacity",
            &(2 * transfers).max(1_000_000).to_string(),
        ])
        .args([
            "--max-transfers-per-request",
            &array.max(10_000).to_string(),
        ])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut sequencer = Sequencer {
        child,
        base: format!("http://{address}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http.get(sequencer.url("/health")).send().await {
            if response.status().is_success() {
                return Ok(sequencer);
            }
        }
        if let Some(status) = sequencer.child.try_wait()? {
            bail!(
                "the sequencer exited during start ({status}):\n{}",
                sequencer.log_tail()
            );
        }
        ensure!(
            Instant::now() < deadline,
            "the sequencer did not become healthy in 60 s:\n{}",
            sequencer.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One client: takes the next array, POSTs it, tallies the outcome of every transfer.
async fn client(
    http: reqwest::Client,
    url: String,
    bodies: Arc<Vec<Vec<u8>>>,
    plan: (usize, usize, Option<f64>),
    start: Instant,
    shared: Arc<Shared>,
) -> Result<ClientTally> {
    let (total, array, rate) = plan;
    let mut tally = ClientTally::default();
    loop {
        let index = shared.next_array.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(index) else {
            return Ok(tally);
        };
        let first = index * array;
        let count = array.min(total - first);
        if let Some(rate) = rate {
            let due = start + Duration::from_secs_f64(first as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let submitted = Instant::now();
        let response = http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await
            .context("POST /v1/transfers")?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("reading a submission's answer")?;
        tally.last_response = Some(Instant::now());
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut accepted = 0;
        match value.get("results").and_then(Value::as_array) {
            Some(results) => {
                ensure!(
                    results.len() == count,
                    "{} results for an array of {count}",
                    results.len()
                );
                let mut samples = Vec::new();
                for (i, result) in results.iter().enumerate() {
                    if let Some(hash) = result.get("hash").and_then(Value::as_str) {
                        accepted += 1;
                        if (first + i).is_multiple_of(SAMPLE_EVERY) {
                            samples.push(Sample {
                                hash: hash.to_owned(),
                                submitted,
                                seen: None,
                            });
                        }
                    } else {
                        let reason = result.get("reason").and_then(Value::as_str);
                        *tally
                            .rejected
                            .entry(reason.unwrap_or("unknown").to_owned())
                            .or_default() += 1;
                    }
                }
                shared.samples.lock().expect("samples lock").extend(samples);
            }
            None => {
                // The whole request was refused (too large, malformed...).
                let reason = value
                    .get("reason")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("http_{}", status.as_u16()), str::to_owned);
                *tally.rejected.entry(reason).or_default() += count;
            }
        }
        shared.accepted.fetch_add(accepted, Ordering::Relaxed);
        shared.submitted.fetch_add(count, Ordering::Relaxed);
    }
}

/// Polls the status of sampled transfers, oldest first, until every one is executed (or
/// execution is over: the stalled ones never will be).
async fn poll_samples(
    http: reqwest::Client,
    base: String,
    shared: Arc<Shared>,
    deadline: Instant,
) -> Result<()> {
    loop {
        let pending: Vec<(usize, String)> = shared
            .samples
            .lock()
            .expect("samples lock")
            .iter()
            .enumerate()
            .filter(|(_, sample)| sample.seen.is_none())
            .map(|(i, sample)| (i, sample.hash.clone()))
            .collect();
        let finished = shared.finished.load(Ordering::Acquire);
        if finished || (pending.is_empty() && shared.done_submitting.load(Ordering::Acquire)) {
            return Ok(());
        }
        let mut in_a_row = 0;
        for (i, hash) in pending {
            let value: Value = http
                .get(format!("{base}/v1/transfers/{hash}"))
                .send()
                .await
                .context("GET /v1/transfers/{hash}")?
                .json()
                .await
                .context("a transfer status")?;
            let now = Instant::now();
            match value.get("status").and_then(Value::as_str) {
                Some("executed") => {
                    shared.samples.lock().expect("samples lock")[i].seen = Some(now);
                    in_a_row = 0;
                }
                Some("pending") => {
                    in_a_row += 1;
                    if in_a_row >= PENDING_IN_A_ROW {
                        break;
                    }
                }
                _ => bail!("accepted transfer {hash} has status {value}"),
            }
        }
        ensure!(
            Instant::now() < deadline,
            "sampled transfers still pending at the deadline"
        );
        tokio::time::sleep(STATUS_POLL).await;
    }
}

/// Submits every array with `clients` concurrent clients and follows the transfers to
/// execution; the sequencer is already up and idle.
async fn drive(
    sequencer: &Sequencer,
    http: &reqwest::Client,
    bodies: &Arc<Vec<Vec<u8>>>,
    total: usize,
    args: &Args,
    label: &str,
) -> Result<RunOutcome> {
    let ticks = clock_ticks();
    let pid = sequencer.child.id();
    let shared = Arc::new(Shared {
        next_array: AtomicUsize::new(0),
        submitted: AtomicUsize::new(0),
        accepted: AtomicUsize::new(0),
        executed: AtomicU64::new(0),
        done_submitting: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        samples: Mutex::new(Vec::new()),
    });
    // Generous: a run that is this slow is broken, not slow.
    let deadline = Instant::now() + Duration::from_secs(120 + total as u64 / 200);
    let cpu_before = process_cpu_seconds(pid, ticks)?;
    let start = Instant::now();

    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            tokio::spawn(client(
                http.clone(),
                sequencer.url("/v1/transfers"),
                Arc::clone(bodies),
                (total, args.array, args.rate),
                start,
                Arc::clone(&shared),
            ))
        })
        .collect();
    let poller = tokio::spawn(poll_samples(
        http.clone(),
        sequencer.base.clone(),
        Arc::clone(&shared),
        deadline,
    ));

    // The metrics watcher: progress while submitting, then the end time: when the executed
    // count reaches the accepted count, or last changed if it stalls below (accepted
    // transfers that can never execute, e.g. behind a rejected nonce).
    let watcher = {
        let (http, url, shared) = (http.clone(), sequencer.url("/metrics"), Arc::clone(&shared));
        let label = label.to_owned();
        tokio::spawn(async move {
            let mut last_print = Instant::now();
            let (mut last_executed, mut last_change) = (0, Instant::now());
            loop {
                let text = http.get(&url).send().await?.text().await?;
                let now = Instant::now();
                let executed = prometheus_value(&text, "sequencer_transfers_executed_total")
                    .context("no sequencer_transfers_executed_total in /metrics")?
                    as u64;
                shared.executed.store(executed, Ordering::Relaxed);
                if executed != last_executed {
                    (last_executed, last_change) = (executed, now);
                }
                let done = shared.done_submitting.load(Ordering::Acquire);
                if now - last_print >= Duration::from_secs(1) {
                    last_print = now;
                    eprintln!(
                        "[{label}] submitted {}/{total}, executed {executed}/{}",
                        shared.submitted.load(Ordering::Relaxed),
                        if done {
                            shared.accepted.load(Ordering::Relaxed).to_string()
                        } else {
                            "…".to_owned()
                        }
                    );
                }
                if done && executed >= shared.accepted.load(Ordering::Relaxed) as u64 {
                    return anyhow::Ok((now, text, executed));
                }
                if done && now - last_change >= STALL {
                    eprintln!(
                        "[{label}] executed count stalled at {executed} for {} s: the rest \
                         of the accepted transfers can't execute",
                        STALL.as_secs()
                    );
                    return anyhow::Ok((last_change, text, executed));
                }
                ensure!(
                    now < deadline,
                    "accepted transfers still unexecuted at the deadline"
                );
                tokio::time::sleep(if done {
                    METRICS_POLL
                } else {
                    METRICS_POLL_SUBMITTING
                })
                .await;
            }
        })
    };

    let mut rejected: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_response = start;
    for client in clients {
        let tally = client.await.context("a client panicked")??;
        for (reason, count) in tally.rejected {
            *rejected.entry(reason).or_default() += count;
        }
        last_response = last_response.max(tally.last_response.unwrap_or(start));
    }
    shared.done_submitting.store(true, Ordering::Release);
    let accepted = shared.accepted.load(Ordering::Relaxed);
    eprintln!(
        "[{label}] submitted {total} in {:.2} s: {accepted} accepted, rejected {rejected:?}",
        (last_response - start).as_secs_f64()
    );
    let watched = watcher.await.context("the metrics watcher panicked");
    let stalled = !matches!(&watched, Ok(Ok((_, _, executed))) if *executed as usize >= accepted);
    if stalled {
        shared.finished.store(true, Ordering::Release);
    }
    let (end, metrics, executed) = watched??;
    let cpu_after = process_cpu_seconds(pid, ticks)?;
    poller.await.context("the status poller panicked")??;
    let executed = executed as usize;
    eprintln!(
        "[{label}] executed {executed}/{accepted} after {:.2} s",
        (end - start).as_secs_f64()
    );

    let metric = |name: &str| {
        prometheus_value(&metrics, name).with_context(|| format!("no {name} in /metrics"))
    };
    let server_accepted = metric("sequencer_transfers_accepted_total")? as usize;
    ensure!(
        server_accepted == accepted,
        "the sequencer counts {server_accepted} accepted transfers, the clients {accepted}"
    );
    let latencies_ms = shared
        .samples
        .lock()
        .expect("samples lock")
        .iter()
        .filter_map(|s| s.seen.map(|seen| (seen - s.submitted).as_secs_f64() * 1e3))
        .collect();
    Ok(RunOutcome {
        submitted: total,
        accepted,
        unexecuted: accepted.saturating_sub(executed),
        rejected,
        e2e_tps: executed as f64 / (end - start).as_secs_f64(),
        accept_tps: accepted as f64 / (last_response - start).as_secs_f64(),
        latencies_ms,
        cpu_seconds: cpu_after - cpu_before,
        signature_seconds: metric("sequencer_signature_seconds_sum")?,
        execution_seconds: metric("sequencer_execution_seconds_sum")?,
        store_seconds: metric("sequencer_store_seconds_sum")?,
        journal_seconds: metric("sequencer_journal_seconds_sum")?,
    })
}

/// Everything a run needs that outlives it.
struct RunContext<'a> {
    args: &'a Args,
    sequencer_bin: &'a Path,
    genesis: &'a Path,
    work_dir: &'a Path,
    http: reqwest::Client,
}

/// One run on a fresh database and sequencer, both removed afterwards (even on failure).
async fn run_once(
    ctx: &RunContext<'_>,
    bodies: &Arc<Vec<Vec<u8>>>,
    total: usize,
    label: &str,
    name: &str,
) -> Result<RunOutcome> {
    let admin_url = &ctx.args.database_url;
    let url = scratch_db::create(admin_url, name)
        .await
        .context("creating the run's database (DATABASE_URL; `make postgres` starts one)")?;
    let log = ctx.work_dir.join(format!("{name}.log"));
    let outcome = async {
        let sequencer = start_sequencer(
            ctx.sequencer_bin,
            &url,
            ctx.genesis,
            log.clone(),
            total,
            ctx.args.array,
            &ctx.http,
        )
        .await?;
        drive(&sequencer, &ctx.http, bodies, total, ctx.args, label)
            .await
            .with_context(|| format!("sequencer log tail:\n{}", sequencer.log_tail()))
    }
    .await;
    // The sequencer is killed (dropped) by now; its connections go with the database.
    let dropped = scratch_db::drop(admin_url, name)
        .await
        .context("dropping the run's database");
    let outcome = outcome?;
    dropped?;
    let _ = fs::remove_file(&log);
    Ok(outcome)
}

/// Records the medians of a workload's runs under its metric names.
fn record_workload(rec: &mut Recorder, shape: Shape, runs: &[RunOutcome], verify_us: f64) {
    let s = shape.suffix();
    let per_run = |f: &dyn Fn(&RunOutcome) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    rec.record(
        &format!("sequencer.e2e_tps{s}"),
        &per_run(&|r| r.e2e_tps),
        "tx/s",
    );
    rec.record(
        &format!("sequencer.accept_tps{s}"),
        &per_run(&|r| r.accept_tps),
        "tx/s",
    );
    for (name, q) in [("p50", 50.0), ("p99", 99.0), ("p999", 99.9)] {
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|r| percentile(&r.latencies_ms, q))
            .collect();
        rec.record(
            &format!("sequencer.e2e_latency_{name}_ms{s}"),
            &values,
            "ms",
        );
    }
    rec.record(
        &format!("sequencer.e2e_cpu_us_per_transfer{s}"),
        &per_run(&|r| r.cpu_seconds * 1e6 / r.accepted as f64),
        "us",
    );
    let estimate = |r: &RunOutcome| verify_us * r.submitted as f64 / 1e6 / r.cpu_seconds;
    rec.record(
        &format!("sequencer.e2e_sigverify_cpu_share_est{s}"),
        &per_run(&estimate),
        "share",
    );
    rec.record(
        &format!("sequencer.e2e_overhead_cpu_share_est{s}"),
        &per_run(&|r| 1.0 - estimate(r)),
        "share",
    );
    for (stage, seconds) in [
        (
            "execution",
            &(|r: &RunOutcome| r.execution_seconds) as &dyn Fn(&RunOutcome) -> f64,
        ),
        ("store", &|r: &RunOutcome| r.store_seconds),
        ("journal", &|r: &RunOutcome| r.journal_seconds),
    ] {
        rec.record(
            &format!("sequencer.e2e_{stage}_share{s}"),
            &per_run(&|r| seconds(r) / r.cpu_seconds),
            "share",
        );
    }
    rec.record(
        &format!("sequencer.e2e_rejected{s}"),
        &per_run(&|r| r.rejected.values().sum::<usize>() as f64),
        "transfers",
    );
    rec.record(
        &format!("sequencer.e2e_unexecuted{s}"),
        &per_run(&|r| r.unexecuted as f64),
        "transfers",
    );
    let reasons: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|r| r.rejected.keys()).collect();
    for reason in reasons {
        rec.record(
            &format!("{E2E_REJECTED_PREFIX}{reason}{s}"),
            &per_run(&|r| r.rejected.get(reason).copied().unwrap_or(0) as f64),
            "transfers",
        );
    }
}

/// Signs `transfers` and serialises them as the JSON arrays the clients POST.
fn signed_arrays(
    transfers: &[Transfer],
    keys: &HashMap<PublicKey, SecretKey>,
    array: usize,
) -> Result<Vec<Vec<u8>>> {
    let signed: Vec<SignedTransfer> = transfers
        .par_iter()
        .map(|t| t.sign(&keys[&t.from]))
        .collect();
    signed
        .par_chunks(array)
        .map(|chunk| serde_json::to_vec(chunk).context("serialising transfers"))
        .collect()
}

/// CPU microseconds to verify one signature on this thread: CPU time, not wall time, so
/// that other processes of a busy machine don't inflate it (`/proc/thread-self/stat`
/// ticks, hence passes totalling about a second).
fn single_thread_verify_us(signed: &[SignedTransfer]) -> Result<f64> {
    let ticks = clock_ticks();
    let thread_cpu = || {
        let stat = fs::read_to_string("/proc/thread-self/stat")?;
        proc_cpu_seconds(&stat, ticks).context("parsing /proc/thread-self/stat")
    };
    // Warm-up pass, then passes until a second of CPU time is spent.
    for transfer in signed {
        transfer
            .verify()
            .context("a benchmark signature does not verify")?;
    }
    let before = thread_cpu()?;
    let mut verified = 0;
    while thread_cpu()? - before < 1.0 {
        for transfer in signed {
            std::hint::black_box(transfer).verify()?;
        }
        verified += signed.len();
    }
    Ok((thread_cpu()? - before) * 1e6 / verified as f64)
}

/// Drops the per-reason rejection counts of earlier runs from the results file, so that
/// the file holds exactly this run's reasons.
fn forget_old_rejections(path: &Path) -> Result<()> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(());
    };
    let mut results: Results =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    results.retain(|name, _| !name.starts_with(E2E_REJECTED_PREFIX));
    fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mode = if args.full && !args.quick {
        FULL
    } else {
        QUICK
    };
    let custom = args.custom_contention()?;
    let shapes = match custom {
        Some(contention) => vec![Shape::Custom(contention)],
        None => vec![Shape::Uniform, Shape::Hot],
    };
    let plan = Plan {
        runs: args.runs.unwrap_or(mode.runs).max(1),
        accounts: args
            .accounts
            .unwrap_or(mode.accounts)
            .max(custom.map_or(HOT_RECIPIENTS, |c| c.hot_recipients) + 2),
        transfers: args.transfers.unwrap_or(mode.transfers).max(1),
    };
    ensure!(
        args.clients > 0 && args.array > 0,
        "--clients and --array must be positive"
    );
    let sequencer_bin = match &args.sequencer_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark binary's directory")?
            .join("sequencer"),
    };
    ensure!(
        sequencer_bin.exists(),
        "{} is not built: `cargo build --release -p sequencer --bin sequencer` (or pass \
         --sequencer-bin)",
        sequencer_bin.display()
    );
    let started = Instant::now();
    eprintln!(
        "e2e_bench ({} mode: {} accounts, {} transfers, {} runs per workload, {} clients × \
         arrays of {}{}) on {}",
        if args.full { "full" } else { "quick" },
        plan.accounts,
        plan.transfers,
        plan.runs,
        args.clients,
        args.array,
        args.rate
            .map_or_else(String::new, |rate| format!(", target {rate:.0} tx/s")),
        machine_description(),
    );

    // Setup, off the measured path: keys (funded ones, then fresh ones for the hot
    // workload), the genesis file.
    let fresh = plan.accounts / 10;
    eprintln!(
        "[setup] {} keys, genesis of {} funded accounts",
        plan.accounts + fresh,
        plan.accounts
    );
    let mut rng = SplitMix64::new(0xe2e_5eed);
    let seeds: Vec<u64> = (0..plan.accounts + fresh).map(|_| rng.next_u64()).collect();
    let secrets: Vec<SecretKey> = seeds
        .par_iter()
        .map(|&seed| SplitMix64::new(seed).secret_key())
        .collect();
    let public: Vec<PublicKey> = secrets.par_iter().map(SecretKey::public_key).collect();
    let accounts = public[..plan.accounts]
        .iter()
        .map(|&public_key| GenesisAccount {
            public_key,
            balance: BALANCE,
        })
        .collect();
    let genesis = Genesis::new(CHAIN_ID, TreeConfig::default(), accounts).context("genesis")?;
    let work_dir = std::env::temp_dir().join(format!("e2e_bench_{}", std::process::id()));
    fs::create_dir_all(&work_dir)?;
    let genesis_path = work_dir.join("genesis.json");
    fs::write(&genesis_path, genesis.to_json())?;
    let keys: HashMap<PublicKey, SecretKey> = public.iter().copied().zip(secrets).collect();
    let partitions: Vec<usize> = public
        .par_iter()
        .map(|key| partition_of_key(key, &TreeConfig::default()))
        .collect();

    let runtime = tokio::runtime::Runtime::new()?;
    let ctx = RunContext {
        args: &args,
        sequencer_bin: &sequencer_bin,
        genesis: &genesis_path,
        work_dir: &work_dir,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(4 * args.clients)
            .timeout(Duration::from_secs(300))
            .build()?,
    };
    let mut rec = Recorder::default();
    let mut verify_us = None;
    // Every run's latency samples, pooled per workload, for the distribution plot.
    let mut distributions: Vec<(&str, Vec<f64>)> = Vec::new();
    let outcome = (|| -> Result<()> {
        for &shape in &shapes {
            eprintln!(
                "[setup] {} workload: {} transfers, signing",
                shape.name(),
                plan.transfers
            );
            let spec = RoundsSpec {
                count: plan.transfers,
                shape,
                funded: plan.accounts,
                balance: BALANCE,
                // Four times the transfers in flight at once.
                spend_after: 4 * args.clients * args.array,
                chain_id: CHAIN_ID,
            };
            let transfers = rounds_workload(&mut rng, &public, &partitions, spec);
            if verify_us.is_none() {
                let sample: Vec<SignedTransfer> = transfers[..transfers.len().min(512)]
                    .iter()
                    .map(|t| t.sign(&keys[&t.from]))
                    .collect();
                let us = single_thread_verify_us(&sample)?;
                eprintln!("[setup] single-thread signature verification: {us:.1} CPU us");
                verify_us = Some(us);
            }
            let bodies = Arc::new(signed_arrays(&transfers, &keys, args.array)?);
            drop(transfers);
            let mut runs = Vec::new();
            for run in 1..=plan.runs {
                let label = format!("{} run {run}/{}", shape.name(), plan.runs);
                let name = format!("bench_e2e_{}_{}_{run}", std::process::id(), shape.name());
                eprintln!("[setup] {label}: database {name}, starting the sequencer");
                let outcome =
                    runtime.block_on(run_once(&ctx, &bodies, plan.transfers, &label, &name))?;
                let mut latencies = outcome.latencies_ms.clone();
                latencies.sort_by(f64::total_cmp);
                eprintln!(
                    "[{label}] e2e {:.0} tx/s, accept {:.0} tx/s, latency p50 {:.0} ms p99 {:.0} \
                     ms ({} samples), sequencer CPU {:.2} s ({:.0} us/transfer; signature \
                     {:.2} s, execution {:.2} s, store {:.2} s, journal {:.2} s wall)",
                    outcome.e2e_tps,
                    outcome.accept_tps,
                    percentile(&latencies, 50.0).unwrap_or(f64::NAN),
                    percentile(&latencies, 99.0).unwrap_or(f64::NAN),
                    latencies.len(),
                    outcome.cpu_seconds,
                    outcome.cpu_seconds * 1e6 / outcome.accepted.max(1) as f64,
                    outcome.signature_seconds,
                    outcome.execution_seconds,
                    outcome.store_seconds,
                    outcome.journal_seconds,
                );
                runs.push(outcome);
            }
            record_workload(
                &mut rec,
                shape,
                &runs,
                verify_us.expect("measured before the first run"),
            );
            let mut pooled: Vec<f64> = runs.iter().flat_map(|r| r.latencies_ms.clone()).collect();
            pooled.sort_by(f64::total_cmp);
            distributions.push((shape.name(), pooled));
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&work_dir);
    outcome?;
    rec.record_one("sequencer.e2e_accounts", plan.accounts as f64, "accounts");
    rec.record_one(
        "sequencer.e2e_submitted",
        plan.transfers as f64,
        "transfers",
    );

    draw_latency_distribution(&args.out, &distributions)?;
    forget_old_rejections(&args.out)?;
    markdown::write_results_and_page(&args.out, rec.results, "e2e_bench", started)
}

/// Draws the pooled submit → executed latencies of each workload as a cumulative
/// distribution (`plots/e2e_latency.png`): the share of sampled transfers executed within
/// each latency.
fn draw_latency_distribution(out: &Path, distributions: &[(&str, Vec<f64>)]) -> Result<()> {
    let series = distributions
        .iter()
        .filter(|(_, sorted)| !sorted.is_empty())
        .map(|(name, sorted)| {
            let n = sorted.len() as f64;
            let points = sorted
                .iter()
                .enumerate()
                .map(|(i, &ms)| (ms, (i + 1) as f64 / n))
                .collect();
            Series::measured(format!("{name} ({} samples)", sorted.len()), points)
        })
        .collect::<Vec<_>>();
    if series.is_empty() {
        return Ok(());
    }
    let path = plots::plots_dir(out).join("e2e_latency.png");
    plots::line_chart(
        &path,
        &Chart {
            title: "Submit to executed latency, cumulative (all runs pooled)",
            x_label: "latency (ms)",
            y_label: "share of sampled transfers",
            log2_x: false,
            series,
        },
    )?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

//! `prover`: a prover process. Builds (or loads) the circuits of the chain's genesis, then
//! plans every sealed batch into jobs and proves jobs with `--workers` workers until
//! SIGINT/SIGTERM. Start as many as you like, on any machines, with the same database.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;
use prover::{
    circuits::{
        aggregation::tree::{CircuitSet, DEFAULT_MERGE_LEVELS},
        chunk::ChunkParams,
    },
    queue::{
        worker::{launch, ProverConfig, WorkerConfig},
        JobQueue,
    },
    service::{CircuitExecutor, Planner},
};
use rollup_core::genesis::Genesis;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(about = "Proves every sealed batch: plans jobs and runs prover workers")]
struct Args {
    /// Postgres, shared with the sequencer and every other prover.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The chain's genesis file (fixes the circuits: tree shape and chain id).
    #[arg(long)]
    genesis: PathBuf,
    /// Workers in this process.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// How long a job is held without a heartbeat before another worker may take it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    lease: Duration,
    /// Where to serve Prometheus metrics.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Where built circuits are cached.
    #[arg(long, default_value = ".prover-cache")]
    cache_dir: PathBuf,
    /// Merge levels (a partition may have up to 2^levels chunks per batch).
    #[arg(long, default_value_t = DEFAULT_MERGE_LEVELS)]
    merge_levels: usize,
    /// Do not plan batches (only prove jobs others planned).
    #[arg(long)]
    no_planner: bool,
    /// Build (or check) the cached circuits, then exit: run once before starting many
    /// workers on one machine, so that they load instead of all building.
    #[arg(long)]
    prepare_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let genesis = Genesis::from_json_file(&args.genesis)
        .with_context(|| format!("reading the genesis file {}", args.genesis.display()))?;
    let params = ChunkParams {
        tree: genesis.tree,
        chain_id: genesis.chain_id,
    };
    let started = std::time::Instant::now();
    let (merge_levels, cache_dir) = (args.merge_levels, args.cache_dir.clone());
    let circuits = tokio::task::spawn_blocking(move || {
        CircuitSet::load_or_build(params, merge_levels, &cache_dir)
    })
    .await??;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "circuits ready");
    if args.prepare_only {
        return Ok(());
    }

    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        stop.cancel();
    });

    let planner = if args.no_planner {
        None
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&args.database_url)
            .await
            .context("connecting to Postgres")?;
        rollup_core::schema::migrate(&pool).await?;
        let planner = Planner::start(JobQueue::new(pool), &genesis, args.merge_levels).await?;
        let cancel = cancel.clone();
        Some(tokio::spawn(async move {
            let result = planner
                .run(Duration::from_millis(200), cancel.clone())
                .await;
            if result.is_err() {
                cancel.cancel();
            }
            result
        }))
    };

    let config = ProverConfig {
        database_url: args.database_url,
        workers: args.workers,
        worker: WorkerConfig {
            lease: args.lease,
            ..WorkerConfig::default()
        },
        metrics_listen: args.metrics_listen,
        ..ProverConfig::default()
    };
    let workers = launch(
        config,
        CircuitExecutor::new(Arc::new(circuits)),
        cancel.clone(),
    )
    .await;
    if let Some(planner) = planner {
        planner.await??;
    }
    workers?;
    Ok(())
}
